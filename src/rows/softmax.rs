//! The row code: the reductions of a row (maximum, argmax, the fixed-tree
//! sum), the tempered softmax, log-softmax and one-hot of perturbed rows
//! ([`Finish`]), and the softmax's vector-Jacobian product ([`products`],
//! [`centre`]). The fused passes over units ([`crate::rows::forward`],
//! [`crate::rows::backward`]), the windows of short rows and the segments of
//! long ones all give the bits of this code.
//!
//! `softmax(z / tau)_k = exp((z_k - max z) / tau) / sum_j exp((z_j - max z) / tau)`.
//! Subtracting the maximum before dividing by `tau` keeps every exponent in
//! `[-inf, 0]`, so huge logits and tiny temperatures neither overflow nor
//! produce NaN; the leading term is exactly `exp(0) = 1`, so the sum is at
//! least 1. Sums use [`ACCUMULATORS`] striped partial sums combined in a
//! fixed tree, so the result does not depend on the vector width.

use std::hint::black_box;
use std::ops::Range;

use crate::math::float::Float;
use crate::math::fma::Fma;

/// The number of partial sums of a row sum (element `k` goes to `k % 16`).
pub const ACCUMULATORS: usize = 16;

/// `$f::<$T.., K>($args)` (`$T..` one or more types) with `K` the row length `$classes` when it is one of
/// the short lengths 2, 3, 4, 8 or 16, else `K = 0` (the callee then uses
/// `$classes`): the callee's row loops are monomorphised, and unroll, for
/// those lengths, with the same operations as the general code.
macro_rules! by_row_length {
    ($classes:expr, $f:ident::<$($T:ty),+>($($arg:expr),* $(,)?)) => {
        match $classes {
            2 => $f::<$($T),+, 2>($($arg),*),
            3 => $f::<$($T),+, 3>($($arg),*),
            4 => $f::<$($T),+, 4>($($arg),*),
            8 => $f::<$($T),+, 8>($($arg),*),
            16 => $f::<$($T),+, 16>($($arg),*),
            _ => $f::<$($T),+, 0>($($arg),*),
        }
    };
}
pub(crate) use by_row_length;

/// The largest value of a row of NaN-free values (`-inf` if empty): the
/// value of the fold `m = if x > m { x } else { m }` from `-inf` in class
/// order, including the sign of a zero maximum (the first zero's).
///
/// Long rows use [`ACCUMULATORS`] striped maxima, which vectorise; the
/// maximum is exact whatever the order, and a zero result is replaced by the
/// row's first zero, so the bits equal the fold's.
#[inline(always)]
pub(crate) fn max<F: Float>(z: &[F]) -> F {
    if z.len() < ACCUMULATORS {
        let fold = |m: F, x: F| if x > m { x } else { m };
        return z.iter().copied().fold(F::NEG_INFINITY, fold);
    }
    let m = striped_max(z);
    if m == F::ZERO {
        // -0 == +0: the fold keeps the first zero it meets.
        z[first_equal(z, m)]
    } else {
        m
    }
}

/// The largest value of a row of NaN-free values (`-inf` if empty), up to
/// the sign of a zero: [`ACCUMULATORS`] striped maxima (element `k` to
/// `k % 16`), then a tree.
#[inline(always)]
pub(crate) fn striped_max<F: Float>(z: &[F]) -> F {
    let fold = |m: F, x: F| if x > m { x } else { m };
    let mut acc = [F::NEG_INFINITY; ACCUMULATORS];
    let mut blocks = z.chunks_exact(ACCUMULATORS);
    for block in &mut blocks {
        let block = as_block(block);
        acc = std::array::from_fn(|i| fold(acc[i], block[i]));
    }
    let long = z.len() >= ACCUMULATORS;
    acc = keep(acc, long);
    for (a, &x) in acc.iter_mut().zip(blocks.remainder()) {
        *a = fold(*a, x);
    }
    striped_tree(acc, fold, long)
}

