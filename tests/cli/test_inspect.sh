#!/usr/bin/env bash
# vkstream inspect on a writer-made file: text tensor table and valid --json with the right
# tensors; a truncated copy and a missing file fail with exactly one line on stderr.
source "$(dirname "$0")/common.bash"
[ -n "$MAKE_GGUF" ] || fail "make_test_gguf path not given"

model="$TMP/model.gguf"
"$MAKE_GGUF" "$model" || fail "make_test_gguf failed"

run_vks "$TMP/inspect.txt" "$TMP/inspect.err" inspect "$model"
[ "$rc" -eq 0 ] || { cat "$TMP/inspect.err" >&2; fail "inspect exited $rc"; }
grep -q '^tensors (5):' "$TMP/inspect.txt" || fail "no 'tensors (5):' header in inspect output"
for t in token_embd.weight blk.0.attn_norm.weight blk.0.attn_q.weight blk.0.ffn_down.weight output_norm.weight; do
  grep -Eq "^ +$t +F32 " "$TMP/inspect.txt" || fail "tensor table has no F32 row for $t"
done
grep -q 'general.architecture' "$TMP/inspect.txt" || fail "metadata not listed"

run_vks "$TMP/inspect.json" "$TMP/inspect.err" inspect "$model" --json
[ "$rc" -eq 0 ] || fail "inspect --json exited $rc"
json_ok "$TMP/inspect.json" || fail "inspect --json is not valid JSON"
python3 - "$TMP/inspect.json" <<'PY' || fail "inspect --json content"
import json, sys
d = json.load(open(sys.argv[1]))
names = [t["name"] for t in d["tensors"]]
assert names == ["token_embd.weight", "blk.0.attn_norm.weight", "blk.0.attn_q.weight",
                 "blk.0.ffn_down.weight", "output_norm.weight"], names
assert all(t["type"] == "F32" for t in d["tensors"])
assert d["tensors"][3]["shape"] == [512, 256], d["tensors"][3]["shape"]
assert d["architecture"] == "llama"
PY

# Truncated: keep the header but cut the tensor data short.
size=$(stat -c %s "$model")
head -c $((size - 1000)) "$model" >"$TMP/truncated.gguf"
expect_error inspect "$TMP/truncated.gguf"
[ ! -s "$TMP/err.out" ] || fail "inspect of a truncated file printed to stdout"
head -c 100 "$model" >"$TMP/header-only.gguf"
expect_error inspect "$TMP/header-only.gguf"
expect_error inspect "$TMP/header-only.gguf" --json
expect_error inspect "$TMP/does-not-exist.gguf"
echo "ok: inspect"
