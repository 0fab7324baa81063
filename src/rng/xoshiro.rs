//! The 16 xoshiro128++ lanes of one stream as structure-of-arrays state,
//! stepped together so that the compiler vectorises the step.
//!
//! Lane `l` produces exactly the outputs of the `rand_xoshiro`
//! `Xoshiro128PlusPlus` that [`crate::stream`] seeds for it (Blackman and
//! Vigna 2018, xoshiro128++: output `rotl(s0 + s3, 7) + s0`).

use rand_xoshiro::rand_core::{Rng, SeedableRng};
use rand_xoshiro::SplitMix64;

use crate::rng::stream::{self, LANES};

/// The state words `s[0..4]` of the 16 lanes, word-major.
#[derive(Clone)]
pub(crate) struct Lanes {
    s: [[u32; LANES]; 4],
}

impl Lanes {
    /// The lanes of stream `stream` under `seed`, seeded as
    /// `Xoshiro128PlusPlus::seed_from_u64` seeds them: 16 bytes from
    /// SplitMix64, read as four little-endian words, with `rand_xoshiro`'s
    /// fallback for an all-zero seed.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut s = [[0u32; LANES]; 4];
        for (lane, lane_seed) in stream::lane_seeds(seed, stream).into_iter().enumerate() {
            let mut bytes = [0u8; 16];
            SplitMix64::seed_from_u64(lane_seed).fill_bytes(&mut bytes);
            if bytes == [0; 16] {
                SplitMix64::seed_from_u64(0).fill_bytes(&mut bytes);
            }
            for (word, b) in s.iter_mut().zip(bytes.chunks_exact(4)) {
                word[lane] = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
        }
        Self { s }
    }

    /// The next output of every lane.
    #[inline(always)]
    pub(crate) fn next(&mut self) -> [u32; LANES] {
        let [s0, s1, s2, s3] = &mut self.s;
        let mut out = [0u32; LANES];
        for l in 0..LANES {
            out[l] = s0[l].wrapping_add(s3[l]).rotate_left(7).wrapping_add(s0[l]);
            let t = s1[l] << 9;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = s3[l].rotate_left(11);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_equal_the_rand_xoshiro_reference() {
        for (seed, stream) in [(0, 0), (1, 2), (u64::MAX, 7), (0x1234_5678_9abc, u64::MAX)] {
            let mut fast = Lanes::new(seed, stream);
            let mut reference = stream::lanes(seed, stream);
            for _ in 0..1000 {
                let expected: [u32; LANES] = std::array::from_fn(|l| reference[l].next_u32());
                assert_eq!(fast.next(), expected);
            }
        }
    }
}
