//! Tempered softmax and log-softmax along the class axis, and the row
//! reductions they use.
//!
//! `softmax(z / tau)_k = exp((z_k - max z) / tau) / sum_j exp((z_j - max z) / tau)`.
//! Subtracting the maximum before dividing by `tau` keeps every exponent in
//! `[-inf, 0]`, so huge logits and tiny temperatures neither overflow nor
//! produce NaN; the leading term is exactly `exp(0) = 1`, so the sum is at
//! least 1. Sums use [`ACCUMULATORS`] striped partial sums combined in a
//! fixed tree, so the result does not depend on the vector width.

use crate::error::Result;
use crate::exec::{self, Output};
use crate::float::Float;
use crate::kernels::isa::Tier;
use crate::shape::Shape;
use crate::temperature::Temperature;
use crate::validate::check_logits;

/// The number of partial sums of a row sum (element `k` goes to `k % 16`).
pub const ACCUMULATORS: usize = 16;

/// The largest value of a row (rows hold no NaN).
#[inline(always)]
pub(crate) fn max<F: Float>(z: impl IntoIterator<Item = F>) -> F {
    z.into_iter()
        .fold(F::NEG_INFINITY, |m, x| if x > m { x } else { m })
}

/// The index of the largest value of a row, the lowest index on ties.
#[inline]
pub(crate) fn argmax<F: Float>(z: &[F]) -> usize {
    let mut best = 0;
    for (k, &x) in z.iter().enumerate() {
        if x > z[best] {
            best = k;
        }
    }
    best
}

/// The largest run [`sum`] adds with striped accumulators; longer rows are
/// split in halves (at multiples of [`ACCUMULATORS`]) and summed pairwise.
pub const SUM_BLOCK: usize = 256;

/// The sum of a row, with an error that grows like `log2(len / SUM_BLOCK)`
/// rather than `len`: runs of at most [`SUM_BLOCK`] values are added by
/// [`striped_sum`], longer ones split at `ACCUMULATORS * floor(len / 32)` and
/// the halves added. The order is fixed, so the result does not depend on the
/// vector width.
pub(crate) fn sum<F: Float>(x: &[F]) -> F {
    if x.len() <= SUM_BLOCK {
        return striped_sum(x);
    }
    let half = x.len() / (2 * ACCUMULATORS) * ACCUMULATORS;
    sum(&x[..half]) + sum(&x[half..])
}

/// `ACCUMULATORS` striped partial sums (element `k` goes to `k % 16`), then
/// pairwise `acc[i] += acc[i + w]` for `w = 8, 4, 2, 1`.
#[inline(always)]
fn striped_sum<F: Float>(x: &[F]) -> F {
    let mut acc = [F::ZERO; ACCUMULATORS];
    let mut blocks = x.chunks_exact(ACCUMULATORS);
    for block in &mut blocks {
        for (a, v) in acc.iter_mut().zip(block) {
            *a = *a + *v;
        }
    }
    for (a, v) in acc.iter_mut().zip(blocks.remainder()) {
        *a = *a + *v;
    }
    let mut width = ACCUMULATORS / 2;
    while width > 0 {
        for i in 0..width {
            acc[i] = acc[i] + acc[i + width];
        }
        width /= 2;
    }
    acc[0]
}

/// Writes `exp((z - max z) / tau)` of one row into `out` (same length as
/// `z`) and returns `(max z, sum)`; the sum is at least 1.
#[inline(always)]
fn exp_shifted<F: Float>(z: &[F], tau: F, out: &mut [F]) -> (F, F) {
    let m = max(z.iter().copied());
    for (y, &x) in out.iter_mut().zip(z) {
        *y = ((x - m) / tau).exp();
    }
    (m, sum(out))
}

