#!/usr/bin/env bash
# Sets everything up, builds, and runs hanshiro on the default data directory
# (./hanshiro-data in the current directory, or $HANSHIRO_DATA_DIR).
# Arguments replace the default command: scripts/run.sh stats --json
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

"$root/scripts/setup.sh"
"$root/scripts/build.sh" release >&2
if (($# == 0)); then set -- stats; fi
exec "$root/build/release/src/cli/hanshiro" "$@"
