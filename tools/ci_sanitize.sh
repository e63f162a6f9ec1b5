#!/usr/bin/env bash
# CI step: the test suite built with AddressSanitizer + UndefinedBehaviorSanitizer
# (cmake -DVKS_SANITIZE=ON) in ./build-asan, run on lavapipe with validation on. Any ASan or UBSan
# report fails the test it happens in (UBSan halts on the first error). LeakSanitizer runs with
# the suppressions in tools/sanitizers/lsan.supp: allocations made inside the Vulkan driver and
# layers, never in vkstream code (each entry explains itself), with the driver and layers kept
# mapped to the end by tools/sanitizers/keep_loaded.c so that a report can name them.
# Not run in this mode: the package tests (they check the release artefact: the export list of
# a sanitized library has ASan's extra symbols, and an out-of-tree consumer or Python would
# have to load the ASan runtime themselves).
#   usage: tools/ci_sanitize.sh [ctest arguments...]   (default: the whole suite, -j2)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ASAN_BUILD_DIR:-$root/build-asan}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVKS_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
shim="$build/keep_loaded.so"
cc -shared -fPIC -O1 -o "$shim" "$root/tools/sanitizers/keep_loaded.c" -ldl
export LD_PRELOAD="$(cc -print-file-name=libasan.so):$shim"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$root/tools/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
if [ $# -eq 0 ]; then set -- -j2 -LE package -E python_ctypes_binding; fi
ctest --test-dir "$build" --output-on-failure "$@"
