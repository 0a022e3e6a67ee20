import { CLOCK_LUA } from './redis-script.ts';

/**
 * Worker pool state, one hash tag per pool (a choice must see all workers and the pin at once):
 *   KEYS[1] alive    zset workerId -> heartbeat expiry ms
 *   KEYS[2] slots    hash workerId -> slots
 *   KEYS[3] busy     hash workerId -> busy slots, as the worker last reported them
 *   KEYS[4] owners   hash lane -> workerId that claimed it (kept after its death: an orphan)
 *   KEYS[5] drains   zset lane -> drain lease expiry ms (an orphaned lane being emptied)
 *   KEYS[6] drainers hash lane -> workerId draining it
 *   KEYS[7] assigned zset "workerId assignmentId" -> expiry ms: requests routed to a worker that
 *                    it has not taken yet (each counts as busy until taken, or a heartbeat TTL)
 *   KEYS[8] pin      string workerId of one session (chooseWorker only)
 *   KEYS[9] turn     counter of choices among equally loaded workers (chooseWorker only)
 * A worker's lane is the lane whose owner it is; only workers holding a lane can be chosen.
 */
const COMMON_LUA = `${CLOCK_LUA}
local function alive(id, now)
  local expiry = redis.call('ZSCORE', KEYS[1], id)
  return expiry ~= false and tonumber(expiry) > now
end
local function lanesOwned()
  local flat = redis.call('HGETALL', KEYS[4])
  local byWorker = {}
  for i = 1, #flat, 2 do byWorker[flat[i + 1]] = tonumber(flat[i]) end
  return byWorker
end
local function live(now)
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. int(now), '+inf')
  local workers = {}
  if #ids == 0 then return workers end
  local slots = redis.call('HMGET', KEYS[2], unpack(ids))
  local busy = redis.call('HMGET', KEYS[3], unpack(ids))
  -- Busy = as reported + routed there and not taken yet (few: a request is taken within ms).
  local pending = {}
  for _, entry in ipairs(redis.call('ZRANGEBYSCORE', KEYS[7], '(' .. int(now), '+inf')) do
    local id = string.match(entry, '^(.-) ')
    if id then pending[id] = (pending[id] or 0) + 1 end
  end
  for i, id in ipairs(ids) do
    workers[#workers + 1] = {id, tonumber(slots[i] or '0') or 0, (tonumber(busy[i] or '0') or 0) + (pending[id] or 0)}
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
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', int(now))
redis.call('ZADD', KEYS[1], int(now + tonumber(ARGV[2])), ARGV[3])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
local lane = lanesOwned()[ARGV[3]]
if lane == nil then return -1 end
return lane
`;

/**
 * The worker's lane: the one it owns already, else the lowest lane with no owner or a dead one (its
 * queued messages become the new owner's). Keeps the claimant alive for a heartbeat TTL, so nobody
 * else claims the lane while the worker connects to it; the worker is not chosen for sessions
 * until it reports (slots), which it does once its lane receives.
 * ARGV: 1 now|'' 2 workerId 3 lanes 4 heartbeatTtlMs. Reply: lane or -1.
 */
export const CLAIM_LANE_LUA = `${COMMON_LUA}
local now = clock(ARGV[1])
redis.call('ZADD', KEYS[1], int(now + tonumber(ARGV[4])), ARGV[2])
local owned = lanesOwned()[ARGV[2]]
if owned ~= nil then return owned end
for lane = 0, tonumber(ARGV[3]) - 1 do
  local owner = redis.call('HGET', KEYS[4], lane)
  if owner == false or not alive(owner, now) then
    redis.call('HSET', KEYS[4], lane, ARGV[2])
    return lane
  end
end
return -1
`;

/**
 * Takes the drain of one orphaned lane (owner dead, nobody draining it) for drainMs, or renews the
 * drain of ARGV[4] when given. ARGV: 1 now|'' 2 workerId 3 drainMs 4 lane|''.
 * Reply: the lane, or -1 (nothing to drain / the drain is over: the lane has a live owner again).
 */
