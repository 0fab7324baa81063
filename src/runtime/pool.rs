//! The library's own worker threads.
//!
//! Large calls run on a rayon pool owned by the library rather than on
//! rayon's global pool, so the host can size it (a runtime with its own
//! intra-op threads avoids oversubscription) and so a process that forks
//! after a large call still works: a forked child has none of its parent's
//! threads, and a pool created before the fork would wait for them forever.
//! The pool records the process id it was built in and is rebuilt in a child.
//!
//! A call made from inside a rayon pool (a Rust caller's own) runs on that
//! pool instead. Outputs never depend on which pool, or how many threads,
//! ran them.

use std::sync::{Arc, Mutex, PoisonError};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::{Error, ErrorKind, Result};

/// The environment variable read for the default thread count.
pub const NUM_THREADS_ENV: &str = "GUMBEL_NUM_THREADS";

/// The most worker threads [`set_num_threads`] accepts.
pub const MAX_THREADS: usize = 4096;

struct Slot {
    pid: u32,
    pool: Arc<ThreadPool>,
}

static POOL: Mutex<Option<Slot>> = Mutex::new(None);

/// The default thread count: `GUMBEL_NUM_THREADS` if it is a number in
/// `1..=MAX_THREADS`, else the number of CPUs available to the process.
fn default_threads() -> usize {
    std::env::var(NUM_THREADS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=MAX_THREADS).contains(n))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn build(threads: usize) -> Result<Arc<ThreadPool>> {
    ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("gumbel-{i}"))
        .build()
        .map(Arc::new)
        .map_err(|e| {
            Error::new(
                ErrorKind::InvalidParameter,
                format!("cannot start {threads} worker threads: {e}"),
            )
        })
}

/// The pool of this process, built on first use (or after a fork).
fn current() -> Result<Arc<ThreadPool>> {
    let mut slot = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    let pid = std::process::id();
    match slot.as_ref() {
        Some(s) if s.pid == pid => Ok(Arc::clone(&s.pool)),
        stale => {
            let threads = stale.map_or_else(default_threads, |s| s.pool.current_num_threads());
            if let Some(s) = slot.take() {
                // Inherited from the parent across fork(): its threads do not
                // exist here, so it must not be dropped (that would wait on them).
                std::mem::forget(s);
            }
            let pool = build(threads)?;
            *slot = Some(Slot {
                pid,
                pool: Arc::clone(&pool),
            });
            Ok(pool)
        }
    }
}

/// Runs `f` with parallel work on the library's pool, or on the caller's
/// rayon pool when called from one.
///
/// # Errors
/// [`ErrorKind::InvalidParameter`] if the pool's threads cannot be started.
pub(crate) fn install<R: Send>(f: impl FnOnce() -> R + Send) -> Result<R> {
    if rayon::current_thread_index().is_some() {
        return Ok(f());
    }
    Ok(current()?.install(f))
}

/// Sets the number of worker threads for later calls; `0` restores the
/// default (`GUMBEL_NUM_THREADS`, else the number of CPUs). Calls already
/// running finish on the threads they started with.
///
/// # Errors
/// [`ErrorKind::InvalidParameter`] if `threads > MAX_THREADS` or the threads
/// cannot be started.
pub fn set_num_threads(threads: usize) -> Result<()> {
    if threads > MAX_THREADS {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!("threads must be at most {MAX_THREADS}, got {threads}"),
        ));
    }
    let pool = build(if threads == 0 {
        default_threads()
    } else {
        threads
    })?;
    let mut slot = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    let pid = std::process::id();
    if let Some(old) = slot.replace(Slot { pid, pool }) {
        if old.pid != pid {
            std::mem::forget(old);
        }
    }
    Ok(())
}

/// The number of worker threads large calls use from this thread.
pub fn num_threads() -> usize {
    if rayon::current_thread_index().is_some() {
        return rayon::current_num_threads();
    }
    current().map_or(1, |p| p.current_num_threads())
}
