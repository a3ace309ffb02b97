#!/usr/bin/env python3
"""Derives the GLV constants of src/prover/msm/glv.rs for BN254 and checks the decomposition.

    python3 scripts/gen-glv.py

LAMBDA is a cube root of unity mod r, the beta roots are the cube roots of unity mod q (which beta
pairs with LAMBDA on G1 and on G2 is checked by the Rust tests against arkworks). The short
lattice basis comes from the extended Euclidean algorithm on (r, LAMBDA), as in the GLV paper.
"""
import math
import random

R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583


def cube_roots(m):
    for g in range(2, 100):
        w = pow(g, (m - 1) // 3, m)
        if w != 1:
            return sorted([w, w * w % m])


def basis(lam, n):
    rows = [(1, 0, n), (0, 1, lam)]
    while rows[-1][2] != 0:
        (s0, t0, r0), (s1, t1, r1) = rows[-2], rows[-1]
        q = r0 // r1
        rows.append((s0 - q * s1, t0 - q * t1, r0 - q * r1))
    root = math.isqrt(n)
    l = max(i for i, row in enumerate(rows) if row[2] >= root)
    a1, b1 = rows[l + 1][2], -rows[l + 1][1]
    candidates = [(rows[l][2], -rows[l][1]), (rows[l + 2][2], -rows[l + 2][1])]
    a2, b2 = min(candidates, key=lambda v: v[0] ** 2 + v[1] ** 2)
    return (a1, b1), (a2, b2)


def words(x, n):
    return ", ".join(hex((x >> (64 * i)) & (2**64 - 1)) for i in range(n))


lam = cube_roots(R)[0]
(a1, b1), (a2, b2) = basis(lam, R)
assert (a1 + b1 * lam) % R == 0 and (a2 + b2 * lam) % R == 0
g1 = (b2 * 2**256 + R // 2) // R
g2 = (-b1 * 2**256 + R // 2) // R
worst = 0
for k in [0, 1, R - 1, R - 2, 2**253] + [random.randrange(R) for _ in range(100000)]:
    c1, c2 = (k * g1) >> 256, (k * g2) >> 256
    k1, k2 = k - c1 * a1 - c2 * a2, -c1 * b1 - c2 * b2
    assert (k1 + k2 * lam - k) % R == 0
    worst = max(worst, abs(k1), abs(k2))
assert worst < 2**127, worst
print(f"LAMBDA = [{words(lam, 4)}]")
for i, beta in enumerate(cube_roots(Q)):
    print(f"beta {i} = [{words(beta, 4)}]")
print(f"G1 = [{words(g1, 3)}]\nG2 = [{words(g2, 3)}]")
print(f"A1 = {hex(a1)}\nMINUS_B1 = {hex(-b1)}\nA2 = {hex(a2)}\nB2 = {hex(b2)}")
print(f"largest |k1|, |k2| seen: {worst.bit_length()} bits")
