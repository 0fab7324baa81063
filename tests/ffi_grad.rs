//! Every bad input of the gradient and per-row temperature functions of the
//! C ABI gets its documented status and a message, and leaves the outputs
//! untouched; good edge cases succeed.

use crate::common;

use std::ptr::{null, null_mut};

use common::expect;
use gumbel::ffi::*;

const SENTINEL: f64 = 12345.0;

/// A valid soft sample of shape (2, 3, 2) (each row sums to 1), an incoming
/// gradient, and per-row temperatures.
fn inputs() -> ([f64; 12], [f64; 12], [f64; 4]) {
    // Rows (o, i): memory (o, k, i) -> (o * 3 + k) * 2 + i.
    let y = [
        0.2, 0.1, 0.3, 0.6, 0.5, 0.3, //
        1.0, 0.25, 0.0, 0.25, 0.0, 0.5,
    ];
    let v = [
        1.0, -2.0, 0.5, 3.0, -1.0, 0.0, 2.0, 1.0, -4.0, 0.5, 0.25, 1.5,
    ];
    (y, v, [0.5, 1.0, 2.0, 0.75])
}

#[test]
fn good_calls_succeed_and_match_the_scalar_forms() {
    let (y, v, _) = inputs();
    let mut g = [SENTINEL; 12];
    let mut gp = [SENTINEL; 12];
    let mut t = SENTINEL;
    let mut tp = [SENTINEL; 4];
    unsafe {
        assert_eq!(
            gumbel_softmax_backward_f64(y.as_ptr(), v.as_ptr(), g.as_mut_ptr(), 2, 3, 2, 0.5),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_softmax_backward_per_row_f64(
                y.as_ptr(),
                v.as_ptr(),
                gp.as_mut_ptr(),
                2,
                3,
                2,
                [0.5; 4].as_ptr()
            ),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_softmax_grad_tau_f64(y.as_ptr(), v.as_ptr(), 2, 3, 2, 0.5, &mut t),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_softmax_grad_tau_per_row_f64(
                y.as_ptr(),
                v.as_ptr(),
                2,
                3,
                2,
                [0.5; 4].as_ptr(),
                tp.as_mut_ptr()
            ),
            GUMBEL_STATUS_OK
        );
        // The inputs may alias each other: v = y.
        assert_eq!(
            gumbel_softmax_backward_f64(y.as_ptr(), y.as_ptr(), g.as_mut_ptr(), 2, 3, 2, 0.5),
            GUMBEL_STATUS_OK
        );
    }
    // Row 2 = (o 1, i 0) is one-hot on class 0: its gradient and its
    // temperature gradient vanish (1 ln 1 = 0 ln 0 = 0).
    assert_eq!([gp[6], gp[8], gp[10]], [0.0; 3]);
    assert_eq!(tp[2], 0.0);
    // Masked classes (y == 0) get exact zeros.
    assert_eq!(gp[8].to_bits(), 0);
    assert!((t - tp.iter().sum::<f64>()).abs() < 1e-15);
    // Row 0 = (o 0, i 0): y = [0.2, 0.3, 0.5], v = [1, 0.5, -1],
    // <v, y> = 0.2 + 0.15 - 0.5 = -0.15, so class 0 gets
    // 0.2 * (1 + 0.15) / 0.5 = 0.46.
    assert!((gp[0] - 0.46).abs() < 1e-15, "{}", gp[0]);
}