export const DRAIN_LANE_LUA = `${COMMON_LUA}
local now = clock(ARGV[1])
local function orphaned(lane)
  local owner = redis.call('HGET', KEYS[4], lane)
  return owner ~= false and owner ~= ARGV[2] and not alive(owner, now)
end
if ARGV[4] ~= '' then
  if redis.call('HGET', KEYS[6], ARGV[4]) ~= ARGV[2] or not orphaned(ARGV[4]) then return -1 end
  redis.call('ZADD', KEYS[5], int(now + tonumber(ARGV[3])), ARGV[4])
  return tonumber(ARGV[4])
end
local flat = redis.call('HGETALL', KEYS[4])
for i = 1, #flat, 2 do
  local lane = flat[i]
  local lease = redis.call('ZSCORE', KEYS[5], lane)
  if orphaned(lane) and (lease == false or tonumber(lease) <= now) then
    redis.call('ZADD', KEYS[5], int(now + tonumber(ARGV[3])), lane)
    redis.call('HSET', KEYS[6], lane, ARGV[2])
    return tonumber(lane)
  end
end
return -1
`;

/** The drain of a lane is over: frees the lane unless a live worker owns it again. ARGV: 1 now|'' 2 workerId 3 lane */
export const FINISH_DRAIN_LUA = `${COMMON_LUA}
local now = clock(ARGV[1])
if redis.call('HGET', KEYS[6], ARGV[3]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[5], ARGV[3])
redis.call('HDEL', KEYS[6], ARGV[3])
local owner = redis.call('HGET', KEYS[4], ARGV[3])
if owner ~= false and not alive(owner, now) then redis.call('HDEL', KEYS[4], ARGV[3]) end
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
 * Session affinity with a balance guard. Keeps the session's worker while it is alive, holds a
 * lane, is at most maxLoadGap busier than the least-loaded such worker and has a free slot (unless
 * every worker is full); otherwise pins the least-loaded one (fewest busy, then most free slots,
 * then lowest id). Workers that have not reported yet (no slots) are never chosen.
 * ARGV: 1 now|'' 2 maxLoadGap 3 pinTtlMs 4 assignmentId ('' = not counted) 5 assignmentTtlMs
 * Reply: {workerId, reason, previousWorkerId|'', lane} or nil when no live worker holds a lane.
 */
export const CHOOSE_LUA = `${COMMON_LUA}
local now = clock(ARGV[1])
local gap = tonumber(ARGV[2])
local laneOf = lanesOwned()
local workers = {}
for _, w in ipairs(live(now)) do
  if laneOf[w[1]] ~= nil and w[2] > 0 then workers[#workers + 1] = w end
end
if #workers == 0 then return false end
local best = nil
local busyOf = {}
local slotsOf = {}
for _, w in ipairs(workers) do
  busyOf[w[1]] = w[3]
  slotsOf[w[1]] = w[2]
  if best == nil or w[3] < best[3]
    or (w[3] == best[3] and (w[2] - w[3] > best[2] - best[3] or (w[2] - w[3] == best[2] - best[3] and w[1] < best[1]))) then
    best = w
  end
end
local pinned = redis.call('GET', KEYS[8])
local chosen = best[1]
local reason = 'new'
-- Workers as idle as the best (same busy, same free slots) take new sessions in turn: when each
-- answer ends before the next session comes, sessions still spread instead of all going to the
-- first id.
local ties = {}
for _, w in ipairs(workers) do
  if w[3] == best[3] and w[2] - w[3] == best[2] - best[3] then ties[#ties + 1] = w[1] end
end
if pinned then
  local pinnedBusy = busyOf[pinned]
  if pinnedBusy == nil then
    reason = 'failover'
  -- A full worker keeps the session only while every worker is full: its lane would make the
  -- request wait while another has a free slot.
  elseif pinnedBusy - best[3] <= gap and (pinnedBusy < slotsOf[pinned] or best[3] >= best[2]) then
    chosen = pinned
    reason = 'sticky'
  else
    reason = 'rebalanced'
  end
end
if reason ~= 'sticky' and #ties > 1 then
  table.sort(ties)
  chosen = ties[(redis.call('INCR', KEYS[9]) % #ties) + 1]
end
redis.call('SET', KEYS[8], chosen, 'PX', ARGV[3])
-- The request counts as the worker's load until the worker takes it (then its own report covers
-- it), so a burst of new sessions spreads over idle workers instead of all landing on the one that
-- looked idlest. Not until the next heartbeat: short answers would pile up as phantom load between
-- two heartbeats, move sessions off their warm worker and make the capacity check refuse.
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[7], int(now + tonumber(ARGV[5])), chosen .. ' ' .. ARGV[4]) end
return {chosen, reason, pinned or '', laneOf[chosen]}
`;

/** ARGV: 1 workerId. Its lane stays owned by it, now dead: another worker drains what is left there. */
export const DEREGISTER_LUA = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
`;
