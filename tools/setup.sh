#!/usr/bin/env bash
# Installs what vkstream needs on a Debian/Ubuntu machine (idempotent, quiet when all is there)
# and fetches the test model into ~/.cache/vkstream/models (outside the repo).
set -euo pipefail
pkgs=(build-essential cmake pkg-config python3 python3-pip mesa-vulkan-drivers libvulkan-dev vulkan-tools
      glslang-tools spirv-tools vulkan-validationlayers doctest-dev
      python3-numpy python3-pytest python3-venv                      # the Python package's tests (tests/python)
      libcpp-httplib-dev nlohmann-json3-dev                           # vkstream serve
      python3-selenium chromium chromium-driver)                      # its tests (tests/server)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The server tests drive it with the official OpenAI client (PyPI only), under Debian's python3
# (the one python3-pytest and python3-selenium install into; CMake's VKS_TEST_PYTHON).
if ! /usr/bin/python3 -c 'import openai' 2>/dev/null; then
  echo "setup: installing the openai Python client from PyPI" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO /usr/bin/python3 -m pip install --quiet --break-system-packages 'openai>=1.0' >/dev/null
fi
"$(dirname "$0")/fetch_model.sh" smollm2 >/dev/null
"$(dirname "$0")/fetch_model.sh" gemma3 >/dev/null  # the gemma3 e2e / unit tests (skip without it)
