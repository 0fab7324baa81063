//! The handlers: each runs one function of the safe Rust API on the arrays
//! of an XLA call, and holds no maths.
//!
//! Conventions shared by every handler (the Python package `gumbel.jax`
//! builds the calls):
//! - A categorical array's class axis is followed by `inner_rank`
//!   dimensions (an integer attribute); the dimensions before it, including
//!   any that `jax.vmap` prepends, form `outer`.
//! - A sampler takes `keys`, a `uint32` array of `n` pairs: the leading
//!   dimensions of the data split into `n` equal items (a batch that
//!   `jax.vmap` prepends), and item `b` is sampled as one library call with
//!   `seed = keys[b][0] * 2^32 + keys[b][1]` and `offset = 0`.
//! - Temperatures that may be traced arrays are arguments of the compute
//!   type (`float32` for the 16-bit types): one per row, or one per item
//!   for the relaxed Bernoulli sample; the estimators' `tau` and `gap` are
//!   float attributes.
//! - Class indices are `int32` or `int64` arrays, as the caller declares.

use std::borrow::Cow;
use std::ffi::c_void;

use super::api::{dtype, CallFrame};
use super::frame::{handle, Array, Call, XlaType};
use crate::error::{Error, ErrorKind, Result};
use crate::Bf16;
use crate::Element;
use crate::Float;
use crate::Shape;
use crate::F16;

/// Runs `$run::<E>($call)` for the element type `E` of the array `$x`:
/// any [`Element`], or with `floats` only `f32` and `f64`.
macro_rules! by_dtype {
    (floats $x:expr, $run:ident, $call:expr) => {
        match $x.dtype() {
            dtype::F32 => $run::<f32>($call),
            dtype::F64 => $run::<f64>($call),
            d => Err(Error::new(
                ErrorKind::InvalidShape,
                format!("XLA data type {d} is not supported here"),
            )),
        }
    };
    ($x:expr, $run:ident, $call:expr) => {
        match $x.dtype() {
            dtype::BF16 => $run::<Bf16>($call),
            dtype::F16 => $run::<F16>($call),
            _ => by_dtype!(floats $x, $run, $call),
        }
    };
}

/// The `n` keyed items of a categorical `shape` whose leading dimensions
/// hold `keys.len() / 2` of them: `(seeds, item shape)`.
fn items(keys: &[u32], shape: Shape) -> Result<(Vec<u64>, Shape)> {
    let n = keys.len() / 2;
    if keys.len() % 2 != 0 || (n == 0 && !shape.is_empty()) || (n > 0 && shape.outer() % n != 0) {
        return Err(Error::new(
            ErrorKind::InvalidShape,
            format!(
                "{} key words for {} outer rows: expected pairs, one per item",
                keys.len(),
                shape.outer()
            ),
        ));
    }
    let seeds = keys
        .chunks_exact(2)
        .map(|k| (u64::from(k[0]) << 32) | u64::from(k[1]))
        .collect();
    let item = Shape::new(shape.outer() / n.max(1), shape.classes(), shape.inner())?;
    Ok((seeds, item))
}

/// Checks that `x` holds `len` elements.
fn check_len(x: &Array<'_>, what: &str, len: usize) -> Result<()> {
    let n = x.len()?;
    if n != len {
        return Err(Error::new(
            ErrorKind::InvalidShape,
            format!("{what} has {n} elements, expected {len}"),
        ));
    }
    Ok(())
}

/// Fills the index array `out` through `fill` on an `int64` view of it.
fn write_indices(
    out: &Array<'_>,
    classes: usize,
    fill: impl FnOnce(&mut [i64]) -> Result<()>,
) -> Result<()> {
    match out.dtype() {
        dtype::S64 => fill(out.output::<i64>()?),
        _ => {
            if i32::try_from(classes).is_err() {
                return Err(Error::new(
                    ErrorKind::InvalidShape,
                    format!("{classes} classes do not fit int32 indices: enable 64-bit types"),
                ));
            }
            let narrow = out.output::<i32>()?;
            let mut wide = vec![0i64; narrow.len()];
            fill(&mut wide)?;
            // Indices are below `classes`, which fits.
            narrow
                .iter_mut()
                .zip(&wide)
                .for_each(|(n, &w)| *n = w as i32);
            Ok(())
        }
    }
}

