//! Truncation filters of one row for token sampling: temperature, then
//! top-k and min-p, then top-p (nucleus), giving the processed logits whose
//! softmax is the renormalised truncated distribution an engine samples.
//!
//! With `m = max l`, the processed logits are `x = (l - m) / T` (so
//! `max x = 0` and `softmax(x) = softmax(l / T)`), then set to `-inf`
//! outside the kept classes:
//!
//! - top-k keeps the classes with `x >= x_(k)`, the `k`-th largest value
//!   (classes tied with it are kept, so more than `k` may remain);
//! - min-p keeps the classes whose probability is at least `min_p` times the
//!   largest, `exp(x) >= min_p`, i.e. `x >= ln(min_p)` (Nguyen et al. 2024,
//!   "Turning Up the Heat: Min-p Sampling", sec. 3);
//! - top-p keeps, of what top-k and min-p kept, the smallest set of largest
//!   classes whose mass reaches `top_p` of the kept mass (Holtzman et al.
//!   2020, "The Curious Case of Neural Text Degeneration", eq. 2): class `i`
//!   stays if the mass of the classes strictly above it is below
//!   `top_p * mass`. Classes tied with the last kept one stay.
//!
//! Top-k and min-p each keep the classes above a threshold, so they commute;
//! top-p acts on the distribution they leave, renormalised. No step sorts the
//! row: top-k is a heap of `k` classes offered its candidates (the classes
//! above an estimate of the `k`-th largest logit, [`candidates`]) or, where
//! they do not serve, the row; min-p a comparison, and top-p one pass of
//! masses and a selection by mass among the candidates it leaves (rounds of
//! buckets, each narrowing the value range 64-fold: linear time).

use std::cmp::Ordering;

use crate::error::Result;
use crate::math::float::Float;
use crate::math::fma::Fma;
use crate::math::isa;
use crate::rows::blocks::for_each_block_where;
use crate::rows::candidates::{self, candidates, Candidates};
use crate::rows::forward;
use crate::rows::gumbel_max;
use crate::rows::softmax::{argmax, exact_reciprocal, log_sum_exp, max, ACCUMULATORS, SUM_BLOCK};
use crate::rows::top_k::{heap_best, heap_select};
use crate::rows::validate::valid_logits_row;
use crate::runtime::scratch;
use crate::runtime::shape::Shape;

/// The filters of one row, as validated by the caller.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowFilter<F> {
    /// Finite, `>= 0`; 0: greedy.
    pub(crate) temperature: F,
    /// 0: off.
    pub(crate) top_k: usize,
    /// In `(0, 1]`; 1: off.
    pub(crate) top_p: F,
    /// In `[0, 1]`; 0: off.
    pub(crate) min_p: F,
}

/// Samples the row `l` under `filter` with the key `(seed, offset)`, or
/// gives `None` if the row fails [`valid_logits_row`] (a NaN or `+inf`
/// logit, or all masked; checked in the row's first pass): the index that
/// the keyed one-row Gumbel-max draws on the processed logits (module
/// docs), and, as `want`
/// asks, the raw log-probability `l_i - logsumexp(l)` and the processed one
/// `x_i - logsumexp(x)` (0 where not asked, and the processed one of a
/// greedy row). A greedy row (temperature 0) takes the first largest logit.
///
/// When top-k or min-p leave at most [`sparse_capacity`] classes, the
/// classes kept are listed and top-p and the draw work on the list
/// ([`gumbel_max::sparse_argmax`]: the same index, the other classes'
/// noise not computed, while `ahead`, the row the caller samples next (or
/// nothing), is asked into the cache); otherwise the processed row is
/// written out and sampled whole. Fails only if the worker threads cannot
/// start.
pub(crate) fn sample_row<F: Float>(
    l: &[F],
    filter: &RowFilter<F>,
    (seed, offset): (u64, u64),
    (want_raw, want_processed): (bool, bool),
    ahead: &[F],
) -> Result<Option<(usize, F, F)>> {
    let sampled = if filter.temperature == F::ZERO {
        isa::dispatch(
            #[inline(always)]
            || valid_logits_row(l),
        )
        .then(|| (argmax(l), F::ZERO))
    } else {
        let mut capacity = sparse_capacity(l.len());
        if candidates::applies(l.len(), filter.top_k) {
            capacity = capacity.max(candidates::capacity(filter.top_k));
        }
        // The processed log-probability from the processed row `x`.
        let processed = |x: &[F], index: usize| {
            if want_processed {
                x[index] - isa::dispatch_with_fma!(M => log_sum_exp::<F, M>(x))
            } else {
                F::ZERO
            }
        };
        scratch::with(capacity, |classes: &mut [i64]| {
            scratch::with(capacity, |values: &mut [F]| {
                let Some((kept, listed)) = isa::dispatch_with_fma!(M => {
                    thresholds::<F, M>(l, filter, classes, values)
                }) else {
                    return Ok(None);
                };
                if let Some(n) = listed {
                    let index = isa::dispatch_with_fma!(M => {
                        gumbel_max::sparse_argmax::<F, M>(&classes[..n], &values[..n], (seed, offset), ahead)
                    });
                    if !want_processed {
                        return Ok(Some((index, F::ZERO)));
                    }
                    return Ok(Some(scratch::with(l.len(), |x: &mut [F]| {
                        kept.write(l, x);
                        (index, processed(x, index))
                    })));
                }
                scratch::with(l.len(), |x: &mut [F]| {
                    kept.write(l, x);
                    let mut index = [0i64];
                    forward::indices(x, &mut index, Shape::matrix(1, l.len())?, seed, offset)?;
                    let index = index[0] as usize;
                    Ok::<_, crate::error::Error>(Some((index, processed(x, index))))
                })
            })
        })?
    };
    Ok(sampled.map(|(index, processed)| {
        let raw = if want_raw {
            l[index] - isa::dispatch_with_fma!(M => log_sum_exp::<F, M>(l))
        } else {
            F::ZERO
        };
        (index, raw, processed)
    }))
}

