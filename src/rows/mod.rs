//! Row kernels, above `runtime`: what is computed on the rows of a unit. The
//! row reductions and the row code of the softmax ([`softmax`]), short rows
//! read through fixed windows ([`window`]), rows longer than a stream segment
//! split across the threads ([`wide`]), the fused forward and backward passes
//! over units ([`forward`], [`backward`]), Gumbel-max with exact pruning
//! ([`gumbel_max`]), Gumbel noise conditioned on the argmax
//! ([`conditional`]), the gradient estimators beyond straight-through
//! ([`estimators`]), the truncation filters of token sampling ([`filter`]),
//! top-k's candidates found from a sample of the row ([`candidates`]), the
//! scan of a row for the blocks holding values that pass a test
//! ([`blocks`]), the
//! temperature of a call ([`temperature`]), Gumbel-top-k selection
//! ([`top_k`]) and the input checks ([`validate`]).
//!
//! Imports from `runtime`, `rng` and `math` (and `crate::error`).

pub(crate) mod backward;
pub(crate) mod blocks;
pub(crate) mod candidates;
pub(crate) mod conditional;
pub(crate) mod estimators;
pub(crate) mod filter;
pub(crate) mod forward;
pub(crate) mod gumbel_max;
pub(crate) mod softmax;
pub(crate) mod temperature;
pub(crate) mod top_k;
pub(crate) mod validate;
pub(crate) mod wide;
pub(crate) mod window;
