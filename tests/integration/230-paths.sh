#!/bin/sh
# Direct paths through NATs: nine nodes in one party, each behind a NAT
# built with nftables (none, full cone, address-restricted, port-
# restricted, two symmetric, two behind one port-restricted NAT, a double
# NAT) and a relay.  Every pair the NAT behaviours allow must end on a
# direct path, the others on the relay, saying why, and all must pass
# packets through the tunnel.  The time from joining to the first packet
# through the tunnel is measured for every pair and reported.  Then a
# path dies under traffic and the peer moves to another without a new
# handshake.
. "$(dirname "$0")/../party-lib.sh"

party_require nft

PT_DIRECT="o"
party_topology
party_relay_key 1
PT_CONTROLD_EXTRA="StunAddress = 10.99.0.1, 10.99.0.2
RelayKeys = $PT_RELAY_PUB_1"
ip -n "$PT_SRV" addr add 10.99.0.2/24 dev "$PT_BR"
# a second path to o (and it stays when the first goes)
ip netns exec "lrp$$o" sysctl -qw net.ipv4.conf.eth0.promote_secondaries=1
ip -n "lrp$$o" addr add 10.99.0.31/24 dev eth0
party_controld
party_relayd 1 world
party_nat_node f 2 fullcone
party_nat_node r 3 addrcone
party_nat_node p 4 portcone
party_nat_node y 5 symmetric
party_nat_node z 6 symmetric
party_nat_node h 7 portcone
party_nat_join i 7 3
party_double_nat_node d 8
NODES="o f r p y z h i d"
for x in $NODES; do
	party_node "$x"
	party_node_server "$x"
done
# connected, and netcheck has classified the NAT
ready() {
	[ "$(ctlj "$1" status | jq -r '.control.state + " " +
	    (.netcheck.mapping // "none")')" != "connected none" ] &&
	    [ "$(ctlj "$1" status | jq -r .control.state)" = connected ] &&
	    [ "$(ctlj "$1" status | jq -r .netcheck.mapped)" != null ]
}
for x in $NODES; do
	wait_for 15 ready "$x" || pt_fail "$x: not connected or no netcheck"
done
ok "nine nodes connected, NATs classified"

# Pairs that cannot be direct: a symmetric NAT facing a port-restricted
# one (the hairpin pair and the double NAT are port-restricted), or
# another symmetric one.  The first kind may still meet when port
# guessing (birthday probes) hits, which happens in some runs.
no_direct() {
	case "$1$2" in
	yz|zy) return 0 ;;
	y[phid]|z[phid]|[phid]y|[phid]z) return 0 ;;
	esac
	return 1
}
guessable() {
	case "$1$2" in
	y[phid]|z[phid]|[phid]y|[phid]z) return 0 ;;
	esac
	return 1
}
# ttfp X ADDR: ms from now to the first echo reply from ADDR through the
# tunnel (pings every 5 ms; a reply to ping n arrives at (n-1)*5 + rtt).
ttfp() {
	nsx "$1" ping -n -i 0.005 -c 2400 -w 12 "$2" 2>/dev/null | awk -F'[= ]' '
	    /icmp_seq=/ {
		for (i = 1; i < NF; i++) {
			if ($i == "icmp_seq") s = $(i + 1)
			if ($i == "time") t = $(i + 1)
		}
		v = (s - 1) * 5 + t
		if (min == "" || v < min) min = v
	    }
	    END { if (min == "") exit 1; printf "%d\n", min }'
}

ctl o party create "nat night" >/dev/null || pt_fail "party create"
link=$(ctl o invite -u 8) ||
    pt_fail "invite"
eval "ADDR_o=$(ctlj o status | jq -r .party.address)"
joined="o"
: >"$PT_RUN/ttfp"
for x in f r p y z h i d; do
	ctl "$x" party join "$link" >/dev/null || pt_fail "$x: join"
	eval "ADDR_$x=$(ctlj "$x" status | jq -r .party.address)"
	pids=""
	for m in $joined; do
		eval "a=\$ADDR_$m"
		( t=$(ttfp "$x" "$a") && echo "$t $x-$m" >>"$PT_RUN/ttfp" ||
		    echo "fail $x-$m" >>"$PT_RUN/ttfp" ) &
		pids="$pids $!"
	done
	# (not a bare wait: the daemons are children too)
	for pid in $pids; do wait "$pid"; done
	joined="$joined $x"
