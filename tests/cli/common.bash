# Sourced by tests/cli/test_*.sh. Arguments of every test script:
#   $1 path of the vkstream binary, $2 a scratch folder (emptied here), $3 make_test_gguf.
set -uo pipefail
VKS=${1:?vkstream binary}
TMP=${2:?scratch folder}
MAKE_GGUF=${3:-}
rm -rf "$TMP" && mkdir -p "$TMP" || exit 1

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# run_vks OUT_FILE ERR_FILE ARGS...: runs vkstream, sets $rc.
run_vks() {
  local out=$1 err=$2
  shift 2
  "$VKS" "$@" >"$out" 2>"$err"
  rc=$?
}

# Number of lines in a file (a last line without newline counts).
count_lines() { awk 'END { print NR }' "$1"; }

json_ok() { python3 -c 'import json,sys; json.load(sys.stdin)' <"$1"; }

# expect_error ARGS...: vkstream must exit non-zero with exactly one line on stderr.
expect_error() {
  run_vks "$TMP/err.out" "$TMP/err.err" "$@"
  [ "$rc" -ne 0 ] || fail "vkstream $* exited 0, expected an error"
  local n
  n=$(count_lines "$TMP/err.err")
  [ "$n" -eq 1 ] || { cat "$TMP/err.err" >&2; fail "vkstream $*: expected 1 line on stderr, got $n"; }
  echo "ok (rc=$rc): vkstream $* -> $(cat "$TMP/err.err")"
}
