//! Per-thread scratch buffers, reused from call to call so that the sampling
//! paths do not allocate per unit of work.

use std::cell::RefCell;

use crate::math::element::Element;

/// Element types a scratch buffer can hold.
///
/// # Safety
/// Every bit pattern must be a valid value, and the alignment must be at
/// most 8 (buffers are `u64` storage).
pub(crate) unsafe trait Plain: Copy {}
// SAFETY: `Element` is sealed: only `f32`, `f64` and the 16-bit formats
// (`repr(transparent)` over `u16`) implement it, plain numbers whose every
// bit pattern is valid, aligned to at most 8.
unsafe impl<T: Element> Plain for T {}
// SAFETY: as above.
unsafe impl Plain for i64 {}

/// Buffers larger than this many bytes are freed after use rather than kept
/// (a call on one huge row should not pin megabytes per thread).
const KEEP_BYTES: usize = 1 << 20;

/// How many free buffers a thread keeps (nested uses take one each).
const KEEP_BUFFERS: usize = 8;

thread_local! {
    /// This thread's free buffers.
    static FREE: RefCell<Vec<Vec<u64>>> = const { RefCell::new(Vec::new()) };
}

/// Calls `body` with a buffer of `len` values of `T` whose contents are
/// unspecified, taken from this thread's free buffers (allocated only when
/// none is large enough). Nested calls get distinct buffers.
pub(crate) fn with<T: Plain, R>(len: usize, body: impl FnOnce(&mut [T]) -> R) -> R {
    // A length whose bytes overflow cannot be allocated either.
    let bytes = len
        .checked_mul(std::mem::size_of::<T>())
        .expect("a scratch buffer of addressable size");
    let words = bytes.div_ceil(8);
    let mut buffer = FREE
        .with(|free| free.borrow_mut().pop())
        .unwrap_or_default();
    if buffer.len() < words {
        buffer.resize(words, 0);
    }
    // SAFETY: the storage holds at least `len * size_of::<T>()` initialised
    // bytes, is aligned to 8 >= align_of::<T>(), every bit pattern is a valid
    // `T` (`Plain`), and the slice does not outlive `buffer`.
    let values = unsafe { std::slice::from_raw_parts_mut(buffer.as_mut_ptr().cast::<T>(), len) };
    let result = body(values);
    if buffer.len() * 8 <= KEEP_BYTES {
        FREE.with(|free| {
            let mut free = free.borrow_mut();
            if free.len() < KEEP_BUFFERS {
                free.push(buffer);
            }
        });
    }
    result
}

/// Calls `body` with `inputs` widened to their computed type (each copied
/// into one per-thread buffer) and a further buffer of `extra` values whose
/// contents are unspecified: how a 16-bit tensor's unit of work runs through
/// the kernels of its computed type.
pub(crate) fn with_widened<E: Element, R, const N: usize>(
    inputs: [&[E]; N],
    extra: usize,
    body: impl FnOnce([&[E::Compute]; N], &mut [E::Compute]) -> R,
) -> R {
    let lens = inputs.map(<[E]>::len);
    let total = lens.iter().sum::<usize>();
    with::<E::Compute, _>(total + extra, |buffer| {
        let (wide, extra) = buffer.split_at_mut(total);
        let mut start = 0;
        for x in inputs {
            for (w, &v) in wide[start..start + x.len()].iter_mut().zip(x) {
                *w = v.widen();
            }
            start += x.len();
        }
        let mut start = 0;
        let wide = lens.map(|len| {
            start += len;
            &wide[start - len..start]
        });
        body(wide, extra)
    })
}

/// Calls `body` with `inputs` in their computed type: the slices themselves
/// for `f32` and `f64`, copies by [`with_widened`] for the 16-bit formats.
#[inline]
pub(crate) fn with_compute<E: Element, R, const N: usize>(
    inputs: [&[E]; N],
    body: impl FnOnce([&[E::Compute]; N]) -> R,
) -> R {
    let native = inputs.map(E::as_compute);
    if native.iter().all(Option::is_some) {
        return body(native.map(|x| x.expect("checked")));
    }
    with_widened(inputs, 0, |wide, _| body(wide))
}

/// Rounds `values` once into `out` (of the same length).
#[inline]
pub(crate) fn narrow_into<E: Element>(values: &[E::Compute], out: &mut [E]) {
    for (o, &v) in out.iter_mut().zip(values) {
        *o = E::narrow(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_buffers_are_distinct_and_reused() {
        let outer = with::<f32, _>(100, |a| {
            a.fill(1.0);
            with::<i64, _>(10, |b| {
                b.fill(-1);
                assert!(b.iter().all(|&x| x == -1));
            });
            assert!(a.iter().all(|&x| x == 1.0));
            a.as_ptr() as usize
        });
        let again = with::<f64, _>(50, |a| a.as_ptr() as usize);
        assert_eq!(outer, again, "the freed buffer is reused");
        with::<f32, _>(0, |a| assert!(a.is_empty()));
    }
}
