#!/usr/bin/env bash
# vks_parity_probe (tools/parity_probe.cpp), the vkstream side of the llama.cpp parity check
# (tools/compare_logits.py, docs/PARITY.md), on the built-in synthetic model: the logits file has
# one row per fed token in feeding order, whatever the chunk size, and the GPU engine's rows
# match the CPU reference's; tokenize keeps one output line per case, any bytes included; bad
# input is a one-line error.
source "$(dirname "$0")/common.bash"
PROBE="$(dirname "$VKS")/vks_parity_probe"
[ -x "$PROBE" ] || fail "$PROBE not built"

"$PROBE" synthetic "$TMP/m.gguf" || fail "synthetic model not written"
# 40 ids across the synthetic vocabulary (320 tokens): specials, bytes, merges, fillers.
python3 -c 'print(" ".join(str((i * 37 + 5) % 320) for i in range(40)))' >"$TMP/ids.txt"

# logits ENGINE BATCH -> $TMP/ENGINE-BATCH.f32, checks the JSON line and the file size.
logits() {
  "$PROBE" logits "$TMP/m.gguf" "$TMP/ids.txt" "$TMP/$1-$2.f32" --engine "$1" --batch "$2" >"$TMP/j" 2>"$TMP/e" ||
    { cat "$TMP/e" >&2; fail "logits --engine $1 --batch $2 exited non-zero"; }
  python3 - "$TMP/j" "$TMP/$1-$2.f32" <<'PY' || fail "logits --engine $1 --batch $2: bad summary or file size"
import json, os, sys
j = json.loads(open(sys.argv[1]).read())
assert j["n_tokens"] == 40 and j["n_vocab"] == 320, j
assert os.path.getsize(sys.argv[2]) == 40 * 320 * 4
PY
}
logits ref 1
for b in 256 16; do logits gpu "$b"; done  # 16: 16 + 16 + 8, a partial last chunk

# Each GPU file against the reference, row by row: a row written out of order or shifted
# would sit against another position's logits and miss by O(1).
python3 - "$TMP" <<'PY' || fail "GPU logits differ from the CPU reference"
import array, sys
def rows(name):
    a = array.array("f")
    with open("%s/%s.f32" % (sys.argv[1], name), "rb") as f:
        a.fromfile(f, 40 * 320)
    return [a[i * 320:(i + 1) * 320] for i in range(40)]
ref = rows("ref-1")
for name in ("gpu-256", "gpu-16"):
    got = rows(name)
    worst = max(abs(x - y) for r, g in zip(ref, got) for x, y in zip(r, g))
    scale = max(abs(x) for r in ref for x in r)
    print("%s vs ref: max |diff| %.2e (max |logit| %.2f)" % (name, worst, scale))
    assert worst <= 1e-3 * max(1.0, scale), name
PY
echo "ok: GPU logits (one chunk of 40; chunks of 16) match the CPU reference row by row"

# tokenize: cases as hex lines; an empty case and one holding a newline keep their lines.
printf '%s\n' "$(printf 'a b' | od -An -tx1 | tr -d ' \n')" "" "$(printf 'x\ny' | od -An -tx1 | tr -d ' \n')" \
  "$(printf '<|im_start|>hi' | od -An -tx1 | tr -d ' \n')" >"$TMP/cases.hex"
"$PROBE" tokenize "$TMP/m.gguf" "$TMP/cases.hex" --no-add-special >"$TMP/plain" || fail "tokenize exited non-zero"
"$PROBE" tokenize "$TMP/m.gguf" "$TMP/cases.hex" --no-add-special --parse-special >"$TMP/special" ||
  fail "tokenize --parse-special exited non-zero"
[ "$(count_lines "$TMP/plain")" -eq 4 ] || fail "tokenize: expected 4 lines, got $(count_lines "$TMP/plain")"
[ -z "$(sed -n 2p "$TMP/plain")" ] || fail "tokenize: the empty case gave '$(sed -n 2p "$TMP/plain")'"
[ "$(sed -n 3p "$TMP/plain" | wc -w)" -eq 3 ] || fail "tokenize: 'x\\ny' gave '$(sed -n 3p "$TMP/plain")'"
# <|im_start|> is id 1 (synthetic vocabulary) only when special tokens are parsed.
[ "$(sed -n 4p "$TMP/special" | cut -d' ' -f1)" = 1 ] || fail "tokenize --parse-special: '$(sed -n 4p "$TMP/special")'"
[ "$(sed -n 4p "$TMP/plain" | cut -d' ' -f1)" != 1 ] || fail "tokenize without --parse-special matched <|im_start|>"
echo "ok: tokenize keeps one line per case and parses specials only when asked"

# Bad input: one line on stderr, non-zero exit.
probe_error() {
  "$PROBE" "$@" >/dev/null 2>"$TMP/err"
  local rc=$?
  [ "$rc" -ne 0 ] || fail "vks_parity_probe $* exited 0"
  [ "$(count_lines "$TMP/err")" -eq 1 ] || { cat "$TMP/err" >&2; fail "vks_parity_probe $*: expected one line on stderr"; }
  echo "ok (rc=$rc): $* -> $(cat "$TMP/err")"
}
echo "abc" >"$TMP/odd.hex"
probe_error tokenize "$TMP/m.gguf" "$TMP/odd.hex"
echo "1 2 320" >"$TMP/bad_ids.txt"
probe_error logits "$TMP/m.gguf" "$TMP/bad_ids.txt" "$TMP/x.f32" --engine ref
echo "1 two" >"$TMP/words.txt"
probe_error logits "$TMP/m.gguf" "$TMP/words.txt" "$TMP/x.f32"
probe_error logits "$TMP/m.gguf" "$TMP/ids.txt" "$TMP/x.f32" --engine cuda
probe_error logits "$TMP/nonexistent.gguf" "$TMP/ids.txt" "$TMP/x.f32"
probe_error frobnicate
exit 0
