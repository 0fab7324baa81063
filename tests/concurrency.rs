//! Every function called from many Rust threads at once, through the C ABI,
//! while another thread keeps changing `gumbel_set_num_threads`: each result
//! must equal, bit for bit, the one computed first on a single thread.
//! Error messages are per thread: each thread's failing call must leave its
//! own message. (`tests/c/concurrency.c` does the same from C pthreads.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use gumbel::ffi::*;

/// One call: returns the output's bits.
type Call = Box<dyn Fn() -> Vec<u64> + Send + Sync>;

/// The bit pattern of an output element.
trait Bits {
    fn bits(&self) -> u64;
}
impl Bits for f32 {
    fn bits(&self) -> u64 {
        u64::from(self.to_bits())
    }
}
impl Bits for f64 {
    fn bits(&self) -> u64 {
        self.to_bits()
    }
}
impl Bits for i64 {
    fn bits(&self) -> u64 {
        *self as u64
    }
}

fn logits(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((i.wrapping_mul(2_654_435_761) >> 5) % 997) as f64 / 100.0 - 5.0)
        .collect()
}

/// The inputs shared by the calls.
struct Data {
    l64: Arc<Vec<f64>>,
    l32: Arc<Vec<f32>>,
    tau64: Arc<Vec<f64>>,
    tau32: Arc<Vec<f32>>,
    y64: Arc<Vec<f64>>,
    y32: Arc<Vec<f32>>,
    g64: Arc<Vec<f64>>,
    g32: Arc<Vec<f32>>,
    x64: Arc<Vec<f64>>,
    x32: Arc<Vec<f32>>,
    p64: Arc<Vec<f64>>,
    p32: Arc<Vec<f32>>,
}

