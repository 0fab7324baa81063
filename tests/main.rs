//! The integration tests, built as one binary: one link of the library and
//! the test dependencies instead of one per file. Each module is a file of
//! this folder, unchanged but for using `common` from here.
//!
//! Two files are binaries of their own (see Cargo.toml): `allocation.rs`,
//! whose counting global allocator would count every other test's
//! allocations, and `golden.rs`, which sets the process-wide pool size while
//! other tests here read it back under `common::pool_size_lock`, and whose
//! bit-for-bit comparisons are kept exactly as recorded.

mod common;

mod bad_input_matrix;
mod bit_guard;
mod concrete;
mod concrete_grad;
mod concurrency;
mod estimators;
mod environment;
mod ffi;
mod ffi_concrete;
mod ffi_dist;
mod ffi_grad;
mod ffi_schedule;
mod filtered;
mod fuzz_regressions;
mod grad;
mod gumbel_max_pruning;
mod gumbel_dist;
mod half;
mod header;
mod keyed;
mod layers;
mod logit_relaxed_bernoulli;
mod noise;
mod relaxed_bernoulli;
mod reproducibility;
mod sampling;
mod top_k;
mod schedule;
