//! The error type of the safe Rust API. Every variant maps to one C status.
//! Also the one way the library reports an environment setting it cannot
//! use, which is not an error of any call.

use std::fmt;
use std::io::Write as _;

/// What went wrong, one variant per class of bad input. The C ABI maps each
/// kind to a `gumbel_status` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A pointer was NULL while its length was non-zero (C ABI only).
    NullPointer,
    /// A size computation (`outer * classes * inner`, or a byte count)
    /// overflows `usize` or exceeds `isize::MAX` bytes.
    SizeOverflow,
    /// `classes == 0`, or a buffer's length does not match the shape.
    InvalidShape,
    /// The temperature `tau` is not finite or not `> 0`.
    InvalidTemperature,
    /// A scalar parameter is out of its domain: a distribution's `loc` or
    /// `scale`, a number of draws, a gap, a `k` larger than the classes to
    /// choose from.
    InvalidParameter,
    /// A logit is NaN or `+inf`.
    InvalidLogits,
    /// Every class of some row is masked (`-inf`): there is nothing to sample.
    AllMasked,
    /// An input and an output buffer overlap (C ABI only).
    Overlap,
    /// A pointer is not aligned for its element type (C ABI only).
    MisalignedPointer,
    /// An input value is outside the domain of the function: a probability
    /// outside `[0, 1]`, a point off the simplex, a non-finite gradient.
    InvalidValue,
}

/// An error with its kind and a message that names the offending argument,
/// row or value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// Builds an error of `kind` with a human-readable `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The class of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The detailed message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Reports an environment setting the library ignores, as one line
/// `gumbel: <message>` on stderr. Callers report each setting once per
/// process. A failed write is ignored: a diagnostic must not fail a call.
pub(crate) fn report_setting(message: &str) {
    let _ = writeln!(std::io::stderr(), "gumbel: {message}");
}