#[test]
fn null_pointers_with_nonzero_sizes_are_rejected() {
    let (y, v, tau) = inputs();
    let mut g = [SENTINEL; 12];
    let mut t = SENTINEL;
    let mut tp = [SENTINEL; 4];
    let (yp, vp, gp, taup) = (y.as_ptr(), v.as_ptr(), g.as_mut_ptr(), tau.as_ptr());
    unsafe {
        let back = |y, v, g| gumbel_softmax_backward_f64(y, v, g, 2, 3, 2, 1.0);
        expect(
            back(null(), vp, gp),
            GUMBEL_STATUS_NULL_POINTER,
            &["y_soft", "NULL"],
        );
        expect(
            back(yp, null(), gp),
            GUMBEL_STATUS_NULL_POINTER,
            &["grad_out"],
        );
        expect(
            back(yp, vp, null_mut()),
            GUMBEL_STATUS_NULL_POINTER,
            &["grad_logits"],
        );
        let back_rows = |tau, g| gumbel_softmax_backward_per_row_f64(yp, vp, g, 2, 3, 2, tau);
        expect(back_rows(null(), gp), GUMBEL_STATUS_NULL_POINTER, &["tau"]);
        expect(
            back_rows(taup, null_mut()),
            GUMBEL_STATUS_NULL_POINTER,
            &["grad_logits"],
        );
        expect(
            gumbel_softmax_grad_tau_f64(null(), vp, 2, 3, 2, 1.0, &mut t),
            GUMBEL_STATUS_NULL_POINTER,
            &["y_soft"],
        );
        expect(
            gumbel_softmax_grad_tau_f64(yp, vp, 2, 3, 2, 1.0, null_mut()),
            GUMBEL_STATUS_NULL_POINTER,
            &["grad_tau"],
        );
        expect(
            gumbel_softmax_grad_tau_per_row_f64(yp, vp, 2, 3, 2, null(), tp.as_mut_ptr()),
            GUMBEL_STATUS_NULL_POINTER,
            &["tau"],
        );
        expect(
            gumbel_softmax_grad_tau_per_row_f64(yp, null(), 2, 3, 2, taup, tp.as_mut_ptr()),
            GUMBEL_STATUS_NULL_POINTER,
            &["grad_out"],
        );
        expect(
            gumbel_softmax_grad_tau_per_row_f64(yp, vp, 2, 3, 2, taup, null_mut()),
            GUMBEL_STATUS_NULL_POINTER,
            &["grad_tau"],
        );
        let l = [0.0f32; 12];
        let mut out = [SENTINEL as f32; 12];
        expect(
            gumbel_softmax_per_row_f32(l.as_ptr(), out.as_mut_ptr(), 2, 3, 2, null(), true, 0, 0),
            GUMBEL_STATUS_NULL_POINTER,
            &["tau"],
        );
        expect(
            gumbel_softmax_per_row_f32(
                null(),
                out.as_mut_ptr(),
                2,
                3,
                2,
                [1.0f32; 4].as_ptr(),
                false,
                0,
                0,
            ),
            GUMBEL_STATUS_NULL_POINTER,
            &["logits"],
        );
        expect(
            gumbel_tempered_softmax_per_row_f32(l.as_ptr(), out.as_mut_ptr(), 2, 3, 2, null()),
            GUMBEL_STATUS_NULL_POINTER,
            &["tau"],
        );
        expect(
            gumbel_tempered_softmax_per_row_f64(null(), null_mut(), 1, 3, 1, [1.0].as_ptr()),
            GUMBEL_STATUS_NULL_POINTER,
            &["logits"],
        );
        let mut g32 = [0.0f32; 12];
        expect(
            gumbel_softmax_backward_f32(
                null(),
                [0.0f32; 12].as_ptr(),
                g32.as_mut_ptr(),
                2,
                3,
                2,
                1.0,
            ),
            GUMBEL_STATUS_NULL_POINTER,
            &["y_soft"],
        );
        assert_eq!(out, [SENTINEL as f32; 12]);
    }
    assert_eq!(g, [SENTINEL; 12]);
    assert_eq!(t, SENTINEL);
    assert_eq!(tp, [SENTINEL; 4]);
}

