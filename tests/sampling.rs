//! Statistical tests of Gumbel-Softmax and Gumbel-max sampling: category
//! frequencies against softmax (chi-square), the soft sample's law for two
//! classes (KS), masks, and the coupling of soft, hard and index outputs.
//! Each test also shows that a known wrong sampler would fail it.

use crate::common;

use common::{chi_square_p, counts, ks_p, softmax, tile, ALPHA};
use gumbel::{gumbel_softmax, noise, sample, streams, tempered_softmax, Shape, CHUNK_ELEMENTS};
use statrs::distribution::Uniform;

const NEG_INF: f64 = f64::NEG_INFINITY;

fn rows() -> Vec<Vec<f64>> {
    vec![
        vec![1.0, 0.0, -1.0, 2.5, 0.3],
        vec![0.5, NEG_INF, 1.0, NEG_INF, -0.5],
        vec![0.0, -5.0, -10.0, -20.0, -25.0, 3.0],
        vec![7.0, 7.0, 7.0],
        vec![-1000.0, -1001.0, -1000.5, NEG_INF],
    ]
}

fn sample_counts_f32(row: &[f64], draws: usize, seed: u64) -> Vec<u64> {
    let logits: Vec<f32> = tile(row, draws).iter().map(|&x| x as f32).collect();
    let mut idx = vec![-1i64; draws];
    sample(
        &logits,
        &mut idx,
        Shape::matrix(draws, row.len()).unwrap(),
        seed,
        0,
    )
    .unwrap();
    counts(&idx, row.len())
}

fn sample_counts_f64(row: &[f64], draws: usize, seed: u64) -> Vec<u64> {
    let logits = tile(row, draws);
    let mut idx = vec![-1i64; draws];
    sample(
        &logits,
        &mut idx,
        Shape::matrix(draws, row.len()).unwrap(),
        seed,
        0,
    )
    .unwrap();
    counts(&idx, row.len())
}

#[test]
fn gumbel_max_frequencies_match_softmax() {
    for (r, row) in rows().iter().enumerate() {
        let probs = softmax(row, 1.0);
        let p32 = chi_square_p(&sample_counts_f32(row, 200_000, 100 + r as u64), &probs);
        let p64 = chi_square_p(&sample_counts_f64(row, 200_000, 200 + r as u64), &probs);
        assert!(
            p32 > ALPHA && p64 > ALPHA,
            "row {row:?}: p = {p32:e} (f32), {p64:e} (f64)"
        );
    }
}

#[test]
fn gumbel_max_with_negated_noise_fails_the_test() {
    // argmax(logits - g), a classic sign bug, is rejected by the same test.
    let row = &rows()[0];
    let draws = 200_000;
    let mut g = vec![0.0f64; draws * row.len()];
    noise(&mut g, 0.0, 1.0, 100, 0).unwrap();
    let idx: Vec<i64> = g
        .chunks(row.len())
        .map(|g| {
            let z: Vec<f64> = row.iter().zip(g).map(|(l, g)| l - g).collect();
            (0..z.len()).fold(0, |b, k| if z[k] > z[b] { k } else { b }) as i64
        })
        .collect();
    assert!(chi_square_p(&counts(&idx, row.len()), &softmax(row, 1.0)) < 1e-100);
}

#[test]
fn hard_samples_follow_softmax_of_the_logits_at_any_temperature() {
    // The hard sample is argmax((logits + g) / tau), whose law does not
    // depend on tau. Adding the noise after dividing by tau would sample
    // softmax(logits / tau) instead, which this test rejects.
    let row = [1.0, 0.0, -1.0, 2.5, 0.3];
    let draws = 200_000;
    let logits = tile(&row, draws);
    for tau in [0.3, 3.0] {
        let mut y = vec![0.0f64; logits.len()];
        gumbel_softmax(
            &logits,
            &mut y,
            Shape::matrix(draws, 5).unwrap(),
            tau,
            true,
            7,
            0,
        )
        .unwrap();
        let idx: Vec<i64> = y
            .chunks(5)
            .map(|h| {
                assert_eq!(h.iter().filter(|&&v| v == 1.0).count(), 1);
                assert_eq!(h.iter().filter(|&&v| v == 0.0).count(), 4);
                h.iter().position(|&v| v == 1.0).unwrap() as i64
            })
            .collect();
        let c = counts(&idx, 5);
        let p = chi_square_p(&c, &softmax(&row, 1.0));
        assert!(p > ALPHA, "tau {tau}: p = {p:e}");
        assert!(
            chi_square_p(&c, &softmax(&row, tau)) < 1e-100,
            "tau {tau}: no power"
        );
    }
}