/// `acc[i] = combine(acc[i], acc[i + w])` for `i < w`, `w = 8, 4, 2, 1`:
/// the tree that ends the striped reductions, whose result is `acc[0]`.
///
/// The striped reductions of at least [`ACCUMULATORS`] values (`long`)
/// pass their accumulators through [`black_box`] after the loop over the
/// blocks, and the tree its first two levels: the code generator otherwise
/// vectorises the loop and the tree as 2-lane pieces of the 16 accumulators
/// (scalar loads and shuffles, about twice the instructions), rather than as
/// one vector per level. `black_box` only keeps the values in memory; the
/// arithmetic and its order are unchanged. Shorter reductions (8-lane
/// windows) stay in registers, where their partly empty accumulators fold
/// away.
#[inline(always)]
fn striped_tree<F: Float>(acc: [F; ACCUMULATORS], combine: impl Fn(F, F) -> F, long: bool) -> F {
    let half: [F; 8] = keep(std::array::from_fn(|i| combine(acc[i], acc[i + 8])), long);
    let quarter: [F; 4] = keep(std::array::from_fn(|i| combine(half[i], half[i + 4])), long);
    combine(
        combine(quarter[0], quarter[2]),
        combine(quarter[1], quarter[3]),
    )
}

/// `x` through [`black_box`] when `long` ([`striped_tree`]).
#[inline(always)]
fn keep<T>(x: T, long: bool) -> T {
    if long {
        black_box(x)
    } else {
        x
    }
}

/// The index of the first element of `z` equal to `value`, which must occur.
/// Blocks of [`ACCUMULATORS`] are tested with a branch-free fold, then the
/// first matching block is searched.
#[inline(always)]
fn first_equal<F: Float>(z: &[F], value: F) -> usize {
    let block = z
        .chunks(ACCUMULATORS)
        .position(|b| b.iter().fold(false, |any, &x| any | (x == value)))
        .expect("the value occurs in the row");
    let start = block * ACCUMULATORS;
    start
        + z[start..]
            .iter()
            .position(|&x| x == value)
            .expect("the block holds the value")
}

/// The index of the largest value of a row of NaN-free values, the lowest
/// index on ties (`-0` and `+0` tie).
#[inline(always)]
pub(crate) fn argmax<F: Float>(z: &[F]) -> usize {
    if z.len() <= ACCUMULATORS {
        // The sequential fold, which finds the same index.
        let mut best = 0;
        for (k, &x) in z.iter().enumerate() {
            if x > z[best] {
                best = k;
            }
        }
        return best;
    }
    first_equal(z, max(z))
}

/// `logsumexp(l) = max l + ln(sum_k exp(l_k - max l))` of a row with a value
/// above `-inf`, the exponentials those of the softmax with the FMA `M`
/// ([`Float::softmax_exp`]), the sum in the fixed order of [`sum_by`] (at
/// least 1).
#[inline(always)]
pub(crate) fn log_sum_exp<F: Float, M: Fma>(l: &[F]) -> F {
    let m = max(l);
    let total = sum_by(
        l.len(),
        #[inline(always)]
        |run| {
            let l = &l[run];
            striped_sum_of(l, l, |x, _| (x - m).softmax_exp::<M>())
        },
    );
    m + total.ln()
}

/// The largest run [`sum`] adds with striped accumulators; longer rows are
/// split in halves (at multiples of [`ACCUMULATORS`]) and summed pairwise.
pub const SUM_BLOCK: usize = 256;

/// The sum of a row, with an error that grows like `log2(len / SUM_BLOCK)`
/// rather than `len`: runs of at most [`SUM_BLOCK`] values are added by
/// [`striped_sum`], longer ones split at `ACCUMULATORS * floor(len / 32)` and
/// the halves added. The order is fixed, so the result does not depend on the
/// vector width.
///
/// The tree is walked with an explicit stack (post-order, left first), so
/// that the function inlines into the instruction-set tier of its caller.
#[inline(always)]
pub(crate) fn sum<F: Float>(x: &[F]) -> F {
    sum_by(
        x.len(),
        #[inline(always)]
        |run| striped_sum(&x[run]),
    )
}

