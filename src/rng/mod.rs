//! Random numbers, above `math`: the counter-based streams of the randomness
//! contract ([`stream`]), the 16 xoshiro128++ lanes of a stream stepped
//! together ([`xoshiro`]), the maps from random bits to Gumbel and logistic
//! variates ([`variate`]), and the kernel that fills a stream's elements with
//! them ([`fill`]).
//!
//! Every kernel is one generic body written as plain loops over fixed-size
//! arrays (no intrinsics), compiled several times under `#[target_feature]`
//! and picked once per process by [`crate::math::isa::Tier::current`]. The
//! arithmetic is the same IEEE-754 operations in the same order on every tier
//! (no FMA contraction, no reassociation), so every tier gives the same bits
//! as the scalar reference of [`variate`] and [`crate::math::exp_log`].
//!
//! Imports only from `math` (and `crate::error`).

pub(crate) mod fill;
pub mod stream;
pub(crate) mod variate;
pub(crate) mod xoshiro;
