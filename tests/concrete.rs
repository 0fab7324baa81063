//! The Concrete and ExpConcrete log-densities against closed forms derived
//! by hand, their invariances and normalisation, and the log-space sampler
//! `gumbel_log_softmax` against the soft sample and the Gumbel-max index.

use crate::common;

use common::tile;
use gumbel::{
    concrete_log_prob, exp_concrete_log_prob, gumbel_log_softmax, gumbel_softmax, sample, Shape,
};

const NEG_INF: f64 = f64::NEG_INFINITY;

fn concrete64(y: &[f64], logits: &[f64], shape: Shape, tau: f64) -> Vec<f64> {
    let mut out = vec![f64::NAN; shape.rows()];
    concrete_log_prob(y, logits, &mut out, shape, tau).unwrap();
    out
}

fn exp_concrete64(x: &[f64], logits: &[f64], shape: Shape, tau: f64) -> Vec<f64> {
    let mut out = vec![f64::NAN; shape.rows()];
    exp_concrete_log_prob(x, logits, &mut out, shape, tau).unwrap();
    out
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(1.0)
}

// Closed forms. The Concrete density with alpha_k = e^{l_k} is
//   p(y) = (K-1)! tau^(K-1) prod_k alpha_k y_k^(-tau-1) / (sum_k alpha_k y_k^(-tau))^K.
//
// K = 2, tau = 1: p = alpha_1 alpha_2 y_1^-2 y_2^-2 / (alpha_1/y_1 + alpha_2/y_2)^2
//   = alpha_1 alpha_2 / (alpha_1 y_2 + alpha_2 y_1)^2.
//   alpha = (2, 1), y = (1/3, 2/3): 2 / (4/3 + 1/3)^2 = 18/25.
// K = 2, tau = 1/2, alpha = (1, 1), y = (1/4, 3/4): y^-1/2 = (2, 2/sqrt3),
//   y^-3/2 = (8, 8/(3 sqrt3)); p = (1/2) 8 (8/(3 sqrt3)) / (2 + 2/sqrt3)^2
//   = 8 / (sqrt3 (1 + sqrt3)^2) = 4 / (3 + 2 sqrt3).
// K = 3, tau = 1, alpha = (1, 2, 3), y = (1/2, 1/4, 1/4):
//   prod alpha_k y_k^-2 = 4 * 32 * 48 = 6144, sum alpha_k / y_k = 2 + 8 + 12 = 22,
//   p = 2 * 6144 / 22^3 = 1536/1331.
// K = 3, tau = 2, alpha = (1, 1, 1), y = (1/2, 1/4, 1/4):
//   prod y_k^-3 = 8 * 64 * 64 = 2^15, sum y_k^-2 = 4 + 16 + 16 = 36,
//   p = 2 * 4 * 2^15 / 36^3 = 2^18 / 6^6 = 4096/729 (ln = 12 ln2 - 6 ln3).
//   ExpConcrete at x = ln y adds sum_k x_k = -ln2 - 2 ln4 = -5 ln2: 7 ln2 - 6 ln3.

#[test]
fn two_class_densities_match_closed_forms() {
    let ln2 = 2f64.ln();
    let cases: [([f64; 2], [f64; 2], f64, f64); 3] = [
        (
            [ln2, 0.0],
            [1.0 / 3.0, 2.0 / 3.0],
            1.0,
            (18.0f64 / 25.0).ln(),
        ),
        (
            [0.0, 0.0],
            [0.25, 0.75],
            0.5,
            (4.0 / (3.0 + 2.0 * 3f64.sqrt())).ln(),
        ),
        // tau = 1, equal logits: p = 1 / (y_2 + y_1)^2 = 1, uniform.
        ([0.3, 0.3], [0.9, 0.1], 1.0, 0.0),
    ];
    for (l, y, tau, want) in cases {
        let shape = Shape::matrix(1, 2).unwrap();
        let got = concrete64(&y, &l, shape, tau)[0];
        assert!(
            close(got, want, 1e-14),
            "{l:?} {y:?} {tau}: {got} vs {want}"
        );
        let x = y.map(f64::ln);
        let got_exp = exp_concrete64(&x, &l, shape, tau)[0];
        let want_exp = want + x[0] + x[1];
        assert!(close(got_exp, want_exp, 1e-14), "{got_exp} vs {want_exp}");
        // f32 inputs: the same values within f32 rounding of y.
        let mut out = [0.0f32];
        let (y32, l32) = (y.map(|v| v as f32), l.map(|v| v as f32));
        concrete_log_prob(&y32, &l32, &mut out, shape, tau as f32).unwrap();
        assert!(
            close(out[0] as f64, want, 1e-5),
            "f32: {} vs {want}",
            out[0]
        );
    }
}

