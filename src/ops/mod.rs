//! Operations, above `rows`: the safe Rust API that the crate root
//! re-exports, one concept per file. Gumbel-Softmax forward, Gumbel-max and
//! the tempered softmax ([`sample`]), their gradients ([`grad`]), Gumbel
//! noise conditioned on the argmax ([`conditional`]), the gradient estimators
//! beyond straight-through ([`estimators`]), Concrete
//! densities ([`concrete`]) and their gradients ([`concrete_grad`]), Gumbel noise ([`noise`]), keyed rows ([`keyed`]), Gumbel-top-k
//! ([`top_k`]), filtered sampling for inference engines ([`filtered`]), the relaxed Bernoulli
//! ([`relaxed_bernoulli`]) and its logit-space form ([`logit_relaxed_bernoulli`]), the Gumbel distribution ([`dist`]) and
//! temperature schedules ([`schedule`]). Each checks its arguments and runs
//! the row kernels.
//!
//! Imports from `rows`, `runtime`, `rng` and `math` (and `crate::error`).

pub(crate) mod concrete;
pub(crate) mod conditional;
pub(crate) mod concrete_grad;
pub mod dist;
pub(crate) mod estimators;
pub(crate) mod filtered;
pub(crate) mod grad;
pub(crate) mod keyed;
pub(crate) mod logit_relaxed_bernoulli;
pub(crate) mod noise;
pub(crate) mod relaxed_bernoulli;
pub(crate) mod sample;
pub(crate) mod schedule;
pub(crate) mod top_k;
