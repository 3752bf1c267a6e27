#!/bin/sh
# lanrage-controld's STUN responder (proto/stun.md) on two addresses and
# two ports: the mapped address, RESPONSE-ORIGIN and OTHER-ADDRESS, every
# CHANGE-REQUEST answered from the right socket, 420 for an unknown
# comprehension-required attribute, garbage ignored, and the answer rate
# bounded for all clients together.  Classic (RFC 3489) clients, Debian's
# stun-client among them: no answer by default; with StunClassic, right
# answers from the right sockets, bounded by StunClassicRate.  Its cases
# are skipped when there is no /usr/bin/stun (STUN_CLIENT: another path).
. "$(dirname "$0")/../party-lib.sh"

PROBE=$(pwd)/$BUILD/tests/integration/stun-probe

party_require
[ -x "$PROBE" ] || skip "no $PROBE"

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

# Debian's stun-client (the Vovida client 0.97, RFC 3489): its NAT test
# from port 40000 (and 40001) of node a, which has no NAT in between.
STUN=${STUN_CLIENT:-/usr/bin/stun}
stunclient() { nsx a "$STUN" 10.99.0.1 -v -p 40000 2>&1; }

# StunClassic off (the default): classic requests go unanswered.
probe 10.99.0.1:3478 classic >/dev/null 2>&1 &&
    pt_fail "StunClassic off: a classic request was answered"
ok "StunClassic off: classic requests dropped"
if [ -x "$STUN" ]; then
	out=$(stunclient)
	echo "$out" | grep -q "^Primary: Blocked" &&
	    echo "$out" | grep -q "^test I = 0" ||
	    pt_fail "StunClassic off: stun-client said: $out"
	ok "StunClassic off: stun-client gets no answer"
else
	echo "# SKIP: no $STUN (Debian's stun-client, package stun-client):" \
	    "its cases untested"
fi

# StunClassic on: a graceful stop first, for the log's counts.
kill "$PT_CONTROLD_PID"
wait "$PT_CONTROLD_PID" 2>/dev/null
printf 'StunClassic = yes\nStunClassicRate = 20\n' >>"$PT_RUN/controld.conf"
party_controld

# check_classic DEST ARGS FROM SOURCE CHANGED
check_classic() {
	out=$(probe "$1" classic $2) || pt_fail "classic $2: no answer"
	echo "$out" | grep -q "^mapped 10.99.0.11:[0-9]*$" &&
	    echo "$out" | grep -q "^from $3$" &&
	    echo "$out" | grep -q "^source $3$" &&
	    echo "$out" | grep -q "^changed $4$" &&
	    echo "$out" | grep -q "^size 56$" || pt_fail "classic $2: $out"
}
check_classic 10.99.0.1:3478 "" 10.99.0.1:3478 10.99.0.2:3479
check_classic 10.99.0.1:3478 port 10.99.0.1:3479 10.99.0.2:3479
check_classic 10.99.0.1:3478 ip 10.99.0.2:3478 10.99.0.2:3479
check_classic 10.99.0.1:3478 "ip port" 10.99.0.2:3479 10.99.0.2:3479
check_classic 10.99.0.2:3479 "" 10.99.0.2:3479 10.99.0.1:3478
check_classic 10.99.0.1:3479 ip 10.99.0.2:3479 10.99.0.2:3478
ok "classic: MAPPED-, SOURCE-, CHANGED-ADDRESS; CHANGE-REQUEST honoured"

out=$(probe 10.99.0.1:3478 ip port) &&
    echo "$out" | grep -q "^origin 10.99.0.2:3479$" ||
    pt_fail "RFC 8489 with StunClassic: $out"
probe 10.99.0.1:3478 small >/dev/null 2>&1 &&
    pt_fail "StunClassic: an unpadded RFC 8489 request was answered"
ok "StunClassic on: RFC 8489 as before, no answer larger than its request"

if [ -x "$STUN" ]; then
	out=$(stunclient)
	echo "$out" | grep -q "^MappedAddress = 10.99.0.11:40000$" &&
	    echo "$out" | grep -q "^SourceAddress = 10.99.0.1:3478$" &&
	    echo "$out" | grep -q "^ChangedAddress = 10.99.0.2:3479$" &&
	    echo "$out" | grep -q "^Primary: Open[[:space:]]*$" ||
	    pt_fail "stun-client said: $out"
	ok "stun-client: mapped 10.99.0.11:40000, NAT type Open"
fi

sleep 1.2	# both buckets refill
n=$(probe 10.99.0.1:3478 classic-flood 300 | sed -n 's/^answers //p')
[ -n "$n" ] && [ "$n" -ge 15 ] && [ "$n" -le 45 ] ||
    pt_fail "300 classic requests at StunClassicRate 20 got $n answers"
ok "300 classic requests at once, StunClassicRate 20: $n answers"

kill "$PT_CONTROLD_PID"
wait "$PT_CONTROLD_PID" 2>/dev/null
grep -q "classic (RFC 3489): [1-9][0-9]* answered, [1-9][0-9]* over" \
    "$PT_RUN/controld.log" || pt_fail "no classic counts in the log"
ok "classic answers counted apart"

# StunClassic needs two IPv4 addresses and a second port.
sed 's/^StunAddress = .*/StunAddress = 10.99.0.1/' "$PT_RUN/controld.conf" \
    >"$PT_RUN/one.conf"
out=$("$PT_CONTROLD" -n -f "$PT_RUN/one.conf" 2>&1) &&
    pt_fail "-n took StunClassic with one StunAddress"
echo "$out" | grep -q "StunClassic: needs two IPv4" || pt_fail "-n said: $out"
sed 's/^StunAltPort = .*/StunAltPort = 0/' "$PT_RUN/controld.conf" \
    >"$PT_RUN/one.conf"
"$PT_CONTROLD" -n -f "$PT_RUN/one.conf" >/dev/null 2>&1 &&
    pt_fail "-n took StunClassic without StunAltPort"
ok "StunClassic refused without two addresses and two ports"

# Without StunAddress: wildcard sockets answer from the address a request
# came to (IP_PKTINFO); changing the address is refused with 420.
party_controld_kill
sed -i '/^StunAddress/d; /^StunClassic/d' "$PT_RUN/controld.conf"
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
