#!/bin/sh
# Untrusted input on lanraged's control socket (proto/api.md): raw bytes
# through ctl-raw, no lanragectl in between.  Every bad request gets one
# {"ok":false,"error":...,"code":...} line and the connection stays usable;
# requests on one connection are answered in order; a line over 65,536
# bytes gets an error and the connection is closed; 16 idle clients are
# the limit and do not stop the daemon once they are gone; party commands
# without a control server say what is missing.  Afterwards the same
# lanraged is alive and answers lanragectl.  No controld: the node stays
# unconfigured throughout.
. "$(dirname "$0")/../party-lib.sh"

RAW=$(pwd)/$BUILD/tests/integration/ctl-raw

party_require
[ -x "$RAW" ] || skip "no $RAW"

party_topology
party_node a
SOCK=$PT_RUN/a/ctl/lanraged.sock
OUT=$PT_RUN/out
PID=$PT_PID_a

# send FORMAT: printf FORMAT on a fresh connection; the answers in $OUT.
send() {
	printf "$1" | timeout 20 "$RAW" "$SOCK" >"$OUT" ||
	    pt_fail "ctl-raw: no connection to $SOCK"
}

nanswers() { wc -l <"$OUT" | tr -d ' '; }
answer() { sed -n "$1p" "$OUT"; }

# is_err N CODE TEXT: answer N is exactly {ok: false, error, code: CODE}
# and its error contains TEXT.
is_err() {
	answer "$1" | jq -e --arg c "$2" --arg t "$3" '(keys ==
	    ["code", "error", "ok"]) and .ok == false and .code == $c and
	    (.error | type == "string" and contains($t))' >/dev/null ||
	    pt_fail "answer $1 is not a $2 error naming \"$3\": $(answer "$1")"
}

# is_ok N FILTER: answer N is {ok: true, result} and FILTER holds on it.
is_ok() {
	answer "$1" | jq -e ".ok == true and (.result | $2)" >/dev/null ||
	    pt_fail "answer $1 is not ok with $2: $(answer "$1")"
}

# bad LINE CODE TEXT: LINE gets that error, and a request after it on the
# same connection is still answered.
bad() {
	send "$1\n{\"cmd\":\"peers\"}\n"
	[ "$(nanswers)" = 2 ] || pt_fail "'$(printf '%.60s' "$1")':" \
	    "$(nanswers) answers: $(cut -c1-200 "$OUT")"
	is_err 1 "$2" "$3"
	is_ok 2 '.peers == []'
}

alive() {
	kill -0 "$PID" 2>/dev/null || pt_fail "lanraged (pid $PID) died"
}

bad 'garbage' bad_request "not a JSON object"
bad '{"cmd":"status"' bad_request "not a JSON object"
bad '"status"' bad_request "not a JSON object"
bad '[{"cmd":"status"}]' bad_request "not a JSON object"
bad '[]' bad_request "not a JSON object"
bad '' bad_request "not a JSON object"
bad '{"cmd":5}' bad_request '"cmd"'
bad '{"cmd":null}' bad_request '"cmd"'
bad '{"args":{}}' bad_request '"cmd"'
bad '{"cmd":"status","args":[]}' bad_request '"args"'
bad '{"cmd":"status","colour":"blue"}' bad_request '"cmd"'
alive
ok "not a request object: bad_request, connection still usable"

bad '{"cmd":"frobnicate"}' unknown_command 'frobnicate'
bad '{"cmd":"STATUS"}' unknown_command 'STATUS'
bad '{"cmd":""}' unknown_command 'unknown command'
bad '{"cmd":"status","args":{"colour":"blue"}}' bad_request '"colour"'
bad '{"cmd":"settings.get","args":{"key":"name","verbose":true}}' \
    bad_request '"verbose"'
bad '{"cmd":"settings.get","args":{"key":5}}' bad_request '"key"'
bad '{"cmd":"settings.set","args":{"key":"name","value":7}}' \
    bad_request '"value"'
bad '{"cmd":"invite","args":{"approval":"yes"}}' bad_request '"approval"'
bad '{"cmd":"invite","args":{"expiry":"1h"}}' bad_request '"expiry"'
bad '{"cmd":"settings.set","args":{"key":"name"}}' bad_request '"value"'
bad '{"cmd":"settings.set"}' bad_request 'missing argument'
bad '{"cmd":"party.join","args":{}}' bad_request '"invite"'
bad '{"cmd":"log"}' bad_request '"level"'
alive
ok "unknown command, unknown argument, wrong type, missing argument"

