#!/usr/bin/env bash
# CI step: the test suite built with AddressSanitizer + UndefinedBehaviorSanitizer
# (cmake -DVKS_SANITIZE=ON) in ./build-asan, run on lavapipe with validation on. Any ASan or UBSan
# report fails the test it happens in (UBSan halts on the first error), and so does any leak:
# LeakSanitizer runs with no suppressions. The one accommodation for the driver: the Vulkan
# loader unloads lavapipe and the validation layer when the last instance goes, and memory they
# still held then shows up as leaks from "<unknown module>"; tools/sanitizers/keep_loaded.c
# keeps them mapped to the end, so their process-lifetime allocations stay reachable.
# Not run in this mode: the package tests and the Python package tests. They check the release
# artefact: a sanitized library exports ASan's extra symbols, and an out-of-tree consumer or the
# Python interpreter would have to load the ASan runtime themselves. Nor the `vkstream serve`
# tests (label server): they drive the release binary from Python and a browser, and their
# timing-bound checks (a disconnect noticed within a step, a request deadline) are sized for it.
#   usage: tools/ci_sanitize.sh [ctest arguments...]   (default: the whole suite, -j2)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ASAN_BUILD_DIR:-$root/build-asan}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVKS_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
shim="$build/keep_loaded.so"
cc -shared -fPIC -O1 -o "$shim" "$root/tools/sanitizers/keep_loaded.c" -ldl
# Only the shim is preloaded (not the ASan runtime, which would also instrument bash and Python
# and report their own leaks); the sanitized binaries carry the runtime themselves, loaded just
# after the shim, which verify_asan_link_order=0 allows.
export LD_PRELOAD="$shim"
export ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
if [ $# -eq 0 ]; then set -- -j2 -LE "package|python|server"; fi
ctest --test-dir "$build" --output-on-failure "$@"
