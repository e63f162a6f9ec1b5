#!/usr/bin/env bash
# vkstream bench -m on the built-in synthetic model: the text and JSON reports have every
# field, --profile adds one JSON line per phase whose ops add up to the phase's device time,
# --no-fusion runs, bench --kernels --json reports the yardsticks and cold matvecs, and bad
# options are one-line errors.
source "$(dirname "$0")/common.bash"

args=(bench --synthetic --prompt-tokens 24 --decode-tokens 6 --window 28)
run_vks "$TMP/b.txt" "$TMP/b.err" "${args[@]}"
[ "$rc" -eq 0 ] || { cat "$TMP/b.err" >&2; fail "bench exited $rc"; }
for k in prefill decode weights copy dispatch; do
  grep -q "^$k " "$TMP/b.txt" || { cat "$TMP/b.txt" >&2; fail "bench: no '$k' line"; }
done
echo "ok: text report"

run_vks "$TMP/p.json" "$TMP/p.err" "${args[@]}" --profile --json
[ "$rc" -eq 0 ] || { cat "$TMP/p.err" >&2; fail "bench --profile --json exited $rc"; }
python3 - "$TMP/p.json" <<'PY' || fail "bench --profile --json: bad output"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(lines) == 3, f"{len(lines)} JSON lines, expected 3"
main, pre, dec = lines
for k in ("prefill_tokens_per_s", "decode_tokens_per_s", "dispatch_us", "copy_gbps_ssbo", "kv_bytes"):
    assert main[k] >= 0, k
assert pre["profile"] == "prefill" and pre["tokens"] == 24, pre
assert dec["profile"] == "decode" and dec["tokens"] == 6 and dec["steps"] == 6, dec
for p in (pre, dec):
    total = sum(op["ms_per_token"] for op in p["ops"])
    assert abs(total - p["device_ms_per_token"]) <= 1e-6 * max(1.0, total), (total, p["device_ms_per_token"])
    assert p["dispatches_per_step"] == sum(op["calls_per_step"] for op in p["ops"])
    assert any(op["pipeline"].startswith("matvec_") for op in p["ops"]), p["ops"]
print("ok: --profile --json:", round(dec["dispatches_per_step"]), "dispatches per decode step")
PY

run_vks "$TMP/n.txt" "$TMP/n.err" "${args[@]}" --no-fusion
[ "$rc" -eq 0 ] || { cat "$TMP/n.err" >&2; fail "bench --no-fusion exited $rc"; }
echo "ok: --no-fusion"

# bench --kernels --json, one small case: the yardsticks (copy, FMA peak) and the cached and
# cold matvec and the matmul figures are all there and positive.
run_vks "$TMP/k.json" "$TMP/k.err" bench --kernels --json --quick --types q4_1 --shapes smollm --no-attention
[ "$rc" -eq 0 ] || { cat "$TMP/k.err" >&2; fail "bench --kernels --json exited $rc"; }
python3 - "$TMP/k.json" <<'PY' || fail "bench --kernels --json: bad output"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("copy_gbps", "copy_u32_gbps", "fma_peak_gflops"):
    assert d[k] > 0, k
assert len(d["results"]) == 5, len(d["results"])  # the five SmolLM2 shapes
for r in d["results"]:
    for k in ("matvec_us", "matvec_gbps", "matvec_cold_us", "matvec_cold_gbps", "matmul_gflops", "matmul_pct_of_peak"):
        assert r[k] > 0, (r["shape"], k)
print("ok: --kernels --json, FMA peak", d["fma_peak_gflops"], "GFLOP/s")
PY

# Bad options: exit 2, the reason first, then the usage.
for bad in "--decode-tokens 0" "--bogus"; do
  run_vks "$TMP/e.out" "$TMP/e.err" bench --synthetic $bad
  [ "$rc" -eq 2 ] || fail "bench --synthetic $bad: exit $rc, expected 2"
  head -n 1 "$TMP/e.err" | grep -q -- "${bad%% *}" || { cat "$TMP/e.err" >&2; fail "bench $bad: the first line does not name it"; }
  grep -q "^usage: vkstream bench" "$TMP/e.err" || fail "bench $bad: no usage"
  echo "ok (rc=2): bench $bad -> $(head -n 1 "$TMP/e.err")"
done
