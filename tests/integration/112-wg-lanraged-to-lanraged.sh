#!/bin/sh
# The interop story of 100-wg-interop.sh with node A as lanraged and node B as
# lanraged: handshakes both ways, ping, iperf3 TCP and UDP, wg show, a restart,
# roaming.
KIND_A=lanraged KIND_B=lanraged exec sh tests/integration/100-wg-interop.sh
