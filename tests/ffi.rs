//! Every bad input of the C ABI gets its documented status and a message,
//! and leaves the outputs untouched; good edge cases succeed.

use crate::common;

use std::ffi::CStr;
use std::ptr::{null, null_mut};

use common::expect;
use gumbel::ffi::*;

const SENTINEL: f32 = 12345.0;

#[test]
fn null_pointers_with_nonzero_sizes_are_rejected() {
    let l = [0.0f32; 6];
    let mut y = [SENTINEL; 6];
    let mut idx = [-7i64; 2];
    unsafe {
        expect(
            gumbel_softmax_f32(null(), y.as_mut_ptr(), 2, 3, 1, 1.0, false, 0, 0),
            GUMBEL_STATUS_NULL_POINTER,
            &["logits", "NULL"],
        );
        expect(
            gumbel_softmax_f32(l.as_ptr(), null_mut(), 2, 3, 1, 1.0, true, 0, 0),
            GUMBEL_STATUS_NULL_POINTER,
            &["out"],
        );
        expect(
            gumbel_sample_f32(l.as_ptr(), null_mut(), 2, 3, 1, 0, 0),
            GUMBEL_STATUS_NULL_POINTER,
            &["indices"],
        );
        expect(
            gumbel_sample_f64(null(), idx.as_mut_ptr(), 2, 3, 1, 0, 0),
            GUMBEL_STATUS_NULL_POINTER,
            &["logits"],
        );
        expect(
            gumbel_tempered_softmax_f32(null(), y.as_mut_ptr(), 2, 3, 1, 1.0),
            GUMBEL_STATUS_NULL_POINTER,
            &["logits"],
        );
        expect(
            gumbel_noise_f32(null_mut(), 4, 0.0, 1.0, 0, 0),
            GUMBEL_STATUS_NULL_POINTER,
            &["out"],
        );
        expect(
            gumbel_noise_f64(null_mut(), 1, 0.0, 1.0, 0, 0),
            GUMBEL_STATUS_NULL_POINTER,
            &["out"],
        );
    }
    assert_eq!(y, [SENTINEL; 6]);
    assert_eq!(idx, [-7; 2]);
}

#[test]
fn empty_shapes_are_no_ops_even_with_null_pointers() {
    unsafe {
        assert_eq!(
            gumbel_softmax_f32(null(), null_mut(), 0, 3, 1, 1.0, false, 0, 0),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_softmax_f64(null(), null_mut(), 5, 3, 0, 1.0, true, 0, 0),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_sample_f32(null(), null_mut(), 0, 3, 4, 0, 0),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_tempered_softmax_f64(null(), null_mut(), 0, 1, 1, 2.0),
            GUMBEL_STATUS_OK
        );
        assert_eq!(
            gumbel_noise_f32(null_mut(), 0, 0.0, 1.0, 0, 0),
            GUMBEL_STATUS_OK
        );
    }
    assert_eq!(gumbel_streams(0, 3, 1), 0);
}

#[test]
fn bad_shapes_are_rejected() {
    let l = [0.0f32; 4];
    let mut y = [SENTINEL; 4];
    let mut idx = [0i64; 4];
    unsafe {
        expect(
            gumbel_softmax_f32(l.as_ptr(), y.as_mut_ptr(), 4, 0, 1, 1.0, false, 0, 0),
            GUMBEL_STATUS_INVALID_SHAPE,
            &["classes"],
        );
        expect(
            gumbel_sample_f32(l.as_ptr(), idx.as_mut_ptr(), 0, 0, 0, 0, 0),
            GUMBEL_STATUS_INVALID_SHAPE,
            &["classes"],
        );
        expect(
            gumbel_softmax_f32(
                l.as_ptr(),
                y.as_mut_ptr(),
                usize::MAX,
                2,
                1,
                1.0,
                false,
                0,
                0,
            ),
            GUMBEL_STATUS_SIZE_OVERFLOW,
            &["size_t"],
        );
        expect(
            gumbel_sample_f64(null(), idx.as_mut_ptr(), 1 << 40, 1 << 20, 1 << 10, 0, 0),
            GUMBEL_STATUS_SIZE_OVERFLOW,
            &[],
        );
        // Fits in size_t but not in the address space once multiplied by 4 bytes.
        expect(
            gumbel_softmax_f32(
                l.as_ptr(),
                y.as_mut_ptr(),
                usize::MAX / 4,
                1,
                1,
                1.0,
                false,
                0,
                0,
            ),
            GUMBEL_STATUS_SIZE_OVERFLOW,
            &["logits"],
        );
        expect(
            gumbel_noise_f64(y.as_mut_ptr().cast(), usize::MAX / 8 + 1, 0.0, 1.0, 0, 0),
            GUMBEL_STATUS_SIZE_OVERFLOW,
            &["out"],
        );
    }
    assert_eq!(gumbel_streams(3, 0, 1), 0);
    assert_eq!(gumbel_streams(usize::MAX, 2, 1), 0);
    assert_eq!(y, [SENTINEL; 4]);
    assert_eq!(idx, [0; 4]);
}

