-- One fixed request, built once by wrk (the cheapest load for the client).
-- Env: BENCH_METHOD (GET), BENCH_BODY, BENCH_CTYPE, BENCH_AUTH (Authorization header value),
--      BENCH_HEADERS (more headers, "Name: value" lines),
--      BENCH_CLOSE=1 (Connection: close: a new TCP connection per request),
--      BENCH_EXPECT=STATUS: count responses by status (parses every response: costs the
--      client a little, so only used where the status itself is the point, e.g. 401).
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then wrk.body = body end
local ctype = os.getenv("BENCH_CTYPE")
if ctype and ctype ~= "" then wrk.headers["Content-Type"] = ctype end
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
common.extra_headers(wrk.headers)
if os.getenv("BENCH_CLOSE") == "1" then wrk.headers["Connection"] = "close" end

local expect = tonumber(os.getenv("BENCH_EXPECT") or "")

setup = common.setup
done = common.done

function init(args)
  if expect then
    ok_count, bad_count, dummy_count, first_us, last_us = 0, 0, 0, 0, 0
  else
    response = nil -- wrk then skips header/body parsing
  end
end

function response(status, headers, body)
  if status == expect then
    ok_count = ok_count + 1
  else
    bad_count = bad_count + 1
    if bad_sample == nil then bad_sample = status .. " " .. body:sub(1, 160) end
  end
end
