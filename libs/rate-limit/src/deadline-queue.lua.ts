import { CLOCK_LUA } from './redis-script.ts';

/**
 * Deadline queue state, all under one hash tag (one queue = one slot; takeNext must see every
 * key's items atomically to be fair):
 *   KEYS[1] ring      zset keyId -> turn of its last service (lowest = served longest ago)
 *   KEYS[2] items     zset, all scores 0, member `<keyId>\0<pp><deadline:15>\0<requestId>`: byte
 *                     order = key, then priority, then deadline, then request id
 *   KEYS[3] payloads  hash requestId -> payload
 *   KEYS[4] members   hash requestId -> member (to find an item by request id)
 *   KEYS[5] deadlines zset requestId -> deadline ms (expiry sweep)
 *   KEYS[6] turn      counter of services
 * An item is expired when deadline <= now; takeNext never returns expired items, takeExpired does.
 */
const COMMON_LUA = `${CLOCK_LUA}
local SEP = string.char(0)
local AFTER = string.char(1)

local function parse(member)
  local cut = string.find(member, SEP, 1, true)
  local key = string.sub(member, 1, cut - 1)
  local priority = tonumber(string.sub(member, cut + 1, cut + 2))
  local deadline = tonumber(string.sub(member, cut + 3, cut + 17))
  local rid = string.sub(member, cut + 19)
  return key, priority, deadline, rid
end

local function hasItems(key)
  return #redis.call('ZRANGEBYLEX', KEYS[2], '[' .. key .. SEP, '(' .. key .. AFTER, 'LIMIT', 0, 1) > 0
end

-- Removes one item; returns it as {requestId, keyId, priority, deadline, payload}.
local function remove(member)
  local key, priority, deadline, rid = parse(member)
  local payload = redis.call('HGET', KEYS[3], rid) or ''
  redis.call('ZREM', KEYS[2], member)
  redis.call('HDEL', KEYS[3], rid)
  redis.call('HDEL', KEYS[4], rid)
  redis.call('ZREM', KEYS[5], rid)
  return {rid, key, priority, int(deadline), payload}, key
end
`;

/**
 * ARGV: 1 requestId 2 keyId 3 member 4 deadline 5 payload 6 maxAhead|'' 7 maxParked|''.
 * Reply {status, ahead, parked}: status 1 added, 0 already queued, -1 refused because `ahead` (the
 * key's items that would be served before this one) exceeds maxAhead, or the key already has
 * `parked` >= maxParked items waiting.
 */
export const ENQUEUE_LUA = `${COMMON_LUA}
local rid = ARGV[1]
local key = ARGV[2]
if redis.call('HEXISTS', KEYS[4], rid) == 1 then return {0, 0, 0} end
-- Items of this key that sort before this one (member order is the key's service order).
local ahead = redis.call('ZLEXCOUNT', KEYS[2], '[' .. key .. SEP, '(' .. ARGV[3])
local parked = redis.call('ZLEXCOUNT', KEYS[2], '[' .. key .. SEP, '(' .. key .. AFTER)
if (ARGV[6] ~= '' and ahead > tonumber(ARGV[6])) or (ARGV[7] ~= '' and parked >= tonumber(ARGV[7])) then return {-1, ahead, parked} end
redis.call('ZADD', KEYS[2], 0, ARGV[3])
redis.call('HSET', KEYS[3], rid, ARGV[5])
redis.call('HSET', KEYS[4], rid, ARGV[3])
redis.call('ZADD', KEYS[5], ARGV[4], rid)
-- A key that starts waiting goes behind every key already waiting, but ahead of the key served
-- last (which just had its turn).
if not redis.call('ZSCORE', KEYS[1], key) then
  local turn = tonumber(redis.call('GET', KEYS[6]) or '0')
  redis.call('ZADD', KEYS[1], turn - 0.5, key)
end
return {1, ahead, parked}
`;

/**
 * Round-robin over keys (the key served longest ago goes next); within the key the lowest
 * priority number, then the earliest deadline. Skips expired items (they wait for takeExpired).
 * ARGV: 1 now|''. Reply: the item or nil.
 */
export const TAKE_NEXT_LUA = `${COMMON_LUA}
local now = clock(ARGV[1])
local firstAlive = int(now + 1)
while #firstAlive < 15 do firstAlive = '0' .. firstAlive end

-- The best unexpired item of a key: per priority present, the first item with deadline > now.
-- At most one range query per distinct priority, each O(log n).
local function best(key)
  local base = key .. SEP
  local head = redis.call('ZRANGEBYLEX', KEYS[2], '[' .. base, '(' .. key .. AFTER, 'LIMIT', 0, 1)
  while head[1] do
    local _, p = parse(head[1])
    local pp = string.format('%02d', p)
    local upper = '(' .. key .. AFTER
    if p < 99 then upper = '(' .. base .. string.format('%02d', p + 1) end
    local hit = redis.call('ZRANGEBYLEX', KEYS[2], '[' .. base .. pp .. firstAlive, upper, 'LIMIT', 0, 1)
    if hit[1] then return hit[1] end
    if p >= 99 then return nil end
    head = redis.call('ZRANGEBYLEX', KEYS[2], '[' .. base .. string.format('%02d', p + 1), '(' .. key .. AFTER, 'LIMIT', 0, 1)
  end
  return nil
end

local waiting = redis.call('ZCARD', KEYS[1])
for _ = 1, waiting do
  local head = redis.call('ZRANGE', KEYS[1], 0, 0)
  local key = head[1]
  if not key then return false end
  local turn = redis.call('INCR', KEYS[6])
  local member = best(key)
  if member then
    local item = remove(member)
    if hasItems(key) then redis.call('ZADD', KEYS[1], turn, key) else redis.call('ZREM', KEYS[1], key) end
    return item
  end
  -- Only expired items left: pass the turn on; takeExpired will collect them.
  redis.call('ZADD', KEYS[1], turn, key)
end
return false
`;

/** ARGV: 1 now|'' 2 limit. Reply: flat list of items whose deadline <= now, earliest first. */
export const TAKE_EXPIRED_LUA = `${COMMON_LUA}
local now = clock(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', int(now), 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, rid in ipairs(ids) do
  local member = redis.call('HGET', KEYS[4], rid)
  if member then
    local item, key = remove(member)
    if not hasItems(key) then redis.call('ZREM', KEYS[1], key) end
    for _, field in ipairs(item) do out[#out + 1] = field end
  else
    redis.call('ZREM', KEYS[5], rid)
  end
end
return out
`;

/** ARGV: 1 requestId. Reply: the removed item or nil. */
export const CANCEL_LUA = `${COMMON_LUA}
local member = redis.call('HGET', KEYS[4], ARGV[1])
if not member then return false end
local item, key = remove(member)
if not hasItems(key) then redis.call('ZREM', KEYS[1], key) end
return item
`;
