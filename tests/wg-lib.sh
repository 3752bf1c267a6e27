# WireGuard harness shared by the interop tests and the data-plane
# benchmark.  Source it (POSIX sh; dash runs it in CI); needs root.
#
# Topology: two network namespaces joined by a veth pair, node 1 at
# 192.168.241.1/24 and node 2 at 192.168.241.2/24 (the underlay).  Each
# node runs a WireGuard implementation on its own interface; the overlay is
# 10.66.0.N/24.  Every name carries $$, so parallel runs do not collide:
# /var/run/wireguard is one directory shared by all namespaces.
#
#   wg_require                      tools present (installs them), or exit 77
#   wg_topology                     namespaces, veth, underlay addresses
#   wg_keys                         key pair per node and a preshared key
#   start_node KIND N               KIND is wireguard-go or lanraged
#   node_config N                   wg set: key, port, the other node as peer
#   node_up N                       overlay address, link up
#   node_stop N                     stop the daemon; its interface goes too
#   node_ping N DST [COUNT]         COUNT replies within a bounded time
#   wait_handshake N [AFTER [SECS]] a handshake newer than AFTER (epoch s)
#   node_handshake N / node_transfer N / node_wg N ARGS...
#   node_set_underlay N ADDR        move node N's underlay address (roaming)
#   iperf_run SRV CLI DST ARGS...   iperf3 client in CLI, one-shot server in SRV
#   wg_cleanup                      installed as the EXIT trap by wg_topology
#
# Per node N (1 or 2): WG_NS<N>, WG_IF<N>, WG_UL<N> (underlay address),
# WG_PORT<N>, WG_PID<N>, WG_KIND<N>; WG_RUN is the private run directory.
#
# To plug in another implementation, define start_node_<kind> (dashes
# become underscores): it gets NS IF LOG, starts the daemon in NS in the
# background so that it owns interface IF and serves the UAPI socket
# /var/run/wireguard/IF.sock, and sets NODE_PID to the process whose CPU
# time and memory are the tunnel's.  Configuration and inspection go
# through wg(8) for every kind.

LANRAGED=${LANRAGED:-$(pwd)/${BUILD:-build}/sbin/lanraged}
WIREGUARD_GO=${WIREGUARD_GO:-wireguard-go}
WG=${WG:-wg}
WG_LOG_LEVEL=${WG_LOG_LEVEL:-verbose}	# wireguard-go: verbose, error, silent
WG_SOCKDIR=/var/run/wireguard
WG_OVERLAY=10.66.0
WG_UNDERLAY=192.168.241
WG_DEBS="wireguard-go wireguard-tools iperf3 iputils-ping iproute2 procps"

WG_NS1=lrwg$$a
WG_NS2=lrwg$$b
WG_IF1=lrwg$$a
WG_IF2=lrwg$$b
WG_VETH1=lrve$$a
WG_VETH2=lrve$$b
WG_UL1=$WG_UNDERLAY.1
WG_UL2=$WG_UNDERLAY.2
WG_PORT1=51821
WG_PORT2=51822
WG_PID1=
WG_PID2=
WG_KIND1=
WG_KIND2=
WG_RUN=
WG_PSK=${WG_PSK:-0}		# 1: both sides use a preshared key
WG_KEEPALIVE1=			# persistent keepalive (s) of node 1, empty: off
WG_KEEPALIVE2=

skip() { echo "# SKIP: $*"; exit 77; }
ok() { echo "ok - $*"; }
note() { echo "# $*"; }
die() {
	echo "not ok - $*"
	for n in 1 2; do
		l=$WG_RUN/node$n.log
		[ -n "$WG_RUN" ] && [ -s "$l" ] &&
		    tail -n 15 "$l" | sed "s/^/# node$n: /"
	done
	exit 1
}

# nv NAME N: the value of variable NAME<N>.
nv() { eval "echo \"\$$1$2\""; }

# wg_require: root, TUN, namespaces and the tools, installed if missing
# (another apt may hold the dpkg lock for a while); otherwise skip (77).
wg_require() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	wg_have_tools && return 0
	for i in 1 2 3 4 5 6; do
		sh tests/deps.sh $WG_DEBS && break
		sleep 5
	done
	wg_have_tools || skip "wireguard-go, wg, iperf3 or ping missing" \
	    "and could not be installed"
}

