//! Gradients of the Gumbel-Softmax sample against central finite
//! differences through the forward (the noise is held fixed by reusing
//! `(seed, offset)`), the straight-through contract, masks, the per-row
//! temperature forms and thread-count independence.
//!
//! The loss is `L = sum_e v_e y_e` over every element, so `dL/dy = v`.

use crate::common;

use common::in_pool;
use gumbel::{
    gumbel_softmax, gumbel_softmax_backward, gumbel_softmax_backward_per_row,
    gumbel_softmax_grad_tau, gumbel_softmax_grad_tau_per_row, gumbel_softmax_per_row,
    tempered_softmax, tempered_softmax_per_row, Shape,
};

const SEED: u64 = 0x5eed;
const OFFSET: u64 = 17;

/// Deterministic values in `[lo, hi)`, a different sequence per `salt`.
fn values(n: usize, salt: u64, lo: f64, hi: f64) -> Vec<f64> {
    (0..n as u64)
        .map(|i| {
            let h = (i + 1)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .wrapping_add(salt.wrapping_mul(0xbf58_476d_1ce4_e5b9));
            let u = ((h ^ (h >> 29)).wrapping_mul(0x94d0_49bb_1331_11eb) >> 11) as f64
                / (1u64 << 53) as f64;
            lo + (hi - lo) * u
        })
        .collect()
}

/// The shapes of the finite-difference tests with the memory indices of
/// their masked (`-inf`) logits: matrices, `inner > 1`, and one class.
fn cases() -> Vec<(Shape, Vec<usize>)> {
    vec![
        (Shape::matrix(3, 5).unwrap(), vec![2, 7]),
        // (o, k, i) = (0, 1, 2) -> 5 and (1, 3, 0) -> 21.
        (Shape::new(2, 4, 3).unwrap(), vec![5, 21]),
        // (0, 0, 0) -> 0 and (0, 6, 1) -> 13.
        (Shape::new(1, 7, 2).unwrap(), vec![0, 13]),
        (Shape::new(2, 1, 3).unwrap(), vec![]),
    ]
}

fn logits(shape: Shape, masked: &[usize]) -> Vec<f64> {
    let mut l = values(shape.len(), shape.len() as u64, -2.0, 2.0);
    masked.iter().for_each(|&m| l[m] = f64::NEG_INFINITY);
    l
}

/// A temperature argument of the forward: one value or one per row.
#[derive(Clone, Copy)]
enum Tau<'a> {
    Scalar(f64),
    PerRow(&'a [f64]),
}

fn forward(l: &[f64], shape: Shape, tau: Tau, hard: bool) -> Vec<f64> {
    let mut y = vec![0.0; l.len()];
    match tau {
        Tau::Scalar(t) => gumbel_softmax(l, &mut y, shape, t, hard, SEED, OFFSET),
        Tau::PerRow(t) => gumbel_softmax_per_row(l, &mut y, shape, t, hard, SEED, OFFSET),
    }
    .unwrap();
    y
}

fn loss(l: &[f64], shape: Shape, tau: Tau, v: &[f64]) -> f64 {
    let y = forward(l, shape, tau, false);
    y.iter().zip(v).map(|(y, v)| y * v).sum()
}

fn backward(y: &[f64], v: &[f64], shape: Shape, tau: Tau) -> Vec<f64> {
    let mut g = vec![f64::NAN; y.len()];
    match tau {
        Tau::Scalar(t) => gumbel_softmax_backward(y, v, &mut g, shape, t),
        Tau::PerRow(t) => gumbel_softmax_backward_per_row(y, v, &mut g, shape, t),
    }
    .unwrap();
    g
}

/// Central difference of `f` at `x` with step `h`.
fn central(f: impl Fn(f64) -> f64, x: f64, h: f64) -> f64 {
    (f(x + h) - f(x - h)) / (2.0 * h)
}

/// Finite differences in f64 with `h = 1e-6` agree to 2e-10 here
/// (rounding ~1e-16 / h, truncation ~h^2 / tau^3); 1e-7 leaves room.
fn close(got: f64, fd: f64) -> bool {
    (got - fd).abs() <= 1e-7 * (1.0 + fd.abs())
}

/// `dL/dlogits` by central differences; masked logits are skipped (NaN).
fn fd_logits(l: &[f64], shape: Shape, tau: Tau, v: &[f64]) -> Vec<f64> {
    (0..l.len())
        .map(|e| {
            if l[e] == f64::NEG_INFINITY {
                return f64::NAN;
            }
            central(
                |x| {
                    let mut p = l.to_vec();
                    p[e] = x;
                    loss(&p, shape, tau, v)
                },
                l[e],
                1e-6,
            )
        })
        .collect()
}

