/**
 * `ssekit/server/http1`: what sessions use to write straight to Node HTTP/1.1 sockets (an event's
 * chunk framed once, the compaction of the response head Node keeps), for servers that write to
 * sockets themselves. Sessions and channels need nothing from here.
 */
export { chunkFrame, Framed } from "./chunked.js";
export { compactHead } from "./response-head.js";
