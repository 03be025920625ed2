#!/usr/bin/env bash
# Installs every Debian package HanshiroDB needs to build and test.
# Idempotent: when everything is present it only checks and returns.
set -euo pipefail

PACKAGES=(
  # build
  cmake g++ ninja-build pkg-config ccache
  # BLAKE3 reference C sources with SIMD assembly (compiled into the build)
  librust-blake3-dev
  # compression, SIMD, JSON, HTTP, CLI, logging, signatures
  libzstd-dev liblz4-dev libsnappy-dev libhwy-dev libsimdjson-dev libboost-dev
  libcli11-dev libspdlog-dev libfmt-dev libssl-dev zlib1g-dev
  # CRC32C of blocks from 256 bytes on (carry-less multiply folding)
  libisal-dev
  # peers in the benchmarks
  libhnswlib-dev librocksdb-dev
  # tests and micro-benchmarks (curl drives the HTTP tests)
  libgtest-dev libgmock-dev libbenchmark-dev curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