/// Asserts the backward against finite differences and exact zeros on masks.
fn check_logit_gradient(l: &[f64], shape: Shape, tau: Tau, v: &[f64], g: &[f64]) {
    for (e, fd) in fd_logits(l, shape, tau, v).into_iter().enumerate() {
        if l[e] == f64::NEG_INFINITY {
            assert_eq!(g[e].to_bits(), 0.0f64.to_bits(), "masked element {e}");
        } else {
            assert!(close(g[e], fd), "{shape:?} element {e}: {} vs {fd}", g[e]);
        }
    }
}

#[test]
fn logit_gradients_match_finite_differences() {
    for (shape, masked) in cases() {
        let l = logits(shape, &masked);
        let v = values(shape.len(), 7, -1.0, 1.0);
        for tau in [0.5, 1.0, 2.5] {
            let y = forward(&l, shape, Tau::Scalar(tau), false);
            let g = backward(&y, &v, shape, Tau::Scalar(tau));
            check_logit_gradient(&l, shape, Tau::Scalar(tau), &v, &g);
        }
    }
}

#[test]
fn per_row_logit_gradients_match_finite_differences() {
    for (shape, masked) in cases() {
        let l = logits(shape, &masked);
        let v = values(shape.len(), 8, -1.0, 1.0);
        let tau = values(shape.rows(), 9, 0.4, 2.0);
        let y = forward(&l, shape, Tau::PerRow(&tau), false);
        let g = backward(&y, &v, shape, Tau::PerRow(&tau));
        check_logit_gradient(&l, shape, Tau::PerRow(&tau), &v, &g);
    }
}

#[test]
fn a_backward_without_the_temperature_factor_would_fail() {
    // y * (v - <v, y>) without the 1/tau factor is off by a factor tau.
    let (shape, masked) = &cases()[1];
    let l = logits(*shape, masked);
    let v = values(shape.len(), 7, -1.0, 1.0);
    let tau = Tau::Scalar(0.5);
    let y = forward(&l, *shape, tau, false);
    let wrong: Vec<f64> = backward(&y, &v, *shape, tau)
        .iter()
        .map(|g| g * 0.5)
        .collect();
    let fd = fd_logits(&l, *shape, tau, &v);
    assert!(wrong
        .iter()
        .zip(&fd)
        .any(|(w, f)| !f.is_nan() && !close(*w, *f)));
}

#[test]
fn temperature_gradient_matches_finite_differences() {
    for (shape, masked) in cases() {
        let l = logits(shape, &masked);
        let v = values(shape.len(), 10, -1.0, 1.0);
        for tau in [0.3, 1.0, 3.0] {
            let y = forward(&l, shape, Tau::Scalar(tau), false);
            let got = gumbel_softmax_grad_tau(&y, &v, shape, tau).unwrap();
            let fd = central(|t| loss(&l, shape, Tau::Scalar(t), &v), tau, 1e-6 * tau);
            assert!(close(got, fd), "{shape:?} tau {tau}: {got} vs {fd}");

            // Two wrong formulas fail: without centring v on <v, y> (the
            // per-row constant logsumexp(u) then no longer drops out), and
            // with the sign flipped.
            let uncentred: f64 = y
                .iter()
                .zip(&v)
                .filter(|(y, _)| **y > 0.0)
                .map(|(y, v)| -y * v * y.ln() / tau)
                .sum();
            if shape.classes() > 1 {
                assert!(!close(uncentred, fd), "{shape:?}: {uncentred} vs {fd}");
                assert!(!close(-got, fd));
            }
        }
    }
}

#[test]
fn per_row_temperature_gradients_match_finite_differences() {
    for (shape, masked) in cases() {
        let l = logits(shape, &masked);
        let v = values(shape.len(), 11, -1.0, 1.0);
        let tau = values(shape.rows(), 12, 0.3, 2.0);
        let y = forward(&l, shape, Tau::PerRow(&tau), false);
        let mut got = vec![f64::NAN; shape.rows()];
        gumbel_softmax_grad_tau_per_row(&y, &v, shape, &tau, &mut got).unwrap();
        for r in 0..shape.rows() {
            let fd = central(
                |t| {
                    let mut p = tau.clone();
                    p[r] = t;
                    loss(&l, shape, Tau::PerRow(&p), &v)
                },
                tau[r],
                1e-6 * tau[r],
            );
            assert!(close(got[r], fd), "{shape:?} row {r}: {} vs {fd}", got[r]);
        }
        // The scalar gradient is the sum of the rows' gradients.
        let same = vec![0.8; shape.rows()];
        let y = forward(&l, shape, Tau::PerRow(&same), false);
        gumbel_softmax_grad_tau_per_row(&y, &v, shape, &same, &mut got).unwrap();
        let total = gumbel_softmax_grad_tau(&y, &v, shape, 0.8).unwrap();
        let sum: f64 = got.iter().sum();
        assert!((total - sum).abs() <= 1e-14 * (1.0 + sum.abs()));
    }
}

