"""The canonical encodings of `spec/` that an EVM adapter reads or writes.

Only what the plugin needs: packets (decoded to check them against their events), packet
keys and hashes, acknowledgement commitments, log entries (to strip the target binding a
gateway supplies itself), attested headers and EVM proofs. Every rule mirrors
`spec/encoding.md`: big-endian fixed-width integers, `u32`-length byte strings with caps,
and a whole-buffer decode that refuses trailing bytes, so one value has one encoding and
hashes computed here are the hub's.
"""

import hashlib
import struct

MAX_CHAIN_ID_LEN = 64
MAX_APP_ID_LEN = 64
MAX_PAYLOAD_BYTES = 65_536
MAX_RESULT_BYTES = 1_024

# Proof bounds the hub's decoder enforces (light-clients `evm::codec`) and the bound of
# one proof inside a relayer message (`spec::relay::MAX_PROOF_BYTES`).
MAX_PROOF_NODE_BYTES = 1_024
MAX_PROOF_NODES_PER_SECTION = 72
MAX_PROOF_BYTES = 32_768

TAG_PACKET = b"junction/packet/v1"
TAG_PACKET_KEY = b"junction/packet-key/v1"
TAG_ACK_COMMITMENT = b"junction/ack-commitment/v1"
TAG_TARGET_BINDING = b"junction/target-binding/v1"

KIND_PACKET = 1
KIND_ACK = 2
KIND_ERROR_ACK = 3
KIND_TIMEOUT = 4
KIND_SEQUENCE_SKIP = 5
# The council's retirement notice (the packet envelope carries it; spec/upgrades.md).
KIND_GATEWAY_RETIRED = 6

# The names the adapter protocol gives outcome kinds (`chain_outcomes`).
OUTCOME_NAMES = {KIND_ACK: "ack", KIND_ERROR_ACK: "error_ack", KIND_TIMEOUT: "timeout"}

_CHAIN_ID_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789._-")


class DecodeError(ValueError):
    """Bytes that are not the canonical encoding of the value asked for."""


def tagged_hash(tag, *parts):
    """`SHA256(SHA256(tag) || SHA256(tag) || parts...)` (spec/hashing.md)."""
    t = hashlib.sha256(tag).digest()
    h = hashlib.sha256(t + t)
    for p in parts:
        h.update(p)
    return h.digest()


def encode_u32(n):
    return struct.pack(">I", n)


def encode_u64(n):
    return struct.pack(">Q", n)


def encode_bytes(b):
    return encode_u32(len(b)) + bytes(b)


def check_chain_id(b):
    if not 1 <= len(b) <= MAX_CHAIN_ID_LEN or any(c not in _CHAIN_ID_BYTES for c in b):
        raise DecodeError("invalid chain id")


