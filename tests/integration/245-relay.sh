#!/bin/sh
# Relayed paths: nodes p and q sit behind symmetric NATs (a random port
# per destination), so no direct path can exist between them.  Two
# relays register with controld; the nodes get tokens, bind at both,
# and reach each other through one at once: ping and iperf3 pass, and
# the peers say why they are relayed.  Then the relay in use is killed
# under a stream of pings: traffic must move to the other within 2 s,
# on the same WireGuard session (no new handshake).  Last, a node that
# could be direct but is blocked starts relayed and moves to the direct
# path once the block is lifted.
. "$(dirname "$0")/../party-lib.sh"

party_require nft iperf3
[ -x "$PT_RELAYD" ] || skip "no $PT_RELAYD"

PT_DIRECT=""
party_topology
party_two_relays
party_nat_node p 4 symmetric
party_nat_node q 9 symmetric
for x in p q; do
	party_node "$x"
	party_node_server "$x"
done
party_relays_registered 2
ok "two relays registered with controld"

ctl p party create "relayed" >/dev/null || pt_fail "party create"
link=$(ctl p invite) || pt_fail "invite"
# both bound at both relays, each using one
bound() {
	[ "$(ctlj "$1" status | jq '[.relays.relays[] | select(.alive)] |
	    length')" = 2 ] && [ "$(ctlj "$1" status |
	    jq -r .relays.using)" != null ]
}
wait_for 10 bound p || pt_fail "p: not bound at both relays: $(ctlj p status |
    jq -c .relays)"
ctl q party join "$link" >/dev/null || pt_fail "q: join"
start=$(date +%s%N)
wait_for 10 bound q || pt_fail "q: not bound at both relays: $(ctlj q status |
    jq -c .relays)"
P=$(ctlj p status | jq -r .party.address)
Q=$(ctlj q status | jq -r .party.address)
wait_for 10 nsx q ping -c 1 -W 1 "$P" || pt_fail "q cannot reach p"
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -le 2000 ] || pt_fail "q reached p only $ms ms after joining: q: $(
    ctlj q peers | jq -c '.peers[] | [.endpoint, .path, .handshake_age]'
    ) p: $(ctlj p peers | jq -c '.peers[] | [.endpoint, .path,
    .handshake_age]')"
ok "q reaches p through a relay ${ms} ms after joining"

relayed() {
	ctlj "$1" peers | jq -e --arg n "node-$2" '.peers[] |
	    select(.name == $n) | .path == "relay"' >/dev/null
}
relayed p q && relayed q p ||
    pt_fail "not relayed: $(ctlj p peers | jq -c '.peers[] | [.path, .reason]')"
# once netcheck has classified both NATs, the reason says why
because() {
	ctlj p peers | jq -e '.peers[0].reason |
	    test("^relay: .*symmetric")' >/dev/null
}
wait_for 20 because ||
    pt_fail "p -> q: reason \"$(ctlj p peers | jq -r '.peers[0].reason')\""
ok "p -> q: $(ctlj p peers | jq -r '.peers[0].reason')"

# the relayed path is measured end to end: disco through the relays
measured() {
	ctlj "$1" peers | jq -e '.peers[0] | (.rtt_ms | type) == "number" and
	    (.jitter_ms | type) == "number" and (.loss_pct | type) == "number"'
}
wait_for 5 measured p && wait_for 5 measured q ||
    pt_fail "relayed path not measured: $(ctlj p peers | jq -c '.peers[0] |
    [.rtt_ms, .jitter_ms, .loss_pct]')"
ok "relayed path measured: p -> q RTT $(ctlj p peers | jq -r '.peers[0].rtt_ms') ms, q -> p $(ctlj q peers | jq -r '.peers[0].rtt_ms') ms"

nsx p ping -c 5 -i 0.2 -W 2 "$Q" >/dev/null || pt_fail "p cannot ping q"
nsx q iperf3 -s -1 -B "$Q" >/dev/null 2>&1 &
srv=$!
sleep 0.5
bps=$(nsx p timeout 20 iperf3 -c "$Q" -t 3 -J 2>/dev/null |
    jq -r '.end.sum_received.bits_per_second // 0')
