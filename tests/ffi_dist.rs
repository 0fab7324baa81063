//! Every bad input of the `gumbel_dist_*` C functions gets its documented
//! status and a message, and leaves the outputs untouched; in-place calls,
//! empty arrays and the limits succeed.

use crate::common;

use std::ptr::{null, null_mut};

use common::expect;
use gumbel::ffi::*;

type Elementwise32 = unsafe extern "C" fn(*const f32, *mut f32, usize, f32, f32) -> gumbel_status;
type Elementwise64 = unsafe extern "C" fn(*const f64, *mut f64, usize, f64, f64) -> gumbel_status;
type Scalar32 = unsafe extern "C" fn(f32, f32, *mut f32) -> gumbel_status;
type Scalar64 = unsafe extern "C" fn(f64, f64, *mut f64) -> gumbel_status;

const ELEMENTWISE: [(&str, Elementwise32, Elementwise64, bool); 7] = [
    (
        "log_pdf",
        gumbel_dist_log_pdf_f32,
        gumbel_dist_log_pdf_f64,
        false,
    ),
    ("cdf", gumbel_dist_cdf_f32, gumbel_dist_cdf_f64, false),
    (
        "log_cdf",
        gumbel_dist_log_cdf_f32,
        gumbel_dist_log_cdf_f64,
        false,
    ),
    ("sf", gumbel_dist_sf_f32, gumbel_dist_sf_f64, false),
    (
        "log_sf",
        gumbel_dist_log_sf_f32,
        gumbel_dist_log_sf_f64,
        false,
    ),
    ("icdf", gumbel_dist_icdf_f32, gumbel_dist_icdf_f64, true),
    ("isf", gumbel_dist_isf_f32, gumbel_dist_isf_f64, true),
];

const SCALARS: [(&str, Scalar32, Scalar64); 4] = [
    ("mean", gumbel_dist_mean_f32, gumbel_dist_mean_f64),
    (
        "variance",
        gumbel_dist_variance_f32,
        gumbel_dist_variance_f64,
    ),
    ("mode", gumbel_dist_mode_f32, gumbel_dist_mode_f64),
    ("entropy", gumbel_dist_entropy_f32, gumbel_dist_entropy_f64),
];

const SENTINEL: f32 = 12345.0;

#[test]
fn null_pointers_and_empty_arrays() {
    let x = [0.5f32; 4];
    let mut out = [SENTINEL; 4];
    for (name, f32_fn, f64_fn, _) in ELEMENTWISE {
        unsafe {
            expect(
                f32_fn(null(), out.as_mut_ptr(), 4, 0.0, 1.0),
                GUMBEL_STATUS_NULL_POINTER,
                &["x", "NULL"],
            );
            expect(
                f32_fn(x.as_ptr(), null_mut(), 4, 0.0, 1.0),
                GUMBEL_STATUS_NULL_POINTER,
                &["out", "NULL"],
            );
            expect(
                f64_fn(null(), null_mut(), 1, 0.0, 1.0),
                GUMBEL_STATUS_NULL_POINTER,
                &["x"],
            );
            assert_eq!(
                f32_fn(null(), null_mut(), 0, 0.0, 1.0),
                GUMBEL_STATUS_OK,
                "{name}"
            );
            assert_eq!(
                f64_fn(null(), null_mut(), 0, 0.0, 1.0),
                GUMBEL_STATUS_OK,
                "{name}"
            );
        }
    }
    assert_eq!(out, [SENTINEL; 4]);
    for (name, f32_fn, f64_fn) in SCALARS {
        unsafe {
            expect(
                f32_fn(0.0, 1.0, null_mut()),
                GUMBEL_STATUS_NULL_POINTER,
                &["out"],
            );
            expect(
                f64_fn(0.0, 1.0, null_mut()),
                GUMBEL_STATUS_NULL_POINTER,
                &["out"],
            );
            let mut v = 0.0f64;
            assert_eq!(f64_fn(0.0, 1.0, &mut v), GUMBEL_STATUS_OK, "{name}");
        }
    }
    unsafe {
        expect(
            gumbel_dist_kl_f32(0.0, 1.0, 0.0, 1.0, null_mut()),
            GUMBEL_STATUS_NULL_POINTER,
            &["out"],
        );
        expect(
            gumbel_dist_kl_f64(0.0, 1.0, 0.0, 1.0, null_mut()),
            GUMBEL_STATUS_NULL_POINTER,
            &["out"],
        );
    }
}

