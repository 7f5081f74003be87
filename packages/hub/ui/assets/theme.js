// Light/dark theme switch shared by every page: follows the system until the user picks one,
// remembers the choice in localStorage. Not responsible for the colours (style.css has them).
const KEY = "ssekit.theme";
const ORDER = ["system", "light", "dark"];
const LABEL = { system: "◐ Auto", light: "☀ Light", dark: "☾ Dark" };

function apply(choice) {
  if (choice === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
  for (const button of document.querySelectorAll("[data-theme-toggle]")) {
    button.textContent = LABEL[choice];
    button.title = `Theme: ${choice} (click to change)`;
  }
  document.dispatchEvent(new CustomEvent("themechange"));
}

function stored() {
  const value = localStorage.getItem(KEY);
  return ORDER.includes(value) ? value : "system";
}

apply(stored());
for (const button of document.querySelectorAll("[data-theme-toggle]")) {
  button.addEventListener("click", () => {
    const next = ORDER[(ORDER.indexOf(stored()) + 1) % ORDER.length];
    localStorage.setItem(KEY, next);
    apply(next);
  });
}
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => apply(stored()));