wg_have_tools() {
	command -v "$WIREGUARD_GO" >/dev/null && command -v "$WG" >/dev/null &&
	    command -v iperf3 >/dev/null && command -v ping >/dev/null &&
	    command -v ip >/dev/null
}

# wg_topology: both namespaces, the veth pair, underlay addresses; installs
# wg_cleanup as the EXIT trap.
wg_topology() {
	trap wg_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	WG_RUN=$(mktemp -d /tmp/lanrage-wg.XXXXXX) || die "mktemp"
	ip netns add "$WG_NS1" || die "ip netns add $WG_NS1"
	ip netns add "$WG_NS2" || die "ip netns add $WG_NS2"
	ip -n "$WG_NS1" link set lo up
	ip -n "$WG_NS2" link set lo up
	ip -n "$WG_NS1" link add "$WG_VETH1" type veth \
	    peer name "$WG_VETH2" netns "$WG_NS2" || die "veth"
	ip -n "$WG_NS1" addr add "$WG_UL1/24" dev "$WG_VETH1" || die "addr 1"
	ip -n "$WG_NS2" addr add "$WG_UL2/24" dev "$WG_VETH2" || die "addr 2"
	ip -n "$WG_NS1" link set "$WG_VETH1" up || die "veth 1 up"
	ip -n "$WG_NS2" link set "$WG_VETH2" up || die "veth 2 up"
}

# wg_cleanup: every process in both namespaces, the namespaces, the UAPI
# sockets and the run directory.  Safe to call twice.
wg_cleanup() {
	for ns in "$WG_NS1" "$WG_NS2"; do
		p=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$p" ] && kill $p 2>/dev/null
	done
	for i in 1 2 3 4 5 6 7 8 9 10; do
		p=$(ip netns pids "$WG_NS1" 2>/dev/null;
		    ip netns pids "$WG_NS2" 2>/dev/null)
		[ -z "$p" ] && break
		[ "$i" = 10 ] && kill -9 $p 2>/dev/null
		sleep 0.1
	done
	ip netns del "$WG_NS1" 2>/dev/null
	ip netns del "$WG_NS2" 2>/dev/null
	rm -f "$WG_SOCKDIR/$WG_IF1.sock" "$WG_SOCKDIR/$WG_IF2.sock"
	[ -n "$WG_RUN" ] && rm -rf "$WG_RUN"
	WG_RUN=
}

nsx() { n=$1; shift; ip netns exec "$(nv WG_NS "$n")" "$@"; }

# wg_keys: a key pair per node (node<N>.key, node<N>.pub) and psk.
wg_keys() {
	(
		umask 077
		for n in 1 2; do
			"$WG" genkey >"$WG_RUN/node$n.key" &&
			    "$WG" pubkey <"$WG_RUN/node$n.key" \
			    >"$WG_RUN/node$n.pub" || exit 1
		done
		"$WG" genpsk >"$WG_RUN/psk"
	) || die "wg genkey"
}

# start_node KIND N: start node N (1 or 2) as KIND in its namespace and
# wait until its interface and UAPI socket exist.
start_node() {
	kind=$1
	n=$2
	ns=$(nv WG_NS "$n")
	ifn=$(nv WG_IF "$n")
	NODE_PID=
	"start_node_$(echo "$kind" | tr - _)" "$ns" "$ifn" \
	    "$WG_RUN/node$n.log" 2>"$WG_RUN/start.err" ||
	    die "start node $n ($kind): $(tail -n 1 "$WG_RUN/start.err")"
	eval "WG_PID$n=$NODE_PID WG_KIND$n=$kind"
	for i in $(seq 50); do
		[ -S "$WG_SOCKDIR/$ifn.sock" ] &&
		    ip -n "$ns" link show "$ifn" >/dev/null 2>&1 && return 0
		kill -0 "$NODE_PID" 2>/dev/null ||
		    die "node $n ($kind) exited at start"
		sleep 0.1
	done
	die "node $n ($kind): no $ifn or $WG_SOCKDIR/$ifn.sock after 5 s"
}

