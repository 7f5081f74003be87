/**
 * `ssekit/server/http1`: the pieces ssekit/server uses to write event streams straight to Node
 * HTTP/1.1 sockets, for servers that hold their own streams (the ssekit hub): the chunked framing
 * of an event, made once per broadcast, and the compaction of the response head Node keeps per
 * connection. Sessions and channels (`ssekit/server`) use them already.
 */
export { chunkFrame, Framed } from "./chunked.js";
export { compactHead } from "./response-head.js";
