#!/usr/bin/env bash
# --cache-type-k / --cache-type-v (issue 21) on the synthetic model: perplexity reports the types,
# the KV bytes per token and the KL against an f16 cache; bench, soak and run take the flags; a bad
# type is a clear error.
source "$(dirname "$0")/common.bash"

python3 - "$TMP/text.txt" <<'PY'
import random, sys
random.seed(3)
words = "the a of sea ship river town house garden letter sister brother morning evening walk ride".split()
open(sys.argv[1], "w").write(" ".join(random.choice(words) for _ in range(400)))
PY

field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

# perplexity with q8_0 keys and q4_0 values, 300 tokens through a 64-slot cache (the ring wraps).
run_vks "$TMP/q.json" "$TMP/q.err" perplexity --synthetic -f "$TMP/text.txt" --tokens 300 --sink 4 --window 60 \
  --cache-type-k q8_0 --cache-type-v q4_0 --kl-base --csv "$TMP/q.csv" --json
[ "$rc" -eq 0 ] || { cat "$TMP/q.err" >&2; fail "perplexity with a quantized cache exited $rc"; }
json_ok "$TMP/q.json" || fail "perplexity: bad JSON"
[ "$(field "$TMP/q.json" cache_type_k)" = q8_0 ] || fail "cache_type_k not reported"
[ "$(field "$TMP/q.json" cache_type_v)" = q4_0 ] || fail "cache_type_v not reported"
python3 - "$TMP/q.json" <<'PY' || fail "perplexity: mean_kl / ppl_f16_cache / kv_bytes_per_token out of range"
import json, math, sys
j = json.load(open(sys.argv[1]))
assert j["n_kl"] == j["n_predicted"] == 299, j
assert 0 <= j["mean_kl"] < 1 and math.isfinite(j["ppl_f16_cache"]), j
# synthetic model: 2 layers, 2 kv heads of 64: f16 2*2*2*64*2 = 1024 bytes per token;
# q8_0 K (34/64) + q4_0 V (18/64) = 416.
assert j["kv_bytes_per_token"] == 416, j["kv_bytes_per_token"]
PY
head -1 "$TMP/q.csv" | grep -q ",kl$" || fail "perplexity --kl-base: no kl column in the CSV"
grep -q "k q8_0, v q4_0" "$TMP/q.err" || fail "perplexity: cache types not on stderr"

# --kl-base needs a policy that streams.
run_vks "$TMP/b.out" "$TMP/b.err" perplexity --synthetic -f "$TMP/text.txt" --policy dense --kl-base
[ "$rc" -ne 0 ] && grep -q "kl-base" "$TMP/b.err" || fail "perplexity --policy dense --kl-base was not refused"

# A bad type: non-zero exit, the message names the flag and the choices.
for cmd in "run -m $TMP/none.gguf -p x" "chat -m $TMP/none.gguf" "perplexity --synthetic -f $TMP/text.txt" \
           "bench --synthetic" "soak --synthetic"; do
  run_vks "$TMP/bad.out" "$TMP/bad.err" $cmd --cache-type-v q5_1
  [ "$rc" -ne 0 ] || fail "$cmd --cache-type-v q5_1 exited 0"
  grep -q "cache-type-v: 'q5_1' is not f16, q8_0 or q4_0" "$TMP/bad.err" || { cat "$TMP/bad.err" >&2; fail "$cmd: no clear message"; }
done

# bench and soak take the types (and bench reports the bytes per token).
run_vks "$TMP/bench.json" "$TMP/bench.err" bench --synthetic --prompt-tokens 16 --decode-tokens 4 --window 60 \
  --cache-type-k q4_0 --cache-type-v q4_0 --json
[ "$rc" -eq 0 ] || { cat "$TMP/bench.err" >&2; fail "bench with q4_0 exited $rc"; }
[ "$(field "$TMP/bench.json" cache_type_k)" = q4_0 ] || fail "bench: cache_type_k not reported"
[ "$(field "$TMP/bench.json" kv_bytes_per_token)" = 288 ] || fail "bench: kv_bytes_per_token is not 288 (q4_0)"
run_vks "$TMP/soak.json" "$TMP/soak.err" soak --synthetic --tokens 200 --interval 100 --sink 4 --window 60 \
  --cache-type-k q8_0 --cache-type-v q8_0 --json
# Under AddressSanitizer host RSS climbs by design (freed memory sits in ASan's quarantine), so
# there soak's host-RSS verdict alone may fail it (exit 1); everything else must still hold.
asan=0
[ -n "${ASAN_OPTIONS:-}" ] && asan=1
[ "$rc" -eq 0 ] || [ "$asan" -eq 1 -a "$rc" -eq 1 ] || { cat "$TMP/soak.err" >&2; fail "soak with q8_0 exited $rc"; }
python3 - "$TMP/soak.json" "$asan" <<'PY' || { cat "$TMP/soak.err" >&2; fail "soak with q8_0: bad report"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["device_memory_grew"] is False and d["non_finite_logits"] == 0, d
assert d["pass"] is True or (sys.argv[2] == "1" and d["host_rss_grew"] is True), d
PY
# --cache-rotate (the calibrated rotation) keeps the sinks in f16 unless --cache-sinks says otherwise.
for sinks in "" "--cache-sinks same"; do
  run_vks "$TMP/rot.json" "$TMP/rot.err" perplexity --synthetic -f "$TMP/text.txt" --tokens 80 --sink 4 --window 60 \
    --cache-type-k q4_0 --cache-type-v q4_0 --cache-rotate $sinks --json
  [ "$rc" -eq 0 ] || { cat "$TMP/rot.err" >&2; fail "perplexity --cache-rotate $sinks exited $rc"; }
  want=True; [ -n "$sinks" ] && want=False
  [ "$(field "$TMP/rot.json" cache_f16_sinks)" = "$want" ] || fail "--cache-rotate $sinks: cache_f16_sinks is not $want"
  [ "$(field "$TMP/rot.json" cache_rotate)" = True ] || fail "--cache-rotate not reported"
done
echo "cache types ok"
