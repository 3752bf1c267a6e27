#!/bin/sh
# LAN broadcast and multicast emulation: a game's server browser on one
# member broadcasts, and every other member's game sees it from the
# sender's party address and port and answers it unicast through the
# tunnel.  Three nodes: a on the bridge itself, b behind a port-
# restricted NAT, c behind a symmetric one, so a <-> b and a <-> c are
# direct and b <-> c goes through a relay.  Checked: 255.255.255.255,
# the subnet-directed 10.66.255.255 and mDNS's 224.0.0.251, each heard
# once and answered; a relayed broadcast; a port that is not carried
# (until lan.ports says so); a storm of 3000 broadcasts held to lan.rate
# while pings still pass; and no datagram carried back or twice.
. "$(dirname "$0")/../party-lib.sh"

party_require nft ping
[ -x "$PT_RELAYD" ] || skip "no $PT_RELAYD"
PROBE=$(pwd)/$BUILD/tests/integration/lan-probe
[ -x "$PROBE" ] || skip "no $PROBE"
IF=lanrage0			# party_node's Name
NODES="a b c"

t_start=$(date +%s%N)
PT_DIRECT="a"
party_topology
party_relay_key 1
PT_CONTROLD_EXTRA="RelayKeys = $PT_RELAY_PUB_1"
party_controld
party_relayd 1 world
party_nat_node b 4 portcone
party_nat_node c 9 symmetric
for x in $NODES; do
	party_node "$x"
	party_node_server "$x"
done
connected() { [ "$(ctlj "$1" status | jq -r .control.state)" = connected ]; }
for x in $NODES; do
	wait_for 10 connected "$x" || pt_fail "$x: not connected"
done

ctl a party create "lan night" >/dev/null || pt_fail "party create"
link=$(ctl a invite -u 2) || pt_fail "invite"
ctl b party join "$link" >/dev/null || pt_fail "b: join"
ctl c party join "$link" >/dev/null || pt_fail "c: join"
addr() { ctlj "$1" status | jq -r .party.address | sed 's|/.*||'; }
for x in $NODES; do
	eval "ADDR_$x=\$(addr \$x)"
done
A=$ADDR_a B=$ADDR_b C=$ADDR_c

# path_of X Y: X's path to Y ("direct", "relay", ...)
path_of() {
	ctlj "$1" peers | jq -r --arg n "node-$2" \
	    '.peers[] | select(.name == $n) | .path'
}
paths_as_expected() {
	[ "$(path_of a b)" = direct ] && [ "$(path_of a c)" = direct ] &&
	    [ "$(path_of b a)" = direct ] && [ "$(path_of c a)" = direct ] &&
	    [ "$(path_of b c)" = relay ] && [ "$(path_of c b)" = relay ]
}
wait_for 20 paths_as_expected || {
	for x in $NODES; do
		ctlj "$x" peers | jq -c '.peers[] | [.name, .path, .reason]' |
		    sed "s/^/# $x: /"
	done
	pt_fail "paths: want a <-> b, a <-> c direct and b <-> c relayed"
}
for p in "a $B" "a $C" "b $C" "c $B"; do
	set -- $p
	wait_for 5 nsx "$1" ping -c 1 -W 1 "$2" ||
	    pt_fail "$1 cannot ping $2 through the tunnel"
done
setup_ms=$((($(date +%s%N) - t_start) / 1000000))
ok "party a=$A b=$B c=$C: a <-> b, a <-> c direct, b <-> c relayed" \
    "(setup ${setup_ms} ms)"

# lan_state: every node's LAN counters and its broadcast route, as
# comment lines for a failure report
lan_state() {
	for n in $NODES; do
		s=$(ctlj "$n" lan 2>&1)
		echo "# $n lan: $(echo "$s" | jq -c '{out, in}' 2>/dev/null ||
		    echo "$s" | head -n 1)"
		echo "# $n route: $(nsx "$n" ip route get 255.255.255.255 2>&1 |
		    head -n 1)"
	done
}
lan_fail() {
	st=$(lan_state)
	pt_fail "$*
$st"
}
# show NAME: the output of a probe, on one line
show() { tr '\n' '|' <"$PT_RUN/$1" | cut -c 1-300; }
# counter X PATH: one of X's LAN counters (jq path: .out.filtered ...)
counter() { ctlj "$1" lan 2>/dev/null | jq -r "$2 // \"none\""; }

