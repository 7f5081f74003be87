/**
 * Sessions as a Web `Response` whose body is a `ReadableStream`, for runtimes that speak
 * Request/Response (Hono, Next.js route handlers, Bun, Deno, Workers). Web standards only: no
 * `node:` imports. The runtime owns the connection, so no `Connection` header is set here.
 */
import { readLastEventId } from "./request.js";
import { DEFAULT_MAX_BUFFERED_BYTES, Session, type SessionSink } from "./session.js";
import { openingBytes, streamHeaders } from "./stream-head.js";
import type { EventMap, SessionOptions } from "./types.js";

class StreamSink implements SessionSink {
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #drain: (() => void) | undefined;
  #done = false;
  readonly #highWaterMark: number;
  readonly stream: ReadableStream<Uint8Array>;
  onCancel: () => void = () => {};

  constructor(highWaterMark: number) {
    this.#highWaterMark = highWaterMark;
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => {
          const drain = this.#drain;
          this.#drain = undefined;
          drain?.();
        },
        cancel: () => {
          this.#done = true;
          this.onCancel();
        },
      },
      { highWaterMark, size: (chunk) => chunk.byteLength },
    );
  }
  write(bytes: Uint8Array): void {
    if (!this.#done) this.#controller?.enqueue(bytes);
  }
  buffered(): number {
    const desired = this.#controller?.desiredSize ?? 0;
    return Math.max(0, this.#highWaterMark - desired);
  }
  waitDrain(onDrain: () => void): void {
    this.#drain = onDrain;
  }
  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#controller?.close();
  }
  destroy(): void {
    if (this.#done) return;
    this.#done = true;
    this.#controller?.error(new Error("ssekit: session closed because its client fell behind"));
  }
}

/**
 * Starts a session for a Web `Request` and returns it with the `Response` to hand back to the
 * runtime. The response carries the event-stream headers (stream-head.ts); its body starts with
 * the opening bytes, so the client sees the stream open at once.
 */
export function createWebSession<M extends EventMap = EventMap>(
  request: Request,
  options: SessionOptions = {},
): { readonly session: Session<M>; readonly response: Response } {
  const headers = new Headers(streamHeaders(options));
  const sink = new StreamSink(options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
  const lastEventId = readLastEventId(request.headers.get("last-event-id"), request.url)?.id;
  const session = Session.open<M>(sink, lastEventId, options);
  sink.onCancel = () => session.clientClosed();
  const signal = request.signal;
  if (signal) {
    if (signal.aborted) session.clientClosed();
    else {
      const onAbort = () => session.clientClosed();
      signal.addEventListener("abort", onAbort, { once: true });
      session.onClose(() => signal.removeEventListener("abort", onAbort));
    }
  }
  sink.write(openingBytes(options.retry));
  return { session, response: new Response(sink.stream, { status: 200, headers }) };
}
