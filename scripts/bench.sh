#!/usr/bin/env bash
# Measures Gatehouse on SQLite, on PostgreSQL and as a fleet of two nodes on PostgreSQL, against
# moto_server, with the same load generator (`gatehouse bench`) in the same run.
#
# It builds gatehouse and measures each target in turn (never two at once: they share the
# machine): it starts the target's server(s) on fresh data and free loopback ports with known
# root credentials, waits until they answer, runs each operation, stops them, and prints the
# target's table. Then it prints the ratio of req/s over moto_server per operation and the
# project's targets. The targets:
#   sqlite       one node on SQLite, --log-level warn
#   sqlite-audit one node on SQLite, --log-level warn --audit: beside sqlite, what the audit
#                trail costs
#   sqlite-info  one node on SQLite at the default log level info (a JSON log line per request,
#                to a file), to show what logging costs
#   pg           one node on PostgreSQL, --log-level warn
#   pg2          two nodes on one PostgreSQL database, --log-level warn, sharing the master key
#                (GATEHOUSE_MASTER_KEY); the load is split across them: two `gatehouse bench`
#                processes at once, one per node, each with half the clients. req/s is their sum;
#                p50/p99/max are the worse of the two, and each node's figures follow the table
#   moto         moto_server (pip install 'moto[server]')
#   base         the commit BASE (default HEAD, that is, without the working tree's changes),
#                built from a temporary worktree and run like sqlite: the peer of a change, side
#                by side in one run; a table of req/s and server CPU against sqlite follows
#   base-audit   the commit BASE run like sqlite-audit; a table against sqlite-audit follows
# For pg and pg2 the script starts a throwaway PostgreSQL cluster (scripts/pg-cluster.sh: on
# loopback, fsync on) in its work directory, gives each of the two targets a fresh database of
# its own, and removes the cluster at the end. The database shares the machine's cores too.
#
# Server CPU per request: the server process's own CPU time (utime+stime of /proc/PID/stat,
# summed over its threads and any child processes; both nodes for pg2) taken just before and
# after each operation's measured run, divided by the requests of that run. The warm-up is NOT
# included: each operation's warm-up is a `gatehouse bench` run of its own (WARMUP long, nothing
# kept) just before the measured run, which is started with --warmup 0. For pg and pg2 the CPU
# of the PostgreSQL cluster's processes over the same run is shown separately ("pg us/req").
#
# Settings from the environment:
#   TARGETS      targets to run, comma-separated, in this order (default sqlite,sqlite-info,pg,pg2,moto)
#   CONCURRENCY  clients per operation (default 32; for pg2 split over the two nodes)
#   DURATION     measured time per operation (default 10s)
#   WARMUP       unmeasured time before each operation (default 1s; 0 for none)
#   OPS          operations, comma-separated (default GetUser,CreateUser,ListUsers,AssumeRole,GetCallerIdentity;
#                AssumeRole is signed by an IAM user the run creates, as AWS refuses root's)
#   SKIP_INFO=1  leave out sqlite-info
#   SKIP_MOTO=1  leave out moto
#   ROUNDS       measure every target this many times, interleaved (target 1, target 2, ...,
#                target 1, ...), each round on fresh data (default 1); the tables after the last
#                round give per operation the median of the rounds' req/s, latencies and CPU.
#                On a shared, noisy machine, 3 or more rounds make a comparison fair
#   BASE         the revision of the base target (default HEAD)
#   KEEP=1       keep the work directory (data, logs, JSON reports, the cluster) and print its path
set -euo pipefail
cd "$(dirname "$0")/.."

