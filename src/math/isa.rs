//! Instruction-set tiers of the lane-parallel kernels, detected once.
//!
//! On x86-64 the tiers are baseline (SSE2), AVX2 (with FMA) and AVX-512 (F,
//! BW, DQ, VL). Rust never contracts `a * b + c` into an FMA on its own; the
//! kernels that use FMA (the noise) ask for it through [`dispatch_fma`],
//! which gives them the instruction or, on baseline x86-64, a correctly
//! rounded software FMA ([`crate::math::fma`]) with the same results. Other architectures have one tier, their
//! baseline (NEON on aarch64). The environment variable [`ISA_ENV`] caps the
//! tier (`baseline`, `avx2` or `avx512`), so any tier the CPU has can be
//! tested; outputs are the same bits on every tier. A value that names no
//! tier, or a tier this CPU lacks, is reported once per process on stderr
//! and the CPU's best tier is used.
//!
//! [`dispatch`] runs a closure compiled for the current tier: the closure's
//! body, and every `#[inline(always)]` function it calls, is inlined into one
//! `#[target_feature]` function per tier, so a generic kernel body written as
//! plain loops is vectorised for each tier without intrinsics.

use std::ffi::OsStr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Once;

use crate::error::report_setting;
use crate::math::fma::{self, Fma};

/// The environment variable that caps the instruction-set tier.
pub(crate) const ISA_ENV: &str = "GUMBEL_ISA";

/// An instruction-set tier, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Tier {
    /// The target's baseline (SSE2 on x86-64, NEON on aarch64).
    Baseline = 1,
    /// AVX2 and FMA (x86-64).
    Avx2 = 2,
    /// AVX-512 F, BW, DQ and VL (x86-64).
    Avx512 = 3,
}

/// The tier in use, 0 until first detected.
static CURRENT: AtomicU8 = AtomicU8::new(0);

impl Tier {
    /// All tiers, lowest first.
    pub(crate) const ALL: [Tier; 3] = [Tier::Baseline, Tier::Avx2, Tier::Avx512];