#[test]
fn empty_shapes_are_no_ops_but_grad_tau_is_always_written() {
    let mut t = SENTINEL;
    let mut t32 = SENTINEL as f32;
    unsafe {
        assert_eq!(
            gumbel_softmax_backward_f64(null(), null(), null_mut(), 0, 3, 1, 1.0),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_softmax_backward_per_row_f32(null(), null(), null_mut(), 4, 3, 0, null()),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_softmax_grad_tau_per_row_f64(null(), null(), 0, 2, 2, null(), null_mut()),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_softmax_per_row_f64(null(), null_mut(), 0, 2, 2, null(), false, 0, 0),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_tempered_softmax_per_row_f32(null(), null_mut(), 3, 2, 0, null()),
            GUMBEL_STATUS_OK
        );
        // The sum over no rows is 0, and it has somewhere to go.
        assert_eq!(
            gumbel_softmax_grad_tau_f64(null(), null(), 0, 3, 1, 1.0, &mut t),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_softmax_grad_tau_f32(null(), null(), 5, 3, 0, 1.0, &mut t32),
            GUMBEL_STATUS_OK
        );
        expect(
            gumbel_softmax_grad_tau_f64(null(), null(), 0, 3, 1, 1.0, null_mut()),
            GUMBEL_STATUS_NULL_POINTER,
            &["grad_tau"],
        );
    }
    assert_eq!((t, t32), (0.0, 0.0));
}

#[test]
fn bad_shapes_are_rejected() {
    let (y, v, tau) = inputs();
    let mut g = [SENTINEL; 12];
    let mut t = SENTINEL;
    unsafe {
        expect(
            gumbel_softmax_backward_f64(y.as_ptr(), v.as_ptr(), g.as_mut_ptr(), 4, 0, 3, 1.0),
            GUMBEL_STATUS_INVALID_SHAPE,
            &["classes"],
        );
        expect(
            gumbel_softmax_grad_tau_f64(y.as_ptr(), v.as_ptr(), 1, 0, 1, 1.0, &mut t),
            GUMBEL_STATUS_INVALID_SHAPE,
            &["classes"],
        );
        expect(
            gumbel_softmax_backward_per_row_f64(
                y.as_ptr(),
                v.as_ptr(),
                g.as_mut_ptr(),
                usize::MAX,
                2,
                1,
                tau.as_ptr(),
            ),
            GUMBEL_STATUS_SIZE_OVERFLOW,
            &["size_t"],
        );
        // Fits in size_t, not in the address space once multiplied by 8 bytes.
        expect(
            gumbel_softmax_grad_tau_per_row_f64(
                y.as_ptr(),
                v.as_ptr(),
                usize::MAX / 8,
                1,
                1,
                tau.as_ptr(),
                g.as_mut_ptr(),
            ),
            GUMBEL_STATUS_SIZE_OVERFLOW,
            &["y_soft"],
        );
        expect(
            gumbel_softmax_per_row_f64(
                y.as_ptr(),
                g.as_mut_ptr(),
                1,
                usize::MAX / 4,
                1,
                tau.as_ptr(),
                false,
                0,
                0,
            ),
            GUMBEL_STATUS_SIZE_OVERFLOW,
            &["logits"],
        );
    }
    assert_eq!(g, [SENTINEL; 12]);
    assert_eq!(t, SENTINEL);
}

