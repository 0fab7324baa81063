//! Keyed rows: each row of a keyed call draws exactly what the one-row call
//! with its `(seed, offset)` draws, whatever the batch around it (its other
//! rows, their order, the batch size, the thread count).

use crate::common;

use common::{chi_square_p, counts, softmax, tile, ALPHA};
use gumbel::ffi::*;
use gumbel::{gumbel_softmax_keyed, noise, sample_keyed, Shape};

/// A SplitMix64 step: the test's source of keys and permutations.
fn mix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `rows` rows of `classes` logits spread over a few units, every fifth
/// class of every third row masked.
fn logits(rows: usize, classes: usize) -> Vec<f64> {
    let mut x = vec![0.0f64; rows * classes];
    noise(&mut x, 0.0, 2.0, 99, 0).unwrap();
    for r in (0..rows).step_by(3) {
        for c in (1..classes).step_by(5) {
            x[r * classes + c] = f64::NEG_INFINITY;
        }
    }
    x
}

/// A permutation of `0..n` drawn from `state`.
fn permutation(n: usize, state: &mut u64) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        p.swap(i, (mix(state) % (i as u64 + 1)) as usize);
    }
    p
}

/// The one-row `gumbel_sample_f32`/`_f64` index of each row.
fn one_row_indices<F: Copy>(
    x: &[F],
    classes: usize,
    keys: &[(u64, u64)],
    call: unsafe extern "C" fn(*const F, *mut i64, usize, usize, usize, u64, u64) -> gumbel_status,
) -> Vec<i64> {
    keys.iter()
        .enumerate()
        .map(|(r, &(seed, offset))| {
            let mut i = -1i64;
            let st = unsafe {
                call(
                    x[r * classes..].as_ptr(),
                    &mut i,
                    1,
                    classes,
                    1,
                    seed,
                    offset,
                )
            };
            assert_eq!(st, GUMBEL_STATUS_OK);
            i
        })
        .collect()
}

/// Rows gathered in the order `perm`.
fn gather<T: Copy>(x: &[T], width: usize, perm: &[usize]) -> Vec<T> {
    perm.iter()
        .flat_map(|&r| x[r * width..(r + 1) * width].iter().copied())
        .collect()
}

fn check_sample_batch_invariance(rows: usize, classes: usize) {
    let x64 = logits(rows, classes);
    let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
    let mut state = (rows * 1000 + classes) as u64;
    let keys: Vec<(u64, u64)> = (0..rows)
        .map(|_| (mix(&mut state) % 4, mix(&mut state) % 1000))
        .collect();
    let want32 = one_row_indices(&x32, classes, &keys, gumbel_sample_f32);
    let want64 = one_row_indices(&x64, classes, &keys, gumbel_sample_f64);
    // The whole batch, shuffled batches and sub-batches.
    let mut batches = vec![(0..rows).collect::<Vec<_>>()];
    for _ in 0..3 {
        batches.push(permutation(rows, &mut state));
    }
    batches.push((0..rows).rev().step_by(2).collect());
    batches.push(vec![rows / 2]);
    for perm in &batches {
        let seeds: Vec<u64> = perm.iter().map(|&r| keys[r].0).collect();
        let offsets: Vec<u64> = perm.iter().map(|&r| keys[r].1).collect();
        let (l32, l64) = (gather(&x32, classes, perm), gather(&x64, classes, perm));
        let n = perm.len();
        let mut got32 = vec![-1i64; n];
        let mut got64 = vec![-1i64; n];
        let st = unsafe {
            gumbel_sample_keyed_f32(
                l32.as_ptr(),
                got32.as_mut_ptr(),
                n,
                classes,
                seeds.as_ptr(),
                offsets.as_ptr(),
            )
        };
        assert_eq!(st, GUMBEL_STATUS_OK);
        let st = unsafe {
            gumbel_sample_keyed_f64(
                l64.as_ptr(),
                got64.as_mut_ptr(),
                n,
                classes,
                seeds.as_ptr(),
                offsets.as_ptr(),
            )
        };
        assert_eq!(st, GUMBEL_STATUS_OK);
        for (j, &r) in perm.iter().enumerate() {
            assert_eq!(
                got32[j], want32[r],
                "f32 row {r} at position {j}, classes {classes}"
            );
            assert_eq!(
                got64[j], want64[r],
                "f64 row {r} at position {j}, classes {classes}"
            );
        }
    }
}

#[test]
fn keyed_indices_equal_one_row_calls_in_any_batch() {
    // Short rows (many per stream unit in an unkeyed call), rows long
    // enough for the parallel path, and rows longer than a stream segment.
    check_sample_batch_invariance(37, 7);
    check_sample_batch_invariance(64, 1000);
    check_sample_batch_invariance(5, 40_000);
}

#[test]
fn keyed_indices_do_not_depend_on_the_thread_count() {
    let (rows, classes) = (64, 1000);
    let x = logits(rows, classes);
    let seeds: Vec<u64> = (0..rows as u64).collect();
    let offsets = vec![3u64; rows];
    let shape = Shape::matrix(rows, classes).unwrap();
    let run = |threads| {
        common::in_pool(threads, || {
            let mut i = vec![-1i64; rows];
            sample_keyed(&x, &mut i, shape, &seeds, &offsets).unwrap();
            i
        })
    };
    assert_eq!(run(1), run(2));
    assert_eq!(run(1), run(3));
}

