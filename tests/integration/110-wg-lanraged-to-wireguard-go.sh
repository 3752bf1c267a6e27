#!/bin/sh
# The interop story of 100-wg-interop.sh with node A as lanraged and node B as
# wireguard-go: handshakes both ways, ping, iperf3 TCP and UDP, wg show, a restart,
# roaming.
KIND_A=lanraged KIND_B=wireguard-go exec sh tests/integration/100-wg-interop.sh
