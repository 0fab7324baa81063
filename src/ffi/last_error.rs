//! The per-thread message of the last failure.

use std::cell::RefCell;
use std::ffi::c_char;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `message` as the calling thread's last error.
pub(crate) fn set(message: &str) {
    LAST_ERROR.with(|m| {
        let mut m = m.borrow_mut();
        m.clear();
        m.push_str(message);
    });
}

/// Copies the message of the last failed call on the calling thread into
/// `buf` and returns the message's full length in bytes (without the NUL).
///
/// At most `cap - 1` bytes are copied, always followed by a NUL, so a message
/// is truncated when the return value is `>= cap`. With `cap == 0` (or
/// `buf == NULL`) nothing is written: call it that way to learn the size.
/// Successful calls do not clear the message; before any failure it is empty
/// (returns 0). Thread-safe: each thread has its own message.
///
/// # Safety
/// `buf` must be NULL or point to `cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn gumbel_last_error(buf: *mut c_char, cap: usize) -> usize {
    LAST_ERROR.with(|m| {
        let m = m.borrow();
        if !buf.is_null() && cap > 0 {
            let n = m.len().min(cap - 1);
            // SAFETY: the caller guarantees `cap` writable bytes at `buf`;
            // `n + 1 <= cap`, and `m` (Rust-owned) cannot overlap `buf`.
            unsafe {
                std::ptr::copy_nonoverlapping(m.as_ptr().cast::<c_char>(), buf, n);
                *buf.add(n) = 0;
            }
        }
        m.len()
    })
}
