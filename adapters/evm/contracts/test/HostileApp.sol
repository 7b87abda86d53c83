// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IJunctionApp} from "../IJunctionApp.sol";

/// @title A destination app that changes its state and then answers with something that is
/// not a valid ack, for the gateway's tests (never deployed outside them).
/// @notice `onReceive` first records the packet (`runs`, `credited`), as an app that mints
/// would, then answers by the last byte of the payload's second word (a `TokenEscrow`
/// payload's recipient address): 0 a valid ack; 1 an ack over the 1,024-byte cap; 2 a
/// return that is not abi-encoded `bytes`; 3 a 100 KB return (a return bomb); 4 a revert.
/// Whatever it answers but 0, its effects must not stand.
contract HostileApp is IJunctionApp {
    address public immutable gateway;
    uint256 public runs;
    uint256 public credited;

    constructor(address gateway_) {
        gateway = gateway_;
    }

    function onReceive(string calldata, bytes calldata, uint64, bytes calldata payload)
        external
        returns (bytes memory)
    {
        require(msg.sender == gateway, "not the gateway");
        runs += 1;
        credited += payload.length;
        uint8 mode = payload.length < 64 ? 0 : uint8(payload[63]);
        if (mode == 1) {
            return new bytes(2_000);
        }
        if (mode == 2) {
            assembly {
                mstore(0, 7)
                return(0, 32)
            }
        }
        if (mode == 3) {
            assembly {
                // Looks like bytes (offset 32) with a 99,936-byte length, padded out.
                mstore(0, 32)
                mstore(32, 99936)
                return(0, 100000)
            }
        }
        if (mode == 4) {
            revert("hostile: no");
        }
        return "fine";
    }

    function onAck(string calldata, uint64, bytes calldata, bytes calldata) external {}

    function onError(string calldata, uint64, bytes calldata, bytes calldata) external {}

    function onTimeout(string calldata, uint64, bytes calldata) external {}
}
