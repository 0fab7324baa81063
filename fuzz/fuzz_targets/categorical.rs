//! Fuzzes the categorical samplers through the C ABI (softmax soft/hard,
//! per-row, log-space, tempered softmax, sample) with shapes, temperatures
//! and logits from the fuzzer, and checks the invariants: the status is OK
//! or one the function documents; on error nothing is written; on success
//! soft rows are finite, in [0, 1] and sum to 1, hard rows are one-hot,
//! log-space rows are <= 0 with logsumexp 0, indices are in range and never
//! pick a masked class.
#![no_main]

use gumbel::ffi::*;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;
use common::{Bytes, SENTINEL};

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let f = b.u8();
    let (outer, classes, inner) = (b.u8() as usize % 5, b.u8() as usize % 12, b.u8() as usize % 4);
    let tau = b.tau();
    let (seed, offset) = (b.u64(), b.u64());
    let len = outer * classes * inner;
    let rows = outer * inner;
    let logits: Vec<f64> = (0..len).map(|_| b.value()).collect();
    let taus: Vec<f64> = (0..rows).map(|_| b.tau()).collect();
    let hard = (f / 10) & 1 == 1;
    if (f / 5) & 1 == 0 {
        run::<f32>(f, &logits, &taus, outer, classes, inner, tau, hard, seed, offset);
    } else {
        run::<f64>(f, &logits, &taus, outer, classes, inner, tau, hard, seed, offset);
    }
});

trait F: Copy + Into<f64> {
    fn of(x: f64) -> Self;
}
impl F for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
}
impl F for f64 {
    fn of(x: f64) -> Self {
        x
    }
}

#[allow(clippy::too_many_arguments)]
fn run<T: F + 'static>(
    f: u8,
    logits: &[f64],
    taus: &[f64],
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f64,
    hard: bool,
    seed: u64,
    offset: u64,
) {
    let l: Vec<T> = logits.iter().map(|&x| T::of(x)).collect();
    let t: Vec<T> = taus.iter().map(|&x| T::of(x)).collect();
    let len = l.len();
    let rows = t.len();
    let mut y: Vec<T> = vec![T::of(SENTINEL); len];
    let mut idx = vec![-7i64; rows];
    let is32 = std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>();
    let (lp, yp, tp) = (l.as_ptr(), y.as_mut_ptr(), t.as_ptr());
    let (o, k, i) = (outer, classes, inner);
    // kind: 0 softmax, 1 per-row, 2 log_softmax, 3 tempered, 4 sample.
    let kind = f % 5;
    let s = unsafe {
        match (kind, is32) {
            (0, true) => gumbel_softmax_f32(lp as _, yp as _, o, k, i, tau as f32, hard, seed, offset),
            (0, false) => gumbel_softmax_f64(lp as _, yp as _, o, k, i, tau, hard, seed, offset),
            (1, true) => gumbel_softmax_per_row_f32(lp as _, yp as _, o, k, i, tp as _, hard, seed, offset),
            (1, false) => gumbel_softmax_per_row_f64(lp as _, yp as _, o, k, i, tp as _, hard, seed, offset),
            (2, true) => gumbel_log_softmax_f32(lp as _, yp as _, o, k, i, tau as f32, seed, offset),
            (2, false) => gumbel_log_softmax_f64(lp as _, yp as _, o, k, i, tau, seed, offset),
            (3, true) => gumbel_tempered_softmax_f32(lp as _, yp as _, o, k, i, tau as f32),
            (3, false) => gumbel_tempered_softmax_f64(lp as _, yp as _, o, k, i, tau),
            (_, true) => gumbel_sample_f32(lp as _, idx.as_mut_ptr(), o, k, i, seed, offset),
            (_, false) => gumbel_sample_f64(lp as _, idx.as_mut_ptr(), o, k, i, seed, offset),
        }
    };
    let documented = [
        GUMBEL_STATUS_OK,
        GUMBEL_STATUS_INVALID_SHAPE,
        GUMBEL_STATUS_INVALID_TEMPERATURE,
        GUMBEL_STATUS_INVALID_LOGITS,
        GUMBEL_STATUS_ALL_MASKED,
    ];
    assert!(documented.contains(&s), "undocumented status {s}");
    let untouched = y.iter().all(|&v| v.into() == SENTINEL) && idx.iter().all(|&v| v == -7);
    if s != GUMBEL_STATUS_OK {
        assert!(untouched, "output written on error {s}");
        return;
    }
    // Success implies valid input: check it was.
    let lv: Vec<f64> = l.iter().map(|&v| v.into()).collect();
    assert!(lv.iter().all(|v| !v.is_nan() && *v != f64::INFINITY));
    let row = |r: usize, c: usize| (r / inner * classes + c) * inner + r % inner;
    for r in 0..rows {
        let yr: Vec<f64> = (0..classes).map(|c| y[row(r, c)].into()).collect();
        let lr: Vec<f64> = (0..classes).map(|c| lv[row(r, c)]).collect();
        assert!(lr.iter().any(|v| v.is_finite()), "all-masked row accepted");
        let eps = if is32 { 1e-5 } else { 1e-12 } * classes as f64 + if is32 { 1e-6 } else { 1e-14 };
        match kind {
            0 | 1 | 3 => {
                assert!(yr.iter().all(|v| (0.0..=1.0).contains(v)), "row {r}: {yr:?}");
                let sum: f64 = yr.iter().sum();
                assert!((sum - 1.0).abs() <= eps, "row {r} sums to {sum}");
                if hard && kind != 3 {
                    assert_eq!(yr.iter().filter(|&&v| v == 1.0).count(), 1, "row {r} not one-hot: {yr:?}");
                    assert_eq!(yr.iter().filter(|&&v| v == 0.0).count(), classes - 1);
                }
                for (c, v) in yr.iter().enumerate() {
                    if lr[c] == f64::NEG_INFINITY {
                        assert_eq!(*v, 0.0, "masked class {c} got {v}");
                    }
                }
            }
            2 => {
                assert!(yr.iter().all(|v| !v.is_nan() && *v <= 0.0 && *v != f64::INFINITY), "row {r}: {yr:?}");
                let m = yr.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                assert!(m.is_finite(), "row {r}: no finite entry {yr:?}");
                let lse = m + yr.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                assert!(lse.abs() <= eps * 10.0, "row {r}: logsumexp {lse}");
            }
            _ => {
                let j = idx[r];
                assert!((0..classes as i64).contains(&j), "index {j} out of range");
                assert!(lr[j as usize] != f64::NEG_INFINITY, "masked class {j} drawn");
            }
        }
    }
    if kind == 4 {
        assert!(y.iter().all(|&v| v.into() == SENTINEL));
    }
}
