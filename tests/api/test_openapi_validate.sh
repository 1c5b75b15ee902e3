#!/usr/bin/env bash
# Validates src/native/openapi.json with an OpenAPI 3.1 validator from npm (tests/openapi) and,
# when DEPOT_BIN names a built server, runs a scenario through every operation of a fresh
# server and checks each answer against the document. Skips (exit 0) without node and npm.
#
#   tests/api/test_openapi_validate.sh               # the document only
#   DEPOT_BIN=build/depot tests/api/test_openapi_validate.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$root/tests/openapi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "openapi: skipped (node and npm are needed)"
  exit 0
fi
if [ ! -d "$dir/node_modules/@seriousme/openapi-schema-validator" ]; then
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
fi

bin=${DEPOT_BIN:-}
if [ -z "$bin" ]; then
  exec node "$dir/validate.mjs" "$root/src/native/openapi.json"
fi

tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --listen "127.0.0.1:$port" --data "$tmp/data" --base-url "http://127.0.0.1:$port" \
  --argon2-ops 1 --argon2-mem 8192 2>"$tmp/stderr" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
if ! node "$dir/validate.mjs" "$root/src/native/openapi.json" --url "http://127.0.0.1:$port"; then
  echo "---- server stderr (last 30 lines):"
  tail -n 30 "$tmp/stderr"
  exit 1
fi
