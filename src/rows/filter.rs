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
//! row: top-k is a heap of `k` classes, min-p a comparison, and top-p one
//! pass of masses and a selection by mass among the candidates it leaves
//! (rounds of buckets, each narrowing the value range 64-fold: linear time).

use std::cmp::Ordering;

use crate::error::Result;
use crate::math::float::Float;
use crate::math::fma::Fma;
use crate::math::isa;
use crate::rows::forward;
use crate::rows::softmax::{argmax, exact_reciprocal, log_sum_exp, max, ACCUMULATORS, SUM_BLOCK};
use crate::rows::top_k::heap_select;
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

/// Samples the row `l` (a row with a value above `-inf`) under `filter`
/// with the key `(seed, offset)`: the index that the keyed one-row
/// Gumbel-max draws on the processed logits (module docs), and, as `want`
/// asks, the raw log-probability `l_i - logsumexp(l)` and the processed one
/// `x_i - logsumexp(x)` (0 where not asked, and the processed one of a
/// greedy row). A greedy row (temperature 0) takes the first largest logit.
/// Fails only if the worker threads cannot start.
pub(crate) fn sample_row<F: Float>(
    l: &[F],
    filter: &RowFilter<F>,
    (seed, offset): (u64, u64),
    (want_raw, want_processed): (bool, bool),
) -> Result<(usize, F, F)> {
    let (index, processed) = if filter.temperature == F::ZERO {
        (argmax(l), F::ZERO)
    } else {
        scratch::with(l.len(), |x: &mut [F]| {
            isa::dispatch_with_fma!(M => processed_logits::<F, M>(l, filter, x));
            let mut index = [0i64];
            forward::indices(x, &mut index, Shape::matrix(1, l.len())?, seed, offset)?;
            let index = index[0] as usize;
            let processed = if want_processed {
                x[index] - isa::dispatch_with_fma!(M => log_sum_exp::<F, M>(x))
            } else {
                F::ZERO
            };
            Ok::<_, crate::error::Error>((index, processed))
        })?
    };
    let raw = if want_raw {
        l[index] - isa::dispatch_with_fma!(M => log_sum_exp::<F, M>(l))
    } else {
        F::ZERO
    };
    Ok((index, raw, processed))
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
}

