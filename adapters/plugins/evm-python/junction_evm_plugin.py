#!/usr/bin/env python3
"""The reference adapter plugin for EVM chains in attested mode (`evm_attested`).

It speaks the out-of-process adapter protocol (`spec/adapter-protocol.md`): JSON-RPC 2.0
requests one per line on standard input, one answer line per request on standard output,
its log on standard error. It answers what the relayer needs from one EVM chain exactly as
the built-in adapter (`adapters/src/evm/adapter.rs`) does, and is trusted with as little:
headers go to the hub's attested client (the members' attesters sign them; the plugin sends
none, `relays_headers` is false), proofs to the same client, packets are checked against
their key and hash by the hub, and deliveries are judged by the gateway.

    junction_evm_plugin.py --chain evm-b --rpc http://127.0.0.1:8545 --evm-chain-id 31338 \
        --gateway 0x5fbd... --deploy-block 0 --sender-key-file sender.json

The sender key pays for deliveries and is trusted with nothing else.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import evm  # noqa: E402
import mpt  # noqa: E402
import spec_codec as sc  # noqa: E402
from node import Node, NodeError, check_loopback_url  # noqa: E402

PROTOCOL_VERSION = 1
KIND = "evm_attested"
CAPABILITIES = ["headers", "sent_packets", "prove_commitment", "prove_receipt",
                "prove_no_receipt", "receipts", "outcomes", "deliver", "fee_estimate",
                "gateway_set"]

# Bounds of spec §6 (and of the host, `adapters/src/plugin_adapter.rs`).
MAX_LINE_BYTES = 8 * 1024 * 1024
MAX_SAFE_INT = (1 << 53) - 1
MAX_RANGE = 10_000
MAX_ITEMS = 10_000
MAX_CLAIMS = 256
MAX_BATCHES = 16
MAX_BATCH_ENTRIES = 100  # what `adapter_hello` declares as `limits.max_batch`
MAX_SIGNATURES = 256
MAX_PATH_HASHES = 64

# Most blocks asked for in one `eth_getLogs` (nodes cap the range), as the Rust adapter.
LOG_RANGE = 10_000
# Storage proofs fetched in one `eth_getProof`.
SLOTS_PER_PROOF_REQUEST = 128
# Reads of the node sent in one JSON-RPC batch.
CALLS_PER_BATCH = 500
# One page of `chain_pendingPackets` examines at most this many sent packets and scans at
# most this many blocks, so that a page is answered well within its deadline however long
# the chain.
PENDING_PAGE_PACKETS = 2_000
PENDING_PAGE_BLOCKS = 1_000_000
# What an entry of a delivery needs besides its app's or callback's gas (calldata, the
# inclusion proof, the receipt, the events, the app's frame): the relayer's own figure.
ENTRY_OVERHEAD_GAS = 120_000
RECEIPT_POLL_SECONDS = 0.25

# Answer within the host's deadlines (§5: 5 s, 30 s, 120 s), leaving it a margin.
QUICK = 4.5
READ = 28.0
DELIVER = 115.0

JSONRPC_PARSE_ERROR = -32700
JSONRPC_INVALID_REQUEST = -32600
JSONRPC_METHOD_NOT_FOUND = -32601
JSONRPC_INVALID_PARAMS = -32602
JSONRPC_INTERNAL_ERROR = -32603
METHOD_ERROR = -32000

TOPIC_SENT = evm.topic(evm.EV_PACKET_SENT)
TOPIC_RECEIVED = evm.topic(evm.EV_PACKET_RECEIVED)
TOPIC_OUTCOME = evm.topic(evm.EV_OUTCOME_DELIVERED)
TOPIC_SKIPPED = evm.topic(evm.EV_ENTRY_SKIPPED)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class MethodError(Exception):
    """A method's own failure (§4), named."""

    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message

    def view(self):
        return {"name": self.name, "message": self.message}


class InvalidParams(Exception):
    """A request whose params are not what the method takes (JSON-RPC -32602)."""


class DeliveryError(Exception):
    """A batch that was not delivered: `{name, message, revert}` in its result, `revert`
    the gateway's error name for `gateway_revert` and empty otherwise."""

    def __init__(self, name, message, revert=""):
        super().__init__(f"{name}: {message}")
        self.view = {"name": name, "message": message, "revert": revert}


# ---------------------------------------------------------------------------------------
# Reading params: anything unexpected is the caller's error, never an exception here.

def p_int(params, name, nullable=False):
    v = params.get(name)
    if v is None and nullable:
        return None
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_SAFE_INT:
        raise InvalidParams(f"{name} must be a number from 0 to 2^53 - 1")
    return v


def p_hex(v, what, length=None, nonempty=False):
    if not isinstance(v, str):
        raise InvalidParams(f"{what} must be a hex string")
    s = v[2:] if v.startswith("0x") else v
    if len(s) % 2 or len(s) > 2 * MAX_LINE_BYTES:
        raise InvalidParams(f"{what} is not hex")
    try:
        b = bytes.fromhex(s)
    except ValueError:
        raise InvalidParams(f"{what} is not hex") from None
    if length is not None and len(b) != length:
        raise InvalidParams(f"{what} must be {length} bytes")
    if nonempty and not b:
        raise InvalidParams(f"{what} is empty")
    return b


def p_list(v, what, bound):
    if not isinstance(v, list):
        raise InvalidParams(f"{what} must be a list")
    if len(v) > bound:
        raise MethodError("too_large", f"{len(v)} {what}, at most {bound}")
    return v


