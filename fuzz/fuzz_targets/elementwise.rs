//! Fuzzes the elementwise functions through the C ABI (noise, relaxed
//! Bernoulli samples, the Gumbel distribution functions) with sizes,
//! parameters and values from the fuzzer: the status is OK or documented,
//! errors write nothing, samples are finite (soft relaxed Bernoulli in
//! [0, 1], hard in {0, 1}), CDFs/SFs in [0, 1], log-CDFs/SFs <= 0, and no
//! output is NaN.
#![no_main]

use gumbel::ffi::*;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;
use common::{Bytes, SENTINEL};

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let f = b.u8() % 12;
    let n = b.u8() as usize % 40;
    let (loc, scale, tau) = (b.value(), b.tau(), b.tau());
    let hard = b.u8() & 1 == 1;
    let (seed, offset) = (b.u64(), b.u64());
    let x: Vec<f64> = (0..n).map(|_| b.value()).collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    // At least one element: the KL divergence writes one value for any n.
    let mut y = vec![SENTINEL; n.max(1)];
    let mut y32 = vec![SENTINEL as f32; n.max(1)];
    let single = b.u8() & 1 == 1;
    let (xp, yp, xp32, yp32) = (x.as_ptr(), y.as_mut_ptr(), x32.as_ptr(), y32.as_mut_ptr());
    let (l32, s32, t32) = (loc as f32, scale as f32, tau as f32);
    let s = unsafe {
        match (f, single) {
            (0, true) => gumbel_noise_f32(yp32, n, l32, s32, seed, offset),
            (0, false) => gumbel_noise_f64(yp, n, loc, scale, seed, offset),
            (1, true) => gumbel_relaxed_bernoulli_f32(xp32, yp32, n, t32, hard, seed, offset),
            (1, false) => gumbel_relaxed_bernoulli_f64(xp, yp, n, tau, hard, seed, offset),
            (2, true) => gumbel_dist_log_pdf_f32(xp32, yp32, n, l32, s32),
            (2, false) => gumbel_dist_log_pdf_f64(xp, yp, n, loc, scale),
            (3, true) => gumbel_dist_cdf_f32(xp32, yp32, n, l32, s32),
            (3, false) => gumbel_dist_cdf_f64(xp, yp, n, loc, scale),
            (4, true) => gumbel_dist_log_cdf_f32(xp32, yp32, n, l32, s32),
            (4, false) => gumbel_dist_log_cdf_f64(xp, yp, n, loc, scale),
            (5, true) => gumbel_dist_sf_f32(xp32, yp32, n, l32, s32),
            (5, false) => gumbel_dist_sf_f64(xp, yp, n, loc, scale),
            (6, true) => gumbel_dist_log_sf_f32(xp32, yp32, n, l32, s32),
            (6, false) => gumbel_dist_log_sf_f64(xp, yp, n, loc, scale),
            (7, true) => gumbel_dist_icdf_f32(xp32, yp32, n, l32, s32),
            (7, false) => gumbel_dist_icdf_f64(xp, yp, n, loc, scale),
            (8, true) => gumbel_dist_isf_f32(xp32, yp32, n, l32, s32),
            (8, false) => gumbel_dist_isf_f64(xp, yp, n, loc, scale),
            (9, true) => gumbel_dist_cdf_f32(xp32, xp32 as *mut f32, n, l32, s32),
            (9, false) => gumbel_dist_cdf_f64(xp, xp as *mut f64, n, loc, scale),
            (_, true) => gumbel_dist_kl_f32(l32, s32, x32.first().copied().unwrap_or(0.0), t32, yp32),
            (_, false) => gumbel_dist_kl_f64(loc, scale, x.first().copied().unwrap_or(0.0), tau, yp),
        }
    };
    let documented = [
        GUMBEL_STATUS_OK,
        GUMBEL_STATUS_INVALID_TEMPERATURE,
        GUMBEL_STATUS_INVALID_PARAMETER,
        GUMBEL_STATUS_INVALID_LOGITS,
        GUMBEL_STATUS_INVALID_VALUE,
        GUMBEL_STATUS_NULL_POINTER,
    ];
    assert!(documented.contains(&s), "undocumented status {s}");
    let out: Vec<f64> = if single { y32.iter().map(|&v| v as f64).collect() } else { y.clone() };
    if s != GUMBEL_STATUS_OK {
        assert!(out.iter().all(|&v| v == SENTINEL), "output written on error {s}");
        return;
    }
    if f == 10 || f == 11 {
        if n > 0 || s == GUMBEL_STATUS_OK {
            if let Some(v) = out.first() {
                assert!(!v.is_nan() && *v >= 0.0, "kl {v}");
            }
        }
        return;
    }
    if f == 9 {
        return; // in place: the input buffer holds the output
    }
    for (j, &v) in out[..n].iter().enumerate() {
        assert!(!v.is_nan(), "element {j} is NaN (f {f})");
        match f {
            0 => assert!(v.is_finite(), "noise {v}"),
            1 if hard => assert!(v == 0.0 || v == 1.0, "hard {v}"),
            1 => assert!((0.0..=1.0).contains(&v), "relaxed {v}"),
            3 | 5 => assert!((0.0..=1.0).contains(&v), "probability {v}"),
            4 | 6 => assert!(v <= 0.0, "log probability {v}"),
            _ => {}
        }
    }
});
