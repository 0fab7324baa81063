//! The Gumbel distribution `Gumbel(loc, scale)` (max convention; Gumbel 1954):
//! log-density, distribution and quantile functions, moments, entropy and the
//! KL divergence, for `f32` and `f64`.
//!
//! With `z = (x - loc) / scale`:
//!
//! | function | value | computed as |
//! | --- | --- | --- |
//! | `log_pdf` | `-ln scale - z - e^-z` | the same, never `ln` of a rounded density |
//! | `cdf` | `exp(-e^-z)` | the same |
//! | `log_cdf` | `-e^-z` | the same (exact; no `ln` of a rounded cdf) |
//! | `sf` | `1 - exp(-e^-z)` | `-expm1(-e^-z)` (no cancellation in the upper tail) |
//! | `log_sf` | `ln(1 - exp(-e^-z))` | `ln1p(-cdf)` if `cdf < 1/2`, `ln(sf)` if not, `-z - e^-z/2` for `z > 20` |
//! | `icdf(p)` | `loc - scale ln(-ln p)` | `-ln p` as `-ln1p(p - 1)` for `p > 1/2` |
//! | `isf(q)` | `loc - scale ln(-ln(1 - q))` | `-ln(1 - q)` as `-ln1p(-q)` for `q <= 1/2` |
//!
//! Every function is evaluated in `f64` (with the standard library's `exp`,
//! `exp_m1`, `ln`, `ln_1p`) and rounded once to the element type, so the
//! `f32` results are within about one ulp of the exact values wherever the
//! function is well conditioned, far into both tails: `log_pdf(-5)` is
//! `-143.41` (the density, `5.3e-63`, underflows `f32`) and `sf(40)` is
//! `4.25e-18`, where `1 - cdf` is 0.
//!
//! Edge behaviour: `x = ±inf` gives the mathematical limit (`cdf(-inf) = 0`,
//! `cdf(inf) = 1`, `log_pdf(±inf) = -inf`, `log_cdf(-inf) = -inf`,
//! `log_sf(inf) = -inf`, ...). A NaN `x` is an error
//! ([`ErrorKind::InvalidValue`]), and so is a probability outside `[0, 1]`
//! for `icdf` and `isf`; `icdf(0) = -inf`, `icdf(1) = +inf`,
//! `isf(0) = +inf`, `isf(1) = -inf` (the limits). A value beyond the range of
//! the element type rounds to `±inf` (for example `log_pdf` far in the lower
//! tail, or a quantile when `scale` is near the largest float); no result is
//! ever NaN.
//!
//! Parameters: `loc` finite, `scale` finite and `> 0` (subnormal values are
//! accepted). Unlike [`noise`](crate::noise), the distribution functions do not need
//! `|loc| + 45 scale` to be finite: they draw nothing.

use rayon::prelude::*;

use crate::error::{Error, ErrorKind, Result};
use crate::math::float::Float;
use crate::math::special::ln_gamma;
use crate::rows::validate::check_location_scale;
use crate::runtime::exec::{self, PARALLEL_MIN_ELEMENTS};

/// The Euler-Mascheroni constant, `-Gamma'(1)`.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Elements per work item of the array forms.
const BLOCK: usize = 1 << 14;

/// Above this `z`, `log_sf` is `-z - e^-z / 2`: the next term of
/// `ln(-expm1(-w)) = ln w - w/2 + w^2/24 - ...` is below `1e-18`, while
/// `e^-z` itself underflows for `z > 745`.
const LOG_SF_ASYMPTOTIC_Z: f64 = 20.0;

/// An elementwise function of `Gumbel(loc, scale)`: the array forms
/// [`apply`] and [`apply_in_place`] take one. The scalar functions
/// ([`log_pdf`], [`cdf`], ...) document each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Function {
    /// The log-density, see [`log_pdf`].
    LogPdf,
    /// The distribution function, see [`cdf`].
    Cdf,
    /// The log of the distribution function, see [`log_cdf`].
    LogCdf,
    /// The survival function `1 - cdf`, see [`sf`].
    Sf,
    /// The log of the survival function, see [`log_sf`].
    LogSf,
    /// The quantile function, see [`icdf`].
    Icdf,
    /// The inverse survival function, see [`isf`].
    Isf,
}