/// The tree of [`sum`] over `len` values, `leaf(run)` giving the
/// [`striped_sum`] of each run of at most [`SUM_BLOCK`] values (called in
/// order, left to right); a leaf can compute its values on the fly rather
/// than read them from memory.
#[inline(always)]
pub(crate) fn sum_by<F: Float>(len: usize, mut leaf: impl FnMut(Range<usize>) -> F) -> F {
    if len <= SUM_BLOCK {
        return leaf(0..len);
    }
    // Pending right halves `(start, end)` and the sums of their left halves
    // once known; each level at least halves the length, so 64 suffice.
    let mut right = [(0usize, 0usize); 64];
    let mut left_sum = [None::<F>; 64];
    let mut depth = 0;
    let mut node = (0, len);
    loop {
        while node.1 - node.0 > SUM_BLOCK {
            let half = (node.1 - node.0) / (2 * ACCUMULATORS) * ACCUMULATORS;
            right[depth] = (node.0 + half, node.1);
            left_sum[depth] = None;
            depth += 1;
            node = (node.0, node.0 + half);
        }
        let mut value = leaf(node.0..node.1);
        loop {
            if depth == 0 {
                return value;
            }
            match left_sum[depth - 1] {
                None => {
                    left_sum[depth - 1] = Some(value);
                    node = right[depth - 1];
                    break;
                }
                Some(left) => {
                    value = left + value;
                    depth -= 1;
                }
            }
        }
    }
}

/// The leaf of [`sum_by`] for a run of `len` (at most [`SUM_BLOCK`]) values
/// computed by `fill` into a buffer on the stack: their [`striped_sum`].
#[inline(always)]
pub(crate) fn run_sum<F: Float>(len: usize, fill: impl FnOnce(&mut [F])) -> F {
    let mut values = [F::ZERO; SUM_BLOCK];
    let values = &mut values[..len];
    fill(values);
    striped_sum(values)
}

/// `ACCUMULATORS` striped partial sums (element `k` goes to `k % 16`), then
/// pairwise `acc[i] += acc[i + w]` for `w = 8, 4, 2, 1` ([`striped_tree`]).
#[inline(always)]
pub(crate) fn striped_sum<F: Float>(x: &[F]) -> F {
    striped_sum_of(x, x, |x, _| x)
}

/// The [`striped_sum`] of the terms `term(a[k], b[k])` (`a` and `b` of the
/// same length), computed as they are added: the bits of writing the terms
/// out and summing them, without the buffer.
#[inline(always)]
pub(crate) fn striped_sum_of<F: Float>(a: &[F], b: &[F], term: impl Fn(F, F) -> F) -> F {
    let mut acc = [F::ZERO; ACCUMULATORS];
    let (mut a_blocks, mut b_blocks) = (a.chunks_exact(ACCUMULATORS), b.chunks_exact(ACCUMULATORS));
    for (a, b) in (&mut a_blocks).zip(&mut b_blocks) {
        let (a, b) = (as_block(a), as_block(b));
        acc = std::array::from_fn(|i| acc[i] + term(a[i], b[i]));
    }
    let (a_rest, b_rest) = (a_blocks.remainder(), b_blocks.remainder());
    let mut terms = [F::ZERO; ACCUMULATORS];
    for ((t, &a), &b) in terms.iter_mut().zip(a_rest).zip(b_rest) {
        *t = term(a, b);
    }
    if a_rest.len() == a.len() {
        return short_sum(&terms[..a_rest.len()]);
    }
    let mut acc = black_box(acc);
    for (acc, &t) in acc.iter_mut().zip(&terms[..a_rest.len()]) {
        *acc = *acc + t;
    }
    striped_tree(acc, |a, b| a + b, true)
}

/// A block of [`ACCUMULATORS`] values from `chunks_exact`.
#[inline(always)]
fn as_block<F>(x: &[F]) -> &[F; ACCUMULATORS] {
    x.try_into().expect("a block of ACCUMULATORS values")
}

