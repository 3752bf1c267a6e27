#!/bin/sh
# Garbage, oversized, truncated and malformed frames drop the connection
# (and with it everything the client made); netd keeps serving.
. tests/integration/lib.sh
setup_ns
write_conf
start_netd

# garbage: a header with unknown flags
client <<'SCRIPT' || die "garbage"
tun lanrage0
raw deadbeefdeadbeefdeadbeefdeadbeef
expect-close
SCRIPT
wait_gone lanrage0 || die "lanrage0 left behind after garbage"
ok "garbage drops the connection and removes its objects"

# oversized: a header announcing 1 MiB
printf 'raw 010101000010000000000001%08x\nexpect-close\n' 1 | client ||
    die "oversized"
ok "an oversized frame drops the connection"

# a frame flagged as carrying an fd, without one
echo 'frame 0x0101 1 1 6c616e7261676530000000000000000000000000
expect-close' | client || die "fd flag without fd"
ok "an fd flag without an fd drops the connection"

# a valid request in the wrong protocol version
echo 'frame 0x0101 2 0 6c616e7261676530000000000000000000000000
expect-close' | client || die "wrong version"
ok "a wrong protocol version drops the connection"

# payloads that do not decode: short, long, bad enum
for p in 6c616e72 6c616e726167653000000000000000000000000000 \
    6c616e7261676530000000000000000000000080; do
	printf 'frame 0x0101 1 0 %s\nexpect-close\n' "$p" | client ||
	    die "malformed payload $p"
done
ok "short, long and bad-enum payloads drop the connection"

# a truncated frame, then the client goes away
echo 'raw 0101010000000014' | client || die "truncated"
ok "a truncated frame then EOF"

# random bytes
for i in 1 2 3 4 5; do
	h=$(head -c 200 /dev/urandom | od -An -tx1 | tr -d ' \n')
	printf 'raw %s\nexpect-close\n' "$h" | client >/dev/null 2>&1
done
netd_alive || die "netd died"
printf 'tun lanrage1\nlinkset $ 1400 up\n' | client || die "not serving after abuse"
ok "netd keeps serving after every kind of abuse"
