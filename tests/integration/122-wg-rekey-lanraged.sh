#!/bin/sh
# 120-wg-rekey.sh between two lanraged nodes.
KIND_A=lanraged KIND_B=lanraged exec sh tests/integration/120-wg-rekey.sh
