#!/usr/bin/env bash
# No Vulkan driver at all (the loader finds no ICD): every command that needs a device exits
# non-zero with one clear line on stderr saying so, and never crashes. (With validation on, as
# under CTest, the loader's own complaints come first as "[vulkan error] ..." lines from the
# validation messenger; vkstream's message is the last line.)
source "$(dirname "$0")/common.bash"
"$MAKE_GGUF" "$TMP/model.gguf" >/dev/null || fail "make_test_gguf failed"
export VK_ICD_FILENAMES="$TMP/no-such-icd.json" VK_DRIVER_FILES="$TMP/no-such-icd.json"
for args in "info" "info --json" "bench --kernels --quick"; do
  # shellcheck disable=SC2086
  run_vks "$TMP/out" "$TMP/err" $args
  [ "$rc" -ne 0 ] || fail "vkstream $args exited 0 without a driver"
  [ "$rc" -lt 128 ] || fail "vkstream $args died from a signal (rc=$rc)"
  last=$(tail -n 1 "$TMP/err")
  echo "$last" | grep -q "^vkstream .*no Vulkan driver found" || fail "vkstream $args: last stderr line does not say no driver was found: $last"
  others=$(grep -vc -e '^\[vulkan error\]' -e 'no Vulkan driver found' "$TMP/err")
  [ "$others" -eq 0 ] || fail "vkstream $args: unexpected stderr lines: $(cat "$TMP/err")"
  echo "ok (rc=$rc): vkstream $args -> $last"
done
# A command that needs no device still works.
run_vks "$TMP/out" "$TMP/err" inspect "$TMP/model.gguf"
[ "$rc" -eq 0 ] || fail "inspect needs no device but exited $rc: $(cat "$TMP/err")"
echo "ok: no driver is a clear error"
