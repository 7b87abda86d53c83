"""Tests of the EVM adapter plugin's pure parts: canonical encodings, RLP, ABI, headers,
transactions, proofs, event decoding, and the protocol loop, with a scripted node.

    python3 -m unittest discover -s adapters/plugins/evm-python

`test_vectors.json` holds what other implementations produced, so that these tests compare
with them rather than with this plugin's own idea of the formats. It was captured from a
local testnet (`junction testnet start --evm 2`, anvil 1.7.1, gateways at their first
address): a block and its hash, a `PacketSent` log, the receipts of two `deliver`
transactions, an `eth_getProof` answer with the proof the built-in Rust adapter sent to the
hub for the same slot and height (taken from the hub's transaction), the gateway's own
`ackCommitment` and `hashPacket`, the hub's target bindings, and the calldata Solidity's
`abi.encodeCall(deliver, ...)` produces for fixed arguments.
"""

import io
import json
import os
import stat
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import evm  # noqa: E402
import junction_evm_plugin as plugin  # noqa: E402
import mpt  # noqa: E402
import spec_codec as sc  # noqa: E402
from node import NodeError, check_loopback_url  # noqa: E402

# The plugin's log is for its host; tests read answers.
plugin.log = lambda msg: None

with open(os.path.join(HERE, "test_vectors.json")) as f:
    V = json.load(f)

GATEWAY = bytes.fromhex("5fbdb2315678afecb367f032d93f642f64180aa3")
ARTIFACT = os.path.join(HERE, "..", "..", "evm", "artifacts", "JunctionGateway.json")
DEV_KEY = bytes.fromhex("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")


def b(hexstr):
    return bytes.fromhex(hexstr.removeprefix("0x"))


def golden_packet():
    """`packet_golden_bytes` of spec/tests/golden_bytes.rs."""
    return b("01" "00000007" "636861696e2d61" "00000003" "617070" "000000000000002a"
             "00000007" "636861696e2d62" "00000004" "62616e6b" "00000003" "010203"
             "00000000000003e8" "0000000000000000" "00000000000186a0"
             "000000000000000000000000000001f4")


class SpecCodec(unittest.TestCase):
    def test_the_golden_packet_decodes_and_hashes_as_the_spec_says(self):
        p = sc.packet_from_bytes(golden_packet())
        self.assertEqual((p.source_chain, p.source_app, p.sequence, p.dest_chain, p.dest_app),
                         ("chain-a", b"app", 42, "chain-b", b"bank"))
        self.assertEqual((p.payload, p.timeout_height, p.gas_limit, p.fee),
                         (b"\1\2\3", 1000, 100_000, 500))
        self.assertEqual(p.hash().hex(),
                         "e6a17186dea9c13c9f0efac31b42cd6671f8086767c604d2ad20cd2bd20e1699")

    def test_packet_hash_and_key_hash_agree_with_the_gateway(self):
        packet = sc.packet_from_bytes(b(V["proof"]["packet"]))
        want = b(V["hash_packet_from_gateway"])
        self.assertEqual(packet.hash(), want[:32])
        self.assertEqual(packet.key_hash(), want[32:])

    def test_a_packet_decoder_refuses_every_non_canonical_form(self):
        good = golden_packet()
        for bad in (good + b"\0", good[:-1], b"\x02" + good[1:],
                    good[:5] + b"Chain-a" + good[12:],  # outside the chain-id alphabet
                    good[:1] + b"\0\0\0\0" + good[12:]):  # an empty chain id
            with self.assertRaises(sc.DecodeError):
                sc.packet_from_bytes(bad)

    def test_ack_commitments_agree_with_the_gateway(self):
        for kind, result, want in V["ack_commitments"]:
            self.assertEqual(sc.ack_commitment(kind, b(result)).hex(), want)

    def test_target_bindings_agree_with_the_hub(self):
        self.assertEqual(sc.evm_target_binding(31337, GATEWAY).hex(), V["binding_evm_a"])
        self.assertEqual(sc.evm_target_binding(31338, GATEWAY).hex(), V["binding_evm_b"])

    def test_a_log_entry_is_delivered_without_its_binding(self):
        binding = b(V["binding_evm_b"])
        body = b"\x01" + sc.encode_bytes(b"chain-b") + sc.encode_u64(0) + golden_packet() \
            + sc.encode_bytes(b"")
        e = sc.log_entry_from_bytes(binding + body)
        self.assertEqual((e.kind, e.target_chain, e.ordered_from), (1, "chain-b", 0))
        self.assertEqual(e.delivered, body)
        # Kind 6 is the council's retirement notice, in the same envelope.
        notice = sc.log_entry_from_bytes(binding + b"\x06" + body[1:])
        self.assertEqual(notice.kind, sc.KIND_GATEWAY_RETIRED)
        for bad in (binding + body + b"\0", binding + b"\x07" + body[1:], body):
            with self.assertRaises(sc.DecodeError):
                sc.log_entry_from_bytes(bad)

    def test_an_attested_header_is_152_bytes_in_field_order(self):
        enc = sc.encode_attested_header(7, 9, b"\1" * 32, b"\2" * 32, b"\3" * 32, b"\4" * 32,
                                        1000)
        self.assertEqual(len(enc), 152)
        self.assertEqual(enc[:16], (7).to_bytes(8, "big") + (9).to_bytes(8, "big"))
        self.assertEqual(enc[16:144], b"\1" * 32 + b"\2" * 32 + b"\3" * 32 + b"\4" * 32)
        self.assertEqual(enc[144:], (1000).to_bytes(8, "big"))

    def test_an_evm_proof_round_trips_within_the_hub_decoders_bounds(self):
        proof = sc.encode_evm_proof([b"\1" * 100, b"\2" * 532], [b"\3" * 40])
        self.assertEqual(proof[:8], b"\0\0\0\2\0\0\0\x64")
        self.assertEqual(sc.decode_evm_proof(proof), ([b"\1" * 100, b"\2" * 532], [b"\3" * 40], []))
        with self.assertRaises(sc.DecodeError):
            sc.decode_evm_proof(sc.encode_evm_proof([b"\0" * 1025], []))
        with self.assertRaises(sc.DecodeError):
            sc.decode_evm_proof(sc.encode_evm_proof([b"\0"] * 73, []))


