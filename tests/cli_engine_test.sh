#!/usr/bin/env bash
# The database commands of the real binary: ingest (good and bad lines),
# query with filters, get, verify (intact, then a tampered table), proof and
# checkpoint, with the exit codes scripts rely on.
#   tests/cli_engine_test.sh path/to/hanshiro
set -uo pipefail
H=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_exit() {  # code, command...
  local want=$1; shift
  "$@" >"$dir/out" 2>"$dir/err"; local got=$?
  [[ $got == "$want" ]] || fail "$* exited $got, not $want: $(cat "$dir/err")"
}

cat >"$dir/events.ndjson" <<'JSON'
{"event_type":"Authentication","source_host":"dc01","raw_data":"4625 failed logon admin","timestamp":"2023-11-14T22:13:20Z","metadata":{"user":"admin"}}
{"event_type":"DNSQuery","source":{"host":"ws7","ip":"10.0.0.7"},"raw_data":"query evil.example","timestamp":1700000001000}

{"source_host":5}
{"event_type":"DNSQuery","source_host":"ws8","raw_data":"query ok.example","event_time":"2023-11-14T22:13:22Z"}
JSON
db=(--data-dir "$dir/db")

expect_exit 1 "$H" ingest "${db[@]}" "$dir/events.ndjson"   # one bad line: exit 1, good lines kept
grep -q "ingested 3 events, 1 bad lines" "$dir/out" || fail "ingest summary: $(cat "$dir/out")"
grep -q "events.ndjson:4: field 'source_host': expected a string" "$dir/err" || fail "bad line not named: $(cat "$dir/err")"

expect_exit 0 "$H" ingest "${db[@]}" --json - <<<'{"raw_data":"from stdin","timestamp":1700000003000}'
grep -q '"ingested":1,"bad_lines":0' "$dir/out" || fail "stdin ingest: $(cat "$dir/out")"

expect_exit 0 "$H" query "${db[@]}" --type DNSQuery --json
[[ $(wc -l <"$dir/out") == 2 ]] || fail "type filter: $(cat "$dir/out")"
expect_exit 0 "$H" query "${db[@]}" --from 2023-11-14T22:13:21Z --to 1700000002000 --json
[[ $(wc -l <"$dir/out") == 1 ]] && grep -q '"host":"ws7","ip":"10.0.0.7"' "$dir/out" || fail "time range: $(cat "$dir/out")"
id=$(sed 's/.*"id":"\([^"]*\)".*/\1/' "$dir/out")
expect_exit 0 "$H" query "${db[@]}" --where user=admin
grep -q "4625 failed logon admin" "$dir/out" && grep -q "(1 events)" "$dir/out" || fail "where: $(cat "$dir/out")"
expect_exit 2 "$H" query "${db[@]}" --from yesterday

expect_exit 0 "$H" get "${db[@]}" "$id"
grep -q '"raw_data":"query evil.example"' "$dir/out" || fail "get: $(cat "$dir/out")"
expect_exit 1 "$H" get "${db[@]}" 0190a3c2-7b1e-7c4d-8f00-0123456789ab
expect_exit 2 "$H" get "${db[@]}" not-an-id

expect_exit 0 "$H" proof "${db[@]}" "$id" --json
grep -q '"kind":"log"' "$dir/out" || fail "proof: $(cat "$dir/out")"
expect_exit 0 "$H" checkpoint "${db[@]}" --out "$dir/cp.bin"
[[ -s "$dir/cp.bin" ]] || fail "checkpoint file"

expect_exit 0 "$H" verify "${db[@]}" --json
grep -q '"intact":true,"records":4' "$dir/out" || fail "verify: $(cat "$dir/out")"
expect_exit 0 "$H" ingest "${db[@]}" - <<<'{"raw_data":"after the checkpoint","vector":[1,0,0]}'
expect_exit 0 "$H" verify "${db[@]}" --against "$dir/cp.bin"
grep -q "intact" "$dir/out" || fail "verify --against: $(cat "$dir/out")"
printf 'not a checkpoint' >"$dir/bad.bin"
expect_exit 1 "$H" verify "${db[@]}" --against "$dir/bad.bin"
expect_exit 0 "$H" similar "${db[@]}" --vector 1,0,0.1 --k 1 --json
grep -q '"kind":"log"' "$dir/out" || fail "similar: $(cat "$dir/out")"
expect_exit 2 "$H" similar "${db[@]}" --vector 1,x
expect_exit 1 "$H" similar "${db[@]}" --vector 1,0

# Flip one byte of a logged record: verify must find it, name its seq, and
# exit 1.
seg=$(ls "$dir/db/wal/"*.wal | head -1)
python3 - "$seg" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.find(b'query evil')
b[i] ^= 0x20
open(p, 'wb').write(bytes(b))
PY
"$H" verify "${db[@]}" >"$dir/out" 2>"$dir/err"; code=$?
[[ $code == 1 ]] || fail "verify of a tampered log exited $code: $(cat "$dir/out" "$dir/err")"
grep -q "BROKEN: .*at seq 1 " "$dir/out" || fail "verify gave no location: $(cat "$dir/out" "$dir/err")"
echo "cli engine test: ok"
