#!/usr/bin/python3
# The vectors of proto/relay.md, computed with PyNaCl (Debian's
# python3-nacl) from the steps the spec describes, independently of the
# C codec: `python3 tests/proto/relay_vectors.py` prints the lines that
# tests/proto/check_relay.c checks the C code against.
import struct

from nacl.bindings import (crypto_box, crypto_scalarmult_base,
                           crypto_sign_seed_keypair, crypto_sign)

sign_pk, sign_sk = crypto_sign_seed_keypair(b'\x01' * 32)
relay_priv, node_priv = b'\x02' * 32, b'\x03' * 32
relay_pub = crypto_scalarmult_base(relay_priv)
node_pub = crypto_scalarmult_base(node_priv)
party = b'\xa1' * 16
signed = bytes([1]) + relay_pub + party + node_pub + \
    struct.pack('>Q', 1800000000)
sig = crypto_sign(b'LANrage relay v1' + signed, sign_sk)[:64]
token = signed + sig
nonce_bind, nonce_bound = b'\x04' * 24, b'\x05' * 24
bind_box = crypto_box(struct.pack('>Q', 1700000000000), nonce_bind,
                      relay_pub, node_priv)
bound_box = crypto_box(struct.pack('>HI', 120, 4), nonce_bound,
                       node_pub, relay_priv)
txid = bytes(range(0x10, 0x18))
payload = bytes([4, 0, 0, 0]) + b'\x42' * 28    # a WireGuard-looking one


def v(name, ok, data, comment):
    line = f"vector {name:<12} {'ok ' if ok else 'bad'} {data.hex() or '-'}"
    print(line + (f"  # {comment}" if comment else ""))


print(f"# token key (Ed25519 public) {sign_pk.hex()}")
print(f"# relay key {relay_pub.hex()}")
print(f"# node key {node_pub.hex()}")
v('token', True, token, 'signed by the token key, expiry 1800000000')
v('bind', True, bytes([0xe1]) + token + nonce_bind + bind_box,
  'time 1700000000000 ms')
v('bound', True, bytes([0xe2]) + nonce_bound + bound_box,
  'lifetime 120 s, 4 bound')
tag = node_pub[:8]
v('send', True, bytes([0xe3]) + tag + payload, 'to the node, 32 bytes')
v('recv', True, bytes([0xe4]) + tag + payload, 'from the node')
v('ping', True, bytes([0xe5]) + txid + bytes(8), '')
v('pong', True, bytes([0xe6]) + txid + bytes([0x80]) + bytes(7),
  'load 128')
v('send', True, bytes([0xe3]) + tag + b'\x01' * 1452, 'largest payload')
v('bad', False, bytes([0xe3]) + tag, 'SEND without payload')
v('bad', False, bytes([0xe3]) + tag + b'\x01' * 1453, 'payload of 1453')
v('bad', False, bytes([0xe5]) + txid + bytes(7) + b'\x01',
  'PING padding not zero')
v('bad', False, bytes([0xe6]) + txid + b'\x80' + bytes(6) + b'\x01',
  'PONG padding not zero')
v('bad', False, bytes([0xe5]) + txid + bytes(9), 'PING too long')
v('bad', False, bytes([0xe6]) + txid + b'\x80' + bytes(6), 'PONG short')
v('bad', False, bytes([0xe2]) + nonce_bound + bound_box[:-1],
  'BOUND short')
v('bad', False, bytes([0xe1]) + token + nonce_bind + bind_box + b'\x00',
  'BIND long')
v('bad', False, bytes([0xe1]) + bytes([2]) + token[1:] + nonce_bind +
  bind_box, 'token version 2')
v('bad', False, bytes([0xe1]) + token[:1] + bytes(32) + token[33:] +
  nonce_bind + bind_box, 'zero relay key')
v('bad', False, bytes([0xe1]) + token[:33] + bytes(16) + token[49:] +
  nonce_bind + bind_box, 'zero party id')
v('bad', False, bytes([0xe1]) + token[:49] + bytes(32) + token[81:] +
  nonce_bind + bind_box, 'zero node key')
v('bad', False, bytes([0xe7]) + txid + bytes(8), 'unknown type 0xe7')
v('bad', False, bytes([0xe0]), 'type 0xe0 alone')
v('bad', False, b'', 'nothing')
