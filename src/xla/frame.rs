//! Reading an XLA FFI call frame: the entry every handler runs in (the
//! metadata query, the panic boundary, errors returned to the runtime), its
//! buffers checked against their element types, its scalar attributes by
//! name, and the `(outer, classes, inner)` view of an array.

use std::ffi::{c_int, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicI32, Ordering};

use super::api::{self, dtype, CallFrame};
use super::denormals::GradualUnderflow;
use crate::error::{Error, ErrorKind, Result};
use crate::ffi::buffer::Buffer;
use crate::ffi::gumbel_status_str;
use crate::ffi::status::status_of;
use crate::Bf16;
use crate::Shape;
use crate::F16;

/// The API version the handlers report to the runtime's metadata query,
/// which XLA compares with its own at registration: set from the installed
/// jaxlib's header by the Python package ([`gumbel_xla_set_api_version`]).
static API_MAJOR: AtomicI32 = AtomicI32::new(0);
static API_MINOR: AtomicI32 = AtomicI32::new(3);

/// Sets the XLA FFI API version (`XLA_FFI_API_MAJOR`, `XLA_FFI_API_MINOR` of
/// the runtime's `c_api.h`) that the `gumbel_xla_*` handlers declare when a
/// runtime registers them; call it before registering. The handlers use only
/// structs that major version 0 keeps binary compatible: returns `false`,
/// changing nothing, for another major version or a negative minor one.
/// Default: 0.3.
#[no_mangle]
pub extern "C" fn gumbel_xla_set_api_version(major: c_int, minor: c_int) -> bool {
    if major != 0 || minor < 0 {
        return false;
    }
    API_MAJOR.store(major, Ordering::Relaxed);
    API_MINOR.store(minor, Ordering::Relaxed);
    true
}

/// Runs a handler: answers the runtime's metadata query, then runs `body`
/// on the call in the execute stage (with IEEE subnormals,
/// [`GradualUnderflow`]), returning its error (or a caught
/// panic) to the runtime as an `XLA_FFI_Error` whose message starts with
/// the library's status string (`gumbel_status_str`).
///
/// # Safety
/// `frame` is the call frame XLA passes to a handler.
pub(super) unsafe fn handle(
    frame: *mut CallFrame,
    body: impl FnOnce(&Call<'_>) -> Result<()>,
) -> *mut api::Error {
    // SAFETY: the runtime passes a valid frame for the duration of the call.
    let Some(frame) = (unsafe { frame.as_ref() }) else {
        return std::ptr::null_mut();
    };
    // SAFETY: the extension chain's links are valid when non-NULL.
    if let Some(ext) = unsafe { frame.extension_start.as_ref() } {
        if ext.kind == api::EXTENSION_METADATA {
            let ext = frame.extension_start.cast::<api::MetadataExtension>();
            // SAFETY: a metadata link is a `MetadataExtension`.
            if let Some(metadata) = unsafe { (*ext).metadata.as_mut() } {
                metadata.api_version.major_version = API_MAJOR.load(Ordering::Relaxed);
                metadata.api_version.minor_version = API_MINOR.load(Ordering::Relaxed);
                metadata.traits = 0;
            }
            return std::ptr::null_mut();
        }
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let _ieee = GradualUnderflow::enter();
        if frame.stage != api::STAGE_EXECUTE {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!(
                    "called in stage {}; the handler runs in the execute stage",
                    frame.stage
                ),
            ));
        }
        body(&Call { frame })
    }));
    let (code, message) = match outcome {
        Ok(Ok(())) => return std::ptr::null_mut(),
        Ok(Err(e)) => {
            // SAFETY: status names are static NUL-terminated strings.
            let status = unsafe { CStr::from_ptr(gumbel_status_str(status_of(e.kind()))) };
            let message = format!("gumbel: {}: {}", status.to_string_lossy(), e.message());
            (api::ERROR_INVALID_ARGUMENT, message)
        }
        Err(_) => (
            api::ERROR_INTERNAL,
            "gumbel: internal error in an XLA handler (please report)".to_string(),
        ),
    };
    let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
    let mut args = api::ErrorCreateArgs {
        struct_size: std::mem::size_of::<api::ErrorCreateArgs>(),
        extension_start: std::ptr::null_mut(),
        message: message.as_ptr(),
        errc: code,
    };
    // SAFETY: the frame's API table is the runtime's; its error constructor
    // copies the message.
    match unsafe { frame.api.as_ref() }.and_then(|a| a.error_create) {
        Some(create) => unsafe { create(&mut args) },
        None => std::ptr::null_mut(),
    }
}

