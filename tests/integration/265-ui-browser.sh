#!/bin/sh
# The web UI in a real browser: headless Chromium driven through
# chromedriver's WebDriver protocol (curl and jq, no other driver).  A
# party is made in node a's UI, its invite link copied from the page and
# pasted into node b's UI, and b then appears in a's member list with a
# path, an RTT and a quality score.  A screenshot of a's page is kept as a test artifact
# (BUILD/test-artifacts/ui-members.png).
. "$(dirname "$0")/../party-lib.sh"

party_require curl chromium chromedriver base64

ART=$(pwd)/$BUILD/test-artifacts
mkdir -p "$ART"
PT_DIRECT="a b"
party_topology
party_controld
for x in a b; do
	party_node "$x"
	party_node_server "$x"
done
E=element-6066-11e4-a52e-4f735466cecf	# WebDriver's element key

# wd X METHOD PATH [JSON]: one WebDriver call to X's chromedriver
wd() {
	x=$1 m=$2 p=$3 j=${4:-}
	if [ -n "$j" ]; then
		nsx "$x" curl -sS --max-time 60 -X "$m" \
		    -H 'Content-Type: application/json' --data "$j" \
		    "http://127.0.0.1:9515$p"
	else
		nsx "$x" curl -sS --max-time 60 -X "$m" \
		    "http://127.0.0.1:9515$p"
	fi
}
driver_up() { nsx "$1" curl -sf http://127.0.0.1:9515/status >/dev/null; }
session() {
	x=$1
	nsx "$x" chromedriver --port=9515 >"$PT_RUN/$x/chromedriver.log" 2>&1 &
	eval "DRV_$x=\$!"
	wait_for 10 driver_up "$x" || pt_fail "$x: chromedriver did not start"
	caps=$(jq -nc --arg dir "$PT_RUN/$x/chrome" '{capabilities:
	    {alwaysMatch: {browserName: "chrome", "goog:chromeOptions": {
	    binary: "/usr/bin/chromium", args: ["--headless=new",
	    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
	    "--window-size=1280,1000", ("--user-data-dir=" + $dir)]}}}}')
	sid=$(wd "$x" POST /session "$caps" | jq -r .value.sessionId)
	[ -n "$sid" ] && [ "$sid" != null ] ||
	    pt_fail "$x: no browser session: $(tail -n 5 \
	    "$PT_RUN/$x/chromedriver.log")"
	eval "SID_$x=$sid"
}
browser_cleanup() {
	for x in a b; do
		eval "sid=\${SID_$x:-} pid=\${DRV_$x:-}"
		[ -n "$sid" ] && wd "$x" DELETE "/session/$sid" >/dev/null 2>&1
		[ -n "$pid" ] && kill "$pid" 2>/dev/null
	done
	pt_cleanup
}
trap browser_cleanup EXIT

# js X SCRIPT: the value SCRIPT returns in X's page
js() {
	eval "sid=\$SID_$1"
	wd "$1" POST "/session/$sid/execute/sync" \
	    "$(jq -nc --arg s "$2" '{script: $s, args: []}')" | jq -r .value
}
# el X CSS: X's element id for CSS
el() {
	eval "sid=\$SID_$1"
	wd "$1" POST "/session/$sid/element" "$(jq -nc --arg v "$2" \
	    '{using: "css selector", value: $v}')" | jq -r --arg e "$E" \
	    '.value[$e] // empty'
}
click() {
	eval "sid=\$SID_$1"
	e=$(el "$1" "$2")
	[ -n "$e" ] || pt_fail "$1: no $2 in the page"
	wd "$1" POST "/session/$sid/element/$e/click" '{}' >/dev/null
}
type_in() {	# X CSS TEXT
	eval "sid=\$SID_$1"
	e=$(el "$1" "$2")
	[ -n "$e" ] || pt_fail "$1: no $2 in the page"
	wd "$1" POST "/session/$sid/element/$e/clear" '{}' >/dev/null
	wd "$1" POST "/session/$sid/element/$e/value" \
	    "$(jq -nc --arg t "$3" '{text: $t}')" >/dev/null
}
visible() {	# X CSS
	[ "$(js "$1" "var e = document.querySelector('$2');
	    return !!(e && e.offsetParent !== null);")" = true ]
}
open_ui() {
	eval "sid=\$SID_$1"
	wd "$1" POST "/session/$sid/url" \
	    '{"url": "http://127.0.0.1:8666/"}' >/dev/null
}

connected() { [ "$(ctlj "$1" status | jq -r .control.state)" = connected ]; }
for x in a b; do
	wait_for 10 connected "$x" || pt_fail "$x: not connected"
	session "$x"
	open_ui "$x"
	wait_for 10 visible "$x" '#create-button' ||
	    pt_fail "$x: the page shows no create button"
done
ok "chromium (headless) opened a's and b's UI at 127.0.0.1:8666"

type_in a '#party-name' 'browser night'
click a '#create-button'
in_party() { [ "$(ctlj "$1" status | jq -r .party.name)" = "$2" ]; }
wait_for 10 in_party a 'browser night' || pt_fail "no party made from a's UI"
wait_for 10 visible a '#invite-button' || pt_fail "a: no invite button"
click a '#invite-button'
has_link() {
	case $(js a "return document.querySelector('#invite-link').value;") in
	lanrage:*) return 0 ;;
	esac
	return 1
}
wait_for 10 has_link || pt_fail "a: no invite link in the page"
link=$(js a "return document.querySelector('#invite-link').value;")
ok "a's UI: party made, invite link shown (${link%%/v1/*}/...)"

type_in b '#join-link' "$link"
click b '#join-button'
wait_for 15 in_party b 'browser night' ||
    pt_fail "b did not join from its UI: $(ctlj b status | jq -c .party)"
ok "b's UI: joined with the pasted link"

# a's member table, live: node-b with its path and an RTT
member_b() {
	js a "var rows = document.querySelectorAll('#members tr[data-peer]');
	    for (var i = 0; i < rows.length; i++) {
		var t = rows[i].textContent;
		var p = rows[i].querySelector('.path');
		var r = rows[i].querySelector('.rtt');
		var q = rows[i].querySelector('.quality');
		if (t.indexOf('node-b') >= 0 && p && r && q)
			return p.textContent.trim() + ' ' + r.textContent.trim() +
			    ' ' + q.textContent.trim();
	    }
	    return '';"
}
b_shown() {
	case $(member_b) in
	direct\ [0-9]*\ [0-9]*) return 0 ;;
	esac
	return 1
}
wait_for 20 b_shown || pt_fail "b not in a's member list: \"$(member_b)\""
row=$(member_b)
set -- $row
ok "a's UI lists node-b: path $1, RTT $2 ms, quality $3"

eval "sid=\$SID_a"
wd a GET "/session/$sid/screenshot" | jq -r .value | base64 -d \
    >"$ART/ui-members.png" || pt_fail "screenshot"
[ "$(head -c 4 "$ART/ui-members.png" | od -An -c | tr -d ' ')" = \
    "211PNG" ] || pt_fail "the screenshot is not a PNG"
ok "screenshot of a's UI: $ART/ui-members.png ($(wc -c \
    <"$ART/ui-members.png") bytes)"
