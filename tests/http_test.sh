#!/usr/bin/env bash
# The HTTP API against a real server process on a loopback port: routes and
# status codes, malformed and oversized bodies, concurrent bulk writers, and
# kill -9 during bulk ingest followed by a restart in which every
# acknowledged event is present and verify passes. Needs curl.
#   tests/http_test.sh path/to/hanshiro
set -uo pipefail
H=$1
dir=$(mktemp -d)
pid=""
cleanup() { [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -f $dir/server.log ]] && cat "$dir/server.log" >&2; exit 1; }

start() {  # extra serve arguments
  "$H" serve --data-dir "$dir/db" --port 0 --preset max-durability "$@" 2>"$dir/server.log" &
  pid=$!
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$dir/server.log")
    [[ -n $port ]] && break
    sleep 0.05
  done
  [[ -n $port ]] || fail "server did not start"
  base="http://127.0.0.1:$port"
}
status() {  # method path [body] -> prints the status, body in $dir/body
  curl -s -o "$dir/body" -w "%{http_code}" -X "$1" "$base$2" ${3:+--data-binary "$3"}
}
expect() {  # want method path [body]
  local want=$1; shift
  local got; got=$(status "$@")
  [[ $got == "$want" ]] || fail "$1 $2 gave $got, not $want: $(cat "$dir/body")"
}

start --max-body-mb 1
expect 200 GET /health
grep -q '"status":"ok"' "$dir/body" || fail "health body"
expect 200 POST /events '{"event_type":"DNSQuery","source_host":"ws7","raw_data":"query evil.example","timestamp":"2023-11-14T22:13:20Z"}'
id=$(sed 's/.*"ids":\["\([^"]*\)".*/\1/' "$dir/body")
expect 200 GET "/events/$id"
grep -q '"source":{"host":"ws7"' "$dir/body" || fail "canonical shape: $(cat "$dir/body")"
expect 404 GET /events/0190a3c2-7b1e-7c4d-8f00-0123456789ab
expect 400 GET /events/not-an-id
expect 400 POST /events '{"raw_data": '
grep -q '"error":"malformed JSON' "$dir/body" || fail "malformed body: $(cat "$dir/body")"
expect 400 POST /events '{"source_host": 7}'
grep -q "source_host" "$dir/body" || fail "wrong type not named"
expect 405 DELETE /events
expect 404 GET /nowhere
head -c 2000000 /dev/zero | tr '\0' 'a' >"$dir/big"
got=$(curl -s -o /dev/null -w "%{http_code}" -X POST "$base/events" --data-binary @"$dir/big")
[[ $got == 413 ]] || fail "oversized body gave $got"
# gzip bodies: inflated (and held to the limit once inflated).
printf '{"raw_data":"gz one"}\n{"raw_data":"gz two"}\n' | gzip >"$dir/bulk.gz"
got=$(curl -s -o "$dir/body" -w "%{http_code}" -X POST "$base/events/_bulk" -H "Content-Encoding: gzip" --data-binary @"$dir/bulk.gz")
[[ $got == 200 ]] && grep -q '"ingested":2,"errors":0' "$dir/body" || fail "gzip bulk: $got $(cat "$dir/body")"
gzip -c "$dir/big" >"$dir/big.gz"
got=$(curl -s -o /dev/null -w "%{http_code}" -X POST "$base/events" -H "Content-Encoding: gzip" --data-binary @"$dir/big.gz")
[[ $got == 413 ]] || fail "a gzip body over the limit once inflated gave $got"
got=$(echo nope | curl -s -o /dev/null -w "%{http_code}" -X POST "$base/events" -H "Content-Encoding: gzip" --data-binary @-)
[[ $got == 400 ]] || fail "bad gzip gave $got"
# Other formats through ?format=: each line decoded, the bad one named.
printf '%s\n' 'CEF:0|Acme|FW|2|7|Connection denied|5|src=10.9.9.9 act=deny' 'CEF:0|broken' >"$dir/cef"
got=$(curl -s -o "$dir/body" -w "%{http_code}" -X POST "$base/events/_bulk?format=cef" --data-binary @"$dir/cef")
[[ $got == 200 ]] && grep -q '"ingested":1,"errors":1' "$dir/body" && grep -q '"line":2,"error":"CEF header' "$dir/body" ||
  fail "cef bulk: $got $(cat "$dir/body")"
