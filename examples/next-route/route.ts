// A Next.js-style route handler (app/events/route.ts): a function from Request to Response.
import { createChannel, createWebSession } from "ssekit/server";

export const channel = createChannel({ history: 100 });

export function GET(request: Request): Response {
  const { session, response } = createWebSession(request, { retry: 3000 });
  channel.add(session);
  return response;
}
