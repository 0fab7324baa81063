//! The Gumbel distribution functions against closed forms evaluated here
//! independently (naive f64 formulas in the middle, hand-derived asymptotics
//! in the tails), round trips, finite differences, sample moments of the
//! library's noise, and numerical integration for the entropy and the KL
//! divergence.

use crate::common;

use common::{mean_var, ALPHA};
use gumbel::dist::{self, Function};
use gumbel::{noise, ErrorKind};
use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::gamma::gamma;

const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
const EPS64: f64 = f64::EPSILON;
const EPS32: f64 = f32::EPSILON as f64;

const ALL: [Function; 7] = [
    Function::LogPdf,
    Function::Cdf,
    Function::LogCdf,
    Function::Sf,
    Function::LogSf,
    Function::Icdf,
    Function::Isf,
];

/// Naive f64 formulas, fine where they do not cancel or underflow.
fn naive(function: Function, x: f64, loc: f64, scale: f64) -> f64 {
    let z = (x - loc) / scale;
    let w = (-z).exp();
    match function {
        Function::LogPdf => -scale.ln() - z - w,
        Function::Cdf => (-w).exp(),
        Function::LogCdf => -w,
        Function::Sf => 1.0 - (-w).exp(),
        Function::LogSf => (1.0 - (-w).exp()).ln(),
        Function::Icdf => loc - scale * (-x.ln()).ln(),
        Function::Isf => loc - scale * (-(1.0 - x).ln()).ln(),
        _ => unimplemented!("no reference for {function:?}"),
    }
}

fn eval64(function: Function, x: f64, loc: f64, scale: f64) -> f64 {
    function.at(x, loc, scale).unwrap()
}

fn eval32(function: Function, x: f32, loc: f32, scale: f32) -> f32 {
    function.at(x, loc, scale).unwrap()
}

/// The spacing of f32 values at `v` (its ulp), as f64.
fn ulp32(v: f64) -> f64 {
    let v = (v as f32).abs();
    if v == 0.0 {
        return f32::from_bits(1) as f64;
    }
    (f32::from_bits(v.to_bits() + 1) - v) as f64
}

const PARAMETERS: [(f64, f64); 4] = [(0.0, 1.0), (1.5, 0.25), (-3.0, 4.0), (100.0, 1e-3)];

