#!/bin/sh
# Acceptance: the story `make demo` shows (tests/story.sh), checked, and
# then what goes wrong in real life.  controld, two relays and alice,
# bob and carol behind a full cone, a port-restricted and a symmetric
# NAT; a party made through alice's REST API and joined by link through
# bob's and carol's; paths for every pair (bob <-> carol through a
# relay), pings both ways, a LAN broadcast heard and answered, every UI
# reachable from the host's loopback.  Then the failures:
# - the relay bob -> carol uses is killed under traffic: it moves to
#   the other relay within 2 s, on the same WireGuard session;
# - controld is killed (-9) and restarted: the tunnels carry on while
#   it is away, every node reconnects, the party is intact and a new
#   invite can be made;
# - carol's lanraged is restarted: same key and address, paths and
#   pings back, her UI answers on the same host port, the LAN broadcast
#   reaches her again.
. "$(dirname "$0")/../party-lib.sh"
. "$(dirname "$0")/../story.sh"

STORY_PORT=28660		# not the demo's: one may be running
STORY_QUIET=1
story_require
command -v socat >/dev/null || skip "no socat"

story_setup
story_party || pt_fail "$STORY_WHY"
ok "party made through a's REST API; b and c joined by its link ($STORY_ADDR_a $STORY_ADDR_b $STORY_ADDR_c)"

story_paths 20 || pt_fail "$STORY_WHY"
story_pings 10 || pt_fail "$STORY_WHY"
ok "every pair has a path and pings through the tunnel, both ways"

# The NATs decide the paths: the cone can meet both, the
# port-restricted cone and the symmetric NAT cannot meet each other.
expect_path() {
	ep=$(story_path "$1" "$2")
	[ "$ep" = "$3" ] || pt_fail "$(story_name "$1") -> $(story_name \
	    "$2"): path $ep, want $3: $(story_get "$1" /api/v1/peers |
	    jq -c '[.result.peers[] | [.name, .path, .reason]]')"
}
all_expected() {
	for ae in "a b direct" "b a direct" "a c direct" "c a direct" \
	    "b c relay" "c b relay"; do
		set -- $ae
		[ "$(story_path "$1" "$2")" = "$3" ] || return 1
	done
}
wait_for 15 all_expected
for pair in "a b direct" "b a direct" "a c direct" "c a direct" \
    "b c relay" "c b relay"; do
	set -- $pair
	expect_path "$1" "$2" "$3"
done
# While it punches, the reason says so; once the punching gives up it
# names the NATs that stop it.
relay_reason() {
	story_get b /api/v1/peers | jq -r '.result.peers[] |
	    select(.name == "carol") | .reason'
}
named_reason() {
	case $(relay_reason) in
	relay:*symmetric*) return 0 ;;
	esac
	return 1
}
wait_for 30 named_reason ||
    pt_fail "bob -> carol: reason \"$(relay_reason)\", want the NATs named"
reason=$(relay_reason)
ok "paths: alice direct to both, bob <-> carol relayed ($reason)"

story_table >"$PT_RUN/table"
rows=$(grep -c -E '^(alice|bob|carol) ' "$PT_RUN/table")
[ "$rows" = 6 ] || pt_fail "members table: $rows rows, want 6: $(cat \
    "$PT_RUN/table")"
direct_rtt=$(awk '$1 == "alice" && $2 == "bob" { print $4 }' "$PT_RUN/table")
case $direct_rtt in
[0-9]*.[0-9][0-9]) ;;
*) pt_fail "members table: alice -> bob RTT \"$direct_rtt\"" ;;
esac
# the relayed pair is measured too (disco through the relay)
relayed_row() {
	story_table | awk '$1 == "bob" && $2 == "carol" { print $4 }' |
	    grep -q -E '^[0-9]+\.[0-9][0-9]$'
}
wait_for 5 relayed_row || pt_fail "members table: bob -> carol has no RTT: $(
    story_table | grep '^bob')"
relayed_rtt=$(story_table | awk '$1 == "bob" && $2 == "carol" { print $4 }')
ok "members table: 6 rows, alice -> bob RTT $direct_rtt ms, bob -> carol (relayed) $relayed_rtt ms"
sed 's/^/# /' "$PT_RUN/table"

story_lan || pt_fail "$STORY_WHY"
ok "LAN discovery: $STORY_LAN"

for x in $STORY_NODES; do
	story_forward "$x" && story_ui "$x" || pt_fail "$STORY_WHY"
done
ok "the three UIs answer from the host at 127.0.0.1:$(story_port a)-$(story_port c)"

