//! `gumbel_noise_*`: Gumbel noise into a buffer.

use super::boundary::guard;
use super::buffer::Buffer;
use super::status::gumbel_status;
use crate::error::Result;
use crate::Float;

/// Fills `out[0..n)` with independent Gumbel(`loc`, `scale`) variates,
/// `loc + scale * g` with `g = -log(E)`, `E ~ Exp(1)` (Gumbel 1954; the
/// max-convention density is `exp(-z - exp(-z)) / scale`, `z = (x - loc) / scale`).
///
/// Randomness: element `j` is a pure function of `(seed, offset, j)`; the
/// call consumes `gumbel_streams(1, n, 1)` stream ids (`ceil(n / 16384)`),
/// so the next independent call should use `offset + gumbel_streams(1, n, 1)`.
/// The standard variate `g` is built from 64 random bits: it is always
/// finite, reaches about 44.4 in the upper tail and about -3.8 in the lower.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `out` is NULL
/// and `n > 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if `n` floats exceed the
/// address space; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_INVALID_PARAMETER` if `loc` is not finite, `scale` is not
/// finite or `<= 0`, or `|loc| + 45 scale` overflows `float`. `n == 0` writes
/// nothing; `GUMBEL_STATUS_PANIC` on an internal error. `out` is untouched on
/// error. Thread-safe; runs on the library's
/// worker threads for large `n`.
///
/// # Safety
/// `out` must be NULL or point to `n` writable floats.
#[no_mangle]
pub unsafe extern "C" fn gumbel_noise_f32(
    out: *mut f32,
    n: usize,
    loc: f32,
    scale: f32,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe { noise(out, n, loc, scale, seed, offset) })
}

/// The `double` twin of `gumbel_noise_f32`, same contract. Element `j`
/// comes from the same 64 random bits as in `gumbel_noise_f32`; the `float`
/// version computes the same formula in single precision (they differ by a
/// few `float` ulp, or about 1e-6 absolute near 0).
///
/// # Safety
/// `out` must be NULL or point to `n` writable doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_noise_f64(
    out: *mut f64,
    n: usize,
    loc: f64,
    scale: f64,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe { noise(out, n, loc, scale, seed, offset) })
}

unsafe fn noise<F: Float>(
    out: *mut F,
    n: usize,
    loc: F,
    scale: F,
    seed: u64,
    offset: u64,
) -> Result<()> {
    let out = Buffer::new(out, n, "out")?;
    // SAFETY: the caller guarantees `n` writable elements at `out`.
    crate::noise(unsafe { out.as_mut_slice() }, loc, scale, seed, offset)
}
