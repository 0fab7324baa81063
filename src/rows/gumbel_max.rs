//! Gumbel-max with exact pruning: the argmax of the perturbed logits
//! `z = (l - max l) + g` of a piece of a row, drawing the random bits of
//! every element but taking the logarithms only of the blocks of
//! [`LANES`] elements where some element may beat the running maximum.
//!
//! For each element the bound `B = gumbel_upper_bound(hi)` of
//! [`crate::rng::variate`] satisfies `g <= B` for the noise `g` the full
//! computation takes from the same bits, so `fl(d + g) <= fl(d + B)`
//! (rounding is monotone) with `d = l - max l`. If `fl(d + B)` is at most
//! the largest perturbed logit `best` of the earlier elements of the row,
//! the element is not the first maximum of the row: an earlier element is
//! at least as large. Such elements are skipped; the others get exactly the
//! full computation's `z`, and the maximum is updated keeping the first on
//! ties. So the index is exactly that of [`crate::rows::softmax::argmax`] on
//! the fully perturbed row (whose value is the first maximum's, `-0 == +0`
//! included), and the generator consumes exactly the same outputs.

use crate::math::float::Float;
use crate::math::fma::Fma;
use crate::math::isa::{self, FmaKernel};
use crate::rng::stream::{CHUNK_ELEMENTS, LANES};
use crate::rng::variate::{gumbel_upper_bound, Gumbel, Variate};
use crate::rng::xoshiro::Lanes;
use crate::rows::window;
use crate::runtime::prefetch;

/// Whether rows of `classes` classes take [`row_argmax`] in the per-unit
/// path: rows that are a unit of their own (longer than half a stream
/// segment), or rows of whole blocks of [`LANES`] elements (each row of a
/// unit then starts a block of the stream).
pub(crate) fn applies(classes: usize) -> bool {
    classes % LANES == 0 || 2 * classes > CHUNK_ELEMENTS
}

/// The first maximum so far of a row: its value and index.
pub(crate) type Best<F> = (F, usize);

/// Nothing seen yet: `-inf` at index 0 (what
/// [`crate::rows::softmax::argmax`] gives a row of `-inf`).
fn nothing<F: Float>() -> Best<F> {
    (F::NEG_INFINITY, 0)
}

/// The index of the first maximum of the perturbed logits of every row of a
/// unit of rows of `classes` classes (`l` the unit's logits, `indices` one
/// per row), the unit drawing from consecutive streams from `first_stream`
/// as [`crate::rng::fill::fill_unit`] does. Rows must be such that
/// [`applies`]`(classes)`.
pub(crate) fn unit_argmax<F: Float>(
    l: &[F],
    classes: usize,
    indices: &mut [i64],
    seed: u64,
    first_stream: u64,
) {
    debug_assert!(applies(classes));
    isa::dispatch_fma(Unit {
        l,
        classes,
        indices,
        seed,
        first_stream,
    })
}

/// The arguments of [`unit_argmax`] as a kernel of [`isa::dispatch_fma`].
struct Unit<'a, F> {
    l: &'a [F],
    classes: usize,
    indices: &'a mut [i64],
    seed: u64,
    first_stream: u64,
}

impl<F: Float> FmaKernel for Unit<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run<M: Fma>(self) {
        let Unit {
            l,
            classes,
            indices,
            seed,
            first_stream,
        } = self;
        if classes > CHUNK_ELEMENTS / 2 {
            // One row, one stream per segment, the running maximum carried
            // from segment to segment.
            let l_max = crate::rows::softmax::max(l);
            let mut best = nothing();
            for (s, piece) in l.chunks(CHUNK_ELEMENTS).enumerate() {
                let mut lanes = Lanes::new(seed, first_stream.wrapping_add(s as u64));
                let start = s * CHUNK_ELEMENTS;
                best = argmax_blocks::<F, M>(&mut lanes, piece, l_max, best, start);
            }
            indices[0] = best.1 as i64;
        } else {
            // Rows of whole blocks in one stream.
            let mut lanes = Lanes::new(seed, first_stream);
            for (row, index) in l.chunks_exact(classes).zip(indices.iter_mut()) {
                let l_max = crate::rows::softmax::max(row);
                *index = argmax_blocks::<F, M>(&mut lanes, row, l_max, nothing(), 0).1 as i64;
            }
        }
    }
}