got=$(curl -s -o "$dir/body" -w "%{http_code}" -X POST "$base/events/_bulk?format=xml" --data-binary @"$dir/cef")
[[ $got == 400 ]] && grep -q "unknown format 'xml'" "$dir/body" || fail "bad format: $got $(cat "$dir/body")"
expect 200 GET "/events?host=ws7&limit=10"
grep -q '"next_cursor":null' "$dir/body" || fail "listing"
expect 200 GET /verify
grep -q '"intact":true' "$dir/body" || fail "verify"
expect 200 GET /metrics
grep -q '^hanshiro_events_written_total' "$dir/body" || fail "metrics"

# A slow client holding a half-sent request does not hold up anyone else.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"raw' >&3
expect 200 GET /health
expect 200 POST /events '{"raw_data":"while a slow client waits"}'
exec 3>&-
# Many connections at once.
for i in $(seq 60); do
  curl -s -o /dev/null -w "%{http_code}\n" "$base/health" >>"$dir/many" &
done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null
[[ $(grep -c '^200$' "$dir/many") == 60 ]] || fail "60 parallel requests: $(sort "$dir/many" | uniq -c)"

# Concurrent bulk writers on keep-alive connections.
for w in 1 2 3 4; do
  for i in $(seq 50); do echo "{\"source_host\":\"w$w\",\"raw_data\":\"bulk $w $i\"}"; done >"$dir/bulk$w"
  curl -s -X POST "$base/events/_bulk" --data-binary @"$dir/bulk$w" -o "$dir/bulk$w.out" &
done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null
for w in 1 2 3 4; do
  grep -q '"ingested":50,"errors":0' "$dir/bulk$w.out" || fail "bulk writer $w: $(cat "$dir/bulk$w.out")"
done

# kill -9 during bulk ingest: what was acknowledged survives.
( for b in $(seq 200); do
    for i in $(seq 20); do echo "{\"raw_data\":\"crash $b $i\"}"; done |
      curl -s -X POST "$base/events/_bulk" --data-binary @- >>"$dir/acked" || break
    echo >>"$dir/acked"
  done ) &
loader=$!
sleep 1
kill -9 "$pid"; pid=""
kill "$loader" 2>/dev/null; wait "$loader" 2>/dev/null
grep -o '"id":"[^"]*"' "$dir/acked" | cut -d'"' -f4 >"$dir/acked_ids"
n=$(wc -l <"$dir/acked_ids")
[[ $n -gt 0 ]] || fail "nothing was acknowledged before the kill"
start
while read -r a; do
  code=$(status GET "/events/$a")
  [[ $code == 200 ]] || fail "acknowledged event $a lost after kill -9 ($code)"
done <"$dir/acked_ids"
expect 200 GET /verify
grep -q '"intact":true' "$dir/body" || fail "verify after kill -9: $(cat "$dir/body")"
kill -TERM "$pid"; wait "$pid"; code=$?; pid=""
[[ $code == 0 ]] || fail "graceful stop exited $code"
grep -q "stopped cleanly" "$dir/server.log" || fail "no clean stop"
# A connection idle (or stuck mid-request) past the timeout is closed.
start --idle-timeout-s 1
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"raw' >&3
if timeout 10 cat <&3 >/dev/null; then :; else fail "a stuck connection was not closed by the idle timeout"; fi
exec 3>&-
expect 200 GET /health
kill -TERM "$pid"; wait "$pid"; pid=""

# API keys: every route but /health needs the bearer key.
printf '# test key\nsecret-key-0123456789abcdef\n' >"$dir/keys"
start --api-key-file "$dir/keys"
expect 200 GET /health
expect 401 GET /verify
got=$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer secret-key-0123456789abcdef" "$base/verify")
[[ $got == 200 ]] || fail "the right key gave $got"
got=$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer nope-nope-nope-nope" "$base/verify")
[[ $got == 401 ]] || fail "a wrong key gave $got"
kill -TERM "$pid"; wait "$pid"; pid=""
echo "http test: ok ($n events acknowledged before kill -9, all present)"