#[test]
fn bad_temperatures_are_rejected_and_subnormal_ones_work() {
    let l = [0.5f32, -1.0, 2.0];
    for tau in [
        0.0f32,
        -0.0,
        -1.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ] {
        let mut y = [SENTINEL; 3];
        unsafe {
            expect(
                gumbel_softmax_f32(l.as_ptr(), y.as_mut_ptr(), 1, 3, 1, tau, false, 0, 0),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau"],
            );
            expect(
                gumbel_softmax_f32(l.as_ptr(), y.as_mut_ptr(), 1, 3, 1, tau, true, 0, 0),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau"],
            );
            expect(
                gumbel_tempered_softmax_f32(l.as_ptr(), y.as_mut_ptr(), 1, 3, 1, tau),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau"],
            );
        }
        assert_eq!(y, [SENTINEL; 3]);
        let mut y64 = [0.0f64; 3];
        let l64 = [0.5f64, -1.0, 2.0];
        unsafe {
            expect(
                gumbel_softmax_f64(
                    l64.as_ptr(),
                    y64.as_mut_ptr(),
                    1,
                    3,
                    1,
                    tau as f64,
                    false,
                    0,
                    0,
                ),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau"],
            );
        }
    }
    let mut y = [SENTINEL; 3];
    let tiny = f32::from_bits(1);
    unsafe {
        assert_eq!(
            gumbel_softmax_f32(l.as_ptr(), y.as_mut_ptr(), 1, 3, 1, tiny, false, 0, 0),
            GUMBEL_STATUS_OK
        );
    }
    assert_eq!(y.iter().filter(|&&v| v == 1.0).count(), 1, "{y:?}");
    assert_eq!(y.iter().filter(|&&v| v == 0.0).count(), 2, "{y:?}");
}

#[test]
fn bad_noise_parameters_are_rejected() {
    let mut g = [SENTINEL; 8];
    for (loc, scale) in [
        (f32::NAN, 1.0),
        (f32::INFINITY, 1.0),
        (f32::NEG_INFINITY, 1.0),
        (0.0, 0.0),
        (0.0, -2.0),
        (0.0, f32::NAN),
        (0.0, f32::INFINITY),
        (f32::MAX, 1e37),
    ] {
        unsafe {
            expect(
                gumbel_noise_f32(g.as_mut_ptr(), 8, loc, scale, 0, 0),
                GUMBEL_STATUS_INVALID_PARAMETER,
                &[],
            );
        }
    }
    assert_eq!(g, [SENTINEL; 8]);
    let mut h = [0.0f64; 2];
    unsafe {
        expect(
            gumbel_noise_f64(h.as_mut_ptr(), 2, 0.0, -1.0, 0, 0),
            GUMBEL_STATUS_INVALID_PARAMETER,
            &["scale"],
        );
        expect(
            gumbel_noise_f64(h.as_mut_ptr(), 2, f64::NAN, 1.0, 0, 0),
            GUMBEL_STATUS_INVALID_PARAMETER,
            &["loc"],
        );
    }
}

