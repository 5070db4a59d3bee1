-- GET / with no extra headers (no If-None-Match: every answer is the full page).
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(here .. "common.lua")

function done(summary, latency, requests)
  common.report(summary, latency, requests)
end
