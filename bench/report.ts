/**
 * The shape every benchmark section returns, and the Markdown/terminal rendering of it.
 * Sections live in bench/<part>.ts and export `run(options): Promise<Section>`.
 */

export interface Table {
  /** A title shown above the table. */
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
  /** Notes printed under the table: what was measured, targets, caveats. */
  readonly notes?: readonly string[];
}

export interface Section {
  readonly name: string;
  readonly tables: readonly Table[];
}

export interface BenchOptions {
  /** Shorter runs with smaller sizes, for a quick look and for the bench smoke test. */
  readonly quick: boolean;
}

function cell(value: string | number): string {
  if (typeof value === "string") return value;
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return value.toLocaleString("en-US", { maximumFractionDigits: Math.abs(value) >= 100 ? 0 : 2 });
}

/** The middle value (the upper of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export function renderTable(table: Table): string {
  const header = `| ${table.columns.join(" | ")} |`;
  const rule = `| ${table.columns.map(() => "---").join(" | ")} |`;
  const rows = table.rows.map((row) => `| ${row.map(cell).join(" | ")} |`);
  const notes = (table.notes ?? []).map((n) => `- ${n}`);
  return [`### ${table.title}`, "", header, rule, ...rows, ...(notes.length ? ["", ...notes] : [])].join(
    "\n",
  );
}

export function renderSection(section: Section): string {
  return [`## ${section.name}`, "", ...section.tables.map((t) => `${renderTable(t)}\n`)].join("\n");
}
