-- One-time credentials (authorization codes): each request spends the next line of
-- BENCH_POOL_FILE (this thread's share). When the share is spent the thread stops, and the rate
-- is taken over the time the pool lasted (first request to last good response), not wrk's -d.
-- Env: BENCH_POOL_FILE, BENCH_BODY_TEMPLATE (with {item}, url-encoded into it), BENCH_AUTH,
--      BENCH_THREADS, BENCH_PATH (/oauth2/token), BENCH_EXPECT (200).
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

setup = common.setup
done = common.done

local path = os.getenv("BENCH_PATH") or "/oauth2/token"
local template = os.getenv("BENCH_BODY_TEMPLATE") or "{item}"
local expect = tonumber(os.getenv("BENCH_EXPECT") or "200")
local headers = {
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["Authorization"] = os.getenv("BENCH_AUTH"),
}
local items, next_item, stopping = {}, 1, false

function init(args)
  ok_count, bad_count, dummy_count, first_us, last_us = 0, 0, 0, 0, 0
  local n, i = common.nthreads(), 0
  for line in io.lines(os.getenv("BENCH_POOL_FILE")) do
    if line ~= "" then
      if i % n == thread_id then table.insert(items, line) end
      i = i + 1
    end
  end
end

local function body_for(item)
  return (template:gsub("{item}", function() return common.urlencode(item) end))
end

local calls = 0

function request()
  if thread_id == nil then return wrk.format("POST", path, headers, body_for("x")) end
  -- wrk (4.1.0) checks the script by building one request in thread 0's environment, before
  -- any connection exists, and never sends it: that call must not spend an item.
  calls = calls + 1
  if calls == 1 and thread_id == 0 then
    return wrk.format("POST", path, headers, "grant_type=unsent")
  end
  if first_us == 0 then first_us = common.now_us() end
  local item = items[next_item]
  if item == nil then
    dummy_count = dummy_count + 1
    if not stopping then
      stopping = true
      wrk.thread:stop()
    end
    item = "spent"
  end
  next_item = next_item + 1
  return wrk.format("POST", path, headers, body_for(item))
end

function response(status, headers, body)
  if status == expect then
    ok_count = ok_count + 1
    last_us = common.now_us()
  else
    bad_count = bad_count + 1
    if bad_sample == nil then bad_sample = status .. " " .. body:sub(1, 160) end
  end
end
