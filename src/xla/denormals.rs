//! The floating-point mode a handler computes in. XLA's CPU runtime runs
//! its threads, and so the custom calls, with subnormal numbers flushed to
//! zero (x86-64: MXCSR's flush-to-zero and denormals-are-zero bits;
//! aarch64: FPCR.FZ). The library's results are defined with IEEE gradual
//! underflow, which its own worker threads keep: a handler switches the
//! calling thread to it for the call, so that a sample, a gradient or a
//! subnormal temperature gives in JAX the bits of the same call from C or
//! NumPy, then restores the runtime's mode.

#[cfg(target_arch = "x86_64")]
mod mode {
    use std::arch::asm;

    /// MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6).
    const FLUSH: u32 = (1 << 15) | (1 << 6);

    pub(super) fn get() -> u32 {
        let mut csr = 0u32;
        // SAFETY: stores MXCSR into a local.
        unsafe { asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags)) };
        csr
    }

    pub(super) fn set(csr: u32) {
        // SAFETY: loads a valid MXCSR value (one read from it, with the
        // flush bits changed).
        unsafe { asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags, readonly)) };
    }

    pub(super) fn ieee(csr: u32) -> u32 {
        csr & !FLUSH
    }
}

#[cfg(target_arch = "aarch64")]
mod mode {
    use std::arch::asm;

    /// FPCR.FZ (bit 24).
    const FLUSH: u64 = 1 << 24;

    pub(super) fn get() -> u64 {
        let fpcr: u64;
        // SAFETY: reads FPCR.
        unsafe { asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags)) };
        fpcr
    }

    pub(super) fn set(fpcr: u64) {
        // SAFETY: writes a valid FPCR value (one read from it, with FZ changed).
        unsafe { asm!("msr fpcr, {}", in(reg) fpcr, options(nomem, nostack, preserves_flags)) };
    }

    pub(super) fn ieee(fpcr: u64) -> u64 {
        fpcr & !FLUSH
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod mode {
    pub(super) fn get() {}
    pub(super) fn set(_: ()) {}
    pub(super) fn ieee(_: ()) {}
}

/// While alive, the calling thread keeps subnormal numbers (IEEE gradual
/// underflow); dropping it restores the mode it found.
pub(super) struct GradualUnderflow {
    saved: Option<Saved>,
}

#[cfg(target_arch = "x86_64")]
type Saved = u32;
#[cfg(target_arch = "aarch64")]
type Saved = u64;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
type Saved = ();

impl GradualUnderflow {
    pub(super) fn enter() -> Self {
        let found = mode::get();
        let ieee = mode::ieee(found);
        if ieee == found {
            return Self { saved: None };
        }
        mode::set(ieee);
        Self { saved: Some(found) }
    }
}

impl Drop for GradualUnderflow {
    fn drop(&mut self) {
        if let Some(found) = self.saved.take() {
            mode::set(found);
        }
    }
}

#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tests {
    use super::*;

    #[test]
    fn subnormals_survive_inside_and_the_flushing_mode_is_restored() {
        let tiny = std::hint::black_box(f32::MIN_POSITIVE);
        let quarter = || std::hint::black_box(tiny) / std::hint::black_box(4.0f32);
        let original = mode::get();
        // The runtime's mode: flushing, where the quotient is 0.
        let flushing = !mode::ieee(!original);
        mode::set(flushing);
        let flushed = quarter();
        let inside = {
            let _ieee = GradualUnderflow::enter();
            quarter()
        };
        let after = mode::get();
        mode::set(original);
        assert_eq!(flushed, 0.0);
        assert_eq!(inside, f32::from_bits(0x0020_0000));
        // The control bits come back (x86-64's low six bits are sticky
        // exception flags).
        assert_eq!(after & !0x3f, flushing & !0x3f);
    }
}
