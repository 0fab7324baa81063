//! Gumbel-top-k: ordered samples without replacement follow the
//! Plackett-Luce law, rank 0 is the Gumbel-max index, masked classes never
//! appear, and the Plackett-Luce log-probability matches closed forms.

use crate::common;

use common::{chi_square_p, ALPHA};
use gumbel::ffi::*;
use gumbel::{
    noise, plackett_luce_log_prob, sample, sample_keyed, top_k, top_k_keyed, ErrorKind, Shape,
};

/// The exact Plackett-Luce probability of the ordered classes `s`.
fn pl_prob(logits: &[f64], s: &[usize]) -> f64 {
    let w: Vec<f64> = logits.iter().map(|l| l.exp()).collect();
    let mut left: f64 = w.iter().sum();
    let mut p = 1.0;
    for &c in s {
        p *= w[c] / left;
        left -= w[c];
    }
    p
}

/// Every ordered tuple of `k` distinct classes out of `n`.
fn tuples(n: usize, k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for t in tuples(n, k - 1) {
        for c in 0..n {
            if !t.contains(&c) {
                let mut u = t.clone();
                u.push(c);
                out.push(u);
            }
        }
    }
    out
}

/// Counts of each tuple of `all` among the rows of `indices` (`k` per row).
fn tuple_counts(indices: &[i64], k: usize, all: &[Vec<usize>]) -> Vec<u64> {
    let mut counts = vec![0u64; all.len()];
    for row in indices.chunks(k) {
        let t: Vec<usize> = row.iter().map(|&i| i as usize).collect();
        let cell = all
            .iter()
            .position(|u| *u == t)
            .expect("a tuple of distinct classes");
        counts[cell] += 1;
    }
    counts
}

const LOGITS: [f64; 5] = [1.0, 0.2, 0.0, -0.6, -1.5];

/// `n` top-k draws of `logits` (one row each).
fn draws(logits: &[f64], n: usize, k: usize, seed: u64) -> Vec<i64> {
    let x: Vec<f64> = common::tile(logits, n);
    let mut idx = vec![-1i64; n * k];
    top_k(
        &x,
        &mut idx,
        Shape::matrix(n, logits.len()).unwrap(),
        k,
        seed,
        0,
    )
    .unwrap();
    idx
}

#[test]
fn ordered_top_k_follows_plackett_luce_and_wrong_variants_fail() {
    let n = 300_000;
    for k in [2, 3] {
        let all = tuples(LOGITS.len(), k);
        let probs: Vec<f64> = all.iter().map(|t| pl_prob(&LOGITS, t)).collect();
        assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let p = chi_square_p(&tuple_counts(&draws(&LOGITS, n, k, 11), k, &all), &probs);
        assert!(p > ALPHA, "k = {k}: p = {p}");
        // Wrong: noise added to scaled logits (the temperature misplaced).
        let scaled: Vec<f64> = LOGITS.iter().map(|l| l * 0.85).collect();
        let p = chi_square_p(&tuple_counts(&draws(&scaled, n, k, 11), k, &all), &probs);
        assert!(p < ALPHA, "scaled logits not rejected, k = {k}: p = {p}");
        // Wrong: independent Gumbel-max ranks, rows with a repeat dropped
        // (i.i.d. draws conditioned on being distinct, not Plackett-Luce).
        let x = common::tile(&LOGITS, n);
        let shape = Shape::matrix(n, LOGITS.len()).unwrap();
        let ranks: Vec<Vec<i64>> = (0..k as u64)
            .map(|r| {
                let mut i = vec![0i64; n];
                sample(&x, &mut i, shape, 5, r * 1000).unwrap();
                i
            })
            .collect();
        let mut wrong = Vec::new();
        for row in 0..n {
            let t: Vec<i64> = ranks.iter().map(|r| r[row]).collect();
            if (0..k).all(|a| (0..a).all(|b| t[a] != t[b])) {
                wrong.extend(t);
            }
        }
        let p = chi_square_p(&tuple_counts(&wrong, k, &all), &probs);
        assert!(
            p < ALPHA,
            "independent ranks not rejected, k = {k}: p = {p}"
        );
    }
}

#[test]
fn a_rare_class_enters_the_sample_at_its_rate() {
    // Class 3 has probability about 4.5e-5 at rank 0; its chance of being
    // among the first two is the sum of the exact Plackett-Luce tuples.
    let logits = [2.0f64, 1.0, 0.0, -8.0];
    let (n, k) = (2_000_000, 2);
    let all = tuples(logits.len(), k);
    let want: f64 = all
        .iter()
        .filter(|t| t.contains(&3))
        .map(|t| pl_prob(&logits, t))
        .sum::<f64>()
        * n as f64;
    let idx = draws(&logits, n, k, 3);
    let got = idx.iter().filter(|&&i| i == 3).count() as f64;
    // 5.3 standard deviations: about 1e-7 two-sided.
    assert!(
        (got - want).abs() < 5.3 * want.sqrt(),
        "rare class {got} times, expected {want:.1}"
    );
    assert!(want > 100.0);
}

