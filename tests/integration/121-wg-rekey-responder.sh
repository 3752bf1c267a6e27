#!/bin/sh
# 120-wg-rekey.sh with wireguard-go rekeying towards lanraged.
KIND_A=wireguard-go KIND_B=lanraged exec sh tests/integration/120-wg-rekey.sh
