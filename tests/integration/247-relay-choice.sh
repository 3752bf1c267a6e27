#!/bin/sh
# The relay is chosen per peer, end to end.  Three nodes behind
# symmetric NATs, two relays; what the relays send is delayed (one way)
# so that the relay nearest to p is not the one nearest to every peer:
#
#	relay 1 (alpha) -> q  30 ms
#	relay 2 (beta)  -> p  15 ms,  -> t  30 ms
#
# p's own nearest relay is alpha (0 vs 15 ms), but end to end q is
# 15 ms away through beta and 30 through alpha, and t is 0 ms away
# through alpha and 45 through beta: p must send to q through beta and
# to t through alpha.  Then a node's region (relay.region) beats RTT;
# and when beta's way to q degrades, p moves q to alpha on the same
# WireGuard session.
. "$(dirname "$0")/../party-lib.sh"

party_require nft
[ -x "$PT_RELAYD" ] || skip "no $PT_RELAYD"
[ -x "$PT_DELAY" ] || skip "no $PT_DELAY"

R1=10.99.0.41:51820 R2=10.99.0.42:51820
PT_DIRECT=""
party_topology
party_two_relays
party_relay_slow 1 "10.99.0.29 30"
party_relay_slow 2 "10.99.0.24 15" "10.99.0.26 30"
party_nat_node p 4 symmetric
party_nat_node q 9 symmetric
party_nat_node t 6 symmetric
for x in p q t; do
	party_node "$x"
	party_node_server "$x"
done
party_relays_registered 2

ctl p party create "choice" >/dev/null || pt_fail "party create"
link=$(ctl p invite) || pt_fail "invite"
ctl q party join "$link" >/dev/null || pt_fail "q: join"
ctl t party join "$link" >/dev/null || pt_fail "t: join"

# peer X of node N: a field
peer() {
	ctlj "$1" peers | jq -r --arg n "node-$2" ".peers[] |
	    select(.name == \$n) | $3"
}
# the same, on one line (arrays, objects)
peerc() {
	ctlj "$1" peers | jq -c --arg n "node-$2" ".peers[] |
	    select(.name == \$n) | $3"
}
through() { [ "$(peer "$1" "$2" .endpoint)" = "$3" ]; }
both_measured() {
	[ "$(peer "$1" "$2" '[.relays[] | select(.rtt_ms != null)] |
	    length')" = 2 ]
}
for x in q t; do
	wait_for 15 both_measured p "$x" ||
	    pt_fail "p -> $x: relays not measured: $(peerc p "$x" .relays)"
done
using=$(ctlj p status | jq -r .relays.using)
[ "$using" = alpha ] || pt_fail "p's own nearest relay is $using, not alpha"
ok "p's nearest relay is alpha: $(ctlj p status | jq -c '[.relays.relays[] |
    [.region, .rtt_ms]]')"

wait_for 10 through p q "$R2" ||
    pt_fail "p -> q through $(peer p q .endpoint), not beta: $(peerc p q \
    '.relays')"
wait_for 10 through p t "$R1" ||
    pt_fail "p -> t through $(peer p t .endpoint), not alpha: $(peerc p t \
    '.relays')"
rq=$(peer p q .rtt_ms)
ok "p -> q through beta (${rq} ms end to end; relays $(peerc p q \
    '[.relays[] | [.endpoint, .rtt_ms, .state]]'))"
ok "p -> t through alpha ($(peer p t .rtt_ms) ms; relays $(peerc p t \
    '[.relays[] | [.endpoint, .rtt_ms, .state]]'))"
# the figures are the chosen relay's: beta's 15 ms, not alpha's 30
awk -v r="$rq" 'BEGIN { exit !(r >= 12 && r < 26) }' ||
    pt_fail "p -> q RTT $rq ms, not about 15"
wait_for 10 through q p "$R2" || pt_fail "q -> p through $(peer q p .endpoint)"
wait_for 10 through t p "$R1" || pt_fail "t -> p through $(peer t p .endpoint)"
ok "q -> p through beta, t -> p through alpha"
Q=$(ctlj q status | jq -r .party.address)
T=$(ctlj t status | jq -r .party.address)
nsx p ping -c 3 -i 0.2 -W 2 "$Q" >/dev/null || pt_fail "p cannot ping q"
nsx p ping -c 3 -i 0.2 -W 2 "$T" >/dev/null || pt_fail "p cannot ping t"
ok "p pings q and t, each through its own relay"

# Region first: q in alpha goes through alpha, though beta is faster.
ctl q settings set relay.region alpha >/dev/null || pt_fail "set region"
wait_for 5 through q p "$R1" ||
    pt_fail "q in alpha -> p through $(peer q p .endpoint)"
nsx q ping -c 2 -W 2 "$(ctlj p status | jq -r .party.address)" >/dev/null ||
    pt_fail "q cannot ping p through alpha"
ok "q with relay.region alpha -> p through alpha ($(peer q p .rtt_ms) ms)"
ctl q settings set relay.region "" >/dev/null || pt_fail "clear region"
wait_for 10 through q p "$R2" ||
    pt_fail "q, no region -> p through $(peer q p .endpoint)"
ok "q without a region -> p through beta again"

# Degrade beta's way to q: 40 ms one way, 55 end to end against 30.
hs=$(peer p q .handshake_age)
party_relay_slow 2 "10.99.0.24 15" "10.99.0.26 30" "10.99.0.29 40"
t0=$(date +%s%N)
wait_for 30 through p q "$R1" ||
    pt_fail "p -> q still through $(peer p q .endpoint): $(peerc p q \
    '.relays')"
ms=$((($(date +%s%N) - t0) / 1000000))
nsx p ping -c 3 -i 0.2 -W 2 "$Q" >/dev/null || pt_fail "p cannot ping q"
[ "$(peer p q .handshake_age)" -ge "$hs" ] ||
    pt_fail "a new handshake on the move"
ok "beta degraded for q: p moved q to alpha after ${ms} ms, same session"
through p t "$R1" || pt_fail "p -> t moved too: $(peer p t .endpoint)"
ok "p -> t stays on alpha"