/// [`striped_sum`] of fewer than [`ACCUMULATORS`] values, the same bits
/// with scalar code: the accumulators are `0 + x[k]` (never `-0`), so the
/// levels of the tree whose partners are all the empty accumulators (`+0`)
/// leave them unchanged and are skipped.
#[inline(always)]
fn short_sum<F: Float>(x: &[F]) -> F {
    match *x {
        [] => F::ZERO,
        [a] => F::ZERO + a,
        [a, b] => (F::ZERO + a) + (F::ZERO + b),
        _ => {
            let mut acc = [F::ZERO; ACCUMULATORS];
            for (a, v) in acc.iter_mut().zip(x) {
                *a = F::ZERO + *v;
            }
            let mut width = x.len().next_power_of_two() / 2;
            while width > 0 {
                for i in 0..width {
                    acc[i] = acc[i] + acc[i + width];
                }
                width /= 2;
            }
            acc[0]
        }
    }
}

/// Writes the perturbed logits of one row into `z` (as long as `l`):
/// `z = (l - max l) + z` when `noisy` (`z` holding the row's Gumbel noise on
/// entry), `z = l - max l` otherwise.
///
/// Shifting before adding the noise keeps the noise's precision when the
/// logits are large (`1e7 + g` would round `g` to whole numbers in `f32`);
/// `argmax` and `softmax` are unchanged by the shift. A logit more than the
/// type's largest value below the maximum becomes `-inf` (probability
/// `exp(-FLT_MAX / tau)`, which is 0 in the type for any `tau < FLT_MAX / 104`).
#[inline(always)]
pub(crate) fn perturb_row<F: Float>(l: &[F], z: &mut [F], noisy: bool) {
    perturb(l, max(l), z, noisy);
}

/// [`perturb_row`] with the maximum `m` of the row's logits given (`l` and
/// `z` may be a piece of the row).
#[inline(always)]
pub(crate) fn perturb<F: Float>(l: &[F], m: F, z: &mut [F], noisy: bool) {
    if noisy {
        z.iter_mut().zip(l).for_each(|(z, &l)| *z = (l - m) + *z);
    } else {
        z.iter_mut().zip(l).for_each(|(z, &l)| *z = l - m);
    }
}

/// Replaces each row `z` of `y` (consecutive rows of `classes` values, row
/// `r` at temperature `tau(r)`) by `(z - max z) / tau`, the exponents of the
/// tempered softmax: every value in `[-inf, 0]`, one exactly 0.
#[inline(always)]
fn exponents<F: Float>(y: &mut [F], classes: usize, tau: impl Fn(usize) -> F) {
    for (r, row) in y.chunks_exact_mut(classes).enumerate() {
        exponents_of(row, max(row), tau(r));
    }
}

/// `z = (z - m) / tau` over a row or a piece of one, `m` being the row's
/// maximum.
#[inline(always)]
pub(crate) fn exponents_of<F: Float>(z: &mut [F], m: F, tau: F) {
    match exact_reciprocal(tau) {
        Some(inv) => z.iter_mut().for_each(|x| *x = (*x - m) * inv),
        None => z.iter_mut().for_each(|x| *x = (*x - m) / tau),
    }
}

/// `1 / tau` when it is exact, so that `x * (1 / tau)` is `x / tau` for
/// every `x` (both the correctly rounded `x 2^-k`): `tau = 2^k` a finite
/// normal power of two whose reciprocal is finite (`tau = 1`, `0.5`, ...).
/// The division's bits for the price of a multiplication.
#[inline(always)]
pub(crate) fn exact_reciprocal<F: Float>(tau: F) -> Option<F> {
    let t = tau.to_f64();
    let inv = F::ONE / tau;
    let power_of_two = t.to_bits() & ((1u64 << 52) - 1) == 0;
    (power_of_two && tau.is_finite() && tau >= F::MIN_POSITIVE && inv.is_finite()).then_some(inv)
}

/// Replaces each row `z` of `y` (consecutive rows of `classes` values, NaN
/// free, each with a value above `-inf`) by `softmax(z / tau(r))`, `r` being
/// the row's number in `y`: `exp((z - max z) / tau) / sum`, with the sum of
/// [`sum`] (at least 1). The exponentials run as one flat loop over all rows,
/// which vectorises even for rows of two classes.
#[inline(always)]
pub(crate) fn softmax_rows<F: Float, M: Fma>(
    y: &mut [F],
    classes: usize,
    tau: impl Fn(usize) -> F,
) {
    exponents(y, classes, tau);
    y.iter_mut().for_each(|x| *x = x.softmax_exp::<M>());
    // A plain loop: as `for_each(normalise)` the body was compiled outside
    // the instruction-set tier (two-class rows 1.5x slower).
    for row in y.chunks_exact_mut(classes) {
        normalise(row);
    }
}

