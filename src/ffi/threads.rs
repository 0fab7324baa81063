//! The size of the library's worker-thread pool.

use super::boundary::guard;
use super::status::gumbel_status;

/// Sets how many worker threads later large calls use (calls already running
/// keep theirs); `threads == 0` restores the default. Use it to leave cores
/// to a host runtime's own threads. Outputs are identical for every thread
/// count. The pool is the library's own (not rayon's global one) and is
/// rebuilt automatically in a child process after `fork()`. A call made
/// from inside a Rust rayon pool runs on that pool instead.
///
/// At most `max(16, 4 * CPUs)` threads are accepted, CPUs counting those
/// available to the process (its affinity mask and CPU quota): the work is
/// CPU-bound, and threads beyond the CPUs only cost start-up time and
/// switching (4096 threads on 2 CPUs took 9 s to start and ran 150 times
/// slower than 2).
///
/// The default is the `GUMBEL_NUM_THREADS` environment variable when it is
/// a whole number within that bound, else one thread per CPU. A
/// `GUMBEL_NUM_THREADS` that is set but unusable (`abc`, `-1`, `0`, above
/// the bound) is reported once per process on stderr, as one line starting
/// `gumbel: `, and the default of one per CPU is used; empty counts as
/// unset. `GUMBEL_ISA` (`baseline`, `avx2`, `avx512`) caps the instruction
/// set of the kernels (outputs are the same bits on every tier); a value
/// naming no tier, or a tier the CPU lacks, is reported the same way and
/// the CPU's best tier is used.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_PARAMETER` if
/// `threads` is above the bound (the message gives it) or the threads
/// cannot be started (the previous pool is kept); `GUMBEL_STATUS_PANIC` on
/// an internal error. Thread-safe.
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