#[test]
fn three_class_densities_match_closed_forms() {
    let (ln2, ln3) = (2f64.ln(), 3f64.ln());
    let y = [0.5, 0.25, 0.25];
    let shape = Shape::matrix(1, 3).unwrap();
    let got = concrete64(&y, &[0.0, ln2, ln3], shape, 1.0)[0];
    let want = (1536.0f64 / 1331.0).ln();
    assert!(close(got, want, 1e-14), "{got} vs {want}");
    let got = concrete64(&y, &[0.0; 3], shape, 2.0)[0];
    assert!(close(got, 12.0 * ln2 - 6.0 * ln3, 1e-14), "{got}");
    let x = y.map(f64::ln);
    let got = exp_concrete64(&x, &[0.0; 3], shape, 2.0)[0];
    assert!(close(got, 7.0 * ln2 - 6.0 * ln3, 1e-14), "{got}");
}

#[test]
fn masked_classes_drop_out_and_rows_follow_the_layout() {
    // Shape (1, 4, 2): two rows interleaved along the inner axis. Row 0 is
    // the K = 3 closed form above with a masked class inserted at class 1;
    // row 1 is the K = 2, tau = 1 form with two masked classes.
    let (ln2, ln3) = (2f64.ln(), 3f64.ln());
    let row0_l = [0.0, NEG_INF, ln2, ln3];
    let row0_y = [0.5, 0.0, 0.25, 0.25];
    let row1_l = [NEG_INF, ln2, NEG_INF, 0.0];
    let row1_y = [0.0, 1.0 / 3.0, 0.0, 2.0 / 3.0];
    let interleave = |a: &[f64], b: &[f64]| -> Vec<f64> {
        a.iter().zip(b).flat_map(|(a, b)| [*a, *b]).collect()
    };
    let shape = Shape::new(1, 4, 2).unwrap();
    let l = interleave(&row0_l, &row1_l);
    let y = interleave(&row0_y, &row1_y);
    let got = concrete64(&y, &l, shape, 1.0);
    assert!(close(got[0], (1536.0f64 / 1331.0).ln(), 1e-14), "{got:?}");
    assert!(close(got[1], (18.0f64 / 25.0).ln(), 1e-14), "{got:?}");
    let x: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let got_exp = exp_concrete64(&x, &l, shape, 1.0);
    let sum_x = [0.5f64.ln() + 2.0 * 0.25f64.ln(), (2.0f64 / 9.0).ln()];
    for r in 0..2 {
        assert!(close(got_exp[r], got[r] + sum_x[r], 1e-14), "{got_exp:?}");
    }
    // A single unmasked class is a point mass: log-density 0.
    let one = Shape::matrix(1, 3).unwrap();
    let l = [NEG_INF, 2.0, NEG_INF];
    assert_eq!(concrete64(&[0.0, 1.0, 0.0], &l, one, 0.3)[0], 0.0);
    assert_eq!(
        exp_concrete64(&[NEG_INF, 0.0, NEG_INF], &l, one, 0.3)[0],
        0.0
    );
}

