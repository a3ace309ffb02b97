// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IGroth16Verifier} from "./IGroth16Verifier.sol";

/// @title A token airdrop paid once per identity to whoever proves a reputation claim
/// @notice A claimant proves, with airprover, that attestations in a tree whose root the operator
/// published add up to the campaign's threshold (or exactly its score). The tokens go to the
/// claimant address bound in the proof, whoever sends the transaction: a relayer or a front-runner
/// can submit a claim but cannot redirect it.
contract ReputationAirdrop is Ownable {
    using SafeERC20 for IERC20;

    /// How the proof's last public signal must relate to the campaign's target.
    enum Rule {
        /// Threshold circuits: the proven threshold is at least the campaign's (the sum is at
        /// least the proven threshold, so it is at least the campaign's too).
        AtLeast,
        /// Exact circuits: the proven score is the campaign's.
        Exactly
    }

    // Public signals, in the claim spec's order.
    uint256 private constant ROOT = 0;
    uint256 private constant CAMPAIGN = 1;
    uint256 private constant CLAIMANT = 2;
    uint256 private constant NULLIFIER = 3;
    uint256 private constant TARGET = 4;
    /// BN254's scalar field modulus: public signals (the campaign id among them) are below it.
    uint256 private constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// The verifier of the campaign's circuit (its verifying key fixes depth and K).
    IGroth16Verifier public immutable verifier;
    /// The token paid out; this contract must hold enough of it.
    IERC20 public immutable token;
    /// Bound into every nullifier: one claim per identity per campaign. It is this deployment's
    /// own, `campaignIdOf(block.chainid, address(this))`, so that a proof for one deployment is
    /// never paid by another (another chain, a redeploy).
    uint256 public immutable campaignId;
    /// AtLeast (threshold circuits) or Exactly (exact circuits).
    Rule public immutable rule;
    /// The threshold (AtLeast) or the score (Exactly).
    uint256 public immutable target;
    /// Tokens paid per claim.
    uint256 public immutable amount;

    /// Attestation roots the operator published; several can be live while claimants move to a
    /// republished tree.
    mapping(uint256 root => bool) public published;
    /// Nullifiers of the claims paid.
    mapping(uint256 nullifier => bool) public claimed;

    /// The operator published (`live`) or withdrew a root.
    event RootSet(uint256 indexed root, bool live);
    /// A claim was paid.
    event Claimed(address indexed claimant, uint256 indexed nullifier, uint256 root, uint256 amount);

    /// The proof is against a root the operator has not published (or withdrew).
    error RootNotPublished(uint256 root);
    /// The proof is for another campaign.
    error WrongCampaign(uint256 expected, uint256 given);
    /// The proven threshold is below the campaign's.
    error ThresholdBelowCampaign(uint256 required, uint256 given);
    /// The proven score is not the campaign's.
    error ScoreMismatch(uint256 required, uint256 given);
    /// The claimant signal does not fit in an address (the circuit forbids it; checked so that
    /// no cast ever truncates).
    error ClaimantNotAnAddress(uint256 given);
    /// This identity has already claimed in this campaign.
    error NullifierUsed(uint256 nullifier);
    /// The proof does not verify for these public signals.
    error InvalidProof();
    /// The constructor's campaign id is not this deployment's (`campaignIdOf`).
    error CampaignNotBound(uint256 expected, uint256 given);

    constructor(
        address operator,
        IGroth16Verifier verifier_,
        IERC20 token_,
        uint256 campaignId_,
        Rule rule_,
        uint256 target_,
        uint256 amount_
    ) Ownable(operator) {
        uint256 bound = campaignIdOf(block.chainid, address(this));
        if (campaignId_ != bound) revert CampaignNotBound(bound, campaignId_);
        verifier = verifier_;
        token = token_;
        campaignId = campaignId_;
        rule = rule_;
        target = target_;
        amount = amount_;
    }

    /// @notice The campaign id of the airdrop at `airdrop` on chain `chainId`:
    /// keccak256(abi.encode(chainId, airdrop)) mod r. A deployer knows it before deploying (a
    /// contract's address follows from its deployer and nonce); `airprover campaign-id` computes
    /// it the same way.
    function campaignIdOf(uint256 chainId, address airdrop) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(chainId, airdrop))) % FIELD_MODULUS;
    }

    /// @notice Publishes (`live`) or withdraws an attestation root. Operator only.
    function setRoot(uint256 root, bool live) external onlyOwner {
        published[root] = live;
        emit RootSet(root, live);
    }

    /// @notice Pays `amount` to the claimant bound in the proof, once per nullifier. The cheap
    /// checks come first, so that a refused claim costs little; the calldata is that of
    /// `airprover calldata` (or `snarkjs zkey export soliditycalldata`).
    function claim(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[5] calldata pubSignals
    ) external {
        uint256 root = pubSignals[ROOT];
        if (!published[root]) revert RootNotPublished(root);
        if (pubSignals[CAMPAIGN] != campaignId) revert WrongCampaign(campaignId, pubSignals[CAMPAIGN]);
        uint256 proven = pubSignals[TARGET];
        if (rule == Rule.AtLeast) {
            if (proven < target) revert ThresholdBelowCampaign(target, proven);
        } else if (proven != target) {
            revert ScoreMismatch(target, proven);
        }
        if (pubSignals[CLAIMANT] > type(uint160).max) revert ClaimantNotAnAddress(pubSignals[CLAIMANT]);
        uint256 nullifier = pubSignals[NULLIFIER];
        if (claimed[nullifier]) revert NullifierUsed(nullifier);
        // The verifier also refuses signals not below the field modulus, so a nullifier cannot
        // come back as nullifier + r.
        if (!verifier.verifyProof(pA, pB, pC, pubSignals)) revert InvalidProof();

        claimed[nullifier] = true;
        address claimant = address(uint160(pubSignals[CLAIMANT]));
        emit Claimed(claimant, nullifier, root, amount);
        token.safeTransfer(claimant, amount);
    }
}
