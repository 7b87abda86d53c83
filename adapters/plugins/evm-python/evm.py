"""What the plugin needs of Ethereum itself: keccak, RLP, the ABI of the gateway's calls,
events and errors, block headers and signed transactions.

The ABI coder is small on purpose: it covers the types the gateway's `deliver`, its events
and its errors use, and its decoder checks every offset and length against the data, since
log data comes from a node the plugin does not trust.
"""

from Crypto.Hash import keccak as _keccak
import coincurve

UINT256_MAX = (1 << 256) - 1


def keccak256(data):
    return _keccak.new(digest_bits=256, data=bytes(data)).digest()


# ---------------------------------------------------------------------------------------
# RLP (encoding; the proof walker in mpt.py reads RLP with its own strict rules).

def rlp_encode(item):
    """RLP of bytes, a non-negative int (minimal big-endian) or a list of those."""
    if isinstance(item, int) and not isinstance(item, bool):
        if item < 0:
            raise ValueError("RLP integers are non-negative")
        item = item.to_bytes((item.bit_length() + 7) // 8, "big")
    if isinstance(item, (bytes, bytearray)):
        item = bytes(item)
        if len(item) == 1 and item[0] < 0x80:
            return item
        return _rlp_length(len(item), 0x80) + item
    if isinstance(item, (list, tuple)):
        payload = b"".join(rlp_encode(x) for x in item)
        return _rlp_length(len(payload), 0xC0) + payload
    raise TypeError(f"cannot RLP-encode {type(item).__name__}")


def _rlp_length(n, offset):
    if n < 56:
        return bytes([offset + n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(b)]) + b


# ---------------------------------------------------------------------------------------
# ABI.

class AbiError(ValueError):
    """Data that is not the ABI encoding of the types asked for."""


def parse_type(s):
    """A canonical ABI type string as a tree: ("tuple", [..]), ("array", t), or a base
    type name (`bytes`, `bytes32`, `uint64`, `bool`, `address`, `string`)."""
    s = s.strip()
    if s.endswith("[]"):
        return ("array", parse_type(s[:-2]))
    if s.startswith("("):
        if not s.endswith(")"):
            raise ValueError(f"bad tuple type {s!r}")
        return ("tuple", [parse_type(t) for t in split_types(s[1:-1])])
    if s in ("bytes", "string", "bool", "address") or _uint_bits(s) or _fixed_bytes_len(s):
        return s
    raise ValueError(f"unsupported ABI type {s!r}")


def split_types(s):
    """Splits a comma-separated type list at the top level (not inside parentheses)."""
    if not s:
        return []
    out, depth, start = [], 0, 0
    for i, c in enumerate(s):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(s[start:i])
            start = i + 1
    out.append(s[start:])
    return out


def _uint_bits(t):
    if t.startswith("uint") and t[4:].isdigit():
        bits = int(t[4:])
        if 8 <= bits <= 256 and bits % 8 == 0:
            return bits
    return 0


def _fixed_bytes_len(t):
    if t.startswith("bytes") and t[5:].isdigit():
        n = int(t[5:])
        if 1 <= n <= 32:
            return n
    return 0


def _is_dynamic(t):
    if t in ("bytes", "string"):
        return True
    if isinstance(t, tuple):
        if t[0] == "array":
            return True
        return any(_is_dynamic(x) for x in t[1])
    return False


def _word(n):
    return n.to_bytes(32, "big")


def _encode(t, v):
    if isinstance(t, tuple):
        if t[0] == "array":
            return _word(len(v)) + _encode_seq([t[1]] * len(v), v)
        if len(v) != len(t[1]):
            raise ValueError("tuple arity")
        return _encode_seq(t[1], v)
    if t in ("bytes", "string"):
        b = v.encode() if isinstance(v, str) else bytes(v)
        return _word(len(b)) + b + b"\0" * (-len(b) % 32)
    if t == "bool":
        return _word(1 if v else 0)
    if t == "address":
        if len(v) != 20:
            raise ValueError("an address is 20 bytes")
        return b"\0" * 12 + bytes(v)
    bits = _uint_bits(t)
    if bits:
        if not 0 <= v < (1 << bits):
            raise ValueError(f"{v} does not fit {t}")
        return _word(v)
    n = _fixed_bytes_len(t)
    if len(v) != n:
        raise ValueError(f"{t} takes {n} bytes")
    return bytes(v) + b"\0" * (32 - n)


def _encode_seq(types, values):
    heads, tails = [], []
    head_len = 32 * len(types)
    tail_len = 0
    for t, v in zip(types, values):
        if _is_dynamic(t):
            enc = _encode(t, v)
            heads.append(_word(head_len + tail_len))
            tails.append(enc)
            tail_len += len(enc)
        else:
            heads.append(_encode(t, v))
    return b"".join(heads) + b"".join(tails)


def abi_encode(types, values):
    """The ABI encoding of `values` as the tuple of `types` (type strings)."""
    return _encode_seq([parse_type(t) for t in types], values)


def _static_size(t):
    if isinstance(t, tuple) and t[0] == "tuple":
        return sum(_static_size(x) for x in t[1])
    return 32


def _decode(t, data, pos, base):
    """The value of type `t` whose head is at `pos`; offsets are relative to `base`."""
    if _is_dynamic(t):
        start = base + _read_offset(data, pos)
        return _decode_at(t, data, start)
    return _decode_at(t, data, pos)


def _read_offset(data, pos):
    n = _read_word(data, pos)
    if n > len(data):
        raise AbiError("offset past the data")
    return n


def _read_word(data, pos):
    if pos < 0 or pos + 32 > len(data):
        raise AbiError("data too short")
    return int.from_bytes(data[pos:pos + 32], "big")


def _decode_at(t, data, pos):
    if isinstance(t, tuple):
        if t[0] == "array":
            n = _read_word(data, pos)
            if n > (len(data) - pos) // 32:
                raise AbiError("array longer than the data")
            return _decode_seq([t[1]] * n, data, pos + 32)
        return _decode_seq(t[1], data, pos)
    if t in ("bytes", "string"):
        n = _read_word(data, pos)
        if n + (-n % 32) > len(data) - pos - 32:
            raise AbiError("byte string (padded to a word) longer than the data")
        b = data[pos + 32:pos + 32 + n]
        return b.decode("utf-8") if t == "string" else bytes(b)
    w = _read_word(data, pos)
    if t == "bool":
        if w > 1:
            raise AbiError("bool word is not 0 or 1")
        return w == 1
    if t == "address":
        if w >> 160:
            raise AbiError("address word has high bits set")
        return w.to_bytes(20, "big")
    bits = _uint_bits(t)
    if bits:
        if w >> bits:
            raise AbiError(f"value does not fit {t}")
        return w
    n = _fixed_bytes_len(t)
    raw = data[pos:pos + 32]
    if any(raw[n:]):
        raise AbiError(f"{t} padding is not zero")
    return bytes(raw[:n])


def _decode_seq(types, data, pos):
    out = []
    head = pos
    for t in types:
        out.append(_decode(t, data, head, pos))
        head += 32 if _is_dynamic(t) else _static_size(t)
    return out


def abi_decode(types, data):
    """The values of the tuple of `types` (type strings) ABI-encoded in `data`."""
    try:
        return _decode_seq([parse_type(t) for t in types], bytes(data), 0)
    except UnicodeDecodeError as e:
        raise AbiError(f"string is not UTF-8: {e}") from None


def signature_parts(signature):
    """`name(type,...)` → (name, [type strings])."""
    name, _, rest = signature.partition("(")
    if not rest.endswith(")"):
        raise ValueError(f"bad signature {signature!r}")
    return name, split_types(rest[:-1])


def selector(signature):
    return keccak256(signature.encode())[:4]


def topic(signature):
    return keccak256(signature.encode())


def calldata(signature, values):
    _, types = signature_parts(signature)
    return selector(signature) + abi_encode(types, values)


# ---------------------------------------------------------------------------------------
# The gateway (`adapters/evm/artifacts/JunctionGateway.json`; test_plugin.py checks these
# against the artifact, so a change of the contract's ABI fails the tests, not a relayer).

DELIVER = "deliver((bytes,bytes[],bytes,bytes),(bytes,uint64,bytes32[])[])"

# Events: signature, then the names of the non-indexed fields (indexed ones are topics).
EV_PACKET_SENT = "PacketSent(bytes32,address,uint64,bytes32,bytes)"
EV_PACKET_RECEIVED = "PacketReceived(bytes32,bool,bytes,uint256)"
EV_OUTCOME_DELIVERED = "OutcomeDelivered(bytes32,uint8,bool,bytes)"
EV_ENTRY_SKIPPED = "EntrySkipped(uint256,bytes32,bytes)"

# Non-indexed fields of each event, in order.
EVENT_DATA = {
    EV_PACKET_SENT: ["uint64", "bytes32", "bytes"],
    EV_PACKET_RECEIVED: ["bool", "bytes", "uint256"],
    EV_OUTCOME_DELIVERED: ["uint8", "bool", "bytes"],
    EV_ENTRY_SKIPPED: ["uint256", "bytes"],
}

GATEWAY_ERRORS = [
    "AlreadyDelivered(bytes32)",
    "AppFrameFailed()",
    "AppReverted(bytes,uint256)",
    "AttestationSetMismatch(bytes32,bytes32)",
    "CheckpointOlder(uint64,uint64)",
    "CommitmentMismatch(bytes32)",
    "ConflictingCheckpoint(uint64)",
    "DuplicateSigner(address)",
    "GasLimitTooHigh(uint64,uint64)",
    "GatewayIsRetired(string)",
    "HighS(uint256)",
    "InclusionProofInvalid(uint256)",
    "InsufficientGasForApp(uint256,uint256)",
    "InsufficientPower(uint256,uint256)",
    "InvalidAck(uint256)",
    "InvalidAppId()",
    "InvalidAttestationSet(string)",
    "InvalidChainId()",
    "InvalidSignature(uint256)",
    "LogShrank(uint64,uint64)",
    "MalformedCheckpoint()",
    "MalformedEntry(uint256)",
    "MissingNextSet()",
    "NextSetMismatch(bytes32,bytes32)",
    "NoTimeout()",
    "OnlyGateway()",
    "OutOfOrder(bytes32,uint64,uint64)",
    "PacketNotPending(bytes32)",
    "PayloadTooLarge(uint256)",
    "Reentrant()",
    "TimeWentBackwards(uint64,uint64)",
    "TooManySignatures(uint256,uint256)",
    "UnexpectedNextSet()",
    "UnknownSigner(address)",
    "WrongAttestationSet(bytes32,bytes32)",
    "WrongHubChain()",
    "WrongTargetChain(uint256)",
]

ERROR_BY_SELECTOR = {selector(sig): sig.partition("(")[0] for sig in GATEWAY_ERRORS}


def revert_name(data):
    """The Solidity name of the gateway error a revert (or a skip reason) carries, or
    None when its selector is not one of the gateway's errors."""
    if data is None or len(data) < 4:
        return None
    return ERROR_BY_SELECTOR.get(bytes(data[:4]))


def deliver_calldata(checkpoint, signatures, attestation_set, next_set, entries):
    """`deliver(signed, entries)`; `entries` are (delivered entry bytes, leaf index,
    [32-byte path hashes])."""
    signed = (checkpoint, list(signatures), attestation_set, next_set)
    return calldata(DELIVER, [signed, [(e, i, list(p)) for e, i, p in entries]])


# ---------------------------------------------------------------------------------------
# Block headers.

# The header fields in RLP order with the JSON-RPC name and shape of each; the optional
# tail follows the forks (London, Shanghai, Cancun, Prague), and a field can be present only
# when every earlier one is, as `light-clients/src/evm/header.rs` decodes them.
HEADER_FIELDS = [
    ("parentHash", 32), ("sha3Uncles", 32), ("miner", 20), ("stateRoot", 32),
    ("transactionsRoot", 32), ("receiptsRoot", 32), ("logsBloom", 256), ("difficulty", "u256"),
    ("number", "u64"), ("gasLimit", "u64"), ("gasUsed", "u64"), ("timestamp", "u64"),
    ("extraData", "bytes"), ("mixHash", 32), ("nonce", 8),
]
HEADER_OPTIONAL = [
    ("baseFeePerGas", "u256"), ("withdrawalsRoot", 32), ("blobGasUsed", "u64"),
    ("excessBlobGas", "u64"), ("parentBeaconBlockRoot", 32), ("requestsHash", 32),
]
MAX_HEADER_BYTES = 16 * 1024
MAX_EXTRA_DATA_BYTES = 15 * 1024


class NodeDataError(ValueError):
    """A value the node served that is not what it should be: not hex data, a quantity
    out of range, a header field of the wrong shape."""


def hex_data(s, what):
    """A `0x` hex data string of the node → bytes."""
    if not isinstance(s, str) or not s.startswith("0x") or len(s) % 2:
        raise NodeDataError(f"{what} is not hex data")
    try:
        return bytes.fromhex(s[2:])
    except ValueError:
        raise NodeDataError(f"{what} is not hex data") from None


def hex_quantity(s, what, bits=256):
    """A `0x` hex quantity of the node → int below 2^bits."""
    if not isinstance(s, str) or not s.startswith("0x") or len(s) < 3 or len(s) > 66:
        raise NodeDataError(f"{what} is not a hex quantity")
    try:
        n = int(s[2:], 16)
    except ValueError:
        raise NodeDataError(f"{what} is not a hex quantity") from None
    if n >> bits:
        raise NodeDataError(f"{what} does not fit {bits} bits")
    return n


def _header_value(block, name, shape):
    v = block.get(name)
    if shape in ("u64", "u256"):
        return hex_quantity(v, name, 64 if shape == "u64" else 256)
    b = hex_data(v, name)
    if shape != "bytes" and len(b) != shape:
        raise NodeDataError(f"{name} is {len(b)} bytes, not {shape}")
    if shape == "bytes" and len(b) > MAX_EXTRA_DATA_BYTES:
        raise NodeDataError(f"extraData is {len(b)} bytes")
    return b


def header_rlp(block):
    """The canonical RLP of the header of a block as `eth_getBlockByNumber` returns it."""
    if not isinstance(block, dict):
        raise NodeDataError("the block is not an object")
    fields = [_header_value(block, n, s) for n, s in HEADER_FIELDS]
    missing = False
    for name, shape in HEADER_OPTIONAL:
        if block.get(name) is None:
            missing = True
            continue
        if missing:
            raise NodeDataError(f"{name} without the fields of the forks before it")
        fields.append(_header_value(block, name, shape))
    rlp = rlp_encode(fields)
    if len(rlp) > MAX_HEADER_BYTES:
        raise NodeDataError(f"the header is {len(rlp)} bytes")
    return rlp


# ---------------------------------------------------------------------------------------
# Keys and transactions.

def address_of(private_key):
    """The Ethereum address of a coincurve private key."""
    pub = private_key.public_key.format(compressed=False)
    return keccak256(pub[1:])[12:]


def load_private_key(secret):
    """A coincurve key from 32 secret bytes (refuses 0 and values past the curve order)."""
    if len(secret) != 32:
        raise ValueError("a secp256k1 secret is 32 bytes")
    return coincurve.PrivateKey(secret)


def _sign(private_key, digest):
    sig = private_key.sign_recoverable(digest, hasher=None)
    # libsecp256k1 signs with low S; the recovery id is the last byte.
    return int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64]


