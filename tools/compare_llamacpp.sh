#!/usr/bin/env bash
# Side-by-side decode/prefill speed: vkstream against llama.cpp's Vulkan backend (on the same
# Vulkan device) and llama.cpp's native CPU backend, on the same GGUF, in one run (issue 6).
#
#   tools/compare_llamacpp.sh [MODEL]          build llama.cpp if needed, then run all three
#   tools/compare_llamacpp.sh --build-only
#
# llama.cpp is built from the llama-cpp-python sdist on PyPI (version $LLAMACPP_PY_VERSION),
# outside the repository, in $VKS_LLAMACPP_DIR (default ~/.cache/vkstream/llamacpp): nothing of
# llama.cpp enters this repository. Needs the Debian packages glslc and spirv-headers for its
# Vulkan build. Debian 12's Vulkan-Hpp (1.3.239) predates VK_EXT_layer_settings, which that
# llama.cpp uses only to turn on best-practice validation; where the header lacks it, the build
# copy is edited to create its instance without that chained struct (nothing else changes).
#
# Measures: llama-bench -p 512 -n 128 (prefill of 512 tokens, decode of 128), REPS repetitions
# (default 2), THREADS CPU threads (default nproc); vkstream bench with the same lengths.
set -euo pipefail
cd "$(dirname "$0")/.."
ver="${LLAMACPP_PY_VERSION:-0.3.36}"
dir="${VKS_LLAMACPP_DIR:-$HOME/.cache/vkstream/llamacpp}"
src="$dir/llama_cpp_python-$ver/vendor/llama.cpp"
reps="${REPS:-2}"
threads="${THREADS:-$(nproc)}"

build() {
    local missing=()
    for p in glslc spirv-headers; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
        apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    mkdir -p "$dir"
    if [ ! -d "$src" ]; then
        pip download --no-deps --no-binary :all: -d "$dir" "llama-cpp-python==$ver" >&2
        tar xzf "$dir/llama_cpp_python-$ver.tar.gz" -C "$dir"
    fi
    if ! grep -q "LayerSettingEXT" /usr/include/vulkan/vulkan_structs.hpp 2>/dev/null; then
        python3 - "$src/ggml/src/ggml-vulkan/ggml-vulkan.cpp" <<'EOF'
import re, sys
p = sys.argv[1]; s = open(p).read()
s2 = re.sub(r'VkBool32 enable_best_practice = layer_settings;.*?&layer_setting_info\);',
            'vk::InstanceCreateInfo instance_create_info(vk::InstanceCreateFlags{}, &app_info, layers, extensions);',
            s, flags=re.S)
if s2 != s:
    open(p, 'w').write(s2)
    print("compare_llamacpp: instance creation edited for the older Vulkan-Hpp", file=sys.stderr)
EOF
    fi
    # The ISA switches come from this CPU's flags, but never AMX: on a VM whose cpuid lists AMX
    # without the kernel enabling the tile state, llama.cpp's AMX path (which GGML_NATIVE's
    # -march=native turns on whatever GGML_AMX_* say) dies with SIGILL at its first ldtilecfg.
    # So GGML_NATIVE is off and each extension llama.cpp knows is named explicitly.
    local isa=() f
    local cpuflags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
    for f in sse4_2:SSE42 avx:AVX avx2:AVX2 fma:FMA f16c:F16C bmi2:BMI2 avx_vnni:AVX_VNNI \
             avx512f:AVX512 avx512vbmi:AVX512_VBMI avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16; do
        case "$cpuflags" in *" ${f%%:*} "*) isa+=("-DGGML_${f#*:}=ON") ;; *) isa+=("-DGGML_${f#*:}=OFF") ;; esac
    done
    local common=(-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF "${isa[@]}"
                  -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
                  -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF)
    for kind in cpu vk; do
        # A build configured before AMX was turned off (GGML_NATIVE=ON) is reconfigured in place:
        # only the CPU backend's objects change.
        if [ -x "$src/build-$kind/bin/llama-bench" ] &&
           grep -q '^GGML_NATIVE:BOOL=OFF' "$src/build-$kind/CMakeCache.txt" 2>/dev/null; then
            continue
        fi
        local flag=-DGGML_VULKAN=OFF
        [ "$kind" = vk ] && flag=-DGGML_VULKAN=ON
        echo "compare_llamacpp: building llama.cpp ($kind) in $src/build-$kind" >&2
        cmake -S "$src" -B "$src/build-$kind" "${common[@]}" "$flag" >/dev/null
        cmake --build "$src/build-$kind" --target llama-bench -j"$(nproc)" >/dev/null
    done
}

