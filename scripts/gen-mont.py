#!/usr/bin/env python3
"""Writes src/prover/msm/mont.rs: Montgomery multiplication and squaring for nine 29-bit limbs,
the limb products by Karatsuba, then the reduction column by column; and, with `scanned`,
src/prover/msm/mont_scanned.rs, the product-scanned versions they replaced (tests, benchmark).

    python3 scripts/gen-mont.py > src/prover/msm/mont.rs && rustfmt src/prover/msm/mont.rs
    python3 scripts/gen-mont.py scanned > src/prover/msm/mont_scanned.rs && rustfmt src/prover/msm/mont_scanned.rs

Unrolled by a script because the point is that every limb and accumulator is a local (a register
or a stack slot the engine picks), with no loop left for the wasm engine to optimise (the small
fixed arrays handed to the inlined `karatsuba` are scalarised by LLVM before any wasm is
written). The arithmetic is explained in src/prover/msm/field.rs; the tests there compare it with
arkworks on random and extreme inputs.
"""
N = 9


def products(k, square):
    """The limb products of column k: `a_i * b_j` with i + j = k (for a square, each pair once,
    the doubled factor `d_j = 2 a_j` standing in for the pair's two orders)."""
    terms = []
    for i in range(N):
        j = k - i
        if not 0 <= j < N:
            continue
        if square:
            if j < i:
                continue
            terms.append(f"a{i} * a{i}" if i == j else f"a{i} * d{j}")
        else:
            terms.append(f"a{i} * b{j}")
    return terms


def montgomery_columns(terms_of, comments):
    """Product scanning with the reduction interleaved: column k adds `terms_of(k)` and every
    `m_i * p_j` with i + j = k; the first N columns choose m_k, the last N - 1 give the result."""
    lines = ["    let mut acc: u64;", "    let mut carry: u64 = 0;"]
    for k in range(2 * N - 1):
        terms = list(terms_of(k))
        for i in range(min(k, N)):
            j = k - i
            if 1 <= j < N:
                terms.append(f"m{i} * p[{j}]")
        if comments:
            lines.append(f"    // column {k}")
        lines.append("    acc = carry + " + " + ".join(terms) + ";")
        if k < N:
            lines.append(f"    let m{k} = acc.wrapping_mul(M::INV) & MASK;")
            lines.append(f"    acc += m{k} * p[0];")
            lines.append("    carry = acc >> BITS;")
        else:
            lines.append(f"    let r{k - N} = acc & MASK;")
            lines.append("    carry = acc >> BITS;")
    lines.append(f"    let r{N - 1} = carry;")
    lines.append("    [" + ", ".join(f"r{i} as u32" for i in range(N)) + "]")
    return lines


def limbs(name):
    return [f"    let {name}{i} = {name}[{i}] as u64;" for i in range(N)]


def scanned(square):
    """The product (or square) scanned column by column with the reduction interleaved: the
    product before Karatsuba, for `mont_scanned.rs`."""
    if square:
        lines = [
            "/// `a * a / 2^261 mod p`, below 2p: 45 + 81 + 9 limb products, product-scanned with the",
            "/// reduction interleaved (what `mont::sqr` was before Karatsuba).",
            "#[inline(always)]",
            "pub(super) fn sqr<M: Modulus>(a: &[u32; LIMBS]) -> [u32; LIMBS] {",
        ]
    else:
        lines = [
            "/// `a * b / 2^261 mod p`, below 2p: 81 + 81 + 9 limb products, product-scanned with the",
            "/// reduction interleaved (what `mont::mul` was before Karatsuba).",
            "#[inline(always)]",
            "pub(super) fn mul<M: Modulus>(a: &[u32; LIMBS], b: &[u32; LIMBS]) -> [u32; LIMBS] {",
        ]
    lines.append("    let p = &M::P;")
    lines += limbs("a")
    if square:
        for i in range(1, N):
            lines.append(f"    let d{i} = a{i} << 1;")
    else:
        lines += limbs("b")
    lines += montgomery_columns(lambda k: products(k, square), comments=True)
    lines.append("}")
    return "\n".join(lines)


