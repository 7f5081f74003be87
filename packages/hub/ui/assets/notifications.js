// The notifications demo: subscribes to the `notifications` topic with ssekit/client's
// EventSource (shared through a SharedWorker, so every open tab uses one connection), shows a
// toast per update, keeps an inbox with an unread counter, and sends a notification through the
// hub. Updates are de-duplicated by event id, so a resume after a hub restart never shows one twice.

import { publish, subscribeUrl } from "/assets/hub.js";
import { EventSource } from "/assets/ssekit-client.js";

const $ = (id) => document.getElementById(id);
const TOPIC = "notifications";
const seen = new Set();
let unread = 0;
let received = 0;
let reconnects = 0;
let wasOpen = false;

function setUnread(count) {
  unread = count;
  const badge = $("unread");
  badge.textContent = String(count);
  badge.dataset.count = String(count);
  document.title = `${count > 0 ? `(${count}) ` : ""}ssekit hub · notifications demo`;
}

function parse(data) {
  try {
    const value = JSON.parse(data);
    if (value && typeof value === "object") {
      return { title: String(value.title ?? "Notification"), body: value.body ? String(value.body) : "" };
    }
  } catch {
    // Not JSON: show the text itself.
  }
  return { title: data, body: "" };
}

function toast(note, id) {
  const box = document.createElement("div");
  box.className = "toast";
  box.dataset.id = id;
  const title = document.createElement("strong");
  title.textContent = note.title;
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "×";
  close.title = "Dismiss";
  close.addEventListener("click", () => box.remove());
  box.append(title, close);
  if (note.body) {
    const body = document.createElement("p");
    body.textContent = note.body;
    box.append(body);
  }
  const toasts = $("toasts");
  toasts.append(box);
  while (toasts.children.length > 4) toasts.firstElementChild?.remove();
  setTimeout(() => box.remove(), 8000);
}

function receive(event) {
  if (event.lastEventId && seen.has(event.lastEventId)) return;
  if (event.lastEventId) seen.add(event.lastEventId);
  received++;
  $("received").textContent = String(received);
  $("last-id").textContent = event.lastEventId || "–";
  const note = parse(event.data);
  const item = document.createElement("li");
  item.dataset.id = event.lastEventId;
  item.dataset.unread = "true";
  const text = document.createElement("div");
  const title = document.createElement("strong");
  title.textContent = note.title;
  text.append(title);
  if (note.body) text.append(document.createTextNode(` — ${note.body}`));
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = new Date().toLocaleTimeString();
  item.append(text, meta);
  $("inbox").prepend(item);
  toast(note, event.lastEventId);
  setUnread(unread + 1);
}

function setState(state) {
  const pill = $("stream-state");
  pill.dataset.state = state;
  pill.textContent = { open: "live", connecting: "reconnecting…", closed: "closed" }[state];
  document.body.dataset.stream = state;
}

const source = new EventSource(subscribeUrl([TOPIC]), {
  // One connection for every tab: in a SharedWorker, or a Web Locks leader tab where there is none.
  shared: { worker: "/assets/ssekit-shared-worker.js" },
});
source.addEventListener("open", () => {
  if (wasOpen) {
    reconnects++;
    $("reconnects").textContent = String(reconnects);
  }
  wasOpen = true;
  setState("open");
});
source.addEventListener("error", () => {
  setState(source.readyState === EventSource.CLOSED ? "closed" : "connecting");
});
source.addEventListener("message", receive);

$("mark-read").addEventListener("click", () => {
  for (const item of $("inbox").children) item.dataset.unread = "false";
  setUnread(0);
});

$("send-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = $("send-status");
  const note = { title: $("send-title").value.trim() || "Hello", body: $("send-body").value.trim() };
  try {
    const id = await publish({ topics: [TOPIC], data: JSON.stringify(note) });
    status.dataset.kind = "ok";
    status.textContent = `sent (id ${id})`;
  } catch (error) {
    status.dataset.kind = "error";
    status.textContent = error.message;
  }
});
