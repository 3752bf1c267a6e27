# The user's story (DESIGN.md section 1) on one machine, shared by
# tests/demo.sh (make demo) and tests/integration/270-acceptance.sh.
# Source it after tests/party-lib.sh (POSIX sh, root).
#
# Three friends, each behind a NAT of their own: alice (a) behind a full
# cone, bob (b) behind a port-restricted one, carol (c) behind a
# symmetric one; controld and two relays (regions alpha and beta) on
# the "internet" bridge.  a <-> b and a <-> c can be direct, b <-> c
# needs a relay.  Everything a user does goes through each node's REST
# API (proto/api.md, HTTP), on the port of its api.port setting.
#
#   story_require                   skip (77) without what the story needs
#   story_setup                     namespaces, controld, relays, nodes
#   story_party                     a creates the party, b and c join by link
#   story_paths                     every member has a path to every other
#   story_pings                     every pair pings through the tunnel
#   story_lan                       a's LAN broadcast heard by b and c, answered
#   story_forward X                 host 127.0.0.1:PORT -> X's UI (socat)
#   story_ui X                      X's UI and API answer on the host's port
#   story_table                     the members table, as text
#   story_get X PATH / story_post X PATH JSON     REST calls in X
#
# The checks return 1 with the reason in STORY_WHY.  STORY_PORT (18660)
# is the base: node a's api.port is STORY_PORT + 1, b's + 2, c's + 3,
# and the host forwards the same numbers.

STORY_NODES="a b c"
STORY_PORT=${STORY_PORT:-18660}
STORY_PROBE=$(pwd)/$BUILD/tests/integration/lan-probe
STORY_WHY=
STORY_FWD_PIDS=

story_require() {
	party_require nft curl ping
	[ -x "$PT_RELAYD" ] || skip "no $PT_RELAYD"
	[ -x "$STORY_PROBE" ] || skip "no $STORY_PROBE"
}

# story_name X: the node's name in the party
story_name() {
	case $1 in
	a) echo alice ;;
	b) echo bob ;;
	c) echo carol ;;
	esac
}

story_port() {
	case $1 in
	a) echo $((STORY_PORT + 1)) ;;
	b) echo $((STORY_PORT + 2)) ;;
	c) echo $((STORY_PORT + 3)) ;;
	esac
}

story_cleanup() {
	for sp in $STORY_FWD_PIDS; do
		kill "$sp" 2>/dev/null
	done
	pt_cleanup
}

# story_say MSG: what the story is doing (demo.sh sets STORY_QUIET=)
story_say() {
	[ -n "${STORY_QUIET:-}" ] || echo "$*"
}

story_setup() {
	PT_DIRECT=""
	party_topology
	trap story_cleanup EXIT
	[ -f "$PT_UI/index.html" ] || pt_fail "no web UI in $PT_UI"
	party_relay_key 1
	party_relay_key 2
	# STUN on two addresses: netcheck can tell the NATs' filtering
	PT_CONTROLD_EXTRA="StunAddress = 10.99.0.1, 10.99.0.2
RelayKeys = $PT_RELAY_PUB_1, $PT_RELAY_PUB_2
RelayReport = 2"
	ip -n "$PT_SRV" addr add 10.99.0.2/24 dev "$PT_BR" ||
	    pt_fail "second controld address"
	story_say "  controld at 10.99.0.1:8667, STUN at 10.99.0.1 and .2:3478"
	party_controld
	story_say "  relay 1, region alpha, at 10.99.0.41:51820"
	party_relayd 1 alpha
	story_say "  relay 2, region beta, at 10.99.0.42:51820"
	party_relayd 2 beta
	party_nat_node a 2 fullcone
	party_nat_node b 4 portcone
	party_nat_node c 9 symmetric
	for sx in $STORY_NODES; do
		party_node "$sx"
		party_node_server "$sx"
		ctl "$sx" settings set name "$(story_name "$sx")" >/dev/null &&
		    ctl "$sx" settings set api.port "$(story_port "$sx")" \
		    >/dev/null || pt_fail "$sx: settings"
	done
	story_say "  alice behind a full-cone NAT      (192.168.2.2 -> 10.99.0.22)"
	story_say "  bob   behind a port-restricted NAT (192.168.4.2 -> 10.99.0.24)"
	story_say "  carol behind a symmetric NAT       (192.168.9.2 -> 10.99.0.29)"
	for sx in $STORY_NODES; do
		wait_for 15 story_up "$sx" ||
		    pt_fail "$sx: no HTTP on 127.0.0.1:$(story_port "$sx")"
		story_secret "$sx" || pt_fail "$STORY_WHY"
	done
}

# story_url X PATH
story_url() {
	echo "http://127.0.0.1:$(story_port "$1")$2"
}

