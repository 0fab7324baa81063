//! The bad-input matrix: every exported function of `include/gumbel.h` meets
//! every class of bad argument that applies to it (NULL with a non-empty
//! size, empty sizes, `size_t` overflow, `classes == 0`, bad temperatures,
//! bad `loc`/`scale`, non-finite logits, all-`-inf` rows, values off the
//! domain of densities and gradients, misaligned pointers, overlapping input
//! and output buffers) and must return the documented status with a message
//! naming the culprit, without writing anything (except the softmax
//! backward on a bad input value, whose output is then unspecified): outputs
//! are surrounded by guard elements holding a sentinel, checked after every
//! call.
//!
//! The list of functions comes from the header: a function the header
//! declares without an entry here (or an entry the header lacks) fails
//! `every_header_function_has_a_matrix_entry`.

use crate::common;

use std::collections::BTreeSet;
use std::ffi::CStr;
use std::ptr::{null, null_mut};

use common::last_error;
use gumbel::ffi::*;
use gumbel::{Bf16, Half, F16};

/// Guard elements on each side of every output buffer.
const GUARD: usize = 4;
/// Sentinel of index outputs.
const IDX_SENTINEL: i64 = -7;

/// The two element types, with a sentinel and bit access.
trait Fl: Copy + std::fmt::Debug + 'static {
    /// The type of temperatures (and other scalars) given with tensors of
    /// this type: the type itself, or `f32` for the 16-bit formats.
    type Tau: Fl;
    fn of(x: f64) -> Self;
    fn to(self) -> f64;
    fn bits(self) -> u64;
    fn subnormal() -> Self;
    const SENTINEL: Self;
}

impl Fl for f32 {
    type Tau = Self;
    fn of(x: f64) -> Self {
        x as f32
    }
    fn to(self) -> f64 {
        self as f64
    }
    fn bits(self) -> u64 {
        self.to_bits() as u64
    }
    fn subnormal() -> Self {
        f32::from_bits(1)
    }
    const SENTINEL: Self = 12345.0;
}

impl Fl for f64 {
    type Tau = Self;
    fn of(x: f64) -> Self {
        x
    }
    fn to(self) -> f64 {
        self
    }
    fn bits(self) -> u64 {
        self.to_bits()
    }
    fn subnormal() -> Self {
        f64::from_bits(1)
    }
    const SENTINEL: Self = 12345.0;
}

/// The 16-bit formats: their values rounded from `f64` through `f32`.
macro_rules! half_fl {
    ($t:ty, $sentinel:literal) => {
        impl Fl for $t {
            type Tau = f32;
            fn of(x: f64) -> Self {
                <$t as Half>::from_f32(x as f32)
            }
            fn to(self) -> f64 {
                f64::from(self.to_f32())
            }
            fn bits(self) -> u64 {
                u64::from(self.to_bits())
            }
            fn subnormal() -> Self {
                <$t as Half>::from_bits(1)
            }
            const SENTINEL: Self = <$t>::from_bits($sentinel);
        }
    };
}
half_fl!(Bf16, 0x4640);
half_fl!(F16, 0x7207);

/// What an input buffer holds, which decides its valid filling and the bad
/// values it must reject.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Role {
    /// Logits of a categorical row: NaN/+inf rejected, an all-`-inf` row is
    /// `ALL_MASKED`, a partly `-inf` row is fine.
    Logits,
    /// Logits of independent binary variables: any non-finite rejected.
    BinaryLogits,
    /// Values in `[0, 1]` (`y_soft` of the backward passes).
    Unit,
    /// A point of the open simplex (`y` of the Concrete density).
    Simplex,
    /// A point of the log-simplex (`x` of the ExpConcrete density).
    LogSimplex,
    /// Values in `(0, 1)` (relaxed Bernoulli `y`).
    Open01,
    /// Finite values (upstream gradients).
    Finite,
    /// Any non-NaN value (`x` of the Gumbel distribution functions).
    NotNan,
    /// Probabilities in `[0, 1]` (`x` of the quantile functions).
    Prob,
    /// Per-element temperatures: finite and `> 0`.
    Temperature,
}

impl Role {
    /// A valid value for element `k` of a row of 3 classes.
    fn good(self, k: usize) -> f64 {
        match self {
            Role::Logits | Role::BinaryLogits => [0.5, -1.0, 2.0][k % 3],
            Role::Unit | Role::Simplex => 1.0 / 3.0,
            Role::LogSimplex => -(3.0f64.ln()),
            Role::Open01 | Role::Prob => 0.25,
            Role::Finite => 0.25,
            Role::NotNan => -0.75,
            Role::Temperature => [0.7, 1.5, 0.25][k % 3],
        }
    }

    /// Bad fillings of a whole buffer: (label, value for every element,
    /// status). A value replaces element 0 only when `whole` is false.
    fn bad(self) -> Vec<(&'static str, f64, bool, gumbel_status)> {
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        let v = GUMBEL_STATUS_INVALID_VALUE;
        let l = GUMBEL_STATUS_INVALID_LOGITS;
        match self {
            Role::Logits => vec![
                ("NaN logit", nan, false, l),
                ("+inf logit", inf, false, l),
                ("all -inf rows", -inf, true, GUMBEL_STATUS_ALL_MASKED),
                ("one -inf logit", -inf, false, GUMBEL_STATUS_OK),
            ],
            Role::BinaryLogits => vec![
                ("NaN logit", nan, false, l),
                ("+inf logit", inf, false, l),
                ("-inf logit", -inf, false, l),
            ],
            Role::Unit => vec![
                ("NaN", nan, false, v),
                ("above 1", 1.5, false, v),
                ("below 0", -0.5, false, v),
            ],
            Role::Simplex => vec![
                ("NaN", nan, false, v),
                ("above 1", 1.5, false, v),
                ("below 0", -0.5, false, v),
                ("zero on an unmasked class", 0.0, false, v),
                ("sum off 1", 0.5, true, v),
            ],
            Role::LogSimplex => vec![
                ("NaN", nan, false, v),
                ("+inf", inf, false, v),
                ("-inf on an unmasked class", -inf, false, v),
                ("logsumexp off 0", 0.0, true, v),
            ],
            Role::Open01 => vec![
                ("NaN", nan, false, v),
                ("0", 0.0, false, v),
                ("1", 1.0, false, v),
                ("above 1", 1.5, false, v),
            ],
            Role::Finite => vec![
                ("NaN", nan, false, v),
                ("+inf", inf, false, v),
                ("-inf", -inf, false, v),
            ],
            Role::NotNan => vec![
                ("NaN", nan, false, v),
                ("+inf", inf, false, GUMBEL_STATUS_OK),
                ("-inf", -inf, false, GUMBEL_STATUS_OK),
            ],
            Role::Prob => vec![
                ("NaN", nan, false, v),
                ("above 1", 1.5, false, v),
                ("below 0", -0.5, false, v),
                ("0", 0.0, false, GUMBEL_STATUS_OK),
                ("1", 1.0, false, GUMBEL_STATUS_OK),
            ],
            Role::Temperature => [("NaN", nan), ("0", 0.0), ("-1", -1.0), ("+inf", inf)]
                .into_iter()
                .map(|(label, t)| (label, t, false, GUMBEL_STATUS_INVALID_TEMPERATURE))
                .collect(),
        }
    }
}

/// The size of an output.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Out {
    /// One value per element.
    Full,
    /// One value per row (`outer * inner`).
    PerRow,
    /// One index per row.
    Indices,
    /// One value.
    Scalar,
}

/// The temperature argument of a function.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Tau {
    None,
    Scalar,
    PerRow,
}

/// The scalar parameters of an elementwise function.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Param {
    None,
    Tau,
    LocScale,
}

/// Arguments given to an entry's call.
struct Args<T: Fl> {
    ins: [*const T; 3],
    tau_ptr: *const T::Tau,
    out: *mut T,
    idx: *mut i64,
    outer: usize,
    classes: usize,
    inner: usize,
    n: usize,
    tau: T::Tau,
    loc: T,
    scale: T,
}

/// A function over `(outer, classes, inner)` tensors.
struct RowsFn<T: Fl> {
    name: &'static str,
    inputs: &'static [(&'static str, Role)],
    out: (&'static str, Out),
    tau: Tau,
    call: unsafe fn(&Args<T>) -> gumbel_status,
}

/// A function over `n` independent elements.
struct ElemFn<T: Fl> {
    name: &'static str,
    inputs: &'static [(&'static str, Role)],
    out: &'static str,
    param: Param,
    /// `out == input 0` is documented as supported.
    in_place: bool,
    call: unsafe fn(&Args<T>) -> gumbel_status,
}

/// A function of scalar distribution parameters writing one value.
struct ScalarFn<T> {
    name: &'static str,
    /// The parameter names, in `(loc, scale)` pairs.
    params: &'static [&'static str],
    call: unsafe fn(&[T], *mut T) -> gumbel_status,
}

macro_rules! rows_fns {
    ($t:ty, $($name:ident : [$($iname:literal $role:ident),*] -> $oname:literal $out:ident, $tau:ident, |$a:ident| $body:expr;)*) => {
        vec![$(RowsFn::<$t> {
            name: stringify!($name),
            inputs: &[$(($iname, Role::$role)),*],
            out: ($oname, Out::$out),
            tau: Tau::$tau,
            call: {
                unsafe fn f($a: &Args<$t>) -> gumbel_status { unsafe { $body } }
                f
            },
        }),*]
    };
}

macro_rules! elem_fns {
    ($t:ty, $($name:ident : [$($iname:literal $role:ident),*] -> $oname:literal, $param:ident, $in_place:literal, |$a:ident| $body:expr;)*) => {
        vec![$(ElemFn::<$t> {
            name: stringify!($name),
            inputs: &[$(($iname, Role::$role)),*],
            out: $oname,
            param: Param::$param,
            in_place: $in_place,
            call: {
                unsafe fn f($a: &Args<$t>) -> gumbel_status { unsafe { $body } }
                f
            },
        }),*]
    };
}

macro_rules! scalar_fns {
    ($t:ty, $($name:ident : [$($p:literal),*], |$v:ident, $o:ident| $body:expr;)*) => {
        vec![$(ScalarFn::<$t> {
            name: stringify!($name),
            params: &[$($p),*],
            call: {
                unsafe fn f($v: &[$t], $o: *mut $t) -> gumbel_status { unsafe { $body } }
                f
            },
        }),*]
    };
}