#[test]
fn two_class_rows_match_the_closed_form() {
    // y = [p, 1 - p], v = [1, 0]: <v, y> = p, so dL/dlogits =
    // [p (1 - p), -p (1 - p)] / tau and dL/dtau = -p (1 - p) ln(p / (1 - p)) / tau.
    // Shape (1, 2, 2): row 0 = (0, 2) in memory, row 1 = (1, 3).
    let shape = Shape::new(1, 2, 2).unwrap();
    let (p, q, tau) = (0.2f64, 0.9f64, 0.6);
    let y = [p, q, 1.0 - p, 1.0 - q];
    let v = [1.0, 1.0, 0.0, 0.0];
    let g = backward(&y, &v, shape, Tau::Scalar(tau));
    let want = [
        p * (1.0 - p) / tau,
        q * (1.0 - q) / tau,
        -p * (1.0 - p) / tau,
        -q * (1.0 - q) / tau,
    ];
    for (g, w) in g.iter().zip(want) {
        assert!((g - w).abs() < 1e-15, "{g} vs {w}");
    }
    let row = |p: f64| -p * (1.0 - p) * (p / (1.0 - p)).ln() / tau;
    let mut per_row = [0.0; 2];
    gumbel_softmax_grad_tau_per_row(&y, &v, shape, &[tau, tau], &mut per_row).unwrap();
    assert!((per_row[0] - row(p)).abs() < 1e-15);
    assert!((per_row[1] - row(q)).abs() < 1e-15);
    let total = gumbel_softmax_grad_tau(&y, &v, shape, tau).unwrap();
    assert!((total - row(p) - row(q)).abs() < 1e-15);
}

