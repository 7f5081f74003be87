// The console's subscription: one fetch-streamed request to the hub for all the selected topics,
// parsed with ssekit/protocol, so that every event type is shown (an EventSource only reports the
// types you name in advance) and a subscriber JWT can be sent as a header. Reconnects after a
// drop, resuming with Last-Event-ID. Not responsible for drawing events (console.js does).
import { createParser } from "/assets/ssekit-protocol.js";

/**
 * Opens a subscription. `onEvent({ type, data, lastEventId })`, `onState("connecting"|"open"|"closed", detail)`.
 * Returns `{ close() }`.
 */
export function openStream(url, { token, lastEventId, onEvent, onState }) {
  const stop = new AbortController();
  let resumeFrom = lastEventId ?? "";
  let retryMs = 1000;

  async function connectOnce() {
    const headers = { accept: "text/event-stream" };
    if (token) headers.authorization = `Bearer ${token}`;
    if (resumeFrom) headers["last-event-id"] = resumeFrom;
    onState("connecting");
    const response = await fetch(url, { headers, signal: stop.signal, cache: "no-store" });
    if (!response.ok || !response.body) {
      const body = (await response.text()).trim();
      const error = new Error(`${response.status} ${response.statusText}${body ? `: ${body}` : ""}`);
      error.fatal = response.status >= 400 && response.status < 500;
      throw error;
    }
    onState("open");
    const parser = createParser({
      onEvent(event) {
        if (event.lastEventId) resumeFrom = event.lastEventId;
        onEvent(event);
      },
      onRetry(ms) {
        retryMs = ms;
      },
    });
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(value);
    }
    parser.end();
  }

  (async () => {
    while (!stop.signal.aborted) {
      try {
        await connectOnce();
        if (stop.signal.aborted) break;
        onState("connecting", "the hub closed the stream; reconnecting");
      } catch (error) {
        if (stop.signal.aborted) break;
        if (error.fatal) {
          onState("closed", error.message);
          return;
        }
        onState("connecting", `connection lost (${error.message}); retrying`);
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
    onState("closed");
  })();

  return {
    close() {
      stop.abort();
    },
  };
}
