// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

/// @title The verifier of a reputation claim circuit (five public signals)
/// @notice The interface of the contract `airprover export-verifier` writes, which is also
/// snarkjs's: either verifier can stand behind an airdrop.
interface IGroth16Verifier {
    /// @return Whether the proof verifies for the public signals
    /// `[root, campaignId, claimant, nullifier, threshold or score]` (claim spec order).
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[5] calldata pubSignals
    ) external view returns (bool);
}
