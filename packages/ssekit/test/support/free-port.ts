/**
 * A free TCP port on 127.0.0.1, for a server a test or benchmark starts in another process (one
 * in-process listens on port 0 instead). Shared by every package's tests and the benchmarks.
 */
import { createServer } from "node:net";

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