fn rows_f32() -> Vec<RowsFn<f32>> {
    rows_fns!(f32,
        gumbel_softmax_f32: ["logits" Logits] -> "out" Full, Scalar,
            |a| gumbel_softmax_f32(a.ins[0], a.out, a.outer, a.classes, a.inner, a.tau, false, 3, 4);
        gumbel_softmax_per_row_f32: ["logits" Logits] -> "out" Full, PerRow,
            |a| gumbel_softmax_per_row_f32(a.ins[0], a.out, a.outer, a.classes, a.inner, a.tau_ptr, true, 3, 4);
        gumbel_sample_f32: ["logits" Logits] -> "indices" Indices, None,
            |a| gumbel_sample_f32(a.ins[0], a.idx, a.outer, a.classes, a.inner, 3, 4);
        gumbel_tempered_softmax_f32: ["logits" Logits] -> "out" Full, Scalar,
            |a| gumbel_tempered_softmax_f32(a.ins[0], a.out, a.outer, a.classes, a.inner, a.tau);
        gumbel_tempered_softmax_per_row_f32: ["logits" Logits] -> "out" Full, PerRow,
            |a| gumbel_tempered_softmax_per_row_f32(a.ins[0], a.out, a.outer, a.classes, a.inner, a.tau_ptr);
        gumbel_softmax_backward_f32: ["y_soft" Unit, "grad_out" Finite] -> "grad_logits" Full, Scalar,
            |a| gumbel_softmax_backward_f32(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau);
        gumbel_softmax_grad_tau_f32: ["y_soft" Unit, "grad_out" Finite] -> "grad_tau" Scalar, Scalar,
            |a| gumbel_softmax_grad_tau_f32(a.ins[0], a.ins[1], a.outer, a.classes, a.inner, a.tau, a.out);
        gumbel_softmax_backward_per_row_f32: ["y_soft" Unit, "grad_out" Finite] -> "grad_logits" Full, PerRow,
            |a| gumbel_softmax_backward_per_row_f32(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau_ptr);
        gumbel_softmax_grad_tau_per_row_f32: ["y_soft" Unit, "grad_out" Finite] -> "grad_tau" PerRow, PerRow,
            |a| gumbel_softmax_grad_tau_per_row_f32(a.ins[0], a.ins[1], a.outer, a.classes, a.inner, a.tau_ptr, a.out);
        gumbel_log_softmax_f32: ["logits" Logits] -> "out" Full, Scalar,
            |a| gumbel_log_softmax_f32(a.ins[0], a.out, a.outer, a.classes, a.inner, a.tau, 3, 4);
        gumbel_concrete_log_prob_f32: ["y" Simplex, "logits" Logits] -> "out" PerRow, Scalar,
            |a| gumbel_concrete_log_prob_f32(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau);
        gumbel_exp_concrete_log_prob_f32: ["x" LogSimplex, "logits" Logits] -> "out" PerRow, Scalar,
            |a| gumbel_exp_concrete_log_prob_f32(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau);
        gumbel_log_softmax_per_row_f32: ["logits" Logits] -> "out" Full, PerRow,
            |a| gumbel_log_softmax_per_row_f32(a.ins[0], a.out, a.outer, a.classes, a.inner, a.tau_ptr, 3, 4);
        gumbel_concrete_log_prob_per_row_f32: ["y" Simplex, "logits" Logits] -> "out" PerRow, PerRow,
            |a| gumbel_concrete_log_prob_per_row_f32(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau_ptr);
        gumbel_exp_concrete_log_prob_per_row_f32: ["x" LogSimplex, "logits" Logits] -> "out" PerRow, PerRow,
            |a| gumbel_exp_concrete_log_prob_per_row_f32(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau_ptr);
        gumbel_exp_concrete_log_prob_grad_logits_per_row_f32: ["x" LogSimplex, "logits" Logits] -> "out" Full, PerRow,
            |a| gumbel_exp_concrete_log_prob_grad_logits_per_row_f32(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau_ptr);
        gumbel_exp_concrete_log_prob_grad_tau_per_row_f32: ["x" LogSimplex, "logits" Logits] -> "out" PerRow, PerRow,
            |a| gumbel_exp_concrete_log_prob_grad_tau_per_row_f32(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau_ptr);
    )
}

fn rows_f64() -> Vec<RowsFn<f64>> {
    rows_fns!(f64,
        gumbel_softmax_f64: ["logits" Logits] -> "out" Full, Scalar,
            |a| gumbel_softmax_f64(a.ins[0], a.out, a.outer, a.classes, a.inner, a.tau, true, 3, 4);
        gumbel_softmax_per_row_f64: ["logits" Logits] -> "out" Full, PerRow,
            |a| gumbel_softmax_per_row_f64(a.ins[0], a.out, a.outer, a.classes, a.inner, a.tau_ptr, false, 3, 4);
        gumbel_sample_f64: ["logits" Logits] -> "indices" Indices, None,
            |a| gumbel_sample_f64(a.ins[0], a.idx, a.outer, a.classes, a.inner, 3, 4);
        gumbel_tempered_softmax_f64: ["logits" Logits] -> "out" Full, Scalar,
            |a| gumbel_tempered_softmax_f64(a.ins[0], a.out, a.outer, a.classes, a.inner, a.tau);
        gumbel_tempered_softmax_per_row_f64: ["logits" Logits] -> "out" Full, PerRow,
            |a| gumbel_tempered_softmax_per_row_f64(a.ins[0], a.out, a.outer, a.classes, a.inner, a.tau_ptr);
        gumbel_softmax_backward_f64: ["y_soft" Unit, "grad_out" Finite] -> "grad_logits" Full, Scalar,
            |a| gumbel_softmax_backward_f64(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau);
        gumbel_softmax_grad_tau_f64: ["y_soft" Unit, "grad_out" Finite] -> "grad_tau" Scalar, Scalar,
            |a| gumbel_softmax_grad_tau_f64(a.ins[0], a.ins[1], a.outer, a.classes, a.inner, a.tau, a.out);
        gumbel_softmax_backward_per_row_f64: ["y_soft" Unit, "grad_out" Finite] -> "grad_logits" Full, PerRow,
            |a| gumbel_softmax_backward_per_row_f64(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau_ptr);
        gumbel_softmax_grad_tau_per_row_f64: ["y_soft" Unit, "grad_out" Finite] -> "grad_tau" PerRow, PerRow,
            |a| gumbel_softmax_grad_tau_per_row_f64(a.ins[0], a.ins[1], a.outer, a.classes, a.inner, a.tau_ptr, a.out);
        gumbel_log_softmax_f64: ["logits" Logits] -> "out" Full, Scalar,
            |a| gumbel_log_softmax_f64(a.ins[0], a.out, a.outer, a.classes, a.inner, a.tau, 3, 4);
        gumbel_concrete_log_prob_f64: ["y" Simplex, "logits" Logits] -> "out" PerRow, Scalar,
            |a| gumbel_concrete_log_prob_f64(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau);
        gumbel_exp_concrete_log_prob_f64: ["x" LogSimplex, "logits" Logits] -> "out" PerRow, Scalar,
            |a| gumbel_exp_concrete_log_prob_f64(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau);
        gumbel_log_softmax_per_row_f64: ["logits" Logits] -> "out" Full, PerRow,
            |a| gumbel_log_softmax_per_row_f64(a.ins[0], a.out, a.outer, a.classes, a.inner, a.tau_ptr, 3, 4);
        gumbel_concrete_log_prob_per_row_f64: ["y" Simplex, "logits" Logits] -> "out" PerRow, PerRow,
            |a| gumbel_concrete_log_prob_per_row_f64(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau_ptr);
        gumbel_exp_concrete_log_prob_per_row_f64: ["x" LogSimplex, "logits" Logits] -> "out" PerRow, PerRow,
            |a| gumbel_exp_concrete_log_prob_per_row_f64(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau_ptr);
        gumbel_exp_concrete_log_prob_grad_logits_per_row_f64: ["x" LogSimplex, "logits" Logits] -> "out" Full, PerRow,
            |a| gumbel_exp_concrete_log_prob_grad_logits_per_row_f64(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau_ptr);
        gumbel_exp_concrete_log_prob_grad_tau_per_row_f64: ["x" LogSimplex, "logits" Logits] -> "out" PerRow, PerRow,
            |a| gumbel_exp_concrete_log_prob_grad_tau_per_row_f64(a.ins[0], a.ins[1], a.out, a.outer, a.classes, a.inner, a.tau_ptr);
    )
}

macro_rules! rows_half {
    ($t:ty, $sm:ident, $smr:ident, $sa:ident, $ts:ident, $tsr:ident, $bw:ident, $bwr:ident) => {
        rows_fns!($t,
            $sm: ["logits" Logits] -> "out" Full, Scalar,
                |a| $sm(a.ins[0].cast(), a.out.cast(), a.outer, a.classes, a.inner, a.tau, false, 3, 4);
            $smr: ["logits" Logits] -> "out" Full, PerRow,
                |a| $smr(a.ins[0].cast(), a.out.cast(), a.outer, a.classes, a.inner, a.tau_ptr, true, 3, 4);
            $sa: ["logits" Logits] -> "indices" Indices, None,
                |a| $sa(a.ins[0].cast(), a.idx, a.outer, a.classes, a.inner, 3, 4);
            $ts: ["logits" Logits] -> "out" Full, Scalar,
                |a| $ts(a.ins[0].cast(), a.out.cast(), a.outer, a.classes, a.inner, a.tau);
            $tsr: ["logits" Logits] -> "out" Full, PerRow,
                |a| $tsr(a.ins[0].cast(), a.out.cast(), a.outer, a.classes, a.inner, a.tau_ptr);
            $bw: ["y_soft" Unit, "grad_out" Finite] -> "grad_logits" Full, Scalar,
                |a| $bw(a.ins[0].cast(), a.ins[1].cast(), a.out.cast(), a.outer, a.classes, a.inner, a.tau);
            $bwr: ["y_soft" Unit, "grad_out" Finite] -> "grad_logits" Full, PerRow,
                |a| $bwr(a.ins[0].cast(), a.ins[1].cast(), a.out.cast(), a.outer, a.classes, a.inner, a.tau_ptr);
        )
    };
}

fn rows_bf16() -> Vec<RowsFn<Bf16>> {
    rows_half!(
        Bf16,
        gumbel_softmax_bf16,
        gumbel_softmax_per_row_bf16,
        gumbel_sample_bf16,
        gumbel_tempered_softmax_bf16,
        gumbel_tempered_softmax_per_row_bf16,
        gumbel_softmax_backward_bf16,
        gumbel_softmax_backward_per_row_bf16
    )
}

fn rows_f16() -> Vec<RowsFn<F16>> {
    rows_half!(
        F16,
        gumbel_softmax_f16,
        gumbel_softmax_per_row_f16,
        gumbel_sample_f16,
        gumbel_tempered_softmax_f16,
        gumbel_tempered_softmax_per_row_f16,
        gumbel_softmax_backward_f16,
        gumbel_softmax_backward_per_row_f16
    )
}