/// The most classes the sparse path of [`sample_row`] lists for a row of
/// `len` classes, about one in 64: the listed path computes each listed
/// class's noise on its own, the dense path whole blocks of 16 where any
/// may win, so the list is kept to rows that top-k or min-p cut down.
fn sparse_capacity(len: usize) -> usize {
    len / 64 + 64
}

/// `(l - m) / t` as every pass computes it (a multiplication where `1 / t`
/// is exact, which gives the same bits).
#[derive(Clone, Copy)]
struct Scale<F> {
    m: F,
    t: F,
    inv: Option<F>,
}

impl<F: Float> Scale<F> {
    #[inline(always)]
    fn of(&self, l: F) -> F {
        match self.inv {
            Some(inv) => (l - self.m) * inv,
            None => (l - self.m) / self.t,
        }
    }

    /// A logit below which the processed logit is below `v` (`<= 0`):
    /// `of(l) >= v` implies `l >= floor(v)` (`-inf` for `v = -inf`), so a
    /// block of logits all below it is skipped with one comparison and no
    /// division. The roundings of `of` move `(l - m) / t` by at most
    /// `2 EPSILON` relative plus `t MIN_POSITIVE` (underflow); the margin
    /// covers them twice over, with the rounding of the bound itself (in
    /// `f64`, then to `F`).
    #[inline(always)]
    fn floor(&self, v: F) -> F {
        let (m, t, v) = (self.m.to_f64(), self.t.to_f64(), v.to_f64());
        let margin = 8.0 * F::EPSILON.to_f64() * (m.abs() + t * v.abs())
            + 4.0 * t * F::MIN_POSITIVE.to_f64();
        F::from_f64(m + t * v - margin)
    }
}

/// Calls `body(at, block)` on the blocks of `l` holding a logit at least
/// `floor` ([`for_each_block_where`]): a row mostly below `floor` costs
/// about one comparison per cache line.
#[inline(always)]
fn for_each_reaching_block<F: Float>(l: &[F], floor: F, body: impl FnMut(usize, &[F]) -> bool) {
    for_each_block_where(
        l,
        #[inline(always)]
        |l| l >= floor,
        body,
    );
}

/// The processed logits of a row: `scale.of(l)` where it is at least
/// `lowest`, `-inf` elsewhere.
#[derive(Clone, Copy)]
struct Kept<F> {
    scale: Scale<F>,
    lowest: F,
}

impl<F: Float> Kept<F> {
    /// Writes the processed logits of the row `l` into `x` (same length).
    fn write(&self, l: &[F], x: &mut [F]) {
        for (x, &l) in x.iter_mut().zip(l) {
            let v = self.scale.of(l);
            *x = if v >= self.lowest { v } else { F::NEG_INFINITY };
        }
    }
}