class Reader:
    """A bounds-checked cursor over one encoding."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def raw(self, n):
        if n > len(self.data) - self.pos:
            raise DecodeError("unexpected end of input")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self):
        return self.raw(1)[0]

    def u32(self):
        return struct.unpack(">I", self.raw(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.raw(8))[0]

    def u128(self):
        return int.from_bytes(self.raw(16), "big")

    def bytes_capped(self, cap):
        n = self.u32()
        if n > cap:
            raise DecodeError(f"length {n} exceeds the cap of {cap}")
        return self.raw(n)

    def chain_id(self):
        b = self.bytes_capped(MAX_CHAIN_ID_LEN)
        check_chain_id(b)
        return b.decode("ascii")

    def finish(self):
        if self.pos != len(self.data):
            raise DecodeError(f"{len(self.data) - self.pos} trailing bytes")


class Packet:
    """A decoded packet, with the exact bytes it came from (its canonical encoding)."""

    __slots__ = ("encoded", "source_chain", "source_app", "sequence", "dest_chain",
                 "dest_app", "payload", "timeout_height", "timeout_time_ms", "gas_limit", "fee")

    def key_bytes(self):
        return (encode_bytes(self.source_chain.encode()) + encode_bytes(self.source_app)
                + encode_bytes(self.dest_chain.encode()) + encode_u64(self.sequence))

    def key_hash(self):
        """The key the gateway stores the commitment and the receipt under."""
        return tagged_hash(TAG_PACKET_KEY, self.key_bytes())

    def hash(self):
        """The commitment the source gateway stores while the packet is pending."""
        return tagged_hash(TAG_PACKET, self.encoded)


def _read_packet(r):
    start = r.pos
    version = r.u8()
    if version != 1:
        raise DecodeError(f"packet version {version}")
    p = Packet()
    p.source_chain = r.chain_id()
    p.source_app = r.bytes_capped(MAX_APP_ID_LEN)
    p.sequence = r.u64()
    p.dest_chain = r.chain_id()
    p.dest_app = r.bytes_capped(MAX_APP_ID_LEN)
    p.payload = r.bytes_capped(MAX_PAYLOAD_BYTES)
    p.timeout_height = r.u64()
    p.timeout_time_ms = r.u64()
    p.gas_limit = r.u64()
    p.fee = r.u128()
    p.encoded = r.data[start:r.pos]
    return p


def packet_from_bytes(b):
    r = Reader(b)
    p = _read_packet(r)
    r.finish()
    return p


def ack_commitment(kind, result):
    """What a destination gateway stores once the packet ran (`Ack`) or its app reverted."""
    return tagged_hash(TAG_ACK_COMMITMENT, bytes([kind]) + encode_bytes(result))


def evm_target_binding(evm_chain_id, gateway):
    return tagged_hash(TAG_TARGET_BINDING, b"evm", encode_u64(evm_chain_id), gateway)


class LogEntry:
    __slots__ = ("target_binding", "kind", "target_chain", "ordered_from", "packet", "result",
                 "delivered")


def log_entry_from_bytes(b):
    """A full log entry. `delivered` is what a gateway takes: the encoding without the
    leading target binding, which the gateway puts back from its own identity."""
    r = Reader(b)
    e = LogEntry()
    e.target_binding = r.raw(32)
    e.kind = r.u8()
    if not KIND_PACKET <= e.kind <= KIND_GATEWAY_RETIRED:
        raise DecodeError(f"log entry kind {e.kind}")
    e.target_chain = r.chain_id()
    e.ordered_from = r.u64()
    e.packet = _read_packet(r)
    e.result = r.bytes_capped(MAX_RESULT_BYTES)
    r.finish()
    e.delivered = bytes(b[32:])
    return e


def encode_attested_header(chain_id, number, block_hash, parent_hash, state_root,
                           receipts_root, timestamp):
    """`AttestedHeader`: the fields an attester signs, in the hub's canonical encoding."""
    for h in (block_hash, parent_hash, state_root, receipts_root):
        assert len(h) == 32
    return (encode_u64(chain_id) + encode_u64(number) + block_hash + parent_hash + state_root
            + receipts_root + encode_u64(timestamp))


def encode_evm_proof(account_proof, storage_proof, receipt_proof=()):
    """`EvmProof`: three counted lists of trie nodes, each node a `u32`-length string."""
    out = bytearray()
    for section in (account_proof, storage_proof, receipt_proof):
        out += encode_u32(len(section))
        for node in section:
            out += encode_bytes(node)
    return bytes(out)


def decode_evm_proof(b):
    """The three sections of an `EvmProof`, with the hub decoder's bounds."""
    r = Reader(b)
    sections = []
    for _ in range(3):
        n = r.u32()
        if n > MAX_PROOF_NODES_PER_SECTION:
            raise DecodeError(f"{n} proof nodes, at most {MAX_PROOF_NODES_PER_SECTION}")
        sections.append([r.bytes_capped(MAX_PROOF_NODE_BYTES) for _ in range(n)])
    r.finish()
    return tuple(sections)