/// Replaces one row `z` by `softmax(z / tau)`, `m` being its maximum: the
/// bits of [`softmax_rows`] with every pass over the row before the next
/// row, so that a row which fits in the L1 cache stays there.
#[inline(always)]
pub(crate) fn softmax_row<F: Float, M: Fma>(z: &mut [F], m: F, tau: F) {
    softmax_row_from::<F, M>(None, z, m, tau);
}

/// Writes `softmax((x - m) / tau)` into `z`, `x` being `l` when given (`z`
/// is then written without being read; as long as `z`), else `z` itself:
/// [`softmax_row`] of `l - m` without writing `l - m` first (the same bits,
/// as `(l - m) - 0` is `l - m`).
#[inline(always)]
pub(crate) fn softmax_row_from<F: Float, M: Fma>(l: Option<&[F]>, z: &mut [F], m: F, tau: F) {
    // One pass computes the exponentials run by run and sums each run while
    // it is in registers or L1: the tree of `sum`, so the bits of the
    // separate passes.
    let inv = exact_reciprocal(tau);
    let total = sum_by(
        z.len(),
        #[inline(always)]
        |run| {
            let out = &mut z[run.clone()];
            match l {
                Some(l) => out
                    .iter_mut()
                    .zip(&l[run])
                    .for_each(|(z, &x)| *z = tempered_exp::<F, M>(x, m, tau, inv)),
                None => out
                    .iter_mut()
                    .for_each(|z| *z = tempered_exp::<F, M>(*z, m, tau, inv)),
            }
            striped_sum(out)
        },
    );
    let scale = F::ONE / total;
    z.iter_mut().for_each(|x| *x = *x * scale);
}

/// `exp((x - m) / tau)`, the division a multiplication by `inv` when that is
/// exact ([`exact_reciprocal`]).
#[inline(always)]
fn tempered_exp<F: Float, M: Fma>(x: F, m: F, tau: F, inv: Option<F>) -> F {
    match inv {
        Some(inv) => ((x - m) * inv).softmax_exp::<M>(),
        None => ((x - m) / tau).softmax_exp::<M>(),
    }
}

/// Divides a row of exponentials by their [`sum`] (as a multiplication by
/// its reciprocal).
#[inline(always)]
fn normalise<F: Float>(row: &mut [F]) {
    let scale = F::ONE / sum(row);
    row.iter_mut().for_each(|x| *x = *x * scale);
}

/// Replaces each row `z` of `y` (as in [`softmax_rows`]) by
/// `log_softmax(z / tau(r))`: `(z - max z) / tau - ln(sum exp((z - max z) / tau))`,
/// from the same exponentials and sum as [`softmax_rows`], which are written
/// to `e` (as long as `y`). Entries are `<= 0`, `-inf` where `z` is `-inf`,
/// and finite where the softmax underflows to 0 (unless `(z - max z) / tau`
/// itself overflows).
#[inline(always)]
pub(crate) fn log_softmax_rows<F: Float, M: Fma>(
    y: &mut [F],
    classes: usize,
    tau: impl Fn(usize) -> F,
    e: &mut [F],
) {
    exponents(y, classes, tau);
    e.iter_mut()
        .zip(&*y)
        .for_each(|(e, &x)| *e = x.softmax_exp::<M>());
    for (row, e) in y.chunks_exact_mut(classes).zip(e.chunks_exact(classes)) {
        let log_sum = sum(e).ln();
        row.iter_mut().for_each(|x| *x = *x - log_sum);
    }
}

/// What a forward call computes from the perturbed logits `z` of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Finish {
    /// `softmax(z / tau)`.
    Softmax,
    /// `log_softmax(z / tau)`.
    LogSoftmax,
    /// The one-hot of `argmax z` (lowest index on ties).
    OneHot,
}

