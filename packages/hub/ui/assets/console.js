// The console page: subscribe to topic selectors and watch events arrive, publish from a form,
// watch the hub's live figures, copy snippets for what is on screen. Talks to the hub only through
// its public HTTP endpoints (Mercure, /metrics, and /ui/dev-token in --dev mode).

import { LineChart } from "/assets/chart.js";
import { openStream } from "/assets/console-stream.js";
import {
  fetchDevToken,
  MERCURE,
  pastedToken,
  prettyData,
  publish,
  publisherToken,
  readFigures,
  setPastedToken,
  subscribeUrl,
} from "/assets/hub.js";

const $ = (id) => document.getElementById(id);
const MAX_EVENTS = 200;
/** The publish form's default topic, and the demos' notifications (the live ticker is left out: it is busy). */
const DEFAULT_TOPICS = ["https://example.com/books/{id}", "notifications"];
const topics = new Set(JSON.parse(localStorage.getItem("ssekit.console.topics") ?? "null") ?? DEFAULT_TOPICS);
let stream = null;
let received = 0;

// ---- Subscribing ----------------------------------------------------------------------------

function setState(state, detail) {
  const pill = $("stream-state");
  pill.dataset.state = state;
  pill.textContent = { open: "subscribed", connecting: "connecting…", closed: "not subscribed" }[state];
  document.body.dataset.stream = state;
  if (detail) $("stream-detail").textContent = detail;
}

async function resubscribe(fromHistory) {
  stream?.close();
  stream = null;
  localStorage.setItem("ssekit.console.topics", JSON.stringify([...topics]));
  renderChips();
  renderSnippet();
  if (topics.size === 0) {
    setState("closed", "Add a topic selector to subscribe.");
    return;
  }
  const dev = await fetchDevToken();
  const url = subscribeUrl([...topics], fromHistory ? "earliest" : "");
  setState("connecting", `GET ${url}`);
  stream = openStream(url, {
    token: dev?.token,
    onEvent: showEvent,
    onState(state, detail) {
      setState(state, detail ?? (state === "open" ? `Listening on ${[...topics].join(", ")}` : undefined));
    },
  });
}

function renderChips() {
  const box = $("topics");
  box.replaceChildren();
  for (const topic of topics) {
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.textContent = topic;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.title = `Unsubscribe from ${topic}`;
    remove.textContent = "×";
    remove.addEventListener("click", () => {
      topics.delete(topic);
      void resubscribe(false);
    });
    chip.append(remove);
    box.append(chip);
  }
}

function showEvent(event) {
  received++;
  $("event-count").textContent = `${received} received`;
  const item = document.createElement("li");
  item.className = "event";
  item.dataset.type = event.type;
  item.dataset.id = event.lastEventId;
  const header = document.createElement("header");
  const type = document.createElement("span");
  type.className = "type";
  type.textContent = event.type;
  const id = document.createElement("span");
  id.className = "id";
  id.textContent = event.lastEventId ? `id ${event.lastEventId}` : "";
  id.title = event.lastEventId;
  const time = document.createElement("time");
  time.className = "time";
  time.textContent = new Date().toLocaleTimeString();
  header.append(type, id, time);
  const data = document.createElement("pre");
  data.className = "data";
  data.textContent = prettyData(event.data);
  item.append(header, data);
  const list = $("events");
  list.prepend(item);
  while (list.children.length > MAX_EVENTS) list.lastElementChild?.remove();
}

$("subscribe-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const topic = $("topic-input").value.trim();
  if (topic) topics.add(topic);
  void resubscribe($("from-history").checked);
});
$("clear-events").addEventListener("click", () => {
  $("events").replaceChildren();
  received = 0;
  $("event-count").textContent = "0 received";
});

// ---- Publishing -----------------------------------------------------------------------------

function formUpdate() {
  return {
    topics: [$("publish-topic").value.trim()],
    data: $("publish-data").value,
    type: $("publish-type").value.trim(),
    id: $("publish-id").value.trim(),
    private: $("publish-private").checked,
  };
}

function setStatus(kind, text) {
  const status = $("publish-status");
  status.dataset.kind = kind;
  status.textContent = text;
}

$("publish-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const update = formUpdate();
  if (!update.topics[0]) {
    setStatus("error", "A topic is required.");
    return;
  }
  $("publish-button").disabled = true;
  try {
    const id = await publish(update);
    setStatus("ok", `Published, id ${id}`);
    $("publish-status").dataset.id = id;
  } catch (error) {
    setStatus("error", error.message);
    $("token-details").open = true;
  } finally {
    $("publish-button").disabled = false;
  }
});
for (const id of ["publish-topic", "publish-data", "publish-type", "publish-id", "publish-private"]) {
  $(id).addEventListener("input", () => renderSnippet());
}

async function renderTokenSummary() {
  const auth = await publisherToken();
  $("token-summary").textContent = auth
    ? `Publisher token: ${auth.source === "dev" ? "development token from the hub" : "pasted token"}`
    : "Publisher token: none — paste one to publish";
  $("token-input").value = pastedToken();
  renderSnippet();
}
$("token-save").addEventListener("click", () => {
  setPastedToken($("token-input").value.trim());
  void renderTokenSummary();
});

