//! Running work, above `rng`: the shape of a call ([`shape`]), the library's
//! worker threads ([`pool`]), per-thread scratch buffers ([`scratch`]), the
//! units of a call run serially or over the threads ([`exec`]), and cache
//! hints ([`prefetch`]).
//!
//! Work is cut into the units of [`crate::stream`], so which thread runs
//! a unit never changes what it computes. What a unit computes, and how
//! results combine, the caller passes in: nothing here knows about softmax.
//!
//! Imports only from `rng` and `math` (and `crate::error`).

pub(crate) mod exec;
pub(crate) mod pool;
pub(crate) mod prefetch;
pub(crate) mod scratch;
pub(crate) mod shape;
