// The live chart demo: subscribes to the hub's simulated ticker (`demo/prices/{symbol}`) with
// ssekit/client's EventSource (one connection for all tabs, held by a SharedWorker), draws each
// symbol's change since the page opened on a canvas chart and shows the latest quotes. Each tick
// carries a per-symbol sequence number, so the page can show that a resume after a network drop
// caught up with no gap.

import { LineChart } from "/assets/chart.js";
import { subscribeUrl } from "/assets/hub.js";
import { EventSource } from "/assets/ssekit-client.js";

const $ = (id) => document.getElementById(id);
const chart = new LineChart($("chart"), { windowMs: 45_000, format: (v) => `${v.toFixed(2)}%` });
/** symbol -> { first, last, seq, card } */
const symbols = new Map();
let ticks = 0;
let caughtUp = 0;
let gaps = 0;
let reconnects = 0;
let wasOpen = false;
let lastOpenAt = 0;

function card(symbol) {
  const box = document.createElement("div");
  box.className = "quote";
  box.dataset.symbol = symbol;
  box.style.setProperty("--series", `var(--series-${(symbols.size % 5) + 1})`);
  box.innerHTML = `<div class="sym"></div><div class="px">–</div><div class="chg">–</div>`;
  box.querySelector(".sym").textContent = symbol;
  const list = $("quotes");
  list.append(box);
  return box;
}

function tick(event) {
  let tickData;
  try {
    tickData = JSON.parse(event.data);
  } catch {
    return;
  }
  const { symbol, price, time, run, seq } = tickData;
  if (typeof symbol !== "string" || typeof price !== "number") return;
  let state = symbols.get(symbol);
  if (!state) {
    state = { first: price, last: price, run, seq: seq - 1, card: card(symbol) };
    symbols.set(symbol, state);
  }
  // A new run means the hub (and its ticker) restarted: sequence numbers start over.
  if (state.run !== run) {
    state.run = run;
    state.seq = seq - 1;
  }
  if (typeof seq === "number") {
    if (seq <= state.seq) return; // already seen (a replay overlapping what we had)
    if (seq > state.seq + 1) gaps += seq - state.seq - 1;
    state.seq = seq;
  }
  ticks++;
  // A tick older than the current connection is a replayed one: the catch-up after a drop.
  if (wasOpen && reconnects > 0 && time < lastOpenAt) caughtUp++;
  const previous = state.last;
  state.last = price;
  chart.push(symbol, time, ((price - state.first) / state.first) * 100);
  const px = state.card.querySelector(".px");
  px.textContent = price.toFixed(2);
  const change = ((price - state.first) / state.first) * 100;
  const chg = state.card.querySelector(".chg");
  chg.textContent = `${change >= 0 ? "+" : ""}${change.toFixed(2)}% `;
  chg.className = `chg ${change >= 0 ? "up" : "down"}`;
  // The arrow is this tick's direction, coloured on its own.
  const arrow = document.createElement("span");
  arrow.className = price >= previous ? "up" : "down";
  arrow.textContent = price >= previous ? "▲" : "▼";
  chg.append(arrow);
  $("ticks").textContent = String(ticks);
  $("caught-up").textContent = String(caughtUp);
  $("gaps").textContent = String(gaps);
  document.body.dataset.ticks = String(ticks);
  document.body.dataset.gaps = String(gaps);
}

function setState(state) {
  const pill = $("stream-state");
  pill.dataset.state = state;
  pill.textContent = { open: "live", connecting: "reconnecting…", closed: "closed" }[state];
  document.body.dataset.stream = state;
}

const source = new EventSource(subscribeUrl(["demo/prices/{symbol}"]), {
  // One connection for every tab: in a SharedWorker, or a Web Locks leader tab where there is none.
  shared: { worker: "/assets/ssekit-shared-worker.js" },
});
source.addEventListener("open", () => {
  if (wasOpen) {
    reconnects++;
    $("reconnects").textContent = String(reconnects);
  }
  wasOpen = true;
  lastOpenAt = Date.now();
  setState("open");
});
source.addEventListener("error", () => {
  setState(source.readyState === EventSource.CLOSED ? "closed" : "connecting");
});
source.addEventListener("message", tick);
