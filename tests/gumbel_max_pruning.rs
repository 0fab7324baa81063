//! Gumbel-max indices skip the logarithms of elements that cannot win; they
//! must be exactly the argmax of the fully perturbed logits. The hard
//! Gumbel-Softmax sample is the one-hot of that argmax, computed with every
//! element's noise, with the same `(seed, offset)`: the two must agree on
//! every row, for every shape path (short rows, rows of whole blocks, one
//! row per unit, rows cut into segments, a few long rows split across the
//! threads), every kind of logits and 1 and 2 threads. Run it under
//! `GUMBEL_ISA=baseline|avx2|avx512` for the tiers.

use crate::common;
use gumbel::{gumbel_softmax, sample, Float, Shape};

/// Row lengths of every path: short (unaligned and aligned to the 16
/// lanes), rows of a unit of several rows, one row per unit, rows cut into
/// segments, and the one-row wide path.
const SHAPES: [(usize, usize); 14] = [
    (41, 2),
    (33, 5),
    (20, 16),
    (9, 17),
    (12, 1000),
    (12, 1024),
    (3, 8192),
    (3, 8200),
    (2, 16384),
    (5, 16385),
    (6, 40_000),
    (2, 131_072),
    (5, 131_072),
    (1, 1 << 20),
];

/// A small deterministic generator for the logits (not the library's).
fn lcg(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    ((*state >> 11) as f64) / (1u64 << 53) as f64
}

/// Logits of kind `kind` for `n` elements of rows of `classes` classes.
fn logits(kind: usize, n: usize, classes: usize, seed: u64) -> Vec<f64> {
    let mut s = seed ^ (kind as u64) << 32;
    (0..n)
        .map(|j| {
            let u = lcg(&mut s);
            let class = j % classes;
            match kind {
                // Spread about 1, 1e4 (the largest logit nearly always
                // wins) and 1e-6 (the noise decides).
                0 => 4.0 * u - 2.0,
                1 => 1e4 * u,
                2 => 1e-6 * u,
                // All equal, and a few levels (ties among the logits).
                3 => 0.25,
                4 => (u * 4.0).floor(),
                // Masked classes (class 0 never), and all but one masked.
                5 if class != 0 && u < 0.4 => f64::NEG_INFINITY,
                5 => u,
                6 if class + 1 != classes => f64::NEG_INFINITY,
                6 => -3.0,
                // A rising ramp: the running maximum is beaten again and
                // again along the row; huge magnitudes.
                7 => class as f64 * 1e-3 + u,
                _ => 1e30 * (u - 0.5),
            }
        })
        .collect()
}

const KINDS: usize = 9;

/// The indices of `sample` and the one-hot positions of the hard sample.
fn both<F: Float>(x: &[F], shape: Shape, seed: u64, offset: u64) -> (Vec<i64>, Vec<i64>) {
    let mut idx = vec![-1i64; shape.rows()];
    sample(x, &mut idx, shape, seed, offset).unwrap();
    let mut hard = vec![F::ZERO; x.len()];
    gumbel_softmax(x, &mut hard, shape, F::ONE, true, seed, offset).unwrap();
    let classes = shape.classes();
    let hot = hard
        .chunks_exact(classes)
        .map(|row| {
            let ones: Vec<usize> = (0..classes).filter(|&k| row[k] == F::ONE).collect();
            assert_eq!(ones.len(), 1, "one-hot row");
            ones[0] as i64
        })
        .collect();
    (idx, hot)
}

fn check<F: Float>() {
    let mut checked = 0usize;
    for &(rows, classes) in &SHAPES {
        let shape = Shape::new(rows, classes, 1).unwrap();
        let kinds = if classes >= 1 << 20 { 0..3 } else { 0..KINDS };
        for kind in kinds {
            let x: Vec<F> = logits(kind, shape.len(), classes, 7 + classes as u64)
                .into_iter()
                .map(F::from_f64)
                .collect();
            for (seed, offset) in [(1u64, 0u64), (0xdead_beef, u64::MAX - 3)] {
                let (idx, hot) = both(&x, shape, seed, offset);
                assert_eq!(
                    idx,
                    hot,
                    "{} {rows}x{classes} kind {kind} seed {seed}",
                    F::NAME
                );
                checked += rows;
            }
        }
    }
    assert!(checked > 1000);
}

#[test]
fn pruned_indices_are_the_argmax_of_the_full_computation() {
    let _lock = common::pool_size_lock();
    let before = gumbel::num_threads();
    for threads in [1, 2] {
        gumbel::set_num_threads(threads).unwrap();
        check::<f32>();
        check::<f64>();
    }
    gumbel::set_num_threads(before).unwrap();
}
