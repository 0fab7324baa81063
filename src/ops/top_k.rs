//! Gumbel-top-k: ordered samples of `k` classes without replacement (Kool,
//! van Hoof and Welling 2019, "Stochastic Beams and Where to Find Them",
//! sec. 2: the `k` largest of `logits + g` are distributed as `k` draws
//! without replacement from `softmax(logits)`), with a key per call or per
//! row, and the Plackett-Luce log-probability of an ordered sample.

use crate::error::{Error, ErrorKind, Result};
use crate::math::float::Float;
use crate::ops::keyed::{check_keyed, check_matrix, for_each_keyed_row, one_row};
use crate::rows::top_k;
use crate::rows::validate::{check_logits, check_rows};
use crate::runtime::exec;
use crate::runtime::scratch;
use crate::runtime::shape::Shape;

/// Gumbel-top-k: the `k` classes of largest perturbed logit
/// `logits + g` of every row of a row-major `(outer, classes, inner)`
/// tensor, in decreasing order, an exact ordered sample without replacement
/// from `Categorical(softmax(logits))`: the probability of the sequence
/// `s_1..s_k` is the Plackett-Luce product
/// `prod_i exp(l_{s_i}) / sum_{c not in s_1..s_{i-1}} exp(l_c)`
/// (Kool et al. 2019, sec. 2; see [`plackett_luce_log_prob`]).
///
/// `g` is exactly the noise of [`crate::sample`] on the same shape with the
/// same `(seed, offset)`: rank 0 of every row is its index. `indices` has
/// `shape.rows() * k` entries, row by row in row order `(o, i)`, i.e. rank
/// `j` of row `r` is `indices[r * k + j]`; ties go to the lower index.
/// Masked (`-inf`) classes never appear. Consumes [`crate::streams`]`(shape)`
/// stream ids. `k == 0` writes nothing. Costs one pass over each row and a
/// heap of `k` classes (`O(classes log k)`), no sort of the row.
///
/// # Errors
/// [`ErrorKind::InvalidShape`] for buffer lengths that do not match `shape`
/// and `k`; [`ErrorKind::InvalidParameter`] if `k > classes`, or if some
/// row has fewer than `k` unmasked classes (the message names the row and
/// its count: a sample without replacement of `k` classes does not exist);
/// [`ErrorKind::InvalidLogits`] for a NaN or `+inf` logit;
/// [`ErrorKind::AllMasked`] for a row that is all `-inf`. `indices` is
/// untouched on error.
pub fn top_k<F: Float>(
    logits: &[F],
    indices: &mut [i64],
    shape: Shape,
    k: usize,
    seed: u64,
    offset: u64,
) -> Result<()> {
    shape.check_len("logits", logits.len(), shape.len())?;
    shape.check_len("indices", indices.len(), out_len(shape, k)?)?;
    check_k(logits, shape, k)?;
    if k == 0 || shape.is_empty() {
        return Ok(());
    }
    top_k::top_k(logits, indices, shape, k, seed, offset)
}

/// [`top_k`] with one key per row: the `k` indices of row `r` of the
/// `(rows, classes)` matrix `logits` are what [`top_k`] writes for row `r`
/// alone (shape `(1, classes, 1)`) with `(seeds[r], offsets[r])`, whatever
/// the other rows; rank 0 is [`crate::sample_keyed`]'s index. `seeds` and
/// `offsets` have `shape.rows()` entries; `indices` `shape.rows() * k`.
///
/// # Errors
/// As [`top_k`], and [`ErrorKind::InvalidShape`] if `shape.inner() != 1`.
pub fn top_k_keyed<F: Float>(
    logits: &[F],
    indices: &mut [i64],
    shape: Shape,
    k: usize,
    seeds: &[u64],
    offsets: &[u64],
) -> Result<()> {
    check_matrix(shape)?;
    let len = out_len(shape, k)?;
    check_keyed(
        logits,
        shape,
        ("indices", indices.len(), len),
        seeds,
        offsets,
    )?;
    check_k(logits, shape, k)?;
    if k == 0 {
        return Ok(());
    }
    let one = one_row(shape)?;
    let classes = shape.classes();
    for_each_keyed_row(indices, shape, k, |r, best| {
        let row = &logits[r * classes..(r + 1) * classes];
        top_k::top_k(row, best, one, k, seeds[r], offsets[r])
    })
}

