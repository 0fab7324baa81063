//! Gumbel-top-k (Kool, van Hoof and Welling 2019, "Stochastic Beams and
//! Where to Find Them", sec. 2, the Gumbel-top-k trick): the `k` classes of
//! largest perturbed logit `z = (l - max l) + g`, in decreasing order of
//! `z`, are an ordered sample without replacement from
//! `Categorical(softmax(l))` (a Plackett-Luce sample), and its first class
//! is the Gumbel-max sample.
//!
//! The noise of each row is exactly that of the Gumbel-max call on the same
//! shape with the same `(seed, offset)` (the units of [`crate::stream`]),
//! and the perturbed logits are computed as the Gumbel-max kernel computes
//! them, so rank 0 is its index. The `k` best are kept in a heap of size
//! `k` (one pass, no sort of the row), then sorted.

use std::cmp::Ordering;

use crate::error::Result;
use crate::math::float::Float;
use crate::rng::fill::fill_unit;
use crate::rng::stream::Units;
use crate::rows::softmax::perturb_row;
use crate::runtime::exec::{self, PARALLEL_MIN_ELEMENTS};
use crate::runtime::scratch;
use crate::runtime::shape::Shape;

/// Writes the `k` classes of largest perturbed logit of every row of
/// `logits` (an `(outer, classes, inner)` tensor) into `indices`
/// (`shape.rows() * k` entries, row by row in row order `(o, i)`, each row
/// best first; ties to the lowest index), with the noise of
/// `(seed, offset)`. Masked (`-inf`) classes are never written. The caller
/// has checked the arguments, including that every row has at least `k`
/// unmasked classes and `k >= 1`. Fails only if the worker threads cannot
/// start.
pub(crate) fn top_k<F: Float>(
    logits: &[F],
    indices: &mut [i64],
    shape: Shape,
    k: usize,
    seed: u64,
    offset: u64,
) -> Result<()> {
    let classes = shape.classes();
    let units = Units::new(shape.rows(), classes);
    let per_unit = units.rows(0).len();
    let parallel = units.count() > 1 && shape.len() >= PARALLEL_MIN_ELEMENTS;
    exec::for_each_chunk_mut(indices, per_unit * k, parallel, |u, out| {
        let rows = units.rows(u);
        scratch::with(rows.len() * classes, |z: &mut [F]| {
            fill_unit(seed, units.first_stream(offset, u), z);
            scratch::with(
                if shape.inner() == 1 { 0 } else { classes },
                |l: &mut [F]| {
                    for (p, row) in rows.enumerate() {
                        let z = &mut z[p * classes..(p + 1) * classes];
                        let l = if shape.inner() == 1 {
                            &logits[row * classes..(row + 1) * classes]
                        } else {
                            l.iter_mut()
                                .enumerate()
                                .for_each(|(c, x)| *x = logits[shape.index(row, c)]);
                            &*l
                        };
                        perturb_row(l, z, true);
                        select(z, l, &mut out[p * k..(p + 1) * k]);
                    }
                },
            )
        })
    })
}

/// Whether class `a` ranks before class `b` by perturbed logit `z`
/// (larger first, then the lower index).
#[inline]
fn order<F: Float>(z: &[F], a: i64, b: i64) -> Ordering {
    let (za, zb) = (z[a as usize], z[b as usize]);
    zb.partial_cmp(&za)
        .unwrap_or(Ordering::Equal)
        .then(a.cmp(&b))
}

/// The `best.len()` unmasked classes (`l != -inf`) of largest `z`, best
/// first: [`heap_select`], then a sort of the kept classes. The row holds
/// at least `best.len()` unmasked classes.
fn select<F: Float>(z: &[F], l: &[F], best: &mut [i64]) {
    heap_select(z, l, best);
    best.sort_unstable_by(|&a, &b| order(z, a, b));
}

/// The `best.len()` unmasked classes (`l != -inf`) of largest `z` (ties to
/// the lower index) in a heap whose root `best[0]` is the worst kept class:
/// one pass over the row, blocks of 16 classes none of which beats the root
/// skipped with one comparison each. The row holds at least `best.len() >= 1`
/// unmasked classes.
#[inline(always)]
pub(crate) fn heap_select<F: Float>(z: &[F], l: &[F], best: &mut [i64]) {
    const BLOCK: usize = 16;
    let k = best.len();
    let mut kept = 0;
    for (b, (zb, lb)) in z.chunks(BLOCK).zip(l.chunks(BLOCK)).enumerate() {
        // A class whose z is at most the root's comes after it in class
        // order, so it ranks below the root: the block cannot enter.
        if kept == k && crate::rows::softmax::max(zb) <= z[best[0] as usize] {
            continue;
        }
        for (j, &x) in lb.iter().enumerate() {
            if x == F::NEG_INFINITY {
                continue;
            }
            let c = (b * BLOCK + j) as i64;
            if kept < k {
                best[kept] = c;
                kept += 1;
                sift_up(z, best, kept - 1);
            } else if order(z, c, best[0]) == Ordering::Less {
                best[0] = c;
                sift_down(z, best, 0);
            }
        }
    }
    debug_assert_eq!(kept, k);
}

/// Restores the heap (the worst class at the root) above position `i`.
fn sift_up<F: Float>(z: &[F], heap: &mut [i64], mut i: usize) {
    while i > 0 {
        let parent = (i - 1) / 2;
        if order(z, heap[i], heap[parent]) == Ordering::Greater {
            heap.swap(i, parent);
            i = parent;
        } else {
            break;
        }
    }
}

/// Restores the heap (the worst class at the root) below position `i`.
fn sift_down<F: Float>(z: &[F], heap: &mut [i64], mut i: usize) {
    let n = heap.len();
    loop {
        let (a, b) = (2 * i + 1, 2 * i + 2);
        let mut worst = i;
        if a < n && order(z, heap[a], heap[worst]) == Ordering::Greater {
            worst = a;
        }
        if b < n && order(z, heap[b], heap[worst]) == Ordering::Greater {
            worst = b;
        }
        if worst == i {
            return;
        }
        heap.swap(i, worst);
        i = worst;
    }
}
