//! Gumbel noise conditioned on the sampled class and the gradient
//! estimators beyond straight-through (Gumbel-Rao, ReinMax, gapped and
//! decoupled straight-through): the law of the conditional draws against
//! rejection sampling, each estimator against an independent reference
//! (its paper's definition written out here, finite differences of its
//! surrogate, or the composition of the library's other functions), and
//! their errors.

use gumbel::{
    decoupled_straight_through_backward, gapped_straight_through_backward, gumbel_conditional,
    gumbel_rao_backward, gumbel_softmax, gumbel_softmax_backward, noise, reinmax_backward, sample,
    stream, tempered_softmax, Bf16, Element, ErrorKind, Half, Shape, F16,
};
use statrs::distribution::Gumbel;
use statrs::stats_tests::ks_test::{ks_twosample, KSTwoSampleAlternativeMethod};
use statrs::stats_tests::NaNPolicy;

use std::ptr::null;

use gumbel::ffi::*;

use crate::common::{expect, in_pool, ks_p, last_error, mean_var, softmax, tile, ALPHA};

const SEED: u64 = 0x5eed_e571;

/// Logits of four classes (probabilities 0.246, 0.110, 0.495, 0.149).
const LOGITS: [f64; 4] = [0.5, -0.3, 1.2, 0.0];

