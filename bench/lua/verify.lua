-- POST /api/leads/{id}/verify with real codes, each pair once.
--
-- wrk ... -s verify.lua <url> -- PAIRS_FILE THREADS
--   PAIRS_FILE  lines "<id> <code> <token>" (the token of the lead's first 202); thread t of
--               THREADS takes lines t+1, t+1+THREADS, ...;
--               a thread stops when its share is sent.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(here .. "common.lua")

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

local pairs_, next_
local headers = {["Content-Type"] = "application/json"}

function init(args)
  pairs_ = {}
  local n, i = tonumber(args[2] or "1"), 0
  for line in io.lines(args[1]) do
    if i % n == thread_index then
      local id, code, token = line:match("^(%S+) (%d+) ([%w_-]+)$")
      table.insert(pairs_, {id, code, token})
    end
    i = i + 1
  end
  next_ = 0
end

function request()
  next_ = next_ + 1
  local pair = pairs_[next_]
  if pair == nil then
    wrk.thread:stop()
    pair = pairs_[#pairs_]
  end
  local body = '{"code":"' .. pair[2] .. '","token":"' .. pair[3] .. '"}'
  return wrk.format("POST", "/api/leads/" .. pair[1] .. "/verify", headers, body)
end

function done(summary, latency, requests)
  common.report(summary, latency, requests)
end
