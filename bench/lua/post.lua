-- POST /api/leads/ with a distinct, valid Iranian mobile number on every request.
--
-- wrk ... -s post.lua <url> -- START LIMIT
--   START     where the per-thread counters begin (the harness picks a random start per
--             invocation, so the numbers never repeat inside one dedupe window)
--   LIMIT     stop this thread after LIMIT requests (0: run for the whole duration)
-- BENCH_COOKIE (environment): see below.
-- BENCH_ADDRS (environment): "host:port,host:port,...": thread t sends to address t mod n (wrk
--   resolves the URL's host once; this spreads the threads over several servers, as a load
--   balancer would). Unset or empty: every thread sends to the URL's address.
-- BENCH_DELAY_MS (environment): wait this long before each request on a connection; with C
--   connections that paces the run to about C * 1000 / (BENCH_DELAY_MS + latency) req/s.
--   Unset or 0: as fast as possible (wrk only pays for delay() when the script defines it).
--
-- Thread t uses prefix PREFIXES[t] and numbers PREFIX .. (START + i) for i = 0, 1, 2, ...
-- (7 digits), so two threads never send the same number and each has 10^7 numbers.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(here .. "common.lua")

local PREFIXES = {"0912", "0935", "0919", "0901", "0910", "0915", "0930", "0933", "0939", "0921"}
local threads = {}
local addrs = {}
for host, port in (os.getenv("BENCH_ADDRS") or ""):gmatch("([^,:]+):(%d+)") do
  table.insert(addrs, wrk.lookup(host, port)[1])
end

function setup(thread)
  thread:set("thread_index", #threads)
  if #addrs > 0 then
    thread.addr = addrs[(#threads % #addrs) + 1]
  end
  table.insert(threads, thread)
end

local prefix, counter, limit, sent
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0") or 0
local headers = {["Content-Type"] = "application/json"}
-- BENCH_COOKIE (environment): a Cookie header for every request, e.g. a visitor cookie
-- (`leadcap_v=...`, minted with the LEADCAP_VISITOR_KEY given by --set), so the POSTs are counted
-- as a visitor's (two windows) rather than an address's.
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then
  headers["Cookie"] = cookie
end

function init(args)
  local start = tonumber(args[1] or "0")
  limit = tonumber(args[2] or "0")
  prefix = PREFIXES[(thread_index % #PREFIXES) + 1]
  counter = start % 10000000
  sent = 0
end

function request()
  sent = sent + 1
  if limit > 0 and sent > limit then
    wrk.thread:stop()
  end
  counter = (counter + 1) % 10000000
  local body = string.format(
    '{"phone":"%s%07d","source":"bench","utm":{"source":"wrk","medium":"cpc","campaign":"bench"}}',
    prefix, counter)
  return wrk.format("POST", "/api/leads/", headers, body)
end

if pause > 0 then
  function delay()
    return pause
  end
end

function done(summary, latency, requests)
  common.report(summary, latency, requests)
end