macro_rules! elem_table {
    ($t:ty, $noise:ident, $rb:ident, $rbb:ident, $rblp:ident, $lpdf:ident, $cdf:ident, $lcdf:ident,
     $sf:ident, $lsf:ident, $icdf:ident, $isf:ident, $lrb:ident, $lrblp:ident, $lrbgl:ident,
     $lrbgt:ident) => {
        elem_fns!($t,
            $noise: [] -> "out", LocScale, false,
                |a| $noise(a.out, a.n, a.loc, a.scale, 3, 4);
            $rb: ["logits" BinaryLogits] -> "out", Tau, false,
                |a| $rb(a.ins[0], a.out, a.n, a.tau, false, 3, 4);
            $rbb: ["y" Open01, "grad_out" Finite] -> "grad_logits", Tau, false,
                |a| $rbb(a.ins[0], a.ins[1], a.out, a.n, a.tau);
            $rblp: ["y" Open01, "logits" BinaryLogits] -> "out", Tau, false,
                |a| $rblp(a.ins[0], a.ins[1], a.out, a.n, a.tau);
            $lpdf: ["x" NotNan] -> "out", LocScale, true, |a| $lpdf(a.ins[0], a.out, a.n, a.loc, a.scale);
            $cdf: ["x" NotNan] -> "out", LocScale, true, |a| $cdf(a.ins[0], a.out, a.n, a.loc, a.scale);
            $lcdf: ["x" NotNan] -> "out", LocScale, true, |a| $lcdf(a.ins[0], a.out, a.n, a.loc, a.scale);
            $sf: ["x" NotNan] -> "out", LocScale, true, |a| $sf(a.ins[0], a.out, a.n, a.loc, a.scale);
            $lsf: ["x" NotNan] -> "out", LocScale, true, |a| $lsf(a.ins[0], a.out, a.n, a.loc, a.scale);
            $icdf: ["x" Prob] -> "out", LocScale, true, |a| $icdf(a.ins[0], a.out, a.n, a.loc, a.scale);
            $isf: ["x" Prob] -> "out", LocScale, true, |a| $isf(a.ins[0], a.out, a.n, a.loc, a.scale);
            $lrb: ["logits" BinaryLogits, "tau" Temperature] -> "out", None, false,
                |a| $lrb(a.ins[0], a.ins[1], a.out, a.n, 3, 4);
            $lrblp: ["x" Finite, "logits" BinaryLogits, "tau" Temperature] -> "out", None, false,
                |a| $lrblp(a.ins[0], a.ins[1], a.ins[2], a.out, a.n);
            $lrbgl: ["x" Finite, "logits" BinaryLogits, "tau" Temperature] -> "out", None, false,
                |a| $lrbgl(a.ins[0], a.ins[1], a.ins[2], a.out, a.n);
            $lrbgt: ["x" Finite, "logits" BinaryLogits, "tau" Temperature] -> "out", None, false,
                |a| $lrbgt(a.ins[0], a.ins[1], a.ins[2], a.out, a.n);
        )
    };
}

fn elem_f32() -> Vec<ElemFn<f32>> {
    elem_table!(
        f32,
        gumbel_noise_f32,
        gumbel_relaxed_bernoulli_f32,
        gumbel_relaxed_bernoulli_backward_f32,
        gumbel_relaxed_bernoulli_log_prob_f32,
        gumbel_dist_log_pdf_f32,
        gumbel_dist_cdf_f32,
        gumbel_dist_log_cdf_f32,
        gumbel_dist_sf_f32,
        gumbel_dist_log_sf_f32,
        gumbel_dist_icdf_f32,
        gumbel_dist_isf_f32,
        gumbel_logit_relaxed_bernoulli_f32,
        gumbel_logit_relaxed_bernoulli_log_prob_f32,
        gumbel_logit_relaxed_bernoulli_log_prob_grad_logits_f32,
        gumbel_logit_relaxed_bernoulli_log_prob_grad_tau_f32
    )
}

fn elem_f64() -> Vec<ElemFn<f64>> {
    elem_table!(
        f64,
        gumbel_noise_f64,
        gumbel_relaxed_bernoulli_f64,
        gumbel_relaxed_bernoulli_backward_f64,
        gumbel_relaxed_bernoulli_log_prob_f64,
        gumbel_dist_log_pdf_f64,
        gumbel_dist_cdf_f64,
        gumbel_dist_log_cdf_f64,
        gumbel_dist_sf_f64,
        gumbel_dist_log_sf_f64,
        gumbel_dist_icdf_f64,
        gumbel_dist_isf_f64,
        gumbel_logit_relaxed_bernoulli_f64,
        gumbel_logit_relaxed_bernoulli_log_prob_f64,
        gumbel_logit_relaxed_bernoulli_log_prob_grad_logits_f64,
        gumbel_logit_relaxed_bernoulli_log_prob_grad_tau_f64
    )
}

macro_rules! scalar_table {
    ($t:ty, $mean:ident, $var:ident, $mode:ident, $ent:ident, $kl:ident) => {
        scalar_fns!($t,
            $mean: ["loc", "scale"], |v, o| $mean(v[0], v[1], o);
            $var: ["loc", "scale"], |v, o| $var(v[0], v[1], o);
            $mode: ["loc", "scale"], |v, o| $mode(v[0], v[1], o);
            $ent: ["loc", "scale"], |v, o| $ent(v[0], v[1], o);
            $kl: ["loc1", "scale1", "loc2", "scale2"], |v, o| $kl(v[0], v[1], v[2], v[3], o);
        )
    };
}

fn scalar_f32() -> Vec<ScalarFn<f32>> {
    scalar_table!(
        f32,
        gumbel_dist_mean_f32,
        gumbel_dist_variance_f32,
        gumbel_dist_mode_f32,
        gumbel_dist_entropy_f32,
        gumbel_dist_kl_f32
    )
}

fn scalar_f64() -> Vec<ScalarFn<f64>> {
    scalar_table!(
        f64,
        gumbel_dist_mean_f64,
        gumbel_dist_variance_f64,
        gumbel_dist_mode_f64,
        gumbel_dist_entropy_f64,
        gumbel_dist_kl_f64
    )
}

/// The functions checked by hand below (no table shape fits them).
const HAND_CHECKED: &[&str] = &[
    "gumbel_status_str",
    "gumbel_last_error",
    "gumbel_version",
    "gumbel_set_num_threads",
    "gumbel_num_threads",
    "gumbel_streams",
    "gumbel_schedule_exponential",
    "gumbel_schedule_linear",
    "gumbel_schedule_cosine",
    "gumbel_softmax_grad_tau_bf16",
    "gumbel_softmax_grad_tau_f16",
    "gumbel_softmax_grad_tau_per_row_bf16",
    "gumbel_softmax_grad_tau_per_row_f16",
    // Indices as an input: tests/estimators.rs, `c_abi_rejects_bad_arguments`
    // and its bf16/f16 twins.
    "gumbel_conditional_f32",
    "gumbel_conditional_f64",
    "gumbel_rao_backward_f32",
    "gumbel_rao_backward_f64",
    "gumbel_reinmax_backward_f32",
    "gumbel_reinmax_backward_f64",
    "gumbel_gapped_st_backward_f32",
    "gumbel_gapped_st_backward_f64",
    "gumbel_decoupled_st_backward_f32",
    "gumbel_decoupled_st_backward_f64",
    "gumbel_conditional_bf16",
    "gumbel_conditional_f16",
    "gumbel_rao_backward_bf16",
    "gumbel_rao_backward_f16",
    "gumbel_reinmax_backward_bf16",
    "gumbel_reinmax_backward_f16",
    "gumbel_gapped_st_backward_bf16",
    "gumbel_gapped_st_backward_f16",
    "gumbel_decoupled_st_backward_bf16",
    "gumbel_decoupled_st_backward_f16",
    // Filtered sampling: tests/filtered.rs, `filtered_c_entries_reject_bad_input_and_leave_outputs_untouched`.
    "gumbel_sample_filtered_f32",
    "gumbel_sample_filtered_f64",
    // Keyed rows and Gumbel-top-k: `keyed_functions`, `top_k_functions` below.
    "gumbel_sample_keyed_f32",
    "gumbel_sample_keyed_f64",
    "gumbel_softmax_keyed_f32",
    "gumbel_softmax_keyed_f64",
    "gumbel_top_k_f32",
    "gumbel_top_k_f64",
    "gumbel_top_k_keyed_f32",
    "gumbel_top_k_keyed_f64",
    "gumbel_plackett_luce_log_prob_f32",
    "gumbel_plackett_luce_log_prob_f64",
];

/// The names of the functions `include/gumbel.h` declares.
fn header_functions() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/gumbel.h");
    let text = std::fs::read_to_string(path).unwrap();
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with(' ') || line.starts_with('#') || line.starts_with('/') {
            continue;
        }
        if let Some(paren) = line.find('(') {
            let head = &line[..paren];
            let start = head
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |k| k + 1);
            if head[start..].starts_with("gumbel_") {
                names.insert(head[start..].to_owned());
            }
        }
    }
    names
}

#[test]
fn every_header_function_has_a_matrix_entry() {
    let mut covered: BTreeSet<String> = HAND_CHECKED.iter().map(|s| s.to_string()).collect();
    covered.extend(rows_f32().iter().map(|f| f.name.to_owned()));
    covered.extend(rows_f64().iter().map(|f| f.name.to_owned()));
    covered.extend(rows_bf16().iter().map(|f| f.name.to_owned()));
    covered.extend(rows_f16().iter().map(|f| f.name.to_owned()));
    covered.extend(elem_f32().iter().map(|f| f.name.to_owned()));
    covered.extend(elem_f64().iter().map(|f| f.name.to_owned()));
    covered.extend(scalar_f32().iter().map(|f| f.name.to_owned()));
    covered.extend(scalar_f64().iter().map(|f| f.name.to_owned()));
    let declared = header_functions();
    assert!(declared.len() > 60, "header parse found only {declared:?}");
    let missing: Vec<_> = declared.difference(&covered).collect();
    let stale: Vec<_> = covered.difference(&declared).collect();
    assert!(
        missing.is_empty(),
        "header functions without a matrix entry: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "matrix entries the header lacks: {stale:?}"
    );
}

/// A buffer of `len` elements surrounded by guards.
struct Guarded<T> {
    data: Vec<T>,
    len: usize,
}

impl<T: Fl> Guarded<T> {
    fn new(len: usize) -> Self {
        Guarded {
            data: vec![T::SENTINEL; len + 2 * GUARD],
            len,
        }
    }
    fn filled(len: usize, value: impl Fn(usize) -> f64) -> Self {
        let mut g = Self::new(len);
        for k in 0..len {
            g.data[GUARD + k] = T::of(value(k));
        }
        g
    }
    fn ptr(&mut self) -> *mut T {
        unsafe { self.data.as_mut_ptr().add(GUARD) }
    }
    /// Whether every element is the sentinel.
    fn untouched(&self) -> bool {
        self.data.iter().all(|v| v.bits() == T::SENTINEL.bits())
    }
    /// Whether the guards still hold the sentinel.
    fn guards_intact(&self) -> bool {
        let n = self.data.len();
        self.data[..GUARD]
            .iter()
            .chain(&self.data[n - GUARD..])
            .all(|v| v.bits() == T::SENTINEL.bits())
    }
    fn body(&self) -> &[T] {
        &self.data[GUARD..GUARD + self.len]
    }
}

/// Collects failures so that one run reports all of them.
#[derive(Default)]
struct Report(Vec<String>);

