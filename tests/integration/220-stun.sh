#!/bin/sh
# lanrage-controld's STUN responder (proto/stun.md) on two addresses and
# two ports: the mapped address, RESPONSE-ORIGIN and OTHER-ADDRESS, every
# CHANGE-REQUEST answered from the right socket, 420 for an unknown
# comprehension-required attribute, garbage ignored, and the answer rate
# bounded for all clients together.
. "$(dirname "$0")/../party-lib.sh"

PROBE=$(pwd)/$BUILD/tests/integration/stun-probe

ok() { echo "ok - $*"; }
skip() { echo "# SKIP: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root"
for b in "$PT_CONTROLD" "$PROBE"; do
	[ -x "$b" ] || skip "no $b"
done

PT_CONTROLD_EXTRA='StunAddress = 10.99.0.1, 10.99.0.2
StunPort = 3478
StunAltPort = 3479
StunRate = 50'
party_topology
ip -n "$PT_SRV" addr add 10.99.0.2/24 dev "$PT_BR"
party_controld
probe() { nsx a "$PROBE" "$@"; }

out=$(probe 10.99.0.1:3478) || pt_fail "no answer: $out"
echo "$out" | grep -q "^mapped 10.99.0.11:[0-9]*$" || pt_fail "said: $out"
echo "$out" | grep -q "^origin 10.99.0.1:3478$" || pt_fail "said: $out"
echo "$out" | grep -q "^other 10.99.0.2:3479$" || pt_fail "said: $out"
ok "binding: mapped address, RESPONSE-ORIGIN, OTHER-ADDRESS"

# check_change ARGS ORIGIN: the answer comes from ORIGIN and says so
check_change() {
	want=$1
	shift
	out=$(probe 10.99.0.1:3478 "$@") || pt_fail "$*: no answer"
	echo "$out" | grep -q "^origin $want$" &&
	    echo "$out" | grep -q "^from $want$" || pt_fail "$*: $out"
}
check_change 10.99.0.1:3479 port
check_change 10.99.0.2:3478 ip
check_change 10.99.0.2:3479 ip port
out=$(probe 10.99.0.2:3479) || pt_fail "alternate socket: no answer"
echo "$out" | grep -q "^other 10.99.0.1:3478$" || pt_fail "alternate: $out"
ok "CHANGE-REQUEST: port, address, both; each socket names the other"

probe 10.99.0.1:3478 small >/dev/null 2>&1 &&
    pt_fail "a request smaller than its answer was answered"
ok "no answer larger than its request (unpadded requests dropped)"

out=$(probe 10.99.0.1:3478 unknown) || pt_fail "unknown: no answer"
echo "$out" | grep -q "^error 420$" || pt_fail "unknown attribute: $out"
ok "unknown comprehension-required attribute: 420"

n=$(probe 10.99.0.1:3478 garbage 400 | sed -n 's/^answers //p')
[ "$n" = 0 ] || pt_fail "garbage got $n answers"
sleep 1.2	# the bucket refills
probe 10.99.0.1:3478 >/dev/null || pt_fail "no answer after garbage"
ok "garbage ignored; still answering"

sleep 1.2
n=$(probe 10.99.0.1:3478 flood 500 | sed -n 's/^answers //p')
[ -n "$n" ] && [ "$n" -ge 40 ] && [ "$n" -le 110 ] ||
    pt_fail "500 requests at StunRate 50 got $n answers"
ok "500 requests at once, StunRate 50: $n answers"
kill -0 "$PT_CONTROLD_PID" || pt_fail "controld died"

# A node's netcheck from its WireGuard socket: no NAT in between, so
# every behaviour is the open one.
if [ -x "$PT_LANRAGED" ] && [ -x "$PT_CTL" ] && command -v jq >/dev/null
then
	party_node a
	ctl a settings set control.server 10.99.0.1:8667 >/dev/null &&
	    ctl a settings set control.key "$PT_PUB" >/dev/null ||
	    pt_fail "settings"
	conn() { [ "$(ctlj a status | jq -r .control.state)" = connected ]; }
	wait_for 5 conn || pt_fail "a did not connect"
	nc=$(ctlj a netcheck 2>&1) || pt_fail "netcheck failed: $nc"
	[ "$(echo "$nc" | jq -r .mapped)" = 10.99.0.11:51820 ] &&
	    [ "$(echo "$nc" | jq -r .mapping)" = endpoint-independent ] &&
	    [ "$(echo "$nc" | jq -r .filtering)" = endpoint-independent ] &&
	    [ "$(echo "$nc" | jq -r .port_preserved)" = true ] &&
	    [ "$(echo "$nc" | jq -r .hairpin)" = true ] ||
	    pt_fail "netcheck said: $nc"
	ctlj a status | jq -e '.netcheck.mapped == "10.99.0.11:51820"' \
	    >/dev/null || pt_fail "status has no netcheck"
	ok "netcheck from the WireGuard socket: mapped, mapping, filtering, port, hairpin"
	party_node_stop a
fi

# Without StunAddress: wildcard sockets answer from the address a request
# came to (IP_PKTINFO); changing the address is refused with 420.
party_controld_kill
sed -i '/^StunAddress/d' "$PT_RUN/controld.conf"
party_controld
out=$(probe 10.99.0.2:3478) || pt_fail "wildcard: no answer"
echo "$out" | grep -q "^origin 10.99.0.2:3478$" &&
    echo "$out" | grep -q "^from 10.99.0.2:3478$" &&
    echo "$out" | grep -q "^other 10.99.0.2:3479$" || pt_fail "wildcard: $out"
out=$(probe 10.99.0.2:3478 port) || pt_fail "wildcard port: no answer"
echo "$out" | grep -q "^from 10.99.0.2:3479$" || pt_fail "wildcard port: $out"
out=$(probe 10.99.0.2:3478 ip) || pt_fail "wildcard ip: no answer"
echo "$out" | grep -q "^error 420$" || pt_fail "wildcard ip: $out"
ok "wildcard: answers from the address asked; no address change (420)"
