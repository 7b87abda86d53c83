// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IJunctionApp, IJunctionGateway} from "./IJunctionApp.sol";

/// @title Junction gateway: the hub's endpoint on one EVM chain (DESIGN §4).
/// @notice Outgoing: an app calls `send`; the gateway stores the packet hash under its packet
/// key hash (`commitments`), which the hub proves with `eth_getProof`. Incoming: a relayer
/// calls `deliver` with one hub checkpoint and a batch of log entries, each with its RFC 6962
/// inclusion proof. Every byte layout and hash here is the one of `spec/encoding.md` and
/// `spec/hashing.md`, so the Rust hub and this contract agree byte for byte.
/// @dev There is no owner, admin key or upgrade hook: the attestation set changes only through
/// a checkpoint whose next-set hash names the new set. The first two state variables are
/// `commitments` (slot 0) and `acks` (slot 1); the hub's light client depends on those slots,
/// so they must stay first (see GATEWAY.md).
contract JunctionGateway is IJunctionGateway {
    // ------------------------------------------------------------------ storage (proven)

    /// packet key hash => packet hash, while the packet waits for its one outcome. Deleted
    /// when the ack, error-ack or timeout arrives, so a second outcome finds nothing.
    mapping(bytes32 => bytes32) public commitments; // slot 0

    /// packet key hash => ack commitment, once the packet ran here (kind 0x02) or its app
    /// reverted (kind 0x03). It is the replay guard and the receipt the hub proves; a key
    /// without one is what a timeout proves (non-membership).
    mapping(bytes32 => bytes32) public acks; // slot 1

    // ------------------------------------------------------------------ other state

    /// keccak256(app, destination chain) => last sequence sent.
    mapping(bytes32 => uint64) private _sentSequence;
    /// keccak256(encoded source chain, encoded source app) => last sequence run or skipped
    /// in an ordered sequence space (0: none yet; the space then starts at the first
    /// sequence its entries name, `ordered_from`).
    mapping(bytes32 => uint64) private _receivedSequence;
    /// Relayer fees earned by delivering outcomes, withdrawable by the relayer.
    mapping(address => uint256) public fees;

    /// The held checkpoint: its hash and the fields later checkpoints are compared with.
    bytes32 public heldCheckpointHash;
    uint64 public heldHeight;
    uint64 public heldTimeMs;
    uint64 public heldLogSize;
    bytes32 public heldLogRoot;
    /// Hash of the attestation set that must sign the next checkpoint.
    bytes32 public attestationSetHash;

    string private _chainId;
    string private _hubChainId;

    /// Set, for good, by the hub's retirement notice (kind 6, logged only by a council vote):
    /// from then on `send` refuses new packets, while entries logged for this gateway are
    /// still run and outcomes of the packets it sent still delivered, so no escrow is
    /// stranded. `successorChain` is the chain the council named in its place (may be empty).
    bool public retired;
    string public successorChain;

    bool private transient _entered;

    // ------------------------------------------------------------------ constants

    bytes32 private immutable CHAIN_ID_HASH;
    bytes32 private immutable HUB_CHAIN_ID_HASH;
    // SHA256(tag) of each tag of spec/hashing.md; a tagged hash is SHA256(t || t || data).
    bytes32 private immutable TAG_CHECKPOINT;
    bytes32 private immutable TAG_PACKET;
    bytes32 private immutable TAG_PACKET_KEY;
    bytes32 private immutable TAG_ATTESTATION_SET;
    bytes32 private immutable TAG_ACK_COMMITMENT;
    /// This gateway's identity as the hub registered it: `tagged_hash(TargetBinding,
    /// "evm" || uint64(block.chainid) || address(this))`. Every leaf this gateway proves
    /// is `SHA256(0x00 || BINDING || entry)`, so an entry logged for another gateway (with
    /// the same chain name, on this or another EVM chain) never proves here.
    bytes32 public immutable BINDING;

    uint256 private constant MAX_CHAIN_ID_LEN = 64;
    uint256 private constant MAX_APP_ID_LEN = 64;
    uint256 private constant MAX_PAYLOAD_BYTES = 65_536;
    uint256 private constant MAX_RESULT_BYTES = 1_024;
    uint256 private constant MAX_ATTESTERS = 512;
    uint256 private constant ATTESTER_BYTES = 28; // address 20 + power 8
    /// Gas kept back on top of `gas_limit * 64 / 63` before calling an app: it pays for the
    /// call itself (cold account, memory) so the app really gets its whole limit.
    uint256 public constant APP_CALL_GAS_MARGIN = 10_000;
    /// Gas the app's own frame (`runApp`) needs besides the app's limit: the self-call,
    /// copying the call data in, and checking and returning the ack.
    uint256 public constant APP_FRAME_GAS = 40_000;
    /// Largest gas limit a packet may carry (`spec` `MAX_PACKET_GAS_LIMIT`), far below a
    /// block's gas limit, so a delivery of one packet always fits in a block.
    uint64 public constant MAX_GAS_LIMIT = 10_000_000;
    /// Gas a source app's `onAck`, `onError` or `onTimeout` runs with, whatever the
    /// packet's own limit (that one is for the destination app).
    uint64 public constant CALLBACK_GAS_LIMIT = 300_000;
    /// Half the secp256k1 group order: a larger `s` is the malleable twin of a valid one.
    uint256 private constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    uint8 private constant KIND_PACKET = 1;
    uint8 private constant KIND_ACK = 2;
    uint8 private constant KIND_ERROR_ACK = 3;
    uint8 private constant KIND_TIMEOUT = 4;
    uint8 private constant KIND_SEQUENCE_SKIP = 5;
    uint8 private constant KIND_GATEWAY_RETIRED = 6;

    // ------------------------------------------------------------------ errors

    error InvalidChainId();
    error InvalidAppId();
    error PayloadTooLarge(uint256 len);
    error NoTimeout();
    error GasLimitTooHigh(uint64 gasLimit, uint64 max);
    error GatewayIsRetired(string successorChain);
    error InvalidAttestationSet(string why);
    error MalformedCheckpoint();
    error WrongHubChain();
    error CheckpointOlder(uint64 got, uint64 held);
    error ConflictingCheckpoint(uint64 height);
    error TimeWentBackwards(uint64 got, uint64 held);
    error LogShrank(uint64 got, uint64 held);
    error WrongAttestationSet(bytes32 expected, bytes32 got);
    error AttestationSetMismatch(bytes32 expected, bytes32 got);
    error TooManySignatures(uint256 got, uint256 max);
    error InvalidSignature(uint256 index);
    error HighS(uint256 index);
    error UnknownSigner(address signer);
    error DuplicateSigner(address signer);
    error InsufficientPower(uint256 got, uint256 need);
    error MissingNextSet();
    error NextSetMismatch(bytes32 expected, bytes32 got);
    error UnexpectedNextSet();
    error MalformedEntry(uint256 index);
    error WrongTargetChain(uint256 index);
    error InclusionProofInvalid(uint256 index);
    error CommitmentMismatch(bytes32 key);
    error InsufficientGasForApp(uint256 need, uint256 left);
    error Reentrant();
    error OnlyGateway();
    /// How the app's frame (`runApp`) ends when the app's effects must not stand: the app
    /// reverted (`reason`), or returned something that is not a valid ack.
    error AppReverted(bytes reason, uint256 used);
    error InvalidAck(uint256 used);
    /// The app's frame failed in a way no app can cause (never expected).
    error AppFrameFailed();
    // Reasons an entry is skipped (see EntrySkipped); a batch that skips every entry reverts
    // with the first of them.
    error AlreadyDelivered(bytes32 key);
    error OutOfOrder(bytes32 key, uint64 expected, uint64 got);
    error PacketNotPending(bytes32 key);
    // Reasons written into error-acks and refusals (ASCII, so the hub can log them as is).
    bytes private constant REASON_DEADLINE = "junction: deadline passed";
    bytes private constant REASON_NO_CODE = "junction: destination app has no code";
    bytes private constant REASON_BAD_APP_ID = "junction: destination app is not a 20-byte address";
    bytes private constant REASON_BAD_ACK = "junction: app returned a malformed or oversized ack";

    // ------------------------------------------------------------------ events

    /// `packet` is the exact spec encoding; `key` and `packetHash` are its tagged hashes.
    event PacketSent(bytes32 indexed key, address indexed app, uint64 sequence, bytes32 packetHash, bytes packet);
    event CheckpointAccepted(uint64 indexed height, bytes32 checkpointHash, bytes32 logRoot, uint64 logSize);
    event AttestationSetChanged(bytes32 oldHash, bytes32 newHash);
    /// The app ran (`appSucceeded`) or reverted (or its ack was invalid); `result` is the
    /// ack or the reason, and `acks[key]` = `ackCommitment(appSucceeded ? 2 : 3, result)`;
    /// `appGasUsed` is the gas the app call consumed.
    event PacketReceived(bytes32 indexed key, bool appSucceeded, bytes result, uint256 appGasUsed);
    /// The packet was not run and left no receipt (its deadline passed by this chain's clock).
    event PacketRefused(bytes32 indexed key, bytes reason);
    event SequenceSkipped(bytes32 indexed key, uint64 sequence);
    /// The hub's council retired this gateway (proposal `proposalId`); `successor` is the
    /// chain named in its place (empty: none).
    event GatewayRetired(uint64 proposalId, string successor);
    /// The source app's outcome callback ran (`kind` 2 ack, 3 error-ack, 4 timeout).
    event OutcomeDelivered(bytes32 indexed key, uint8 kind, bool callbackSucceeded, bytes callbackError);
    /// The entry was left alone; `reason` is an encoded error (AlreadyDelivered, OutOfOrder,
    /// PacketNotPending).
    event EntrySkipped(uint256 index, bytes32 indexed key, bytes reason);

    // ------------------------------------------------------------------ types

    /// A checkpoint with what proves it. `attestationSet` is the held set (empty when the
    /// checkpoint is the held one: then no signature is checked); `nextSet` is the set the
    /// checkpoint's next-set hash names, only when that differs from its own set.
    struct SignedCheckpoint {
        bytes checkpoint;
        bytes[] signatures;
        bytes attestationSet;
        bytes nextSet;
    }

    /// A log entry (its spec encoding), its leaf index and its RFC 6962 audit path.
    struct ProvenEntry {
        bytes entry;
        uint64 leafIndex;
        bytes32[] proof;
    }

    /// Offsets into one entry's calldata (relative to its start), filled by `_parseEntry`.
    struct Entry {
        uint8 kind;
        bool ordered;
        uint64 orderedFrom; // the space's first sequence run in order (0: unordered)
        uint256 targetStart; // the target chain's bytes
        uint256 targetLen;
        uint256 packetStart; // the version byte
        uint256 packetEnd;
        uint256 sourceChainStart; // the u32 length prefix of the source chain
        uint256 sourceChainLen;
        uint256 sourceAppStart; // the u32 length prefix of the source app
        uint256 sourceAppLen;
        uint256 sequenceStart;
        uint64 sequence;
        uint256 destChainStart; // the u32 length prefix of the destination chain
        uint256 destChainLen;
        uint256 destAppLen;
        uint256 destAppStart; // the app's bytes
        uint256 payloadStart; // the payload's bytes
        uint256 payloadLen;
        uint64 timeoutHeight;
        uint64 timeoutTimeMs;
        uint64 gasLimit;
        uint128 fee;
        uint256 resultStart;
        uint256 resultLen;
    }

    // ------------------------------------------------------------------ construction

    /// @param chainId_ this chain's Junction chain id.
    /// @param hubChainId_ the hub's chain id.
    /// @param attestationSet the set that signs checkpoints after `checkpoint` (canonical
    /// encoding); it must hash to the checkpoint's next-set hash.
    /// @param checkpoint the trusted initial checkpoint (canonical encoding).
    constructor(string memory chainId_, string memory hubChainId_, bytes memory attestationSet, bytes memory checkpoint) {
        if (!_validChainId(bytes(chainId_)) || !_validChainId(bytes(hubChainId_))) revert InvalidChainId();
        _chainId = chainId_;
        _hubChainId = hubChainId_;
        CHAIN_ID_HASH = keccak256(bytes(chainId_));
        HUB_CHAIN_ID_HASH = keccak256(bytes(hubChainId_));
        TAG_CHECKPOINT = sha256("junction/checkpoint/v1");
        TAG_PACKET = sha256("junction/packet/v1");
        TAG_PACKET_KEY = sha256("junction/packet-key/v1");
        TAG_ATTESTATION_SET = sha256("junction/attestation-set/v1");
        TAG_ACK_COMMITMENT = sha256("junction/ack-commitment/v1");
        bytes32 tagBinding = sha256("junction/target-binding/v1");
        BINDING = sha256(abi.encodePacked(tagBinding, tagBinding, "evm", uint64(block.chainid), address(this)));

        // The checkpoint is trusted (chosen like a genesis), but it must still be well formed,
        // and the set must be canonical and the one it names as the next signer.
        _validateSet(attestationSet);
        bytes32 setHash = _taggedMemory(TAG_ATTESTATION_SET, attestationSet);
        uint256 len = checkpoint.length >= 4 ? _mload(checkpoint, 0) >> 224 : 0;
        if (len == 0 || len > MAX_CHAIN_ID_LEN || checkpoint.length != 4 + len + 8 * 3 + 32 * 3) {
            revert MalformedCheckpoint();
        }
        bytes memory cpChain = new bytes(len);
        for (uint256 i = 0; i < len; i++) {
            cpChain[i] = checkpoint[4 + i];
        }
        if (keccak256(cpChain) != HUB_CHAIN_ID_HASH) revert WrongHubChain();
        uint256 o = 4 + len;
        bytes32 nextSetHash = bytes32(_mload(checkpoint, o + 24 + 64));
        if (nextSetHash != setHash) revert AttestationSetMismatch(nextSetHash, setHash);
        heldCheckpointHash = _taggedMemory(TAG_CHECKPOINT, checkpoint);
        heldHeight = uint64(_mload(checkpoint, o) >> 192);
        heldTimeMs = uint64(_mload(checkpoint, o + 8) >> 192);
        heldLogSize = uint64(_mload(checkpoint, o + 16) >> 192);
        heldLogRoot = bytes32(_mload(checkpoint, o + 24));
        attestationSetHash = setHash;
    }

    // ------------------------------------------------------------------ send

    /// @inheritdoc IJunctionGateway
    function send(
        string calldata destChain,
        bytes calldata destApp,
        bytes calldata payload,
        uint64 timeoutHeight,
        uint64 timeoutTimeMs,
        uint64 gasLimit
    ) external payable returns (uint64 sequence) {
        if (retired) revert GatewayIsRetired(successorChain);
        // Everything committed here must be a packet the hub can decode and accept, or the
        // packet could never get an outcome and its app's funds would stay locked.
        if (!_validChainId(bytes(destChain))) revert InvalidChainId();
        if (destApp.length == 0 || destApp.length > MAX_APP_ID_LEN) revert InvalidAppId();
        if (payload.length > MAX_PAYLOAD_BYTES) revert PayloadTooLarge(payload.length);
        if (timeoutHeight == 0 && timeoutTimeMs == 0) revert NoTimeout();
        // A limit no block could hold would make every delivery of the packet revert.
        if (gasLimit > MAX_GAS_LIMIT) revert GasLimitTooHigh(gasLimit, MAX_GAS_LIMIT);

        bytes32 seqSlot = keccak256(abi.encodePacked(msg.sender, destChain));
        sequence = _sentSequence[seqSlot] + 1;
        _sentSequence[seqSlot] = sequence;

        bytes memory source = abi.encodePacked(uint32(bytes(_chainId).length), _chainId);
        bytes memory app = abi.encodePacked(uint32(20), msg.sender);
        bytes memory dest = abi.encodePacked(uint32(bytes(destChain).length), destChain);
        bytes memory packet = abi.encodePacked(
            uint8(1),
            source,
            app,
            sequence,
            dest,
            abi.encodePacked(uint32(destApp.length), destApp, uint32(payload.length), payload),
            timeoutHeight,
            timeoutTimeMs,
            gasLimit,
            uint128(msg.value)
        );
        bytes32 key = sha256(abi.encodePacked(TAG_PACKET_KEY, TAG_PACKET_KEY, source, app, dest, sequence));
        bytes32 packetHash = _taggedMemory(TAG_PACKET, packet);
        commitments[key] = packetHash;
        emit PacketSent(key, msg.sender, sequence, packetHash, packet);
    }

    // ------------------------------------------------------------------ deliver

    /// Verify `signed` (once for the whole batch), then act on each entry proven under its
    /// log root. Malformed or unproven input reverts the whole call; an entry that lost a
    /// race (already delivered, already resolved, not yet in order) is skipped with
    /// `EntrySkipped`, and a batch that skipped every entry reverts with the first reason.
    function deliver(SignedCheckpoint calldata signed, ProvenEntry[] calldata entries) external {
        if (_entered) revert Reentrant();
        _entered = true;
        (bytes32 logRoot, uint64 logSize) = _acceptCheckpoint(signed);
        bytes memory firstSkip;
        bool acted;
        for (uint256 i = 0; i < entries.length; i++) {
            ProvenEntry calldata p = entries[i];
            // Memory is never freed in Solidity and its price grows with the square of its
            // size; what one entry allocates is dead once it is handled, so hand it back.
            uint256 freeMemory;
            assembly ("memory-safe") {
                freeMemory := mload(0x40)
            }
            if (!_included(p.entry, p.leafIndex, p.proof, logRoot, logSize)) revert InclusionProofInvalid(i);
            (bytes32 key, bytes memory skip) = _handle(i, p.entry);
            if (skip.length == 0) {
                acted = true;
                assembly ("memory-safe") {
                    mstore(0x40, freeMemory)
                }
            } else {
                emit EntrySkipped(i, key, skip);
                if (firstSkip.length == 0) firstSkip = skip;
            }
        }
        if (!acted && firstSkip.length != 0) {
            assembly ("memory-safe") {
                revert(add(firstSkip, 32), mload(firstSkip))
            }
        }
        _entered = false;
    }

    /// Pays out the fees this caller earned by delivering outcomes.
    function withdrawFees() external {
        uint256 amount = fees[msg.sender];
        fees[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        require(ok, "junction: fee transfer failed");
    }

    // ------------------------------------------------------------------ views

    function chainId() external view returns (string memory) {
        return _chainId;
    }

    function hubChainId() external view returns (string memory) {
        return _hubChainId;
    }

    /// The sequence the next `send` of `app` to `destChain` gets.
    function nextSendSequence(address app, string calldata destChain) external view returns (uint64) {
        return _sentSequence[keccak256(abi.encodePacked(app, destChain))] + 1;
    }

    /// The sequence an ordered route from (`sourceChain`, `sourceApp`) runs next.
    function nextReceiveSequence(string calldata sourceChain, bytes calldata sourceApp) external view returns (uint64) {
        bytes32 slot = keccak256(
            abi.encodePacked(
                uint32(bytes(sourceChain).length), sourceChain, uint32(sourceApp.length), sourceApp
            )
        );
        return _receivedSequence[slot] + 1;
    }

    /// Packet hash and packet key hash of an encoded packet, by the same parser `deliver`
    /// uses (wrapped in a packet entry); for relayers and cross-checks.
    function hashPacket(bytes calldata packet) external view returns (bytes32 packetHash, bytes32 key) {
        packetHash = _tagged(TAG_PACKET, packet);
        key = this.packetKeyOfEntry(abi.encodePacked(uint8(1), uint32(1), "x", uint64(0), packet, uint32(0)));
    }

    /// Helper of `hashPacket`: the packet key hash of an encoded entry.
    function packetKeyOfEntry(bytes calldata entry) external view returns (bytes32) {
        Entry memory e = _parseEntry(entry, 0);
        return _keyHash(entry, e);
    }

    function checkpointHash(bytes calldata checkpoint) external view returns (bytes32) {
        return _tagged(TAG_CHECKPOINT, checkpoint);
    }

    function hashAttestationSet(bytes calldata attestationSet) external view returns (bytes32) {
        return _tagged(TAG_ATTESTATION_SET, attestationSet);
    }

    function ackCommitment(uint8 kind, bytes calldata result) external view returns (bytes32) {
        return _ackCommitment(kind, result);
    }

    // ------------------------------------------------------------------ checkpoint

    function _acceptCheckpoint(SignedCheckpoint calldata signed) private returns (bytes32, uint64) {
        bytes calldata cp = signed.checkpoint;
        (uint256 o, uint64 height, uint64 timeMs, uint64 logSize, bytes32 logRoot) = _checkpointFields(cp);
        bytes32 cpHash = _tagged(TAG_CHECKPOINT, cp);
        uint64 held = heldHeight;
        // The held checkpoint again: nothing to verify, which is what makes many batches
        // under one checkpoint cheap.
        if (height == held) {
            if (cpHash != heldCheckpointHash) revert ConflictingCheckpoint(height);
            return (logRoot, logSize);
        }
        if (height < held) revert CheckpointOlder(height, held);
        if (timeMs < heldTimeMs) revert TimeWentBackwards(timeMs, heldTimeMs);
        if (logSize < heldLogSize) revert LogShrank(logSize, heldLogSize);
        bytes32 setHash = attestationSetHash;
        bytes32 cpSet = bytes32(_load(cp, o + 32));
        if (cpSet != setHash) revert WrongAttestationSet(setHash, cpSet);
        bytes32 givenSet = _tagged(TAG_ATTESTATION_SET, signed.attestationSet);
        // The set is not stored, only its hash: a set with that hash is the one validated
        // when it was adopted.
        if (givenSet != setHash) revert AttestationSetMismatch(setHash, givenSet);
        _checkSignatures(signed.attestationSet, cpHash, signed.signatures);

        bytes32 nextHash = bytes32(_load(cp, o + 64));
        if (nextHash != setHash) {
            if (signed.nextSet.length == 0) revert MissingNextSet();
            bytes32 got = _tagged(TAG_ATTESTATION_SET, signed.nextSet);
            if (got != nextHash) revert NextSetMismatch(nextHash, got);
            // Refuse a set no one could ever sign with, rather than brick the gateway.
            _validateSet(signed.nextSet);
            attestationSetHash = nextHash;
            emit AttestationSetChanged(setHash, nextHash);
        } else if (signed.nextSet.length != 0) {
            revert UnexpectedNextSet();
        }
        heldCheckpointHash = cpHash;
        heldHeight = height;
        heldTimeMs = timeMs;
        heldLogSize = logSize;
        heldLogRoot = logRoot;
        emit CheckpointAccepted(height, cpHash, logRoot, logSize);
        return (logRoot, logSize);
    }

    /// Parses a checkpoint: checks its length and hub chain; returns the offset of its
    /// attestation-set hash minus 32 (that is, of the log root) and its numeric fields.
    function _checkpointFields(bytes calldata cp)
        private
        view
        returns (uint256 o, uint64 height, uint64 timeMs, uint64 logSize, bytes32 logRoot)
    {
        if (cp.length < 4) revert MalformedCheckpoint();
        uint256 len = _u32(cp, 0);
        if (len == 0 || len > MAX_CHAIN_ID_LEN || cp.length != 4 + len + 8 * 3 + 32 * 3) revert MalformedCheckpoint();
        if (keccak256(cp[4:4 + len]) != HUB_CHAIN_ID_HASH) revert WrongHubChain();
        o = 4 + len;
        height = uint64(_load(cp, o) >> 192);
        timeMs = uint64(_load(cp, o + 8) >> 192);
        logSize = uint64(_load(cp, o + 16) >> 192);
        o += 24;
        logRoot = bytes32(_load(cp, o));
    }

    /// Signatures must come from distinct members of `set` holding strictly more than two
    /// thirds of its power. Order is free; the set is sorted, so a member is found by
    /// binary search and marked in a bitmap.
    function _checkSignatures(bytes calldata set, bytes32 digest, bytes[] calldata signatures) private pure {
        uint256 n = _u32(set, 0);
        if (signatures.length > n) revert TooManySignatures(signatures.length, n);
        uint256 total;
        for (uint256 i = 0; i < n; i++) {
            total += _powerAt(set, i);
        }
        uint256[] memory seen = new uint256[]((n + 255) / 256);
        uint256 power;
        for (uint256 j = 0; j < signatures.length; j++) {
            address signer = _recover(digest, signatures[j], j);
            uint256 idx = _find(set, n, signer);
            uint256 bit = 1 << (idx % 256);
            if (seen[idx / 256] & bit != 0) revert DuplicateSigner(signer);
            seen[idx / 256] |= bit;
            power += _powerAt(set, idx);
        }
        // Strictly more than 2/3, in integers.
        if (3 * power <= 2 * total) revert InsufficientPower(power, (2 * total) / 3 + 1);
    }

    function _recover(bytes32 digest, bytes calldata sig, uint256 index) private pure returns (address signer) {
        if (sig.length != 65) revert InvalidSignature(index);
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (v < 27) v += 27;
        if (v != 27 && v != 28) revert InvalidSignature(index);
        if (uint256(s) > HALF_ORDER) revert HighS(index);
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidSignature(index);
    }

    function _find(bytes calldata set, uint256 n, address who) private pure returns (uint256) {
        uint256 lo = 0;
        uint256 hi = n;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            address a = _addressAt(set, mid);
            if (a == who) return mid;
            if (a < who) lo = mid + 1;
            else hi = mid;
        }
        revert UnknownSigner(who);
    }

    function _addressAt(bytes calldata set, uint256 i) private pure returns (address) {
        return address(uint160(_load(set, 4 + i * ATTESTER_BYTES) >> 96));
    }

    function _powerAt(bytes calldata set, uint256 i) private pure returns (uint256) {
        return _load(set, 4 + i * ATTESTER_BYTES + 20) >> 192;
    }

    /// The canonical-form rules of spec/attestation.rs: 1 to 512 attesters, strictly
    /// increasing addresses, non-zero powers, total within u64, nothing after the list.
    /// Runs only when a set is adopted (construction, set change), so it reads memory.
    function _validateSet(bytes memory set) private pure {
        if (set.length < 4) revert InvalidAttestationSet("short");
        uint256 n = _mload(set, 0) >> 224;
        if (n == 0 || n > MAX_ATTESTERS) revert InvalidAttestationSet("count");
        if (set.length != 4 + n * ATTESTER_BYTES) revert InvalidAttestationSet("length");
        uint256 total;
        address prev;
        for (uint256 i = 0; i < n; i++) {
            uint256 at = 4 + i * ATTESTER_BYTES;
            address a = address(uint160(_mload(set, at) >> 96));
            if (i > 0 && a <= prev) revert InvalidAttestationSet("order");
            uint256 p = _mload(set, at + 20) >> 192;
            if (p == 0) revert InvalidAttestationSet("zero power");
            total += p;
            prev = a;
        }
        if (total > type(uint64).max) revert InvalidAttestationSet("power overflow");
    }

    // ------------------------------------------------------------------ entries

    /// RFC 6962 inclusion of `entry` at `index` in the tree of `size` leaves with `root`
    /// (same rules as spec/merkle.rs `verify_inclusion`: the proof length is fixed).
    function _included(bytes calldata entry, uint64 index, bytes32[] calldata proof, bytes32 root, uint64 size)
        private
        view
        returns (bool ok)
    {
        if (index >= size) return false;
        uint256 last = size - 1;
        uint256 inner = _bitLen(index ^ last);
        uint256 border = _popCount(index >> inner);
        if (proof.length != inner + border) return false;
        // One scratch buffer past the free memory pointer serves the leaf and every node:
        // this loop runs for every level of every delivered entry, and Solidity's own
        // encoding and bounds checks cost more than the SHA-256 calls themselves. The
        // leaf is SHA256(0x00 || BINDING || entry): the binding is this gateway's own.
        bytes32 binding = BINDING;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0)
            mstore(add(p, 1), binding)
            calldatacopy(add(p, 33), entry.offset, entry.length)
            if iszero(staticcall(gas(), 2, p, add(entry.length, 33), 0, 32)) { revert(0, 0) }
            let h := mload(0)
            mstore8(p, 1)
            for { let level := 0 } lt(level, proof.length) { level := add(level, 1) } {
                let sibling := calldataload(add(proof.offset, shl(5, level)))
                // Above the inner levels the path only climbs right borders.
                switch or(iszero(lt(level, inner)), and(shr(level, index), 1))
                case 0 {
                    mstore(add(p, 1), h)
                    mstore(add(p, 33), sibling)
                }
                default {
                    mstore(add(p, 1), sibling)
                    mstore(add(p, 33), h)
                }
                if iszero(staticcall(gas(), 2, p, 65, 0, 32)) { revert(0, 0) }
                h := mload(0)
            }
            ok := eq(h, root)
        }
    }

    /// Whether `entry` is at `index` of the log of `size` entries with `root`, by the check
    /// `deliver` runs; for relayers and cross-checks.
    function verifyInclusion(bytes calldata entry, uint64 index, bytes32[] calldata proof, bytes32 root, uint64 size)
        external
        view
        returns (bool)
    {
        return _included(entry, index, proof, root, size);
    }

    function _handle(uint256 i, bytes calldata entry) private returns (bytes32 key, bytes memory skip) {
        Entry memory e = _parseEntry(entry, i);
        // An entry names the one chain that may act on it; the packet's own side must agree.
        if (_keccakAt(entry, e.targetStart, e.targetLen) != CHAIN_ID_HASH) revert WrongTargetChain(i);
        bool toDestination = e.kind == KIND_PACKET || e.kind == KIND_SEQUENCE_SKIP || e.kind == KIND_GATEWAY_RETIRED;
        (uint256 side, uint256 sideLen) =
            toDestination ? (e.destChainStart, e.destChainLen) : (e.sourceChainStart, e.sourceChainLen);
        if (_keccakAt(entry, side + 4, sideLen) != CHAIN_ID_HASH) revert WrongTargetChain(i);
        key = _keyHash(entry, e);
        if (e.kind == KIND_PACKET) {
            skip = _receive(entry, e, key);
        } else if (e.kind == KIND_SEQUENCE_SKIP) {
            skip = _skipSequence(entry, e, key);
        } else if (e.kind == KIND_GATEWAY_RETIRED) {
            skip = _retire(entry, e, key);
        } else {
            skip = _outcome(entry, e, key);
        }
    }

    function _receive(bytes calldata entry, Entry memory e, bytes32 key) private returns (bytes memory) {
        if (acks[key] != 0) return abi.encodeWithSelector(AlreadyDelivered.selector, key);
        if (e.ordered) {
            bytes32 slot = _routeSlot(entry, e);
            uint64 expected = _expectedSequence(slot, e);
            if (e.sequence < expected) return abi.encodeWithSelector(AlreadyDelivered.selector, key);
            if (e.sequence > expected) {
                return abi.encodeWithSelector(OutOfOrder.selector, key, expected, e.sequence);
            }
            // A refused (late) packet does not advance the route: the hub answers with a
            // timeout at the source and a SequenceSkip here.
            if (_deadlinePassed(e)) {
                emit PacketRefused(key, REASON_DEADLINE);
                return "";
            }
            _receivedSequence[slot] = e.sequence;
        } else if (_deadlinePassed(e)) {
            emit PacketRefused(key, REASON_DEADLINE);
            return "";
        }

        (bool ok, bytes memory result, uint256 used) = _runApp(entry, e);
        bytes32 commitment = _ackCommitmentMemory(ok ? KIND_ACK : KIND_ERROR_ACK, result);
        acks[key] = commitment;
        emit PacketReceived(key, ok, result, used);
        return "";
    }

    /// The council's retirement notice: the packet envelope's sequence is the proposal id and
    /// its payload the successor's chain id. The entry proves under a checkpoint the hub's
    /// validators signed, and only a council vote logs this kind, so nothing more is checked.
    function _retire(bytes calldata entry, Entry memory e, bytes32 key) private returns (bytes memory) {
        if (retired) return abi.encodeWithSelector(AlreadyDelivered.selector, key);
        retired = true;
        string memory successor = string(entry[e.payloadStart:e.payloadStart + e.payloadLen]);
        successorChain = successor;
        emit GatewayRetired(e.sequence, successor);
        return "";
    }

    function _deadlinePassed(Entry memory e) private view returns (bool) {
        return (e.timeoutHeight != 0 && block.number >= e.timeoutHeight)
            || (e.timeoutTimeMs != 0 && block.timestamp * 1000 >= e.timeoutTimeMs);
    }

    /// Calls the destination app's onReceive with exactly the packet's gas limit, in a frame
    /// of its own (`runApp`), so that the app's effects stand only together with a valid
    /// ack: a revert, or a return that is not an ack, rolls the app back and becomes an
    /// error-ack. Returns whether the app ran, the ack (or the reason) and the gas it used.
    function _runApp(bytes calldata entry, Entry memory e) private returns (bool, bytes memory, uint256) {
        if (e.destAppLen != 20) return (false, REASON_BAD_APP_ID, 0);
        address app = address(bytes20(entry[e.destAppStart:e.destAppStart + 20]));
        if (app.code.length == 0) return (false, REASON_NO_CODE, 0);
        // Room for the frame's selector and first argument right before the app's call data,
        // so the frame's call data is built in place (see below).
        uint256 room;
        assembly ("memory-safe") {
            room := mload(0x40)
            mstore(0x40, add(room, 36))
        }
        bytes memory data = abi.encodeCall(
            IJunctionApp.onReceive,
            (
                string(entry[e.sourceChainStart + 4:e.sourceChainStart + 4 + e.sourceChainLen]),
                entry[e.sourceAppStart + 4:e.sourceAppStart + 4 + e.sourceAppLen],
                e.sequence,
                entry[e.payloadStart:e.payloadStart + e.payloadLen]
            )
        );
        // The frame gets what the app's own call needs (the gas rule inside `runApp`) plus
        // its overhead; the whole transaction reverts if that is not left, so a relayer
        // cannot starve the app into an error-ack.
        uint64 gasLimit = e.gasLimit;
        uint256 frameGas = (uint256(gasLimit) * 64) / 63 + APP_CALL_GAS_MARGIN + APP_FRAME_GAS;
        uint256 need = (frameGas * 64) / 63 + APP_CALL_GAS_MARGIN;
        uint256 left = gasleft();
        if (left < need) revert InsufficientGasForApp(need, left);
        // The frame's call data: runApp(app, gasLimit), then the app's call data as is.
        bytes4 selector = this.runApp.selector;
        bool ok;
        bytes memory ret;
        assembly ("memory-safe") {
            let len := mload(data)
            let frame := mload(0x40)
            // The encoding normally lands right after the room: then the frame's header
            // (selector, app, and the gas limit over the length word) goes in front of it.
            switch eq(data, add(room, 36))
            case 1 { frame := room }
            default { mcopy(add(frame, 68), add(data, 32), len) }
            mstore(frame, selector)
            mstore(add(frame, 4), app)
            mstore(add(frame, 36), gasLimit)
            ok := call(frameGas, address(), 0, frame, add(len, 68), 0, 0)
            // What the frame returns is this contract's own encoding, bounded by the ack
            // cap (see runApp).
            let size := returndatasize()
            ret := mload(0x40)
            mstore(ret, size)
            returndatacopy(add(ret, 32), 0, size)
            mstore(0x40, add(add(ret, 32), size))
        }
        // ok: [used][ack]. Otherwise [selector][used][reason] for AppReverted, [selector][used]
        // for InvalidAck, or InsufficientGasForApp as it is.
        // (`_tail` overwrites the word before the tail: read the gas used first.)
        uint256 n = ret.length;
        if (ok && n >= 32) {
            uint256 used = _word(ret, 0);
            return (true, _tail(ret, 32), used);
        }
        bytes4 kind = n >= 4 ? bytes4(ret) : bytes4(0);
        if (n >= 36 && kind == AppReverted.selector) {
            uint256 used = _word(ret, 4);
            return (false, _tail(ret, 36), used);
        }
        if (n >= 36 && kind == InvalidAck.selector) return (false, REASON_BAD_ACK, _word(ret, 4));
        if (kind == InsufficientGasForApp.selector) {
            assembly ("memory-safe") {
                revert(add(ret, 32), n)
            }
        }
        revert AppFrameFailed();
    }

    /// The app's frame: runs the call data that follows its two arguments on `app` with
    /// exactly `gasLimit`, and returns `[gas used (32 bytes)][ack]` when the app returned
    /// abi-encoded `bytes` of at most 1,024 bytes. Otherwise it reverts, rolling the app
    /// back, with `[AppReverted selector][used][reason]` when the app reverted and
    /// `[InvalidAck selector][used]` for any other return. Only the gateway may call it.
    function runApp(address app, uint64 gasLimit) external {
        if (msg.sender != address(this)) revert OnlyGateway();
        uint256 need = (uint256(gasLimit) * 64) / 63 + APP_CALL_GAS_MARGIN;
        uint256 left = gasleft();
        if (left < need) revert InsufficientGasForApp(need, left);
        bool ok;
        uint256 used;
        uint256 got;
        assembly ("memory-safe") {
            let len := sub(calldatasize(), 68)
            let p := mload(0x40)
            calldatacopy(p, 68, len)
            let before := gas()
            ok := call(gasLimit, app, 0, p, len, 0, 0)
            used := sub(before, gas())
            got := returndatasize()
        }
        bytes memory ret = _returned(ok, got);
        bytes4 tag;
        uint256 start;
        uint256 size;
        if (!ok) {
            (tag, start, size) = (AppReverted.selector, 0, ret.length);
        } else {
            (bool valid, bytes memory ack) = _decodeAck(ret);
            if (!valid) {
                (tag, start, size) = (InvalidAck.selector, 0, 0);
            } else {
                assembly ("memory-safe") {
                    start := sub(add(ack, 32), add(ret, 32))
                    size := mload(ack)
                }
            }
        }
        // Write the header right before the payload bytes (the words before them are the
        // return's own ABI head, or a fresh word), then return or revert raw.
        assembly ("memory-safe") {
            let body := add(add(ret, 32), start)
            let head := sub(body, 32)
            switch tag
            case 0 {
                mstore(head, used)
                return(head, add(size, 32))
            }
            default {
                let p := mload(0x40)
                mstore(p, tag)
                mstore(add(p, 4), used)
                mcopy(add(p, 36), body, size)
                revert(p, add(size, 36))
            }
        }
    }

    /// The 32-byte word at `data[o:o + 32]` (callers check the length).
    function _word(bytes memory data, uint256 o) private pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := mload(add(add(data, 32), o))
        }
    }

    /// `data[o:]` as bytes, in place: overwrites the word before it with its length
    /// (callers are done with what was there).
    function _tail(bytes memory data, uint256 o) private pure returns (bytes memory rest) {
        uint256 n = data.length - o;
        assembly ("memory-safe") {
            rest := add(data, o)
            mstore(rest, n)
        }
    }

    /// The gas rule of DESIGN §4: the app gets exactly `gasLimit`, and the whole call reverts
    /// when the transaction cannot give it that much, so a relayer cannot starve an app into
    /// an error-ack (or a refund callback into failing). Return data is copied only up to
    /// what an ack may hold, so an app cannot make the gateway pay for a huge return.
    function _callApp(address app, uint64 gasLimit, bytes memory data)
        private
        returns (bool ok, bytes memory ret, uint256 used)
    {
        uint256 need = (uint256(gasLimit) * 64) / 63 + APP_CALL_GAS_MARGIN;
        uint256 left = gasleft();
        if (left < need) revert InsufficientGasForApp(need, left);
        uint256 before = gasleft();
        uint256 size;
        assembly ("memory-safe") {
            ok := call(gasLimit, app, 0, add(data, 32), mload(data), 0, 0)
            size := returndatasize()
        }
        used = before - gasleft();
        ret = _returned(ok, size);
    }

    /// The last call's return data (`size` bytes), copied only up to what an entry can
    /// carry, so an app cannot make the gateway pay for a huge return: an ack is abi-encoded
    /// bytes of at most MAX_RESULT_BYTES (offset, length, padded data), and an oversized
    /// one comes back empty (which `_decodeAck` refuses); a revert reason is cut to the
    /// longest result an entry can carry.
    function _returned(bool ok, uint256 size) private pure returns (bytes memory ret) {
        uint256 cap = ok ? 64 + MAX_RESULT_BYTES : MAX_RESULT_BYTES;
        if (size > cap) {
            if (ok) return "";
            size = cap;
        }
        ret = new bytes(size);
        assembly ("memory-safe") {
            returndatacopy(add(ret, 32), 0, size)
        }
    }

    /// Decodes abi-encoded `bytes` of at most MAX_RESULT_BYTES without ever reverting.
    function _decodeAck(bytes memory ret) private pure returns (bool, bytes memory) {
        if (ret.length < 64) return (false, "");
        uint256 offset;
        uint256 len;
        assembly ("memory-safe") {
            offset := mload(add(ret, 32))
            len := mload(add(ret, 64))
        }
        if (offset != 32 || len > MAX_RESULT_BYTES || ret.length < 64 + len) return (false, "");
        // The length word of the encoding sits right before its bytes: read the ack in
        // place instead of copying it.
        bytes memory ack;
        assembly ("memory-safe") {
            ack := add(ret, 64)
        }
        return (true, ack);
    }

    /// The sequence an ordered space runs next: after the last one it ran or skipped, or,
    /// before any, the first one the hub's entries name.
    function _expectedSequence(bytes32 slot, Entry memory e) private view returns (uint64) {
        uint64 last = _receivedSequence[slot];
        return last == 0 ? e.orderedFrom : last + 1;
    }

    function _skipSequence(bytes calldata entry, Entry memory e, bytes32 key) private returns (bytes memory) {
        bytes32 slot = _routeSlot(entry, e);
        uint64 expected = _expectedSequence(slot, e);
        if (e.sequence < expected) return abi.encodeWithSelector(AlreadyDelivered.selector, key);
        if (e.sequence > expected) return abi.encodeWithSelector(OutOfOrder.selector, key, expected, e.sequence);
        _receivedSequence[slot] = e.sequence;
        emit SequenceSkipped(key, e.sequence);
        return "";
    }

    /// Ack, error-ack or timeout back at the source: the packet must still be pending here,
    /// and it stops being pending before the app hears of it, so there is one outcome.
    function _outcome(bytes calldata entry, Entry memory e, bytes32 key) private returns (bytes memory) {
        bytes32 pending = commitments[key];
        if (pending == 0) return abi.encodeWithSelector(PacketNotPending.selector, key);
        if (pending != _tagged(TAG_PACKET, entry[e.packetStart:e.packetEnd])) revert CommitmentMismatch(key);
        delete commitments[key];
        if (e.fee != 0) fees[msg.sender] += e.fee;

        address app = address(bytes20(entry[e.sourceAppStart + 4:e.sourceAppStart + 24]));
        string memory dest = string(entry[e.destChainStart + 4:e.destChainStart + 4 + e.destChainLen]);
        bytes calldata payload = entry[e.payloadStart:e.payloadStart + e.payloadLen];
        bytes memory data;
        if (e.kind == KIND_ACK) {
            data = abi.encodeCall(
                IJunctionApp.onAck, (dest, e.sequence, payload, entry[e.resultStart:e.resultStart + e.resultLen])
            );
        } else if (e.kind == KIND_ERROR_ACK) {
            data = abi.encodeCall(
                IJunctionApp.onError, (dest, e.sequence, payload, entry[e.resultStart:e.resultStart + e.resultLen])
            );
        } else {
            data = abi.encodeCall(IJunctionApp.onTimeout, (dest, e.sequence, payload));
        }
        // A failing callback is recorded, never allowed to block the batch or the outcome.
        // It runs with a bounded gas of its own: the packet's limit is the destination's.
        (bool ok, bytes memory err,) = _callApp(app, CALLBACK_GAS_LIMIT, data);
        emit OutcomeDelivered(key, e.kind, ok, ok ? bytes("") : err);
        return "";
    }

    /// Parses a LogEntry (spec/encoding.md) into offsets. The log root commits to these
    /// bytes, so parsing only has to be exact, not defensive about meaning.
    function _parseEntry(bytes calldata d, uint256 index) private pure returns (Entry memory e) {
        uint256 n = d.length;
        if (n < 6) revert MalformedEntry(index);
        e.kind = uint8(d[0]);
        if (e.kind < KIND_PACKET || e.kind > KIND_GATEWAY_RETIRED) revert MalformedEntry(index);
        uint256 o = 1;
        (e.targetStart, e.targetLen, o) = _chain(d, o, index);
        e.targetStart += 4;
        if (o + 9 > n) revert MalformedEntry(index);
        e.orderedFrom = uint64(_load(d, o) >> 192);
        e.ordered = e.orderedFrom != 0;
        e.packetStart = o + 8;
        if (uint8(d[o + 8]) != 1) revert MalformedEntry(index); // packet version
        o += 9;
        e.sourceChainStart = o;
        (, e.sourceChainLen, o) = _chain(d, o, index);
        e.sourceAppStart = o;
        (, e.sourceAppLen, o) = _bytes(d, o, MAX_APP_ID_LEN, index);
        if (o + 8 > n) revert MalformedEntry(index);
        e.sequenceStart = o;
        e.sequence = uint64(_load(d, o) >> 192);
        o += 8;
        e.destChainStart = o;
        (, e.destChainLen, o) = _chain(d, o, index);
        (e.destAppStart, e.destAppLen, o) = _bytes(d, o, MAX_APP_ID_LEN, index);
        (e.payloadStart, e.payloadLen, o) = _bytes(d, o, MAX_PAYLOAD_BYTES, index);
        if (o + 40 > n) revert MalformedEntry(index);
        e.timeoutHeight = uint64(_load(d, o) >> 192);
        e.timeoutTimeMs = uint64(_load(d, o + 8) >> 192);
        e.gasLimit = uint64(_load(d, o + 16) >> 192);
        e.fee = uint128(_load(d, o + 24) >> 128);
        o += 40;
        e.packetEnd = o;
        (e.resultStart, e.resultLen, o) = _bytes(d, o, MAX_RESULT_BYTES, index);
        if (o != n) revert MalformedEntry(index);
        // Outcomes go back to an EVM app: its id must be an address.
        if (e.kind >= KIND_ACK && e.kind <= KIND_TIMEOUT && e.sourceAppLen != 20) revert MalformedEntry(index);
    }

    function _chain(bytes calldata d, uint256 o, uint256 index) private pure returns (uint256, uint256, uint256) {
        (uint256 start, uint256 len, uint256 end) = _bytes(d, o, MAX_CHAIN_ID_LEN, index);
        if (len == 0) revert MalformedEntry(index);
        return (start - 4, len, end);
    }

    /// A u32-length-prefixed field at `o`: returns where its bytes start, its length and
    /// the offset after it.
    function _bytes(bytes calldata d, uint256 o, uint256 max, uint256 index)
        private
        pure
        returns (uint256, uint256, uint256)
    {
        // Offsets stay within calldata and lengths within u32, so nothing here can overflow.
        unchecked {
            if (o + 4 > d.length) revert MalformedEntry(index);
            uint256 len = _u32(d, o);
            if (len > max || o + 4 + len > d.length) revert MalformedEntry(index);
            return (o + 4, len, o + 4 + len);
        }
    }

    /// PacketKey encoding = source chain || source app || destination chain || sequence,
    /// all already encoded inside the packet (where the sequence sits before the chain).
    function _keyHash(bytes calldata d, Entry memory e) private view returns (bytes32) {
        return sha256(
            abi.encodePacked(
                TAG_PACKET_KEY,
                TAG_PACKET_KEY,
                d[e.sourceChainStart:e.sequenceStart],
                d[e.destChainStart:e.destChainStart + 4 + e.destChainLen],
                d[e.sequenceStart:e.sequenceStart + 8]
            )
        );
    }

    function _routeSlot(bytes calldata d, Entry memory e) private pure returns (bytes32) {
        return keccak256(d[e.sourceChainStart:e.sequenceStart]);
    }

    // ------------------------------------------------------------------ hashing helpers

    function _tagged(bytes32 tag, bytes calldata data) private pure returns (bytes32) {
        return sha256(abi.encodePacked(tag, tag, data));
    }

    function _taggedMemory(bytes32 tag, bytes memory data) private pure returns (bytes32) {
        return sha256(abi.encodePacked(tag, tag, data));
    }

    function _ackCommitment(uint8 kind, bytes calldata result) private view returns (bytes32) {
        return sha256(abi.encodePacked(TAG_ACK_COMMITMENT, TAG_ACK_COMMITMENT, kind, uint32(result.length), result));
    }

    /// `_ackCommitment` of a result in memory, hashed from a scratch buffer past the free
    /// memory pointer (it runs once per delivered packet).
    function _ackCommitmentMemory(uint8 kind, bytes memory result) private view returns (bytes32 h) {
        bytes32 tag = TAG_ACK_COMMITMENT;
        assembly ("memory-safe") {
            let len := mload(result)
            let p := mload(0x40)
            mstore(p, tag)
            mstore(add(p, 32), tag)
            mstore8(add(p, 64), kind)
            mstore(add(p, 65), shl(224, len))
            mcopy(add(p, 69), add(result, 32), len)
            if iszero(staticcall(gas(), 2, p, add(len, 69), 0, 32)) { revert(0, 0) }
            h := mload(0)
        }
    }

    // ------------------------------------------------------------------ bytes helpers

    /// 32 bytes of calldata from `d[o]`; callers check that the bytes they use are in `d`.
    function _load(bytes calldata d, uint256 o) private pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := calldataload(add(d.offset, o))
        }
    }

    /// keccak256 of `d[start:start + len]`, for fields the parser already bounded (a slice
    /// would check the bounds again on every entry).
    function _keccakAt(bytes calldata d, uint256 start, uint256 len) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            calldatacopy(p, add(d.offset, start), len)
            h := keccak256(p, len)
        }
    }

    /// 32 bytes of memory from `d[o]` (may read past the end; callers check lengths).
    function _mload(bytes memory d, uint256 o) private pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := mload(add(add(d, 32), o))
        }
    }

    function _u32(bytes calldata d, uint256 o) private pure returns (uint256) {
        return _load(d, o) >> 224;
    }

    /// Bits needed to write `x` (0 for 0), by halving the width instead of one bit a step.
    function _bitLen(uint256 x) private pure returns (uint256 n) {
        assembly ("memory-safe") {
            let b := shl(7, gt(x, 0xffffffffffffffffffffffffffffffff))
            x := shr(b, x)
            n := b
            b := shl(6, gt(x, 0xffffffffffffffff))
            x := shr(b, x)
            n := or(n, b)
            b := shl(5, gt(x, 0xffffffff))
            x := shr(b, x)
            n := or(n, b)
            b := shl(4, gt(x, 0xffff))
            x := shr(b, x)
            n := or(n, b)
            b := shl(3, gt(x, 0xff))
            x := shr(b, x)
            n := or(n, b)
            b := shl(2, gt(x, 0xf))
            x := shr(b, x)
            n := or(n, b)
            b := shl(1, gt(x, 0x3))
            x := shr(b, x)
            n := or(n, b)
            // x is now 0..3
            n := add(n, add(gt(x, 1), iszero(iszero(x))))
        }
    }

    function _popCount(uint256 x) private pure returns (uint256 n) {
        while (x != 0) {
            n += x & 1;
            x >>= 1;
        }
    }

    function _validChainId(bytes memory id) private pure returns (bool) {
        if (id.length == 0 || id.length > MAX_CHAIN_ID_LEN) return false;
        for (uint256 i = 0; i < id.length; i++) {
            bytes1 c = id[i];
            bool ok = (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "." || c == "_" || c == "-";
            if (!ok) return false;
        }
        return true;
    }
}
