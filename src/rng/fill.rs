//! One stream's worth of variates, 16 elements (one output of each lane) per
//! step, compiled once per instruction-set tier.

use std::marker::PhantomData;

use crate::math::float::Float;
use crate::math::fma::Fma;
use crate::math::isa::{self, FmaKernel};
use crate::rng::stream::{CHUNK_ELEMENTS, LANES};
use crate::rng::variate::{Gumbel, Variate};
use crate::rng::xoshiro::Lanes;

/// Fills `out` (at most [`CHUNK_ELEMENTS`] elements) with the variates `V`
/// of stream `stream` under `seed`: element `j` takes the `j / LANES`-th
/// pair of outputs `(hi, lo)` of lane `j % LANES`.
#[inline]
pub(crate) fn fill<F: Float, V: Variate>(seed: u64, stream: u64, out: &mut [F]) {
    debug_assert!(out.len() <= CHUNK_ELEMENTS);
    isa::dispatch_fma(Fill::<F, V> {
        seed,
        stream,
        out,
        variate: PhantomData,
    })
}

/// The arguments of [`fill`], as the kernel [`isa::dispatch_fma`] compiles
/// for each tier with the tier's FMA.
struct Fill<'a, F, V> {
    seed: u64,
    stream: u64,
    out: &'a mut [F],
    variate: PhantomData<V>,
}

impl<F: Float, V: Variate> FmaKernel for Fill<'_, F, V> {
    type Output = ();
    #[inline(always)]
    fn run<M: Fma>(self) {
        fill_body::<F, V, M>(self.seed, self.stream, self.out)
    }
}

/// The body of [`fill`], inlined into each tier's function.
#[inline(always)]
fn fill_body<F: Float, V: Variate, M: Fma>(seed: u64, stream: u64, out: &mut [F]) {
    let mut lanes = Lanes::new(seed, stream);
    let mut blocks = out.chunks_exact_mut(LANES);
    // Whole blocks are stored with a fixed length: a copy of variable length
    // becomes a call to `memcpy`, around which every vector register is
    // spilled and every constant reloaded.
    for block in &mut blocks {
        let block: &mut [F; LANES] = block.try_into().expect("a block of LANES elements");
        *block = step::<F, V, M>(&mut lanes);
    }
    let tail = blocks.into_remainder();
    if !tail.is_empty() {
        let values = step::<F, V, M>(&mut lanes);
        tail.copy_from_slice(&values[..tail.len()]);
    }
}

/// Fills `out` (at most [`CHUNK_ELEMENTS`] elements) with the standard
/// Gumbel noise of stream `stream` under `seed`.
pub(crate) fn fill_stream<F: Float>(seed: u64, stream: u64, out: &mut [F]) {
    fill::<F, Gumbel>(seed, stream, out);
}

/// Fills the elements of one unit: its pieces of [`CHUNK_ELEMENTS`] draw
/// from consecutive streams starting at `first_stream`.
pub(crate) fn fill_unit<F: Float>(seed: u64, first_stream: u64, out: &mut [F]) {
    for (piece, chunk) in out.chunks_mut(CHUNK_ELEMENTS).enumerate() {
        fill_stream(seed, first_stream.wrapping_add(piece as u64), chunk);
    }
}

/// The variates of the next pair of outputs `(hi, lo)` of every lane.
#[inline(always)]
fn step<F: Float, V: Variate, M: Fma>(lanes: &mut Lanes) -> [F; LANES] {
    let hi = lanes.next();
    let lo = lanes.next();
    let mut values = [F::ZERO; LANES];
    for l in 0..LANES {
        values[l] = V::of::<F, M>(hi[l], lo[l]);
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::isa::Tier;
    use crate::rng::stream;
    use crate::rng::variate::{standard_gumbel, standard_logistic, Logistic};
    use rand_xoshiro::rand_core::Rng;

    /// [`fill`] on tier `tier`, which the CPU must have.
    fn fill_on<F: Float, V: Variate>(tier: Tier, seed: u64, stream: u64, out: &mut [F]) {
        isa::run_fma_on(
            tier,
            Fill::<F, V> {
                seed,
                stream,
                out,
                variate: PhantomData,
            },
        )
    }

    /// The scalar reference: `rand_xoshiro` lanes and the branchy variate.
    fn reference<F: Float>(seed: u64, stream: u64, n: usize, variate: fn(u32, u32) -> F) -> Vec<F> {
        let mut lanes = stream::lanes(seed, stream);
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let hi: [u32; LANES] = std::array::from_fn(|l| lanes[l].next_u32());
            let lo: [u32; LANES] = std::array::from_fn(|l| lanes[l].next_u32());
            out.extend((0..LANES).map(|l| variate(hi[l], lo[l])));
        }
        out.truncate(n);
        out
    }

    fn check_tier<F: Float>(tier: Tier) {
        for (seed, stream, n) in [(0, 0, CHUNK_ELEMENTS), (7, u64::MAX, 1001), (1 << 50, 3, 5)] {
            let mut out = vec![F::ZERO; n];
            fill_on::<F, Gumbel>(tier, seed, stream, &mut out);
            let expected = reference::<F>(seed, stream, n, standard_gumbel);
            assert!(
                out.iter()
                    .zip(&expected)
                    .all(|(a, b)| a.to_f64().to_bits() == b.to_f64().to_bits()),
                "{tier:?} gumbel"
            );
            fill_on::<F, Logistic>(tier, seed, stream, &mut out);
            let expected = reference::<F>(seed, stream, n, standard_logistic);
            assert!(
                out.iter()
                    .zip(&expected)
                    .all(|(a, b)| a.to_f64().to_bits() == b.to_f64().to_bits()),
                "{tier:?} logistic"
            );
        }
    }

    #[test]
    fn every_available_tier_gives_the_bits_of_the_scalar_reference() {
        for tier in Tier::ALL.into_iter().filter(|t| t.available()) {
            check_tier::<f32>(tier);
            check_tier::<f64>(tier);
        }
    }
}
