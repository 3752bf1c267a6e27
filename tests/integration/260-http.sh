#!/bin/sh
# The web UI's REST API with curl against real lanraged nodes: the page
# carries the secret, the API creates a party on a and joins b to it with
# the invite link, b appears in a's members with a path and an RTT;
# foreign Host, cross-origin and cross-site requests and requests without
# the secret change nothing; malformed, oversized, mistyped and unknown
# input gets clear 4xx answers; no secret in any API answer; the events
# stream and the metrics history are live; /metrics passes promtool.
. "$(dirname "$0")/../party-lib.sh"

party_require curl promtool

PT_DIRECT="a b"
party_topology
party_controld
for x in a b; do
	party_node "$x"
	party_node_server "$x"
done
U=http://127.0.0.1:8666

# hx X CURL-ARGS...: curl in X's namespace; prints the body, then the
# status on a line of its own
hx() {
	x=$1
	shift
	nsx "$x" curl -sS --max-time 20 -w '\n%{http_code}\n' "$@"
}
status_of() { tail -n 1; }
body_of() { sed '$d'; }
# post X PATH JSON [CURL-ARGS...]: with X's secret
post() {
	x=$1 p=$2 j=$3
	shift 3
	eval "s=\$SECRET_$x"
	hx "$x" -X POST -H "X-LANrage-Secret: $s" \
	    -H 'Content-Type: application/json' --data "$j" "$@" "$U$p"
}

