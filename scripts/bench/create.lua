-- POST /generate at the insecure or default KDF. With BENCH_KEYS_OUT set, every created
-- secret_key is appended to that file (thread i writes BENCH_KEYS_OUT.i) for read-once.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.method = "POST"
wrk.path = "/generate"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"secret":"benchmark secret value","passphrase":"benchmark passphrase"}'

local out
function init(args)
  local path = os.getenv("BENCH_KEYS_OUT")
  if path and path ~= "" then out = io.open(path .. "." .. id, "w") end
end

function response(status, headers, body)
  if started_at == 0 then started_at = bench_now() end
  if status == 201 then
    ok = ok + 1
    if out then
      local key = body:match('"secret_key":"([^"]+)"')
      if key then out:write(key, "\n") end
    end
  else
    other = other + 1
  end
end
