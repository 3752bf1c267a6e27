#!/bin/sh
# LAN broadcast delivery latency (not a test): one party member's game
# broadcasts to 255.255.255.255:4445 and every other member's listener
# takes it from its tunnel interface.  For each party size, BENCH_N
# broadcasts one every BENCH_GAP_US, each stamped with CLOCK_MONOTONIC
# (tests/integration/lan-probe -T; the namespaces share the clock);
# every listener reports each one's one-way latency, pooled into p50,
# p99 and max, with the datagrams delivered against BENCH_N x listeners.
# A reference row first: the same stream unicast to one member.  All
# nodes sit on the bridge itself (tests/party-lib.sh, PT_DIRECT), so
# every path is direct; the party grows from the smallest size to the
# largest.  Prints a markdown table; with BENCH_RECORD=1 also appends
# it, dated, to bench/RESULTS.md.
#
#   sh bench/lan.sh                     print only
#   BENCH_RECORD=1 sh bench/lan.sh      print and record
#
# BENCH_SIZES ("2 8") listening members, ascending, at most 25;
# BENCH_N (200), BENCH_GAP_US (20000).  Needs root.
cd "$(dirname "$0")/.." || exit 1
. tests/party-lib.sh

BENCH_SIZES=${BENCH_SIZES:-2 8}
BENCH_N=${BENCH_N:-200}
BENCH_GAP_US=${BENCH_GAP_US:-20000}
BENCH_RESULTS=${BENCH_RESULTS:-bench/RESULTS.md}
PROBE=$(pwd)/$BUILD/tests/integration/lan-probe
PORT=4445

[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
make -s "$BUILD/sbin/lanraged" "$BUILD/sbin/lanrage-netd" \
    "$BUILD/sbin/lanrage-controld" "$BUILD/bin/lanragectl" \
    "$BUILD/tests/integration/lan-probe" BUILD="$BUILD" || exit 1
party_require

max=0
for s in $BENCH_SIZES; do
	[ "$s" -ge 1 ] && [ "$s" -le 25 ] && [ "$s" -gt "$max" ] || {
		echo "bench: BENCH_SIZES \"$BENCH_SIZES\": 1 to 25, ascending" >&2
		exit 1
	}
	max=$s
done
# a is the sender; the listeners are b, c ... in the order they join
NODES=$(echo a b c d e f g h i j k l m n o p q r s t u v w x y z |
    cut -d' ' -f "1-$((max + 1))")

when=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD0=$(cut -d" " -f 1-3 /proc/loadavg)
PT_DIRECT=$NODES
party_topology
party_controld
for x in $NODES; do
	party_node "$x"
	party_node_server "$x"
done
connected() { [ "$(ctlj "$1" status | jq -r .control.state)" = connected ]; }
for x in $NODES; do
	wait_for 10 connected "$x" || pt_fail "$x: not connected"
done
ctl a party create "bench" >/dev/null || pt_fail "party create"
link=$(ctl a invite -u "$max") || pt_fail "invite"

path_of() {
	ctlj "$1" peers | jq -r --arg n "node-$2" \
	    '.peers[] | select(.name == $n) | .path'
}
ready() {
	[ "$(path_of a "$1")" = direct ] && [ "$(path_of "$1" a)" = direct ]
}
# grow N: the listeners are the first N nodes after a, all in the party
# with a direct path to and from a
grow() {
	LISTENERS=$(echo "$NODES" | cut -d' ' -f "2-$(($1 + 1))")
	for x in $LISTENERS; do
		case " $JOINED " in *" $x "*) continue ;; esac
		ctl "$x" party join "$link" >/dev/null || pt_fail "$x: join"
		JOINED="$JOINED $x"
	done
	for x in $LISTENERS; do
		wait_for 20 ready "$x" || pt_fail "a <-> $x: not direct: $(
		    ctlj a peers | jq -c '.peers[] | [.name, .path]')"
		eval "ADDR_$x=\$(ctlj \$x status | jq -r .party.address |
		    sed 's|/.*||')"
		eval "wait_for 5 nsx a ping -c 1 -W 1 \$ADDR_$x" ||
		    pt_fail "a cannot ping $x"
	done
}

