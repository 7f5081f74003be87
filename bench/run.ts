/**
 * `npm run bench [-- --quick] [-- section...]`: runs the benchmark sections, prints each table as it
 * completes and writes all of them to BENCHMARKS.md together with the command and the machine.
 */
import { writeFileSync } from "node:fs";
import { arch, cpus, totalmem } from "node:os";
import { type BenchOptions, renderSection, type Section } from "./report.js";

type SectionModule = { run(options: BenchOptions): Promise<Section> };

/** Known sections, in the order they run. Each loads lazily so that one missing peer skips only itself. */
const sections: Record<string, () => Promise<SectionModule>> = {
  protocol: () => import("./protocol.js"),
  hub: () => import("./hub.js"),
  server: () => import("./server.js"),
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

const results: string[] = [];
for (const name of names) {
  const load = sections[name];
  if (!load) continue;
  console.error(`bench: running ${name}${quick ? " (quick)" : ""}...`);
  const section = await (await load()).run({ quick });
  const text = renderSection(section);
  console.log(text);
  results.push(text);
}

const command = `npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}`;
const cpu = cpus()[0]?.model ?? "unknown CPU";
const header = [
  "# Benchmarks",
  "",
  `Produced by \`${command}\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} x ${cpu} (${arch()}),`,
  `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Machines are shared and noisy: compare the`,
  "ratios within one run, not absolute figures across runs.",
  "",
].join("\n");
writeFileSync(new URL("../BENCHMARKS.md", import.meta.url), `${header}\n${results.join("\n")}`);
console.error("bench: wrote BENCHMARKS.md");
