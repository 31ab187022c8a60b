#!/usr/bin/env python3
"""Writes the starting inputs of each fuzz target into tests/fuzz/corpus/.

Hand-encoded protobuf (varints and length-delimited fields), so it needs
nothing beyond Python itself. The fuzzers grow the corpus from these
(tests/fuzz/run); the record and key file seeds also take the test vectors
(tests/vectors/*.json) when they are there.
"""
import hashlib
import json
import os
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(ROOT, "corpus")
VECTORS = os.path.join(ROOT, "..", "vectors")


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(number, value):
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data)


def main():
    ping = field(1, 7) + field(19, b"")
    pull = field(1, 8) + field(17, field(1, 0) + field(2, 500))
    write("frame_codec", "ping", b"\x00" + struct.pack(">I", len(ping)) + ping)
    write("frame_codec", "two-frames", b"\x03" + struct.pack(">I", len(ping)) + ping + struct.pack(">I", len(pull)) + pull)
    write("frame_codec", "too-long", b"\x01" + struct.pack(">I", 1 << 31))

    write("handshake", "client-hello", b"DUET\x01" + bytes(range(32)))
    write("handshake", "server-hello", b"DUET\x01" + bytes(range(32)) + bytes(range(32, 64)) + bytes(24))

    checkin = field(1, 4) + field(2, 3) + field(3, 1) + field(4, b"long week")
    body = field(1, 1) + field(2, 1764700000000) + field(3, 1) + field(10, checkin)
    write("record", "checkin-body", body)
    thanks = field(1, 1) + field(2, 1764700060000) + field(3, 2) + field(4, bytes(32)) + field(26, field(1, b"for the walk"))
    write("record", "thanks-body", thanks)
    window = field(1, 31) + field(2, 1140) + field(3, 1260) + field(4, b"Europe/Berlin")
    write("record", "window-body", field(1, 1) + field(2, 1764700000000) + field(12, window))
    talk = field(1, 1800000000) + field(2, 20) + field(3, b"by the river") + field(5, b"Europe/Berlin")
    write("record", "talk-body", field(1, 1) + field(2, 1764700000000) + field(15, talk))
    envelope = (field(1, bytes(16)) + field(2, bytes(range(16))) + field(3, bytes(32)) + field(4, bytes(24)) +
                field(5, body) + field(6, bytes(64)) + field(7, bytes(8)))
    write("record", "envelope", envelope)

    secret, relay = bytes(range(1, 33)), bytes(range(33, 65))
    address = b"relay.example:7707"
    covered = b"\x01" + secret + relay + bytes([len(address)]) + address
    checksum = hashlib.blake2b(covered, digest_size=16).digest()[:4]
    import base64
    code = "duet1-" + base64.urlsafe_b64encode(covered + checksum).decode().rstrip("=")
    write("invite_code", "valid", code)
    write("invite_code", "spaces", "  " + code + "\n")
    write("invite_code", "wrong-prefix", "duet2-" + code[6:])

    for i, text in enumerate(["mon-fri 19:00-21:00", "sun-thu 22:00-07:00", "daily 12:00-13:00",
                              "2026-12-24", "2026-12-24 14:00-16:30", "2026-03-29 02:30", "90m", "2h",
                              "mon,wed,fri 07:30-08:00", "weekends 10:00-24:00"]):
        write("time_text", str(i), text)

    write("keyfile", "plain-v1-shape", b"DUETKEY1" + bytes(193))
    write("keyfile", "locked-v2-shape", b"DUETLCK2" + bytes(337))
    vectors = os.path.join(VECTORS, "keyfile.json")
    if os.path.exists(vectors):
        with open(vectors) as f:
            v = json.load(f)
        for key in ("plain_file", "locked_file", "plain_file_v1"):
            if key in v:
                write("keyfile", key, bytes.fromhex(v[key]))
    vectors = os.path.join(VECTORS, "record.json")
    if os.path.exists(vectors):
        with open(vectors) as f:
            v = json.load(f)
        for i, r in enumerate(v.get("records", [])):
            write("record", "vector-body-%d" % i, bytes.fromhex(r["body"]))
            write("record", "vector-envelope-%d" % i, bytes.fromhex(r["envelope"]))


if __name__ == "__main__":
    main()
