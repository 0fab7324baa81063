//! Every crash `make fuzz` has found, replayed as a test. Each case names
//! its fuzz target and what went wrong.

use gumbel::ffi::*;

/// `densities` target: `gumbel_softmax_grad_tau_f64` returned NaN for valid
/// inputs with the smallest subnormal `tau` (5e-324): each row's
/// `-(1/tau) sum ...` overflowed to an infinity, with opposite signs in two
/// rows, and their sum was NaN. Fixed by dividing the total by `tau` once.
#[test]
fn grad_tau_with_a_subnormal_tau_is_never_nan() {
    let y = [
        0.9999989913056925,
        5.043471538352718e-7,
        5.043471538352718e-7,
        1.0 / 3.0,
        1.0 / 3.0,
        1.0 / 3.0,
        0.2,
        0.3,
        0.5,
    ];
    let g = [-9.5, -9.25, -9.5, -14.75, -14.5, -14.5, 3.0, -2.0, 1.0];
    let mut out = 0.0f64;
    let s = unsafe {
        gumbel_softmax_grad_tau_f64(y.as_ptr(), g.as_ptr(), 3, 3, 1, f64::from_bits(1), &mut out)
    };
    assert_eq!(s, GUMBEL_STATUS_OK);
    assert!(!out.is_nan(), "{out}");
    // The same in single precision with the smallest f32 subnormal.
    let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    let g32: Vec<f32> = g.iter().map(|&v| v as f32).collect();
    let mut out32 = 0.0f32;
    let s = unsafe {
        gumbel_softmax_grad_tau_f32(
            y32.as_ptr(),
            g32.as_ptr(),
            3,
            3,
            1,
            f32::from_bits(1),
            &mut out32,
        )
    };
    assert_eq!(s, GUMBEL_STATUS_OK);
    assert!(!out32.is_nan(), "{out32}");
    // With an ordinary tau the total is the sum of the per-row gradients.
    let taus = [0.5f64; 3];
    let mut rows = [0.0f64; 3];
    let s = unsafe {
        gumbel_softmax_grad_tau_per_row_f64(
            y.as_ptr(),
            g.as_ptr(),
            3,
            3,
            1,
            taus.as_ptr(),
            rows.as_mut_ptr(),
        )
    };
    assert_eq!(s, GUMBEL_STATUS_OK);
    let s = unsafe { gumbel_softmax_grad_tau_f64(y.as_ptr(), g.as_ptr(), 3, 3, 1, 0.5, &mut out) };
    assert_eq!(s, GUMBEL_STATUS_OK);
    let sum: f64 = rows.iter().sum();
    assert!(
        (out - sum).abs() <= 1e-12 * sum.abs().max(1.0),
        "{out} vs {sum}"
    );
}
