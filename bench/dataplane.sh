#!/bin/sh
# Data-plane benchmark (not a test): the same two-namespace topology as
# tests/integration/100-wg-interop.sh, measured (a) without a tunnel,
# (b) with wireguard-go on both sides, (c) with lanraged on both sides.
# Prints a markdown table and appends it, dated, to bench/RESULTS.md.
#
#   sh bench/dataplane.sh [-n]       -n: print only, do not append
#
# BENCH_SECS (10) per iperf3 run, BENCH_PINGS (200) at 10 ms,
# BENCH_UDP_RATE (0 = as fast as the sender can), BENCH_UDP_FIXED (200M, a
# second UDP run at a rate the tunnel should carry), BENCH_UDP_LEN (1392:
# the largest UDP payload that fits the 1420-byte tunnel MTU unfragmented),
# BENCH_MODES ("none wireguard-go lanraged").  Needs root.
cd "$(dirname "$0")/.." || exit 1
. tests/wg-lib.sh

BENCH_SECS=${BENCH_SECS:-10}
BENCH_PINGS=${BENCH_PINGS:-200}
BENCH_UDP_RATE=${BENCH_UDP_RATE:-0}
BENCH_UDP_FIXED=${BENCH_UDP_FIXED:-200M}
BENCH_UDP_LEN=${BENCH_UDP_LEN:-1392}
BENCH_MODES=${BENCH_MODES:-none wireguard-go lanraged}
BENCH_RESULTS=${BENCH_RESULTS:-bench/RESULTS.md}
WG_LOG_LEVEL=error
HZ=$(getconf CLK_TCK)
append=1
[ "$1" = -n ] && append=0

die() {
	echo "bench: $*" >&2
	echo "$*" >"$WG_RUN/why"
	for n in 1 2; do
		[ -s "$WG_RUN/node$n.log" ] &&
		    tail -n 5 "$WG_RUN/node$n.log" | sed "s/^/bench: node$n: /" >&2
	done
	exit 1
}

# bench_cpu: CPU ticks of both tunnel processes together (0 without).
bench_cpu() {
	t=0
	for p in $WG_PID1 $WG_PID2; do
		t=$((t + $(proc_cpu_ticks "$p")))
	done
	echo "$t"
}

# bench_mem FIELD: FIELD (VmRSS, VmHWM) of both processes, "A / B" MiB.
bench_mem() {
	[ -n "$WG_PID1" ] || { echo "-"; return; }
	echo "$(proc_rss_kb "$WG_PID1" "$1") $(proc_rss_kb "$WG_PID2" "$1")" |
	    awk '{ printf "%.1f / %.1f", $1 / 1024, $2 / 1024 }'
}

# bench_iperf NAME DST ARGS...: one iperf3 run from node 1 to node 2; sets
# R_<NAME> (Mbit/s) and C_<NAME> (CPU s per GB delivered).
bench_iperf() {
	name=$1
	dst=$2
	shift 2
	c0=$(bench_cpu)
	iperf_run 2 1 "$dst" -t "$BENCH_SECS" "$@" ||
	    die "iperf3 $name: $(tail -n 1 "$WG_RUN/iperf.out")"
	c1=$(bench_cpu)
	r=$(iperf_mbps)
	eval "R_$name=\$r"
	eval "C_$name=$(awk -v r="$r" -v s="$BENCH_SECS" -v c=$((c1 - c0)) \
	    -v hz="$HZ" -v t="$WG_PID1" 'BEGIN {
		gb = r * s / 8000
		if (t == "" || gb <= 0) print "-"
		else printf "%.1f", c / hz / gb }')"
}

# bench_ping DST: RTT median and p99 over BENCH_PINGS pings 10 ms apart.
bench_ping() {
	nsx 1 ping -n -c "$BENCH_PINGS" -i 0.01 -w 30 "$1" |
	    sed -n 's/.* time=\([0-9.]*\) ms$/\1/p' | sort -n |
	    awk -v want="$BENCH_PINGS" '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		m = v[int((NR + 1) / 2)]; p = v[int(NR * 0.99 + 0.999)]
		printf "%.3f / %.3f", m, p
		if (NR < want) printf " (%d lost)", want - NR }'
}

