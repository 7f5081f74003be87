import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { processIo, useColor } from "../../src/cli/io.js";
import { formatJsonLine, formatPretty } from "../../src/cli/output.js";

const event = { type: "review", id: "urn:uuid:1", data: 'line one\nline "two"' };
const ESC = "\u001b[";

describe("ssekit sub output", () => {
  test("a JSON line round-trips the id, type and multi-line data", () => {
    const line = formatJsonLine(event);
    assert.ok(line.endsWith("\n"));
    assert.equal(line.trimEnd().includes("\n"), false, "one line per event");
    assert.deepEqual(JSON.parse(line), { id: "urn:uuid:1", type: "review", data: 'line one\nline "two"' });
  });

  test("pretty output indents every data line and colours only when asked", () => {
    const at = new Date(2026, 0, 2, 3, 4, 5);
    const plain = formatPretty(event, false, at);
    assert.equal(plain, `03:04:05 review urn:uuid:1\n  line one\n  line "two"\n`);
    const coloured = formatPretty(event, true, at);
    assert.ok(coloured.includes(ESC));
    assert.equal(coloured.replaceAll(new RegExp(`${ESC.replace("[", "\\[")}[\\d;]*m`, "g"), ""), plain);
  });

  test("colour needs a TTY and no NO_COLOR", () => {
    const tty = { ...processIo(), stdout: Object.assign(Object.create(process.stdout), { isTTY: true }) };
    assert.equal(useColor({ ...tty, env: {} }), true);
    assert.equal(useColor({ ...tty, env: { NO_COLOR: "1" } }), false);
    const pipe = { ...processIo(), stdout: Object.assign(Object.create(process.stdout), { isTTY: false }) };
    assert.equal(useColor({ ...pipe, env: {} }), false);
  });
});
