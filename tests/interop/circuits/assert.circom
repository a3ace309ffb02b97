pragma circom 2.0.0;

// A circom assert for the witness tests: a zero `x` fails it (WITNESS_FAILED, with circom's
// message naming the template and line).
template NonZero() {
    signal input x;
    signal output inverse;
    assert(x != 0);
    inverse <-- 1 / x;
    inverse * x === 1;
}

component main = NonZero();
