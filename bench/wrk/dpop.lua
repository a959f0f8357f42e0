-- One-time header values (DPoP proofs, RFC 9449: each jti is accepted once): each request
-- carries the next line of BENCH_POOL_FILE (this thread's share) in the header BENCH_POOL_HEADER;
-- with BENCH_POOL_HEADER empty the line is only counted, which makes the plain counterpart of a
-- DPoP run: the same requests, the same counting, the same stop. When the share is spent the
-- thread stops, and the rate is taken over the time the pool lasted (first request to last good
-- response), not wrk's -d.
-- Env: BENCH_POOL_FILE, BENCH_POOL_HEADER (DPoP), BENCH_METHOD (GET), BENCH_PATH (/),
--      BENCH_BODY, BENCH_CTYPE, BENCH_AUTH, BENCH_HEADERS ("Name: value" lines),
--      BENCH_EXPECT (200), BENCH_THREADS.
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

setup = common.setup
done = common.done

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body = os.getenv("BENCH_BODY")
if body == "" then body = nil end
local pool_header = os.getenv("BENCH_POOL_HEADER") or "DPoP"
local expect = tonumber(os.getenv("BENCH_EXPECT") or "200")
local headers = {}
local ctype = os.getenv("BENCH_CTYPE")
if ctype and ctype ~= "" then headers["Content-Type"] = ctype end
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then headers["Authorization"] = auth end
common.extra_headers(headers)

local items, next_item, stopping, sent, answered = {}, 1, false, 0, 0

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

local calls = 0

function request()
  if thread_id == nil then return wrk.format(method, path, headers, body) end
  -- wrk (4.1.0) checks the script by building one request in thread 0's environment, before
  -- any connection exists, and never sends it: that call must not spend an item.
  calls = calls + 1
  if calls == 1 and thread_id == 0 then return wrk.format(method, path, headers, body) end
  if first_us == 0 then first_us = common.now_us() end
  local item = items[next_item]
  next_item = next_item + 1
  if item == nil then
    if not stopping then
      stopping = true
      wrk.thread:stop()
    end
    -- Sent after the pool ran dry: without the header (a DPoP run refuses it, a plain run does
    -- not), and its answer is not counted either way.
    if pool_header ~= "" then headers[pool_header] = nil end
    return wrk.format(method, path, headers, body)
  end
  sent = sent + 1
  if pool_header ~= "" then headers[pool_header] = item end
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  -- One request in flight per connection: the first `sent` answers are the pooled requests'.
  answered = answered + 1
  if answered > sent then
    bad_count = bad_count + 1  -- common.done reports bad - dummy as unexpected
    dummy_count = dummy_count + 1
    return
  end
  if status == expect then
    ok_count = ok_count + 1
    last_us = common.now_us()
  else
    bad_count = bad_count + 1
    if bad_sample == nil then bad_sample = status .. " " .. body:sub(1, 160) end
  end
end
