-- Authorization requests from a signed-in browser: GET /oauth2/code?... with the SSO session
-- cookie, each answered by a 302 whose Location carries a new authorization code (a store
-- write). Every code goes to BENCH_OUT_PREFIX.<thread>, for pool.lua to redeem afterwards.
-- Env: BENCH_COOKIE, BENCH_OUT_PREFIX, BENCH_EXPECT (302).
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

setup = common.setup
done = common.done

wrk.method = "GET"
wrk.headers["Accept"] = "text/html"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
local expect = tonumber(os.getenv("BENCH_EXPECT") or "302")
local out

function init(args)
  ok_count, bad_count, dummy_count, first_us, last_us = 0, 0, 0, 0, 0
  out = assert(io.open(os.getenv("BENCH_OUT_PREFIX") .. "." .. thread_id, "w"))
  -- wrk never closes a thread's state, so nothing may wait in a buffer when the run ends.
  out:setvbuf("line")
end

function response(status, headers, body)
  if first_us == 0 then first_us = common.now_us() end
  local code = status == expect and (headers["Location"] or headers["location"] or "")
                 :match("[?&]code=([^&]+)")
  if code then
    ok_count = ok_count + 1
    last_us = common.now_us()
    out:write(code, "\n")
  else
    bad_count = bad_count + 1
    if bad_sample == nil then bad_sample = status .. " " .. body:sub(1, 160) end
  end
end