# listen_on X NAME PORT ARGS...: lan-probe listen in X, its output in
# $PT_RUN/NAME; returns once the socket is bound
listen_on() {
	lx=$1 ln=$2 lp=$3
	shift 3
	nsx "$lx" "$PROBE" listen "$lp" "$@" >"$PT_RUN/$ln" 2>&1 &
	echo $! >"$PT_RUN/$ln.pid"
	wait_for 2 nsx "$lx" sh -c "ss -Hlun 'sport = :$lp' | grep -q ." ||
	    lan_fail "$lx: lan-probe listen $lp: $(show "$ln")"
}
# listen_end NAME: wait for that listener (bounded by its -t)
listen_end() {
	wait "$(cat "$PT_RUN/$1.pid")"
}
# heard NAME SRC MSG: how many times listener NAME got MSG from SRC
heard() {
	awk -v s="$2" -v m="$3" '$1 == "from" && $2 == s && $4 == m { n++ }
	    END { print n + 0 }' "$PT_RUN/$1"
}
# answered NAME SRC MSG: how many replies to MSG sender NAME got from SRC
answered() {
	awk -v s="$2" -v m="reply:$3" '$1 == "reply" && $2 == "from" &&
	    $3 == s && $4 == m { n++ } END { print n + 0 }' "$PT_RUN/$1"
}

# carry TAG SENDER DST PORT MSG RECEIVER...: listeners that answer (-r)
# on every receiver, one datagram from SENDER's port 40000; each must
# hear it exactly once, from the sender's party address and port, and
# the sender must get each one's answer.  LISTEN_ARGS and SEND_ARGS
# (split) go to the probes.
carry() {
	tag=$1 snd=$2 dst=$3 port=$4 msg=$5
	shift 5
	for r in "$@"; do
		listen_on "$r" "$tag-$r" "$port" -r -t 2 ${LISTEN_ARGS:-}
	done
	nsx "$snd" "$PROBE" send "$dst" "$port" "$msg" -b 40000 -w 1 \
	    ${SEND_ARGS:-} >"$PT_RUN/$tag-$snd" 2>&1 ||
	    lan_fail "$snd: send to $dst:$port: $(show "$tag-$snd")"
	for r in "$@"; do
		listen_end "$tag-$r"
	done
	eval "sa=\$ADDR_$snd"
	for r in "$@"; do
		got=$(heard "$tag-$r" "$sa:40000" "$msg")
		[ "$got" = 1 ] || lan_fail "$tag: $r heard \"$msg\" from" \
		    "$sa:40000 $got times, want once: $(show "$tag-$r")"
		eval "ra=\$ADDR_$r"
		[ "$(answered "$tag-$snd" "$ra:$port" "$msg")" -ge 1 ] ||
		    lan_fail "$tag: $snd got no answer from $ra:$port:" \
		    "$(show "$tag-$snd")"
	done
}

# The routes that bring broadcasts and the groups to the tunnel.
for x in $NODES; do
	for d in 255.255.255.255 224.0.0.251 239.255.255.250; do
		nsx "$x" ip route get "$d" 2>/dev/null | grep -q " dev $IF " ||
		    lan_fail "$x: $d does not go to $IF: $(nsx "$x" ip route \
		    get "$d" 2>&1 | head -n 1)"
	done
done
ok "every node routes 255.255.255.255, 224.0.0.251, 239.255.255.250 to $IF"

# a. limited broadcast, b and c (both direct) answer
carry bcast a 255.255.255.255 4445 "who-is-there" b c
ok "255.255.255.255:4445 from $A:40000 heard once by b and c, both answered"

# b. subnet-directed broadcast
carry dirb a 10.66.255.255 7777 "dir-bcast" b c
ok "10.66.255.255:7777 from $A:40000 heard once by b and c, both answered"

# c. mDNS: c's responder joined 224.0.0.251 on the tunnel interface
LISTEN_ARGS="-g 224.0.0.251 -I $IF" SEND_ARGS="-I $IF"
carry mdns a 224.0.0.251 5353 "mdns-query" c
LISTEN_ARGS="" SEND_ARGS=""
ok "mDNS 224.0.0.251:5353 from $A:40000 heard once by c, answered"

# d. from b: to c through the relay, to a directly
carry relayed b 255.255.255.255 6112 "b-bcast" a c
ok "255.255.255.255:6112 from $B:40000 heard once by a and c (relayed)," \
    "both answered"

# e. a port not carried, then carried once lan.ports says so (on the
# sender and the receiver; c keeps the default and drops it)
f0=$(counter a .out.filtered)
listen_on b port-b 9999 -t 2
nsx a "$PROBE" send 255.255.255.255 9999 "not-carried" -b 40000 -w 0 \
    >"$PT_RUN/port-a" 2>&1 || lan_fail "a: send to 9999: $(show port-a)"
