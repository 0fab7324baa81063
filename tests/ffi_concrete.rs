//! Every bad input of the Concrete, ExpConcrete and relaxed Bernoulli C ABI
//! gets its documented status and a message, and leaves the outputs
//! untouched; good edge cases succeed.

use crate::common;

use std::ptr::{null, null_mut};

use common::expect;
use gumbel::ffi::*;

const SENTINEL: f64 = 12345.0;
const NEG_INF: f64 = f64::NEG_INFINITY;

/// A valid 2-row, 3-class problem (shape (2, 3, 1)): logits with a masked
/// class in row 1, a point `y` on the simplex and its log `x`.
fn problem() -> ([f64; 6], [f64; 6], [f64; 6]) {
    let logits = [0.5, -1.0, 2.0, 0.0, NEG_INF, 1.0];
    let y = [0.2, 0.3, 0.5, 0.25, 0.0, 0.75];
    (logits, y, y.map(f64::ln))
}

/// Calls the Concrete (`exp = false`) or ExpConcrete log-density, f64.
unsafe fn density(
    exp: bool,
    point: *const f64,
    logits: *const f64,
    out: *mut f64,
    dims: [usize; 3],
    tau: f64,
) -> gumbel_status {
    let [o, c, i] = dims;
    if exp {
        unsafe { gumbel_exp_concrete_log_prob_f64(point, logits, out, o, c, i, tau) }
    } else {
        unsafe { gumbel_concrete_log_prob_f64(point, logits, out, o, c, i, tau) }
    }
}

