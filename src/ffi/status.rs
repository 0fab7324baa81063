//! The status codes of the C ABI.

use std::ffi::c_char;

use crate::error::ErrorKind;

/// The result of every fallible function: `GUMBEL_STATUS_OK` (0) on success,
/// another `GUMBEL_STATUS_*` value on failure, with a message from
/// `gumbel_last_error`. Values are fixed and never renumbered.
#[allow(non_camel_case_types)]
pub type gumbel_status = u32;

/// Success.
pub const GUMBEL_STATUS_OK: gumbel_status = 0;

/// A pointer argument is NULL while its length is non-zero.
pub const GUMBEL_STATUS_NULL_POINTER: gumbel_status = 1;

/// `outer * classes * inner` (or a byte count) overflows `size_t`, or a
/// buffer would exceed `PTRDIFF_MAX` bytes.
pub const GUMBEL_STATUS_SIZE_OVERFLOW: gumbel_status = 2;

/// `classes == 0`.
pub const GUMBEL_STATUS_INVALID_SHAPE: gumbel_status = 3;

/// The temperature `tau` is NaN, infinite, zero or negative (or, for a
/// schedule, `tau0`, `tau_min` or `tau_end` is, or `tau_min > tau0`).
pub const GUMBEL_STATUS_INVALID_TEMPERATURE: gumbel_status = 4;

/// A distribution parameter is out of its domain (`loc` not finite,
/// `scale` not finite or `<= 0`, or, for noise, `|loc| + 45 scale`
/// overflows), or a schedule parameter is (`rate` not finite or `< 0`,
/// `every == 0`, `total_steps == 0`), or an estimator's or sampler's
/// count (`draws == 0`, a gap that is negative or not finite, a top-k `k`
/// above the number of classes or of unmasked classes of a row).
pub const GUMBEL_STATUS_INVALID_PARAMETER: gumbel_status = 5;

/// A logit is NaN or `+inf` (`-inf` is allowed: it masks a class).
pub const GUMBEL_STATUS_INVALID_LOGITS: gumbel_status = 6;

/// Every class of some row is masked (`-inf`): nothing can be sampled.
pub const GUMBEL_STATUS_ALL_MASKED: gumbel_status = 7;

/// An input buffer and an output buffer overlap; in-place operation is
/// not supported, except `out == x` for the elementwise `gumbel_dist_*`
/// functions.
pub const GUMBEL_STATUS_OVERLAP: gumbel_status = 8;

/// An internal error (a Rust panic) was caught at the boundary; this is
/// a bug in gumbel, please report it with the message.
pub const GUMBEL_STATUS_PANIC: gumbel_status = 9;

/// A pointer is not aligned for its element type.
pub const GUMBEL_STATUS_MISALIGNED_POINTER: gumbel_status = 10;

/// An input value is outside the domain of the function: a NaN argument
/// of a distribution function, a probability outside `[0, 1]`, a point off
/// the simplex, a non-finite gradient (the message names the element).
pub const GUMBEL_STATUS_INVALID_VALUE: gumbel_status = 11;

/// The status that reports an error of `kind`.
pub(crate) fn status_of(kind: ErrorKind) -> gumbel_status {
    match kind {
        ErrorKind::NullPointer => GUMBEL_STATUS_NULL_POINTER,
        ErrorKind::SizeOverflow => GUMBEL_STATUS_SIZE_OVERFLOW,
        ErrorKind::InvalidShape => GUMBEL_STATUS_INVALID_SHAPE,
        ErrorKind::InvalidTemperature => GUMBEL_STATUS_INVALID_TEMPERATURE,
        ErrorKind::InvalidParameter => GUMBEL_STATUS_INVALID_PARAMETER,
        ErrorKind::InvalidLogits => GUMBEL_STATUS_INVALID_LOGITS,
        ErrorKind::AllMasked => GUMBEL_STATUS_ALL_MASKED,
        ErrorKind::Overlap => GUMBEL_STATUS_OVERLAP,
        ErrorKind::MisalignedPointer => GUMBEL_STATUS_MISALIGNED_POINTER,
        ErrorKind::InvalidValue => GUMBEL_STATUS_INVALID_VALUE,
    }
}

/// A short, static, NUL-terminated description of `status`, for any value:
/// values that are not a `gumbel_status` give `"unknown status"`. Never NULL;
/// the caller must not free it. Thread-safe.
#[no_mangle]
pub extern "C" fn gumbel_status_str(status: u32) -> *const c_char {
    let text = match status {
        GUMBEL_STATUS_OK => c"ok",
        GUMBEL_STATUS_NULL_POINTER => c"null pointer",
        GUMBEL_STATUS_SIZE_OVERFLOW => c"size overflow",
        GUMBEL_STATUS_INVALID_SHAPE => c"invalid shape",
        GUMBEL_STATUS_INVALID_TEMPERATURE => c"invalid temperature",
        GUMBEL_STATUS_INVALID_PARAMETER => c"invalid parameter",
        GUMBEL_STATUS_INVALID_LOGITS => c"invalid logits",
        GUMBEL_STATUS_ALL_MASKED => c"all classes masked",
        GUMBEL_STATUS_OVERLAP => c"overlapping buffers",
        GUMBEL_STATUS_PANIC => c"internal error (panic)",
        GUMBEL_STATUS_MISALIGNED_POINTER => c"misaligned pointer",
        GUMBEL_STATUS_INVALID_VALUE => c"invalid value",
        _ => c"unknown status",
    };
    text.as_ptr()
}
