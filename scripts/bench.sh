#!/usr/bin/env bash
# Measures Gatehouse against moto_server with the same load generator in the same run.
#
# It builds gatehouse, starts `gatehouse serve` twice on fresh data directories and free
# loopback ports with known root credentials (once with --log-level warn, once with the default
# info level to show what a log line per request costs; logs go to a file), starts moto_server,
# waits for all three, runs `gatehouse bench` against each in turn (never two at once: they
# share the machine), prints each table, the ratio of req/s per operation and the project's
# targets, and stops the servers.
#
# Settings from the environment:
#   CONCURRENCY  clients per operation (default 32)
#   DURATION     measured time per operation (default 10s)
#   WARMUP       unmeasured time before each operation (default 1s)
#   OPS          operations, comma-separated (default GetUser,CreateUser,ListUsers,GetCallerIdentity)
#   SKIP_INFO=1  leave out the run at the info log level
#   SKIP_MOTO=1  leave out moto_server
#   KEEP=1       keep the work directory (data, logs, JSON reports) and print its path
set -euo pipefail
cd "$(dirname "$0")/.."

concurrency=${CONCURRENCY:-32}
duration=${DURATION:-10s}
warmup=${WARMUP:-1s}
ops=${OPS:-GetUser,CreateUser,ListUsers,GetCallerIdentity}

for tool in go jq python3; do
  command -v "$tool" >/dev/null || { echo "bench.sh needs $tool" >&2; exit 1; }
done
if [ "${SKIP_MOTO:-}" != 1 ] && ! command -v moto_server >/dev/null; then
  echo "bench.sh needs moto_server (pip install 'moto[server]'), or SKIP_MOTO=1" >&2
  exit 1
fi

# The same credentials sign every request; moto accepts any.
account=123456789012
key=AKIAGATEHOUSEBENCH01
secret=gatehouseBenchSecret0123456789abcdefghij

work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${KEEP:-}" = 1 ]; then
    echo "work directory kept: $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_http NAME URL PID waits until URL answers HTTP at all (any status).
wait_http() {
  local name=$1 url=$2 pid=$3
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited before answering; its log:" >&2
      cat "$work/$name.log" >&2
      exit 1
    fi
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/")" != 000 ]; then
      return
    fi
    sleep 0.1
  done
  echo "$name did not answer on $url within 30s" >&2
  exit 1
}

# start_gatehouse NAME [LOG-LEVEL] starts a server and sets url_NAME.
start_gatehouse() {
  local name=$1 level=${2:-} port
  port=$(free_port)
  GATEHOUSE_ACCOUNT_ID=$account GATEHOUSE_ROOT_ACCESS_KEY_ID=$key GATEHOUSE_ROOT_SECRET_ACCESS_KEY=$secret \
    "$work/gatehouse" serve --listen "127.0.0.1:$port" --admin-listen 127.0.0.1:0 --data-dir "$work/$name-data" ${level:+--log-level "$level"} \
    >"$work/$name.stdout" 2>"$work/$name.log" &
  pids+=($!)
  printf -v "url_$name" 'http://127.0.0.1:%s' "$port"
}

start_moto() {
  local port
  port=$(free_port)
  moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  pids+=($!)
  url_moto="http://127.0.0.1:$port"
}

echo "building gatehouse"
go build -o "$work/gatehouse" ./cmd/gatehouse

targets=(gatehouse)
start_gatehouse gatehouse warn
if [ "${SKIP_INFO:-}" != 1 ]; then
  start_gatehouse gatehouse_info
  targets+=(gatehouse_info)
fi
if [ "${SKIP_MOTO:-}" != 1 ]; then
  start_moto
  targets+=(moto)
fi
i=0
for name in "${targets[@]}"; do
  url_var="url_$name"
  wait_http "$name" "${!url_var}" "${pids[$i]}"
  i=$((i + 1))
done