concurrency=${CONCURRENCY:-32}
rounds=${ROUNDS:-1}
duration=${DURATION:-10s}
warmup=${WARMUP:-1s}
ops=${OPS:-GetUser,CreateUser,ListUsers,AssumeRole,GetCallerIdentity}
ops=${ops// /}

targets=()
IFS=, read -r -a requested <<<"${TARGETS:-sqlite,sqlite-info,pg,pg2,moto}"
for name in "${requested[@]}"; do
  name=${name// /}
  case $name in
  sqlite | pg | pg2 | base | base-audit | sqlite-audit) ;;
  sqlite-info) [ "${SKIP_INFO:-}" = 1 ] && continue ;;
  moto) [ "${SKIP_MOTO:-}" = 1 ] && continue ;;
  *)
    echo "bench.sh: unknown target '$name' in TARGETS (known: sqlite, sqlite-audit, sqlite-info, pg, pg2, moto, base, base-audit)" >&2
    exit 1
    ;;
  esac
  if [[ " ${targets[*]} " == *" $name "* ]]; then
    echo "bench.sh: target $name given twice in TARGETS" >&2
    exit 1
  fi
  targets+=("$name")
done
if [ ${#targets[@]} = 0 ]; then
  echo "bench.sh: no targets left to run" >&2
  exit 1
fi
has_target() {
  local t
  for t in "${targets[@]}"; do [ "$t" = "$1" ] && return 0; done
  return 1
}
need_pg=0
if has_target pg || has_target pg2; then need_pg=1; fi

for tool in go jq python3 curl column; do
  command -v "$tool" >/dev/null || { echo "bench.sh needs $tool" >&2; exit 1; }
done
if has_target moto && ! command -v moto_server >/dev/null; then
  echo "bench.sh needs moto_server (pip install 'moto[server]'), or SKIP_MOTO=1" >&2
  exit 1
fi
if [ "$need_pg" = 1 ] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && ! command -v pg_ctl >/dev/null; then
  echo "bench.sh needs PostgreSQL's server programs for pg and pg2 (Debian: apt-get install postgresql), or TARGETS without them" >&2
  exit 1
fi
if has_target pg2 && [ "$concurrency" -lt 2 ]; then
  echo "bench.sh: pg2 splits the clients over two nodes: CONCURRENCY must be at least 2" >&2
  exit 1
fi

# The same credentials sign every request; moto accepts any.
account=123456789012
key=AKIAGATEHOUSEBENCH01
secret=gatehouseBenchSecret0123456789abcdefghij
# The nodes of a fleet must share the master key.
master_key=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
clk_tck=$(getconf CLK_TCK)

work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")
pgdir=$work/pg
pg_started=0
pids=()
# shellcheck disable=SC2317 # run by the trap
cleanup() {
  local pid
  # The servers, then any load generator still running (after an interrupt).
  for pid in "${pids[@]}" $(jobs -p); do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$pg_started" = 1 ]; then
    scripts/pg-cluster.sh stop ${KEEP:+--keep} "$pgdir" || true
  fi
  if [ -d "$work/base-src" ]; then
    git worktree remove --force "$work/base-src" 2>/dev/null || true
  fi
  if [ "${KEEP:-}" = 1 ]; then
    echo "work directory kept: $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_http NAME URL PID waits until URL answers HTTP at all (any status); NAME.log is the log.
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

# start_gatehouse NODE LOG-LEVEL [DATABASE-URL] starts a node of the binary $bin (with the
# flags in extra_flags) and sets started_pid and started_url. An empty LOG-LEVEL is the default
# level.
start_gatehouse() {
  local node=$1 level=$2 db=${3:-} port
  port=$(free_port)
  rm -rf "$work/$node-data" # fresh data every round
  GATEHOUSE_ACCOUNT_ID=$account GATEHOUSE_ROOT_ACCESS_KEY_ID=$key GATEHOUSE_ROOT_SECRET_ACCESS_KEY=$secret \
    GATEHOUSE_MASTER_KEY=$master_key \
    "$bin" serve --listen "127.0.0.1:$port" --admin-listen 127.0.0.1:0 --data-dir "$work/$node-data" \
    ${level:+--log-level "$level"} ${db:+--database "$db"} "${extra_flags[@]}" \
    >"$work/$node.stdout" 2>"$work/$node.log" &
  started_pid=$!
  pids+=("$started_pid")
  started_url="http://127.0.0.1:$port"
}

start_moto() {
  local port
  port=$(free_port)
  moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  started_url="http://127.0.0.1:$port"
}

# stop_servers PID... stops servers and forgets them.
stop_servers() {
  local pid keep=() p
  for pid in "$@"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    [[ " $* " == *" $p "* ]] || keep+=("$p")
  done
  pids=("${keep[@]}")
}

# cpu_ticks PID... prints the CPU time in clock ticks (utime+stime+cutime+cstime) of the
# processes and all their living descendants: threads are counted in their process, children
# that ended in their parent's cutime/cstime.
cpu_ticks() {
  local -A parent=() ticks=()
  local f line rest pid p total=0 root
  local -a a
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    pid=${line%% *}
    rest=${line##*) } # the command name in parentheses may hold spaces
    read -r -a a <<<"$rest"
    parent[$pid]=${a[1]}
    ticks[$pid]=$((a[11] + a[12] + a[13] + a[14]))
  done
  for pid in "${!ticks[@]}"; do
    p=$pid
    while [ -n "$p" ] && [ "$p" != 0 ]; do
      for root in "$@"; do
        if [ "$p" = "$root" ]; then
          total=$((total + ticks[$pid]))
          p=0
          break
        fi
      done
      [ "$p" = 0 ] && break
      p=${parent[$p]:-}
    done
  done
  echo "$total"
}

is_zero_duration() { [[ $1 =~ ^0+(\.0*)?[a-zµ]*$ ]]; }

# bench_nodes OUT DURATION OP runs one `gatehouse bench` per URL of urls at once (concurrency
# concs[i]), without warm-up, writing OUT.I.json and OUT.I.log. It fails when any run failed.
bench_nodes() {
  local out=$1 dur=$2 op=$3 i status=0
  local -a bpids=()
  for i in "${!urls[@]}"; do
    "$work/gatehouse" bench --endpoint "${urls[$i]}" --access-key-id "$key" --secret-access-key "$secret" \
      --concurrency "${concs[$i]}" --duration "$dur" --warmup 0 --ops "$op" \
      --output json >"$out.$i.json" 2>"$out.$i.log" &
    bpids+=($!)
  done
  for i in "${!bpids[@]}"; do
    if ! wait "${bpids[$i]}"; then
      status=1
      grep -v 'level=INFO' "$out.$i.log" >&2 || true
    fi
  done
  return $status
}

# measure NAME OP measures OP against the target's servers (server_pids, urls, concs) and
# writes the result, the nodes' runs combined, to NAME.OP.json.
measure() {
  local name=$1 op=$2 out before after pg_before=0 pg_after=0 postmaster="" i f warm_users
  local -a files=()
  out=$work/$name.$op
  if ! is_zero_duration "$warmup"; then
    bench_nodes "$out.warmup" "$warmup" "$op" 2>/dev/null || echo "(the warm-up of $op had errors; see the measured run)" >&2
  fi
  if [ -n "$pg_nodes" ]; then postmaster=$(head -1 "$pgdir/data/postmaster.pid"); fi
  before=$(cpu_ticks "${server_pids[@]}")
  [ -n "$postmaster" ] && pg_before=$(cpu_ticks "$postmaster")
  bench_nodes "$out" "$duration" "$op" || failed=1
  after=$(cpu_ticks "${server_pids[@]}")
  [ -n "$postmaster" ] && pg_after=$(cpu_ticks "$postmaster")
  for i in "${!urls[@]}"; do
    if [ ! -s "$out.$i.json" ] || ! jq -e '.results | length == 1' "$out.$i.json" >/dev/null 2>&1; then
      echo "no report from the $op run against $name (node $((i + 1)))" >&2
      failed=1
      return
    fi
    files+=("$out.$i.json")
  done
  # Users the warm-up created count too: none are deleted.
  warm_users=0
  for f in "$out".warmup.*.json; do
    if [ -s "$f" ]; then warm_users=$((warm_users + $(jq '.users_created // 0' "$f"))); fi
  done
  jq -s --argjson ticks $((after - before)) --argjson pg_ticks $((pg_after - pg_before)) \
    --argjson clk "$clk_tck" --argjson warm_users "$warm_users" --argjson pg "$([ -n "$postmaster" ] && echo true || echo false)" '
    [.[].results[0]] as $r | ($r | map(.requests) | add) as $n |
    def per_req($t): if $n > 0 then $t / $clk * 1e6 / $n else null end;
    {op: $r[0].op, concurrency: ($r | map(.concurrency) | add), requests: $n,
     errors: ($r | map(.errors) | add), rps: ($r | map(.rps) | add),
     p50_ms: ($r | map(.p50_ms) | max), p99_ms: ($r | map(.p99_ms) | max), max_ms: ($r | map(.max_ms) | max),
     server_cpu_us: per_req($ticks), pg_cpu_us: (if $pg then per_req($pg_ticks) else null end),
     users_created: (map(.users_created) | add + $warm_users),
     first_error: ([$r[].first_error | select(.)] | first),
     nodes: [$r[] | {concurrency, rps, p50_ms, p99_ms}]}' "${files[@]}" >"$out.json"
}

# describe NAME says what a target is in the tables.
describe() {
  case $1 in
  sqlite) echo "gatehouse on SQLite (--log-level warn)" ;;
  sqlite-info) echo "gatehouse on SQLite (default log level info, JSON log line per request to a file)" ;;
  pg) echo "gatehouse on $pg_version, one node (--log-level warn)" ;;
  pg2) echo "gatehouse on $pg_version, two nodes on one database (--log-level warn), clients $half1 + $half2" ;;
  moto) echo "moto_server $(python3 -c 'import moto; print(moto.__version__)' 2>/dev/null)" ;;
  base) echo "gatehouse at $base_desc on SQLite (--log-level warn)" ;;
  base-audit) echo "gatehouse at $base_desc on SQLite (--log-level warn --audit)" ;;
  sqlite-audit) echo "gatehouse on SQLite (--log-level warn --audit)" ;;
  esac
}

