import { CLOCK_LUA } from './redis-script.ts';

/**
 * One admission decision. All reads and checks come first and every failing check is collected;
 * only if none fails are the counters written, so a rejected request consumes nothing. Being a
 * single script, the decision is atomic against every other replica using the same Redis. The
 * key's counters live in one hash (one read, one write): Redis time per call is the ceiling of
 * the whole limiter, and it is mostly per-command overhead.
 *
 * KEYS: 1 state, 2 key inflight, 3 reservation, 4 global inflight
 * ARGV: 1 now|'' 2 reservationId 3 tokens 4 rpm 5 burst 6 rpd 7 tpm 8 maxConcurrent
 *       9 globalMaxConcurrent 10 capacity|'' 11 leaseMs 12 recordGraceMs 13 busyRetryHintMs
 *       14 keyId 15 tenantId 16 model 17 policyId
 * Reply: {1, reservationId, reservedTokens, duplicate, rpm|'', requestsLeft, requestsResetMs, tpm|'', tokensLeft, tokensResetMs}
 *        or {0, reason, retryAfterMs, limit, remaining}
 * (what is left after an admission feeds the x-ratelimit-* headers of the answer; '' = no such limit)
 */
export const ADMIT_LUA = `${CLOCK_LUA}
local now = clock(ARGV[1])
local id = ARGV[2]
local tokens = tonumber(ARGV[3])
local rpm = tonumber(ARGV[4])
local burst = tonumber(ARGV[5])
local rpd = tonumber(ARGV[6])
local tpm = tonumber(ARGV[7])
local maxConcurrent = tonumber(ARGV[8])
local globalMax = tonumber(ARGV[9])
local capacity = tonumber(ARGV[10])
local leaseMs = tonumber(ARGV[11])
local graceMs = tonumber(ARGV[12])
local busyHint = tonumber(ARGV[13])
-- Float refill arithmetic must not turn "exactly one token" into 0.9999999.
local EPS = 1e-9

-- A redelivered request whose reservation is still live gets that reservation, charged once.
local existing = redis.call('HMGET', KEYS[3], 'n', 'd')
if existing[1] and tonumber(existing[2]) > now then
  return {1, id, tonumber(existing[1]), 1, '', 0, 0, '', 0, 0}
end

-- The binding constraint is the one that frees last; -1 means "never fits" and beats all.
local fail = nil
local function consider(reason, retry, limit, remaining)
  if fail ~= nil and (fail[2] == -1 or (retry ~= -1 and retry <= fail[2])) then return end
  fail = {reason, retry, tostring(limit), math.max(0, math.floor(remaining))}
end

-- Numeric fields are the seconds of the sliding TPM window: second s counts while
-- s > now_s - 60, i.e. until (s + 60) * 1000, so the window slides with 1 s resolution and
-- reconcile can correct exactly the second a reservation was charged to.
local second = math.floor(now / 1000)
local oldest = second - 59
local fields = {}
local used = 0
local live = {}
local stale = {}
local state = redis.call('HGETALL', KEYS[1])
for i = 1, #state, 2 do
  local s = tonumber(state[i])
  if s == nil then
    fields[state[i]] = state[i + 1]
  elseif s < oldest then
    stale[#stale + 1] = state[i]
  else
    local v = tonumber(state[i + 1])
    used = used + v
    live[#live + 1] = {s, v}
  end
end

local rate, cap, bucketTokens, bucketTs
if rpm then
  rate = rpm / 60000
  -- Below one request per minute the bucket must still hold one whole request.
  cap = burst or math.max(1, rpm)
  bucketTokens = tonumber(fields.t)
  bucketTs = tonumber(fields.ts)
  -- No bucket (never used, or expired after refilling completely) is a full bucket.
  if bucketTokens == nil or bucketTs == nil then bucketTokens = cap; bucketTs = now end
  -- Time never runs backwards for a bucket: an older injected/skewed "now" just refills nothing.
  if now > bucketTs then
    bucketTokens = bucketTokens + (now - bucketTs) * rate
    bucketTs = now
  end
  if bucketTokens > cap then bucketTokens = cap end
  if bucketTokens + EPS < 1 then
    consider('rate_limited', math.max(1, math.ceil((1 - bucketTokens) / rate - EPS)), rpm, bucketTokens + EPS)
  end
end

local day = math.floor(now / 86400000)
local dayCount = 0
if tonumber(fields.d) == day then dayCount = tonumber(fields.n) or 0 end
if rpd and dayCount >= rpd then
  consider('rate_limited', (day + 1) * 86400000 - now, rpd, rpd - dayCount)
end

if tpm then
  if tokens > tpm then
    consider('token_budget_exceeded', -1, tpm, tpm - used)
  elseif used + tokens > tpm then
    table.sort(live, function(a, b) return a[1] < b[1] end)
    local need = used + tokens - tpm
    local freed = 0
    local retry = 60000
    for _, entry in ipairs(live) do
      freed = freed + entry[2]
      if freed >= need then
        retry = (entry[1] + 60) * 1000 - now
        break
      end
    end
    consider('token_budget_exceeded', math.max(1, retry), tpm, tpm - used)
  end
end

-- In flight = lease deadline still ahead. A crashed worker's entry stops counting at its deadline
-- even if nobody ever runs expireStale.
local function concurrency(key, limit)
  local inUse = redis.call('ZCOUNT', key, '(' .. int(now), '+inf')
  if inUse < limit then return end
  -- A slot frees when some request finishes, which we cannot know; the earliest lease expiry
  -- bounds it, the hint keeps the caller polling at a sensible rate before that.
  local retry = busyHint
  local first = redis.call('ZRANGEBYSCORE', key, '(' .. int(now), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if first[2] then retry = math.min(retry, tonumber(first[2]) - now) end
  consider('concurrency_limit', math.max(1, retry), limit, limit - inUse)
end
if maxConcurrent then concurrency(KEYS[2], maxConcurrent) end
if globalMax then concurrency(KEYS[4], globalMax) end

if capacity and capacity < 1 then
  consider('no_capacity', busyHint, math.max(0, capacity), 0)
end

if fail then
  return {0, fail[1], fail[2], fail[3], fail[4]}
end

-- The day count and tokens are tracked even without those limits: usage() reports them, and a
-- limit added later starts from the truth.
local writes = {}
local ttl = 61000
if rpm then
  writes[#writes + 1] = 't'; writes[#writes + 1] = string.format('%.17g', bucketTokens - 1)
  writes[#writes + 1] = 'ts'; writes[#writes + 1] = int(bucketTs)
  writes[#writes + 1] = 'r'; writes[#writes + 1] = string.format('%.17g', rate)
  writes[#writes + 1] = 'c'; writes[#writes + 1] = tostring(cap)
  -- Once refilled completely the bucket is the same as no bucket.
  ttl = math.max(ttl, math.ceil(cap / rate) + 1000)
end
writes[#writes + 1] = 'd'; writes[#writes + 1] = int(day)
writes[#writes + 1] = 'n'; writes[#writes + 1] = int(dayCount + 1)
ttl = math.max(ttl, (day + 1) * 86400000 - now + 60000)
local charged = ''
if tokens > 0 then
  charged = int(second)
  local current = 0
  for _, entry in ipairs(live) do
    if entry[1] == second then current = entry[2] end
  end
  writes[#writes + 1] = charged; writes[#writes + 1] = int(current + tokens)
end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
redis.call('HSET', KEYS[1], unpack(writes))
redis.call('PEXPIRE', KEYS[1], ttl)
local deadline = now + leaseMs
redis.call('ZADD', KEYS[2], int(deadline), id)
redis.call('ZADD', KEYS[4], int(deadline), id)
redis.call('HSET', KEYS[3], 'k', ARGV[14], 't', ARGV[15], 'm', ARGV[16], 'p', ARGV[17],
  'n', int(tokens), 's', charged, 'd', int(deadline), 'c', int(now))
redis.call('PEXPIRE', KEYS[3], leaseMs + graceMs)
-- What is left: whole requests in the bucket and the time until it is full again; tokens in the
-- window and the time until what counts now has left it (OpenAI's x-ratelimit-* semantics).
local requestsLeft, requestsReset, tokensLeft, tokensReset = 0, 0, 0, 0
if rpm then
  requestsLeft = math.max(0, math.floor(bucketTokens - 1 + EPS))
  requestsReset = math.max(0, math.ceil((cap - (bucketTokens - 1)) / rate))
end
if tpm then
  tokensLeft = math.max(0, tpm - used - tokens)
  tokensReset = (second + 60) * 1000 - now
end
return {1, id, tokens, 0, rpm and tostring(rpm) or '', requestsLeft, requestsReset, tpm and tostring(tpm) or '', tokensLeft, tokensReset}
`;

