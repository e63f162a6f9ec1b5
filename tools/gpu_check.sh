#!/usr/bin/env bash
# Speed and correctness check on a machine with a real GPU, in one go, writing one JSON file.
# The GPU machine is assumed to have NO network: everything it needs is copied there first.
#
# On this (networked) machine, before copying:
#   tools/setup.sh && tools/build.sh            # builds build/apps/vkstream and build/tests/*
#   tools/gpu_check.sh --split MODEL gpu_parts   # the model in parts of PART_MIB (default 48) MiB
#                                                # plus gpu_parts/MANIFEST (sha256 of parts and whole)
#   optional, for the llama.cpp comparison: tools/compare_llamacpp.sh --build-only, and copy
#   $VKS_LLAMACPP_DIR (~/.cache/vkstream/llamacpp) along; without it that part is skipped.
# Copy to the GPU machine: the repository tree, build/apps/vkstream, build/tests/vks_kernels_tests
# (both link the library statically; they need libvulkan.so.1 and the GPU's Vulkan driver there,
# and the validation layer package for the kernel tests; python3 writes the JSON), and the parts
# in gpu_parts/ (each part can travel in its own transfer: a model larger than one transfer is
# split here and rejoined there).
#
# On the GPU machine, in the repository root:
#   tools/gpu_check.sh [--parts gpu_parts] [--model PATH] [--out gpu_check.json] [--quick]
# rejoins the parts (checking every sha256), then runs, recording each step's exit status and
# output in the JSON (a failing step does not stop the others):
#   1. vkstream info --json                         the device and the variants chosen
#   2. the kernel tests with validation (every shader against its CPU reference)
#   3. vkstream bench --kernels --json               matvec (float and integer-dot paths) and
#      matmul per weight type, copy bandwidth, FMA peak; "decode_matvec_pct_of_copy" below is the
#      4096 x 4096 matvec's cold bandwidth against the same run's copy bandwidth (target >= 80 %)
#   4. vkstream bench -m MODEL --json --profile      prefill / decode speed, dispatches per step
#   5. vkstream bench -m MODEL --first-token --json  start-up, cold and warm caches
#   6. tools/compare_llamacpp.sh MODEL              where llama.cpp builds were copied along
#   7. the KV cache types (issue 21 item 5): decode attention per layer-step at 256-16k slots for
#      f16, q8_0, q4_0 and q4_0 + rotation (bench --kernels --no-matmul, SmolLM2 shape), and with
#      a model the whole decode at each window of --kv-windows (default 1020,4092,16380; the
#      prompt fills the cache, then 64 tokens); "kv_cache" below sums them up: each type's
#      attention time at the largest cache and decode tok/s at every window, as ratios to f16.
#      (f16's attention rows repeat part of step 3 on purpose: the four types run back to back
#      with the same flags, so their ratios compare like with like.)
# --quick: the kernel tests of the matmul family only, the kernel bench's --quick mode, and the
# model decode per cache type at window 1020 only.
#
#   tools/gpu_check.sh --split MODEL DIR [PART_MIB]  /  tools/gpu_check.sh --join DIR OUT
# are the two halves of the transfer on their own.
set -uo pipefail
cd "$(dirname "$0")/.."

split_model() {  # MODEL DIR [PART_MIB]
    local model="$1" dir="$2" mib="${3:-48}"
    [ -f "$model" ] || { echo "gpu_check: no model file $model" >&2; return 1; }
    mkdir -p "$dir" && rm -f "$dir"/part-* "$dir/MANIFEST"
    split -b "${mib}M" -d -a 3 "$model" "$dir/part-" || return 1
    {
        echo "name $(basename "$model")"
        echo "whole $(sha256sum "$model" | cut -d' ' -f1) $(stat -c %s "$model")"
        (cd "$dir" && sha256sum part-*) | sed 's/^/part /'
    } > "$dir/MANIFEST"
    echo "gpu_check: $(ls "$dir"/part-* | wc -l) parts of up to $mib MiB in $dir (MANIFEST lists their sha256)" >&2
}

