# Party harness: lanrage-controld and up to three nodes, each in a network
# namespace of its own, all on one bridged LAN (10.99.0.0/24).  Source it
# (POSIX sh); needs root.  Every name carries $$ so parallel runs do not
# collide; the EXIT trap removes the namespaces and the run directory.
#
#   party_require [CMD...]          skip (77) without root, TUN, binaries, jq, CMD
#   party_topology                  namespaces, bridge, veths, addresses
#   party_controld                  key, config, start (PT_PUB: server key)
#   party_controld_kill             kill -9 (leaves its database)
#   party_nat_node X K TYPE         node X behind router lrp$$rK, LAN K
#   party_nat_join X K N            node X on router K's LAN, 192.168.K.N
#   party_double_nat_node X K       node X behind two port-restricted NATs
#   party_relay_key N               key of relay N (PT_RELAY_PUB_N), before controld
#   party_relayd N REGION           lanrage-relayd N at 10.99.0.(40+N):51820
#   party_relayd_kill N             kill -9 relay N
#   party_two_relays                controld and relays 1 (alpha) and 2 (beta)
#   party_relays_registered N       wait until N relays registered with controld
#   party_relay_slow N "IP MS"...   delay what relay N sends to IP by MS ms
#                                   (again: new delays, under traffic)
#   party_node X                    netd + lanraged in node X (a, b or c)
#   party_node_stop X               SIGTERM lanraged of X, wait for it
#   party_node_server X             name node-X, this controld and its key
#   ctl X ARGS...                   lanragectl against X's control socket
#   ctlj X ARGS...                  the same with -j
#   wait_for SECS CMD...            run CMD every 0.1 s until it succeeds
#   ping_gap FILE MS                longest run of pings lost in ping's output, in ms
#
# PT_DIRECT (default "a b c"): the nodes party_topology puts on the
# bridge itself.  party_nat_node puts one behind a NAT router instead:
# TYPE open (routing only), fullcone, addrcone (address-restricted),
# portcone (port-restricted: plain masquerade), symmetric (a random
# port per destination) or symseq (symmetric, ports in sequence).  Router K: 10.99.0.(20+K) on the bridge,
# 192.168.K.1 on the LAN (a bridge); its first node 192.168.K.2 (inbound
# port 51820 goes there), the next ones .3, .4 ...  A double NAT puts
# router K behind an outer one (lrp$$oK: 10.99.0.(20+K), LAN
# 100.64.K.0/24).  All with nftables.
#
# Addresses: server 10.99.0.1, node a .11, b .12, c .13; controld on
# port 8667; party members get 10.66.0.0/16 from controld.

BUILD=${BUILD:-build}
PT_NETD=$(pwd)/$BUILD/sbin/lanrage-netd
PT_LANRAGED=$(pwd)/$BUILD/sbin/lanraged
PT_CONTROLD=$(pwd)/$BUILD/sbin/lanrage-controld
PT_CTL=$(pwd)/$BUILD/bin/lanragectl
PT_UI=${PT_UI:-$(pwd)/ui}
PT_RELAYD=$(pwd)/$BUILD/sbin/lanrage-relayd
PT_DELAY=$(pwd)/$BUILD/tests/integration/delay-tun
PT_UID=65534			# every daemon drops to this user
PT_SRV=lrp$$s
PT_BR=lrpbr$$
PT_RUN=
PT_PUB=
PT_CONTROLD_PID=
PT_NODES=""
PT_ROUTERS=""

ok() { echo "ok - $*"; }
skip() { echo "# SKIP: $*"; exit 77; }

# party_require [COMMAND...]: skip unless root, TUN, the binaries, jq
# and the commands named are there.
party_require() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	for b in "$PT_NETD" "$PT_LANRAGED" "$PT_CONTROLD" "$PT_CTL"; do
		[ -x "$b" ] || skip "no $b"
	done
	for c in jq "$@"; do
		command -v "$c" >/dev/null || skip "no $c"
	done
}

