#!/bin/sh
# Idle cost of lanraged (a benchmark, not a test): two lanraged nodes in
# two namespaces, one peer each with a 25 s persistent keepalive, one ping
# to bring the session up, then IDLE_SECS (60) of nothing.  Prints the CPU
# time node A used meanwhile and its RSS.  Needs root.
. tests/wg-lib.sh
IDLE_SECS=${IDLE_SECS:-60}
wg_require
[ -x "$LANRAGED" ] || skip "lanraged not built ($LANRAGED)"
wg_topology
wg_keys
WG_KEEPALIVE1=25
start_node lanraged 2; node_config 2; node_up 2
start_node lanraged 1; node_config 1; node_up 1
node_ping 1 "$WG_OVERLAY.2" || die "ping"
hz=$(getconf CLK_TCK)
t0=$(awk '{print $14 + $15}' "/proc/$WG_PID1/stat")
sleep "$IDLE_SECS"
t1=$(awk '{print $14 + $15}' "/proc/$WG_PID1/stat")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$WG_PID1/status")
awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$IDLE_SECS" -v rss="$rss" 'BEGIN {
	printf "idle %d s: %d CPU ticks (%d/s) = %.3f%% of one core; RSS %.1f MiB\n",
	    s, d, hz, d / hz / s * 100, rss / 1024 }'