/// Every array function once (f32 and f64), on shapes large enough to run
/// on the worker pool, plus the scalar ones.
fn calls() -> Vec<(&'static str, Call)> {
    // 300 rows of 120 classes: 36000 elements, above the parallel threshold.
    let (o, k, i) = (100, 120, 3);
    let len = o * k * i;
    let rows = o * i;
    let l64 = Arc::new(logits(len));
    let l32: Arc<Vec<f32>> = Arc::new(l64.iter().map(|&x| x as f32).collect());
    let tau64 = Arc::new(
        (0..rows)
            .map(|r| 0.3 + (r % 4) as f64)
            .collect::<Vec<f64>>(),
    );
    let tau32: Arc<Vec<f32>> = Arc::new(tau64.iter().map(|&x| x as f32).collect());
    let y64 = {
        let mut y = vec![0.0f64; len];
        unsafe { gumbel_tempered_softmax_f64(l64.as_ptr(), y.as_mut_ptr(), o, k, i, 1.0) };
        Arc::new(y)
    };
    let y32: Arc<Vec<f32>> = Arc::new(y64.iter().map(|&x| x as f32).collect());
    let g64 = Arc::new(logits(len).iter().map(|v| v / 10.0).collect::<Vec<f64>>());
    let g32: Arc<Vec<f32>> = Arc::new(g64.iter().map(|&x| x as f32).collect());
    let x64 = Arc::new(y64.iter().map(|v| v.ln()).collect::<Vec<f64>>());
    let x32: Arc<Vec<f32>> = Arc::new(y32.iter().map(|v| v.ln()).collect());
    let p64 = Arc::new(
        (0..len)
            .map(|j| (j % 999 + 1) as f64 / 1000.0)
            .collect::<Vec<f64>>(),
    );
    let p32: Arc<Vec<f32>> = Arc::new(p64.iter().map(|&x| x as f32).collect());
    let data = Arc::new(Data {
        l64,
        l32,
        tau64,
        tau32,
        y64,
        y32,
        g64,
        g32,
        x64,
        x32,
        p64,
        p32,
    });
    let mut v: Vec<(&'static str, Call)> = Vec::new();

    macro_rules! add {
        ($name:literal, $t:ty, $n:expr, |$d:ident, $out:ident| $body:expr) => {{
            let $d = data.clone();
            v.push((
                $name,
                Box::new(move || {
                    let _ = &$d;
                    let mut $out = vec![0 as $t; $n];
                    let s = unsafe { $body };
                    assert_eq!(s, GUMBEL_STATUS_OK, "{}", $name);
                    $out.iter().map(Bits::bits).collect()
                }),
            ));
        }};
    }
    add!("noise_f32", f32, len, |d, y| gumbel_noise_f32(
        y.as_mut_ptr(),
        len,
        0.0,
        1.0,
        1,
        2
    ));
    add!("noise_f64", f64, len, |d, y| gumbel_noise_f64(
        y.as_mut_ptr(),
        len,
        0.0,
        1.0,
        1,
        2
    ));
    add!("softmax_f32", f32, len, |d, y| gumbel_softmax_f32(
        d.l32.as_ptr(),
        y.as_mut_ptr(),
        o,
        k,
        i,
        0.5,
        false,
        1,
        2
    ));
    add!("softmax_f64", f64, len, |d, y| gumbel_softmax_f64(
        d.l64.as_ptr(),
        y.as_mut_ptr(),
        o,
        k,
        i,
        0.5,
        true,
        1,
        2
    ));
    add!("softmax_per_row_f32", f32, len, |d, y| {
        gumbel_softmax_per_row_f32(
            d.l32.as_ptr(),
            y.as_mut_ptr(),
            o,
            k,
            i,
            d.tau32.as_ptr(),
            true,
            1,
            2,
        )
    });
    add!("softmax_per_row_f64", f64, len, |d, y| {
        gumbel_softmax_per_row_f64(
            d.l64.as_ptr(),
            y.as_mut_ptr(),
            o,
            k,
            i,
            d.tau64.as_ptr(),
            false,
            1,
            2,
        )
    });
    add!("log_softmax_f32", f32, len, |d, y| gumbel_log_softmax_f32(
        d.l32.as_ptr(),
        y.as_mut_ptr(),
        o,
        k,
        i,
        0.5,
        1,
        2
    ));
    add!("log_softmax_f64", f64, len, |d, y| gumbel_log_softmax_f64(
        d.l64.as_ptr(),
        y.as_mut_ptr(),
        o,
        k,
        i,
        0.5,
        1,
        2
    ));
    add!("tempered_softmax_f32", f32, len, |d, y| {
        gumbel_tempered_softmax_f32(d.l32.as_ptr(), y.as_mut_ptr(), o, k, i, 0.5)
    });
    add!("tempered_softmax_f64", f64, len, |d, y| {
        gumbel_tempered_softmax_f64(d.l64.as_ptr(), y.as_mut_ptr(), o, k, i, 0.5)
    });
    add!("tempered_softmax_per_row_f32", f32, len, |d, y| {
        gumbel_tempered_softmax_per_row_f32(
            d.l32.as_ptr(),
            y.as_mut_ptr(),
            o,
            k,
            i,
            d.tau32.as_ptr(),
        )
    });
    add!("tempered_softmax_per_row_f64", f64, len, |d, y| {
        gumbel_tempered_softmax_per_row_f64(
            d.l64.as_ptr(),
            y.as_mut_ptr(),
            o,
            k,
            i,
            d.tau64.as_ptr(),
        )
    });
    add!("sample_f32", i64, rows, |d, y| gumbel_sample_f32(
        d.l32.as_ptr(),
        y.as_mut_ptr(),
        o,
        k,
        i,
        1,
        2
    ));
    add!("sample_f64", i64, rows, |d, y| gumbel_sample_f64(
        d.l64.as_ptr(),
        y.as_mut_ptr(),
        o,
        k,
        i,
        1,
        2
    ));
    add!("softmax_backward_f32", f32, len, |d, y| {
        gumbel_softmax_backward_f32(d.y32.as_ptr(), d.g32.as_ptr(), y.as_mut_ptr(), o, k, i, 0.5)
    });
    add!("softmax_backward_f64", f64, len, |d, y| {
        gumbel_softmax_backward_f64(d.y64.as_ptr(), d.g64.as_ptr(), y.as_mut_ptr(), o, k, i, 0.5)
    });
    add!("softmax_backward_per_row_f32", f32, len, |d, y| {
        gumbel_softmax_backward_per_row_f32(
            d.y32.as_ptr(),
            d.g32.as_ptr(),
            y.as_mut_ptr(),
            o,
            k,
            i,
            d.tau32.as_ptr(),
        )
    });
    add!("softmax_backward_per_row_f64", f64, len, |d, y| {
        gumbel_softmax_backward_per_row_f64(
            d.y64.as_ptr(),
            d.g64.as_ptr(),
            y.as_mut_ptr(),
            o,
            k,
            i,
            d.tau64.as_ptr(),
        )
    });
    add!("softmax_grad_tau_f32", f32, 1, |d, y| {
        gumbel_softmax_grad_tau_f32(d.y32.as_ptr(), d.g32.as_ptr(), o, k, i, 0.5, y.as_mut_ptr())
    });
    add!("softmax_grad_tau_f64", f64, 1, |d, y| {
        gumbel_softmax_grad_tau_f64(d.y64.as_ptr(), d.g64.as_ptr(), o, k, i, 0.5, y.as_mut_ptr())
    });
    add!("softmax_grad_tau_per_row_f32", f32, rows, |d, y| {
        gumbel_softmax_grad_tau_per_row_f32(
            d.y32.as_ptr(),
            d.g32.as_ptr(),
            o,
            k,
            i,
            d.tau32.as_ptr(),
            y.as_mut_ptr(),
        )
    });
    add!("softmax_grad_tau_per_row_f64", f64, rows, |d, y| {
        gumbel_softmax_grad_tau_per_row_f64(
            d.y64.as_ptr(),
            d.g64.as_ptr(),
            o,
            k,
            i,
            d.tau64.as_ptr(),
            y.as_mut_ptr(),
        )
    });
    add!("concrete_log_prob_f64", f64, rows, |d, y| {
        gumbel_concrete_log_prob_f64(d.y64.as_ptr(), d.l64.as_ptr(), y.as_mut_ptr(), o, k, i, 1.0)
    });
    add!("exp_concrete_log_prob_f64", f64, rows, |d, y| {
        gumbel_exp_concrete_log_prob_f64(
            d.x64.as_ptr(),
            d.l64.as_ptr(),
            y.as_mut_ptr(),
            o,
            k,
            i,
            1.0,
        )
    });
    add!("exp_concrete_log_prob_f32", f32, rows, |d, y| {
        gumbel_exp_concrete_log_prob_f32(
            d.x32.as_ptr(),
            d.l32.as_ptr(),
            y.as_mut_ptr(),
            o,
            k,
            i,
            1.0,
        )
    });
    add!("relaxed_bernoulli_f32", f32, len, |d, y| {
        gumbel_relaxed_bernoulli_f32(d.l32.as_ptr(), y.as_mut_ptr(), len, 0.5, false, 1, 2)
    });
    add!("relaxed_bernoulli_f64", f64, len, |d, y| {
        gumbel_relaxed_bernoulli_f64(d.l64.as_ptr(), y.as_mut_ptr(), len, 0.5, true, 1, 2)
    });
    add!("relaxed_bernoulli_backward_f32", f32, len, |d, y| {
        gumbel_relaxed_bernoulli_backward_f32(
            d.p32.as_ptr(),
            d.g32.as_ptr(),
            y.as_mut_ptr(),
            len,
            0.5,
        )
    });
    add!("relaxed_bernoulli_backward_f64", f64, len, |d, y| {
        gumbel_relaxed_bernoulli_backward_f64(
            d.p64.as_ptr(),
            d.g64.as_ptr(),
            y.as_mut_ptr(),
            len,
            0.5,
        )
    });
    add!("relaxed_bernoulli_log_prob_f32", f32, len, |d, y| {
        gumbel_relaxed_bernoulli_log_prob_f32(
            d.p32.as_ptr(),
            d.l32.as_ptr(),
            y.as_mut_ptr(),
            len,
            0.5,
        )
    });
    add!("relaxed_bernoulli_log_prob_f64", f64, len, |d, y| {
        gumbel_relaxed_bernoulli_log_prob_f64(
            d.p64.as_ptr(),
            d.l64.as_ptr(),
            y.as_mut_ptr(),
            len,
            0.5,
        )
    });
    add!(
        "dist_log_pdf_f32",
        f32,
        len,
        |d, y| gumbel_dist_log_pdf_f32(d.l32.as_ptr(), y.as_mut_ptr(), len, 0.5, 2.0)
    );
    add!(
        "dist_log_pdf_f64",
        f64,
        len,
        |d, y| gumbel_dist_log_pdf_f64(d.l64.as_ptr(), y.as_mut_ptr(), len, 0.5, 2.0)
    );
    add!("dist_cdf_f32", f32, len, |d, y| gumbel_dist_cdf_f32(
        d.l32.as_ptr(),
        y.as_mut_ptr(),
        len,
        0.5,
        2.0
    ));
    add!("dist_cdf_f64", f64, len, |d, y| gumbel_dist_cdf_f64(
        d.l64.as_ptr(),
        y.as_mut_ptr(),
        len,
        0.5,
        2.0
    ));
    add!(
        "dist_log_cdf_f32",
        f32,
        len,
        |d, y| gumbel_dist_log_cdf_f32(d.l32.as_ptr(), y.as_mut_ptr(), len, 0.5, 2.0)
    );
    add!(
        "dist_log_cdf_f64",
        f64,
        len,
        |d, y| gumbel_dist_log_cdf_f64(d.l64.as_ptr(), y.as_mut_ptr(), len, 0.5, 2.0)
    );
    add!("dist_sf_f32", f32, len, |d, y| gumbel_dist_sf_f32(
        d.l32.as_ptr(),
        y.as_mut_ptr(),
        len,
        0.5,
        2.0
    ));
    add!("dist_sf_f64", f64, len, |d, y| gumbel_dist_sf_f64(
        d.l64.as_ptr(),
        y.as_mut_ptr(),
        len,
        0.5,
        2.0
    ));
    add!("dist_log_sf_f32", f32, len, |d, y| gumbel_dist_log_sf_f32(
        d.l32.as_ptr(),
        y.as_mut_ptr(),
        len,
        0.5,
        2.0
    ));
    add!("dist_log_sf_f64", f64, len, |d, y| gumbel_dist_log_sf_f64(
        d.l64.as_ptr(),
        y.as_mut_ptr(),
        len,
        0.5,
        2.0
    ));
    add!("dist_icdf_f32", f32, len, |d, y| gumbel_dist_icdf_f32(
        d.p32.as_ptr(),
        y.as_mut_ptr(),
        len,
        0.5,
        2.0
    ));
    add!("dist_icdf_f64", f64, len, |d, y| gumbel_dist_icdf_f64(
        d.p64.as_ptr(),
        y.as_mut_ptr(),
        len,
        0.5,
        2.0
    ));
    add!("dist_isf_f32", f32, len, |d, y| gumbel_dist_isf_f32(
        d.p32.as_ptr(),
        y.as_mut_ptr(),
        len,
        0.5,
        2.0
    ));
    add!("dist_isf_f64", f64, len, |d, y| gumbel_dist_isf_f64(
        d.p64.as_ptr(),
        y.as_mut_ptr(),
        len,
        0.5,
        2.0
    ));
    add!("dist_mean_f32", f32, 1, |d, y| gumbel_dist_mean_f32(
        0.5,
        2.0,
        y.as_mut_ptr()
    ));
    add!(
        "dist_variance_f64",
        f64,
        1,
        |d, y| gumbel_dist_variance_f64(0.5, 2.0, y.as_mut_ptr())
    );
    add!("dist_mode_f32", f32, 1, |d, y| gumbel_dist_mode_f32(
        0.5,
        2.0,
        y.as_mut_ptr()
    ));
    add!("dist_entropy_f64", f64, 1, |d, y| gumbel_dist_entropy_f64(
        0.5,
        2.0,
        y.as_mut_ptr()
    ));
    add!("dist_kl_f64", f64, 1, |d, y| gumbel_dist_kl_f64(
        0.5,
        2.0,
        1.0,
        3.0,
        y.as_mut_ptr()
    ));
    add!("schedule_exponential", f64, 1, |d, y| {
        gumbel_schedule_exponential(1.0, 0.01, 0.1, 50, 5, y.as_mut_ptr())
    });
    add!("schedule_linear", f64, 1, |d, y| gumbel_schedule_linear(
        1.0,
        0.1,
        50,
        100,
        y.as_mut_ptr()
    ));
    add!("schedule_cosine", f64, 1, |d, y| gumbel_schedule_cosine(
        1.0,
        0.1,
        50,
        100,
        y.as_mut_ptr()
    ));
    v
}

#[test]
fn every_function_from_many_threads_while_the_thread_count_changes() {
    let _pool = crate::common::pool_size_lock();
    let calls = Arc::new(calls());
    assert_eq!(gumbel_set_num_threads(1), GUMBEL_STATUS_OK);
    let reference: Arc<Vec<Vec<u64>>> = Arc::new(calls.iter().map(|(_, c)| c()).collect());
    assert_eq!(gumbel_set_num_threads(0), GUMBEL_STATUS_OK);

    let stop = Arc::new(AtomicBool::new(false));
    let changer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0usize;
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                assert_eq!(
                    gumbel_set_num_threads([1, 2, 7, 3, 0][k % 5]),
                    GUMBEL_STATUS_OK
                );
                assert!(gumbel_num_threads() >= 1);
                k += 1;
                n += 1;
                std::thread::yield_now();
            }
            n
        })
    };
    let workers: Vec<_> = (0..8)
        .map(|t| {
            let (calls, reference) = (calls.clone(), reference.clone());
            std::thread::spawn(move || {
                for round in 0..2 {
                    // Each thread walks the calls in its own order.
                    for j in 0..calls.len() {
                        let c = (j * 7 + t * 5 + round) % calls.len();
                        let (name, call) = &calls[c];
                        assert!(call() == reference[c], "{name} differs on thread {t}");
                    }
                    // A failure on this thread leaves this thread's message.
                    let s =
                        unsafe { gumbel_noise_f32(std::ptr::null_mut(), t + 1, 0.0, 1.0, 0, 0) };
                    assert_eq!(s, GUMBEL_STATUS_NULL_POINTER);
                    let mut buf = [0 as std::ffi::c_char; 256];
                    unsafe { gumbel_last_error(buf.as_mut_ptr(), buf.len()) };
                    let msg = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
                        .to_string_lossy()
                        .into_owned();
                    assert!(msg.contains("out"), "thread {t}: {msg}");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let changes = changer.join().unwrap();
    assert!(changes > 0);
    assert_eq!(gumbel_set_num_threads(0), GUMBEL_STATUS_OK);
}
