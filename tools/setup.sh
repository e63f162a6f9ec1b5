#!/usr/bin/env bash
# Installs what vkstream needs on a Debian/Ubuntu machine (idempotent, quiet when all is there)
# and fetches the test model into ~/.cache/vkstream/models (outside the repo).
set -euo pipefail
pkgs=(build-essential cmake pkg-config python3 python3-pip mesa-vulkan-drivers libvulkan-dev vulkan-tools
      glslang-tools spirv-tools vulkan-validationlayers doctest-dev
      python3-numpy python3-pytest python3-venv)  # python3-*: the Python package's tests (tests/python)
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
"$(dirname "$0")/fetch_model.sh" smollm2 >/dev/null
"$(dirname "$0")/fetch_model.sh" gemma3 >/dev/null  # the gemma3 e2e / unit tests (skip without it)