#[test]
fn nan_and_positive_infinite_logits_are_rejected_with_their_position() {
    // Shape (2, 3, 2): memory index 7 is o = 1, k = 0, i = 1, so row 3.
    for bad in [f32::NAN, f32::INFINITY] {
        let mut l = [0.0f32; 12];
        l[7] = bad;
        let mut y = [SENTINEL; 12];
        let mut idx = [-1i64; 4];
        unsafe {
            expect(
                gumbel_softmax_f32(l.as_ptr(), y.as_mut_ptr(), 2, 3, 2, 1.0, false, 0, 0),
                GUMBEL_STATUS_INVALID_LOGITS,
                &["row 3", "class 0"],
            );
            expect(
                gumbel_softmax_f32(l.as_ptr(), y.as_mut_ptr(), 2, 3, 2, 1.0, true, 0, 0),
                GUMBEL_STATUS_INVALID_LOGITS,
                &["row 3"],
            );
            expect(
                gumbel_sample_f32(l.as_ptr(), idx.as_mut_ptr(), 2, 3, 2, 0, 0),
                GUMBEL_STATUS_INVALID_LOGITS,
                &["row 3"],
            );
            expect(
                gumbel_tempered_softmax_f32(l.as_ptr(), y.as_mut_ptr(), 2, 3, 2, 1.0),
                GUMBEL_STATUS_INVALID_LOGITS,
                &["row 3"],
            );
        }
        assert_eq!(y, [SENTINEL; 12]);
        assert_eq!(idx, [-1; 4]);
    }
    let l = [0.0f64, f64::NAN];
    let mut idx = [-1i64; 1];
    unsafe {
        expect(
            gumbel_sample_f64(l.as_ptr(), idx.as_mut_ptr(), 1, 2, 1, 0, 0),
            GUMBEL_STATUS_INVALID_LOGITS,
            &["NaN"],
        );
    }
}

#[test]
fn rows_that_are_all_masked_are_rejected() {
    let ninf = f32::NEG_INFINITY;
    // Large enough to take the parallel path; row 20000 is all masked.
    let classes = 4;
    let rows = 30_000;
    let mut l = vec![0.0f32; rows * classes];
    l[20_000 * classes..20_001 * classes].fill(ninf);
    let mut y = vec![SENTINEL; l.len()];
    let mut idx = vec![-1i64; rows];
    unsafe {
        expect(
            gumbel_softmax_f32(
                l.as_ptr(),
                y.as_mut_ptr(),
                rows,
                classes,
                1,
                1.0,
                false,
                0,
                0,
            ),
            GUMBEL_STATUS_ALL_MASKED,
            &["row 20000"],
        );
        expect(
            gumbel_sample_f32(l.as_ptr(), idx.as_mut_ptr(), rows, classes, 1, 0, 0),
            GUMBEL_STATUS_ALL_MASKED,
            &["row 20000"],
        );
        expect(
            gumbel_tempered_softmax_f32(l.as_ptr(), y.as_mut_ptr(), rows, classes, 1, 0.5),
            GUMBEL_STATUS_ALL_MASKED,
            &["row 20000"],
        );
    }
    assert!(y.iter().all(|&v| v == SENTINEL));
    assert!(idx.iter().all(|&i| i == -1));
    // A single unmasked class is always the one drawn.
    l[20_000 * classes + 2] = -1e30;
    unsafe {
        assert_eq!(
            gumbel_sample_f32(l.as_ptr(), idx.as_mut_ptr(), rows, classes, 1, 0, 0),
            GUMBEL_STATUS_OK
        );
    }
    assert_eq!(idx[20_000], 2);
    assert!(idx.iter().all(|&i| (0..4).contains(&i)));
}

#[test]
fn overlapping_buffers_are_rejected() {
    let mut buf = [0.5f32; 16];
    let p = buf.as_mut_ptr();
    unsafe {
        expect(
            gumbel_softmax_f32(p, p, 2, 4, 1, 1.0, false, 0, 0),
            GUMBEL_STATUS_OVERLAP,
            &["overlap"],
        );
        expect(
            gumbel_softmax_f32(p, p.add(7), 2, 4, 1, 1.0, false, 0, 0),
            GUMBEL_STATUS_OVERLAP,
            &[],
        );
        expect(
            gumbel_tempered_softmax_f32(p.add(4), p, 2, 4, 1, 1.0),
            GUMBEL_STATUS_OVERLAP,
            &[],
        );
        expect(
            gumbel_sample_f32(p, p.add(4).cast(), 2, 4, 1, 0, 0),
            GUMBEL_STATUS_OVERLAP,
            &["indices"],
        );
        // Adjacent buffers do not overlap.
        assert_eq!(
            gumbel_softmax_f32(p, p.add(8), 2, 4, 1, 1.0, false, 0, 0),
            GUMBEL_STATUS_OK
        );
    }
    assert_eq!(buf[..8], [0.5; 8]);
}

