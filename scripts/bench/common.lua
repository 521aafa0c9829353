-- Shared by the wrk scripts of `npm run bench`: a monotonic clock and per-thread counters
-- that done() sums and prints as one line "BENCH {json}" for scripts/bench/wrk.mjs.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
function bench_now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

ok, other, exhausted_at, started_at = 0, 0, 0, 0

function done(summary, latency, requests)
  local sum_ok, sum_other, first, last_exhausted = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    sum_ok = sum_ok + t:get("ok")
    sum_other = sum_other + t:get("other")
    local s, e = t:get("started_at"), t:get("exhausted_at")
    if s > 0 and (first == 0 or s < first) then first = s end
    if e > last_exhausted then last_exhausted = e end
  end
  local exhausted_after = 0
  if last_exhausted > 0 then exhausted_after = last_exhausted - first end
  io.write(string.format('BENCH {"ok":%d,"other":%d,"exhaustedAfter":%.6f,"p50":%.1f,"p99":%.1f}\n',
    sum_ok, sum_other, exhausted_after, latency:percentile(50), latency:percentile(99)))
end
