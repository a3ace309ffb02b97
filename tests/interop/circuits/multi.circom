pragma circom 2.0.0;

// Several public inputs and outputs for the circom fixtures (snarkjs orders public signals as
// the outputs, then the public inputs): Poseidon of a private preimage, its sum with a public
// offset, and a range-checked product.
include "poseidon.circom";
include "bitify.circom";

template Multi() {
    signal input offset;
    signal input scale;
    signal input secret[2];
    signal output hash;
    signal output shifted;
    signal output scaled;

    component h = Poseidon(2);
    h.inputs[0] <== secret[0];
    h.inputs[1] <== secret[1];
    hash <== h.out;
    shifted <== secret[0] + offset;
    scaled <== secret[1] * scale;
    // scaled fits 64 bits.
    component bits = Num2Bits(64);
    bits.in <== scaled;
}

component main {public [offset, scale]} = Multi();
