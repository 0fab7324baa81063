//! Environment settings the library cannot use (`GUMBEL_NUM_THREADS`,
//! `GUMBEL_ISA`) are reported on stderr once per process, whatever the number
//! of calls, and the default is used. Each case runs this test binary again
//! as a child process with the setting, where [`child_makes_many_calls`]
//! rebuilds the pool and makes large calls from several threads; the parent
//! reads the child's stderr.

use std::process::Command;

use gumbel::Shape;

/// Set in the child process only.
const CHILD: &str = "GUMBEL_TEST_CHILD";
/// The thread count the child must see, when the case knows it.
const EXPECT_THREADS: &str = "GUMBEL_TEST_EXPECT_THREADS";

#[test]
#[ignore = "run in a child process by the other tests of this module"]
fn child_makes_many_calls() {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "only meant to run in a child process"
    );
    // Every rebuild of the default pool reads GUMBEL_NUM_THREADS again.
    for _ in 0..3 {
        gumbel::set_num_threads(0).unwrap();
    }
    if let Ok(n) = std::env::var(EXPECT_THREADS) {
        assert_eq!(gumbel::num_threads(), n.parse::<usize>().unwrap());
    }
    // Large calls (run on the pool) from threads that race to pick the
    // instruction-set tier on first use.
    let workers: Vec<_> = (0..4u64)
        .map(|t| {
            std::thread::spawn(move || {
                let shape = Shape::matrix(64, 1024).unwrap();
                let logits = vec![0.5f32; shape.len()];
                let mut y = vec![0.0f32; shape.len()];
                for k in 0..3 {
                    gumbel::gumbel_softmax(&logits, &mut y, shape, 1.0, false, t, k).unwrap();
                    gumbel::noise(&mut y, 0.0, 1.0, t, k).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

/// Runs [`child_makes_many_calls`] with `settings` (and no other gumbel
/// setting) and returns the lines of its stderr that come from the library.
fn child_reports(settings: &[(&str, &str)], expect_threads: Option<usize>) -> Vec<String> {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "environment::child_makes_many_calls",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, "1")
    .env_remove(gumbel::NUM_THREADS_ENV)
    .env_remove("GUMBEL_ISA");
    for (var, value) in settings {
        cmd.env(var, value);
    }
    if let Some(n) = expect_threads {
        cmd.env(EXPECT_THREADS, n.to_string());
    }
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child with {settings:?} failed:\n{stdout}\n{stderr}"
    );
    stderr
        .lines()
        .filter(|l| l.starts_with("gumbel: "))
        .map(str::to_string)
        .collect()
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[test]
fn an_unusable_thread_count_is_reported_once_and_one_thread_per_cpu_used() {
    let limit = gumbel::max_threads();
    let above = (limit + 1).to_string();
    for bad in ["abc", "-1", "0x", "0", "2.5", above.as_str()] {
        let lines = child_reports(&[("GUMBEL_NUM_THREADS", bad)], Some(cpus()));
        assert_eq!(lines.len(), 1, "GUMBEL_NUM_THREADS={bad}: {lines:?}");
        let line = &lines[0];
        assert!(
            line.contains(&format!("GUMBEL_NUM_THREADS={bad:?}")),
            "{line}"
        );
        assert!(line.contains(&format!("1..={limit}")), "{line}");
        assert!(
            line.contains(&format!("using {} worker threads", cpus())),
            "{line}"
        );
    }
}

#[test]
fn a_usable_thread_count_is_used_without_a_message() {
    for (value, threads) in [("3", 3), (" 2 ", 2), ("16", 16), ("", cpus())] {
        let lines = child_reports(&[("GUMBEL_NUM_THREADS", value)], Some(threads));
        assert!(lines.is_empty(), "GUMBEL_NUM_THREADS={value:?}: {lines:?}");
    }
}

#[test]
fn an_unknown_instruction_set_is_reported_once() {
    let lines = child_reports(&[("GUMBEL_ISA", "bogus")], None);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("GUMBEL_ISA=\"bogus\": expected baseline, avx2 or avx512"),
        "{}",
        lines[0]
    );
    assert!(child_reports(&[("GUMBEL_ISA", "baseline")], None).is_empty());
}

#[test]
fn an_instruction_set_the_cpu_lacks_is_reported_once() {
    #[cfg(target_arch = "x86_64")]
    let has = |tier: &str| match tier {
        "avx2" => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
        _ => {
            is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512dq")
                && is_x86_feature_detected!("avx512vl")
        }
    };
    #[cfg(not(target_arch = "x86_64"))]
    let has = |_: &str| false;
    for tier in ["avx2", "avx512"] {
        let lines = child_reports(&[("GUMBEL_ISA", tier)], None);
        if has(tier) {
            assert!(lines.is_empty(), "{tier}: {lines:?}");
        } else {
            assert_eq!(lines.len(), 1, "{tier}: {lines:?}");
            assert!(
                lines[0].contains("names a tier this CPU lacks"),
                "{}",
                lines[0]
            );
        }
    }
}

#[test]
fn each_unusable_setting_is_reported_once() {
    let lines = child_reports(
        &[("GUMBEL_NUM_THREADS", "many"), ("GUMBEL_ISA", "fast")],
        Some(cpus()),
    );
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("GUMBEL_NUM_THREADS=\"many\"")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("GUMBEL_ISA=\"fast\"")),
        "{lines:?}"
    );
}
