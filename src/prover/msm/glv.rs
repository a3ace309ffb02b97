//! The GLV endomorphism of BN254 (Gallant, Lambert, Vanstone 2001).
//!
//! Both groups are curves `y^2 = x^3 + b` (G2 over Fq2), where `(x, y) -> (beta * x, y)` for a
//! cube root of unity beta in Fq maps every point of the order-r subgroup to `LAMBDA` times it,
//! LAMBDA a cube root of unity mod r. A 254-bit scalar k is split as `k = k1 + LAMBDA * k2 mod r`
//! with `|k1|, |k2| < 2^127`, so an MSM of n points with 254-bit scalars becomes one of 2n points
//! with 127-bit scalars: half the windows, so half the bucket sums. For G1 the matching beta is
//! [`BETA_G1`], for G2 the other root [`BETA_G2`]; tests check both against arkworks.
//!
//! The split is the usual one with a reduced lattice basis `(A1, B1), (A2, B2)` of
//! `{(a, b) : a + b * LAMBDA = 0 mod r}` (`scripts/gen-glv.py` derives the constants):
//! `c1 = round(B2 * k / r)`, `c2 = round(-B1 * k / r)`, `k1 = k - c1 * A1 - c2 * A2`,
//! `k2 = -c1 * B1 - c2 * B2`. The divisions by r are multiplications by `round(2^256 * B / r)`
//! and a shift; an error of one in c1 or c2 keeps `|k1|, |k2|` below 2^127 (tested), and k1, k2
//! are computed modulo 2^128 since they are known to fit.

/// The eigenvalue: `phi(P) = LAMBDA * P` on both groups. Little-endian words.
pub const LAMBDA: [u64; 4] = [
    0x8b17ea66b99c90dd,
    0x5bfc41088d8daaa7,
    0xb3c4d79d41a91758,
    0x0,
];
/// The cube root of unity in Fq whose endomorphism of G1 has eigenvalue LAMBDA (canonical words).
pub const BETA_G1: [u64; 4] = [
    0x5763473177fffffe,
    0xd4f263f1acdb5c4f,
    0x59e26bcea0d48bac,
    0x0,
];
/// The cube root of unity in Fq whose endomorphism of G2 has eigenvalue LAMBDA (canonical words).
pub const BETA_G2: [u64; 4] = [
    0xe4bd44e5607cfd48,
    0xc28f069fbb966e3d,
    0x5e6dd9e7e0acccb0,
    0x30644e72e131a029,
];

/// round(B2 * 2^256 / r), little-endian words.
const G1: [u64; 3] = [0xd91d232ec7e0b3d7, 0x2, 0x0];
/// round(-B1 * 2^256 / r), little-endian words.
const G2: [u64; 3] = [0x7a7bd9d4391eb18e, 0x4ccef014a773d2cf, 0x2];
const A1: u128 = 0x89d3256894d213e3;
const MINUS_B1: u128 = 0x6f4d8248eeb859fc8211bbeb7d4f1128;
const A2: u128 = 0x6f4d8248eeb859fd0be4e1541221250b;
const B2: u128 = 0x89d3256894d213e3;

/// `floor(k * g / 2^256)`, known to fit 128 bits.
fn mul_shift(k: &[u64; 4], g: &[u64; 3]) -> u128 {
    let mut t = [0u64; 7];
    for (i, &ki) in k.iter().enumerate() {
        let mut carry = 0u128;
        for (j, &gj) in g.iter().enumerate() {
            let v = (ki as u128) * (gj as u128) + t[i + j] as u128 + carry;
            t[i + j] = v as u64;
            carry = v >> 64;
        }
        t[i + 3] = carry as u64;
    }
    (t[4] as u128) | ((t[5] as u128) << 64)
}

/// `(k1, k2)` with `k = k1 + LAMBDA * k2 (mod r)` and both below 2^127 in absolute value, for a
/// canonical scalar `k < r` (little-endian words).
pub fn decompose(k: &[u64; 4]) -> (i128, i128) {
    let c1 = mul_shift(k, &G1);
    let c2 = mul_shift(k, &G2);
    let k_low = (k[0] as u128) | ((k[1] as u128) << 64);
    let k1 = k_low
        .wrapping_sub(c1.wrapping_mul(A1))
        .wrapping_sub(c2.wrapping_mul(A2));
    let k2 = c1.wrapping_mul(MINUS_B1).wrapping_sub(c2.wrapping_mul(B2));
    (k1 as i128, k2 as i128)
}