/// The index array `x` as `int64`.
fn read_indices<'a>(x: &Array<'a>) -> Result<Cow<'a, [i64]>> {
    match x.dtype() {
        dtype::S32 => Ok(Cow::Owned(
            x.input::<i32>()?.iter().map(|&i| i64::from(i)).collect(),
        )),
        _ => Ok(Cow::Borrowed(x.input::<i64>()?)),
    }
}

/// `(item b's slice of x, of y)` for items of `n` elements.
fn item<'a, T, U>(
    x: &'a [T],
    y: &'a mut [U],
    b: usize,
    n: usize,
    m: usize,
) -> (&'a [T], &'a mut [U]) {
    (&x[b * n..(b + 1) * n], &mut y[b * m..(b + 1) * m])
}

fn gumbel_softmax<E: Element + XlaType>(call: &Call<'_>) -> Result<()>
where
    E::Compute: XlaType,
{
    call.expect(3, 1)?;
    let x = call.arg(0, "logits");
    let shape = x.categorical(call.attr_i64("inner_rank")?)?;
    let hard = call.attr_i64("hard")? != 0;
    check_len(&call.ret(0, "out"), "out", shape.len())?;
    check_len(&call.arg(2, "tau"), "tau", shape.rows())?;
    let (logits, out) = (x.input::<E>()?, call.ret(0, "out").output::<E>()?);
    let tau = call.arg(2, "tau").input::<E::Compute>()?;
    let (seeds, one) = items(call.arg(1, "keys").input::<u32>()?, shape)?;
    for (b, &seed) in seeds.iter().enumerate() {
        let (x, y) = item(logits, out, b, one.len(), one.len());
        let t = &tau[b * one.rows()..(b + 1) * one.rows()];
        crate::gumbel_softmax_per_row(x, y, one, t, hard, seed, 0)?;
    }
    Ok(())
}

fn sample<E: Element + XlaType>(call: &Call<'_>) -> Result<()> {
    call.expect(2, 1)?;
    let x = call.arg(0, "logits");
    let shape = x.categorical(call.attr_i64("inner_rank")?)?;
    let logits = x.input::<E>()?;
    let (seeds, one) = items(call.arg(1, "keys").input::<u32>()?, shape)?;
    let out = call.ret(0, "indices");
    check_len(&out, "indices", shape.rows())?;
    write_indices(&out, shape.classes(), |indices| {
        seeds.iter().enumerate().try_for_each(|(b, &seed)| {
            let (x, i) = item(logits, indices, b, one.len(), one.rows());
            crate::sample(x, i, one, seed, 0)
        })
    })
}

fn top_k<F: Float + XlaType>(call: &Call<'_>) -> Result<()> {
    call.expect(2, 1)?;
    let x = call.arg(0, "logits");
    let shape = x.categorical(call.attr_i64("inner_rank")?)?;
    let k = usize::try_from(call.attr_i64("k")?)
        .map_err(|_| Error::new(ErrorKind::InvalidParameter, "k must be >= 0"))?;
    let logits = x.input::<F>()?;
    let (seeds, one) = items(call.arg(1, "keys").input::<u32>()?, shape)?;
    let out = call.ret(0, "indices");
    let per_item = one
        .rows()
        .checked_mul(k)
        .ok_or_else(|| Error::new(ErrorKind::SizeOverflow, "rows * k"))?;
    check_len(&out, "indices", per_item * seeds.len())?;
    write_indices(&out, shape.classes(), |indices| {
        seeds.iter().enumerate().try_for_each(|(b, &seed)| {
            let (x, i) = item(logits, indices, b, one.len(), per_item);
            crate::top_k(x, i, one, k, seed, 0)
        })
    })
}

fn relaxed_bernoulli<F: Float + XlaType>(call: &Call<'_>) -> Result<()> {
    call.expect(3, 1)?;
    let x = call.arg(0, "logits");
    check_len(&call.ret(0, "out"), "out", x.len()?)?;
    let logits = x.input::<F>()?;
    let out = call.ret(0, "out").output::<F>()?;
    let hard = call.attr_i64("hard")? != 0;
    let (seeds, one) = items(
        call.arg(1, "keys").input::<u32>()?,
        Shape::new(logits.len(), 1, 1)?,
    )?;
    let tau = call.arg(2, "tau").input::<F>()?;
    check_len(&call.arg(2, "tau"), "tau", seeds.len())?;
    for (b, &seed) in seeds.iter().enumerate() {
        let (x, y) = item(logits, out, b, one.len(), one.len());
        crate::relaxed_bernoulli(x, y, tau[b], hard, seed, 0)?;
    }
    Ok(())
}

fn relaxed_bernoulli_backward<F: Float + XlaType>(call: &Call<'_>) -> Result<()> {
    call.expect(3, 1)?;
    let (y, v) = (
        call.arg(0, "y_soft").input::<F>()?,
        call.arg(1, "grad_out").input::<F>()?,
    );
    let g = call.ret(0, "grad_logits").output::<F>()?;
    let tau = call.arg(2, "tau").input::<F>()?;
    let n = y.len() / tau.len().max(1);
    if tau.is_empty() || n * tau.len() != y.len() || v.len() != y.len() || g.len() != y.len() {
        return Err(Error::new(
            ErrorKind::InvalidShape,
            "y_soft, grad_out and tau do not match",
        ));
    }
    for (b, &t) in tau.iter().enumerate() {
        let (y, g) = item(y, g, b, n, n);
        crate::relaxed_bernoulli_backward(y, &v[b * n..(b + 1) * n], g, t)?;
    }
    Ok(())
}

/// The arrays of a softmax gradient: `y_soft`, `grad_out` and one `tau`
/// per row, and their shape.
struct SoftmaxGrad<'a, E: Element> {
    y: &'a [E],
    v: &'a [E],
    tau: &'a [E::Compute],
    shape: Shape,
}