fn logsumexp(l: &[f64]) -> f64 {
    let m = l.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + l.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

fn ks2(a: Vec<f64>, b: Vec<f64>) -> f64 {
    ks_twosample(
        a,
        b,
        KSTwoSampleAlternativeMethod::TwoSidedAsymptotic,
        NaNPolicy::Error,
    )
    .expect("ks test")
    .1
}

/// Perturbed logits `l + g` of the unconditional rows whose argmax is `d`
/// (rejection sampling), as one vector per class.
fn rejection_samples(d: usize, rows: usize) -> Vec<Vec<f64>> {
    let k = LOGITS.len();
    let mut g = vec![0.0f64; rows * k];
    noise(&mut g, 0.0, 1.0, SEED ^ 0xabc, 0).unwrap();
    let mut kept = vec![Vec::new(); k];
    for row in g.chunks_exact(k) {
        let z: Vec<f64> = row.iter().zip(&LOGITS).map(|(g, l)| l + g).collect();
        let argmax = (0..k).fold(0, |b, j| if z[j] > z[b] { j } else { b });
        if argmax == d {
            for (c, &v) in z.iter().enumerate() {
                kept[c].push(v);
            }
        }
    }
    kept
}

/// The conditional draws of the library for class `d`, as one vector per
/// class (`rows` rows of [`LOGITS`], one draw each).
fn conditional_samples(d: usize, rows: usize) -> Vec<Vec<f64>> {
    let k = LOGITS.len();
    let shape = Shape::new(rows, k, 1).unwrap();
    let l = tile(&LOGITS, rows);
    let mut z = vec![0.0f64; shape.len()];
    gumbel_conditional(&l, &vec![d as i64; rows], &mut z, shape, 1, SEED, 0).unwrap();
    (0..k)
        .map(|c| z.iter().skip(c).step_by(k).copied().collect())
        .collect()
}

#[test]
fn conditional_draws_follow_the_law_of_rejection_sampling() {
    // For each sampled class: the top value is Gumbel(logsumexp) (one-sample
    // KS against the exact CDF), every other class matches the values of
    // unconditional draws that had the same argmax (two-sample KS), and the
    // chosen class is the maximum of every draw.
    let top = Gumbel::new(logsumexp(&LOGITS), 1.0).unwrap();
    for d in 0..LOGITS.len() {
        let reference = rejection_samples(d, 400_000);
        let draws = conditional_samples(d, 60_000);
        let p = ks_p(draws[d].clone(), &top);
        assert!(p > ALPHA, "class {d}: top value p = {p}");
        for c in (0..LOGITS.len()).filter(|&c| c != d) {
            let p = ks2(draws[c].clone(), reference[c].clone());
            assert!(p > ALPHA, "sampled {d}, class {c}: p = {p}");
            assert!(draws[c].iter().zip(&draws[d]).all(|(z, top)| z <= top));
        }
    }
}

#[test]
fn wrong_conditional_constructions_are_rejected() {
    // From the same unconditional noise, two known-wrong constructions:
    // the top value at the class's own location (`l_d + g_d`) and the other
    // classes clamped below the top (`min(l_k + g_k, z_d)`) instead of
    // truncated. The tests above must reject both.
    let (d, rows, k) = (0, 60_000, LOGITS.len());
    let mut g = vec![0.0f64; rows * k];
    noise(&mut g, 0.0, 1.0, SEED, 7).unwrap();
    let log_z = logsumexp(&LOGITS);
    let top = Gumbel::new(log_z, 1.0).unwrap();
    let own_location: Vec<f64> = g.chunks_exact(k).map(|g| LOGITS[d] + g[d]).collect();
    assert!(ks_p(own_location, &top) < ALPHA);
    let clamped: Vec<f64> = g
        .chunks_exact(k)
        .map(|g| (LOGITS[2] + g[2]).min(log_z + g[d]))
        .collect();
    let reference = rejection_samples(d, 400_000);
    assert!(ks2(clamped, reference[2].clone()) < ALPHA);
}

#[test]
fn conditional_draws_use_the_documented_streams_and_layout() {
    // Draw j of a call is draw 0 of a call at offset + j * streams; a
    // strided layout (inner > 1) gives the values of its contiguous copy;
    // masked classes stay -inf; the bits do not depend on the thread count.
    let (outer, classes, inner, draws) = (70, 300, 3, 4);
    let shape = Shape::new(outer, classes, inner).unwrap();
    let rows = shape.rows();
    let l: Vec<f32> = (0..shape.len())
        .map(|i| {
            if i % 97 == 5 {
                f32::NEG_INFINITY
            } else {
                ((i * 37) % 101) as f32 * 0.05 - 2.5
            }
        })
        .collect();
    // Contiguous copy: row (o, i) of the strided tensor.
    let flat_shape = Shape::new(rows, classes, 1).unwrap();
    let mut flat = vec![0.0f32; shape.len()];
    for o in 0..outer {
        for i in 0..inner {
            for c in 0..classes {
                flat[(o * inner + i) * classes + c] = l[(o * classes + c) * inner + i];
            }
        }
    }
    let mut indices = vec![0i64; rows];
    sample(&flat, &mut indices, flat_shape, SEED, 0).unwrap();
    let offset = 11;
    let step = stream::streams(rows, classes);
    let run = |threads| {
        in_pool(threads, || {
            let mut z = vec![0.0f32; draws * shape.len()];
            gumbel_conditional(&l, &indices, &mut z, shape, draws, SEED, offset).unwrap();
            z
        })
    };
    let z = run(1);
    assert_eq!(bits(&z), bits(&run(2)));
    for j in 0..draws {
        let mut one = vec![0.0f32; shape.len()];
        let at = offset + j as u64 * step;
        gumbel_conditional(&flat, &indices, &mut one, flat_shape, 1, SEED, at).unwrap();
        let block = &z[j * shape.len()..(j + 1) * shape.len()];
        for o in 0..outer {
            for i in 0..inner {
                let r = o * inner + i;
                let d = indices[r] as usize;
                for c in 0..classes {
                    let got = block[(o * classes + c) * inner + i];
                    assert_eq!(got.to_bits(), one[r * classes + c].to_bits());
                    assert!(got <= block[(o * classes + d) * inner + i]);
                    if flat[r * classes + c] == f32::NEG_INFINITY {
                        assert_eq!(got, f32::NEG_INFINITY);
                    }
                }
            }
        }
    }
}

fn bits(x: &[f32]) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// `J(p)^T v = p ⊙ (v - <v, p>)` in f64, the reference of the tests.
fn vjp(p: &[f64], v: &[f64]) -> Vec<f64> {
    let dot: f64 = p.iter().zip(v).map(|(p, v)| p * v).sum();
    p.iter().zip(v).map(|(p, v)| p * (v - dot)).collect()
}

#[test]
fn gumbel_rao_averages_the_straight_through_gradient_over_the_conditional_draws() {
    // The library's backward against the composition of its other public
    // functions: conditional draws, tempered softmax, softmax backward.
    let (rows, k, draws, tau) = (50, 7, 5, 0.6);
    let shape = Shape::new(rows, k, 1).unwrap();
    let l: Vec<f64> = (0..rows * k)
        .map(|i| ((i * 29) % 53) as f64 * 0.1 - 2.0)
        .collect();
    let v: Vec<f64> = (0..rows * k)
        .map(|i| ((i * 17) % 31) as f64 * 0.2 - 3.0)
        .collect();
    let mut d = vec![0i64; rows];
    sample(&l, &mut d, shape, SEED, 0).unwrap();
    let offset = stream::streams(rows, k);
    let mut g = vec![0.0f64; rows * k];
    gumbel_rao_backward(&l, &d, &v, &mut g, shape, tau, draws, SEED, offset).unwrap();
    let mut z = vec![0.0f64; draws * rows * k];
    gumbel_conditional(&l, &d, &mut z, shape, draws, SEED, offset).unwrap();
    let mut want = vec![0.0f64; rows * k];
    for z in z.chunks_exact(rows * k) {
        let mut y = vec![0.0f64; rows * k];
        tempered_softmax(z, &mut y, shape, tau).unwrap();
        let mut one = vec![0.0f64; rows * k];
        gumbel_softmax_backward(&y, &v, &mut one, shape, tau).unwrap();
        want.iter_mut()
            .zip(&one)
            .for_each(|(w, o)| *w += o / draws as f64);
    }
    for (got, want) in g.iter().zip(&want) {
        assert!(
            (got - want).abs() <= 1e-12 * (1.0 + want.abs()),
            "{got} vs {want}"
        );
    }
    for row in g.chunks_exact(k) {
        assert!(row.iter().sum::<f64>().abs() < 1e-12);
    }
}

#[test]
fn gumbel_rao_has_the_mean_of_straight_through_and_less_variance() {
    // Over many forward samples, the mean Gumbel-Rao gradient equals the
    // mean straight-through gradient (same expectation, Paulus et al. 2021,
    // eq. 8) and its variance is smaller.
    let (rows, k, tau) = (200_000, LOGITS.len(), 0.5);
    let shape = Shape::new(rows, k, 1).unwrap();
    let l = tile(&LOGITS, rows);
    let v = tile(&[1.0, -2.0, 0.5, 3.0], rows);
    let mut y = vec![0.0f64; rows * k];
    gumbel_softmax(&l, &mut y, shape, tau, false, SEED, 0).unwrap();
    let mut st = vec![0.0f64; rows * k];
    gumbel_softmax_backward(&y, &v, &mut st, shape, tau).unwrap();
    let mut d = vec![0i64; rows];
    sample(&l, &mut d, shape, SEED, 1 << 40).unwrap();
    let mut rao = vec![0.0f64; rows * k];
    gumbel_rao_backward(&l, &d, &v, &mut rao, shape, tau, 8, SEED, 1 << 41).unwrap();
    for c in 0..k {
        let column = |x: &[f64]| x.iter().skip(c).step_by(k).copied().collect::<Vec<_>>();
        let (m1, v1) = mean_var(&column(&st));
        let (m2, v2) = mean_var(&column(&rao));
        let se = ((v1 + v2) / rows as f64).sqrt();
        assert!(
            (m1 - m2).abs() < 5.3 * se,
            "class {c}: {m1} vs {m2} (se {se})"
        );
        assert!(
            v2 < v1,
            "class {c}: variance {v2} not below straight-through's {v1}"
        );
    }
}

/// Central finite differences of `f` at `l` (step `h`).
fn finite_differences(l: &[f64], h: f64, f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    (0..l.len())
        .map(|i| {
            let (mut up, mut down) = (l.to_vec(), l.to_vec());
            up[i] += h;
            down[i] -= h;
            (f(&up) - f(&down)) / (2.0 * h)
        })
        .collect()
}

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{got:?} vs {want:?}"
        );
    }
}