story_up() {
	nsx "$1" curl -sf --max-time 2 "$(story_url "$1" /api/v1/status)" \
	    >/dev/null
}

# story_secret X: X's secret from its page, in STORY_SECRET_X
story_secret() {
	ss=$(nsx "$1" curl -sf --max-time 5 "$(story_url "$1" /)" | sed -n \
	    's/.*name="lanrage-secret" content="\([0-9a-f]*\)".*/\1/p')
	[ ${#ss} -eq 64 ] || {
		STORY_WHY="$1: no secret in the page"
		return 1
	}
	eval "STORY_SECRET_$1=\$ss"
}

# story_get X PATH: the answer's body (curl fails on an HTTP error)
story_get() {
	nsx "$1" curl -sf --max-time 10 "$(story_url "$1" "$2")"
}

# story_post X PATH JSON: the answer's body, then its status on a line
story_post() {
	eval "sp_s=\$STORY_SECRET_$1"
	nsx "$1" curl -sS --max-time 20 -w '\n%{http_code}\n' -X POST \
	    -H "X-LANrage-Secret: $sp_s" -H 'Content-Type: application/json' \
	    --data "$3" "$(story_url "$1" "$2")"
}

story_state() {
	story_get "$1" /api/v1/status | jq -r .result.control.state
}

story_connected() {
	[ "$(story_state "$1")" = connected ]
}

# story_addr X: X's party address (without the prefix length)
story_addr() {
	story_get "$1" /api/v1/status | jq -r '.result.party.address // empty' |
	    sed 's|/.*||'
}

story_party() {
	for sx in $STORY_NODES; do
		wait_for 15 story_connected "$sx" || {
			STORY_WHY="$sx: not connected to controld: $(story_get \
			    "$sx" /api/v1/status | jq -c .result.control)"
			return 1
		}
	done
	r=$(story_post a /api/v1/party '{"name":"friday lan night"}')
	[ "$(echo "$r" | tail -n 1)" = 200 ] || {
		STORY_WHY="POST /api/v1/party on a: $r"
		return 1
	}
	r=$(story_post a /api/v1/invite '{"uses":0}')
	STORY_LINK=$(echo "$r" | sed '$d' | jq -r .result.link)
	case $STORY_LINK in
	lanrage:*) ;;
	*)	STORY_WHY="POST /api/v1/invite on a: $r"
		return 1 ;;
	esac
	for sx in b c; do
		r=$(story_post "$sx" /api/v1/party/join \
		    "{\"invite\":\"$STORY_LINK\"}")
		[ "$(echo "$r" | tail -n 1)" = 200 ] || {
			STORY_WHY="POST /api/v1/party/join on $sx: $r"
			return 1
		}
	done
	for sx in $STORY_NODES; do
		sa=$(story_addr "$sx")
		[ -n "$sa" ] || {
			STORY_WHY="$sx: no party address"
			return 1
		}
		eval "STORY_ADDR_$sx=\$sa"
	done
}

# story_path X Y: X's path to Y ("direct", "relay", ...)
story_path() {
	story_get "$1" /api/v1/peers | jq -r --arg n "$(story_name "$2")" \
	    '.result.peers[] | select(.name == $n) | .path // "none"'
}

story_all_paths() {
	for sx in $STORY_NODES; do
		for sy in $STORY_NODES; do
			[ "$sx" = "$sy" ] && continue
			case $(story_path "$sx" "$sy") in
			direct|relay) ;;
			*) return 1 ;;
			esac
		done
	done
}

story_paths() {
	wait_for "${1:-20}" story_all_paths && return 0
	STORY_WHY="not every pair has a path: $(for sx in $STORY_NODES; do
		story_get "$sx" /api/v1/peers | jq -c --arg x "$sx" \
		    '[$x, (.result.peers[] | [.name, .path, .reason])]'
	done)"
	return 1
}

# story_ping X Y: one ping from X to Y's party address through the tunnel
story_ping() {
	eval "sp_a=\$STORY_ADDR_$2"
	nsx "$1" ping -n -c 1 -W 1 "$sp_a" >/dev/null 2>&1
}

# story_pings [SECS]: every pair, both ways, each within SECS (10)
story_pings() {
	for sx in $STORY_NODES; do
		for sy in $STORY_NODES; do
			[ "$sx" = "$sy" ] && continue
			wait_for "${1:-10}" story_ping "$sx" "$sy" && continue
			eval "sp_a=\$STORY_ADDR_$sy"
			STORY_WHY="$(story_name "$sx") cannot ping $(story_name \
			    "$sy") ($sp_a) through the tunnel; path \
			    $(story_path "$sx" "$sy")"
			return 1
		done
	done
}