def sign_eip1559(private_key, chain_id, nonce, max_priority_fee, max_fee, gas, to, value,
                 data):
    """An EIP-1559 (type 2) transaction: (raw bytes, transaction hash)."""
    fields = [chain_id, nonce, max_priority_fee, max_fee, gas, to, value, data, []]
    unsigned = b"\x02" + rlp_encode(fields)
    r, s, y = _sign(private_key, keccak256(unsigned))
    raw = b"\x02" + rlp_encode(fields + [y, r, s])
    return raw, keccak256(raw)


def sign_legacy(private_key, chain_id, nonce, gas_price, gas, to, value, data):
    """An EIP-155 legacy transaction, for chains without a base fee."""
    fields = [nonce, gas_price, gas, to, value, data]
    r, s, y = _sign(private_key, keccak256(rlp_encode(fields + [chain_id, 0, 0])))
    raw = rlp_encode(fields + [chain_id * 2 + 35 + y, r, s])
    return raw, keccak256(raw)


def recover_sender(raw):
    """The address that signed a raw transaction of either kind (tests, and a check that
    a signature the plugin makes is its sender's)."""
    import mpt  # the strict RLP reader lives there
    if raw[:1] == b"\x02":
        items = mpt.rlp_list(raw[1:])
        if len(items) != 12:
            raise ValueError("an EIP-1559 transaction has 12 fields")
        digest = keccak256(b"\x02" + rlp_encode(items[:9]))
        y, r, s = (int.from_bytes(x, "big") for x in items[9:12])
    else:
        items = mpt.rlp_list(raw)
        if len(items) != 9:
            raise ValueError("a legacy transaction has 9 fields")
        v = int.from_bytes(items[6], "big")
        chain_id = (v - 35) // 2
        y = v - 35 - 2 * chain_id
        digest = keccak256(rlp_encode(items[:6] + [chain_id, 0, 0]))
        r, s = (int.from_bytes(x, "big") for x in items[7:9])
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([y])
    pub = coincurve.PublicKey.from_signature_and_message(sig, digest, hasher=None)
    return keccak256(pub.format(compressed=False)[1:])[12:]