#[test]
fn bad_temperatures_are_rejected_with_their_row() {
    let (y, v, _) = inputs();
    let l = [0.0f64; 12];
    for bad in [0.0, -0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut g = [SENTINEL; 12];
        let mut t = SENTINEL;
        let mut tp = [SENTINEL; 4];
        let mut tau = [1.0; 4];
        tau[3] = bad;
        unsafe {
            expect(
                gumbel_softmax_backward_f64(y.as_ptr(), v.as_ptr(), g.as_mut_ptr(), 2, 3, 2, bad),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau"],
            );
            expect(
                gumbel_softmax_grad_tau_f64(y.as_ptr(), v.as_ptr(), 2, 3, 2, bad, &mut t),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau"],
            );
            expect(
                gumbel_softmax_backward_per_row_f64(
                    y.as_ptr(),
                    v.as_ptr(),
                    g.as_mut_ptr(),
                    2,
                    3,
                    2,
                    tau.as_ptr(),
                ),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau", "row 3"],
            );
            expect(
                gumbel_softmax_grad_tau_per_row_f64(
                    y.as_ptr(),
                    v.as_ptr(),
                    2,
                    3,
                    2,
                    tau.as_ptr(),
                    tp.as_mut_ptr(),
                ),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["row 3"],
            );
            for hard in [false, true] {
                expect(
                    gumbel_softmax_per_row_f64(
                        l.as_ptr(),
                        g.as_mut_ptr(),
                        2,
                        3,
                        2,
                        tau.as_ptr(),
                        hard,
                        0,
                        0,
                    ),
                    GUMBEL_STATUS_INVALID_TEMPERATURE,
                    &["row 3"],
                );
            }
            expect(
                gumbel_tempered_softmax_per_row_f64(
                    l.as_ptr(),
                    g.as_mut_ptr(),
                    2,
                    3,
                    2,
                    tau.as_ptr(),
                ),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["row 3"],
            );
            let tau32 = tau.map(|x| x as f32);
            let mut out32 = [0.0f32; 12];
            expect(
                gumbel_softmax_per_row_f32(
                    [0.0f32; 12].as_ptr(),
                    out32.as_mut_ptr(),
                    2,
                    3,
                    2,
                    tau32.as_ptr(),
                    false,
                    0,
                    0,
                ),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["row 3"],
            );
        }
        assert_eq!(g, [SENTINEL; 12]);
        assert_eq!(t, SENTINEL);
        assert_eq!(tp, [SENTINEL; 4]);
    }
    // A subnormal temperature is valid and a masked class still gets 0.
    let mut g = [SENTINEL; 12];
    unsafe {
        assert_eq!(
            gumbel_softmax_backward_f64(
                y.as_ptr(),
                v.as_ptr(),
                g.as_mut_ptr(),
                2,
                3,
                2,
                f64::from_bits(1)
            ),
            GUMBEL_STATUS_OK
        );
    }
    assert_eq!(g[8].to_bits(), 0);
    assert!(g.iter().all(|g| !g.is_nan()));
}

