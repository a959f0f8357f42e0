-- Refresh-token rotation (RFC 6749 §6; the old token dies at each use): every response carries
-- the next refresh token, which the next request on this thread uses. Each thread starts with
-- its share of BENCH_POOL_FILE (one refresh token per line, at least one per connection), and
-- holds a queue of live tokens: a connection has at most one request in flight, so the queue
-- never runs dry unless a request fails.
-- Env: BENCH_POOL_FILE, BENCH_AUTH (client Basic), BENCH_THREADS, BENCH_PATH (/oauth2/token).
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

setup = common.setup
done = common.done

local path = os.getenv("BENCH_PATH") or "/oauth2/token"
local headers = {
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["Authorization"] = os.getenv("BENCH_AUTH"),
}
local queue, head, tail = {}, 1, 0

function init(args)
  ok_count, bad_count, dummy_count, first_us, last_us = 0, 0, 0, 0, 0
  local n, i = common.nthreads(), 0
  for line in io.lines(os.getenv("BENCH_POOL_FILE")) do
    if line ~= "" then
      if i % n == thread_id then
        tail = tail + 1
        queue[tail] = line
      end
      i = i + 1
    end
  end
end

local calls = 0

function request()
  if thread_id == nil then -- wrk's own check of the script, outside any thread
    return wrk.format("POST", path, headers, "grant_type=refresh_token&refresh_token=x")
  end
  -- wrk (4.1.0) checks the script by building one request in thread 0's environment, before
  -- any connection exists, and never sends it: that call must not spend an item.
  calls = calls + 1
  if calls == 1 and thread_id == 0 then
    return wrk.format("POST", path, headers, "grant_type=unsent")
  end
  if first_us == 0 then first_us = common.now_us() end
  local token = "exhausted"
  if head <= tail then
    token = queue[head]
    queue[head] = nil
    head = head + 1
  else
    dummy_count = dummy_count + 1
  end
  return wrk.format("POST", path, headers,
    "grant_type=refresh_token&refresh_token=" .. common.urlencode(token))
end

function response(status, headers, body)
  if status == 200 then
    local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if token then
      ok_count = ok_count + 1
      last_us = common.now_us()
      tail = tail + 1
      queue[tail] = token
      return
    end
  end
  bad_count = bad_count + 1
  if bad_sample == nil then bad_sample = status .. " " .. body:sub(1, 160) end
end
