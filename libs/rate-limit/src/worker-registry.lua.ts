import { CLOCK_LUA } from './redis-script.ts';

/**
 * Worker pool state, one hash tag per pool (a choice must see all workers and the pin at once):
 *   KEYS[1] alive  zset workerId -> heartbeat expiry ms
 *   KEYS[2] slots  hash workerId -> slots
 *   KEYS[3] busy   hash workerId -> busy slots (as reported, plus assignments since)
 *   KEYS[4] pin    string workerId of one session (chooseWorker only)
 */
const COMMON_LUA = `${CLOCK_LUA}
local function live(now)
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. int(now), '+inf')
  local workers = {}
  for _, id in ipairs(ids) do
    local slots = tonumber(redis.call('HGET', KEYS[2], id) or '0') or 0
    local busy = tonumber(redis.call('HGET', KEYS[3], id) or '0') or 0
    workers[#workers + 1] = {id, slots, busy}
  end
  return workers
end
`;

/** ARGV: 1 now|'' 2 heartbeatTtlMs 3 workerId 4 slots 5 busy */
export const REPORT_LUA = `${COMMON_LUA}
local now = clock(ARGV[1])
-- Forget workers whose heartbeat ran out, so the hashes do not grow with every pod ever started.
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', int(now))
for _, id in ipairs(dead) do
  if id ~= ARGV[3] then
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', int(now))
redis.call('ZADD', KEYS[1], int(now + tonumber(ARGV[2])), ARGV[3])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
return 1
`;

/** ARGV: 1 now|''. Reply: flat {workerId, slots, busy, ...} of live workers. */
export const LIVE_LUA = `${COMMON_LUA}
local out = {}
for _, w in ipairs(live(clock(ARGV[1]))) do
  out[#out + 1] = w[1]
  out[#out + 1] = w[2]
  out[#out + 1] = w[3]
end
return out
`;

/**
 * Session affinity with a balance guard. Keeps the session's worker while it is alive and at most
 * maxLoadGap busier than the least-loaded live worker; otherwise pins the least-loaded one
 * (fewest busy, then most free slots, then lowest id).
 * ARGV: 1 now|'' 2 maxLoadGap 3 pinTtlMs 4 countAssignment (1/0)
 * Reply: {workerId, reason, previousWorkerId|''} or nil when no worker is alive.
 */
export const CHOOSE_LUA = `${COMMON_LUA}
local now = clock(ARGV[1])
local gap = tonumber(ARGV[2])
local workers = live(now)
if #workers == 0 then return false end
local best = nil
local busyOf = {}
for _, w in ipairs(workers) do
  busyOf[w[1]] = w[3]
  if best == nil or w[3] < best[3]
    or (w[3] == best[3] and (w[2] - w[3] > best[2] - best[3] or (w[2] - w[3] == best[2] - best[3] and w[1] < best[1]))) then
    best = w
  end
end
local pinned = redis.call('GET', KEYS[4])
local chosen = best[1]
local reason = 'new'
if pinned then
  local pinnedBusy = busyOf[pinned]
  if pinnedBusy == nil then
    reason = 'failover'
  elseif pinnedBusy - best[3] <= gap then
    chosen = pinned
    reason = 'sticky'
  else
    reason = 'rebalanced'
  end
end
redis.call('SET', KEYS[4], chosen, 'PX', ARGV[3])
-- Count the assignment until the worker's next heartbeat reports the truth, so a burst of new
-- sessions spreads over idle workers instead of all landing on the one that looked idlest.
if ARGV[4] == '1' then redis.call('HINCRBY', KEYS[3], chosen, 1) end
return {chosen, reason, pinned or ''}
`;

/** ARGV: 1 workerId */
export const DEREGISTER_LUA = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
`;
