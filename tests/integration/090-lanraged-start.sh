#!/bin/sh
# lanraged start-up through netd: -n, a missing netd, the interface with
# its queues, MTU, address and route, the switch to User, the UAPI
# socket, SIGHUP, SIGTERM, and netd going away under it.
. tests/integration/lib.sh
LANRAGED=${LANRAGED:-$(pwd)/$BUILD/sbin/lanraged}
[ -x "$LANRAGED" ] || skip "no $LANRAGED"
LR_PID=

lr_cleanup() {
	[ -n "$LR_PID" ] && kill "$LR_PID" 2>/dev/null && sleep 0.2
	cleanup
}
trap lr_cleanup EXIT INT TERM

lr_die() {
	[ -n "$RUN" ] && tail -n 30 "$RUN/lanraged.log" 2>/dev/null |
	    sed 's/^/# lanraged: /'
	die "$@"
}

# write_lconf [extra lines...]
write_lconf() {
	{
		echo "[Interface]"
		echo "Name = lanrage0"
		echo "User = $CLIENT_UID"
		echo "Address = 10.66.0.5/16"
		echo "Route = 255.255.255.255/32"
		echo "ListenPort = 0"
		echo "NetdSocket = $RUN/netd.sock"
		echo "UapiDir = $RUN/wg"
		echo "Threads = 2"
		for l in "$@"; do echo "$l"; done
		printf '[Node]\nParty = no\n'
	} > "$RUN/lanraged.conf"
}

start_lanraged() {
	ip netns exec "$NS" "$LANRAGED" -d -v -f "$RUN/lanraged.conf" \
	    >"$RUN/lanraged.log" 2>&1 &
	LR_PID=$!
	for i in $(seq 50); do
		grep -q 'started' "$RUN/lanraged.log" && return 0
		kill -0 "$LR_PID" 2>/dev/null || lr_die "lanraged exited at start"
		sleep 0.1
	done
	lr_die "lanraged did not start"
}

# wait_exit: lanraged ends within 3 s; its status in $LR_STATUS.
wait_exit() {
	for i in $(seq 30); do
		kill -0 "$LR_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$LR_PID" 2>/dev/null && return 1
	wait "$LR_PID"
	LR_STATUS=$?
	LR_PID=
	return 0
}

# uapi REQUEST: send it to the UAPI socket, print the answer.
uapi() {
	if command -v socat >/dev/null; then
		printf "$1" | nsexec socat -t 2 - UNIX-CONNECT:"$RUN/wg/lanrage0.sock"
	else
		nsexec python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode())
out = b""
while not out.endswith(b"\n\n"):
    b = s.recv(4096)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())' "$RUN/wg/lanrage0.sock" "$1"
	fi
}

setup_ns
write_conf
write_lconf

"$LANRAGED" -n -f "$RUN/lanraged.conf" 2>"$RUN/n.out" ||
    die "-n on a good config: $(cat "$RUN/n.out")"
grep -q 'configuration OK' "$RUN/n.out" || die "-n said nothing"
write_lconf "MTU = 20"
"$LANRAGED" -n -f "$RUN/lanraged.conf" 2>"$RUN/n.out" &&
    die "-n accepted MTU 20"
grep -q "lanraged.conf:10: MTU: " "$RUN/n.out" ||
    die "error not in file:line: key: form: $(cat "$RUN/n.out")"
printf '[Interface]\nAddress = 10.66.0.5/33\n' > "$RUN/bad.conf"
"$LANRAGED" -n -f "$RUN/bad.conf" 2>"$RUN/n.out" &&
    die "-n accepted a /33"
grep -q "bad.conf:2: Address: " "$RUN/n.out" ||
    die "Address error not in file:line: key: form: $(cat "$RUN/n.out")"
printf '[Interface]\nColour = blue\n' > "$RUN/bad.conf"
"$LANRAGED" -n -f "$RUN/bad.conf" 2>/dev/null && die "-n accepted an unknown key"
ok "-n checks the config (file:line: key: reason, unknown keys)"

write_lconf
nsexec "$LANRAGED" -d -f "$RUN/lanraged.conf" >"$RUN/lanraged.log" 2>&1 &&
    die "lanraged started without netd"