echo "building gatehouse"
go build -o "$work/gatehouse" ./cmd/gatehouse
base_desc=""
if has_target base || has_target base-audit; then
  base_rev=$(git rev-parse --verify "${BASE:-HEAD}^{commit}")
  base_desc="$(git log -1 --format='%h %s' "$base_rev" | cut -c1-60)"
  echo "building the base, $base_desc"
  git worktree add --detach "$work/base-src" "$base_rev" >/dev/null 2>&1
  (cd "$work/base-src" && go build -o "$work/gatehouse-base" ./cmd/gatehouse)
fi

if [ "$need_pg" = 1 ]; then
  chmod 711 "$work" # the cluster runs as postgres when this is root: it must reach $work/pg
  pg_started=1
  pg_server=$(scripts/pg-cluster.sh start "$pgdir")
  pg_version=$("$(cat "$pgdir/bin")/postgres" --version | sed 's/^postgres (PostgreSQL) /PostgreSQL /')
fi

echo "machine: $(nproc) cores; the load generator (and PostgreSQL) run on the same cores as the server"
[ "$need_pg" = 1 ] && echo "PostgreSQL: $pg_version at $pg_server (fsync on), a fresh database per target"
echo "settings: concurrency $concurrency, $duration per operation after $warmup warm-up, ops $ops, targets ${targets[*]}"
echo "srv us/req: µs of the server's own CPU (utime+stime) per request over the measured run, warm-up excluded;"
echo "pg us/req: µs of the PostgreSQL cluster's CPU (all its processes) over the same run, per request"
IFS=, read -r -a op_list <<<"$ops"
half1=$((concurrency / 2))
half2=$((concurrency - half1))
failed=0