def karatsuba_products():
    """`mul` and `sqr`: the Karatsuba columns, then the reduction."""
    return "\n".join([
        "/// `a * b / 2^261 mod p`, below 2p: the columns by Karatsuba ([`columns`]), then [`reduce`]",
        "/// (54 + 81 limb products and 9 for the `m_k`, against 81 + 81 + 9 product-scanned with the",
        "/// reduction interleaved, `mont_scanned`: about 13% faster in Chromium, `make bench-simd-mont`).",
        "#[inline(always)]",
        "pub(super) fn mul<M: Modulus>(a: &[u32; LIMBS], b: &[u32; LIMBS]) -> [u32; LIMBS] {",
        "    reduce::<M>(&columns(a, b))",
        "}",
        "",
        "/// `a * a / 2^261 mod p`, below 2p: the columns by Karatsuba squaring ([`square_columns`],",
        "/// 36 limb products), then [`reduce`].",
        "#[inline(always)]",
        "pub(super) fn sqr<M: Modulus>(a: &[u32; LIMBS]) -> [u32; LIMBS] {",
        "    reduce::<M>(&square_columns(a))",
        "}",
    ])


def wrapping(terms):
    """`terms` (`(sign, expr)` pairs, the first positive) summed with wrapping u64 arithmetic."""
    first = terms[0][1]
    if len(terms) == 1:
        return first
    simple = first.replace("[", "").replace("]", "").isidentifier()
    out = first if simple else f"({first})"
    for sign, expr in terms[1:]:
        out += f".wrapping_{'add' if sign > 0 else 'sub'}({expr})"
    return out


def block(name, x, y):
    """A 3-limb by 3-limb schoolbook product as five columns `{name}0..{name}4`."""
    lines = []
    for k in range(5):
        terms = [(1, f"{x[i]} * {y[k - i]}") for i in range(3) if 0 <= k - i < 3]
        lines.append(f"    let {name}{k} = {wrapping(terms)};")
    return lines


def square_block(name, x):
    """A 3-limb square as five columns `{name}0..{name}4`, each cross product once with a
    doubled factor: six limb products."""
    return [
        f"    let {name}0 = {x[0]} * {x[0]};",
        f"    let {name}1 = {x[0]} * ({x[1]} << 1);",
        f"    let {name}2 = ({x[0]} * ({x[2]} << 1)).wrapping_add({x[1]} * {x[1]});",
        f"    let {name}3 = {x[1]} * ({x[2]} << 1);",
        f"    let {name}4 = {x[2]} * {x[2]};",
    ]


PAIRS = [(0, 1), (0, 2), (1, 2)]


def karatsuba_call(lines):
    """Ends `columns` or `square_columns`: their blocks `p{i}_`, sums `s{i}{j}_` into [`karatsuba`]."""
    blocks = lambda names: "[" + ", ".join("[" + ", ".join(f"{n}{d}" for d in range(5)) + "]" for n in names) + "]"
    lines.append(f"    karatsuba({blocks([f'p{i}_' for i in range(3)])}, {blocks([f's{i}{j}_' for i, j in PAIRS])})")
    lines.append("}")


def karatsuba():
    """The columns of a Karatsuba product from its block products `p` and the products of the
    blocks' sums `s`, shared by `columns` and `square_columns`."""
    lines = [
        "/// The 17 columns of a product from Karatsuba's six block products (five columns each): `p[i]`",
        "/// is block i's own product (at place `6i`), `s` the products of the blocks' sums (0, 1), (0, 2),",
        "/// (1, 2), whose cross terms `s - p[i] - p[j]` land at place `3(i + j)`. Wrapping throughout.",
        "#[inline(always)]",
        "fn karatsuba(p: [[u64; 5]; 3], s: [[u64; 5]; 3]) -> [u64; COLUMNS] {",
        "    [",
    ]
    for k in range(2 * N - 1):
        terms = []
        for i in range(3):
            d = k - 6 * i
            if 0 <= d < 5:
                terms.append((1, f"p[{i}][{d}]"))
        for n, (i, j) in enumerate(PAIRS):
            d = k - 3 * (i + j)
            if 0 <= d < 5:
                terms += [(1, f"s[{n}][{d}]"), (-1, f"p[{i}][{d}]"), (-1, f"p[{j}][{d}]")]
        lines.append(f"        {wrapping(terms)},")
    lines.append("    ]")
    lines.append("}")
    return "\n".join(lines)


def square_columns():
    """Karatsuba squaring over the same three blocks: `2 Ai Aj = (Ai + Aj)^2 - Ai^2 - Aj^2`, six
    block squares of six limb products each: 36 instead of 45."""
    lines = [
        "/// The columns of `a * a` before any carry, as [`columns`] by Karatsuba: the block squares",
        "/// `A0^2`, `A1^2`, `A2^2` and `(Ai + Aj)^2`, each with its cross products once (a doubled",
        "/// factor), `2 Ai Aj` by subtraction: 36 limb products instead of the 45 of a square by",
        "/// columns. Exact as [`columns`] is: every sum wraps, every column ends the true column.",
        "#[inline(always)]",
        "pub(super) fn square_columns(a: &[u32; LIMBS]) -> [u64; COLUMNS] {",
    ]
    lines += limbs("a")
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        for t in range(3):
            lines.append(f"    let a{i}{j}_{t} = a{3 * i + t} + a{3 * j + t};")
    for i in range(3):
        lines += square_block(f"p{i}_", [f"a{3 * i + t}" for t in range(3)])
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        lines += square_block(f"s{i}{j}_", [f"a{i}{j}_{t}" for t in range(3)])
    karatsuba_call(lines)
    return "\n".join(lines)