class Rlp(unittest.TestCase):
    def test_the_yellow_paper_examples(self):
        self.assertEqual(evm.rlp_encode(b"dog").hex(), "83646f67")
        self.assertEqual(evm.rlp_encode([b"cat", b"dog"]).hex(), "c88363617483646f67")
        self.assertEqual(evm.rlp_encode(b""), b"\x80")
        self.assertEqual(evm.rlp_encode([]), b"\xc0")
        self.assertEqual(evm.rlp_encode(0), b"\x80")
        self.assertEqual(evm.rlp_encode(15), b"\x0f")
        self.assertEqual(evm.rlp_encode(1024).hex(), "820400")
        self.assertEqual(evm.rlp_encode([[], [[]], [[], [[]]]]).hex(), "c7c0c1c0c3c0c1c0")
        self.assertEqual(evm.rlp_encode(b"a" * 56)[:2].hex(), "b838")

    def test_the_strict_reader_refuses_non_canonical_rlp(self):
        self.assertEqual(mpt.rlp_list(b(("c88363617483646f67"))), [b"cat", b"dog"])
        for bad in ("c28101",  # a single byte below 0x80 wrapped in a string
                    "c9b8036361748363",  # a long length below 56
                    "c88363617483646f6700",  # trailing bytes
                    "c9836361748364"):  # runs past the input
            with self.assertRaises(mpt.MptError):
                mpt.rlp_list(b(bad))


class Abi(unittest.TestCase):
    def test_deliver_calldata_is_what_solidity_encodes(self):
        def fill(n, seed):
            return bytes((seed + i) & 0xFF for i in range(n))
        got = evm.deliver_calldata(
            fill(37, 1), [fill(65, 0x10), fill(65, 0x80)], fill(3, 0xAA), b"",
            [(fill(100, 0x20), 5, [evm.keccak256(b"a"), evm.keccak256(b"b")]),
             (fill(1, 0xFF), 2 ** 64 - 1, [])])
        self.assertEqual(got.hex(), V["deliver_calldata"])
        self.assertEqual(got[:4], evm.selector(evm.DELIVER))

    def test_decoding_checks_offsets_lengths_and_words(self):
        data = evm.abi_encode(["bool", "bytes", "uint256"], [True, b"xyz", 7])
        self.assertEqual(evm.abi_decode(["bool", "bytes", "uint256"], data), [True, b"xyz", 7])
        for types, bad in (
                (["bool", "bytes", "uint256"], b"\0" * 31 + b"\2" + data[32:]),
                (["bool", "bytes", "uint256"],
                 data[:32] + (10 ** 6).to_bytes(32, "big") + data[64:]),
                (["bool", "bytes", "uint256"], data[:-1]),
                (["uint8"], (256).to_bytes(32, "big")),
                (["address"], b"\1" + b"\0" * 31)):
            with self.assertRaises(evm.AbiError):
                evm.abi_decode(types, bad)

    @unittest.skipUnless(os.path.exists(ARTIFACT), "the gateway artifact is not beside the plugin")
    def test_the_gateways_signatures_are_those_of_its_artifact(self):
        with open(ARTIFACT) as f:
            abi = json.load(f)["abi"]

        def sig(item):
            def t(i):
                if i["type"].startswith("tuple"):
                    return "(" + ",".join(t(c) for c in i["components"]) + ")" + i["type"][5:]
                return i["type"]
            return f"{item['name']}({','.join(t(i) for i in item['inputs'])})"
        errors = sorted(sig(x) for x in abi if x["type"] == "error")
        self.assertEqual(errors, sorted(evm.GATEWAY_ERRORS))
        events = {sig(x): x for x in abi if x["type"] == "event"}
        for s, data_types in evm.EVENT_DATA.items():
            self.assertIn(s, events)
            self.assertEqual([i["type"] for i in events[s]["inputs"] if not i["indexed"]],
                             data_types)
        functions = {sig(x) for x in abi if x["type"] == "function"}
        self.assertIn(evm.DELIVER, functions)

    def test_revert_names_come_from_the_selector(self):
        self.assertEqual(evm.revert_name(evm.selector("AlreadyDelivered(bytes32)") + b"\0" * 32),
                         "AlreadyDelivered")
        self.assertIsNone(evm.revert_name(b"\xde\xad\xbe\xef"))
        self.assertIsNone(evm.revert_name(b"\x01"))


