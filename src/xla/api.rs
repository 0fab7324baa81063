//! The part of XLA's FFI C API (`xla/ffi/api/c_api.h`, shipped with jaxlib
//! and documented at openxla.org, "XLA custom calls") that the handlers use,
//! declared here field by field in the header's order and layout: the call
//! frame a handler receives, its buffers and attributes, the error
//! constructor of the API table and the metadata query.
//!
//! The API is versioned (major 0 since its first release) and keeps these
//! structs binary compatible within a major version; each struct starts with
//! its size, and the handlers read no field beyond the sizes the runtime
//! passes.

use std::ffi::{c_char, c_int, c_void};

/// `XLA_FFI_Extension_Base`: a link of the extension chain.
#[repr(C)]
pub(super) struct ExtensionBase {
    pub struct_size: usize,
    /// `XLA_FFI_Extension_Type`; 1 is the metadata query.
    pub kind: c_int,
    pub next: *mut ExtensionBase,
}

/// `XLA_FFI_Extension_Metadata`.
pub(super) const EXTENSION_METADATA: c_int = 1;

/// `XLA_FFI_Api_Version`.
#[repr(C)]
pub(super) struct ApiVersion {
    pub struct_size: usize,
    pub extension_start: *mut ExtensionBase,
    pub major_version: c_int,
    pub minor_version: c_int,
}

/// `XLA_FFI_Error`: opaque, created by the runtime.
#[repr(C)]
pub(super) struct Error {
    _opaque: [u8; 0],
}

/// `XLA_FFI_Error_Create_Args`.
#[repr(C)]
pub(super) struct ErrorCreateArgs {
    pub struct_size: usize,
    pub extension_start: *mut ExtensionBase,
    /// Copied by the runtime.
    pub message: *const c_char,
    /// `XLA_FFI_Error_Code`.
    pub errc: c_int,
}

/// `XLA_FFI_Error_Code_INVALID_ARGUMENT`.
pub(super) const ERROR_INVALID_ARGUMENT: c_int = 3;
/// `XLA_FFI_Error_Code_INTERNAL`.
pub(super) const ERROR_INTERNAL: c_int = 13;

/// The head of `XLA_FFI_Api`, the runtime's function table, up to the one
/// function the handlers call.
#[repr(C)]
pub(super) struct Api {
    pub struct_size: usize,
    pub extension_start: *mut ExtensionBase,
    pub api_version: ApiVersion,
    pub internal_api: *const c_void,
    pub error_create: Option<unsafe extern "C" fn(*mut ErrorCreateArgs) -> *mut Error>,
}

/// `XLA_FFI_DataType` values of the element types the handlers take.
pub(super) mod dtype {
    use std::ffi::c_int;
    pub const S32: c_int = 4;
    pub const S64: c_int = 5;
    pub const U32: c_int = 8;
    pub const F16: c_int = 10;
    pub const F32: c_int = 11;
    pub const F64: c_int = 12;
    pub const BF16: c_int = 16;
}

/// `XLA_FFI_Buffer`: a dense row-major array.
#[repr(C)]
pub(super) struct Buffer {
    pub struct_size: usize,
    pub extension_start: *mut ExtensionBase,
    pub dtype: c_int,
    pub data: *mut c_void,
    pub rank: i64,
    pub dims: *mut i64,
}

/// `XLA_FFI_ArgType_BUFFER` and `XLA_FFI_RetType_BUFFER`.
pub(super) const KIND_BUFFER: c_int = 1;

/// `XLA_FFI_Args` and `XLA_FFI_Rets` (the same layout): `size` entries, each
/// a buffer of the given type.
#[repr(C)]
pub(super) struct Operands {
    pub struct_size: usize,
    pub extension_start: *mut ExtensionBase,
    pub size: i64,
    pub types: *mut c_int,
    pub values: *mut *mut c_void,
}

/// `XLA_FFI_ByteSpan`: a string that is not NUL-terminated.
#[repr(C)]
pub(super) struct ByteSpan {
    pub ptr: *const c_char,
    pub len: usize,
}

/// `XLA_FFI_AttrType_SCALAR`.
pub(super) const ATTR_SCALAR: c_int = 3;

/// `XLA_FFI_Scalar`.
#[repr(C)]
pub(super) struct Scalar {
    pub dtype: c_int,
    pub value: *mut c_void,
}

/// `XLA_FFI_Attrs`: named attributes, sorted by name.
#[repr(C)]
pub(super) struct Attrs {
    pub struct_size: usize,
    pub extension_start: *mut ExtensionBase,
    pub size: i64,
    pub types: *mut c_int,
    pub names: *mut *mut ByteSpan,
    pub values: *mut *mut c_void,
}

/// `XLA_FFI_ExecutionStage_EXECUTE`.
pub(super) const STAGE_EXECUTE: c_int = 3;

/// `XLA_FFI_CallFrame`: what a handler receives (up to `attrs`, the fields
/// the runtime's `struct_size` must cover).
#[repr(C)]
pub(super) struct CallFrame {
    pub struct_size: usize,
    pub extension_start: *mut ExtensionBase,
    pub api: *const Api,
    pub ctx: *mut c_void,
    pub stage: c_int,
    pub args: Operands,
    pub rets: Operands,
    pub attrs: Attrs,
}

/// `XLA_FFI_Metadata`, up to `traits` (the fields every version has).
#[repr(C)]
pub(super) struct Metadata {
    pub struct_size: usize,
    pub api_version: ApiVersion,
    pub traits: u32,
}

/// `XLA_FFI_Metadata_Extension`: the query a runtime sends at registration.
#[repr(C)]
pub(super) struct MetadataExtension {
    pub extension_base: ExtensionBase,
    pub metadata: *mut Metadata,
}
