//! A hint that memory will be read soon: lets a kernel whose time goes to
//! arithmetic pull the next piece of work's input into the cache meanwhile,
//! so that its first pass over that input does not wait for main memory.
//! It changes no result.

/// Asks for the cache lines holding the first and the last byte of `x` to be
/// loaded into the second-level cache (all of `x` when it spans at most two
/// lines). A no-op on targets without the hint.
#[inline(always)]
pub(crate) fn to_l2<T>(x: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T1};
        let first = x.as_ptr().cast::<i8>();
        let bytes = std::mem::size_of_val(x);
        // SAFETY: a prefetch never faults and reads nothing architecturally;
        // both addresses are within or one past `x`'s allocation.
        unsafe {
            _mm_prefetch::<_MM_HINT_T1>(first);
            if bytes > 0 {
                _mm_prefetch::<_MM_HINT_T1>(first.add(bytes - 1));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}
