#!/usr/bin/env bash
# The shared library exports only vks_* symbols.  usage: exports.sh LIBRARY
set -euo pipefail
syms=$(nm -D --defined-only "$1" | awk '{print $3}')
[ -n "$syms" ] || { echo "no exported symbols found in $1"; exit 1; }
bad=$(printf '%s\n' "$syms" | grep -v '^vks_' || true)
if [ -n "$bad" ]; then
  echo "symbols other than vks_* are exported:"; printf '%s\n' "$bad" | head -20; exit 1
fi
echo "$(printf '%s\n' "$syms" | wc -l) symbols exported, all vks_*"
