//! `gumbel`: fast, exact and reproducible sampling from the Gumbel-Softmax
//! (Concrete) family, with a C ABI (see [`ffi`] and `include/gumbel.h`).
//!
//! The safe Rust API works on row-major `(outer, classes, inner)` tensors
//! ([`Shape`]) of `f32` or `f64` ([`Float`]); the Gumbel-Softmax and
//! Gumbel-max samplers, the tempered softmax and the Gumbel-Softmax backward
//! also take bfloat16 and float16 tensors ([`Bf16`], [`F16`]; see
//! [`Element`]), computed in `f32` and rounded once. Every sampling call takes a
//! `seed` and an `offset`: its output is a pure function of them and of the
//! input, independent of the thread count and the memory layout
//! (see [`stream`] for the contract and [`streams`] for how far to advance
//! `offset` between calls).
//!
//! Beside the samplers: the Gumbel distribution's density, distribution and
//! quantile functions, moments and KL divergence ([`dist`]), and temperature
//! schedules ([`Schedule`]).

//! Temperatures are one `tau` per call or, in the `_per_row` functions, one
//! per row. The gradients of a sample ([`gumbel_softmax_backward`],
//! [`gumbel_softmax_grad_tau`] and their per-row forms) need only the soft
//! sample and the incoming gradient, and serve the hard (straight-through)
//! sample too; replaying the forward with the same `(seed, offset)` and
//! `hard = false` recovers the soft sample exactly.
//!
//! ```
//! use gumbel::{gumbel_softmax, Shape};
//! let logits = [0.5f32, -1.0, 2.0, 0.0, 0.0, f32::NEG_INFINITY];
//! let mut y = [0.0f32; 6];
//! gumbel_softmax(&logits, &mut y, Shape::matrix(2, 3)?, 0.5, false, 42, 0)?;
//! assert!((y[..3].iter().sum::<f32>() - 1.0).abs() < 1e-6);
//! assert_eq!(y[5], 0.0); // a masked class
//! # Ok::<(), gumbel::Error>(())
//! ```

// The layers, each importing only from its own folder and those below it
// (tests/layers.rs checks this): xla -> ffi -> ops -> rows -> runtime -> rng -> math,
// and error.rs from anywhere.
pub mod ffi;
#[cfg(feature = "xla")]
pub mod xla;
mod ops;
mod rows;
mod runtime;
mod rng;
mod math;
mod error;

pub use error::{Error, ErrorKind, Result};
pub use math::element::Element;
pub use math::float::Float;
pub use math::half::{Bf16, Half, F16};
pub use ops::concrete::{
    concrete_log_prob, concrete_log_prob_per_row, exp_concrete_log_prob,
    exp_concrete_log_prob_per_row,
};
pub use ops::concrete_grad::{
    exp_concrete_log_prob_grad_logits_per_row, exp_concrete_log_prob_grad_tau_per_row,
};
pub use ops::conditional::gumbel_conditional;
pub use ops::dist;
pub use ops::estimators::{
    decoupled_straight_through_backward, gapped_straight_through_backward, gumbel_rao_backward,
    reinmax_backward,
};
pub use ops::filtered::{sample_filtered, FilteredSample, Filters};
pub use ops::grad::{
    gumbel_softmax_backward, gumbel_softmax_backward_per_row, gumbel_softmax_grad_tau,
    gumbel_softmax_grad_tau_per_row,
};
pub use ops::keyed::{gumbel_softmax_keyed, sample_keyed};
pub use ops::logit_relaxed_bernoulli::{
    logit_relaxed_bernoulli, logit_relaxed_bernoulli_log_prob,
    logit_relaxed_bernoulli_log_prob_grad_logits, logit_relaxed_bernoulli_log_prob_grad_tau,
};
pub use ops::noise::noise;
pub use ops::relaxed_bernoulli::{
    relaxed_bernoulli, relaxed_bernoulli_backward, relaxed_bernoulli_log_prob,
};
pub use ops::sample::{
    gumbel_log_softmax, gumbel_log_softmax_per_row, gumbel_softmax, gumbel_softmax_per_row, sample,
    tempered_softmax, tempered_softmax_per_row,
};
pub use ops::schedule::Schedule;
pub use ops::top_k::{plackett_luce_log_prob, top_k, top_k_keyed};
pub use rng::stream;
#[doc(no_inline)]
pub use rng::stream::{CHUNK_ELEMENTS, LANES};
pub use rng::variate::MAX_ABS_STANDARD_GUMBEL;
pub use rows::softmax::ACCUMULATORS;
pub use runtime::exec::PARALLEL_MIN_ELEMENTS;
pub use runtime::pool::{
    max_threads, num_threads, set_num_threads, MIN_THREAD_LIMIT, NUM_THREADS_ENV, THREADS_PER_CPU,
};
pub use runtime::shape::Shape;

/// The number of stream ids one sampling call on `shape` consumes: a caller
/// that makes several independent calls advances its `offset` by this much
/// after each. See [`stream`] for the layout of the streams.
pub fn streams(shape: Shape) -> u64 {
    stream::streams(shape.rows(), shape.classes())
}