def p_packet(v, what="packet"):
    try:
        return sc.packet_from_bytes(p_hex(v, what))
    except sc.DecodeError as e:
        raise InvalidParams(f"{what} is not a packet encoding: {e}") from None


# ---------------------------------------------------------------------------------------
# What the node answers, checked.

def quantity(v, what, bits=256):
    try:
        return evm.hex_quantity(v, what, bits)
    except evm.NodeDataError as e:
        raise NodeError(str(e)) from None


def data(v, what, length=None):
    try:
        b = evm.hex_data(v, what)
    except evm.NodeDataError as e:
        raise NodeError(str(e)) from None
    if length is not None and len(b) != length:
        raise NodeError(f"{what} is {len(b)} bytes, not {length}")
    return b


def safe(n, what):
    """A number the protocol can carry (below 2^53)."""
    if n > MAX_SAFE_INT:
        raise MethodError("rpc", f"{what} {n} is past 2^53")
    return n


def q(n):
    return hex(n)


def h(b):
    return "0x" + b.hex()


class Log:
    __slots__ = ("address", "topics", "data", "height", "tx_hash", "index")


def parse_log(raw):
    if not isinstance(raw, dict):
        raise NodeError("a log is not an object")
    lg = Log()
    lg.address = data(raw.get("address"), "log address", 20)
    topics = raw.get("topics")
    if not isinstance(topics, list) or len(topics) > 4:
        raise NodeError("log topics are not a list of at most 4")
    lg.topics = [data(t, "log topic", 32) for t in topics]
    lg.data = data(raw.get("data"), "log data")
    if raw.get("transactionHash") is None:
        raise NodeError("a log without its transaction hash")
    lg.tx_hash = data(raw.get("transactionHash"), "transaction hash", 32)
    if raw.get("blockNumber") is None:
        raise MethodError("malformed_event",
                          f"tx 0x{lg.tx_hash.hex()}: a log without a block number")
    lg.height = safe(quantity(raw.get("blockNumber"), "log block number", 64), "height")
    li = raw.get("logIndex")
    lg.index = quantity(li, "log index", 64) if li is not None else 0
    return lg


def malformed(lg, what):
    return MethodError("malformed_event", f"tx 0x{lg.tx_hash.hex()}: {what}")


def decode_event(lg, signature, topics):
    """The non-indexed fields of an event; `topics` is how many topics it has."""
    name = signature.partition("(")[0]
    if len(lg.topics) != topics:
        raise malformed(lg, f"{name} with {len(lg.topics)} topics")
    try:
        return evm.abi_decode(evm.EVENT_DATA[signature], lg.data)
    except evm.AbiError as e:
        raise malformed(lg, f"{name}: {e}") from None


def receipt_view(lg, height, tx_hash):
    app_succeeded, result, _gas = decode_event(lg, evm.EV_PACKET_RECEIVED, 2)
    if len(result) > sc.MAX_RESULT_BYTES:
        raise malformed(lg, "PacketReceived: result over the entry cap")
    kind = sc.KIND_ACK if app_succeeded else sc.KIND_ERROR_ACK
    return {"key": lg.topics[1].hex(), "app_succeeded": app_succeeded, "result": result.hex(),
            "ack_commitment": sc.ack_commitment(kind, result).hex(), "height": height,
            "tx_hash": tx_hash.hex()}


def outcome_view(lg, height, tx_hash):
    kind, callback_succeeded, callback_error = decode_event(lg, evm.EV_OUTCOME_DELIVERED, 2)
    name = sc.OUTCOME_NAMES.get(kind)
    if name is None:
        raise malformed(lg, f"OutcomeDelivered: kind {kind} is not an outcome")
    return {"key": lg.topics[1].hex(), "kind": name, "callback_succeeded": callback_succeeded,
            "callback_error": callback_error.hex(), "height": height, "tx_hash": tx_hash.hex()}


def revert_data(err):
    """The revert bytes a node's error carries (a string, or nested as `{data: ...}`)."""
    d = err.data
    for _ in range(3):
        if isinstance(d, dict):
            d = d.get("data")
    if isinstance(d, str) and d.startswith("0x") and len(d) % 2 == 0:
        try:
            return bytes.fromhex(d[2:])
        except ValueError:
            return None
    return None


# ---------------------------------------------------------------------------------------

