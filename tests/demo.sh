#!/bin/sh
# make demo: the whole product on one machine.  controld, two relays and
# three friends' nodes, each in a network namespace behind a NAT of its
# own (full cone, port-restricted, symmetric); a party made through
# alice's REST API, bob and carol joining with its invite link through
# theirs; a live table of every member's peers (path, reason, RTT,
# jitter, loss); a game's LAN broadcast from alice heard by bob and carol
# and answered; each node's web UI forwarded to a port on the host's
# loopback.  Ctrl-C tears it all down.
#
# DURATION=N (make demo DURATION=N): run unattended for N seconds, then
# check everything again and exit 0 only when all of it worked.  Needs
# root and what make installs; builds nothing (make did).  PT_KEEP=1
# keeps the daemons' logs (the run directory is printed).
. tests/party-lib.sh
. tests/story.sh

DURATION=${DURATION:-}
case $DURATION in
*[!0-9]*) echo "demo: DURATION must be a number of seconds"; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces)"; exit 1; }
for c in socat curl jq nft ip ping; do
	command -v "$c" >/dev/null ||
	    { echo "demo: no $c (make deps installs it)"; exit 1; }
done
story_require
T0=$(date +%s)

step() { printf '\n== %s\n' "$*"; }
elapsed() { echo $(($(date +%s) - T0)); }

step "Starting the internet (a bridge) with its servers, and three homes"
story_setup
trap 'echo; echo "demo: stopping; tearing everything down"; exit 130' INT
trap 'exit 143' TERM
echo "  run directory (logs): $PT_RUN"

step "alice creates a party through her REST API; bob and carol join by link"
echo "  POST /api/v1/party {\"name\":\"friday lan night\"} on alice"
echo "  POST /api/v1/invite {"uses":0} on alice; POST /api/v1/party/join on bob, carol"
story_party || pt_fail "$STORY_WHY"
echo "  invite link: $STORY_LINK"
echo "  party addresses: alice $STORY_ADDR_a, bob $STORY_ADDR_b," \
    "carol $STORY_ADDR_c"

step "Paths: every member to every other, direct where the NATs allow"
story_paths 30 || pt_fail "$STORY_WHY"
story_pings 15 || pt_fail "$STORY_WHY"
echo "  every pair has a path and pings through the tunnel, both ways"

step "LAN discovery: alice's game broadcasts its lobby to 255.255.255.255:4445"
story_lan || pt_fail "$STORY_WHY"
echo "$STORY_LAN" | tr ';' '\n' | sed 's/^ */  /'

step "The web UIs, forwarded to the host's loopback"
for x in $STORY_NODES; do
	story_forward "$x" && story_ui "$x" || pt_fail "$STORY_WHY"
	printf '  %-5s http://127.0.0.1:%s/\n' "$(story_name "$x")" \
	    "$(story_port "$x")"
done
echo "  (open them in a browser on this machine; from another one:"
echo "   ssh -L $(story_port a):127.0.0.1:$(story_port a) root@THIS-HOST," \
    "then the same address)"
echo "  setup done in $(elapsed) s"

# status_line: each member's control state and the relay it uses
status_line() {
	for x in $STORY_NODES; do
		s=$(story_get "$x" /api/v1/status | jq -r '.result |
		    "\(.control.state), relay \(.relays.using // "none")"')
		printf '%s: %s  ' "$(story_name "$x")" "$s"
	done
	echo
}

# The live table: redrawn in place on a terminal, every 2 s; otherwise
# printed every 10 s.
if [ -n "$DURATION" ]; then
	step "Members, live for $DURATION s in all (Ctrl-C stops)"
else
	step "Members, live (Ctrl-C stops and tears everything down)"
fi
shown=0
last=0
while [ -z "$DURATION" ] || [ "$(elapsed)" -lt "$DURATION" ]; do
	if [ -t 1 ]; then
		[ "$shown" -gt 0 ] && printf '\033[%dA\033[J' "$shown"
		out=$({
			echo "t = $(elapsed) s"
			story_table
			status_line
		})
		echo "$out"
		shown=$(echo "$out" | wc -l)
		sleep 2
	else
		if [ "$last" = 0 ] || [ $(($(elapsed) - last)) -ge 10 ]; then
			echo "--- t = $(elapsed) s"
			story_table
			status_line
			last=$(elapsed)
		fi
		sleep 1
	fi
done

step "Checking everything again after $(elapsed) s"
story_paths 10 && story_pings 10 || pt_fail "$STORY_WHY"
echo "  every pair still has a path and pings through the tunnel"
for x in $STORY_NODES; do
	story_ui "$x" || pt_fail "$STORY_WHY"
done
echo "  the UIs answer on 127.0.0.1:$(story_port a), $(story_port b)," \
    "$(story_port c)"
echo
echo "demo: ok (paths, pings, LAN discovery and UIs all worked; $(elapsed) s)"
