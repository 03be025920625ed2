#!/usr/bin/env bash
# Configures and builds one configuration.
#   scripts/build.sh [release|asan]   (default: release)
# Build trees: build/release, build/asan.
set -euo pipefail
cd "$(dirname "$0")/.."

config=${1:-release}
case "$config" in
  release) flags=(-DCMAKE_BUILD_TYPE=Release -DHANSHIRO_SANITIZE=OFF) ;;
  asan)    flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHANSHIRO_SANITIZE=ON) ;;
  *) echo "build.sh: unknown configuration '$config' (expected release or asan)" >&2; exit 2 ;;
esac

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  # Cache hits across checkouts in different directories (CI clones afresh).
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
fi

cmake -S . -B "build/$config" -G Ninja "${flags[@]}" "${launcher[@]}" >/dev/null
cmake --build "build/$config"
