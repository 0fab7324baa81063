//! The randomness contract: outputs are a pure function of
//! `(seed, offset, input)`, independent of the thread count, of the memory
//! layout (`inner`), and of the rows after a row; `streams` tells how far to
//! advance `offset` so consecutive calls continue one another exactly.

use crate::common;

use common::in_pool;
use gumbel::{gumbel_softmax, noise, sample, streams, Shape, CHUNK_ELEMENTS};

fn logits(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 2_654_435_761usize) % 1000) as f32 / 100.0 - 5.0)
        .collect()
}

fn bits(x: &[f32]) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn same_seed_same_bits_other_seed_or_offset_other_bits() {
    let shape = Shape::matrix(300, 37).unwrap();
    let l = logits(shape.len());
    let run = |seed, offset| {
        let mut y = vec![0.0f32; l.len()];
        gumbel_softmax(&l, &mut y, shape, 0.5, false, seed, offset).unwrap();
        bits(&y)
    };
    assert_eq!(run(1, 0), run(1, 0));
    assert_ne!(run(1, 0), run(2, 0));
    assert_ne!(run(1, 0), run(1, 1));
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let shape = Shape::new(4, 1000, 90).unwrap();
    let l = logits(shape.len());
    let run = |threads| {
        in_pool(threads, || {
            let mut soft = vec![0.0f32; l.len()];
            let mut idx = vec![0i64; shape.rows()];
            let mut g = vec![0.0f32; 3 * CHUNK_ELEMENTS + 17];
            gumbel_softmax(&l, &mut soft, shape, 0.7, false, 5, 9).unwrap();
            sample(&l, &mut idx, shape, 5, 9).unwrap();
            noise(&mut g, 0.0, 1.0, 5, 9).unwrap();
            (bits(&soft), idx, bits(&g))
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(7));
}

#[test]
fn inner_layout_equals_the_transposed_contiguous_input() {
    let (outer, classes, inner) = (3, 50, 7);
    let l = logits(outer * classes * inner);
    // Row (o, i) of the strided tensor is row o * inner + i of the matrix.
    let mut matrix = vec![0.0f32; l.len()];
    for o in 0..outer {
        for k in 0..classes {
            for i in 0..inner {
                matrix[(o * inner + i) * classes + k] = l[(o * classes + k) * inner + i];
            }
        }
    }
    let strided = Shape::new(outer, classes, inner).unwrap();
    let flat = Shape::matrix(outer * inner, classes).unwrap();
    for hard in [false, true] {
        let mut a = vec![0.0f32; l.len()];
        let mut b = vec![0.0f32; l.len()];
        gumbel_softmax(&l, &mut a, strided, 0.3, hard, 8, 1).unwrap();
        gumbel_softmax(&matrix, &mut b, flat, 0.3, hard, 8, 1).unwrap();
        for o in 0..outer {
            for k in 0..classes {
                for i in 0..inner {
                    assert_eq!(
                        a[(o * classes + k) * inner + i].to_bits(),
                        b[(o * inner + i) * classes + k].to_bits()
                    );
                }
            }
        }
    }
    let mut ia = vec![0i64; outer * inner];
    let mut ib = vec![0i64; outer * inner];
    sample(&l, &mut ia, strided, 8, 1).unwrap();
    sample(&matrix, &mut ib, flat, 8, 1).unwrap();
    assert_eq!(ia, ib);
}

#[test]
fn a_row_does_not_depend_on_the_rows_after_it() {
    let classes = 3000;
    let l = logits(40 * classes);
    let mut all = vec![0i64; 40];
    sample(&l, &mut all, Shape::matrix(40, classes).unwrap(), 4, 2).unwrap();
    for rows in [1, 5, 17, 39] {
        let mut some = vec![0i64; rows];
        sample(
            &l[..rows * classes],
            &mut some,
            Shape::matrix(rows, classes).unwrap(),
            4,
            2,
        )
        .unwrap();
        assert_eq!(some, all[..rows]);
    }
}

#[test]
fn advancing_the_offset_by_streams_continues_a_call() {
    // Noise: a call of n1 + n2 values equals a call of n1 followed by a call
    // of n2 at offset + streams(n1), when n1 is a whole number of chunks.
    let (n1, n2) = (2 * CHUNK_ELEMENTS, 1000);
    let mut whole = vec![0.0f64; n1 + n2];
    noise(&mut whole, 0.0, 1.0, 3, 40).unwrap();
    let mut first = vec![0.0f64; n1];
    let mut second = vec![0.0f64; n2];
    noise(&mut first, 0.0, 1.0, 3, 40).unwrap();
    noise(
        &mut second,
        0.0,
        1.0,
        3,
        40 + streams(Shape::new(1, n1, 1).unwrap()),
    )
    .unwrap();
    assert_eq!([first, second].concat(), whole);

    // Rows: split at a unit boundary (16384 / 100 = 163 rows per unit).
    let classes = 100;
    let rows_per_unit = CHUNK_ELEMENTS / classes;
    let (r1, r2) = (2 * rows_per_unit, 50);
    let l = logits((r1 + r2) * classes);
    let mut all = vec![0i64; r1 + r2];
    sample(&l, &mut all, Shape::matrix(r1 + r2, classes).unwrap(), 6, 0).unwrap();
    let head = Shape::matrix(r1, classes).unwrap();
    let mut a = vec![0i64; r1];
    let mut b = vec![0i64; r2];
    sample(&l[..r1 * classes], &mut a, head, 6, 0).unwrap();
    sample(
        &l[r1 * classes..],
        &mut b,
        Shape::matrix(r2, classes).unwrap(),
        6,
        streams(head),
    )
    .unwrap();
    assert_eq!([a, b].concat(), all);
}

#[test]
fn f32_and_f64_draw_the_same_variates() {
    let mut g32 = vec![0.0f32; 5000];
    let mut g64 = vec![0.0f64; 5000];
    noise(&mut g32, 0.0, 1.0, 12, 0).unwrap();
    noise(&mut g64, 0.0, 1.0, 12, 0).unwrap();
    for (a, b) in g32.iter().zip(&g64) {
        assert!(
            (f64::from(*a) - b).abs() <= 1e-5 * b.abs().max(1.0),
            "{a} vs {b}"
        );
    }
}

#[test]
fn the_library_pool_size_does_not_change_results() {
    let _pool = common::pool_size_lock();
    let shape = Shape::matrix(2000, 300).unwrap();
    let l = logits(shape.len());
    let run = |threads| {
        gumbel::set_num_threads(threads).unwrap();
        assert_eq!(gumbel::num_threads(), threads.max(1));
        let mut y = vec![0.0f32; l.len()];
        gumbel_softmax(&l, &mut y, shape, 2.0, false, 1, 2).unwrap();
        bits(&y)
    };
    let one = run(1);
    assert_eq!(one, run(3));
    assert_eq!(one, run(2));
    assert!(gumbel::set_num_threads(gumbel::max_threads() + 1).is_err());
}