#[test]
fn reinmax_is_the_gradient_of_its_surrogate() {
    // Liu et al. 2023, Algorithm 2: the surrogate <v, 2 pi_1 - pi_0 / 2> with
    // pi_1 = softmax(c + l), c = ln((softmax(l / tau) + onehot(d)) / 2) - l
    // held constant, and pi_0 = softmax(l). Its derivative (finite
    // differences) and the formula written out are the references.
    let l = [0.3, -1.2, 2.0, 0.7, f64::NEG_INFINITY];
    let v = [1.5, -0.5, 0.25, -2.0, 4.0];
    for (d, tau) in [(0usize, 1.0), (2, 2.5), (3, 0.7)] {
        let shape = Shape::new(1, l.len(), 1).unwrap();
        let mut g = [0.0f64; 5];
        reinmax_backward(&l, &[d as i64], &v, &mut g, shape, tau).unwrap();
        let mut pi1 = softmax(&l, tau);
        pi1[d] += 1.0;
        pi1.iter_mut().for_each(|p| *p *= 0.5);
        let c: Vec<f64> = pi1.iter().zip(&l).map(|(p, l)| p.ln() - l).collect();
        let surrogate = |x: &[f64]| {
            let shifted: Vec<f64> = x
                .iter()
                .zip(&c)
                .map(|(x, c)| {
                    if c.is_finite() {
                        x + c
                    } else {
                        f64::NEG_INFINITY
                    }
                })
                .collect();
            let p1 = softmax(&shifted, 1.0);
            let p0 = softmax(x, 1.0);
            (0..x.len())
                .map(|k| v[k] * (2.0 * p1[k] - 0.5 * p0[k]))
                .sum::<f64>()
        };
        let finite: Vec<usize> = (0..l.len()).filter(|&k| l[k].is_finite()).collect();
        let fd = finite_differences(&l[..4], 1e-6, |x| {
            let mut full = l.to_vec();
            full[..4].copy_from_slice(x);
            surrogate(&full)
        });
        assert_close(&finite.iter().map(|&k| g[k]).collect::<Vec<_>>(), &fd, 1e-7);
        let formula: Vec<f64> = vjp(&pi1, &v)
            .iter()
            .zip(vjp(&softmax(&l, 1.0), &v))
            .map(|(a, b)| 2.0 * a - 0.5 * b)
            .collect();
        assert_close(&g, &formula, 1e-13);
        assert_eq!(g[4], 0.0, "a masked class gets exactly 0");
    }
}