# Long names of two-byte characters: an error message cut to its bound
# must stay a JSON string.  \303\251 is UTF-8 for U+00E9.
e=$(i=0; while [ $i -lt 300 ]; do printf '%s' '\303\251'; i=$((i + 1)); done)
u=$(i=0; while [ $i -lt 300 ]; do printf '%s' '\\u00e9'; i=$((i + 1)); done)
bad "{\"cmd\":\"status\",\"args\":{\"a$e\":1}}" bad_request "unknown argument"
bad "{\"cmd\":\"status\",\"args\":{\"a$u\":1}}" bad_request "unknown argument"
bad "{\"cmd\":\"$e\"}" unknown_command "unknown command"
bad "{\"cmd\":\"settings.get\",\"args\":{\"key\":\"$e\"}}" not_found \
    "settings.get"
bad "{\"cmd\":\"settings.set\",\"args\":{\"key\":\"a$u\",\"value\":\"x\"}}" \
    not_found "settings.set"
bad "{\"cmd\":\"settings.set\",\"args\":{\"key\":\"name\",\"value\":\"$u\"}}" \
    bad_request "name"
alive
ok "long UTF-8 names and values: the error is still one JSON line"

bad '{"cmd":"status","cmd":"status"}' bad_request "duplicate"
bad '{"cmd":"settings.get","args":{"key":"name","key":"api.port"}}' \
    bad_request "duplicate"
bad '{"cmd":"settings.set","args":{"key":"name","value":"a\\u0000b"}}' \
    bad_request "not a JSON object"
bad '{"cmd":"invite","args":{"expiry":99999999999999999999999}}' \
    bad_request "not a JSON object"
bad '{"cmd":"invite","args":{"expiry":-1}}' bad_request "expiry"
bad '{"cmd":"log","args":{"level":"loud"}}' bad_request "level"
bad '{"cmd":"settings.get","args":{"key":"node.private_key"}}' not_found \
    "node.private_key"
[ "$(ctl a settings get name)" != "a" ] || pt_fail "a name was stored"
alive
ok "duplicate keys, escaped NUL, out-of-range numbers, private key: refused"

# NUL bytes: outside JSON, inside a string, after the object.
bad 'abc\000def' bad_request "not a JSON object"
bad '{"cmd":"sta\000tus"}' bad_request "not a JSON object"
bad '{"cmd":"status"}\000' bad_request "not a JSON object"
bad '\000' bad_request "not a JSON object"
bad '\377\376{"cmd":"status"}' bad_request "not a JSON object"
alive
ok "lines with NUL bytes and bytes that are not UTF-8: bad_request"

# Several requests on one connection: every one answered, in order.
r='garbage\n{"cmd":"status"}\n{"cmd":"frob"}\n'
r=$r'{"cmd":"settings.get","args":{"key":"api.port"}}\n\n{"cmd":"peers"}\n'
send "$r"'{"cmd":"settings.get","args":{"key":"keepalive"}}\n'
[ "$(nanswers)" = 7 ] || pt_fail "7 requests, $(nanswers) answers"
is_err 1 bad_request "not a JSON object"
is_ok 2 '.node.public_key | length == 44'
is_err 3 unknown_command "frob"
is_ok 4 '.settings == {"api.port": "8666"}'
is_err 5 bad_request "not a JSON object"
is_ok 6 '.peers == []'
is_ok 7 '.settings == {"keepalive": "25"}'
ok "7 requests on one connection: 7 answers in order"

# The longest request is 65,536 bytes with its newline.
{ head -c 65535 /dev/zero | tr '\0' x; printf '\n{"cmd":"peers"}\n'; } |
    timeout 20 "$RAW" "$SOCK" >"$OUT" || pt_fail "ctl-raw (65,536 bytes)"
[ "$(nanswers)" = 2 ] || pt_fail "65,536-byte line: $(nanswers) answers"
is_err 1 bad_request "not a JSON object"
is_ok 2 '.peers == []'
ok "a 65,536-byte line is a request (bad_request), the connection stays"

# 70,000 bytes on a line: an error, then the server closes the connection
# although our side keeps it open; the request after it is not read.
t0=$(date +%s%N)
{ head -c 70000 /dev/zero | tr '\0' x; printf '\n{"cmd":"peers"}\n'
    sleep 5; } | { timeout 20 "$RAW" "$SOCK" >"$OUT"
    echo $? >"$PT_RUN/rc"; date +%s%N >"$PT_RUN/t1"; }
