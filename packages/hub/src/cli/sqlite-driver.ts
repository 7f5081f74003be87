/**
 * Checks, before a hub on the SQLite store starts, that better-sqlite3 (its driver, a native
 * addon) is installed and built. It is an optional dependency: on a machine without a C++
 * toolchain its build fails and npm goes on without it, so `npm install` still succeeds; then
 * `ssekit hub` says what to install instead of failing on a missing module, and a hub on another
 * store runs without it. Not responsible for opening the store (transports/sqlite.ts).
 */
import { createRequire } from "node:module";
import { CliRuntimeError } from "./errors.js";

const HOW_TO_BUILD =
  "npm skips it when it cannot compile it: install a C++ compiler, make and Python " +
  "(Debian/Ubuntu: sudo apt-get install build-essential python3; Fedora: sudo dnf install gcc-c++ make python3; " +
  'macOS: xcode-select --install; Windows: Visual Studio Build Tools with "Desktop development with C++"), ' +
  "then run npm rebuild better-sqlite3 where you ran npm install";

/** Throws a `CliRuntimeError` (`SQLITE_DRIVER`) unless better-sqlite3 loads and opens a database. */
export function checkSqliteDriver(from: string | URL = import.meta.url): void {
  const require = createRequire(from);
  try {
    const Database = require("better-sqlite3") as new (path: string) => { close(): void };
    new Database(":memory:").close();
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    throw new CliRuntimeError(
      "SQLITE_DRIVER",
      `ssekit hub: better-sqlite3, the hub's SQLite driver, is not installed or not built for Node ${process.version} (${reason}); it is needed for the SQLite store (the default; --store memory or redis://... run without it). ${HOW_TO_BUILD}`,
    );
  }
}