class Headers(unittest.TestCase):
    def test_a_blocks_header_rlp_hashes_to_its_hash(self):
        block = V["block"]
        self.assertEqual(evm.keccak256(evm.header_rlp(block)), b(block["hash"]))

    def test_a_changed_or_misshapen_field_changes_or_refuses_the_header(self):
        block = dict(V["block"])
        block["timestamp"] = hex(int(block["timestamp"], 16) + 1)
        self.assertNotEqual(evm.keccak256(evm.header_rlp(block)), b(block["hash"]))
        for field, value in (("stateRoot", "0x00"), ("number", "0x"), ("nonce", "0x00"),
                             ("extraData", "zz")):
            bad = dict(V["block"], **{field: value})
            with self.assertRaises(evm.NodeDataError, msg=field):
                evm.header_rlp(bad)
        # A fork's field without the earlier forks' fields has no canonical encoding.
        gap = dict(V["block"])
        del gap["withdrawalsRoot"]
        with self.assertRaises(evm.NodeDataError):
            evm.header_rlp(gap)


class Transactions(unittest.TestCase):
    def test_the_eip155_example_is_signed_byte_for_byte(self):
        key = evm.load_private_key(b"\x46" * 32)
        raw, _ = evm.sign_legacy(key, 1, 9, 20 * 10 ** 9, 21000, b"\x35" * 20, 10 ** 18, b"")
        self.assertEqual(raw.hex(),
                         "f86c098504a817c80082520894353535353535353535353535353535353535353588"
                         "0de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff"
                         "63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b"
                         "297fb1966a3b6d83")
        self.assertEqual(evm.recover_sender(raw), evm.address_of(key))

    def test_an_eip1559_transaction_recovers_its_sender_with_low_s(self):
        key = evm.load_private_key(DEV_KEY)
        self.assertEqual(evm.address_of(key).hex(), "70997970c51812dc3a010c7d01b50e0d17dc79c8")
        raw, tx_hash = evm.sign_eip1559(key, 31338, 3, 10 ** 9, 3 * 10 ** 9, 500_000, GATEWAY,
                                        0, b"\x01\x02")
        self.assertEqual(raw[0], 2)
        self.assertEqual(tx_hash, evm.keccak256(raw))
        self.assertEqual(evm.recover_sender(raw), evm.address_of(key))
        fields = mpt.rlp_list(raw[1:])
        self.assertEqual([int.from_bytes(x, "big") for x in fields[:5]],
                         [31338, 3, 10 ** 9, 3 * 10 ** 9, 500_000])
        n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
        self.assertLessEqual(int.from_bytes(fields[11], "big"), n // 2)


class Proofs(unittest.TestCase):
    def setUp(self):
        self.answer = V["proof"]["get_proof"]
        self.packet = sc.packet_from_bytes(b(V["proof"]["packet"]))
        self.slot = plugin.mapping_slot(self.packet.key_hash(), 0)
        self.account = [b(n) for n in self.answer["accountProof"]]
        self.storage = [b(n) for n in self.answer["storageProof"][0]["proof"]]
        self.root = b(V["proof"]["block"]["stateRoot"])

    def test_the_nodes_proof_verifies_and_encodes_as_the_rust_adapters(self):
        mpt.check_storage(self.root, GATEWAY, self.slot, self.packet.hash(), self.account,
                          self.storage)
        self.assertEqual(plugin.proof_bytes(self.account, self.storage).hex(),
                         V["proof"]["rust_proof"])

    def test_a_proof_of_another_value_or_a_changed_node_is_refused(self):
        for word, account, storage in (
                (b"\1" * 32, self.account, self.storage),
                (bytes(32), self.account, self.storage),
                (self.packet.hash(), self.account, self.storage[:-1]),
                (self.packet.hash(), self.account, self.storage + [b"\x80"]),
                (self.packet.hash(), [self.account[0][:-1] + b"\0"] + self.account[1:],
                 self.storage)):
            with self.assertRaises(mpt.MptError):
                mpt.check_storage(self.root, GATEWAY, self.slot, word, account, storage)

    def test_absence_is_proven_by_the_node_for_an_empty_slot(self):
        # The acks slot of the same packet on its source chain holds nothing.
        account = self.account
        other = plugin.mapping_slot(self.packet.key_hash(), 1)
        with self.assertRaises(mpt.MptError):
            # The commitment slot's proof says nothing about another slot's value.
            mpt.check_storage(self.root, GATEWAY, other, b"\1" * 32, account, self.storage)


# ---------------------------------------------------------------------------------------
# The plugin, with a node that answers from a script.

class ScriptedNode:
    def __init__(self, answers):
        self.answers = answers
        self.deadline = None
        self.calls = []

    def call(self, method, params):
        self.calls.append((method, params))
        a = self.answers.get(method)
        if a is None:
            raise NodeError(f"{method}: not scripted")
        return a(params) if callable(a) else a

    def batch(self, calls):
        out = []
        for m, p in calls:
            try:
                out.append(self.call(m, p))
            except NodeError as e:
                out.append(e)
        return out


def make_plugin(chain="evm-a", evm_chain_id=31337, answers=None, deploy_block=0):
    node = ScriptedNode(answers or {})
    return plugin.EvmPlugin(chain, node, evm_chain_id, GATEWAY, deploy_block,
                            evm.load_private_key(DEV_KEY)), node


def ask(p, method, params, rid=1):
    line = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
    return plugin.handle_line(p, line.encode())


class Methods(unittest.TestCase):
    def proving_plugin(self, word=None):
        block = V["proof"]["block"]
        answer = json.loads(json.dumps(V["proof"]["get_proof"]))
        if word is not None:
            answer["storageProof"][0]["value"] = word
        return make_plugin(answers={
            "eth_getBlockByNumber": lambda params: block if params[0] == block["number"] else None,
            "eth_getProof": answer,
        })[0]

    def test_the_gateways_attestation_set_is_read_from_the_gateway(self):
        held = "ab" * 32
        p, node = make_plugin(answers={"eth_call": "0x" + held})
        r = ask(p, "chain_gatewaySet", {})
        self.assertEqual(r["result"], {"attestation_set_hash": held})
        (method, params), = node.calls
        self.assertEqual(method, "eth_call")
        self.assertEqual(params[0]["to"], "0x" + GATEWAY.hex())
        self.assertEqual(params[0]["data"], "0x" + evm.selector("attestationSetHash()").hex())
        # A word of another length is the node's error, named.
        p, _ = make_plugin(answers={"eth_call": "0x" + "ab" * 31})
        self.assertIn("error", ask(p, "chain_gatewaySet", {}))

    def test_a_commitment_proof_is_the_rust_adapters_bytes(self):
        p = self.proving_plugin()
        height = V["proof"]["height"]
        r = ask(p, "chain_prove", {"height": height, "claims": [
            {"claim": "commitment", "packet": V["proof"]["packet"]}]})
        self.assertEqual(r["result"]["results"],
                         [{"proof": {"height": height, "proof": V["proof"]["rust_proof"]}}])

    def test_a_claim_the_slot_contradicts_fails_alone_by_name(self):
        p = self.proving_plugin(word="0x0")
        height = V["proof"]["height"]
        r = ask(p, "chain_prove", {"height": height, "claims": [
            {"claim": "commitment", "packet": V["proof"]["packet"]}]})
        self.assertEqual(r["result"]["results"][0]["error"]["name"], "not_committed")
        r = ask(p, "chain_prove", {"height": height + 1, "claims": [
            {"claim": "commitment", "packet": V["proof"]["packet"]}]})
        self.assertEqual(r["error"]["data"]["name"], "block_not_found")

    def test_header_update_is_the_attested_header_the_attesters_sign(self):
        block = V["block"]
        p, _ = make_plugin(answers={"eth_getBlockByNumber": block})
        r = ask(p, "chain_headerUpdate", {"trusted_height": None, "height": 30})["result"]
        update = b(r["update"])
        self.assertEqual((r["height"], r["time_secs"]),
                         (30, int(block["timestamp"], 16)))
        self.assertEqual(update, sc.encode_attested_header(
            31337, 30, b(block["hash"]), b(block["parentHash"]), b(block["stateRoot"]),
            b(block["receiptsRoot"]), int(block["timestamp"], 16)))
        lying = dict(block, hash="0x" + "11" * 32)
        p, _ = make_plugin(answers={"eth_getBlockByNumber": lying})
        r = ask(p, "chain_headerInfo", {"height": 30})
        self.assertEqual(r["error"]["data"]["name"], "invalid_header")

    def test_sent_packets_are_checked_against_their_event(self):
        log = V["packet_sent_log"]
        answers = {"eth_blockNumber": "0x100", "eth_getLogs": [log]}
        p, node = make_plugin(answers=answers)
        r = ask(p, "chain_sentPackets", {"from": 0, "to": 0x100})["result"]["packets"]
        self.assertEqual(len(r), 1)
        packet = sc.packet_from_bytes(b(r[0]["packet"]))
        self.assertEqual(packet.key_hash(), b(log["topics"][1]))
        self.assertEqual((r[0]["height"], r[0]["tx_hash"]),
                         (int(log["blockNumber"], 16), log["transactionHash"][2:]))
        self.assertEqual(node.calls[-1][1][0]["topics"], ["0x" + plugin.TOPIC_SENT.hex()])
        # The same log on a plugin of another chain is not a packet of that chain.
        other, _ = make_plugin(chain="evm-b", answers=answers)
        r = ask(other, "chain_sentPackets", {"from": 0, "to": 0x100})
        self.assertEqual(r["error"]["data"]["name"], "malformed_event")
        # A packet whose bytes do not match the event's key.
        forged = dict(log, topics=[log["topics"][0], "0x" + "22" * 32, log["topics"][2]])
        p, _ = make_plugin(answers={"eth_blockNumber": "0x100", "eth_getLogs": [forged]})
        r = ask(p, "chain_sentPackets", {"from": 0, "to": 0x100})
        self.assertEqual(r["error"]["data"]["name"], "malformed_event")

    def test_ranges_are_bounded_and_never_reach_past_the_chain(self):
        p, _ = make_plugin(answers={"eth_blockNumber": "0x10", "eth_getLogs": []})
        r = ask(p, "chain_receipts", {"from": 0, "to": 10_000})
        self.assertEqual(r["error"]["data"]["name"], "too_large")
        r = ask(p, "chain_outcomes", {"from": 1, "to": 0x11})
        self.assertEqual(r["error"]["data"]["name"], "block_not_found")
        self.assertEqual(ask(p, "chain_outcomes", {"from": 5, "to": 4})["result"],
                         {"outcomes": []})
        self.assertEqual(ask(p, "chain_outcomes", {"from": 0, "to": 9_999})["error"]["code"],
                         plugin.METHOD_ERROR)
        # Nothing of the gateway is older than its deploy block: logs are asked from it.
        p, node = make_plugin(answers={"eth_blockNumber": hex(60_000), "eth_getLogs": []},
                              deploy_block=50_000)
        self.assertEqual(ask(p, "chain_sentPackets", {"from": 45_000, "to": 54_999})["result"],
                         {"packets": []})
        self.assertEqual(node.calls[-1][1][0]["fromBlock"], hex(50_000))
        self.assertEqual(ask(p, "chain_sentPackets", {"from": 0, "to": 20_000})["error"]
                         ["data"]["name"], "too_large")

    def test_pending_packets_keep_those_still_committed(self):
        log = V["packet_sent_log"]
        packet = sc.packet_from_bytes(evm.abi_decode(evm.EVENT_DATA[evm.EV_PACKET_SENT],
                                                     b(log["data"]))[2])
        for stored, pending in ((packet.hash(), 1), (bytes(32), 0)):
            p, node = make_plugin(answers={"eth_blockNumber": "0x100", "eth_getLogs": [log],
                                           "eth_getStorageAt": "0x" + stored.hex()})
            r = ask(p, "chain_pendingPackets", {"cursor": None})["result"]
            self.assertEqual((len(r["packets"]), r["next"]), (pending, None))
            method, params = node.calls[-1]
            self.assertEqual((method, params[1], params[2]),
                             ("eth_getStorageAt",
                              "0x" + plugin.mapping_slot(packet.key_hash(), 0).hex(), "0x100"))

    def test_pending_pages_add_up_to_every_pending_packet_once(self):
        app = b"\x5a" * 20
        layout = {5: 3, 6: 2, 9: 1, 12: 4}  # block: packets sent in it
        logs, words, want = [], {}, []
        seq = 0
        for height, count in layout.items():
            for i in range(count):
                seq += 1
                raw = (b"\x01" + sc.encode_bytes(b"evm-a") + sc.encode_bytes(app)
                       + sc.encode_u64(seq) + sc.encode_bytes(b"evm-b") + sc.encode_bytes(app)
                       + sc.encode_bytes(b"") + sc.encode_u64(0) + sc.encode_u64(1)
                       + sc.encode_u64(0) + bytes(16))
                packet = sc.packet_from_bytes(raw)
                logs.append({
                    "address": "0x" + GATEWAY.hex(), "blockNumber": hex(height),
                    "logIndex": hex(i), "transactionHash": "0x" + bytes([seq]).hex() * 32,
                    "topics": ["0x" + plugin.TOPIC_SENT.hex(), "0x" + packet.key_hash().hex(),
                               "0x" + (bytes(12) + app).hex()],
                    "data": "0x" + evm.abi_encode(["uint64", "bytes32", "bytes"],
                                                  [seq, packet.hash(), raw]).hex()})
                # Odd sequences are still pending; even ones have their outcome.
                pending = seq % 2 == 1
                slot = plugin.mapping_slot(packet.key_hash(), 0)
                words["0x" + slot.hex()] = "0x" + (packet.hash() if pending else bytes(32)).hex()
                if pending:
                    want.append(raw.hex())

        def get_logs(params):
            f = params[0]
            lo, hi = int(f["fromBlock"], 16), int(f["toBlock"], 16)
            return [lg for lg in logs if lo <= int(lg["blockNumber"], 16) <= hi]
        p, _ = make_plugin(answers={"eth_blockNumber": "0x10", "eth_getLogs": get_logs,
                                    "eth_getStorageAt": lambda params: words[params[1]]})
        saved = plugin.PENDING_PAGE_PACKETS
        plugin.PENDING_PAGE_PACKETS = 2
        try:
            got, cursor, pages = [], None, 0
            while True:
                r = ask(p, "chain_pendingPackets", {"cursor": cursor})["result"]
                got.extend(x["packet"] for x in r["packets"])
                pages += 1
                cursor = r["next"]
                if cursor is None:
                    break
                self.assertEqual(cursor["at"], 0x10)
        finally:
            plugin.PENDING_PAGE_PACKETS = saved
        self.assertEqual(got, want)
        self.assertEqual(pages, 5)
        bad = ask(p, "chain_pendingPackets", {"cursor": {"at": 1, "block": 99, "skip": 0}})
        self.assertEqual(bad["error"]["code"], plugin.JSONRPC_INVALID_PARAMS)

    def test_a_mined_delivery_reads_receipts_outcomes_and_skips(self):
        p, _ = make_plugin(chain="evm-b", evm_chain_id=31338)
        one = p._outcome(V["deliver_receipt_1"])
        self.assertEqual([r["key"][:8] for r in one["received"]], ["3ea16565"])
        self.assertEqual(one["received"][0]["ack_commitment"], V["ack_commitments"][0][2])
        skipped_key = "4f00521a4368089769ab83fcad7697b040672c221b13d6edf81ad3099e39494e"
        self.assertEqual(one["skipped"],
                         [{"index": 0, "key": skipped_key, "reason": "AlreadyDelivered"}])
        self.assertEqual((one["height"], one["fee_used"]),
                         (0x194, int(V["deliver_receipt_1"]["gasUsed"], 16)))
        two = p._outcome(V["deliver_receipt_2"])
        self.assertEqual([(o["kind"], o["callback_succeeded"]) for o in two["outcomes"]],
                         [("ack", True), ("ack", True)])
        self.assertEqual(len(two["received"]), 1)

    def test_batches_go_back_to_back_unless_a_sequence_space_is_ordered(self):
        def entry(ordered_from):
            return (sc.evm_target_binding(31337, GATEWAY) + b"\x01" + sc.encode_bytes(b"evm-a")
                    + sc.encode_u64(ordered_from) + golden_packet() + sc.encode_bytes(b"")).hex()
        for ordered_from, want in (
                (0, ["send", "send", "receipt", "receipt"]),
                (1, ["send", "receipt", "send", "receipt"])):
            sent = {}

            def send_raw(params):
                raw = b(params[0])
                self.assertEqual(evm.recover_sender(raw), evm.address_of(
                    evm.load_private_key(DEV_KEY)))
                tx_hash = "0x" + evm.keccak256(raw).hex()
                sent[tx_hash] = mpt.rlp_list(raw[1:])
                return tx_hash

            def receipt(params):
                return {"transactionHash": params[0], "blockNumber": "0x9", "gasUsed": "0x5208",
                        "status": "0x1", "logs": []}
            p, node = make_plugin(answers={
                "eth_getBlockByNumber": {"baseFeePerGas": "0x7"},
                "eth_maxPriorityFeePerGas": "0x1", "eth_estimateGas": "0x30000",
                "eth_getTransactionCount": "0x4", "eth_sendRawTransaction": send_raw,
                "eth_getTransactionReceipt": receipt})
            batch = [{"entry": entry(ordered_from), "index": 0, "path": []}]
            r = ask(p, "chain_deliver", {"checkpoint": "00", "signatures": [],
                                         "attestation_set": "", "next_set": "", "gas": None,
                                         "batches": [batch, batch]})["result"]["results"]
            self.assertEqual([x["fee_used"] for x in r], [21000, 21000])
            steps = [{"eth_sendRawTransaction": "send", "eth_getTransactionReceipt": "receipt"}
                     [m] for m, _ in node.calls
                     if m in ("eth_sendRawTransaction", "eth_getTransactionReceipt")]
            self.assertEqual(steps, want)
            # Consecutive nonces from the node's pending count, fees from the base fee.
            fields = list(sent.values())
            self.assertEqual([int.from_bytes(f[1], "big") for f in fields], [4, 5])
            self.assertEqual([int.from_bytes(f[3], "big") for f in fields], [15, 15])
            self.assertEqual([int.from_bytes(f[4], "big") for f in fields], [0x30000, 0x30000])

    def test_a_mined_batch_that_failed_is_tx_reverted_with_its_hash_as_message(self):
        sent = []

        def send_raw(params):
            sent.append(evm.keccak256(b(params[0])).hex())
            return "0x" + sent[-1]
        p, node = make_plugin(answers={
            "eth_getBlockByNumber": {"baseFeePerGas": "0x7"}, "eth_maxPriorityFeePerGas": "0x1",
            "eth_getTransactionCount": "0x0", "eth_sendRawTransaction": send_raw,
            "eth_getTransactionReceipt": lambda params: {"status": "0x0", "logs": []}})
        entry = sc.evm_target_binding(31337, GATEWAY) + b"\x01" + sc.encode_bytes(b"evm-a") \
            + sc.encode_u64(0) + golden_packet() + sc.encode_bytes(b"")
        r = ask(p, "chain_deliver", {"checkpoint": "00", "signatures": [], "attestation_set": "",
                                     "next_set": "", "gas": 400_000,
                                     "batches": [[{"entry": entry.hex(), "index": 0,
                                                   "path": []}]]})["result"]["results"]
        self.assertEqual(r, [{"error": {"name": "tx_reverted", "message": sent[0],
                                        "revert": ""}}])
        # The gas was given: nothing was run first.
        self.assertNotIn("eth_estimateGas", [m for m, _ in node.calls])

    def test_a_refused_estimate_names_the_gateways_error_and_sends_nothing(self):
        revert = "0x" + (evm.selector("AlreadyDelivered(bytes32)") + b"\0" * 32).hex()

        def estimate(params):
            raise NodeError("execution reverted", code=3, data=revert)
        block = {"baseFeePerGas": "0x7", "gasLimit": "0x1c9c380"}
        p, node = make_plugin(answers={"eth_getBlockByNumber": block,
                                       "eth_maxPriorityFeePerGas": "0x1",
                                       "eth_estimateGas": estimate})
        entry = sc.evm_target_binding(31337, GATEWAY) + b"\x01" + sc.encode_bytes(b"evm-a") \
            + sc.encode_u64(0) + golden_packet() + sc.encode_bytes(b"")
        params = {"checkpoint": "00", "signatures": ["11" * 65], "attestation_set": "",
                  "next_set": "", "gas": None,
                  "batches": [[{"entry": entry.hex(), "index": 0, "path": ["22" * 32]}]]}
        r = ask(p, "chain_deliver", params)["result"]["results"]
        self.assertEqual(r[0]["error"]["name"], "gateway_revert")
        self.assertEqual(r[0]["error"]["revert"], "AlreadyDelivered")
        self.assertNotIn("eth_sendRawTransaction", [m for m, _ in node.calls])
        estimated = [p_ for m, p_ in node.calls if m == "eth_estimateGas"][0][0]
        self.assertEqual(b(estimated["data"]), evm.deliver_calldata(
            b"\0", [b"\x11" * 65], b"", b"", [(entry[32:], 0, [b"\x22" * 32])]))
        params["batches"] = [[]] * 17
        self.assertEqual(ask(p, "chain_deliver", params)["error"]["data"]["name"], "too_large")
        params["batches"] = [[{"entry": "00", "index": 0, "path": []}]]
        self.assertEqual(ask(p, "chain_deliver", params)["error"]["code"],
                         plugin.JSONRPC_INVALID_PARAMS)


class Protocol(unittest.TestCase):
    def setUp(self):
        self.p, _ = make_plugin(answers={"eth_blockNumber": "0x2a"})

    def test_hello_names_what_the_plugin_is_and_refuses_another_chain(self):
        r = ask(self.p, "adapter_hello", {"versions": [1], "chain": "evm-a"})["result"]
        self.assertEqual((r["version"], r["chain"], r["kind"]), (1, "evm-a", "evm_attested"))
        self.assertEqual((r["relays_headers"], r["sequential_headers"], r["is_destination"]),
                         (False, False, True))
        self.assertIn("deliver", r["capabilities"])
        self.assertEqual(r["gateway"], GATEWAY.hex())
        self.assertEqual(r["limits"], {"max_batch": 100})
        r = ask(self.p, "adapter_hello", {"versions": [1], "chain": "evm-b"})
        self.assertEqual(r["error"]["code"], plugin.METHOD_ERROR)
        r = ask(self.p, "adapter_hello", {"versions": [2], "chain": "evm-a"})
        self.assertEqual(r["error"]["code"], plugin.METHOD_ERROR)

    def test_malformed_requests_get_json_rpcs_own_codes(self):
        cases = [
            (b"{not json", plugin.JSONRPC_PARSE_ERROR),
            (b'{"jsonrpc":"2.0","id":1,"method":"chain_latestHeight","params":{"x":NaN}}',
             plugin.JSONRPC_PARSE_ERROR),
            (b"\xff\xfe", plugin.JSONRPC_PARSE_ERROR),
            (b"[]", plugin.JSONRPC_INVALID_REQUEST),
            (b'{"jsonrpc":"1.0","id":1,"method":"chain_latestHeight"}',
             plugin.JSONRPC_INVALID_REQUEST),
            (b'{"jsonrpc":"2.0","id":{},"method":"chain_latestHeight"}',
             plugin.JSONRPC_INVALID_REQUEST),
            (b'{"jsonrpc":"2.0","id":1,"method":"chain_nope","params":{}}',
             plugin.JSONRPC_METHOD_NOT_FOUND),
            (b'{"jsonrpc":"2.0","id":1,"method":"chain_headerInfo","params":[1]}',
             plugin.JSONRPC_INVALID_PARAMS),
            (b'{"jsonrpc":"2.0","id":1,"method":"chain_headerInfo","params":{"height":-1}}',
             plugin.JSONRPC_INVALID_PARAMS),
            (b'{"jsonrpc":"2.0","id":1,"method":"chain_headerInfo","params":{"height":true}}',
             plugin.JSONRPC_INVALID_PARAMS),
            (b'{"jsonrpc":"2.0","id":1,"method":"chain_headerInfo",'
             b'"params":{"height":9007199254740992}}', plugin.JSONRPC_INVALID_PARAMS),
            (b'{"jsonrpc":"2.0","id":1,"method":"chain_receipt","params":{"packet":"zz"}}',
             plugin.JSONRPC_INVALID_PARAMS),
            (b'{"jsonrpc":"2.0","id":1,"method":"chain_prove","params":{"height":1,'
             b'"claims":[{"claim":"maybe","packet":"00"}]}}', plugin.JSONRPC_INVALID_PARAMS),
        ]
        for line, code in cases:
            r = plugin.handle_line(self.p, line)
            self.assertEqual(r["error"]["code"], code, line)

    def test_a_notification_gets_no_answer(self):
        self.assertIsNone(plugin.handle_line(
            self.p, b'{"jsonrpc":"2.0","method":"chain_latestHeight","params":{}}'))

    def test_bounds_are_refused_as_too_large(self):
        claims = [{"claim": "commitment", "packet": golden_packet().hex()}] * 257
        r = ask(self.p, "chain_prove", {"height": 1, "claims": claims})
        self.assertEqual(r["error"]["data"]["name"], "too_large")
        big = {"jsonrpc": "2.0", "id": 1, "result": {"x": "a" * plugin.MAX_LINE_BYTES}}
        answer = json.loads(plugin.encode_response(big))
        self.assertEqual(answer["error"]["data"]["name"], "too_large")

    def test_the_node_failing_is_named_rpc(self):
        p, _ = make_plugin(answers={})
        r = ask(p, "chain_latestHeight", {})
        self.assertEqual((r["error"]["code"], r["error"]["data"]["name"]),
                         (plugin.METHOD_ERROR, "rpc"))
        self.assertFalse(ask(p, "adapter_health", {})["result"]["ok"])

    def test_the_loop_answers_every_line_in_order_and_survives_garbage(self):
        lines = [
            json.dumps({"jsonrpc": "2.0", "id": 7, "method": "chain_latestHeight",
                        "params": {}}).encode(),
            b"garbage",
            b"",
            b"x" * (plugin.MAX_LINE_BYTES + 10),
            json.dumps({"jsonrpc": "2.0", "id": "last", "method": "chain_latestHeight"}).encode(),
        ]
        out = io.BytesIO()
        plugin.serve(self.p, io.BytesIO(b"\n".join(lines) + b"\n"), out)
        answers = [json.loads(x) for x in out.getvalue().splitlines()]
        self.assertEqual([a["id"] for a in answers], [7, None, None, "last"])
        self.assertEqual(answers[0]["result"], {"height": 42})
        self.assertEqual(answers[1]["error"]["code"], plugin.JSONRPC_PARSE_ERROR)
        self.assertEqual(answers[2]["error"]["code"], plugin.JSONRPC_INVALID_REQUEST)
        self.assertEqual(answers[3]["result"], {"height": 42})


class Configuration(unittest.TestCase):
    def test_only_loopback_http_endpoints(self):
        self.assertEqual(check_loopback_url("http://127.0.0.1:8545"), "http://127.0.0.1:8545")
        for url in ("http://10.0.0.1:8545", "http://localhost:8545", "https://127.0.0.1:8545",
                    "http://user@127.0.0.1:8545", "http://127.0.0.1.example:8545", "not a url"):
            with self.assertRaises(ValueError, msg=url):
                check_loopback_url(url)

    def test_a_key_file_others_may_read_or_with_another_address_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "sender.json")
            with open(path, "w") as f:
                json.dump({"private_key": DEV_KEY.hex(),
                           "address": "70997970c51812dc3a010c7d01b50e0d17dc79c8"}, f)
            os.chmod(path, 0o644)
            with self.assertRaises(plugin.ConfigError):
                plugin.load_sender_key(path)
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
            key = plugin.load_sender_key(path)
            self.assertEqual(evm.address_of(key).hex(), "70997970c51812dc3a010c7d01b50e0d17dc79c8")
            with open(path, "w") as f:
                json.dump({"private_key": DEV_KEY.hex(), "address": "00" * 20}, f)
            with self.assertRaises(plugin.ConfigError):
                plugin.load_sender_key(path)


if __name__ == "__main__":
    unittest.main()
