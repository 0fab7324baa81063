//! Throughput of every public sampling kernel: `cargo bench -p gumbel-bench`
//! (or `make bench`; a few minutes; `cargo bench -p gumbel-bench -- <filter>`
//! for a subset). Shapes are
//! `(rows, classes)` with about 4M elements (2, 10, 16, 24 and 1024
//! classes), plus the Gumbel-max shape of
//! the speed targets (64 rows of 131072 classes) and one row of 2^20
//! classes, for `f32` and `f64`, on 1 and 2 worker threads; criterion
//! reports elements per second.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gumbel::{Float, Shape};

/// The shapes `(rows, classes)` benchmarked: 10 and 24 classes stand for
/// the short rows without a loop specialised for their length.
const SHAPES: [(usize, usize); 8] = [
    (1 << 21, 2),
    (419_430, 10),
    (1 << 18, 16),
    (174_762, 24),
    (4096, 1024),
    (32, 131_072),
    (64, 131_072),
    (1, 1 << 20),
];

/// Logits in `[-4, 4)` from a fixed linear congruential sequence.
fn logits<F: Float>(n: usize) -> Vec<F> {
    let mut state = 1u64;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            F::from_f64((state >> 11) as f64 / (1u64 << 53) as f64 * 8.0 - 4.0)
        })
        .collect()
}

fn bench_type<F: Float>(c: &mut Criterion) {
    for threads in [1, 2] {
        gumbel::set_num_threads(threads).unwrap();
        let mut group = c.benchmark_group(format!("{}/{}t", F::NAME, threads));
        for (rows, classes) in SHAPES {
            let shape = Shape::matrix(rows, classes).unwrap();
            let n = shape.len();
            let x = logits::<F>(n);
            let mut out = vec![F::ZERO; n];
            let mut idx = vec![0i64; rows];
            let tau = F::from_f64(0.5);
            let id = |name: &str| BenchmarkId::new(name, format!("{rows}x{classes}"));
            group.throughput(Throughput::Elements(n as u64));
            let mut offset = 0u64;
            let mut next = || {
                offset = offset.wrapping_add(gumbel::streams(shape));
                offset
            };
            group.bench_function(id("noise"), |b| {
                b.iter(|| gumbel::noise(&mut out, F::ZERO, F::ONE, 1, next()).unwrap())
            });
            group.bench_function(id("gumbel_softmax_soft"), |b| {
                b.iter(|| {
                    gumbel::gumbel_softmax(&x, &mut out, shape, tau, false, 1, next()).unwrap()
                })
            });
            group.bench_function(id("gumbel_softmax_hard"), |b| {
                b.iter(|| {
                    gumbel::gumbel_softmax(&x, &mut out, shape, tau, true, 1, next()).unwrap()
                })
            });
            group.bench_function(id("gumbel_log_softmax"), |b| {
                b.iter(|| gumbel::gumbel_log_softmax(&x, &mut out, shape, tau, 1, next()).unwrap())
            });
            group.bench_function(id("sample"), |b| {
                b.iter(|| gumbel::sample(&x, &mut idx, shape, 1, next()).unwrap())
            });
            group.bench_function(id("tempered_softmax"), |b| {
                b.iter(|| gumbel::tempered_softmax(&x, &mut out, shape, tau).unwrap())
            });
            let y = out.clone();
            let mut grad = vec![F::ZERO; n];
            group.bench_function(id("gumbel_softmax_backward"), |b| {
                b.iter(|| gumbel::gumbel_softmax_backward(&y, &x, &mut grad, shape, tau).unwrap())
            });
            if classes == 2 {
                group.bench_function(id("relaxed_bernoulli"), |b| {
                    b.iter(|| {
                        gumbel::relaxed_bernoulli(&x, &mut out, tau, false, 1, next()).unwrap()
                    })
                });
            }
        }
        group.finish();
    }
}

fn all(c: &mut Criterion) {
    bench_type::<f32>(c);
    bench_type::<f64>(c);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(400));
    targets = all
}
criterion_main!(benches);