class EvmPlugin:
    def __init__(self, chain, node, evm_chain_id, gateway, deploy_block, sender_key):
        self.chain = chain
        self.node = node
        self.evm_chain_id = evm_chain_id
        self.gateway = gateway
        self.deploy_block = deploy_block
        self.key = sender_key
        self.sender = evm.address_of(sender_key)
        self._last_nonce = None
        self.methods = {
            "adapter_hello": (self.adapter_hello, QUICK),
            "adapter_health": (self.adapter_health, QUICK),
            "chain_latestHeight": (self.chain_latest_height, QUICK),
            "chain_headerInfo": (self.chain_header_info, READ),
            "chain_headerUpdate": (self.chain_header_update, READ),
            "chain_sentPackets": (self.chain_sent_packets, READ),
            "chain_pendingPackets": (self.chain_pending_packets, READ),
            "chain_outcomes": (self.chain_outcomes, READ),
            "chain_receipts": (self.chain_receipts, READ),
            "chain_receipt": (self.chain_receipt, READ),
            "chain_prove": (self.chain_prove, READ),
            "chain_feeEstimate": (self.chain_fee_estimate, READ),
            "chain_gatewaySet": (self.chain_gateway_set, READ),
            "chain_deliver": (self.chain_deliver, DELIVER),
        }

    # -- the chain ------------------------------------------------------------------------

    def latest(self):
        return safe(quantity(self.node.call("eth_blockNumber", []), "block number", 64),
                    "height")

    def attested_header(self, height):
        """Block `height`'s attested fields, from its RLP header checked against the block
        hash the node reported (`checked_header_rlp` and `attest_from_rlp`)."""
        block = self.node.call("eth_getBlockByNumber", [q(height), False])
        if block is None:
            raise MethodError("block_not_found", f"the node has no block {height}")
        try:
            rlp = evm.header_rlp(block)
            number = evm.hex_quantity(block.get("number"), "number", 64)
            reported = evm.hex_data(block.get("hash"), "hash")
        except evm.NodeDataError as e:
            raise MethodError("invalid_header", f"block {height}: {e}") from None
        if number != height:
            raise MethodError("invalid_header",
                              f"block {height}: the node returned block {number}")
        computed = evm.keccak256(rlp)
        if computed != reported:
            raise MethodError("invalid_header",
                              f"block {height}: the node reports hash 0x{reported.hex()}, "
                              f"its header hashes to 0x{computed.hex()}")
        return {
            "number": number,
            "hash": computed,
            "parent_hash": bytes.fromhex(block["parentHash"][2:]),
            "state_root": bytes.fromhex(block["stateRoot"][2:]),
            "receipts_root": bytes.fromhex(block["receiptsRoot"][2:]),
            "timestamp": safe(evm.hex_quantity(block["timestamp"], "timestamp", 64), "time"),
        }

    def logs(self, topic0, topic1, frm, to):
        """The gateway's logs of one event (optionally with first indexed topic `topic1`)
        in blocks `frm..=to`, in chain order, asked for in ranges of LOG_RANGE."""
        out = []
        start = frm
        while start <= to:
            end = min(start + LOG_RANGE - 1, to)
            out.extend(self._logs_in(topic0, topic1, start, end))
            start = end + 1
        return out

    def _logs_in(self, topic0, topic1, start, end):
        topics = [h(topic0)] + ([h(topic1)] if topic1 is not None else [])
        flt = {"address": h(self.gateway), "topics": topics, "fromBlock": q(start),
               "toBlock": q(end)}
        try:
            raw = self.node.call("eth_getLogs", [flt])
        except NodeError as e:
            # Too many logs for one answer: ask for each half of the range.
            if e.too_large and end > start:
                mid = (start + end) // 2
                return (self._logs_in(topic0, topic1, start, mid)
                        + self._logs_in(topic0, topic1, mid + 1, end))
            raise
        if not isinstance(raw, list):
            raise NodeError("eth_getLogs did not answer a list")
        logs = []
        for r in raw:
            if isinstance(r, dict) and r.get("removed") is True:
                continue
            lg = parse_log(r)
            if lg.address != self.gateway or not lg.topics or lg.topics[0] != topic0:
                continue
            if not start <= lg.height <= end:
                raise NodeError(f"eth_getLogs answered a log of block {lg.height}, "
                                f"outside {start}..={end}")
            logs.append(lg)
        logs.sort(key=lambda lg: (lg.height, lg.index))
        return logs

    def sent_packet(self, lg):
        """A `PacketSent` log as a sent packet, checked against its key, hash, source
        chain, app and sequence."""
        sequence, packet_hash, packet_bytes = decode_event(lg, evm.EV_PACKET_SENT, 3)
        try:
            packet = sc.packet_from_bytes(packet_bytes)
        except sc.DecodeError as e:
            raise malformed(lg, f"PacketSent: {e}") from None
        if packet.key_hash() != lg.topics[1]:
            raise malformed(lg, "PacketSent: the packet's key hash is not the event's key")
        if packet.hash() != packet_hash:
            raise malformed(lg, "PacketSent: the packet's hash is not the event's packet hash")
        if packet.source_chain != self.chain:
            raise malformed(lg, "PacketSent: the packet's source chain is not this chain")
        app = lg.topics[2]
        if app[:12] != bytes(12) or packet.source_app != app[12:] or \
                packet.sequence != sequence:
            raise malformed(lg, "PacketSent: the packet's app or sequence is not the event's")
        return {"packet": packet.encoded.hex(), "height": lg.height,
                "tx_hash": lg.tx_hash.hex()}, packet

    def _ranged(self, params):
        """`from..=to` of a range question, bounded as asked (§3), then clamped to the
        deploy block (nothing of the gateway is older); refused when it reaches past the
        chain, so that a range is answered the same way every time."""
        frm, to = p_int(params, "from"), p_int(params, "to")
        if frm > to:
            return None
        if to - frm + 1 > MAX_RANGE:
            raise MethodError("too_large", f"heights {frm}..={to} span more than {MAX_RANGE}")
        latest = self.latest()
        if to > latest:
            raise MethodError("block_not_found",
                              f"height {to} is past the latest block {latest}")
        frm = max(frm, self.deploy_block)
        return (frm, to) if frm <= to else None

    # -- methods --------------------------------------------------------------------------

    def adapter_hello(self, params):
        versions = params.get("versions")
        if not isinstance(versions, list):
            raise InvalidParams("versions must be a list")
        chain = params.get("chain")
        if not isinstance(chain, str):
            raise InvalidParams("chain must be a string")
        if chain != self.chain:
            raise MethodError("plugin_identity",
                              f"this plugin serves chain {self.chain!r}, not {chain!r}")
        if PROTOCOL_VERSION not in versions:
            raise MethodError("plugin_version",
                              f"this plugin speaks version {PROTOCOL_VERSION}, "
                              f"not any of {versions}")
        return {
            "version": PROTOCOL_VERSION,
            "chain": self.chain,
            "kind": KIND,
            "capabilities": CAPABILITIES,
            "sequential_headers": False,
            # The members' attesters sign this chain's headers; the hub gathers them.
            "relays_headers": False,
            "is_destination": True,
            # The gateway's identity as the council registers it: its address.
            "gateway": self.gateway.hex(),
            "limits": {"max_batch": MAX_BATCH_ENTRIES},
        }

    def adapter_health(self, params):
        try:
            height = self.latest()
        except (NodeError, MethodError) as e:
            return {"ok": False, "latest_height": None, "detail": str(e)}
        return {"ok": True, "latest_height": height,
                "detail": f"EVM chain {self.evm_chain_id}, gateway 0x{self.gateway.hex()}"}

    def chain_latest_height(self, params):
        return {"height": self.latest()}

    def chain_header_info(self, params):
        hd = self.attested_header(p_int(params, "height"))
        return {"height": hd["number"], "time_secs": hd["timestamp"]}

    def chain_header_update(self, params):
        # An attested client takes any later header: there is nothing to build from the
        # trusted height, which is only checked for its shape.
        p_int(params, "trusted_height", nullable=True)
        hd = self.attested_header(p_int(params, "height"))
        update = sc.encode_attested_header(self.evm_chain_id, hd["number"], hd["hash"],
                                           hd["parent_hash"], hd["state_root"],
                                           hd["receipts_root"], hd["timestamp"])
        return {"height": hd["number"], "time_secs": hd["timestamp"], "update": update.hex()}

    def chain_sent_packets(self, params):
        r = self._ranged(params)
        if r is None:
            return {"packets": []}
        packets = [self.sent_packet(lg)[0] for lg in self.logs(TOPIC_SENT, None, *r)]
        return {"packets": self._bounded(packets, "packets")}

    def chain_outcomes(self, params):
        r = self._ranged(params)
        if r is None:
            return {"outcomes": []}
        out = [outcome_view(lg, lg.height, lg.tx_hash)
               for lg in self.logs(TOPIC_OUTCOME, None, *r)]
        return {"outcomes": self._bounded(out, "outcomes")}

    def chain_receipts(self, params):
        r = self._ranged(params)
        if r is None:
            return {"receipts": []}
        out = [receipt_view(lg, lg.height, lg.tx_hash)
               for lg in self.logs(TOPIC_RECEIVED, None, *r)]
        return {"receipts": self._bounded(out, "receipts")}

    @staticmethod
    def _bounded(items, what):
        if len(items) > MAX_ITEMS:
            raise MethodError("too_large",
                              f"{len(items)} {what} in the range, at most {MAX_ITEMS}: "
                              "ask for a shorter range")
        return items

    def chain_receipt(self, params):
        packet = p_packet(params.get("packet"))
        latest = self.latest()
        logs = self.logs(TOPIC_RECEIVED, packet.key_hash(), self.deploy_block, latest)
        if not logs:
            return {"receipt": None}
        lg = logs[-1]
        return {"receipt": receipt_view(lg, lg.height, lg.tx_hash)}

    def chain_pending_packets(self, params):
        """Every sent packet whose commitment the gateway still stores, rebuilt from the
        chain alone. All pages are read at the height of the first (`at` in the cursor),
        so that they add up to one consistent answer."""
        cursor = params.get("cursor")
        if cursor is None:
            at, block, skip = self.latest(), self.deploy_block, 0
        else:
            if not isinstance(cursor, dict):
                raise InvalidParams("cursor must be null or a cursor this plugin answered")
            at, block, skip = (p_int(cursor, "at"), p_int(cursor, "block"),
                               p_int(cursor, "skip"))
            if block < self.deploy_block or block > at + 1:
                raise InvalidParams("cursor is not one this plugin answered")
        examined = []  # (view, packet)
        next_cursor = None
        start, scanned = block, 0
        while start <= at and next_cursor is None:
            if scanned >= PENDING_PAGE_BLOCKS:
                next_cursor = {"at": at, "block": start, "skip": 0}
                break
            end = min(start + LOG_RANGE - 1, at)
            logs = self.logs(TOPIC_SENT, None, start, end)
            if start == block and skip:
                # The first `skip` packets of this block were on earlier pages.
                at_block = sum(1 for lg in logs if lg.height == block)
                logs = logs[min(skip, at_block):]
            for lg in logs:
                if len(examined) == PENDING_PAGE_PACKETS:
                    done = sum(1 for v, _ in examined if v["height"] == lg.height)
                    if lg.height == block:
                        done += skip
                    next_cursor = {"at": at, "block": lg.height, "skip": done}
                    break
                examined.append(self.sent_packet(lg))
            scanned += end - start + 1
            start = end + 1
        words = self._storage_words(
            [CLAIM_SLOTS["commitment"](p.key_hash()) for _, p in examined], at)
        pending = [v for (v, p), w in zip(examined, words) if w == p.hash()]
        return {"packets": pending, "next": next_cursor}

    def _storage_words(self, slots, height):
        """The gateway's storage words at `slots` at `height`, in batches."""
        out = []
        for i in range(0, len(slots), CALLS_PER_BATCH):
            chunk = slots[i:i + CALLS_PER_BATCH]
            answers = self.node.batch([("eth_getStorageAt", [h(self.gateway), h(s), q(height)])
                                       for s in chunk])
            for a in answers:
                if isinstance(a, NodeError):
                    raise a
                out.append(quantity(a, "storage word").to_bytes(32, "big"))
        return out

    def chain_prove(self, params):
        height = p_int(params, "height")
        claims = []
        for c in p_list(params.get("claims"), "claims", MAX_CLAIMS):
            if not isinstance(c, dict) or c.get("claim") not in CLAIM_SLOTS:
                raise InvalidParams("each claim is {claim: commitment | receipt | no_receipt, "
                                    "packet}")
            claims.append((c["claim"], p_packet(c.get("packet"))))
        if not claims:
            return {"results": []}
        header = self.attested_header(height)
        results = []
        for i in range(0, len(claims), SLOTS_PER_PROOF_REQUEST):
            results.extend(self._prove_chunk(header, claims[i:i + SLOTS_PER_PROOF_REQUEST]))
        return {"results": results}

    def _prove_chunk(self, header, claims):
        """One `eth_getProof` for the slots of `claims`; one result per claim (a claim the
        chain contradicts fails alone)."""
        height = header["number"]
        slots = [CLAIM_SLOTS[c](p.key_hash()) for c, p in claims]
        try:
            account_proof, found = self._storage_proofs(slots, height)
        except (NodeError, MethodError) as e:
            err = e.view() if isinstance(e, MethodError) else {"name": "rpc", "message": str(e)}
            return [{"error": err} for _ in claims]
        out = []
        for (claim, packet), slot, (word, storage_proof) in zip(claims, slots, found):
            try:
                check_claim(claim, packet, word, height)
                try:
                    mpt.check_storage(header["state_root"], self.gateway, slot, word,
                                      account_proof, storage_proof)
                except mpt.MptError as e:
                    raise MethodError("malformed_proof",
                                      f"the node's proof does not verify against block "
                                      f"{height}'s state root: {e}") from None
                out.append({"proof": {"height": height,
                                      "proof": proof_bytes(account_proof, storage_proof).hex()}})
            except MethodError as e:
                out.append({"error": e.view()})
        return out

    def _storage_proofs(self, slots, height):
        resp = self.node.call("eth_getProof",
                              [h(self.gateway), [h(s) for s in slots], q(height)])
        if not isinstance(resp, dict):
            raise NodeError("eth_getProof did not answer an object")
        address = data(resp.get("address"), "proof address", 20)
        if address != self.gateway:
            raise MethodError("malformed_proof",
                              f"proof of account 0x{address.hex()} instead of the gateway")
        account_proof = nodes(resp.get("accountProof"), "account proof")
        entries = resp.get("storageProof")
        if not isinstance(entries, list) or len(entries) != len(slots):
            raise MethodError("malformed_proof",
                              f"{len(entries) if isinstance(entries, list) else 'no'} "
                              f"storage proofs for {len(slots)} slots")
        found = []
        for slot, e in zip(slots, entries):
            if not isinstance(e, dict):
                raise MethodError("malformed_proof", "a storage proof is not an object")
            # Nodes answer the key as asked or as a quantity: compare the numbers.
            if quantity(e.get("key"), "storage key") != int.from_bytes(slot, "big"):
                raise MethodError("malformed_proof", "storage proof of another slot")
            word = quantity(e.get("value"), "storage value").to_bytes(32, "big")
            found.append((word, nodes(e.get("proof"), "storage proof")))
        return account_proof, found

    def chain_fee_estimate(self, params):
        p_int(params, "entries")
        block = self.node.call("eth_getBlockByNumber", ["latest", False])
        if not isinstance(block, dict):
            raise MethodError("block_not_found", "the node has no latest block")
        gas_limit = safe(quantity(block.get("gasLimit"), "gas limit", 64), "gas limit")
        # One delivery can use at most the block's gas limit, as the built-in adapter's
        # `delivery_budget`; the relayer packs batches under its share of it.
        return {"budget": gas_limit, "per_entry": ENTRY_OVERHEAD_GAS}

    def chain_gateway_set(self, params):
        # The hub attestation set the gateway holds: the relayer hands it over to the hub's
        # newer sets, one hand-over checkpoint after the other, when it is behind.
        word = self.node.call("eth_call", [{"to": h(self.gateway),
                                            "data": h(evm.selector("attestationSetHash()"))},
                                           "latest"])
        held = data(word, "attestationSetHash", 32)
        return {"attestation_set_hash": held.hex()}

    # -- deliveries -----------------------------------------------------------------------

    def chain_deliver(self, params):
        checkpoint = p_hex(params.get("checkpoint"), "checkpoint", nonempty=True)
        signatures = [p_hex(s, "signature", 65)
                      for s in p_list(params.get("signatures"), "signatures", MAX_SIGNATURES)]
        attestation_set = p_hex(params.get("attestation_set"), "attestation_set")
        next_set = p_hex(params.get("next_set"), "next_set")
        gas = p_int(params, "gas", nullable=True)
        batches = []
        for b in p_list(params.get("batches"), "batches", MAX_BATCHES):
            entries = []
            for e in p_list(b, "entries in a batch", MAX_BATCH_ENTRIES):
                if not isinstance(e, dict):
                    raise InvalidParams("each entry is {entry, index, path}")
                try:
                    entry = sc.log_entry_from_bytes(p_hex(e.get("entry"), "entry"))
                except sc.DecodeError as err:
                    raise InvalidParams(f"entry is not a log entry encoding: {err}") from None
                path = [p_hex(x, "path hash", 32)
                        for x in p_list(e.get("path"), "path hashes", MAX_PATH_HASHES)]
                entries.append((entry, p_int(e, "index"), path))
            batches.append(entries)
        if not batches:
            return {"results": []}
        calls = [evm.deliver_calldata(checkpoint, signatures, attestation_set, next_set,
                                      [(e.delivered, i, p) for e, i, p in b]) for b in batches]
        self._last_nonce = None
        try:
            fees = self._fees()
        except NodeError as e:
            err = DeliveryError("rpc", str(e)).view
            return {"results": [{"error": err} for _ in batches]}
        # In an ordered sequence space a later batch may depend on an earlier one's
        # sequence: each is mined before the next is estimated. Otherwise all are sent back
        # to back with consecutive nonces and mined together (one block, not one per batch).
        ordered = any(e.ordered_from != 0 for b in batches for e, _, _ in b)
        results = []
        if ordered or len(batches) < 2:
            for data_ in calls:
                try:
                    results.append(self._outcome(self._mined(self._send(data_, gas, fees))))
                except DeliveryError as e:
                    results.append({"error": e.view})
        else:
            sent = []
            for data_ in calls:
                try:
                    sent.append(self._send(data_, gas, fees))
                except DeliveryError as e:
                    sent.append(e)
            for s in sent:
                try:
                    if isinstance(s, DeliveryError):
                        raise s
                    results.append(self._outcome(self._mined(s)))
                except DeliveryError as e:
                    results.append({"error": e.view})
        return {"results": results}

    def _fees(self):
        block = self.node.call("eth_getBlockByNumber", ["latest", False])
        if not isinstance(block, dict):
            raise NodeError("the node has no latest block")
        if block.get("baseFeePerGas") is None:
            return ("legacy", quantity(self.node.call("eth_gasPrice", []), "gas price"))
        base = quantity(block["baseFeePerGas"], "base fee")
        try:
            tip = quantity(self.node.call("eth_maxPriorityFeePerGas", []), "priority fee")
        except NodeError:
            tip = 0
        # Twice the base fee covers six full blocks of base fee rises before inclusion.
        return ("eip1559", tip, 2 * base + tip)

    def _call_error(self, e, what):
        """A node's refusal of a call or a transaction: the gateway's named error when the
        node carries revert data, else `rpc`."""
        revert = revert_data(e)
        if revert is not None:
            name = evm.revert_name(revert) or "unknown"
            return DeliveryError("gateway_revert", f"{what}: the gateway refused: {e}", name)
        return DeliveryError("rpc", f"{what}: {e}")

    def _send(self, calldata, gas, fees):
        """Estimates (unless `gas` is given) and sends one `deliver`; its hash. The
        estimate runs the batch, so a refused one comes back here, before anything is
        sent, with the gateway's error."""
        if gas is None:
            tx = {"from": h(self.sender), "to": h(self.gateway), "data": h(calldata)}
            try:
                gas = quantity(self.node.call("eth_estimateGas", [tx]), "gas estimate", 64)
            except NodeError as e:
                raise self._call_error(e, "estimating the delivery") from None
        try:
            pending = quantity(self.node.call("eth_getTransactionCount",
                                              [h(self.sender), "pending"]), "nonce", 64)
        except NodeError as e:
            raise DeliveryError("rpc", f"reading the sender's nonce: {e}") from None
        # The node's pending count, unless it has not seen the batch just sent yet; a send
        # that failed takes no nonce, so no gap holds back later transactions.
        nonce = pending if self._last_nonce is None else max(pending, self._last_nonce + 1)
        if fees[0] == "legacy":
            raw, tx_hash = evm.sign_legacy(self.key, self.evm_chain_id, nonce, fees[1], gas,
                                           self.gateway, 0, calldata)
        else:
            raw, tx_hash = evm.sign_eip1559(self.key, self.evm_chain_id, nonce, fees[1],
                                            fees[2], gas, self.gateway, 0, calldata)
        try:
            answered = self.node.call("eth_sendRawTransaction", [h(raw)])
        except NodeError as e:
            raise self._call_error(e, "sending the delivery") from None
        if answered != h(tx_hash):
            log(f"the node named the delivery {answered}, its hash is {h(tx_hash)}")
        self._last_nonce = nonce
        log(f"sent a delivery: tx {h(tx_hash)} nonce {nonce} gas {gas}")
        return tx_hash

    def _mined(self, tx_hash):
        """The receipt of a sent transaction, once mined; a failed one is `tx_reverted`."""
        while True:
            try:
                receipt = self.node.call("eth_getTransactionReceipt", [h(tx_hash)])
            except NodeError as e:
                raise DeliveryError("rpc", f"waiting for tx {h(tx_hash)}: {e}") from None
            if receipt is not None:
                break
            left = self.node.deadline - time.monotonic() if self.node.deadline else 1
            if left < RECEIPT_POLL_SECONDS + 0.1:
                raise DeliveryError("rpc", f"tx {h(tx_hash)} was not mined before the deadline")
            time.sleep(RECEIPT_POLL_SECONDS)
        if not isinstance(receipt, dict):
            raise DeliveryError("rpc", "a receipt that is not an object")
        try:
            status = quantity(receipt.get("status"), "receipt status", 8)
        except NodeError as e:
            raise DeliveryError("rpc", str(e)) from None
        if status != 1:
            # The host reads the reverted transaction's hash from the message (§3).
            log(f"delivery tx {h(tx_hash)} was mined and reverted")
            raise DeliveryError("tx_reverted", tx_hash.hex())
        return receipt

    def _outcome(self, receipt):
        """What a mined `deliver` did, from its events (`deliver_outcome`)."""
        try:
            tx_hash = data(receipt.get("transactionHash"), "transaction hash", 32)
            if receipt.get("blockNumber") is None:
                raise NodeError("a mined receipt without a block number")
            height = safe(quantity(receipt["blockNumber"], "block number", 64), "height")
            gas_used = safe(quantity(receipt.get("gasUsed"), "gas used", 64), "gas used")
            raw_logs = receipt.get("logs")
            if not isinstance(raw_logs, list):
                raise NodeError("a receipt without logs")
            out = {"tx_hash": tx_hash.hex(), "height": height, "fee_used": gas_used,
                   "received": [], "outcomes": [], "skipped": []}
            for r in raw_logs:
                lg = parse_log(r)
                if lg.address != self.gateway or not lg.topics:
                    continue
                if lg.topics[0] == TOPIC_RECEIVED:
                    out["received"].append(receipt_view(lg, height, tx_hash))
                elif lg.topics[0] == TOPIC_OUTCOME:
                    out["outcomes"].append(outcome_view(lg, height, tx_hash))
                elif lg.topics[0] == TOPIC_SKIPPED:
                    index, reason = decode_event(lg, evm.EV_ENTRY_SKIPPED, 2)
                    out["skipped"].append({"index": safe(index, "skipped index"),
                                           "key": lg.topics[1].hex(),
                                           "reason": evm.revert_name(reason) or "unknown"})
        except NodeError as e:
            raise DeliveryError("rpc", str(e)) from None
        except MethodError as e:
            raise DeliveryError(e.name, e.message) from None
        log(f"delivered: tx 0x{tx_hash.hex()} in block {height}: {len(out['received'])} "
            f"received, {len(out['outcomes'])} outcomes, {len(out['skipped'])} skipped")
        return out


