//! Points of a short Weierstrass curve with a = 0 (BN254's G1 and G2) over any [`Field`]:
//! affine points for the batch-affine bucket additions, Jacobian ones for the rest. The formulas
//! do not involve b, so one implementation serves both groups.

use super::field::Field;

/// An affine point; `infinity` marks the identity (its coordinates are then meaningless).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine<F> {
    /// x.
    pub x: F,
    /// y.
    pub y: F,
    /// Whether this is the point at infinity.
    pub infinity: bool,
}

impl<F: Field> Affine<F> {
    /// The point at infinity.
    pub const INFINITY: Self = Affine {
        x: F::ZERO,
        y: F::ZERO,
        infinity: true,
    };

    /// `-self`.
    #[inline(always)]
    pub fn neg(&self) -> Self {
        Affine {
            x: self.x,
            y: -self.y,
            infinity: self.infinity,
        }
    }
}

/// A point in Jacobian coordinates: (X, Y, Z) is (X/Z^2, Y/Z^3); Z = 0 is the identity.
#[derive(Clone, Copy, Debug)]
pub struct Jacobian<F> {
    /// X.
    pub x: F,
    /// Y.
    pub y: F,
    /// Z.
    pub z: F,
}

impl<F: Field> Jacobian<F> {
    /// The identity.
    pub const ZERO: Self = Jacobian {
        x: F::ONE,
        y: F::ONE,
        z: F::ZERO,
    };

    /// Whether this is the identity.
    #[inline(always)]
    pub fn is_zero(&self) -> bool {
        self.z.is_zero()
    }

    /// `2 * self` (dbl-2009-l).
    pub fn double(&self) -> Self {
        if self.is_zero() {
            return *self;
        }
        let a = self.x.square();
        let b = self.y.square();
        let c = b.square();
        let d = ((self.x + b).square() - a - c).double();
        let e = a.double() + a;
        let f = e.square();
        let x3 = f - d.double();
        let c8 = c.double().double().double();
        let y3 = e * (d - x3) - c8;
        let z3 = (self.y * self.z).double();
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `self + q` for an affine `q` (madd-2007-bl).
    pub fn add_affine(&self, q: &Affine<F>) -> Self {
        if q.infinity {
            return *self;
        }
        if self.is_zero() {
            return Jacobian {
                x: q.x,
                y: q.y,
                z: F::ONE,
            };
        }
        let z1z1 = self.z.square();
        let u2 = q.x * z1z1;
        let s2 = q.y * self.z * z1z1;
        let h = u2 - self.x;
        let r = (s2 - self.y).double();
        if h.is_zero() {
            return if r.is_zero() {
                self.double()
            } else {
                Self::ZERO
            };
        }
        let hh = h.square();
        let i = hh.double().double();
        let j = h * i;
        let v = self.x * i;
        let x3 = r.square() - j - v.double();
        let y3 = r * (v - x3) - (self.y * j).double();
        let z3 = (self.z + h).square() - z1z1 - hh;
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `self + q` (add-2007-bl).
    pub fn add(&self, q: &Self) -> Self {
        if q.is_zero() {
            return *self;
        }
        if self.is_zero() {
            return *q;
        }
        let z1z1 = self.z.square();
        let z2z2 = q.z.square();
        let u1 = self.x * z2z2;
        let u2 = q.x * z1z1;
        let s1 = self.y * q.z * z2z2;
        let s2 = q.y * self.z * z1z1;
        let h = u2 - u1;
        let r = (s2 - s1).double();
        if h.is_zero() {
            return if r.is_zero() {
                self.double()
            } else {
                Self::ZERO
            };
        }
        let i = h.double().square();
        let j = h * i;
        let v = u1 * i;
        let x3 = r.square() - j - v.double();
        let y3 = r * (v - x3) - (s1 * j).double();
        let z3 = ((self.z + q.z).square() - z1z1 - z2z2) * h;
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }
}