join_model() {  # DIR OUT: rejoins the parts the MANIFEST names, checks every sha256
    local dir="$1" out="$2"
    [ -f "$dir/MANIFEST" ] || { echo "gpu_check: no $dir/MANIFEST" >&2; return 1; }
    local parts=() sum name
    while read -r kind sum name; do
        [ "$kind" = part ] || continue
        [ -f "$dir/$name" ] || { echo "gpu_check: part $name is missing (copied yet?)" >&2; return 1; }
        [ "$(sha256sum "$dir/$name" | cut -d' ' -f1)" = "$sum" ] || { echo "gpu_check: part $name is corrupt" >&2; return 1; }
        parts+=("$dir/$name")
    done < "$dir/MANIFEST"
    cat "${parts[@]}" > "$out.tmp" || return 1
    read -r _ sum _ < <(grep '^whole ' "$dir/MANIFEST")
    [ "$(sha256sum "$out.tmp" | cut -d' ' -f1)" = "$sum" ] || { echo "gpu_check: the joined model does not match" >&2; rm -f "$out.tmp"; return 1; }
    mv "$out.tmp" "$out"
}

case "${1:-}" in
    --split) shift; split_model "$@"; exit $? ;;
    --join) shift; join_model "$@"; exit $? ;;
esac

parts=gpu_parts model="" out=gpu_check.json quick=0 kv_windows=""
while [ $# -gt 0 ]; do
    case "$1" in
        --parts) parts="$2"; shift 2 ;;
        --model) model="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --quick) quick=1; shift ;;
        --kv-windows) kv_windows="$2"; shift 2 ;;
        *) echo "usage: tools/gpu_check.sh [--parts DIR] [--model PATH] [--out FILE] [--quick] [--kv-windows W,W,...] | --split MODEL DIR [MIB] | --join DIR OUT" >&2; exit 2 ;;
    esac
done
[ -n "$kv_windows" ] || { [ "$quick" = 1 ] && kv_windows=1020 || kv_windows=1020,4092,16380; }
case "$kv_windows" in *[!0-9,]*) echo "gpu_check: --kv-windows takes window sizes separated by commas" >&2; exit 2 ;; esac
vks=build/apps/vkstream kt=build/tests/vks_kernels_tests
work=$(mktemp -d /tmp/gpu_check.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Each step: its command, exit status, seconds, and its stdout (JSON where the tool gives JSON).
step() {  # NAME CMD...
    local name="$1"; shift
    local t0 t1
    t0=$(date +%s%N)
    "$@" > "$work/$name.out" 2> "$work/$name.err"
    echo $? > "$work/$name.rc"
    t1=$(date +%s%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }' > "$work/$name.secs"
    printf '%s\n' "$*" > "$work/$name.cmd"
    echo "gpu_check: $name: exit $(cat "$work/$name.rc")" >&2
}

if [ -z "$model" ] && [ -f "$parts/MANIFEST" ]; then
    model="$work/$(awk '/^name /{print $2}' "$parts/MANIFEST")"
    step join join_model "$parts" "$model"
fi
[ -x "$vks" ] || echo "gpu_check: $vks is missing: build it here, or copy it along" >&2

step info "$vks" info --json
if [ "$quick" = 1 ]; then
    step kernel_tests env VKS_VALIDATE=1 "$kt" -tc='*matvec*,*matmul*,*q8_1*'
    step bench_kernels "$vks" bench --kernels --json --quick --no-attention
else
    step kernel_tests env VKS_VALIDATE=1 "$kt"
    step bench_kernels "$vks" bench --kernels --json
fi
if [ -n "$model" ] && [ -f "$model" ]; then
    step bench_model "$vks" bench -m "$model" --json --profile
    step first_token "$vks" bench -m "$model" --first-token --json
    if [ -x "${VKS_LLAMACPP_DIR:-$HOME/.cache/vkstream/llamacpp}/llama_cpp_python-${LLAMACPP_PY_VERSION:-0.3.36}/vendor/llama.cpp/build-cpu/bin/llama-bench" ]; then
        step compare env REPS=1 tools/compare_llamacpp.sh "$model"
    else
        echo "no llama.cpp builds copied along" > "$work/compare.skipped"
    fi
else
    echo "no model (give --model, or copy the parts from --split into $parts)" > "$work/model.skipped"
fi

# Cache types: name, then the flags that choose it.
kv_flags() {  # TYPE -> flags
    case "$1" in
        f16) echo "" ;;
        q8_0) echo "--cache-type-k q8_0 --cache-type-v q8_0" ;;
        q4_0) echo "--cache-type-k q4_0 --cache-type-v q4_0" ;;
        q4_0_rot) echo "--cache-type-k q4_0 --cache-type-v q4_0 --cache-rotate" ;;
    esac
}
kv_quick=()
[ "$quick" = 1 ] && kv_quick=(--quick)
for t in f16 q8_0 q4_0 q4_0_rot; do
    # shellcheck disable=SC2046  # the flags are words
    step "kv_attention_$t" "$vks" bench --kernels --no-matmul --types q8_0 --shapes smollm --json "${kv_quick[@]}" $(kv_flags $t)
