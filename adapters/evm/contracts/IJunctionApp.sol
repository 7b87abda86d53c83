// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title What a Junction gateway calls on an application.
/// @notice The gateway calls every function below with exactly the packet's `gas_limit`,
/// and only after proving the call from a hub checkpoint; an app must still check
/// `msg.sender == gateway`, since anyone can call it directly.
interface IJunctionApp {
    /// A packet for this app arrived. Whatever is returned becomes the acknowledgement
    /// (at most 1,024 bytes) that the hub carries back to the sender; a revert becomes an
    /// error-ack whose reason is the revert data. Either way the packet is used up.
    function onReceive(string calldata sourceChain, bytes calldata sourceApp, uint64 sequence, bytes calldata payload)
        external
        returns (bytes memory ack);

    /// The destination app ran the packet this app sent and returned `ack`.
    function onAck(string calldata destChain, uint64 sequence, bytes calldata payload, bytes calldata ack) external;

    /// The packet will never run: the destination app reverted or the hub's route policy
    /// refused it. `reason` is the revert data or the policy reason.
    function onError(string calldata destChain, uint64 sequence, bytes calldata payload, bytes calldata reason)
        external;

    /// The packet passed its deadline on the destination chain without being delivered.
    function onTimeout(string calldata destChain, uint64 sequence, bytes calldata payload) external;
}

/// @title The sending side of a Junction gateway, as apps see it.
interface IJunctionGateway {
    /// Commit a packet for the hub to carry to `destApp` on `destChain`. The caller is the
    /// source app; `msg.value` is the relayer fee. Returns the packet's sequence.
    function send(
        string calldata destChain,
        bytes calldata destApp,
        bytes calldata payload,
        uint64 timeoutHeight,
        uint64 timeoutTimeMs,
        uint64 gasLimit
    ) external payable returns (uint64 sequence);
}
