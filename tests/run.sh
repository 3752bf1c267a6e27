#!/bin/sh
# Run the test programs before "--" (Check suites) and the integration
# scripts after it; print each result and one closing tally line.
# CK_FORK stays on so a crashing test is reported, not fatal.
passed=0
failed=0
skipped=0
failures=""
log=${BUILD:-build}/test-logs
mkdir -p "$log"

record() {	# name status
	case $2 in
	0) passed=$((passed + 1)); echo "PASS: $1" ;;
	77) skipped=$((skipped + 1)); echo "SKIP: $1" ;;
	*) failed=$((failed + 1)); failures="$failures $1"; echo "FAIL: $1" ;;
	esac
}

while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	name=$(echo "$1" | sed 's|.*/tests/||')
	"$1" 2>&1 | tee "$log/$(echo "$name" | tr / _).log" | grep -E '^[0-9]+%:|:[EF]:'
	st=$(tail -n 1 "$log/$(echo "$name" | tr / _).log" | grep -q 'Failures: 0, Errors: 0' && echo 0 || echo 1)
	record "$name" "$st"
	shift
done
[ "$1" = "--" ] && shift

for t in "$@"; do
	name=$(echo "$t" | sed 's|.*/tests/||')
	out="$log/$(echo "$name" | tr / _).log"
	timeout 600 sh "$t" >"$out" 2>&1
	st=$?
	record "$name" "$st"
	if [ "$st" != 0 ] && [ "$st" != 77 ]; then
		# what it checked first (the failure among them), then its end
		grep -E "^(ok|not ok)" "$out" | sed "s/^/    /"
		grep -v -E "^(ok|not ok)" "$out" | tail -n 40 | sed "s/^/    /"
	else
		grep -E '^(ok|not ok|#)' "$out" | sed 's/^/    /'
	fi
done

[ -n "$failures" ] && echo "failed:$failures"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
