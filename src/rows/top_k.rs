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
    let (a, b) = ((z[a as usize], a), (z[b as usize], b));
    if after(b, a) {
        Ordering::Less
    } else if after(a, b) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// The `best.len()` unmasked classes (`l != -inf`) of largest `z`, best
/// first: [`heap_select`], then a sort of the kept classes. The row holds
/// at least `best.len()` unmasked classes.
fn select<F: Float>(z: &[F], l: &[F], best: &mut [i64]) {
    let (kept, _) = scratch::with(best.len(), |keys: &mut [F]| heap_select(z, l, best, keys));
    debug_assert_eq!(kept, best.len());
    best.sort_unstable_by(|&a, &b| order(z, a, b));
}

/// The `best.len() >= 1` unmasked classes (`l != -inf`) of largest `z`
/// (ties to the lower index) in a heap whose root `best[0]` is the worst
/// kept class, `keys` (as long) holding their `z`: one pass over the row,
/// groups of blocks none of which beats the root skipped with vector
/// comparisons. Returns the number of classes kept, `best.len()` or the
/// row's number of unmasked classes if it holds fewer (then only that many
/// entries are a heap), and whether no `z` is NaN or `+inf` (the pass
/// checks the row as it reads it: such a value always enters).
#[inline(always)]
pub(crate) fn heap_select<F: Float>(
    z: &[F],
    l: &[F],
    best: &mut [i64],
    keys: &mut [F],
) -> (usize, bool) {
    const BLOCK: usize = 16;
    const GROUP: usize = 4;
    let k = best.len();
    let mut heap = Heap {
        classes: best,
        keys,
        len: 0,
    };
    let mut valid = true;
    // A class whose z is at most the root's comes after it in class order,
    // so it ranks below the root: a block with no z above the root (nor a
    // NaN) cannot enter. (Branch-free folds, which compile to vector
    // comparisons: one test per group of blocks, then one per block of a
    // group that enters.)
    let enters = |heap: &Heap<'_, F>, zb: &[F]| {
        heap.len < k || {
            let root = heap.keys[0];
            zb.iter().fold(false, |any, &x| any | !(x <= root))
        }
    };
    for (g, (zg, lg)) in z
        .chunks(GROUP * BLOCK)
        .zip(l.chunks(GROUP * BLOCK))
        .enumerate()
    {
        if !enters(&heap, zg) {
            continue;
        }
        for (b, (zb, lb)) in zg.chunks(BLOCK).zip(lg.chunks(BLOCK)).enumerate() {
            if !enters(&heap, zb) {
                continue;
            }
            let at = (g * GROUP + b) * BLOCK;
            for (j, (&x, &v)) in zb.iter().zip(lb).enumerate() {
                // `x < inf` is false for NaN and +inf.
                if !(x < F::INFINITY) {
                    valid = false;
                } else if v != F::NEG_INFINITY {
                    heap.offer(x, (at + j) as i64);
                }
            }
        }
    }
    (heap.len, valid)
}

/// The first-ranked class of a full heap of [`heap_select`] (`keys` its
/// keys; largest key, the lower index on ties): for keys the logits, the
/// row's first largest.
#[inline(always)]
pub(crate) fn heap_best<F: Float>(best: &[i64], keys: &[F]) -> usize {
    let mut top = 0;
    for i in 1..best.len() {
        if after((keys[top], best[top]), (keys[i], best[i])) {
            top = i;
        }
    }
    best[top] as usize
}

/// Whether the entry `(key, class)` `a` ranks after `b`: a smaller key, or
/// the same key and a larger class.
#[inline(always)]
fn after<F: Float>(a: (F, i64), b: (F, i64)) -> bool {
    // Bitwise operators: no branch to mispredict.
    (a.0 < b.0) | ((a.0 == b.0) & (a.1 > b.1))
}

/// At most `classes.len()` classes with their keys, a binary heap whose
/// root is the worst-ranked entry.
struct Heap<'a, F> {
    classes: &'a mut [i64],
    keys: &'a mut [F],
    len: usize,
}

impl<F: Float> Heap<'_, F> {
    /// The entry at position `i`.
    #[inline(always)]
    fn at(&self, i: usize) -> (F, i64) {
        (self.keys[i], self.classes[i])
    }

    /// Writes `entry` at position `i`.
    #[inline(always)]
    fn put(&mut self, i: usize, (key, class): (F, i64)) {
        self.keys[i] = key;
        self.classes[i] = class;
    }

    /// Adds class `class` of key `key` if the heap has room or it ranks
    /// before the root (which it then replaces).
    #[inline(always)]
    fn offer(&mut self, key: F, class: i64) {
        if self.len < self.classes.len() {
            self.len += 1;
            self.sift_up(self.len - 1, (key, class));
        } else if after(self.at(0), (key, class)) {
            self.sift_down((key, class));
        }
    }

    /// Places `entry` at position `i` or above, moving the entries that
    /// rank before it down.
    fn sift_up(&mut self, mut i: usize, entry: (F, i64)) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !after(entry, self.at(parent)) {
                break;
            }
            self.put(i, self.at(parent));
            i = parent;
        }
        self.put(i, entry);
    }

    /// Replaces the root by `entry` and moves it down below the entries
    /// that rank after it. The worse child of each level is chosen by a
    /// select, not a branch: only the level where `entry` stops is a branch
    /// the processor cannot predict.
    fn sift_down(&mut self, entry: (F, i64)) {
        let n = self.len;
        let mut i = 0;
        loop {
            let a = 2 * i + 1;
            if a >= n {
                break;
            }
            let b = a + 1;
            let c = if b < n && after(self.at(b), self.at(a)) {
                b
            } else {
                a
            };
            let worse = self.at(c);
            if !after(worse, entry) {
                break;
            }
            self.put(i, worse);
            i = c;
        }
        self.put(i, entry);
    }
}