pt_fail() {
	echo "not ok - $*"
	[ -n "$PT_RUN" ] || exit 1
	for f in "$PT_RUN"/controld.log "$PT_RUN"/relay*.log \
	    "$PT_RUN"/*/lanraged.log; do
		[ -f "$f" ] || continue
		echo "# --- ${f#$PT_RUN/}"
		tail -n 25 "$f" | sed 's/^/# /'
	done
	exit 1
}

pt_cleanup() {
	for x in $PT_NODES; do
		pids=$(ip netns pids "lrp$$$x" 2>/dev/null)
		[ -n "$pids" ] && kill $pids 2>/dev/null
	done
	sleep 0.3
	for ns in $PT_SRV $(for x in $PT_NODES; do echo "lrp$$$x"; done) \
	    $PT_ROUTERS; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	# PT_KEEP=1 keeps the logs for a look after the run
	[ -n "$PT_RUN" ] && [ -z "${PT_KEEP:-}" ] && rm -rf "$PT_RUN"
}

party_topology() {
	trap pt_cleanup EXIT
	trap 'exit 143' INT TERM	# through the EXIT trap, and stop there
	PT_RUN=$(mktemp -d /tmp/lanrage-party.XXXXXX)
	chmod 755 "$PT_RUN"
	ip netns add "$PT_SRV" || pt_fail "ip netns add"
	ip -n "$PT_SRV" link set lo up
	# A fixed MAC: a bridge without one takes its lowest port's and
	# changes it as ports join, and neighbours that cached the old one
	# then lose packets to the server until their ARP entry ages out.
	ip -n "$PT_SRV" link add "$PT_BR" address 02:00:0a:63:00:01 \
	    type bridge || pt_fail "bridge"
	ip -n "$PT_SRV" addr add 10.99.0.1/24 dev "$PT_BR"
	ip -n "$PT_SRV" link set "$PT_BR" up
	n=11
	for x in ${PT_DIRECT-a b c}; do
		ns=lrp$$$x
		PT_NODES="$PT_NODES $x"
		ip netns add "$ns" || pt_fail "ip netns add $ns"
		ip -n "$ns" link set lo up
		ip link add "lrpv$$$x" netns "$PT_SRV" type veth peer \
		    name eth0 netns "$ns" || pt_fail "veth for $x"
		ip -n "$PT_SRV" link set "lrpv$$$x" master "$PT_BR" up
		ip -n "$ns" addr add "10.99.0.$n/24" dev eth0
		ip -n "$ns" link set eth0 up
		n=$((n + 1))
	done
}

# The NAT rules of a router (nft, table ip nat), for the node at $2; $3
# is the router's wan address (symseq needs it).
pt_nat_rules() {
	type=$1 node=$2 wan=${3:-}
	case $type in
	open)	return 0 ;;
	fullcone)
		pre="iifname wan udp dport 51820 dnat to $node:51820"
		post="oifname wan masquerade" ;;
	addrcone)
		pre="iifname wan ip saddr @seen udp dport 51820 dnat to $node:51820"
		post="oifname wan add @seen { ip daddr } masquerade" ;;
	portcone)
		pre=""
		post="oifname wan masquerade" ;;
	symmetric)
		pre=""
		post="oifname wan masquerade fully-random" ;;
	symseq)	# symmetric, but each new UDP mapping takes the next port
		# (a map: numgen's value would be taken in the wrong byte order)
		seq=$(i=0; while [ $i -lt 256 ]; do
			printf '%d : %d, ' $i $((40000 + i)); i=$((i + 1)); done)
		pre=""
		post="oifname wan meta l4proto udp snat to $wan : numgen inc mod 256 map { ${seq%, } }; oifname wan masquerade" ;;
	*)	pt_fail "unknown NAT type $type" ;;
	esac
	# Like a home router, drop what comes in unasked for the router
	# itself: delivered (to no socket) it would leave a conntrack entry
	# that makes masquerade move the node's next mapping to another port.
	cat <<EOF_NFT
table ip nat {
	set seen { type ipv4_addr; flags dynamic, timeout; timeout 120s; }
	chain pre { type nat hook prerouting priority -100; $pre; }
	chain post { type nat hook postrouting priority 100; $post; }
}
table ip filter {
	chain input { type filter hook input priority 0; iifname "wan" ct state new drop; }
}
EOF_NFT
}

# pt_router NS WAN_IF_ADDR LAN_PREFIX: a router namespace whose LAN is a
# bridge (fixed MAC, see party_topology); the caller links its wan.
pt_router() {
	PT_ROUTERS="$PT_ROUTERS $1"
	ip netns add "$1" || pt_fail "netns $1"
	ip -n "$1" link set lo up
	ip -n "$1" link add lan address 02:00:c0:a8:00:01 type bridge
	ip -n "$1" addr add "$2" dev lan
	ip -n "$1" link set lan up
	ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=1
}

# pt_lan_node X R ADDR GW: node X's namespace on router R's LAN.
pt_lan_node() {
	x=$1 ns=lrp$$$1
	PT_NODES="$PT_NODES $x"
	ip netns add "$ns" || pt_fail "netns for $x"
	ip -n "$ns" link set lo up
	ip link add "lrpl$$$x" netns "$2" type veth peer name eth0 \
	    netns "$ns" || pt_fail "lan veth for $x"
	ip -n "$2" link set "lrpl$$$x" master lan up
	ip -n "$ns" addr add "$3/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "$4"
}

# pt_wan R TAG ADDR: router R's wan on the bridge (veth lrpw$$TAG).
pt_wan() {
	ip link add "lrpw$$$2" netns "$PT_SRV" type veth peer name wan \
	    netns "$1" || pt_fail "wan veth for $1"
	ip -n "$PT_SRV" link set "lrpw$$$2" master "$PT_BR" up
	ip -n "$1" addr add "$3/24" dev wan
	ip -n "$1" link set wan up
}

party_nat_node() {
	x=$1 k=$2 type=$3 r=lrp$$r$2
	pt_router "$r" "192.168.$k.1/24"
	pt_wan "$r" "r$k" "10.99.0.$((20 + k))"
	pt_lan_node "$x" "$r" "192.168.$k.2" "192.168.$k.1"
	if [ "$type" = open ]; then
		ip -n "$PT_SRV" route add "192.168.$k.0/24" via "10.99.0.$((20 + k))"
	else
		pt_nat_rules "$type" "192.168.$k.2" "10.99.0.$((20 + k))" |
		    ip netns exec "$r" nft -f - || pt_fail "nft for $x ($type)"
	fi
}

party_nat_join() {
	pt_lan_node "$1" "lrp$$r$2" "192.168.$2.$3" "192.168.$2.1"
}

party_double_nat_node() {
	x=$1 k=$2 o=lrp$$o$2 r=lrp$$r$2
	pt_router "$o" "100.64.$k.1/24"
	pt_wan "$o" "o$k" "10.99.0.$((20 + k))"
	pt_nat_rules portcone "" | ip netns exec "$o" nft -f - ||
	    pt_fail "nft for the outer NAT of $x"
	pt_router "$r" "192.168.$k.1/24"
	ip link add "lrpd$$$x" netns "$o" type veth peer name wan netns "$r" ||
	    pt_fail "inner wan for $x"
	ip -n "$o" link set "lrpd$$$x" master lan up
	ip -n "$r" addr add "100.64.$k.2/24" dev wan
	ip -n "$r" link set wan up
	ip -n "$r" route add default via "100.64.$k.1"
	pt_nat_rules portcone "" | ip netns exec "$r" nft -f - ||
	    pt_fail "nft for the inner NAT of $x"
	pt_lan_node "$x" "$r" "192.168.$k.2" "192.168.$k.1"
}

party_controld() {
	mkdir -p "$PT_RUN/controld"
	chown "$PT_UID" "$PT_RUN/controld"
	if [ -z "$PT_PUB" ]; then
		PT_PUB=$("$PT_CONTROLD" -g "$PT_RUN/controld.key") ||
		    pt_fail "controld -g"
		{
			echo "[Controld]"
			echo "Listen = 10.99.0.1:8667"
			echo "PrivateKeyFile = $PT_RUN/controld.key"
			echo "Database = $PT_RUN/controld/controld.db"
			echo "User = $PT_UID"
			echo "Heartbeat = 5"
			echo "IdleTimeout = 20"
			echo "MemberTimeout = 60"
			# PT_CONTROLD_EXTRA: more lines, one per line
			[ -n "${PT_CONTROLD_EXTRA:-}" ] &&
			    echo "$PT_CONTROLD_EXTRA"
		} >"$PT_RUN/controld.conf"
	fi
	ip netns exec "$PT_SRV" "$PT_CONTROLD" -d -v -f "$PT_RUN/controld.conf" \
	    >>"$PT_RUN/controld.log" 2>&1 &
	PT_CONTROLD_PID=$!
	wait_for 5 ip netns exec "$PT_SRV" sh -c \
	    "ss -ltn | grep -q 10.99.0.1:8667" || pt_fail "controld did not start"
}

party_controld_kill() {
	kill -9 "$PT_CONTROLD_PID" 2>/dev/null
	wait "$PT_CONTROLD_PID" 2>/dev/null
}

# Relays: their keys first (controld lists them in RelayKeys), then
# each in a namespace of its own on the bridge, registering with controld.
party_relay_key() {
	k=$("$PT_RELAYD" -g "$PT_RUN/relay$1.key") || pt_fail "relayd -g"
	eval "PT_RELAY_PUB_$1=\$k"
}

party_relayd() {
	n=$1 ns=lrp$$g$1
	ip netns add "$ns" || pt_fail "ip netns add $ns"
	PT_ROUTERS="$PT_ROUTERS $ns"
	ip -n "$ns" link set lo up
	ip link add "lrpg$$$n" netns "$PT_SRV" type veth peer name eth0 \
	    netns "$ns" || pt_fail "veth for relay $n"
	ip -n "$PT_SRV" link set "lrpg$$$n" master "$PT_BR" up
	ip -n "$ns" addr add "10.99.0.$((40 + n))/24" dev eth0
	ip -n "$ns" link set eth0 up
	{
		echo "[Relayd]"
		echo "Listen = 10.99.0.$((40 + n)):51820"
		echo "PrivateKeyFile = $PT_RUN/relay$n.key"
		echo "Control = 10.99.0.1:8667"
		echo "ControlKey = $PT_PUB"
		echo "Region = $2"
		echo "User = $PT_UID"
		echo "Workers = 2"
		echo "MetricsListen = 127.0.0.1:9851"
	} >"$PT_RUN/relay$n.conf"
	ip netns exec "$ns" "$PT_RELAYD" -d -v -f "$PT_RUN/relay$n.conf" \
	    >>"$PT_RUN/relay$n.log" 2>&1 &
	eval "PT_RELAY_PID_$n=\$!"
	wait_for 5 ip netns exec "$ns" sh -c "ss -lun | grep -q :51820" ||
	    pt_fail "relayd $n did not start"
}

party_two_relays() {
	party_relay_key 1
	party_relay_key 2
	PT_CONTROLD_EXTRA="RelayKeys = $PT_RELAY_PUB_1, $PT_RELAY_PUB_2
RelayReport = 2"
	party_controld
	party_relayd 1 alpha
	party_relayd 2 beta
}

party_relays_registered() {
	pr_want=$1
	pr_count() { [ "$(grep -c 'registered' "$PT_RUN/controld.log")" \
	    -ge "$pr_want" ]; }
	wait_for 10 pr_count || pt_fail "the relays did not register"
}

party_relayd_kill() {
	eval "pid=\$PT_RELAY_PID_$1"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# The kernel has no netem: relay N's packets to the IPs named are routed
# into a TUN whose helper (delay-tun) holds them, then forwarded out.
party_relay_slow() {
	n=$1 ns=lrp$$g$1 rules=$PT_RUN/slow$1
	shift
	printf '%s\n' "$@" >"$rules.new" && mv "$rules.new" "$rules"
	eval "pid=\${PT_SLOW_PID_$n:-}"
	if [ -n "$pid" ]; then
		kill -HUP "$pid"
	else
		ip netns exec "$ns" "$PT_DELAY" dly "$rules" \
		    >>"$PT_RUN/slow$n.log" 2>&1 &
		eval "PT_SLOW_PID_$n=\$!"
		wait_for 5 ip -n "$ns" link show dly || pt_fail "delay-tun $n"
		ip -n "$ns" link set dly up
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 \
		    net.ipv4.conf.all.rp_filter=0 \
		    net.ipv4.conf.dly.rp_filter=0 \
		    net.ipv4.conf.dly.accept_local=1
		# only what the relay sends goes in; what comes out is routed
		ip -n "$ns" rule add iif lo lookup 100 pref 100
	fi
	for r in "$@"; do
		ip -n "$ns" route replace "${r%% *}/32" dev dly table 100 ||
		    pt_fail "route for $r"
	done
}

# The node's files live in $PT_RUN/X; its netd is started once.
party_node() {
	x=$1 d=$PT_RUN/$1 ns=lrp$$$1
	mkdir -p "$d"
	chmod 755 "$d"
	if [ ! -S "$d/netd.sock" ]; then
		printf '[Netd]\nUser = %s\nRunAs = root\nInterfacePrefix = lanrage\nOverlaySubnets = 10.66.0.0/16\n' \
		    "$PT_UID" >"$d/netd.conf"
		ip netns exec "$ns" "$PT_NETD" -d -f "$d/netd.conf" \
		    -s "$d/netd.sock" >>"$d/netd.log" 2>&1 &
		wait_for 5 test -S "$d/netd.sock" || pt_fail "netd of $x"
	fi
	{
		echo "[Interface]"
		echo "Name = lanrage0"
		echo "User = $PT_UID"
		echo "NetdSocket = $d/netd.sock"
		echo "UapiDir = $d/uapi"
		echo "Threads = 1"
		echo "[Node]"
		echo "Database = $d/state/lanraged.db"
		echo "ControlSocket = $d/ctl/lanraged.sock"
		echo "Group = ${PT_GROUP:-$PT_UID}"
		echo "UiDir = $PT_UI"
	} >"$d/lanraged.conf"
	ip netns exec "$ns" "$PT_LANRAGED" -d -v -f "$d/lanraged.conf" \
	    >>"$d/lanraged.log" 2>&1 &
	eval "PT_PID_$x=\$!"
	wait_for 5 test -S "$d/ctl/lanraged.sock" ||
	    pt_fail "lanraged of $x did not start"
}

party_node_server() {
	ctl "$1" settings set name "node-$1" >/dev/null &&
	    ctl "$1" settings set control.server 10.99.0.1:8667 >/dev/null &&
	    ctl "$1" settings set control.key "$PT_PUB" >/dev/null ||
	    pt_fail "settings on $1"
}

party_node_stop() {
	eval "pid=\$PT_PID_$1"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

ctl() {
	x=$1
	shift
	"$PT_CTL" -s "$PT_RUN/$x/ctl/lanraged.sock" "$@"
}

ctlj() {
	x=$1
	shift
	"$PT_CTL" -j -s "$PT_RUN/$x/ctl/lanraged.sock" "$@"
}

# nsx X CMD...: run CMD in node X's namespace.
nsx() {
	x=$1
	shift
	ip netns exec "lrp$$$x" "$@"
}

wait_for() {
	# (prefixed: sh has no locals, and callers have a secs and an i)
	wf_secs=$1
	shift
	wf_i=0
	while [ "$wf_i" -lt $((wf_secs * 10)) ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		wf_i=$((wf_i + 1))
	done
	return 1
}

# ping_gap FILE MS: the longest run of missing sequence numbers (ahead
# of the first answer too) in the output of a ping sent every MS ms
ping_gap() {
	awk -F'[= ]' -v ms="$2" '/icmp_seq=/ {
		for (i = 1; i < NF; i++) if ($i == "icmp_seq") s = $(i + 1)
		if (last == "" && s > 1) max = s - 1
		if (last != "" && s - last - 1 > max) max = s - last - 1
		last = s
	    } END { printf "%d\n", max * ms }' "$1"
}