/// The processed logits of row `l` (temperature `> 0`): `(l - max l) / T`,
/// `-inf` for the classes the filters remove (module docs), or `None` if
/// the row fails [`valid_logits_row`]. If top-k or min-p leave at most
/// [`sparse_capacity`] classes, also lists the classes finally kept, in
/// increasing order, in `classes`, their processed logits in `values`, and
/// returns their number (`classes` and `values`, as long, may be shorter:
/// then at most their length is listed). They hold top-k's candidates
/// first where [`candidates::applies`]: at most their length, best
/// [`candidates::capacity`].
#[inline(always)]
fn thresholds<F: Float, M: Fma>(
    l: &[F],
    filter: &RowFilter<F>,
    classes: &mut [i64],
    values: &mut [F],
) -> Option<(Kept<F>, Option<usize>)> {
    // Top-k's largest and k-th largest logits, from its candidates or a
    // heap over the row; either pass checks the row, otherwise a pass of
    // its own does.
    let mut top = None;
    let mut found = None;
    if filter.top_k > 0 && filter.top_k < l.len() {
        let k = filter.top_k;
        let (valid, selected, listed) = scratch::with(k, |heap: &mut [i64]| {
            scratch::with(k, |keys: &mut [F]| {
                isa::dispatch(
                    #[inline(always)]
                    || {
                        if candidates::applies(l.len(), k) {
                            match candidates(l, k, heap, keys, classes, values) {
                                Candidates::Invalid => return (false, None, None),
                                Candidates::Listed { n, estimate } => {
                                    let v = &values[..n];
                                    heap_select(v, v, heap, keys);
                                    let selected = (v[heap_best(heap, keys)], keys[0]);
                                    return (true, Some(selected), Some((n, estimate)));
                                }
                                Candidates::Unlisted => {}
                            }
                        }
                        let (kept, valid) = heap_select(l, l, heap, keys);
                        // Fewer unmasked classes than k: top-k keeps them all.
                        let selected =
                            (kept == heap.len()).then(|| (l[heap_best(heap, keys)], keys[0]));
                        (valid && kept > 0, selected, None)
                    },
                )
            })
        });
        if !valid {
            return None;
        }
        (top, found) = (selected, listed);
    } else if !valid_logits_row(l) {
        return None;
    }
    let t = filter.temperature;
    let scale = Scale {
        m: top.map_or_else(|| max(l), |(largest, _)| largest),
        t,
        inv: exact_reciprocal(t),
    };
    // The lowest kept processed logit: top-k's k-th largest (the processed
    // logits are a non-decreasing function of the logits, so it is the
    // image of the k-th largest logit) and min-p's ln(min_p).
    let mut lowest = top.map_or(F::NEG_INFINITY, |(_, kth)| scale.of(kth));
    if filter.min_p > F::ZERO {
        lowest = larger(lowest, at_least(filter.min_p.to_f64().ln()));
    }
    let capacity = sparse_capacity(l.len()).min(classes.len());
    let listed = match found {
        // Every class the filters keep is a candidate: a logit below the
        // estimate has a processed logit at most the estimate's.
        Some((n, estimate)) if scale.of(estimate) < lowest => Some(retain(
            &mut classes[..n],
            &mut values[..n],
            |l| scale.of(l),
            lowest,
        ))
        .filter(|&n| n <= capacity),
        _ if lowest > F::NEG_INFINITY => list(
            l,
            scale,
            lowest,
            &mut classes[..capacity],
            &mut values[..capacity],
        ),
        _ => None,
    };
    let Some(n) = listed else {
        if filter.top_p < F::ONE {
            lowest = larger(lowest, top_p_cutoff::<F, M>(l, scale, lowest, filter.top_p));
        }
        return Some((Kept { scale, lowest }, None));
    };
    if filter.top_p < F::ONE {
        let cutoff = listed_top_p_cutoff::<F, M>(&classes[..n], &values[..n], lowest, filter.top_p);
        lowest = larger(lowest, cutoff);
    }
    // Keep the listed classes top-p kept.
    let kept = retain(&mut classes[..n], &mut values[..n], |v| v, lowest);
    Some((Kept { scale, lowest }, Some(kept)))
}

/// Keeps, of the listed `classes` with values `values`, those whose
/// `value(v)` is at least `lowest`, in order, at the front, with `value(v)`
/// for their value; returns how many.
#[inline(always)]
fn retain<F: Float>(
    classes: &mut [i64],
    values: &mut [F],
    value: impl Fn(F) -> F,
    lowest: F,
) -> usize {
    let mut kept = 0;
    for i in 0..classes.len() {
        let v = value(values[i]);
        if v >= lowest {
            classes[kept] = classes[i];
            values[kept] = v;
            kept += 1;
        }
    }
    kept
}

/// Lists the classes of row `l` with `scale.of(l) >= lowest`, in increasing
/// order, in `classes` and their processed logits in `values`; returns
/// their number, or `None` if there are more than `classes.len()`.
#[inline(always)]
fn list<F: Float>(
    l: &[F],
    scale: Scale<F>,
    lowest: F,
    classes: &mut [i64],
    values: &mut [F],
) -> Option<usize> {
    let mut n = 0;
    let mut full = false;
    for_each_reaching_block(
        l,
        scale.floor(lowest),
        #[inline(always)]
        |at, block| {
            for (j, &l) in block.iter().enumerate() {
                let v = scale.of(l);
                if v >= lowest {
                    if n == classes.len() {
                        full = true;
                        return false;
                    }
                    classes[n] = (at + j) as i64;
                    values[n] = v;
                    n += 1;
                }
            }
            true
        },
    );
    (!full).then_some(n)
}

/// The smallest `F` value not below `v` (finite, `<= 0`, at least the
/// logarithm of the smallest positive `f64`): `x >= v` in exact arithmetic
/// exactly when `x >= at_least(v)`, for every `F` value `x`. A value rounded
/// below `v` is moved one step towards zero: for a normal `r < 0`,
/// `r * (1 - EPSILON / 2)` moves it by half to one unit in its last place,
/// which rounds to exactly one step.
fn at_least<F: Float>(v: f64) -> F {
    let rounded = F::from_f64(v);
    if rounded.to_f64() >= v {
        rounded
    } else {
        rounded * F::ONE_BELOW
    }
}

