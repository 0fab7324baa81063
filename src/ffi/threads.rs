//! The size of the library's worker-thread pool.

use super::boundary::guard;
use super::status::gumbel_status;

/// Sets how many worker threads later large calls use (calls already running
/// keep theirs); `threads == 0` restores the default: the
/// `GUMBEL_NUM_THREADS` environment variable if set to a number in
/// `1..=4096`, else the number of CPUs available to the process. Use it to
/// leave cores to a host runtime's own threads. Outputs are identical for
/// every thread count. The pool is the library's own (not rayon's global
/// one) and is rebuilt automatically in a child process after `fork()`.
/// A call made from inside a Rust rayon pool runs on that pool instead.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_PARAMETER` if
/// `threads > 4096` or the threads cannot be started (the previous pool is
/// kept); `GUMBEL_STATUS_PANIC` on an internal error. Thread-safe.
#[no_mangle]
pub extern "C" fn gumbel_set_num_threads(threads: usize) -> gumbel_status {
    guard(|| crate::set_num_threads(threads))
}

/// The number of worker threads large calls from the calling thread use
/// (at least 1). Thread-safe; no error status.
#[no_mangle]
pub extern "C" fn gumbel_num_threads() -> usize {
    crate::num_threads()
}
