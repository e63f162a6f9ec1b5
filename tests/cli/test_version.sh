#!/usr/bin/env bash
# vkstream --version prints "vkstream X.Y.Z" and exits 0; no arguments is a usage error.
source "$(dirname "$0")/common.bash"

run_vks "$TMP/out" "$TMP/err" --version
[ "$rc" -eq 0 ] || fail "--version exited $rc"
grep -Eq '^vkstream [0-9]+\.[0-9]+\.[0-9]+' "$TMP/out" || fail "unexpected --version output: $(cat "$TMP/out")"
[ "$(count_lines "$TMP/out")" -eq 1 ] || fail "--version printed more than one line"
version=$(cat "$TMP/out")

run_vks "$TMP/out" "$TMP/err"
[ "$rc" -ne 0 ] || fail "no command exited 0"
run_vks "$TMP/out" "$TMP/err" no-such-command
[ "$rc" -ne 0 ] || fail "unknown command exited 0"
echo "ok: $version"