# bench_mode MODE: one table row for MODE (none or a node kind).
bench_mode() {
	mode=$1
	dst=$WG_OVERLAY.2
	if [ "$mode" = none ]; then
		dst=$WG_UL2
	else
		start_node "$mode" 2
		node_config 2
		node_up 2
		start_node "$mode" 1
		node_config 1
		node_up 1
		node_ping 1 "$dst" || die "$mode: no ping through the tunnel"
		sleep 1
	fi
	mem=$(bench_mem VmRSS)
	rtt=$(bench_ping "$dst")
	bench_iperf tcp1 "$dst"
	bench_iperf tcp4 "$dst" -P 4
	bench_iperf udp "$dst" -u -b "$BENCH_UDP_RATE" -l "$BENCH_UDP_LEN"
	loss=$(iperf_loss | sed 's/.*(\(.*\))/\1/')
	bench_iperf udpf "$dst" -u -b "$BENCH_UDP_FIXED" -l "$BENCH_UDP_LEN"
	lossf=$(iperf_loss | sed 's/.*(\(.*\))/\1/')
	printf '| %s | %s | %s | %s (%s) | %s (%s) | %s |' "$mode" \
	    "$R_tcp1" "$R_tcp4" "$R_udp" "$loss" "$R_udpf" "$lossf" "$rtt"
	printf ' %s / %s / %s | %s | %s |\n' "$C_tcp1" "$C_tcp4" "$C_udp" \
	    "$mem" "$(bench_mem VmHWM)"
	node_stop 1
	node_stop 2
}

wg_require
wg_topology
wg_keys
label() {
	case $1 in
	none) echo "(a) no tunnel" ;;
	wireguard-go) echo "(b) wireguard-go" ;;
	lanraged) echo "(c) lanraged" ;;
	*) echo "$1" ;;
	esac
}

when=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD0=$(cut -d" " -f 1-3 /proc/loadavg)
table=$WG_RUN/table
notes=$WG_RUN/notes
: >"$notes"
{
	echo "| mode | TCP 1 stream Mbit/s | TCP 4 streams Mbit/s |" \
	    "UDP max Mbit/s (loss) | UDP at $BENCH_UDP_FIXED Mbit/s (loss) |" \
	    "RTT median / p99 ms |" \
	    "CPU s/GB TCP1 / TCP4 / UDP max | RSS idle MiB A / B |" \
	    "RSS peak MiB A / B |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$table"
for m in $BENCH_MODES; do
	if [ "$m" = lanraged ] && [ ! -x "$LANRAGED" ]; then
		echo "- $(label $m): skipped, lanraged not built yet" \
		    "($LANRAGED)" >>"$notes"
		continue
	fi
	echo "bench: $(label $m) ..." >&2
	# A subshell per mode: a failure ends that mode, not the run.
	: >"$WG_RUN/why"
	if ! (trap - EXIT INT TERM; bench_mode "$m") >"$WG_RUN/row"; then
		echo "- $(label $m): failed: $(cat "$WG_RUN/why")" >>"$notes"
	else
		sed "s/^| $m |/| $(label $m) |/" "$WG_RUN/row" >>"$table"
	fi
	for n in 1 2; do
		p=$(ip netns pids "$(nv WG_NS $n)")
		[ -n "$p" ] && kill $p 2>/dev/null
	done
	for n in 1 2 3 4 5 6 7 8 9 10; do
		[ -z "$(ip netns pids "$WG_NS1"; ip netns pids "$WG_NS2")" ] &&
		    break
		sleep 0.2
	done
	rm -f "$WG_SOCKDIR/$WG_IF1.sock" "$WG_SOCKDIR/$WG_IF2.sock"
	: >"$WG_RUN/node1.log"
	: >"$WG_RUN/node2.log"
done

cmd="BENCH_SECS=$BENCH_SECS BENCH_PINGS=$BENCH_PINGS"
cmd="$cmd BENCH_UDP_RATE=$BENCH_UDP_RATE BENCH_UDP_FIXED=$BENCH_UDP_FIXED"
cmd="$cmd BENCH_UDP_LEN=$BENCH_UDP_LEN"
cmd="$cmd sh bench/dataplane.sh${1:+ $*}"
wgv=$($WIREGUARD_GO --version 2>/dev/null | head -n 1)
ipv=$(iperf3 --version | head -n 1 | cut -d' ' -f 1,2)
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
{
	echo
	echo "## $when"
	echo
	echo "Command: \`$cmd\`"
	echo
	echo "Host: Linux $(uname -r), $(nproc) CPUs ($cpu)," \
	    "load average before the run $LOAD0; $wgv; $ipv"
	echo
	cat "$table"
	if [ -s "$notes" ]; then
		echo
		cat "$notes"
	fi
} >"$WG_RUN/section"
cat "$WG_RUN/section"
[ "$append" = 1 ] && cat "$WG_RUN/section" >>"$BENCH_RESULTS"
exit 0
