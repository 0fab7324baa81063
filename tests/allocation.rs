//! The hot paths do not allocate per call: after a first call has created
//! the worker threads and their scratch buffers, further calls of the same
//! shape make no heap allocation on any thread. A counting global allocator
//! (this test binary's own) sees every allocation of the process.
//!
//! The thread pool's queue of jobs sent from outside its threads allocates
//! a block for every 63 jobs (rayon's injector; a call sends one to three:
//! validation and compute), so the test allows [`ALLOWED`] allocations in
//! [`CALLS`] calls of a kernel; one allocation per call would be 64.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use gumbel::{Shape, CHUNK_ELEMENTS};

/// Counts the allocations (including reallocations) of the whole process.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Calls per kernel after the warm-up call.
const CALLS: usize = 64;

/// The allocations allowed in [`CALLS`] calls: the thread pool's share.
const ALLOWED: usize = 8;

/// The allocations made by `CALLS` calls of `kernel` (with offsets
/// `1..=CALLS`) after one warm-up call (offset 0).
fn allocations_per_calls(mut kernel: impl FnMut(u64)) -> usize {
    kernel(0);
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for offset in 1..=CALLS as u64 {
        kernel(offset);
    }
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

fn logits(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 2_654_435_761usize) % 1000) as f32 / 100.0 - 5.0)
        .collect()
}

#[test]
#[cfg_attr(miri, ignore = "large inputs, too slow for Miri")]
fn hot_paths_do_not_allocate_per_call() {
    gumbel::set_num_threads(2).unwrap();
    // Short rows, rows of a few segments, a strided layout (inner > 1) and
    // one row longer than a segment split across the threads.
    let shapes = [
        Shape::matrix(20_000, 2).unwrap(),
        Shape::matrix(300, 1000).unwrap(),
        Shape::matrix(3, 2 * CHUNK_ELEMENTS + 5).unwrap(),
        Shape::new(7, 50, 90).unwrap(),
        Shape::matrix(1, 1 << 20).unwrap(),
    ];
    for shape in shapes {
        let n = shape.len();
        let l = logits(n);
        let mut y = vec![0.0f32; n];
        let mut grad = vec![0.0f32; n];
        let mut indices = vec![0i64; shape.rows()];
        let tau = 0.7f32;
        let mut y_soft = vec![0.0f32; n];
        gumbel::tempered_softmax(&l, &mut y_soft, shape, tau).unwrap();
        let v: Vec<f32> = (0..n).map(|i| (i % 7) as f32 - 3.0).collect();
        let kernels = [
            "noise",
            "gumbel_softmax",
            "gumbel_softmax hard",
            "gumbel_log_softmax",
            "sample",
            "tempered_softmax",
            "gumbel_softmax_backward",
            "gumbel_softmax_grad_tau",
            "relaxed_bernoulli",
        ];
        for name in kernels {
            let allocations = allocations_per_calls(|o| match name {
                "noise" => gumbel::noise(&mut y, 0.0, 1.0, 1, o).unwrap(),
                "gumbel_softmax" => {
                    gumbel::gumbel_softmax(&l, &mut y, shape, tau, false, 1, o).unwrap()
                }
                "gumbel_softmax hard" => {
                    gumbel::gumbel_softmax(&l, &mut y, shape, tau, true, 1, o).unwrap()
                }
                "gumbel_log_softmax" => {
                    gumbel::gumbel_log_softmax(&l, &mut y, shape, tau, 1, o).unwrap()
                }
                "sample" => gumbel::sample(&l, &mut indices, shape, 1, o).unwrap(),
                "tempered_softmax" => gumbel::tempered_softmax(&l, &mut y, shape, tau).unwrap(),
                "gumbel_softmax_backward" => {
                    gumbel::gumbel_softmax_backward(&y_soft, &v, &mut grad, shape, tau).unwrap()
                }
                "gumbel_softmax_grad_tau" => {
                    gumbel::gumbel_softmax_grad_tau(&y_soft, &v, shape, tau).unwrap();
                }
                "relaxed_bernoulli" => {
                    gumbel::relaxed_bernoulli(&l, &mut y, tau, false, 1, o).unwrap()
                }
                _ => unreachable!(),
            });
            assert!(
                allocations <= ALLOWED,
                "{name} on {shape:?}: {allocations} allocations in {CALLS} calls"
            );
        }
    }
    half_paths_do_not_allocate_per_call();
}

/// The 16-bit paths widen each unit of rows into per-thread scratch
/// buffers, kept between calls up to 1 MiB each: rows of up to 65536
/// classes (their `f32` copies, logits and outputs, fit) make no allocation
/// per call. Longer rows allocate their copies per call, as `f32` calls on
/// strided rows of that length do. (Called from the test above: the
/// counting allocator sees every thread, so the checks never run
/// concurrently.)
fn half_paths_do_not_allocate_per_call() {
    use gumbel::{Bf16, Half, F16};
    fn check<H: Half + gumbel::Element<Compute = f32>>() {
        let shapes = [
            Shape::matrix(20_000, 2).unwrap(),
            Shape::matrix(300, 1000).unwrap(),
            Shape::matrix(3, 2 * CHUNK_ELEMENTS + 5).unwrap(),
            Shape::new(7, 50, 90).unwrap(),
            Shape::matrix(2, 60_000).unwrap(),
        ];
        for shape in shapes {
            let n = shape.len();
            let l: Vec<H> = logits(n).into_iter().map(H::from_f32).collect();
            let mut y = vec![H::from_f32(0.0); n];
            let mut grad = vec![H::from_f32(0.0); n];
            let mut indices = vec![0i64; shape.rows()];
            let tau = 0.7f32;
            let mut y_soft = vec![H::from_f32(0.0); n];
            gumbel::tempered_softmax(&l, &mut y_soft, shape, tau).unwrap();
            let v: Vec<H> = (0..n).map(|i| H::from_f32((i % 7) as f32 - 3.0)).collect();
            for name in ["soft", "hard", "sample", "tempered", "backward"] {
                let allocations = allocations_per_calls(|o| match name {
                    "soft" => gumbel::gumbel_softmax(&l, &mut y, shape, tau, false, 1, o).unwrap(),
                    "hard" => gumbel::gumbel_softmax(&l, &mut y, shape, tau, true, 1, o).unwrap(),
                    "sample" => gumbel::sample(&l, &mut indices, shape, 1, o).unwrap(),
                    "tempered" => gumbel::tempered_softmax(&l, &mut y, shape, tau).unwrap(),
                    "backward" => {
                        gumbel::gumbel_softmax_backward(&y_soft, &v, &mut grad, shape, tau).unwrap()
                    }
                    _ => unreachable!(),
                });
                assert!(
                    allocations <= ALLOWED,
                    "{} {name} on {shape:?}: {allocations} allocations in {CALLS} calls",
                    std::any::type_name::<H>()
                );
            }
        }
    }
    check::<Bf16>();
    check::<F16>();
}
