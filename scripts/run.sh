#!/usr/bin/env bash
# Sets everything up, builds, and runs the server on the default data
# directory (./data in the current directory, or $HANSHIRO_DATA_DIR) at
# http://127.0.0.1:3000. Arguments replace the default command:
# scripts/run.sh stats --json
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

"$root/scripts/setup.sh"
"$root/scripts/build.sh" release >&2
if (($# == 0)); then set -- serve; fi
exec "$root/build/release/src/cli/hanshiro" "$@"