/// Writes `softmax(z / tau)` of one row into `out` (same length as `z`).
/// `z` must contain no NaN and at least one value above `-inf`. Runs
/// [`softmax_row_body`] compiled for the current instruction-set tier
/// ([`crate::kernels::isa`]), with the same bits on every tier.
#[inline]
pub(crate) fn softmax_row<F: Float>(z: &[F], tau: F, out: &mut [F]) {
    match Tier::current() {
        // SAFETY: `Tier::current` returns a tier only if the CPU has it.
        #[cfg(target_arch = "x86_64")]
        Tier::Avx512 => unsafe { softmax_row_avx512(z, tau, out) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Tier::Avx2 => unsafe { softmax_row_avx2(z, tau, out) },
        _ => softmax_row_body(z, tau, out),
    }
}

/// [`softmax_row`] compiled for AVX-512.
///
/// # Safety
/// The CPU must support AVX-512 F, BW, DQ and VL.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
unsafe fn softmax_row_avx512<F: Float>(z: &[F], tau: F, out: &mut [F]) {
    softmax_row_body(z, tau, out)
}

/// [`softmax_row`] compiled for AVX2 (FMA enabled, never used).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn softmax_row_avx2<F: Float>(z: &[F], tau: F, out: &mut [F]) {
    softmax_row_body(z, tau, out)
}

/// The body of [`softmax_row`], inlined into each tier's function.
#[inline(always)]
fn softmax_row_body<F: Float>(z: &[F], tau: F, out: &mut [F]) {
    let scale = F::ONE / exp_shifted(z, tau, out).1;
    out.iter_mut().for_each(|y| *y = *y * scale);
}

/// Writes `log_softmax(z / tau)` of one row into `out` (same length as
/// `z`): `(z - max z) / tau - ln(sum exp((z - max z) / tau))`, from the same
/// exponentials and sum as [`softmax_row`]. Entries are `<= 0`, `-inf` where
/// `z` is `-inf`, and finite where the softmax underflows to 0 (unless
/// `(z - max z) / tau` itself overflows). `z` must contain no NaN and at
/// least one value above `-inf`.
#[inline]
pub(crate) fn log_softmax_row<F: Float>(z: &[F], tau: F, out: &mut [F]) {
    let (m, total) = exp_shifted(z, tau, out);
    let log_sum = total.ln();
    for (y, &x) in out.iter_mut().zip(z) {
        *y = (x - m) / tau - log_sum;
    }
}

/// Tempered softmax `out = softmax(logits / tau)` along the class axis of a
/// row-major `(outer, classes, inner)` tensor; no noise.
///
/// `logits` and `out` have `shape.len()` elements. `-inf` logits (masked
/// classes) get exactly 0. Each row of `out` sums to 1 within a few ulp.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) for buffer
/// lengths that do not match `shape`;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) if
/// `tau` is not finite or `<= 0`;
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for a NaN
/// or `+inf` logit; [`ErrorKind::AllMasked`](crate::ErrorKind::AllMasked)
/// for a row that is all `-inf`. `out` is untouched on error.
pub fn tempered_softmax<F: Float>(logits: &[F], out: &mut [F], shape: Shape, tau: F) -> Result<()> {
    tempered(logits, out, shape, Temperature::Scalar(tau))
}

/// [`tempered_softmax`] with one temperature per row: row `r` of `out` is
/// `softmax(logits_r / tau[r])`; no noise.
///
/// `logits` and `out` have `shape.len()` elements; `tau` has `shape.rows()`
/// entries in row order `(o, i)`, i.e. `tau[o * inner + i]`. When every
/// `tau[r]` equals `t` the output is bit for bit that of
/// `tempered_softmax(.., t)`.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) for buffer
/// lengths that do not match `shape`;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) if
/// some `tau[r]` is not finite or `<= 0` (the message names row `r`);
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for a NaN
/// or `+inf` logit; [`ErrorKind::AllMasked`](crate::ErrorKind::AllMasked)
/// for a row that is all `-inf`. `out` is untouched on error.
pub fn tempered_softmax_per_row<F: Float>(
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: &[F],
) -> Result<()> {
    tempered(logits, out, shape, Temperature::PerRow(tau))
}

