#!/usr/bin/env bash
# Verifies the Docker image and docker-compose.yml where a Docker engine runs (none runs on the
# machines vanish is built on): for each backend, bring the stack up, wait for health, create a
# secret, read it once, check the second read is a 404, tear the stack down with its volumes.
#   bash scripts/compose-smoke.sh            # mongodb, redis, sqlite
#   bash scripts/compose-smoke.sh redis      # one of them
set -euo pipefail
cd "$(dirname "$0")/.."
stores=("${@:-mongodb redis sqlite}")
read -r -a stores <<<"${stores[*]}"
url=http://127.0.0.1:8000
failed=0
for store in "${stores[@]}"; do
  echo "== VANISH_STORE=$store"
  export VANISH_STORE=$store COMPOSE_PROJECT_NAME="vanish-smoke-$store"
  if ! docker compose up -d --build --wait --wait-timeout 180; then
    echo "FAIL $store: the stack did not become healthy"; docker compose logs --tail 50; failed=1
    docker compose down -v; continue
  fi
  key=$(curl -fsS -X POST "$url/generate" -H 'content-type: application/json' \
    -d '{"secret":"compose smoke","passphrase":"smoke test passphrase"}' | sed -E 's/.*"secret_key":"([^"]+)".*/\1/')
  first=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$url/secrets/$key" -H 'content-type: application/json' -d '{"passphrase":"smoke test passphrase"}')
  second=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$url/secrets/$key" -H 'content-type: application/json' -d '{"passphrase":"smoke test passphrase"}')
  ready=$(curl -sS -o /dev/null -w '%{http_code}' "$url/readyz")
  if [ "$first" = 200 ] && [ "$second" = 404 ] && [ "$ready" = 200 ]; then
    echo "ok $store: first read 200, second 404, readyz 200"
  else
    echo "FAIL $store: first read $first, second $second, readyz $ready"; docker compose logs --tail 50; failed=1
  fi
  docker compose down -v
done
exit $failed
