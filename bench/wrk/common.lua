-- Shared by the bench/wrk scripts: thread bookkeeping, a monotonic clock and the JSON summary
-- line that bench/bench.py parses ("BENCHJSON {...}" on stdout).
--
-- Each script keeps these globals in its thread environment, read back in done():
--   ok_count     responses with the expected status (BENCH_EXPECT, default 200)
--   bad_count    responses with another status
--   first_us     monotonic time of the thread's first request
--   last_us      monotonic time of the thread's last expected response
--   dummy_count  requests sent after a one-time pool ran dry (not counted as errors)
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")

local M = {}

function M.now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

function M.urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- Threads seen by setup(), for done().
M.threads = {}

function M.setup(thread)
  local id = #M.threads
  thread:set("thread_id", id)
  table.insert(M.threads, thread)
end

function M.nthreads()
  return tonumber(os.getenv("BENCH_THREADS") or "1")
end

-- BENCH_HEADERS: extra request headers, "Name: value" lines separated by newlines; added to `t`.
function M.extra_headers(t)
  for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then t[name] = value end
  end
  return t
end

local function num(v) return tonumber(v) or 0 end

-- done(): one JSON line with wrk's own figures plus what the scripts counted.
function M.done(summary, latency, requests)
  local ok, bad, dummy, first, last, counted, sample = 0, 0, 0, nil, nil, false, nil
  for _, t in ipairs(M.threads) do
    local o = t:get("ok_count")
    if o ~= nil then
      counted = true
      ok = ok + num(o)
      bad = bad + num(t:get("bad_count"))
      dummy = dummy + num(t:get("dummy_count"))
      sample = sample or t:get("bad_sample")
      local f, l = t:get("first_us"), t:get("last_us")
      if f and f > 0 and (first == nil or f < first) then first = f end
      if l and l > 0 and (last == nil or l > last) then last = l end
    end
  end
  local e = summary.errors
  local parts = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d',
      e.connect, e.read, e.write, e.status, e.timeout),
    string.format('"lat_mean_us":%.1f,"lat_max_us":%d', latency.mean, latency.max),
    string.format('"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d',
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9)),
  }
  if counted then
    -- Requests sent after a pool ran dry fail by design: they are not errors of the server.
    local unexpected = bad - dummy
    if unexpected < 0 then unexpected = 0 end
    table.insert(parts, string.format('"ok":%d,"unexpected":%d,"dummy":%d', ok, unexpected, dummy))
    if sample then
      table.insert(parts, '"bad_sample":"' .. sample:gsub('[%c"\\]', "?") .. '"')
    end
    if first and last and last > first then
      table.insert(parts, string.format('"elapsed_us":%d', last - first))
    end
  end
  io.write("BENCHJSON {" .. table.concat(parts, ",") .. "}\n")
end

return M