impl Function {
    /// The function's name in messages (`"log_pdf"`, `"cdf"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Function::LogPdf => "log_pdf",
            Function::Cdf => "cdf",
            Function::LogCdf => "log_cdf",
            Function::Sf => "sf",
            Function::LogSf => "log_sf",
            Function::Icdf => "icdf",
            Function::Isf => "isf",
        }
    }

    /// Evaluates the function at one point `x` of `Gumbel(loc, scale)`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidParameter`] if `loc` is not finite or `scale` is
    /// not finite or `<= 0`; [`ErrorKind::InvalidValue`] if `x` is NaN, or
    /// (for [`Function::Icdf`] and [`Function::Isf`]) outside `[0, 1]`.
    pub fn at<F: Float>(self, x: F, loc: F, scale: F) -> Result<F> {
        let kernel = Kernel::new(self, loc, scale)?;
        if !kernel.accepts(x) {
            return Err(kernel.invalid(x, "x"));
        }
        Ok(kernel.eval(x))
    }

    /// True for the quantile functions, whose argument is a probability.
    fn takes_probability(self) -> bool {
        matches!(self, Function::Icdf | Function::Isf)
    }
}

/// A [`Function`] with checked parameters, evaluated in `f64`.
#[derive(Clone, Copy)]
struct Kernel {
    function: Function,
    loc: f64,
    scale: f64,
    ln_scale: f64,
}

impl Kernel {
    fn new<F: Float>(function: Function, loc: F, scale: F) -> Result<Self> {
        check_location_scale(loc, scale, ["loc", "scale"])?;
        Ok(Self {
            function,
            loc: loc.to_f64(),
            scale: scale.to_f64(),
            ln_scale: scale.to_f64().ln(),
        })
    }

    /// True if `x` is in the domain: not NaN, and in `[0, 1]` for quantiles.
    fn accepts<F: Float>(&self, x: F) -> bool {
        if self.function.takes_probability() {
            x >= F::ZERO && x <= F::ONE
        } else {
            !x.is_nan()
        }
    }

    /// The error for a value `x` (called `name`) that [`Self::accepts`] refuses.
    fn invalid<F: Float>(&self, x: F, name: &str) -> Error {
        let function = self.function.name();
        let message = if self.function.takes_probability() {
            format!("{function}: {name} = {x:?} is not a probability in [0, 1]")
        } else {
            format!("{function}: {name} is NaN; every other value (including +-inf) is accepted")
        };
        Error::new(ErrorKind::InvalidValue, message)
    }

    /// The value at an accepted `x`, rounded once to `F`.
    #[inline]
    fn eval<F: Float>(&self, x: F) -> F {
        let x = x.to_f64();
        let z = (x - self.loc) / self.scale;
        let value = match self.function {
            Function::LogPdf => log_pdf_standard(z) - self.ln_scale,
            Function::Cdf => (-(-z).exp()).exp(),
            Function::LogCdf => -(-z).exp(),
            Function::Sf => -(-(-z).exp()).exp_m1(),
            Function::LogSf => log_sf_standard(z),
            Function::Icdf => self.loc - self.scale * minus_ln(x).ln(),
            Function::Isf => self.loc - self.scale * minus_ln_1m(x).ln(),
        };
        F::from_f64(value)
    }

    /// The index of the first element of `x` outside the domain.
    fn first_invalid<F: Float>(&self, x: &[F]) -> Option<usize> {
        let refused = |v: &F| !self.accepts(*v);
        if x.len() >= PARALLEL_MIN_ELEMENTS {
            x.par_iter().position_first(refused)
        } else {
            x.iter().position(refused)
        }
    }

    /// Checks every element of `x` before anything is written.
    fn check_all<F: Float>(&self, x: &[F]) -> Result<()> {
        match self.first_invalid(x) {
            Some(j) => Err(self.invalid(x[j], &format!("x[{j}]"))),
            None => Ok(()),
        }
    }
}

/// `-z - e^-z`, the log-density of the standard Gumbel; `-inf` at both
/// ends (where `e^-z` overflows, `-z - e^-z` would be `inf - inf`).
fn log_pdf_standard(z: f64) -> f64 {
    let w = (-z).exp();
    if w == f64::INFINITY {
        f64::NEG_INFINITY
    } else {
        -(z + w)
    }
}

