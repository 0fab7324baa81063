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

/// The keyed items of a categorical `shape` whose leading dimensions hold
/// `keys.len() / 2` of them: `(n, item shape)`; item `b`'s seed is
/// [`seed_of`]`(keys, b)`.
fn items(keys: &[u32], shape: Shape) -> Result<(usize, Shape)> {
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
    let item = Shape::new(shape.outer() / n.max(1), shape.classes(), shape.inner())?;
    Ok((n, item))
}

/// The seed of item `b`: its key's two words, high first.
fn seed_of(keys: &[u32], b: usize) -> u64 {
    (u64::from(keys[2 * b]) << 32) | u64::from(keys[2 * b + 1])
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

/// Item `b`'s slices of `x` (items of `n` elements) and of `y` (items of
/// `m` elements).
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
    let x = call.arg(0, "logits")?;
    let shape = x.categorical(call.attr_i64("inner_rank")?)?;
    let hard = call.attr_i64("hard")? != 0;
    check_len(&call.ret(0, "out")?, "out", shape.len())?;
    check_len(&call.arg(2, "tau")?, "tau", shape.rows())?;
    let (logits, out) = (x.input::<E>()?, call.ret(0, "out")?.output::<E>()?);
    let tau = call.arg(2, "tau")?.input::<E::Compute>()?;
    let keys = call.arg(1, "keys")?.input::<u32>()?;
    let (n, one) = items(keys, shape)?;
    for b in 0..n {
        let seed = seed_of(keys, b);
        let (x, y) = item(logits, out, b, one.len(), one.len());
        let t = &tau[b * one.rows()..(b + 1) * one.rows()];
        crate::gumbel_softmax_per_row(x, y, one, t, hard, seed, 0)?;
    }
    Ok(())
}

fn sample<E: Element + XlaType>(call: &Call<'_>) -> Result<()> {
    call.expect(2, 1)?;
    let x = call.arg(0, "logits")?;
    let shape = x.categorical(call.attr_i64("inner_rank")?)?;
    let logits = x.input::<E>()?;
    let keys = call.arg(1, "keys")?.input::<u32>()?;
    let (n, one) = items(keys, shape)?;
    let out = call.ret(0, "indices")?;
    check_len(&out, "indices", shape.rows())?;
    write_indices(&out, shape.classes(), |indices| {
        (0..n).try_for_each(|b| {
            let seed = seed_of(keys, b);
            let (x, i) = item(logits, indices, b, one.len(), one.rows());
            crate::sample(x, i, one, seed, 0)
        })
    })
}

fn top_k<F: Float + XlaType>(call: &Call<'_>) -> Result<()> {
    call.expect(2, 1)?;
    let x = call.arg(0, "logits")?;
    let shape = x.categorical(call.attr_i64("inner_rank")?)?;
    let k = usize::try_from(call.attr_i64("k")?)
        .map_err(|_| Error::new(ErrorKind::InvalidParameter, "k must be >= 0"))?;
    let logits = x.input::<F>()?;
    let keys = call.arg(1, "keys")?.input::<u32>()?;
    let (n, one) = items(keys, shape)?;
    let out = call.ret(0, "indices")?;
    let per_item = one
        .rows()
        .checked_mul(k)
        .ok_or_else(|| Error::new(ErrorKind::SizeOverflow, "rows * k"))?;
    check_len(&out, "indices", per_item * n)?;
    write_indices(&out, shape.classes(), |indices| {
        (0..n).try_for_each(|b| {
            let seed = seed_of(keys, b);
            let (x, i) = item(logits, indices, b, one.len(), per_item);
            crate::top_k(x, i, one, k, seed, 0)
        })
    })
}

fn relaxed_bernoulli<F: Float + XlaType>(call: &Call<'_>) -> Result<()> {
    call.expect(3, 1)?;
    let x = call.arg(0, "logits")?;
    check_len(&call.ret(0, "out")?, "out", x.len()?)?;
    let logits = x.input::<F>()?;
    let out = call.ret(0, "out")?.output::<F>()?;
    let hard = call.attr_i64("hard")? != 0;
    let keys = call.arg(1, "keys")?.input::<u32>()?;
    let (n, one) = items(keys, Shape::new(logits.len(), 1, 1)?)?;
    let tau = call.arg(2, "tau")?.input::<F>()?;
    check_len(&call.arg(2, "tau")?, "tau", n)?;
    for b in 0..n {
        let seed = seed_of(keys, b);
        let (x, y) = item(logits, out, b, one.len(), one.len());
        crate::relaxed_bernoulli(x, y, tau[b], hard, seed, 0)?;
    }
    Ok(())
}