grep -q "cannot connect to netd at $RUN/netd.sock" "$RUN/lanraged.log" ||
    die "no clear error without netd: $(cat "$RUN/lanraged.log")"
ok "without netd lanraged exits with a clear error"

start_netd
start_lanraged
link=$(nsexec ip -o link show lanrage0) || lr_die "no lanrage0"
echo "$link" | grep -q 'mtu 1420' || lr_die "MTU not 1420: $link"
echo "$link" | grep -q '[<,]UP[,>]' || lr_die "lanrage0 not up: $link"
nsexec ip -o addr show dev lanrage0 | grep -q 'inet 10.66.0.5/16' ||
    lr_die "address missing"
nsexec ip -4 route show dev lanrage0 | grep -q '^255.255.255.255' ||
    lr_die "broadcast route missing"
q=$(grep -l 'iff:[[:space:]]*lanrage0' /proc/"$LR_PID"/fdinfo/* 2>/dev/null |
    wc -l)
[ "$q" = 2 ] || lr_die "expected 2 TUN queues, found $q"
ok "lanrage0: 2 queues, MTU 1420, up, 10.66.0.5/16, broadcast route"

st=/proc/$LR_PID/status
grep -Eq "^Uid:[[:space:]]+$CLIENT_UID[[:space:]]+$CLIENT_UID[[:space:]]+$CLIENT_UID[[:space:]]+$CLIENT_UID\$" "$st" ||
    lr_die "not running as uid $CLIENT_UID: $(grep Uid "$st")"
grep -q '^CapEff:[[:space:]]*0000000000000000$' "$st" ||
    lr_die "capabilities left: $(grep CapEff "$st")"
grep -q '^CapPrm:[[:space:]]*0000000000000000$' "$st" ||
    lr_die "permitted capabilities left"
grep -q '^NoNewPrivs:[[:space:]]*1$' "$st" || lr_die "no no-new-privs"
ok "lanraged runs as uid $CLIENT_UID with no capabilities and no-new-privs"

sock=$RUN/wg/lanrage0.sock
[ -S "$sock" ] || lr_die "no UAPI socket"
[ "$(stat -c '%a %u' "$sock")" = "600 $CLIENT_UID" ] ||
    lr_die "UAPI socket mode/owner: $(stat -c '%a %u' "$sock")"
port=$(sed -n 's/.*listening on UDP port \([0-9]*\).*/\1/p' "$RUN/lanraged.log")
[ -n "$port" ] && [ "$port" != 0 ] || lr_die "no random port logged"
nsexec ss -Hlun "sport = :$port" | grep -q . || lr_die "UDP $port not bound"
if command -v socat >/dev/null || command -v python3 >/dev/null; then
	got=$(uapi 'get=1\n\n')
	echo "$got" | grep -q "^listen_port=$port\$" ||
	    lr_die "get=1 answered: $got"
	echo "$got" | grep -q '^errno=0$' || lr_die "get=1 without errno=0"
	got=$(uapi 'set=1\nlisten_port=41234\n\n')
	echo "$got" | grep -q '^errno=0$' || lr_die "set=1 answered: $got"
	got=$(uapi 'get=1\n\n')
	echo "$got" | grep -q "^listen_port=41234\$" ||
	    lr_die "get=1 after set answered: $got"
	nsexec ss -Hlun "sport = :41234" | grep -q . ||
	    lr_die "UDP 41234 not bound after set"
	port=41234
	got=$(uapi 'set=1\nbogus=1\n\n')
	echo "$got" | grep -q '^errno=-22$' || lr_die "bad set answered: $got"
	ok "UAPI socket 0600 for uid $CLIENT_UID: get=1 tells the port, set=1 moves it, a bad key is EINVAL"
else
	ok "UAPI socket 0600 for uid $CLIENT_UID # SKIP no socat or python3 to talk to it"
fi

# wg(8) looks only in /var/run/wireguard: show it ours in a private mount
# namespace, never the host's directory.
wg_private() {
	nsexec unshare -m --propagation private sh -c "mount -t tmpfs lrtest \
	    /run && mkdir /run/wireguard && mount --bind '$RUN/wg' \
	    /run/wireguard && wg $*" 2>&1
}
if command -v wg >/dev/null; then
	got=$(wg_private show lanrage0 listen-port)
	[ "$got" = "$port" ] || lr_die "wg show lanrage0 listen-port: $got"
	got=$(wg_private set lanrage0 listen-port 1)
	echo "$got" | grep -q 'Permission denied' ||
	    lr_die "wg set listen-port 1 (privileged port): $got"
	key=$(wg genkey)
	pub=$(echo "$key" | wg pubkey)
	echo "$key" > "$RUN/key"
	peer=$(wg genkey | wg pubkey)
	got=$(wg_private set lanrage0 private-key "$RUN/key" peer "$peer" \
	    allowed-ips 10.66.0.9/32 endpoint 192.0.2.1:51820)
	[ -z "$got" ] || lr_die "wg set: $got"
	got=$(wg_private show lanrage0 public-key)
	[ "$got" = "$pub" ] || lr_die "wg show public-key: $got"
	wg_private show lanrage0 allowed-ips | grep -q "10.66.0.9/32" ||
	    lr_die "wg show allowed-ips"
	wg_private showconf lanrage0 >"$RUN/showconf" ||
	    lr_die "wg showconf: $(cat "$RUN/showconf")"
	grep -q "^PublicKey = $peer\$" "$RUN/showconf" &&
	    grep -q "^Endpoint = 192.0.2.1:51820\$" "$RUN/showconf" ||
	    lr_die "wg showconf: $(cat "$RUN/showconf")"
	# syncconf: drop that peer, add another with two prefixes
	peer2=$(wg genkey | wg pubkey)
	printf '[Interface]\nPrivateKey = %s\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.66.1.0/24, 10.66.2.7/32\n' \
	    "$key" "$peer2" >"$RUN/sync.conf"
	got=$(wg_private syncconf lanrage0 "$RUN/sync.conf")
	[ -z "$got" ] || lr_die "wg syncconf: $got"
	got=$(wg_private show lanrage0 peers)
	[ "$got" = "$peer2" ] || lr_die "after syncconf the peers are: $got"
	[ "$(wg_private show lanrage0 allowed-ips | wc -w)" = 3 ] ||
	    lr_die "after syncconf: $(wg_private show lanrage0 allowed-ips)"
	ok "wg(8) show, showconf, set and syncconf work; a privileged port is refused"
fi

write_lconf "MTU = 1400" "Address = 10.66.0.5/16, 10.66.0.6/16"
sed -i '/^Address = 10.66.0.5\/16$/d' "$RUN/lanraged.conf"
kill -HUP "$LR_PID"
for i in $(seq 30); do grep -q 'reloaded' "$RUN/lanraged.log" && break
	sleep 0.1; done
nsexec ip -o link show lanrage0 | grep -q 'mtu 1400' || lr_die "MTU not reloaded"
nsexec ip -o addr show dev lanrage0 | grep -q 'inet 10.66.0.6/16' ||
    lr_die "new address not added on SIGHUP"
ok "SIGHUP applies MTU and Address"

kill -TERM "$LR_PID"
wait_exit || lr_die "lanraged ignored SIGTERM"
[ "$LR_STATUS" = 0 ] || lr_die "exit status $LR_STATUS after SIGTERM"
[ -e "$sock" ] && lr_die "UAPI socket left behind"
wait_gone lanrage0 || lr_die "netd did not remove lanrage0"
netd_alive || lr_die "netd died"
ok "SIGTERM: lanraged exits 0, removes its socket, netd removes lanrage0"

write_lconf
start_lanraged
kill -TERM "$NETD_PID"
wait_exit || lr_die "lanraged outlived netd"
NETD_PID=
[ "$LR_STATUS" != 0 ] || lr_die "exit status 0 after losing netd"
grep -q 'netd closed the connection' "$RUN/lanraged.log" ||
    lr_die "netd's departure not logged"
[ -e "$sock" ] && lr_die "UAPI socket left behind"
ok "netd going away: lanraged logs it and exits $LR_STATUS"
