// Server-sent events over HTTP/2 with TLS (node:http2 compatibility API). No Connection header on HTTP/2.
// Run: node --conditions=ssekit-source --import tsx examples/node-http2/server.ts KEY.pem CERT.pem
import { readFileSync } from "node:fs";
import { createSecureServer } from "node:http2";
import { createChannel, createSession } from "ssekit/server";

export const channel = createChannel({ history: 100 });

export function start(key: Buffer, cert: Buffer) {
  return createSecureServer({ key, cert, allowHTTP1: true }, (req, res) =>
    channel.add(createSession(req, res)),
  );
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [keyFile = "key.pem", certFile = "cert.pem"] = process.argv.slice(2);
  start(readFileSync(keyFile), readFileSync(certFile)).listen(3443);
  setInterval(() => channel.broadcast({ event: "time", data: new Date().toISOString() }), 1000);
}
