//! The relaxed Bernoulli (binary Concrete): samples against the logistic
//! law (KS) and Bernoulli frequencies (chi-square), each with a wrong
//! sampler that fails; the noise's stream layout and its coupling to the
//! Gumbel noise; clamping; the backward pass against finite differences;
//! the log-density against a closed form, the two-class Concrete and its
//! normalisation.

use crate::common;

use common::{chi_square_p, ks_p, ALPHA};
use gumbel::{
    concrete_log_prob, noise, relaxed_bernoulli, relaxed_bernoulli_backward,
    relaxed_bernoulli_log_prob, streams, Shape, CHUNK_ELEMENTS,
};
use statrs::distribution::Uniform;

fn sigmoid(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

fn logit(y: f64) -> f64 {
    y.ln() - (-y).ln_1p()
}

fn soft64(logits: &[f64], tau: f64, seed: u64, offset: u64) -> Vec<f64> {
    let mut y = vec![0.0; logits.len()];
    relaxed_bernoulli(logits, &mut y, tau, false, seed, offset).unwrap();
    y
}

fn log_prob64(y: &[f64], logits: &[f64], tau: f64) -> Vec<f64> {
    let mut out = vec![f64::NAN; y.len()];
    relaxed_bernoulli_log_prob(y, logits, &mut out, tau).unwrap();
    out
}

/// `sigmoid(tau * logit(y) - l)`: uniform on (0, 1) when
/// `y = sigmoid((l + L) / tau)` with `L` standard logistic.
fn uniforms(y: &[f64], l: f64, tau: f64) -> Vec<f64> {
    y.iter().map(|&y| sigmoid(tau * logit(y) - l)).collect()
}

#[test]
fn soft_samples_have_the_binary_concrete_law() {
    // The sigmoid rounds to 1 (then clamped to 1 - eps/2) once
    // (l + L) / tau exceeds about 17.3 in f32 and 36.7 in f64; those samples
    // pile up on one value, which a KS test sees. The parameters keep that
    // probability below 1e-3 (f32) and 1e-4 (f64), far under the test's
    // resolution (D ~ 6e-3 at n = 200000, alpha = 1e-6); small tau is
    // tested in f64 only.
    let n = 200_000;
    let uniform = Uniform::new(0.0, 1.0).unwrap();
    let cases = [
        (0.7, 0.5, true),
        (-2.0, 2.0, true),
        (0.0, 1.0, true),
        (0.5, 0.3, false),
        (-1.0, 0.25, false),
    ];
    for (i, (l, tau, f32_too)) in cases.into_iter().enumerate() {
        let y = soft64(&vec![l; n], tau, 40 + i as u64, 0);
        let p64 = ks_p(uniforms(&y, l, tau), &uniform);
        assert!(p64 > ALPHA, "l {l} tau {tau}: KS p = {p64:e} (f64)");
        if f32_too {
            let mut y32 = vec![0.0f32; n];
            relaxed_bernoulli(
                &vec![l as f32; n],
                &mut y32,
                tau as f32,
                false,
                50 + i as u64,
                0,
            )
            .unwrap();
            let y32: Vec<f64> = y32.into_iter().map(f64::from).collect();
            let p32 = ks_p(uniforms(&y32, l, tau), &uniform);
            assert!(p32 > ALPHA, "l {l} tau {tau}: KS p = {p32:e} (f32)");
        }
    }
}

#[test]
fn noise_added_after_dividing_by_tau_fails_the_test() {
    // The wrong sampler sigmoid(l / tau + L): tau * logit(y) - l = tau L is
    // not standard logistic. L comes from the library (l = 0, tau = 1).
    let n = 200_000;
    let uniform = Uniform::new(0.0, 1.0).unwrap();
    let noise_l: Vec<f64> = soft64(&vec![0.0; n], 1.0, 40, 0)
        .into_iter()
        .map(logit)
        .collect();
    let (l, tau) = (0.7, 0.5);
    let wrong: Vec<f64> = noise_l.iter().map(|n| sigmoid(l / tau + n)).collect();
    assert!(ks_p(uniforms(&wrong, l, tau), &uniform) < 1e-100);
}

#[test]
fn hard_samples_are_bernoulli_of_sigmoid_logits_and_match_the_soft_ones() {
    let n = 400_000;
    for (i, (l, tau)) in [(0.7, 0.5), (-2.0, 3.0), (0.0, 1.0), (3.0, 0.1)]
        .into_iter()
        .enumerate()
    {
        let logits = vec![l; n];
        let seed = 60 + i as u64;
        let mut hard = vec![0.5; n];
        relaxed_bernoulli(&logits, &mut hard, tau, true, seed, 0).unwrap();
        assert!(hard.iter().all(|&h| h == 0.0 || h == 1.0));
        let ones = hard.iter().filter(|&&h| h == 1.0).count() as u64;
        let counts = [n as u64 - ones, ones];
        let p = chi_square_p(&counts, &[1.0 - sigmoid(l), sigmoid(l)]);
        assert!(p > ALPHA, "l {l} tau {tau}: p = {p:e}");
        if l != 0.0 {
            // Bernoulli(sigmoid(l / tau)), the law of a wrong sampler, is rejected.
            let wrong = chi_square_p(&counts, &[1.0 - sigmoid(l / tau), sigmoid(l / tau)]);
            assert!(wrong < 1e-100, "l {l} tau {tau}: no power, p = {wrong:e}");
        }
        // Coupling: the hard sample is 1 exactly where the soft one is above 1/2.
        let soft = soft64(&logits, tau, seed, 0);
        for (h, y) in hard.iter().zip(&soft) {
            assert!(*y == 0.5 || (*h == 1.0) == (*y > 0.5), "{h} {y}");
        }
    }
}

#[test]
fn the_noise_follows_the_gumbel_noise_stream_layout() {
    // With l = 0 and tau = 1, y = sigmoid(L) = U = exp(-exp(-g)), the Gumbel
    // CDF at the noise g of gumbel_noise for the same (seed, offset).
    let n = 3 * CHUNK_ELEMENTS + 100;
    let y = soft64(&vec![0.0; n], 1.0, 77, 5);
    let mut g = vec![0.0f64; n];
    noise(&mut g, 0.0, 1.0, 77, 5).unwrap();
    for (j, (y, g)) in y.iter().zip(&g).enumerate() {
        let u = (-(-g).exp()).exp();
        assert!((y - u).abs() < 1e-13, "element {j}: {y} vs {u}");
    }
    // Chunk c draws from stream offset + c: a call at offset 6 replays the
    // elements from 16384 on; a shorter call is a prefix; the count of
    // stream ids is that of gumbel_streams(1, n, 1).
    let later = soft64(&vec![0.0; 2 * CHUNK_ELEMENTS], 1.0, 77, 6);
    assert_eq!(later[..], y[CHUNK_ELEMENTS..3 * CHUNK_ELEMENTS]);
    let short = soft64(&vec![0.0; 1000], 1.0, 77, 5);
    assert_eq!(short[..], y[..1000]);
    assert_eq!(streams(Shape::matrix(1, n).unwrap()), 4);
    // f32 draws the same variates, rounded differently.
    let mut y32 = vec![0.0f32; n];
    relaxed_bernoulli(&vec![0.0f32; n], &mut y32, 1.0, false, 77, 5).unwrap();
    assert!(y32
        .iter()
        .zip(&y)
        .all(|(a, b)| (*a as f64 - b).abs() < 1e-6));
}

#[test]
fn samples_stay_inside_the_open_interval_with_finite_log_density() {
    let n = 50_000;
    for tau in [1.0, 1e-3, 1e-30] {
        for l in [80.0, -80.0, 0.0] {
            let logits = vec![l; n];
            let y = soft64(&logits, tau, 8, 0);
            assert!(y.iter().all(|&v| v > 0.0 && v < 1.0), "l {l} tau {tau}");
            assert!(log_prob64(&y, &logits, tau).iter().all(|v| v.is_finite()));
            let mut y32 = vec![0.0f32; n];
            let logits32 = vec![l as f32; n];
            relaxed_bernoulli(&logits32, &mut y32, tau as f32, false, 8, 0).unwrap();
            assert!(
                y32.iter().all(|&v| v > 0.0 && v < 1.0),
                "f32 l {l} tau {tau}"
            );
            let mut lp = vec![f32::NAN; n];
            relaxed_bernoulli_log_prob(&y32, &logits32, &mut lp, tau as f32).unwrap();
            assert!(lp.iter().all(|v| v.is_finite()), "f32 l {l} tau {tau}");
        }
    }
    // The clamp bounds themselves: the smallest positive normal and the
    // largest value below 1, reached at l = -80 and 80 with tau = 1e-3.
    let y = soft64(&[80.0, -80.0], 1e-3, 8, 0);
    assert_eq!(y, [1.0 - f64::EPSILON / 2.0, f64::MIN_POSITIVE]);
    let mut y32 = [0.0f32; 2];
    relaxed_bernoulli(&[80.0f32, -80.0], &mut y32, f32::from_bits(1), false, 8, 0).unwrap();
    assert_eq!(y32, [1.0 - f32::EPSILON / 2.0, f32::MIN_POSITIVE]);
    let mut lp = [0.0f32; 2];
    relaxed_bernoulli_log_prob(&y32, &[80.0, -80.0], &mut lp, f32::from_bits(1)).unwrap();
    assert!(lp.iter().all(|v| v.is_finite()), "{lp:?}");
}

#[test]
fn backward_matches_central_finite_differences() {
    // f(l) = sum_j w_j y_j(l) with the noise fixed by (seed, offset):
    // df/dl_j = w_j y_j (1 - y_j) / tau.
    let n = 2000;
    let logits: Vec<f64> = (0..n).map(|j| 2.0 * (j as f64 * 0.37).sin()).collect();
    let w: Vec<f64> = (0..n).map(|j| (j as f64 * 0.11).cos()).collect();
    for tau in [0.5, 1.7] {
        let y = soft64(&logits, tau, 99, 3);
        let mut grad = vec![0.0; n];
        relaxed_bernoulli_backward(&y, &w, &mut grad, tau).unwrap();
        let h = 1e-6;
        let plus: Vec<f64> = logits.iter().map(|l| l + h).collect();
        let minus: Vec<f64> = logits.iter().map(|l| l - h).collect();
        let (yp, ym) = (soft64(&plus, tau, 99, 3), soft64(&minus, tau, 99, 3));
        for j in 0..n {
            let fd = w[j] * (yp[j] - ym[j]) / (2.0 * h);
            assert!(
                (grad[j] - fd).abs() <= 1e-6 * fd.abs() + 1e-9,
                "tau {tau} element {j}: {} vs {fd}",
                grad[j]
            );
        }
    }
}

#[test]
fn log_density_matches_a_closed_form() {
    // tau = 1/2, l = 0, y = 1/4: t = (1/2) ln(1/3) = -ln3 / 2, e^-t = sqrt3,
    // ln p = ln(1/2) + ln3/2 - 2 ln(1 + sqrt3) - ln(1/4) - ln(3/4)
    //      = 3 ln2 - ln3/2 - 2 ln(1 + sqrt3), i.e. p = 8 / (sqrt3 (1 + sqrt3)^2)
    // = 4 / (3 + 2 sqrt3), the two-class Concrete value at (1/4, 3/4).
    let want = 3.0 * 2f64.ln() - 0.5 * 3f64.ln() - 2.0 * (1.0 + 3f64.sqrt()).ln();
    assert!((want - (4.0 / (3.0 + 2.0 * 3f64.sqrt())).ln()).abs() < 1e-15);
    let got = log_prob64(&[0.25], &[0.0], 0.5)[0];
    assert!((got - want).abs() < 1e-14, "{got} vs {want}");
    // tau = 1: p(y) = alpha / (alpha (1 - y) + y)^2 with alpha = e^l
    // (the two-class form with logits (l, 0)); l = ln2, y = 1/3: 18/25.
    let got = log_prob64(&[1.0 / 3.0], &[2f64.ln()], 1.0)[0];
    assert!((got - (18.0f64 / 25.0).ln()).abs() < 1e-14, "{got}");
}

#[test]
fn log_density_is_the_two_class_concrete_with_logits_l_and_0() {
    let mut y = Vec::new();
    let mut logits = Vec::new();
    let mut tau_of = Vec::new();
    for tau in [0.1, 0.5, 1.0, 2.5] {
        for l in [-30.0, -1.5, 0.0, 0.8, 12.0] {
            for v in [1e-300, 1e-12, 0.03, 0.5, 0.9, 1.0 - 1e-9] {
                y.push(v);
                logits.push(l);
                tau_of.push(tau);
            }
        }
    }
    for ((&v, &l), &tau) in y.iter().zip(&logits).zip(&tau_of) {
        let binary = log_prob64(&[v], &[l], tau)[0];
        let mut two = [0.0];
        concrete_log_prob(
            &[v, 1.0 - v],
            &[l, 0.0],
            &mut two,
            Shape::matrix(1, 2).unwrap(),
            tau,
        )
        .unwrap();
        assert!(
            (binary - two[0]).abs() <= 1e-9 * binary.abs().max(1.0),
            "y {v} l {l} tau {tau}: {binary} vs {}",
            two[0]
        );
    }
}

#[test]
fn log_density_integrates_to_one() {
    // y = sigmoid(u), dy = y (1 - y) du; the law of u is logistic of scale
    // 1/tau around l / tau, so [-r, r] leaves out less than 1e-16. Values
    // of y near 1 are not representable finely, so the half u > 0 uses the
    // symmetry p(y; l) = p(1 - y; -l): it is the half u < 0 with -l.
    // Simpson on [-r, 0].
    for (l, tau) in [(0.3f64, 0.5), (-2.0, 1.0), (1.0, 3.0)] {
        let r = (40.0 + l.abs()) / tau;
        let n = 20_000;
        let h = r / n as f64;
        let u: Vec<f64> = (0..=n).map(|i| -r + h * i as f64).collect();
        let y: Vec<f64> = u.iter().map(|&u| sigmoid(u)).collect();
        let lower = log_prob64(&y, &vec![l; n + 1], tau);
        let upper = log_prob64(&y, &vec![-l; n + 1], tau);
        let total: f64 = (0..=n)
            .map(|i| {
                let w = if i == 0 || i == n {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                let jacobian = sigmoid(u[i]) * sigmoid(-u[i]);
                w * h / 3.0 * (lower[i].exp() + upper[i].exp()) * jacobian
            })
            .sum();
        assert!((total - 1.0).abs() < 1e-6, "l {l} tau {tau}: {total}");
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let n = 5 * CHUNK_ELEMENTS + 33;
    let logits: Vec<f32> = (0..n)
        .map(|j| ((j * 7919) % 200) as f32 / 20.0 - 5.0)
        .collect();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let mut soft = vec![0.0f32; n];
                let mut hard = vec![0.0f32; n];
                let mut grad = vec![0.0f32; n];
                let mut lp = vec![0.0f32; n];
                relaxed_bernoulli(&logits, &mut soft, 0.4, false, 5, 9).unwrap();
                relaxed_bernoulli(&logits, &mut hard, 0.4, true, 5, 9).unwrap();
                relaxed_bernoulli_backward(&soft, &logits, &mut grad, 0.4).unwrap();
                relaxed_bernoulli_log_prob(&soft, &logits, &mut lp, 0.4).unwrap();
                [soft, hard, grad, lp].map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
            })
    };
    let one = run(1);
    assert_eq!(one, run(3));
}