#[test]
fn keyed_softmax_equals_one_row_calls_bit_for_bit() {
    for (rows, classes) in [(23, 9), (40, 1000), (3, 20_000)] {
        let x = logits(rows, classes);
        let mut state = classes as u64;
        let keys: Vec<(u64, u64)> = (0..rows)
            .map(|_| (mix(&mut state), mix(&mut state)))
            .collect();
        let perm = permutation(rows, &mut state);
        let seeds: Vec<u64> = perm.iter().map(|&r| keys[r].0).collect();
        let offsets: Vec<u64> = perm.iter().map(|&r| keys[r].1).collect();
        let l = gather(&x, classes, &perm);
        for (tau, hard) in [(0.7, false), (2.5, false), (0.7, true)] {
            let mut got = vec![f64::NAN; rows * classes];
            let st = unsafe {
                gumbel_softmax_keyed_f64(
                    l.as_ptr(),
                    got.as_mut_ptr(),
                    rows,
                    classes,
                    tau,
                    hard,
                    seeds.as_ptr(),
                    offsets.as_ptr(),
                )
            };
            assert_eq!(st, GUMBEL_STATUS_OK);
            for (j, &r) in perm.iter().enumerate() {
                let mut want = vec![f64::NAN; classes];
                let (seed, offset) = keys[r];
                let st = unsafe {
                    gumbel_softmax_f64(
                        x[r * classes..].as_ptr(),
                        want.as_mut_ptr(),
                        1,
                        classes,
                        1,
                        tau,
                        hard,
                        seed,
                        offset,
                    )
                };
                assert_eq!(st, GUMBEL_STATUS_OK);
                let got = &got[j * classes..(j + 1) * classes];
                assert!(
                    got.iter()
                        .zip(&want)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "row {r}, tau {tau}, hard {hard}, classes {classes}"
                );
            }
            // The f32 entry against its one-row call, on the first row.
            let l32: Vec<f32> = l.iter().map(|&v| v as f32).collect();
            let mut got32 = vec![f32::NAN; rows * classes];
            let mut want32 = vec![f32::NAN; classes];
            unsafe {
                assert_eq!(
                    gumbel_softmax_keyed_f32(
                        l32.as_ptr(),
                        got32.as_mut_ptr(),
                        rows,
                        classes,
                        tau as f32,
                        hard,
                        seeds.as_ptr(),
                        offsets.as_ptr(),
                    ),
                    GUMBEL_STATUS_OK
                );
                assert_eq!(
                    gumbel_softmax_f32(
                        l32.as_ptr(),
                        want32.as_mut_ptr(),
                        1,
                        classes,
                        1,
                        tau as f32,
                        hard,
                        seeds[0],
                        offsets[0],
                    ),
                    GUMBEL_STATUS_OK
                );
            }
            assert_eq!(&got32[..classes], &want32[..]);
        }
    }
}

#[test]
fn hard_keyed_rows_sit_at_the_keyed_index() {
    let (rows, classes) = (50, 33);
    let x = logits(rows, classes);
    let seeds: Vec<u64> = (0..rows as u64).map(|r| r * 7).collect();
    let offsets: Vec<u64> = (0..rows as u64).collect();
    let shape = Shape::matrix(rows, classes).unwrap();
    let mut idx = vec![-1i64; rows];
    sample_keyed(&x, &mut idx, shape, &seeds, &offsets).unwrap();
    let mut y = vec![0.0f64; rows * classes];
    gumbel_softmax_keyed(&x, &mut y, shape, 1.0, true, &seeds, &offsets).unwrap();
    for r in 0..rows {
        assert_eq!(y[r * classes + idx[r] as usize], 1.0, "row {r}");
    }
}

/// Requests keyed by seed, one decoding step each: the tokens of many
/// requests with the same logits follow `softmax(logits)`, and consecutive
/// steps of one request (offsets advanced by `streams(1, classes)`) too.
#[test]
fn keyed_draws_follow_the_softmax() {
    let row = [1.0f64, 0.0, -1.0, 2.0, f64::NEG_INFINITY, -3.0, 0.5];
    let classes = row.len();
    let n = 200_000;
    let x = tile(&row, n);
    let shape = Shape::matrix(n, classes).unwrap();
    let probs = softmax(&row, 1.0);
    let mut idx = vec![-1i64; n];
    // Across requests: seeds 0..n at step 0.
    let seeds: Vec<u64> = (0..n as u64).collect();
    sample_keyed(&x, &mut idx, shape, &seeds, &vec![0; n]).unwrap();
    let p = chi_square_p(&counts(&idx, classes), &probs);
    assert!(p > ALPHA, "across requests: p = {p}");
    // Across the steps of one request.
    let step = gumbel_streams(1, classes, 1);
    let offsets: Vec<u64> = (0..n as u64).map(|t| t * step).collect();
    sample_keyed(&x, &mut idx, shape, &vec![5; n], &offsets).unwrap();
    let p = chi_square_p(&counts(&idx, classes), &probs);
    assert!(p > ALPHA, "across steps: p = {p}");
}
