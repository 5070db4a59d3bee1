-- GET / from a browser whose visit leadcap already counted this hour (its cookie, set on the
-- first view): through nginx, the edge answers it from LEADCAP_EDGE_DIR's file.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(here .. "common.lua")

wrk.headers["Cookie"] = "leadcap_visited=1"

function done(summary, latency, requests)
  common.report(summary, latency, requests)
end
