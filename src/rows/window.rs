//! Fixed-width windows over short rows: a row of `len` classes, `FIRST <=
//! len < LAST`, is read as an `N`-lane array (`N` = 8, 16, 32 or 64, the
//! smallest that holds it) whose lanes from `len` on are padding, so that its
//! maximum, argmax and sum run as fixed vector code rather than loops of a
//! length known only at run time (which compile to scalar remainders,
//! branches and library calls).
//!
//! Each reduction gives the bits of the row code of [`crate::rows::softmax`]: the
//! maximum is exact whatever the order (the sign of a zero maximum is taken
//! from the row's first zero), the argmax is the first lane equal to the
//! maximum, and the sum pads with `+0`, which leaves the striped partial
//! sums ([`crate::rows::softmax::ACCUMULATORS`]) unchanged (they are never `-0`).

use crate::math::float::Float;
use crate::rows::softmax::{striped_max, striped_sum};

/// The shortest row read through windows; shorter rows are cheap as loops.
pub(crate) const FIRST: usize = 5;

/// The longest row read through windows is `LAST - 1` classes.
pub(crate) const LAST: usize = 64;

/// Whether rows of `classes` classes are read through windows.
#[inline(always)]
pub(crate) fn applies(classes: usize) -> bool {
    (FIRST..LAST).contains(&classes)
}

/// `$f::<$F, N>($args)` with `N` the window width of rows of `$classes`
/// classes (which [`applies`] to): 8, 16, 32 or 64, the smallest that holds
/// the row, so that `N < 2 * classes`.
macro_rules! by_width {
    ($classes:expr, $f:ident::<$($T:ty),+>($($arg:expr),* $(,)?)) => {
        match $classes {
            0..=8 => $f::<$($T),+, 8>($($arg),*),
            9..=16 => $f::<$($T),+, 16>($($arg),*),
            17..=32 => $f::<$($T),+, 32>($($arg),*),
            _ => $f::<$($T),+, 64>($($arg),*),
        }
    };
}
pub(crate) use by_width;

/// The number of leading rows, of a unit of `len` values in rows of
/// `classes` classes, read through windows: none unless [`applies`], else
/// those whose window, and the next row's, lie within the unit (with
/// `N <= LAST`). The last few rows are left to the row code.
#[inline(always)]
pub(crate) fn head(len: usize, classes: usize) -> usize {
    if applies(classes) {
        len.saturating_sub(LAST) / classes
    } else {
        0
    }
}

/// The window of the row `x[start..start + len]`, read as the `N` values
/// from `start`, which must lie within `x`: lane `k < len` holds
/// `x[start + k]`, the others (read from the next rows) are replaced by
/// `pad`.
#[inline(always)]
pub(crate) fn load<F: Float, const N: usize>(x: &[F], start: usize, len: usize, pad: F) -> [F; N] {
    let mut w = [pad; N];
    for (k, (w, &v)) in w.iter_mut().zip(&x[start..start + N]).enumerate() {
        *w = if k < len { v } else { pad };
    }
    w
}

/// Replaces the first `rows` rows `r` of `y` (consecutive rows of `classes`
/// values, which [`applies`] to, `rows` at most [`head`], `N` the width
/// [`by_width`] gives) by the first `classes` lanes of `f(r, w)`, `w` being
/// the row's window padded with `pad`.
///
/// A row but the last is stored with all `N` lanes, which overwrites the
/// start of the next row (and no further, as `N < 2 * classes`); so each row
/// is loaded before the previous row is stored, and the rows are stored in
/// order.
#[inline(always)]
pub(crate) fn map_rows<F: Float, const N: usize>(
    y: &mut [F],
    rows: usize,
    classes: usize,
    pad: F,
    mut f: impl FnMut(usize, [F; N]) -> [F; N],
) {
    let mut next = load::<F, N>(y, 0, classes, pad);
    for r in 0..rows {
        let (start, w) = (r * classes, next);
        next = load(y, start + classes, classes, pad);
        let w = f(r, w);
        if r + 1 < rows {
            y[start..start + N].copy_from_slice(&w);
        } else {
            y[start..start + classes].copy_from_slice(&w[..classes]);
        }
    }
}

/// The bits of [`crate::rows::softmax::max`] of the row held by a window padded
/// with `-inf`.
#[inline(always)]
pub(crate) fn max<F: Float, const N: usize>(w: &[F; N]) -> F {
    let m = striped_max(w);
    if m == F::ZERO {
        // -0 == +0: the row's first zero gives the sign.
        w[first_equal(w, m)]
    } else {
        m
    }
}

/// [`crate::rows::softmax::argmax`] of the row held by a window padded with
/// `-inf`: the first lane equal to the maximum.
#[inline(always)]
pub(crate) fn argmax<F: Float, const N: usize>(w: &[F; N]) -> usize {
    first_equal(w, striped_max(w))
}

/// The first lane of `w` equal to `value`, which must occur in one of the
/// first 64 lanes.
#[inline(always)]
fn first_equal<F: Float, const N: usize>(w: &[F; N], value: F) -> usize {
    let mut equal = 0u64;
    for (k, &x) in w.iter().enumerate().take(64) {
        equal |= u64::from(x == value) << k;
    }
    equal.trailing_zeros() as usize
}

/// The bits of [`crate::rows::softmax::sum`] of the row held by a window padded
/// with `+0`: the [`striped_sum`] of the window.
#[inline(always)]
pub(crate) fn sum<F: Float, const N: usize>(w: &[F; N]) -> F {
    striped_sum(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::softmax;

    /// Rows of every windowed length with ties, zeros of both signs, `-inf`
    /// and values of very different sizes, three rows in a buffer with room
    /// for the last row's window.
    fn check<F: Float, const N: usize>(len: usize, state: &mut u32) {
        let mut draw = || {
            *state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *state >> 8
        };
        for trial in 0..300 {
            let values: Vec<F> = (0..3 * len + N)
                .map(|_| match draw() % 9 {
                    0 => F::ZERO,
                    1 => -F::ZERO,
                    2 if trial % 3 != 0 => F::NEG_INFINITY,
                    3 => F::from_i32(3),
                    4 => F::from_f64(f64::from(draw() % 1000) * 1e4),
                    _ => F::from_f64(-f64::from(draw() % 64) * 0.37),
                })
                .collect();
            let finite: Vec<F> = values
                .iter()
                .map(|&v| if v.is_finite() { v } else { F::from_f64(-1e30) })
                .collect();
            for row in 0..3 {
                let (start, bits) = (row * len, |v: F| v.to_f64().to_bits());
                let x = &values[start..start + len];
                if x.iter().all(|&v| v == F::NEG_INFINITY) {
                    continue;
                }
                let w = load::<F, N>(&values, start, len, F::NEG_INFINITY);
                assert_eq!(bits(max(&w)), bits(softmax::max(x)), "{len} {row}");
                assert_eq!(argmax(&w), softmax::argmax(x), "{len} {row}");
                let w = load::<F, N>(&finite, start, len, F::ZERO);
                let x = &finite[start..start + len];
                assert_eq!(bits(sum(&w)), bits(softmax::sum(x)), "{len} {row}");
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "many rows, too slow for Miri")]
    fn windows_give_the_bits_of_the_row_code() {
        let mut state = 11;
        for len in FIRST..LAST {
            assert!(applies(len));
            by_width!(len, check::<f32>(len, &mut state));
            by_width!(len, check::<f64>(len, &mut state));
        }
        assert!(!applies(FIRST - 1) && !applies(LAST));
    }
}
