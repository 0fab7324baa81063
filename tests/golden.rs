//! Golden outputs: every sampler's output for fixed `(seed, offset)`, shapes
//! and inputs, checked bit for bit against `tests/data/golden.txt`, through
//! the C ABI, with 1, 2 and 7 worker threads. Any change of stream, of the
//! noise transform, of the exp/log kernels or of the softmax arithmetic
//! changes a hash here. Each line holds a case name, an FNV-1a 64 hash of
//! the output's bits (little-endian) and the first three outputs as raw
//! bits, so a failure shows whether everything moved or only a few ulps.
//!
//! The values were produced by the scalar implementation of
//! commit 005baf8; a faster kernel must reproduce them exactly. Re-recorded
//! once for the noise definition version 2 (`GUMBEL_NOISE_VERSION`, README
//! "Randomness contract": `f32` noise with FMA in single precision); every
//! `f64` line kept its bits. Re-recorded within version 2 for the `f32`
//! softmax's FMA exponential: only `f32` softmax lines changed.
//! `GUMBEL_BLESS=1 cargo test --release --test golden` rewrites the file
//! (only do that for an intended change of the randomness contract).

use std::fmt::Write as _;

use gumbel::ffi::*;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/golden.txt");

/// FNV-1a over bytes.
fn fnv(bytes: impl IntoIterator<Item = u8>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A case's output as bit patterns.
enum Bits {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
}

impl Bits {
    fn line(&self, name: &str) -> String {
        let words: Vec<u64> = match self {
            Bits::F32(v) => v.iter().map(|x| u64::from(x.to_bits())).collect(),
            Bits::F64(v) => v.iter().map(|x| x.to_bits()).collect(),
            Bits::I64(v) => v.iter().map(|&x| x as u64).collect(),
        };
        let width = if matches!(self, Bits::F32(_)) { 4 } else { 8 };
        let hash = fnv(words.iter().flat_map(|w| w.to_le_bytes()[..width].to_vec()));
        let mut s = format!("{name} {} {hash:016x}", words.len());
        for w in words.iter().take(3) {
            write!(s, " {w:x}").unwrap();
        }
        s
    }
}

/// Deterministic logits: multiples of 1/64 in [-8, 8), with every 13th
/// entry `-inf` (masked) when `masked`, never a whole row.
fn logits(n: usize, masked: bool) -> Vec<f64> {
    (0..n)
        .map(|i| {
            if masked && i % 13 == 5 {
                f64::NEG_INFINITY
            } else {
                ((i.wrapping_mul(2_654_435_761) >> 7) % 1024) as f64 / 64.0 - 8.0
            }
        })
        .collect()
}

fn f32s(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// Shapes: small, inner > 1, many rows (several stream units and parallel
/// chunks), and rows longer than one 16384-element segment.
const SHAPES: [(usize, usize, usize); 4] = [(5, 7, 1), (4, 100, 3), (700, 60, 1), (2, 40_000, 1)];

/// Every case, in file order.
fn cases() -> Vec<String> {
    let mut lines = Vec::new();
    let (seed, offset) = (0x5eed_1234_u64, 77u64);
    for (n, (o, k, i)) in SHAPES.iter().copied().enumerate() {
        let len = o * k * i;
        let rows = o * i;
        let l64 = logits(len, true);
        let l32 = f32s(&l64);
        let tag = format!("{o}x{k}x{i}");
        let taus64: Vec<f64> = (0..rows).map(|r| 0.25 + (r % 5) as f64 * 0.5).collect();
        let taus32 = f32s(&taus64);
        unsafe {
            for hard in [false, true] {
                let mut y = vec![0.0f32; len];
                assert_eq!(
                    gumbel_softmax_f32(
                        l32.as_ptr(),
                        y.as_mut_ptr(),
                        o,
                        k,
                        i,
                        0.5,
                        hard,
                        seed,
                        offset
                    ),
                    0
                );
                lines.push(Bits::F32(y).line(&format!("softmax_f32_hard{}_{tag}", hard as u8)));
                let mut y = vec![0.0f64; len];
                assert_eq!(
                    gumbel_softmax_f64(
                        l64.as_ptr(),
                        y.as_mut_ptr(),
                        o,
                        k,
                        i,
                        0.5,
                        hard,
                        seed,
                        offset
                    ),
                    0
                );
                lines.push(Bits::F64(y).line(&format!("softmax_f64_hard{}_{tag}", hard as u8)));
            }
            let mut y = vec![0.0f32; len];
            let s = gumbel_softmax_per_row_f32(
                l32.as_ptr(),
                y.as_mut_ptr(),
                o,
                k,
                i,
                taus32.as_ptr(),
                false,
                seed,
                offset,
            );
            assert_eq!(s, 0);
            lines.push(Bits::F32(y).line(&format!("softmax_per_row_f32_{tag}")));
            let mut y = vec![0.0f64; len];
            let s = gumbel_softmax_per_row_f64(
                l64.as_ptr(),
                y.as_mut_ptr(),
                o,
                k,
                i,
                taus64.as_ptr(),
                false,
                seed,
                offset,
            );
            assert_eq!(s, 0);
            lines.push(Bits::F64(y).line(&format!("softmax_per_row_f64_{tag}")));
            let mut idx = vec![0i64; rows];
            assert_eq!(
                gumbel_sample_f32(l32.as_ptr(), idx.as_mut_ptr(), o, k, i, seed, offset),
                0
            );
            lines.push(Bits::I64(idx).line(&format!("sample_f32_{tag}")));
            let mut idx = vec![0i64; rows];
            assert_eq!(
                gumbel_sample_f64(l64.as_ptr(), idx.as_mut_ptr(), o, k, i, seed, offset),
                0
            );
            lines.push(Bits::I64(idx).line(&format!("sample_f64_{tag}")));
            let mut y = vec![0.0f32; len];
            assert_eq!(
                gumbel_log_softmax_f32(l32.as_ptr(), y.as_mut_ptr(), o, k, i, 1.5, seed, offset),
                0
            );
            lines.push(Bits::F32(y).line(&format!("log_softmax_f32_{tag}")));
            let mut y = vec![0.0f64; len];
            assert_eq!(
                gumbel_log_softmax_f64(l64.as_ptr(), y.as_mut_ptr(), o, k, i, 1.5, seed, offset),
                0
            );
            lines.push(Bits::F64(y).line(&format!("log_softmax_f64_{tag}")));
            // The deterministic softmax (no noise) too: it shares the kernels.
            let mut y = vec![0.0f32; len];
            assert_eq!(
                gumbel_tempered_softmax_f32(l32.as_ptr(), y.as_mut_ptr(), o, k, i, 0.7),
                0
            );
            lines.push(Bits::F32(y).line(&format!("tempered_softmax_f32_{tag}")));
            let mut y = vec![0.0f64; len];
            assert_eq!(
                gumbel_tempered_softmax_f64(l64.as_ptr(), y.as_mut_ptr(), o, k, i, 0.7),
                0
            );
            lines.push(Bits::F64(y).line(&format!("tempered_softmax_f64_{tag}")));
            let _ = n;
        }
    }
    for n in [1usize, 1000, 3 * 16384 + 5] {
        let l64: Vec<f64> = logits(n, false).iter().map(|v| v / 2.0).collect();
        let l32 = f32s(&l64);
        unsafe {
            let mut g = vec![0.0f32; n];
            assert_eq!(
                gumbel_noise_f32(g.as_mut_ptr(), n, 0.0, 1.0, seed, offset),
                0
            );
            lines.push(Bits::F32(g).line(&format!("noise_f32_{n}")));
            let mut g = vec![0.0f64; n];
            assert_eq!(
                gumbel_noise_f64(g.as_mut_ptr(), n, 0.25, 2.0, seed, offset),
                0
            );
            lines.push(Bits::F64(g).line(&format!("noise_f64_{n}")));
            for hard in [false, true] {
                let mut y = vec![0.0f32; n];
                let s = gumbel_relaxed_bernoulli_f32(
                    l32.as_ptr(),
                    y.as_mut_ptr(),
                    n,
                    0.5,
                    hard,
                    seed,
                    offset,
                );
                assert_eq!(s, 0);
                lines.push(
                    Bits::F32(y).line(&format!("relaxed_bernoulli_f32_hard{}_{n}", hard as u8)),
                );
                let mut y = vec![0.0f64; n];
                let s = gumbel_relaxed_bernoulli_f64(
                    l64.as_ptr(),
                    y.as_mut_ptr(),
                    n,
                    0.5,
                    hard,
                    seed,
                    offset,
                );
                assert_eq!(s, 0);
                lines.push(
                    Bits::F64(y).line(&format!("relaxed_bernoulli_f64_hard{}_{n}", hard as u8)),
                );
            }
        }
    }
    lines
}

#[test]
fn outputs_match_the_golden_file_for_1_2_and_7_threads() {
    let mut runs = Vec::new();
    for threads in [1usize, 2, 7] {
        assert_eq!(gumbel_set_num_threads(threads), GUMBEL_STATUS_OK);
        runs.push((threads, cases()));
    }
    assert_eq!(gumbel_set_num_threads(0), GUMBEL_STATUS_OK);
    let text = runs[0].1.join("\n") + "\n";
    if std::env::var_os("GUMBEL_BLESS").is_some() {
        std::fs::create_dir_all(std::path::Path::new(PATH).parent().unwrap()).unwrap();
        std::fs::write(PATH, &text).unwrap();
    }
    let golden = std::fs::read_to_string(PATH).expect("tests/data/golden.txt");
    let golden: Vec<&str> = golden.lines().collect();
    for (threads, lines) in &runs {
        assert_eq!(lines.len(), golden.len(), "case count changed");
        let diffs: Vec<String> = lines
            .iter()
            .zip(&golden)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("  got  {a}\n  want {b}"))
            .collect();
        assert!(
            diffs.is_empty(),
            "{} of {} golden cases differ with {threads} threads:\n{}",
            diffs.len(),
            golden.len(),
            diffs.join("\n")
        );
    }
}

#[test]
fn the_hash_sees_a_one_ulp_change() {
    let a = Bits::F32(vec![0.5, 0.25]).line("x");
    let b = Bits::F32(vec![0.5, f32::from_bits(0.25f32.to_bits() + 1)]).line("x");
    assert_ne!(a.split(' ').nth(2), b.split(' ').nth(2));
}
