pragma circom 2.0.0;

// The claim statement of CLAIM-SPEC.md (threshold circuits) in circom, with circomlib's Poseidon,
// Num2Bits and comparators: airprover's reference circuit for the snarkjs side of the benchmark.
// Public signals, in this order: [root, campaignId, claimant, nullifier, threshold] (all public
// inputs, declared in that order; no outputs, so snarkjs keeps that order).
//
// Slots: used[j] says slot j holds an attestation; the used slots are a prefix (slot 0 always).
include "poseidon.circom";
include "bitify.circom";
include "comparators.circom";

// One level of a Merkle path: Poseidon(left, right), the index bit choosing the side.
template PathLevel() {
    signal input node;
    signal input sibling;
    signal input bit;
    signal output parent;
    signal left;
    left <== node + bit * (sibling - node);
    component hash = Poseidon(2);
    hash.inputs[0] <== left;
    hash.inputs[1] <== node + sibling - left;
    parent <== hash.out;
}

template ThresholdClaim(D, K) {
    signal input root;
    signal input campaignId;
    signal input claimant;
    signal input nullifier;
    signal input threshold;

    signal input secret;
    signal input used[K];
    signal input index[K];
    signal input attester[K];
    signal input weight[K];
    signal input siblings[K][D];

    // The public inputs are what the spec says: an address and a 64-bit threshold.
    component claimantBits = Num2Bits(160);
    claimantBits.in <== claimant;
    component thresholdBits = Num2Bits(64);
    thresholdBits.in <== threshold;

    component commitment = Poseidon(1);
    commitment.inputs[0] <== secret;
    component nullifierHash = Poseidon(2);
    nullifierHash.inputs[0] <== secret;
    nullifierHash.inputs[1] <== campaignId;
    nullifierHash.out === nullifier;

    component indexBits[K];
    component weightBits[K];
    component leaf[K];
    component levels[K][D];
    component ordered[K];
    signal usedWeight[K];
    signal sum[K + 1];
    sum[0] <== 0;
    used[0] === 1;
    for (var j = 0; j < K; j++) {
        used[j] * (used[j] - 1) === 0;
        if (j > 0) {
            // A used slot follows a used slot, and indices strictly increase.
            used[j] * (1 - used[j - 1]) === 0;
            ordered[j] = LessThan(D);
            ordered[j].in[0] <== index[j - 1];
            ordered[j].in[1] <== index[j];
            used[j] * (1 - ordered[j].out) === 0;
        }
        indexBits[j] = Num2Bits(D);
        indexBits[j].in <== index[j];
        weightBits[j] = Num2Bits(32);
        weightBits[j].in <== weight[j];

        leaf[j] = Poseidon(3);
        leaf[j].inputs[0] <== attester[j];
        leaf[j].inputs[1] <== commitment.out;
        leaf[j].inputs[2] <== weight[j];
        for (var l = 0; l < D; l++) {
            levels[j][l] = PathLevel();
            levels[j][l].node <== l == 0 ? leaf[j].out : levels[j][l - 1].parent;
            levels[j][l].sibling <== siblings[j][l];
            levels[j][l].bit <== indexBits[j].out[l];
        }
        // A used slot's path reaches the root.
        (levels[j][D - 1].parent - root) * used[j] === 0;
        usedWeight[j] <== used[j] * weight[j];
        sum[j + 1] <== sum[j] + usedWeight[j];
    }
    // sum < K * 2^32 and threshold < 2^64: both fit the comparator's 64 bits.
    component enough = GreaterEqThan(64);
    enough.in[0] <== sum[K];
    enough.in[1] <== threshold;
    enough.out === 1;
}
