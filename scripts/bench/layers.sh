#!/usr/bin/env bash
# Where the HTTP path's time goes, layer by layer: requests/s on one pinned core (CPU 0; wrk
# -t1 -c32 on CPU 1) for a bare hyper-express route, GET /limits through the whole pipeline, a
# create with a malformed body (read, parsed, refused), and a create on the memory store and on
# SQLite. Insecure-test KDF, access log on (stdout to a reader on CPU 1). Run after `npm run build`:
#   scripts/bench/layers.sh        (SECS=3 per phase, ENGINE=hyper-express or node)
set -euo pipefail
cd "$(dirname "$0")/../.."
CLI=packages/server/dist/cli.js
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
cat > "$D/post.lua" <<'L'
wrk.method = "POST"; wrk.headers["Content-Type"] = "application/json"; wrk.body = os.getenv("BODY")
L
rate() { taskset -c 1 wrk -t1 -c32 -d"${SECS:-3}"s "$@" | awk '/Requests\/sec/{print $2}'; }
port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

taskset -c 0 node scripts/hello-server.mjs hyper-express > "$D/hello.out" & HP=$!
sleep 1
HPORT=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0]).port)' "$D/hello.out")
echo "bare hyper-express route:        $(BODY='{}' rate -s "$D/post.lua" "http://127.0.0.1:$HPORT/hello")/s"
kill $HP; wait $HP 2>/dev/null || true

for store in memory sqlite; do
  P=$(port)
  env PORT="$P" HOST=127.0.0.1 VANISH_ENGINE="${ENGINE:-hyper-express}" LOG_LEVEL=info VANISH_KDF=insecure-test \
    VANISH_ALLOW_INSECURE_KDF=true VANISH_KDF_QUEUE=100000 VANISH_RATE_LIMIT=0 VANISH_STORE=$store \
    VANISH_SQLITE_PATH="$D/s.db" taskset -c 0 node $CLI serve 2>/dev/null > >(taskset -c 1 cat > /dev/null) & SP=$!
  sleep 1.5
  if [ $store = memory ]; then
    echo "GET /limits (whole pipeline):    $(rate "http://127.0.0.1:$P/limits")/s"
    echo "create, malformed body (400):    $(BODY='{"secret":' rate -s "$D/post.lua" "http://127.0.0.1:$P/generate")/s"
  fi
  echo "create, $store store:            $(BODY='{"secret":"benchmark secret value","passphrase":"benchmark passphrase"}' rate -s "$D/post.lua" "http://127.0.0.1:$P/generate")/s"
  kill $SP; wait $SP 2>/dev/null || true
done
