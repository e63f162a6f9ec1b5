#!/usr/bin/env bash
# The long-stream perplexity study of docs/STREAMING.md: runs `vkstream perplexity` for each
# policy and cache, one run after the other, writing per-token CSVs, JSON summaries and logs to
# $VKS_STUDY_DIR (default ~/.cache/vkstream/study), then draws the plot.
#
#   tools/streaming_study.sh ppl      [TOKENS [TOKENS_2K]]  sink/window at 4+1020, 0+1024 (TOKENS,
#                                    default 65536) and 4+2044, 0+2048 (TOKENS_2K, default TOKENS)
#   tools/streaming_study.sh dense    [TOKENS]   dense (no eviction) past the trained context
#   tools/streaming_study.sh recompute [TOKENS] [WINDOW]   re-computation, sink and window on a small
#                                    cache (default 384 tokens, cache 128: re-computation costs
#                                    WINDOW token evaluations per token)
#   tools/streaming_study.sh speed               per-token latency: sink cache vs re-computation
#   tools/streaming_study.sh plot                docs/img/ppl.png from the ppl and dense CSVs
#
# A run whose JSON summary exists is skipped, so the script can be stopped and started again.
# VKS_BIN chooses the vkstream binary (default build/apps/vkstream), MODEL and TEXT the inputs
# (default: SmolLM2-135M-Instruct Q4_1 and Jane Austen's six novels, fetched if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${VKS_BIN:-build/apps/vkstream}"
out="${VKS_STUDY_DIR:-$HOME/.cache/vkstream/study}"
model="${MODEL:-$(tools/fetch_model.sh smollm2)}"
text="${TEXT:-$(tools/fetch_austen.sh)}"
mkdir -p "$out"

# run NAME ARGS...: one perplexity run, skipped when its summary is there
run() {
    local name=$1; shift
    if [ -s "$out/$name.json" ]; then echo "study: $name done already" >&2; return 0; fi
    echo "study: $name: $bin perplexity -m MODEL -f TEXT $*" >&2
    "$bin" perplexity -m "$model" -f "$text" --csv "$out/$name.csv" --json "$@" \
        > "$out/$name.json.tmp" 2> "$out/$name.log"
    mv "$out/$name.json.tmp" "$out/$name.json"
}

what="${1:-ppl}"
case "$what" in
ppl)
    n="${2:-65536}"; n2="${3:-$n}"
    run "sink_4_1020"   --tokens "$n"  --policy sink   --sink 4 --window 1020
    run "window_0_1024" --tokens "$n"  --policy window --window 1024
    run "sink_4_2044"   --tokens "$n2" --policy sink   --sink 4 --window 2044
    run "window_0_2048" --tokens "$n2" --policy window --window 2048
    ;;
dense)
    n="${2:-12288}"
    run "dense_$n" --tokens "$n" --policy dense
    ;;
recompute)
    n="${2:-384}"; w="${3:-128}"
    run "recompute_0_${w}_n$n" --tokens "$n" --policy recompute --window "$w"
    run "sink_4_$((w - 4))_n$n" --tokens "$n" --policy sink --sink 4 --window "$((w - 4))"
    run "window_0_${w}_n$n"    --tokens "$n" --policy window --window "$w"
    ;;
speed)
    # Re-computation rebuilds `cache` tokens per token; the sink cache decodes one. Timed over
    # the tokens past the point where the cache is full: 2 per re-computation run (each costs a
    # cache-sized prefill), 32 decode steps per sink run.
    for cache in 256 512 1024 2048 4096; do
        run "speed_recompute_$cache" --tokens $((cache + 3)) --policy recompute --window "$cache" --report-latency
        run "speed_sink_$cache" --tokens $((cache + 33)) --policy sink --sink 4 --window $((cache - 4)) \
            --report-latency --decode-from "$cache"
    done
    ;;
plot)
    python3 tools/plot_ppl.py --out docs/img/ppl.png --mark 1024 --mark 2048 --mark 8192 \
        "$out"/sink_4_1020.csv "$out"/window_0_1024.csv "$out"/sink_4_2044.csv "$out"/window_0_2048.csv \
        $(ls "$out"/dense_*.csv 2>/dev/null | head -n 1)
    ;;
*)
    echo "usage: tools/streaming_study.sh ppl|dense|recompute|speed|plot [TOKENS] [WINDOW]" >&2; exit 2 ;;
esac