def mapping_slot(key, slot):
    """`keccak256(key || uint256(slot))`: where a Solidity mapping declared at `slot`
    stores `key` (the gateway's `commitments` at slot 0, `acks` at slot 1)."""
    return evm.keccak256(key + slot.to_bytes(32, "big"))


CLAIM_SLOTS = {
    "commitment": lambda key: mapping_slot(key, 0),
    "receipt": lambda key: mapping_slot(key, 1),
    "no_receipt": lambda key: mapping_slot(key, 1),
}


def check_claim(claim, packet, word, height):
    """Whether the word the slot holds is what the claim needs, as a named error."""
    key = packet.key_hash().hex()
    if claim == "commitment" and word != packet.hash():
        raise MethodError("not_committed", f"packet key 0x{key} has no commitment at height "
                                           f"{height} (found 0x{word.hex()})")
    if claim == "receipt" and word == bytes(32):
        raise MethodError("no_receipt", f"packet key 0x{key} has no receipt at height {height}")
    if claim == "no_receipt" and word != bytes(32):
        raise MethodError("receipt_exists",
                          f"packet key 0x{key} already has a receipt at height {height}")


def nodes(v, what):
    if not isinstance(v, list) or len(v) > mpt.MAX_PROOF_NODES:
        raise MethodError("malformed_proof", f"{what} is not a list of trie nodes")
    try:
        return [evm.hex_data(n, what) for n in v]
    except evm.NodeDataError as e:
        raise MethodError("malformed_proof", str(e)) from None


