#!/usr/bin/env bash
# Builds the libFuzzer targets in a separate clang build and runs each one for a bounded time.
# Every target runs even when an earlier one crashed; the script exits non-zero when any
# target crashed (sanitizer report, trap, timeout, out-of-memory).
#   usage: tools/run_fuzzers.sh [TARGET...]   (default: all targets)
#   FUZZ_SECONDS    seconds per target (default 60)
#   FUZZ_BUILD_DIR  build folder (default build-fuzz in the repository root)
#   FUZZ_JOBS       parallel compile jobs (default 2)
#   CC / CXX        compilers (default clang-14 / clang++-14)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
targets=(fuzz_gguf fuzz_tokenizer fuzz_chat_template fuzz_session_state)
if [ $# -gt 0 ]; then targets=("$@"); fi

CC=${CC:-clang-14} CXX=${CXX:-clang++-14} cmake -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVKS_FUZZ=ON -DVKS_BUILD_APPS=OFF >/dev/null
cmake --build "$build" --target "${targets[@]}" -j "${FUZZ_JOBS:-2}"

status=0
for target in "${targets[@]}"; do
  seeds="$root/tests/fuzz/corpus/${target#fuzz_}"
  work="$build/fuzz-work/$target"
  mkdir -p "$work/corpus" "$work/artifacts"
  echo "== $target: ${seconds}s, seeds from ${seeds#$root/}"
  # New inputs go to the first (scratch) corpus folder; the committed seeds stay untouched.
  if "$build/tests/fuzz/$target" "$work/corpus" "$seeds" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$work/artifacts/" -print_final_stats=1; then
    echo "== $target: no crash in ${seconds}s"
  else
    echo "== $target: CRASH, reproducer in $work/artifacts/" >&2
    status=1
  fi
done
exit $status