#[test]
fn a_reinmax_without_the_second_order_term_would_fail() {
    // Plain straight-through at pi_1 (the 2 J(pi_1) term alone) differs.
    let (l, v, d, tau) = ([0.3, -1.2, 2.0], [1.5, -0.5, 0.25], 1usize, 1.0);
    let mut g = [0.0f64; 3];
    reinmax_backward(
        &l,
        &[d as i64],
        &v,
        &mut g,
        Shape::new(1, 3, 1).unwrap(),
        tau,
    )
    .unwrap();
    let mut pi1 = softmax(&l, tau);
    pi1[d] += 1.0;
    pi1.iter_mut().for_each(|p| *p *= 0.5);
    let first_order: Vec<f64> = vjp(&pi1, &v).iter().map(|x| 2.0 * x).collect();
    assert!(g
        .iter()
        .zip(&first_order)
        .any(|(a, b)| (a - b).abs() > 1e-3));
}

#[test]
fn gapped_straight_through_is_the_gradient_of_its_surrogate() {
    // Fan et al. 2022: z = l + stopgrad(m1 - m2) with z_d = max l and
    // z_k = min(l_k, max l - gap); the gradient is that of
    // <v, softmax((x + c) / tau)>, c = z - l held constant.
    let l = [0.3, -1.2, 2.0, 1.8];
    let v = [1.5, -0.5, 0.25, -2.0];
    for (d, tau, gap) in [
        (0usize, 0.5, 1.0),
        (2, 1.0, 1.0),
        (3, 0.3, 0.0),
        (1, 2.0, 3.5),
    ] {
        let shape = Shape::new(1, 4, 1).unwrap();
        let mut g = [0.0f64; 4];
        gapped_straight_through_backward(&l, &[d as i64], &v, &mut g, shape, tau, gap).unwrap();
        let m = 2.0;
        let z: Vec<f64> = (0..4)
            .map(|k| if k == d { m } else { l[k].min(m - gap) })
            .collect();
        // The sampled class leads every other by at least the gap.
        for k in (0..4).filter(|&k| k != d) {
            assert!(z[d] - z[k] >= gap, "{z:?}");
        }
        let c: Vec<f64> = z.iter().zip(&l).map(|(z, l)| z - l).collect();
        let fd = finite_differences(&l, 1e-6, |x| {
            let shifted: Vec<f64> = x.iter().zip(&c).map(|(x, c)| x + c).collect();
            softmax(&shifted, tau)
                .iter()
                .zip(&v)
                .map(|(p, v)| p * v)
                .sum()
        });
        assert_close(&g, &fd, 1e-7);
    }
}

#[test]
fn decoupled_straight_through_is_the_soft_sample_at_its_own_temperature() {
    // The one-pass backward gives the bits of the soft sample at tau_b (same
    // noise as the forward) followed by the softmax backward at tau_b.
    for (outer, classes, inner) in [(40, 5, 1), (3, 700, 2), (2, 20_000, 1)] {
        let shape = Shape::new(outer, classes, inner).unwrap();
        let l: Vec<f32> = (0..shape.len())
            .map(|i| ((i * 41) % 89) as f32 * 0.07 - 3.0)
            .collect();
        let v: Vec<f32> = (0..shape.len())
            .map(|i| ((i * 13) % 23) as f32 * 0.3 - 3.0)
            .collect();
        let (tau_b, offset) = (1.7f32, 5);
        let mut g = vec![0.0f32; shape.len()];
        decoupled_straight_through_backward(&l, &v, &mut g, shape, tau_b, SEED, offset).unwrap();
        let mut y = vec![0.0f32; shape.len()];
        gumbel_softmax(&l, &mut y, shape, tau_b, false, SEED, offset).unwrap();
        let mut want = vec![0.0f32; shape.len()];
        gumbel_softmax_backward(&y, &v, &mut want, shape, tau_b).unwrap();
        assert_eq!(bits(&g), bits(&want), "{outer} x {classes} x {inner}");
    }
}

