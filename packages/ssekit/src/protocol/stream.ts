/**
 * `EventStreamParser`: the parser as a Web `TransformStream`, for `response.body.pipeThrough(...)`.
 * Bytes (or strings) in, `ParsedEvent`s out. Comments and `retry` go to the optional callbacks.
 */
import { createParser } from "./parse.js";
import type { ParsedEvent } from "./types.js";

export interface EventStreamParserOptions {
  /** Called with the reconnection time of each valid `retry` field. */
  readonly onRetry?: (ms: number) => void;
  /** Called with the text of each comment line. */
  readonly onComment?: (text: string) => void;
}

export class EventStreamParser extends TransformStream<Uint8Array | string, ParsedEvent> {
  constructor(options: EventStreamParserOptions = {}) {
    let enqueue: (event: ParsedEvent) => void = () => {};
    const parser = createParser({
      onEvent: (event) => enqueue(event),
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
      ...(options.onComment ? { onComment: options.onComment } : {}),
    });
    super({
      start(controller) {
        enqueue = (event) => controller.enqueue(event);
      },
      transform(chunk) {
        parser.feed(chunk);
      },
      flush() {
        parser.end();
      },
    });
  }
}
