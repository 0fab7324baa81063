//! Checked conversion of C pointers and lengths into Rust slices.

use std::mem::{align_of, size_of};

use crate::error::{Error, ErrorKind, Result};

/// A C buffer whose pointer and length have been checked: non-NULL unless
/// empty, aligned, and at most `isize::MAX` bytes.
pub(crate) struct Buffer<T> {
    ptr: *mut T,
    len: usize,
}

impl<T> Buffer<T> {
    /// Checks `len` elements at `ptr`, an argument called `name`.
    pub(crate) fn new(ptr: *const T, len: usize, name: &str) -> Result<Self> {
        let bytes = len
            .checked_mul(size_of::<T>())
            .filter(|&b| b <= isize::MAX as usize);
        if bytes.is_none() {
            return Err(Error::new(
                ErrorKind::SizeOverflow,
                format!(
                    "{name}: {len} elements of {} bytes exceed the address space",
                    size_of::<T>()
                ),
            ));
        }
        if len > 0 && ptr.is_null() {
            return Err(Error::new(
                ErrorKind::NullPointer,
                format!("{name} is NULL but has {len} elements"),
            ));
        }
        if len > 0 && (ptr as usize) % align_of::<T>() != 0 {
            return Err(Error::new(
                ErrorKind::MisalignedPointer,
                format!(
                    "{name} ({ptr:p}) is not aligned to {} bytes",
                    align_of::<T>()
                ),
            ));
        }
        Ok(Self {
            ptr: ptr.cast_mut(),
            len,
        })
    }

    /// The byte range `[start, end)` the buffer covers (empty if `len == 0`).
    fn bytes(&self) -> (usize, usize) {
        let start = self.ptr as usize;
        (start, start + self.len * size_of::<T>())
    }

    /// The buffer as a shared slice.
    ///
    /// # Safety
    /// The caller's pointer must be valid for reads of `len` elements for
    /// `'a`, and nothing may write them meanwhile.
    pub(crate) unsafe fn as_slice<'a>(&self) -> &'a [T] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: non-NULL, aligned, size checked; validity is the caller's.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The buffer as a mutable slice.
    ///
    /// # Safety
    /// The caller's pointer must be valid for reads and writes of `len`
    /// elements for `'a`, and nothing else may access them meanwhile.
    pub(crate) unsafe fn as_mut_slice<'a>(&self) -> &'a mut [T] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: non-NULL, aligned, size checked; validity is the caller's.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

/// Checks that an input buffer and an output buffer do not overlap.
///
/// # Errors
/// [`ErrorKind::Overlap`] if they share a byte.
pub(crate) fn check_disjoint<T, U>(
    input: &Buffer<T>,
    input_name: &str,
    output: &Buffer<U>,
    output_name: &str,
) -> Result<()> {
    let (a, b) = (input.bytes(), output.bytes());
    if a.0 < a.1 && b.0 < b.1 && a.0 < b.1 && b.0 < a.1 {
        return Err(Error::new(
            ErrorKind::Overlap,
            format!("{input_name} and {output_name} overlap; use separate buffers"),
        ));
    }
    Ok(())
}

/// Computes `value` and stores it in `*out`, a scalar output argument called
/// `name`. The pointer is checked first; `*out` is written only on success.
///
/// # Errors
/// [`ErrorKind::NullPointer`] if `out` is NULL,
/// [`ErrorKind::MisalignedPointer`] if it is misaligned, or `value`'s error.
///
/// # Safety
/// `out` must be NULL or valid for writing one `T`.
pub(crate) unsafe fn write_scalar<T>(
    out: *mut T,
    name: &str,
    value: impl FnOnce() -> Result<T>,
) -> Result<()> {
    let out = Buffer::new(out, 1, name)?;
    let value = value()?;
    // SAFETY: non-NULL and aligned (checked); writable by the caller's contract.
    unsafe { out.as_mut_slice()[0] = value };
    Ok(())
}

/// Checks that an output buffer overlaps none of the `inputs` (buffer,
/// argument name).
///
/// # Errors
/// [`ErrorKind::Overlap`] for the first input that shares a byte with it.
pub(crate) fn check_disjoint_from_all<T, U>(
    inputs: &[(&Buffer<T>, &str)],
    output: &Buffer<U>,
    output_name: &str,
) -> Result<()> {
    inputs
        .iter()
        .try_for_each(|(input, name)| check_disjoint(input, name, output, output_name))
}
