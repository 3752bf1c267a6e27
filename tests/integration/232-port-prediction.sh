#!/bin/sh
# Port prediction: node q sits behind a symmetric NAT whose allocator
# gives each new mapping the next port (nftables numgen), node p behind a
# port-restricted cone.  Neither can let in a port it has not sent to,
# so only a guess meets: netcheck sees q's two mappings one port apart,
# q publishes the port it expects next, and p probes it and the ports
# after it.  The pair must end direct, through the guessed port, and
# pass packets; the host o (no NAT) sees both directly.
. "$(dirname "$0")/../party-lib.sh"

party_require nft
PT_DIRECT="o"
PT_CONTROLD_EXTRA='StunAddress = 10.99.0.1, 10.99.0.2'
party_topology
ip -n "$PT_SRV" addr add 10.99.0.2/24 dev "$PT_BR"
party_controld
party_nat_node p 4 portcone
party_nat_node q 9 symseq
for x in o p q; do
	party_node "$x"
	party_node_server "$x"
done
mapped() { [ "$(ctlj "$1" status | jq -r .netcheck.mapped)" != null ]; }
for x in o p q; do
	wait_for 15 mapped "$x" || pt_fail "$x: no netcheck"
done
nc=$(ctlj q status | jq -c .netcheck)
[ "$(echo "$nc" | jq -r .mapping)" = endpoint-dependent ] ||
    pt_fail "q: mapping: $nc"
ok "q behind a sequential symmetric NAT: mapped $(echo "$nc" | jq -r .mapped)"

ctl o party create "guess" >/dev/null || pt_fail "party create"
link=$(ctl o invite) || pt_fail "invite"
ctl p party join "$link" >/dev/null || pt_fail "p: join"
ctl q party join "$link" >/dev/null || pt_fail "q: join"
direct() {
	ctlj "$1" peers | jq -e --arg n "node-$2" '.peers[] |
	    select(.name == $n) | .path == "direct"' >/dev/null
}
wait_for 10 direct p q && wait_for 5 direct q p ||
    pt_fail "p <-> q not direct: $(ctlj p peers | jq -c '.peers[] |
    select(.name == "node-q") | [.reason, .candidates]')"
# the path is q's mapping toward p: a port of the guessed window, not
# the one STUN saw
view=$(ctlj p peers | jq -c '.peers[] | select(.name == "node-q")')
pred=$(echo "$view" | jq -r .predicted_port)
port=$(echo "$view" | jq -r .endpoint | sed 's/.*://')
stun=$(echo "$nc" | jq -r .mapped | sed 's/.*://')
[ "$pred" != null ] && [ "$port" -ge "$pred" ] &&
    [ "$port" -lt $((pred + 16)) ] && [ "$port" != "$stun" ] ||
    pt_fail "p -> q: port $port, predicted $pred, STUN $stun: $view"
Q=$(ctlj q status | jq -r .party.address)
nsx p ping -c 3 -W 2 "$Q" >/dev/null || pt_fail "p cannot ping q"
ok "p -> q direct on port $port (STUN saw $stun, q predicted $pred), ping works"
ok "reason: $(echo "$view" | jq -r .reason)"
