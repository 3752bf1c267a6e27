#!/bin/sh
# A party of three: lanrage-controld in a server namespace, three nodes in
# their own, all driven through lanragectl.  Create, invite, join; all
# agree on addresses and ping each other through the tunnels; leave and
# kick reach everyone within a second; controld killed with -9 and
# restarted keeps the party and the nodes come back by themselves; a
# restarted node keeps its key and its address; the read-only class.
. "$(dirname "$0")/../party-lib.sh"

party_require

PT_GROUP=65532			# the read-only class
party_topology
party_controld
for x in a b c; do
	party_node "$x"
	ctl "$x" settings set name "node-$x" >/dev/null ||
	    pt_fail "settings set name on $x"
done

# Settings: validated, normalised, unknown keys refused, key never shown.
ctl a settings set control.server "not a server" 2>/dev/null &&
    pt_fail "took a bad control.server"
ctl a settings set colour blue 2>/dev/null && pt_fail "took an unknown key"
ctl a settings set api.port 70000 2>/dev/null && pt_fail "took port 70000"
ctl a settings set control.server 10.99.0.1:8667 >/dev/null &&
    ctl a settings set control.key "$PT_PUB" >/dev/null ||
    pt_fail "settings set control.*"
[ "$(ctl a settings get control.key)" = \
    "$(echo "$PT_PUB" | tr -- '-_' '+/')=" ] ||
    pt_fail "control.key not stored in standard base64"
ctlj a settings get | jq -e '.settings | has("node.private_key") | not' \
    >/dev/null || pt_fail "settings show a private key"
ok "settings: validated, normalised, no private key shown"

conn() { [ "$(ctlj "$1" status | jq -r .control.state)" = connected ]; }
wait_for 5 conn a || pt_fail "a did not connect to controld"

ctl a party create "lan night" >/dev/null || pt_fail "party create"
link=$(ctl a invite) || pt_fail "invite"
case $link in lanrage://10.99.0.1:8667/v1/*) ;; *) pt_fail "link $link" ;; esac
ctl b party join "$link" >/dev/null || pt_fail "b: join"
out=$(ctlj c party join "$link") || pt_fail "c: join"
# the answer waits for the party's state: members and host are known
[ "$(echo "$out" | jq -r .members)" = 3 ] &&
    [ "$(echo "$out" | jq -r .host_key)" = \
    "$(ctl a settings get node.public_key)" ] || pt_fail "join said: $out"
ok "create, invite, join (link carries server and key)"

addr() { ctlj "$1" status | jq -r .party.address; }
# peers_of X: "name=address" of X's peers, sorted, one line
peers_of() {
	ctlj "$1" peers | jq -r '.peers[] | "\(.name)=\(.address)"' |
	    sort | tr '\n' ' '
}
A=$(addr a) B=$(addr b) C=$(addr c)
[ "$A" = 10.66.0.1 ] || pt_fail "host address $A"
[ -n "$B" ] && [ -n "$C" ] && [ "$B" != "$C" ] && [ "$B" != null ] ||
    pt_fail "addresses b=$B c=$C"
agree() {
	[ "$(peers_of a)" = "node-b=$B node-c=$C " ] &&
	    [ "$(peers_of b)" = "node-a=$A node-c=$C " ] &&
	    [ "$(peers_of c)" = "node-a=$A node-b=$B " ]
}
wait_for 3 agree || pt_fail "views differ: a: $(peers_of a) b: $(peers_of b)" \
    "c: $(peers_of c)"
ok "all three agree: a=$A b=$B c=$C"

ping_all() {
	for p in "a $B" "a $C" "b $A" "b $C" "c $A" "c $B"; do
		set -- $p
		nsx "$1" ping -c 1 -W 2 "$2" >/dev/null || return 1
	done
}
ping_all || pt_fail "ping through the tunnels"
ok "every member pings every other through the tunnels"

# Leave: everyone's view changes within a second.
t0=$(date +%s%N)
ctl c party leave >/dev/null || pt_fail "c: leave"
left() {
	[ "$(peers_of a)" = "node-b=$B " ] && [ "$(peers_of b)" = "node-a=$A " ]
}
wait_for 1 left || pt_fail "leave not seen within 1 s"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(ctlj c status | jq -r .party)" = null ] || pt_fail "c still in a party"
nsx a ping -c 1 -W 1 "$C" >/dev/null 2>&1 && pt_fail "c still reachable"
ok "leave reaches everyone in ${ms} ms; the peer is gone"

ctl c party join "$link" >/dev/null || pt_fail "c: join again"
[ "$(addr c)" = "$C" ] || pt_fail "c came back with $(addr c), not $C"
wait_for 3 agree || pt_fail "views after rejoin"
ok "rejoin: same address $C"

