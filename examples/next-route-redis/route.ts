// A Next.js-style route handler (app/events/route.ts) for an app deployed on many instances: the
// channel is shared through Redis, so a POST on one instance reaches the streams of all, a client
// resumes (Last-Event-ID) on any instance, and `?poll=1` clients read the same history.
import { redisChannelBus } from "@ssekit/redis";
import { createChannel, createWebSession } from "ssekit/server";

export const bus = redisChannelBus({
  redis: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  key: "example:events",
});
export const channel = createChannel({ bus });

export function GET(request: Request): Promise<Response> | Response {
  if (new URL(request.url).searchParams.has("poll")) return channel.poll(request);
  const { session, response } = createWebSession(request, { retry: 3000 });
  void channel.add(session);
  return response;
}

export async function POST(request: Request): Promise<Response> {
  const data = await request.text();
  try {
    return new Response(await channel.broadcast({ data }));
  } catch (error) {
    return new Response(`not sent: ${error instanceof Error ? error.message : String(error)}`, {
      status: 503,
    });
  }
}
