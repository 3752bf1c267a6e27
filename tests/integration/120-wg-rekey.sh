#!/bin/sh
# Rekeying under traffic: a session older than REKEY_AFTER_TIME (120 s) is
# replaced by a new handshake while a ping runs through the tunnel, with
# no more than a packet or two lost.  KIND_A (the initiator, who rekeys)
# and KIND_B as in 100-wg-interop.sh; defaults: lanraged and wireguard-go.
. tests/wg-lib.sh

KIND_A=${KIND_A:-lanraged}
KIND_B=${KIND_B:-wireguard-go}

wg_require
[ -x "$LANRAGED" ] || skip "lanraged not built yet ($LANRAGED)"
note "A: $KIND_A, B: $KIND_B"
wg_topology
wg_keys
start_node "$KIND_B" 2
node_config 2
node_up 2
start_node "$KIND_A" 1
node_config 1
node_up 1
node_ping 1 "$WG_OVERLAY.2" || die "first ping"
wait_handshake 1 0 5 || die "no first handshake"
h0=$(node_handshake 1)
ok "session up, handshake at $h0"

# 135 s of pings, 2 a second: the rekey falls inside.
nsx 1 ping -n -q -i 0.5 -c 270 -w 140 "$WG_OVERLAY.2" >"$WG_RUN/ping.out" 2>&1 &
pingpid=$!
wait "$pingpid"
h1=$(node_handshake 1)
[ -n "$h1" ] && [ "$h1" -gt "$h0" ] || die "no new handshake: $h0 then $h1"
ok "rekeyed after $((h1 - h0)) s"
[ $((h1 - h0)) -ge 115 ] || die "rekeyed too early ($((h1 - h0)) s)"
loss=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$WG_RUN/ping.out")
[ -n "$loss" ] && [ "$loss" -ge 268 ] ||
    die "ping through the rekey: $(tail -n 2 "$WG_RUN/ping.out")"
ok "$loss of 270 pings answered across the rekey"
node_ping 2 "$WG_OVERLAY.1" || die "ping from B after the rekey"
ok "traffic both ways on the new session"
