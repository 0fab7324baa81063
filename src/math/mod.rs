//! Numeric foundations, the bottom layer: the [`Float`](float::Float) trait
//! over `f32` and `f64`, the 16-bit storage formats and their conversions
//! ([`half`]), the element types of tensors ([`element`]), the
//! instruction-set tiers the kernels are compiled for ([`isa`]) with their
//! fused multiply-add ([`fma`]), and the
//! logarithm, exponential ([`exp_log`]) and special functions ([`special`])
//! the library evaluates itself (never libm), so that results are the same
//! bits on every platform.
//!
//! Imports from no other layer (only `crate::error`).

pub(crate) mod element;
pub(crate) mod exp_log;
pub(crate) mod float;
pub(crate) mod fma;
pub(crate) mod half;
pub(crate) mod isa;
pub(crate) mod special;