// ---- Snippets -------------------------------------------------------------------------------

let snippetKind = "curl";
let snippetToken = "$TOKEN";

function shellQuote(text) {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function renderSnippet() {
  const update = formUpdate();
  const hub = `${location.origin}${MERCURE}`;
  const selected = [...topics];
  const subscribe = `${location.origin}${subscribeUrl(selected.length > 0 ? selected : ["*"])}`;
  let text = "";
  if (snippetKind === "curl") {
    const fields = [
      `-d ${shellQuote(`topic=${update.topics[0]}`)}`,
      `--data-urlencode ${shellQuote(`data=${update.data}`)}`,
    ];
    if (update.type) fields.push(`-d ${shellQuote(`type=${update.type}`)}`);
    if (update.id) fields.push(`-d ${shellQuote(`id=${update.id}`)}`);
    if (update.private) fields.push("-d private=on");
    text = `# subscribe (stays open; -N disables buffering)
curl -N ${shellQuote(subscribe)}

# publish
curl ${fields.join(" \\\n  ")} \\
  -H ${shellQuote(`Authorization: Bearer ${snippetToken}`)} \\
  ${hub}`;
  } else if (snippetKind === "js") {
    const listen = update.type
      ? `events.addEventListener(${JSON.stringify(update.type)}, (e) => console.log(e.lastEventId, JSON.parse(e.data)));`
      : "events.onmessage = (e) => console.log(e.lastEventId, JSON.parse(e.data));";
    text = `// subscribe: ssekit/client is a drop-in EventSource (resumes with Last-Event-ID);
// shared: true lets every tab of this origin use one connection.
import { EventSource } from "ssekit/client";

const url = new URL(${JSON.stringify(hub)});
${(selected.length > 0 ? selected : ["*"]).map((t) => `url.searchParams.append("topic", ${JSON.stringify(t)});`).join("\n")}
const events = new EventSource(url, { shared: true });
${listen}

// publish (server side: keep the publisher JWT secret)
const body = new URLSearchParams({ topic: ${JSON.stringify(update.topics[0])}, data: ${JSON.stringify(update.data)}${update.type ? `, type: ${JSON.stringify(update.type)}` : ""}${update.private ? `, private: "on"` : ""} });
const response = await fetch(${JSON.stringify(hub)}, {
  method: "POST",
  headers: { Authorization: \`Bearer \${process.env.PUBLISHER_JWT}\` },
  body,
});
console.log("published", await response.text());`;
  } else {
    const flags = [];
    if (update.type) flags.push(`--type ${shellQuote(update.type)}`);
    if (update.id) flags.push(`--id ${shellQuote(update.id)}`);
    if (update.private) flags.push("--private");
    text = `export SSEKIT_HUB_URL=${hub}
npx ssekit sub ${(selected.length > 0 ? selected : ["*"]).map(shellQuote).join(" ")}
npx ssekit pub ${shellQuote(update.topics[0])} ${shellQuote(update.data)} ${flags.join(" ")} --token ${snippetToken}`.trimEnd();
  }
  $("snippet").textContent = text;
}

for (const tab of document.querySelectorAll("[data-snippet]")) {
  tab.addEventListener("click", () => {
    snippetKind = tab.dataset.snippet;
    for (const other of document.querySelectorAll("[data-snippet]")) {
      other.setAttribute("aria-selected", String(other === tab));
    }
    renderSnippet();
  });
}
$("copy-snippet").addEventListener("click", async () => {
  await navigator.clipboard.writeText($("snippet").textContent ?? "");
  $("copy-snippet").textContent = "Copied";
  setTimeout(() => {
    $("copy-snippet").textContent = "Copy";
  }, 1200);
});

// ---- Live figures ---------------------------------------------------------------------------

const sparks = {};
for (const name of ["connections", "subscriptions", "published", "delivered"]) {
  sparks[name] = new LineChart($(`spark-${name}`), { windowMs: 60_000, axes: false, zeroBased: true });
}
let previous = null;

async function pollFigures() {
  try {
    const now = await readFigures();
    const t = Date.now();
    const show = (name, value, digits = 0) => {
      $(`fig-${name}`).textContent = value === null ? "–" : value.toFixed(digits);
      if (value !== null) sparks[name].push(name, t, value);
    };
    show("connections", now.connections);
    show("subscriptions", now.subscriptions);
    if (previous) {
      const seconds = (now.at - previous.at) / 1000;
      const rate = (a, b) =>
        a === null || b === null || seconds <= 0 ? null : Math.max(0, (a - b) / seconds);
      show("published", rate(now.published, previous.published), 1);
      show("delivered", rate(now.delivered, previous.delivered), 1);
    }
    previous = now;
    $("figures-state").textContent = "live from /metrics";
  } catch (error) {
    $("figures-state").textContent = `figures unavailable (${error.message})`;
  }
  setTimeout(pollFigures, 1000);
}

// ---- Start ----------------------------------------------------------------------------------

void fetchDevToken().then((dev) => {
  if (dev) snippetToken = dev.token;
  void renderTokenSummary();
});
void resubscribe(false);
void pollFigures();