up() { nsx "$1" curl -sf --max-time 2 "$U/api/v1/status" >/dev/null; }
for x in a b; do
	wait_for 10 up "$x" || pt_fail "$x: no HTTP on 127.0.0.1:8666"
	page=$(nsx "$x" curl -sf "$U/") || pt_fail "$x: no page"
	s=$(echo "$page" | sed -n \
	    's/.*name="lanrage-secret" content="\([0-9a-f]*\)".*/\1/p')
	[ ${#s} -eq 64 ] || pt_fail "$x: no secret in the page"
	eval "SECRET_$x=$s"
done
hdrs=$(nsx a curl -sfI "$U/")
echo "$hdrs" | grep -qi '^content-security-policy:.*default-src' &&
    echo "$hdrs" | grep -qi '^x-frame-options: deny' ||
    pt_fail "page headers: $hdrs"
ok "UI page served on 127.0.0.1:8666 with its secret, CSP and no framing"

r=$(hx a "$U/api/v1/status")
[ "$(echo "$r" | status_of)" = 200 ] &&
    [ "$(echo "$r" | body_of | jq -r .result.node.name)" = node-a ] ||
    pt_fail "status: $r"
connected() {
	[ "$(nsx "$1" curl -sf "$U/api/v1/status" |
	    jq -r .result.control.state)" = connected ]
}
for x in a b; do
	wait_for 10 connected "$x" || pt_fail "$x: not connected"
done
ok "GET /api/v1/status: node-a, connected"

# Refused: no secret, a wrong one, a foreign Host (DNS rebinding), a
# cross-origin or cross-site request.  Each must leave a in no party.
no_party() { [ "$(ctlj a status | jq -r .party)" = null ]; }
r=$(hx a -X POST -H 'Content-Type: application/json' \
    --data '{"name":"x"}' "$U/api/v1/party")
[ "$(echo "$r" | status_of)" = 403 ] && no_party || pt_fail "no secret: $r"
r=$(hx a -X POST -H "X-LANrage-Secret: $(printf "%064d" 0)" \
    -H 'Content-Type: application/json' --data '{"name":"x"}' \
    "$U/api/v1/party")
[ "$(echo "$r" | status_of)" = 403 ] && no_party || pt_fail "bad secret: $r"
r=$(post a /api/v1/party '{"name":"x"}' -H 'Host: evil.example:8666')
[ "$(echo "$r" | status_of)" = 403 ] && no_party || pt_fail "Host: $r"
r=$(hx a -H 'Host: rebind.example.com:8666' "$U/api/v1/status")
[ "$(echo "$r" | status_of)" = 403 ] || pt_fail "rebinding GET: $r"
r=$(hx a -H 'Host: 127.0.0.1:8667' "$U/")
[ "$(echo "$r" | status_of)" = 403 ] || pt_fail "other port: $r"
r=$(post a /api/v1/party '{"name":"x"}' -H 'Origin: http://evil.example')
[ "$(echo "$r" | status_of)" = 403 ] && no_party ||
    pt_fail "cross-origin: $r"
r=$(post a /api/v1/party '{"name":"x"}' -H 'Sec-Fetch-Site: cross-site')
[ "$(echo "$r" | status_of)" = 403 ] && no_party || pt_fail "cross-site: $r"
r=$(hx a -X POST -H "X-LANrage-Secret: $SECRET_a" \
    -H 'Content-Type: text/plain' --data '{"name":"x"}' "$U/api/v1/party")
[ "$(echo "$r" | status_of)" = 415 ] && no_party || pt_fail "text/plain: $r"
ok "refused and nothing changed: no or wrong secret, foreign Host, cross-origin, cross-site, a form's content type"

# Bad input: clear 4xx answers in the API's error shape.
bad() {	# WANT-STATUS WHAT RESPONSE
	[ "$(echo "$3" | status_of)" = "$1" ] &&
	    echo "$3" | body_of | jq -e '.ok == false and (.error | length) > 0
	    and (.code | length) > 0' >/dev/null || pt_fail "$2: $3"
}
bad 400 "malformed JSON" "$(post a /api/v1/party '{"name":')"
bad 400 "not an object" "$(post a /api/v1/party '[1,2]')"
bad 400 "unknown field" "$(post a /api/v1/party '{"name":"x","evil":1}')"
bad 400 "wrong type" "$(post a /api/v1/party '{"name":7}')"
bad 400 "missing field" "$(post a /api/v1/party/join '{}')"
bad 400 "bad setting" "$(post a /api/v1/settings '{"key":"lan.rate","value":"-1"}')"
bad 404 "unknown path" "$(hx a "$U/api/v1/nothing")"
bad 405 "wrong method" "$(hx a "$U/api/v1/party")"
bad 400 "bad history query" "$(hx a "$U/api/v1/metrics?seconds=0")"
big=$PT_RUN/big.json
head -c 100000 /dev/zero | tr '\0' 'a' | sed 's/.*/{"name":"&"}/' >"$big"
r=$(post a /api/v1/party "@$big")
[ "$(echo "$r" | status_of)" = 413 ] && no_party || pt_fail "oversized: $r"
ok "malformed, non-object, unknown field, wrong type, missing field, bad value, unknown path, wrong method: 4xx with the reason; a 100 kB body: 413"

# A slow client that never finishes its request does not stop others.
nsx a sh -c 'for i in 1 2 3 4 5 6 7 8; do
	{ printf "GET / HTTP/1.1\r\nHost: 127.0.0.1:8666\r\n"; sleep 8; } |
	    timeout 9 curl -s telnet://127.0.0.1:8666 >/dev/null 2>&1 &
done'
sleep 0.5
r=$(hx a "$U/api/v1/status")
[ "$(echo "$r" | status_of)" = 200 ] || pt_fail "beside slow clients: $r"
ok "8 clients stuck in their headers: status still answered"

r=$(post a /api/v1/party '{"name":"web night"}')
[ "$(echo "$r" | status_of)" = 200 ] || pt_fail "create: $r"
r=$(post a /api/v1/invite '{"uses":1}')
link=$(echo "$r" | body_of | jq -r .result.link)
case $link in lanrage:*) ;; *) pt_fail "invite: $r" ;; esac
r=$(post b /api/v1/party/join "{\"invite\":\"$link\"}")
[ "$(echo "$r" | status_of)" = 200 ] || pt_fail "join: $r"
ok "POST party, invite, join: a party made on a's API, b joined by link on b's"

