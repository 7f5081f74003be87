/**
 * How `ssekit sub` prints an event: one JSON object per line when stdout is a pipe or a file (for
 * `jq` and scripts), and a readable, coloured block on a terminal (no colour when NO_COLOR is set).
 * Not responsible for receiving events.
 */

export interface ReceivedEvent {
  readonly type: string;
  readonly id: string;
  readonly data: string;
}

const ESC = "\u001b[";
const paint = (code: string, text: string, color: boolean): string =>
  color ? `${ESC}${code}m${text}${ESC}0m` : text;

export function formatJsonLine(event: ReceivedEvent): string {
  return `${JSON.stringify({ id: event.id, type: event.type, data: event.data })}\n`;
}

export function formatPretty(event: ReceivedEvent, color: boolean, now = new Date()): string {
  const time = now.toTimeString().slice(0, 8);
  const head = `${paint("2", time, color)} ${paint("1;36", event.type, color)} ${paint("2", event.id, color)}`;
  const body = event.data
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
  return `${head}\n${body}\n`;
}
