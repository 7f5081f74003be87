/**
 * Replay from an async source (a store read page by page) to one session, at the pace its client
 * reads: past a high-water mark of unread bytes it waits for them to be taken, so a replay of any
 * size reaches a client that reads, and the backpressure bound is left for clients that stop.
 * Not responsible for which events the source yields, nor for live events meanwhile.
 */
import type { Framed } from "./chunked.js";
import { checkNonNegativeInteger } from "./errors.js";
import type { Session } from "./session.js";

export interface ReplayOptions {
  /** Unread bytes in the session's send buffer at which the replay waits for its client. Default: 65536. */
  readonly highWaterBytes?: number;
}

/**
 * Writes every frame of `frames` (encoded bytes, or a `Framed` shared with other sessions) to
 * `session`, oldest first. Resolves with how many were written, once `frames` ends or the session
 * closes (then `frames` is stopped, its `finally` blocks run).
 */
export async function replay(
  session: Session,
  frames: AsyncIterable<Framed | Uint8Array> | Iterable<Framed | Uint8Array>,
  options: ReplayOptions = {},
): Promise<number> {
  checkNonNegativeInteger("highWaterBytes", options.highWaterBytes);
  const highWater = options.highWaterBytes ?? 65_536;
  let written = 0;
  for await (const frame of frames) {
    if (!session.isOpen) break;
    if (frame instanceof Uint8Array ? session.writeBytes(frame) : session.writeFrame(frame)) written++;
    if (session.bufferedBytes >= highWater) await session.drained();
  }
  return written;
}
