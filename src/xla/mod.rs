//! XLA FFI handlers: the samplers and their gradients inside JAX's `jit` on
//! CPU (`jax.ffi.register_ffi_target` + `jax.ffi.ffi_call`; the Python
//! package `gumbel.jax` registers and calls them).
//!
//! Built with the cargo feature `xla` (the Python wheel enables it; the C
//! library and `include/gumbel.h` do not have these symbols). The handlers
//! are written in Rust against XLA's versioned C API (module `api`, declared
//! here), not in C++ against its header-only wrapper: the shared library
//! the wheel already ships then serves JAX too, with no C++ compiler or
//! jaxlib headers at build or import time, and one binary works with every
//! jaxlib whose FFI API has major version 0 (the Python side reads the
//! installed version and sets it with
//! [`gumbel_xla_set_api_version`](frame::gumbel_xla_set_api_version)).
//! Each handler runs one function of the safe Rust API ([`handlers`]).

mod api;
mod denormals;
pub mod frame;
pub mod handlers;