/// The larger of two values.
#[inline(always)]
fn larger<F: Float>(a: F, b: F) -> F {
    if b > a {
        b
    } else {
        a
    }
}

/// Processed logits below which a class holds less than `e^LEVEL` of the
/// largest one's mass: the candidate sets of the top-p selection, widest
/// last.
const LEVELS: [f64; 4] = [-6.0, -12.0, -24.0, -48.0];

/// The number of mass sets of the top-p selection: every kept class, and
/// those above each of [`LEVELS`].
const SETS: usize = LEVELS.len() + 1;

/// The top-p cutoff of the processed logits `x = scale.of(l)` restricted to
/// the classes with `x >= lowest`: the smallest kept value (module docs).
///
/// One pass computes the kept mass `W = sum exp(x)` and the masses of the
/// classes above each of [`LEVELS`] ([`Masses`]); the highest level holding
/// `top_p * W` bounds the cutoff from below, so the selection ([`cutoff`])
/// runs over the classes above it only (all kept classes if no level holds
/// enough).
#[inline(always)]
fn top_p_cutoff<F: Float, M: Fma>(l: &[F], scale: Scale<F>, lowest: F, top_p: F) -> F {
    let mut masses = Masses::new(lowest);
    // A block wholly below `lowest` (top-k or min-p removed it) adds +0 to
    // every set: its exponentials are skipped. (`floor` is -inf where
    // min-p and top-k are off: every block counts.)
    for_each_reaching_block(
        l,
        scale.floor(lowest),
        #[inline(always)]
        |at, block| {
            match <&[F; ACCUMULATORS]>::try_from(block) {
                Ok(block) => {
                    let mut v = [F::ZERO; ACCUMULATORS];
                    for (v, &l) in v.iter_mut().zip(block) {
                        *v = scale.of(l);
                    }
                    masses.add_block::<M>(at, &v);
                }
                Err(_) => {
                    for (j, &l) in block.iter().enumerate() {
                        masses.add::<M>(at + j, scale.of(l));
                    }
                }
            }
            true
        },
    );
    let (from, target) = masses.floor(top_p);
    // Classes of mass 0 (`x = -inf`) never hold the cutoff.
    let candidate = |v: F| v >= from && v > F::NEG_INFINITY;
    // Most blocks hold no candidate: one comparison skips them.
    let floor = scale.floor(from);
    let mut candidates = 0;
    for_each_reaching_block(
        l,
        floor,
        #[inline(always)]
        |_, block| {
            candidates += block.iter().filter(|&&l| candidate(scale.of(l))).count();
            true
        },
    );
    scratch::with(candidates, |values: &mut [F]| {
        // The scratch closure is compiled outside the caller's tier: enter
        // it again (the same tier, so the same `M`).
        isa::dispatch_with_fma!(N => {
            let mut n = 0;
            for_each_reaching_block(l, floor, #[inline(always)] |_, block| {
                for &l in block {
                    let v = scale.of(l);
                    if candidate(v) {
                        values[n] = v;
                        n += 1;
                    }
                }
                true
            });
            cutoff::<F, N>(values, target)
        })
    })
}

/// [`top_p_cutoff`] of a row whose classes with processed logit at least
/// `lowest` are listed: `classes` (increasing) with processed logits
/// `values`. The masses are added in the same lanes and runs as the row's
/// pass adds them, so the cutoff has the same bits.
#[inline(always)]
fn listed_top_p_cutoff<F: Float, M: Fma>(classes: &[i64], values: &[F], lowest: F, top_p: F) -> F {
    let mut masses = Masses::new(lowest);
    for (&c, &v) in classes.iter().zip(values) {
        masses.add::<M>(c as usize, v);
    }
    let (from, target) = masses.floor(top_p);
    let candidates = values.iter().filter(|&&v| v >= from).count();
    scratch::with(candidates, |chosen: &mut [F]| {
        isa::dispatch_with_fma!(N => {
            let mut n = 0;
            for &v in values {
                if v >= from {
                    chosen[n] = v;
                    n += 1;
                }
            }
            cutoff::<F, N>(chosen, target)
        })
    })
}

/// The masses of top-p's sets (set 0: every class at least `lowest`; set
/// `k`: those above `LEVELS[k - 1]` too), the softmax's exponentials of the
/// processed logits summed in a fixed order: in `F`, class `c` into lane
/// `c % ACCUMULATORS` of its run of [`SUM_BLOCK`] classes, each run's lanes
/// then added to an `f64` total in lane order, runs in row order. The
/// classes must come in increasing order; the masses are a function of the
/// row alone (classes not given add nothing, as `+0` would).
struct Masses<F> {
    bounds: [F; SETS],
    totals: [f64; SETS],
    lanes: [[F; ACCUMULATORS]; SETS],
    run: usize,
}

