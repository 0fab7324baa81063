//! Fused multiply-add, `fma(a, b, c) = a * b + c` rounded once, per
//! instruction-set tier: the hardware instruction where the tier has one
//! ([`Hardware`]: `vfmadd` on AVX2 and AVX-512, `fmadd` on aarch64), and a
//! correctly rounded software version built from basic operations where it
//! has none ([`Software`]: baseline x86-64, SSE2). Both give the same bits
//! for every input the library passes, so the noise of randomness contract
//! version 2 is the same on every tier; the software version is only slower.

/// How a kernel evaluates `fma(a, b, c)` in `f32`; picked per tier by
/// [`crate::math::isa::dispatch_fma`].
pub(crate) trait Fma: Copy + 'static {
    /// `a * b + c` rounded once to nearest (ties to even).
    fn fma32(a: f32, b: f32, c: f32) -> f32;
}

/// The FMA instruction (`f32::mul_add`, compiled under a tier that has it).
#[derive(Clone, Copy)]
pub(crate) struct Hardware;

impl Fma for Hardware {
    #[inline(always)]
    fn fma32(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

/// The correctly rounded FMA from basic `f64` operations, branch-free so
/// that it vectorises like the rest of a kernel.
///
/// The product of two `f32` is exact in `f64` (24 + 24 significant bits).
/// The sum `p + c` is computed exactly as `s + e` (Knuth's TwoSum) and
/// rounded to odd in `f64`: `s` when `e = 0`, else the neighbour of the exact
/// sum whose last bit is 1. Rounding that to `f32` gives the correctly
/// rounded `a * b + c`, since `f64` has more than `24 + 1` bits (Boldo and
/// Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms
/// using rounding to odd", IEEE Trans. Computers 57(4), 2008, Theorem 1).
/// Used by the baseline tier of x86-64, and as the reference in tests.
#[cfg(any(target_arch = "x86_64", test))]
#[derive(Clone, Copy)]
pub(crate) struct Software;

#[cfg(any(target_arch = "x86_64", test))]
impl Fma for Software {
    #[inline(always)]
    fn fma32(a: f32, b: f32, c: f32) -> f32 {
        let p = f64::from(a) * f64::from(b);
        let c = f64::from(c);
        // TwoSum: s + e = p + c exactly, |e| <= ulp(s) / 2.
        let s = p + c;
        let c_part = s - p;
        let p_part = s - c_part;
        let e = (p - p_part) + (c - c_part);
        // Round to odd: when inexact, step `s` towards zero if the exact sum
        // lies on that side of it, then set the last bit. A NaN `e` (from a
        // non-finite `s`) compares false and leaves `s` unchanged.
        let inexact = e.abs() > 0.0;
        let below = inexact & ((e < 0.0) != (s < 0.0));
        let odd = f64::from_bits(s.to_bits().wrapping_sub(below as u64) | inexact as u64);
        odd as f32
    }
}

/// The FMA of the baseline tier: software on x86-64 (SSE2 has no FMA), the
/// instruction on architectures whose baseline has one (aarch64).
#[cfg(target_arch = "x86_64")]
pub(crate) type Baseline = Software;
/// The FMA of the baseline tier: software on x86-64 (SSE2 has no FMA), the
/// instruction on architectures whose baseline has one (aarch64).
#[cfg(not(target_arch = "x86_64"))]
pub(crate) type Baseline = Hardware;

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact `a * b + c` correctly rounded, by 192-bit integer
    /// arithmetic: an independent reference for both versions.
    fn reference(a: f32, b: f32, c: f32) -> f32 {
        // Every finite f32 is m * 2^(e) with |m| < 2^24, e >= -149; the
        // product m_a m_b 2^(e_a + e_b) and c are integers times 2^-298.
        fn parts(x: f32) -> (i128, i32) {
            let bits = x.to_bits();
            let exp = ((bits >> 23) & 0xff) as i32;
            let frac = (bits & 0x7f_ffff) as i128;
            let (m, e) = if exp == 0 {
                (frac, -149)
            } else {
                (frac | 0x80_0000, exp - 150)
            };
            (if x < 0.0 { -m } else { m }, e)
        }
        let (ma, ea) = parts(a);
        let (mb, eb) = parts(b);
        let (mc, ec) = parts(c);
        // Scale both to the smaller exponent; the test keeps exponents in
        // a range where this fits in i128.
        let ep = ea + eb;
        let e = ep.min(ec);
        let sum = ((ma * mb) << (ep - e)) + (mc << (ec - e));
        // Convert the exact integer sum * 2^e to f64 with rounding to odd
        // (53 > 24 + 1 bits), then to f32: the correct rounding.
        let neg = sum < 0;
        let mag = sum.unsigned_abs();
        if mag == 0 {
            return a * b + c; // an exact zero: its sign as the hardware gives it
        }
        let bits = 128 - mag.leading_zeros() as i32;
        let shift = (bits - 53).max(0);
        let mut top = (mag >> shift) as u64;
        if shift > 0 && mag & ((1u128 << shift) - 1) != 0 {
            top |= 1;
        }
        let v = (top as f64) * 2f64.powi(e + shift);
        (if neg { -v } else { v }) as f32
    }

    #[test]
    fn software_fma_is_correctly_rounded() {
        // Random operands over a range of exponents, products near -c
        // (cancellation) and halfway cases.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut checked = 0;
        for i in 0..2_000_000u32 {
            let r = next();
            let f = |bits: u64, spread: u64| {
                let e = 127 - 20 + (bits % spread) as u32;
                f32::from_bits(((bits >> 8) as u32 & 0x807f_ffff) | (e << 23))
            };
            let a = f(r, 30);
            let b = f(r >> 20, 30);
            let c = match i % 3 {
                0 => f(r >> 40, 30),
                // cancellation: c near -a*b
                1 => -(a * b) * (1.0 + (r >> 50) as f32 * f32::EPSILON),
                // halfway: c = -(a*b rounded) plus a tiny term
                _ => -(a * b) + f32::from_bits(((r >> 40) as u32 & 0x7f_ffff) | 0x2000_0000),
            };
            let want = reference(a, b, c);
            assert_eq!(
                Software::fma32(a, b, c).to_bits(),
                want.to_bits(),
                "{a:e} {b:e} {c:e}"
            );
            assert_eq!(
                a.mul_add(b, c).to_bits(),
                want.to_bits(),
                "{a:e} {b:e} {c:e}"
            );
            checked += 1;
        }
        assert_eq!(checked, 2_000_000);
    }

    #[test]
    fn software_fma_passes_special_values() {
        let specials = [
            0.0f32,
            -0.0,
            1.0,
            -1.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            1e-45,
            f32::MAX,
        ];
        for &a in &specials {
            for &b in &specials {
                for &c in &specials {
                    let (s, h) = (Software::fma32(a, b, c), a.mul_add(b, c));
                    assert!(
                        s.to_bits() == h.to_bits() || (s.is_nan() && h.is_nan()),
                        "{a} {b} {c}: {s} vs {h}"
                    );
                }
            }
        }
    }
}
