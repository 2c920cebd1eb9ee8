#!/usr/bin/env bash
# Profiles the server's CPU under load: starts `gatehouse serve --pprof` on a fresh SQLite data
# directory (or on PostgreSQL with DATABASE=postgres://...), drives one operation with
# `gatehouse bench`, takes a CPU profile of the server meanwhile from its admin listener, and
# prints the top functions (flat and cumulative) with the server's CPU per request.
#
# Settings from the environment:
#   OP           the operation (default GetUser; any of `gatehouse bench --ops`)
#   SECONDS_     profiled seconds (default 10); the load runs 2 s longer on each side
#   CONCURRENCY  clients (default 32)
#   DATABASE     a postgres:// URL to serve from instead of SQLite
#   OUT          where to keep the profile (default: a temporary directory, printed)
#   FLAGS        more flags for `gatehouse serve`, e.g. FLAGS=--audit
set -euo pipefail
cd "$(dirname "$0")/.."

op=${OP:-GetUser}
seconds=${SECONDS_:-10}
concurrency=${CONCURRENCY:-32}
key=AKIAGATEHOUSEPROFILE
secret=gatehouseProfileSecret0123456789abcdefgh
work=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-profile.XXXXXX")}
mkdir -p "$work"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
port=$(free_port)
admin=$(free_port)

go build -o "$work/gatehouse" ./cmd/gatehouse
db_args=()
if [ -n "${DATABASE:-}" ]; then
  db_args=(--database "$DATABASE")
  export GATEHOUSE_MASTER_KEY=${GATEHOUSE_MASTER_KEY:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
fi
GATEHOUSE_ACCOUNT_ID=123456789012 GATEHOUSE_ROOT_ACCESS_KEY_ID=$key GATEHOUSE_ROOT_SECRET_ACCESS_KEY=$secret \
  "$work/gatehouse" serve --listen "127.0.0.1:$port" --admin-listen "127.0.0.1:$admin" --pprof \
  --data-dir "$work/data" --log-level warn "${db_args[@]}" ${FLAGS:-} >"$work/server.out" 2>"$work/server.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$admin/readyz" >/dev/null && break
  sleep 0.1
done

"$work/gatehouse" bench --endpoint "http://127.0.0.1:$port" --access-key-id "$key" --secret-access-key "$secret" \
  --ops "$op" --concurrency "$concurrency" --warmup 2s --duration "$((seconds + 2))s" --output json >"$work/bench.json" 2>"$work/bench.log" &
bench=$!
sleep 2
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
before=$(cpu)
curl -sf -o "$work/cpu.pprof" "http://127.0.0.1:$admin/debug/pprof/profile?seconds=$seconds"
after=$(cpu)
wait "$bench"

rps=$(jq -r '.results[0].rps' "$work/bench.json")
echo "$op: $(jq -r '.results[0] | "\(.rps | round) req/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, \(.errors) errors"' "$work/bench.json")"
awk -v b="$before" -v a="$after" -v t="$ticks" -v s="$seconds" -v r="$rps" \
  'BEGIN { printf "server CPU: %.0f µs per request over the profiled %d s\n", (a - b) / t / (r * s) * 1e6, s }'
echo "profile: $work/cpu.pprof (go tool pprof -http=: $work/gatehouse $work/cpu.pprof)"
echo
echo "== top by flat time"
go tool pprof -top -nodecount 25 "$work/gatehouse" "$work/cpu.pprof" 2>/dev/null | sed -n '1,32p'
echo
echo "== top by cumulative time"
go tool pprof -top -cum -nodecount 25 "$work/gatehouse" "$work/cpu.pprof" 2>/dev/null | sed -n '6,32p'
