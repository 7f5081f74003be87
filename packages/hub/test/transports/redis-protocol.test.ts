// The hub protocol tests (protocol.test.ts) against a two-node hub on a real redis-server: every
// hub they start is two hubs sharing one Redis behind a round-robin proxy (hub-support.ts), so a
// publish and the subscription that should receive it go to different nodes.
import { after } from "node:test";
import { RedisServer } from "../../../redis/test/support/redis-server.js";
import { TWO_NODE_REDIS_ENV } from "../support/hub-support.js";

const redis = await RedisServer.start();
process.env[TWO_NODE_REDIS_ENV] = redis.url;
after(() => redis.stop());
await import("../routes/protocol.test.js");
