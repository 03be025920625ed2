#!/usr/bin/env bash
# Sets everything up, builds, and runs the whole test suite twice:
# once optimized (Release) and once under AddressSanitizer + UndefinedBehaviorSanitizer.
# Extra arguments go to ctest (e.g. -R Record, -L soak).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
jobs=$(nproc)
for config in release asan; do
  echo "== $config: build" >&2
  scripts/build.sh "$config"
  echo "== $config: test" >&2
  ctest --test-dir "build/$config" --output-on-failure -j "$jobs" -LE soak "$@"
done