/// Writes the processed logits of row `l` (a row with a value above `-inf`,
/// temperature `> 0`) into `x` (same length): `(l - max l) / T`, `-inf` for
/// the classes the filters remove (module docs).
#[inline(always)]
fn processed_logits<F: Float, M: Fma>(l: &[F], filter: &RowFilter<F>, x: &mut [F]) {
    let t = filter.temperature;
    let scale = Scale {
        m: max(l),
        t,
        inv: exact_reciprocal(t),
    };
    // The lowest kept processed logit: top-k's k-th largest (the processed
    // logits are a non-decreasing function of the logits, so it is the
    // image of the k-th largest logit) and min-p's ln(min_p).
    let mut lowest = F::NEG_INFINITY;
    if filter.top_k > 0 && filter.top_k < l.len() {
        let unmasked = l
            .iter()
            .fold(0usize, |n, &v| n + usize::from(v != F::NEG_INFINITY));
        if filter.top_k < unmasked {
            let kth = scratch::with(filter.top_k, |heap: &mut [i64]| {
                isa::dispatch(
                    #[inline(always)]
                    || heap_select(l, l, heap),
                );
                l[heap[0] as usize]
            });
            lowest = scale.of(kth);
        }
    }
    if filter.min_p > F::ZERO {
        lowest = larger(lowest, at_least(filter.min_p.to_f64().ln()));
    }
    if filter.top_p < F::ONE {
        lowest = larger(lowest, top_p_cutoff::<F, M>(l, scale, lowest, filter.top_p));
    }
    for (x, &l) in x.iter_mut().zip(l) {
        let v = scale.of(l);
        *x = if v >= lowest { v } else { F::NEG_INFINITY };
    }
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

/// The top-p cutoff of the processed logits `x = scale.of(l)` restricted to
/// the classes with `x >= lowest`: the smallest kept value (module docs).
///
/// One pass computes the kept mass `W = sum exp(x)` and the masses of the
/// classes above each of [`LEVELS`]; the highest level holding `top_p * W`
/// bounds the cutoff from below, so the selection ([`cutoff`]) runs over the
/// classes above it only (all kept classes if no level holds enough).
/// Masses are the softmax's exponentials summed in `F` over runs of
/// [`SUM_BLOCK`] classes, then in `f64`, in a fixed order: the cutoff is a
/// function of the row alone.
#[inline(always)]
fn top_p_cutoff<F: Float, M: Fma>(l: &[F], scale: Scale<F>, lowest: F, top_p: F) -> F {
    const SETS: usize = LEVELS.len() + 1;
    // Set 0: every kept class; set k: those above level k - 1.
    let mut bounds = [lowest; SETS];
    for (b, &level) in bounds[1..].iter_mut().zip(&LEVELS) {
        *b = larger(at_least::<F>(level), lowest);
    }
    let mut totals = [0.0f64; SETS];
    for run in l.chunks(SUM_BLOCK) {
        let mut acc = [[F::ZERO; ACCUMULATORS]; SETS];
        let mut blocks = run.chunks_exact(ACCUMULATORS);
        for block in &mut blocks {
            // A block wholly below `lowest` (top-k or min-p removed it) adds
            // +0 to every set: skip its exponentials.
            if scale.of(max(block)) < lowest {
                continue;
            }
            let block = block.try_into().expect("a block of ACCUMULATORS");
            add_masses::<F, M, SETS>(&mut acc, block, scale, &bounds);
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            let mut padded = [F::NEG_INFINITY; ACCUMULATORS];
            padded[..rest.len()].copy_from_slice(rest);
            add_masses::<F, M, SETS>(&mut acc, &padded, scale, &bounds);
        }
        for (total, a) in totals.iter_mut().zip(&acc) {
            *total += a.iter().map(|v| v.to_f64()).sum::<f64>();
        }
    }
    let target = top_p.to_f64() * totals[0];
    let from = (1..SETS)
        .find(|&k| totals[k] >= target)
        .map_or(lowest, |k| bounds[k]);
    // Classes of mass 0 (`x = -inf`) never hold the cutoff.
    let candidate = |v: F| v >= from && v > F::NEG_INFINITY;
    let candidates = l
        .iter()
        .fold(0usize, |n, &l| n + usize::from(candidate(scale.of(l))));
    scratch::with(candidates, |values: &mut [F]| {
        // The scratch closure is compiled outside the caller's tier: enter
        // it again (the same tier, so the same `M`).
        isa::dispatch_with_fma!(N => {
            let mut n = 0;
            for block in l.chunks(ACCUMULATORS) {
                // Most blocks hold no candidate: one comparison skips them.
                if scale.of(max(block)) < from {
                    continue;
                }
                for &l in block {
                    let v = scale.of(l);
                    if candidate(v) {
                        values[n] = v;
                        n += 1;
                    }
                }
            }
            cutoff::<F, N>(values, target)
        })
    })
}

/// Adds the mass `exp(x)` of each class of a block (`x = scale.of(l)`) to
/// lane `j` of every set `k` whose bound it reaches, `x >= bounds[k]`.
#[inline(always)]
fn add_masses<F: Float, M: Fma, const SETS: usize>(
    acc: &mut [[F; ACCUMULATORS]; SETS],
    block: &[F; ACCUMULATORS],
    scale: Scale<F>,
    bounds: &[F; SETS],
) {
    for (j, &l) in block.iter().enumerate() {
        let v = scale.of(l);
        let e = v.softmax_exp::<M>();
        for (a, &b) in acc.iter_mut().zip(bounds) {
            a[j] = a[j] + if v >= b { e } else { F::ZERO };
        }
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
        let mut state = 0x2545f4914f6cdd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
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