# describe NAME says what a target is in the tables.
describe() {
  case $1 in
  gatehouse) echo "gatehouse (--log-level warn)" ;;
  gatehouse_info) echo "gatehouse (default log level info, JSON log line per request to a file)" ;;
  moto) echo "moto_server $(python3 -c 'import moto; print(moto.__version__)' 2>/dev/null)" ;;
  esac
}

echo "machine: $(nproc) cores; the load generator runs on the same cores as the server"
echo "settings: concurrency $concurrency, $duration per operation after $warmup warm-up, ops $ops"
failed=0
for name in "${targets[@]}"; do
  url_var="url_$name"
  echo
  echo "== $(describe "$name") at ${!url_var}; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  if ! "$work/gatehouse" bench --endpoint "${!url_var}" --access-key-id "$key" --secret-access-key "$secret" \
    --concurrency "$concurrency" --duration "$duration" --warmup "$warmup" --ops "$ops" \
    --output json >"$work/$name.json" 2>"$work/$name.bench.log"; then
    failed=1
    grep -v 'level=INFO' "$work/$name.bench.log" >&2 || true
  fi
  if [ ! -s "$work/$name.json" ]; then
    echo "no report from the run against $name" >&2
    continue
  fi
  jq -r '
    (["op", "conc", "requests", "errors", "req/s", "p50 ms", "p99 ms", "max ms"] | @tsv),
    (.results[] | [.op, .concurrency, .requests, .errors, (.rps * 10 | round / 10),
      (.p50_ms * 100 | round / 100), (.p99_ms * 100 | round / 100), (.max_ms * 100 | round / 100)] | @tsv)' \
    "$work/$name.json" | column -t -s $'\t'
  jq -r '"users created: \(.users_created)", (.results[] | select(.first_error) | "first error of \(.op): \(.first_error | gsub("\\s+"; " ") | .[0:300])")' "$work/$name.json"
done

# ratios: req/s of each gatehouse run over moto's, per operation.
if [ -s "$work/moto.json" ]; then
  echo
  echo "== req/s ratio over moto_server"
  {
    printf 'op'
    for name in "${targets[@]}"; do [ "$name" != moto ] && printf '\t%s/moto' "$name"; done
    printf '\n'
    for op in ${ops//,/ }; do
      printf '%s' "$op"
      for name in "${targets[@]}"; do
        [ "$name" = moto ] && continue
        jq -rn --arg op "$op" --slurpfile g "$work/$name.json" --slurpfile m "$work/moto.json" '
          ($g[0].results[] | select(.op == $op) | .rps) as $a |
          ($m[0].results[] | select(.op == $op) | .rps) as $b |
          if $b > 0 then "\t\($a / $b * 10 | round / 10)x" else "\tn/a" end' | tr -d '\n'
      done
      printf '\n'
    done
  } | column -t -s $'\t'
fi

# The project's targets (issue 2, point 11), checked on the warn-level run.
if [ -s "$work/gatehouse.json" ]; then
  echo
  echo "== targets (gatehouse --log-level warn, concurrency $concurrency)"
  jq -r --slurpfile m <(cat "$work/moto.json" 2>/dev/null || echo '{"results": []}') '
    def r($op): (.results[] | select(.op == $op)) // null;
    def check($ok): if $ok then "PASS" else "FAIL" end;
    (r("GetUser")) as $gu | (r("CreateUser")) as $cu |
    (if $gu then
      "\(check($gu.rps >= 8000)) GetUser req/s \($gu.rps | round) >= 8000",
      "\(check($gu.p99_ms < 20)) GetUser p99 \($gu.p99_ms * 100 | round / 100) ms < 20 ms"
    else empty end),
    (if $cu then "\(check($cu.rps >= 2000)) CreateUser req/s \($cu.rps | round) >= 2000" else empty end),
    (.results[] as $g | ($m[0].results[] | select(.op == $g.op)) as $mo |
      if $mo.rps > 0 then "\(check($g.rps >= 20 * $mo.rps)) \($g.op) req/s \($g.rps | round) >= 20 x moto \($mo.rps | round)" else empty end)
  ' "$work/gatehouse.json"
fi
exit $failed
