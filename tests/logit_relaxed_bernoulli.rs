//! The logit-space relaxed Bernoulli with per-element temperatures: its
//! samples are the logits of the relaxed Bernoulli's (same noise), follow
//! the logistic law (KS, with a wrong sampler that fails), its log-density
//! matches the closed-form logistic density and integrates to 1, and its
//! gradients match finite differences.

use crate::common;

use common::{ks_p, ALPHA};
use gumbel::{
    logit_relaxed_bernoulli, logit_relaxed_bernoulli_log_prob,
    logit_relaxed_bernoulli_log_prob_grad_logits, logit_relaxed_bernoulli_log_prob_grad_tau,
    relaxed_bernoulli,
};
use statrs::distribution::Uniform;

fn sigmoid(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

fn sample(logits: &[f64], tau: &[f64], seed: u64) -> Vec<f64> {
    let mut x = vec![0.0; logits.len()];
    logit_relaxed_bernoulli(logits, tau, &mut x, seed, 5).unwrap();
    x
}

/// An elementwise function of `(x, logits, tau)` into `out`.
type Elementwise = fn(&[f64], &[f64], &[f64], &mut [f64]) -> gumbel::Result<()>;

fn eval(f: Elementwise, x: f64, l: f64, tau: f64) -> f64 {
    let mut out = [f64::NAN];
    f(&[x], &[l], &[tau], &mut out).unwrap();
    out[0]
}

#[test]
fn the_sigmoid_of_a_sample_is_the_relaxed_bernoulli_sample() {
    let n = 40_000;
    let logits: Vec<f64> = (0..n).map(|j| (j % 7) as f64 - 3.0).collect();
    let tau = vec![0.6; n];
    let x = sample(&logits, &tau, 9);
    let mut y = vec![0.0; n];
    relaxed_bernoulli(&logits, &mut y, 0.6, false, 9, 5).unwrap();
    for j in 0..n {
        let want = y[j];
        let got = sigmoid(x[j]).clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON / 2.0);
        assert!(
            (got - want).abs() <= 4.0 * f64::EPSILON,
            "{j}: {got} vs {want}"
        );
    }
}

#[test]
fn samples_follow_the_logistic_law_per_element_temperature() {
    // x = (l + L) / tau, so sigmoid(tau x - l) is uniform; elements alternate
    // between two temperatures, each checked on its own.
    let n = 200_000;
    let (l, taus) = (0.8, [0.3, 2.5]);
    let tau: Vec<f64> = (0..n).map(|j| taus[j % 2]).collect();
    let x = sample(&vec![l; n], &tau, 77);
    let uniform = Uniform::new(0.0, 1.0).unwrap();
    for (which, &t) in taus.iter().enumerate() {
        let u: Vec<f64> = x
            .iter()
            .skip(which)
            .step_by(2)
            .map(|&x| sigmoid(t * x - l))
            .collect();
        let p = ks_p(u, &uniform);
        assert!(p > ALPHA, "tau {t}: KS p = {p}");
        // Wrong: the noise divided by tau before the logit is added.
        let wrong: Vec<f64> = x
            .iter()
            .skip(which)
            .step_by(2)
            .map(|&x| {
                let noise = t * x - l;
                sigmoid(t * (l + noise / t) - l)
            })
            .collect();
        let p = ks_p(wrong, &uniform);
        assert!(p < ALPHA, "tau {t}: the wrong sampler passed, p = {p}");
    }
}

#[test]
fn the_log_density_is_the_closed_form_logistic_density() {
    for &(x, l, tau) in &[
        (0.3, 1.2, 0.5),
        (-4.0, 0.0, 2.0),
        (40.0, -3.0, 1.5),
        (-0.01, 25.0, 0.1),
    ] {
        // Logistic with location l / tau and scale 1 / tau.
        let t: f64 = tau * x - l;
        let want = (tau * (-t).exp() / (1.0 + (-t).exp()).powi(2)).ln();
        let got = eval(logit_relaxed_bernoulli_log_prob, x, l, tau);
        assert!(
            (got - want).abs() < 1e-12 * want.abs().max(1.0),
            "{x} {l} {tau}: {got} vs {want}"
        );
    }
}

#[test]
fn the_log_density_integrates_to_one() {
    let (l, tau) = (1.3, 0.7);
    let h = 1e-3;
    let total: f64 = (-60_000..60_000)
        .map(|k| {
            eval(
                logit_relaxed_bernoulli_log_prob,
                (k as f64 + 0.5) * h,
                l,
                tau,
            )
            .exp()
                * h
        })
        .sum();
    assert!((total - 1.0).abs() < 1e-6, "{total}");
}

#[test]
fn the_gradients_match_finite_differences() {
    let h = 1e-6;
    for &(x, l, tau) in &[(0.3, 1.2, 0.5), (-4.0, 0.0, 2.0), (2.0, -3.0, 1.5)] {
        let f = |x: f64, l: f64, t: f64| eval(logit_relaxed_bernoulli_log_prob, x, l, t);
        let dl = (f(x, l + h, tau) - f(x, l - h, tau)) / (2.0 * h);
        let dx = (f(x + h, l, tau) - f(x - h, l, tau)) / (2.0 * h);
        let dt = (f(x, l, tau + h) - f(x, l, tau - h)) / (2.0 * h);
        let gl = eval(logit_relaxed_bernoulli_log_prob_grad_logits, x, l, tau);
        let gt = eval(logit_relaxed_bernoulli_log_prob_grad_tau, x, l, tau);
        assert!((gl - dl).abs() < 1e-7, "d/dl {gl} vs {dl}");
        assert!((-tau * gl - dx).abs() < 1e-7, "d/dx {} vs {dx}", -tau * gl);
        assert!((gt - dt).abs() < 1e-7, "d/dtau {gt} vs {dt}");
    }
}
