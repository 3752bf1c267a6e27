#!/bin/sh
# Every netd operation really happens in the kernel, and the TUN fd that
# netd passes carries packets both ways; disconnecting removes it all.
. tests/integration/lib.sh
setup_ns
write_conf
start_netd

client <<'SCRIPT' || die "operations"
tun lanrage0
linkset $ 1380 up
addr add $ 10.66.0.1/16
route add $ 10.66.200.0/24
route add $ 255.255.255.255/32
route add $ 224.0.0.251/32
sh ip -o link show lanrage0 | grep -q 'mtu 1380'
sh ip -o link show lanrage0 | grep -q ',UP'
sh ip -o addr show dev lanrage0 | grep -q 'inet 10.66.0.1/16'
sh ip route show dev lanrage0 | grep -q '^10.66.200.0/24'
sh ip route show 255.255.255.255 | grep -q 'dev lanrage0'
sh ip route show 224.0.0.251 | grep -q 'dev lanrage0'
tun-ping 10.66.0.2 10.66.0.1
udp-send 10.66.200.9 9999 hello-through-the-tun
tun-expect-udp 9999
capture $ 4445-4445
udp-send 255.255.255.255 4445 lobby
capture-expect 4445
udp-send 255.255.255.255 5353 not-captured
capture-none 5353
inject $ 17 10.66.0.5 4445 255.255.255.255 4445 injected
tun-expect-udp 4445 10.66.0.5
qos $ 17:27015-27016:0 6:27015-27015:2
sh tc qdisc show dev lanrage0 | grep -q 'htb 1:'
sh tc class show dev lanrage0 | grep -q 'class htb 1:1'
sh test "$(tc filter show dev lanrage0 | grep -c 'flowid 1:1')" -ge 2
sh test "$(tc filter show dev lanrage0 | grep -c 'flowid 1:3')" -ge 1
qosclear $
sh ! tc qdisc show dev lanrage0 | grep -q htb
route del $ 10.66.200.0/24
sh ! ip route show dev lanrage0 | grep -q 10.66.200.0
addr del $ 10.66.0.1/16
sh ! ip -o addr show dev lanrage0 | grep -q 10.66.0.1
tun lanrage1 mq
queue $
linkdel $
sh ! ip link show lanrage1 2>/dev/null
SCRIPT
ok "create, configure, use and remove a TUN through netd"

wait_gone lanrage0 || die "lanrage0 survived the client's disconnect"
nsexec ip route show | grep -q 10.66 && die "routes survived the disconnect"
ok "disconnect removes every object netd made"
netd_alive || die "netd died"
ok "netd keeps running"
