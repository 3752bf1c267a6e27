#!/bin/sh
# Time to the first packet through a new tunnel (not a test): runs the
# NAT matrix of tests/integration/230-paths.sh (nine nodes behind seven
# kinds of NAT, 27 pairs that can be direct) RUNS times and pools the
# samples: for each pair, the time from the joiner's `party join`
# returning to the first echo reply through the tunnel (pings every
# 5 ms, so 5 ms resolution).  Prints a markdown table and appends it,
# dated, to bench/RESULTS.md.  Target (issue 5): under 300 ms.
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
table=$(sort -n "$out" | awk -v runs="$RUNS" '
	{ v[NR] = $1 }
	function pct(p) { return v[int(NR * p + 0.999)] }
	END {
		under = 0
		for (i = 1; i <= NR; i++) if (v[i] < 300) under++
		print "| runs | samples | min | p50 | p90 | p99 | max | under 300 ms |"
		print "| ---- | ------- | --- | --- | --- | --- | --- | ------------ |"
		printf "| %d | %d | %d ms | %d ms | %d ms | %d ms | %d ms | %d of %d |\n",
		    runs, NR, v[1], pct(0.5), pct(0.9), pct(0.99), v[NR], under, NR
	}')
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
	echo "(nftables); every pair that can be direct, timed from the"
	echo "joiner's \`party join\` returning to its first echo reply"
	echo "through the tunnel (5 ms resolution)."
	echo
	echo "$table"
} >>bench/RESULTS.md
