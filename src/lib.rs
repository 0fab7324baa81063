//! `gumbel`: fast, exact and reproducible sampling from the Gumbel-Softmax
//! (Concrete) family, with a C ABI (see [`ffi`] and `include/gumbel.h`).
//!
//! The safe Rust API works on row-major `(outer, classes, inner)` tensors
//! ([`Shape`]) of `f32` or `f64` ([`Float`]). Every sampling call takes a
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

mod concrete;
pub mod dist;
mod error;
mod exec;
mod float;
mod forward;
mod grad;
mod kernels;
mod math;
mod noise;
mod pool;
mod relaxed_bernoulli;
mod sample;
mod schedule;
mod scratch;
mod shape;
mod softmax;
mod special;
pub mod stream;
mod temperature;
mod validate;
mod wide;
mod window;

pub mod ffi;

pub use concrete::{concrete_log_prob, exp_concrete_log_prob};
pub use error::{Error, ErrorKind, Result};
pub use exec::PARALLEL_MIN_ELEMENTS;
pub use float::Float;
pub use grad::{
    gumbel_softmax_backward, gumbel_softmax_backward_per_row, gumbel_softmax_grad_tau,
    gumbel_softmax_grad_tau_per_row,
};
pub use noise::{noise, MAX_ABS_STANDARD_GUMBEL};
pub use pool::{
    max_threads, num_threads, set_num_threads, MIN_THREAD_LIMIT, NUM_THREADS_ENV, THREADS_PER_CPU,
};
pub use relaxed_bernoulli::{
    relaxed_bernoulli, relaxed_bernoulli_backward, relaxed_bernoulli_log_prob,
};
pub use sample::{gumbel_log_softmax, gumbel_softmax, gumbel_softmax_per_row, sample};
pub use schedule::Schedule;
pub use shape::Shape;
pub use softmax::{tempered_softmax, tempered_softmax_per_row, ACCUMULATORS};
pub use stream::{CHUNK_ELEMENTS, LANES};

/// The number of stream ids one sampling call on `shape` consumes: a caller
/// that makes several independent calls advances its `offset` by this much
/// after each. See [`stream`] for the layout of the streams.
pub fn streams(shape: Shape) -> u64 {
    stream::streams(shape.rows(), shape.classes())
}
