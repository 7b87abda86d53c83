"""Merkle-Patricia proof checks (EIP-1186), the same walk as the hub's light client
(`light-clients/src/evm/mpt.rs`).

The plugin checks every proof the node gives it against the header's state root before
answering: a proof the hub would refuse is a lying node or a bug, and is better named here
than found as a refused relay message. The rules are the hub's, including its strictness
(canonical RLP only, no unused nodes, a leaf never holds the empty value).
"""

from evm import keccak256

EMPTY_ROOT = bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
MAX_PROOF_NODES = 65
MAX_PROOF_TOTAL_BYTES = 8 * 1024 * 1024
MAX_KEY_BYTES = 32


class MptError(ValueError):
    """A proof the hub's walker would refuse."""


# ---------------------------------------------------------------------------------------
# Strict RLP.

def _item(buf, pos=0):
    """(is_list, payload, end) of the item at `pos`; every non-canonical length refused."""
    if pos >= len(buf):
        raise MptError("malformed RLP: unexpected end of input")
    b = buf[pos]
    if b < 0x80:
        return False, buf[pos:pos + 1], pos + 1
    if b <= 0xB7:
        is_list, head, n = False, 1, b - 0x80
    elif b <= 0xBF:
        is_list, head, n = False, 1 + (b - 0xB7), _long_len(buf, pos, b - 0xB7)
    elif b <= 0xF7:
        is_list, head, n = True, 1, b - 0xC0
    else:
        is_list, head, n = True, 1 + (b - 0xF7), _long_len(buf, pos, b - 0xF7)
    start = pos + head
    end = start + n
    if end > len(buf):
        raise MptError("malformed RLP: item runs past the input")
    payload = buf[start:end]
    if not is_list and n == 1 and payload[0] < 0x80:
        raise MptError("non-canonical RLP: single byte below 0x80 wrapped in a string")
    return is_list, payload, end


def _long_len(buf, pos, n):
    if n > 4:
        raise MptError("malformed RLP: length of length above 4 bytes")
    b = buf[pos + 1:pos + 1 + n]
    if len(b) != n:
        raise MptError("malformed RLP: length runs past the input")
    if b[0] == 0:
        raise MptError("non-canonical RLP: length with a leading zero")
    length = int.from_bytes(b, "big")
    if length < 56:
        raise MptError("non-canonical RLP: long length form below 56")
    return length


def _exact(buf):
    is_list, payload, end = _item(buf)
    if end != len(buf):
        raise MptError("malformed RLP: bytes after the item")
    return is_list, payload


def _split(payload, max_items):
    """The items of a list payload: (is_list, payload, encoded bytes) each."""
    out = []
    pos = 0
    while pos < len(payload):
        is_list, p, end = _item(payload, pos)
        if len(out) == max_items:
            raise MptError("invalid trie node: a node has 2 or 17 items")
        out.append((is_list, p, payload[pos:end]))
        pos = end
    return out


def rlp_list(buf):
    """A whole RLP list, nested lists as lists and strings as bytes (strict)."""
    is_list, payload = _exact(buf)
    if not is_list:
        raise MptError("not an RLP list")
    return _decode_list(payload)


def _decode_list(payload):
    out = []
    pos = 0
    while pos < len(payload):
        is_list, p, pos = _item(payload, pos)
        out.append(_decode_list(p) if is_list else bytes(p))
    return out


def _canonical_uint(is_list, payload, width):
    if is_list:
        raise MptError("invalid value: integer encoded as a list")
    if len(payload) > width:
        raise MptError("invalid value: integer too wide")
    if payload[:1] == b"\0":
        raise MptError("non-canonical: integer with a leading zero")
    return int.from_bytes(payload, "big")


# ---------------------------------------------------------------------------------------
# The walker.

