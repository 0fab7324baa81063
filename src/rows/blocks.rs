//! Scanning a row for the blocks that hold a value passing a test: groups
//! of four blocks of [`ACCUMULATORS`] values are tested first, then the
//! blocks of a group that passes, each test a branch-free fold (vector
//! comparisons), so a row where few values pass costs about one comparison
//! per cache line. Top-k's candidates, the filters' lists and top-p's
//! masses read rows this way.

use crate::math::float::Float;
use crate::rows::softmax::ACCUMULATORS;

/// Whether some value of `block` passes `test`.
#[inline(always)]
fn any<F: Float>(block: &[F], test: impl Fn(F) -> bool) -> bool {
    block.iter().fold(false, |any, &x| any | test(x))
}

/// Calls `body(at, block)` on each block of [`ACCUMULATORS`] values of `l`
/// (the last may be shorter; `at` its first index) that holds a value
/// passing `test`, in order, while `body` returns `true`.
#[inline(always)]
pub(crate) fn for_each_block_where<F: Float>(
    l: &[F],
    test: impl Fn(F) -> bool + Copy,
    mut body: impl FnMut(usize, &[F]) -> bool,
) {
    const GROUP: usize = 4 * ACCUMULATORS;
    for (g, group) in l.chunks(GROUP).enumerate() {
        if !any(group, test) {
            continue;
        }
        for (b, block) in group.chunks(ACCUMULATORS).enumerate() {
            if any(block, test) && !body(g * GROUP + b * ACCUMULATORS, block) {
                return;
            }
        }
    }
}
