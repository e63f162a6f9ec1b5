#!/usr/bin/env bash
# vkstream quantize: round trips to Q4_0 and Q4_K, then inspect shows the new types (2-D
# tensors) and F32 norms, metadata kept with general.file_type updated; refusals to overwrite
# the input (same path, hard link) and bad arguments exit non-zero with one stderr line.
source "$(dirname "$0")/common.bash"
[ -n "$MAKE_GGUF" ] || fail "make_test_gguf path not given"

model="$TMP/model.gguf"
"$MAKE_GGUF" "$model" || fail "make_test_gguf failed"
cp "$model" "$TMP/model.orig"

# check_types FILE TYPE FTYPE: 2-D tensors are TYPE, 1-D are F32, general.file_type == FTYPE,
# and every other key equals the original's.
check_types() {
  run_vks "$TMP/q.json" "$TMP/q.err" inspect "$1" --json
  [ "$rc" -eq 0 ] || { cat "$TMP/q.err" >&2; fail "inspect $1 exited $rc"; }
  run_vks "$TMP/orig.json" "$TMP/q.err" inspect "$TMP/model.orig" --json
  python3 - "$TMP/q.json" "$TMP/orig.json" "$2" "$3" <<'PY' || fail "types in $1"
import json, sys
q, orig = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
want, ftype = sys.argv[3], int(sys.argv[4])
for t in q["tensors"]:
    expect = "F32" if len(t["shape"]) == 1 else want
    assert t["type"] == expect, (t["name"], t["type"], expect)
assert [t["name"] for t in q["tensors"]] == [t["name"] for t in orig["tensors"]]
assert [t["shape"] for t in q["tensors"]] == [t["shape"] for t in orig["tensors"]]
a, b = orig["metadata"], q["metadata"]
assert len(a) == len(b), (len(a), len(b))
for x, y in zip(a, b):
    assert x["key"] == y["key"], (x["key"], y["key"])
    if x["key"] == "general.file_type":
        assert y["value"] == ftype and y["type"] == x["type"], (y, ftype)
    else:
        assert x == y, (x, y)
PY
}

for spec in Q4_0:2 Q4_K:14 F16:1; do
  type=${spec%%:*} ftype=${spec##*:}
  out="$TMP/model-$type.gguf"
  run_vks "$TMP/quant.out" "$TMP/quant.err" quantize "$model" "$out" "$type" --threads 2
  [ "$rc" -eq 0 ] || { cat "$TMP/quant.err" >&2; fail "quantize to $type exited $rc"; }
  grep -q "quantizing: 100%" "$TMP/quant.err" || fail "no progress on stderr for $type"
  [ -f "$out" ] || fail "no output file for $type"
  ls "$TMP" | grep -q '\.tmp\.' && fail "temporary file left behind"
  check_types "$out" "$type" "$ftype"
  echo "ok: quantize $type: $(head -n 1 "$TMP/quant.out")"
done

# Already quantized input: Q4_0 -> Q8_0.
run_vks "$TMP/quant.out" "$TMP/quant.err" quantize "$TMP/model-Q4_0.gguf" "$TMP/model-Q8_0.gguf" q8_0
[ "$rc" -eq 0 ] || { cat "$TMP/quant.err" >&2; fail "Q4_0 -> Q8_0 exited $rc"; }
check_types "$TMP/model-Q8_0.gguf" Q8_0 7

run_vks "$TMP/help.out" "$TMP/help.err" quantize --help
[ "$rc" -eq 0 ] && grep -q "usage: quantize IN.gguf OUT.gguf TYPE" "$TMP/help.out" || fail "quantize --help"

# Refusals; the input must stay byte-identical.
expect_error quantize "$model" "$model" Q4_0
ln "$model" "$TMP/hardlink.gguf" || fail "cannot make a hard link"
expect_error quantize "$model" "$TMP/hardlink.gguf" Q4_0
grep -q "input" "$TMP/err.err" || fail "refusal does not mention the input"
expect_error quantize "$TMP/./model.gguf" "$model" Q8_0
cmp -s "$model" "$TMP/model.orig" || fail "input changed by a refused quantize"
expect_error quantize "$model" "$TMP/x.gguf" Q9_9
expect_error quantize "$model" "$TMP/x.gguf" Q8_1
expect_error quantize "$model" "$TMP/x.gguf"
expect_error quantize "$model" "$TMP/x.gguf" Q4_0 --threads zero
expect_error quantize "$TMP/missing.gguf" "$TMP/x.gguf" Q4_0
[ ! -e "$TMP/x.gguf" ] || fail "a failed quantize left an output file"
echo "ok: quantize"
