// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IJunctionApp, IJunctionGateway} from "./IJunctionApp.sol";

/// @title A minimal token with a cross-chain escrow, as a sample Junction app.
/// @notice Sending locks the sender's tokens here; the escrow on the destination chain mints
/// the same amount to the recipient when the packet runs. An ack makes the lock final (the
/// tokens now back the ones minted over there); an error-ack or a timeout refunds the sender.
/// @dev A sample, not a product: it trusts every source app the hub's route policy lets
/// through (the council decides which apps may talk), and it has no owner either.
contract TokenEscrow is IJunctionApp {
    address public immutable gateway;

    mapping(address => uint256) public balanceOf;
    /// Tokens locked for packets still waiting for their outcome.
    uint256 public pending;
    /// Tokens locked for good: they back tokens minted on other chains.
    uint256 public escrowed;
    /// Tokens minted here for packets from other chains.
    uint256 public minted;

    error NotGateway();
    error InsufficientBalance(uint256 have, uint256 want);
    error ZeroRecipient();
    error ZeroAmount();

    event Locked(uint64 indexed sequence, address indexed sender, address recipient, uint256 amount);
    event Minted(string sourceChain, uint64 indexed sequence, address indexed recipient, uint256 amount);
    event Released(uint64 indexed sequence, uint256 amount);
    event Refunded(uint64 indexed sequence, address indexed sender, uint256 amount, bool timedOut);

    constructor(address gateway_, uint256 initialSupply) {
        gateway = gateway_;
        balanceOf[msg.sender] = initialSupply;
    }

    modifier onlyGateway() {
        if (msg.sender != gateway) revert NotGateway();
        _;
    }

    function transfer(address to, uint256 amount) external {
        _debit(msg.sender, amount);
        balanceOf[to] += amount;
    }

    /// Locks `amount` and asks the gateway to mint it to `recipient` through `destEscrow`
    /// on `destChain`. `msg.value` is the relayer fee.
    function lockAndSend(
        string calldata destChain,
        address destEscrow,
        address recipient,
        uint256 amount,
        uint64 timeoutHeight,
        uint64 timeoutTimeMs,
        uint64 gasLimit
    ) external payable returns (uint64 sequence) {
        if (amount == 0) revert ZeroAmount();
        _debit(msg.sender, amount);
        pending += amount;
        // The payload carries the sender, so refunds need no per-packet storage here: the
        // gateway only calls back with a payload it proved against its own commitment.
        bytes memory payload = abi.encode(msg.sender, recipient, amount);
        sequence = IJunctionGateway(gateway).send{value: msg.value}(
            destChain, abi.encodePacked(destEscrow), payload, timeoutHeight, timeoutTimeMs, gasLimit
        );
        emit Locked(sequence, msg.sender, recipient, amount);
    }

    /// Mints to the recipient. Reverts (so the sender is refunded through an error-ack) on a
    /// zero recipient or amount.
    function onReceive(string calldata sourceChain, bytes calldata, uint64 sequence, bytes calldata payload)
        external
        onlyGateway
        returns (bytes memory)
    {
        (, address recipient, uint256 amount) = abi.decode(payload, (address, address, uint256));
        if (recipient == address(0)) revert ZeroRecipient();
        if (amount == 0) revert ZeroAmount();
        balanceOf[recipient] += amount;
        minted += amount;
        emit Minted(sourceChain, sequence, recipient, amount);
        return abi.encode(amount);
    }

    function onAck(string calldata, uint64 sequence, bytes calldata payload, bytes calldata) external onlyGateway {
        (,, uint256 amount) = abi.decode(payload, (address, address, uint256));
        pending -= amount;
        escrowed += amount;
        emit Released(sequence, amount);
    }

    function onError(string calldata, uint64 sequence, bytes calldata payload, bytes calldata) external onlyGateway {
        _refund(sequence, payload, false);
    }

    function onTimeout(string calldata, uint64 sequence, bytes calldata payload) external onlyGateway {
        _refund(sequence, payload, true);
    }

    function _refund(uint64 sequence, bytes calldata payload, bool timedOut) private {
        (address sender,, uint256 amount) = abi.decode(payload, (address, address, uint256));
        pending -= amount;
        balanceOf[sender] += amount;
        emit Refunded(sequence, sender, amount, timedOut);
    }

    function _debit(address from, uint256 amount) private {
        uint256 have = balanceOf[from];
        if (have < amount) revert InsufficientBalance(have, amount);
        balanceOf[from] = have - amount;
    }
}
