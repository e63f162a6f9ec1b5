#!/usr/bin/env bash
# Runs the C99 example on SmolLM2 (skipped with 77 when the model is not cached).
set -euo pipefail
model="${VKS_TEST_MODEL:-$HOME/.cache/vkstream/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
[ -s "$model" ] || { echo "SKIPPED: $model not found (tools/fetch_model.sh smollm2)"; exit 77; }
out=$("$1" "$model" "The capital of France is" 8)
echo "$out"
grep -q "Paris" <<<"$out" || { echo "expected the continuation to mention Paris"; exit 1; }
