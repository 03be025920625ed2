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

# Other log formats: each line recognised by its shape (--format auto, the
# default), or named with --format; fields become metadata.
fdb=(--data-dir "$dir/fdb")
cat >"$dir/mixed.log" <<'LOG'
<134>Nov 14 22:13:21 fw02 CEF:0|Acme|FW|2|7|Connection denied|5|src=10.9.9.9 dpt=445 act=deny
LEEF:1.0|Microsoft|MSExchange|4.0|15345|src=192.0.2.1	cat=anomaly	usrName=joe
<38>Nov 14 22:13:19 bastion sshd[4242]: Failed password for root from 198.51.100.7 port 22 ssh2
{"class_uid":4003,"time":1700000000123,"device":{"hostname":"dns01"},"query":{"hostname":"evil.example"}}
{"@timestamp":"2023-11-14T22:13:20Z","event":{"category":["process"],"type":["start"]},"host":{"name":"ws9"},"process":{"name":"evil.exe"}}
{"timestamp":"2023-11-14T22:13:20.5+0000","flow_id":7,"event_type":"alert","src_ip":"10.0.0.5","alert":{"category":"A Network Trojan was detected"}}
nonsense that is no known format
LOG
expect_exit 1 "$H" ingest "${fdb[@]}" "$dir/mixed.log"
grep -q "ingested 6 events, 1 bad lines" "$dir/out" || fail "mixed ingest: $(cat "$dir/out")"
grep -q "mixed.log:7: not a recognised format" "$dir/err" || fail "unknown line not named: $(cat "$dir/err")"
for t in NetworkConnection AnomalyDetected Authentication DNSQuery ProcessStart MalwareDetected; do
  expect_exit 0 "$H" query "${fdb[@]}" --type "$t" --json
  [[ $(wc -l <"$dir/out") == 1 ]] || fail "--type $t after a mixed ingest: $(cat "$dir/out")"
done
expect_exit 0 "$H" query "${fdb[@]}" --where process.name=evil.exe --json
grep -q '"format":"ECS"' "$dir/out" || fail "ECS field as metadata: $(cat "$dir/out")"
expect_exit 0 "$H" query "${fdb[@]}" --where dpt=445 --json
grep -q '"host":"fw02"' "$dir/out" && grep -q '"format":"CEF"' "$dir/out" || fail "CEF: $(cat "$dir/out")"
printf '#separator \\x09\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tquery\n#types\ttime\tstring\taddr\tstring\n1700000005.5\tC1\t10.0.0.8\tbad.example\n1700000006.5\tC2\n' >"$dir/dns.log"
expect_exit 1 "$H" ingest "${fdb[@]}" --format zeek "$dir/dns.log"
grep -q "dns.log:6: Zeek line has 2 fields, its #fields header names 4" "$dir/err" || fail "zeek: $(cat "$dir/err")"
expect_exit 0 "$H" query "${fdb[@]}" --where query=bad.example --json
grep -q '"event_time":"2023-11-14T22:13:25.500000000Z"' "$dir/out" && grep -q '"ip":"10.0.0.8"' "$dir/out" || fail "zeek event: $(cat "$dir/out")"
expect_exit 1 "$H" ingest "${fdb[@]}" --format cef - <<<'<134>Nov 14 22:13:21 fw02 not cef at all'
grep -q "stdin:1: no 'CEF:' after the syslog header" "$dir/err" || fail "--format cef: $(cat "$dir/err")"
expect_exit 2 "$H" ingest "${fdb[@]}" --format xml - </dev/null
expect_exit 0 "$H" verify "${fdb[@]}"
echo "cli engine test: ok"
