//! Counter-based random streams: `(seed, stream id)` -> generators.
//!
//! The randomness contract (see the README): a sampling call takes `seed` and
//! `offset`. Its rows are cut into fixed *units*: with `K` classes, a unit is
//! `max(1, CHUNK_ELEMENTS / K)` consecutive rows when `K <= CHUNK_ELEMENTS`,
//! and otherwise one row cut into `ceil(K / CHUNK_ELEMENTS)` segments. Each
//! piece of at most `CHUNK_ELEMENTS` elements (a unit, or one segment of a
//! long row) draws from its own stream id, counted from `offset` in row order.
//! Within a piece, element `j` (in logical row-major `(row, class)` order)
//! takes its two 32-bit words from lane `j % LANES`, the `j / LANES`-th pair
//! that lane produces. Lane `l` of stream `s` is a `rand_xoshiro`
//! `Xoshiro128PlusPlus` seeded through SplitMix64 from `(seed, s, l)`.
//!
//! The noise of element `(row, class)` is therefore a pure function of
//! `(seed, offset, classes, row, class)`: it does not depend on the thread
//! count, the memory layout (`inner`), the CPU, or the rows after `row`.

use std::ops::Range;

use rand_xoshiro::rand_core::{Rng, SeedableRng};
use rand_xoshiro::SplitMix64;
#[cfg(test)]
use rand_xoshiro::Xoshiro128PlusPlus;

/// The element budget of one stream: a unit of rows, or one segment of a
/// long row, never holds more elements than this.
pub const CHUNK_ELEMENTS: usize = 16384;

/// The number of interleaved generator lanes within one stream.
pub const LANES: usize = 16;

/// The number of stream ids a call on `rows` rows of `classes` classes
/// consumes; the next independent call should use `offset + streams`.
/// Returns 0 for an empty call (`rows == 0`) and for `classes == 0`.
pub fn streams(rows: usize, classes: usize) -> u64 {
    if rows == 0 || classes == 0 {
        return 0;
    }
    let units = Units::new(rows, classes);
    (units.count as u64).wrapping_mul(units.streams_per_unit as u64)
}

/// How the rows of a call are cut into work units (see the module docs).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Units {
    rows: usize,
    rows_per_unit: usize,
    streams_per_unit: usize,
    count: usize,
}

impl Units {
    /// The units of `rows` rows of `classes >= 1` classes.
    pub(crate) fn new(rows: usize, classes: usize) -> Self {
        let rows_per_unit = (CHUNK_ELEMENTS / classes).max(1);
        Self {
            rows,
            rows_per_unit,
            streams_per_unit: classes.div_ceil(CHUNK_ELEMENTS),
            count: rows.div_ceil(rows_per_unit),
        }
    }

    /// The number of units.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// The rows of unit `unit`.
    pub(crate) fn rows(&self, unit: usize) -> Range<usize> {
        let start = unit * self.rows_per_unit;
        start..(start + self.rows_per_unit).min(self.rows)
    }

    /// The stream id of the first piece of unit `unit` (ids wrap modulo 2^64).
    pub(crate) fn first_stream(&self, offset: u64, unit: usize) -> u64 {
        offset.wrapping_add((unit as u64).wrapping_mul(self.streams_per_unit as u64))
    }
}

/// One SplitMix64 step used as a hash: the first output of a SplitMix64
/// generator whose state is `x`.
fn mix(x: u64) -> u64 {
    SplitMix64::seed_from_u64(x).next_u64()
}

/// The `seed_from_u64` seeds of the `LANES` lanes of stream `stream` under
/// `seed`.
pub(crate) fn lane_seeds(seed: u64, stream: u64) -> [u64; LANES] {
    let key = mix(mix(seed) ^ stream);
    std::array::from_fn(|lane| mix(key ^ lane as u64))
}

/// The generators of the `LANES` lanes of stream `stream` under `seed`: the
/// reference the lane-parallel generator of [`crate::rng::xoshiro`] is tested
/// against.
#[cfg(test)]
pub(crate) fn lanes(seed: u64, stream: u64) -> [Xoshiro128PlusPlus; LANES] {
    lane_seeds(seed, stream).map(Xoshiro128PlusPlus::seed_from_u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_of_short_rows_fill_the_budget() {
        let u = Units::new(10_000, 3);
        assert_eq!(u.rows(0), 0..5461);
        assert_eq!(u.rows(1), 5461..10_000);
        assert_eq!(u.count(), 2);
        assert_eq!(streams(10_000, 3), 2);
        assert_eq!(u.first_stream(7, 1), 8);
    }

    #[test]
    fn long_rows_are_cut_into_segments() {
        let u = Units::new(3, CHUNK_ELEMENTS * 2 + 1);
        assert_eq!(u.count(), 3);
        assert_eq!(u.rows(2), 2..3);
        assert_eq!(streams(3, CHUNK_ELEMENTS * 2 + 1), 9);
        assert_eq!(u.first_stream(0, 2), 6);
        assert_eq!(u.first_stream(u64::MAX, 1), 2);
    }

    #[test]
    fn empty_calls_consume_nothing() {
        assert_eq!(streams(0, 5), 0);
        assert_eq!(streams(5, 0), 0);
    }

    #[test]
    fn lanes_differ_between_streams_seeds_and_lanes() {
        let first = |seed, stream| lanes(seed, stream).map(|mut g| g.next_u32());
        let a = first(1, 0);
        assert_ne!(a, first(1, 1));
        assert_ne!(a, first(2, 0));
        assert!(a
            .iter()
            .enumerate()
            .all(|(i, x)| a[..i].iter().all(|y| y != x)));
        assert_eq!(a, first(1, 0));
    }
}
