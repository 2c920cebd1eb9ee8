# Helpers shared by the aws CLI scripts; source it after `set -euo pipefail`. Needs
# GATEHOUSE_ENDPOINT.
ep=${GATEHOUSE_ENDPOINT:?set GATEHOUSE_ENDPOINT}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

awsx() { aws --endpoint-url "$ep" --output text "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
eq() { # eq WHAT GOT WANT
  [ "$2" == "$3" ] || fail "$1: got '$2', want '$3'"
  echo "ok  $1"
}
# expect_error CODE aws-args...: the call must fail with the AWS error code CODE.
expect_error() {
  local code=$1; shift
  if out=$(awsx "$@" 2>&1); then fail "aws $*: succeeded, want $code"; fi
  [[ "$out" == *"($code)"* ]] || fail "aws $*: want error $code, got: $out"
  echo "ok  error $code from $1 $2"
}
