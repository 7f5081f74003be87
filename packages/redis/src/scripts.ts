/**
 * The two Lua scripts of the log, run atomically by Redis: `APPEND` (for each entry of a batch:
 * refuse a taken event id, XADD, index the id; then trim by count and age) and `READ` (resolve an
 * id, classify it against what is kept, XRANGE after it). Both run through EVALSHA with a fallback to EVAL when Redis does not
 * have the script cached yet (after a restart or SCRIPT FLUSH).
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * KEYS[1] the stream, KEYS[2] the index hash (event id -> entry id), KEYS[3] the id of the last
 * entry trimmed (Redis's own max-deleted-entry-id does not count trimming).
 * ARGV[1] most entries kept (0: no count limit), ARGV[2] most milliseconds kept (0: no age limit),
 * ARGV[3] the indexed field ("" for none), then one group per entry, in order: the number of
 * arguments that follow for it, then field, value, field, value, ...
 * Returns the id of the newest entry before the call ("0-0" when none), then one pair per entry, in
 * order: {1, new entry id}, {0, entry id holding the indexed event id} or {2, Redis's error} (that
 * entry and the ones after it were not appended). The entries appended by one call follow each
 * other in the log, right after that first id: a tail that has delivered up to it can take them
 * from the answer, without reading them back.
 *
 * Many entries go in one call (the log batches the appends of one event-loop turn), each with the
 * exact semantics of appending it alone: an event id taken earlier in the same call is refused
 * too. Trimming is exact and done once per call: the entries to drop are read from the head (their
 * indexed ids are removed from the hash with them) and cut with XTRIM MINID at the first entry
 * kept, which leaves the same log as trimming after each entry. The age limit uses Redis's clock
 * (TIME), the clock that made the ids, so app instances with skewed clocks agree on what is too old.
 */
const APPEND = `
local stream, index, trimmedkey = KEYS[1], KEYS[2], KEYS[3]
local maxlen, maxage, idfield = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local newest = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
local replies = {newest and newest[1] or '0-0'}
local i = 4
while i <= #ARGV do
  local first, last = i + 1, i + tonumber(ARGV[i])
  i = last + 1
  local eventid = false
  if idfield ~= '' then
    for j = first, last, 2 do
      if ARGV[j] == idfield then eventid = ARGV[j + 1] break end
    end
  end
  local taken = false
  if eventid then taken = redis.call('HGET', index, eventid) end
  if taken then
    replies[#replies + 1] = 0
    replies[#replies + 1] = taken
  else
    local id = redis.pcall('XADD', stream, '*', unpack(ARGV, first, last))
    if type(id) == 'table' and id.err then
      replies[#replies + 1] = 2
      replies[#replies + 1] = id.err
      break
    end
    if eventid then redis.call('HSET', index, eventid, id) end
    replies[#replies + 1] = 1
    replies[#replies + 1] = id
  end
end
local excess = 0
if maxlen > 0 then excess = redis.call('XLEN', stream) - maxlen end
local cutoff = -1
if maxage > 0 then
  local now = redis.call('TIME')
  cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - maxage
end
if excess <= 0 and cutoff < 0 then return replies end
local removed, keep, start, dropped = 0, false, '-', false
while not keep do
  local page = redis.call('XRANGE', stream, start, '+', 'COUNT', math.max(1, math.min(excess + 1, 100)))
  if #page == 0 then break end
  for _, entry in ipairs(page) do
    local ms = tonumber(string.match(entry[1], '^(%d+)'))
    if removed < excess or ms <= cutoff then
      if idfield ~= '' then
        local fields = entry[2]
        for i = 1, #fields, 2 do
          if fields[i] == idfield then
            if redis.call('HGET', index, fields[i + 1]) == entry[1] then redis.call('HDEL', index, fields[i + 1]) end
            break
          end
        end
      end
      removed = removed + 1
      dropped = entry[1]
    else
      keep = entry[1]
      break
    end
  end
  start = '(' .. page[#page][1]
end
if removed > 0 and keep then
  redis.call('XTRIM', stream, 'MINID', keep)
  redis.call('SET', trimmedkey, dropped)
end
return replies
`;

/**
 * KEYS[1] the stream, KEYS[2] the index hash, KEYS[3] the last entry trimmed. ARGV[1] an entry id or an indexed event id,
 * ARGV[2] most entries returned, ARGV[3] "1" when the index is on.
 * Returns {kind, entry id it resolved to, entries}: kind "found" (nothing after it was trimmed),
 * "trimmed" (entries after it were trimmed: entries are the oldest kept) or "unknown" (not an id of
 * this log: not indexed, not an entry id, or after the newest id the stream ever made).
 *
 * Trimming only ever removes the head, so a position at or after the last entry trimmed lost nothing;
 * a position before the first entry of a log that never trimmed predates the stream (it was
 * deleted, or Redis lost it): that is reported as trimmed too, since events may be missing.
 */
const READ = `
local stream, index, trimmedkey = KEYS[1], KEYS[2], KEYS[3]
local function cmp(a, b)
  local am, as = string.match(a, '^(%d+)%-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)%-(%d+)$')
  if #am ~= #bm then return #am < #bm and -1 or 1 end
  if am ~= bm then return am < bm and -1 or 1 end
  if #as ~= #bs then return #as < #bs and -1 or 1 end
  if as ~= bs then return as < bs and -1 or 1 end
  return 0
end
local pos = false
if ARGV[3] == '1' then pos = redis.call('HGET', index, ARGV[1]) end
if not pos and string.match(ARGV[1], '^%d+%-%d+$') then pos = ARGV[1] end
if not pos then return {'unknown', ''} end
if redis.call('EXISTS', stream) == 0 then
  if pos == '0-0' then return {'found', pos, {}} end
  return {'unknown', pos}
end
local info = redis.call('XINFO', 'STREAM', stream)
local last = '0-0'
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1] end
end
if cmp(pos, last) > 0 then return {'unknown', pos} end
local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
local dropped = redis.call('GET', trimmedkey)
local trimmed = false
if first and cmp(pos, first[1]) < 0 then
  if dropped then trimmed = cmp(pos, dropped) < 0 else trimmed = pos ~= '0-0' end
end
if trimmed then return {'trimmed', pos, redis.call('XRANGE', stream, '-', '+', 'COUNT', ARGV[2])} end
return {'found', pos, redis.call('XRANGE', stream, '(' .. pos, '+', 'COUNT', ARGV[2])}
`;

export class Script {
  readonly #source: string;
  readonly #sha: string;
  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash("sha1").update(source).digest("hex");
  }

  /**
   * Runs the script; replies come back as Buffers, so binary values stay intact. When Redis does
   * not have it cached, sends it whole (EVAL) if `mayResend()` says so; else rejects with Redis's
   * NOSCRIPT error (the script did not run). The command goes out before this returns, so calls
   * made one after the other reach Redis in that order.
   */
  async run(
    redis: Redis,
    keys: readonly string[],
    args: readonly (string | Buffer | number)[],
    mayResend: () => boolean = () => true,
  ): Promise<unknown> {
    try {
      return await redis.callBuffer("EVALSHA", this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT") || !mayResend()) throw error;
      return await redis.callBuffer("EVAL", this.#source, keys.length, ...keys, ...args);
    }
  }

  /** Has Redis cache the script (SCRIPT LOAD), so that the next runs find it. */
  async load(redis: Redis): Promise<void> {
    await redis.call("SCRIPT", "LOAD", this.#source);
  }
}

export const appendScript = new Script(APPEND);
export const readScript = new Script(READ);
