#!/usr/bin/env python3
"""Test vectors for duet's byte formats, from an independent implementation.

Everything here is written from docs/protocol.md (section 1.1 channel
handshake, section 3 authentication, section 4 RecordEnvelope, section 5
pairing, safety number and key file) with PyNaCl (libsodium), hashlib's
BLAKE2b and the protobuf Python runtime; nothing calls duet's C++ code. The
C++ tests load the JSON files this script writes and must reproduce them.

    python3 tests/vectors/generate.py          # (re)write tests/vectors/*.json
    python3 tests/vectors/generate.py --check  # exit 1 if a checked-in file differs

Every input is fixed (see fixed() below): two runs write identical files.
The secretstream messages of channel.json use a fixed stream header and a
pure-Python crypto_secretstream_xchacha20poly1305_push (libsodium's init_push
draws its header at random), and each run checks them with libsodium's own
init_pull/pull, and checks the pure-Python push against libsodium's push
under a random header.

Needs: python3-nacl, python3-protobuf, protoc (Debian: python3-nacl
python3-protobuf protobuf-compiler).
"""

import os
import sys

try:
    import nacl.bindings as sodium  # noqa: F401
    import google.protobuf  # noqa: F401
except ImportError:
    # A python3 on PATH (pyenv, venv) may lack Debian's packages; use the
    # system interpreter that has them, once.
    system = "/usr/bin/python3"
    if os.environ.get("DUET_VECTORS_REEXEC") != "1" and os.path.exists(system):
        os.environ["DUET_VECTORS_REEXEC"] = "1"
        os.execv(system, [system] + sys.argv)
    sys.stderr.write("generate.py needs PyNaCl and protobuf: apt-get install python3-nacl "
                     "python3-protobuf protobuf-compiler\n")
    sys.exit(2)

import hashlib
import importlib
import json
import struct
import subprocess
import tempfile

import nacl.bindings as sodium

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# ----------------------------------------------------------------------------
# Small helpers


def hx(b):
    return bytes(b).hex()


def fixed(label, n):
    """A fixed test input: BLAKE2b-n of ASCII "duet test vector: " + label."""
    return hashlib.blake2b(b"duet test vector: " + label.encode(), digest_size=n).digest()


def b2b(n, data, key=b""):
    """BLAKE2b with an n-byte output (crypto_generichash), optionally keyed."""
    out = hashlib.blake2b(data, digest_size=n, key=key).digest()
    # Cross-check against libsodium's crypto_generichash.
    assert out == sodium.crypto_generichash_blake2b_salt_personal(data, digest_size=n, key=key)
    return out


def kdf(key, subkey_id, context, n):
    """crypto_kdf_derive_from_key(n, subkey_id, context, key)."""
    assert len(context) == 8 and len(key) == 32
    salt = struct.pack("<Q", subkey_id) + bytes(8)
    person = context + bytes(8)
    out = hashlib.blake2b(b"", digest_size=n, key=key, salt=salt, person=person).digest()
    assert out == sodium.crypto_generichash_blake2b_salt_personal(
        b"", digest_size=n, key=key, salt=salt, person=person)
    return out


def flip(b, index, mask=0x01):
    b = bytearray(b)
    b[index] ^= mask
    return bytes(b)


def x25519_public(secret):
    return sodium.crypto_scalarmult_base(secret)


def kx_server(server_pk, server_sk, client_pk):
    """crypto_kx in the server role: (rx, tx)."""
    rx, tx = sodium.crypto_kx_server_session_keys(server_pk, server_sk, client_pk)
    # Independently: BLAKE2b-512(q || client_pk || server_pk) = tx_server || rx_server.
    q = sodium.crypto_scalarmult(server_sk, client_pk)
    keys = hashlib.blake2b(q + client_pk + server_pk, digest_size=64).digest()
    assert (rx, tx) == (keys[32:], keys[:32])
    return rx, tx


def kx_client(client_pk, client_sk, server_pk):
    """crypto_kx in the client role: (rx, tx)."""
    rx, tx = sodium.crypto_kx_client_session_keys(client_pk, client_sk, server_pk)
    q = sodium.crypto_scalarmult(client_sk, server_pk)
    keys = hashlib.blake2b(q + client_pk + server_pk, digest_size=64).digest()
    assert (rx, tx) == (keys[:32], keys[32:])
    return rx, tx


def sign_keypair(seed):
    """Ed25519 from a 32-byte seed: (public 32, secret 64 = seed || public)."""
    pk, sk = sodium.crypto_sign_seed_keypair(seed)
    assert sk == seed + pk
    return pk, sk


def sign(sk, message):
    signature = sodium.crypto_sign(message, sk)[:64]
    assert sodium.crypto_sign_open(signature + message, sk[32:]) == message
    return signature


def verifies(pk, message, signature):
    try:
        sodium.crypto_sign_open(signature + message, pk)
        return True
    except Exception:
        return False


def aead_seal(key, nonce, ad, plaintext):
    return sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)


def aead_open(key, nonce, ad, ciphertext):
    try:
        return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, key)
    except Exception:
        return None


def pad(data, block):
    out = sodium.sodium_pad(data, block)
    # ISO/IEC 7816-4: 0x80 then zeros up to the next multiple (always >= 1 byte).
    mine = data + b"\x80" + bytes((block - (len(data) + 1) % block) % block)
    assert out == mine and len(out) % block == 0
    return out


def b64url(data):
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ----------------------------------------------------------------------------
# crypto_secretstream_xchacha20poly1305_push with a caller-chosen header, in
# pure Python (libsodium's init_push picks the header at random). Checked
# against libsodium below.

_M32 = 0xFFFFFFFF
_SIGMA = struct.unpack("<4I", b"expand 32-byte k")


def _rotl(v, c):
    return ((v << c) & _M32) | (v >> (32 - c))


def _quarter(x, a, b, c, d):
    x[a] = (x[a] + x[b]) & _M32
    x[d] = _rotl(x[d] ^ x[a], 16)
    x[c] = (x[c] + x[d]) & _M32
    x[b] = _rotl(x[b] ^ x[c], 12)
    x[a] = (x[a] + x[b]) & _M32
    x[d] = _rotl(x[d] ^ x[a], 8)
    x[c] = (x[c] + x[d]) & _M32
    x[b] = _rotl(x[b] ^ x[c], 7)