def proof_bytes(account_proof, storage_proof):
    """The proof as the hub's client takes it (`EvmProof::to_bytes`), within the bounds
    its decoder and a relayer message set."""
    b = sc.encode_evm_proof(account_proof, storage_proof, [])
    if len(b) > sc.MAX_PROOF_BYTES:
        raise MethodError("too_large", f"storage proof is {len(b)} bytes, more than the "
                                       f"{sc.MAX_PROOF_BYTES} a relayer message may carry")
    try:
        sc.decode_evm_proof(b)
    except sc.DecodeError as e:
        raise MethodError("malformed_proof", str(e)) from None
    return b


# ---------------------------------------------------------------------------------------
# The protocol loop.

def error_response(rid, code, message, name=None):
    err = {"code": code, "message": message}
    if name is not None:
        err["data"] = {"name": name}
    return {"jsonrpc": "2.0", "id": rid, "error": err}


def _reject_constant(c):
    raise ValueError(f"{c} is not JSON")


def handle_line(plugin, line):
    """The answer to one request line, or None for a notification."""
    try:
        req = json.loads(line.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        return error_response(None, JSONRPC_PARSE_ERROR, f"parse error: {e}")
    if not isinstance(req, dict):
        return error_response(None, JSONRPC_INVALID_REQUEST,
                              "a request is one JSON object (no batches)")
    rid = req.get("id")
    if "id" in req and (isinstance(rid, bool) or not isinstance(rid, (int, str, type(None)))):
        return error_response(None, JSONRPC_INVALID_REQUEST, "id must be a number or a string")
    method = req.get("method")
    if req.get("jsonrpc") != "2.0" or not isinstance(method, str):
        return error_response(rid, JSONRPC_INVALID_REQUEST,
                              "not a JSON-RPC 2.0 request (jsonrpc \"2.0\" and a method)")
    if "id" not in req:
        log(f"ignored a notification of {method[:64]!r}: every request needs an id")
        return None
    entry = plugin.methods.get(method)
    if entry is None:
        return error_response(rid, JSONRPC_METHOD_NOT_FOUND, f"no method {method[:64]!r}")
    params = req.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return error_response(rid, JSONRPC_INVALID_PARAMS, "params must be an object")
    handler, budget = entry
    plugin.node.deadline = time.monotonic() + budget
    try:
        result = handler(params)
    except InvalidParams as e:
        return error_response(rid, JSONRPC_INVALID_PARAMS, f"{method}: {e}")
    except MethodError as e:
        return error_response(rid, METHOD_ERROR, e.message, e.name)
    except NodeError as e:
        return error_response(rid, METHOD_ERROR, f"the node failed: {e}", "rpc")
    except Exception as e:  # a bug: say so, and keep serving
        log(f"internal error in {method}: {type(e).__name__}: {e}")
        return error_response(rid, JSONRPC_INTERNAL_ERROR, f"internal error: {e}")
    finally:
        plugin.node.deadline = None
    return {"jsonrpc": "2.0", "id": rid, "result": result}


def encode_response(resp):
    line = json.dumps(resp, separators=(",", ":")).encode()
    if len(line) > MAX_LINE_BYTES:
        line = json.dumps(error_response(
            resp.get("id"), METHOD_ERROR,
            f"the answer would be {len(line)} bytes, more than a line may carry",
            "too_large"), separators=(",", ":")).encode()
    return line + b"\n"


def serve(plugin, stdin, stdout):
    while True:
        line = stdin.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            # Drop the rest of the over-long line; it cannot be a request.
            while True:
                rest = stdin.readline(MAX_LINE_BYTES + 1)
                if not rest or rest.endswith(b"\n"):
                    break
            resp = error_response(None, JSONRPC_INVALID_REQUEST,
                                  f"a request line longer than {MAX_LINE_BYTES} bytes")
        else:
            line = line.rstrip(b"\n").rstrip(b"\r")
            if not line.strip():
                continue
            resp = handle_line(plugin, line)
            if resp is None:
                continue
        stdout.write(encode_response(resp))
        stdout.flush()


# ---------------------------------------------------------------------------------------
# Start.

class ConfigError(Exception):
    pass


def load_sender_key(path):
    """The key file `{"private_key", "address"}` (`AttestationKeyFile`), refused when others
    may read it or when the address is not the key's."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        raise ConfigError(f"sender key file {path}: {e}") from None
    if mode & 0o077:
        raise ConfigError(f"sender key file {path}: mode is {mode & 0o777:o}: others may read "
                          f"it; run `chmod 600 {path}`")
    try:
        with open(path, "rb") as f:
            raw = f.read(64 * 1024 + 1)
        if len(raw) > 64 * 1024:
            raise ValueError("the file is too large for a key file")
        k = json.loads(raw)
        secret = bytes.fromhex(k["private_key"].removeprefix("0x"))
        key = evm.load_private_key(secret)
        address = k["address"].lower().removeprefix("0x")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ConfigError(f"sender key file {path}: {e}") from None
    if evm.address_of(key).hex() != address:
        raise ConfigError(f"sender key file {path}: address {address} does not belong to the "
                          f"key (it is {evm.address_of(key).hex()})")
    return key


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Junction adapter plugin for an attested EVM chain "
                    "(spec/adapter-protocol.md on standard input and output).")
    ap.add_argument("--chain", required=True, help="the chain's id on the hub")
    ap.add_argument("--rpc", required=True, help="the node's JSON-RPC, http://127.0.0.1:<port>")
    ap.add_argument("--evm-chain-id", required=True, type=int, help="EIP-155 chain id")
    ap.add_argument("--gateway", required=True, help="the Junction gateway's address")
    ap.add_argument("--deploy-block", required=True, type=int,
                    help="the block the gateway was deployed in")
    ap.add_argument("--sender-key-file", required=True,
                    help="key file of the account paying for deliveries (mode 0600)")
    return ap.parse_args(argv)


def configure(args):
    try:
        sc.check_chain_id(args.chain.encode())
    except (sc.DecodeError, UnicodeEncodeError):
        raise ConfigError(f"--chain {args.chain!r} is not a chain id") from None
    try:
        check_loopback_url(args.rpc)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    if not 0 < args.evm_chain_id <= MAX_SAFE_INT:
        raise ConfigError("--evm-chain-id must be a positive number")
    if not 0 <= args.deploy_block <= MAX_SAFE_INT:
        raise ConfigError("--deploy-block must be a block number")
    g = args.gateway.lower().removeprefix("0x")
    try:
        gateway = bytes.fromhex(g)
    except ValueError:
        gateway = b""
    if len(gateway) != 20:
        raise ConfigError(f"--gateway {args.gateway!r} is not a 20-byte address")
    return gateway, load_sender_key(args.sender_key_file)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        gateway, key = configure(args)
    except ConfigError as e:
        log(f"refusing to start: {e}")
        return 2
    node = Node(args.rpc)
    # The first request (the hello) must be answered within 5 s.
    node.deadline = time.monotonic() + 3.0
    try:
        got = quantity(node.call("eth_chainId", []), "chain id", 64)
    except NodeError as e:
        log(f"cannot start: eth_chainId at {args.rpc}: {e}")
        return 1
    finally:
        node.deadline = None
    if got != args.evm_chain_id:
        log(f"refusing to start: the node at {args.rpc} is on EVM chain {got}, the plugin is "
            f"configured for {args.evm_chain_id}")
        return 2
    plugin = EvmPlugin(args.chain, node, args.evm_chain_id, gateway, args.deploy_block, key)
    log(f"serving {args.chain} (EVM chain {got}, gateway 0x{gateway.hex()}, sender "
        f"0x{plugin.sender.hex()})")
    try:
        serve(plugin, sys.stdin.buffer, sys.stdout.buffer)
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
