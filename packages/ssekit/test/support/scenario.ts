/**
 * The scenario every EventSource implementation runs in the differential test: a plain JavaScript
 * function (a string, so that it reaches a browser page unchanged) that opens an EventSource,
 * logs every open, message and error with the readyState, and resolves once the source is CLOSED.
 */

/** What a scenario reports. `why` is "closed", or "limit" when the safety limit ran out. */
export interface ScenarioLog {
  readonly log: string[];
  readonly opens: number;
  readonly errors: number;
  readonly why: string;
}

/** `(EventSourceClass, url, expectedOrigin, limitMs) => Promise<ScenarioLog>`, as source text. */
export const SCENARIO = `(EventSourceClass, url, expectedOrigin, limitMs) => new Promise((resolve) => {
  const log = [];
  let opens = 0;
  let errors = 0;
  const es = new EventSourceClass(url);
  log.push("init readyState=" + es.readyState + " url=" + (es.url === url) + " constants=" + [EventSourceClass.CONNECTING, EventSourceClass.OPEN, EventSourceClass.CLOSED, es.CONNECTING, es.OPEN, es.CLOSED].join(","));
  const onMessage = (event) => {
    log.push([event.type, JSON.stringify(event.data), JSON.stringify(event.lastEventId), "readyState=" + es.readyState, "origin=" + (event.origin === expectedOrigin), "url=" + (es.url === url)].join(" "));
  };
  for (const type of ["message", "custom", "foo", "bar"]) es.addEventListener(type, onMessage);
  let finished = false;
  const finish = (why) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    es.close();
    log.push("after close readyState=" + es.readyState);
    resolve({ log, opens, errors, why });
  };
  es.onopen = () => { opens++; log.push("open readyState=" + es.readyState); };
  es.onerror = () => {
    errors++;
    log.push("error readyState=" + es.readyState);
    if (es.readyState === 2) finish("closed");
  };
  const timer = setTimeout(() => finish("limit"), limitMs);
})`;

/** Runs the scenario in this process with the given EventSource class. */
export function runScenario(
  EventSourceClass: unknown,
  url: string,
  expectedOrigin: string,
  limitMs = 10000,
): Promise<ScenarioLog> {
  const fn = new Function(`return (${SCENARIO});`)() as (
    c: unknown,
    u: string,
    o: string,
    l: number,
  ) => Promise<ScenarioLog>;
  return fn(EventSourceClass, url, expectedOrigin, limitMs);
}

/** What `HANDLE_SCENARIO` returns: the log so far, and a way to call `close()` from outside. */
export interface ScenarioHandle {
  readonly log: string[];
  close(): void;
}

/**
 * `(EventSourceClass, url, closeInErrorListener) => ScenarioHandle`, as source text: opens an
 * EventSource and logs open, message and error with the readyState; with `closeInErrorListener`
 * the first `error` listener call closes the source. For the cases the full scenario cannot show:
 * `close()` while connecting, and `close()` from an `error` listener.
 */
export const HANDLE_SCENARIO = `(EventSourceClass, url, closeInErrorListener) => {
  const log = [];
  const es = new EventSourceClass(url);
  log.push("init readyState=" + es.readyState);
  es.onopen = () => log.push("open readyState=" + es.readyState);
  es.onmessage = (event) => log.push("message " + JSON.stringify(event.data) + " readyState=" + es.readyState);
  es.onerror = () => {
    log.push("error readyState=" + es.readyState);
    if (closeInErrorListener) {
      es.close();
      log.push("closed in the error listener readyState=" + es.readyState);
    }
  };
  return {
    log,
    close() {
      es.close();
      log.push("after close readyState=" + es.readyState);
    },
  };
}`;

/** Runs `HANDLE_SCENARIO` in this process. */
export function startHandleScenario(
  EventSourceClass: unknown,
  url: string,
  closeInErrorListener: boolean,
): ScenarioHandle {
  const fn = new Function(`return (${HANDLE_SCENARIO});`)() as (
    c: unknown,
    u: string,
    e: boolean,
  ) => ScenarioHandle;
  return fn(EventSourceClass, url, closeInErrorListener);
}