/// The element types of arrays, with their XLA data type.
pub(super) trait XlaType: Copy + 'static {
    const DTYPE: c_int;
}

macro_rules! xla_types {
    ($($t:ty => $d:expr),*) => {
        $(impl XlaType for $t { const DTYPE: c_int = $d; })*
    };
}
xla_types!(f32 => dtype::F32, f64 => dtype::F64, Bf16 => dtype::BF16, F16 => dtype::F16,
    u32 => dtype::U32, i32 => dtype::S32, i64 => dtype::S64);

/// One call of a handler.
pub(super) struct Call<'a> {
    frame: &'a CallFrame,
}

/// An argument or result array of a call, named for messages.
pub(super) struct Array<'a> {
    name: &'static str,
    dtype: c_int,
    data: *mut c_void,
    dims: &'a [i64],
}

impl<'a> Call<'a> {
    /// Checks that the call has `args` arguments and `rets` results.
    pub(super) fn expect(&self, args: usize, rets: usize) -> Result<()> {
        for (what, ops, n) in [
            ("arguments", &self.frame.args, args),
            ("results", &self.frame.rets, rets),
        ] {
            if ops.size != n as i64 {
                return Err(Error::new(
                    ErrorKind::InvalidShape,
                    format!("expected {n} {what}, got {}", ops.size),
                ));
            }
        }
        Ok(())
    }

    /// Argument `i`, called `name`.
    pub(super) fn arg(&self, i: usize, name: &'static str) -> Result<Array<'a>> {
        operand(&self.frame.args, i, name)
    }

    /// Result `i`, called `name`.
    pub(super) fn ret(&self, i: usize, name: &'static str) -> Result<Array<'a>> {
        operand(&self.frame.rets, i, name)
    }

    /// The scalar attribute `name`: an integer.
    pub(super) fn attr_i64(&self, name: &str) -> Result<i64> {
        let (dtype, value) = self.scalar(name)?;
        // SAFETY: the scalar's value has its data type.
        unsafe {
            match dtype {
                dtype::S64 => Ok(*value.cast::<i64>()),
                dtype::S32 => Ok(i64::from(*value.cast::<i32>())),
                _ => Err(attr_type(name, "an integer")),
            }
        }
    }

    /// The scalar attribute `name`: a float.
    pub(super) fn attr_f64(&self, name: &str) -> Result<f64> {
        let (dtype, value) = self.scalar(name)?;
        // SAFETY: the scalar's value has its data type.
        unsafe {
            match dtype {
                dtype::F64 => Ok(*value.cast::<f64>()),
                dtype::F32 => Ok(f64::from(*value.cast::<f32>())),
                _ => Err(attr_type(name, "a float")),
            }
        }
    }

    fn scalar(&self, name: &str) -> Result<(c_int, *const c_void)> {
        let attrs = &self.frame.attrs;
        for i in 0..usize::try_from(attrs.size).unwrap_or(0) {
            // SAFETY: `names`, `types` and `values` have `size` entries.
            let (span, kind, value) = unsafe {
                (
                    &**attrs.names.add(i),
                    *attrs.types.add(i),
                    *attrs.values.add(i),
                )
            };
            // SAFETY: a byte span of `len` bytes.
            let key = unsafe { std::slice::from_raw_parts(span.ptr.cast::<u8>(), span.len) };
            if key == name.as_bytes() {
                if kind != api::ATTR_SCALAR {
                    return Err(attr_type(name, "a scalar"));
                }
                // SAFETY: a scalar attribute is an `XLA_FFI_Scalar`.
                let scalar = unsafe { &*value.cast::<api::Scalar>() };
                return Ok((scalar.dtype, scalar.value.cast_const()));
            }
        }
        Err(Error::new(
            ErrorKind::InvalidParameter,
            format!("missing attribute `{name}`"),
        ))
    }
}

fn attr_type(name: &str, what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidParameter,
        format!("attribute `{name}` must be {what}"),
    )
}

/// Entry `i` of a call's arguments or results: a buffer.
fn operand<'a>(ops: &'a api::Operands, i: usize, name: &'static str) -> Result<Array<'a>> {
    if i as i64 >= ops.size {
        return Err(Error::new(
            ErrorKind::InvalidShape,
            format!("{name}: no operand {i} (the call has {})", ops.size),
        ));
    }
    // SAFETY: `types` and `values` have `size` entries.
    let (kind, value) = unsafe { (*ops.types.add(i), *ops.values.add(i)) };
    if kind != api::KIND_BUFFER {
        return Err(Error::new(
            ErrorKind::InvalidShape,
            format!("{name} is not a buffer"),
        ));
    }
    // SAFETY: a buffer operand is an `XLA_FFI_Buffer` valid for the call.
    let b = unsafe { &*value.cast::<api::Buffer>() };
    let rank = usize::try_from(b.rank).unwrap_or(0);
    let dims = if rank == 0 {
        &[][..]
    } else {
        // SAFETY: `dims` has `rank` entries.
        unsafe { std::slice::from_raw_parts(b.dims, rank) }
    };
    Ok(Array {
        name,
        dtype: b.dtype,
        data: b.data,
        dims,
    })
}

impl<'a> Array<'a> {
    /// The XLA data type.
    pub(super) fn dtype(&self) -> c_int {
        self.dtype
    }