[ "$(cat "$PT_RUN/rc")" = 0 ] || pt_fail "ctl-raw (70,000 bytes)"
ms=$(( ($(cat "$PT_RUN/t1") - t0) / 1000000 ))
[ "$(nanswers)" = 1 ] || pt_fail "70,000-byte line: $(cut -c1-300 "$OUT")"
is_err 1 bad_request "65536"
[ "$ms" -lt 3000 ] || pt_fail "connection still open after ${ms} ms"
alive
ok "a 70,000-byte line: bad_request, lanraged closed the connection" \
    "in ${ms} ms"

# 20 idle clients: lanraged holds 16 (the bound) and refuses the rest;
# when they have gone, lanragectl works again.
# nclients: connections to the control socket that lanraged holds open
# (its sockets named $SOCK; an accepted one lives in its client's netns).
nclients() {
	ls -l "/proc/$PID/fd" 2>/dev/null |
	    sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' >"$PT_RUN/inodes"
	{ cat /proc/net/unix; nsx a cat /proc/net/unix; } |
	    awk -v p="$SOCK" 'NR == FNR { i[$1]; next }
	    $6 == "03" && $8 == p && ($7 in i)' "$PT_RUN/inodes" - | wc -l
}
held() { [ "$(nclients)" -ge 16 ]; }
[ "$(nclients)" = 0 ] || pt_fail "$(nclients) clients before the test"
pids=
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	sleep 4 | timeout 20 "$RAW" "$SOCK" >/dev/null 2>&1 &
	pids="$pids $!"
done
wait_for 3 held ||
    pt_fail "lanraged holds $(nclients) clients, not 16"
[ "$(nclients)" = 16 ] || pt_fail "lanraged holds $(nclients) clients"
"$PT_CTL" -s "$SOCK" status >/dev/null 2>&1 &&
    pt_fail "a 21st client was served over the bound of 16"
for p in $pids; do
	wait "$p" || pt_fail "an idle client failed to connect"
done
alive
[ "$(nclients)" = 0 ] || pt_fail "$(nclients) clients left over"
ctlj a status | jq -e '.node.public_key | length == 44' >/dev/null ||
    pt_fail "status after the idle clients left"
ok "20 idle clients: lanraged full at 16; status works once they left"

# Read-only clients (group members) cannot lock root out: they get 12 of
# the 16 slots, the next is told why, and root is still served.
ro_raw() {
	setpriv --reuid=65531 --regid=65531 --groups="$PT_UID" "$@"
}
pids=
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do
	sleep 4 | ro_raw timeout 20 "$RAW" "$SOCK" >/dev/null 2>&1 &
	pids="$pids $!"
done
rheld() { [ "$(nclients)" -ge 12 ]; }
wait_for 3 rheld || pt_fail "lanraged holds $(nclients) read-only clients"
sleep 0.3
[ "$(nclients)" = 12 ] || pt_fail "$(nclients) read-only clients held, not 12"
out=$(ro_raw "$PT_CTL" -s "$SOCK" status 2>&1) &&
    pt_fail "a 13th read-only client was served"
echo "$out" | grep -q "too many control clients" || pt_fail "it said: $out"
ctlj a status >/dev/null || pt_fail "root locked out by read-only clients"
for p in $pids; do
	wait "$p"
done
ok "read-only clients hold at most 12 slots; root is still served"

# Party commands without a control server.
bad '{"cmd":"party.create","args":{"name":"lan night"}}' unavailable \
    "control.server"
bad '{"cmd":"party.join","args":{"invite":"garbage"}}' bad_request \
    "invite link"
link=lanrage://10.99.0.1:8667/v1/x/y
bad "{\"cmd\":\"party.join\",\"args\":{\"invite\":\"$link\"}}" bad_request \
    "invite link"
bad '{"cmd":"party.leave"}' conflict "not in a party"
[ "$(ctl a settings get control.server)" = "" ] ||
    pt_fail "a refused join changed control.server"
ok "party.create unconfigured: unavailable naming control.server; bad links"

alive
[ "$(ctlj a status | jq -r .control.state)" = unconfigured ] ||
    pt_fail "status after all that: $(ctlj a status)"
ctl a status >/dev/null || pt_fail "lanragectl status"
ok "lanraged (pid $PID) alive and answering lanragectl"
