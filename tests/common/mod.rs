//! Statistical helpers shared by the integration tests. Significance levels
//! are about 1e-6, with fixed seeds, so the tests are stable and a wrong
//! sampler fails them by many orders of magnitude. Also the C ABI helpers
//! of the bad-input tests.
#![allow(dead_code)]

use std::ffi::CStr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use gumbel::ffi::{gumbel_last_error, gumbel_status, gumbel_status_str};
use statrs::distribution::ContinuousCDF;
use statrs::stats_tests::chisquare::chisquare;
use statrs::stats_tests::ks_test::{ks_onesample, KSOneSampleAlternativeMethod};
use statrs::stats_tests::NaNPolicy;

/// Held by the tests that set the library's pool size and then read it back
/// or keep changing it: they share one process, and the pool is global.
pub fn pool_size_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The significance level of every statistical test.
pub const ALPHA: f64 = 1e-6;

/// `softmax(x / tau)` in f64 with libm, as the reference probabilities.
pub fn softmax(x: &[f64], tau: f64) -> Vec<f64> {
    let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|v| ((v - m) / tau).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Pearson's chi-square p-value of category `counts` against `probs`.
/// Categories of probability 0 must have count 0 (asserted); categories whose
/// expected count is below 5 are pooled into one cell.
pub fn chi_square_p(counts: &[u64], probs: &[f64]) -> f64 {
    let n: u64 = counts.iter().sum();
    let mut obs = Vec::new();
    let mut exp = Vec::new();
    let (mut pooled_obs, mut pooled_exp) = (0u64, 0.0f64);
    for (&c, &p) in counts.iter().zip(probs) {
        if p == 0.0 {
            assert_eq!(c, 0, "a category of probability 0 was drawn");
            continue;
        }
        let e = p * n as f64;
        if e < 5.0 {
            pooled_obs += c;
            pooled_exp += e;
        } else {
            obs.push(c as usize);
            exp.push(e);
        }
    }
    if pooled_exp > 0.0 {
        obs.push(pooled_obs as usize);
        exp.push(pooled_exp);
    }
    assert!(obs.len() >= 2, "too few cells for a chi-square test");
    chisquare(&obs, Some(&exp), None).expect("chi-square").1
}

/// Two-sided one-sample Kolmogorov-Smirnov p-value against `dist`.
pub fn ks_p(samples: Vec<f64>, dist: &impl ContinuousCDF<f64, f64>) -> f64 {
    ks_onesample(
        samples,
        dist,
        KSOneSampleAlternativeMethod::TwoSidedAsymptotic,
        NaNPolicy::Error,
    )
    .expect("ks test")
    .1
}

/// Mean and unbiased variance.
pub fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// Category counts of `indices` (each must be in `0..classes`).
pub fn counts(indices: &[i64], classes: usize) -> Vec<u64> {
    let mut c = vec![0u64; classes];
    for &i in indices {
        assert!((0..classes as i64).contains(&i), "index {i} out of range");
        c[i as usize] += 1;
    }
    c
}

/// Repeats `row` `times` times into a `(times, row.len())` matrix.
pub fn tile<T: Copy>(row: &[T], times: usize) -> Vec<T> {
    row.iter()
        .cycle()
        .take(row.len() * times)
        .copied()
        .collect()
}

/// The message of this thread's last failed C ABI call.
pub fn last_error() -> String {
    let mut buf = [0 as std::ffi::c_char; 512];
    let n = unsafe { gumbel_last_error(buf.as_mut_ptr(), buf.len()) };
    let s = unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(n, s.len());
    s
}

/// Asserts `status` and that the last error mentions every word of `words`.
pub fn expect(status: gumbel_status, want: gumbel_status, words: &[&str]) {
    assert_eq!(
        status,
        want,
        "status text: {:?}, message: {}",
        unsafe { CStr::from_ptr(gumbel_status_str(status)) },
        last_error()
    );
    let message = last_error();
    for w in words {
        assert!(message.contains(w), "message {message:?} lacks {w:?}");
    }
}

/// Runs `f` inside a fresh rayon pool of `threads` threads (the library
/// runs its parallel work on the caller's pool when called from one).
pub fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}
