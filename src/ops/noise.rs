//! Gumbel noise as an operation: [`noise`] fills a flat buffer with
//! `Gumbel(loc, scale)` variates, chunk by chunk over the worker threads
//! ([`fill_flat`], which the relaxed Bernoulli shares with its logistic
//! variates). The map from random bits to a variate is in
//! [`crate::rng::variate`].

use crate::error::{Error, ErrorKind, Result};
use crate::math::float::Float;
use crate::rng::fill::fill;
use crate::rng::stream::{Units, CHUNK_ELEMENTS};
use crate::rng::variate::{Gumbel, Variate, MAX_ABS_STANDARD_GUMBEL};
use crate::rows::validate::check_location_scale;
use crate::runtime::exec;

/// Fills a flat buffer of `out.len()` elements with one variate `V` per
/// element (chunk `c` of [`CHUNK_ELEMENTS`] elements draws from stream
/// `offset + c`, the layout of [`noise`]), then calls `finish(start, chunk)`
/// on each chunk, `start` being the index of its first element. Consumes
/// `ceil(out.len() / CHUNK_ELEMENTS)` stream ids.
pub(crate) fn fill_flat<F: Float, V: Variate>(
    out: &mut [F],
    seed: u64,
    offset: u64,
    finish: impl Fn(usize, &mut [F]) + Sync,
) -> Result<()> {
    let units = Units::new(out.len(), 1);
    let parallel = out.len() >= exec::PARALLEL_MIN_ELEMENTS;
    exec::for_each_chunk_mut(out, CHUNK_ELEMENTS, parallel, |unit, chunk| {
        fill::<F, V>(seed, units.first_stream(offset, unit), chunk);
        finish(unit * CHUNK_ELEMENTS, chunk);
    })
}

/// Fills `out` with independent `Gumbel(loc, scale)` variates,
/// `loc + scale * g` with `g = -ln(E)`, `E ~ Exp(1)`.
///
/// Element `n` is a pure function of `(seed, offset, n)`; the call consumes
/// `ceil(out.len() / CHUNK_ELEMENTS)` stream ids (see [`crate::streams`]).
/// Values are finite, within `loc + scale * [-3.9, 44.4]`.
///
/// # Errors
/// [`ErrorKind::InvalidParameter`] if `loc` is not finite, `scale` is not
/// finite or `<= 0`, or `|loc| + 45 scale` overflows the type (the noise
/// could then be infinite). `out` is untouched on error.
pub fn noise<F: Float>(out: &mut [F], loc: F, scale: F, seed: u64, offset: u64) -> Result<()> {
    check_noise_parameters(loc, scale)?;
    fill_flat::<F, Gumbel>(out, seed, offset, |_, chunk| {
        if loc != F::ZERO || scale != F::ONE {
            chunk.iter_mut().for_each(|g| *g = loc + scale * *g);
        }
    })
}

/// Checks the parameters of Gumbel noise: those of the distribution
/// ([`check_location_scale`]) and, since draws reach
/// `loc + scale * [-3.9, 44.4]`, that `|loc| + 45 scale` is finite in `F`.
fn check_noise_parameters<F: Float>(loc: F, scale: F) -> Result<()> {
    check_location_scale(loc, scale, ["loc", "scale"])?;
    let reach = loc.to_f64().abs() + MAX_ABS_STANDARD_GUMBEL * scale.to_f64();
    if !F::from_f64(reach).is_finite() {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!(
                "loc = {loc:?} and scale = {scale:?} overflow {}: |loc| + 45 scale must be finite",
                F::NAME
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_parameters_are_rejected() {
        let mut out = [1.0f32; 4];
        for (loc, scale) in [
            (f32::NAN, 1.0),
            (f32::INFINITY, 1.0),
            (0.0, 0.0),
            (0.0, -1.0),
            (0.0, f32::NAN),
            (0.0, f32::INFINITY),
            (0.0, 1e37),
        ] {
            let e = noise(&mut out, loc, scale, 0, 0).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{loc} {scale}");
        }
        assert_eq!(out, [1.0; 4]);
    }

    #[test]
    #[cfg_attr(miri, ignore = "large input, too slow for Miri")]
    fn loc_and_scale_are_an_affine_map_of_the_standard_noise() {
        let mut g = vec![0.0f64; 40_000];
        let mut h = g.clone();
        noise(&mut g, 0.0, 1.0, 3, 9).unwrap();
        noise(&mut h, -2.0, 0.5, 3, 9).unwrap();
        assert!(g.iter().zip(&h).all(|(g, h)| *h == -2.0 + 0.5 * g));
    }
}
