#!/bin/sh
# netcheck behind NATs built with nftables: each node sits behind a router
# of its own (routing only, full cone, address-restricted cone,
# port-restricted cone, symmetric), the control server and its STUN
# responder on two addresses of the "internet" bridge.  Every node must
# report the mapping and filtering its NAT really has, its public
# (mapped) address, and publish it as a STUN endpoint candidate.
. "$(dirname "$0")/../party-lib.sh"

party_require nft

PT_DIRECT=""
PT_CONTROLD_EXTRA='StunAddress = 10.99.0.1, 10.99.0.2'
party_topology
ip -n "$PT_SRV" addr add 10.99.0.2/24 dev "$PT_BR"
party_controld

# node letter, LAN number, NAT type, expected mapping, filtering, public
ROWS="o 1 open endpoint-independent endpoint-independent 192.168.1.2
f 2 fullcone endpoint-independent endpoint-independent 10.99.0.22
a 3 addrcone endpoint-independent address-dependent 10.99.0.23
p 4 portcone endpoint-independent address-and-port-dependent 10.99.0.24
y 5 symmetric endpoint-dependent address-and-port-dependent 10.99.0.25"
# (loops read a here-document: no subshell, so the harness sees it all)
while read -r x k type rest; do
	party_nat_node "$x" "$k" "$type"
	party_node "$x"
	ctl "$x" settings set control.server 10.99.0.1:8667 >/dev/null &&
	    ctl "$x" settings set control.key "$PT_PUB" >/dev/null ||
	    pt_fail "settings on $x"
done <<EOF
$ROWS
EOF
conn() { [ "$(ctlj "$1" status | jq -r .control.state)" = connected ]; }
while read -r x k type mapping filtering public; do
	wait_for 10 conn "$x" || pt_fail "$x ($type) did not connect"
	nc=$(ctlj "$x" netcheck 2>&1) || pt_fail "$type: netcheck: $nc"
	got_ip=$(echo "$nc" | jq -r '.mapped' | sed 's/:[0-9]*$//')
	[ "$got_ip" = "$public" ] || pt_fail "$type: mapped $got_ip: $nc"
	[ "$(echo "$nc" | jq -r .mapping)" = "$mapping" ] ||
	    pt_fail "$type: mapping: $nc"
	[ "$(echo "$nc" | jq -r .filtering)" = "$filtering" ] ||
	    pt_fail "$type: filtering: $nc"
	ok "$type: mapped $(echo "$nc" | jq -r .mapped), mapping $mapping, filtering $filtering, port kept $(echo "$nc" | jq -r .port_preserved) ($(echo "$nc" | jq -r .duration_ms) ms)"
done <<EOF
$ROWS
EOF