/// `out = y ⊙ v` (all three of the same length), the terms of `<v, y>`.
#[inline(always)]
pub(crate) fn products<F: Float>(y: &[F], v: &[F], out: &mut [F]) {
    for ((o, &y), &v) in out.iter_mut().zip(y).zip(v) {
        *o = y * v;
    }
}

/// `<v, y>` of one row, its terms [`products`] summed in the tree of
/// [`sum`] run by run ([`sum_by`], [`striped_sum_of`]), without a buffer.
#[inline(always)]
pub(crate) fn dot<F: Float>(y: &[F], v: &[F]) -> F {
    sum_by(
        y.len(),
        #[inline(always)]
        |run| striped_sum_of(&y[run.clone()], &v[run], |y, v| y * v),
    )
}

/// `out = then(y ⊙ (v - dot))`, the centred term exactly 0 where `y == 0`
/// (all three of the same length; `dot = <v, y>` over the whole row; `then`
/// is applied to each element, e.g. the division by `tau`, in the same pass).
/// Returns whether `check(y, v)` holds for every element, tested in the
/// same pass (a caller that validates its inputs as it computes).
#[inline(always)]
pub(crate) fn centre<F: Float>(
    y: &[F],
    v: &[F],
    dot: F,
    out: &mut [F],
    then: impl Fn(F) -> F,
    check: impl Fn(F, F) -> bool,
) -> bool {
    let mut valid = true;
    for ((o, &y), &v) in out.iter_mut().zip(y).zip(v) {
        *o = then(if y == F::ZERO { F::ZERO } else { y * (v - dot) });
        valid &= check(y, v);
    }
    valid
}

