#!/bin/sh
# Config check, the stale sweep at start, the ledger when the client keeps
# its fd, and teardown on SIGTERM.
. tests/integration/lib.sh
setup_ns
write_conf

"$NETD" -n -f "$RUN/netd.conf" 2>"$RUN/n.out" || die "-n on a good config"
grep -q 'configuration OK' "$RUN/n.out" || die "-n said nothing"
printf '[Netd]\nOverlaySubnets = 10.66.0.1/16\n' > "$RUN/bad.conf"
"$NETD" -n -f "$RUN/bad.conf" 2>"$RUN/n.out" && die "-n accepted a bad config"
grep -q "bad.conf:2: OverlaySubnets: " "$RUN/n.out" ||
    die "error not in file:line: key: form: $(cat "$RUN/n.out")"
printf '[Netd]\nColour = blue\n' > "$RUN/bad.conf"
"$NETD" -n -f "$RUN/bad.conf" 2>/dev/null && die "-n accepted an unknown key"
chmod 666 "$RUN/netd.conf"
"$NETD" -n -f "$RUN/netd.conf" 2>/dev/null && die "accepted a world-writable config"
chmod 644 "$RUN/netd.conf"
ok "-n checks the config (file:line: key: reason, unknown keys, permissions)"

nsexec ip tuntap add lanrage9 mode tun || die "stale tun"
nsexec ip tuntap add lanrage8 mode tap || die "stale tap"
nsexec ip tuntap add keepme0 mode tun || die "foreign tun"
start_netd
nsexec ip link show lanrage9 >/dev/null 2>&1 && die "stale lanrage9 not swept"
nsexec ip link show lanrage8 >/dev/null 2>&1 && die "stale lanrage8 (tap) not swept"
nsexec ip link show keepme0 >/dev/null 2>&1 || die "foreign link swept"
ok "stale lanrage* interfaces swept at start, others left alone"

# The client keeps its TUN fd after hanging up: the ledger still removes it.
client <<SCRIPT || die "disconnect with fd held"
tun lanrage0
addr add \$ 10.66.0.1/16
disconnect
sh for i in 1 2 3 4 5 6 7 8 9 10; do ip link show lanrage0 >/dev/null 2>&1 || exit 0; sleep 0.2; done; exit 1
SCRIPT
ok "the ledger removes the interface even while the client holds its fd"

# SIGTERM while a client is connected.
mkfifo "$RUN/fifo"
ip netns exec "$NS" setpriv --reuid=$CLIENT_UID --regid=$CLIENT_UID \
    --clear-groups "$CLIENT" "$RUN/netd.sock" < "$RUN/fifo" \
    > "$RUN/client.out" 2>&1 &
exec 3>"$RUN/fifo"
echo 'tun lanrage0' >&3
echo 'addr add $ 10.66.0.1/16' >&3
for i in $(seq 30); do grep -q 'ok' "$RUN/client.out" 2>/dev/null &&
    nsexec ip -o addr show dev lanrage0 2>/dev/null | grep -q 10.66.0.1 && break
	sleep 0.1; done
nsexec ip link show lanrage0 >/dev/null 2>&1 || die "client did not create lanrage0"
kill -TERM "$NETD_PID"
for i in $(seq 30); do netd_alive || break; sleep 0.1; done
netd_alive && die "netd ignored SIGTERM"
NETD_PID=
exec 3>&-
wait_gone lanrage0 || die "lanrage0 survived SIGTERM"
grep -q 'removing' "$RUN/netd.log" || die "exit not logged"
ok "SIGTERM removes every object and exits"