#[test]
fn huge_sizes_and_misaligned_pointers_are_rejected() {
    let x = [0.5f64; 4];
    let mut out = [7.0f64; 4];
    let mut raw = [0u64; 8];
    let odd = unsafe { raw.as_mut_ptr().cast::<u8>().add(1) };
    for (_, f32_fn, f64_fn, _) in ELEMENTWISE {
        unsafe {
            expect(
                f64_fn(x.as_ptr(), out.as_mut_ptr(), usize::MAX / 8 + 1, 0.0, 1.0),
                GUMBEL_STATUS_SIZE_OVERFLOW,
                &["x"],
            );
            expect(
                f64_fn(x.as_ptr(), odd.cast(), 2, 0.0, 1.0),
                GUMBEL_STATUS_MISALIGNED_POINTER,
                &["out"],
            );
            expect(
                f32_fn(odd.cast(), odd.add(8).cast(), 2, 0.0, 1.0),
                GUMBEL_STATUS_MISALIGNED_POINTER,
                &["x"],
            );
        }
    }
    for (_, f32_fn, f64_fn) in SCALARS {
        unsafe {
            expect(
                f32_fn(0.0, 1.0, odd.cast()),
                GUMBEL_STATUS_MISALIGNED_POINTER,
                &["out"],
            );
            expect(
                f64_fn(0.0, 1.0, odd.cast()),
                GUMBEL_STATUS_MISALIGNED_POINTER,
                &["out"],
            );
        }
    }
    unsafe {
        expect(
            gumbel_dist_kl_f64(0.0, 1.0, 0.0, 1.0, odd.cast()),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["out"],
        );
    }
    assert_eq!(out, [7.0; 4]);
}

#[test]
fn bad_parameters_are_rejected() {
    let x = [0.5f32; 4];
    let mut out = [SENTINEL; 4];
    let bad = [
        (f32::NAN, 1.0, "loc"),
        (f32::INFINITY, 1.0, "loc"),
        (f32::NEG_INFINITY, 1.0, "loc"),
        (0.0, 0.0, "scale"),
        (0.0, -0.0, "scale"),
        (0.0, -1.0, "scale"),
        (0.0, f32::NAN, "scale"),
        (0.0, f32::INFINITY, "scale"),
    ];
    for (loc, scale, word) in bad {
        for (_, f32_fn, f64_fn, _) in ELEMENTWISE {
            unsafe {
                expect(
                    f32_fn(x.as_ptr(), out.as_mut_ptr(), 4, loc, scale),
                    GUMBEL_STATUS_INVALID_PARAMETER,
                    &[word],
                );
                let mut o = [0.0f64; 1];
                expect(
                    f64_fn([0.5].as_ptr(), o.as_mut_ptr(), 1, loc as f64, scale as f64),
                    GUMBEL_STATUS_INVALID_PARAMETER,
                    &[word],
                );
            }
        }
        for (_, f32_fn, f64_fn) in SCALARS {
            let (mut a, mut b) = (SENTINEL, 9.0f64);
            unsafe {
                expect(
                    f32_fn(loc, scale, &mut a),
                    GUMBEL_STATUS_INVALID_PARAMETER,
                    &[word],
                );
                expect(
                    f64_fn(loc as f64, scale as f64, &mut b),
                    GUMBEL_STATUS_INVALID_PARAMETER,
                    &[word],
                );
            }
            assert_eq!((a, b), (SENTINEL, 9.0));
        }
        let mut k = SENTINEL;
        unsafe {
            expect(
                gumbel_dist_kl_f32(loc, scale, 0.0, 1.0, &mut k),
                GUMBEL_STATUS_INVALID_PARAMETER,
                &[&format!("{word}1")],
            );
            expect(
                gumbel_dist_kl_f32(0.0, 1.0, loc, scale, &mut k),
                GUMBEL_STATUS_INVALID_PARAMETER,
                &[&format!("{word}2")],
            );
            let mut k64 = 9.0;
            expect(
                gumbel_dist_kl_f64(0.0, 1.0, loc as f64, scale as f64, &mut k64),
                GUMBEL_STATUS_INVALID_PARAMETER,
                &[&format!("{word}2")],
            );
            assert_eq!(k64, 9.0);
        }
        assert_eq!(k, SENTINEL);
    }
    assert_eq!(out, [SENTINEL; 4]);
    // Unlike gumbel_noise_*, no |loc| + 45 scale bound: nothing is drawn.
    let mut v = 0.0f32;
    unsafe {
        assert_eq!(
            gumbel_dist_cdf_f32(x.as_ptr(), out.as_mut_ptr(), 4, f32::MAX, 1e37),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_dist_mode_f32(f32::MAX, 1e37, &mut v),
            GUMBEL_STATUS_OK
        );
    }
    assert_eq!(v, f32::MAX);
}

