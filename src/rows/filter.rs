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
//! row: top-k is a heap of `k` classes, min-p a comparison, and top-p a
//! selection by mass (median partitions, linear time) over the classes left.

use std::cmp::Ordering;

use crate::math::float::Float;
use crate::rows::softmax::{max, run_sum, sum_by};
use crate::rows::top_k::heap_select;
use crate::runtime::scratch;

/// The filters of one row, as validated by the caller.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowFilter<F> {
    /// Finite, `> 0` (greedy rows do not come here).
    pub(crate) temperature: F,
    /// 0: off.
    pub(crate) top_k: usize,
    /// In `(0, 1]`; 1: off.
    pub(crate) top_p: F,
    /// In `[0, 1]`; 0: off.
    pub(crate) min_p: F,
}

/// Writes the processed logits of row `l` (a row with a value above `-inf`)
/// into `x` (same length): `(l - max l) / T`, `-inf` for the classes the
/// filters remove (module docs).
pub(crate) fn processed_logits<F: Float>(l: &[F], filter: &RowFilter<F>, x: &mut [F]) {
    let m = max(l);
    let t = filter.temperature;
    let mut unmasked = 0usize;
    for (x, &l) in x.iter_mut().zip(l) {
        *x = (l - m) / t;
        unmasked += usize::from(l != F::NEG_INFINITY);
    }
    // The lowest kept value: top-k's k-th largest and min-p's ln(min_p).
    let mut lowest = F::NEG_INFINITY;
    if filter.top_k > 0 && filter.top_k < unmasked {
        lowest = scratch::with(filter.top_k, |heap: &mut [i64]| {
            heap_select(x, x, heap);
            x[heap[0] as usize]
        });
    }
    if filter.min_p > F::ZERO {
        lowest = larger(lowest, at_least(filter.min_p.to_f64().ln()));
    }
    if filter.top_p < F::ONE {
        lowest = larger(lowest, top_p_cutoff(x, lowest, filter.top_p));
    }
    if lowest > F::NEG_INFINITY {
        for x in x.iter_mut() {
            if *x < lowest {
                *x = F::NEG_INFINITY;
            }
        }
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
fn larger<F: Float>(a: F, b: F) -> F {
    if b > a {
        b
    } else {
        a
    }
}

/// The top-p cutoff of the processed logits `x` restricted to the classes
/// with `x >= lowest`: the smallest kept value `v` (module docs). The mass
/// of each class is `exp(x)` in `F`, summed in `F` in the fixed order of
/// [`sum_by`], so the cutoff is a function of the row alone.
fn top_p_cutoff<F: Float>(x: &[F], lowest: F, top_p: F) -> F {
    let kept = x.iter().filter(|&&v| v >= lowest).count();
    scratch::with(kept, |values: &mut [F]| {
        for (slot, &v) in values.iter_mut().zip(x.iter().filter(|&&v| v >= lowest)) {
            *slot = v;
        }
        let target = top_p * mass(values);
        cutoff(values, target)
    })
}

/// `sum exp(v)` over `values` (all `<= 0`).
fn mass<F: Float>(values: &[F]) -> F {
    sum_by(values.len(), |run| {
        run_sum(run.len(), |t| {
            for (t, &v) in t.iter_mut().zip(&values[run]) {
                *t = v.exp();
            }
        })
    })
}

/// Larger values first.
fn descending<F: Float>(a: &F, b: &F) -> Ordering {
    b.partial_cmp(a).unwrap_or(Ordering::Equal)
}

/// The smallest value `v` of `values` (non-empty, `target > 0`) such that
/// the mass of the values strictly above `v` is below `target`. Each round
/// splits the values at their median into those above, equal and below, and
/// keeps the part holding the answer: linear time, no sort of the whole.
fn cutoff<F: Float>(mut values: &mut [F], target: F) -> F {
    // Mass of the values above all of `values`.
    let mut above = F::ZERO;
    let mut kept = F::NEG_INFINITY;
    loop {
        if values.len() <= 32 {
            values.sort_unstable_by(descending);
            let mut i = 0;
            while i < values.len() && above < target {
                let v = values[i];
                kept = v;
                while i < values.len() && values[i] == v {
                    above = above + v.exp();
                    i += 1;
                }
            }
            return kept;
        }
        let mid = values.len() / 2;
        let (_, &mut pivot, _) = values.select_nth_unstable_by(mid, descending);
        let greater = partition(values, |v| v > pivot);
        let (high, rest) = values.split_at_mut(greater);
        let equal = partition(rest, |v| v == pivot);
        let high_mass = mass(high);
        if above + high_mass >= target {
            // The pivot's class is out: the cutoff is above it.
            values = high;
            continue;
        }
        above = above + high_mass + F::from_f64(equal as f64) * pivot.exp();
        kept = pivot;
        let (_, low) = rest.split_at_mut(equal);
        if above >= target || low.is_empty() {
            return kept;
        }
        values = low;
    }
}

/// Moves the values satisfying `keep` to the front; returns their number.
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
                    let got = cutoff(&mut work, target);
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
            processed_logits(&l, &filter, &mut x);
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
        processed_logits(&l, &filter, &mut x);
        assert_eq!(x[0], -2.0);
        assert_eq!(x[6], 0.0);
        assert_eq!(x[5], f64::NEG_INFINITY);
    }
}