# --- Failure: the relay bob -> carol goes through dies under traffic.
via_carol() {
	story_get b /api/v1/peers | jq -r '.result.peers[] |
	    select(.name == "carol") | .endpoint'
}
using=$(via_carol)
case $using in
10.99.0.41:51820) victim=1 ;;
10.99.0.42:51820) victim=2 ;;
*) pt_fail "bob -> carol through no relay: $using" ;;
esac
hs_before=$(story_get b /api/v1/peers | jq -r '.result.peers[] |
    select(.name == "carol") | .handshake_age')
nsx b ping -n -i 0.05 -c 100 -W 1 "$STORY_ADDR_c" >"$PT_RUN/ping-relay" 2>&1 &
pinger=$!
sleep 1
party_relayd_kill "$victim"
wait "$pinger"
gap=$(ping_gap "$PT_RUN/ping-relay" 50)
got=$(grep -c 'icmp_seq=' "$PT_RUN/ping-relay")
now=$(via_carol)
[ "$now" != "$using" ] && [ "$now" != null ] ||
    pt_fail "bob -> carol still through $now after $using died"
[ "$gap" -le 2000 ] || pt_fail "bob -> carol stopped for $gap ms (limit 2000)"
[ "$got" -ge 60 ] || pt_fail "only $got of 100 pings answered"
hs_after=$(story_get b /api/v1/peers | jq -r '.result.peers[] |
    select(.name == "carol") | .handshake_age')
[ "$hs_after" -ge "$hs_before" ] ||
    pt_fail "a new handshake: age $hs_before s before, $hs_after s after"
story_pings 5 || pt_fail "after the relay died: $STORY_WHY"
ok "relay $using killed: bob -> carol moved to $now, longest gap $gap ms, $got/100 answered, same session"

# --- Failure: controld dies (-9) and comes back.
party_controld_kill
not_connected() { [ "$(story_state "$1")" != connected ]; }
wait_for 30 not_connected a || pt_fail "alice did not notice controld going"
story_pings 5 || pt_fail "while controld is away: $STORY_WHY"
party_controld
all_connected() {
	for ac in $STORY_NODES; do
		story_connected "$ac" || return 1
	done
}
wait_for 40 all_connected || pt_fail "nodes did not reconnect: $(for x in \
    $STORY_NODES; do story_get "$x" /api/v1/status | jq -c .result.control; done)"
# members X: the party's size and X's peers, as "3:bob,carol"
members() {
	printf '%s:%s' "$(story_get "$1" /api/v1/status |
	    jq -r .result.party.members)" "$(story_get "$1" /api/v1/peers |
	    jq -r '[.result.peers[].name] | sort | join(",")')"
}
for pair in "a 3:bob,carol" "b 3:alice,carol" "c 3:alice,bob"; do
	set -- $pair
	m=$(members "$1")
	[ "$m" = "$2" ] || pt_fail "$1's party after the restart: $m, want $2"
done
story_pings 5 || pt_fail "after controld came back: $STORY_WHY"
r=$(story_post a /api/v1/invite '{"uses":1}')
case $(echo "$r" | sed '$d' | jq -r .result.link) in
lanrage:*) ;;
*) pt_fail "invite after controld came back: $r" ;;
esac
ok "controld killed and restarted: tunnels carried on, all reconnected, party intact, new invite made"

# --- Failure: carol's lanraged restarts.
key_before=$(story_get c /api/v1/status | jq -r .result.node.public_key)
party_node_stop c
story_ping a c && pt_fail "alice still reaches carol with her daemon gone"
party_node c
wait_for 15 story_up c || pt_fail "carol: no HTTP after the restart"
story_secret c || pt_fail "$STORY_WHY"
key_after=$(story_get c /api/v1/status | jq -r .result.node.public_key)
[ "$key_after" = "$key_before" ] ||
    pt_fail "carol's key changed: $key_before -> $key_after"
addr_after=$(story_addr c)
[ "$addr_after" = "$STORY_ADDR_c" ] ||
    pt_fail "carol's address changed: $STORY_ADDR_c -> $addr_after"
wait_for 20 story_connected c || pt_fail "carol did not reconnect"
story_paths 20 || pt_fail "after carol's restart: $STORY_WHY"
story_pings 10 || pt_fail "after carol's restart: $STORY_WHY"
story_ui c || pt_fail "after carol's restart: $STORY_WHY"
story_lan || pt_fail "after carol's restart: $STORY_WHY"
ok "carol restarted: same key and address $addr_after, pings, UI and LAN discovery back"