seen_b() {
	nsx a curl -sf "$U/api/v1/peers" | jq -e '.result.peers[] |
	    select(.name == "node-b" and .path == "direct" and
	    (.rtt_ms | type) == "number")' >/dev/null
}
wait_for 15 seen_b || pt_fail "b not among a's members: $(nsx a curl -s \
    "$U/api/v1/peers")"
rtt=$(nsx a curl -sf "$U/api/v1/peers" |
    jq -r '.result.peers[] | select(.name == "node-b") | .rtt_ms')
ok "b among a's members: direct, RTT $rtt ms"

# Nothing secret in any answer but the page: not the UI secret, not the
# node's private key.
priv=$(sqlite3 "$PT_RUN/a/state/lanraged.db" \
    "SELECT value FROM settings WHERE key = 'node.private_key'")
[ -n "$priv" ] || pt_fail "no private key in a's database"
all=$PT_RUN/answers
: >"$all"
for p in status peers lan settings "metrics?seconds=60"; do
	nsx a curl -sf "$U/api/v1/$p" >>"$all" || pt_fail "GET $p"
done
nsx a curl -sf "$U/metrics" >>"$all"
nsx a curl -sN --max-time 2 "$U/api/v1/events" >>"$all"
r=$(post a /api/v1/invite '{}')
echo "$r" >>"$all"
for s in "$SECRET_a" "$priv"; do
	! grep -qF "$s" "$all" || pt_fail "a secret in an answer"
done
[ "$(wc -c <"$all")" -gt 1000 ] || pt_fail "answers too short to tell"
ok "no UI secret and no private key in $(wc -c <"$all") bytes of answers"

ev=$(nsx a curl -sN --max-time 3 "$U/api/v1/events")
n=$(echo "$ev" | grep -c '^event: update$')
echo "$ev" | sed -n 's/^data: //p' | tail -n 1 |
    jq -e '.peers.peers[0].name == "node-b" and
    (.sample.cpu_pct | type) == "number"' >/dev/null ||
    pt_fail "events: $(echo "$ev" | head -c 300)"
[ "$n" -ge 2 ] || pt_fail "$n events in 3 s"
ok "GET /api/v1/events: $n updates in 3 s with peers and a sample"

h=$(nsx a curl -sf "$U/api/v1/metrics?seconds=30")
echo "$h" | jq -e '.result as $r | ($r.t | length) > 2 and
    ($r.t | length) <= 30 and ($r.cpu_pct | length) == ($r.t | length) and
    ([$r.peers[] | select(.name == "node-b")][0].rtt_ms | length) ==
    ($r.t | length)' >/dev/null || pt_fail "history: $(echo "$h" |
    head -c 300)"
ok "GET /api/v1/metrics: $(echo "$h" | jq '.result.t | length') samples of node and peer series"

nsx a curl -sf "$U/metrics" >"$PT_RUN/metrics.txt" || pt_fail "/metrics"
out=$(promtool check metrics <"$PT_RUN/metrics.txt" 2>&1) ||
    pt_fail "promtool: $out"
grep -q '^lanrage_peer_rtt_seconds{peer="node-b",key="[^"]*"} [0-9.e-]*$' \
    "$PT_RUN/metrics.txt" && grep -q '^lanrage_peer_quality{' \
    "$PT_RUN/metrics.txt" || pt_fail "metrics: $(head -c 600 \
    "$PT_RUN/metrics.txt")"
ok "/metrics passes promtool check metrics; node-b's RTT and quality there"

r=$(post a /api/v1/settings '{"key":"api.port","value":"8677"}')
[ "$(echo "$r" | status_of)" = 200 ] || pt_fail "api.port: $r"
moved() {
	nsx a curl -sf http://127.0.0.1:8677/api/v1/status >/dev/null &&
	    ! nsx a curl -s --max-time 1 "$U/" >/dev/null
}
wait_for 5 moved || pt_fail "not moved to port 8677"
ok "api.port 8677: the UI and API moved there"
