#!/bin/sh
# make demo, for now: start lanrage-netd in a private network namespace,
# drive it as lanraged will (create lanrage0, address, MTU, routes), show
# what it made and that packets flow through the TUN fd it passed, then
# tear everything down.  The full party demo arrives with lanraged.
. tests/integration/lib.sh
setup_ns
write_conf
start_netd
echo "lanrage-netd runs in network namespace $NS (log: $RUN/netd.log)"

client <<'SCRIPT' || die "demo"
tun lanrage0
linkset $ 1420 up
addr add $ 10.66.0.1/16
route add $ 255.255.255.255/32
capture $ 4445-4445
sh echo; echo "--- interfaces, addresses and routes that netd made:"; ip -br link show lanrage0; ip -br addr show dev lanrage0; ip route show dev lanrage0; echo
tun-ping 10.66.0.2 10.66.0.1
udp-send 255.255.255.255 4445 game-lobby-broadcast
capture-expect 4445
inject $ 17 10.66.0.7 4445 255.255.255.255 4445 lobby-from-a-peer
tun-expect-udp 4445 10.66.0.7
SCRIPT
echo
echo "--- the client has gone; netd removed what it made:"
wait_gone lanrage0 && nsexec ip -br link
echo
echo "demo: ok"
