//! Special functions taken from the platform's C math library.
//!
//! Only density and distribution-function code uses these; sampling paths
//! use [`crate::math::exp_log`] so that samples are bit-reproducible.

use std::ffi::c_int;

extern "C" {
    // POSIX-style re-entrant lgamma (glibc, musl, the BSDs, macOS): unlike
    // `lgamma`, it writes the sign to its argument instead of the global
    // `signgam`, so concurrent calls do not race.
    fn lgamma_r(x: f64, sign: *mut c_int) -> f64;
}

/// `ln |Gamma(x)|`; `ln_gamma(1) == ln_gamma(2) == 0` exactly (C99 F.10.5.3),
/// `+inf` at the poles and for huge `x`.
pub(crate) fn ln_gamma(x: f64) -> f64 {
    let mut sign: c_int = 0;
    // SAFETY: `lgamma_r` accepts every double and writes one int to `sign`.
    unsafe { lgamma_r(x, &mut sign) }
}

#[cfg(test)]
mod tests {
    use super::ln_gamma;

    #[test]
    fn ln_gamma_matches_factorials() {
        assert_eq!(ln_gamma(1.0), 0.0);
        assert_eq!(ln_gamma(2.0), 0.0);
        // Gamma(6) = 120; Gamma(1/2) = sqrt(pi).
        assert!((ln_gamma(6.0) - 120f64.ln()).abs() < 1e-14);
        assert!((ln_gamma(0.5) - 0.5 * std::f64::consts::PI.ln()).abs() < 1e-15);
        assert_eq!(ln_gamma(f64::INFINITY), f64::INFINITY);
    }
}
