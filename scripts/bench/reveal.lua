-- Read-once: POST /secrets/{key} with the passphrase, each request with a fresh key from
-- BENCH_KEYS_IN (thread i of n takes every n-th line, so no key is asked for twice). When the
-- keys run out the thread records when (exhaustedAfter) and asks for a key that does not exist,
-- so the rate counts only the time the keys lasted.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local keys, n = {}, 0
local body = '{"passphrase":"benchmark passphrase"}'
local headers = { ["Content-Type"] = "application/json" }
local missing = wrk.format("POST", "/secrets/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", headers, body)

function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local i = 0
  for line in io.lines(os.getenv("BENCH_KEYS_IN")) do
    if i % threads == id then table.insert(keys, line) end
    i = i + 1
  end
end

function request()
  if started_at == 0 then started_at = bench_now() end
  n = n + 1
  if n > #keys then
    if exhausted_at == 0 then exhausted_at = bench_now() end
    return missing
  end
  return wrk.format("POST", "/secrets/" .. keys[n], headers, body)
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end