build
[ "${1:-}" = "--build-only" ] && exit 0
model="${1:-$(tools/fetch_model.sh smollm2)}"
[ -x build/apps/vkstream ] || tools/build.sh

# llama-bench's JSON: one object per test; n_prompt > 0 is prefill, n_gen > 0 decode.
# The Vulkan run must really run on the device: llama.cpp skips CPU-type Vulkan devices (such as
# lavapipe) unless GGML_VK_VISIBLE_DEVICES names them, and then silently runs on the CPU, so
# its gpu_info must name a device.
lb() {  # lb KIND ARGS... -> "prefill_tps decode_tps device"
    "$src/build-$1/bin/llama-bench" -m "$model" -p 512 -n 128 -r "$reps" -t "$threads" -o json "${@:2}" 2>/dev/null |
        python3 -c 'import json,sys
r = json.load(sys.stdin)
pp = [t["avg_ts"] for t in r if t["n_prompt"] > 0]; tg = [t["avg_ts"] for t in r if t["n_gen"] > 0]
dev = r[0].get("gpu_info", "") if sys.argv[1] == "vk" else "CPU"
if not dev: sys.exit("compare_llamacpp: llama.cpp found no Vulkan device (its run would be on the CPU)")
print(pp[0], tg[0], dev.replace(" ", "_"))' "$1"
}
echo "compare_llamacpp: llama.cpp CPU backend ($threads threads)" >&2
read -r cpu_pp cpu_tg cpu_be < <(lb cpu)
echo "compare_llamacpp: llama.cpp Vulkan backend" >&2
read -r vk_pp vk_tg vk_be < <(GGML_VK_VISIBLE_DEVICES="${GGML_VK_VISIBLE_DEVICES:-0}" lb vk -ngl 99)
[ -n "${vk_tg:-}" ] || exit 1
echo "compare_llamacpp: vkstream" >&2
read -r vs_pp vs_tg vs_dev < <(build/apps/vkstream bench -m "$model" --prompt-tokens 512 --decode-tokens 128 --json 2>/dev/null |
    python3 -c 'import json,sys; j = json.load(sys.stdin); print(j["prefill_tokens_per_s"], j["decode_tokens_per_s"], j["device"].replace(" ", "_"))')

python3 - "$model" "$cpu_pp" "$cpu_tg" "$cpu_be" "$vk_pp" "$vk_tg" "$vk_be" "$vs_pp" "$vs_tg" "$vs_dev" "$ver" "$threads" <<'EOF'
import os, sys
m, cpu_pp, cpu_tg, cpu_be, vk_pp, vk_tg, vk_be, vs_pp, vs_tg, dev, ver, thr = sys.argv[1:]
f = lambda s: float(s)
print(f"model: {os.path.basename(m)}; device: {dev.replace('_', ' ')}; llama.cpp from llama-cpp-python {ver}; "
      f"prefill 512 tokens, decode 128 tokens")
print("| engine | prefill tok/s | decode tok/s | vkstream decode / this |")
print("|---|---:|---:|---:|")
print(f"| llama.cpp CPU backend ({thr} threads) | {f(cpu_pp):.1f} | {f(cpu_tg):.1f} | {f(vs_tg) / f(cpu_tg):.2f}x |")
print(f"| llama.cpp Vulkan backend ({vk_be.replace('_', ' ')}) | {f(vk_pp):.1f} | {f(vk_tg):.1f} | {f(vs_tg) / f(vk_tg):.2f}x |")
print(f"| vkstream | {f(vs_pp):.1f} | {f(vs_tg):.1f} | 1.00x |")
EOF