#[test]
fn points_within_the_tolerance_are_evaluated_at_their_normalisation() {
    // The formula moves by -K ln c when y is scaled by c; the function
    // evaluates y / sum(y), so a scaled point within the tolerance
    // ((512 + 3) * 2^-23 = 6.1e-5 for three f32 classes) gives the value of
    // the exact point: here 12 ln2 - 6 ln3 (see the closed forms above), not
    // that value minus 3 * 5e-5.
    let shape = Shape::matrix(1, 3).unwrap();
    let want = 12.0 * 2f64.ln() - 6.0 * 3f64.ln();
    for c in [1.0 + 5e-5, 1.0 - 5e-5] {
        let y = [0.5 * c as f32, 0.25 * c as f32, 0.25 * c as f32];
        let mut out = [0.0f32];
        concrete_log_prob(&y, &[0.0; 3], &mut out, shape, 2.0).unwrap();
        assert!(
            (out[0] as f64 - want).abs() < 1e-6,
            "{c}: {} vs {want}",
            out[0]
        );
    }
}

/// Soft (f64) and log-space (f64) samples of `rows` copies of `row`.
fn samples(row: &[f64], rows: usize, tau: f64, seed: u64) -> (Vec<f64>, Vec<f64>, Shape) {
    let shape = Shape::matrix(rows, row.len()).unwrap();
    let logits = tile(row, rows);
    let mut y = vec![0.0; logits.len()];
    let mut x = vec![0.0; logits.len()];
    gumbel_softmax(&logits, &mut y, shape, tau, false, seed, 0).unwrap();
    gumbel_log_softmax(&logits, &mut x, shape, tau, seed, 0).unwrap();
    (y, x, shape)
}

#[test]
fn densities_do_not_change_when_a_constant_is_added_to_the_logits() {
    // Dyadic logits and shifts, so that every shifted logit is exact.
    let row = [0.375, -1.25, NEG_INF, 2.0, 0.0, 0.75];
    let (y, x, shape) = samples(&row, 50, 0.6, 3);
    let logits = tile(&row, 50);
    let base = concrete64(&y, &logits, shape, 0.6);
    let base_exp = exp_concrete64(&x, &logits, shape, 0.6);
    for c in [7.5, -1000.0, 1e6] {
        let shifted: Vec<f64> = logits.iter().map(|l| l + c).collect();
        let got = concrete64(&y, &shifted, shape, 0.6);
        let got_exp = exp_concrete64(&x, &shifted, shape, 0.6);
        for r in 0..50 {
            assert!(
                close(got[r], base[r], 1e-12),
                "c {c}: {} vs {}",
                got[r],
                base[r]
            );
            assert!(close(got_exp[r], base_exp[r], 1e-12), "c {c}");
        }
    }
}

#[test]
fn exp_concrete_is_concrete_plus_the_sum_of_log_coordinates() {
    // ln q(x) = ln p(e^x) + sum_k x_k over the unmasked classes.
    let row = [0.4, -1.2, NEG_INF, 2.0, 0.0, 0.7];
    let (_, x, shape) = samples(&row, 200, 0.8, 5);
    let logits = tile(&row, 200);
    let y: Vec<f64> = x.iter().map(|v| v.exp()).collect();
    let p = concrete64(&y, &logits, shape, 0.8);
    let q = exp_concrete64(&x, &logits, shape, 0.8);
    for (r, x) in x.chunks(6).enumerate() {
        let sum_x: f64 = x.iter().filter(|v| v.is_finite()).sum();
        assert!(
            close(q[r], p[r] + sum_x, 1e-12),
            "row {r}: {} vs {}",
            q[r],
            p[r] + sum_x
        );
    }
    // Adding a constant to x changes nothing (within the tolerance).
    let shifted: Vec<f64> = x.iter().map(|v| v + 1e-14).collect();
    let q2 = exp_concrete64(&shifted, &logits, shape, 0.8);
    assert!(q.iter().zip(&q2).all(|(a, b)| close(*a, *b, 1e-12)));
}