def _nibble(b, i):
    return b[i // 2] >> 4 if i % 2 == 0 else b[i // 2] & 0x0F


def _child_ref(is_list, payload, encoded):
    if is_list:
        if len(encoded) < 32:
            return ("inline", encoded)
        raise MptError("invalid trie node: embedded child of 32 bytes or more must be hashed")
    if not payload:
        return ("empty", None)
    if len(payload) == 32:
        return ("hash", payload)
    raise MptError("invalid trie node: child reference is neither a hash nor a node")


def _walk(node, key, pos, branch_only):
    """Walks one proof node (and the nodes embedded in it) along `key` from nibble `pos`.
    Returns ("next", hash, branch_only, pos) or ("done", value or None, pos)."""
    key_nibbles = len(key) * 2
    while True:
        is_list, payload = _exact(node)
        if not is_list:
            raise MptError("invalid trie node: a node is a list")
        items = _split(payload, 17)
        if len(items) == 17:
            want = _nibble(key, pos) if pos < key_nibbles else None
            refs = [_child_ref(*it) for it in items[:16]]
            value_is_list, value, _ = items[16]
            if value_is_list:
                raise MptError("invalid trie node: branch value is a list")
            if want is None:
                return ("done", value or None, pos)
            kind, ref = refs[want]
            if kind == "empty":
                return ("done", None, pos)
            pos += 1
            if kind == "hash":
                return ("next", ref, False, pos)
            node, branch_only = ref, False
        elif len(items) == 2:
            if branch_only:
                raise MptError("non-canonical: an extension must point at a branch")
            (path_is_list, hp, _), second = items
            if path_is_list:
                raise MptError("invalid trie node: node path is a list")
            if not hp:
                raise MptError("invalid trie node: empty hex-prefix path")
            flag = hp[0] >> 4
            if flag > 3:
                raise MptError("invalid trie node: hex-prefix flag above 3")
            odd, leaf = flag & 1 == 1, flag & 2 == 2
            if not odd and hp[0] & 0x0F:
                raise MptError("non-canonical: even hex-prefix with a non-zero pad")
            skip = 1 if odd else 2
            path_len = len(hp) * 2 - skip
            if not leaf and path_len == 0:
                raise MptError("non-canonical: extension with an empty path")
            matches = pos + path_len <= key_nibbles and all(
                _nibble(hp, j + skip) == _nibble(key, pos + j) for j in range(path_len))
            second_is_list, second_payload, second_encoded = second
            if leaf:
                if second_is_list:
                    raise MptError("invalid trie node: leaf value is a list")
                if not second_payload:
                    raise MptError("non-canonical: leaf with an empty value")
                hit = matches and pos + path_len == key_nibbles
                return ("done", second_payload if hit else None, pos + path_len)
            kind, ref = _child_ref(second_is_list, second_payload, second_encoded)
            if kind == "empty":
                raise MptError("invalid trie node: extension without a child")
            if not matches:
                return ("done", None, pos)
            pos += path_len
            if kind == "hash":
                return ("next", ref, True, pos)
            node, branch_only = ref, True
        else:
            raise MptError("invalid trie node: a node has 2 or 17 items")


def verify_proof(root, key, proof):
    """The value stored under `key` in the trie of `root`, or None when the proof shows
    the key absent; MptError when the proof is not one the hub accepts."""
    if root == bytes(32):
        raise MptError("the root is zero")
    if len(key) > MAX_KEY_BYTES:
        raise MptError("key too long")
    if len(proof) > MAX_PROOF_NODES:
        raise MptError(f"{len(proof)} proof nodes, at most {MAX_PROOF_NODES}")
    if sum(len(n) for n in proof) > MAX_PROOF_TOTAL_BYTES:
        raise MptError("proof too large")
    if root == EMPTY_ROOT:
        if not proof or (len(proof) == 1 and proof[0] == b"\x80"):
            return None
        raise MptError("extra proof node" if proof[0] == b"\x80" else "root mismatch")
    expected, pos, branch_only = root, 0, False
    for index, node in enumerate(proof):
        if keccak256(node) != expected:
            raise MptError("root mismatch" if index == 0 else
                           f"proof node {index} does not hash to its parent's reference")
        step = _walk(node, key, pos, branch_only)
        if step[0] == "next":
            _, expected, branch_only, pos = step
            continue
        if index + 1 < len(proof):
            raise MptError(f"proof node {index + 1} is never used")
        return step[1]
    raise MptError(f"the proof stops before the key is resolved (node {len(proof)} missing)")


# ---------------------------------------------------------------------------------------
# Accounts and storage.

def account_storage_root(state_root, address, account_proof):
    """The storage root of `address` in the state of `state_root`, None when absent."""
    stored = verify_proof(state_root, keccak256(address), account_proof)
    if stored is None:
        return None
    is_list, payload = _exact(stored)
    if not is_list:
        raise MptError("invalid value: account is not a list")
    items = _split(payload, 4)
    if len(items) != 4:
        raise MptError("invalid value: account has 4 fields")
    _canonical_uint(items[0][0], items[0][1], 8)
    _canonical_uint(items[1][0], items[1][1], 32)
    for is_list_, p, _ in items[2:]:
        if is_list_ or len(p) != 32:
            raise MptError("invalid value: hash is not 32 bytes")
    return bytes(items[2][1])


def storage_word(storage_root, slot, storage_proof):
    """The word in `slot`; the zero word when the proof shows the slot absent."""
    stored = verify_proof(storage_root, keccak256(slot), storage_proof)
    if stored is None:
        return bytes(32)
    is_list, payload = _exact(stored)
    if not payload:
        raise MptError("non-canonical: zero stored in a storage slot")
    return _canonical_uint(is_list, payload, 32).to_bytes(32, "big")


def check_storage(state_root, address, slot, word, account_proof, storage_proof):
    """That `slot` of `address` holds `word` (the zero word: nothing) under `state_root`,
    by the rules of the hub's `verify_state` / `verify_state_absent`."""
    if word == bytes(32):
        root = account_storage_root(state_root, address, account_proof)
        if root is None:
            if storage_proof:
                raise MptError("the storage section must be empty for an absent account")
            return
        if storage_word(root, slot, storage_proof) != bytes(32):
            raise MptError("the slot holds a value")
        return
    if state_root in (bytes(32), EMPTY_ROOT):
        raise MptError("the state root is empty")
    root = account_storage_root(state_root, address, account_proof)
    if root is None:
        raise MptError("the account is absent from the state")
    if root in (bytes(32), EMPTY_ROOT):
        raise MptError("the account's storage is empty")
    if storage_word(root, slot, storage_proof) != word:
        raise MptError("the proven value differs from the claimed value")