#[test]
fn estimators_reject_bad_input_and_leave_the_output_untouched() {
    let shape = Shape::new(2, 3, 1).unwrap();
    let l = [0.0f32, 1.0, f32::NEG_INFINITY, 0.5, 0.5, 0.5];
    let v = [1.0f32; 6];
    let sentinel = 7.25f32;
    let kind = |r: gumbel::Result<()>| r.unwrap_err().kind();
    let cases: [(&[i64], f32, usize, f32, ErrorKind); 6] = [
        (&[0, 3], 1.0, 1, 1.0, ErrorKind::InvalidValue),
        (&[-1, 0], 1.0, 1, 1.0, ErrorKind::InvalidValue),
        (&[2, 0], 1.0, 1, 1.0, ErrorKind::InvalidValue),
        (&[0, 0], 0.0, 1, 1.0, ErrorKind::InvalidTemperature),
        (&[0, 0], 1.0, 0, 1.0, ErrorKind::InvalidParameter),
        (&[0, 0], 1.0, 1, -1.0, ErrorKind::InvalidParameter),
    ];
    for (d, tau, draws, gap, want) in cases {
        let mut g = [sentinel; 6];
        let rao = gumbel_rao_backward(&l, d, &v, &mut g, shape, tau, draws, SEED, 0);
        let reinmax = reinmax_backward(&l, d, &v, &mut g, shape, tau);
        let gapped = gapped_straight_through_backward(&l, d, &v, &mut g, shape, tau, gap);
        let mut z = [sentinel; 12];
        let conditional = gumbel_conditional(&l, d, &mut z, shape, 2, SEED, 0);
        match want {
            ErrorKind::InvalidParameter if draws == 0 => {
                assert_eq!(kind(rao), want);
                assert!(reinmax.is_ok() && gapped.is_ok());
                let mut none: [f32; 0] = [];
                assert_eq!(
                    kind(gumbel_conditional(&l, d, &mut none, shape, 0, SEED, 0)),
                    want
                );
                continue;
            }
            ErrorKind::InvalidParameter => {
                assert_eq!(kind(gapped), want);
                assert!(rao.is_ok() && reinmax.is_ok());
                continue;
            }
            ErrorKind::InvalidTemperature => {
                assert_eq!(kind(rao), want);
                assert_eq!(kind(reinmax), want);
                assert_eq!(kind(gapped), want);
                assert!(conditional.is_ok());
            }
            _ => {
                assert_eq!(kind(rao), want);
                assert_eq!(kind(reinmax), want);
                assert_eq!(kind(gapped), want);
                assert_eq!(kind(conditional), want);
                assert!(z.iter().all(|x| x.to_bits() == sentinel.to_bits()));
            }
        }
        assert!(g.iter().all(|x| x.to_bits() == sentinel.to_bits()));
    }
    // A non-finite incoming gradient, NaN logits, wrong lengths.
    let mut g = [sentinel; 6];
    let mut bad_v = v;
    bad_v[4] = f32::NAN;
    assert_eq!(
        kind(reinmax_backward(&l, &[0, 0], &bad_v, &mut g, shape, 1.0)),
        ErrorKind::InvalidValue
    );
    assert_eq!(
        kind(decoupled_straight_through_backward(
            &l, &bad_v, &mut g, shape, 1.0, SEED, 0
        )),
        ErrorKind::InvalidValue
    );
    let mut bad_l = l;
    bad_l[1] = f32::NAN;
    assert_eq!(
        kind(gumbel_rao_backward(
            &bad_l,
            &[0, 0],
            &v,
            &mut g,
            shape,
            1.0,
            2,
            SEED,
            0
        )),
        ErrorKind::InvalidLogits
    );
    assert_eq!(
        kind(reinmax_backward(&l, &[0], &v, &mut g, shape, 1.0)),
        ErrorKind::InvalidShape
    );
    assert!(g.iter().all(|x| x.to_bits() == sentinel.to_bits()));
}

/// An element type of the estimators' C entries: `f32` and the 16-bit
/// twins (whose temperatures and `gap` stay `f32`).
trait CElement: Copy {
    fn of(x: f32) -> Self;
    fn key(self) -> u32;
    /// Calls estimator entry `entry` of the C ABI (conditional, Gumbel-Rao,
    /// ReinMax, gapped, decoupled) on `(outer, classes, inner) = dims` with
    /// the given pointers and scalars.
    #[allow(clippy::too_many_arguments)]
    unsafe fn call(
        entry: usize,
        inputs: (*const Self, *const i64, *const Self),
        out: *mut Self,
        dims: [usize; 3],
        tau: f32,
        draws: usize,
        gap: f32,
    ) -> gumbel_status;
}

impl CElement for f32 {
    fn of(x: f32) -> Self {
        x
    }
    fn key(self) -> u32 {
        self.to_bits()
    }
    unsafe fn call(
        entry: usize,
        (l, d, v): (*const f32, *const i64, *const f32),
        out: *mut f32,
        [outer, classes, inner]: [usize; 3],
        tau: f32,
        draws: usize,
        gap: f32,
    ) -> gumbel_status {
        unsafe {
            match entry {
                0 => gumbel_conditional_f32(l, d, out, outer, classes, inner, draws, SEED, 0),
                1 => gumbel_rao_backward_f32(
                    l, d, v, out, outer, classes, inner, tau, draws, SEED, 0,
                ),
                2 => gumbel_reinmax_backward_f32(l, d, v, out, outer, classes, inner, tau),
                3 => gumbel_gapped_st_backward_f32(l, d, v, out, outer, classes, inner, tau, gap),
                _ => {
                    gumbel_decoupled_st_backward_f32(l, v, out, outer, classes, inner, tau, SEED, 0)
                }
            }
        }
    }
}