/// The body of [`tempered_softmax`] and [`tempered_softmax_per_row`].
fn tempered<F: Float>(
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: Temperature<'_, F>,
) -> Result<()> {
    shape.check_len("logits", logits.len(), shape.len())?;
    shape.check_len("out", out.len(), shape.len())?;
    tau.check(shape)?;
    check_logits(shape, logits)?;
    exec::map_rows(shape, logits, None, out, Output::PerElement, |row, z, y| {
        softmax_row(z, tau.of_row(row), y)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "large input, too slow for Miri")]
    fn long_sums_split_in_halves_and_stay_accurate() {
        let x: Vec<f32> = (0..1_000_003)
            .map(|k| 0.1 + (k % 7) as f32 * 1e-3)
            .collect();
        let half = 1_000_003 / 32 * 16;
        assert_eq!(
            sum(&x).to_bits(),
            (sum(&x[..half]) + sum(&x[half..])).to_bits()
        );
        let exact: f64 = x.iter().map(|&v| f64::from(v)).sum();
        assert!((f64::from(sum(&x)) - exact).abs() < 8.0 * f64::from(f32::EPSILON) * exact);
    }

    #[test]
    fn sum_uses_the_fixed_tree() {
        let x: Vec<f64> = (0..37).map(|k| 1.0 + k as f64 * 1e-3).collect();
        let mut acc = [0.0; 16];
        for (k, v) in x.iter().enumerate() {
            acc[k % 16] += v;
        }
        for w in [8, 4, 2, 1] {
            for i in 0..w {
                acc[i] += acc[i + w];
            }
        }
        assert_eq!(sum(&x).to_bits(), acc[0].to_bits());
    }

    #[test]
    fn every_available_tier_gives_the_bits_of_the_baseline() {
        let z: Vec<f32> = (0..1037)
            .map(|k| {
                if k % 11 == 3 {
                    f32::NEG_INFINITY
                } else {
                    ((k * 7919) % 1000) as f32 * 0.01 - 9.0
                }
            })
            .collect();
        let mut expected = vec![0.0f32; z.len()];
        softmax_row_body(&z, 0.3, &mut expected);
        for tier in Tier::ALL.into_iter().filter(|t| t.available()) {
            let mut y = vec![0.0f32; z.len()];
            match tier {
                // SAFETY: the tier is available.
                #[cfg(target_arch = "x86_64")]
                Tier::Avx512 => unsafe { softmax_row_avx512(&z, 0.3, &mut y) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                Tier::Avx2 => unsafe { softmax_row_avx2(&z, 0.3, &mut y) },
                _ => softmax_row_body(&z, 0.3, &mut y),
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&y), bits(&expected), "{tier:?}");
        }
    }

    #[test]
    fn argmax_takes_the_lowest_index_on_ties() {
        assert_eq!(argmax(&[1.0f32, 3.0, 3.0, -1.0]), 1);
        assert_eq!(argmax(&[f32::NEG_INFINITY, -5.0]), 1);
        assert_eq!(argmax(&[2.0f64]), 0);
    }

    #[test]
    fn log_softmax_is_finite_where_softmax_underflows() {
        // z = (0, -100, -inf), tau = 0.5: the sum is 1 + e^-200, so the
        // values are (-ln(1 + e^-200), -200 - ln(1 + e^-200), -inf).
        let z = [0.0f32, -100.0, f32::NEG_INFINITY];
        let mut y = [0.0f32; 3];
        softmax_row(&z, 0.5, &mut y);
        assert_eq!(y, [1.0, 0.0, 0.0]);
        log_softmax_row(&z, 0.5, &mut y);
        assert_eq!(y, [0.0, -200.0, f32::NEG_INFINITY]);
        let mut y = [0.0f64; 2];
        log_softmax_row(&[1.0, 1.0], 1.0, &mut y);
        assert_eq!(y, [-std::f64::consts::LN_2; 2]);
    }

    #[test]
    fn softmax_is_stable_for_huge_logits_and_tiny_tau() {
        let mut y = [0.0f32; 3];
        softmax_row(&[3e38, -3e38, 3e38], 1e-30, &mut y);
        assert_eq!(y, [0.5, 0.0, 0.5]);
        softmax_row(&[1.0, 1.0 + 1e-6, f32::NEG_INFINITY], 1e-40, &mut y);
        assert_eq!(y, [0.0, 1.0, 0.0]);
    }
}