/// `ln(1 - exp(-e^-z))` without cancellation or underflow.
fn log_sf_standard(z: f64) -> f64 {
    let w = (-z).exp();
    if z > LOG_SF_ASYMPTOTIC_Z {
        -z - 0.5 * w
    } else if w > std::f64::consts::LN_2 {
        // cdf = exp(-w) < 1/2: ln(1 - cdf) by ln1p is accurate.
        (-(-w).exp()).ln_1p()
    } else {
        // sf = -expm1(-w) <= 1/2 is accurate, and so is its log.
        (-(-w).exp_m1()).ln()
    }
}

/// `-ln p` for `p` in `[0, 1]`; near 1 as `-ln1p(p - 1)` (`p - 1` is exact).
fn minus_ln(p: f64) -> f64 {
    if p > 0.5 {
        -(p - 1.0).ln_1p()
    } else {
        -p.ln()
    }
}

/// `-ln(1 - q)` for `q` in `[0, 1]`; near 0 as `-ln1p(-q)`.
fn minus_ln_1m(q: f64) -> f64 {
    if q > 0.5 {
        -(1.0 - q).ln()
    } else {
        -(-q).ln_1p()
    }
}

/// Log-density of `Gumbel(loc, scale)` at `x`:
/// `-ln scale - z - e^-z`, `z = (x - loc) / scale` (Gumbel 1954). Never the
/// log of a rounded density: `log_pdf(-5, 0, 1) = 5 - e^5 = -143.41` in
/// `f32`. `log_pdf(±inf) = -inf`.
///
/// # Errors
/// [`ErrorKind::InvalidParameter`] if `loc` is not finite or `scale` is not
/// finite or `<= 0`; [`ErrorKind::InvalidValue`] if `x` is NaN.
pub fn log_pdf<F: Float>(x: F, loc: F, scale: F) -> Result<F> {
    Function::LogPdf.at(x, loc, scale)
}

/// Distribution function of `Gumbel(loc, scale)`: `P(X <= x) =
/// exp(-e^-z)`, `z = (x - loc) / scale`, in `[0, 1]`; `cdf(-inf) = 0`,
/// `cdf(inf) = 1`.
///
/// # Errors
/// As [`log_pdf`].
pub fn cdf<F: Float>(x: F, loc: F, scale: F) -> Result<F> {
    Function::Cdf.at(x, loc, scale)
}

/// Log of the distribution function of `Gumbel(loc, scale)`: exactly
/// `-e^-z`, `z = (x - loc) / scale`, in `[-inf, 0]`; `-inf` at `x = -inf`
/// and wherever `e^-z` overflows.
///
/// # Errors
/// As [`log_pdf`].
pub fn log_cdf<F: Float>(x: F, loc: F, scale: F) -> Result<F> {
    Function::LogCdf.at(x, loc, scale)
}

/// Survival function of `Gumbel(loc, scale)`: `P(X > x) = 1 - cdf(x)`,
/// computed as `-expm1(-e^-z)` so the upper tail keeps its relative
/// accuracy (`sf(40, 0, 1) = 4.25e-18`); in `[0, 1]`, `sf(-inf) = 1`,
/// `sf(inf) = 0`.
///
/// # Errors
/// As [`log_pdf`].
pub fn sf<F: Float>(x: F, loc: F, scale: F) -> Result<F> {
    Function::Sf.at(x, loc, scale)
}

/// Log of the survival function of `Gumbel(loc, scale)`:
/// `ln(1 - exp(-e^-z))`, accurate over the whole line (about `-z` in the
/// upper tail, even where `e^-z` underflows); in `[-inf, 0]`,
/// `log_sf(-inf) = 0`, `log_sf(inf) = -inf`.
///
/// # Errors
/// As [`log_pdf`].
pub fn log_sf<F: Float>(x: F, loc: F, scale: F) -> Result<F> {
    Function::LogSf.at(x, loc, scale)
}

/// Quantile function of `Gumbel(loc, scale)` at probability `p`:
/// `loc - scale ln(-ln p)`, the `x` with `cdf(x) = p`; `-ln p` is computed
/// as `-ln1p(p - 1)` near 1, so `p = 1 - 2^-24` gives the upper tail point
/// `16.6 scale` in `f32`. `icdf(0) = -inf`, `icdf(1) = +inf`.
///
/// # Errors
/// [`ErrorKind::InvalidParameter`] as [`log_pdf`];
/// [`ErrorKind::InvalidValue`] if `p` is NaN or outside `[0, 1]`.
pub fn icdf<F: Float>(p: F, loc: F, scale: F) -> Result<F> {
    Function::Icdf.at(p, loc, scale)
}

