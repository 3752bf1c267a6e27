#!/bin/sh
# Control-server benchmark (not a test): lanrage-controld pinned to CPU 0
# and bench/controld-load pinned to CPU 1, both in a network namespace of
# their own (loopback only), holding N simulated nodes in parties of 8
# with heartbeats and churn.  For each N: sessions held, join-to-delta
# latency, controld's CPU over the churn window and its peak RSS.  Prints
# a markdown table and appends it, dated, to bench/RESULTS.md.
#
#   sh bench/controld.sh [-n] [N ...]      -n: print only, do not append
#
# N defaults to BENCH_NODES ("1000 10000").  BENCH_PARTY (8 nodes a
# party), BENCH_HEARTBEAT (10 s, what controld tells the nodes; its
# MemberTimeout is three of them, so expiry scans run during the churn),
# BENCH_CHURN_RATE (100 leave+join changes started per second),
# BENCH_CHURN_SECS (30), BENCH_CHURN_MAX (3000 changes at most),
# BENCH_WINDOW (128 handshakes in flight during setup), BENCH_OP_MS (5000,
# the deadline of one change).  Needs root (namespace, rlimits).
cd "$(dirname "$0")/.." || exit 1

BUILD=${BUILD:-build}
CONTROLD=$(pwd)/$BUILD/sbin/lanrage-controld
LOAD=$(pwd)/$BUILD/bench/controld-load
BENCH_NODES=${BENCH_NODES:-1000 10000}
BENCH_PARTY=${BENCH_PARTY:-8}
BENCH_HEARTBEAT=${BENCH_HEARTBEAT:-10}
BENCH_CHURN_RATE=${BENCH_CHURN_RATE:-100}
BENCH_CHURN_SECS=${BENCH_CHURN_SECS:-30}
BENCH_CHURN_MAX=${BENCH_CHURN_MAX:-3000}
BENCH_WINDOW=${BENCH_WINDOW:-128}
BENCH_OP_MS=${BENCH_OP_MS:-5000}
BENCH_RESULTS=${BENCH_RESULTS:-bench/RESULTS.md}
PORT=8667
NS=lrbench$$
RUN=
CPID=
append=1
status=0
if [ "$1" = -n ]; then
	append=0
	shift