/// The first maximum of one segment of a row (`l` its logits, `l_max` the
/// row's maximum logit) drawing from stream `stream`: the piece of
/// [`crate::rows::wide`], its index relative to the segment.
pub(crate) fn segment_argmax<F: Float>(l: &[F], l_max: F, seed: u64, stream: u64) -> Best<F> {
    isa::dispatch_fma(Segment {
        l,
        l_max,
        seed,
        stream,
    })
}

/// The arguments of [`segment_argmax`] as a kernel of [`isa::dispatch_fma`].
struct Segment<'a, F> {
    l: &'a [F],
    l_max: F,
    seed: u64,
    stream: u64,
}

impl<F: Float> FmaKernel for Segment<'_, F> {
    type Output = Best<F>;
    #[inline(always)]
    fn run<M: Fma>(self) -> Best<F> {
        let mut lanes = Lanes::new(self.seed, self.stream);
        argmax_blocks::<F, M>(&mut lanes, self.l, self.l_max, nothing(), 0)
    }
}

/// The index that the keyed one-row Gumbel-max (stream ids from `offset`,
/// as [`unit_argmax`] draws them for one row) takes on a row that is `-inf`
/// but at the classes `classes` (increasing), whose values are `x`: the
/// first maximum of `z = (x - max x) + g` over those classes, the same
/// index as the full computation (a `-inf` class never wins while a finite
/// one exists). It draws the generator outputs only up to the last block
/// holding a class of each segment, and the noise only of those classes:
/// the blocks between are stepped over without computing an output.
/// `classes` must be non-empty and `x` finite.
///
/// The stepping is arithmetic alone: meanwhile, one block of `ahead` per
/// block stepped is asked into the cache (the input of the caller's next
/// row, whose first pass then need not wait for main memory).
#[inline(always)]
pub(crate) fn sparse_argmax<F: Float, M: Fma>(
    classes: &[i64],
    x: &[F],
    (seed, offset): (u64, u64),
    ahead: &[F],
) -> usize {
    let mut ahead = ahead.chunks(LANES);
    let mut hint = || {
        if let Some(block) = ahead.next() {
            prefetch::to_l2(block);
        }
    };
    let x_max = crate::rows::softmax::max(x);
    let mut best = nothing();
    let mut segment = classes.first().map_or(0, |&c| c as usize / CHUNK_ELEMENTS);
    let mut lanes = Lanes::new(seed, offset.wrapping_add(segment as u64));
    let mut next_block = 0;
    let (mut hi, mut lo) = ([0u32; LANES], [0u32; LANES]);
    for (&c, &v) in classes.iter().zip(x) {
        let c = c as usize;
        let (s, j) = (c / CHUNK_ELEMENTS, c % CHUNK_ELEMENTS);
        if s != segment {
            segment = s;
            lanes = Lanes::new(seed, offset.wrapping_add(s as u64));
            next_block = 0;
        }
        let block = j / LANES;
        if block >= next_block {
            for _ in next_block..block {
                // Two outputs per block, unused: only the state advances.
                lanes.next();
                lanes.next();
                hint();
            }
            hi = lanes.next();
            lo = lanes.next();
            hint();
            next_block = block + 1;
        }
        let k = j % LANES;
        let z = (v - x_max) + Gumbel::of::<F, M>(hi[k], lo[k]);
        if z > best.0 {
            best = (z, c);
        }
    }
    best.1
}

/// Continues the first maximum `best` of a row over its next elements `l`
/// (of index `start + j`), drawing one step of `lanes` per block of
/// [`LANES`] elements (a last partial block takes a whole step: it must end
/// the stream's piece).
#[inline(always)]
fn argmax_blocks<F: Float, M: Fma>(
    lanes: &mut Lanes,
    l: &[F],
    l_max: F,
    mut best: Best<F>,
    start: usize,
) -> Best<F> {
    let mut blocks = l.chunks_exact(LANES);
    let mut at = start;
    for block in &mut blocks {
        let block: &[F; LANES] = block.try_into().expect("a block of LANES elements");
        let hi = lanes.next();
        let lo = lanes.next();
        best = block_argmax::<F, M, LANES>(block, &hi, &lo, l_max, best, at);
        at += LANES;
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let hi = lanes.next();
        let lo = lanes.next();
        let mut block = [F::NEG_INFINITY; LANES];
        block[..tail.len()].copy_from_slice(tail);
        // The padding is -inf: never above `best`, so never chosen.
        best = block_argmax::<F, M, LANES>(&block, &hi, &lo, l_max, best, at);
    }
    best
}

