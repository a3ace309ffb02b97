pragma circom 2.0.0;

// square-chain-{N} of the claim spec, for snarkjs: one public input x0, one public output y,
// N multiplication constraints x[i+1] = x[i] * x[i], y = x[N]. (snarkjs lists outputs first, so
// its public signals are [y, x0]; airprover's are [x0, y].)
template SquareChain(N) {
    signal input x0;
    signal output y;
    signal x[N + 1];
    x[0] <== x0;
    for (var i = 0; i < N; i++) {
        x[i + 1] <== x[i] * x[i];
    }
    y <== x[N];
}
