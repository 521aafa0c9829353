-- The baseline: POST /hello with a small JSON body.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.method = "POST"
wrk.path = "/hello"
wrk.headers["Content-Type"] = "application/json"
wrk.body = "{}"
function response(status, headers, body)
  if started_at == 0 then started_at = bench_now() end
  if status == 200 then ok = ok + 1 else other = other + 1 end
end