fn relaxed_bernoulli_backward<F: Float + XlaType>(call: &Call<'_>) -> Result<()> {
    call.expect(3, 1)?;
    let (y, v) = (
        call.arg(0, "y_soft")?.input::<F>()?,
        call.arg(1, "grad_out")?.input::<F>()?,
    );
    let g = call.ret(0, "grad_logits")?.output::<F>()?;
    let tau = call.arg(2, "tau")?.input::<F>()?;
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
        let y = call.arg(0, "y_soft")?;
        let shape = y.categorical(call.attr_i64("inner_rank")?)?;
        let (v, tau) = (call.arg(1, "grad_out")?, call.arg(2, "tau")?);
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
    let g = call.ret(0, "grad_logits")?.output::<E>()?;
    crate::gumbel_softmax_backward_per_row(a.y, a.v, g, a.shape, a.tau)
}

fn gumbel_softmax_grad_tau<E: Element + XlaType>(call: &Call<'_>) -> Result<()>
where
    E::Compute: XlaType,
{
    let a = SoftmaxGrad::<E>::of(call)?;
    let g = call.ret(0, "grad_tau")?.output::<E::Compute>()?;
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
        let x = call.arg(0, "logits")?;
        let shape = x.categorical(call.attr_i64("inner_rank")?)?;
        check_len(&call.arg(1, "index")?, "index", shape.rows())?;
        check_len(&call.arg(2, "grad_out")?, "grad_out", shape.len())?;
        check_len(&call.ret(0, "grad_logits")?, "grad_logits", shape.len())?;
        Ok(Self {
            shape,
            tau: E::Compute::from_f64(call.attr_f64("tau")?),
            x: x.input()?,
            index: read_indices(&call.arg(1, "index")?)?,
            v: call.arg(2, "grad_out")?.input()?,
            g: call.ret(0, "grad_logits")?.output()?,
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
    let keys = call.arg(3, "keys")?.input::<u32>()?;
    let (n, one) = items(keys, a.shape)?;
    let (len, r) = (one.len(), one.rows());
    for b in 0..n {
        let seed = seed_of(keys, b);
        let (x, g) = item(a.x, &mut *a.g, b, len, len);
        let (i, v) = (&a.index[b * r..(b + 1) * r], &a.v[b * len..(b + 1) * len]);
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
                let error = unsafe {
                    handle(frame, |call| {
                        let first = call.arg(0, "input")?;
                        by_dtype!($($floats)? first, $run, call)
                    })
                };
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::ffi::{c_char, c_int, CStr};

    use super::super::api::{self, ApiVersion, Attrs, ByteSpan, Operands, Scalar};
    use super::super::frame::gumbel_xla_set_api_version;
    use super::*;

    thread_local! {
        static LAST: RefCell<Option<(c_int, String)>> = const { RefCell::new(None) };
    }

    /// The runtime's error constructor, recording the error.
    unsafe extern "C" fn create(args: *mut api::ErrorCreateArgs) -> *mut api::Error {
        let args = unsafe { &*args };
        let message = unsafe { CStr::from_ptr(args.message) }
            .to_string_lossy()
            .into_owned();
        LAST.with(|l| *l.borrow_mut() = Some((args.errc, message)));
        std::ptr::NonNull::dangling().as_ptr()
    }

    fn version() -> ApiVersion {
        ApiVersion {
            struct_size: std::mem::size_of::<ApiVersion>(),
            extension_start: std::ptr::null_mut(),
            major_version: 0,
            minor_version: 0,
        }
    }

    fn table() -> api::Api {
        api::Api {
            struct_size: std::mem::size_of::<api::Api>(),
            extension_start: std::ptr::null_mut(),
            api_version: version(),
            internal_api: std::ptr::null(),
            error_create: Some(create),
        }
    }

    /// An array argument: its buffer struct and its dimensions.
    struct Arg {
        dims: Vec<i64>,
        buffer: api::Buffer,
    }

    fn arg<T>(dtype: c_int, data: &mut [T], dims: &[i64]) -> Box<Arg> {
        let mut a = Box::new(Arg {
            dims: dims.to_vec(),
            buffer: api::Buffer {
                struct_size: std::mem::size_of::<api::Buffer>(),
                extension_start: std::ptr::null_mut(),
                dtype,
                data: data.as_mut_ptr().cast(),
                rank: dims.len() as i64,
                dims: std::ptr::null_mut(),
            },
        });
        a.buffer.dims = a.dims.as_mut_ptr();
        a
    }

    fn operands(
        arrays: &mut [Box<Arg>],
        types: &mut Vec<c_int>,
        values: &mut Vec<*mut c_void>,
    ) -> Operands {
        *types = vec![api::KIND_BUFFER; arrays.len()];
        *values = arrays
            .iter_mut()
            .map(|a| (&mut a.buffer as *mut api::Buffer).cast())
            .collect();
        Operands {
            struct_size: std::mem::size_of::<Operands>(),
            extension_start: std::ptr::null_mut(),
            size: arrays.len() as i64,
            types: types.as_mut_ptr(),
            values: values.as_mut_ptr(),
        }
    }

    /// Calls `handler` with `args`, `rets` and integer attributes (sorted by
    /// name, as XLA passes them); returns the recorded error, if any.
    fn run(
        handler: unsafe extern "C" fn(*mut c_void) -> *mut c_void,
        stage: c_int,
        mut args: Vec<Box<Arg>>,
        mut rets: Vec<Box<Arg>>,
        attrs: &[(&str, i64)],
    ) -> Option<(c_int, String)> {
        let table = table();
        let (mut at, mut av, mut rt, mut rv) = (vec![], vec![], vec![], vec![]);
        let mut values: Vec<i64> = attrs.iter().map(|a| a.1).collect();
        let mut scalars: Vec<Scalar> = values
            .iter_mut()
            .map(|v| Scalar {
                dtype: dtype::S64,
                value: (v as *mut i64).cast(),
            })
            .collect();
        let mut spans: Vec<ByteSpan> = attrs
            .iter()
            .map(|a| ByteSpan {
                ptr: a.0.as_ptr().cast::<c_char>(),
                len: a.0.len(),
            })
            .collect();
        let mut names: Vec<*mut ByteSpan> = spans.iter_mut().map(|s| s as *mut ByteSpan).collect();
        let mut attr_values: Vec<*mut c_void> = scalars
            .iter_mut()
            .map(|s| (s as *mut Scalar).cast())
            .collect();
        let mut attr_types = vec![api::ATTR_SCALAR; attrs.len()];
        let mut frame = CallFrame {
            struct_size: std::mem::size_of::<CallFrame>(),
            extension_start: std::ptr::null_mut(),
            api: &table,
            ctx: std::ptr::null_mut(),
            stage,
            args: operands(&mut args, &mut at, &mut av),
            rets: operands(&mut rets, &mut rt, &mut rv),
            attrs: Attrs {
                struct_size: std::mem::size_of::<Attrs>(),
                extension_start: std::ptr::null_mut(),
                size: attrs.len() as i64,
                types: attr_types.as_mut_ptr(),
                names: names.as_mut_ptr(),
                values: attr_values.as_mut_ptr(),
            },
        };
        LAST.with(|l| *l.borrow_mut() = None);
        let error = unsafe { handler((&mut frame as *mut CallFrame).cast()) };
        let last = LAST.with(|l| l.borrow_mut().take());
        assert_eq!(error.is_null(), last.is_none());
        last
    }

    const LOGITS: [f32; 6] = [0.5, -1.0, 2.0, 0.0, 3.0, f32::NEG_INFINITY];

    #[test]
    fn a_sample_call_is_the_library_call_of_each_keyed_item() {
        // Two items of one row each (a vmapped batch), int32 indices.
        let (mut x, mut keys, mut out) = (LOGITS, [1u32, 2, 0, 7], [0i32; 2]);
        let error = run(
            gumbel_xla_sample,
            api::STAGE_EXECUTE,
            vec![
                arg(dtype::F32, &mut x, &[2, 3]),
                arg(dtype::U32, &mut keys, &[2, 2]),
            ],
            vec![arg(dtype::S32, &mut out, &[2])],
            &[("inner_rank", 0)],
        );
        assert_eq!(error, None);
        for (b, seed) in [(1u64 << 32) | 2, 7].into_iter().enumerate() {
            let mut one = [0i64; 1];
            crate::sample(
                &LOGITS[3 * b..3 * b + 3],
                &mut one,
                Shape::matrix(1, 3).unwrap(),
                seed,
                0,
            )
            .unwrap();
            assert_eq!(i64::from(out[b]), one[0]);
        }
    }

    #[test]
    fn bad_calls_are_errors_with_the_library_message() {
        fn call(
            x: &mut [f32],
            out: &mut [i64],
            keys_dtype: c_int,
            stage: c_int,
            inner_rank: i64,
        ) -> (c_int, String) {
            let mut keys = [1u32, 2];
            run(
                gumbel_xla_sample,
                stage,
                vec![
                    arg(dtype::F32, x, &[2, 3]),
                    arg(keys_dtype, &mut keys, &[2]),
                ],
                vec![arg(dtype::S64, out, &[2])],
                &[("inner_rank", inner_rank)],
            )
            .expect("an error")
        }
        let (mut x, mut out) = (LOGITS, [0i64; 2]);
        let (code, message) = call(&mut x, &mut out, dtype::F32, api::STAGE_EXECUTE, 0);
        assert_eq!(code, api::ERROR_INVALID_ARGUMENT);
        assert!(
            message.starts_with("gumbel: invalid shape: keys has XLA data type 11"),
            "{message}"
        );
        assert!(call(&mut x, &mut out, dtype::U32, api::STAGE_EXECUTE, 2)
            .1
            .contains("no class axis"));
        assert!(call(&mut x, &mut out, dtype::U32, 0, 0)
            .1
            .contains("execute stage"));
        // A NaN logit: the library's own check and message.
        x[1] = f32::NAN;
        let message = call(&mut x, &mut out, dtype::U32, api::STAGE_EXECUTE, 0).1;
        assert!(message.starts_with("gumbel: invalid logits: "), "{message}");
        assert_eq!(out, [0, 0]);
        // A call without arguments (the handler reads the first to dispatch).
        let error = run(gumbel_xla_sample, api::STAGE_EXECUTE, vec![], vec![], &[]).unwrap();
        assert!(
            error.1.contains("no operand 0 (the call has 0)"),
            "{}",
            error.1
        );
    }

    #[test]
    fn the_metadata_query_reports_the_version_set() {
        let mut metadata = api::Metadata {
            struct_size: std::mem::size_of::<api::Metadata>(),
            api_version: version(),
            traits: 7,
        };
        let mut ext = api::MetadataExtension {
            extension_base: api::ExtensionBase {
                struct_size: std::mem::size_of::<api::MetadataExtension>(),
                kind: api::EXTENSION_METADATA,
                next: std::ptr::null_mut(),
            },
            metadata: &mut metadata,
        };
        let empty = || Operands {
            struct_size: std::mem::size_of::<Operands>(),
            extension_start: std::ptr::null_mut(),
            size: 0,
            types: std::ptr::null_mut(),
            values: std::ptr::null_mut(),
        };
        let mut frame = CallFrame {
            struct_size: std::mem::size_of::<CallFrame>(),
            extension_start: &mut ext.extension_base,
            api: std::ptr::null(),
            ctx: std::ptr::null_mut(),
            stage: api::STAGE_EXECUTE,
            args: empty(),
            rets: empty(),
            attrs: Attrs {
                struct_size: std::mem::size_of::<Attrs>(),
                extension_start: std::ptr::null_mut(),
                size: 0,
                types: std::ptr::null_mut(),
                names: std::ptr::null_mut(),
                values: std::ptr::null_mut(),
            },
        };
        assert!(!gumbel_xla_set_api_version(1, 0));
        assert!(gumbel_xla_set_api_version(0, 5));
        let error = unsafe { gumbel_xla_top_k((&mut frame as *mut CallFrame).cast()) };
        assert!(error.is_null());
        assert_eq!(
            (
                metadata.api_version.major_version,
                metadata.api_version.minor_version
            ),
            (0, 5)
        );
        assert_eq!(metadata.traits, 0);
        assert!(gumbel_xla_set_api_version(0, 3));
    }
}
