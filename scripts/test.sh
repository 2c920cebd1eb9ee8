#!/usr/bin/env bash
# Runs every test of Gatehouse: formatting, vet, the Go tests (unit, store conformance, the
# end-to-end tests that drive the server with aws-sdk-go-v2, the aws CLI and boto3), the
# end-to-end suite once more on PostgreSQL, and a short run of each fuzz target.
#
# The PostgreSQL tests start throwaway clusters on loopback (internal/pgtest) when Debian's
# postgresql server programs are installed, and skip otherwise (GATEHOUSE_REQUIRE_POSTGRES=1,
# which .ci/run sets, makes them fail instead); GATEHOUSE_TEST_POSTGRES=postgres://... uses a
# server of your own instead.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" $unformatted >&2
  exit 1
fi
go vet ./...

# On a failure the names of the failed tests come first, then what the failing packages printed,
# so that the cause is near the top of a long log.
testlog=$(mktemp)
fuzzlog=$(mktemp)
trap 'rm -f "$testlog" "$fuzzlog"' EXIT
if ! go test -count=1 -timeout 15m ./... >"$testlog" 2>&1; then
  echo "FAILED:" >&2
  grep -E '^\s*--- FAIL|^FAIL|^panic:' "$testlog" >&2 || true
  echo "--- output of the failing packages:" >&2
  grep -vE '^ok\s|\[no test files\]' "$testlog" >&2 || true
  exit 1
fi
cat "$testlog"

# The whole end-to-end suite again, every server on PostgreSQL.
if ! GATEHOUSE_E2E_BACKEND=postgres go test -count=1 -timeout 20m ./test/e2e >"$testlog" 2>&1; then
  echo "FAILED on PostgreSQL:" >&2
  grep -E '^\s*--- FAIL|^FAIL|^panic:' "$testlog" >&2 || true
  echo "--- output:" >&2
  cat "$testlog" >&2
  exit 1
fi
echo "on PostgreSQL: $(tail -n 1 "$testlog")"

# Each benchmark runs once, so that a benchmark whose fixture no longer works fails here instead
# of on the day someone measures with it.
if ! go test -count=1 -run '^$' -bench . -benchtime 1x ./... >"$testlog" 2>&1; then
  echo "FAILED benchmarks (one iteration each):" >&2
  grep -E '^\s*--- FAIL|^FAIL|^panic:|_test.go:' "$testlog" >&2 || true
  exit 1
fi
echo "ran every benchmark once"

# Each fuzz target runs briefly, so a parser that panics on new input fails CI. The budget is a
# number of executions, not a duration: Go 1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" failure when a duration runs out (golang/go#75804, fixed in 1.27).
fuzztime=${FUZZTIME:-50000x}
fuzzed=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >"$fuzzlog" 2>&1; then
      # The failing input is saved under the package's testdata/fuzz; show it with the log.
      echo "FAIL fuzz $pkg $target ($fuzztime)" >&2
      tail -n 60 "$fuzzlog" >&2
      for f in "$dir/testdata/fuzz/$target"/*; do
        [ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
      done
      exit 1
    fi
    fuzzed=$((fuzzed + 1))
  done
done
echo "fuzzed $fuzzed targets for $fuzztime each"
echo "all tests passed"
