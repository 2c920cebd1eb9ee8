#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL cluster on loopback, for benchmarks and tests.
#
#   scripts/pg-cluster.sh start DIR          make a cluster in DIR (new or empty), start it and
#                                            print its server URL
#   scripts/pg-cluster.sh url DIR            print the server URL again
#   scripts/pg-cluster.sh createdb DIR NAME  create database NAME and print its URL
#   scripts/pg-cluster.sh stop [--keep] DIR  stop the server and delete DIR (--keep: keep DIR,
#                                            e.g. to read DIR/server.log)
#
# The cluster is made with the initdb and pg_ctl of the machine's PostgreSQL (pg_ctl on PATH,
# else Debian's /usr/lib/postgresql/VERSION/bin, newest first; Debian: apt-get install
# postgresql), the same way internal/pgtest makes its own: superuser gatehouse, trust
# authentication, listening only on 127.0.0.1 at a free port and on no Unix socket, fsync on
# (durable commits, as in production), max_connections 300. Trust means that any local user can
# connect as the superuser: use it on a machine of your own only. Run as root, the server runs
# as the postgres user (PostgreSQL refuses root): DIR is then owned by postgres and its parent
# directories must be searchable by it.
#
# To run the PostgreSQL tests against one cluster instead of a cluster per test binary:
#   url=$(scripts/pg-cluster.sh start /tmp/gh-pg)
#   GATEHOUSE_TEST_POSTGRES=$url go test ./internal/store/postgres ./internal/cli
#   GATEHOUSE_TEST_POSTGRES=$url GATEHOUSE_E2E_BACKEND=postgres go test ./test/e2e
#   scripts/pg-cluster.sh stop /tmp/gh-pg
# internal/pgtest then creates a database per test on that server (the superuser may).
set -euo pipefail

superuser=gatehouse

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

die() {
  echo "pg-cluster.sh: $*" >&2
  exit 1
}

# find_bin prints the directory of initdb and pg_ctl.
find_bin() {
  local p d
  if p=$(command -v pg_ctl); then
    d=$(dirname "$(readlink -f "$p")")
    if [ -x "$d/initdb" ]; then
      echo "$d"
      return
    fi
  fi
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -rn); do
    if [ -x "$d/initdb" ]; then
      echo "$d"
      return
    fi
  done
  die "PostgreSQL's initdb and pg_ctl are not installed (Debian: apt-get install postgresql)"
}

# as_owner runs a command in DIR as the user the server runs as.
as_owner() {
  local dir=$1
  shift
  if [ "$(id -u)" = 0 ]; then
    (cd "$dir" && runuser -u postgres -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

server_url() {
  local dir=$1 db=${2:-postgres}
  [ -s "$dir/port" ] || die "$dir holds no cluster started by this script"
  echo "postgres://$superuser@127.0.0.1:$(cat "$dir/port")/$db?sslmode=disable"
}

start() {
  local dir=$1 bin port
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    die "$dir is not empty"
  fi
  bin=$(find_bin)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the postgres user (Debian's postgresql package makes it)"
    chown postgres: "$dir"
    runuser -u postgres -- test -w "$dir" ||
      die "the postgres user cannot reach $dir: make its parent directories searchable (chmod o+x)"
  fi
  as_owner "$dir" "$bin/initdb" --pgdata "$dir/data" --username "$superuser" --auth trust \
    --encoding UTF8 --no-instructions >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  port=$(free_port)
  as_owner "$dir" "$bin/pg_ctl" start --pgdata "$dir/data" --wait --timeout 60 --log "$dir/server.log" \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='' -c fsync=on -c max_connections=300" \
    >"$dir/pg_ctl.log" 2>&1 || { cat "$dir/pg_ctl.log" "$dir/server.log" >&2; die "pg_ctl start failed"; }
  echo "$port" >"$dir/port"
  echo "$bin" >"$dir/bin"
  server_url "$dir"
}

createdb() {
  local dir=$1 name=$2
  [[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || die "database name $name: use lower-case letters, digits and _"
  local psql=psql
  [ -x "$(cat "$dir/bin")/psql" ] && psql=$(cat "$dir/bin")/psql
  "$psql" "$(server_url "$dir")" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $name" >/dev/null
  server_url "$dir" "$name"
}

stop() {
  local keep=0 dir
  if [ "${1:-}" = --keep ]; then
    keep=1
    shift
  fi
  [ $# = 1 ] || usage
  dir=$1
  if [ -s "$dir/bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$dir" "$(cat "$dir/bin")/pg_ctl" stop --pgdata "$dir/data" --wait --mode fast >/dev/null ||
      die "pg_ctl stop failed (see $dir/server.log)"
  fi
  if [ "$keep" = 0 ]; then
    rm -rf "$dir"
  fi
}

case ${1:-} in
start) [ $# = 2 ] || usage; start "$2" ;;
url) [ $# = 2 ] || usage; server_url "$2" ;;
createdb) [ $# = 3 ] || usage; createdb "$2" "$3" ;;
stop) shift; stop "$@" ;;
*) usage ;;
esac