    /// The number of elements.
    pub(super) fn len(&self) -> Result<usize> {
        self.product(self.dims)
    }

    /// The product of some of the dimensions `dims`.
    fn product(&self, dims: &[i64]) -> Result<usize> {
        dims.iter()
            .try_fold(1usize, |n, &d| {
                usize::try_from(d).ok().and_then(|d| n.checked_mul(d))
            })
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::SizeOverflow,
                    format!("{}: dimensions {:?}", self.name, self.dims),
                )
            })
    }

    fn buffer<T: XlaType>(&self) -> Result<Buffer<T>> {
        if self.dtype != T::DTYPE {
            return Err(Error::new(
                ErrorKind::InvalidShape,
                format!(
                    "{} has XLA data type {}, expected {}",
                    self.name,
                    self.dtype,
                    T::DTYPE
                ),
            ));
        }
        Buffer::new(self.data.cast::<T>(), self.len()?, self.name)
    }

    /// The array as an input slice of `T`.
    pub(super) fn input<T: XlaType>(&self) -> Result<&'a [T]> {
        // SAFETY: XLA keeps the buffer alive and unwritten during the call.
        Ok(unsafe { self.buffer::<T>()?.as_slice() })
    }

    /// The array as an output slice of `T`.
    pub(super) fn output<T: XlaType>(&self) -> Result<&'a mut [T]> {
        // SAFETY: a result buffer is the handler's alone during the call.
        Ok(unsafe { self.buffer::<T>()?.as_mut_slice() })
    }

    /// The `(outer, classes, inner)` view with the class axis followed by
    /// `inner_rank` dimensions.
    pub(super) fn categorical(&self, inner_rank: i64) -> Result<Shape> {
        let rank = self.dims.len();
        let inner_rank = usize::try_from(inner_rank)
            .ok()
            .filter(|&r| r < rank)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidShape,
                    format!(
                        "{} has rank {rank}: no class axis with {inner_rank} dimensions after it",
                        self.name
                    ),
                )
            })?;
        let axis = rank - 1 - inner_rank;
        Shape::new(
            self.product(&self.dims[..axis])?,
            self.product(&self.dims[axis..=axis])?,
            self.product(&self.dims[axis + 1..])?,
        )
    }
}