# print_target NAME prints the table of the target's results, $work/NAME.json.
print_target() {
  local name=$1
  jq -r '
    def r($x; $p): if $x == null then "-" else $x * $p | round / $p end;
    (["op", "conc", "requests", "errors", "req/s", "p50 ms", "p99 ms", "max ms", "srv us/req", "pg us/req"] | @tsv),
    (.results[] | [.op, .concurrency, .requests, .errors, r(.rps; 10), r(.p50_ms; 100), r(.p99_ms; 100),
      r(.max_ms; 100), r(.server_cpu_us; 1), r(.pg_cpu_us; 1)] | @tsv)' "$work/$name.json" | column -t -s $'\t'
  jq -r '
    "users created: \(.results | map(.users_created) | add)",
    (.results[] | select(.nodes | length > 1) | "  per node, \(.op): " +
      ([.nodes | to_entries[] | "node \(.key + 1): \(.value.concurrency) clients \(.value.rps * 10 | round / 10) req/s p50 \(.value.p50_ms * 100 | round / 100) p99 \(.value.p99_ms * 100 | round / 100) ms"] | join("; "))),
    (.results[] | select(.first_error) | "first error of \(.op): \(.first_error | gsub("\\s+"; " ") | .[0:300])")' "$work/$name.json"
}

