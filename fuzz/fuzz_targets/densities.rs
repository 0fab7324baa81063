//! Fuzzes the densities and gradients through the C ABI (Concrete and
//! ExpConcrete log-densities, softmax backward and temperature gradients,
//! relaxed Bernoulli backward and log-density) with points, logits and
//! upstream gradients from the fuzzer: the status is OK or documented, and
//! errors write nothing; gradients of valid inputs are never NaN.
#![no_main]

use gumbel::ffi::*;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;
use common::{Bytes, SENTINEL};

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let f = b.u8() % 8;
    let (outer, classes, inner) = (b.u8() as usize % 4, b.u8() as usize % 8, b.u8() as usize % 3);
    let tau = b.tau();
    let len = outer * classes * inner;
    let rows = outer * inner;
    // Points: often a valid simplex (softmax of fuzzed logits), else raw.
    let logits: Vec<f64> = (0..len).map(|_| b.value()).collect();
    let raw = b.u8() & 1 == 1;
    let mut y: Vec<f64> = (0..len).map(|_| b.value()).collect();
    if !raw && classes > 0 {
        let mut soft = vec![0.0f64; len];
        let lf: Vec<f64> = logits.iter().map(|v| if v.is_finite() { *v } else { 0.0 }).collect();
        unsafe { gumbel_tempered_softmax_f64(lf.as_ptr(), soft.as_mut_ptr(), outer, classes, inner, 1.0) };
        y = soft;
    }
    let g: Vec<f64> = (0..len).map(|_| b.value()).collect();
    let taus: Vec<f64> = (0..rows).map(|_| b.tau()).collect();
    let mut out = vec![SENTINEL; len.max(1)];
    let (o, k, i) = (outer, classes, inner);
    let op = out.as_mut_ptr();
    let s = unsafe {
        match f {
            0 => gumbel_concrete_log_prob_f64(y.as_ptr(), logits.as_ptr(), op, o, k, i, tau),
            1 => {
                let x: Vec<f64> = y.iter().map(|v| v.ln()).collect();
                gumbel_exp_concrete_log_prob_f64(x.as_ptr(), logits.as_ptr(), op, o, k, i, tau)
            }
            2 => gumbel_softmax_backward_f64(y.as_ptr(), g.as_ptr(), op, o, k, i, tau),
            3 => gumbel_softmax_grad_tau_f64(y.as_ptr(), g.as_ptr(), o, k, i, tau, op),
            4 => gumbel_softmax_backward_per_row_f64(y.as_ptr(), g.as_ptr(), op, o, k, i, taus.as_ptr()),
            5 => gumbel_softmax_grad_tau_per_row_f64(y.as_ptr(), g.as_ptr(), o, k, i, taus.as_ptr(), op),
            6 => gumbel_relaxed_bernoulli_backward_f64(y.as_ptr(), g.as_ptr(), op, len, tau),
            _ => gumbel_relaxed_bernoulli_log_prob_f64(y.as_ptr(), logits.as_ptr(), op, len, tau),
        }
    };
    let documented = [
        GUMBEL_STATUS_OK,
        GUMBEL_STATUS_INVALID_SHAPE,
        GUMBEL_STATUS_INVALID_TEMPERATURE,
        GUMBEL_STATUS_INVALID_LOGITS,
        GUMBEL_STATUS_ALL_MASKED,
        GUMBEL_STATUS_INVALID_VALUE,
    ];
    assert!(documented.contains(&s), "undocumented status {s} (f {f})");
    if s != GUMBEL_STATUS_OK {
        assert!(out.iter().all(|&v| v == SENTINEL), "output written on error {s}");
        return;
    }
    let written = match f {
        0 | 1 | 5 => rows,
        3 => 1,
        _ => len,
    };
    for &v in &out[..written.min(out.len())] {
        assert!(!v.is_nan(), "NaN output (f {f}): {:?} shape {:?} tau {tau:e} y {y:?} g {g:?} taus {taus:?}", &out[..written.min(out.len())], (o, k, i));
    }
});
