#!/bin/sh
# lanrage-relayd on its own, in a namespace: the relay protocol through
# relay-probe (bind, forward both ways, PING; expired, forged, other-
# relay, skewed and borrowed tokens refused; parties kept apart; replays
# cannot move a binding), then a flood of garbage, unbound frames and
# bad BINDs while a bound pair keeps talking: the pair loses nothing to
# speak of, no answer is larger than its request, the memory stays
# bounded, the metrics on the loopback port count it all.  Also: -n,
# bad configs refused, chroot and User in effect.
. "$(dirname "$0")/../party-lib.sh"	# ok, wait_for

RELAYD=$(pwd)/$BUILD/sbin/lanrage-relayd
PROBE=$(pwd)/$BUILD/tests/integration/relay-probe
NS=lrr$$
[ "$(id -u)" = 0 ] || { echo "# SKIP: needs root"; exit 77; }
for b in "$RELAYD" "$PROBE"; do
	[ -x "$b" ] || { echo "# SKIP: no $b"; exit 77; }
done
command -v curl >/dev/null || { echo "# SKIP: no curl"; exit 77; }

RUN=$(mktemp -d /tmp/lanrage-relayd.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 143' INT TERM
fail() {
	echo "not ok - $*"
	[ -f "$RUN/relayd.log" ] && tail -n 20 "$RUN/relayd.log" | sed 's/^/# /'
	exit 1
}

ip netns add "$NS" || fail "ip netns add"
ip -n "$NS" link set lo up
PUB=$("$RELAYD" -g "$RUN/relay.key") || fail "relayd -g"
TOKENKEY=$("$PROBE" tokenkey)
conf() {
	{
		echo "[Relayd]"
		echo "Listen = 127.0.0.1:51820"
		echo "PrivateKeyFile = $RUN/relay.key"
		echo "TokenKey = $TOKENKEY"
		echo "Workers = 2"
		echo "User = 65534"
		echo "Chroot = $RUN/empty"
		echo "MetricsListen = 127.0.0.1:9851"
		echo "MaxBindings = 4096"
	} | {
		# $1 replaces the line of its key
		if [ -n "${1:-}" ]; then
			grep -v "^${1%% *} " ; echo "$1"
		else
			cat
		fi
	} >"$RUN/relayd.conf"
}

# Bad configs: refused with the reason, before anything starts.
conf "MetricsListen = 10.0.0.1:9851"
"$RELAYD" -n -f "$RUN/relayd.conf" 2>&1 | grep -q "not a loopback" ||
    fail "a public metrics port was accepted"
conf "TokenKey = not-a-key"
"$RELAYD" -n -f "$RUN/relayd.conf" 2>&1 | grep -q "TokenKey" ||
    fail "a bad TokenKey was accepted"
sed -i '/^TokenKey/d' "$RUN/relayd.conf"
"$RELAYD" -n -f "$RUN/relayd.conf" 2>&1 | grep -q "neither Control nor" ||
    fail "a relay that could admit nobody was accepted"
conf
"$RELAYD" -n -f "$RUN/relayd.conf" 2>&1 | grep -q "configuration OK" ||
    fail "-n on a good config"
ok "bad configs refused with their reason; -n checks a good one"

ip netns exec "$NS" "$RELAYD" -d -f "$RUN/relayd.conf" \
    >"$RUN/relayd.log" 2>&1 &
PID=$!
wait_for 5 ip netns exec "$NS" sh -c "ss -lun | grep -q 127.0.0.1:51820" ||
    fail "relayd did not start"
[ "$(awk '/^Uid:/ { print $2 }' /proc/$PID/status)" = 65534 ] ||
    fail "relayd does not run as uid 65534"
[ "$(readlink /proc/$PID/root)" = "$RUN/empty" ] ||
    fail "relayd is not chrooted: root $(readlink /proc/$PID/root)"
ok "relayd runs as uid 65534, chrooted to an empty directory, 2 workers"

ip netns exec "$NS" "$PROBE" check 127.0.0.1:51820 "$PUB" ||
    fail "relay-probe check"

metric() {
	ip netns exec "$NS" curl -sf http://127.0.0.1:9851/metrics |
	    awk -v m="$1" '$1 == m { print $2 }'
}
rss0=$(awk '/^VmRSS/ { print $2 }' /proc/$PID/status)
out=$(ip netns exec "$NS" "$PROBE" flood 127.0.0.1:51820 "$PUB" 200000) ||
    fail "flood: $out"
ok "$out"
rss1=$(awk '/^VmRSS/ { print $2 }' /proc/$PID/status)
[ "$rss1" -le $((rss0 + 16384)) ] ||
    fail "RSS grew from $rss0 to $rss1 kB under the flood"
ok "RSS $rss0 kB before the flood, $rss1 kB after"

text=$(ip netns exec "$NS" curl -sf http://127.0.0.1:9851/metrics) ||
    fail "no metrics"
# every sample line: a name, optional labels, a number; every name typed
echo "$text" | awk '
    /^# TYPE / { typed[$3] = 1; next }
    /^#/ { next }
    !/^[a-z_]+(\{[a-z_]+="[a-z_]+"\})? [0-9]+$/ { bad = $0; exit 1 }
    { n = $1; sub(/\{.*/, "", n); if (!(n in typed)) { bad = $0; exit 1 } }
    END { if (bad != "") { print "bad line: " bad; exit 1 } }' ||
    fail "metrics do not parse"
for r in expired_token wrong_relay clock_skew bad_token bad_box replay \
    unbound malformed no_destination; do
	v=$(echo "$text" | awk -v r="$r" \
	    '$1 == "lanrage_relayd_dropped_total{reason=\"" r "\"}" { print $2 }')
	[ "${v:-0}" -gt 0 ] || fail "no drops counted as $r"
done
fwd=$(metric lanrage_relayd_forwarded_packets_total)
[ "${fwd:-0}" -ge 100 ] || fail "forwarded only ${fwd:-0}"
ok "metrics parse; drops counted by reason; $fwd forwarded"

kill -USR1 "$PID"
wait_for 3 grep -q "stats:.*bound" "$RUN/relayd.log" ||
    fail "no stats in the log on SIGUSR1"
ok "SIGUSR1: $(grep -m1 'stats:' "$RUN/relayd.log" | sed 's/.*stats: //')"
kill "$PID"
wait "$PID"
PID=
ok "SIGTERM: relayd exits"