/// Composite Simpson weights for `n` (even) intervals of width `h`.
fn simpson(n: usize, h: f64) -> impl Iterator<Item = f64> {
    (0..=n).map(move |i| {
        let w = if i == 0 || i == n {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        w * h / 3.0
    })
}

fn sigmoid(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

#[test]
fn two_class_densities_integrate_to_one() {
    // Substitute y_1 = sigmoid(u), so dy_1 = y_1 y_2 du; on u the law is
    // a logistic of scale 1/tau around (l_1 - l_2)/tau, so [-r, r] with
    // r = (40 + |l_1 - l_2|)/tau leaves out less than 1e-16. The ExpConcrete
    // measure exp(-x_2) dx_1 is du itself (dx_1 = y_2 du), while Lebesgue
    // measure dx_1 = y_2 du is not a base measure under which q integrates
    // to 1.
    for (l, tau) in [([0.3f64, -0.4], 0.5), ([2.0, 0.0], 1.0), ([-1.0, 1.0], 3.0)] {
        let r = (40.0 + (l[0] - l[1]).abs()) / tau;
        let n = 20_000;
        let h = 2.0 * r / n as f64;
        let u: Vec<f64> = (0..=n).map(|i| -r + h * i as f64).collect();
        let y: Vec<f64> = u.iter().flat_map(|&u| [sigmoid(u), sigmoid(-u)]).collect();
        let x: Vec<f64> = y.iter().map(|v| v.ln()).collect();
        let shape = Shape::matrix(n + 1, 2).unwrap();
        let logits = tile(&l, n + 1);
        let p = concrete64(&y, &logits, shape, tau);
        let q = exp_concrete64(&x, &logits, shape, tau);
        let (mut total_p, mut total_q, mut lebesgue_q) = (0.0, 0.0, 0.0);
        for (i, w) in simpson(n, h).enumerate() {
            total_p += w * p[i].exp() * y[2 * i] * y[2 * i + 1];
            total_q += w * q[i].exp();
            lebesgue_q += w * q[i].exp() * y[2 * i + 1];
        }
        assert!((total_p - 1.0).abs() < 1e-6, "{l:?} {tau}: {total_p}");
        assert!((total_q - 1.0).abs() < 1e-6, "{l:?} {tau}: {total_q}");
        assert!((lebesgue_q - 1.0).abs() > 1e-2, "{l:?} {tau}: {lebesgue_q}");
    }
}

#[test]
fn three_class_densities_integrate_to_one() {
    // Chart y = softmax(u_1, u_2, 0): the Jacobian of (y_1, y_2) in
    // (u_1, u_2) is det(diag(y) - y y^T) = y_1 y_2 y_3, and the ExpConcrete
    // measure exp(-x_3) dx_1 dx_2 is du_1 du_2 (dx = (I - 1 y^T) du, of
    // determinant y_3). A coarse trapezoid grid, exact to about 1e-6 for
    // these smooth, exponentially decaying integrands. The second case masks
    // a class.
    let cases: [(&[f64], f64); 2] = [(&[0.5, -1.0, 0.3], 0.8), (&[0.5, NEG_INF, -1.0, 0.3], 1.3)];
    for (l, tau) in cases {
        let unmasked: Vec<usize> = (0..l.len()).filter(|&k| l[k] > NEG_INF).collect();
        let r = (40.0 + 1.5) / tau;
        let h = 0.1;
        let m = (2.0 * r / h) as usize + 1;
        let rows = m * m;
        let mut y = vec![0.0; rows * l.len()];
        for i in 0..m {
            for j in 0..m {
                let u = [-r + h * i as f64, -r + h * j as f64, 0.0];
                let big = u.iter().cloned().fold(NEG_INF, f64::max);
                let e: Vec<f64> = u.iter().map(|v| (v - big).exp()).collect();
                let s: f64 = e.iter().sum();
                let row = &mut y[(i * m + j) * l.len()..][..l.len()];
                for (c, &k) in unmasked.iter().enumerate() {
                    row[k] = e[c] / s;
                }
            }
        }
        let x: Vec<f64> = y.iter().map(|v| v.ln()).collect();
        let shape = Shape::matrix(rows, l.len()).unwrap();
        let logits = tile(l, rows);
        let p = concrete64(&y, &logits, shape, tau);
        let q = exp_concrete64(&x, &logits, shape, tau);
        let (mut total_p, mut total_q) = (0.0, 0.0);
        for (row, (p, q)) in y.chunks(l.len()).zip(p.iter().zip(&q)) {
            let jacobian: f64 = unmasked.iter().map(|&k| row[k]).product();
            total_p += p.exp() * jacobian * h * h;
            total_q += q.exp() * h * h;
        }
        assert!((total_p - 1.0).abs() < 1e-5, "{l:?} {tau}: {total_p}");
        assert!((total_q - 1.0).abs() < 1e-5, "{l:?} {tau}: {total_q}");
    }
}

/// Logits of `rows` rows of `classes` classes, deterministic, spread over
/// about [-2, 2].
fn spread_logits(rows: usize, classes: usize) -> Vec<f64> {
    (0..rows * classes)
        .map(|i| 2.0 * ((i as f64) * 0.7).sin())
        .collect()
}

#[test]
fn densities_are_finite_at_small_tau_with_many_classes() {
    // tau = 0.1, K = 1000: the soft sample spans ~100 nats, so the plain
    // product prod y_k underflows to 0 (and prod y_k^-(tau+1) overflows),
    // and in f32 the soft sample has exact zeros. The log-space densities
    // stay finite: Concrete at f64 soft samples, ExpConcrete at f32 and f64
    // log-space samples; at the same draws ln p(y) + sum x = ln q(x).
    let (rows, classes, tau) = (20, 1000, 0.1);
    let shape = Shape::matrix(rows, classes).unwrap();
    let logits = spread_logits(rows, classes);
    let mut y = vec![0.0f64; logits.len()];
    let mut x = vec![0.0f64; logits.len()];
    gumbel_softmax(&logits, &mut y, shape, tau, false, 17, 0).unwrap();
    gumbel_log_softmax(&logits, &mut x, shape, tau, 17, 0).unwrap();
    assert!(y.iter().all(|&v| v > 0.0));
    assert_eq!(y[..classes].iter().product::<f64>(), 0.0);
    let p = concrete64(&y, &logits, shape, tau);
    let q = exp_concrete64(&x, &logits, shape, tau);
    for (r, x) in x.chunks(classes).enumerate() {
        assert!(
            p[r].is_finite() && q[r].is_finite(),
            "row {r}: {} {}",
            p[r],
            q[r]
        );
        let sum_x: f64 = x.iter().sum();
        assert!(
            close(q[r], p[r] + sum_x, 1e-9),
            "row {r}: {} vs {}",
            q[r],
            p[r] + sum_x
        );
    }

    let logits32: Vec<f32> = logits.iter().map(|&v| v as f32).collect();
    let mut y32 = vec![0.0f32; logits.len()];
    let mut x32 = vec![0.0f32; logits.len()];
    gumbel_softmax(&logits32, &mut y32, shape, tau as f32, false, 17, 0).unwrap();
    gumbel_log_softmax(&logits32, &mut x32, shape, tau as f32, 17, 0).unwrap();
    assert!(
        y32.contains(&0.0),
        "f32 soft samples were expected to underflow"
    );
    assert!(x32.iter().all(|v| v.is_finite()));
    let mut q32 = vec![f32::NAN; rows];
    exp_concrete_log_prob(&x32, &logits32, &mut q32, shape, tau as f32).unwrap();
    assert!(q32.iter().all(|v| v.is_finite()), "{q32:?}");
    // The same draws in both precisions: close densities.
    for r in 0..rows {
        assert!(
            close(q32[r] as f64, q[r], 1e-3),
            "row {r}: {} vs {}",
            q32[r],
            q[r]
        );
    }
}

#[test]
fn log_softmax_samples_are_the_log_of_the_soft_samples() {
    let row = [0.4, -1.2, NEG_INF, 2.0, 0.0, 0.7, -3.0];
    let rows = 20_000;
    for tau in [0.3, 1.0, 4.0] {
        let (y, x, shape) = samples(&row, rows, tau, 23);
        let logits = tile(&row, rows);
        let mut idx = vec![-1i64; rows];
        sample(&logits, &mut idx, shape, 23, 0).unwrap();
        check_coupling(&y, &x, &idx, row.len(), f64::EPSILON);

        let logits32: Vec<f32> = logits.iter().map(|&v| v as f32).collect();
        let mut y32 = vec![0.0f32; logits.len()];
        let mut x32 = vec![0.0f32; logits.len()];
        gumbel_softmax(&logits32, &mut y32, shape, tau as f32, false, 23, 0).unwrap();
        gumbel_log_softmax(&logits32, &mut x32, shape, tau as f32, 23, 0).unwrap();
        sample(&logits32, &mut idx, shape, 23, 0).unwrap();
        let (y32, x32): (Vec<f64>, Vec<f64>) = (
            y32.iter().map(|&v| v as f64).collect(),
            x32.iter().map(|&v| v as f64).collect(),
        );
        check_coupling(&y32, &x32, &idx, row.len(), f32::EPSILON as f64);
    }
}

/// `exp(x)` equals `y` within a few ulp, scaled by `1 + |x|` (the rounding
/// of `x` itself moves `exp(x)` by `|x| eps / 2`); `-inf` exactly where `y`
/// is masked; the argmax of `x` is `idx` unless `x` ties there.
fn check_coupling(y: &[f64], x: &[f64], idx: &[i64], classes: usize, eps: f64) {
    for (r, ((y, x), &i)) in y
        .chunks(classes)
        .zip(x.chunks(classes))
        .zip(idx)
        .enumerate()
    {
        for k in 0..classes {
            if x[k] == NEG_INF {
                assert_eq!(y[k], 0.0);
                continue;
            }
            assert!(x[k] <= 0.0);
            let tol = 8.0 * eps * (1.0 + x[k].abs()) * y[k] + 1e-44;
            assert!(
                (x[k].exp() - y[k]).abs() <= tol,
                "row {r} class {k}: {} vs {}",
                x[k].exp(),
                y[k]
            );
        }
        let best = (0..classes).fold(0, |b, k| if x[k] > x[b] { k } else { b });
        assert!(
            best == i as usize || x[best] == x[i as usize],
            "row {r}: {best} vs {i}"
        );
    }
}

#[test]
fn log_softmax_samples_do_not_depend_on_the_layout() {
    // A (4, 5, 3) tensor holds the rows of the (12, 5) matrix, row o * 3 + i
    // at (o, :, i).
    let (outer, classes, inner) = (4, 5, 3);
    let matrix = spread_logits(outer * inner, classes);
    let mut strided = vec![0.0; matrix.len()];
    for o in 0..outer {
        for i in 0..inner {
            for k in 0..classes {
                strided[(o * classes + k) * inner + i] = matrix[(o * inner + i) * classes + k];
            }
        }
    }
    let mut a = vec![0.0; matrix.len()];
    let mut b = vec![0.0; matrix.len()];
    gumbel_log_softmax(&matrix, &mut a, Shape::matrix(12, 5).unwrap(), 0.5, 9, 4).unwrap();
    gumbel_log_softmax(&strided, &mut b, Shape::new(4, 5, 3).unwrap(), 0.5, 9, 4).unwrap();
    for o in 0..outer {
        for i in 0..inner {
            for k in 0..classes {
                assert_eq!(
                    b[(o * classes + k) * inner + i].to_bits(),
                    a[(o * inner + i) * classes + k].to_bits()
                );
            }
        }
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let shape = Shape::new(3, 700, 40).unwrap();
    let logits = spread_logits(shape.rows(), 700);
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let mut x = vec![0.0f64; shape.len()];
                let mut y = vec![0.0f64; shape.len()];
                gumbel_log_softmax(&logits, &mut x, shape, 0.6, 5, 9).unwrap();
                gumbel_softmax(&logits, &mut y, shape, 0.6, false, 5, 9).unwrap();
                let p = concrete64(&y, &logits, shape, 0.6);
                let q = exp_concrete64(&x, &logits, shape, 0.6);
                [x, p, q].map(|v| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>())
            })
    };
    let one = run(1);
    assert_eq!(one, run(3));
}
