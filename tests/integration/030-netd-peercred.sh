#!/bin/sh
# Only the configured user is served, and only one client at a time.
. tests/integration/lib.sh
setup_ns
write_conf
start_netd

chmod 666 "$RUN/netd.sock"	# let the wrong user reach the socket
client 65532 <<'SCRIPT' || die "wrong uid was not refused"
expect-close
SCRIPT
grep -q 'refused connection from uid 65532' "$RUN/netd.log" ||
    die "refusal not logged"
ok "a client with the wrong uid is refused"

client 0 <<'SCRIPT' || die "root was not refused"
expect-close
SCRIPT
ok "root is refused too when it is not the configured user"

client <<SCRIPT || die "second client"
tun lanrage0
sh echo expect-close | $CLIENT $RUN/netd.sock
sh ip link show lanrage0 >/dev/null
SCRIPT
ok "a second client is refused while one is served"

echo 'tun lanrage3' | client >/dev/null || die "served user after refusals"
ok "the configured user is still served"