# stream TAG DST RECEIVER...: BENCH_N stamped datagrams from a to
# DST:PORT, a listener on each receiver; writes "delivered duplicates
# p50 p99 max" (µs) to $PT_RUN/TAG
stream() {
	tag=$1 dst=$2
	shift 2
	# every listener outlives the last datagram, however long the
	# others took to start
	secs=$(((BENCH_N * BENCH_GAP_US + 999999) / 1000000 + 3 + $#))
	pids=""
	for x in "$@"; do
		nsx "$x" "$PROBE" listen "$PORT" -T -t "$secs" \
		    >"$PT_RUN/$tag-$x" 2>&1 &
		pids="$pids $!"
		wait_for 2 nsx "$x" sh -c "ss -Hlun 'sport = :$PORT' |
		    grep -q ." || pt_fail "$x: listener did not start"
	done
	nsx a "$PROBE" send "$dst" "$PORT" "$tag" -c "$BENCH_N" \
	    -i "$BENCH_GAP_US" -T -w 0 >"$PT_RUN/$tag-a" 2>&1 ||
	    echo "bench: $tag: $(tr '\n' ' ' <"$PT_RUN/$tag-a")" >&2
	# (not a bare wait: the daemons are children too)
	for pid in $pids; do wait "$pid"; done
	# "listener seq=N latency" for each datagram, then once per seq
	for x in "$@"; do
		awk -v x="$x" '$1 == "from" && $(NF - 1) == "lat_us" &&
		    $NF >= 0 { s = ""
			for (i = 1; i <= NF; i++) if ($i ~ /^seq=/) s = $i
			print x, s, $NF }' "$PT_RUN/$tag-$x"
	done >"$PT_RUN/$tag.lat"
	total=$(wc -l <"$PT_RUN/$tag.lat")
	sort -k1,1 -k2,2 -u "$PT_RUN/$tag.lat" | sort -n -k3 |
	    awk -v total="$total" '
	    { v[NR] = $3 }
	    function pct(p) { return v[int(NR * p + 0.999)] }
	    END {
		if (NR == 0) { printf "0 %d - - -\n", total; exit }
		printf "%d %d %d %d %d\n", NR, total - NR, pct(0.5),
		    pct(0.99), v[NR]
	    }' >"$PT_RUN/$tag"
}

# row LABEL RECEIVERS TAG: the table's row for stream TAG
row() {
	set -- "$1" "$2" $(cat "$PT_RUN/$3")
	echo "| $1 | $2 | $BENCH_N | $3 / $((BENCH_N * $2)) | $4 | $5 | $6 |" \
	    "$7 |"
	[ "$3" -gt 0 ] || NONE=1
}

NONE=0
JOINED=""
{
	echo "| stream | listeners | sent | delivered / expected |" \
	    "duplicates | p50 µs | p99 µs | max µs |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$PT_RUN/table"
first=$(echo "$BENCH_SIZES" | cut -d' ' -f1)
grow "$first"
B=$(echo "$LISTENERS" | cut -d' ' -f1)
eval "stream uni \$ADDR_$B $B"
row "unicast to one member (reference)" 1 uni >>"$PT_RUN/table"
for s in $BENCH_SIZES; do
	grow "$s"
	stream "bcast$s" 255.255.255.255 $LISTENERS
	row "255.255.255.255:$PORT" "$s" "bcast$s" >>"$PT_RUN/table"
done

cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
{
	echo
	echo "## $when: LAN broadcast latency"
	echo
	echo "Command: \`BENCH_RECORD=1 BENCH_SIZES=\"$BENCH_SIZES\"" \
	    "BENCH_N=$BENCH_N BENCH_GAP_US=$BENCH_GAP_US sh bench/lan.sh\`"
	echo
	echo "Host: Linux $(uname -r), $(nproc) CPUs ($cpu)," \
	    "load average before the run $LOAD0; one lanraged per member," \
	    "each in its namespace on one bridge, all paths direct"
	echo
	echo "One-way latency from the sender's sendto to each listener's" \
	    "recvfrom (CLOCK_MONOTONIC), $BENCH_N datagrams one every" \
	    "$BENCH_GAP_US µs, pooled over the listeners."
	echo
	cat "$PT_RUN/table"
} >"$PT_RUN/section"
cat "$PT_RUN/section"
[ "$NONE" = 0 ] || { echo "bench: a stream delivered nothing" >&2; exit 1; }
[ "${BENCH_RECORD:-0}" = 1 ] && cat "$PT_RUN/section" >>"$BENCH_RESULTS"
exit 0
