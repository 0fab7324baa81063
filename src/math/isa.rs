//! Instruction-set tiers of the lane-parallel kernels, detected once.
//!
//! On x86-64 the tiers are baseline (SSE2), AVX2 (with FMA enabled but never
//! used: Rust never contracts `a * b + c`, and the kernels never ask for an
//! FMA) and AVX-512 (F, BW, DQ, VL). Other architectures have one tier, their
//! baseline (NEON on aarch64). The environment variable [`ISA_ENV`] caps the
//! tier (`baseline`, `avx2` or `avx512`), so any tier the CPU has can be
//! tested; outputs are the same bits on every tier.
//!
//! [`dispatch`] runs a closure compiled for the current tier: the closure's
//! body, and every `#[inline(always)]` function it calls, is inlined into one
//! `#[target_feature]` function per tier, so a generic kernel body written as
//! plain loops is vectorised for each tier without intrinsics.

use std::sync::atomic::{AtomicU8, Ordering};

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

    /// The highest available tier, capped by [`ISA_ENV`] when it names one.
    fn detect() -> Tier {
        let cap = match std::env::var(ISA_ENV).as_deref().map(str::trim) {
            Ok("baseline") => Tier::Baseline,
            Ok("avx2") => Tier::Avx2,
            _ => Tier::Avx512,
        };
        Tier::ALL
            .into_iter()
            .filter(|t| *t <= cap && t.available())
            .max()
            .unwrap_or(Tier::Baseline)
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
unsafe fn run_avx512<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// Runs `body` compiled for AVX2 (FMA enabled, never used).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn run_avx2<R>(body: impl FnOnce() -> R) -> R {
    body()
}
