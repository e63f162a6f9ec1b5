#!/usr/bin/env bash
# Prints the path of a Python interpreter that has llama.cpp's Python package (llama-cpp-python,
# CPU backend) and NumPy, creating it on first use: a venv OUTSIDE the repository, in
# $VKS_LLAMACPP_VENV (default ~/.cache/vkstream/llamacpp-py). The package is built from its PyPI
# sdist, which compiles llama.cpp (minutes; ~20-40 min on a busy 2-core machine). The version is
# the one tools/compare_llamacpp.sh uses ($LLAMACPP_PY_VERSION, default 0.3.36), so both tools
# compare against the same llama.cpp. Nothing of llama.cpp enters this repository.
#
# Used by tools/compare_logits.py and tools/compare_tokenizer.py (through tools/parity.sh).
set -euo pipefail
ver="${LLAMACPP_PY_VERSION:-0.3.36}"
venv="${VKS_LLAMACPP_VENV:-$HOME/.cache/vkstream/llamacpp-py}"
py="$venv/bin/python"
have() { [ -x "$py" ] && "$py" -c "import llama_cpp, numpy, sys; sys.exit(llama_cpp.__version__ != '$ver')" 2>/dev/null; }
if ! have; then
    echo "llamacpp_venv: building llama-cpp-python==$ver (CPU backend) into $venv" >&2
    [ -x "$py" ] || python3 -m venv "$venv"
    # CPU only (GGML_VULKAN off): the reference engine for parity is llama.cpp's CPU backend.
    CMAKE_ARGS="-DGGML_NATIVE=ON -DGGML_VULKAN=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF" \
        CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
        "$py" -m pip install --quiet --no-binary llama-cpp-python "llama-cpp-python==$ver" numpy >&2
    have || { echo "llamacpp_venv: llama_cpp $ver did not import from $py" >&2; exit 1; }
fi
echo "$py"