/**
 * Ends a reservation: its TPM second is corrected from reserved to actual tokens (never below 0;
 * a second that already left the window is not touched: it no longer limits anyone), and its
 * concurrency slots are freed. Unknown or already-ended reservations are a no-op.
 *
 * KEYS: 1 reservation, 2 state, 3 key inflight, 4 global inflight
 * ARGV: 1 now|'' 2 reservationId 3 actualTokens
 * Reply: {1, reservedTokens, actualTokens} or {0}
 */
export const RECONCILE_LUA = `${CLOCK_LUA}
local now = clock(ARGV[1])
local id = ARGV[2]
local actual = tonumber(ARGV[3])
local r = redis.call('HMGET', KEYS[1], 'n', 's')
if not r[1] then return {0} end
local reserved = tonumber(r[1])
local charged = r[2]
if charged and charged ~= '' and tonumber(charged) >= math.floor(now / 1000) - 59 then
  local current = tonumber(redis.call('HGET', KEYS[2], charged) or '0') or 0
  local corrected = current - reserved + actual
  if corrected <= 0 then
    redis.call('HDEL', KEYS[2], charged)
  else
    redis.call('HSET', KEYS[2], charged, int(corrected))
    if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], 61000) end
  end
end
redis.call('ZREM', KEYS[3], id)
redis.call('ZREM', KEYS[4], id)
redis.call('DEL', KEYS[1])
return {1, reserved, actual}
`;