/// Inverse survival function of `Gumbel(loc, scale)` at probability `q`:
/// `loc - scale ln(-ln1p(-q))`, the `x` with `sf(x) = q`; accurate for tiny
/// `q` (`isf(1e-30, 0, 1) = 69.08`). `isf(0) = +inf`, `isf(1) = -inf`.
///
/// # Errors
/// As [`icdf`].
pub fn isf<F: Float>(q: F, loc: F, scale: F) -> Result<F> {
    Function::Isf.at(q, loc, scale)
}

/// Applies `function` of `Gumbel(loc, scale)` elementwise:
/// `out[j] = function(x[j])` (for the quantile functions `x` holds
/// probabilities). Every element is checked before anything is written;
/// large slices run on the library's worker threads.
///
/// # Errors
/// [`ErrorKind::InvalidShape`] if `x.len() != out.len()`;
/// [`ErrorKind::InvalidParameter`] as [`log_pdf`];
/// [`ErrorKind::InvalidValue`] for the first NaN element (or, for
/// quantiles, the first outside `[0, 1]`), naming its index. `out` is
/// untouched on error.
pub fn apply<F: Float>(function: Function, x: &[F], out: &mut [F], loc: F, scale: F) -> Result<()> {
    if x.len() != out.len() {
        return Err(Error::new(
            ErrorKind::InvalidShape,
            format!(
                "{}: x has {} elements but out has {}",
                function.name(),
                x.len(),
                out.len()
            ),
        ));
    }
    let kernel = Kernel::new(function, loc, scale)?;
    kernel.check_all(x)?;
    let parallel = x.len() >= PARALLEL_MIN_ELEMENTS;
    exec::for_each_chunk_mut(out, BLOCK, parallel, |block, out| {
        let x = &x[block * BLOCK..block * BLOCK + out.len()];
        out.iter_mut()
            .zip(x)
            .for_each(|(o, x)| *o = kernel.eval(*x));
    })
}

/// [`apply`] in place: `x[j] = function(x[j])`.
///
/// # Errors
/// As [`apply`] (less the length check); `x` is untouched on error.
pub fn apply_in_place<F: Float>(function: Function, x: &mut [F], loc: F, scale: F) -> Result<()> {
    let kernel = Kernel::new(function, loc, scale)?;
    kernel.check_all(x)?;
    let parallel = x.len() >= PARALLEL_MIN_ELEMENTS;
    exec::for_each_chunk_mut(x, BLOCK, parallel, |_, x| {
        x.iter_mut().for_each(|x| *x = kernel.eval(*x));
    })
}

/// Mean of `Gumbel(loc, scale)`: `loc + scale * gamma`, `gamma` the
/// Euler-Mascheroni constant (Gumbel 1958, *Statistics of Extremes*), computed in `f64`
/// and rounded once. Overflows to `±inf` only when the mean exceeds the type.
///
/// # Errors
/// [`ErrorKind::InvalidParameter`] if `loc` is not finite or `scale` is not
/// finite or `<= 0`.
pub fn mean<F: Float>(loc: F, scale: F) -> Result<F> {
    check_location_scale(loc, scale, ["loc", "scale"])?;
    Ok(F::from_f64(loc.to_f64() + scale.to_f64() * EULER_GAMMA))
}

/// Variance of `Gumbel(loc, scale)`: `(pi scale)^2 / 6`, computed in `f64`
/// as `scale * (scale * pi^2 / 6)` and rounded once; `+inf` only when the
/// variance exceeds the type (`scale > 1.4e19` in `f32`).
///
/// # Errors
/// As [`mean`].
pub fn variance<F: Float>(loc: F, scale: F) -> Result<F> {
    check_location_scale(loc, scale, ["loc", "scale"])?;
    let scale = scale.to_f64();
    let pi_squared_over_6 = std::f64::consts::PI * std::f64::consts::PI / 6.0;
    Ok(F::from_f64(scale * (scale * pi_squared_over_6)))
}

/// Mode of `Gumbel(loc, scale)`: `loc`, where the density peaks at
/// `1 / (e scale)`.
///
/// # Errors
/// As [`mean`].
pub fn mode<F: Float>(loc: F, scale: F) -> Result<F> {
    check_location_scale(loc, scale, ["loc", "scale"])?;
    Ok(loc)
}

