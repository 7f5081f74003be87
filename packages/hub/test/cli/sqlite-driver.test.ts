// The check `ssekit hub` makes before loading the core: better-sqlite3 is an optional dependency,
// absent when npm could not build it; then the message says what to install, not a stack trace.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import { checkSqliteDriver } from "../../src/cli/sqlite-driver.js";

const dir = mkdtempSync(join(tmpdir(), "ssekit-sqlite-driver-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("with better-sqlite3 installed and built, the check passes", () => {
  checkSqliteDriver();
});

test("where npm left better-sqlite3 out, one line says what to install and to rebuild", () => {
  // A folder with no node_modules anywhere above it that has better-sqlite3 (the temp dir).
  const from = join(dir, "cli.js");
  writeFileSync(from, "");
  assert.throws(
    () => checkSqliteDriver(pathToFileURL(from)),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, "SQLITE_DRIVER");
      assert.doesNotMatch(error.message, /\n/);
      assert.match(error.message, /better-sqlite3, the hub's SQLite driver, is not installed or not built/);
      assert.match(error.message, /sudo apt-get install build-essential python3/);
      assert.match(error.message, /npm rebuild better-sqlite3/);
      return true;
    },
  );
});
