-- Count one /admin/ sign-in attempt BEFORE its password is checked, in one atomic step: parallel
-- attempts can no longer all read "under the limit" before any of them is counted.
-- KEYS: 1 failures of (name, address bucket), 2 failures of the bucket for any names,
--       3 failures of the name from any address (the much higher ceiling),
--       4 attempts being checked for the name, 5 attempts being checked from the bucket.
-- ARGV: 1 now (s), 2 window (s), 3 this attempt's member, 4 limit per pair and per bucket,
--       5 ceiling per name, 6 most attempts checked at once per name and per bucket,
--       7 seconds after which an attempt no longer counts as being checked (its process died).
-- Returns {1, 0}: counted, check the password, then give the attempt back or keep it;
--         {0, wait}: refused without a check, try again in `wait` seconds.
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local member, limit, ceiling = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local most, flight = tonumber(ARGV[6]), tonumber(ARGV[7])
for i = 1, 3 do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window) end
for i = 4, 5 do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - flight) end

-- Seconds until `key` holds fewer than `allowed` entries (0: it does now).
local function wait(key, allowed)
  local count = redis.call('ZCARD', key)
  if count < allowed then return 0 end
  local entry = redis.call('ZRANGE', key, count - allowed, count - allowed, 'WITHSCORES')
  return math.max(1, math.ceil(tonumber(entry[2]) + window - now))
end

local function add(key, ttl)
  redis.call('ZADD', key, now, member)
  redis.call('EXPIRE', key, ttl)
end

local longest = math.max(wait(KEYS[1], limit), wait(KEYS[2], limit), wait(KEYS[3], ceiling))
if longest > 0 then return {0, longest} end
if redis.call('ZCARD', KEYS[5]) >= most then
  -- A person signs in once at a time: parallel attempts from one address are guessing, and
  -- each one refused here still spends that address's budget (never the name's ceiling).
  add(KEYS[1], window)
  add(KEYS[2], window)
  return {0, 1}
end
if redis.call('ZCARD', KEYS[4]) >= most then
  return {0, 1}  -- other addresses' attempts for this name: not this address's failure
end
for i = 1, 3 do add(KEYS[i], window) end
add(KEYS[4], flight)
add(KEYS[5], flight)
return {1, 0}