listen_end port-b
[ "$(heard port-b "$A:40000" not-carried)" = 0 ] ||
    lan_fail "b heard a broadcast to port 9999: $(show port-b)"
grown() { [ "$(counter "$1" "$2")" -gt "$3" ] 2>/dev/null; }
wait_for 2 grown a .out.filtered "$f0" ||
    lan_fail "a: out.filtered $f0 -> $(counter a .out.filtered)"
for x in a b; do
	ctl "$x" settings set lan.ports "4445, 9999" >/dev/null ||
	    lan_fail "$x: settings set lan.ports"
done
[ "$(ctl a settings get lan.ports)" = "4445, 9999" ] ||
    lan_fail "a: lan.ports is \"$(ctl a settings get lan.ports)\""
cf0=$(counter c .in.filtered)
listen_on b port2-b 9999 -t 2
listen_on c port2-c 9999 -t 2
nsx a "$PROBE" send 255.255.255.255 9999 "now-carried" -b 40000 -w 0 \
    >"$PT_RUN/port2-a" 2>&1 || lan_fail "a: send to 9999: $(show port2-a)"
listen_end port2-b
listen_end port2-c
[ "$(heard port2-b "$A:40000" now-carried)" = 1 ] ||
    lan_fail "b did not hear port 9999 once carried: $(show port2-b)"
[ "$(heard port2-c "$A:40000" now-carried)" = 0 ] ||
    lan_fail "c delivered port 9999, not in its lan.ports: $(show port2-c)"
wait_for 2 grown c .in.filtered "$cf0" ||
    lan_fail "c: in.filtered $cf0 -> $(counter c .in.filtered)"
ok "port 9999: not carried (a out.filtered $f0 -> $(counter a \
    .out.filtered)); carried once in lan.ports of a and b, dropped by c"

# f. storm: 3000 broadcasts as fast as a's socket takes them, under
# pings from a to b every 20 ms
rate=$(counter a .rate)
[ "$rate" -gt 0 ] 2>/dev/null || lan_fail "a: lan rate \"$rate\""
rl0=$(counter a .out.rate_limited)
listen_on b storm-b 4445 -t 4
nsx a ping -n -c 50 -i 0.02 -W 1 "$B" >"$PT_RUN/storm-ping" 2>&1 &
pinger=$!
sleep 0.2
t0=$(date +%s%N)
# (sendto errors such as ENOBUFS are the sender's kernel's: counted, not
# failed)
nsx a "$PROBE" send 255.255.255.255 4445 storm -c 3000 -i 0 -w 0 \
    >"$PT_RUN/storm-a" 2>&1
storm_ms=$((($(date +%s%N) - t0) / 1000000))
wait "$pinger"
listen_end storm-b
out=$(awk '$1 == "sent" { print $2 }' "$PT_RUN/storm-a")
[ "${out:-0}" -ge 1 ] || lan_fail "a: storm: $(show storm-a)"
got=$(awk '$1 == "count" { print $2 }' "$PT_RUN/storm-b")
# the bucket: a burst of 2 * rate, then rate a second while the storm
# lasts (whole seconds), 10% over for timing
secs=$(((storm_ms + 999) / 1000))
max=$(((rate * secs + 2 * rate) * 11 / 10))
[ -n "$got" ] && [ "$got" -ge 1 ] ||
    lan_fail "storm: b heard none of it: $(show storm-b)"
[ "$got" -le "$max" ] ||
    lan_fail "storm: b heard $got of 3000 in $storm_ms ms, limit $max" \
    "(lan.rate $rate)"
sent=$(awk '/packets transmitted/ { print $1 }' "$PT_RUN/storm-ping")
recv=$(awk '/packets transmitted/ { print $4 }' "$PT_RUN/storm-ping")
[ "${sent:-0}" = 50 ] && [ "${recv:-0}" -ge 45 ] ||
    lan_fail "storm: pings a -> b: $(tail -n 2 "$PT_RUN/storm-ping" |
    tr '\n' ' ')"
wait_for 2 grown a .out.rate_limited "$rl0" ||
    lan_fail "storm: a out.rate_limited $rl0 -> $(counter a \
    .out.rate_limited)"
ok "storm of $out sent in $storm_ms ms: b heard $got (limit $max)," \
    "$recv/$sent pings, a rate_limited $(counter a .out.rate_limited)"

for x in $NODES; do
	ctlj "$x" lan 2>/dev/null | jq -e '.out.loop == 0 and .in.loop == 0 and
	    .in.duplicate == 0' >/dev/null ||
	    lan_fail "$x: loop or duplicate counters not 0"
done
ok "no datagram carried back (out.loop, in.loop 0) or twice" \
    "(in.duplicate 0) on a, b, c"