impl<F: Float> Masses<F> {
    #[inline(always)]
    fn new(lowest: F) -> Self {
        let mut bounds = [lowest; SETS];
        for (b, &level) in bounds[1..].iter_mut().zip(&LEVELS) {
            *b = larger(at_least::<F>(level), lowest);
        }
        Self {
            bounds,
            totals: [0.0; SETS],
            lanes: [[F::ZERO; ACCUMULATORS]; SETS],
            run: 0,
        }
    }

    /// Adds class `c` of processed logit `v`.
    #[inline(always)]
    fn add<M: Fma>(&mut self, c: usize, v: F) {
        self.enter(c);
        self.add_to_lane::<M>(c % ACCUMULATORS, v);
    }

    /// Adds the block of classes `at..at + ACCUMULATORS` (`at` a multiple
    /// of [`ACCUMULATORS`]) of processed logits `v`.
    #[inline(always)]
    fn add_block<M: Fma>(&mut self, at: usize, v: &[F; ACCUMULATORS]) {
        self.enter(at);
        for (j, &v) in v.iter().enumerate() {
            self.add_to_lane::<M>(j, v);
        }
    }

    /// Ends the current run if class `c` is in a later one.
    #[inline(always)]
    fn enter(&mut self, c: usize) {
        if c / SUM_BLOCK != self.run {
            self.end_run();
            self.run = c / SUM_BLOCK;
        }
    }

    /// Adds `exp(v)` to lane `j` of every set whose bound `v` reaches.
    #[inline(always)]
    fn add_to_lane<M: Fma>(&mut self, j: usize, v: F) {
        let e = v.softmax_exp::<M>();
        for (lanes, &b) in self.lanes.iter_mut().zip(&self.bounds) {
            lanes[j] = lanes[j] + if v >= b { e } else { F::ZERO };
        }
    }

    /// Adds the run's lanes to the totals.
    #[inline(always)]
    fn end_run(&mut self) {
        for (total, lanes) in self.totals.iter_mut().zip(&mut self.lanes) {
            *total += lanes.iter().map(|v| v.to_f64()).sum::<f64>();
            *lanes = [F::ZERO; ACCUMULATORS];
        }
    }

    /// The bound `from` of the values the cutoff is among, and the mass
    /// `top_p * W` the classes above the cutoff must reach.
    #[inline(always)]
    fn floor(mut self, top_p: F) -> (F, f64) {
        self.end_run();
        let target = top_p.to_f64() * self.totals[0];
        let from = (1..SETS)
            .find(|&k| self.totals[k] >= target)
            .map_or(self.bounds[0], |k| self.bounds[k]);
        (from, target)
    }
}

/// Larger values first.
fn descending<F: Float>(a: &F, b: &F) -> Ordering {
    b.partial_cmp(a).unwrap_or(Ordering::Equal)
}

/// Buckets of a [`cutoff`] round.
const BUCKETS: usize = 64;

/// The smallest value `v` of `values` (non-empty, finite,
/// `target > 0` at most their mass) such that the mass of the values
/// strictly above `v` is below `target`: linear time, no sort of the whole.
/// Each round spreads the values over [`BUCKETS`] equal ranges between
/// their largest and smallest (a non-increasing function of the value, so
/// every value of an earlier bucket is strictly larger than every value of
/// a later one), adds the mass of each, and keeps the bucket where the mass
/// from the top reaches `target`; at most 32 values are sorted. Each round
/// narrows the range of the values left 64-fold, so the rounds end within
/// the float format's range of exponents (all values left equal) and the
/// time is linear in the number of values.
#[inline(always)]
fn cutoff<F: Float, M: Fma>(mut values: &mut [F], target: f64) -> F {
    // The mass of the values above all of `values`.
    let mut above = 0.0;
    loop {
        if values.len() <= 32 {
            values.sort_unstable_by(descending);
            let mut kept = values[0];
            let mut i = 0;
            while i < values.len() && above < target {
                kept = values[i];
                while i < values.len() && values[i] == kept {
                    above += kept.softmax_exp::<M>().to_f64();
                    i += 1;
                }
            }
            return kept;
        }
        let top = max(values);
        let bottom = values
            .iter()
            .copied()
            .fold(top, |m, v| if v < m { v } else { m });
        if bottom == top {
            return top;
        }
        let range = top - bottom;
        let bucket = |v: F| {
            let b = ((top - v) / range).to_f64() * BUCKETS as f64;
            if b < BUCKETS as f64 {
                b as usize
            } else {
                BUCKETS - 1
            }
        };
        let mut mass = [0.0f64; BUCKETS];
        for &v in values.iter() {
            mass[bucket(v)] += v.softmax_exp::<M>().to_f64();
        }
        let mut b = 0;
        while b + 1 < BUCKETS && above + mass[b] < target {
            above += mass[b];
            b += 1;
        }
        let len = partition(values, |v| bucket(v) == b);
        values = &mut values[..len];
    }
}

