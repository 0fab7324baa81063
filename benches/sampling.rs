//! Throughput of every public sampling kernel: `cargo bench -p gumbel-bench`
//! (or `make bench`; a few minutes; `cargo bench -p gumbel-bench -- <filter>`
//! for a subset). Shapes are
//! `(rows, classes)` with about 4M elements (2, 10, 16, 24 and 1024
//! classes), plus the Gumbel-max shape of
//! the speed targets (64 rows of 131072 classes) and one row of 2^20
//! classes, for `f32` and `f64`, on 1 and 2 worker threads; criterion
//! reports elements per second. The sampling head (group `head`, `f32`, 2
//! threads) runs on vocabularies of 32000, 128256 and 262144 tokens in
//! batches of 1, 16 and 64, with Zipf-like logits (`-1.5 ln rank`, ranks
//! shuffled per row) as a language model's next-token distribution.

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

/// Zipf-like logits: `-1.5 ln(rank)` for a pseudo-random permutation of the
/// ranks `1..=classes` in every row.
fn zipf_logits(rows: usize, classes: usize) -> Vec<f32> {
    let mut state = 7u64;
    let mut out = Vec::with_capacity(rows * classes);
    for _ in 0..rows {
        let mut ranks: Vec<usize> = (1..=classes).collect();
        for i in (1..classes).rev() {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ranks.swap(i, (state >> 33) as usize % (i + 1));
        }
        out.extend(ranks.iter().map(|&r| -1.5 * (r as f32).ln()));
    }
    out
}

/// The sampling head: keyed Gumbel-max, Gumbel-top-k (k = 50) and the
/// filtered sample (temperature 0.8, top-k 50, top-p 0.95; and top-p 0.9
/// alone), per request keys, 2 threads.
fn bench_head(c: &mut Criterion) {
    gumbel::set_num_threads(2).unwrap();
    let mut group = c.benchmark_group("head/f32/2t");
    for classes in [32_000, 128_256, 262_144] {
        for rows in [1, 16, 64] {
            let shape = Shape::matrix(rows, classes).unwrap();
            let x = zipf_logits(rows, classes);
            let seeds: Vec<u64> = (0..rows as u64).collect();
            let mut offsets = vec![0u64; rows];
            let mut idx = vec![0i64; rows];
            let mut top = vec![0i64; rows * 50];
            let id = |name: &str| BenchmarkId::new(name, format!("{rows}x{classes}"));
            group.throughput(Throughput::Elements(shape.len() as u64));
            group.bench_function(id("sample_keyed"), |b| {
                b.iter(|| gumbel::sample_keyed(&x, &mut idx, shape, &seeds, &offsets).unwrap())
            });
            group.bench_function(id("top_k_keyed_50"), |b| {
                b.iter(|| gumbel::top_k_keyed(&x, &mut top, shape, 50, &seeds, &offsets).unwrap())
            });
            let (t, k, p) = (vec![0.8f32; rows], vec![50i64; rows], vec![0.95f32; rows]);
            let nucleus = vec![0.9f32; rows];
            let filters = [
                (
                    "filtered_t0.8_k50_p0.95",
                    gumbel::Filters {
                        temperatures: Some(&t[..]),
                        top_k: Some(&k[..]),
                        top_p: Some(&p[..]),
                        min_p: None,
                    },
                ),
                (
                    "filtered_p0.9",
                    gumbel::Filters {
                        top_p: Some(&nucleus[..]),
                        ..Default::default()
                    },
                ),
            ];
            for (name, filters) in filters {
                group.bench_function(id(name), |b| {
                    b.iter(|| {
                        offsets.iter_mut().for_each(|o| *o += 1);
                        let out = gumbel::FilteredSample {
                            indices: &mut idx,
                            log_probs: None,
                            processed_log_probs: None,
                        };
                        gumbel::sample_filtered(&x, out, shape, filters, &seeds, &offsets).unwrap()
                    })
                });
            }
        }
    }
    group.finish();
}

fn all(c: &mut Criterion) {
    bench_type::<f32>(c);
    bench_type::<f64>(c);
    bench_head(c);
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