/// `u = sigmoid(tau * logit(y_0) - (l_0 - l_1))` of two-class soft samples:
/// `tau * logit(y_0) - (l_0 - l_1) = g_0 - g_1` is standard logistic, so `u`
/// is uniform on (0, 1).
fn binary_uniforms(l: [f64; 2], tau: f64, y: &[f64]) -> Vec<f64> {
    y.chunks(2)
        .map(|y| {
            let t = tau * (y[0].ln() - y[1].ln()) - (l[0] - l[1]);
            1.0 / (1.0 + (-t).exp())
        })
        .collect()
}

#[test]
fn two_class_soft_samples_have_the_binary_concrete_law() {
    let draws = 400_000;
    let uniform = Uniform::new(0.0, 1.0).unwrap();
    for (l, tau) in [([0.7, -0.2], 0.5), ([-1.0, 1.5], 2.0), ([0.0, 0.0], 1.0)] {
        let logits = tile(&l, draws);
        let mut y = vec![0.0f64; logits.len()];
        gumbel_softmax(
            &logits,
            &mut y,
            Shape::matrix(draws, 2).unwrap(),
            tau,
            false,
            31,
            0,
        )
        .unwrap();
        let p = ks_p(binary_uniforms(l, tau, &y), &uniform);
        assert!(p > ALPHA, "logits {l:?} tau {tau}: KS p = {p:e}");
        if tau != 1.0 {
            // Noise added after dividing by tau: logit(y) = l/tau + g.
            let wrong: Vec<f64> = binary_uniforms(l, 1.0, &y)
                .iter()
                .zip(y.chunks(2))
                .map(|(_, y)| {
                    let t = (y[0].ln() - y[1].ln()) - (l[0] - l[1]) / tau;
                    1.0 / (1.0 + (-t).exp())
                })
                .collect();
            assert!(
                ks_p(wrong, &uniform) < 1e-20,
                "tau {tau}: no power against noise after tau"
            );
        }
    }
}

#[test]
fn soft_rows_are_distributions_with_exact_zeros_for_masks() {
    let row = [0.5, NEG_INF, 1.0, NEG_INF, -0.5, 30.0, -30.0];
    let draws = 10_000;
    let logits32: Vec<f32> = tile(&row, draws).iter().map(|&x| x as f32).collect();
    for tau in [10.0f32, 1.0, 0.1, 1e-3, 1e-30] {
        let mut y = vec![f32::NAN; logits32.len()];
        gumbel_softmax(
            &logits32,
            &mut y,
            Shape::matrix(draws, 7).unwrap(),
            tau,
            false,
            3,
            0,
        )
        .unwrap();
        for r in y.chunks(7) {
            assert!(r.iter().all(|v| (0.0..=1.0).contains(v)), "{r:?}");
            assert_eq!((r[1], r[3]), (0.0, 0.0));
            let s: f32 = r.iter().sum();
            assert!((s - 1.0).abs() < 4.0 * f32::EPSILON, "row sums to {s}");
        }
    }
}

#[test]
fn soft_hard_and_index_outputs_are_coupled() {
    let (draws, k) = (5_000, 13);
    let base: Vec<f64> = (0..k)
        .map(|j| ((j * 7919) % 13) as f64 * 0.3 - 2.0)
        .collect();
    let logits = tile(&base, draws);
    let shape = Shape::matrix(draws, k).unwrap();
    for tau in [5.0, 1.0, 0.2] {
        let mut soft = vec![0.0; logits.len()];
        let mut hard = vec![0.0; logits.len()];
        let mut idx = vec![0i64; draws];
        gumbel_softmax(&logits, &mut soft, shape, tau, false, 77, 5).unwrap();
        gumbel_softmax(&logits, &mut hard, shape, tau, true, 77, 5).unwrap();
        sample(&logits, &mut idx, shape, 77, 5).unwrap();
        for ((s, h), &i) in soft.chunks(k).zip(hard.chunks(k)).zip(&idx) {
            let top = (0..k).fold(0, |b, j| if s[j] > s[b] { j } else { b });
            assert_eq!(top as i64, i);
            assert_eq!(h[i as usize], 1.0);
            assert_eq!(h.iter().sum::<f64>(), 1.0);
        }
    }
}

