#!/bin/sh
# Untrusted disco input (proto/disco.md, lanraged/paths.c): a party
# member that is not a lanraged (disco-probe, joined with control-client)
# talks to node a's WireGuard port from the server namespace.  A valid
# PING gets a PONG naming where it came from; a replayed, stale or
# future PING, a forged box and an unknown sender get nothing and are
# counted in status; a flood (2000 PINGs in 125 ms) is answered at most
# as fast as the token bucket allows (burst 400, 200/s); no PONG is
# larger than its PING; the node is still healthy afterwards.  The
# member expires 60 s after its session ends (party-lib's MemberTimeout):
# everything after the join stays well inside that.
. "$(dirname "$0")/../party-lib.sh"

PROBE=$(pwd)/$BUILD/tests/integration/disco-probe
CLIENT=$(pwd)/$BUILD/tests/integration/control-client

party_require
for b in "$PROBE" "$CLIENT"; do
	[ -x "$b" ] || skip "no $b"
done

PT_DIRECT="a"
party_topology
party_controld
party_node a
party_node_server a
conn() { [ "$(ctlj a status | jq -r .control.state)" = connected ]; }
wait_for 10 conn || pt_fail "a did not connect to controld"
ctl a party create x >/dev/null || pt_fail "party create"
link=$(ctl a invite) || pt_fail "invite"

# The probe's identity: a member of the party, as far as a knows.
KEY=$PT_RUN/probe.key
pub=$("$PT_CONTROLD" -g "$KEY") || pt_fail "controld -g"
pub=$(echo "$pub" | tr -- '-_' '+/')=
out=$(ip netns exec "$PT_SRV" "$CLIENT" 10.99.0.1:8667 "$PT_PUB" "$KEY" \
    probe join "$link" 2>&1) || pt_fail "probe join: $out"
member() {
	ctlj a peers | jq -e --arg k "$pub" \
	    '.peers[] | select(.public_key == $k)' >/dev/null
}
wait_for 5 member || pt_fail "a does not list the probe: $(ctlj a peers)"
APUB=$(ctlj a status | jq -r .node.public_key)
PORT=$(ctlj a status | jq -r .node.listen_port)
ok "probe joined the party as a member (a listens on $PORT)"

probe() { ip netns exec "$PT_SRV" "$PROBE" "10.99.0.11:$PORT" "$KEY" \
    "$APUB" "$@"; }
disco() { ctlj a status | jq -r ".disco.$1"; }
# answers WHAT OUT: the number in "WHAT answers N" of OUT, or fail
answers() {
	n=$(echo "$2" | sed -n "s/^$1 answers \([0-9][0-9]*\)$/\1/p")
	[ -n "$n" ] || pt_fail "$1: said: $2"
	echo "$n"
}

out=$(probe ping 2>&1) || pt_fail "ping: $out"
case $out in
"pong seen 10.99.0.1:"[0-9]*) ;;
*) pt_fail "ping: said: $out" ;;
esac
ok "valid PING: ${out#pong }"

r0=$(disco replayed) s0=$(disco stale)
out=$(probe replay 2>&1) || pt_fail "replay: $out"
n=$(answers replay "$out")
[ "$n" = 0 ] || pt_fail "a replayed PING was answered $n times"
r1=$(disco replayed)
[ "$r1" -ge $((r0 + 3)) ] || pt_fail "replayed counter $r0 -> $r1"
ok "replayed PING (3 copies): 0 answers, replayed $r0 -> $r1"

out=$(probe stale 2>&1) || pt_fail "stale: $out"
n=$(answers stale "$out")
[ "$n" = 0 ] || pt_fail "a PING 120 s old was answered $n times"
out=$(probe future 2>&1) || pt_fail "future: $out"
n=$(answers future "$out")
[ "$n" = 0 ] || pt_fail "a PING 120 s ahead was answered $n times"
s1=$(disco stale)
[ "$s1" -ge $((s0 + 2)) ] || pt_fail "stale counter $s0 -> $s1"
ok "PING 120 s old, 120 s ahead: 0 answers, stale $s0 -> $s1"

out=$(probe size 2>&1) || pt_fail "size: $out"
set -- $out
[ "$1" = sizes ] && [ -n "$3" ] || pt_fail "size: said: $out"
[ "$3" -le "$2" ] || pt_fail "PONG of $3 bytes for a PING of $2"
ok "PONG $3 bytes for a PING of $2: no amplification"

f0=$(disco forged) u0=$(disco unknown_sender) l0=$(disco rate_limited)
out=$(probe forged 1000 2>&1) || pt_fail "forged: $out"
n=$(answers forged "$out")
[ "$n" = 0 ] || pt_fail "forged datagrams got $n answers"
f1=$(disco forged)
[ "$f1" -gt "$f0" ] || pt_fail "forged counter $f0 -> $f1"
ok "1000 forged boxes from a member's key: 0 answers, forged $f0 -> $f1"
# Forging a member's key must not silence that member: only datagrams
# that open spend its bucket.
out=$(probe ping 2>&1) || pt_fail "the member's own PING after forgeries: $out"
ok "the member's own PING right after them: ${out#pong }"

out=$(probe unknown 1000 2>&1) || pt_fail "unknown: $out"
n=$(answers unknown "$out")
[ "$n" = 0 ] || pt_fail "unknown senders got $n answers"
u1=$(disco unknown_sender)
[ "$u1" -gt "$u0" ] || pt_fail "unknown_sender counter $u0 -> $u1"
ok "1000 datagrams from unknown keys: 0 answers, unknown_sender $u0 -> $u1"

l1=$(disco rate_limited)
out=$(probe flood 2000 2>&1) || pt_fail "flood: $out"
n=$(answers flood "$out")
[ "$n" -gt 0 ] || pt_fail "a flood of valid PINGs got no answer at all"
[ "$n" -le 450 ] || pt_fail "a flood of 2000 PINGs got $n answers (> 450)"
l2=$(disco rate_limited)
[ "$l2" -gt "$l1" ] || pt_fail "rate_limited counter $l1 -> $l2"
ok "2000 valid PINGs at 16000/s: $n answers, rate_limited $l1 -> $l2" \
    "(queue_dropped $(disco queue_dropped))"

sleep 2.5
out=$(probe ping 2>&1) || pt_fail "ping after all that: $out"
kill -0 "$PT_PID_a" 2>/dev/null || pt_fail "lanraged of a is gone"
conn || pt_fail "a lost its control connection"
ok "still healthy: ${out#pong }, lanraged running and connected"
echo "# disco counters: $(ctlj a status | jq -c .disco)"