for round in $(seq 1 "$rounds"); do
for name in "${targets[@]}"; do
  server_pids=()
  urls=()
  concs=("$concurrency")
  pg_nodes=""
  bin=$work/gatehouse
  extra_flags=()
  case $name in
  sqlite-audit)
    extra_flags=(--audit)
    start_gatehouse "$name" warn
    server_pids=("$started_pid")
    urls=("$started_url")
    ;;
  base | base-audit)
    bin=$work/gatehouse-base
    [ "$name" = base-audit ] && extra_flags=(--audit)
    start_gatehouse "$name" warn
    server_pids=("$started_pid")
    urls=("$started_url")
    ;;
  sqlite | sqlite-info)
    level=warn
    [ "$name" = sqlite-info ] && level=""
    start_gatehouse "$name" "$level"
    server_pids=("$started_pid")
    urls=("$started_url")
    ;;
  pg | pg2)
    db_url=$(scripts/pg-cluster.sh createdb "$pgdir" "bench_${name}_r$round")
    pg_nodes=1
    nodes=(1)
    if [ "$name" = pg2 ]; then
      nodes=(1 2)
      concs=("$half1" "$half2")
    fi
    # The nodes start at once: the first account must be created once for the fleet.
    for n in "${nodes[@]}"; do
      start_gatehouse "$name-node$n" warn "$db_url"
      server_pids+=("$started_pid")
      urls+=("$started_url")
    done
    ;;
  moto)
    start_moto
    server_pids=("$started_pid")
    urls=("$started_url")
    ;;
  esac
  for i in "${!urls[@]}"; do
    log=$name
    [ -n "$pg_nodes" ] && log=$name-node$((i + 1))
    wait_http "$log" "${urls[$i]}" "${server_pids[$i]}"
  done

  echo
  round_note=""
  [ "$rounds" -gt 1 ] && round_note="round $round of $rounds: "
  echo "== $round_note$(describe "$name") at ${urls[*]}; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  op_files=()
  for op in "${op_list[@]}"; do
    measure "$name" "$op"
    if [ -s "$work/$name.$op.json" ]; then op_files+=("$work/$name.$op.json"); fi
  done
  stop_servers "${server_pids[@]}"
  if [ ${#op_files[@]} = 0 ]; then
    echo "no report from the runs against $name" >&2
    continue
  fi
  jq -s '{results: .}' "${op_files[@]}" >"$work/$name.json"
  cp "$work/$name.json" "$work/$name.r$round.json"
  print_target "$name"
  # Warnings and errors the servers logged during the run (JSON logs; moto's are not looked at).
  if [ "$name" != moto ]; then
    for log in "$work/$name".log "$work/$name"-node*.log; do
      [ -f "$log" ] || continue
      n=$(grep -cE '"level":"(WARN|ERROR)"' "$log" || true)
      if [ "$n" -gt 0 ]; then
        echo "$(basename "$log" .log) logged $n warnings or errors, the first:"
        grep -E '"level":"(WARN|ERROR)"' "$log" | head -3 | cut -c1-300
      fi
    done
  fi
done
done

# Over several rounds, each target's result is per operation the median of its rounds.
if [ "$rounds" -gt 1 ]; then
  for name in "${targets[@]}"; do
    compgen -G "$work/$name.r*.json" >/dev/null || continue
    jq -s '
      def median: sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
      def med($k): map(.[$k]) | map(select(. != null)) | median;
      . as $rounds | {results: [$rounds[0].results[].op as $op | [$rounds[].results[] | select(.op == $op)] | {
        op: .[0].op, concurrency: .[0].concurrency, requests: (map(.requests) | add), errors: (map(.errors) | add),
        rps: med("rps"), p50_ms: med("p50_ms"), p99_ms: med("p99_ms"), max_ms: (map(.max_ms) | max),
        server_cpu_us: med("server_cpu_us"), pg_cpu_us: med("pg_cpu_us"),
        users_created: (map(.users_created) | add), first_error: ([.[].first_error | select(.)] | first),
        nodes: .[0].nodes, rounds: length}]}' "$work/$name".r*.json >"$work/$name.json"
    echo
    echo "== $(describe "$name"): the median of $rounds rounds (requests and errors summed, max the largest)"
    print_target "$name"
  done
fi

# ratios: req/s of each gatehouse target over moto's, per operation.
if [ -s "$work/moto.json" ]; then
  echo
  echo "== req/s ratio over moto_server"
  {
    printf 'op'
    for name in "${targets[@]}"; do [ "$name" != moto ] && [ -s "$work/$name.json" ] && printf '\t%s/moto' "$name"; done
    printf '\n'
    for op in "${op_list[@]}"; do
      printf '%s' "$op"
      for name in "${targets[@]}"; do
        [ "$name" = moto ] || [ ! -s "$work/$name.json" ] && continue
        jq -rn --arg op "$op" --slurpfile g "$work/$name.json" --slurpfile m "$work/moto.json" '
          ($g[0].results[] | select(.op == $op) | .rps) as $a |
          ($m[0].results[] | select(.op == $op) | .rps) as $b |
          if $a == null or $b == null then "\tn/a" elif $b > 0 then "\t\($a / $b * 10 | round / 10)x" else "\tn/a" end' | tr -d '\n'
      done
      printf '\n'
    done
  } | column -t -s $'\t'
fi

# compare TITLE OLD NEW OLD_LABEL NEW_LABEL: req/s and server CPU per request of two targets' runs,
# per operation.
compare() {
  [ -s "$work/$2.json" ] && [ -s "$work/$3.json" ] || return 0
  echo
  echo "== $1"
  jq -rn --slurpfile b "$work/$2.json" --slurpfile n "$work/$3.json" --arg ol "$4" --arg nl "$5" '
    def r($x; $p): if $x == null then "-" else $x * $p | round / $p end;
    def pct($new; $old): if $old == null or $new == null or $old == 0 then "-" else "\(($new / $old - 1) * 100 | round)%" end;
    (["op", "\($ol) req/s", "\($nl) req/s", "change", "\($ol) srv us/req", "\($nl) srv us/req", "change"] | @tsv),
    ($n[0].results[] as $x | ($b[0].results[] | select(.op == $x.op)) as $y |
      [$x.op, r($y.rps; 1), r($x.rps; 1), pct($x.rps; $y.rps), r($y.server_cpu_us; 1), r($x.server_cpu_us; 1),
       pct($x.server_cpu_us; $y.server_cpu_us)] | @tsv)' | column -t -s $'\t'
}
compare "gatehouse on SQLite against the base ($base_desc), both --log-level warn" base sqlite base new
compare "with --audit, against the base ($base_desc) with --audit" base-audit sqlite-audit base new
compare "the audit trail's cost: gatehouse on SQLite without it (sqlite) and with it (sqlite-audit)" sqlite sqlite-audit plain audit
compare "the audit trail's cost at the base ($base_desc)" base base-audit plain audit

empty_report() { echo '{"results": []}'; }
report_of() { if [ -s "$work/$1.json" ]; then cat "$work/$1.json"; else empty_report; fi; }

# The project's targets: issue 2, point 11 on the SQLite node; issue 11 point 10 and issue 12
# point 4 on PostgreSQL.
if [ -s "$work/sqlite.json" ]; then
  echo
  echo "== targets (gatehouse on SQLite, --log-level warn, concurrency $concurrency)"
  jq -r --slurpfile m <(report_of moto) '
    def r($op): (.results[] | select(.op == $op)) // null;
    def check($ok): if $ok then "PASS" else "FAIL" end;
    (r("GetUser")) as $gu | (r("CreateUser")) as $cu |
    (if $gu then
      "\(check($gu.rps >= 8000)) GetUser req/s \($gu.rps | round) >= 8000",
      "\(check($gu.p99_ms < 20)) GetUser p99 \($gu.p99_ms * 100 | round / 100) ms < 20 ms"
    else empty end),
    (if $cu then "\(check($cu.rps >= 2000)) CreateUser req/s \($cu.rps | round) >= 2000" else empty end),
    (.results[] as $g | ($m[0].results[] | select(.op == $g.op)) as $mo |
      if $mo.rps > 0 then "\(check($g.rps >= 20 * $mo.rps)) \($g.op) req/s \($g.rps | round) >= 20 x moto \($mo.rps | round)" else empty end),
    # issue 12, point 3
    (if $gu and $gu.server_cpu_us then "\(check($gu.server_cpu_us <= 50)) GetUser server CPU \($gu.server_cpu_us | round) us/req <= 50" else empty end),
    ((r("GetCallerIdentity")) as $gci | if $gci and $gci.server_cpu_us then "\(check($gci.server_cpu_us <= 30)) GetCallerIdentity server CPU \($gci.server_cpu_us | round) us/req <= 30" else empty end),
    (if $cu then (($m[0].results[] | select(.op == "CreateUser")) // null) as $mcu |
      if $mcu and $mcu.rps > 0 then "\(check($cu.rps >= 25 * $mcu.rps)) CreateUser req/s \($cu.rps | round) >= 25 x moto \($mcu.rps | round) (durable)" else empty end
    else empty end)
  ' "$work/sqlite.json"
fi
for name in pg pg2; do
  [ -s "$work/$name.json" ] || continue
  echo
  echo "== PostgreSQL targets ($(describe "$name" | sed 's/^gatehouse on //'), concurrency $concurrency)"
  jq -r --slurpfile s <(report_of sqlite) '
    def r($op): (.results[] | select(.op == $op)) // null;
    def check($ok): if $ok then "PASS" else "FAIL" end;
    (r("CreateUser")) as $cu | (r("GetUser")) as $gu |
    (($s[0].results[] | select(.op == "GetUser")) // null) as $sgu |
    (if $cu then "\(check($cu.rps >= 1000)) PostgreSQL CreateUser req/s \($cu.rps | round) >= 1000" else empty end),
    (if $gu and $sgu then
      "\(check($gu.rps >= 0.8 * $sgu.rps)) PostgreSQL GetUser req/s \($gu.rps | round) within 20% of SQLite'"'"'s \($sgu.rps | round) (>= \(0.8 * $sgu.rps | round))"
    elif $gu then "(GetUser against SQLite not measured: add sqlite to TARGETS to compare)" else empty end)
  ' "$work/$name.json"
done
exit $failed