# Not through a function or $(...): $! must be the daemon itself (ip netns
# exec and env both exec), so that kill and wait reach it.
start_node_wireguard_go() {
	ip netns exec "$1" env LOG_LEVEL="$WG_LOG_LEVEL" \
	    WG_PROCESS_FOREGROUND=1 "$WIREGUARD_GO" -f "$2" >>"$3" 2>&1 &
	NODE_PID=$!
}

NETD=${NETD:-$(pwd)/${BUILD:-build}/sbin/lanrage-netd}
LR_UID=65534		# lanraged drops to this user; netd serves only it

# netd_ensure NS: one lanrage-netd per namespace, for every lanraged that
# runs there (it serves one client at a time; a restarted node reconnects).
netd_ensure() {
	sock=$WG_RUN/netd-$1.sock
	[ -S "$sock" ] && return 0
	printf '[Netd]\nUser = %s\nRunAs = root\nInterfacePrefix = lrwg\nOverlaySubnets = 10.66.0.0/16\n' \
	    "$LR_UID" >"$WG_RUN/netd-$1.conf"
	chmod 644 "$WG_RUN/netd-$1.conf"
	ip netns exec "$1" "$NETD" -d -f "$WG_RUN/netd-$1.conf" -s "$sock" \
	    >>"$WG_RUN/netd-$1.log" 2>&1 &
	for i in $(seq 50); do
		[ -S "$sock" ] && return 0
		sleep 0.1
	done
	echo "lanrage-netd did not start in $1" >&2
	return 1
}

# lanraged runs unprivileged: its UAPI socket lives in a directory of ours
# and wg(8) finds it through a link in $WG_SOCKDIR.
start_node_lanraged() {
	[ -x "$LANRAGED" ] || { echo "lanraged not built yet ($LANRAGED)" >&2;
	    return 1; }
	chmod 755 "$WG_RUN"
	netd_ensure "$1" || return 1
	printf '[Interface]\nName = %s\nUser = %s\nListenPort = 0\nNetdSocket = %s\nUapiDir = %s\nThreads = %s\n[Node]\nParty = no\n' \
	    "$2" "$LR_UID" "$WG_RUN/netd-$1.sock" "$WG_RUN/uapi-$2" \
	    "${LR_THREADS:-2}" >"$WG_RUN/lanraged-$2.conf"
	mkdir -p "$WG_SOCKDIR"
	ln -sf "$WG_RUN/uapi-$2/$2.sock" "$WG_SOCKDIR/$2.sock"
	ip netns exec "$1" "$LANRAGED" -d -f "$WG_RUN/lanraged-$2.conf" \
	    >>"$3" 2>&1 &
	NODE_PID=$!
}

# node_config N: private key, listen port, and the other node as peer
# (endpoint, allowed IP, optional psk and persistent keepalive).
node_config() {
	n=$1
	p=$((3 - n))
	ka=$(nv WG_KEEPALIVE "$n")
	set -- peer "$(cat "$WG_RUN/node$p.pub")" \
	    endpoint "$(nv WG_UL "$p"):$(nv WG_PORT "$p")" \
	    allowed-ips "$WG_OVERLAY.$p/32"
	[ "$WG_PSK" = 1 ] && set -- "$@" preshared-key "$WG_RUN/psk"
	[ -n "$ka" ] && set -- "$@" persistent-keepalive "$ka"
	nsx "$n" "$WG" set "$(nv WG_IF "$n")" \
	    private-key "$WG_RUN/node$n.key" listen-port "$(nv WG_PORT "$n")" \
	    "$@" || die "wg set on node $n"
}

# node_up N: overlay address and link up.
node_up() {
	ns=$(nv WG_NS "$1")
	ifn=$(nv WG_IF "$1")
	ip -n "$ns" addr add "$WG_OVERLAY.$1/24" dev "$ifn" ||
	    die "overlay address on node $1"
	ip -n "$ns" link set "$ifn" up || die "link up on node $1"
}