fi
[ $# -gt 0 ] && BENCH_NODES=$*

die() {
	echo "bench: $*" >&2
	exit 1
}

cleanup() {
	if [ -n "$CPID" ]; then
		kill "$CPID" 2>/dev/null
		wait "$CPID" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
	[ -n "$RUN" ] && rm -rf "$RUN"
}

[ "$(id -u)" = 0 ] || die "needs root (network namespace)"
command -v taskset >/dev/null || die "needs taskset (util-linux)"
make -s "$BUILD/sbin/lanrage-controld" "$BUILD/bench/controld-load" ||
    die "build failed"
CPU_SERVER=0
CPU_LOAD=1
[ "$(nproc)" -ge 2 ] || CPU_LOAD=0

RUN=$(mktemp -d /tmp/lrbench.XXXXXX) || die "mktemp"
trap cleanup EXIT
trap 'exit 1' INT TERM
chmod 711 "$RUN"		# controld runs as nobody after start-up
ip netns add "$NS" || die "ip netns add $NS"
ip -n "$NS" link set lo up || die "loopback in $NS"
PUB=$("$CONTROLD" -g "$RUN/server.key") || die "controld -g"

# write_conf N: the configuration for N nodes.
write_conf() {
	cat >"$RUN/controld.conf" <<EOF
[Controld]
Listen = 127.0.0.1:$PORT
PrivateKeyFile = $RUN/server.key
Database = $RUN/state/controld.db
User = nobody
MaxConnections = $(($1 + 1024))
Heartbeat = $BENCH_HEARTBEAT
MemberTimeout = $((3 * BENCH_HEARTBEAT))
EOF
}

# start_controld NOFILE: sets CPID.
start_controld() {
	: >"$RUN/controld.log"
	ip netns exec "$NS" sh -c "ulimit -n $1 && exec taskset -c \
	    $CPU_SERVER '$CONTROLD' -d -f '$RUN/controld.conf'" \
	    >>"$RUN/controld.log" 2>&1 &
	CPID=$!
	for _ in $(seq 50); do
		grep -q "listening on" "$RUN/controld.log" && return 0
		kill -0 "$CPID" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 5 "$RUN/controld.log" | sed 's/^/bench: controld: /' >&2
	return 1
}

stop_controld() {
	kill "$CPID" 2>/dev/null
	wait "$CPID" 2>/dev/null
	CPID=
}

# val KEY: a value from the load generator's output.
val() {
	awk -v k="$1" '$1 == k { print $2; exit }' "$RUN/out"
}

# ms KEY: "p50 / p99" of a latency in ms.
ms() {
	echo "$(val "${1}_p50_ms") / $(val "${1}_p99_ms")"
}

# bench_one N: one table row, or a note on why there is none.
bench_one() {
	n=$1
	nofile=$((n + 64))	# one per node, and a few for the rest
	hard=$(ulimit -Hn)
	if [ "$hard" != unlimited ] && [ "$nofile" -gt "$hard" ]; then
		echo "- N = $n: skipped: needs $nofile descriptors per" \
		    "process, the hard limit is $hard" >>"$RUN/notes"
		status=1
		return
	fi
	rm -rf "$RUN/state"
	write_conf "$n"
	if ! start_controld "$nofile"; then
		echo "- N = $n: controld did not start" >>"$RUN/notes"
		status=1
		return
	fi
	echo "bench: N = $n ..." >&2
	ip netns exec "$NS" taskset -c "$CPU_LOAD" "$LOAD" \
	    -s "127.0.0.1:$PORT" -k "$PUB" -n "$n" -p "$BENCH_PARTY" \
	    -w "$BENCH_WINDOW" -r "$BENCH_CHURN_RATE" -d "$BENCH_CHURN_SECS" \
	    -c "$BENCH_CHURN_MAX" -t "$BENCH_OP_MS" -P "$CPID" \
	    >"$RUN/out" 2>"$RUN/err"
	rc=$?
	[ "$rc" = 0 ] || status=1
	db=$(du -sk "$RUN/state" | awk '{ printf "%.1f", $1 / 1024 }')
	stop_controld
	sed 's/^/bench: /' "$RUN/err" >&2
	if [ ! -s "$RUN/out" ]; then
		echo "- N = $n: the load generator failed (status $rc)" \
		    >>"$RUN/notes"
		return
	fi
	printf '| %s | %s | %s | %s | %s | %s | %s |' "$n" "$(val held)" \
	    "$(ms join_all)" "$(ms join_rx)" "$(ms leave_all)" \
	    "$(val hb_p99_ms)" "$(val ctld_cpu_pct)" >>"$RUN/table"
	printf ' %s | %s (%s s CPU) | %s / %s | %s |\n' \
	    "$(val ctld_hwm_kb | awk '{ printf "%.1f", $1 / 1024 }')" \
	    "$(val setup_s)" "$(val ctld_setup_cpu_s)" "$(val churn_done)" \
	    "$(val churn_launched)" "$(val result)" >>"$RUN/table"
	echo "- N = $n: heartbeats $(val heartbeats) (late $(val hb_late))," \
	    "errors $(val errors), failed $(val failed)," \
	    "missing deltas $(val missing), sequence gaps $(val gaps)," \
	    "reconnects $(val reconnects), handshake p50/p99 $(ms hs) ms" \
	    "during setup, load generator CPU $(val gen_cpu_pct)%," \
	    "database $db MiB" >>"$RUN/notes"
}

when=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD0=$(cut -d" " -f 1-3 /proc/loadavg)
: >"$RUN/notes"
{
	echo "| N | sessions held | join-to-delta all p50 / p99 ms |" \
	    "per receiver p50 / p99 ms | leave-to-delta all p50 / p99 ms |" \
	    "heartbeat ack p99 ms | controld CPU % | RSS peak MiB |" \
	    "setup s (controld CPU) | changes done | result |"
	echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" \
	    "---: | ---: | --- |"
} >"$RUN/table"
for n in $BENCH_NODES; do
	bench_one "$n"
done

cmd="BENCH_PARTY=$BENCH_PARTY BENCH_HEARTBEAT=$BENCH_HEARTBEAT"
cmd="$cmd BENCH_CHURN_RATE=$BENCH_CHURN_RATE"
cmd="$cmd BENCH_CHURN_SECS=$BENCH_CHURN_SECS"
cmd="$cmd BENCH_CHURN_MAX=$BENCH_CHURN_MAX BENCH_WINDOW=$BENCH_WINDOW"
cmd="$cmd BENCH_OP_MS=$BENCH_OP_MS sh bench/controld.sh $BENCH_NODES"
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
{
	echo
	echo "## $when: lanrage-controld"
	echo
	echo "Command: \`$cmd\`"
	echo
	echo "Host: Linux $(uname -r), $(nproc) CPUs ($cpu)," \
	    "load average before the run $LOAD0; controld on CPU" \
	    "$CPU_SERVER, the load generator on CPU $CPU_LOAD; SQLite" \
	    "$(pkg-config --modversion sqlite3), libevent" \
	    "$(pkg-config --modversion libevent)"
	echo
	cat "$RUN/table"
	echo
	cat "$RUN/notes"
} >"$RUN/section"
cat "$RUN/section"
[ "$append" = 1 ] && cat "$RUN/section" >>"$BENCH_RESULTS"
exit "$status"
