#!/bin/sh
# lanragectl without a daemon: usage errors exit 2 with a reason and the
# synopsis and send nothing; a socket nobody serves exits 1 with "cannot
# connect to lanraged at PATH: reason"; -s beats LANRAGE_SOCKET, which
# beats the default; -j is accepted; what the user typed is escaped.
# Needs neither root nor a namespace.
BUILD=${BUILD:-build}
CTL=${CTL:-$(pwd)/$BUILD/bin/lanragectl}
TMP=

skip() { echo "# SKIP: $*"; exit 77; }
ok() { echo "ok - $*"; }
die() { echo "not ok - $*"; exit 1; }

[ -x "$CTL" ] || skip "no $CTL"
TMP=$(mktemp -d /tmp/lanrage-test.XXXXXX) || die "mktemp"
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
NONE=$TMP/none.sock

# run ARGS...: the exit status in $st, stdout in $out, stderr in $err.
run() {
	"$CTL" "$@" >"$TMP/out" 2>"$TMP/err"
	st=$?
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
}

# usage_err TEXT ARGS...: exit 2, TEXT and a synopsis on stderr, no stdout.
usage_err() {
	want=$1
	shift
	run "$@"
	[ "$st" = 2 ] || die "'$*' exited $st, not 2: $err"
	[ -z "$out" ] || die "'$*' printed on stdout: $out"
	printf '%s\n' "$err" | grep -qF -- "$want" ||
	    die "'$*' did not say '$want': $err"
	printf '%s\n' "$err" | grep -q '^usage: lanragectl \[-j\] \[-s socket\]' ||
	    die "'$*' printed no synopsis: $err"
}

# no_daemon PATH ARGS...: exit 1 with the connect error for PATH.
no_daemon() {
	path=$1
	shift
	run "$@"
	[ "$st" = 1 ] || die "'$*' exited $st, not 1: $err"
	[ -z "$out" ] || die "'$*' printed on stdout: $out"
	printf '%s\n' "$err" |
	    grep -qF -- "lanragectl: cannot connect to lanraged at $path: " ||
	    die "'$*' said: $err"
}

# Every usage error is found before connecting: the socket is never tried.
export LANRAGE_SOCKET="$NONE"

usage_err "commands:"
usage_err "commands:" -j
usage_err "lanragectl: unknown command: frobnicate" frobnicate
usage_err "lanragectl: unknown option -x" -x status
usage_err "lanragectl: -s needs an argument" -s
ok "no command, an unknown command or option: exit 2 with the synopsis"

usage_err "party: missing command" party
usage_err "party: unknown command: frob" party frob
usage_err "party create: missing name" party create
usage_err "party create: too many arguments" party create a b
usage_err "party join: missing link" party join
usage_err "join: missing link" join
usage_err "party kick: missing peer" party kick
usage_err "party leave: too many arguments" party leave now
usage_err "status: too many arguments" status now
usage_err "peers: too many arguments" peers all
usage_err "settings: missing command" settings
usage_err "settings set: missing arguments" settings set name
usage_err "settings get: too many arguments" settings get a b
usage_err "log: level must be verbose or brief, not loud" log loud
usage_err "log: missing verbose | brief" log
ok "missing and extra arguments: exit 2 with the command's synopsis"

usage_err "invite: -e: not a number" invite -e soon
usage_err "invite: -e: not a number" invite -e -5
usage_err "invite: -e: not a number" invite -e 4294967296
usage_err "invite: -e: not a number" invite -e 50000d
usage_err "invite: -u: not a number from 0 to 65535" invite -u 65536
usage_err "invite: -u: not a number from 0 to 65535" invite -u " 5"
usage_err "invite: -e needs an argument" invite -e
usage_err "invite: unknown option -q" invite -q
usage_err "invite: too many arguments" invite -a forever
ok "invite: bad -e and -u values, unknown options, extra arguments"

usage_err "party create: name is not valid UTF-8: a\\xff" party create \
    "$(printf 'a\377')"
run party create "$(head -c 70000 /dev/zero | tr '\0' a)"
[ "$st" = 2 ] || die "a 70000-byte name exited $st, not 2"
printf '%s\n' "$err" | grep -q "request too long: 700[0-9][0-9] bytes" ||
    die "a 70000-byte name: $err"
usage_err 'unknown command: x\x1b[2Jy\x07' "$(printf 'x\033[2Jy\007')"
printf '%s\n' "$err" | grep -q "$(printf '[\033\007]')" &&
    die "a control character reached stderr: $err"
ok "invalid UTF-8, a request over 64 KiB, escaped control characters"

no_daemon "$NONE" -s "$NONE" status
printf '%s\n' "$err" | grep -q "No such file or directory" ||
    die "no reason given: $err"
: > "$TMP/file"
no_daemon "$TMP/file" -s "$TMP/file" peers
printf '%s\n' "$err" | grep -q "Connection refused" ||
    die "no reason given: $err"
long=$TMP/$(head -c 120 /dev/zero | tr '\0' s).sock
no_daemon "$long" -s "$long" status
printf '%s\n' "$err" | grep -q "File name too long" ||
    die "no reason given: $err"
ok "no daemon: exit 1, cannot connect to lanraged at PATH: reason"

no_daemon "$NONE" status
no_daemon "$TMP/opt.sock" -s "$TMP/opt.sock" status
env -u LANRAGE_SOCKET "$CTL" status >/dev/null 2>"$TMP/err"
st=$?
err=$(cat "$TMP/err")
# a lanraged on this machine may answer; if none does, the default is named
if printf '%s\n' "$err" | grep -q "cannot connect"; then
	printf '%s\n' "$err" | grep -q \
	    "cannot connect to lanraged at /.*/lanraged/lanraged.sock: " ||
	    die "default socket: $err"
fi
ok "-s beats LANRAGE_SOCKET, which beats the default"

no_daemon "$NONE" -j -s "$NONE" status
no_daemon "$NONE" -s "$NONE" -j peers
no_daemon "$NONE" -j invite -a -e 1d -u 5
no_daemon "$NONE" -j settings get name
no_daemon "$NONE" -j party join 'lanrage://ctl.example.net:8667/v1/k/c'
ok "-j is accepted; errors stay on stderr"
