-- Take one try at a code, atomically: at most MAX_TRIES comparisons ever happen per code.
-- KEYS[1] the code's hash (h = HMAC, tries, dead); ARGV[1] the most tries a code gets.
-- Returns {'dead'}, {'gone'} or {'try', h, tries}.
local v = redis.call('HMGET', KEYS[1], 'h', 'dead')
if v[2] then return {'dead'} end
if not v[1] then return {'gone'} end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
if tries > tonumber(ARGV[1]) then return {'dead'} end
return {'try', v[1], tries}