#[test]
fn nan_and_out_of_domain_values_are_rejected_with_their_index() {
    for (name, f32_fn, f64_fn, probability) in ELEMENTWISE {
        let mut x = [0.25f32; 6];
        x[4] = f32::NAN;
        let mut out = [SENTINEL; 6];
        unsafe {
            expect(
                f32_fn(x.as_ptr(), out.as_mut_ptr(), 6, 0.0, 1.0),
                GUMBEL_STATUS_INVALID_VALUE,
                &["x[4]", "NaN", name],
            );
            // In place, too, and nothing is written.
            expect(
                f32_fn(x.as_ptr(), x.as_mut_ptr(), 6, 0.0, 1.0),
                GUMBEL_STATUS_INVALID_VALUE,
                &["x[4]"],
            );
        }
        assert_eq!(out, [SENTINEL; 6]);
        assert_eq!(x[..4], [0.25; 4]);
        let bad: &[f64] = if probability {
            &[
                -1e-300,
                -0.5,
                1.0 + f64::EPSILON,
                2.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
            ]
        } else {
            &[]
        };
        for &p in bad {
            let x = [0.5, p];
            let mut out = [9.0f64; 2];
            unsafe {
                expect(
                    f64_fn(x.as_ptr(), out.as_mut_ptr(), 2, 0.0, 1.0),
                    GUMBEL_STATUS_INVALID_VALUE,
                    &["x[1]", "[0, 1]", name],
                );
            }
            assert_eq!(out, [9.0; 2]);
        }
    }
}

#[test]
fn the_ends_of_the_domain_give_the_limits() {
    let inf = f64::INFINITY;
    let x = [-inf, inf];
    let p = [0.0, 1.0];
    let mut out = [0.0f64; 2];
    let cases: [(Elementwise64, [f64; 2], [f64; 2]); 7] = [
        (gumbel_dist_log_pdf_f64, x, [-inf, -inf]),
        (gumbel_dist_cdf_f64, x, [0.0, 1.0]),
        (gumbel_dist_log_cdf_f64, x, [-inf, 0.0]),
        (gumbel_dist_sf_f64, x, [1.0, 0.0]),
        (gumbel_dist_log_sf_f64, x, [0.0, -inf]),
        (gumbel_dist_icdf_f64, p, [-inf, inf]),
        (gumbel_dist_isf_f64, p, [inf, -inf]),
    ];
    for (f, input, want) in cases {
        unsafe {
            assert_eq!(
                f(input.as_ptr(), out.as_mut_ptr(), 2, 1.0, 2.0),
                GUMBEL_STATUS_OK
            )
        };
        assert_eq!(out, want);
    }
    // The examples through the C ABI, in float.
    let mut v = [0.0f32; 1];
    unsafe {
        assert_eq!(
            gumbel_dist_log_pdf_f32([-5.0].as_ptr(), v.as_mut_ptr(), 1, 0.0, 1.0),
            GUMBEL_STATUS_OK
        );
        assert!((v[0] - -143.413_16).abs() < 1e-4, "{}", v[0]);
        assert_eq!(
            gumbel_dist_sf_f32([40.0].as_ptr(), v.as_mut_ptr(), 1, 0.0, 1.0),
            GUMBEL_STATUS_OK
        );
        assert!(
            (v[0] as f64 / 4.248_354_255_291_589e-18 - 1.0).abs() < 1.2e-7,
            "{}",
            v[0]
        );
    }
}