/// The [`CElement`] of a 16-bit format whose C entries end in `$suffix`.
macro_rules! c_element_16 {
    ($t:ty, $cond:ident, $rao:ident, $reinmax:ident, $gapped:ident, $decoupled:ident) => {
        impl CElement for $t {
            fn of(x: f32) -> Self {
                <$t>::from_f32(x)
            }
            fn key(self) -> u32 {
                u32::from(self.to_bits())
            }
            unsafe fn call(
                entry: usize,
                (l, d, v): (*const $t, *const i64, *const $t),
                out: *mut $t,
                [outer, classes, inner]: [usize; 3],
                tau: f32,
                draws: usize,
                gap: f32,
            ) -> gumbel_status {
                let (l, v, out) = (l.cast::<u16>(), v.cast::<u16>(), out.cast::<u16>());
                unsafe {
                    match entry {
                        0 => $cond(l, d, out, outer, classes, inner, draws, SEED, 0),
                        1 => $rao(l, d, v, out, outer, classes, inner, tau, draws, SEED, 0),
                        2 => $reinmax(l, d, v, out, outer, classes, inner, tau),
                        3 => $gapped(l, d, v, out, outer, classes, inner, tau, gap),
                        _ => $decoupled(l, v, out, outer, classes, inner, tau, SEED, 0),
                    }
                }
            }
        }
    };
}

c_element_16!(
    Bf16,
    gumbel_conditional_bf16,
    gumbel_rao_backward_bf16,
    gumbel_reinmax_backward_bf16,
    gumbel_gapped_st_backward_bf16,
    gumbel_decoupled_st_backward_bf16
);
c_element_16!(
    F16,
    gumbel_conditional_f16,
    gumbel_rao_backward_f16,
    gumbel_reinmax_backward_f16,
    gumbel_gapped_st_backward_f16,
    gumbel_decoupled_st_backward_f16
);

const ENTRIES: [&str; 5] = [
    "conditional",
    "Gumbel-Rao",
    "ReinMax",
    "gapped",
    "decoupled",
];

#[test]
fn c_abi_rejects_bad_arguments() {
    c_abi_rejects_bad_arguments_for::<f32>();
}

#[test]
fn bf16_c_abi_rejects_bad_arguments() {
    c_abi_rejects_bad_arguments_for::<Bf16>();
}

#[test]
fn f16_c_abi_rejects_bad_arguments() {
    c_abi_rejects_bad_arguments_for::<F16>();
}