#[test]
fn hard_samples_take_the_recomputed_soft_gradient() {
    for (shape, masked) in cases() {
        let l = logits(shape, &masked);
        let v = values(shape.len(), 13, -1.0, 1.0);
        let tau_rows = values(shape.rows(), 14, 0.3, 2.0);
        for tau in [Tau::Scalar(0.7), Tau::PerRow(&tau_rows)] {
            // A caller that kept the soft sample ...
            let kept = forward(&l, shape, tau, false);
            let g_kept = backward(&kept, &v, shape, tau);
            // ... and one that kept only the hard sample and replays the
            // forward with hard = false and the same (seed, offset).
            let hard = forward(&l, shape, tau, true);
            let replayed = forward(&l, shape, tau, false);
            let g_replayed = backward(&replayed, &v, shape, tau);
            assert_eq!(bits(&g_kept), bits(&g_replayed));
            for r in 0..shape.rows() {
                let row = |x: &[f64]| -> Vec<f64> {
                    (0..shape.classes())
                        .map(|k| x[index(shape, r, k)])
                        .collect()
                };
                let (y, h) = (row(&replayed), row(&hard));
                let top = (0..y.len()).fold(0, |b, k| if y[k] > y[b] { k } else { b });
                assert_eq!(h[top], 1.0);
                assert_eq!(h.iter().sum::<f64>(), 1.0);
            }
            let (a, b) = match tau {
                Tau::Scalar(t) => (
                    gumbel_softmax_grad_tau(&kept, &v, shape, t).unwrap(),
                    gumbel_softmax_grad_tau(&replayed, &v, shape, t).unwrap(),
                ),
                Tau::PerRow(t) => {
                    let mut a = vec![0.0; shape.rows()];
                    let mut b = vec![0.0; shape.rows()];
                    gumbel_softmax_grad_tau_per_row(&kept, &v, shape, t, &mut a).unwrap();
                    gumbel_softmax_grad_tau_per_row(&replayed, &v, shape, t, &mut b).unwrap();
                    (a.iter().sum(), b.iter().sum())
                }
            };
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }
}

/// Memory index of `(row, class)` in a `shape` tensor.
fn index(shape: Shape, row: usize, class: usize) -> usize {
    let (o, i) = (row / shape.inner(), row % shape.inner());
    (o * shape.classes() + class) * shape.inner() + i
}

fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

fn bits32(x: &[f32]) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn gradient_rows_sum_to_zero_and_masks_get_exact_zeros() {
    // sum_k y_k (v_k - <v, y>) = <v, y> - <v, y> sum_k y_k = 0.
    let shape = Shape::new(3, 40, 5).unwrap();
    let mut l = logits(shape, &[]);
    for r in 0..shape.rows() {
        for k in (r % 3..shape.classes()).step_by(3) {
            l[index(shape, r, k)] = f64::NEG_INFINITY;
        }
    }
    // Huge incoming gradients on masked classes still give exact zeros.
    let mut v = values(shape.len(), 15, -3.0, 3.0);
    for (v, l) in v.iter_mut().zip(&l) {
        if *l == f64::NEG_INFINITY {
            *v = f64::MAX;
        }
    }
    let y = forward(&l, shape, Tau::Scalar(0.4), false);
    let g = backward(&y, &v, shape, Tau::Scalar(0.4));
    for r in 0..shape.rows() {
        let total: f64 = (0..shape.classes()).map(|k| g[index(shape, r, k)]).sum();
        assert!(total.abs() < 1e-12, "row {r}: {total}");
    }
    for (e, l) in l.iter().enumerate() {
        if *l == f64::NEG_INFINITY {
            assert_eq!(g[e].to_bits(), 0, "element {e}");
        }
    }
    assert!(g.iter().all(|g| g.is_finite()));
}

#[test]
fn equal_per_row_temperatures_give_the_scalar_bits() {
    // Includes a shape large enough to run on rayon, with inner > 1.
    for shape in [
        Shape::new(2, 4, 3).unwrap(),
        Shape::matrix(7, 33).unwrap(),
        Shape::new(30, 50, 40).unwrap(),
    ] {
        let l = logits(shape, &[1]);
        let l32: Vec<f32> = l.iter().map(|&x| x as f32).collect();
        let v = values(shape.len(), 16, -1.0, 1.0);
        let t = 0.65;
        let same = vec![t; shape.rows()];
        for hard in [false, true] {
            assert_eq!(
                bits(&forward(&l, shape, Tau::Scalar(t), hard)),
                bits(&forward(&l, shape, Tau::PerRow(&same), hard))
            );
            let mut a = vec![0.0f32; l.len()];
            let mut b = vec![0.0f32; l.len()];
            let same32 = vec![t as f32; shape.rows()];
            gumbel_softmax(&l32, &mut a, shape, t as f32, hard, SEED, OFFSET).unwrap();
            gumbel_softmax_per_row(&l32, &mut b, shape, &same32, hard, SEED, OFFSET).unwrap();
            assert_eq!(bits32(&a), bits32(&b));
        }
        let mut a = vec![0.0; l.len()];
        let mut b = vec![0.0; l.len()];
        tempered_softmax(&l, &mut a, shape, t).unwrap();
        tempered_softmax_per_row(&l, &mut b, shape, &same).unwrap();
        assert_eq!(bits(&a), bits(&b));
        let y = forward(&l, shape, Tau::Scalar(t), false);
        assert_eq!(
            bits(&backward(&y, &v, shape, Tau::Scalar(t))),
            bits(&backward(&y, &v, shape, Tau::PerRow(&same)))
        );
    }
    // One row: the scalar temperature gradient is that row's, bit for bit.
    let shape = Shape::matrix(1, 9).unwrap();
    let l = logits(shape, &[4]);
    let v = values(9, 17, -1.0, 1.0);
    let y = forward(&l, shape, Tau::Scalar(1.3), false);
    let mut row = [0.0];
    gumbel_softmax_grad_tau_per_row(&y, &v, shape, &[1.3], &mut row).unwrap();
    let total = gumbel_softmax_grad_tau(&y, &v, shape, 1.3).unwrap();
    assert_eq!(total.to_bits(), row[0].to_bits());
}

#[test]
fn gradients_do_not_depend_on_the_thread_count() {
    // 120000 elements: parallel, 8 units of 327 rows.
    let shape = Shape::new(300, 50, 8).unwrap();
    let l: Vec<f32> = logits(shape, &[3, 999]).iter().map(|&x| x as f32).collect();
    let v: Vec<f32> = values(shape.len(), 18, -1.0, 1.0)
        .iter()
        .map(|&x| x as f32)
        .collect();
    let tau: Vec<f32> = values(shape.rows(), 19, 0.2, 3.0)
        .iter()
        .map(|&x| x as f32)
        .collect();
    let run = |threads| {
        in_pool(threads, || {
            let mut y = vec![0.0f32; l.len()];
            gumbel_softmax(&l, &mut y, shape, 0.45, false, SEED, OFFSET).unwrap();
            let mut g = vec![0.0f32; l.len()];
            gumbel_softmax_backward(&y, &v, &mut g, shape, 0.45).unwrap();
            let total = gumbel_softmax_grad_tau(&y, &v, shape, 0.45f32).unwrap();
            let mut per_row = vec![0.0f32; shape.rows()];
            gumbel_softmax_grad_tau_per_row(&y, &v, shape, &tau, &mut per_row).unwrap();
            let y64: Vec<f64> = y.iter().map(|&x| x as f64).collect();
            let v64: Vec<f64> = v.iter().map(|&x| x as f64).collect();
            let total64 = gumbel_softmax_grad_tau(&y64, &v64, shape, 0.45).unwrap();
            (
                bits32(&g),
                total.to_bits(),
                bits32(&per_row),
                total64.to_bits(),
            )
        })
    };
    let one = run(1);
    assert_eq!(one, run(3));
    assert_eq!(one, run(7));
}

#[test]
fn single_precision_gradients_agree_with_double() {
    let shape = Shape::new(4, 12, 3).unwrap();
    let l = logits(shape, &[5, 40]);
    let v = values(shape.len(), 20, -1.0, 1.0);
    let tau = values(shape.rows(), 21, 0.5, 2.0);
    let y = forward(&l, shape, Tau::PerRow(&tau), false);
    let g = backward(&y, &v, shape, Tau::PerRow(&tau));
    let mut gt = vec![0.0; shape.rows()];
    gumbel_softmax_grad_tau_per_row(&y, &v, shape, &tau, &mut gt).unwrap();
    let f = |x: &[f64]| x.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    let (y32, v32, tau32) = (f(&y), f(&v), f(&tau));
    let mut g32 = vec![0.0f32; y.len()];
    gumbel_softmax_backward_per_row(&y32, &v32, &mut g32, shape, &tau32).unwrap();
    let mut gt32 = vec![0.0f32; shape.rows()];
    gumbel_softmax_grad_tau_per_row(&y32, &v32, shape, &tau32, &mut gt32).unwrap();
    for (a, b) in g.iter().zip(&g32).chain(gt.iter().zip(&gt32)) {
        assert!((a - *b as f64).abs() < 1e-5, "{a} vs {b}");
    }
}

#[test]
fn bad_inputs_are_errors_through_the_rust_api() {
    use gumbel::ErrorKind;
    let shape = Shape::new(2, 3, 2).unwrap();
    let y = vec![0.5; 12];
    let v = vec![1.0; 12];
    let mut g = vec![7.0; 12];
    let kind = |r: gumbel::Result<()>| r.unwrap_err().kind();
    assert_eq!(
        kind(gumbel_softmax_backward(&y[..11], &v, &mut g, shape, 1.0)),
        ErrorKind::InvalidShape
    );
    assert_eq!(
        kind(gumbel_softmax_backward_per_row(
            &y, &v, &mut g, shape, &[1.0; 3]
        )),
        ErrorKind::InvalidShape
    );
    assert_eq!(
        kind(gumbel_softmax_grad_tau_per_row(
            &y,
            &v,
            shape,
            &[1.0; 4],
            &mut [0.0; 5]
        )),
        ErrorKind::InvalidShape
    );
    let mut bad = y.clone();
    bad[7] = 1.0 + 1e-12;
    let e = gumbel_softmax_grad_tau(&bad, &v, shape, 1.0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidValue);
    // Memory index 7 of (2, 3, 2) is o = 1, k = 0, i = 1: row 3, class 0.
    assert!(e.message().contains("row 3, class 0"), "{}", e.message());
    let e = gumbel_softmax_per_row(&v, &mut g, shape, &[1.0, 1.0, f64::NAN, 1.0], false, 0, 0)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidTemperature);
    assert!(e.message().contains("row 2"), "{}", e.message());
    assert_eq!(g, vec![7.0; 12]);
    assert_eq!(
        gumbel_softmax_grad_tau::<f64>(&[], &[], Shape::new(0, 3, 1).unwrap(), 1.0f64),
        Ok(0.0)
    );
}