/// [`argmax_blocks`] on one block of `N` elements of index `at + k`.
#[inline(always)]
fn block_argmax<F: Float, M: Fma, const N: usize>(
    l: &[F; N],
    hi: &[u32; N],
    lo: &[u32; N],
    l_max: F,
    best: Best<F>,
    at: usize,
) -> Best<F> {
    // Plain loops, not `std::array::from_fn`: its closure is compiled
    // outside the tier's target features (a call per element).
    let mut d = [F::ZERO; N];
    for k in 0..N {
        d[k] = l[k] - l_max;
    }
    let mut may_win = false;
    for k in 0..N {
        let bound = F::from_f64(f64::from(gumbel_upper_bound(hi[k])));
        may_win |= d[k] + bound > best.0;
    }
    if !may_win {
        return best;
    }
    let mut z = [F::ZERO; N];
    for k in 0..N {
        z[k] = d[k] + Gumbel::of::<F, M>(hi[k], lo[k]);
    }
    // The block's first maximum by a vector reduction (a scalar fold over
    // the block is a chain of N dependent comparisons), kept only if it
    // beats the earlier elements: the first maximum of the row so far.
    let k = window::argmax(&z);
    if z[k] > best.0 {
        (z[k], at + k)
    } else {
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::fma::Software;
    use crate::rng::variate::standard_gumbel;
    use rand_xoshiro::rand_core::{Rng, SeedableRng};

    /// The bound against the computed noise of `(hi, lo)` in both precisions.
    fn check_bound(hi: u32, lo: u32) {
        let b = gumbel_upper_bound(hi);
        let g32: f32 = standard_gumbel(hi, lo);
        let g64: f64 = standard_gumbel(hi, lo);
        let fast: f32 = Gumbel::of::<f32, Software>(hi, lo);
        assert!(
            g32 <= b && fast <= b && g64 <= f64::from(b),
            "{hi:#x} {lo:#x}: {g32} {g64} > {b}"
        );
    }

    #[test]
    fn the_bound_is_above_the_noise_of_every_tested_bit_pattern() {
        // lo = 0 gives the smallest t of a given hi (the largest noise).
        let extremes = [
            0u32,
            1,
            2,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            u32::MAX - 1,
        ];
        for &hi in &extremes {
            for &lo in &extremes {
                check_bound(hi, lo);
            }
        }
        // Every hi of the upper tail (the noise above about 23 comes from
        // a < 2^20), and of the lower half near t = 1/2.
        for a in 0..1u32 << 16 {
            check_bound(a, 0);
            check_bound(a, u32::MAX);
            check_bound(0x7fff_ffff - a, 0);
            check_bound(0x8000_0000 | a, 0);
            check_bound(0xffff_ffff - a, 0);
        }
        // Every power of two and its neighbours (the steps of f32(a)).
        for e in 0..32 {
            for d in [-2i64, -1, 0, 1, 2] {
                let hi = ((1i64 << e) + d).clamp(0, u32::MAX as i64) as u32;
                check_bound(hi, 0);
                check_bound(hi | 0x8000_0000, 0);
            }
        }
        // Sampled patterns over the whole range.
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(14);
        for _ in 0..1 << 20 {
            check_bound(rng.next_u32(), rng.next_u32());
        }
        // Close to the largest noise of its hi (but for a = 0, 2^-31 of the
        // elements, where it is 159 ln 2), so that it prunes well.
        for hi in [1u32, 3, 1 << 20, 0xffff_ffff] {
            let top: f32 = standard_gumbel(hi, 0);
            let gap = gumbel_upper_bound(hi) - top;
            assert!(gap < 0.07, "{hi:#x}: {top} + {gap}");
        }
    }
}
