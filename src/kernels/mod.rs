//! Lane-parallel kernels: the random streams as structure-of-arrays
//! generators stepped 16 lanes at a time, and the instruction-set tiers the
//! kernels are compiled for.
//!
//! Every kernel is one generic body written as plain loops over fixed-size
//! arrays (no intrinsics), compiled several times under `#[target_feature]`
//! and picked once per process by [`isa::Tier::current`]. The arithmetic is
//! the same IEEE-754 operations in the same order on every tier (no FMA
//! contraction, no reassociation), so every tier gives the same bits as the
//! scalar reference of [`crate::noise`] and [`crate::math`].

pub(crate) mod isa;
pub(crate) mod noise;
pub(crate) mod xoshiro;
