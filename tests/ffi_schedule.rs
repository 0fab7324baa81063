//! The `gumbel_schedule_*` C functions: values, and every bad input gets its
//! status and a message with the output untouched.

use crate::common;

use std::ptr::null_mut;

use common::expect;
use gumbel::ffi::*;

#[test]
fn values_through_the_c_abi() {
    let mut v = 0.0f64;
    unsafe {
        assert_eq!(
            gumbel_schedule_exponential(1.0, 1e-4, 0.5, 1234, 500, &mut v),
            GUMBEL_STATUS_OK
        );
        assert_eq!(v, (-0.1f64).exp());
        assert_eq!(
            gumbel_schedule_linear(2.0, 0.5, 50, 100, &mut v),
            GUMBEL_STATUS_OK
        );
        assert_eq!(v, 1.25);
        assert_eq!(
            gumbel_schedule_cosine(2.0, 0.5, 0, 100, &mut v),
            GUMBEL_STATUS_OK
        );
        assert_eq!(v, 2.0);
        assert_eq!(
            gumbel_schedule_cosine(2.0, 0.5, u64::MAX, 100, &mut v),
            GUMBEL_STATUS_OK
        );
        assert_eq!(v, 0.5);
    }
}

#[test]
fn bad_arguments_are_rejected() {
    const UNTOUCHED: f64 = -7.0;
    let mut v = UNTOUCHED;
    unsafe {
        expect(
            gumbel_schedule_exponential(1.0, 0.1, 0.5, 0, 1, null_mut()),
            GUMBEL_STATUS_NULL_POINTER,
            &["out"],
        );
        expect(
            gumbel_schedule_linear(1.0, 0.5, 0, 1, null_mut()),
            GUMBEL_STATUS_NULL_POINTER,
            &["out"],
        );
        expect(
            gumbel_schedule_cosine(1.0, 0.5, 0, 1, null_mut()),
            GUMBEL_STATUS_NULL_POINTER,
            &["out"],
        );
        let mut raw = [0u64; 2];
        let odd = raw.as_mut_ptr().cast::<u8>().add(3).cast::<f64>();
        expect(
            gumbel_schedule_linear(1.0, 0.5, 0, 1, odd),
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["out"],
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            expect(
                gumbel_schedule_exponential(bad, 0.1, 0.5, 0, 1, &mut v),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau0"],
            );
            expect(
                gumbel_schedule_exponential(1.0, 0.1, bad, 0, 1, &mut v),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau_min"],
            );
            expect(
                gumbel_schedule_linear(bad, 0.5, 0, 1, &mut v),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau0"],
            );
            expect(
                gumbel_schedule_linear(1.0, bad, 0, 1, &mut v),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau_end"],
            );
            expect(
                gumbel_schedule_cosine(bad, 0.5, 0, 1, &mut v),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau0"],
            );
            expect(
                gumbel_schedule_cosine(1.0, bad, 0, 1, &mut v),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau_end"],
            );
        }
        expect(
            gumbel_schedule_exponential(0.4, 0.1, 0.5, 0, 1, &mut v),
            GUMBEL_STATUS_INVALID_TEMPERATURE,
            &["tau_min", "tau0"],
        );
        for rate in [-1.0, f64::NAN, f64::INFINITY] {
            expect(
                gumbel_schedule_exponential(1.0, rate, 0.5, 0, 1, &mut v),
                GUMBEL_STATUS_INVALID_PARAMETER,
                &["rate"],
            );
        }
        expect(
            gumbel_schedule_exponential(1.0, 0.1, 0.5, 0, 0, &mut v),
            GUMBEL_STATUS_INVALID_PARAMETER,
            &["every"],
        );
        expect(
            gumbel_schedule_linear(1.0, 0.5, 0, 0, &mut v),
            GUMBEL_STATUS_INVALID_PARAMETER,
            &["total_steps"],
        );
        expect(
            gumbel_schedule_cosine(1.0, 0.5, 0, 0, &mut v),
            GUMBEL_STATUS_INVALID_PARAMETER,
            &["total_steps"],
        );
    }
    assert_eq!(v, UNTOUCHED);
}