/// Logits of `rows` rows with some masked classes.
fn logits(len: usize, classes: usize) -> Vec<f64> {
    let mut x = vec![0.0; len];
    noise(&mut x, 0.0, 1.5, 8, 0).unwrap();
    for (j, v) in x.iter_mut().enumerate() {
        if (j / 3) % classes % 4 == 1 {
            *v = f64::NEG_INFINITY;
        }
    }
    x
}

#[test]
fn rank_zero_is_the_gumbel_max_index_and_masked_classes_never_appear() {
    for (outer, classes, inner, k) in [
        (40, 5, 1, 3),
        (3, 50, 4, 10),
        (2, 40_000, 1, 64),
        (700, 64, 1, 8),
    ] {
        let shape = Shape::new(outer, classes, inner).unwrap();
        let x = logits(shape.len(), classes);
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let masked = |r: usize, c: usize| {
            x[(r / inner * classes + c) * inner + r % inner] == f64::NEG_INFINITY
        };
        let open = (0..shape.rows())
            .map(|r| (0..classes).filter(|&c| !masked(r, c)).count())
            .min()
            .unwrap();
        let k = k.min(open);
        for (seed, offset) in [(1u64, 0u64), (9, 12345)] {
            let mut best = vec![-1i64; shape.rows() * k];
            let mut idx = vec![-1i64; shape.rows()];
            top_k(&x, &mut best, shape, k, seed, offset).unwrap();
            sample(&x, &mut idx, shape, seed, offset).unwrap();
            let mut best32 = vec![-1i64; shape.rows() * k];
            let mut idx32 = vec![-1i64; shape.rows()];
            top_k(&x32, &mut best32, shape, k, seed, offset).unwrap();
            sample(&x32, &mut idx32, shape, seed, offset).unwrap();
            for r in 0..shape.rows() {
                assert_eq!(
                    best[r * k],
                    idx[r],
                    "f64 row {r}, shape {outer}x{classes}x{inner}"
                );
                assert_eq!(
                    best32[r * k],
                    idx32[r],
                    "f32 row {r}, shape {outer}x{classes}x{inner}"
                );
                let row = &best[r * k..(r + 1) * k];
                for (j, &c) in row.iter().enumerate() {
                    assert!(!masked(r, c as usize), "masked class {c} in row {r}");
                    assert!(!row[..j].contains(&c), "class {c} twice in row {r}");
                }
            }
        }
    }
}

#[test]
fn keyed_top_k_rows_are_their_one_row_calls() {
    let (rows, classes, k) = (30, 200, 7);
    let x = logits(rows * classes, classes);
    let seeds: Vec<u64> = (0..rows as u64).map(|r| r * 31 + 1).collect();
    let offsets: Vec<u64> = (0..rows as u64).map(|r| r * 2).collect();
    let shape = Shape::matrix(rows, classes).unwrap();
    let mut best = vec![-1i64; rows * k];
    top_k_keyed(&x, &mut best, shape, k, &seeds, &offsets).unwrap();
    let mut idx = vec![-1i64; rows];
    sample_keyed(&x, &mut idx, shape, &seeds, &offsets).unwrap();
    for r in 0..rows {
        let mut one = vec![-1i64; k];
        let row = &x[r * classes..(r + 1) * classes];
        top_k(
            row,
            &mut one,
            Shape::matrix(1, classes).unwrap(),
            k,
            seeds[r],
            offsets[r],
        )
        .unwrap();
        assert_eq!(&best[r * k..(r + 1) * k], &one[..], "row {r}");
        assert_eq!(best[r * k], idx[r]);
    }
}