/// The Plackett-Luce log-probability of ordered samples without
/// replacement: for every row of a row-major `(outer, classes, inner)`
/// tensor `logits` with the `k` classes `s_1..s_k` of `indices` (row by row,
/// `indices[r * k + j]`, as [`top_k`] writes them),
/// `out[r] = sum_i [l_{s_i} - ln sum_{c not in s_1..s_{i-1}} exp(l_c)]`
/// (Plackett 1975; Luce 1959; Kool et al. 2019, sec. 2), the log-probability
/// that [`top_k`] draws exactly this sequence.
///
/// Computed in `f64` without cancellation: the mass left at rank `i` is the
/// sum of the unchosen classes plus the chosen ones from rank `i` on, each
/// added, never subtracted. A masked (`-inf`) chosen class gives `-inf`
/// (probability 0). `k == 0` gives 0. `out` has `shape.rows()` entries.
///
/// # Errors
/// [`ErrorKind::InvalidShape`] for buffer lengths that do not match `shape`
/// and `k`; [`ErrorKind::InvalidParameter`] if `k > classes`;
/// [`ErrorKind::InvalidValue`] for an index outside `[0, classes)` or a
/// class chosen twice in a row (the message names the row and rank);
/// [`ErrorKind::InvalidLogits`] for a NaN or `+inf` logit;
/// [`ErrorKind::AllMasked`] for a row that is all `-inf`. `out` is
/// untouched on error.
pub fn plackett_luce_log_prob<F: Float>(
    logits: &[F],
    indices: &[i64],
    out: &mut [F],
    shape: Shape,
    k: usize,
) -> Result<()> {
    shape.check_len("logits", logits.len(), shape.len())?;
    shape.check_len("indices", indices.len(), out_len(shape, k)?)?;
    shape.check_len("out", out.len(), shape.rows())?;
    check_k_fits(shape, k)?;
    check_logits(shape, logits)?;
    let classes = shape.classes();
    check_rows(shape, |r| {
        let row = &indices[r * k..(r + 1) * k];
        for (j, &s) in row.iter().enumerate() {
            if s < 0 || s as u64 >= classes as u64 {
                return Err(Error::new(
                    ErrorKind::InvalidValue,
                    format!("indices of row {r}, rank {j} is {s}, outside [0, {classes})"),
                ));
            }
            if row[..j].contains(&s) {
                return Err(Error::new(
                    ErrorKind::InvalidValue,
                    format!("indices of row {r}, rank {j} repeats class {s}: a sample without replacement holds each class once"),
                ));
            }
        }
        Ok(())
    })?;
    let parallel = shape.len() >= exec::PARALLEL_MIN_ELEMENTS && shape.rows() > 1;
    exec::for_each_chunk_mut(out, 1, parallel, |r, value| {
        value[0] = F::from_f64(row_log_prob(logits, &indices[r * k..(r + 1) * k], shape, r));
    })
}

/// The Plackett-Luce log-probability of the ordered classes `chosen` in
/// row `r` (checked: in range, distinct).
fn row_log_prob<F: Float>(logits: &[F], chosen: &[i64], shape: Shape, r: usize) -> f64 {
    let classes = shape.classes();
    let l = |c: usize| logits[shape.index(r, c)].to_f64();
    let m = (0..classes).map(l).fold(f64::NEG_INFINITY, f64::max);
    scratch::with(classes, |taken: &mut [i64]| {
        taken.fill(0);
        chosen.iter().for_each(|&s| taken[s as usize] = 1);
        let unchosen: f64 = (0..classes)
            .filter(|&c| taken[c] == 0)
            .map(|c| (l(c) - m).exp())
            .sum();
        // Ranks from last to first: the mass left at rank i is the unchosen
        // mass plus the chosen classes from rank i on.
        let mut left = unchosen;
        let mut total = 0.0;
        for &s in chosen.iter().rev() {
            let x = l(s as usize) - m;
            left += x.exp();
            total += x - left.ln();
        }
        total
    })
}

/// `shape.rows() * k`, the length of the indices of a top-k call.
fn out_len(shape: Shape, k: usize) -> Result<usize> {
    shape.rows().checked_mul(k).ok_or_else(|| {
        Error::new(
            ErrorKind::SizeOverflow,
            format!("rows * k overflows ({} rows, k {k})", shape.rows()),
        )
    })
}

/// Checks `k <= classes`.
fn check_k_fits(shape: Shape, k: usize) -> Result<()> {
    if k <= shape.classes() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::InvalidParameter,
        format!(
            "k is {k} but rows have {} classes: a sample without replacement holds at most one of each",
            shape.classes()
        ),
    ))
}

/// Checks `k` against the shape and every row's number of unmasked classes,
/// and the logits.
fn check_k<F: Float>(logits: &[F], shape: Shape, k: usize) -> Result<()> {
    check_k_fits(shape, k)?;
    check_logits(shape, logits)?;
    if k <= 1 {
        return Ok(());
    }
    check_rows(shape, |r| {
        let open = (0..shape.classes())
            .filter(|&c| logits[shape.index(r, c)] != F::NEG_INFINITY)
            .count();
        if open >= k {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::InvalidParameter,
            format!("k is {k} but row {r} has only {open} unmasked classes"),
        ))
    })
}
