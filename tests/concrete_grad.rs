//! The per-row-temperature Concrete family and the gradients of the
//! ExpConcrete log-density: per-row forms against the scalar ones row by
//! row, the log-density against its closed form, the gradients against
//! finite differences (also with a masked class), and the Concrete
//! log-density's relation to the ExpConcrete one.

use gumbel::{
    concrete_log_prob, concrete_log_prob_per_row, exp_concrete_log_prob,
    exp_concrete_log_prob_grad_logits_per_row, exp_concrete_log_prob_grad_tau_per_row,
    exp_concrete_log_prob_per_row, gumbel_log_softmax, gumbel_log_softmax_per_row, Shape,
};
use statrs::function::gamma::ln_gamma;

const K: usize = 4;

fn logsumexp(a: &[f64]) -> f64 {
    let m = a.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + a.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// Maddison et al. 2017's ExpConcrete log-density written out directly.
fn closed_form(x: &[f64], l: &[f64], tau: f64) -> f64 {
    let k = x.len() as f64;
    let a: Vec<f64> = x.iter().zip(l).map(|(x, l)| l - tau * x).collect();
    ln_gamma(k) + (k - 1.0) * tau.ln() + a.iter().sum::<f64>() - k * logsumexp(&a)
}

fn project(x: &[f64]) -> Vec<f64> {
    let lse = logsumexp(x);
    x.iter().map(|v| v - lse).collect()
}

fn log_prob(x: &[f64], l: &[f64], tau: f64) -> f64 {
    let mut out = [f64::NAN];
    exp_concrete_log_prob_per_row(x, l, &mut out, Shape::matrix(1, x.len()).unwrap(), &[tau])
        .unwrap();
    out[0]
}

#[test]
fn per_row_forms_equal_the_scalar_forms_row_by_row() {
    let (rows, seed) = (6, 31);
    let shape = Shape::matrix(rows, K).unwrap();
    let logits: Vec<f64> = (0..rows * K)
        .map(|j| ((j * 7) % 5) as f64 * 0.4 - 1.0)
        .collect();
    let tau: Vec<f64> = (0..rows).map(|r| 0.2 + 0.3 * r as f64).collect();
    let mut x = vec![0.0; rows * K];
    gumbel_log_softmax_per_row(&logits, &mut x, shape, &tau, seed, 0).unwrap();
    let mut lp = vec![0.0; rows];
    exp_concrete_log_prob_per_row(&x, &logits, &mut lp, shape, &tau).unwrap();
    let y: Vec<f64> = x.iter().map(|v| v.exp()).collect();
    let mut clp = vec![0.0; rows];
    concrete_log_prob_per_row(&y, &logits, &mut clp, shape, &tau).unwrap();
    for r in 0..rows {
        // The scalar call with this row's tau, on the same noise.
        let mut xs = vec![0.0; rows * K];
        gumbel_log_softmax(&logits, &mut xs, shape, tau[r], seed, 0).unwrap();
        let row = r * K..(r + 1) * K;
        assert_eq!(x[row.clone()], xs[row.clone()], "row {r}");
        let one = Shape::matrix(1, K).unwrap();
        let mut want = [0.0];
        exp_concrete_log_prob(
            &x[row.clone()],
            &logits[row.clone()],
            &mut want,
            one,
            tau[r],
        )
        .unwrap();
        assert_eq!(lp[r], want[0], "row {r}");
        concrete_log_prob(
            &y[row.clone()],
            &logits[row.clone()],
            &mut want,
            one,
            tau[r],
        )
        .unwrap();
        assert_eq!(clp[r], want[0], "row {r}");
        let closed = closed_form(&x[row.clone()], &logits[row.clone()], tau[r]);
        assert!(
            (lp[r] - closed).abs() < 1e-10,
            "row {r}: {} vs {closed}",
            lp[r]
        );
        // Concrete = ExpConcrete at ln y minus sum ln y.
        let sum_x: f64 = x[row].iter().sum();
        assert!((clp[r] - (lp[r] - sum_x)).abs() < 1e-8, "row {r}");
    }
}

#[test]
fn gradients_match_finite_differences() {
    let l = [0.3, -1.2, 2.0, 0.5];
    let h = 1e-6;
    for (tau, raw) in [
        (0.7, [-0.4, -2.0, 0.1, -1.0]),
        (2.5, [-3.0, -0.2, -0.9, -1.5]),
    ] {
        let x = project(&raw);
        let shape = Shape::matrix(1, K).unwrap();
        let mut gl = [0.0; K];
        exp_concrete_log_prob_grad_logits_per_row(&x, &l, &mut gl, shape, &[tau]).unwrap();
        let mut gt = [0.0];
        exp_concrete_log_prob_grad_tau_per_row(&x, &l, &mut gt, shape, &[tau]).unwrap();
        for k in 0..K {
            let (mut up, mut down) = (l, l);
            up[k] += h;
            down[k] -= h;
            let fd = (log_prob(&x, &up, tau) - log_prob(&x, &down, tau)) / (2.0 * h);
            assert!((gl[k] - fd).abs() < 1e-6, "d/dl_{k}: {} vs {fd}", gl[k]);
            // d/dx through the closed form (valid off the log-simplex too).
            let (mut up, mut down) = (x.clone(), x.clone());
            up[k] += h;
            down[k] -= h;
            let fd = (closed_form(&up, &l, tau) - closed_form(&down, &l, tau)) / (2.0 * h);
            assert!(
                (-tau * gl[k] - fd).abs() < 1e-6,
                "d/dx_{k}: {} vs {fd}",
                -tau * gl[k]
            );
        }
        let fd = (log_prob(&x, &l, tau + h) - log_prob(&x, &l, tau - h)) / (2.0 * h);
        assert!((gt[0] - fd).abs() < 1e-6, "d/dtau: {} vs {fd}", gt[0]);
        assert!(gl.iter().sum::<f64>().abs() < 1e-12);
    }
}

#[test]
fn a_masked_class_has_zero_gradient_and_the_rest_match_the_unmasked_row() {
    let l = [0.3, f64::NEG_INFINITY, 2.0, 0.5];
    let x3 = project(&[-0.4, 0.1, -1.0]);
    let x = [x3[0], f64::NEG_INFINITY, x3[1], x3[2]];
    let tau = 0.9;
    let mut g = [f64::NAN; 4];
    exp_concrete_log_prob_grad_logits_per_row(&x, &l, &mut g, Shape::matrix(1, 4).unwrap(), &[tau])
        .unwrap();
    let mut g3 = [f64::NAN; 3];
    exp_concrete_log_prob_grad_logits_per_row(
        &x3,
        &[0.3, 2.0, 0.5],
        &mut g3,
        Shape::matrix(1, 3).unwrap(),
        &[tau],
    )
    .unwrap();
    assert_eq!(g[1], 0.0);
    assert_eq!([g[0], g[2], g[3]], g3);
    let (mut t, mut t3) = ([0.0], [0.0]);
    exp_concrete_log_prob_grad_tau_per_row(&x, &l, &mut t, Shape::matrix(1, 4).unwrap(), &[tau])
        .unwrap();
    exp_concrete_log_prob_grad_tau_per_row(
        &x3,
        &[0.3, 2.0, 0.5],
        &mut t3,
        Shape::matrix(1, 3).unwrap(),
        &[tau],
    )
    .unwrap();
    assert_eq!(t, t3);
}

#[test]
fn gradients_in_the_strided_layout_match_the_contiguous_one() {
    // (outer 2, classes 3, inner 2): row (o, i) holds classes at o*6 + k*2 + i.
    let shape = Shape::new(2, 3, 2).unwrap();
    let tau = [0.5, 1.0, 1.5, 2.0];
    let logits: Vec<f64> = (0..12).map(|j| (j as f64 * 0.37).sin()).collect();
    let mut x = vec![0.0; 12];
    gumbel_log_softmax_per_row(&logits, &mut x, shape, &tau, 4, 0).unwrap();
    let mut g = vec![0.0; 12];
    exp_concrete_log_prob_grad_logits_per_row(&x, &logits, &mut g, shape, &tau).unwrap();
    let mut gt = vec![0.0; 4];
    exp_concrete_log_prob_grad_tau_per_row(&x, &logits, &mut gt, shape, &tau).unwrap();
    for o in 0..2 {
        for i in 0..2 {
            let r = o * 2 + i;
            let idx: Vec<usize> = (0..3).map(|k| o * 6 + k * 2 + i).collect();
            let xr: Vec<f64> = idx.iter().map(|&j| x[j]).collect();
            let lr: Vec<f64> = idx.iter().map(|&j| logits[j]).collect();
            let one = Shape::matrix(1, 3).unwrap();
            let mut want = [0.0; 3];
            exp_concrete_log_prob_grad_logits_per_row(&xr, &lr, &mut want, one, &[tau[r]]).unwrap();
            let got: Vec<f64> = idx.iter().map(|&j| g[j]).collect();
            assert_eq!(got, want, "row {r}");
            let mut wt = [0.0];
            exp_concrete_log_prob_grad_tau_per_row(&xr, &lr, &mut wt, one, &[tau[r]]).unwrap();
            assert_eq!(gt[r], wt[0], "row {r}");
        }
    }
}
