/**
 * The simulated price ticker behind the live chart demo: a few symbols whose prices take a small
 * random walk, each published on `demo/prices/SYMBOL` a few times a second as JSON
 * `{ symbol, price, time, run, seq }` (`seq` counts a symbol's ticks within one run of the ticker,
 * `run` changes when the hub restarts, so a page can tell a gap from a restart). `ssekit hub --dev`
 * starts it when the UI is on (one process of a --workers hub). Not responsible for delivery: it only calls the `publish` function it is given.
 */

/** One update for the hub to publish. */
export interface TickerUpdate {
  readonly topic: string;
  readonly data: string;
}

export interface TickerOptions {
  /** Publishes one update; a rejection is reported to `onError` and the ticker carries on. */
  readonly publish: (update: TickerUpdate) => unknown;
  /** Symbols and their starting prices. Default: four made-up companies. */
  readonly symbols?: Readonly<Record<string, number>>;
  /** Milliseconds between ticks; every symbol is published on each tick. Default: 500. */
  readonly intervalMs?: number;
  /** Topic prefix; the symbol is appended. Default: `demo/prices/`. */
  readonly topicPrefix?: string;
  /** Called when a publish fails. Default: ignore (the next tick tries again). */
  readonly onError?: (error: unknown) => void;
}

export interface Ticker {
  /** Stops publishing; idempotent. */
  stop(): void;
}

export const DEFAULT_SYMBOLS: Readonly<Record<string, number>> = {
  ACME: 182.4,
  GLOBEX: 64.15,
  INITECH: 23.9,
  UMBRA: 411.0,
};

export const TICKER_TOPIC_PREFIX = "demo/prices/";

/** Starts the ticker; it publishes its first tick at once. */
export function startTicker(options: TickerOptions): Ticker {
  const intervalMs = options.intervalMs ?? 500;
  const prefix = options.topicPrefix ?? TICKER_TOPIC_PREFIX;
  const run = Date.now().toString(36);
  const state = Object.entries(options.symbols ?? DEFAULT_SYMBOLS).map(([symbol, price]) => ({
    symbol,
    price,
    // A slow per-symbol trend so the lines do not all look alike.
    drift: (Math.random() - 0.5) * 0.0004,
    seq: 0,
  }));

  const tick = () => {
    const time = Date.now();
    for (const s of state) {
      const shock = (Math.random() - 0.5) * 0.004;
      s.price = Math.max(0.01, s.price * (1 + s.drift + shock));
      s.seq++;
      const data = JSON.stringify({
        symbol: s.symbol,
        price: Math.round(s.price * 100) / 100,
        time,
        run,
        seq: s.seq,
      });
      try {
        const result = options.publish({ topic: `${prefix}${s.symbol}`, data });
        if (result instanceof Promise) result.catch((error: unknown) => options.onError?.(error));
      } catch (error) {
        options.onError?.(error);
      }
    }
  };

  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
