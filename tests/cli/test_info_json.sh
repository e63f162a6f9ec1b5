#!/usr/bin/env bash
# vkstream info --json prints valid JSON listing at least one device. Skips (77) only when
# Vulkan itself is missing (no driver / no device), which info reports as "feature missing".
source "$(dirname "$0")/common.bash"

run_vks "$TMP/info.json" "$TMP/info.err" info --json
if [ "$rc" -ne 0 ]; then
  if grep -q "feature missing" "$TMP/info.err"; then
    echo "SKIP: no Vulkan device: $(cat "$TMP/info.err")"
    exit 77
  fi
  cat "$TMP/info.err" >&2
  fail "info --json exited $rc"
fi
json_ok "$TMP/info.json" || fail "info --json is not valid JSON"
python3 - "$TMP/info.json" <<'PY' || fail "info --json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d.get("devices"), list) and d["devices"], "no devices listed"
assert all("name" in dev for dev in d["devices"]), "device without a name"
PY
echo "ok: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["devices"]), "device(s)")' "$TMP/info.json")"
