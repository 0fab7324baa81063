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

use std::ffi::OsStr;
use std::sync::{Arc, Mutex, Once, PoisonError};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::{report_setting, Error, ErrorKind, Result};

/// The environment variable read for the default thread count.
pub const NUM_THREADS_ENV: &str = "GUMBEL_NUM_THREADS";

/// Worker threads allowed per CPU available to the process.
pub const THREADS_PER_CPU: usize = 4;

/// Thread counts up to this are allowed whatever the number of CPUs.
pub const MIN_THREAD_LIMIT: usize = 16;

struct Slot {
    pid: u32,
    pool: Arc<ThreadPool>,
}

static POOL: Mutex<Option<Slot>> = Mutex::new(None);

/// The number of CPUs available to the process (its affinity mask and CPU
/// quota count), at least 1.
fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The thread limit on a process with `cpus` CPUs:
/// `max(MIN_THREAD_LIMIT, THREADS_PER_CPU * cpus)`.
fn limit_for(cpus: usize) -> usize {
    cpus.saturating_mul(THREADS_PER_CPU).max(MIN_THREAD_LIMIT)
}

/// The most worker threads [`set_num_threads`] and [`NUM_THREADS_ENV`]
/// accept: [`THREADS_PER_CPU`] per CPU available to the process, and never
/// fewer than [`MIN_THREAD_LIMIT`].
///
/// The work is CPU-bound, so threads beyond the CPUs only cost: each must be
/// started (with its stack) before the pool runs, and then they take turns
/// on the CPUs (4096 threads on 2 CPUs took 9 s to start and ran 150 times
/// slower than 2). Four per CPU leave room for a process whose CPU quota or
/// affinity is narrower than the machine it may later get; counts up to 16
/// are accepted everywhere, so a program that pins a small count runs on
/// any machine.
pub fn max_threads() -> usize {
    limit_for(cpus())
}

/// What a [`NUM_THREADS_ENV`] setting asks for on a process allowed `limit`
/// threads: `Ok(None)` when unset or empty, `Ok(Some(n))` for a whole number
/// `n` in `1..=limit`, else `Err` with why it cannot be used.
fn requested_threads(
    setting: Option<&OsStr>,
    limit: usize,
) -> std::result::Result<Option<usize>, String> {
    let Some(setting) = setting else {
        return Ok(None);
    };
    let text = setting.to_str().map(str::trim);
    match text {
        Some("") => Ok(None),
        Some(t) => match t.parse::<usize>() {
            Ok(n) if (1..=limit).contains(&n) => Ok(Some(n)),
            Ok(_) => Err(format!("not in 1..={limit}")),
            Err(_) if t.bytes().all(|b| b.is_ascii_digit()) => Err(format!("not in 1..={limit}")),
            Err(_) => Err(format!("not a whole number in 1..={limit}")),
        },
        None => Err("not valid Unicode".to_string()),
    }
}

/// The default thread count: [`NUM_THREADS_ENV`] if it is a whole number
/// in `1..=max_threads()`, else the number of CPUs available to the
/// process. A setting that cannot be used is reported on stderr, once per
/// process.
fn default_threads() -> usize {
    static REPORT: Once = Once::new();
    let cpus = cpus();
    let setting = std::env::var_os(NUM_THREADS_ENV);
    match requested_threads(setting.as_deref(), limit_for(cpus)) {
        Ok(Some(n)) => n,
        Ok(None) => cpus,
        Err(why) => {
            REPORT.call_once(|| {
                report_setting(&format!(
                    "ignoring {NUM_THREADS_ENV}={:?}: {why} (at most {THREADS_PER_CPU} per CPU, at least \
                     {MIN_THREAD_LIMIT} allowed); using {cpus} worker threads, one per CPU",
                    setting.as_deref().unwrap_or_default()
                ))
            });
            cpus
        }
    }
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
/// default ([`NUM_THREADS_ENV`], else the number of CPUs). Calls already
/// running finish on the threads they started with.
///
/// # Errors
/// [`ErrorKind::InvalidParameter`] if `threads > max_threads()` or the
/// threads cannot be started; the pool is then unchanged.
pub fn set_num_threads(threads: usize) -> Result<()> {
    let limit = max_threads();
    if threads > limit {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!(
                "threads must be at most {limit} ({THREADS_PER_CPU} per CPU available to this \
                 process, at least {MIN_THREAD_LIMIT}), got {threads}"
            ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_four_threads_per_cpu_and_at_least_sixteen() {
        assert_eq!(limit_for(1), 16);
        assert_eq!(limit_for(4), 16);
        assert_eq!(limit_for(5), 20);
        assert_eq!(limit_for(64), 256);
        assert_eq!(limit_for(usize::MAX), usize::MAX);
        assert_eq!(max_threads(), limit_for(cpus()));
    }

    #[test]
    fn a_thread_setting_is_read_or_refused_with_a_reason() {
        let read = |s: &str| requested_threads(Some(OsStr::new(s)), 16);
        assert_eq!(requested_threads(None, 16), Ok(None));
        assert_eq!(read(""), Ok(None));
        assert_eq!(read(" \t"), Ok(None));
        assert_eq!(read("1"), Ok(Some(1)));
        assert_eq!(read(" 16\n"), Ok(Some(16)));
        for bad in ["abc", "-1", "0x", "0x10", "1.5", "4 threads", "+-3"] {
            assert_eq!(
                read(bad),
                Err("not a whole number in 1..=16".to_string()),
                "{bad}"
            );
        }
        for out in ["0", "17", "4096", "99999999999999999999999"] {
            assert_eq!(read(out), Err("not in 1..=16".to_string()), "{out}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let not_utf8 = OsStr::from_bytes(b"4\xff");
            assert_eq!(
                requested_threads(Some(not_utf8), 16),
                Err("not valid Unicode".to_string())
            );
        }
    }

    #[test]
    fn counts_above_the_limit_are_refused_and_leave_the_pool() {
        let before = num_threads();
        let limit = max_threads();
        for bad in [limit + 1, 4096.max(limit + 1), usize::MAX] {
            let e = set_num_threads(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidParameter);
            assert!(
                e.message().contains(&format!("at most {limit} ")),
                "{}",
                e.message()
            );
            assert!(
                e.message().contains(&format!("got {bad}")),
                "{}",
                e.message()
            );
            assert_eq!(num_threads(), before, "a refused count changed the pool");
        }
        if cpus() < 1024 {
            // Took 9 s to start on 2 CPUs, then ran 150 times slower.
            assert!(set_num_threads(4096).is_err());
        }
    }
}
