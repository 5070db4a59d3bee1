-- Rate limit, dedupe and enqueue a submission in one round trip, atomically.
-- KEYS[1] dedupe key, KEYS[2] lead stream, KEYS[3..] one rate-limit sorted set per window
-- (the first is the one the RateLimit-* headers report; none when another shard counted them).
-- ARGV[1] request id (a UUIDv7), ARGV[2] 'enqueue' or 'count', ARGV[3] dedupe window s,
-- ARGV[4] Taskiq message, then per window: ARGV[3 + 2i] limit, ARGV[4 + 2i] window ms (i = 1..).
-- A request is counted in every window or (refused by one that is full) in none.
-- Returns {allowed 0|1, requests in the first window, age of its oldest in ms or -1,
--          first id of a duplicate or '', the refusing window's index or 0, its oldest's age in ms}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local windows = #KEYS - 2

local function oldest_age(key)
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if oldest[2] then return now - tonumber(oldest[2]) end
  return -1
end

local refused = 0
for i = 1, windows do
  local key = KEYS[2 + i]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ARGV[4 + 2 * i]))
  if refused == 0 and redis.call('ZCARD', key) >= tonumber(ARGV[3 + 2 * i]) then
    refused = i
  end
end
if refused == 0 then
  for i = 1, windows do
    redis.call('ZADD', KEYS[2 + i], now, ARGV[1])
    redis.call('PEXPIRE', KEYS[2 + i], tonumber(ARGV[4 + 2 * i]))
  end
end
local count, age = 0, -1
if windows > 0 then
  count = redis.call('ZCARD', KEYS[3])
  age = oldest_age(KEYS[3])
end
if refused > 0 then
  return {0, count, age, '', refused, oldest_age(KEYS[2 + refused])}
end
if ARGV[2] ~= 'enqueue' then
  return {1, count, age, '', 0, -1}
end

local dedupe_s = tonumber(ARGV[3])
if dedupe_s > 0 then
  local first = redis.call('GET', KEYS[1])
  if first then
    return {1, count, age, first, 0, -1}
  end
  redis.call('SET', KEYS[1], ARGV[1], 'EX', dedupe_s)
end
redis.call('XADD', KEYS[2], '*', 'data', ARGV[4])
return {1, count, age, '', 0, -1}