# Kick: only the host; everyone's view changes within a second.
ctl b party kick node-c 2>/dev/null && pt_fail "a guest kicked"
t0=$(date +%s%N)
ctl a party kick node-b >/dev/null || pt_fail "a: kick b"
kicked() {
	[ "$(peers_of a)" = "node-c=$C " ] && [ "$(peers_of c)" = "node-a=$A " ] &&
	    [ "$(ctlj b status | jq -r .party)" = null ]
}
wait_for 1 kicked || pt_fail "kick not seen within 1 s"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
ok "kick (host only) reaches everyone in ${ms} ms"
ctl b party join "$link" >/dev/null || pt_fail "b: join again"
wait_for 3 agree || pt_fail "views after b rejoined"

# controld killed with -9: tunnels stay; it comes back with everything.
party_controld_kill
ping_all || pt_fail "tunnels went down with controld"
[ "$(ctlj b status | jq -r .control.state)" != connected ] ||
    wait_for 20 sh -c "[ \"\$($PT_CTL -j -s $PT_RUN/b/ctl/lanraged.sock \
    status | jq -r .control.state)\" != connected ]" ||
    pt_fail "b did not notice controld going away"
party_controld
all_conn() { conn a && conn b && conn c; }
wait_for 40 all_conn || pt_fail "nodes did not reconnect"
wait_for 3 agree || pt_fail "views after controld restart"
ping_all || pt_fail "ping after controld restart"
ok "controld kill -9 + restart: party, members, addresses intact; nodes reconnected"

# A node restarted keeps its identity and address.
key=$(ctl c settings get node.public_key)
party_node_stop c
party_node c
[ "$(ctl c settings get node.public_key)" = "$key" ] || pt_fail "new key"
[ "$(addr c)" = "$C" ] || pt_fail "address after restart: $(addr c)"
wait_for 10 conn c || pt_fail "c did not reconnect"
wait_for 3 agree || pt_fail "views after c restarted"
nsx a ping -c 1 -W 2 "$C" >/dev/null || wait_for 5 nsx a ping -c 1 -W 1 "$C" ||
    pt_fail "ping c after its restart"
ok "restarted node keeps key and address $C"

# Read-only class: group members may look, not change.
ro() {
	ip netns exec "lrp$$a" setpriv --reuid=65531 --regid=65531 \
	    --groups="$PT_GROUP" "$PT_CTL" -s "$PT_RUN/a/ctl/lanraged.sock" "$@"
}
ro status >/dev/null || pt_fail "read-only status"
ro peers >/dev/null || pt_fail "read-only peers"
out=$(ro party leave 2>&1) && pt_fail "read-only client left the party"
echo "$out" | grep -q "root or the lanraged user" || pt_fail "said: $out"
ip netns exec "lrp$$a" setpriv --reuid=65530 --regid=65530 --clear-groups \
    "$PT_CTL" -s "$PT_RUN/a/ctl/lanraged.sock" status >/dev/null 2>&1 &&
    pt_fail "a user outside the group read the status"
ok "read-only class reads, cannot change; others cannot connect"

# Approval and a use limit: c leaves, comes back through an invite for
# one use that the host must approve; b cannot use it after that.
ctl c party leave >/dev/null || pt_fail "c: leave"
link2=$(ctl a invite -a -u 1) || pt_fail "invite -a -u 1"
out=$(ctlj c party join "$link2") || pt_fail "c: join with approval"
[ "$(echo "$out" | jq -r .pending)" = true ] || pt_fail "not pending: $out"
asks() { ctlj a status | jq -e '.requests[] | select(.name == "node-c")'; }
wait_for 2 asks || pt_fail "the host does not see c asking"
ctl a party approve node-c >/dev/null || pt_fail "approve"
wait_for 2 agree || pt_fail "c not back after approval"
ctl b party leave >/dev/null || pt_fail "b: leave"
out=$(ctl b party join "$link2" 2>&1) && pt_fail "a used-up invite worked"
echo "$out" | grep -q "refused" || pt_fail "used-up invite: $out"
ok "approval: pending, host approves, member; used-up invite refused"

# A wrong server key: the handshake fails, status says why.
ctl b settings set control.key "$(printf '%043d=' 0 | tr 0 A | \
    sed 's/^A/B/')" >/dev/null || pt_fail "set a wrong key"
wrongkey() { ctlj b status | jq -r .control.error | grep -q "control.key"; }
wait_for 5 wrongkey || pt_fail "wrong key not reported: $(ctlj b status)"
ok "wrong server key: refused, reported"

# Close: everyone leaves.
ctl a party close >/dev/null || pt_fail "close"
closed() { [ "$(ctlj c status | jq -r .party)" = null ]; }
wait_for 1 closed || pt_fail "close not seen within 1 s"
ok "close ends the party for everyone"
