-- Rate limit, dedupe and enqueue a submission in one round trip, atomically.
-- KEYS[1] rate-limit sorted set, KEYS[2] dedupe key, KEYS[3] lead stream
-- ARGV[1] limit, ARGV[2] window ms, ARGV[3] request id (a UUIDv7),
-- ARGV[4] 'enqueue' or 'count', ARGV[5] dedupe window s, ARGV[6] Taskiq message
-- Returns {allowed 0|1, requests in window, age of the oldest in ms or -1, first id of a duplicate or ''}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  count = count + 1
  allowed = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local age = -1
if oldest[2] then age = now - tonumber(oldest[2]) end
if allowed == 0 or ARGV[4] ~= 'enqueue' then
  return {allowed, count, age, ''}
end

local dedupe_s = tonumber(ARGV[5])
if dedupe_s > 0 then
  local first = redis.call('GET', KEYS[2])
  if first then
    return {1, count, age, first}
  end
  redis.call('SET', KEYS[2], ARGV[3], 'EX', dedupe_s)
end
redis.call('XADD', KEYS[3], '*', 'data', ARGV[6])
return {1, count, age, ''}