#[test]
fn k_beyond_the_classes_or_the_unmasked_classes_is_an_error() {
    let x = [0.0f64, 1.0, f64::NEG_INFINITY, 2.0];
    let shape = Shape::matrix(1, 4).unwrap();
    let mut best = vec![-7i64; 5];
    let e = top_k(&x, &mut best, shape, 5, 1, 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    let e = top_k(&x, &mut best[..4], shape, 4, 1, 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert!(
        e.message().contains("row 0") && e.message().contains("3 unmasked"),
        "{}",
        e.message()
    );
    assert!(best.iter().all(|&b| b == -7));
    top_k(&x, &mut best[..3], shape, 3, 1, 0).unwrap();
    let mut got = best[..3].to_vec();
    got.sort();
    assert_eq!(got, [0, 1, 3]);
}

#[test]
fn plackett_luce_log_prob_against_closed_forms() {
    // Weights 1, 2, 3, 4 (probabilities 0.1 .. 0.4): the order (3, 1, 0)
    // has probability 0.4 * (0.2 / 0.6) * (0.1 / 0.4) = 1 / 30.
    let l: Vec<f64> = [1.0f64, 2.0, 3.0, 4.0].iter().map(|w| w.ln()).collect();
    let mut out = [0.0f64; 1];
    let shape = Shape::matrix(1, 4).unwrap();
    plackett_luce_log_prob(&l, &[3, 1, 0], &mut out, shape, 3).unwrap();
    assert!((out[0] + 30f64.ln()).abs() < 1e-14, "{}", out[0]);
    // k = 1 is the log-softmax; k = classes ends with probability 1.
    plackett_luce_log_prob(&l, &[2], &mut out, shape, 1).unwrap();
    assert!((out[0] - 0.3f64.ln()).abs() < 1e-15);
    plackett_luce_log_prob(&l, &[3, 1, 0, 2], &mut out, shape, 4).unwrap();
    assert!((out[0] + 30f64.ln()).abs() < 1e-14);
    // A dominant first class: the rest of the mass (2e-30 of it) is not
    // lost to cancellation: log p = -ln(1 + 2e^-30) - ln 2.
    let l = [30.0f64, 0.0, 0.0];
    plackett_luce_log_prob(&l, &[0, 1], &mut out, Shape::matrix(1, 3).unwrap(), 2).unwrap();
    let want = -(2.0 * (-30f64).exp()).ln_1p() - 2f64.ln();
    assert!((out[0] - want).abs() < 1e-14, "{} vs {want}", out[0]);
    // f32 logits, strided rows, and a masked chosen class.
    let l32 = [0.0f32, f32::NEG_INFINITY, 0.0, 1.0, 0.0, 2.0];
    // (outer 1, classes 3, inner 2): row 0 is (0, 0, 0), row 1 (-inf, 1, 2).
    let mut out32 = [0.0f32; 2];
    plackett_luce_log_prob(
        &l32,
        &[1, 0, 0, 2],
        &mut out32,
        Shape::new(1, 3, 2).unwrap(),
        2,
    )
    .unwrap();
    assert!(
        (out32[0] - (1.0f32 / 6.0).ln()).abs() < 1e-6,
        "{}",
        out32[0]
    );
    assert_eq!(out32[1], f32::NEG_INFINITY);
    // The sum over every ordered pair is 1.
    let all = tuples(5, 2);
    let flat: Vec<i64> = all.iter().flatten().map(|&c| c as i64).collect();
    let x = common::tile(&LOGITS, all.len());
    let mut lp = vec![0.0f64; all.len()];
    plackett_luce_log_prob(&x, &flat, &mut lp, Shape::matrix(all.len(), 5).unwrap(), 2).unwrap();
    let total: f64 = lp.iter().map(|v| v.exp()).sum();
    assert!((total - 1.0).abs() < 1e-13, "{total}");
    for (t, v) in all.iter().zip(&lp) {
        assert!((v - pl_prob(&LOGITS, t).ln()).abs() < 1e-13);
    }
}

#[test]
fn plackett_luce_log_prob_rejects_bad_indices() {
    let l = [0.0f64; 4];
    let shape = Shape::matrix(1, 4).unwrap();
    let mut out = [7.0f64];
    for (idx, words) in [
        ([0i64, 4], "rank 1"),
        ([-1, 0], "rank 0"),
        ([2, 2], "repeats"),
    ] {
        let e = plackett_luce_log_prob(&l, &idx, &mut out, shape, 2).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidValue);
        assert!(
            e.message().contains(words) && e.message().contains("row 0"),
            "{}",
            e.message()
        );
    }
    let e = plackett_luce_log_prob(&l, &[0; 5], &mut out, shape, 5).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(out, [7.0]);
}

#[test]
fn top_k_c_entries() {
    let x = [0.5f32, -1.0, 2.0, 0.0, 1.0, f32::NEG_INFINITY];
    let mut best = [-1i64; 4];
    let mut idx = [-1i64; 2];
    unsafe {
        assert_eq!(
            gumbel_top_k_f32(x.as_ptr(), best.as_mut_ptr(), 2, 3, 1, 2, 4, 5),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_sample_f32(x.as_ptr(), idx.as_mut_ptr(), 2, 3, 1, 4, 5),
            GUMBEL_STATUS_OK
        );
    }
    assert_eq!([best[0], best[2]], idx);
    assert!(best[2..].iter().all(|&c| c == 0 || c == 1));
    let mut lp = [0.0f32; 2];
    unsafe {
        assert_eq!(
            gumbel_plackett_luce_log_prob_f32(
                x.as_ptr(),
                best.as_ptr(),
                lp.as_mut_ptr(),
                2,
                3,
                1,
                2
            ),
            GUMBEL_STATUS_OK
        );
    }
    // Row 1 has two unmasked classes: its sample's probability is that of
    // its first class.
    let first = [0.0f32, 1.0][best[2] as usize];
    let want = first - (1.0f32.exp() + 1.0).ln();
    assert!((lp[1] - want).abs() < 1e-6 && lp[0] < 0.0, "{lp:?}");
}
