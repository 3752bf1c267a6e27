#!/bin/sh
# Relay benchmark (not a test): forwarded packets per second through one
# lanrage-relayd worker for 64-, 512- and 1400-byte payloads, against
# the raw limit of this machine (bench/relay-raw.c: recvmmsg + sendmmsg
# to a fixed destination, nothing else) and against socat, all in one
# run, in a network namespace of its own on its loopback; then the
# latency the relay adds (one datagram at a time, against a direct
# send).  The forwarder under test gets CPU 1, the load generator
# (relay-probe load: a sender thread and the receiver) CPU 0.
# Prints a markdown table and appends it, dated, to bench/RESULTS.md.
#
#   sh bench/relay.sh [-n]        -n: print only, do not append
#
# BENCH_SECS (5) per run, BENCH_SIZES ("64 512 1400"), BENCH_LAT_N
# (20000) datagrams for latency.  Needs root.
cd "$(dirname "$0")/.." || exit 1

BUILD=${BUILD:-build}
BENCH_SECS=${BENCH_SECS:-5}
BENCH_SIZES=${BENCH_SIZES:-64 512 1400}
BENCH_LAT_N=${BENCH_LAT_N:-20000}
BENCH_RESULTS=${BENCH_RESULTS:-bench/RESULTS.md}
RELAYD=$BUILD/sbin/lanrage-relayd
PROBE=$BUILD/tests/integration/relay-probe
RAW=$BUILD/bench/relay-raw
NS=lrb$$
HZ=$(getconf CLK_TCK)
PORT=51820
BPORT=40002
append=1
[ "$1" = -n ] && append=0

[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
command -v socat >/dev/null || apt-get install -y socat >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y socat >/dev/null; } ||
    { echo "bench: cannot install socat" >&2; exit 1; }
make -s "$RELAYD" "$PROBE" "$RAW" BUILD="$BUILD" || exit 1

RUN=$(mktemp -d /tmp/lanrage-bench-relay.XXXXXX)
FWD=
cleanup() {
	[ -n "$FWD" ] && kill "$FWD" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 143' INT TERM
ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
nsx() { ip netns exec "$NS" "$@"; }

# forwarder_start CMD...: on CPU 1, listening on 127.0.0.1:PORT
forwarder_start() {
	ip netns exec "$NS" taskset -c 1 "$@" >>"$RUN/fwd.log" 2>&1 &
	FWD=$!
	i=0
	while ! nsx ss -lun | grep -q "127.0.0.1:$PORT" && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
forwarder_stop() {
	kill "$FWD" 2>/dev/null
	wait "$FWD" 2>/dev/null
	FWD=
}
# CPU ticks (user + system) of the forwarder so far
ticks() { awk '{ print $14 + $15 }' "/proc/$FWD/stat"; }
# pps MODE SIZE: "delivered/s per-CPU-second/s": packets per second
# through the forwarder, and per second of the forwarder's CPU time
# (what one core of it could carry, whoever is the bottleneck)
pps() {
	t0=$(ticks)
	n=$(nsx taskset -c 0 "$PROBE" load "127.0.0.1:$PORT" "$1" \
	    "$BENCH_SECS" "$2" "$BPORT" | awk '{ print $NF }')
	t1=$(ticks)
	echo "$n $(awk -v n="$n" -v s="$BENCH_SECS" -v t=$((t1 - t0)) \
	    -v hz="$HZ" 'BEGIN { printf "%.0f", t ? n * s * hz / t : 0 }')"
}

PUB=$("$RELAYD" -g "$RUN/relay.key") || exit 1
cat >"$RUN/relayd.conf" <<EOF
[Relayd]
Listen = 127.0.0.1:$PORT
PrivateKeyFile = $RUN/relay.key
TokenKey = $("$PROBE" tokenkey)
Workers = 1
User = 65534
Chroot = $RUN/empty
MetricsListen = off
PacketRate = 100000000
EOF

for s in $BENCH_SIZES; do
	forwarder_start "$RELAYD" -d -f "$RUN/relayd.conf"
	eval "relay_$s=\$(pps \"\$PUB\" $s)"
	forwarder_stop
	forwarder_start "$RAW" "127.0.0.1:$PORT" "127.0.0.1:$BPORT"
	eval "raw_$s=\$(pps raw $s)"
	forwarder_stop
	forwarder_start socat -u -b 2048 "UDP4-RECV:$PORT,bind=127.0.0.1" \
	    "UDP4-SENDTO:127.0.0.1:$BPORT"
	eval "socat_$s=\$(pps raw $s)"
	forwarder_stop
done

forwarder_start "$RELAYD" -d -f "$RUN/relayd.conf"
lat_relay=$(nsx taskset -c 0 "$PROBE" latency "127.0.0.1:$PORT" "$PUB" \
    "$BENCH_LAT_N" 64 "$BPORT")
forwarder_stop
lat_direct=$(nsx taskset -c 0 "$PROBE" latency "127.0.0.1:$PORT" direct \
    "$BENCH_LAT_N" 64 "$BPORT")
forwarder_start "$RAW" "127.0.0.1:$PORT" "127.0.0.1:$BPORT"
lat_raw=$(nsx taskset -c 0 "$PROBE" latency "127.0.0.1:$PORT" raw \
    "$BENCH_LAT_N" 64 "$BPORT")
forwarder_stop
field() { echo "$1" | awk -v f="$2" '{ for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }'; }

{
	echo "Packets per second delivered, and per second of the forwarder's own"
	echo "CPU time (its capacity per core: the load generator shares the other"
	echo "core between sending and receiving, so delivery is bounded by it)."
	echo
	echo "| payload | relayd pps | relayd pps/core | raw pps | raw pps/core | relayd / raw per core | socat pps | socat pps/core |"
	echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for s in $BENCH_SIZES; do
		eval "r=\$relay_$s w=\$raw_$s c=\$socat_$s"
		set -- $r $w $c
		pct=$(awk -v r="$2" -v w="$4" 'BEGIN { printf "%.0f%%", w ? 100 * r / w : 0 }')
		echo "| $s B | $1 | $2 | $3 | $4 | $pct | $5 | $6 |"
	done
	echo
	echo "| latency, 64 B, one at a time (µs) | p50 | p99 | p99.9 |"
	echo "| --- | ---: | ---: | ---: |"
	for m in direct raw relay; do
		eval "l=\$lat_$m"
		echo "| $m | $(field "$l" p50) | $(field "$l" p99) | $(field "$l" p999) |"
	done
	d50=$(field "$lat_direct" p50) d99=$(field "$lat_direct" p99)
	echo
	echo "Added by lanrage-relayd over a direct send: p50 $(awk -v a="$(field "$lat_relay" p50)" -v b="$d50" 'BEGIN { printf "%.1f", a - b }') µs, p99 $(awk -v a="$(field "$lat_relay" p99)" -v b="$d99" 'BEGIN { printf "%.1f", a - b }') µs."
} >"$RUN/table"
cat "$RUN/table"
if [ "$append" = 1 ]; then
	{
		echo
		echo "## Relay: $(date -u +%Y-%m-%d) ($(uname -r), $(nproc) CPUs)"
		echo
		echo "Command: \`sh bench/relay.sh\` (BENCH_SECS=$BENCH_SECS per" \
		    "run; one relayd worker on CPU 1, the load generator on CPU 0," \
		    "loopback in a namespace)."
		echo
		cat "$RUN/table"
	} >>"$BENCH_RESULTS"
fi