done
if grep fail "$PT_RUN/ttfp"; then
	grep fail "$PT_RUN/ttfp" | while read -r _ pair; do
		x=${pair%-*} m=${pair#*-}
		ctlj "$x" peers | jq -c --arg n "node-$m" '.peers[] |
		    select(.name == $n) | [.path, .endpoint, .handshake_age,
		    [.candidates[] | [.endpoint, .kind, .state]]]' |
		    sed "s/^/# $x -> $m: /"
		ctlj "$m" peers | jq -c --arg n "node-$x" '.peers[] |
		    select(.name == $n) | [.path, .endpoint, .handshake_age,
		    [.candidates[] | [.endpoint, .kind, .state]]]' |
		    sed "s/^/# $m -> $x: /"
		eval "a=\$ADDR_$m"
		nsx "$x" ping -c 2 -W 1 "$a" | grep loss | sed "s/^/# now: /"
	done
	pt_fail "no packet through some tunnels"
fi
n=$(wc -l <"$PT_RUN/ttfp")
[ "$n" -eq 36 ] || pt_fail "$n pairs measured, want 36"
dist=$(sort -n "$PT_RUN/ttfp" | awk '{ v[NR] = $1 } END {
	printf "min %d, p50 %d, p90 %d, max %d ms", v[1], v[int(NR / 2 + 0.5)],
	    v[int(NR * 0.9 + 0.5)], v[NR] }')
ok "time to first packet over 36 pairs (27 direct, 9 relayed): $dist"
sed 's/^/# /' "$PT_RUN/ttfp" | sort -n -k2 | tr '\n' ' ' | fold -w 76 -s
echo
# A pair whose two initiations crossed waits for WireGuard's 5 s retry
# (a known gap, about one run in five); it is shown, not failed.  The
# 300 ms target is bench/paths.sh's to measure (TTFP_OUT collects).
slow=$(awk '$1 >= 5000 { printf "%s %s ms; ", $2, $1 }' "$PT_RUN/ttfp")
[ -z "$slow" ] || echo "# needed the handshake retry: $slow"
[ -z "${TTFP_OUT:-}" ] || cat "$PT_RUN/ttfp" >>"$TTFP_OUT"

# path_of X Y: "path|reason" of X's view of Y
path_of() {
	ctlj "$1" peers | jq -r --arg n "node-$2" \
	    '.peers[] | select(.name == $n) | .path + "|" + .reason'
}
all_settled() {
	for x in $NODES; do
		for m in $NODES; do
			[ "$x" = "$m" ] && continue
			want=direct
			no_direct "$x" "$m" && want=relay
			case $(path_of "$x" "$m") in
			"$want|"*) ;;
			"direct|direct: "*symmetric*)
				guessable "$x" "$m" || return 1 ;;
			*) return 1 ;;
			esac
		done
	done
}
wait_for 10 all_settled || {
	for x in $NODES; do
		ctlj "$x" peers | jq -c '.peers[] | [.name, .path, .reason]' |
		    sed "s/^/# $x: /"
	done
	pt_fail "paths differ from what the NATs allow"
}
ndirect=0
for x in $NODES; do
	n=$(ctlj "$x" peers | jq '[.peers[] | select(.path == "direct")] |
	    length')
	ndirect=$((ndirect + n))
done
ok "all 72 views: $ndirect direct (54, and more when port guessing hits), $((72 - ndirect)) relayed, as the NAT behaviours allow"

# expect_reason X Y PATTERN...: X's reason for Y matches one of them
expect_reason() {
	got=$(path_of "$1" "$2" | cut -d'|' -f2)
	er_x=$1 er_y=$2
	shift 2
	for er_p in "$@"; do
		case $got in
		$er_p) return 0 ;;
		esac
	done
	pt_fail "$er_x -> $er_y: reason \"$got\", want $*"
}
expect_reason h i "direct: same LAN"
expect_reason f o "direct: full-cone ↔ no NAT"
expect_reason r y "direct: address-restricted ↔ symmetric"
expect_reason d f "direct: port-restricted ↔ full-cone"
expect_reason y z "relay: both symmetric"
expect_reason p y "relay: port-restricted ↔ symmetric*" \
    "direct: port-restricted ↔ symmetric"
ok "reasons name the NATs (same LAN, full cone, both symmetric ...)"

# RTT, jitter and loss are measured on the chosen path
rtt=$(ctlj f peers | jq -r '.peers[] | select(.name == "node-o") |
    [.rtt_ms, .jitter_ms, .loss_pct] | @tsv')
echo "$rtt" | awk '$1 > 0 && $1 < 100 && $2 >= 0 && $3 >= 0 && $3 <= 100 \
    { ok = 1 } END { exit !ok }' || pt_fail "f -> o: rtt/jitter/loss $rtt"
ok "f -> o: rtt, jitter, loss: $(echo "$rtt" | tr '\t' ' ')"

# A path dies under traffic: f reaches o on one of o's two addresses;
# remove that one.  f must move to the other within seconds, on the same
# WireGuard session (no new handshake).
ep_of() {
	ctlj f peers | jq -r '.peers[] | select(.name == "node-o") | .endpoint'
}
hs_of() {
	ctlj f peers | jq -r '.peers[] | select(.name == "node-o") |
	    .handshake_age'
}
before=$(ep_of)
case $before in
10.99.0.11:*) gone=10.99.0.11 other=10.99.0.31 ;;
10.99.0.31:*) gone=10.99.0.31 other=10.99.0.11 ;;
*) pt_fail "f -> o: endpoint $before" ;;
esac
hs=$(hs_of)
nsx f ping -n -i 0.05 -w 15 "$ADDR_o" >"$PT_RUN/moveping" 2>&1 &
pingpid=$!
sleep 1
ip -n "lrp$$o" addr del "$gone/24" dev eth0
moved() { case $(ep_of) in "$other":*) return 0 ;; esac; return 1; }
wait_for 12 moved || pt_fail "f -> o did not leave $gone: $(ep_of)"
wait "$pingpid"
hs2=$(hs_of)
lost=$(awk '/packets transmitted/ { print $1 - $4 }' "$PT_RUN/moveping")
tail -n 2 "$PT_RUN/moveping" | sed 's/^/# /'
[ -n "$lost" ] && [ "$lost" -lt 200 ] || pt_fail "lost $lost pings"
# The move itself keeps the session (lanraged only changes the
# endpoint); o losing its address also drops its control connection,
# and a handshake may follow that: reported, not failed.
session="same session"
[ "$hs2" -ge "$hs" ] || session="a handshake during the move (age $hs -> $hs2 s)"
tail -n 3 "$PT_RUN/moveping" | grep -q ' 0 received' &&
    pt_fail "no ping got through"
ok "path died: f -> o moved $gone -> $other, $lost of 300 pings lost, $session"
