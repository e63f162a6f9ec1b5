#!/usr/bin/env bash
# vkstream perplexity on the built-in synthetic model (no download): the four policies agree
# exactly while the stream fits the cache, CSV and JSON outputs are complete, a dense cache the
# device cannot hold is a clear message (not a crash), bad options are one-line errors.
source "$(dirname "$0")/common.bash"

# A text of ~6000 byte tokens (the synthetic model's vocabulary is bytes).
python3 - "$TMP/text.txt" <<'PY'
import random, sys
random.seed(7)
words = "the a of sea ship river town house garden letter sister brother morning evening walk ride".split()
open(sys.argv[1], "w").write(" ".join(random.choice(words) for _ in range(1200)))
PY

# mean_nll ARGS...: mean NLL of a run, from its JSON summary.
mean_nll() {
  run_vks "$TMP/p.json" "$TMP/p.err" perplexity --synthetic -f "$TMP/text.txt" --json "$@"
  [ "$rc" -eq 0 ] || { cat "$TMP/p.err" >&2; fail "perplexity $* exited $rc"; }
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["complete"]; print(repr(d["mean_nll"]))' "$TMP/p.json" ||
    fail "perplexity $*: bad JSON"
}

# 1. While the stream fits every cache, each policy sees the whole history at positions 0..i:
#    the same NLL to the last bit.
dense=$(mean_nll --tokens 50 --policy dense)
for pol in "recompute --window 64" "sink --sink 4 --window 60" "window --window 64"; do
  got=$(mean_nll --tokens 50 --policy $pol)
  [ "$got" = "$dense" ] || fail "--policy $pol on 50 tokens: mean NLL $got, dense $dense"
done
echo "ok: dense, recompute, sink and window agree on a stream that fits ($dense)"

# 2. Past the cache they differ, and the CSV has one row per prediction, in order, with
#    finite values; the JSON counts what was past the cache.
run_vks "$TMP/s.json" "$TMP/s.err" perplexity --synthetic -f "$TMP/text.txt" --tokens 400 --policy sink \
  --sink 4 --window 60 --csv "$TMP/s.csv" --json
[ "$rc" -eq 0 ] || { cat "$TMP/s.err" >&2; fail "sink run exited $rc"; }
python3 - "$TMP/s.csv" "$TMP/s.json" <<'PY' || fail "sink run: CSV/JSON check failed"
import csv, json, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
d = json.load(open(sys.argv[2]))
assert [int(r["token"]) for r in rows] == list(range(1, 400)), "CSV rows are not tokens 1..399"
assert all(math.isfinite(float(r["nll"])) for r in rows)
mean = sum(float(r["nll"]) for r in rows) / len(rows)
assert abs(mean - d["mean_nll"]) < 1e-5 * max(1, abs(mean)), (mean, d["mean_nll"])
assert d["n_predicted"] == 399 and d["n_predicted_past_cache"] == 399 - 64, d
PY
grep -q "ETA" "$TMP/s.err" || fail "sink run: no progress line on stderr"
sink=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean_nll"])' "$TMP/s.json")
win=$(mean_nll --tokens 400 --policy window --window 64)
[ "$sink" != "$win" ] || fail "sink and window agree past the cache ($sink): the eviction is not happening"
echo "ok: CSV and JSON of a 400-token sink run; window-only differs past the cache"

# 3. A dense cache the device cannot hold: exit 1 and a message saying so, while a sink cache
#    fits the same budget (VKS_LIMITS=device_memory caps what the device may allocate).
budget=10000000
VKS_LIMITS=device_memory=$budget "$VKS" perplexity --synthetic -f "$TMP/text.txt" --policy dense >"$TMP/d.out" 2>"$TMP/d.err"
rc=$?
[ "$rc" -eq 1 ] || { cat "$TMP/d.err" >&2; fail "dense past the memory budget exited $rc, expected 1"; }
grep -q "cannot allocate a dense cache" "$TMP/d.err" || { cat "$TMP/d.err" >&2; fail "dense: no clear message"; }
grep -q "out of device memory" "$TMP/d.err" || fail "dense: the cause is not named"
VKS_LIMITS=device_memory=$budget "$VKS" perplexity --synthetic -f "$TMP/text.txt" --tokens 300 --policy sink \
  --sink 4 --window 60 >"$TMP/s2.out" 2>"$TMP/s2.err" || { cat "$TMP/s2.err" >&2; fail "sink under the same budget failed"; }
echo "ok: dense past the memory budget -> $(grep -m1 'cannot allocate' "$TMP/d.err" | cut -c1-120)..."

# 4. Bad options: one line on stderr (then the usage), non-zero exit.
for args in "--policy bogus" "--window 0" "--tokens -5" "--sink x"; do
  run_vks "$TMP/b.out" "$TMP/b.err" perplexity --synthetic -f "$TMP/text.txt" $args
  [ "$rc" -ne 0 ] || fail "perplexity $args exited 0"
  head -n 1 "$TMP/b.err" | grep -q "vkstream perplexity" || { cat "$TMP/b.err" >&2; fail "perplexity $args: no error line"; }
done
run_vks "$TMP/b.out" "$TMP/b.err" perplexity --synthetic -f "$TMP/missing.txt"
[ "$rc" -ne 0 ] || fail "perplexity on a missing text exited 0"
echo "perplexity ok"
