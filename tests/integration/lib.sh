# Shared helpers for the integration tests: a private network namespace,
# a private run directory, lanrage-netd started inside them, and a trap
# that removes everything however the test ends.  Source it; needs root.

BUILD=${BUILD:-build}
NETD=${NETD:-$(pwd)/$BUILD/sbin/lanrage-netd}
CLIENT=$(pwd)/$BUILD/tests/integration/netd-client
CLIENT_UID=65534
NETD_UID=65533
NS=lrtest$$
RUN=

skip() { echo "# SKIP: $*"; exit 77; }
ok() { echo "ok - $*"; }
die() { echo "not ok - $*"; [ -n "$RUN" ] && tail -n 30 "$RUN/netd.log" 2>/dev/null | sed 's/^/# netd: /'; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

cleanup() {
	[ -n "${NETD_PID:-}" ] && kill "$NETD_PID" 2>/dev/null && sleep 0.2
	# nothing of ours may outlive the namespace
	pids=$(ip netns pids "$NS" 2>/dev/null)
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	[ -n "$RUN" ] && rm -rf "$RUN"
}
trap cleanup EXIT INT TERM

setup_ns() {
	ip netns add "$NS" || die "ip netns add"
	ip -n "$NS" link set lo up
	RUN=$(mktemp -d /tmp/lanrage-test.XXXXXX)
	chmod 755 "$RUN"
}

# write_conf [extra lines...]
write_conf() {
	{
		echo "[Netd]"
		echo "User = $CLIENT_UID"
		echo "RunAs = ${NETD_RUNAS:-root}"
		echo "InterfacePrefix = lanrage"
		echo "OverlaySubnets = 10.66.0.0/16"
		echo "Ports = 4445, 5353, 27015-27016"
		for l in "$@"; do echo "$l"; done
	} > "$RUN/netd.conf"
	chmod 644 "$RUN/netd.conf"
}

nsexec() { ip netns exec "$NS" "$@"; }

start_netd() {
	# not through nsexec: $! must be netd itself (ip netns exec execs it)
	ip netns exec "$NS" "$NETD" -d -v -f "$RUN/netd.conf" \
	    -s "$RUN/netd.sock" >"$RUN/netd.log" 2>&1 &
	NETD_PID=$!
	for i in $(seq 50); do
		[ -S "$RUN/netd.sock" ] && grep -q listening "$RUN/netd.log" &&
		    return 0
		kill -0 "$NETD_PID" 2>/dev/null || die "netd exited at start"
		sleep 0.1
	done
	die "netd did not start"
}

# client [uid] < script: run netd-client as uid inside the namespace.
client() {
	nsexec setpriv --reuid="${1:-$CLIENT_UID}" --regid="${1:-$CLIENT_UID}" \
	    --clear-groups "$CLIENT" "$RUN/netd.sock"
}

netd_alive() { kill -0 "$NETD_PID" 2>/dev/null; }

# wait_gone IFNAME: the interface disappears within 2 s.
wait_gone() {
	for i in $(seq 20); do
		nsexec ip link show "$1" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	return 1
}