#[test]
fn rows_longer_than_a_stream_chunk_sample_correctly() {
    // 3 segments per row: class K-1 carries half the mass, the rest is uniform.
    let k = 2 * CHUNK_ELEMENTS + 1000;
    let draws = 1_500;
    let mut row = vec![0.0f32; k];
    row[k - 1] = ((k - 1) as f32).ln();
    let logits = tile(&row, draws);
    let mut idx = vec![0i64; draws];
    sample(&logits, &mut idx, Shape::matrix(draws, k).unwrap(), 9, 0).unwrap();
    assert_eq!(streams(Shape::matrix(draws, k).unwrap()), 3 * draws as u64);
    // Cells: first, second and third segment without the heavy class, heavy class.
    let mut cells = [0u64; 4];
    for &i in &idx {
        let i = i as usize;
        cells[if i == k - 1 { 3 } else { i / CHUNK_ELEMENTS }] += 1;
    }
    let half = 0.5;
    let probs = [
        half * CHUNK_ELEMENTS as f64 / (k - 1) as f64,
        half * CHUNK_ELEMENTS as f64 / (k - 1) as f64,
        half * 999.0 / (k - 1) as f64,
        half,
    ];
    let p = chi_square_p(&cells, &probs);
    assert!(p > ALPHA, "cells {cells:?}: p = {p:e}");
}

#[test]
fn tempered_softmax_matches_the_reference_and_survives_extremes() {
    let logits = [1.0f64, -2.0, 0.5, NEG_INF, 3.25, -7.0];
    for tau in [0.05, 0.7, 1.0, 12.0] {
        let mut y = [0.0; 6];
        tempered_softmax(&logits, &mut y, Shape::matrix(1, 6).unwrap(), tau).unwrap();
        for (a, b) in y.iter().zip(softmax(&logits, tau)) {
            assert!(
                (a - b).abs() <= 4.0 * f64::EPSILON * b.max(1e-300) + 1e-300,
                "tau {tau}: {a} vs {b}"
            );
        }
        assert_eq!(y[3], 0.0);
    }
    let huge = [f32::MAX, -f32::MAX, f32::MAX * 0.5];
    let mut y = [0.0f32; 3];
    tempered_softmax(
        &huge,
        &mut y,
        Shape::matrix(1, 3).unwrap(),
        f32::MIN_POSITIVE / 64.0,
    )
    .unwrap();
    assert_eq!(y, [1.0, 0.0, 0.0]);
}

#[test]
fn long_soft_rows_sum_to_one_within_a_few_ulp() {
    // A row sum accumulated sequentially in 16 lanes drifts by ~K/16 ulp
    // (1500 ulp at K = 1e6); the pairwise sum keeps it within a few.
    for (k, tau) in [(300_000usize, 0.5f32), (1_000_000, 1.0)] {
        let logits: Vec<f32> = (0..k).map(|i| ((i * 7919) % 1000) as f32 / 250.0).collect();
        let mut y = vec![0.0f32; k];
        gumbel_softmax(
            &logits,
            &mut y,
            Shape::matrix(1, k).unwrap(),
            tau,
            false,
            1,
            0,
        )
        .unwrap();
        let total: f64 = y.iter().map(|&v| f64::from(v)).sum();
        let drift = (total - 1.0).abs() / f64::from(f32::EPSILON);
        assert!(drift <= 4.0, "K = {k}: the row sums to 1 + {drift:.1} eps");
    }
}

#[test]
fn large_logits_keep_the_noise_precision() {
    // 1e7 + g rounds g to whole numbers in f32 (and 1e15 + g in f64); the
    // row maximum is subtracted before the noise is added, so the
    // frequencies stay those of softmax(logits).
    let draws = 200_000;
    for row in [[1e7f32, 1e7], [1e7, 1e7 - 1.0], [3e38, 3e38]] {
        let probs = softmax(&[0.0, f64::from(row[1] - row[0])], 1.0);
        let p = chi_square_p(&sample_counts_f32(&row.map(f64::from), draws, 77), &probs);
        assert!(p > ALPHA, "f32 row {row:?}: p = {p:e}");
    }
    let p = chi_square_p(&sample_counts_f64(&[1e15, 1e15], draws, 78), &[0.5, 0.5]);
    assert!(p > ALPHA, "f64 row [1e15, 1e15]: p = {p:e}");
}
