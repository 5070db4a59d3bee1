-- Take one try at a code, atomically: at most MAX_TRIES comparisons ever happen per code, and
-- only a caller holding the lead's token can take one.
-- KEYS[1] the code's hash (h = HMAC, tries, dead); KEYS[2] the verification's hash (t = the
-- SHA-256 of the token of the lead's first 202). ARGV[1] the most tries a code gets; ARGV[2] the
-- SHA-256 of the token sent. A hash of a 256-bit random token, so comparing it here, not in
-- constant time, tells a caller nothing it could use.
-- Returns {'stranger'}, {'dead'}, {'gone'} or {'try', h, tries}.
if redis.call('HGET', KEYS[2], 't') ~= ARGV[2] then return {'stranger'} end
local v = redis.call('HMGET', KEYS[1], 'h', 'dead')
if v[2] then return {'dead'} end
if not v[1] then return {'gone'} end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
if tries > tonumber(ARGV[1]) then return {'dead'} end
return {'try', v[1], tries}
