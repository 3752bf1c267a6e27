#!/bin/sh
# Run each libFuzzer harness for FUZZ_SECONDS.  New inputs go to a scratch
# corpus under $BUILD; the committed seeds in tests/fuzz/corpus/<name>/ are
# only read.  Any crash, leak or timeout fails the run.
secs=${FUZZ_SECONDS:-60}
fail=0
for bin in "$@"; do
	name=$(basename "$bin" | sed 's/^fuzz_//')
	work=${BUILD:-build}/fuzz/corpus-$name
	mkdir -p "$work"
	seeds=tests/fuzz/corpus/$name
	[ -d "$seeds" ] || seeds=
	echo "fuzz: $name for ${secs}s"
	if "$bin" -max_total_time="$secs" -print_final_stats=1 \
	    -artifact_prefix="${BUILD:-build}/fuzz/$name-" "$work" $seeds \
	    >"${BUILD:-build}/fuzz/$name.log" 2>&1; then
		grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' \
		    "${BUILD:-build}/fuzz/$name.log" | sed "s/^/  $name: /"
	else
		echo "fuzz: $name FAILED"; tail -n 30 "${BUILD:-build}/fuzz/$name.log"
		fail=1
	fi
done
exit $fail