/// Writes `dL/du = y ⊙ (v - <v, y>)` of one row into `out` (all three of
/// the same length), exactly 0 where `y == 0` (even if `v - <v, y>`
/// overflowed): the reference of the tests.
#[cfg(test)]
pub(crate) fn centred_row<F: Float>(y: &[F], v: &[F], out: &mut [F]) {
    products(y, v, out);
    let dot = sum(out);
    centre(y, v, dot, out, |g| g, |_, _| true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::fma::Baseline;
    use crate::math::isa::{on_tier_with_fma, Tier};

    #[test]
    fn log_sum_exp_matches_the_direct_sum() {
        let l = [0.5f64, -1.0, 2.0, f64::NEG_INFINITY];
        let direct: f64 = l.iter().map(|x| x.exp()).sum::<f64>().ln();
        assert!((log_sum_exp::<_, Baseline>(&l) - direct).abs() < 1e-15);
        // Large logits do not overflow.
        let big = [1000.0f32, 1000.0];
        assert!((log_sum_exp::<_, Baseline>(&big) - (1000.0 + 2f32.ln())).abs() < 1e-3);
    }

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
    #[cfg_attr(miri, ignore = "large input, too slow for Miri")]
    fn sum_walks_the_recursive_tree() {
        fn recursive(x: &[f32]) -> f32 {
            if x.len() <= SUM_BLOCK {
                return striped_sum(x);
            }
            let half = x.len() / (2 * ACCUMULATORS) * ACCUMULATORS;
            recursive(&x[..half]) + recursive(&x[half..])
        }
        // Values of very different sizes, so that the order shows in the bits.
        let x: Vec<f32> = (0..70_000u32)
            .map(|k| (k.wrapping_mul(2_654_435_761) >> 8) as f32 * 1e-3 + (k % 3) as f32 * 1e4)
            .collect();
        let lens = (0..2000).chain([4095, 4096, 4097, 16_384, 33_333, 70_000]);
        for len in lens {
            assert_eq!(
                sum(&x[..len]).to_bits(),
                recursive(&x[..len]).to_bits(),
                "{len}"
            );
        }
    }

    #[test]
    fn short_sums_equal_the_full_accumulator_tree() {
        let full_tree = |x: &[f32]| {
            let mut acc = [0.0f32; ACCUMULATORS];
            for (k, v) in x.iter().enumerate() {
                acc[k % ACCUMULATORS] += v;
            }
            for width in [8, 4, 2, 1] {
                for i in 0..width {
                    acc[i] += acc[i + width];
                }
            }
            acc[0]
        };
        let values = [
            -0.0f32,
            0.0,
            1.5,
            -1.5,
            3e38,
            1e-40,
            -7.25,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        for len in 0..ACCUMULATORS {
            for shift in 0..values.len() {
                let x: Vec<f32> = (0..len)
                    .map(|k| values[(k * 3 + shift) % values.len()])
                    .collect();
                assert_eq!(sum(&x).to_bits(), full_tree(&x).to_bits(), "{x:?}");
            }
        }
        assert_eq!(sum(&[-0.0f32]).to_bits(), 0.0f32.to_bits());
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

    /// `softmax(z / tau)` of one row.
    fn softmax_row<F: Float>(z: &[F], tau: F) -> Vec<F> {
        let mut y = z.to_vec();
        softmax_rows::<F, Baseline>(&mut y, z.len(), |_| tau);
        y
    }

    /// `log_softmax(z / tau)` of one row.
    fn log_softmax_row<F: Float>(z: &[F], tau: F) -> Vec<F> {
        let (mut y, mut e) = (z.to_vec(), z.to_vec());
        log_softmax_rows::<F, Baseline>(&mut y, z.len(), |_| tau, &mut e);
        y
    }

    #[test]
    fn every_available_tier_gives_the_bits_of_the_baseline() {
        let z: Vec<f32> = (0..1037 * 3)
            .map(|k| {
                if k % 11 == 3 {
                    f32::NEG_INFINITY
                } else {
                    ((k * 7919) % 1000) as f32 * 0.01 - 9.0
                }
            })
            .collect();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for classes in [1037, 3] {
            let tau = |r: usize| 0.3 + r as f32;
            let run = |tier: Tier| {
                let (mut y, mut x, mut e) = (z.clone(), z.clone(), z.clone());
                assert!(tier.available());
                on_tier_with_fma!(tier, M => {
                    softmax_rows::<f32, M>(&mut y, classes, tau);
                    log_softmax_rows::<f32, M>(&mut x, classes, tau, &mut e);
                });
                (bits(&y), bits(&x))
            };
            let expected = run(Tier::Baseline);
            for tier in Tier::ALL.into_iter().filter(|t| t.available()) {
                assert_eq!(run(tier), expected, "{tier:?}, {classes} classes");
            }
        }
    }

    #[test]
    fn max_and_argmax_equal_the_sequential_fold() {
        // Rows with ties, zeros of both signs and -inf, short and long.
        let mut state = 7u32;
        for len in [1usize, 2, 5, 15, 16, 17, 31, 32, 33, 100, 1000] {
            for trial in 0..200 {
                let z: Vec<f32> = (0..len)
                    .map(|_| {
                        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                        match (state >> 24) % 8 {
                            0 => 0.0,
                            1 => -0.0,
                            2 => f32::NEG_INFINITY,
                            3 if trial % 2 == 0 => 1.0,
                            _ => -(((state >> 8) % 16) as f32),
                        }
                    })
                    .collect();
                let (mut best, mut m) = (0, f32::NEG_INFINITY);
                for (k, &x) in z.iter().enumerate() {
                    if x > m {
                        (best, m) = (k, x);
                    }
                }
                assert_eq!(max(&z).to_bits(), m.to_bits(), "{z:?}");
                assert_eq!(argmax(&z), best, "{z:?}");
            }
        }
        assert_eq!(max::<f64>(&[]), f64::NEG_INFINITY);
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
        assert_eq!(softmax_row(&z, 0.5), [1.0, 0.0, 0.0]);
        assert_eq!(log_softmax_row(&z, 0.5), [0.0, -200.0, f32::NEG_INFINITY]);
        assert_eq!(
            log_softmax_row(&[1.0f64, 1.0], 1.0),
            [-std::f64::consts::LN_2; 2]
        );
    }

    #[test]
    fn softmax_is_stable_for_huge_logits_and_tiny_tau() {
        assert_eq!(softmax_row(&[3e38f32, -3e38, 3e38], 1e-30), [0.5, 0.0, 0.5]);
        assert_eq!(
            softmax_row(&[1.0f32, 1.0 + 1e-6, f32::NEG_INFINITY], 1e-40),
            [0.0, 1.0, 0.0]
        );
    }
}
