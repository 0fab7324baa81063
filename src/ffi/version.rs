//! The library version, at compile time (macros) and at run time.

use std::ffi::c_char;

/// Major version of the header (compare with `gumbel_version()`).
pub const GUMBEL_VERSION_MAJOR: u32 = 0;
/// Minor version of the header.
pub const GUMBEL_VERSION_MINOR: u32 = 1;
/// Patch version of the header.
pub const GUMBEL_VERSION_PATCH: u32 = 0;

/// The version of the randomness contract (README, "Randomness contract"):
/// within one version, every sampler's output bits are a pure function of
/// its inputs and `(seed, offset)`, the same for every thread count,
/// instruction-set tier and platform. Version 2 computes the `float` noise
/// and the `float` softmax's exponential in single precision with fused
/// multiply-adds (the same bits on CPUs without FMA, by a correctly rounded
/// software FMA); version 1 was the arithmetic before it.
pub const GUMBEL_NOISE_VERSION: u32 = 2;

/// The version of the loaded library, `"MAJOR.MINOR.PATCH"`: a static,
/// NUL-terminated string that the caller must not free. Compare it with the
/// `GUMBEL_VERSION_*` macros to detect a header/library mismatch.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn gumbel_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macros_match_the_package_version() {
        let v = format!("{GUMBEL_VERSION_MAJOR}.{GUMBEL_VERSION_MINOR}.{GUMBEL_VERSION_PATCH}");
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        let loaded = unsafe { std::ffi::CStr::from_ptr(gumbel_version()) };
        assert_eq!(loaded.to_str().unwrap(), v);
    }
}