/// Moves the values satisfying `keep` to the front; returns their number.
#[inline(always)]
fn partition<F: Float>(values: &mut [F], keep: impl Fn(F) -> bool) -> usize {
    let mut front = 0;
    for i in 0..values.len() {
        if keep(values[i]) {
            values.swap(front, i);
            front += 1;
        }
    }
    front
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::fma::Baseline;

    /// The processed logits of row `l` by [`thresholds`], through the
    /// listed path where it applies, checked against the path that never
    /// lists (the same bits).
    fn processed_logits<F: Float, M: Fma>(l: &[F], filter: &RowFilter<F>, x: &mut [F]) {
        let (mut classes, mut values) = (vec![0i64; l.len()], vec![F::ZERO; l.len()]);
        let (kept, listed) =
            thresholds::<F, M>(l, filter, &mut classes, &mut values).expect("a valid row");
        let (dense, none) = thresholds::<F, M>(l, filter, &mut [], &mut []).expect("a valid row");
        assert!(none.is_none());
        let mut y = vec![F::ZERO; l.len()];
        dense.write(l, &mut y);
        kept.write(l, x);
        let bits = |v: &[F]| v.iter().map(|v| v.to_f64().to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(x), bits(&y), "listed and dense thresholds differ");
        if let Some(n) = listed {
            let expected: Vec<i64> = (0..l.len() as i64)
                .filter(|&c| x[c as usize] > F::NEG_INFINITY)
                .collect();
            assert_eq!(&classes[..n], &expected[..]);
            assert_eq!(
                bits(&values[..n]),
                bits(&expected.iter().map(|&c| x[c as usize]).collect::<Vec<_>>())
            );
        }
    }

    #[test]
    fn no_logit_below_the_floor_reaches_the_value() {
        // The largest f32 below `x` (finite).
        let below = |x: f32| {
            if x > 0.0 {
                f32::from_bits(x.to_bits() - 1)
            } else if x == 0.0 {
                -f32::from_bits(1)
            } else {
                f32::from_bits(x.to_bits() + 1)
            }
        };
        let mut next = uniforms(0x853c_49e6_748f_ea9bu64);
        let mut tight = 0;
        for i in 0..200_000 {
            let m = match i % 4 {
                0 => (next() * 20.0 - 10.0) as f32,
                1 => (next() * 2e38 - 1e38) as f32,
                2 => 0.0,
                _ => (next() * 1e-3) as f32,
            };
            let t = match i % 3 {
                0 => (next() * 2.0 + 0.01) as f32,
                1 => 2f32.powi(-(next() * 140.0) as i32),
                _ => 0.8,
            };
            let v = at_least::<f32>(-next() * 90.0);
            let scale = Scale {
                m,
                t,
                inv: exact_reciprocal(t),
            };
            let floor = scale.floor(v);
            if floor == f32::NEG_INFINITY {
                continue;
            }
            // `of` is non-decreasing: the largest logit below the floor
            // stands for all of them.
            let l = below(floor);
            assert!(scale.of(l) < v, "m {m} t {t} v {v}: floor {floor}");
            // The floor is close: a few units in the last place.
            if scale.of(floor) < v
                && scale.of(f32::from_bits(floor.to_bits().wrapping_sub(64))) >= v
            {
                tight += 1;
            }
        }
        assert!(tight > 1000, "{tight}");
    }

    #[test]
    fn the_listed_path_draws_the_dense_paths_index() {
        use crate::rng::stream::CHUNK_ELEMENTS;
        let mut next = uniforms(0x9e37_79b9_7f4a_7c15u64);
        let mut listed_rows = 0;
        for (len, ties) in [
            (1000usize, false),
            (4096, true),
            (CHUNK_ELEMENTS * 2 + 37, false),
        ] {
            let l: Vec<f32> = (0..len)
                .map(|c| {
                    let v = 3.0 * (-(-(next().max(1e-300)).ln()).ln());
                    match (ties, c % 97) {
                        (_, 5) => f32::NEG_INFINITY,
                        (true, _) => ((v * 2.0).round() / 2.0) as f32,
                        _ => v as f32,
                    }
                })
                .collect();
            for (t, k, p, min_p) in [
                (0.8f32, 50usize, 0.9f32, 0.0f32),
                (1.0, 1, 1.0, 0.0),
                (0.5, 7, 0.5, 0.0),
                (1.3, 0, 0.95, 0.2),
                (1.0, 0, 1.0, 0.05),
                (0.7, 200, 1.0, 0.0),
            ] {
                let filter = RowFilter {
                    temperature: t,
                    top_k: k,
                    top_p: p,
                    min_p,
                };
                for seed in 0..20u64 {
                    let offset = seed * 7 + 3;
                    let capacity = sparse_capacity(len);
                    let (mut classes, mut values) = (vec![0i64; capacity], vec![0f32; capacity]);
                    let (kept, listed) = isa::dispatch_with_fma!(M => {
                        thresholds::<f32, M>(&l, &filter, &mut classes, &mut values)
                    })
                    .expect("a valid row");
                    let Some(n) = listed else { continue };
                    listed_rows += 1;
                    let sparse = isa::dispatch_with_fma!(M => {
                        gumbel_max::sparse_argmax::<f32, M>(&classes[..n], &values[..n], (seed, offset), &l)
                    });
                    let mut x = vec![0f32; len];
                    kept.write(&l, &mut x);
                    let mut index = [0i64];
                    forward::indices(&x, &mut index, Shape::matrix(1, len).unwrap(), seed, offset)
                        .unwrap();
                    assert_eq!(
                        sparse as i64, index[0],
                        "len {len} filter {filter:?} seed {seed}"
                    );
                }
            }
        }
        assert!(listed_rows > 200, "{listed_rows}");
    }

    /// Top-k from its candidates ([`candidates`]) gives the bits of top-k
    /// from a heap over the row (the thresholds with no buffers), and the
    /// list of the kept classes, on rows of values in random order, with
    /// ties, mostly masked, sorted either way, and a huge maximum over a
    /// narrow cluster (where logits below the estimate share the `k`-th's
    /// processed logit, so the candidates must not serve).
    #[test]
    fn top_k_from_candidates_gives_the_heaps_thresholds() {
        let mut next = uniforms(0x2545_f491_4f6c_dd1du64);
        let (mut listed, mut unlisted, mut bad_estimate) = (0, 0, 0);
        for len in [640usize, 5000, 40_000] {
            for form in 0..6 {
                let l: Vec<f32> = (0..len)
                    .map(|c| {
                        let g = 3.0 * (-(-(next().max(1e-300)).ln()).ln());
                        match form {
                            0 => g as f32,
                            1 => ((g * 2.0).round() / 2.0) as f32,
                            2 if c % 3 == 0 => g as f32,
                            2 => f32::NEG_INFINITY,
                            3 => c as f32 * 0.01,
                            4 => -(c as f32),
                            _ if c == len / 2 => 1000.0,
                            _ => (next() * 1e-3) as f32,
                        }
                    })
                    .collect();
                for k in [1, 3, 10, len / 64] {
                    let (mut heap, mut keys) = (vec![0i64; k], vec![0f32; k]);
                    let (mut classes, mut values) = (vec![0i64; len], vec![0f32; len]);
                    match candidates(&l, k, &mut heap, &mut keys, &mut classes, &mut values) {
                        Candidates::Listed { n, estimate } => {
                            listed += 1;
                            let expected: Vec<i64> = (0..len as i64)
                                .filter(|&c| l[c as usize] >= estimate)
                                .collect();
                            assert_eq!(&classes[..n], &expected[..]);
                            let scale = Scale {
                                m: max(&l),
                                t: 0.8,
                                inv: None,
                            };
                            let mut sorted = values[..n].to_vec();
                            sorted.sort_by(|a, b| b.total_cmp(a));
                            if scale.of(estimate) >= scale.of(sorted[k - 1]) {
                                bad_estimate += 1;
                            }
                        }
                        Candidates::Invalid => panic!("a valid row"),
                        Candidates::Unlisted => unlisted += 1,
                    }
                    for (t, p, min_p) in
                        [(0.8f32, 1.0f32, 0.0f32), (0.8, 0.9, 0.0), (1.5, 0.95, 0.1)]
                    {
                        let filter = RowFilter {
                            temperature: t,
                            top_k: k,
                            top_p: p,
                            min_p,
                        };
                        let mut x = vec![0f32; len];
                        processed_logits::<f32, Baseline>(&l, &filter, &mut x);
                    }
                }
            }
        }
        // The candidates served most rows; the narrow cluster had rows
        // where the estimate shares the k-th's processed logit.
        assert!(listed > 50 && unlisted < 10, "{listed} {unlisted}");
        assert!(bad_estimate > 0);
    }

    /// Uniform numbers in `[0, 1)` from a xorshift generator started at
    /// `state` (non-zero).
    fn uniforms(mut state: u64) -> impl FnMut() -> f64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// The cutoff by sorting all values: the reference for [`cutoff`].
    fn sorted_cutoff(values: &[f64], target: f64) -> f64 {
        let mut v = values.to_vec();
        v.sort_by(|a, b| b.partial_cmp(a).unwrap());
        let mut above = 0.0;
        let mut kept = f64::NEG_INFINITY;
        for &x in &v {
            if above >= target {
                break;
            }
            if x != kept {
                kept = x;
            }
            above += x.exp();
        }
        // Ties of the last kept value are kept: `kept` is that value.
        kept
    }

    #[test]
    fn cutoff_matches_a_full_sort() {
        let mut next = uniforms(0x2545f4914f6cdd1du64);
        for n in [1usize, 2, 5, 33, 100, 1000, 5000] {
            for ties in [false, true] {
                let values: Vec<f64> = (0..n)
                    .map(|_| {
                        let v = -8.0 * next();
                        if ties {
                            (v * 2.0).round() / 2.0
                        } else {
                            v
                        }
                    })
                    .collect();
                let total: f64 = values.iter().map(|v| v.exp()).sum();
                for p in [1e-9, 0.1, 0.5, 0.9, 0.999, 1.0] {
                    let target = p * total;
                    let mut work = values.clone();
                    let got = cutoff::<f64, Baseline>(&mut work, target);
                    let want = sorted_cutoff(&values, target);
                    // Masses are summed in different orders: a value whose
                    // mass above sits within rounding of the target may go
                    // either way; otherwise the cutoffs agree.
                    if got != want {
                        let above = |c: f64| {
                            values
                                .iter()
                                .filter(|&&v| v > c)
                                .map(|v| v.exp())
                                .sum::<f64>()
                        };
                        let margin = 1e-12 * total;
                        assert!(
                            (above(got) - target).abs() < margin
                                || (above(want) - target).abs() < margin,
                            "n {n} ties {ties} p {p}: {got} != {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn at_least_is_the_smallest_value_not_below() {
        let values = [
            -1e-30,
            -0.1,
            -1.0 / 3.0,
            -0.5,
            -1.0,
            -std::f64::consts::LN_10,
            -87.0,
            -700.0,
        ];
        for v in values {
            let a: f32 = at_least(v);
            assert!(f64::from(a) >= v, "{v}: {a}");
            // The next f32 below a (a < 0: one more unit of magnitude).
            let below = f32::from_bits(a.to_bits() + 1);
            assert!(
                f64::from(below) < v,
                "{v}: {a} is not the smallest ({below})"
            );
            let exact: f64 = at_least(v);
            assert_eq!(exact, v);
        }
        assert_eq!(at_least::<f32>(0.0), 0.0);
    }

    #[test]
    fn filters_keep_what_their_definitions_keep() {
        let l = [2.0f64, 1.0, 1.0, 0.0, -1.0, f64::NEG_INFINITY, 3.0];
        let run = |temperature, top_k, top_p, min_p| {
            let mut x = [0.0; 7];
            let filter = RowFilter {
                temperature,
                top_k,
                top_p,
                min_p,
            };
            processed_logits::<_, Baseline>(&l, &filter, &mut x);
            x.map(|v| v > f64::NEG_INFINITY)
        };
        let none = [true, true, true, true, true, false, true];
        assert_eq!(run(1.0, 0, 1.0, 0.0), none);
        assert_eq!(run(1.0, 6, 1.0, 0.0), none, "k = unmasked classes: off");
        // Top-3 with a tie at the 3rd and 4th largest keeps both.
        assert_eq!(
            run(1.0, 3, 1.0, 0.0),
            [true, true, true, false, false, false, true]
        );
        assert_eq!(
            run(1.0, 1, 1.0, 0.0),
            [false, false, false, false, false, false, true]
        );
        // min-p 0.3: exp(l - 3) >= 0.3 keeps l >= 3 + ln 0.3 = 1.796.
        assert_eq!(
            run(1.0, 0, 1.0, 0.3),
            [true, false, false, false, false, false, true]
        );
        // At temperature 2, x = (l - 3) / 2 >= ln 0.3 keeps l >= 0.592.
        assert_eq!(
            run(2.0, 0, 1.0, 0.3),
            [true, true, true, false, false, false, true]
        );
        // Top-p: p(3) = 0.586 of the row; 0.55 keeps it alone, 0.7 adds 2.0.
        assert_eq!(
            run(1.0, 0, 0.55, 0.0),
            [false, false, false, false, false, false, true]
        );
        assert_eq!(
            run(1.0, 0, 0.7, 0.0),
            [true, false, false, false, false, false, true]
        );
        // 0.9: 3 and 2 hold 0.801, the tied 1s are kept together.
        assert_eq!(
            run(1.0, 0, 0.9, 0.0),
            [true, true, true, false, false, false, true]
        );
        // Top-p on what top-2 kept: p(3 | {3, 2}) = 0.731.
        assert_eq!(
            run(1.0, 2, 0.7, 0.0),
            [false, false, false, false, false, false, true]
        );
        assert_eq!(
            run(1.0, 2, 0.8, 0.0),
            [true, false, false, false, false, false, true]
        );
        // Processed values are (l - max) / T.
        let mut x = [0.0; 7];
        let filter = RowFilter {
            temperature: 0.5,
            top_k: 0,
            top_p: 1.0,
            min_p: 0.0,
        };
        processed_logits::<_, Baseline>(&l, &filter, &mut x);
        assert_eq!(x[0], -2.0);
        assert_eq!(x[6], 0.0);
        assert_eq!(x[5], f64::NEG_INFINITY);
    }
}
