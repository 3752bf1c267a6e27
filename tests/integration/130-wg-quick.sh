#!/bin/sh
# wg-quick(8) uses lanraged as its userspace implementation
# (WG_QUICK_USERSPACE_IMPLEMENTATION), as it would wireguard-go: "up"
# brings a tunnel to a wireguard-go peer, "down" deletes the interface and
# lanraged exits.
. tests/wg-lib.sh

wg_require
command -v wg-quick >/dev/null || skip "no wg-quick"
[ -x "$LANRAGED" ] || skip "lanraged not built yet ($LANRAGED)"
wg_topology
wg_keys
start_node wireguard-go 2
node_config 2
node_up 2

chmod 755 "$WG_RUN"
netd_ensure "$WG_NS1" || die "netd"
printf '[Interface]\nUser = %s\nNetdSocket = %s\nUapiDir = %s\nThreads = 2\n' \
    "$LR_UID" "$WG_RUN/netd-$WG_NS1.sock" "$WG_SOCKDIR" \
    >"$WG_RUN/lanraged.conf"
printf '#!/bin/sh\nexec %s -f %s "$@" 2>>%s\n' "$LANRAGED" \
    "$WG_RUN/lanraged.conf" "$WG_RUN/lanraged.err" >"$WG_RUN/lanraged-wrap"
chmod 755 "$WG_RUN/lanraged-wrap"
{
	echo "[Interface]"
	echo "PrivateKey = $(cat "$WG_RUN/node1.key")"
	echo "Address = $WG_OVERLAY.1/24"
	echo "ListenPort = $WG_PORT1"
	echo "[Peer]"
	echo "PublicKey = $(cat "$WG_RUN/node2.pub")"
	echo "Endpoint = $WG_UL2:$WG_PORT2"
	echo "AllowedIPs = $WG_OVERLAY.2/32"
} >"$WG_RUN/$WG_IF1.conf"
chmod 600 "$WG_RUN/$WG_IF1.conf"

nsx 1 env WG_QUICK_USERSPACE_IMPLEMENTATION="$WG_RUN/lanraged-wrap" \
    wg-quick up "$WG_RUN/$WG_IF1.conf" >"$WG_RUN/up.out" 2>&1 ||
    die "wg-quick up: $(tail -n 5 "$WG_RUN/up.out") $(cat "$WG_RUN/lanraged.err")"
pid=$(ip netns pids "$WG_NS1" | while read p; do
	grep -q lanraged "/proc/$p/cmdline" 2>/dev/null && echo "$p"; done)
[ -n "$pid" ] || die "no lanraged running after wg-quick up"
ok "wg-quick up started lanraged (pid $pid) for $WG_IF1"
node_ping 1 "$WG_OVERLAY.2" || die "ping through the wg-quick tunnel"
node_wg 1 show "$WG_IF1" listen-port | grep -qx "$WG_PORT1" ||
    die "listen port not applied"
ok "ping 10.66.0.2 through it; wg show reports the configured port"

nsx 1 wg-quick down "$WG_RUN/$WG_IF1.conf" >"$WG_RUN/down.out" 2>&1 ||
    die "wg-quick down: $(tail -n 5 "$WG_RUN/down.out")"
for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && die "lanraged still runs after wg-quick down"
ok "wg-quick down: the interface is gone and lanraged exited"