# node_stop N: SIGTERM the daemon (SIGKILL after 5 s), reap it, remove its
# socket, wait up to 2 s for its interface to go.
node_stop() {
	pid=$(nv WG_PID "$1")
	sock=$WG_SOCKDIR/$(nv WG_IF "$1").sock
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$sock"
	eval "WG_PID$1="
	# a TUN that a helper (netd) owns goes a moment after its client
	for i in $(seq 20); do
		ip -n "$(nv WG_NS "$1")" link show "$(nv WG_IF "$1")" \
		    >/dev/null 2>&1 || return 0
		sleep 0.1
	done
}

# node_wg N ARGS...: wg(8) against node N's interface, inside its namespace.
node_wg() { n=$1; shift; nsx "$n" "$WG" "$@"; }

# node_show N FIELD: `wg show IF FIELD` of node N, without the peer key.
node_show() {
	node_wg "$1" show "$(nv WG_IF "$1")" "$2" | cut -f 2-
}

node_handshake() { node_show "$1" latest-handshakes | head -n 1; }
node_transfer() { node_show "$1" transfer | head -n 1; }	# "rx tx"

# wait_handshake N [AFTER [SECS]]: node N reports a handshake later than
# AFTER (epoch seconds, default 0) within SECS (default 10).
wait_handshake() {
	t=$(( ${3:-10} * 10 ))
	for i in $(seq "$t"); do
		h=$(node_handshake "$1")
		[ -n "$h" ] && [ "$h" -gt "${2:-0}" ] && return 0
		sleep 0.1
	done
	return 1
}

# node_ping N DST [COUNT]: COUNT (3) replies from DST within 2 s + COUNT s.
node_ping() {
	c=${3:-3}
	nsx "$1" ping -n -q -c "$c" -i 0.2 -w $((c + 2)) "$2" >/dev/null
}

# node_set_underlay N ADDR: replace node N's underlay address.
node_set_underlay() {
	ns=$(nv WG_NS "$1")
	veth=$(nv WG_VETH "$1")
	ip -n "$ns" addr del "$(nv WG_UL "$1")/24" dev "$veth" &&
	    ip -n "$ns" addr add "$2/24" dev "$veth" || return 1
	eval "WG_UL$1=$2"
}

# iperf_run SRV CLI DST ARGS...: a one-shot iperf3 server in node SRV's
# namespace, the client in CLI's towards DST; the client's report goes to
# $WG_RUN/iperf.out.  Bounded: the client by timeout, the server killed if
# the client did not end it.
iperf_run() {
	srv=$1
	cli=$2
	dst=$3
	shift 3
	ip netns exec "$(nv WG_NS "$srv")" iperf3 -s -1 -B "$dst" \
	    >"$WG_RUN/iperf-server.out" 2>&1 &
	spid=$!
	for i in $(seq 30); do
		nsx "$srv" ss -Hltn 'sport = :5201' | grep -q . && break
		sleep 0.1
	done
	timeout 60 ip netns exec "$(nv WG_NS "$cli")" iperf3 -c "$dst" -f m \
	    "$@" >"$WG_RUN/iperf.out" 2>&1
	st=$?
	for i in $(seq 20); do
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	return $st
}

# iperf_mbps: receiver bit rate (Mbit/s) of the last iperf_run, the SUM line
# when there were parallel streams.
iperf_mbps() {
	awk '/ receiver$/ { for (i = 2; i <= NF; i++)
	    if ($i == "Mbits/sec") r = $(i - 1) } END { print r }' \
	    "$WG_RUN/iperf.out"
}

# iperf_loss: receiver loss of the last UDP iperf_run, as "lost/total (p%)".
iperf_loss() {
	awk '/ receiver$/ { for (i = 2; i <= NF; i++)
	    if ($i ~ /^[0-9]+\/[0-9]+$/) r = $i " " $(i + 1) } END { print r }' \
	    "$WG_RUN/iperf.out"
}

# proc_cpu_ticks PID: utime + stime of every thread, in clock ticks.
proc_cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# proc_rss_kb PID [FIELD]: VmRSS (or FIELD, e.g. VmHWM) in kB.
proc_rss_kb() {
	awk -v f="${2:-VmRSS}:" '$1 == f { print $2 }' "/proc/$1/status"
}