/// Differential entropy of `Gumbel(loc, scale)` in nats:
/// `ln scale + gamma + 1` (`-E[log_pdf(X)]`, since `E[z] = gamma` and
/// `E[e^-z] = 1`), computed in `f64` and rounded once.
///
/// # Errors
/// As [`mean`].
pub fn entropy<F: Float>(loc: F, scale: F) -> Result<F> {
    check_location_scale(loc, scale, ["loc", "scale"])?;
    Ok(F::from_f64(scale.to_f64().ln() + EULER_GAMMA + 1.0))
}

/// Kullback-Leibler divergence `KL(p || q)` in nats of
/// `p = Gumbel(loc1, scale1)` from `q = Gumbel(loc2, scale2)`:
///
/// `ln(scale2 / scale1) + (loc1 - loc2) / scale2 + gamma (r - 1) - 1
///  + exp((loc2 - loc1) / scale2) Gamma(1 + r)`, `r = scale1 / scale2`.
///
/// Derivation: with `X = loc1 + scale1 G`, `G` standard Gumbel,
/// `KL = -H(p) - E[ln q(X)]`, `H(p) = ln scale1 + gamma + 1`, and
/// `-ln q(X) = ln scale2 + z2 + e^-z2` with `z2 = d + r G`,
/// `d = (loc1 - loc2) / scale2`. `E[G] = gamma` and
/// `E[e^-rG] = Gamma(1 + r)` (the moment generating function of `G`), so
/// `-E[ln q(X)] = ln scale2 + d + r gamma + e^-d Gamma(1 + r)`.
///
/// Computed in `f64` as `(ln scale2 - ln scale1) + d + gamma (r - 1) +
/// expm1(lnGamma(1 + r) - d)`, so it is exactly 0 for `p == q`, does not
/// overflow while the divergence is representable, and is `+inf` when it is
/// not. The absolute error is about `1e-16` times the largest term; results
/// that rounding would push below 0 are 0. Never NaN.
///
/// # Errors
/// [`ErrorKind::InvalidParameter`] if `loc1` or `loc2` is not finite, or
/// `scale1` or `scale2` is not finite or `<= 0` (the message names it).
pub fn kl_divergence<F: Float>(loc1: F, scale1: F, loc2: F, scale2: F) -> Result<F> {
    check_location_scale(loc1, scale1, ["loc1", "scale1"])?;
    check_location_scale(loc2, scale2, ["loc2", "scale2"])?;
    let (loc1, scale1) = (loc1.to_f64(), scale1.to_f64());
    let (loc2, scale2) = (loc2.to_f64(), scale2.to_f64());
    let r = scale1 / scale2;
    let d = (loc1 - loc2) / scale2;
    // expm1(lnGamma(1 + r) - d) = e^-d Gamma(1 + r) - 1, the only term that
    // can reach +inf (with d -> -inf or r -> inf); the others are then finite
    // or -inf/+inf of a lower order, so return the limit rather than a NaN.
    let tail = (ln_gamma(1.0 + r) - d).exp_m1();
    if tail == f64::INFINITY || r == f64::INFINITY {
        return Ok(F::INFINITY);
    }
    let kl = (scale2.ln() - scale1.ln()) + d + EULER_GAMMA * (r - 1.0) + tail;
    Ok(F::from_f64(kl.max(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_sf_branches_meet_continuously() {
        // Each switch point evaluated by both neighbouring forms.
        let w_half = std::f64::consts::LN_2;
        let z = -w_half.ln();
        let below = (-(-w_half).exp()).ln_1p();
        let above = (-(-w_half).exp_m1()).ln();
        assert!((below - above).abs() < 1e-15, "{below} {above}");
        assert!((log_sf_standard(z) - (0.5f64).ln()).abs() < 1e-15);
        let w = (-LOG_SF_ASYMPTOTIC_Z).exp();
        let exact = (-(-w).exp_m1()).ln();
        let asymptotic = -LOG_SF_ASYMPTOTIC_Z - 0.5 * w;
        assert!((exact - asymptotic).abs() <= 4.0 * f64::EPSILON * 20.0);
    }

    #[test]
    fn quantile_helpers_meet_at_one_half() {
        assert!((minus_ln(0.5) - std::f64::consts::LN_2).abs() < 1e-16);
        assert!((minus_ln(0.5000000000000001) - std::f64::consts::LN_2).abs() < 1e-15);
        assert!((minus_ln_1m(0.5) - std::f64::consts::LN_2).abs() < 1e-16);
        assert!((minus_ln_1m(0.5000000000000001) - std::f64::consts::LN_2).abs() < 1e-15);
    }
}
