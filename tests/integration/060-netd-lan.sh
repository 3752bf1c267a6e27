#!/bin/sh
# The configured LAN interface: netd captures broadcasts that arrive on it
# and injects broadcasts that a host on that LAN receives with the overlay
# source address.  Other physical interfaces stay refused.
. tests/integration/lib.sh
setup_ns
LAN=lrlan$$
ip netns add "$LAN" || die "second namespace"
lan_cleanup() {
	ip netns del "$LAN" 2>/dev/null
	cleanup
}
trap lan_cleanup EXIT INT TERM
nsexec ip link add lrlan0 type veth peer name lrlan1 || die "veth"
nsexec ip link set lrlan1 netns "$LAN"
nsexec ip addr add 192.168.77.1/24 dev lrlan0
nsexec ip link set lrlan0 up
ip -n "$LAN" addr add 192.168.77.2/24 dev lrlan1
ip -n "$LAN" link set lrlan1 up
ip -n "$LAN" link set lo up
ip -n "$LAN" route add 10.66.0.0/16 dev lrlan1
ip -n "$LAN" route add 255.255.255.255/32 dev lrlan1
nsexec ip link add lrother0 type veth peer name lrother1 || die "veth 2"
write_conf "LanInterface = lrlan0"
start_netd

# A host on the LAN listens; netd injects a lobby broadcast onto the LAN.
ip netns exec "$LAN" "$CLIENT" - > "$RUN/lan.out" 2>&1 <<'SCRIPT' &
udp-recv 4445 10.66.0.5 lobby-from-the-party
SCRIPT
recv=$!
sleep 0.3
client <<'SCRIPT' || die "inject onto the LAN"
inject @lrlan0 17 10.66.0.5 4445 255.255.255.255 4445 lobby-from-the-party
!2 inject @lrother0 17 10.66.0.5 4445 255.255.255.255 4445 not-this-one
!2 capture @lrother0 4445-4445
SCRIPT
wait "$recv" || { cat "$RUN/lan.out"; die "LAN host did not get the broadcast"; }
ok "inject onto the LAN interface reaches a LAN host with the overlay source"

# A LAN host sends (a few times, so the capture is surely open by then).
# A fresh sh, not a function in the background: that would carry the trap.
lan_send() {	# DST TEXT
	sh -c 'for i in 1 2 3 4 5 6; do sleep 0.25
	    echo "udp-send $1 4445 $2" | ip netns exec "$3" "$4" - >/dev/null 2>&1
	done' lan_send "$1" "$2" "$LAN" "$CLIENT" &
	SENDER=$!
}

for dst in 255.255.255.255 192.168.77.255; do
	lan_send $dst lan-lobby
	client <<'SCRIPT' || die "capture of a LAN broadcast to $dst"
capture @lrlan0 4445-4445,5353-5353
capture-expect 4445
SCRIPT
	wait "$SENDER"
done
ok "capture on the LAN interface sees limited and directed LAN broadcasts"

lan_send 192.168.77.1 unicast-not-captured
client <<'SCRIPT' || die "unicast captured"
capture @lrlan0 4445-4445
capture-none 4445
SCRIPT
wait "$SENDER"
ok "... and not unicast to this host"