#[test]
fn mid_range_values_match_the_naive_formulas() {
    for (loc, scale) in PARAMETERS {
        for i in 0..=220 {
            let z = -3.0 + 0.05 * i as f64; // z in [-3, 8]
            let x = loc + scale * z;
            let w = (-z).exp();
            let sf = 1.0 - (-w).exp();
            // Absolute tolerances from the rounding errors of the naive
            // forms: exp(-z) carries a relative error of about |z| eps, and
            // 1 - cdf an absolute error of eps.
            let tolerances = [
                (
                    Function::LogPdf,
                    8.0 * EPS64 * (1.0 + z.abs() + w + scale.ln().abs()),
                ),
                (Function::Cdf, 8.0 * EPS64 * (1.0 + w * (1.0 + z.abs()))),
                (Function::LogCdf, 4.0 * EPS64 * w * (1.0 + z.abs())),
                (Function::Sf, 8.0 * EPS64 * (1.0 + w * (1.0 + z.abs()))),
                (
                    Function::LogSf,
                    8.0 * EPS64 * (1.0 + w * (1.0 + z.abs())) / sf,
                ),
            ];
            for (function, tol) in tolerances {
                let want = naive(function, x, loc, scale);
                let got = eval64(function, x, loc, scale);
                assert!(
                    (got - want).abs() <= tol,
                    "{function:?} at x = {x} (loc {loc}, scale {scale}): {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn float_results_are_the_double_values_rounded_once() {
    // In f32 the result is the f64 value of the same (f32) inputs rounded
    // once: within one f32 ulp of the naive f64 value in the middle range.
    for (loc, scale) in PARAMETERS {
        let (loc32, scale32) = (loc as f32, scale as f32);
        for i in 0..=220 {
            let x32 = (loc + scale * (-3.0 + 0.05 * i as f64)) as f32;
            let (x, l, s) = (x32 as f64, loc32 as f64, scale32 as f64);
            for function in [Function::LogPdf, Function::Cdf, Function::LogCdf] {
                let want = naive(function, x, l, s);
                let got = eval32(function, x32, loc32, scale32) as f64;
                assert!(
                    (got - want).abs() <= ulp32(want) + 1e-13 * (1.0 + want.abs()),
                    "{function:?} f32 at {x}: {got} vs {want}"
                );
            }
            let p = (i as f64 + 0.5) / 221.5;
            let p32 = p as f32;
            for function in [Function::Icdf, Function::Isf] {
                let want = naive(function, p32 as f64, l, s);
                let got = eval32(function, p32, loc32, scale32) as f64;
                assert!(
                    (got - want).abs() <= ulp32(want) + 1e-12 * (l.abs() + s * 10.0),
                    "{function:?} f32 at p = {p32}: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn tails_follow_the_hand_derived_asymptotics() {
    // sf(40) = -expm1(-w), w = e^-40: w - w^2/2 + ..., and w^2/2 ~ 9e-36 is
    // far below the last digit, so sf(40) = e^-40 = 4.248354255291589e-18.
    let sf40 = 4.248_354_255_291_589e-18;
    assert!(((-40f64).exp() - (-80f64).exp() / 2.0 - sf40).abs() < 1e-33);
    let got = dist::sf(40.0f64, 0.0, 1.0).unwrap();
    assert!((got - sf40).abs() <= 2.0 * EPS64 * sf40, "{got}");
    let got32 = dist::sf(40.0f32, 0.0, 1.0).unwrap();
    assert!(
        got32 > 0.0 && (got32 as f64 - sf40).abs() <= 2.0 * ulp32(sf40),
        "{got32}"
    );
    // Naive 1 - cdf is 0 there: the reason for expm1.
    assert_eq!(naive(Function::Sf, 40.0, 0.0, 1.0), 0.0);

    // log_pdf(-5) = 5 - e^5 (z = -5): the density 5e-63 underflows f32.
    let lp = 5.0 - 5f64.exp();
    assert!((lp - -143.413_159_102_576_6).abs() < 1e-12);
    let got = dist::log_pdf(-5.0f64, 0.0, 1.0).unwrap();
    assert!((got - lp).abs() <= 4.0 * EPS64 * lp.abs(), "{got}");
    let got32 = dist::log_pdf(-5.0f32, 0.0, 1.0).unwrap();
    assert!(
        got32.is_finite() && (got32 as f64 - lp).abs() <= 2.0 * ulp32(lp),
        "{got32}"
    );
    assert_eq!((5.0f32 - 5f32.exp()).exp().ln(), f32::NEG_INFINITY); // naive ln(pdf)

    // log_sf for z > 20: ln(w - w^2/2 + ...) = -z - w/2 + w^2/24 - ...
    for z in [25.0f64, 30.0, 60.0, 300.0, 700.0, 800.0, 1e5, 1e300] {
        let want = -z - 0.5 * (-z).exp();
        let got = dist::log_sf(z, 0.0, 1.0).unwrap();
        assert!(
            (got - want).abs() <= EPS64 * z,
            "log_sf({z}) = {got}, want {want}"
        );
        if z < 3e38 {
            let got32 = dist::log_sf(z as f32, 0.0, 1.0).unwrap() as f64;
            assert!(
                (got32 - want).abs() <= ulp32(want),
                "f32 log_sf({z}) = {got32}"
            );
        }
    }
    // log_sf for z -> -inf: ln(1 - c), c = cdf = exp(-e^-z) tiny:
    // -c - c^2/2 - c^3/3 - ..., truncated where c^4/4 is below the last
    // digit. At z = -3, c = 1.9e-9, where ln(1 - c) in f64 keeps only 8
    // digits.
    for z in [-2.5f64, -3.0, -5.0, -10.0] {
        let c = (-(-z).exp()).exp();
        let want = -c - c * c / 2.0 - c * c * c / 3.0;
        let got = dist::log_sf(z, 0.0, 1.0).unwrap();
        assert!(
            (got - want).abs() <= 4.0 * EPS64 * want.abs() * (1.0 - z),
            "log_sf({z}) = {got}, want {want}"
        );
    }
    // log_cdf is exactly -e^-z, also where cdf underflows.
    for z in [-5.0f64, -50.0, -700.0, 50.0, 700.0] {
        let want = -(-z).exp();
        assert_eq!(dist::log_cdf(z, 0.0, 1.0).unwrap(), want);
    }
    assert_eq!(
        dist::log_cdf(-50.0f32, 0.0, 1.0).unwrap(),
        -(50f64.exp()) as f32
    );

    // isf(q) for tiny q: -ln(-ln1p(-q)) = -ln(q + q^2/2 + ...) = -ln q.
    for q in [1e-30f64, 1e-100, 1e-300, 5e-324] {
        let want = -q.ln();
        let got = dist::isf(q, 0.0, 1.0).unwrap();
        assert!((got - want).abs() <= 2.0 * EPS64 * want, "isf({q}) = {got}");
        let q32 = q as f32;
        if q32 > 0.0 {
            let want32 = -(q32 as f64).ln();
            let got32 = dist::isf(q32, 0.0, 1.0).unwrap() as f64;
            assert!(
                (got32 - want32).abs() <= ulp32(want32),
                "f32 isf({q32}) = {got32}"
            );
        }
    }
    // icdf(p) for p = 1 - d near 1: -ln p = d + d^2/2 + ..., so
    // icdf = -ln d - d/2. p = 1 - 2^-24 is the f32 value below 1.
    let d = 2f64.powi(-24);
    let want = -d.ln() - d / 2.0;
    let got32 = dist::icdf(1.0f32 - f32::EPSILON / 2.0, 0.0, 1.0).unwrap() as f64;
    assert!((got32 - want).abs() <= ulp32(want), "{got32} vs {want}");
    let got = dist::icdf(1.0 - d, 0.0, 1.0).unwrap();
    assert!((got - want).abs() <= 2.0 * EPS64 * want, "{got} vs {want}");
    // icdf(p) for tiny p: -ln(-ln p).
    for p in [1e-300f64, 1e-30, 5e-324] {
        let want = -(-p.ln()).ln();
        let got = dist::icdf(p, 0.0, 1.0).unwrap();
        assert!(
            (got - want).abs() <= 2.0 * EPS64 * want.abs(),
            "icdf({p}) = {got}"
        );
    }
}

#[test]
fn infinities_and_probability_ends_give_the_limits() {
    let inf = f64::INFINITY;
    let cases = [
        (Function::LogPdf, -inf, -inf),
        (Function::LogPdf, inf, -inf),
        (Function::Cdf, -inf, 0.0),
        (Function::Cdf, inf, 1.0),
        (Function::LogCdf, -inf, -inf),
        (Function::LogCdf, inf, 0.0),
        (Function::Sf, -inf, 1.0),
        (Function::Sf, inf, 0.0),
        (Function::LogSf, -inf, 0.0),
        (Function::LogSf, inf, -inf),
        (Function::Icdf, 0.0, -inf),
        (Function::Icdf, 1.0, inf),
        (Function::Isf, 0.0, inf),
        (Function::Isf, 1.0, -inf),
    ];
    for (loc, scale) in [(0.0, 1.0), (-7.0, 1e-300), (3.0, 1e300)] {
        for (function, x, want) in cases {
            assert_eq!(eval64(function, x, loc, scale), want, "{function:?}({x})");
            let got = eval32(
                function,
                x as f32,
                loc as f32,
                (scale as f32).clamp(1e-38, 1e38),
            );
            assert_eq!(got as f64, want, "{function:?}({x}) f32");
        }
    }
    // Huge finite arguments: no NaN anywhere, including where exp(-z)
    // overflows or x - loc overflows.
    for x in [-f64::MAX, -1e300, -800.0, 800.0, f64::MAX] {
        for (loc, scale) in [(0.0, 1.0), (f64::MAX, 1.0), (-f64::MAX, 1e-300)] {
            for function in &ALL[..5] {
                let v = eval64(*function, x, loc, scale);
                assert!(!v.is_nan(), "{function:?}({x}; {loc}, {scale}) is NaN");
            }
        }
    }
    // Quantiles whose value exceeds the type round to +-inf, never NaN.
    assert_eq!(dist::isf(1e-300, 0.0, f64::MAX).unwrap(), f64::INFINITY);
    assert_eq!(dist::icdf(1e-30f32, 0.0, 1e38).unwrap(), f32::NEG_INFINITY);
}

/// `8 eps (|x| + scale (1 + |z|) (1 + value / (scale * |d value / dx|)))`:
/// the error a round trip through `value` may have, from the relative error
/// of the value (with the `|z| eps` of `exp(-z)`) magnified by the inverse
/// function's slope.
fn round_trip_tolerance(eps: f64, x: f64, z: f64, scale: f64, value_over_slope: f64) -> f64 {
    8.0 * eps * (x.abs() + scale * (1.0 + z.abs()) * (1.0 + value_over_slope))
}

#[test]
fn quantiles_invert_the_distribution_functions() {
    for (loc, scale) in PARAMETERS {
        // icdf(cdf(x)) in the lower half and beyond (cdf normal: w < 708);
        // cdf / (dcdf/dz) = e^z.
        for i in 0..=950 {
            let z = -6.5 + 0.01 * i as f64; // [-6.5, 3]
            let x = loc + scale * z;
            let back = eval64(
                Function::Icdf,
                eval64(Function::Cdf, x, loc, scale),
                loc,
                scale,
            );
            let tol = round_trip_tolerance(EPS64, x, z, scale, z.exp());
            assert!(
                (back - x).abs() <= tol,
                "icdf(cdf({x})) = {back}, tol {tol}"
            );
        }
        // isf(sf(x)) in the upper half and far beyond (sf normal: z < 708);
        // sf / (dsf/dz) = sf e^(z + e^-z).
        for i in 0..=7100 {
            let z = -2.0 + 0.1 * i as f64; // [-2, 708]
            let x = loc + scale * z;
            let q = eval64(Function::Sf, x, loc, scale);
            let back = eval64(Function::Isf, q, loc, scale);
            let ratio = q * (z + (-z).exp()).exp();
            let tol = round_trip_tolerance(EPS64, x, z, scale, ratio);
            assert!((back - x).abs() <= tol, "isf(sf({x})) = {back}, tol {tol}");
        }
        // f32: cdf normal for z > -4.4; sf normal for z < 87.
        let (l, s) = (loc as f32, scale as f32);
        for i in 0..=940 {
            let z = -4.4 + 0.01 * i as f64; // [-4.4, 5]
            let x = (loc + scale * z) as f32;
            let back = eval32(Function::Icdf, eval32(Function::Cdf, x, l, s), l, s);
            let tol = round_trip_tolerance(EPS32, x as f64, z, scale, z.exp());
            assert!(
                ((back - x) as f64).abs() <= tol,
                "f32 icdf(cdf({x})) = {back}"
            );
        }
        for i in 0..=870 {
            let z = -1.5 + 0.1 * i as f64; // [-1.5, 85.5]
            let x = (loc + scale * z) as f32;
            let q = eval32(Function::Sf, x, l, s);
            let back = eval32(Function::Isf, q, l, s);
            let ratio = q as f64 * (z + (-z).exp()).exp();
            let tol = round_trip_tolerance(EPS32, x as f64, z, scale, ratio);
            assert!(
                ((back - x) as f64).abs() <= tol,
                "f32 isf(sf({x})) = {back}"
            );
        }
    }
}

#[test]
fn cdf_and_sf_add_up_to_one() {
    for (loc, scale) in PARAMETERS {
        for i in 0..=6000 {
            let x = loc + scale * (-10.0 + 0.01 * i as f64);
            let total = eval64(Function::Cdf, x, loc, scale) + eval64(Function::Sf, x, loc, scale);
            assert!(
                (total - 1.0).abs() <= 2.0 * EPS64,
                "cdf + sf = {total} at {x}"
            );
            let (x32, l, s) = (x as f32, loc as f32, scale as f32);
            let total32 =
                eval32(Function::Cdf, x32, l, s) as f64 + eval32(Function::Sf, x32, l, s) as f64;
            assert!(
                (total32 - 1.0).abs() <= EPS32,
                "f32 cdf + sf = {total32} at {x32}"
            );
            // The logs agree with the values.
            let log_cdf = eval64(Function::LogCdf, x, loc, scale);
            let log_sf = eval64(Function::LogSf, x, loc, scale);
            let cdf = eval64(Function::Cdf, x, loc, scale);
            let sf = eval64(Function::Sf, x, loc, scale);
            assert!(
                (log_cdf.exp() - cdf).abs() <= 4.0 * EPS64 * (cdf + 1e-300) * (1.0 + log_cdf.abs())
            );
            assert!(
                (log_sf.exp() - sf).abs() <= 4.0 * EPS64 * (sf + 1e-300) * (1.0 + log_sf.abs())
            );
        }
    }
}

#[test]
fn derivatives_of_the_distribution_functions_are_the_density() {
    // d/dx cdf = pdf; d/dx log_cdf = pdf / cdf; d/dx log_sf = -pdf / sf.
    // Central differences with h = 1e-5 scale: truncation error
    // h^2/6 f''' ~ 1e-10 relative; rounding adds eps / h (absolute) for cdf
    // values near 1, and about eps |z| / h relative for the logs.
    for (loc, scale) in PARAMETERS {
        let h = 1e-5 * scale;
        for i in 0..=200 {
            let z = -4.0 + 0.1 * i as f64; // [-4, 16]
            let x = loc + scale * z;
            // Divide by the exact distance of the two rounded points.
            let (xp, xm) = (x + h, x - h);
            let diff =
                |f: Function| (eval64(f, xp, loc, scale) - eval64(f, xm, loc, scale)) / (xp - xm);
            let log_pdf = eval64(Function::LogPdf, x, loc, scale);
            let pdf = log_pdf.exp();
            let d_cdf = diff(Function::Cdf);
            assert!(
                (d_cdf - pdf).abs() <= 1e-8 * pdf + 4.0 * EPS64 / h,
                "cdf' {d_cdf} vs pdf {pdf} at z = {z}"
            );
            let want = (log_pdf - eval64(Function::LogCdf, x, loc, scale)).exp();
            let d_log_cdf = diff(Function::LogCdf);
            assert!(
                (d_log_cdf - want).abs() <= 1e-7 * want,
                "log_cdf' {d_log_cdf} vs {want} at z = {z}"
            );
            let want = -(log_pdf - eval64(Function::LogSf, x, loc, scale)).exp();
            let d_log_sf = diff(Function::LogSf);
            assert!(
                (d_log_sf - want).abs() <= 1e-7 * want.abs(),
                "log_sf' {d_log_sf} vs {want} at z = {z}"
            );
        }
        // Far in the upper tail the hazard pdf / sf tends to 1 / scale.
        for z in [50.0, 200.0, 900.0] {
            let x = loc + scale * z;
            let hazard = (eval64(Function::LogPdf, x, loc, scale)
                - eval64(Function::LogSf, x, loc, scale))
            .exp();
            assert!(
                (hazard * scale - 1.0).abs() < 1e-12,
                "hazard {hazard} at z = {z}"
            );
        }
    }
}

#[test]
fn the_density_integrates_to_one_and_peaks_at_the_mode() {
    for (loc, scale) in PARAMETERS {
        let total = simpson(loc - 6.0 * scale, loc + 60.0 * scale, 60_000, |x| {
            naive(Function::LogPdf, x, loc, scale).exp()
        });
        assert!((total - 1.0).abs() < 1e-10, "integral {total}");
        let mode = dist::mode(loc, scale).unwrap();
        assert_eq!(mode, loc);
        let peak = eval64(Function::LogPdf, mode, loc, scale);
        assert!((peak - (-1.0 - scale.ln())).abs() < 1e-14);
        for dx in [1e-3, 0.1, 1.0] {
            assert!(eval64(Function::LogPdf, mode + dx * scale, loc, scale) < peak);
            assert!(eval64(Function::LogPdf, mode - dx * scale, loc, scale) < peak);
        }
        // cdf(mode) = exp(-1).
        assert!((eval64(Function::Cdf, mode, loc, scale) - (-1f64).exp()).abs() < 1e-16);
    }
}

/// Composite Simpson's rule with `n` (even) intervals.
fn simpson(a: f64, b: f64, n: usize, f: impl Fn(f64) -> f64) -> f64 {
    let h = (b - a) / n as f64;
    let mut sum = f(a) + f(b);
    for i in 1..n {
        sum += f(a + h * i as f64) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    sum * h / 3.0
}

/// The two-sided normal critical value at ALPHA.
fn z_critical() -> f64 {
    Normal::standard().inverse_cdf(1.0 - ALPHA / 2.0)
}

#[test]
fn moments_match_sample_moments_of_the_noise() {
    let n = 1 << 22;
    let z_crit = z_critical();
    for (loc, scale, seed) in [(0.0f64, 1.0f64, 1u64), (1.5, 2.0, 2), (-3.0, 0.25, 3)] {
        let mut x = vec![0.0f64; n];
        noise(&mut x, loc, scale, seed, 0).unwrap();
        let (m, v) = mean_var(&x);
        let mean = dist::mean(loc, scale).unwrap();
        let var = dist::variance(loc, scale).unwrap();
        // Closed forms: mean loc + gamma scale, variance pi^2 scale^2 / 6.
        assert!((mean - (loc + EULER_GAMMA * scale)).abs() <= 1e-15 * (1.0 + loc.abs()));
        assert!((var - std::f64::consts::PI.powi(2) * scale * scale / 6.0).abs() <= 1e-15 * var);
        // Standard errors: sqrt(var / n); var sqrt((kurtosis - 1) / n), the
        // Gumbel's kurtosis being 5.4.
        let z_mean = (m - mean) / (var / n as f64).sqrt();
        let z_var = (v - var) / (var * (4.4 / n as f64).sqrt());
        assert!(z_mean.abs() < z_crit, "mean {m} vs {mean}: z = {z_mean}");
        assert!(z_var.abs() < z_crit, "variance {v} vs {var}: z = {z_var}");
        // Entropy = E[-log_pdf(X)]: the sample mean of -log_pdf.
        let mut neg_log_pdf = vec![0.0f64; n];
        dist::apply(Function::LogPdf, &x, &mut neg_log_pdf, loc, scale).unwrap();
        neg_log_pdf.iter_mut().for_each(|v| *v = -*v);
        let (h_sample, h_var) = mean_var(&neg_log_pdf);
        let h = dist::entropy(loc, scale).unwrap();
        let z_h = (h_sample - h) / (h_var / n as f64).sqrt();
        assert!(z_h.abs() < z_crit, "entropy {h_sample} vs {h}: z = {z_h}");
        // The tests have power: the mean without the gamma shift (the mode)
        // and the variance of a unit-variance guess are rejected.
        let z_wrong = (m - loc) / (var / n as f64).sqrt();
        assert!(z_wrong.abs() > 100.0, "z of the mode as mean: {z_wrong}");
        let z_wrong = (v - scale * scale) / (var * (4.4 / n as f64).sqrt());
        assert!(z_wrong.abs() > 100.0, "z of scale^2 as variance: {z_wrong}");
    }
    // f32 moments are the f64 ones rounded once.
    assert_eq!(
        dist::mean(1.5f32, 2.0).unwrap(),
        (1.5 + 2.0 * EULER_GAMMA) as f32
    );
    assert_eq!(
        dist::variance(0.0f32, 3.0).unwrap(),
        (9.0 * std::f64::consts::PI.powi(2) / 6.0) as f32
    );
    assert_eq!(
        dist::entropy(0.0f32, 0.5).unwrap(),
        (0.5f64.ln() + EULER_GAMMA + 1.0) as f32
    );
    assert_eq!(dist::variance(0.0f32, 1e20).unwrap(), f32::INFINITY);
    assert_eq!(dist::variance(0.0f64, 1e-200).unwrap(), 0.0);
}

#[test]
fn entropy_matches_numerical_integration() {
    for (loc, scale) in PARAMETERS {
        let h = simpson(loc - 6.0 * scale, loc + 60.0 * scale, 60_000, |x| {
            let lp = naive(Function::LogPdf, x, loc, scale);
            -lp * lp.exp()
        });
        let got = dist::entropy(loc, scale).unwrap();
        assert!((got - h).abs() < 1e-9, "entropy {got} vs integral {h}");
    }
}

/// KL(Gumbel(l1, s1) || Gumbel(l2, s2)) by Simpson's rule on the naive
/// log-densities, over the support of the first (z1 in [-5, 60]).
fn kl_integral(l1: f64, s1: f64, l2: f64, s2: f64) -> f64 {
    simpson(l1 - 5.0 * s1, l1 + 60.0 * s1, 200_000, |x| {
        let lp = naive(Function::LogPdf, x, l1, s1);
        let lq = naive(Function::LogPdf, x, l2, s2);
        lp.exp() * (lp - lq)
    })
}

const KL_PAIRS: [(f64, f64, f64, f64); 7] = [
    (0.0, 1.0, 0.0, 1.0),
    (0.0, 1.0, 1.0, 1.0),
    (1.0, 1.0, 0.0, 1.0),
    (0.0, 1.0, 0.0, 2.0),
    (0.5, 2.0, -1.0, 0.7),
    (3.0, 0.5, 0.0, 1.5),
    (0.0, 1.0, 2.0, 3.0),
];

#[test]
fn kl_divergence_matches_numerical_integration() {
    for (l1, s1, l2, s2) in KL_PAIRS {
        let integral = kl_integral(l1, s1, l2, s2);
        let got = dist::kl_divergence(l1, s1, l2, s2).unwrap();
        assert!(
            (got - integral).abs() < 1e-8 * (1.0 + integral),
            "KL({l1}, {s1} || {l2}, {s2}) = {got}, integral {integral}"
        );
        // The closed form, with statrs's Gamma.
        let r = s1 / s2;
        let closed = (s2 / s1).ln() + (l1 - l2) / s2 + EULER_GAMMA * (r - 1.0) - 1.0
            + ((l2 - l1) / s2).exp() * gamma(1.0 + r);
        assert!(
            (got - closed).abs() < 1e-12 * (1.0 + closed),
            "{got} vs {closed}"
        );
        let got32 = dist::kl_divergence(l1 as f32, s1 as f32, l2 as f32, s2 as f32).unwrap() as f64;
        assert!(
            (got32 - got).abs() <= ulp32(got) + 1e-15,
            "f32 {got32} vs {got}"
        );
    }
    // The test has power: Gamma(1 + scale2 / scale1), the ratio upside down,
    // is off by far more than the tolerance.
    let (l1, s1, l2, s2) = (0.5f64, 2.0f64, -1.0f64, 0.7f64);
    let r = s1 / s2;
    let wrong = (s2 / s1).ln() + (l1 - l2) / s2 + EULER_GAMMA * (r - 1.0) - 1.0
        + ((l2 - l1) / s2).exp() * gamma(1.0 + 1.0 / r);
    assert!((wrong - kl_integral(l1, s1, l2, s2)).abs() > 0.1);
}

#[test]
fn kl_divergence_is_zero_for_equal_distributions_and_positive_otherwise() {
    for (loc, scale) in PARAMETERS {
        assert_eq!(dist::kl_divergence(loc, scale, loc, scale).unwrap(), 0.0);
        assert_eq!(
            dist::kl_divergence(loc as f32, scale as f32, loc as f32, scale as f32).unwrap(),
            0.0
        );
    }
    let locs = [-1e300, -50.0, -1.0, -1e-9, 0.0, 1e-9, 1.0, 50.0, 1e300];
    let scales = [1e-300, 1e-9, 0.5, 1.0, 1.0 + 1e-12, 2.0, 1e9, 1e300];
    for &l1 in &locs {
        for &s1 in &scales {
            for &l2 in &locs {
                for &s2 in &scales {
                    let kl = dist::kl_divergence(l1, s1, l2, s2).unwrap();
                    assert!(kl >= 0.0, "KL({l1}, {s1} || {l2}, {s2}) = {kl}");
                    let kl32 = dist::kl_divergence(l1 as f32, s1 as f32, l2 as f32, s2 as f32);
                    if let Ok(kl32) = kl32 {
                        assert!(kl32 >= 0.0, "f32 KL({l1}, {s1} || {l2}, {s2}) = {kl32}");
                    }
                }
            }
        }
    }
    // Divergences beyond the type are +inf; huge but finite ones are exact.
    // KL(G(0,1) || G(1000,1)) = 1000 - 1 + e^1000 - ... = inf;
    // KL(G(1000,1) || G(0,1)) = 1000 - 1 + e^-1000.
    assert_eq!(
        dist::kl_divergence(0.0f64, 1.0, 1000.0, 1.0).unwrap(),
        f64::INFINITY
    );
    assert_eq!(
        dist::kl_divergence(1000.0f64, 1.0, 0.0, 1.0).unwrap(),
        999.0
    );
    // r = 1e300: gamma r = 5.8e299 dominates, Gamma(1 + r) overflows: +inf.
    assert_eq!(
        dist::kl_divergence(0.0f64, 1e300, 0.0, 1.0).unwrap(),
        f64::INFINITY
    );
    // r = 200, d = 1000: Gamma(201) e^-1000 = e^(863.2 - 1000) is tiny, so
    // KL = ln(1/200) + 1000 + 199 gamma - 1 + that.
    let want = (1.0f64 / 200.0).ln() + 1000.0 + 199.0 * EULER_GAMMA - 1.0;
    let got = dist::kl_divergence(1000.0f64, 200.0, 0.0, 1.0).unwrap();
    assert!((got - want).abs() < 1e-12 * want, "{got} vs {want}");
}

#[test]
fn bad_inputs_are_rejected_before_anything_is_written() {
    let mut out = [7.0f64; 4];
    for (loc, scale) in [
        (f64::NAN, 1.0),
        (f64::INFINITY, 1.0),
        (0.0, 0.0),
        (0.0, -1.0),
        (0.0, f64::NAN),
        (0.0, f64::INFINITY),
    ] {
        for function in ALL {
            let e = dist::apply(function, &[0.5; 4], &mut out, loc, scale).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidParameter);
            assert_eq!(
                function.at(0.5, loc, scale).unwrap_err().kind(),
                ErrorKind::InvalidParameter
            );
        }
        assert_eq!(
            dist::mean(loc, scale).unwrap_err().kind(),
            ErrorKind::InvalidParameter
        );
        assert_eq!(
            dist::kl_divergence(0.0, 1.0, loc, scale)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidParameter
        );
    }
    // The distribution functions need no |loc| + 45 scale bound (noise does).
    assert!(dist::cdf(0.0f32, f32::MAX, 1e37).is_ok());
    let x = [0.5, 0.25, f64::NAN, 2.0];
    for function in ALL {
        let e = dist::apply(function, &x, &mut out, 0.0, 1.0).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidValue);
        let want = if matches!(function, Function::Icdf | Function::Isf) {
            "x[2] = NaN"
        } else {
            "x[2] is NaN"
        };
        assert!(
            e.message().contains(want) && e.message().contains(function.name()),
            "{}",
            e.message()
        );
        let e = dist::apply_in_place(function, &mut x.clone(), 0.0, 1.0).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidValue);
    }
    for p in [-0.0f64, 0.0, 1.0] {
        assert!(dist::icdf(p, 0.0, 1.0).is_ok());
    }
    for p in [
        -1e-300,
        1.0 + EPS64,
        2.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ] {
        for function in [Function::Icdf, Function::Isf] {
            let e = dist::apply(function, &[0.5, 0.5, 0.5, p], &mut out, 0.0, 1.0).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidValue);
            assert!(
                e.message().contains("x[3]") && e.message().contains("[0, 1]"),
                "{}",
                e.message()
            );
        }
    }
    let e = dist::apply(Function::Cdf, &[0.0; 3], &mut out, 0.0, 1.0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidShape);
    assert_eq!(out, [7.0; 4]);
}

#[test]
fn array_forms_equal_the_scalar_ones_in_parallel_and_in_place() {
    // Large enough for the parallel path; every value equals the scalar form.
    let n = 100_003;
    let x: Vec<f32> = (0..n)
        .map(|i| -20.0 + 120.0 * i as f32 / n as f32)
        .collect();
    let p: Vec<f32> = (0..n).map(|i| i as f32 / (n - 1) as f32).collect();
    for function in ALL {
        let input = if matches!(function, Function::Icdf | Function::Isf) {
            &p
        } else {
            &x
        };
        let mut out = vec![0.0f32; n];
        dist::apply(function, input, &mut out, 0.5, 2.0).unwrap();
        let mut in_place = input.clone();
        dist::apply_in_place(function, &mut in_place, 0.5, 2.0).unwrap();
        for j in 0..n {
            let want = function.at(input[j], 0.5, 2.0).unwrap();
            assert_eq!(out[j].to_bits(), want.to_bits(), "{function:?}[{j}]");
            assert_eq!(
                in_place[j].to_bits(),
                want.to_bits(),
                "{function:?}[{j}] in place"
            );
        }
    }
    // The first bad element is the one reported, also on the parallel path.
    let mut bad = x.clone();
    bad[90_000] = f32::NAN;
    bad[99_000] = f32::NAN;
    let mut out = vec![0.0f32; n];
    let e = dist::apply(Function::Cdf, &bad, &mut out, 0.0, 1.0).unwrap_err();
    assert!(e.message().contains("x[90000]"), "{}", e.message());
    assert!(out.iter().all(|&v| v == 0.0));
}