impl Report {
    /// Checks `status` against `want` and, on failure, that the message
    /// names every word of `words`.
    fn status(&mut self, case: &str, status: gumbel_status, want: gumbel_status, words: &[&str]) {
        if status != want {
            let msg = if status == GUMBEL_STATUS_OK {
                String::new()
            } else {
                last_error()
            };
            self.0
                .push(format!("{case}: status {status} ({msg}), want {want}"));
            return;
        }
        if want != GUMBEL_STATUS_OK {
            let msg = last_error();
            for w in words {
                if !msg.contains(w) {
                    self.0.push(format!("{case}: message {msg:?} lacks {w:?}"));
                }
            }
        }
    }
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }
    fn finish(self) {
        assert!(
            self.0.is_empty(),
            "{} failures:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

/// Keywords a message of `status` must contain besides the argument name.
fn status_words(status: gumbel_status) -> &'static [&'static str] {
    match status {
        GUMBEL_STATUS_NULL_POINTER => &["NULL"],
        GUMBEL_STATUS_MISALIGNED_POINTER => &["align"],
        GUMBEL_STATUS_OVERLAP => &["overlap"],
        _ => &[],
    }
}

const OUTER: usize = 2;
const CLASSES: usize = 3;
const INNER: usize = 2;
const ROWS: usize = OUTER * INNER;
const ELEMS: usize = OUTER * CLASSES * INNER;

/// The buffers of one call of a rows function, all valid.
struct RowsCall<T: Fl> {
    ins: Vec<Guarded<T>>,
    tau: Guarded<T::Tau>,
    out: Guarded<T>,
    idx: Vec<i64>,
}

impl<T: Fl> RowsCall<T> {
    fn new(f: &RowsFn<T>) -> Self {
        let ins = f
            .inputs
            .iter()
            .map(|(_, role)| Guarded::filled(ELEMS, |k| role.good(k / INNER)))
            .collect();
        let out_len = match f.out.1 {
            Out::Full => ELEMS,
            Out::PerRow => ROWS,
            Out::Scalar => 1,
            Out::Indices => 0,
        };
        RowsCall {
            ins,
            tau: Guarded::filled(ROWS, |r| 0.5 + r as f64),
            out: Guarded::new(out_len),
            idx: vec![IDX_SENTINEL; ROWS + 2 * GUARD],
        }
    }
    fn args(&mut self) -> Args<T> {
        let mut ins = [null(); 3];
        for (k, g) in self.ins.iter_mut().enumerate() {
            ins[k] = g.ptr() as *const T;
        }
        Args {
            ins,
            tau_ptr: self.tau.ptr(),
            out: self.out.ptr(),
            idx: unsafe { self.idx.as_mut_ptr().add(GUARD) },
            outer: OUTER,
            classes: CLASSES,
            inner: INNER,
            n: 0,
            tau: T::Tau::of(0.7),
            loc: T::of(0.0),
            scale: T::of(1.0),
        }
    }
    fn untouched(&self) -> bool {
        self.out.untouched() && self.idx.iter().all(|&i| i == IDX_SENTINEL)
    }
    fn guards_intact(&self) -> bool {
        self.out.guards_intact()
            && self.idx[..GUARD]
                .iter()
                .chain(&self.idx[GUARD + ROWS..])
                .all(|&i| i == IDX_SENTINEL)
    }
}

/// Every bad-input class on every rows function of one dtype.
fn rows_matrix<T: Fl>(fns: Vec<RowsFn<T>>) {
    let mut rep = Report::default();
    for f in &fns {
        let name = f.name;
        let (oname, okind) = f.out;
        // A good call works and writes only its output.
        {
            let mut c = RowsCall::new(f);
            let a = c.args();
            rep.status(
                &format!("{name} good"),
                unsafe { (f.call)(&a) },
                GUMBEL_STATUS_OK,
                &[],
            );
            rep.check(c.guards_intact(), || {
                format!("{name} good: wrote outside its output")
            });
            rep.check(c.out.body().iter().all(|v| v.to().is_finite()), || {
                format!("{name} good: non-finite output {:?}", c.out.body())
            });
        }
        // Shapes.
        let shapes: [(&str, [usize; 3], gumbel_status, &str); 5] = [
            (
                "classes == 0",
                [OUTER, 0, INNER],
                GUMBEL_STATUS_INVALID_SHAPE,
                "classes",
            ),
            (
                "outer * classes overflows",
                [usize::MAX, 2, 1],
                GUMBEL_STATUS_SIZE_OVERFLOW,
                "size_t",
            ),
            (
                "elements overflow",
                [1 << 33, 1 << 31, 1 << 2],
                GUMBEL_STATUS_SIZE_OVERFLOW,
                "size_t",
            ),
            (
                "inner overflows",
                [1, 3, usize::MAX / 2],
                GUMBEL_STATUS_SIZE_OVERFLOW,
                "size_t",
            ),
            (
                "bytes overflow",
                [1, 1, usize::MAX / 4 + 1],
                GUMBEL_STATUS_SIZE_OVERFLOW,
                "address space",
            ),
        ];
        for (label, [o, k, i], want, word) in shapes {
            let mut c = RowsCall::new(f);
            let mut a = c.args();
            (a.outer, a.classes, a.inner) = (o, k, i);
            rep.status(
                &format!("{name} {label}"),
                unsafe { (f.call)(&a) },
                want,
                &[word],
            );
            rep.check(c.untouched(), || format!("{name} {label}: output written"));
        }
        // Empty shapes accept NULL pointers and write nothing (a scalar
        // output is still required: grad_tau gets the empty sum).
        for (label, o, i) in [("outer == 0", 0, INNER), ("inner == 0", OUTER, 0)] {
            let mut c = RowsCall::new(f);
            let mut a = c.args();
            (a.outer, a.inner) = (o, i);
            a.ins = [null(); 3];
            a.tau_ptr = null();
            a.idx = null_mut();
            if okind != Out::Scalar {
                a.out = null_mut();
            }
            rep.status(
                &format!("{name} {label} with NULLs"),
                unsafe { (f.call)(&a) },
                GUMBEL_STATUS_OK,
                &[],
            );
            if okind != Out::Scalar {
                rep.check(c.untouched(), || format!("{name} {label}: output written"));
            }
            if f.tau == Tau::Scalar {
                let mut c = RowsCall::new(f);
                let mut a = c.args();
                (a.outer, a.inner) = (o, i);
                a.tau = T::Tau::of(f64::NAN);
                rep.status(
                    &format!("{name} {label} with tau NaN"),
                    unsafe { (f.call)(&a) },
                    GUMBEL_STATUS_INVALID_TEMPERATURE,
                    &["tau"],
                );
                rep.check(c.untouched(), || {
                    format!("{name} {label} tau NaN: output written")
                });
            }
        }
        // NULL and misaligned pointers.
        let mut pointers: Vec<&str> = f.inputs.iter().map(|(n, _)| *n).collect();
        if f.tau == Tau::PerRow {
            pointers.push("tau");
        }
        pointers.push(oname);
        for (p, pname) in pointers.iter().enumerate() {
            for (label, want) in [
                ("NULL", GUMBEL_STATUS_NULL_POINTER),
                ("misaligned", GUMBEL_STATUS_MISALIGNED_POINTER),
            ] {
                let mut c = RowsCall::new(f);
                let mut a = c.args();
                let bend = |ptr: *const u8| -> *const u8 {
                    if want == GUMBEL_STATUS_NULL_POINTER {
                        null()
                    } else {
                        ptr.wrapping_add(1)
                    }
                };
                if p < f.inputs.len() {
                    a.ins[p] = bend(a.ins[p] as *const u8) as *const T;
                } else if f.tau == Tau::PerRow && p == f.inputs.len() {
                    a.tau_ptr = bend(a.tau_ptr as *const u8) as *const T::Tau;
                } else if okind == Out::Indices {
                    a.idx = bend(a.idx as *const u8) as *mut i64;
                } else {
                    a.out = bend(a.out as *const u8) as *mut T;
                }
                let mut words = vec![*pname];
                words.extend(status_words(want));
                rep.status(
                    &format!("{name} {label} {pname}"),
                    unsafe { (f.call)(&a) },
                    want,
                    &words,
                );
                rep.check(c.untouched(), || {
                    format!("{name} {label} {pname}: output written")
                });
            }
        }
        // Temperatures: 0, negative, NaN, +inf, -inf rejected; subnormal
        // accepted (finite and > 0) with a finite result.
        if f.tau != Tau::None {
            let bad = [0.0, -0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
            for t in bad {
                let mut c = RowsCall::new(f);
                let mut a = c.args();
                if f.tau == Tau::Scalar {
                    a.tau = T::Tau::of(t);
                } else {
                    c.tau.data[GUARD + 1] = T::Tau::of(t);
                    a = c.args();
                }
                let word = if f.tau == Tau::PerRow { "row 1" } else { "tau" };
                rep.status(
                    &format!("{name} tau {t}"),
                    unsafe { (f.call)(&a) },
                    GUMBEL_STATUS_INVALID_TEMPERATURE,
                    &[word],
                );
                rep.check(c.untouched(), || format!("{name} tau {t}: output written"));
            }
            let mut c = RowsCall::new(f);
            let mut a = c.args();
            if f.tau == Tau::Scalar {
                a.tau = T::Tau::subnormal();
            } else {
                c.tau.data[GUARD + 1] = T::Tau::subnormal();
                a = c.args();
            }
            let s = unsafe { (f.call)(&a) };
            rep.status(&format!("{name} subnormal tau"), s, GUMBEL_STATUS_OK, &[]);
            rep.check(c.guards_intact(), || {
                format!("{name} subnormal tau: wrote outside")
            });
            if s == GUMBEL_STATUS_OK && !name.contains("log_prob") && !name.contains("log_softmax")
            {
                rep.check(c.out.body().iter().all(|v| !v.to().is_nan()), || {
                    format!("{name} subnormal tau: NaN output {:?}", c.out.body())
                });
            }
        }
        // Bad values in each input (row 1 is spoiled; element 0 of that row,
        // or the whole row).
        for (k, (iname, role)) in f.inputs.iter().enumerate() {
            for (label, v, whole, want) in role.bad() {
                // A density point must be 0 (or -inf) on a masked class.
                let density = f
                    .inputs
                    .iter()
                    .any(|(_, r)| matches!(r, Role::Simplex | Role::LogSimplex));
                let want = if density && label == "one -inf logit" {
                    GUMBEL_STATUS_INVALID_VALUE
                } else {
                    want
                };
                let mut c = RowsCall::new(f);
                // Row 1 = (o 0, i 1): elements 1, 3, 5.
                for cl in 0..CLASSES {
                    if whole || cl == 0 {
                        c.ins[k].data[GUARD + cl * INNER + 1] = T::of(v);
                    }
                }
                let a = c.args();
                let words: &[&str] = if want == GUMBEL_STATUS_OK {
                    &[]
                } else {
                    &["row 1"]
                };
                let s = unsafe { (f.call)(&a) };
                rep.status(&format!("{name} {iname} {label}"), s, want, words);
                // The softmax backward validates its inputs' values as it
                // computes (the header's gradient error contract): on a bad
                // value its output is unspecified, but nothing outside it is
                // written.
                let validates_as_it_computes = name.contains("softmax_backward");
                if want == GUMBEL_STATUS_OK || validates_as_it_computes {
                    rep.check(c.guards_intact(), || {
                        format!("{name} {iname} {label}: wrote outside")
                    });
                } else {
                    rep.check(c.untouched(), || {
                        format!("{name} {iname} {label}: output written")
                    });
                }
            }
        }
        // Overlap of the output with each input (the output starting inside
        // the input buffer), and of the output with the per-row tau.
        let mut olap: Vec<&str> = f.inputs.iter().map(|(n, _)| *n).collect();
        if f.tau == Tau::PerRow {
            olap.push("tau");
        }
        for (p, pname) in olap.iter().enumerate() {
            for shift in [0usize, 1] {
                let mut c = RowsCall::new(f);
                let mut a = c.args();
                let base = if p < f.inputs.len() {
                    a.ins[p] as *mut T
                } else {
                    a.tau_ptr as *mut T
                };
                let before: Vec<u64> = if p < f.inputs.len() {
                    c.ins[p].data.iter().map(|v| v.bits()).collect()
                } else {
                    c.tau.data.iter().map(|v| v.bits()).collect()
                };
                // Keep 8-byte alignment for the index output (a float
                // buffer is only as aligned as its element type).
                let shift = if okind == Out::Indices {
                    let size = std::mem::size_of::<T>();
                    (8 - base as usize % 8) % 8 / size + shift * 8 / size
                } else {
                    shift
                };
                if okind == Out::Indices {
                    a.idx = unsafe { base.add(shift) } as *mut i64;
                } else {
                    a.out = unsafe { base.add(shift) };
                }
                let s = unsafe { (f.call)(&a) };
                rep.status(
                    &format!("{name} {oname} overlapping {pname} (+{shift})"),
                    s,
                    GUMBEL_STATUS_OVERLAP,
                    &[pname, oname],
                );
                let after: Vec<u64> = if p < f.inputs.len() {
                    c.ins[p].data.iter().map(|v| v.bits()).collect()
                } else {
                    c.tau.data.iter().map(|v| v.bits()).collect()
                };
                rep.check(before == after, || {
                    format!("{name} overlap {pname}: input written")
                });
            }
        }
    }
    rep.finish();
}

#[test]
fn rows_functions_f32() {
    rows_matrix(rows_f32());
}

#[test]
fn rows_functions_f64() {
    rows_matrix(rows_f64());
}

#[test]
fn rows_functions_bf16() {
    rows_matrix(rows_bf16());
}

#[test]
fn rows_functions_f16() {
    rows_matrix(rows_f16());
}

/// Every bad-input class on every elementwise function of one dtype.
fn elem_matrix<T: Fl>(fns: Vec<ElemFn<T>>) {
    const N: usize = 6;
    let mut rep = Report::default();
    let setup = |f: &ElemFn<T>| -> (Vec<Guarded<T>>, Guarded<T>) {
        let ins = f
            .inputs
            .iter()
            .map(|(_, r)| Guarded::filled(N, |k| r.good(k)))
            .collect();
        (ins, Guarded::new(N))
    };
    let args = |ins: &mut Vec<Guarded<T>>, out: &mut Guarded<T>| -> Args<T> {
        let mut p = [null(); 3];
        for (k, g) in ins.iter_mut().enumerate() {
            p[k] = g.ptr() as *const T;
        }
        Args {
            ins: p,
            tau_ptr: null(),
            out: out.ptr(),
            idx: null_mut(),
            outer: 0,
            classes: 0,
            inner: 0,
            n: N,
            tau: T::Tau::of(0.7),
            loc: T::of(0.5),
            scale: T::of(2.0),
        }
    };
    for f in &fns {
        let name = f.name;
        {
            let (mut ins, mut out) = setup(f);
            let a = args(&mut ins, &mut out);
            rep.status(
                &format!("{name} good"),
                unsafe { (f.call)(&a) },
                GUMBEL_STATUS_OK,
                &[],
            );
            rep.check(out.guards_intact(), || {
                format!("{name} good: wrote outside")
            });
            rep.check(out.body().iter().all(|v| v.to().is_finite()), || {
                format!("{name} good: non-finite {:?}", out.body())
            });
        }
        // Sizes.
        for (label, n) in [
            ("n overflows bytes", usize::MAX / 4 + 1),
            ("n == SIZE_MAX", usize::MAX),
        ] {
            let (mut ins, mut out) = setup(f);
            let mut a = args(&mut ins, &mut out);
            a.n = n;
            rep.status(
                &format!("{name} {label}"),
                unsafe { (f.call)(&a) },
                GUMBEL_STATUS_SIZE_OVERFLOW,
                &["address space"],
            );
            rep.check(out.untouched(), || {
                format!("{name} {label}: output written")
            });
        }
        {
            let (mut ins, mut out) = setup(f);
            let mut a = args(&mut ins, &mut out);
            a.n = 0;
            a.ins = [null(); 3];
            a.out = null_mut();
            rep.status(
                &format!("{name} n == 0 with NULLs"),
                unsafe { (f.call)(&a) },
                GUMBEL_STATUS_OK,
                &[],
            );
        }
        // Pointers.
        let mut pointers: Vec<&str> = f.inputs.iter().map(|(n, _)| *n).collect();
        pointers.push(f.out);
        for (p, pname) in pointers.iter().enumerate() {
            for (label, want) in [
                ("NULL", GUMBEL_STATUS_NULL_POINTER),
                ("misaligned", GUMBEL_STATUS_MISALIGNED_POINTER),
            ] {
                let (mut ins, mut out) = setup(f);
                let mut a = args(&mut ins, &mut out);
                let bend = |ptr: *const u8| -> *const u8 {
                    if want == GUMBEL_STATUS_NULL_POINTER {
                        null()
                    } else {
                        ptr.wrapping_add(1)
                    }
                };
                if p < f.inputs.len() {
                    a.ins[p] = bend(a.ins[p] as *const u8) as *const T;
                } else {
                    a.out = bend(a.out as *const u8) as *mut T;
                }
                let mut words = vec![*pname];
                words.extend(status_words(want));
                rep.status(
                    &format!("{name} {label} {pname}"),
                    unsafe { (f.call)(&a) },
                    want,
                    &words,
                );
                rep.check(out.untouched(), || {
                    format!("{name} {label} {pname}: output written")
                });
            }
        }
        // Scalar parameters, also checked with n == 0.
        let bad: Vec<(&str, f64, f64, f64, gumbel_status)> = match f.param {
            Param::None => vec![],
            Param::Tau => [0.0, -1.0, f64::NAN, f64::INFINITY]
                .into_iter()
                .map(|t| ("tau", t, 0.5, 2.0, GUMBEL_STATUS_INVALID_TEMPERATURE))
                .collect(),
            Param::LocScale => vec![
                ("loc", 0.7, f64::NAN, 2.0, GUMBEL_STATUS_INVALID_PARAMETER),
                (
                    "loc",
                    0.7,
                    f64::INFINITY,
                    2.0,
                    GUMBEL_STATUS_INVALID_PARAMETER,
                ),
                (
                    "loc",
                    0.7,
                    f64::NEG_INFINITY,
                    2.0,
                    GUMBEL_STATUS_INVALID_PARAMETER,
                ),
                ("scale", 0.7, 0.5, 0.0, GUMBEL_STATUS_INVALID_PARAMETER),
                ("scale", 0.7, 0.5, -1.0, GUMBEL_STATUS_INVALID_PARAMETER),
                ("scale", 0.7, 0.5, f64::NAN, GUMBEL_STATUS_INVALID_PARAMETER),
                (
                    "scale",
                    0.7,
                    0.5,
                    f64::INFINITY,
                    GUMBEL_STATUS_INVALID_PARAMETER,
                ),
            ],
        };
        for (pname, tau, loc, scale, want) in bad {
            for n in [N, 0] {
                let (mut ins, mut out) = setup(f);
                let mut a = args(&mut ins, &mut out);
                (a.tau, a.loc, a.scale, a.n) = (T::Tau::of(tau), T::of(loc), T::of(scale), n);
                rep.status(
                    &format!("{name} {pname} tau={tau} loc={loc} scale={scale} n={n}"),
                    unsafe { (f.call)(&a) },
                    want,
                    &[pname],
                );
                rep.check(out.untouched(), || {
                    format!("{name} bad {pname}: output written")
                });
            }
        }
        // Subnormal tau / scale: accepted.
        if f.param != Param::None {
            let (mut ins, mut out) = setup(f);
            let mut a = args(&mut ins, &mut out);
            if f.param == Param::Tau {
                a.tau = T::Tau::subnormal();
            } else {
                a.scale = T::subnormal();
            }
            rep.status(
                &format!("{name} subnormal parameter"),
                unsafe { (f.call)(&a) },
                GUMBEL_STATUS_OK,
                &[],
            );
            rep.check(out.guards_intact(), || {
                format!("{name} subnormal: wrote outside")
            });
            rep.check(out.body().iter().all(|v| !v.to().is_nan()), || {
                format!("{name} subnormal parameter: NaN output {:?}", out.body())
            });
        }
        // Bad values at index 2.
        for (k, (iname, role)) in f.inputs.iter().enumerate() {
            for (label, v, _, want) in role.bad() {
                let (mut ins, mut out) = setup(f);
                ins[k].data[GUARD + 2] = T::of(v);
                let a = args(&mut ins, &mut out);
                let words: &[&str] = if want == GUMBEL_STATUS_OK {
                    &[]
                } else {
                    &["2"]
                };
                rep.status(
                    &format!("{name} {iname} {label}"),
                    unsafe { (f.call)(&a) },
                    want,
                    words,
                );
                if want == GUMBEL_STATUS_OK {
                    rep.check(out.guards_intact(), || {
                        format!("{name} {iname} {label}: wrote outside")
                    });
                } else {
                    rep.check(out.untouched(), || {
                        format!("{name} {iname} {label}: output written")
                    });
                }
            }
        }
        // Overlap: exact aliasing is in place where documented; a shifted
        // output always overlaps.
        for (p, (pname, _)) in f.inputs.iter().enumerate() {
            for shift in [0usize, 1] {
                let (mut ins, mut out) = setup(f);
                let mut a = args(&mut ins, &mut out);
                a.out = unsafe { (a.ins[p] as *mut T).add(shift) };
                let in_place = shift == 0 && p == 0 && f.in_place;
                let before: Vec<u64> = ins[p].data.iter().map(|v| v.bits()).collect();
                let want = if in_place {
                    GUMBEL_STATUS_OK
                } else {
                    GUMBEL_STATUS_OVERLAP
                };
                rep.status(
                    &format!("{name} out overlapping {pname} (+{shift})"),
                    unsafe { (f.call)(&a) },
                    want,
                    &[pname, "overlap"],
                );
                let after: Vec<u64> = ins[p].data.iter().map(|v| v.bits()).collect();
                if in_place {
                    let n = after.len();
                    rep.check(
                        before[..GUARD] == after[..GUARD]
                            && before[n - GUARD..] == after[n - GUARD..],
                        || format!("{name} in place: wrote outside"),
                    );
                } else {
                    rep.check(before == after, || {
                        format!("{name} overlap {pname}: input written")
                    });
                }
            }
        }
    }
    rep.finish();
}

#[test]
fn elementwise_functions_f32() {
    elem_matrix(elem_f32());
}

#[test]
fn elementwise_functions_f64() {
    elem_matrix(elem_f64());
}

/// Every bad parameter and pointer of the scalar distribution functions.
fn scalar_matrix<T: Fl>(fns: Vec<ScalarFn<T>>) {
    let mut rep = Report::default();
    for f in &fns {
        let name = f.name;
        let good: Vec<T> = f
            .params
            .iter()
            .map(|p| T::of(if p.starts_with("loc") { 0.5 } else { 2.0 }))
            .collect();
        let mut out = Guarded::<T>::new(1);
        rep.status(
            &format!("{name} good"),
            unsafe { (f.call)(&good, out.ptr()) },
            GUMBEL_STATUS_OK,
            &[],
        );
        rep.check(
            out.guards_intact() && out.body()[0].to().is_finite(),
            || format!("{name} good output"),
        );
        for (label, ptr_of) in [("NULL", 0usize), ("misaligned", 1)] {
            let mut out = Guarded::<T>::new(1);
            let p = if ptr_of == 0 {
                null_mut()
            } else {
                (out.ptr() as *mut u8).wrapping_add(1) as *mut T
            };
            let want = if ptr_of == 0 {
                GUMBEL_STATUS_NULL_POINTER
            } else {
                GUMBEL_STATUS_MISALIGNED_POINTER
            };
            rep.status(
                &format!("{name} {label} out"),
                unsafe { (f.call)(&good, p) },
                want,
                &["out"],
            );
            rep.check(out.untouched(), || format!("{name} {label}: written"));
        }
        for (k, pname) in f.params.iter().enumerate() {
            let bad: &[f64] = if pname.starts_with("loc") {
                &[f64::NAN, f64::INFINITY, f64::NEG_INFINITY]
            } else {
                &[0.0, -1.0, f64::NAN, f64::INFINITY]
            };
            for &v in bad {
                let mut args = good.clone();
                args[k] = T::of(v);
                let mut out = Guarded::<T>::new(1);
                rep.status(
                    &format!("{name} {pname} = {v}"),
                    unsafe { (f.call)(&args, out.ptr()) },
                    GUMBEL_STATUS_INVALID_PARAMETER,
                    &[pname],
                );
                rep.check(out.untouched(), || format!("{name} {pname} = {v}: written"));
            }
            if !pname.starts_with("loc") {
                let mut args = good.clone();
                args[k] = T::subnormal();
                let mut out = Guarded::<T>::new(1);
                rep.status(
                    &format!("{name} subnormal {pname}"),
                    unsafe { (f.call)(&args, out.ptr()) },
                    GUMBEL_STATUS_OK,
                    &[],
                );
                rep.check(!out.body()[0].to().is_nan(), || {
                    format!("{name} subnormal {pname}: NaN")
                });
            }
        }
    }
    rep.finish();
}

#[test]
fn scalar_functions_f32() {
    scalar_matrix(scalar_f32());
}

#[test]
fn scalar_functions_f64() {
    scalar_matrix(scalar_f64());
}

#[test]
fn status_strings_cover_every_code_and_unknown_ones() {
    let text = |s: u32| {
        unsafe { CStr::from_ptr(gumbel_status_str(s)) }
            .to_str()
            .unwrap()
            .to_owned()
    };
    let mut seen = BTreeSet::new();
    for s in 0..=GUMBEL_STATUS_INVALID_VALUE {
        let t = text(s);
        assert!(!t.is_empty() && t != "unknown status", "status {s}: {t:?}");
        assert!(seen.insert(t), "two statuses share a text");
    }
    for s in [GUMBEL_STATUS_INVALID_VALUE + 1, 100, 1 << 31, u32::MAX] {
        assert_eq!(text(s), "unknown status");
    }
}

#[test]
fn last_error_buffers_of_every_size() {
    let mut y = [0.0f32; 3];
    let s = unsafe { gumbel_softmax_f32(null(), y.as_mut_ptr(), 1, 3, 1, 1.0, false, 0, 0) };
    assert_eq!(s, GUMBEL_STATUS_NULL_POINTER);
    let full = unsafe { gumbel_last_error(null_mut(), 0) };
    assert!(full > 4);
    assert_eq!(
        unsafe { gumbel_last_error(null_mut(), 100) },
        full,
        "NULL buf with cap > 0"
    );
    for cap in [1usize, 2, 5, full, full + 1, full + 10] {
        let mut buf = vec![0x55u8 as std::ffi::c_char; cap + GUARD];
        let n = unsafe { gumbel_last_error(buf.as_mut_ptr(), cap) };
        assert_eq!(n, full);
        let written = (full + 1).min(cap);
        assert_eq!(buf[written - 1], 0, "cap {cap}: not NUL-terminated");
        assert!(
            buf[cap..].iter().all(|&b| b == 0x55),
            "cap {cap}: wrote past cap"
        );
        assert!(
            buf[..written - 1].iter().all(|&b| b != 0),
            "cap {cap}: early NUL"
        );
    }
    // cap == 0 with a real buffer writes nothing.
    let mut buf = [0x55u8 as std::ffi::c_char; 4];
    assert_eq!(unsafe { gumbel_last_error(buf.as_mut_ptr(), 0) }, full);
    assert!(buf.iter().all(|&b| b == 0x55));
}

#[test]
fn version_threads_and_streams_edges() {
    let v = unsafe { CStr::from_ptr(gumbel_version()) }
        .to_str()
        .unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    let _pool = common::pool_size_lock();
    let before = gumbel_num_threads();
    assert!(before >= 1);
    let limit = gumbel::max_threads();
    for bad in [limit + 1, 4096.max(limit + 1), usize::MAX] {
        let s = gumbel_set_num_threads(bad);
        assert_eq!(s, GUMBEL_STATUS_INVALID_PARAMETER);
        assert!(
            last_error().contains(&format!("at most {limit} ")),
            "{}",
            last_error()
        );
        assert_eq!(
            gumbel_num_threads(),
            before,
            "a rejected setting changed the pool"
        );
    }
    assert_eq!(gumbel_set_num_threads(0), GUMBEL_STATUS_OK);
    assert!(gumbel_num_threads() >= 1);
    // gumbel_streams has no error status: 0 for empty, classes == 0 and
    // overflowing shapes (documented).
    assert_eq!(gumbel_streams(0, 5, 5), 0);
    assert_eq!(gumbel_streams(5, 5, 0), 0);
    assert_eq!(gumbel_streams(5, 0, 5), 0);
    assert_eq!(gumbel_streams(usize::MAX, usize::MAX, usize::MAX), 0);
    assert_eq!(gumbel_streams(usize::MAX, 2, 1), 0);
    assert_eq!(gumbel_streams(1 << 33, 1 << 31, 4), 0);
    // One row of 16384 * 3 + 1 classes: 4 segments.
    assert_eq!(gumbel_streams(1, 3 * 16384 + 1, 1), 4);
}

#[test]
fn schedules_reject_every_bad_argument() {
    let mut rep = Report::default();
    let bad_taus = [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    type Sched = unsafe extern "C" fn(f64, f64, u64, u64, *mut f64) -> gumbel_status;
    let two: [(&str, Sched); 2] = [
        ("gumbel_schedule_linear", gumbel_schedule_linear),
        ("gumbel_schedule_cosine", gumbel_schedule_cosine),
    ];
    for (name, f) in two {
        let mut out = Guarded::<f64>::new(1);
        rep.status(
            &format!("{name} good"),
            unsafe { f(1.0, 0.5, 3, 10, out.ptr()) },
            GUMBEL_STATUS_OK,
            &[],
        );
        rep.check(out.guards_intact(), || format!("{name}: wrote outside"));
        for &t in &bad_taus {
            for (pname, a, b) in [("tau0", t, 0.5), ("tau_end", 1.0, t)] {
                let mut out = Guarded::<f64>::new(1);
                rep.status(
                    &format!("{name} {pname} = {t}"),
                    unsafe { f(a, b, 3, 10, out.ptr()) },
                    GUMBEL_STATUS_INVALID_TEMPERATURE,
                    &[pname],
                );
                rep.check(out.untouched(), || format!("{name} {pname}: written"));
            }
        }
        let mut out = Guarded::<f64>::new(1);
        rep.status(
            &format!("{name} total_steps 0"),
            unsafe { f(1.0, 0.5, 3, 0, out.ptr()) },
            GUMBEL_STATUS_INVALID_PARAMETER,
            &["total_steps"],
        );
        rep.check(out.untouched(), || format!("{name} total_steps: written"));
        rep.status(
            &format!("{name} NULL"),
            unsafe { f(1.0, 0.5, 3, 10, null_mut()) },
            GUMBEL_STATUS_NULL_POINTER,
            &["out"],
        );
        let p = (out.ptr() as *mut u8).wrapping_add(1) as *mut f64;
        rep.status(
            &format!("{name} misaligned"),
            unsafe { f(1.0, 0.5, 3, 10, p) },
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["out"],
        );
        rep.check(out.untouched(), || {
            format!("{name} pointer errors: written")
        });
        let mut out = Guarded::<f64>::new(1);
        rep.status(
            &format!("{name} subnormal"),
            unsafe { f(1.0, f64::from_bits(1), u64::MAX, 10, out.ptr()) },
            GUMBEL_STATUS_OK,
            &[],
        );
        rep.check(out.body()[0] > 0.0, || {
            format!("{name} subnormal end: {:?}", out.body())
        });
    }
    let e = |a: f64, r: f64, m: f64, every: u64, o: *mut f64| unsafe {
        gumbel_schedule_exponential(a, r, m, 7, every, o)
    };
    let name = "gumbel_schedule_exponential";
    let mut out = Guarded::<f64>::new(1);
    rep.status(
        &format!("{name} good"),
        e(1.0, 0.1, 0.5, 2, out.ptr()),
        GUMBEL_STATUS_OK,
        &[],
    );
    for &t in &bad_taus {
        let mut out = Guarded::<f64>::new(1);
        rep.status(
            &format!("{name} tau0 {t}"),
            e(t, 0.1, 0.5, 2, out.ptr()),
            GUMBEL_STATUS_INVALID_TEMPERATURE,
            &["tau0"],
        );
        rep.status(
            &format!("{name} tau_min {t}"),
            e(1.0, 0.1, t, 2, out.ptr()),
            GUMBEL_STATUS_INVALID_TEMPERATURE,
            &["tau_min"],
        );
        rep.check(out.untouched(), || format!("{name} tau {t}: written"));
    }
    let mut out = Guarded::<f64>::new(1);
    rep.status(
        &format!("{name} tau_min > tau0"),
        e(1.0, 0.1, 2.0, 2, out.ptr()),
        GUMBEL_STATUS_INVALID_TEMPERATURE,
        &["tau_min"],
    );
    for r in [-1.0, f64::NAN, f64::INFINITY] {
        rep.status(
            &format!("{name} rate {r}"),
            e(1.0, r, 0.5, 2, out.ptr()),
            GUMBEL_STATUS_INVALID_PARAMETER,
            &["rate"],
        );
    }
    rep.status(
        &format!("{name} every 0"),
        e(1.0, 0.1, 0.5, 0, out.ptr()),
        GUMBEL_STATUS_INVALID_PARAMETER,
        &["every"],
    );
    rep.status(
        &format!("{name} NULL"),
        e(1.0, 0.1, 0.5, 2, null_mut()),
        GUMBEL_STATUS_NULL_POINTER,
        &["out"],
    );
    let p = (out.ptr() as *mut u8).wrapping_add(1) as *mut f64;
    rep.status(
        &format!("{name} misaligned"),
        e(1.0, 0.1, 0.5, 2, p),
        GUMBEL_STATUS_MISALIGNED_POINTER,
        &["out"],
    );
    rep.check(out.untouched(), || format!("{name}: written on error"));
    rep.finish();
}

/// The temperature gradients of 16-bit tensors write floats, which the
/// rows table (outputs of the tensors' type) does not hold: each bad input
/// by hand, with the status of the `f32` entry and the output untouched.
#[test]
fn half_grad_tau_functions() {
    type Scalar = unsafe extern "C" fn(
        *const u16,
        *const u16,
        usize,
        usize,
        usize,
        f32,
        *mut f32,
    ) -> gumbel_status;
    type PerRow = unsafe extern "C" fn(
        *const u16,
        *const u16,
        usize,
        usize,
        usize,
        *const f32,
        *mut f32,
    ) -> gumbel_status;
    let scalar: [(&str, Scalar, fn(f32) -> u16); 2] = [
        (
            "gumbel_softmax_grad_tau_bf16",
            gumbel_softmax_grad_tau_bf16,
            |x| Bf16::from_f32(x).to_bits(),
        ),
        (
            "gumbel_softmax_grad_tau_f16",
            gumbel_softmax_grad_tau_f16,
            |x| F16::from_f32(x).to_bits(),
        ),
    ];
    let per_row: [(&str, PerRow, fn(f32) -> u16); 2] = [
        (
            "gumbel_softmax_grad_tau_per_row_bf16",
            gumbel_softmax_grad_tau_per_row_bf16,
            |x| Bf16::from_f32(x).to_bits(),
        ),
        (
            "gumbel_softmax_grad_tau_per_row_f16",
            gumbel_softmax_grad_tau_per_row_f16,
            |x| F16::from_f32(x).to_bits(),
        ),
    ];
    const S: f32 = 12345.0;
    let mut rep = Report::default();
    for (i, &(name, f, half)) in scalar.iter().enumerate() {
        let (_, g, _) = per_row[i];
        let y = vec![half(1.0 / 3.0); ELEMS];
        let v = vec![half(0.25); ELEMS];
        let taus = vec![0.7f32; ROWS];
        let mut bad_y = y.clone();
        bad_y[1] = half(f32::NAN);
        let mut bad_v = v.clone();
        bad_v[2] = half(f32::INFINITY);
        let mut bad_tau = taus.clone();
        bad_tau[1] = 0.0;
        let (yp, vp) = (y.as_ptr(), v.as_ptr());
        // (label, y, v, tau, per-row tau, status, words)
        let cases: Vec<(
            &str,
            *const u16,
            *const u16,
            f32,
            *const f32,
            gumbel_status,
            &[&str],
        )> = vec![
            ("good", yp, vp, 0.7, taus.as_ptr(), GUMBEL_STATUS_OK, &[]),
            (
                "NULL y_soft",
                null(),
                vp,
                0.7,
                taus.as_ptr(),
                GUMBEL_STATUS_NULL_POINTER,
                &["y_soft", "NULL"],
            ),
            (
                "NULL grad_out",
                yp,
                null(),
                0.7,
                taus.as_ptr(),
                GUMBEL_STATUS_NULL_POINTER,
                &["grad_out", "NULL"],
            ),
            (
                "misaligned y_soft",
                (yp as *const u8).wrapping_add(1).cast(),
                vp,
                0.7,
                taus.as_ptr(),
                GUMBEL_STATUS_MISALIGNED_POINTER,
                &["y_soft", "align"],
            ),
            (
                "NaN y_soft",
                bad_y.as_ptr(),
                vp,
                0.7,
                taus.as_ptr(),
                GUMBEL_STATUS_INVALID_VALUE,
                &["y_soft"],
            ),
            (
                "inf grad_out",
                yp,
                bad_v.as_ptr(),
                0.7,
                taus.as_ptr(),
                GUMBEL_STATUS_INVALID_VALUE,
                &["grad_out"],
            ),
            (
                "bad tau",
                yp,
                vp,
                0.0,
                bad_tau.as_ptr(),
                GUMBEL_STATUS_INVALID_TEMPERATURE,
                &["tau"],
            ),
        ];
        for (label, yy, vv, t, tp, want, words) in cases {
            let mut out = [S; 3];
            let st = unsafe { f(yy, vv, OUTER, CLASSES, INNER, t, out.as_mut_ptr().add(1)) };
            rep.status(&format!("{name} {label}"), st, want, words);
            rep.check(
                out[0] == S && out[2] == S && (want == GUMBEL_STATUS_OK) != (out[1] == S),
                || format!("{name} {label}: output {out:?}"),
            );
            let mut out = [S; ROWS + 2];
            let st = unsafe { g(yy, vv, OUTER, CLASSES, INNER, tp, out.as_mut_ptr().add(1)) };
            let name = per_row[i].0;
            rep.status(&format!("{name} {label}"), st, want, words);
            rep.check(
                out[0] == S
                    && out[ROWS + 1] == S
                    && (want == GUMBEL_STATUS_OK) != out[1..=ROWS].iter().all(|&x| x == S),
                || format!("{name} {label}: output {out:?}"),
            );
        }
        // NULL and misaligned outputs, NULL per-row tau, overlap, overflow.
        let st = unsafe { f(yp, vp, OUTER, CLASSES, INNER, 0.7, null_mut()) };
        rep.status(
            &format!("{name} NULL grad_tau"),
            st,
            GUMBEL_STATUS_NULL_POINTER,
            &["grad_tau", "NULL"],
        );
        let mut out = [S; 3];
        let bent = (out.as_mut_ptr() as *mut u8).wrapping_add(1).cast();
        let st = unsafe { f(yp, vp, OUTER, CLASSES, INNER, 0.7, bent) };
        rep.status(
            &format!("{name} misaligned grad_tau"),
            st,
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["grad_tau", "align"],
        );
        let st = unsafe { g(yp, vp, OUTER, CLASSES, INNER, null(), out.as_mut_ptr()) };
        rep.status(
            &format!("{} NULL tau", per_row[i].0),
            st,
            GUMBEL_STATUS_NULL_POINTER,
            &["tau", "NULL"],
        );
        let mut shared = vec![0.7f32; ROWS];
        let st = unsafe {
            g(
                yp,
                vp,
                OUTER,
                CLASSES,
                INNER,
                shared.as_ptr(),
                shared.as_mut_ptr(),
            )
        };
        rep.status(
            &format!("{} grad_tau overlapping tau", per_row[i].0),
            st,
            GUMBEL_STATUS_OVERLAP,
            &["tau", "overlap"],
        );
        let mut over = vec![half(0.25); ELEMS];
        let st = unsafe {
            f(
                over.as_ptr(),
                vp,
                OUTER,
                CLASSES,
                INNER,
                0.7,
                over.as_mut_ptr().cast(),
            )
        };
        rep.status(
            &format!("{name} grad_tau overlapping y_soft"),
            st,
            GUMBEL_STATUS_OVERLAP,
            &["y_soft", "overlap"],
        );
        let st = unsafe { f(yp, vp, OUTER, 0, INNER, 0.7, out.as_mut_ptr()) };
        rep.status(
            &format!("{name} classes == 0"),
            st,
            GUMBEL_STATUS_INVALID_SHAPE,
            &["classes"],
        );
        let st = unsafe { f(yp, vp, usize::MAX, 2, 1, 0.7, out.as_mut_ptr()) };
        rep.status(
            &format!("{name} overflow"),
            st,
            GUMBEL_STATUS_SIZE_OVERFLOW,
            &["size_t"],
        );
    }
    rep.finish();
}

/// The keyed entries take `(rows, classes)` matrices and two key arrays,
/// which the rows table does not hold: each bad argument by hand, with its
/// status, a message naming the argument, and the output untouched.
#[test]
fn keyed_functions() {
    const R: usize = 3;
    const K: usize = 4;
    let good = vec![0.5f32; R * K];
    let good64 = vec![0.5f64; R * K];
    let seeds = [1u64; R];
    let offsets = [2u64; R];
    let mut nan = good.clone();
    nan[5] = f32::NAN;
    let mut masked = good.clone();
    masked[K..2 * K].fill(f32::NEG_INFINITY);
    let (l, s, o) = (good.as_ptr(), seeds.as_ptr(), offsets.as_ptr());
    // (label, logits, rows, classes, tau, seeds, offsets, status, words)
    type Case<'a> = (
        &'a str,
        *const f32,
        usize,
        usize,
        f32,
        *const u64,
        *const u64,
        gumbel_status,
        &'a [&'a str],
    );
    let cases: Vec<Case> = vec![
        ("good", l, R, K, 1.0, s, o, GUMBEL_STATUS_OK, &[]),
        (
            "NULL logits",
            null(),
            R,
            K,
            1.0,
            s,
            o,
            GUMBEL_STATUS_NULL_POINTER,
            &["logits", "NULL"],
        ),
        (
            "NULL seeds",
            l,
            R,
            K,
            1.0,
            null(),
            o,
            GUMBEL_STATUS_NULL_POINTER,
            &["seeds", "NULL"],
        ),
        (
            "NULL offsets",
            l,
            R,
            K,
            1.0,
            s,
            null(),
            GUMBEL_STATUS_NULL_POINTER,
            &["offsets", "NULL"],
        ),
        (
            "misaligned seeds",
            l,
            R,
            K,
            1.0,
            (s as *const u8).wrapping_add(1).cast(),
            o,
            GUMBEL_STATUS_MISALIGNED_POINTER,
            &["seeds", "align"],
        ),
        (
            "classes 0",
            l,
            R,
            0,
            1.0,
            s,
            o,
            GUMBEL_STATUS_INVALID_SHAPE,
            &["classes"],
        ),
        (
            "overflow",
            l,
            usize::MAX / 2,
            3,
            1.0,
            s,
            o,
            GUMBEL_STATUS_SIZE_OVERFLOW,
            &[],
        ),
        (
            "NaN logit",
            nan.as_ptr(),
            R,
            K,
            1.0,
            s,
            o,
            GUMBEL_STATUS_INVALID_LOGITS,
            &["row 1", "class 1"],
        ),
        (
            "masked row",
            masked.as_ptr(),
            R,
            K,
            1.0,
            s,
            o,
            GUMBEL_STATUS_ALL_MASKED,
            &["row 1"],
        ),
        (
            "empty with NULLs",
            null(),
            0,
            K,
            1.0,
            null(),
            null(),
            GUMBEL_STATUS_OK,
            &[],
        ),
    ];
    let mut rep = Report::default();
    for (label, logits, rows, classes, tau, seeds, offsets, want, words) in cases {
        let mut idx = vec![IDX_SENTINEL; R + 2 * GUARD];
        let st = unsafe {
            gumbel_sample_keyed_f32(
                logits,
                idx.as_mut_ptr().add(GUARD),
                rows,
                classes,
                seeds,
                offsets,
            )
        };
        rep.status(&format!("gumbel_sample_keyed_f32 {label}"), st, want, words);
        let untouched = idx.iter().all(|&v| v == IDX_SENTINEL);
        rep.check((want == GUMBEL_STATUS_OK && rows > 0) != untouched, || {
            format!("gumbel_sample_keyed_f32 {label}: indices written {idx:?}")
        });
        for hard in [false, true] {
            let mut out = Guarded::<f32>::new(R * K);
            let st = unsafe {
                gumbel_softmax_keyed_f32(
                    logits,
                    out.ptr(),
                    rows,
                    classes,
                    tau,
                    hard,
                    seeds,
                    offsets,
                )
            };
            rep.status(
                &format!("gumbel_softmax_keyed_f32 {label}"),
                st,
                want,
                words,
            );
            rep.check(out.guards_intact(), || {
                format!("gumbel_softmax_keyed_f32 {label}: guards")
            });
            rep.check(
                (want == GUMBEL_STATUS_OK && rows > 0) != out.untouched(),
                || {
                    format!(
                        "gumbel_softmax_keyed_f32 {label}: out written on error or not on success"
                    )
                },
            );
        }
    }
    // Temperatures, overlaps and the f64 entries.
    for tau in [0.0f64, -1.0, f64::NAN, f64::INFINITY] {
        let mut out = Guarded::<f64>::new(R * K);
        let st =
            unsafe { gumbel_softmax_keyed_f64(good64.as_ptr(), out.ptr(), R, K, tau, false, s, o) };
        rep.status(
            &format!("gumbel_softmax_keyed_f64 tau {tau}"),
            st,
            GUMBEL_STATUS_INVALID_TEMPERATURE,
            &["tau"],
        );
        rep.check(out.untouched(), || {
            format!("gumbel_softmax_keyed_f64 tau {tau}: out written")
        });
        let mut out = Guarded::<f32>::new(R * K);
        let st = unsafe { gumbel_softmax_keyed_f32(l, out.ptr(), R, K, tau as f32, true, s, o) };
        rep.status(
            &format!("gumbel_softmax_keyed_f32 hard tau {tau}"),
            st,
            GUMBEL_STATUS_INVALID_TEMPERATURE,
            &["tau"],
        );
    }
    let mut keys = [0u64; 2 * R];
    let st = unsafe {
        gumbel_sample_keyed_f64(
            good64.as_ptr(),
            keys.as_mut_ptr().cast(),
            R,
            K,
            keys.as_ptr(),
            o,
        )
    };
    rep.status(
        "gumbel_sample_keyed_f64 indices over seeds",
        st,
        GUMBEL_STATUS_OVERLAP,
        &["seeds", "indices", "overlap"],
    );
    let mut buf = vec![0.5f64; R * K + R];
    let st = unsafe {
        gumbel_softmax_keyed_f64(
            buf.as_ptr(),
            buf.as_mut_ptr().add(R),
            R,
            K,
            1.0,
            false,
            s,
            o,
        )
    };
    rep.status(
        "gumbel_softmax_keyed_f64 out over logits",
        st,
        GUMBEL_STATUS_OVERLAP,
        &["logits", "out", "overlap"],
    );
    let st = unsafe {
        gumbel_softmax_keyed_f64(
            good64.as_ptr(),
            buf.as_mut_ptr(),
            R,
            K,
            1.0,
            false,
            s,
            buf.as_ptr().cast(),
        )
    };
    rep.status(
        "gumbel_softmax_keyed_f64 out over offsets",
        st,
        GUMBEL_STATUS_OVERLAP,
        &["offsets", "out", "overlap"],
    );
    let mut idx = [IDX_SENTINEL; R];
    let st = unsafe { gumbel_sample_keyed_f64(good64.as_ptr(), idx.as_mut_ptr(), R, K, null(), o) };
    rep.status(
        "gumbel_sample_keyed_f64 NULL seeds",
        st,
        GUMBEL_STATUS_NULL_POINTER,
        &["seeds", "NULL"],
    );
    rep.check(idx == [IDX_SENTINEL; R], || {
        "gumbel_sample_keyed_f64: indices written".into()
    });
    rep.finish();
}

/// The top-k entries write `k` indices per row and take `k`: each bad
/// argument by hand, with its status, a message naming the argument, and
/// the output untouched.
#[test]
fn top_k_functions() {
    const R: usize = 2;
    const K: usize = 4;
    let good = [0.5f64, 0.0, -1.0, 2.0, 0.1, 0.2, 0.3, f64::NEG_INFINITY];
    let mut nan = good;
    nan[2] = f64::NAN;
    let seeds = [1u64; R];
    let offsets = [2u64; R];
    let mut rep = Report::default();
    // (label, logits, classes, k, status, words)
    let cases: Vec<(&str, *const f64, usize, usize, gumbel_status, &[&str])> = vec![
        ("good", good.as_ptr(), K, 2, GUMBEL_STATUS_OK, &[]),
        (
            "NULL logits",
            null(),
            K,
            2,
            GUMBEL_STATUS_NULL_POINTER,
            &["logits", "NULL"],
        ),
        (
            "k above classes",
            good.as_ptr(),
            K,
            5,
            GUMBEL_STATUS_INVALID_PARAMETER,
            &["k"],
        ),
        (
            "k above unmasked",
            good.as_ptr(),
            K,
            4,
            GUMBEL_STATUS_INVALID_PARAMETER,
            &["row 1", "unmasked"],
        ),
        (
            "NaN logit",
            nan.as_ptr(),
            K,
            2,
            GUMBEL_STATUS_INVALID_LOGITS,
            &["row 0", "class 2"],
        ),
        (
            "classes 0",
            good.as_ptr(),
            0,
            0,
            GUMBEL_STATUS_INVALID_SHAPE,
            &["classes"],
        ),
    ];
    for (label, logits, classes, k, want, words) in cases {
        let mut idx = vec![IDX_SENTINEL; R * 5 + 2 * GUARD];
        let p = unsafe { idx.as_mut_ptr().add(GUARD) };
        let st = unsafe { gumbel_top_k_f64(logits, p, R, classes, 1, k, 1, 2) };
        rep.status(&format!("gumbel_top_k_f64 {label}"), st, want, words);
        let written = idx.iter().filter(|&&v| v != IDX_SENTINEL).count();
        rep.check(
            written == if want == GUMBEL_STATUS_OK { R * k } else { 0 },
            || format!("gumbel_top_k_f64 {label}: {written} indices written"),
        );
        let mut idx = vec![IDX_SENTINEL; R * 5];
        let st = unsafe {
            gumbel_top_k_keyed_f64(
                logits,
                idx.as_mut_ptr(),
                R,
                classes,
                k,
                seeds.as_ptr(),
                offsets.as_ptr(),
            )
        };
        rep.status(&format!("gumbel_top_k_keyed_f64 {label}"), st, want, words);
    }
    let mut idx = [IDX_SENTINEL; R * 2];
    let st = unsafe { gumbel_top_k_f32(good.as_ptr().cast(), null_mut(), R, K, 1, 2, 1, 2) };
    rep.status(
        "gumbel_top_k_f32 NULL indices",
        st,
        GUMBEL_STATUS_NULL_POINTER,
        &["indices", "NULL"],
    );
    let st = unsafe { gumbel_top_k_f32(null(), null_mut(), R, K, 1, 0, 1, 2) };
    rep.status(
        "gumbel_top_k_f32 k 0 NULL indices",
        st,
        GUMBEL_STATUS_NULL_POINTER,
        &["logits"],
    );
    let st = unsafe {
        gumbel_top_k_keyed_f32(
            good.as_ptr().cast(),
            idx.as_mut_ptr(),
            R,
            K,
            2,
            null(),
            offsets.as_ptr(),
        )
    };
    rep.status(
        "gumbel_top_k_keyed_f32 NULL seeds",
        st,
        GUMBEL_STATUS_NULL_POINTER,
        &["seeds", "NULL"],
    );
    let st = unsafe {
        gumbel_top_k_keyed_f32(
            good.as_ptr().cast(),
            idx.as_mut_ptr(),
            R,
            K,
            2,
            seeds.as_ptr(),
            idx.as_ptr().cast(),
        )
    };
    rep.status(
        "gumbel_top_k_keyed_f32 indices over offsets",
        st,
        GUMBEL_STATUS_OVERLAP,
        &["offsets", "overlap"],
    );
    let st =
        unsafe { gumbel_top_k_f64(good.as_ptr(), good.as_ptr() as *mut i64, R, K, 1, 2, 1, 2) };
    rep.status(
        "gumbel_top_k_f64 indices over logits",
        st,
        GUMBEL_STATUS_OVERLAP,
        &["logits", "indices", "overlap"],
    );
    let st = unsafe {
        gumbel_top_k_f64(
            good.as_ptr(),
            idx.as_mut_ptr(),
            usize::MAX / 2,
            3,
            1,
            2,
            1,
            2,
        )
    };
    rep.status(
        "gumbel_top_k_f64 overflow",
        st,
        GUMBEL_STATUS_SIZE_OVERFLOW,
        &[],
    );
    rep.check(idx == [IDX_SENTINEL; R * 2], || {
        "gumbel_top_k: indices written on error".into()
    });
    // The Plackett-Luce log-probability.
    let chosen = [3i64, 0, 2, 0];
    let out_of_range = [0i64, 4, 0, 1];
    let repeated = [0i64, 1, 2, 2];
    let lp_cases: Vec<(&str, *const f64, *const i64, usize, gumbel_status, &[&str])> = vec![
        (
            "good",
            good.as_ptr(),
            chosen.as_ptr(),
            2,
            GUMBEL_STATUS_OK,
            &[],
        ),
        (
            "NULL indices",
            good.as_ptr(),
            null(),
            2,
            GUMBEL_STATUS_NULL_POINTER,
            &["indices", "NULL"],
        ),
        (
            "k above classes",
            good.as_ptr(),
            chosen.as_ptr(),
            5,
            GUMBEL_STATUS_INVALID_PARAMETER,
            &["k"],
        ),
        (
            "index out of range",
            good.as_ptr(),
            out_of_range.as_ptr(),
            2,
            GUMBEL_STATUS_INVALID_VALUE,
            &["row 0", "rank 1"],
        ),
        (
            "repeated class",
            good.as_ptr(),
            repeated.as_ptr(),
            2,
            GUMBEL_STATUS_INVALID_VALUE,
            &["row 1", "repeats"],
        ),
        (
            "NaN logit",
            nan.as_ptr(),
            chosen.as_ptr(),
            2,
            GUMBEL_STATUS_INVALID_LOGITS,
            &["logit"],
        ),
    ];
    for (label, logits, indices, k, want, words) in lp_cases {
        let mut out = Guarded::<f64>::new(R);
        let st =
            unsafe { gumbel_plackett_luce_log_prob_f64(logits, indices, out.ptr(), R, K, 1, k) };
        rep.status(
            &format!("gumbel_plackett_luce_log_prob_f64 {label}"),
            st,
            want,
            words,
        );
        rep.check(
            out.guards_intact() && ((want == GUMBEL_STATUS_OK) != out.untouched()),
            || {
                format!(
                    "gumbel_plackett_luce_log_prob_f64 {label}: out {:?}",
                    out.body()
                )
            },
        );
        let g32: Vec<f32> = (0..8).map(|j| unsafe { *logits.add(j) } as f32).collect();
        let mut out = Guarded::<f32>::new(R);
        let st = unsafe {
            gumbel_plackett_luce_log_prob_f32(g32.as_ptr(), indices, out.ptr(), R, K, 1, k)
        };
        rep.status(
            &format!("gumbel_plackett_luce_log_prob_f32 {label}"),
            st,
            want,
            words,
        );
    }
    let mut buf = [0.0f64; 4];
    let st = unsafe {
        gumbel_plackett_luce_log_prob_f64(
            good.as_ptr(),
            buf.as_ptr().cast(),
            buf.as_mut_ptr(),
            R,
            K,
            1,
            2,
        )
    };
    rep.status(
        "gumbel_plackett_luce_log_prob_f64 out over indices",
        st,
        GUMBEL_STATUS_OVERLAP,
        &["indices", "out", "overlap"],
    );
    rep.finish();
}