#[test]
fn in_place_equals_out_of_place_and_partial_overlap_is_rejected() {
    let n = 64;
    let x: Vec<f64> = (0..n).map(|i| -3.0 + 0.2 * i as f64).collect();
    let p: Vec<f64> = (0..n).map(|i| i as f64 / (n - 1) as f64).collect();
    for (name, _, f64_fn, probability) in ELEMENTWISE {
        let input = if probability { &p } else { &x };
        let mut out = vec![0.0f64; n];
        let mut buf = input.clone();
        unsafe {
            assert_eq!(
                f64_fn(input.as_ptr(), out.as_mut_ptr(), n, 0.5, 1.5),
                GUMBEL_STATUS_OK
            );
            assert_eq!(
                f64_fn(buf.as_ptr(), buf.as_mut_ptr(), n, 0.5, 1.5),
                GUMBEL_STATUS_OK
            );
        }
        assert!(
            out.iter()
                .zip(&buf)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{name}"
        );
        // Shifted by one element, or only the input's end: rejected.
        let mut buf = input.clone();
        let q = buf.as_mut_ptr();
        unsafe {
            expect(
                f64_fn(q, q.add(1), n - 1, 0.5, 1.5),
                GUMBEL_STATUS_OVERLAP,
                &["overlap", "x", "out"],
            );
            expect(
                f64_fn(q.add(10), q, 20, 0.5, 1.5),
                GUMBEL_STATUS_OVERLAP,
                &[],
            );
            // Adjacent halves do not overlap.
            assert_eq!(f64_fn(q, q.add(n / 2), n / 2, 0.5, 1.5), GUMBEL_STATUS_OK);
        }
        assert_eq!(buf[..n / 2], input[..n / 2]);
    }
}

#[test]
fn scalar_functions_write_their_value() {
    let gamma = 0.577_215_664_901_532_9f64;
    let mut v = 0.0f64;
    unsafe {
        assert_eq!(gumbel_dist_mean_f64(1.0, 2.0, &mut v), GUMBEL_STATUS_OK);
        assert_eq!(v, 1.0 + 2.0 * gamma);
        assert_eq!(gumbel_dist_variance_f64(1.0, 2.0, &mut v), GUMBEL_STATUS_OK);
        assert!((v - 4.0 * std::f64::consts::PI.powi(2) / 6.0).abs() < 1e-15);
        assert_eq!(gumbel_dist_mode_f64(1.0, 2.0, &mut v), GUMBEL_STATUS_OK);
        assert_eq!(v, 1.0);
        assert_eq!(gumbel_dist_entropy_f64(1.0, 2.0, &mut v), GUMBEL_STATUS_OK);
        assert!((v - (2f64.ln() + gamma + 1.0)).abs() < 1e-15);
        assert_eq!(
            gumbel_dist_kl_f64(1.0, 2.0, 1.0, 2.0, &mut v),
            GUMBEL_STATUS_OK
        );
        assert_eq!(v, 0.0);
        // KL(G(0,1) || G(1,1)) = 0 - 1 + 0 - 1 + e^1 Gamma(2) = e - 2.
        assert_eq!(
            gumbel_dist_kl_f64(0.0, 1.0, 1.0, 1.0, &mut v),
            GUMBEL_STATUS_OK
        );
        assert!((v - (std::f64::consts::E - 2.0)).abs() < 1e-15, "{v}");
        let mut w = 0.0f32;
        assert_eq!(
            gumbel_dist_kl_f32(0.0, 1.0, 1.0, 1.0, &mut w),
            GUMBEL_STATUS_OK
        );
        assert_eq!(w, (std::f64::consts::E - 2.0) as f32);
    }
}
