/**
 * `npm run bench [-- --quick] [-- section...]`: runs the benchmark sections, prints each table as it
 * completes and writes them to BENCHMARKS.md with the command and the machine, replacing only the
 * sections that ran (the others stay as they were).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { arch, cpus, totalmem } from "node:os";
import { type BenchOptions, renderSection, type Section } from "./report.js";

type SectionModule = { run(options: BenchOptions): Promise<Section> };

/** Known sections, in the order they run. Each loads lazily so that one missing peer skips only itself. */
const sections: Record<string, () => Promise<SectionModule>> = {
  protocol: () => import("./protocol.js"),
  hub: () => import("./hub.js"),
  server: () => import("./server.js"),
  cluster: () => import("./cluster.js"),
  abuse: () => import("./abuse.js"),
};

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const wanted = args.filter((a) => !a.startsWith("--"));
for (const name of wanted) {
  if (!(name in sections)) {
    console.error(`unknown bench section "${name}"; known: ${Object.keys(sections).join(", ")}`);
    process.exit(2);
  }
}
const names = wanted.length > 0 ? wanted : Object.keys(sections);

const cpu = cpus()[0]?.model ?? "unknown CPU";
const machine = `${cpus().length} x ${cpu} (${arch()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const command = `npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}`;
const today = new Date().toISOString().slice(0, 10);

const file = new URL("../BENCHMARKS.md", import.meta.url);
/** Sections already in BENCHMARKS.md, by their "## " heading; a run replaces only the ones it ran. */
const kept = new Map<string, string>();
if (existsSync(file)) {
  const previous = readFileSync(file, "utf8");
  for (const part of previous.split(/^(?=## )/m).slice(1)) {
    const heading = part.slice(3, part.indexOf("\n")).trim();
    kept.set(heading, part.trimEnd());
  }
}

for (const name of names) {
  const load = sections[name];
  if (!load) continue;
  console.error(`bench: running ${name}${quick ? " (quick)" : ""}...`);
  const section = await (await load()).run({ quick });
  const text = renderSection(section);
  console.log(text);
  const [first, ...rest] = text.split("\n");
  kept.set(
    section.name,
    [first, "", `Produced by \`${command}\` on ${today}: ${machine}.`, ...rest].join("\n").trimEnd(),
  );
}

const header = [
  "# Benchmarks",
  "",
  "Each section says the command that produced it and the machine it ran on. Machines are shared and",
  "noisy: compare the ratios within one section (measured in the same run), not absolute figures",
  "across sections or runs. `npm run bench` runs every section; `npm run bench -- NAME` one of them.",
  "",
].join("\n");
const order = Object.keys(sections);
const byOrder = [...kept.entries()].sort(
  ([a], [b]) => (order.indexOf(a.toLowerCase()) + 1 || 99) - (order.indexOf(b.toLowerCase()) + 1 || 99),
);
writeFileSync(file, `${header}\n${byOrder.map(([, text]) => text).join("\n\n")}\n`);
console.error("bench: wrote BENCHMARKS.md");
