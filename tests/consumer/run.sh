#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then builds and runs an out-of-tree consumer
# twice: with find_package(vkstream CONFIG) and with pkg-config.  usage: run.sh BUILD_DIR SRC_DIR
set -euo pipefail
build="$1"; src="$2"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/tests/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
LD_LIBRARY_PATH="$work/prefix/lib:$work/prefix/lib64:${LD_LIBRARY_PATH:-}" "$work/consumer/consumer"
libdir=$(ls -d "$work/prefix"/lib*/pkgconfig | head -1)
cc -std=c99 -Wall -Werror $(PKG_CONFIG_PATH="$libdir" pkg-config --cflags vkstream) \
   "$src/tests/consumer/consumer.c" -o "$work/consumer_pc" $(PKG_CONFIG_PATH="$libdir" pkg-config --libs vkstream)
LD_LIBRARY_PATH="$work/prefix/lib:$work/prefix/lib64:${LD_LIBRARY_PATH:-}" "$work/consumer_pc"