#[test]
fn misaligned_pointers_are_rejected() {
    let mut raw = [0u64; 8];
    let odd = unsafe { raw.as_mut_ptr().cast::<u8>().add(1) };
    let l = [0.0f32; 4];
    unsafe {
        expect(
            gumbel_softmax_f32(l.as_ptr(), odd.cast(), 2, 2, 1, 1.0, false, 0, 0),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["out"],
        );
        expect(
            gumbel_sample_f32(l.as_ptr(), odd.cast(), 2, 2, 1, 0, 0),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["indices"],
        );
        expect(
            gumbel_noise_f64(odd.cast(), 2, 0.0, 1.0, 0, 0),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &[],
        );
    }
}

#[test]
fn status_strings_cover_every_value() {
    let text = |s| {
        unsafe { CStr::from_ptr(gumbel_status_str(s)) }
            .to_str()
            .unwrap()
            .to_owned()
    };
    let known: Vec<String> = (0..=11).map(text).collect();
    assert_eq!(known[0], "ok");
    assert!(known.iter().all(|t| t != "unknown status"));
    let mut unique = known.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), known.len());
    for s in [12, 255, u32::MAX] {
        assert_eq!(text(s), "unknown status");
    }
}

#[test]
fn last_error_truncates_and_reports_the_full_length() {
    let mut y = [0.0f32; 2];
    let status = unsafe {
        gumbel_softmax_f32(
            [0.0f32; 2].as_ptr(),
            y.as_mut_ptr(),
            1,
            2,
            1,
            -1.0,
            false,
            0,
            0,
        )
    };
    assert_eq!(status, GUMBEL_STATUS_INVALID_TEMPERATURE);
    let full = unsafe { gumbel_last_error(null_mut(), 0) };
    assert_eq!(full, "tau must be finite and > 0, got -1.0".len());
    let mut small = [0x55 as std::ffi::c_char; 8];
    let n = unsafe { gumbel_last_error(small.as_mut_ptr(), 5) };
    assert_eq!(n, full);
    assert_eq!(
        unsafe { CStr::from_ptr(small.as_ptr()) }.to_str().unwrap(),
        "tau "
    );
    assert_eq!(small[5..], [0x55; 3]);
    // Successful calls keep the message; each thread has its own.
    unsafe {
        gumbel_softmax_f32(
            [0.0f32; 2].as_ptr(),
            y.as_mut_ptr(),
            1,
            2,
            1,
            1.0,
            false,
            0,
            0,
        )
    };
    assert_eq!(unsafe { gumbel_last_error(null_mut(), 0) }, full);
    std::thread::spawn(|| assert_eq!(unsafe { gumbel_last_error(null_mut(), 0) }, 0))
        .join()
        .unwrap();
}

#[test]
fn version_string_matches_the_macros() {
    let v = unsafe { CStr::from_ptr(gumbel_version()) }
        .to_str()
        .unwrap();
    assert_eq!(
        v,
        format!("{GUMBEL_VERSION_MAJOR}.{GUMBEL_VERSION_MINOR}.{GUMBEL_VERSION_PATCH}")
    );
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
}

#[test]
fn stream_counts_follow_the_chunk_layout() {
    assert_eq!(gumbel_streams(1, 16384, 1), 1);
    assert_eq!(gumbel_streams(1, 16385, 1), 2);
    assert_eq!(gumbel_streams(1, 1, 16385), 2);
    assert_eq!(gumbel_streams(4096, 1024, 1), 256);
    assert_eq!(gumbel_streams(64, 131_072, 1), 512);
    assert_eq!(gumbel_streams(10, 3, 1000), 2);
}