fn c_abi_rejects_bad_arguments_for<T: CElement>() {
    // Each class of bad argument gets its status and a message naming the
    // culprit, and the output (with guards around it) is untouched.
    let l = [0.0f32, 1.0, f32::NEG_INFINITY, 0.5, 0.5, 0.5].map(T::of);
    let mut nan_l = l;
    nan_l[4] = T::of(f32::NAN);
    let v = [1.0f32; 6].map(T::of);
    let (d, bad_d) = ([0i64, 2], [0i64, 3]);
    let dims = [2, 3, 1];
    let sentinel = T::of(9.5);
    let unchanged = |out: &[T]| out.iter().all(|x| x.key() == sentinel.key());
    let good = (l.as_ptr(), d.as_ptr(), v.as_ptr());
    type Case<'a, T> = (
        &'a str,
        gumbel_status,
        [bool; 5],
        (*const T, *const i64, *const T),
        [usize; 3],
        f32,
        usize,
        f32,
    );
    let cases: [Case<T>; 10] = [
        (
            "logits",
            GUMBEL_STATUS_NULL_POINTER,
            [true; 5],
            (null(), d.as_ptr(), v.as_ptr()),
            dims,
            1.0,
            1,
            1.0,
        ),
        (
            "indices",
            GUMBEL_STATUS_NULL_POINTER,
            [true, true, true, true, false],
            (l.as_ptr(), null(), v.as_ptr()),
            dims,
            1.0,
            1,
            1.0,
        ),
        (
            "grad_out",
            GUMBEL_STATUS_NULL_POINTER,
            [false, true, true, true, true],
            (l.as_ptr(), d.as_ptr(), null()),
            dims,
            1.0,
            1,
            1.0,
        ),
        (
            "classes",
            GUMBEL_STATUS_INVALID_SHAPE,
            [true; 5],
            good,
            [2, 0, 1],
            1.0,
            1,
            1.0,
        ),
        (
            "size_t",
            GUMBEL_STATUS_SIZE_OVERFLOW,
            [true; 5],
            good,
            [usize::MAX, 3, 2],
            1.0,
            1,
            1.0,
        ),
        (
            "tau",
            GUMBEL_STATUS_INVALID_TEMPERATURE,
            [false, true, true, true, true],
            good,
            dims,
            f32::NAN,
            1,
            1.0,
        ),
        (
            "draws",
            GUMBEL_STATUS_INVALID_PARAMETER,
            [true, true, false, false, false],
            good,
            dims,
            1.0,
            0,
            1.0,
        ),
        (
            "gap",
            GUMBEL_STATUS_INVALID_PARAMETER,
            [false, false, false, true, false],
            good,
            dims,
            1.0,
            1,
            -0.5,
        ),
        (
            "NaN",
            GUMBEL_STATUS_INVALID_LOGITS,
            [true; 5],
            (nan_l.as_ptr(), d.as_ptr(), v.as_ptr()),
            dims,
            1.0,
            1,
            1.0,
        ),
        (
            "indices[1] = 3",
            GUMBEL_STATUS_INVALID_VALUE,
            [true, true, true, true, false],
            (l.as_ptr(), bad_d.as_ptr(), v.as_ptr()),
            dims,
            1.0,
            1,
            1.0,
        ),
    ];
    for (word, status, applies, inputs, dims, tau, draws, gap) in cases {
        for entry in (0..5).filter(|&e| applies[e]) {
            let mut out = [sentinel; 20];
            let got =
                unsafe { T::call(entry, inputs, out[4..].as_mut_ptr(), dims, tau, draws, gap) };
            let name = ENTRIES[entry];
            expect(got, status, &[word.split(' ').next().unwrap()]);
            assert!(unchanged(&out), "{word}: {name} wrote its output");
        }
    }
    for entry in 0..5 {
        // Valid calls write the output and not the guards; an empty shape is
        // a no-op with NULL pointers.
        let mut out = [sentinel; 20];
        let got = unsafe { T::call(entry, good, out[4..].as_mut_ptr(), dims, 1.0, 2, 1.0) };
        assert_eq!(got, GUMBEL_STATUS_OK, "{}", ENTRIES[entry]);
        assert!(unchanged(&out[..4]) && unchanged(&out[16..]));
        assert!(out[4..10].iter().all(|x| x.key() != sentinel.key()));
        let empty = unsafe {
            T::call(
                entry,
                (null(), null(), null()),
                std::ptr::null_mut(),
                [0, 3, 5],
                1.0,
                1,
                1.0,
            )
        };
        assert_eq!(empty, GUMBEL_STATUS_OK);
        // Misaligned and overlapping outputs.
        let mut words = [0u32; 16];
        let misaligned = unsafe { (words.as_mut_ptr() as *mut u8).add(1) } as *mut T;
        let got = unsafe { T::call(entry, good, misaligned, dims, 1.0, 1, 1.0) };
        assert_eq!(got, GUMBEL_STATUS_MISALIGNED_POINTER);
        let mut shared = [T::of(0.5); 12];
        let p = shared.as_mut_ptr();
        let got = unsafe { T::call(entry, (p, d.as_ptr(), p), p, dims, 1.0, 1, 1.0) };
        assert_eq!(got, GUMBEL_STATUS_OVERLAP, "{}", ENTRIES[entry]);
        assert!(last_error().contains("overlap"));
    }
}

