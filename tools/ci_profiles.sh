#!/usr/bin/env bash
# CI step: the kernel, end-to-end and C API tests again under forced-down capability profiles
# (docs/DESIGN.md, "Capability profiles"), on the build in ./build. The default profile ran with
# the README's test command; here each named profile makes the runtime behave as on a device
# without those features and with those limits: other shader variants, smaller tiles, split
# bindings. Same tests, same tolerances.
#   usage: tools/ci_profiles.sh [PROFILE...]   (default: baseline)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
profiles=("$@")
if [ ${#profiles[@]} -eq 0 ]; then profiles=(baseline); fi
for p in "${profiles[@]}"; do
  echo "== profile $p: $(VKS_PROFILE=$p "$build/apps/vkstream" info 2>/dev/null | grep -m1 'effective profile' | sed 's/^ *//' || true)"
  VKS_PROFILE="$p" ctest --test-dir "$build" --output-on-failure -j2 -L "kernels|e2e|capi"
done