done
if [ -n "$model" ] && [ -f "$model" ]; then
    for w in ${kv_windows//,/ }; do
        for t in f16 q8_0 q4_0 q4_0_rot; do
            # shellcheck disable=SC2046
            step "kv_decode_${t}_w$w" "$vks" bench -m "$model" --sink 4 --window "$w" --prompt-tokens $((w + 4)) \
                --decode-tokens 64 --json $(kv_flags $t)
        done
    done
fi

python3 - "$work" "$out" "$model" <<'EOF'
import glob, json, os, platform, subprocess, sys
work, out, model = sys.argv[1:]
def read(p, default=""):
    try:
        return open(p).read()
    except OSError:
        return default
res = {"host": platform.node(), "model": os.path.basename(model) if model else None, "steps": {}, "skipped": {}}
try:
    res["commit"] = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() or None
except OSError:
    res["commit"] = None
for rc in sorted(glob.glob(os.path.join(work, "*.rc"))):
    name = os.path.basename(rc)[:-3]
    text = read(os.path.join(work, name + ".out"))
    s = {"command": read(os.path.join(work, name + ".cmd")).strip(), "exit": int(read(rc, "1").strip() or 1),
         "seconds": float(read(os.path.join(work, name + ".secs"), "0").strip() or 0)}
    lines = [l for l in text.splitlines() if l.strip()]
    try:
        s["json"] = json.loads(text)
    except ValueError:
        try:
            s["json"] = [json.loads(l) for l in lines]  # one object per line (bench -m --profile)
        except ValueError:
            s["output_tail"] = "\n".join(lines[-40:])
    s["stderr_tail"] = "\n".join(read(os.path.join(work, name + ".err")).splitlines()[-20:])
    res["steps"][name] = s
for sk in glob.glob(os.path.join(work, "*.skipped")):
    res["skipped"][os.path.basename(sk)[:-8]] = read(sk).strip()
# Decode matvec bandwidth against copy bandwidth, from the kernel bench (target >= 80 %).
bk = res["steps"].get("bench_kernels", {}).get("json")
if isinstance(bk, dict):
    copy = bk.get("copy_gbps") or 0
    rows = [r for r in bk.get("results", []) if r.get("M") == 4096 and r.get("K") == 4096]
    res["decode_matvec_pct_of_copy"] = {r["type"]: round(100.0 * r["matvec_cold_gbps"] / copy, 1) for r in rows if copy}
    res["copy_gbps"] = copy
# KV cache types (issue 21 item 5): attention at the largest cache and decode at each window,
# against f16 ("not slower than f16 at 16k" is ratio_to_f16 <= 1 for attention, >= 1 for tok/s).
kv = {"attention_ms_per_step": {}, "decode_tokens_per_s": {}, "kv_bytes_per_token": {}}
for name, s in res["steps"].items():
    j = s.get("json")
    if name.startswith("kv_attention_") and isinstance(j, dict) and j.get("attention"):
        rows = [r for r in j["attention"] if r.get("axis") == "cache"]
        if rows:
            big = max(rows, key=lambda r: r["capacity"])
            kv["attention_ms_per_step"][name[len("kv_attention_"):]] = {"slots": big["capacity"], "ms": big["ms_per_step"]}
    elif name.startswith("kv_decode_") and isinstance(j, dict) and "decode_tokens_per_s" in j:
        t, w = name[len("kv_decode_"):].rsplit("_w", 1)
        kv["decode_tokens_per_s"].setdefault(w, {})[t] = round(j["decode_tokens_per_s"], 2)
        kv["kv_bytes_per_token"][t] = j.get("kv_bytes_per_token")
att = kv["attention_ms_per_step"]
if "f16" in att:
    kv["attention_ratio_to_f16"] = {t: round(a["ms"] / att["f16"]["ms"], 3) for t, a in att.items()}
for w, d in kv["decode_tokens_per_s"].items():
    if d.get("f16"):
        kv.setdefault("decode_ratio_to_f16", {})[w] = {t: round(v / d["f16"], 3) for t, v in d.items()}
res["kv_cache"] = kv
json.dump(res, open(out, "w"), indent=1)
print(f"gpu_check: wrote {out}", file=sys.stderr)
EOF