/// The 16-bit estimators compute in `f32` on the widened inputs: each output
/// is the `f32` call's output rounded once to nearest even, bit for bit, in
/// short rows, a strided layout, many rows (parallel) and long rows.
fn half_estimators_are_the_f32_estimators_rounded_once<H: Half + Element<Compute = f32>>() {
    let widen = |x: &[H]| x.iter().map(|h| h.to_f32()).collect::<Vec<f32>>();
    let rounded = |x: &[f32]| {
        x.iter()
            .map(|&v| H::from_f32(v).to_bits())
            .collect::<Vec<u16>>()
    };
    let raw = |x: &[H]| x.iter().map(|h| h.to_bits()).collect::<Vec<u16>>();
    for (outer, classes, inner) in [(5, 7, 1), (4, 50, 3), (300, 200, 1), (2, 20_000, 2)] {
        let shape = Shape::new(outer, classes, inner).unwrap();
        let n = shape.len();
        let l: Vec<H> = (0..n)
            .map(|i| {
                let class = (i / inner) % classes;
                let x = if class % 11 == 4 {
                    f32::NEG_INFINITY
                } else {
                    ((i * 2_654_435_761) % 2003) as f32 / 97.0 - 10.0
                };
                H::from_f32(x)
            })
            .collect();
        let v: Vec<H> = (0..n)
            .map(|i| H::from_f32(((i * 7919) % 211) as f32 / 17.0 - 6.0))
            .collect();
        let (wl, wv) = (widen(&l), widen(&v));
        let mut d = vec![0i64; shape.rows()];
        sample(&l, &mut d, shape, SEED, 0).unwrap();
        let mut d32 = vec![0i64; shape.rows()];
        sample(&wl, &mut d32, shape, SEED, 0).unwrap();
        assert_eq!(d, d32);
        let draws = 3;
        let mut z32 = vec![0.0f32; draws * n];
        let mut z = vec![H::from_bits(0x1234); draws * n];
        gumbel_conditional(&wl, &d, &mut z32, shape, draws, SEED, 9).unwrap();
        gumbel_conditional(&l, &d, &mut z, shape, draws, SEED, 9).unwrap();
        assert_eq!(raw(&z), rounded(&z32), "conditional {shape:?}");
        let mut g32 = vec![0.0f32; n];
        let mut g = vec![H::from_bits(0x1234); n];
        gumbel_rao_backward(&wl, &d, &wv, &mut g32, shape, 0.7, draws, SEED, 9).unwrap();
        gumbel_rao_backward(&l, &d, &v, &mut g, shape, 0.7, draws, SEED, 9).unwrap();
        assert_eq!(raw(&g), rounded(&g32), "Gumbel-Rao {shape:?}");
        reinmax_backward(&wl, &d, &wv, &mut g32, shape, 1.3).unwrap();
        reinmax_backward(&l, &d, &v, &mut g, shape, 1.3).unwrap();
        assert_eq!(raw(&g), rounded(&g32), "ReinMax {shape:?}");
        gapped_straight_through_backward(&wl, &d, &wv, &mut g32, shape, 0.8, 1.0).unwrap();
        gapped_straight_through_backward(&l, &d, &v, &mut g, shape, 0.8, 1.0).unwrap();
        assert_eq!(raw(&g), rounded(&g32), "gapped {shape:?}");
        decoupled_straight_through_backward(&wl, &wv, &mut g32, shape, 1.7, SEED, 0).unwrap();
        decoupled_straight_through_backward(&l, &v, &mut g, shape, 1.7, SEED, 0).unwrap();
        assert_eq!(raw(&g), rounded(&g32), "decoupled {shape:?}");
        assert!(
            g32.iter().any(|&x| x != 0.0),
            "a gradient that is all 0 tests nothing"
        );
    }
}

#[test]
fn bf16_estimators_are_the_f32_estimators_rounded_once() {
    half_estimators_are_the_f32_estimators_rounded_once::<Bf16>();
}

#[test]
fn f16_estimators_are_the_f32_estimators_rounded_once() {
    half_estimators_are_the_f32_estimators_rounded_once::<F16>();
}

/// The 16-bit C entries give the bits of the `f32` entries on the widened
/// inputs, rounded once.
fn c_entries_round_the_f32_entries_for<H: CElement + Half>() {
    let dims = [3, 9, 2];
    let n = 54;
    let wl: Vec<f32> = (0..n)
        .map(|i| H::from_f32(((i * 37) % 29) as f32 * 0.3 - 4.0).to_f32())
        .collect();
    let wv: Vec<f32> = (0..n)
        .map(|i| H::from_f32(((i * 13) % 23) as f32 * 0.25 - 3.0).to_f32())
        .collect();
    let (l, v): (Vec<H>, Vec<H>) = (
        wl.iter().map(|&x| H::from_f32(x)).collect(),
        wv.iter().map(|&x| H::from_f32(x)).collect(),
    );
    let d = [0i64, 4, 8, 2, 5, 1];
    for entry in 0..5 {
        let (mut out32, mut out) = (vec![0.0f32; 2 * n], vec![H::from_bits(0); 2 * n]);
        let s32 = unsafe {
            f32::call(
                entry,
                (wl.as_ptr(), d.as_ptr(), wv.as_ptr()),
                out32.as_mut_ptr(),
                dims,
                0.9,
                2,
                0.5,
            )
        };
        let s16 = unsafe {
            H::call(
                entry,
                (l.as_ptr(), d.as_ptr(), v.as_ptr()),
                out.as_mut_ptr(),
                dims,
                0.9,
                2,
                0.5,
            )
        };
        assert_eq!((s16, s32), (GUMBEL_STATUS_OK, GUMBEL_STATUS_OK));
        let len = if entry == 0 { 2 * n } else { n };
        let want: Vec<u16> = out32[..len]
            .iter()
            .map(|&x| H::from_f32(x).to_bits())
            .collect();
        let got: Vec<u16> = out[..len].iter().map(|x| x.to_bits()).collect();
        assert_eq!(got, want, "{}", ENTRIES[entry]);
    }
}

#[test]
fn half_c_entries_round_the_f32_entries() {
    c_entries_round_the_f32_entries_for::<Bf16>();
    c_entries_round_the_f32_entries_for::<F16>();
}