kill "$srv" 2>/dev/null
wait "$srv" 2>/dev/null
[ "${bps%.*}" -gt 1000000 ] 2>/dev/null ||
    pt_fail "iperf3 through the relay: $bps bit/s"
ok "iperf3 p -> q through the relay: $(echo "$bps" |
    awk '{ printf "%.0f", $1 / 1e6 }') Mbit/s"

# Failover: kill the relay p sends to q through, under pings every 50 ms.
using=$(ctlj p peers | jq -r '.peers[0].endpoint')
hs_before=$(ctlj p peers | jq -r '.peers[0].handshake_age')
case "$using" in
10.99.0.41:51820) victim=1 ;;
10.99.0.42:51820) victim=2 ;;
*) pt_fail "p -> q through no relay: $using" ;;
esac
nsx p ping -n -i 0.05 -c 120 -W 1 "$Q" >"$PT_RUN/ping" 2>&1 &
pinger=$!
sleep 1
party_relayd_kill "$victim"
wait "$pinger"
gap=$(ping_gap "$PT_RUN/ping" 50)
got=$(grep -c 'icmp_seq=' "$PT_RUN/ping")
now=$(ctlj p peers | jq -r '.peers[0].endpoint')
[ "$now" != "$using" ] && [ "$now" != null ] ||
    pt_fail "p -> q still through $now after $using died"
[ "$gap" -le 2000 ] || pt_fail "traffic stopped for $gap ms (limit 2000)"
[ "$got" -ge 80 ] || pt_fail "only $got of 120 pings answered"
ok "relay $using killed: p moved to $now, longest gap ${gap} ms, $got/120 answered"
hs_after=$(ctlj p peers | jq -r '.peers[0].handshake_age')
[ "$hs_after" -ge "$hs_before" ] ||
    pt_fail "a new handshake: age $hs_before s before, $hs_after s after"
ok "the WireGuard session survived (handshake age $hs_before -> $hs_after s)"

# Upgrade: f behind a full cone can meet p directly, but its router
# drops what p sends for now: f is relayed at once, keeps punching, and
# moves to the direct path once the block goes, on the same session.
party_nat_node f 2 fullcone
ip netns exec "lrp$$r2" nft -f - <<NFT || pt_fail "nft block"
table ip lrblock {
	chain hold {
		type filter hook forward priority -10;
		ip saddr 10.99.0.24 drop
	}
}
NFT
party_node f
party_node_server f
connected() { [ "$(ctlj "$1" status | jq -r .control.state)" = connected ]; }
wait_for 10 connected f || pt_fail "f: not connected"
link=$(ctl p invite) || pt_fail "invite for f"
ctl f party join "$link" >/dev/null || pt_fail "f: join"
wait_for 10 relayed f p && wait_for 10 relayed p f ||
    pt_fail "p <-> f not relayed while blocked: $(ctlj f peers |
    jq -c '.peers[] | [.name, .path, .reason]')"
F=$(ctlj f status | jq -r .party.address)
nsx p ping -c 2 -W 2 "$F" >/dev/null || pt_fail "p cannot reach f relayed"
ok "f behind a blocked full cone: relayed to p, ping works"
hs=$(ctlj p peers | jq -r '.peers[] | select(.name == "node-f") |
    .handshake_age')
ip netns exec "lrp$$r2" nft delete table ip lrblock
t0=$(date +%s%N)
direct() {
	ctlj "$1" peers | jq -e --arg n "node-$2" '.peers[] |
	    select(.name == $n) | .path == "direct"' >/dev/null
}
wait_for 20 direct p f && wait_for 10 direct f p ||
    pt_fail "p <-> f still not direct: $(ctlj p peers | jq -c '.peers[] |
    select(.name == "node-f") | [.path, .reason]')"
ms=$((($(date +%s%N) - t0) / 1000000))
nsx p ping -c 2 -W 2 "$F" >/dev/null || pt_fail "p cannot reach f direct"
hs2=$(ctlj p peers | jq -r '.peers[] | select(.name == "node-f") |
    .handshake_age')
[ "$hs2" -ge "$hs" ] || pt_fail "a new handshake on the upgrade"
ok "block lifted: p <-> f direct after ${ms} ms, same session, ping works"
