#!/usr/bin/env bash
# Correctness against an independent engine (issue 18, item 4; figures in docs/PARITY.md):
# tokenizer parity and teacher-forced logit parity of vkstream with llama.cpp's CPU backend.
#
#   tools/parity.sh [MODEL ...]            default: smollm2 gemma3
#   ENGINES=gpu,gpu-decode,ref F32=1 TOKENS=1024 tools/parity.sh smollm2
#
# NOT part of CI: it needs llama-cpp-python, compiled from its sdist outside the repository by
# tools/llamacpp_venv.sh (minutes on first use), and minutes of CPU per model.
# MODEL: a GGUF path or a tools/fetch_model.sh name. ENGINES: which vkstream engines give logits
# (gpu: Vulkan, chunks of 256; gpu-decode: Vulkan, one token per step; ref: CPU reference).
# F32=1 adds the same comparison on an F32 copy of each model. JSON=DIR keeps every figure.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- smollm2 gemma3
py="$(tools/llamacpp_venv.sh)"
if [ ! -x build/apps/vks_parity_probe ] || [ ! -x build/apps/vkstream ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build -j"$(nproc)" --target vks_parity_probe vkstream_cli
fi
rc=0
echo "== tokenizer parity ($*) =="
"$py" tools/compare_tokenizer.py "$@" || rc=1
for m in "$@"; do
    echo "== logit parity: $m =="
    extra=()
    [ "${F32:-0}" = 1 ] && extra+=(--f32)
    [ -n "${JSON:-}" ] && mkdir -p "$JSON" && extra+=(--json "$JSON/logits-$(basename "$m" .gguf).json")
    "$py" tools/compare_logits.py "$m" --tokens "${TOKENS:-1024}" --engines "${ENGINES:-gpu,gpu-decode}" "${extra[@]}" || rc=1
done
exit $rc
