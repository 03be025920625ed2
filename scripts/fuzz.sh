#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each one.
#   scripts/fuzz.sh [seconds per target]   (default 60)
# Seeds come from tests/golden; new findings land in build/fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
scripts/setup.sh
if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: installing clang" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang >/dev/null
fi

cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DHANSHIRO_FUZZ=ON -DHANSHIRO_BUILD_TESTS=OFF >/dev/null
cmake --build build/fuzz --target record_decode_fuzzer wal_segment_fuzzer vector_files_fuzzer \
  table_file_fuzzer line_decoder_fuzzer make_vector_seeds

for target in record_decode_fuzzer wal_segment_fuzzer vector_files_fuzzer table_file_fuzzer line_decoder_fuzzer; do
  corpus="build/fuzz/corpus/$target"
  mkdir -p "$corpus"
  case $target in
    record_decode_fuzzer) cp tests/golden/record_v1_*.bin "$corpus/" ;;
    wal_segment_fuzzer) cp tests/golden/wal_v1_*.wal "$corpus/" ;;
    vector_files_fuzzer) build/fuzz/fuzz/make_vector_seeds "$corpus" ;;
    table_file_fuzzer) cp tests/golden/sstable_v1_*.sst "$corpus/" ;;
    line_decoder_fuzzer) cp fuzz/seeds/lines_*.txt "$corpus/" ;;
  esac
  echo "== $target: ${seconds}s" >&2
  "build/fuzz/fuzz/$target" -max_total_time="$seconds" -max_len=4096 "$corpus"
done
