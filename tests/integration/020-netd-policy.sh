#!/bin/sh
# Every policy violation is refused with its own error code, and the
# session goes on after each refusal.
. tests/integration/lib.sh
setup_ns
write_conf
start_netd

client <<'SCRIPT' || die "policy refusals"
!1 tun eth0
!1 tun wg0
tun lanrage1
linkset $ 0 up
!12 tun lanrage1
!3 addr add $ 192.168.1.1/24
!3 addr add $ 10.66.0.1/8
!3 addr add $ fd00::1/64
!4 route add $ 0.0.0.0/0
!4 route add $ 10.0.0.0/8
!4 route add $ 192.168.7.0/24
!2 linkset @lo 1500 up
!2 addr add @lo 10.66.0.9/32
!2 route add @lo 10.66.9.0/24
!2 qos @lo 17:27015-27015:0
!2 linkdel @lo
!5 capture $ 22-22
!5 capture $ 4445-4446
!13 capture 99999 4445-4445
!2 capture @lo 4445-4445
!6 inject $ 6 10.66.0.5 4445 255.255.255.255 4445 tcp-is-refused
!6 inject $ 1 10.66.0.5 4445 255.255.255.255 4445 icmp-is-refused
!7 inject $ 17 192.168.0.5 4445 255.255.255.255 4445 src-outside
!7 inject $ 17 10.66.0.5 4445 10.66.0.9 4445 unicast-dst
!7 inject $ 17 10.66.0.5 4445 8.8.8.8 4445 foreign-dst
!5 inject $ 17 10.66.0.5 4445 255.255.255.255 22 forbidden-port
!2 inject @lo 17 10.66.0.5 4445 255.255.255.255 4445 not-our-link
inject $ 17 10.66.0.5 4445 10.66.255.255 4445 directed-broadcast-ok
inject $ 17 10.66.0.5 5353 224.0.0.251 5353 mdns-ok
!11 frame 0x0999 1 0
addr add $ 10.66.0.1/16
sh ip -o addr show dev lanrage1 | grep -q 10.66.0.1/16
SCRIPT
ok "each policy violation refused with its error; valid requests still served"

client <<'SCRIPT' || die "limits"
tun lanrage0
tun lanrage1
tun lanrage2
tun lanrage3
tun lanrage4
tun lanrage5
tun lanrage6
tun lanrage7
!9 tun lanrage8
SCRIPT
ok "the ledger is bounded (NETD_E_LIMIT)"
netd_alive || die "netd died"