def columns():
    """Karatsuba on three blocks of three limbs: a = A0 + A1 X + A2 X^2 (X = 2^87), the six block
    products A0B0, A1B1, A2B2, (A0+A1)(B0+B1), (A0+A2)(B0+B2), (A1+A2)(B1+B2), and the cross
    terms by subtraction: 54 limb products instead of 81."""
    lines = [
        "/// The product's columns before any carry: column k is the sum of `a_i * b_j` with `i + j = k`.",
        "///",
        "/// By Karatsuba over three blocks of three limbs (`a = A0 + A1 X + A2 X^2`, `X = 2^87`): the",
        "/// block products `A0B0`, `A1B1`, `A2B2` and `(Ai + Aj)(Bi + Bj)`, the cross terms",
        "/// `AiBj + AjBi` by subtraction, 54 limb products instead of 81. The sums' products may pass",
        "/// 2^64 on the way, so every sum wraps; each column ends exactly the schoolbook column (every",
        "/// operation is a ring operation mod 2^64, and the schoolbook column is below 2^64), so the",
        "/// bounds in `field` hold unchanged.",
        "#[inline(always)]",
        "pub(super) fn columns(a: &[u32; LIMBS], b: &[u32; LIMBS]) -> [u64; COLUMNS] {",
    ]
    lines += limbs("a") + limbs("b")
    blk = lambda v, i: [f"{v}{3 * i + j}" for j in range(3)]
    for v in "ab":
        for i, j in [(0, 1), (0, 2), (1, 2)]:
            for t in range(3):
                lines.append(f"    let {v}{i}{j}_{t} = {v}{3 * i + t} + {v}{3 * j + t};")
    lines += block("p0_", blk("a", 0), blk("b", 0))
    lines += block("p1_", blk("a", 1), blk("b", 1))
    lines += block("p2_", blk("a", 2), blk("b", 2))
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        lines += block(f"s{i}{j}_", [f"a{i}{j}_{t}" for t in range(3)], [f"b{i}{j}_{t}" for t in range(3)])
    karatsuba_call(lines)
    return "\n".join(lines)


def reduce():
    lines = [
        "/// `t / 2^261 mod p` for columns `t` (the second half of a Montgomery product), below 2p when",
        "/// the value of `t` is below `2^261 * p`.",
        "#[inline(always)]",
        "pub(super) fn reduce<M: Modulus>(t: &[u64; COLUMNS]) -> [u32; LIMBS] {",
        "    let p = &M::P;",
    ]
    lines += montgomery_columns(lambda k: [f"t[{k}]"], comments=False)
    lines.append("}")
    return "\n".join(lines)


import sys

if sys.argv[1:] == ["scanned"]:
    print("""// @generated by scripts/gen-mont.py scanned: do not edit by hand.
//! The Montgomery product and square as [`super::mont`] had them before Karatsuba: scanned column
//! by column with the reduction interleaved. Compiled for the tests, which check `mont` against
//! them, and for `benches/simd-mont`, which times both.
#![allow(clippy::too_many_lines)]

use super::field::{Modulus, BITS, LIMBS, MASK};
""")
    print(scanned(False))
    print()
    print(scanned(True))
    sys.exit(0)

print("""// @generated by scripts/gen-mont.py: do not edit by hand.
//! Montgomery products for [`super::field`], one column at a time: column k holds every limb
//! product `a_i * b_j` with `i + j = k` ([`columns`], by Karatsuba) and, in the reduction
//! ([`reduce`]), every `m_i * p_j`; the first nine columns choose `m_k` so that the column's low
//! 29 bits vanish, the last nine are the result. Each column's sum stays below 2^64 for the
//! inputs `field` allows (see there). [`mul`] and [`sqr`] ([`square_columns`]) are the two in
//! turn; Fq2 (in `field`) adds columns before it reduces them. `mont_scanned` (tests and the
//! benchmark only) keeps the product-scanned versions they replaced.
#![allow(clippy::too_many_lines)]

use super::field::{Modulus, BITS, COLUMNS, LIMBS, MASK};
""")
print(karatsuba_products())
print()
print(columns())
print()
print(square_columns())
print()
print(karatsuba())
print()
print(reduce())