#[test]
fn bad_soft_samples_and_gradients_are_rejected_with_their_position() {
    // Shape (2, 3, 2): memory index 7 is o = 1, k = 0, i = 1, so row 3, class 0.
    let (y, v, tau) = inputs();
    for bad in [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1e-300,
        1.0 + 1e-15,
        2.0,
    ] {
        let mut by = y;
        by[7] = bad;
        let mut g = [SENTINEL; 12];
        let mut t = SENTINEL;
        let mut tp = [SENTINEL; 4];
        unsafe {
            expect(
                gumbel_softmax_backward_f64(by.as_ptr(), v.as_ptr(), g.as_mut_ptr(), 2, 3, 2, 1.0),
                GUMBEL_STATUS_INVALID_VALUE,
                &["y_soft", "row 3, class 0"],
            );
            expect(
                gumbel_softmax_grad_tau_f64(by.as_ptr(), v.as_ptr(), 2, 3, 2, 1.0, &mut t),
                GUMBEL_STATUS_INVALID_VALUE,
                &["y_soft", "row 3, class 0"],
            );
            expect(
                gumbel_softmax_backward_per_row_f64(
                    by.as_ptr(),
                    v.as_ptr(),
                    g.as_mut_ptr(),
                    2,
                    3,
                    2,
                    tau.as_ptr(),
                ),
                GUMBEL_STATUS_INVALID_VALUE,
                &["y_soft", "row 3"],
            );
            expect(
                gumbel_softmax_grad_tau_per_row_f64(
                    by.as_ptr(),
                    v.as_ptr(),
                    2,
                    3,
                    2,
                    tau.as_ptr(),
                    tp.as_mut_ptr(),
                ),
                GUMBEL_STATUS_INVALID_VALUE,
                &["y_soft"],
            );
            let by32 = by.map(|x| x as f32);
            let mut g32 = [SENTINEL as f32; 12];
            expect(
                gumbel_softmax_backward_f32(
                    by32.as_ptr(),
                    v.map(|x| x as f32).as_ptr(),
                    g32.as_mut_ptr(),
                    2,
                    3,
                    2,
                    1.0,
                ),
                // Rounded to float, 1 + 1e-15 is 1 and -1e-300 is -0: valid.
                if (0.0..=1.0).contains(&by32[7]) {
                    GUMBEL_STATUS_OK
                } else {
                    GUMBEL_STATUS_INVALID_VALUE
                },
                &[],
            );
        }
        // `g` is not compared: after an invalid value the backward's output
        // is unspecified (the gradient error contract in the header); its
        // status and message are checked above. The `grad_tau` outputs stay
        // untouched.
        assert_eq!(t, SENTINEL);
        assert_eq!(tp, [SENTINEL; 4]);
    }
    // Index 4 is o = 0, k = 2, i = 0: row 0, class 2.
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut bv = v;
        bv[4] = bad;
        let mut g = [SENTINEL; 12];
        let mut t = SENTINEL;
        let mut tp = [SENTINEL; 4];
        unsafe {
            expect(
                gumbel_softmax_backward_f64(y.as_ptr(), bv.as_ptr(), g.as_mut_ptr(), 2, 3, 2, 1.0),
                GUMBEL_STATUS_INVALID_VALUE,
                &["grad_out", "row 0, class 2", "finite"],
            );
            expect(
                gumbel_softmax_grad_tau_f64(y.as_ptr(), bv.as_ptr(), 2, 3, 2, 1.0, &mut t),
                GUMBEL_STATUS_INVALID_VALUE,
                &["grad_out", "row 0, class 2"],
            );
            expect(
                gumbel_softmax_backward_per_row_f64(
                    y.as_ptr(),
                    bv.as_ptr(),
                    g.as_mut_ptr(),
                    2,
                    3,
                    2,
                    tau.as_ptr(),
                ),
                GUMBEL_STATUS_INVALID_VALUE,
                &["grad_out"],
            );
            expect(
                gumbel_softmax_grad_tau_per_row_f64(
                    y.as_ptr(),
                    bv.as_ptr(),
                    2,
                    3,
                    2,
                    tau.as_ptr(),
                    tp.as_mut_ptr(),
                ),
                GUMBEL_STATUS_INVALID_VALUE,
                &["grad_out"],
            );
        }
        // `g` is not compared: after an invalid value the backward's output
        // is unspecified (the gradient error contract in the header); its
        // status and message are checked above. The `grad_tau` outputs stay
        // untouched.
        assert_eq!(t, SENTINEL);
        assert_eq!(tp, [SENTINEL; 4]);
    }
}

#[test]
fn invalid_logits_in_the_per_row_forward_are_rejected() {
    let tau = [1.0f64; 4];
    let mut out = [SENTINEL; 12];
    let mut l = [0.0f64; 12];
    l[7] = f64::NAN;
    unsafe {
        expect(
            gumbel_softmax_per_row_f64(
                l.as_ptr(),
                out.as_mut_ptr(),
                2,
                3,
                2,
                tau.as_ptr(),
                false,
                0,
                0,
            ),
            GUMBEL_STATUS_INVALID_LOGITS,
            &["row 3", "class 0"],
        );
        l[7] = 0.0;
        // Row 1 = (o 0, i 1): memory 1, 3, 5.
        for k in [1, 3, 5] {
            l[k] = f64::NEG_INFINITY;
        }
        expect(
            gumbel_tempered_softmax_per_row_f64(
                l.as_ptr(),
                out.as_mut_ptr(),
                2,
                3,
                2,
                tau.as_ptr(),
            ),
            GUMBEL_STATUS_ALL_MASKED,
            &["row 1"],
        );
    }
    assert_eq!(out, [SENTINEL; 12]);
}