def _rounds(x):
    for _ in range(10):
        _quarter(x, 0, 4, 8, 12)
        _quarter(x, 1, 5, 9, 13)
        _quarter(x, 2, 6, 10, 14)
        _quarter(x, 3, 7, 11, 15)
        _quarter(x, 0, 5, 10, 15)
        _quarter(x, 1, 6, 11, 12)
        _quarter(x, 2, 7, 8, 13)
        _quarter(x, 3, 4, 9, 14)


def _chacha20_block(key, counter, nonce12):
    state = list(_SIGMA) + list(struct.unpack("<8I", key)) + [counter] + list(
        struct.unpack("<3I", nonce12))
    x = state[:]
    _rounds(x)
    return struct.pack("<16I", *[(x[i] + state[i]) & _M32 for i in range(16)])


def _hchacha20(key, nonce16):
    x = list(_SIGMA) + list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    _rounds(x)
    return struct.pack("<8I", *(x[0:4] + x[12:16]))


def _chacha20_xor(key, nonce12, counter, data):
    out = bytearray()
    for i in range(0, len(data), 64):
        stream = _chacha20_block(key, counter + i // 64, nonce12)
        out += bytes(a ^ b for a, b in zip(data[i:i + 64], stream))
    return bytes(out)


def _poly1305(key32, msg):
    r = int.from_bytes(key32[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = int.from_bytes(key32[16:], "little")
    p = (1 << 130) - 5
    acc = 0
    for i in range(0, len(msg), 16):
        acc = (acc + int.from_bytes(msg[i:i + 16] + b"\x01", "little")) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL


class SecretStreamPush:
    def __init__(self, key, header):
        assert len(key) == 32 and len(header) == 24
        self.k = _hchacha20(key, header[:16])
        self.counter = 1
        self.inonce = header[16:]

    def push(self, m, tag=TAG_MESSAGE):
        nonce = struct.pack("<I", self.counter) + self.inonce
        poly_key = _chacha20_block(self.k, 0, nonce)[:32]
        block = _chacha20_xor(self.k, nonce, 1, bytes([tag]) + bytes(63))
        c = _chacha20_xor(self.k, nonce, 2, m)
        # No associated data. libsodium pads the ciphertext part with
        # (0x10 - 64 + mlen) & 0xf zero bytes (sic), then the two lengths.
        mac_input = block + c + bytes((0x10 - 64 + len(m)) & 0xF)
        mac_input += struct.pack("<Q", 0) + struct.pack("<Q", 64 + len(m))
        mac = _poly1305(poly_key, mac_input)
        self.inonce = bytes(a ^ b for a, b in zip(self.inonce, mac[:8]))
        self.counter = (self.counter + 1) & _M32
        if tag & sodium.crypto_secretstream_xchacha20poly1305_TAG_REKEY or self.counter == 0:
            # TAG_FINAL includes TAG_REKEY: libsodium rekeys after it.
            nonce = struct.pack("<I", self.counter) + self.inonce
            fresh = _chacha20_xor(self.k, nonce, 0, self.k + self.inonce)
            self.k, self.inonce, self.counter = fresh[:32], fresh[32:], 1
        return block[:1] + c + mac


def stream_pull_all(key, header, ciphertexts):
    """libsodium's pull: [(plaintext, tag)], or None at the first failure."""
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header, key)
    out = []
    for c in ciphertexts:
        try:
            out.append(sodium.crypto_secretstream_xchacha20poly1305_pull(state, c, None))
        except Exception:
            return None
    return out


def self_test_secretstream():
    key = fixed("secretstream self-test key", 32)
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    mine = SecretStreamPush(key, header)
    for n in (0, 1, 15, 16, 17, 47, 48, 63, 64, 65, 200):
        m = fixed("secretstream self-test %d" % n, 64) * 4
        m = m[:n]
        tag = TAG_FINAL if n in (17, 200) else TAG_MESSAGE
        theirs = sodium.crypto_secretstream_xchacha20poly1305_push(state, m, None, tag)
        assert mine.push(m, tag) == theirs, "pure-Python secretstream differs at %d" % n


# ----------------------------------------------------------------------------
# Protobuf: compile the repository's .proto files at run time.


def load_protos(tmp):
    subprocess.run(["protoc", "-I", os.path.join(REPO, "proto"), "--python_out=" + tmp,
                    "duet/v1/wire.proto"], check=True)
    subprocess.run(["protoc", "-I", os.path.join(REPO, "client"), "--python_out=" + tmp,
                    "model/record.proto"], check=True)
    sys.path.insert(0, tmp)
    wire = importlib.import_module("duet.v1.wire_pb2")
    model = importlib.import_module("model.record_pb2")
    return wire, model


# ----------------------------------------------------------------------------
# The cast: fixed keys shared by the files so they tell one story (Alice
# creates an invite, Bob joins, Alice writes records, the relay in between).

ALICE_SIGN_SEED = fixed("alice sign seed", 32)
ALICE_KX_SECRET = fixed("alice kx secret", 32)
BOB_SIGN_SEED = fixed("bob sign seed", 32)
BOB_KX_SECRET = fixed("bob kx secret", 32)
RELAY_STATIC_SECRET = fixed("relay static secret", 32)
INVITE_SECRET = fixed("invite secret", 32)
RELAY_ADDRESS = "relay.example:7707"


def alice():
    pk, sk = sign_keypair(ALICE_SIGN_SEED)
    return pk, sk, x25519_public(ALICE_KX_SECRET)


def bob():
    pk, sk = sign_keypair(BOB_SIGN_SEED)
    return pk, sk, x25519_public(BOB_KX_SECRET)


# ----------------------------------------------------------------------------
# channel.json (section 1.1, and the section 3 authentication it enables)


def channel(wire):
    c = fixed("client ephemeral secret", 32)
    r = fixed("relay ephemeral secret", 32)
    s = RELAY_STATIC_SECRET
    C, R, S = x25519_public(c), x25519_public(r), x25519_public(s)
    client_hello = b"DUET\x01" + C
    assert len(client_hello) == 37
    server_hello_without_header = b"DUET\x01" + R + S
    assert len(server_hello_without_header) == 69

    # The relay's view (server role).
    ee_rx, ee_tx = kx_server(R, r, C)
    es_rx, es_tx = kx_server(S, s, C)
    # The client's view must be the same keys, swapped.
    cee_rx, cee_tx = kx_client(C, c, R)
    ces_rx, ces_tx = kx_client(C, c, S)
    assert (cee_tx, cee_rx, ces_tx, ces_rx) == (ee_rx, ee_tx, es_rx, es_tx)

    h = b2b(32, b"duet/v1/channel" + client_hello + R + S)
    okm = b2b(64, ee_rx + ee_tx + es_rx + es_tx, key=h)
    k_c2s, k_s2c = okm[:32], okm[32:]

    relay_header = fixed("relay stream header", 24)
    client_header = fixed("client stream header", 24)
    server_hello = server_hello_without_header + relay_header
    assert len(server_hello) == 93

    # Section 3 over the streams: hello, then authentication bound to h.
    device_pk, device_sk, _ = alice()
    challenge = fixed("server hello challenge", 32)
    auth_signed = b"duet/v1/auth" + h + challenge + S + device_pk
    assert len(auth_signed) == 140
    auth_signature = sign(device_sk, auth_signed)

    f1 = wire.Frame(request_id=1)
    f1.client_hello.min_version = 1
    f1.client_hello.max_version = 1
    f1.client_hello.agent = "duet/0.1"
    f2 = wire.Frame(request_id=2)
    f2.authenticate.device_key = device_pk
    f2.authenticate.signature = auth_signature
    client_plain = [f1.SerializeToString(), f2.SerializeToString()]

    g1 = wire.Frame(request_id=1)
    g1.server_hello.version = 1
    g1.server_hello.relay_key = S
    g1.server_hello.challenge = challenge
    g2 = wire.Frame(request_id=2)
    g2.auth_ok.couple_id = b""
    g2.auth_ok.latest_seq = 0
    relay_plain = [g1.SerializeToString(), g2.SerializeToString()]

    relay_push = SecretStreamPush(k_s2c, relay_header)
    relay_cts = [relay_push.push(m) for m in relay_plain]
    relay_final = relay_push.push(b"", TAG_FINAL)
    client_push = SecretStreamPush(k_c2s, client_header)
    client_cts = [client_push.push(m) for m in client_plain]
    client_final = client_push.push(b"", TAG_FINAL)

    # libsodium must open them, in the right direction only.
    assert stream_pull_all(k_s2c, relay_header, relay_cts + [relay_final]) == \
        [(m, TAG_MESSAGE) for m in relay_plain] + [(b"", TAG_FINAL)]
    assert stream_pull_all(k_c2s, client_header, client_cts + [client_final]) == \
        [(m, TAG_MESSAGE) for m in client_plain] + [(b"", TAG_FINAL)]
    assert stream_pull_all(k_c2s, relay_header, relay_cts[:1]) is None
    assert stream_pull_all(k_s2c, client_header, client_cts[:1]) is None

    bad_first = flip(relay_cts[0], 5)
    assert stream_pull_all(k_s2c, relay_header, [bad_first]) is None
    assert stream_pull_all(k_s2c, relay_header, relay_cts[1:2]) is None  # dropped frame

    return {
        "description": (
            "docs/protocol.md 1.1 channel handshake. Inputs: the three X25519 secrets (public "
            "keys = crypto_scalarmult_base). client_hello is message 1; server_hello_without_header "
            "the first 69 bytes of message 2 (DUET, 0x01, R, S); transcript_hash is h; "
            "ee_rx/ee_tx/es_rx/es_tx are the crypto_kx session keys in the relay's (server) roles; "
            "k_c2s = okm[0:32], k_s2c = okm[32:64]. The streams: a real sender's init_push draws "
            "its header at random, so these use the fixed relay_stream_header / "
            "client_stream_header (server_hello is message 2 with that header, "
            "client_stream_header is message 3) and were pushed by an independent pure-Python "
            "secretstream, checked against libsodium. A reader does init_pull(relay_stream_header, "
            "k_s2c) and pulls each relay_stream_messages ciphertext in order: each gives its "
            "plaintext with TAG_MESSAGE, then relay_stream_final gives an empty plaintext with "
            "TAG_FINAL; likewise client_* under k_c2s. Opening a relay message under k_c2s (or a "
            "client message under k_s2c) must fail. The plaintexts are serialized duet.v1.Frame "
            "messages of section 3 (ClientHello, ServerHello, Authenticate, AuthOk); "
            "auth_signed_bytes are the 140 bytes the device (Ed25519 seed device_sign_seed) signs. "
            "must_fail: ciphertexts that must not open at the given position of the given stream "
            "(a fresh init_pull, then the earlier messages of that stream, then this one)."),
        "client_ephemeral_secret": hx(c),
        "relay_ephemeral_secret": hx(r),
        "relay_static_secret": hx(s),
        "client_ephemeral_public": hx(C),
        "relay_ephemeral_public": hx(R),
        "relay_static_public": hx(S),
        "client_hello": hx(client_hello),
        "server_hello_without_header": hx(server_hello_without_header),
        "transcript_hash": hx(h),
        "ee_rx": hx(ee_rx),
        "ee_tx": hx(ee_tx),
        "es_rx": hx(es_rx),
        "es_tx": hx(es_tx),
        "k_c2s": hx(k_c2s),
        "k_s2c": hx(k_s2c),
        "relay_stream_header": hx(relay_header),
        "server_hello": hx(server_hello),
        "relay_stream_messages": [{"plaintext": hx(m), "ciphertext": hx(ct)}
                                  for m, ct in zip(relay_plain, relay_cts)],
        "relay_stream_final": hx(relay_final),
        "client_stream_header": hx(client_header),
        "client_stream_messages": [{"plaintext": hx(m), "ciphertext": hx(ct)}
                                   for m, ct in zip(client_plain, client_cts)],
        "client_stream_final": hx(client_final),
        "device_sign_seed": hx(ALICE_SIGN_SEED),
        "device_key": hx(device_pk),
        "challenge": hx(challenge),
        "auth_signed_bytes": hx(auth_signed),
        "auth_signature": hx(auth_signature),
        "must_fail": [
            {"why": "first relay->client ciphertext with one byte flipped",
             "stream": "relay", "position": 0, "ciphertext": hx(bad_first)},
            {"why": "second relay->client ciphertext offered first (a frame dropped)",
             "stream": "relay", "position": 0, "ciphertext": hx(relay_cts[1])},
            {"why": "a relay->client ciphertext in the client->relay stream (directions swapped)",
             "stream": "client", "position": 0, "ciphertext": hx(relay_cts[0])},
        ],
    }


# ----------------------------------------------------------------------------
# record.json (section 4)

def invite_keys(secret):
    return kdf(secret, 1, b"duetinv1", 16), kdf(secret, 2, b"duetinv1", 32), \
        kdf(secret, 3, b"duetinv1", 16)


def couple_key_from(secret, creator_kx_secret, joiner_kx_secret):
    a_pk, b_pk = x25519_public(creator_kx_secret), x25519_public(joiner_kx_secret)
    rx_a, tx_a = kx_server(a_pk, creator_kx_secret, b_pk)
    rx_b, tx_b = kx_client(b_pk, joiner_kx_secret, a_pk)
    assert rx_a == tx_b and tx_a == rx_b
    key = b2b(32, b"duet/v1/couple-key" + rx_a + tx_a, key=secret)
    assert key == b2b(32, b"duet/v1/couple-key" + tx_b + rx_b, key=secret)
    return key, rx_a, tx_a


def key_id(key):
    return b2b(16, b"duet/v1/key-id", key=key)[:8]


def envelope_ad(couple_id, record_id, author_key, kid):
    return b"duet/v1/record" + couple_id + record_id + author_key + kid


def seal_record(wire, body, key, author_pk, author_sk, couple_id, record_id, nonce):
    kid = key_id(key)
    padded = pad(body, 256)
    ad = envelope_ad(couple_id, record_id, author_pk, kid)
    ciphertext = aead_seal(key, nonce, ad, padded)
    signed = ad + nonce + ciphertext
    signature = sign(author_sk, signed)
    env = wire.RecordEnvelope(couple_id=couple_id, record_id=record_id, author_key=author_pk,
                              nonce=nonce, ciphertext=ciphertext, signature=signature, key_id=kid)
    return {
        "padded": padded, "ad": ad, "ciphertext": ciphertext, "signed": signed,
        "signature": signature, "hash": b2b(32, signed + signature),
        "envelope": env.SerializeToString(), "message": env,
    }


def envelope_bytes(wire, **fields):
    return wire.RecordEnvelope(**fields).SerializeToString()


def reader_accepts(wire, data, key, couple_id, trusted):
    """What a reader of section 4 does with a serialized envelope."""
    env = wire.RecordEnvelope()
    env.ParseFromString(data)
    # No fields but the seven: re-encoding the known fields must give the input back.
    known = envelope_bytes(wire, couple_id=env.couple_id, record_id=env.record_id,
                           author_key=env.author_key, nonce=env.nonce, ciphertext=env.ciphertext,
                           signature=env.signature, key_id=env.key_id)
    if known != data:
        return "unknown_field"
    if env.couple_id != couple_id:
        return "couple_id"
    if env.author_key not in trusted:
        return "author"
    signed = envelope_ad(env.couple_id, env.record_id, env.author_key, env.key_id) + env.nonce + \
        env.ciphertext
    if not verifies(env.author_key, signed, env.signature):
        return "signature"
    if env.key_id != key_id(key):
        return "key_id"
    padded = aead_open(key, env.nonce, envelope_ad(env.couple_id, env.record_id, env.author_key,
                                                   env.key_id), env.ciphertext)
    if padded is None:
        return "aead"
    return "ok"


def record(wire, model):
    couple_key, _, _ = couple_key_from(INVITE_SECRET, ALICE_KX_SECRET, BOB_KX_SECRET)
    _, _, couple_id = invite_keys(INVITE_SECRET)
    author_pk, author_sk, _ = alice()
    bob_pk = bob()[0]
    kid = key_id(couple_key)

    body1 = model.RecordBody(schema=1, created_at_ms=1764700000000, author_seq=1)
    body1.checkin.mood = 4
    body1.checkin.energy = 3
    body1.checkin.need = model.NEED_LISTEN
    body1.checkin.note = "long week, tea later"
    rid1, nonce1 = fixed("record 1 id", 16), fixed("record 1 nonce", 24)
    s1 = seal_record(wire, body1.SerializeToString(), couple_key, author_pk, author_sk, couple_id,
                     rid1, nonce1)

    body2 = model.RecordBody(schema=1, created_at_ms=1764700060000, author_seq=2,
                             prev_hash=s1["hash"])
    body2.thanks.text = "for the walk"
    rid2, nonce2 = fixed("record 2 id", 16), fixed("record 2 nonce", 24)
    s2 = seal_record(wire, body2.SerializeToString(), couple_key, author_pk, author_sk, couple_id,
                     rid2, nonce2)

    records = []
    for rid, nonce, body, s, fields in (
            (rid1, nonce1, body1, s1, {
                "schema": 1, "created_at_ms": 1764700000000, "author_seq": 1,
                "checkin": {"mood": 4, "energy": 3, "need": "NEED_LISTEN",
                            "note": "long week, tea later"}}),
            (rid2, nonce2, body2, s2, {
                "schema": 1, "created_at_ms": 1764700060000, "author_seq": 2,
                "prev_hash": hx(s1["hash"]), "thanks": {"text": "for the walk"}})):
        assert reader_accepts(wire, s["envelope"], couple_key, couple_id, [author_pk, bob_pk]) == "ok"
        assert aead_open(couple_key, nonce, s["ad"], s["ciphertext"]) == s["padded"]
        records.append({
            "record_id": hx(rid),
            "nonce": hx(nonce),
            "body": hx(body.SerializeToString()),
            "body_fields": fields,
            "padded_body": hx(s["padded"]),
            "associated_data": hx(s["ad"]),
            "ciphertext": hx(s["ciphertext"]),
            "signed_bytes": hx(s["signed"]),
            "signature": hx(s["signature"]),
            "envelope_hash": hx(s["hash"]),
            "envelope": hx(s["envelope"]),
        })

    e = s1["message"]
    base = dict(couple_id=e.couple_id, record_id=e.record_id, author_key=e.author_key,
                nonce=e.nonce, ciphertext=e.ciphertext, signature=e.signature, key_id=e.key_id)

    def variant(**changes):
        fields = dict(base)
        fields.update(changes)
        return envelope_bytes(wire, **fields)

    def resigned(**changes):
        fields = dict(base)
        fields.update(changes)
        signed = envelope_ad(fields["couple_id"], fields["record_id"], fields["author_key"],
                             fields["key_id"]) + fields["nonce"] + fields["ciphertext"]
        fields["signature"] = sign(author_sk, signed)
        return envelope_bytes(wire, **fields)

    other_key = fixed("another couple key", 32)
    other_sealed = seal_record(wire, body1.SerializeToString(), other_key, author_pk, author_sk,
                               couple_id, rid1, nonce1)["envelope"]
    # Field 99, length-delimited (tag (99 << 3) | 2 = 0x9a 0x06), 3 bytes of payload.
    unknown = s1["envelope"] + bytes([0x9A, 0x06, 0x03]) + b"pad"
    other_couple = fixed("another couple id", 16)

    must_fail = [
        ("ciphertext with one byte flipped", "signature",
         variant(ciphertext=flip(e.ciphertext, 40))),
        ("signature with one byte flipped", "signature", variant(signature=flip(e.signature, 10))),
        ("record_id changed (the signature covers it)", "signature",
         variant(record_id=flip(e.record_id, 0))),
        ("an extra unknown field (number 99) after the seven", "unknown_field", unknown),
        ("sealed, signed and named under another key (other_key); the reader holds only "
         "couple_key", "key_id", other_sealed),
        ("ciphertext with one byte flipped and signed again: the signature verifies, the AEAD "
         "does not", "aead", resigned(ciphertext=flip(e.ciphertext, 40))),
        ("nonce changed and signed again: the AEAD does not open", "aead",
         resigned(nonce=flip(e.nonce, 23))),
        ("couple_id of another couple, signed again", "couple_id",
         resigned(couple_id=other_couple)),
        ("key_id replaced by other_key's and signed again, ciphertext unchanged", "key_id",
         resigned(key_id=key_id(other_key))),
    ]
    for why, expect, data in must_fail:
        got = reader_accepts(wire, data, couple_key, couple_id, [author_pk, bob_pk])
        assert got == expect, (why, got)

    return {
        "description": (
            "docs/protocol.md 4: two records of one author chain (Alice) sealed under couple_key. "
            "key_id = BLAKE2b-128(key = couple_key, 'duet/v1/key-id')[0:8]. Per record: body is "
            "the serialized duet.model.v1.RecordBody (body_fields shows it), padded_body = "
            "sodium_pad(body, 256), associated_data = 'duet/v1/record' || couple_id || record_id "
            "|| author_key || key_id, ciphertext = XChaCha20-Poly1305-IETF(couple_key, nonce, "
            "associated_data, padded_body), signed_bytes = associated_data || nonce || ciphertext, "
            "signature = Ed25519(author, signed_bytes), envelope_hash = BLAKE2b-256(signed_bytes || "
            "signature) (unkeyed), envelope = serialized duet.v1.RecordEnvelope with the seven "
            "fields. Record 2's prev_hash is record 1's envelope_hash. must_fail: envelopes a reader "
            "holding couple_key, couple_id and trusting author_public (and partner_public) must "
            "refuse; expect names the first check that fails in the order shape/unknown fields, "
            "couple, author, signature, key_id, AEAD (that of client/sealing.cc)."),
        "couple_key": hx(couple_key),
        "couple_id": hx(couple_id),
        "author_seed": hx(ALICE_SIGN_SEED),
        "author_public": hx(author_pk),
        "partner_public": hx(bob_pk),
        "key_id": hx(kid),
        "other_key": hx(other_key),
        "other_key_id": hx(key_id(other_key)),
        "records": records,
        "must_fail": [{"why": why, "expect": expect, "envelope": hx(data)}
                      for why, expect, data in must_fail],
    }


# ----------------------------------------------------------------------------
# invite.json (section 5: code, KDF, sealed offer and answer)


def code_body(version, secret, relay_key, address, checksum=None):
    body = bytes([version]) + secret + relay_key + bytes([len(address)]) + address
    return body + (checksum if checksum is not None else b2b(16, body)[:4])


def parse_code(text):
    """A strict reader of section 5 (what must_fail entries must not get past)."""
    import base64
    import binascii
    if not text.startswith("duet1-"):
        return None
    rest = text[len("duet1-"):]
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    if not rest or any(ch not in alphabet for ch in rest) or len(rest) % 4 == 1:
        return None
    try:
        body = base64.urlsafe_b64decode(rest + "=" * (-len(rest) % 4))
    except binascii.Error:
        return None
    if b64url(body) != rest:  # non-canonical
        return None
    if len(body) < 66 + 1 + 4 or body[0] != 1:
        return None
    n = body[65]
    if n == 0 or len(body) != 66 + n + 4:
        return None
    if b2b(16, body[:-4])[:4] != body[-4:]:
        return None
    return body[1:33], body[33:65], body[66:66 + n]


def identity_bytes(model, name, sign_pk, kx_pk):
    return model.PairingIdentity(name=name, sign_key=sign_pk, kx_key=kx_pk).SerializeToString()


def invite(wire, model):
    secret = INVITE_SECRET
    relay_key = x25519_public(RELAY_STATIC_SECRET)
    address = RELAY_ADDRESS.encode()
    body = code_body(1, secret, relay_key, address)
    code = "duet1-" + b64url(body)
    assert parse_code(code) == (secret, relay_key, address)
    invite_id, seal_key, couple_id = invite_keys(secret)

    a_pk, _, a_kx = alice()
    b_pk, _, b_kx = bob()
    offer_identity = identity_bytes(model, "Alice", a_pk, a_kx)
    offer_nonce = fixed("offer nonce", 24)
    sealed_offer = offer_nonce + aead_seal(seal_key, offer_nonce, b"duet/v1/offer" + invite_id,
                                           offer_identity)
    answer_identity = identity_bytes(model, "Bob", b_pk, b_kx)
    answer_nonce = fixed("answer nonce", 24)
    sealed_answer = answer_nonce + aead_seal(seal_key, answer_nonce, b"duet/v1/answer" + invite_id,
                                             answer_identity)
    # Each is bound to its role.
    assert aead_open(seal_key, offer_nonce, b"duet/v1/answer" + invite_id, sealed_offer[24:]) is None
    assert aead_open(seal_key, answer_nonce, b"duet/v1/offer" + invite_id, sealed_answer[24:]) is None

    rest = code[len("duet1-"):]
    # The body is 88 bytes: its last base64 character carries 2 bits of data and 4 that must be 0.
    assert len(body) % 3 == 1
    last = rest[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    noncanonical = rest[:-1] + alphabet[alphabet.index(last) | 1]
    assert noncanonical != rest
    bad = [
        ("checksum wrong (one bit of the checksum flipped)",
         "duet1-" + b64url(flip(body, len(body) - 1))),
        ("a character of the secret changed (the checksum no longer matches)",
         "duet1-" + rest[:10] + ("A" if rest[10] != "A" else "B") + rest[11:]),
        ("truncated (the body without its last byte)", "duet1-" + b64url(body[:-1])),
        ("truncated text (the last 4 characters cut)", code[:-4]),
        ("wrong version byte (0x02, checksum recomputed)",
         "duet1-" + b64url(code_body(2, secret, relay_key, address))),
        ("bad base64: '+' (standard alphabet) in place of a character",
         "duet1-" + rest[:20] + "+" + rest[21:]),
        ("bad base64: padded with '=='", code + "=="),
        ("bad base64: non-canonical last character (stray low bits)", "duet1-" + noncanonical),
        ("wrong prefix duet2-", "duet2-" + rest),
        ("wrong prefix: upper case DUET1-", "DUET1-" + rest),
        ("no prefix", rest),
        ("relay address length 0 (checksum recomputed)",
         "duet1-" + b64url(code_body(1, secret, relay_key, b""))),
        ("relay address length byte says one more than there is (checksum recomputed)",
         "duet1-" + b64url((lambda b: b + b2b(16, b)[:4])(
             bytes([1]) + secret + relay_key + bytes([len(address) + 1]) + address))),
        ("one byte appended after the checksum",
         "duet1-" + b64url(body + b"\x00")),
        ("empty", ""),
    ]
    for why, text in bad:
        assert parse_code(text) is None, why

    return {
        "description": (
            "docs/protocol.md 5. code = 'duet1-' || base64url-nopad(0x01 || secret || relay_key "
            "|| len(relay_address) || relay_address || BLAKE2b-128(those bytes)[0:4]); code_body "
            "is the decoded body. invite_id, seal_key, couple_id = crypto_kdf_derive_from_key "
            "subkeys 1 (16 bytes), 2 (32), 3 (16) of secret with context 'duetinv1'. sealed_offer "
            "= offer_nonce || XChaCha20-Poly1305-IETF(seal_key, offer_nonce, 'duet/v1/offer' || "
            "invite_id, offer_identity), offer_identity a serialized duet.model.v1.PairingIdentity "
            "(Alice); sealed_answer likewise with AD 'duet/v1/answer' || invite_id (Bob). "
            "must_fail: code strings a reader must refuse as malformed (must_fail_explained gives "
            "the same strings, in the same order, with the reason). accepted_variants: the code "
            "with whitespace around it, which client/pairing.cc accepts (the spec says nothing)."),
        "secret": hx(secret),
        "relay_key": hx(relay_key),
        "relay_address": RELAY_ADDRESS,
        "code_body": hx(body),
        "checksum": hx(body[-4:]),
        "code": code,
        "invite_id": hx(invite_id),
        "seal_key": hx(seal_key),
        "couple_id": hx(couple_id),
        "offer_nonce": hx(offer_nonce),
        "offer_identity": hx(offer_identity),
        "offer_fields": {"name": "Alice", "sign_key": hx(a_pk), "kx_key": hx(a_kx)},
        "sealed_offer": hx(sealed_offer),
        "answer_nonce": hx(answer_nonce),
        "answer_identity": hx(answer_identity),
        "answer_fields": {"name": "Bob", "sign_key": hx(b_pk), "kx_key": hx(b_kx)},
        "sealed_answer": hx(sealed_answer),
        "accepted_variants": ["  " + code + "\n", "\t" + code + " \r\n"],
        "must_fail": [text for _, text in bad],
        "must_fail_explained": [{"why": why, "code": text} for why, text in bad],
    }


# ----------------------------------------------------------------------------
# couple_key.json (section 5 step 4)


def couple_key():
    key, rx_a, tx_a = couple_key_from(INVITE_SECRET, ALICE_KX_SECRET, BOB_KX_SECRET)
    return {
        "description": (
            "docs/protocol.md 5 step 4. The creator (A) takes the crypto_kx server role, the "
            "joiner (B) the client role; creator_rx/creator_tx are A's session keys (creator_rx = "
            "B's tx, creator_tx = B's rx); couple_key = BLAKE2b-256(key = secret, "
            "'duet/v1/couple-key' || creator_rx || creator_tx). Both sides must get couple_key. "
            "Public keys are crypto_scalarmult_base of the secrets. The same secret and keys as "
            "invite.json."),
        "secret": hx(INVITE_SECRET),
        "creator_kx_secret": hx(ALICE_KX_SECRET),
        "creator_kx_public": hx(x25519_public(ALICE_KX_SECRET)),
        "joiner_kx_secret": hx(BOB_KX_SECRET),
        "joiner_kx_public": hx(x25519_public(BOB_KX_SECRET)),
        "creator_rx": hx(rx_a),
        "creator_tx": hx(tx_a),
        "couple_key": hx(key),
    }


# ----------------------------------------------------------------------------
# safety_number.json (section 5 step 5)


def safety(a, b):
    lo, hi = min(a, b), max(a, b)  # bytes compare as unsigned, like memcmp
    h = b2b(32, b"duet/v1/safety" + lo + hi)
    groups = ["%05d" % (struct.unpack(">I", h[4 * i:4 * i + 4])[0] % 100000) for i in range(8)]
    return h, " ".join(groups)


def safety_number():
    key_a, key_b = alice()[0], bob()[0]
    h, number = safety(key_a, key_b)
    assert safety(key_b, key_a)[1] == number
    # A second pair: first bytes on both sides of 0x80 (a signed comparison
    # orders them the other way) and a group with a leading zero.
    i = 0
    while True:
        c = sign_keypair(fixed("safety c %d" % i, 32))[0]
        d = sign_keypair(fixed("safety d %d" % i, 32))[0]
        hc, nc = safety(c, d)
        if c[0] < 0x80 <= d[0] and any(g.startswith("0") for g in nc.split(" ")):
            break
        i += 1
    return {
        "description": (
            "docs/protocol.md 5 step 5. h = BLAKE2b-256('duet/v1/safety' || min(kA, kB) || "
            "max(kA, kB)), keys compared as unsigned bytes; group i = big-endian uint32 at h[4i] "
            "mod 100000, written as 5 decimal digits with leading zeros; the 8 groups joined by "
            "one ASCII space (47 characters; the separator is what client/pairing.cc writes, the "
            "spec does not name one). key_a/key_b are Alice's and Bob's Ed25519 public keys; "
            "more_cases adds a pair whose first bytes straddle 0x80 and whose number has a group "
            "with a leading zero."),
        "key_a": hx(key_a),
        "key_b": hx(key_b),
        "hash": hx(h),
        "safety_number": number,
        "safety_number_swapped": safety(key_b, key_a)[1],
        "more_cases": [{"key_a": hx(c), "key_b": hx(d), "hash": hx(hc), "safety_number": nc,
                        "seed_labels": ["safety c %d" % i, "safety d %d" % i]}],
    }


# ----------------------------------------------------------------------------
# keyfile.json (section 5, "The key file")

OPSLIMIT = sodium.crypto_pwhash_argon2id_OPSLIMIT_MIN   # 1
MEMLIMIT = sodium.crypto_pwhash_argon2id_MEMLIMIT_MIN   # 8192 bytes
KEYFILE_KEY = b"duet/v1/key-file"


def keyfile_checksum(covered):
    return b2b(32, covered, key=KEYFILE_KEY)


def plain_form(magic, flags, sign_sk, kx, local, couple, invite_secret, checksum=True):
    out = magic + bytes([flags]) + sign_sk + kx + local + couple + invite_secret
    return out + keyfile_checksum(out) if checksum else out


def locked_form(magic, opslimit, memlimit, salt, nonce, key, plain, checksum=True):
    out = magic + struct.pack(">QQ", opslimit, memlimit) + salt + nonce + \
        sodium.crypto_secretbox(plain, nonce, key)
    return out + keyfile_checksum(out) if checksum else out


def read_keyfile(data, passphrase):
    """A reader of the key file subsection: ('ok', plain body) or the failure kind."""
    magic = data[:8]
    sizes = {b"DUETKEY2": 233, b"DUETLCK2": 345, b"DUETKEY1": 201, b"DUETLCK1": 281}
    if magic not in sizes:
        return "not_a_key_file", None
    if len(data) != sizes[magic]:
        return "damaged", None
    v2 = magic.endswith(b"2")
    if v2:
        if keyfile_checksum(data[:-32]) != data[-32:]:
            return "damaged", None
        data = data[:-32]
    if magic.startswith(b"DUETLCK"):
        ops, mem = struct.unpack(">QQ", data[8:24])
        if not (sodium.crypto_pwhash_argon2id_OPSLIMIT_MIN <= ops <=
                sodium.crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE and
                sodium.crypto_pwhash_argon2id_MEMLIMIT_MIN <= mem <=
                sodium.crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE):
            return "damaged", None
        key = sodium.crypto_pwhash_alg(32, passphrase, data[24:40], ops, mem,
                                       sodium.crypto_pwhash_ALG_ARGON2ID13)
        try:
            data = sodium.crypto_secretbox_open(data[64:], data[40:64], key)
        except Exception:
            return "wrong_passphrase", None
        inner = b"DUETKEY2" if v2 else b"DUETKEY1"
        if data[:8] != inner or len(data) != sizes[inner]:
            return "damaged", None
        if v2:
            if keyfile_checksum(data[:-32]) != data[-32:]:
                return "damaged", None
            data = data[:-32]
    return "ok", data


def keyfile():
    sign_pk, sign_sk = sign_keypair(ALICE_SIGN_SEED)
    kx = ALICE_KX_SECRET
    local = fixed("alice local key", 32)
    ck, _, _ = couple_key_from(INVITE_SECRET, ALICE_KX_SECRET, BOB_KX_SECRET)
    zeros = bytes(32)
    passphrase = "correct horse battery"
    salt = fixed("key file salt", 16)
    box_nonce = fixed("key file box nonce", 24)
    box_nonce_v1 = fixed("key file v1 box nonce", 24)
    pw_key = sodium.crypto_pwhash_alg(32, passphrase.encode(), salt, OPSLIMIT, MEMLIMIT,
                                      sodium.crypto_pwhash_ALG_ARGON2ID13)

    plain = plain_form(b"DUETKEY2", 1, sign_sk, kx, local, ck, zeros)
    assert len(plain) == 233
    locked = locked_form(b"DUETLCK2", OPSLIMIT, MEMLIMIT, salt, box_nonce, pw_key, plain)
    assert len(locked) == 345
    plain_v1 = plain_form(b"DUETKEY1", 1, sign_sk, kx, local, ck, zeros, checksum=False)
    assert len(plain_v1) == 201
    locked_v1 = locked_form(b"DUETLCK1", OPSLIMIT, MEMLIMIT, salt, box_nonce_v1, pw_key, plain_v1,
                            checksum=False)
    assert len(locked_v1) == 281
    invite_plain = plain_form(b"DUETKEY2", 2, sign_sk, kx, local, zeros, INVITE_SECRET)

    body = plain[:201]
    assert read_keyfile(plain, None) == ("ok", body)
    assert read_keyfile(locked, passphrase.encode()) == ("ok", body)
    assert read_keyfile(plain_v1, None) == ("ok", body.replace(b"DUETKEY2", b"DUETKEY1", 1))
    assert read_keyfile(locked_v1, passphrase.encode())[0] == "ok"

    def relimit(ops, mem):
        out = b"DUETLCK2" + struct.pack(">QQ", ops, mem) + locked[24:-32]
        return out + keyfile_checksum(out)

    inner_damaged = locked_form(b"DUETLCK2", OPSLIMIT, MEMLIMIT, salt, box_nonce, pw_key,
                                flip(plain, 100))
    must_fail = [
        ("plain_file with one byte (offset 100, in the Ed25519 key) flipped", "damaged",
         flip(plain, 100), None),
        ("plain_file with one byte of its checksum flipped", "damaged", flip(plain, 232), None),
        ("plain_file truncated to 232 bytes", "damaged", plain[:-1], None),
        ("plain_file with one byte appended", "damaged", plain + b"\x00", None),
        ("locked_file with one byte (offset 200, in the sealed part) flipped: damage, never a "
         "wrong passphrase", "damaged", flip(locked, 200), passphrase),
        ("locked_file with opslimit OPSLIMIT_SENSITIVE + 1 (checksum recomputed): refused before "
         "the passphrase is asked", "damaged",
         relimit(sodium.crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE + 1, MEMLIMIT), None),
        ("locked_file with memlimit 2 * MEMLIMIT_SENSITIVE (checksum recomputed)", "damaged",
         relimit(OPSLIMIT, 2 * sodium.crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE), None),
        ("locked_file with opslimit 0, below OPSLIMIT_MIN (checksum recomputed; refused by "
         "client/keyfile.cc, the spec names only the upper bound)", "damaged",
         relimit(0, MEMLIMIT), None),
        ("locked_file whose sealed plain file has a byte flipped (outer checksum good, inner "
         "checksum wrong)", "damaged", inner_damaged, passphrase),
        ("locked_file opened with another passphrase", "wrong_passphrase", locked,
         "correct horse battery staple"),
    ]
    for why, expect, data, pw in must_fail:
        got = read_keyfile(data, pw.encode() if pw else None)[0]
        assert got == expect, (why, got)

    return {
        "description": (
            "docs/protocol.md 5, 'The key file'. plain_file (233 bytes) = 'DUETKEY2' || flags "
            "(0x01: couple key present) || sign_secret_key (64: seed || public, as libsodium "
            "stores it) || kx_secret || local_key || couple_key || 32 zero bytes (no invite "
            "secret) || BLAKE2b-256(key = 'duet/v1/key-file', all bytes before). passphrase_key = "
            "crypto_pwhash (argon2id13, 32 bytes) of the UTF-8 passphrase with salt, opslimit, "
            "memlimit (libsodium's argon2id minimums, accepted by a reader). locked_file (345) = "
            "'DUETLCK2' || opslimit (8, BE) || memlimit (8, BE) || salt || box_nonce || "
            "crypto_secretbox_easy(plain_file, box_nonce, passphrase_key) (MAC 16 || 233) || "
            "checksum. plain_file_v1 (201) = 'DUETKEY1' and the same body without checksum; "
            "locked_file_v1 (281) = 'DUETLCK1' form of it (box_nonce_v1, no checksums). "
            "plain_file_invite: flags 0x02 with invite_secret and no couple key. must_fail: files "
            "a reader must refuse; expect 'damaged' (reported as damage) or 'wrong_passphrase'; "
            "passphrase, when not null, is the one to offer."),
        "sign_seed": hx(ALICE_SIGN_SEED),
        "sign_secret_key": hx(sign_sk),
        "sign_public": hx(sign_pk),
        "kx_secret": hx(kx),
        "kx_public": hx(x25519_public(kx)),
        "local_key": hx(local),
        "couple_key": hx(ck),
        "invite_secret": hx(INVITE_SECRET),
        "flags": 1,
        "plain_file": hx(plain),
        "passphrase": passphrase,
        "salt": hx(salt),
        "opslimit": OPSLIMIT,
        "memlimit": MEMLIMIT,
        "passphrase_key": hx(pw_key),
        "box_nonce": hx(box_nonce),
        "locked_file": hx(locked),
        "plain_file_v1": hx(plain_v1),
        "box_nonce_v1": hx(box_nonce_v1),
        "locked_file_v1": hx(locked_v1),
        "plain_file_invite": hx(invite_plain),
        "must_fail": [{"why": why, "expect": expect, "file": hx(data), "passphrase": pw}
                      for why, expect, data, pw in must_fail],
    }


# ----------------------------------------------------------------------------


def generate():
    self_test_secretstream()
    with tempfile.TemporaryDirectory() as tmp:
        wire, model = load_protos(tmp)
        files = {
            "channel.json": channel(wire),
            "record.json": record(wire, model),
            "invite.json": invite(wire, model),
            "couple_key.json": couple_key(),
            "safety_number.json": safety_number(),
            "keyfile.json": keyfile(),
        }
    return {name: json.dumps(obj, indent=2) + "\n" for name, obj in files.items()}


def main():
    check = "--check" in sys.argv[1:]
    unknown = [a for a in sys.argv[1:] if a != "--check"]
    if unknown:
        sys.stderr.write("usage: generate.py [--check]\n")
        return 2
    files = generate()
    if check:
        for name, text in files.items():
            path = os.path.join(HERE, name)
            try:
                with open(path, encoding="utf-8") as f:
                    current = f.read()
            except OSError:
                current = None
            if current != text:
                print("tests/vectors/%s %s; run python3 tests/vectors/generate.py" %
                      (name, "is missing" if current is None else "differs from generate.py's output"))
                return 1
        return 0
    for name, text in files.items():
        with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
