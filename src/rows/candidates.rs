//! The candidates of a row's top-k: the classes whose logit is at least an
//! estimate `t` of the `k`-th largest, listed in one pass of vector
//! comparisons, so that the `k`-th largest logit and the classes at or
//! above it are found in a list of a few `k` classes instead of by a heap
//! offered the whole row.
//!
//! The estimate is an order statistic of a sample of the row: one block of
//! [`BLOCK`] logits in [`STRIDE`], and its `m`-th largest for
//! `m = min(ceil(4 k / STRIDE) + 1, k)`, above which about `STRIDE m`
//! (`4 k` and more) of the row's logits lie when its values are in no
//! particular order; the `+ 1` keeps small `k` from often finding fewer than
//! `k`. The estimate only decides whether the list serves: if
//! at least `k` logits are at least `t`, the `k`-th largest logit of the
//! row is at least `t`, so it and every logit at or above it are listed;
//! otherwise (or if the list would be longer than its capacity) no list is
//! made and the caller offers the row to the heap.

use crate::math::float::Float;
use crate::rows::blocks::for_each_block_where;
use crate::rows::softmax::ACCUMULATORS;
use crate::rows::top_k::heap_select;
use crate::runtime::scratch;

/// Logits per block of the sample: the blocks of [`for_each_block_where`].
const BLOCK: usize = ACCUMULATORS;

/// The sample takes one block in `STRIDE`.
const STRIDE: usize = 32;

/// Whether a top-k of `k` classes in a row of `len` classes is found from
/// [`candidates`]: `k` at most one class in 64 (so the sample holds at
/// least twice `4 k / STRIDE` logits).
pub(crate) fn applies(len: usize, k: usize) -> bool {
    k >= 1 && k <= len / 64
}

/// The longest list [`candidates`] makes for a top-k of `k` classes:
/// several times the expected `STRIDE m` (a row in no particular order
/// exceeds it with a probability below `1e-12` for every `k`).
pub(crate) fn capacity(k: usize) -> usize {
    16 * k + 1024
}

/// What [`candidates`] found in a row.
pub(crate) enum Candidates<F> {
    /// The `n >= k` classes of logit at least `estimate`, listed.
    Listed { n: usize, estimate: F },
    /// A logit is NaN or `+inf`.
    Invalid,
    /// No list (the sample held fewer than `m` (module docs) unmasked logits, or
    /// the row fewer than `k` or more than `classes.len()` logits at least
    /// the estimate); the row may still hold a NaN or `+inf`.
    Unlisted,
}

/// Lists the classes of row `l` whose logit is at least an estimate of its
/// `k`-th largest (module docs), in increasing order, in `classes` and
/// their logits in `values` (as long), with `heap` and `keys` (each at
/// least `k` long) as scratch for the sample's selection. Such a
/// list holds the row's `k` largest logits and every class tied with the
/// `k`-th; its classes are checked (a NaN or `+inf` logit is at least any
/// estimate, so it is always met).
#[inline(always)]
pub(crate) fn candidates<F: Float>(
    l: &[F],
    k: usize,
    heap: &mut [i64],
    keys: &mut [F],
    classes: &mut [i64],
    values: &mut [F],
) -> Candidates<F> {
    debug_assert!(applies(l.len(), k));
    let m = ((4 * k).div_ceil(STRIDE) + 1).min(k);
    let sampled = l.len().div_ceil(BLOCK * STRIDE) * BLOCK;
    let (kept, valid) = scratch::with(sampled, |sample: &mut [F]| {
        let mut n = 0;
        for block in l.chunks(BLOCK).step_by(STRIDE) {
            sample[n..n + block.len()].copy_from_slice(block);
            n += block.len();
        }
        heap_select(&sample[..n], &sample[..n], &mut heap[..m], &mut keys[..m])
    });
    if !valid {
        return Candidates::Invalid;
    }
    if kept < m {
        return Candidates::Unlisted;
    }
    let t = keys[0];
    let mut n = 0;
    // Why the pass stopped early, if it did.
    let mut stopped = None;
    // `x < t` is false for NaN: it is listed, and found.
    for_each_block_where(
        l,
        #[inline(always)]
        |x| !(x < t),
        #[inline(always)]
        |at, block| {
            let mut at_least = block
                .iter()
                .enumerate()
                .fold(0u32, |mask, (j, &x)| mask | (u32::from(!(x < t)) << j));
            while at_least != 0 {
                let j = at_least.trailing_zeros() as usize;
                at_least &= at_least - 1;
                let x = block[j];
                if !(x < F::INFINITY) {
                    stopped = Some(Candidates::Invalid);
                    return false;
                }
                if n == classes.len() {
                    stopped = Some(Candidates::Unlisted);
                    return false;
                }
                classes[n] = (at + j) as i64;
                values[n] = x;
                n += 1;
            }
            true
        },
    );
    match stopped {
        Some(why) => why,
        None if n < k => Candidates::Unlisted,
        None => Candidates::Listed { n, estimate: t },
    }
}