#[test]
fn valid_inputs_succeed_in_both_precisions() {
    let (l, y, x) = problem();
    let mut out = [SENTINEL; 2];
    let mut out_exp = [SENTINEL; 2];
    unsafe {
        expect(
            gumbel_concrete_log_prob_f64(y.as_ptr(), l.as_ptr(), out.as_mut_ptr(), 2, 3, 1, 0.7),
            GUMBEL_STATUS_OK,
            &[],
        );
        expect(
            gumbel_exp_concrete_log_prob_f64(
                x.as_ptr(),
                l.as_ptr(),
                out_exp.as_mut_ptr(),
                2,
                3,
                1,
                0.7,
            ),
            GUMBEL_STATUS_OK,
            &[],
        );
    }
    for r in 0..2 {
        let sum_x: f64 = x[3 * r..3 * r + 3].iter().filter(|v| v.is_finite()).sum();
        assert!((out_exp[r] - out[r] - sum_x).abs() < 1e-12);
    }
    let (l32, y32, x32) = (
        l.map(|v| v as f32),
        y.map(|v| v as f32),
        x.map(|v| v as f32),
    );
    let mut o32 = [0.0f32; 2];
    let mut g32 = [0.0f32; 6];
    unsafe {
        expect(
            gumbel_concrete_log_prob_f32(
                y32.as_ptr(),
                l32.as_ptr(),
                o32.as_mut_ptr(),
                2,
                3,
                1,
                0.7,
            ),
            GUMBEL_STATUS_OK,
            &[],
        );
        assert!((o32[0] as f64 - out[0]).abs() < 1e-5);
        expect(
            gumbel_exp_concrete_log_prob_f32(
                x32.as_ptr(),
                l32.as_ptr(),
                o32.as_mut_ptr(),
                2,
                3,
                1,
                0.7,
            ),
            GUMBEL_STATUS_OK,
            &[],
        );
        assert!((o32[1] as f64 - out_exp[1]).abs() < 1e-5);
        expect(
            gumbel_log_softmax_f32(l32.as_ptr(), g32.as_mut_ptr(), 2, 3, 1, 0.7, 1, 2),
            GUMBEL_STATUS_OK,
            &[],
        );
        assert_eq!(g32[4], f32::NEG_INFINITY);
        let lb = [0.5f32, -3.0];
        let mut yb = [0.0f32; 2];
        let mut gb = [0.0f32; 2];
        expect(
            gumbel_relaxed_bernoulli_f32(lb.as_ptr(), yb.as_mut_ptr(), 2, 0.5, false, 1, 2),
            GUMBEL_STATUS_OK,
            &[],
        );
        expect(
            gumbel_relaxed_bernoulli_backward_f32(
                yb.as_ptr(),
                [1.0f32, 1.0].as_ptr(),
                gb.as_mut_ptr(),
                2,
                0.5,
            ),
            GUMBEL_STATUS_OK,
            &[],
        );
        assert!((gb[0] - yb[0] * (1.0 - yb[0]) / 0.5).abs() < 1e-7);
        expect(
            gumbel_relaxed_bernoulli_log_prob_f32(
                yb.as_ptr(),
                lb.as_ptr(),
                gb.as_mut_ptr(),
                2,
                0.5,
            ),
            GUMBEL_STATUS_OK,
            &[],
        );
        assert!(gb.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn null_pointers_with_nonzero_sizes_are_rejected() {
    let (l, y, x) = problem();
    let mut out = [SENTINEL; 6];
    let p = out.as_mut_ptr();
    unsafe {
        for exp in [false, true] {
            let point = if exp { x.as_ptr() } else { y.as_ptr() };
            let name = if exp { "x" } else { "y" };
            let dims = [2, 3, 1];
            expect(
                density(exp, null(), l.as_ptr(), p, dims, 1.0),
                GUMBEL_STATUS_NULL_POINTER,
                &[name, "NULL"],
            );
            expect(
                density(exp, point, null(), p, dims, 1.0),
                GUMBEL_STATUS_NULL_POINTER,
                &["logits"],
            );
            expect(
                density(exp, point, l.as_ptr(), null_mut(), dims, 1.0),
                GUMBEL_STATUS_NULL_POINTER,
                &["out"],
            );
        }
        expect(
            gumbel_log_softmax_f64(null(), p, 2, 3, 1, 1.0, 0, 0),
            GUMBEL_STATUS_NULL_POINTER,
            &["logits"],
        );
        expect(
            gumbel_log_softmax_f32(l.as_ptr().cast(), null_mut(), 2, 3, 1, 1.0, 0, 0),
            GUMBEL_STATUS_NULL_POINTER,
            &["out"],
        );
        expect(
            gumbel_relaxed_bernoulli_f64(null(), p, 3, 1.0, false, 0, 0),
            GUMBEL_STATUS_NULL_POINTER,
            &["logits"],
        );
        expect(
            gumbel_relaxed_bernoulli_f32(l.as_ptr().cast(), null_mut(), 3, 1.0, true, 0, 0),
            GUMBEL_STATUS_NULL_POINTER,
            &["out"],
        );
        let half = [0.5; 3];
        expect(
            gumbel_relaxed_bernoulli_backward_f64(null(), half.as_ptr(), p, 3, 1.0),
            GUMBEL_STATUS_NULL_POINTER,
            &["y"],
        );
        expect(
            gumbel_relaxed_bernoulli_backward_f64(half.as_ptr(), null(), p, 3, 1.0),
            GUMBEL_STATUS_NULL_POINTER,
            &["grad_out"],
        );
        expect(
            gumbel_relaxed_bernoulli_backward_f32(
                half.as_ptr().cast(),
                half.as_ptr().cast(),
                null_mut(),
                3,
                1.0,
            ),
            GUMBEL_STATUS_NULL_POINTER,
            &["grad_logits"],
        );
        expect(
            gumbel_relaxed_bernoulli_log_prob_f64(null(), l.as_ptr(), p, 3, 1.0),
            GUMBEL_STATUS_NULL_POINTER,
            &["y"],
        );
        expect(
            gumbel_relaxed_bernoulli_log_prob_f64(half.as_ptr(), null(), p, 3, 1.0),
            GUMBEL_STATUS_NULL_POINTER,
            &["logits"],
        );
        expect(
            gumbel_relaxed_bernoulli_log_prob_f32(
                half.as_ptr().cast(),
                half.as_ptr().cast(),
                null_mut(),
                3,
                1.0,
            ),
            GUMBEL_STATUS_NULL_POINTER,
            &["out"],
        );
    }
    assert_eq!(out, [SENTINEL; 6]);
}

#[test]
fn empty_calls_are_no_ops_even_with_null_pointers() {
    unsafe {
        for exp in [false, true] {
            assert_eq!(
                density(exp, null(), null(), null_mut(), [0, 3, 1], 1.0),
                GUMBEL_STATUS_OK
            );
            assert_eq!(
                density(exp, null(), null(), null_mut(), [4, 3, 0], 1.0),
                GUMBEL_STATUS_OK
            );
        }
        assert_eq!(
            gumbel_log_softmax_f32(null(), null_mut(), 0, 5, 1, 1.0, 0, 0),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_relaxed_bernoulli_f32(null(), null_mut(), 0, 1.0, true, 0, 0),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_relaxed_bernoulli_backward_f64(null(), null(), null_mut(), 0, 1.0),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_relaxed_bernoulli_log_prob_f32(null(), null(), null_mut(), 0, 1.0),
            GUMBEL_STATUS_OK
        );
    }
}

#[test]
fn bad_shapes_and_sizes_are_rejected() {
    let (l, y, _) = problem();
    let mut out = [SENTINEL; 6];
    let p = out.as_mut_ptr();
    unsafe {
        for exp in [false, true] {
            expect(
                density(exp, y.as_ptr(), l.as_ptr(), p, [2, 0, 1], 1.0),
                GUMBEL_STATUS_INVALID_SHAPE,
                &["classes"],
            );
            expect(
                density(exp, y.as_ptr(), l.as_ptr(), p, [usize::MAX, 2, 1], 1.0),
                GUMBEL_STATUS_SIZE_OVERFLOW,
                &["size_t"],
            );
            expect(
                density(exp, y.as_ptr(), l.as_ptr(), p, [usize::MAX / 8, 1, 1], 1.0),
                GUMBEL_STATUS_SIZE_OVERFLOW,
                &[],
            );
        }
        expect(
            gumbel_log_softmax_f64(l.as_ptr(), p, 3, 0, 1, 1.0, 0, 0),
            GUMBEL_STATUS_INVALID_SHAPE,
            &["classes"],
        );
        expect(
            gumbel_relaxed_bernoulli_f64(l.as_ptr(), p, usize::MAX / 8 + 1, 1.0, false, 0, 0),
            GUMBEL_STATUS_SIZE_OVERFLOW,
            &["logits"],
        );
        expect(
            gumbel_relaxed_bernoulli_backward_f32(
                y.as_ptr().cast(),
                y.as_ptr().cast(),
                p.cast(),
                usize::MAX / 4 + 1,
                1.0,
            ),
            GUMBEL_STATUS_SIZE_OVERFLOW,
            &["y"],
        );
        expect(
            gumbel_relaxed_bernoulli_log_prob_f64(
                y.as_ptr(),
                l.as_ptr(),
                p,
                usize::MAX / 8 + 1,
                1.0,
            ),
            GUMBEL_STATUS_SIZE_OVERFLOW,
            &[],
        );
    }
    assert_eq!(out, [SENTINEL; 6]);
}

#[test]
fn bad_temperatures_are_rejected() {
    let (l, y, x) = problem();
    let half = [0.5; 6];
    let mut out = [SENTINEL; 6];
    let p = out.as_mut_ptr();
    for tau in [0.0, -0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        unsafe {
            expect(
                density(false, y.as_ptr(), l.as_ptr(), p, [2, 3, 1], tau),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau"],
            );
            expect(
                density(true, x.as_ptr(), l.as_ptr(), p, [2, 3, 1], tau),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau"],
            );
            expect(
                gumbel_log_softmax_f64(l.as_ptr(), p, 2, 3, 1, tau, 0, 0),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau"],
            );
            expect(
                gumbel_log_softmax_f32(
                    l.map(|v| v as f32).as_ptr(),
                    p.cast(),
                    2,
                    3,
                    1,
                    tau as f32,
                    0,
                    0,
                ),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau"],
            );
            for hard in [false, true] {
                expect(
                    gumbel_relaxed_bernoulli_f64(half.as_ptr(), p, 6, tau, hard, 0, 0),
                    GUMBEL_STATUS_INVALID_TEMPERATURE,
                    &["tau"],
                );
            }
            expect(
                gumbel_relaxed_bernoulli_backward_f64(half.as_ptr(), half.as_ptr(), p, 6, tau),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau"],
            );
            expect(
                gumbel_relaxed_bernoulli_log_prob_f64(half.as_ptr(), half.as_ptr(), p, 6, tau),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau"],
            );
            expect(
                gumbel_relaxed_bernoulli_log_prob_f32(
                    [0.5f32; 2].as_ptr(),
                    [0.5f32; 2].as_ptr(),
                    p.cast(),
                    2,
                    tau as f32,
                ),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau"],
            );
        }
    }
    assert_eq!(out, [SENTINEL; 6]);
}

#[test]
fn bad_logits_are_rejected_with_their_position() {
    let (_, y, x) = problem();
    let mut out = [SENTINEL; 6];
    let p = out.as_mut_ptr();
    for bad in [f64::NAN, f64::INFINITY] {
        // Shape (1, 3, 2): memory index 3 is class 1 of row 1.
        let mut l = [0.0; 6];
        l[3] = bad;
        let ok_y = [0.2, 0.3, 0.3, 0.3, 0.5, 0.4];
        unsafe {
            expect(
                density(false, ok_y.as_ptr(), l.as_ptr(), p, [1, 3, 2], 1.0),
                GUMBEL_STATUS_INVALID_LOGITS,
                &["row 1", "class 1"],
            );
            expect(
                density(
                    true,
                    ok_y.map(f64::ln).as_ptr(),
                    l.as_ptr(),
                    p,
                    [1, 3, 2],
                    1.0,
                ),
                GUMBEL_STATUS_INVALID_LOGITS,
                &["row 1", "class 1"],
            );
            expect(
                gumbel_log_softmax_f64(l.as_ptr(), p, 1, 3, 2, 1.0, 0, 0),
                GUMBEL_STATUS_INVALID_LOGITS,
                &["row 1"],
            );
        }
    }
    // All masked rows.
    let l = [0.0, 1.0, 2.0, NEG_INF, NEG_INF, NEG_INF];
    unsafe {
        expect(
            density(false, y.as_ptr(), l.as_ptr(), p, [2, 3, 1], 1.0),
            GUMBEL_STATUS_ALL_MASKED,
            &["row 1"],
        );
        expect(
            density(true, x.as_ptr(), l.as_ptr(), p, [2, 3, 1], 1.0),
            GUMBEL_STATUS_ALL_MASKED,
            &["row 1"],
        );
        expect(
            gumbel_log_softmax_f64(l.as_ptr(), p, 2, 3, 1, 1.0, 0, 0),
            GUMBEL_STATUS_ALL_MASKED,
            &["row 1"],
        );
    }
    // Elementwise logits: NaN and both infinities, named by index.
    let half = [0.5; 4];
    for bad in [f64::NAN, f64::INFINITY, NEG_INF] {
        let l = [0.0, 1.0, bad, 2.0];
        unsafe {
            for hard in [false, true] {
                expect(
                    gumbel_relaxed_bernoulli_f64(l.as_ptr(), p, 4, 1.0, hard, 0, 0),
                    GUMBEL_STATUS_INVALID_LOGITS,
                    &["logit 2"],
                );
            }
            expect(
                gumbel_relaxed_bernoulli_log_prob_f64(half.as_ptr(), l.as_ptr(), p, 4, 1.0),
                GUMBEL_STATUS_INVALID_LOGITS,
                &["logit 2"],
            );
            expect(
                gumbel_relaxed_bernoulli_f32(
                    l.map(|v| v as f32).as_ptr(),
                    p.cast(),
                    4,
                    1.0,
                    false,
                    0,
                    0,
                ),
                GUMBEL_STATUS_INVALID_LOGITS,
                &["logit 2"],
            );
        }
    }
    assert_eq!(out, [SENTINEL; 6]);
}

#[test]
fn points_off_the_simplex_are_rejected_naming_the_row() {
    // Shape (2, 3, 1); row 1 masks class 1.
    let (l, y, _) = problem();
    let mut out = [SENTINEL; 2];
    let p = out.as_mut_ptr();
    let cases: [(usize, f64, &[&str]); 7] = [
        (1, -0.1, &["row 0", "class 1", "[0, 1]"]),
        (2, 1.5, &["row 0", "class 2"]),
        (5, f64::NAN, &["row 1", "class 2"]),
        (0, 0.0, &["row 0", "class 0", "open simplex"]),
        (4, 0.1, &["row 1", "class 1", "masked"]),
        (3, 0.26, &["row 1", "sums to"]),
        (0, 0.2 + 1e-12, &["row 0", "sums to"]),
    ];
    for (index, value, words) in cases {
        let mut bad = y;
        bad[index] = value;
        unsafe {
            expect(
                gumbel_concrete_log_prob_f64(bad.as_ptr(), l.as_ptr(), p, 2, 3, 1, 1.0),
                GUMBEL_STATUS_INVALID_VALUE,
                words,
            );
        }
    }
    // Within the f64 tolerance (512 + K) ulp: accepted.
    let mut near = y;
    near[0] += 1e-14;
    unsafe {
        expect(
            gumbel_concrete_log_prob_f64(near.as_ptr(), l.as_ptr(), p, 2, 3, 1, 1.0),
            GUMBEL_STATUS_OK,
            &[],
        );
    }
    out = [SENTINEL; 2];
    // f32: 1e-4 off is outside (512 + 3) * 2^-23 = 6.1e-5; 3e-5 is inside.
    let l32 = l.map(|v| v as f32);
    let mut o32 = [0.0f32; 2];
    for (shift, want) in [
        (1e-4f32, GUMBEL_STATUS_INVALID_VALUE),
        (3e-5, GUMBEL_STATUS_OK),
    ] {
        let mut y32 = y.map(|v| v as f32);
        y32[2] += shift;
        unsafe {
            expect(
                gumbel_concrete_log_prob_f32(
                    y32.as_ptr(),
                    l32.as_ptr(),
                    o32.as_mut_ptr(),
                    2,
                    3,
                    1,
                    1.0,
                ),
                want,
                &[],
            );
        }
    }
    assert_eq!(out, [SENTINEL; 2]);
}

#[test]
fn points_off_the_log_simplex_are_rejected_naming_the_row() {
    let (l, _, x) = problem();
    let mut out = [SENTINEL; 2];
    let p = out.as_mut_ptr();
    let cases: [(usize, f64, &[&str]); 7] = [
        (1, f64::NAN, &["row 0", "class 1"]),
        (2, f64::INFINITY, &["row 0", "class 2"]),
        (0, NEG_INF, &["row 0", "class 0", "open simplex"]),
        (4, -3.0, &["row 1", "class 1", "masked"]),
        (3, -1.0, &["row 1", "logsumexp"]),
        (5, 0.5, &["row 1", "logsumexp"]),
        (0, x[0] + 1e-12, &["row 0", "logsumexp"]),
    ];
    for (index, value, words) in cases {
        let mut bad = x;
        bad[index] = value;
        unsafe {
            expect(
                gumbel_exp_concrete_log_prob_f64(bad.as_ptr(), l.as_ptr(), p, 2, 3, 1, 1.0),
                GUMBEL_STATUS_INVALID_VALUE,
                words,
            );
        }
    }
    let x32 = x.map(|v| v as f32);
    let mut bad32 = x32;
    bad32[5] += 2e-4;
    unsafe {
        expect(
            gumbel_exp_concrete_log_prob_f32(
                bad32.as_ptr(),
                l.map(|v| v as f32).as_ptr(),
                p.cast(),
                2,
                3,
                1,
                1.0,
            ),
            GUMBEL_STATUS_INVALID_VALUE,
            &["row 1", "logsumexp"],
        );
    }
    assert_eq!(out, [SENTINEL; 2]);
}

#[test]
fn bernoulli_values_outside_the_open_interval_are_rejected() {
    let l = [0.0, 1.0, -1.0];
    let grad = [1.0, 1.0, 1.0];
    let mut out = [SENTINEL; 3];
    let p = out.as_mut_ptr();
    for bad in [0.0, 1.0, -0.5, 1.5, f64::NAN, f64::INFINITY] {
        let y = [0.5, bad, 0.25];
        unsafe {
            expect(
                gumbel_relaxed_bernoulli_log_prob_f64(y.as_ptr(), l.as_ptr(), p, 3, 1.0),
                GUMBEL_STATUS_INVALID_VALUE,
                &["y[1]", "(0, 1)"],
            );
            expect(
                gumbel_relaxed_bernoulli_backward_f64(y.as_ptr(), grad.as_ptr(), p, 3, 1.0),
                GUMBEL_STATUS_INVALID_VALUE,
                &["y[1]", "(0, 1)"],
            );
            expect(
                gumbel_relaxed_bernoulli_log_prob_f32(
                    y.map(|v| v as f32).as_ptr(),
                    l.map(|v| v as f32).as_ptr(),
                    p.cast(),
                    3,
                    1.0,
                ),
                GUMBEL_STATUS_INVALID_VALUE,
                &["y[1]"],
            );
        }
    }
    for bad in [f64::NAN, f64::INFINITY, NEG_INF] {
        let g = [1.0, 2.0, bad];
        unsafe {
            expect(
                gumbel_relaxed_bernoulli_backward_f64([0.5; 3].as_ptr(), g.as_ptr(), p, 3, 1.0),
                GUMBEL_STATUS_INVALID_VALUE,
                &["grad_out[2]", "finite"],
            );
        }
    }
    assert_eq!(out, [SENTINEL; 3]);
}

#[test]
fn overlapping_buffers_are_rejected() {
    let mut buf = [0.25f64; 16];
    let p = buf.as_mut_ptr();
    unsafe {
        // Concrete: out over y, out over logits (a (2, 2, 1) problem).
        expect(
            gumbel_concrete_log_prob_f64(p, p.add(8), p.add(2), 2, 2, 1, 1.0),
            GUMBEL_STATUS_OVERLAP,
            &["y", "out"],
        );
        expect(
            gumbel_exp_concrete_log_prob_f64(p, p.add(8), p.add(9), 2, 2, 1, 1.0),
            GUMBEL_STATUS_OVERLAP,
            &["logits", "out"],
        );
        expect(
            gumbel_log_softmax_f64(p, p.add(3), 2, 2, 1, 1.0, 0, 0),
            GUMBEL_STATUS_OVERLAP,
            &["logits", "out"],
        );
        expect(
            gumbel_relaxed_bernoulli_f64(p, p.add(2), 4, 1.0, false, 0, 0),
            GUMBEL_STATUS_OVERLAP,
            &["logits", "out"],
        );
        expect(
            gumbel_relaxed_bernoulli_backward_f64(p, p.add(8), p.add(3), 4, 1.0),
            GUMBEL_STATUS_OVERLAP,
            &["y", "grad_logits"],
        );
        expect(
            gumbel_relaxed_bernoulli_backward_f64(p, p.add(8), p.add(10), 4, 1.0),
            GUMBEL_STATUS_OVERLAP,
            &["grad_out", "grad_logits"],
        );
        expect(
            gumbel_relaxed_bernoulli_log_prob_f64(p, p.add(8), p, 4, 1.0),
            GUMBEL_STATUS_OVERLAP,
            &["y", "out"],
        );
        expect(
            gumbel_relaxed_bernoulli_log_prob_f64(p, p.add(8), p.add(11), 4, 1.0),
            GUMBEL_STATUS_OVERLAP,
            &["logits", "out"],
        );
        // Inputs may overlap each other: only outputs must be separate.
        expect(
            gumbel_relaxed_bernoulli_backward_f64(p, p, p.add(8), 4, 1.0),
            GUMBEL_STATUS_OK,
            &[],
        );
    }
    assert_eq!(buf[..8], [0.25; 8]);
}

#[test]
fn misaligned_pointers_are_rejected() {
    let mut raw = [0u64; 8];
    let odd = unsafe { raw.as_mut_ptr().cast::<u8>().add(1) };
    let (l, y, _) = problem();
    let mut out = [0.0f64; 6];
    unsafe {
        expect(
            gumbel_concrete_log_prob_f64(odd.cast(), l.as_ptr(), out.as_mut_ptr(), 2, 3, 1, 1.0),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["y"],
        );
        expect(
            gumbel_exp_concrete_log_prob_f64(y.as_ptr(), l.as_ptr(), odd.cast(), 2, 3, 1, 1.0),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["out"],
        );
        expect(
            gumbel_log_softmax_f32(odd.cast(), out.as_mut_ptr().cast(), 1, 2, 1, 1.0, 0, 0),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["logits"],
        );
        expect(
            gumbel_relaxed_bernoulli_f64(l.as_ptr(), odd.cast(), 2, 1.0, false, 0, 0),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["out"],
        );
        expect(
            gumbel_relaxed_bernoulli_backward_f32(
                [0.5f32; 2].as_ptr(),
                odd.cast(),
                out.as_mut_ptr().cast(),
                2,
                1.0,
            ),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["grad_out"],
        );
        expect(
            gumbel_relaxed_bernoulli_log_prob_f64(y.as_ptr(), odd.cast(), out.as_mut_ptr(), 2, 1.0),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["logits"],
        );
    }
}

#[test]
fn large_calls_report_the_first_bad_row_or_element() {
    // Large enough for the parallel checks: the first bad entry in memory
    // order is reported.
    let rows = 20_000;
    let classes = 2;
    let l = vec![0.0f64; rows * classes];
    let mut y = vec![0.5f64; rows * classes];
    y[2 * 15_000] = 0.7;
    y[2 * 17_000 + 1] = 0.0;
    let mut out = vec![SENTINEL; rows];
    unsafe {
        expect(
            gumbel_concrete_log_prob_f64(y.as_ptr(), l.as_ptr(), out.as_mut_ptr(), rows, 2, 1, 1.0),
            GUMBEL_STATUS_INVALID_VALUE,
            &["row 15000", "sums to"],
        );
    }
    assert!(out.iter().all(|&v| v == SENTINEL));
    let n = 100_000;
    let mut yb = vec![0.5f64; n];
    yb[70_000] = 1.0;
    yb[90_000] = 0.0;
    let mut ob = vec![SENTINEL; n];
    unsafe {
        expect(
            gumbel_relaxed_bernoulli_log_prob_f64(
                yb.as_ptr(),
                yb.as_ptr(),
                ob.as_mut_ptr(),
                n,
                1.0,
            ),
            GUMBEL_STATUS_INVALID_VALUE,
            &["y[70000]"],
        );
    }
    assert!(ob.iter().all(|&v| v == SENTINEL));
}