#[test]
fn overlapping_buffers_are_rejected() {
    let mut buf = [0.25f64; 64];
    let p = buf.as_mut_ptr();
    // Shape (1, 4, 2): 8 elements, 2 rows.
    unsafe {
        let tau = [1.0, 2.0];
        expect(
            gumbel_softmax_backward_f64(p, p.add(16), p.add(4), 1, 4, 2, 1.0),
            GUMBEL_STATUS_OVERLAP,
            &["y_soft", "grad_logits"],
        );
        expect(
            gumbel_softmax_backward_f64(p, p.add(16), p.add(20), 1, 4, 2, 1.0),
            GUMBEL_STATUS_OVERLAP,
            &["grad_out", "grad_logits"],
        );
        expect(
            gumbel_softmax_backward_per_row_f64(p, p.add(8), p.add(16), 1, 4, 2, p.add(23)),
            GUMBEL_STATUS_OVERLAP,
            &["tau", "grad_logits"],
        );
        expect(
            gumbel_softmax_grad_tau_f64(p, p.add(8), 1, 4, 2, 1.0, p.add(3)),
            GUMBEL_STATUS_OVERLAP,
            &["y_soft", "grad_tau"],
        );
        expect(
            gumbel_softmax_grad_tau_per_row_f64(p, p.add(8), 1, 4, 2, p.add(16), p.add(17)),
            GUMBEL_STATUS_OVERLAP,
            &["tau", "grad_tau"],
        );
        expect(
            gumbel_softmax_grad_tau_per_row_f64(p, p.add(8), 1, 4, 2, tau.as_ptr(), p.add(15)),
            GUMBEL_STATUS_OVERLAP,
            &["grad_out", "grad_tau"],
        );
        expect(
            gumbel_softmax_per_row_f64(p, p.add(8), 1, 4, 2, p.add(9), false, 0, 0),
            GUMBEL_STATUS_OVERLAP,
            &["tau", "out"],
        );
        expect(
            gumbel_softmax_per_row_f64(p, p.add(7), 1, 4, 2, tau.as_ptr(), true, 0, 0),
            GUMBEL_STATUS_OVERLAP,
            &["logits", "out"],
        );
        expect(
            gumbel_tempered_softmax_per_row_f64(p.add(8), p, 1, 4, 2, p.add(6)),
            GUMBEL_STATUS_OVERLAP,
            &["tau"],
        );
        // Adjacent buffers do not overlap; inputs may share memory.
        assert_eq!(
            gumbel_softmax_backward_per_row_f64(p, p, p.add(8), 1, 4, 2, p.add(16)),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_softmax_per_row_f64(p.add(20), p.add(30), 1, 4, 2, p.add(28), false, 0, 0),
            GUMBEL_STATUS_OK
        );
    }
    assert_eq!(buf[..8], [0.25; 8]);
}

#[test]
fn misaligned_pointers_are_rejected() {
    let mut raw = [0u64; 16];
    let odd = unsafe { raw.as_mut_ptr().cast::<u8>().add(1) };
    let (y, v, tau) = inputs();
    let mut g = [SENTINEL; 12];
    unsafe {
        expect(
            gumbel_softmax_backward_f64(odd.cast(), v.as_ptr(), g.as_mut_ptr(), 2, 3, 2, 1.0),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["y_soft"],
        );
        expect(
            gumbel_softmax_backward_per_row_f64(
                y.as_ptr(),
                v.as_ptr(),
                g.as_mut_ptr(),
                2,
                3,
                2,
                odd.cast(),
            ),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["tau"],
        );
        expect(
            gumbel_softmax_grad_tau_f32(
                [0.5f32; 12].as_ptr(),
                [0.0f32; 12].as_ptr(),
                2,
                3,
                2,
                1.0,
                odd.cast(),
            ),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["grad_tau"],
        );
        expect(
            gumbel_softmax_grad_tau_per_row_f64(
                y.as_ptr(),
                v.as_ptr(),
                2,
                3,
                2,
                tau.as_ptr(),
                odd.cast(),
            ),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["grad_tau"],
        );
        expect(
            gumbel_softmax_per_row_f32(
                [0.0f32; 12].as_ptr(),
                odd.cast(),
                2,
                3,
                2,
                [1.0f32; 4].as_ptr(),
                false,
                0,
                0,
            ),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["out"],
        );
    }
    assert_eq!(g, [SENTINEL; 12]);
}
