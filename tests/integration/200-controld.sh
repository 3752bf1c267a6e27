#!/bin/sh
# lanrage-controld as a daemon in a namespace of its own: -g, -n, the key
# file's mode, the listening port, the dropped user and capabilities, and
# a real session (create, invite, join) that survives kill -9.
. "$(dirname "$0")/lib.sh"

CONTROLD=$(pwd)/$BUILD/sbin/lanrage-controld
CCLIENT=$(pwd)/$BUILD/tests/integration/control-client
PORT=8667
[ -x "$CONTROLD" ] || skip "no $CONTROLD"
[ -x "$CCLIENT" ] || skip "no $CCLIENT"

fail() {
	[ -n "$RUN" ] && tail -n 30 "$RUN/controld.log" 2>/dev/null |
	    sed 's/^/# controld: /'
	die "$@"
}

setup_ns

# write_cf FILE KEYFILE [extra lines...]
write_cf() {
	f=$1 k=$2
	shift 2
	{
		echo "# test config"
		echo "[Controld]"
		echo "Listen = 127.0.0.1:$PORT"
		echo "PrivateKeyFile = $k"
		echo "Database = $RUN/state/controld.db"
		echo "User = $CLIENT_UID"
		for l in "$@"; do echo "$l"; done
	} > "$f"
}

start_controld() {
	# the log is appended to: wait for one more "listening" line
	before=$(grep -c "listening on" "$RUN/controld.log" 2>/dev/null)
	ip netns exec "$NS" "$CONTROLD" -d -v -f "$RUN/controld.conf" \
	    >>"$RUN/controld.log" 2>&1 &
	NETD_PID=$!		# the lib.sh trap kills it
	for i in $(seq 50); do
		[ "$(grep -c "listening on" "$RUN/controld.log" 2>/dev/null)" \
		    -gt "${before:-0}" ] && return 0
		kill -0 "$NETD_PID" 2>/dev/null ||
		    fail "controld exited at start"
		sleep 0.1
	done
	fail "controld did not start"
}

cc() {
	key=$1
	shift
	nsexec "$CCLIENT" "127.0.0.1:$PORT" "$PUB" "$key" "$@"
}

# -g: a new 0600 key file and its public key; never over an existing one
PUB=$("$CONTROLD" -g "$RUN/server.key") || die "-g failed"
[ "$(stat -c %a "$RUN/server.key")" = 600 ] || die "key file not 0600"
[ "${#PUB}" = 43 ] || die "-g printed '$PUB', not a base64url key"
"$CONTROLD" -g "$RUN/server.key" >/dev/null 2>&1 &&
    die "-g overwrote a key file"
"$CONTROLD" -g "$RUN/a.key" >/dev/null && "$CONTROLD" -g "$RUN/b.key" \
    >/dev/null || die "-g for the nodes"
ok "-g makes a 0600 key file and prints the public key"

# -n: good and bad configurations
write_cf "$RUN/controld.conf" "$RUN/server.key" "MaxConnections = 64" \
    "MemberTimeout = 60" "PartyGrace = 120"
out=$("$CONTROLD" -n -f "$RUN/controld.conf" 2>&1) ||
    die "-n on a good config: $out"
[ "$out" = "configuration OK" ] || die "-n said: $out"
write_cf "$RUN/bad.conf" "$RUN/server.key" "MaxConnections = 0"
out=$("$CONTROLD" -n -f "$RUN/bad.conf" 2>&1) && die "-n took MaxConnections 0"
echo "$out" | grep -q "bad.conf:7: MaxConnections: " || die "-n said: $out"
write_cf "$RUN/bad.conf" "$RUN/server.key" "Colour = blue"
out=$("$CONTROLD" -n -f "$RUN/bad.conf" 2>&1) && die "-n took an unknown key"
echo "$out" | grep -q "bad.conf:7: Colour: " || die "-n said: $out"
write_cf "$RUN/bad.conf" "$RUN/server.key" "Heartbeat = 30" \
    "MemberTimeout = 20"
"$CONTROLD" -n -f "$RUN/bad.conf" >/dev/null 2>&1 &&
    die "-n took MemberTimeout under Heartbeat"
ok "-n accepts a good config and reports file:line: key: reason"

# a key file others can read is refused, by -n and at start
cp "$RUN/server.key" "$RUN/open.key"
chmod 644 "$RUN/open.key"
write_cf "$RUN/open.conf" "$RUN/open.key"
out=$("$CONTROLD" -n -f "$RUN/open.conf" 2>&1) &&
    die "-n took a world-readable key"
echo "$out" | grep -q "open.key: readable" || die "-n said: $out"
nsexec timeout 5 "$CONTROLD" -d -f "$RUN/open.conf" >/dev/null 2>&1 &&
    die "controld started with a world-readable key"
ok "a world-readable key file is refused"

# the daemon: port, user, capabilities, public key
start_controld
grep -q "public key $PUB" "$RUN/controld.log" || fail "public key not logged"
nsexec ss -ltn | grep -q "127.0.0.1:$PORT " || fail "not listening on $PORT"
uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' /proc/$NETD_PID/status)
[ "$uids" = "$CLIENT_UID $CLIENT_UID $CLIENT_UID $CLIENT_UID" ] ||
    fail "runs as uids $uids"
capeff=$(awk '/^CapEff:/ { print $2 }' /proc/$NETD_PID/status)
[ "$capeff" = 0000000000000000 ] || fail "CapEff $capeff"
ok "listens on $PORT as uid $CLIENT_UID with no capabilities"

# a session: create and invite, then join with the link
out=$(cc "$RUN/a.key" alice create friday) || fail "create: $out"
echo "$out" | grep -qx "address 10.66.0.1" || fail "create said: $out"
link=$(echo "$out" | sed -n 's/^invite //p')
[ -n "$link" ] || fail "no invite link: $out"
out=$(cc "$RUN/b.key" bob join "$link") || fail "join: $out"
[ "$out" = "address 10.66.0.2" ] || fail "join said: $out"
ok "create, invite and join: $link"

# the registry survives kill -9
kill -9 "$NETD_PID"
wait "$NETD_PID" 2>/dev/null
start_controld
out=$(cc "$RUN/b.key" bob state) || fail "state: $out"
echo "$out" | grep -qx "parties 1" || fail "state said: $out"
echo "$out" | grep -qx "member alice 10.66.0.1" || fail "state said: $out"
echo "$out" | grep -qx "member bob 10.66.0.2" || fail "state said: $out"
ok "after kill -9 and a restart, STATE has both members"

# SIGHUP is logged, SIGTERM ends it with status 0
kill -HUP "$NETD_PID"
sleep 0.3
grep -q "take effect on restart" "$RUN/controld.log" || fail "SIGHUP not logged"
kill -TERM "$NETD_PID"
wait "$NETD_PID"
rc=$?
NETD_PID=
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
ok "SIGHUP is logged, SIGTERM exits 0"
