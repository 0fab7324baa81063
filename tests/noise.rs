//! Statistical tests of the Gumbel noise: KS against the Gumbel CDF,
//! moments, and the reach of both tails.

use crate::common;

use common::{ks_p, mean_var, ALPHA};
use gumbel::{noise, streams, Shape};
use statrs::distribution::Gumbel;

const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

fn draw_f32(n: usize, loc: f32, scale: f32, seed: u64) -> Vec<f64> {
    let mut out = vec![0.0f32; n];
    noise(&mut out, loc, scale, seed, 0).unwrap();
    out.into_iter().map(f64::from).collect()
}

fn draw_f64(n: usize, loc: f64, scale: f64, seed: u64) -> Vec<f64> {
    let mut out = vec![0.0f64; n];
    noise(&mut out, loc, scale, seed, 0).unwrap();
    out
}

#[test]
fn noise_follows_the_gumbel_cdf() {
    let n = 1 << 20;
    for (loc, scale) in [(0.0, 1.0), (1.5, 0.25), (-3.0, 4.0)] {
        let dist = Gumbel::new(loc, scale).unwrap();
        let p32 = ks_p(draw_f32(n, loc as f32, scale as f32, 11), &dist);
        let p64 = ks_p(draw_f64(n, loc, scale, 12), &dist);
        assert!(
            p32 > ALPHA && p64 > ALPHA,
            "KS p-values {p32:e} (f32), {p64:e} (f64) for loc {loc} scale {scale}"
        );
    }
}

#[test]
fn negated_noise_fails_the_ks_test() {
    // The test above has power: the mirror image of the noise is rejected.
    let dist = Gumbel::new(0.0, 1.0).unwrap();
    let flipped: Vec<f64> = draw_f64(1 << 20, 0.0, 1.0, 12).iter().map(|g| -g).collect();
    assert!(ks_p(flipped, &dist) < 1e-100);
}

#[test]
fn noise_has_the_gumbel_moments() {
    let n = 1 << 22;
    let var = std::f64::consts::PI.powi(2) / 6.0;
    for (name, x) in [
        ("f32", draw_f32(n, 0.0, 1.0, 5)),
        ("f64", draw_f64(n, 0.0, 1.0, 6)),
    ] {
        let (m, v) = mean_var(&x);
        // Standard errors: sd / sqrt(n) for the mean; for the variance,
        // var * sqrt((kurtosis - 1) / n) with kurtosis 5.4.
        let z_mean = (m - EULER_GAMMA) / (var / n as f64).sqrt();
        let z_var = (v - var) / (var * (4.4 / n as f64).sqrt());
        assert!(
            z_mean.abs() < 5.0 && z_var.abs() < 5.0,
            "{name}: mean {m} (z {z_mean}), var {v} (z {z_var})"
        );
        let skew = x.iter().map(|g| ((g - m) / v.sqrt()).powi(3)).sum::<f64>() / n as f64;
        assert!((skew - 1.139_547).abs() < 0.05, "{name}: skewness {skew}");
    }
}

#[test]
fn both_tails_reach_beyond_24_bit_resolution() {
    // Noise built from 24 random bits cannot exceed ln 2^24 ~ 16.64 nor go
    // below -ln(ln 2^24) ~ -2.81. Each tail beyond those points has
    // probability ~5.96e-8, so 2^28 draws expect ~16 in each (P(0) ~ 1e-7).
    let upper = (24.0 * std::f64::consts::LN_2) as f32;
    let lower = -(24.0 * std::f64::consts::LN_2).ln() as f32;
    let piece = 1 << 24;
    let (mut above, mut below, mut max) = (0u64, 0u64, f32::MIN);
    let mut buffer = vec![0.0f32; piece];
    let mut offset = 0;
    for _ in 0..16 {
        noise(&mut buffer, 0.0, 1.0, 2024, offset).unwrap();
        offset += streams(Shape::new(1, piece, 1).unwrap());
        for &g in &buffer {
            assert!(g.is_finite());
            above += u64::from(g > upper);
            below += u64::from(g < lower);
            max = max.max(g);
        }
    }
    assert!(
        (3..=45).contains(&above),
        "{above} draws above {upper} (expected ~16)"
    );
    assert!(
        (3..=45).contains(&below),
        "{below} draws below {lower} (expected ~16)"
    );
    assert!(max > 17.0, "largest of 2^28 draws is {max}");
}
