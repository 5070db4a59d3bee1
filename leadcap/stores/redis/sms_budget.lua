-- Spend one SMS from every budget, or from none: sliding windows over sorted sets.
-- KEYS[i] a budget's sorted set; ARGV[1] a unique member for this send;
-- ARGV[2i], ARGV[2i+1] budget i's limit and window in ms.
-- Returns {1, 0, left in the last budget} when spent, {0, i, 0} when budget i has nothing left.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  if redis.call('ZCARD', KEYS[i]) >= limit then
    return {0, i, 0}
  end
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 * i + 1]))
end
local last = #KEYS
return {1, 0, tonumber(ARGV[2 * last]) - redis.call('ZCARD', KEYS[last])}
