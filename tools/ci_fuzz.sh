#!/usr/bin/env bash
# CI step: installs clang-14 + its sanitizer runtime if missing, then runs every libFuzzer target
# for FUZZ_SECONDS (default 30) each. A crash fails.
set -euo pipefail
need=()
for p in clang-14 libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
FUZZ_SECONDS="${FUZZ_SECONDS:-30}" "$(dirname "$0")/run_fuzzers.sh"
