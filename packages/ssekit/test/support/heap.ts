/**
 * The heap in use after full garbage collections, for the tests that show memory returns to its
 * level or stays under a bound (server sessions, hub subscribers). Turns on `gc` for the process.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

export function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
