#!/bin/sh
# Time to the first packet through a new tunnel (not a test): runs the
# NAT matrix of tests/integration/230-paths.sh (nine nodes behind seven
# kinds of NAT, 36 pairs: 27 direct, 9 relayed) RUNS times and pools the
# samples: for each pair, the time from the joiner's `party join`
# returning to the first echo reply through the tunnel (pings every
# 5 ms, so 5 ms resolution).  Prints a markdown table, direct and
# relayed pairs apart, and appends it, dated, to bench/RESULTS.md.
# Targets (issue 5): direct under 300 ms, every pair under 500 ms.
#
#   sh bench/paths.sh [-n] [RUNS]        -n: print only; RUNS default 3
#
# Needs root (namespaces, nftables).
cd "$(dirname "$0")/.." || exit 1

append=1
[ "${1:-}" = -n ] && { append=0; shift; }
RUNS=${1:-3}
BUILD=${BUILD:-build}
out=$(mktemp /tmp/lanrage-ttfp.XXXXXX)
trap 'rm -f "$out"' EXIT

i=0
while [ "$i" -lt "$RUNS" ]; do
	BUILD=$BUILD TTFP_OUT=$out sh tests/integration/230-paths.sh \
	    >/dev/null 2>&1 || { echo "run $((i + 1)) failed" >&2; exit 1; }
	i=$((i + 1))
done
# Relayed: a symmetric NAT (y, z) facing a port-restricted one (p, h,
# i, d) or the other symmetric one, as 230 classifies them.
table=$(awk '{ k = $2 ~ /^([yz]-[phidyz]|[phid]-[yz])$/ ? "relayed" : "direct"
	print k, $1 }' "$out" | sort -k1,1 -k2n | awk -v runs="$RUNS" '
	function row(k, n, v,   i, under, lim) {
		lim = k == "direct" ? 300 : 500
		under = 0
		for (i = 1; i <= n; i++) if (v[i] < lim) under++
		printf "| %s | %d | %d | %d ms | %d ms | %d ms | %d ms | %d ms | %d of %d under %d ms |\n",
		    k, runs, n, v[1], v[int(n * 0.5 + 0.999)],
		    v[int(n * 0.9 + 0.999)], v[int(n * 0.99 + 0.999)], v[n],
		    under, n, lim
	}
	BEGIN {
		print "| pairs | runs | samples | min | p50 | p90 | p99 | max | target |"
		print "| ----- | ---- | ------- | --- | --- | --- | --- | --- | ------ |"
	}
	$1 != k { if (k != "") row(k, n, v); k = $1; n = 0 }
	{ v[++n] = $2 }
	END { row(k, n, v) }')
echo "$table"
[ "$append" = 1 ] || exit 0
{
	echo
	echo "## $(date -u +%Y-%m-%d): time to first packet, NAT matrix"
	echo
	echo "Command: \`sh bench/paths.sh $RUNS\` ($(nproc) CPUs, $(uname -r))."
	echo "Nine lanraged nodes in network namespaces behind no NAT, full"
	echo "cone, address-restricted, port-restricted, two symmetric NATs,"
	echo "two nodes behind one port-restricted NAT and a double NAT"
	echo "(nftables); every pair (27 direct, 9 relayed per run), timed"
	echo "from the joiner's \`party join\` returning to its first echo"
	echo "reply through the tunnel (5 ms resolution)."
	echo
	echo "$table"
} >>bench/RESULTS.md
