#!/usr/bin/env bash
# Sets everything up, builds, and runs hanshiro on the default data directory
# (./hanshiro-data, or $HANSHIRO_DATA_DIR). Arguments replace the default command.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh release >&2
if (($# == 0)); then set -- stats; fi
exec build/release/src/cli/hanshiro "$@"