# story_lan: a's game broadcasts its lobby to 255.255.255.255:4445 from
# port 40000; the games on b and c must hear it from a's party address
# and port, and their unicast answers must reach a.  The probes' output
# stays in $PT_RUN/lan-*.
story_lan() {
	for sx in b c; do
		nsx "$sx" "$STORY_PROBE" listen 4445 -r -n 1 -t 4 \
		    >"$PT_RUN/lan-$sx" 2>&1 &
		eval "sl_pid_$sx=\$!"
	done
	for sx in b c; do
		wait_for 3 nsx "$sx" sh -c \
		    "ss -Hlun 'sport = :4445' | grep -q ." || {
			STORY_WHY="$sx: lan-probe did not listen"
			return 1
		}
	done
	nsx a "$STORY_PROBE" send 255.255.255.255 4445 "lobby:friday" \
	    -b 40000 -w 1 >"$PT_RUN/lan-a" 2>&1
	for sx in b c; do
		eval "wait \$sl_pid_$sx"
	done
	STORY_LAN=""
	for sx in b c; do
		eval "sl_r=\$STORY_ADDR_$sx"
		n=$(awk -v s="$STORY_ADDR_a:40000" '$1 == "from" && $2 == s &&
		    $4 == "lobby:friday" { n++ } END { print n + 0 }' \
		    "$PT_RUN/lan-$sx")
		[ "$n" = 1 ] || {
			STORY_WHY="$(story_name "$sx") heard a's broadcast $n" \
			    "times, want once: $(tr '\n' '|' <"$PT_RUN/lan-$sx")"
			return 1
		}
		awk -v s="$sl_r:4445" '$1 == "reply" && $3 == s &&
		    $4 == "reply:lobby:friday" { f = 1 } END { exit !f }' \
		    "$PT_RUN/lan-a" || {
			STORY_WHY="a got no answer from $(story_name "$sx")" \
			    "($sl_r:4445): $(tr '\n' '|' <"$PT_RUN/lan-a")"
			return 1
		}
		STORY_LAN="$STORY_LAN $(story_name "$sx") heard it from $STORY_ADDR_a:40000 and answered from $sl_r:4445;"
	done
	STORY_LAN=${STORY_LAN# }
	STORY_LAN=${STORY_LAN%;}
}

# story_forward X: the host's 127.0.0.1:PORT forwarded to the same port
# in X's namespace, where lanraged serves its UI (api.port = PORT: its
# Host check wants its own port)
story_forward() {
	sf_p=$(story_port "$1")
	if ss -Hltn "sport = :$sf_p" | grep -q .; then
		STORY_WHY="port $sf_p is in use on this host (STORY_PORT=N moves the UI ports to N+1..N+3)"
		return 1
	fi
	socat "TCP-LISTEN:$sf_p,bind=127.0.0.1,fork,reuseaddr" \
	    "EXEC:ip netns exec lrp$$$1 socat STDIO TCP\\:127.0.0.1\\:$sf_p" \
	    >>"$PT_RUN/socat-$1.log" 2>&1 &
	STORY_FWD_PIDS="$STORY_FWD_PIDS $!"
	wait_for 5 sh -c "ss -Hltn 'sport = :$sf_p' | grep -q 127.0.0.1" || {
		STORY_WHY="socat did not listen on 127.0.0.1:$sf_p"
		return 1
	}
}

# story_ui X: from the host, X's page (with its secret) and its status
story_ui() {
	su_u="http://127.0.0.1:$(story_port "$1")"
	curl -sf --max-time 5 "$su_u/" | grep -q 'name="lanrage-secret"' || {
		STORY_WHY="$su_u/ from the host: no page"
		return 1
	}
	su_n=$(curl -sf --max-time 5 "$su_u/api/v1/status" |
	    jq -r .result.node.name)
	[ "$su_n" = "$(story_name "$1")" ] || {
		STORY_WHY="$su_u/api/v1/status from the host: name \"$su_n\""
		return 1
	}
}

# story_table: one line per member and peer, from each member's REST API
story_table() {
	printf '%-6s %-6s %-7s %8s %8s %5s  %s\n' member peer path "rtt ms" \
	    "jit ms" loss reason
	for sx in $STORY_NODES; do
		story_get "$sx" /api/v1/peers | jq -r --arg m "$(story_name \
		    "$sx")" '.result.peers[] | [$m, .name, (.path // "none"),
		    (if .rtt_ms == null then "-" else .rtt_ms end),
		    (if .jitter_ms == null then "-" else .jitter_ms end),
		    (if .loss_pct == null then "-" else "\(.loss_pct)%" end),
		    (.reason // "")] | @tsv' |
		    awk -F'\t' '{
			r = $4 == "-" ? "-" : sprintf("%.2f", $4)
			j = $5 == "-" ? "-" : sprintf("%.2f", $5)
			printf "%-6s %-6s %-7s %8s %8s %5s  %s\n",
			    $1, $2, $3, r, j, $6, substr($7, 1, 72)
		    }'
	done
}