    /// Whether this CPU can run kernels of this tier.
    pub(crate) fn available(self) -> bool {
        match self {
            Tier::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            Tier::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Tier::Avx512 => {
                is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512dq")
                    && is_x86_feature_detected!("avx512vl")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The tier's name in [`ISA_ENV`].
    pub(crate) fn name(self) -> &'static str {
        match self {
            Tier::Baseline => "baseline",
            Tier::Avx2 => "avx2",
            Tier::Avx512 => "avx512",
        }
    }

    /// The tier to run on a CPU whose best tier is `best`, given the setting
    /// of [`ISA_ENV`]: the named tier when the CPU has it, else `best`, with
    /// why the setting was not followed.
    fn capped(setting: Option<&OsStr>, best: Tier) -> (Tier, Option<String>) {
        let text = setting.map(|s| s.to_str().map(str::trim));
        let named = match text {
            None | Some(Some("")) => return (best, None),
            Some(t) => Tier::ALL.into_iter().find(|tier| Some(tier.name()) == t),
        };
        match named {
            Some(tier) if tier <= best => (tier, None),
            Some(tier) => (
                best,
                Some(format!(
                    "{ISA_ENV}={} names a tier this CPU lacks; using {}",
                    tier.name(),
                    best.name()
                )),
            ),
            None => (
                best,
                Some(format!(
                    "ignoring {ISA_ENV}={:?}: expected baseline, avx2 or avx512; using {}",
                    setting.unwrap_or_default(),
                    best.name()
                )),
            ),
        }
    }

    /// The highest available tier, capped by [`ISA_ENV`]; a setting that
    /// cannot be followed is reported on stderr, once per process.
    fn detect() -> Tier {
        static REPORT: Once = Once::new();
        let best = Tier::ALL
            .into_iter()
            .filter(|t| t.available())
            .max()
            .unwrap_or(Tier::Baseline);
        let (tier, problem) = Tier::capped(std::env::var_os(ISA_ENV).as_deref(), best);
        if let Some(problem) = problem {
            REPORT.call_once(|| report_setting(&problem));
        }
        tier
    }

    /// The tier the kernels run on: detected on first use, then cached.
    #[inline]
    pub(crate) fn current() -> Tier {
        match CURRENT.load(Ordering::Relaxed) {
            1 => Tier::Baseline,
            2 => Tier::Avx2,
            3 => Tier::Avx512,
            _ => {
                let tier = Tier::detect();
                CURRENT.store(tier as u8, Ordering::Relaxed);
                tier
            }
        }
    }
}

/// Runs `body` compiled for the current tier ([`Tier::current`]).
///
/// `body` must be inlinable (a closure that calls `#[inline(always)]`
/// functions): it is inlined into the tier's `#[target_feature]` function.
#[inline(always)]
pub(crate) fn dispatch<R>(body: impl FnOnce() -> R) -> R {
    // SAFETY: `Tier::current` returns a tier only if the CPU has it.
    unsafe { run_unchecked(Tier::current(), body) }
}

/// A kernel generic over the FMA of the tier it runs on: the form of
/// [`dispatch_fma`]'s argument (a closure cannot be generic).
pub(crate) trait FmaKernel {
    /// What the kernel returns.
    type Output;
    /// Runs the kernel with FMA `M`; must be `#[inline(always)]`, so that it
    /// is compiled into each tier's function.
    fn run<M: Fma>(self) -> Self::Output;
}

/// Runs `kernel` compiled for the current tier ([`Tier::current`]), with the
/// tier's FMA: the instruction on AVX2, AVX-512 and aarch64, the software
/// version ([`fma::Software`]) on baseline x86-64. The same bits on every
/// tier.
#[inline(always)]
pub(crate) fn dispatch_fma<K: FmaKernel>(kernel: K) -> K::Output {
    // SAFETY: `Tier::current` returns a tier only if the CPU has it.
    unsafe { run_fma_unchecked(Tier::current(), kernel) }
}

/// `dispatch_with_fma!(M => body)`: runs the expression `body` compiled for the
/// current tier ([`Tier::current`]) with the type `M` naming the tier's
/// [`Fma`] (as [`dispatch_fma`], for bodies that are closures rather than
/// [`FmaKernel`]s). `body` must call only `#[inline(always)]` code.
macro_rules! dispatch_with_fma {
    ($m:ident => $body:expr) => {
        $crate::math::isa::on_tier_with_fma!($crate::math::isa::Tier::current(), $m => $body)
    };
}
pub(crate) use dispatch_with_fma;

/// `on_tier_with_fma!(tier, M => body)`: `body` compiled for `tier` with
/// `M` its [`Fma`]. Safe only for a tier that this CPU has: reached
/// through [`dispatch_with_fma!`] (the current tier) or, in tests, after
/// checking [`Tier::available`].
macro_rules! on_tier_with_fma {
    ($tier:expr, $m:ident => $body:expr) => {
        match $tier {
            // SAFETY: the tier is available (the callers' contract).
            #[cfg(target_arch = "x86_64")]
            $crate::math::isa::Tier::Avx512 => unsafe {
                $crate::math::isa::run_avx512(
                    #[inline(always)]
                    || {
                        type $m = $crate::math::fma::Hardware;
                        $body
                    },
                )
            },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            $crate::math::isa::Tier::Avx2 => unsafe {
                $crate::math::isa::run_avx2(
                    #[inline(always)]
                    || {
                        type $m = $crate::math::fma::Hardware;
                        $body
                    },
                )
            },
            _ => {
                type $m = $crate::math::fma::Baseline;
                $body
            }
        }
    };
}
pub(crate) use on_tier_with_fma;

/// Runs `kernel` compiled for `tier` with its FMA; panics if this CPU lacks
/// `tier` (for tests that compare the tiers).
#[cfg(test)]
pub(crate) fn run_fma_on<K: FmaKernel>(tier: Tier, kernel: K) -> K::Output {
    assert!(tier.available(), "{tier:?} is not available");
    // SAFETY: the tier is available (asserted).
    unsafe { run_fma_unchecked(tier, kernel) }
}

/// Runs `kernel` compiled for `tier` with its FMA.
///
/// # Safety
/// The CPU must support `tier`.
#[inline(always)]
unsafe fn run_fma_unchecked<K: FmaKernel>(tier: Tier, kernel: K) -> K::Output {
    match tier {
        // SAFETY: the caller's contract; both tiers have FMA.
        #[cfg(target_arch = "x86_64")]
        Tier::Avx512 => unsafe { run_avx512(|| kernel.run::<fma::Hardware>()) },
        // SAFETY: the caller's contract.
        #[cfg(target_arch = "x86_64")]
        Tier::Avx2 => unsafe { run_avx2(|| kernel.run::<fma::Hardware>()) },
        _ => kernel.run::<fma::Baseline>(),
    }
}

/// Runs `body` compiled for `tier`; panics if this CPU lacks `tier` (for
/// tests that compare the tiers).
#[cfg(test)]
pub(crate) fn run_on<R>(tier: Tier, body: impl FnOnce() -> R) -> R {
    assert!(tier.available(), "{tier:?} is not available");
    // SAFETY: the tier is available (asserted).
    unsafe { run_unchecked(tier, body) }
}

/// Runs `body` compiled for `tier`.
///
/// # Safety
/// The CPU must support `tier`.
#[inline(always)]
unsafe fn run_unchecked<R>(tier: Tier, body: impl FnOnce() -> R) -> R {
    match tier {
        // SAFETY: the caller's contract.
        #[cfg(target_arch = "x86_64")]
        Tier::Avx512 => unsafe { run_avx512(body) },
        // SAFETY: the caller's contract.
        #[cfg(target_arch = "x86_64")]
        Tier::Avx2 => unsafe { run_avx2(body) },
        _ => body(),
    }
}

/// Runs `body` compiled for AVX-512.
///
/// # Safety
/// The CPU must support AVX-512 F, BW, DQ and VL.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
pub(crate) unsafe fn run_avx512<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// Runs `body` compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) unsafe fn run_avx2<R>(body: impl FnOnce() -> R) -> R {
    body()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_caps_the_tier_or_says_why_not() {
        let cap = |s: &str, best| Tier::capped(Some(OsStr::new(s)), best);
        assert_eq!(Tier::capped(None, Tier::Avx512), (Tier::Avx512, None));
        assert_eq!(cap("", Tier::Avx2), (Tier::Avx2, None));
        assert_eq!(cap("baseline", Tier::Avx512), (Tier::Baseline, None));
        assert_eq!(cap(" avx2\n", Tier::Avx512), (Tier::Avx2, None));
        assert_eq!(cap("avx512", Tier::Avx512), (Tier::Avx512, None));
        assert_eq!(
            cap("avx512", Tier::Avx2),
            (
                Tier::Avx2,
                Some("GUMBEL_ISA=avx512 names a tier this CPU lacks; using avx2".to_string())
            )
        );
        for bogus in ["bogus", "AVX2", "sse2", "avx2,avx512"] {
            let (tier, why) = cap(bogus, Tier::Avx512);
            assert_eq!(tier, Tier::Avx512);
            assert_eq!(
                why.unwrap(),
                format!(
                    "ignoring GUMBEL_ISA={bogus:?}: expected baseline, avx2 or avx512; using avx512"
                )
            );
        }
    }
}