impl<'a, E: Element + XlaType> SoftmaxGrad<'a, E>
where
    E::Compute: XlaType,
{
    fn of(call: &Call<'a>) -> Result<Self> {
        call.expect(3, 1)?;
        let y = call.arg(0, "y_soft");
        let shape = y.categorical(call.attr_i64("inner_rank")?)?;
        let (v, tau) = (call.arg(1, "grad_out"), call.arg(2, "tau"));
        check_len(&v, "grad_out", shape.len())?;
        check_len(&tau, "tau", shape.rows())?;
        Ok(Self {
            y: y.input()?,
            v: v.input()?,
            tau: tau.input()?,
            shape,
        })
    }
}

fn gumbel_softmax_backward<E: Element + XlaType>(call: &Call<'_>) -> Result<()>
where
    E::Compute: XlaType,
{
    let a = SoftmaxGrad::<E>::of(call)?;
    let g = call.ret(0, "grad_logits").output::<E>()?;
    crate::gumbel_softmax_backward_per_row(a.y, a.v, g, a.shape, a.tau)
}

fn gumbel_softmax_grad_tau<E: Element + XlaType>(call: &Call<'_>) -> Result<()>
where
    E::Compute: XlaType,
{
    let a = SoftmaxGrad::<E>::of(call)?;
    let g = call.ret(0, "grad_tau").output::<E::Compute>()?;
    crate::gumbel_softmax_grad_tau_per_row(a.y, a.v, a.shape, a.tau, g)
}

/// The arrays of an estimator's backward: `logits`, the sampled `index` of
/// each row, `grad_out` and the result, their shape and the attribute
/// `tau`.
struct Estimator<'a, E: Element> {
    x: &'a [E],
    index: Cow<'a, [i64]>,
    v: &'a [E],
    g: &'a mut [E],
    shape: Shape,
    tau: E::Compute,
}

impl<'a, E: Element + XlaType> Estimator<'a, E> {
    fn of(call: &Call<'a>, args: usize) -> Result<Self> {
        call.expect(args, 1)?;
        let x = call.arg(0, "logits");
        let shape = x.categorical(call.attr_i64("inner_rank")?)?;
        check_len(&call.arg(1, "index"), "index", shape.rows())?;
        check_len(&call.arg(2, "grad_out"), "grad_out", shape.len())?;
        check_len(&call.ret(0, "grad_logits"), "grad_logits", shape.len())?;
        Ok(Self {
            shape,
            tau: E::Compute::from_f64(call.attr_f64("tau")?),
            x: x.input()?,
            index: read_indices(&call.arg(1, "index"))?,
            v: call.arg(2, "grad_out").input()?,
            g: call.ret(0, "grad_logits").output()?,
        })
    }
}

fn reinmax_backward<E: Element + XlaType>(call: &Call<'_>) -> Result<()> {
    let a = Estimator::<E>::of(call, 3)?;
    crate::reinmax_backward(a.x, &a.index, a.v, a.g, a.shape, a.tau)
}

fn gapped_st_backward<E: Element + XlaType>(call: &Call<'_>) -> Result<()> {
    let a = Estimator::<E>::of(call, 3)?;
    let gap = E::Compute::from_f64(call.attr_f64("gap")?);
    crate::gapped_straight_through_backward(a.x, &a.index, a.v, a.g, a.shape, a.tau, gap)
}

/// Gumbel-Rao: item `b` draws its conditional noise from its key's streams
/// after those of the forward sample (`offset = streams(item)`).
fn gumbel_rao_backward<E: Element + XlaType>(call: &Call<'_>) -> Result<()> {
    let a = Estimator::<E>::of(call, 4)?;
    let draws = usize::try_from(call.attr_i64("draws")?)
        .map_err(|_| Error::new(ErrorKind::InvalidParameter, "draws must be >= 1"))?;
    let (seeds, one) = items(call.arg(3, "keys").input::<u32>()?, a.shape)?;
    let (n, r) = (one.len(), one.rows());
    for (b, &seed) in seeds.iter().enumerate() {
        let (x, g) = item(a.x, &mut *a.g, b, n, n);
        let (i, v) = (&a.index[b * r..(b + 1) * r], &a.v[b * n..(b + 1) * n]);
        crate::gumbel_rao_backward(x, i, v, g, one, a.tau, draws, seed, crate::streams(one))?;
    }
    Ok(())
}

/// Declares the exported handlers: `gumbel_xla_<name>` runs `<name>` for
/// the element type of its first argument.
macro_rules! handlers {
    ($($(#[$doc:meta])* $export:ident => $run:ident $(($floats:ident))?;)*) => {
        $(
            $(#[$doc])*
            ///
            /// An `XLA_FFI_Handler`: takes an `XLA_FFI_CallFrame *`, returns
            /// an `XLA_FFI_Error *` (NULL on success).
            ///
            /// # Safety
            /// Called by XLA with its call frame.
            #[no_mangle]
            pub unsafe extern "C" fn $export(frame: *mut c_void) -> *mut c_void {
                let frame = frame.cast::<CallFrame>();
                // SAFETY: the caller's contract.
                let error = unsafe { handle(frame, |call| by_dtype!($($floats)? call.arg(0, "input"), $run, call)) };
                error.cast()
            }
        )*
    };
}

handlers! {
    /// `out = gumbel_softmax_per_row(logits, tau)` per keyed item, or its
    /// one-hot with the attribute `hard = 1`. Arguments `(logits, keys,
    /// tau)`; attributes `inner_rank`, `hard`.
    gumbel_xla_gumbel_softmax => gumbel_softmax;
    /// Gumbel-max class indices per keyed item. Arguments `(logits, keys)`;
    /// attribute `inner_rank`; result `indices` (one per row).
    gumbel_xla_sample => sample;
    /// Gumbel-top-k indices, `k` per row, per keyed item. Arguments
    /// `(logits, keys)`; attributes `inner_rank`, `k`; float32 and float64.
    gumbel_xla_top_k => top_k (floats);
    /// Relaxed Bernoulli sample per keyed item, elementwise. Arguments
    /// `(logits, keys, tau)` with one `tau` per item; attribute `hard`.
    gumbel_xla_relaxed_bernoulli => relaxed_bernoulli (floats);
    /// Its backward. Arguments `(y_soft, grad_out, tau)`, one `tau` per item.
    gumbel_xla_relaxed_bernoulli_backward => relaxed_bernoulli_backward (floats);
    /// `grad_logits` of the soft sample. Arguments `(y_soft, grad_out,
    /// tau)`, `tau` per row; attribute `inner_rank`.
    gumbel_xla_gumbel_softmax_backward => gumbel_softmax_backward;
    /// `grad_tau` of the soft sample, per row. As the backward.
    gumbel_xla_gumbel_softmax_grad_tau => gumbel_softmax_grad_tau;
    /// ReinMax. Arguments `(logits, index, grad_out)`; attributes
    /// `inner_rank`, `tau`.
    gumbel_xla_reinmax_backward => reinmax_backward;
    /// Gapped straight-through. As ReinMax, with the attribute `gap`.
    gumbel_xla_gapped_st_backward => gapped_st_backward;
    /// Gumbel-Rao. Arguments `(logits, index, grad_out, keys)`; attributes
    /// `inner_rank`, `tau`, `draws`.
    gumbel_xla_gumbel_rao_backward => gumbel_rao_backward;
}