/**
 * Frees the slots of one reservation whose lease deadline passed (its worker crashed or hung).
 * The record itself stays until its TTL so a late reconcile can still correct the TPM window.
 * Returns 1 only for the caller that actually removed it, so concurrent sweepers count once.
 *
 * KEYS: 1 key inflight, 2 global inflight   ARGV: 1 now|'' 2 reservationId
 */
export const EXPIRE_LUA = `${CLOCK_LUA}
local now = clock(ARGV[1])
local id = ARGV[2]
local deadline = redis.call('ZSCORE', KEYS[2], id)
if not deadline or tonumber(deadline) > now then return 0 end
redis.call('ZREM', KEYS[2], id)
local own = redis.call('ZSCORE', KEYS[1], id)
if own and tonumber(own) <= now then redis.call('ZREM', KEYS[1], id) end
return 1
`;

/**
 * Read-only view for headers and dashboards.
 * KEYS: 1 state, 2 key inflight, 3 global inflight   ARGV: 1 now|''
 * Reply: {now, bucketTokens|'', requestsToday, tokensLastMinute, concurrent, globalConcurrent}
 */
export const USAGE_LUA = `${CLOCK_LUA}
local now = clock(ARGV[1])
local oldest = math.floor(now / 1000) - 59
local fields = {}
local used = 0
local state = redis.call('HGETALL', KEYS[1])
for i = 1, #state, 2 do
  local s = tonumber(state[i])
  if s == nil then fields[state[i]] = state[i + 1] elseif s >= oldest then used = used + tonumber(state[i + 1]) end
end
local bucket = ''
if fields.t and fields.ts and fields.r and fields.c then
  local tokens = tonumber(fields.t)
  if now > tonumber(fields.ts) then tokens = tokens + (now - tonumber(fields.ts)) * tonumber(fields.r) end
  bucket = tostring(math.floor(math.min(tokens, tonumber(fields.c)) + 1e-9))
end
local today = 0
if tonumber(fields.d) == math.floor(now / 86400000) then today = tonumber(fields.n) or 0 end
local concurrent = redis.call('ZCOUNT', KEYS[2], '(' .. int(now), '+inf')
local globalConcurrent = redis.call('ZCOUNT', KEYS[3], '(' .. int(now), '+inf')
return {int(now), bucket, today, used, concurrent, globalConcurrent}
`;
