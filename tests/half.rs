//! bfloat16 and float16 tensors: every sampler, the tempered softmax and the
//! backward computed in `f32` with exactly the `f32` call's noise, so each
//! output is the `f32` call's output (on the inputs widened to `f32`)
//! rounded once to nearest even, bit for bit; indices are the `f32` call's;
//! bad input gets the `f32` call's error and leaves the output untouched.

use gumbel::ffi::*;
use gumbel::{Bf16, ErrorKind, Half, Shape, F16};

/// Logits of `n` elements in `(outer, classes, inner)` layout, with a few
/// masked (`-inf`) classes (never a whole row), rounded to `H`.
fn logits<H: Half>(shape: Shape) -> Vec<H> {
    (0..shape.len())
        .map(|i| {
            let class = (i / shape.inner()) % shape.classes();
            let x = if class % 13 == 5 {
                f32::NEG_INFINITY
            } else {
                ((i.wrapping_mul(2_654_435_761) % 2003) as f32 - 1001.0) / 97.0
            };
            H::from_f32(x)
        })
        .collect()
}

fn widen<H: Half>(x: &[H]) -> Vec<f32> {
    x.iter().map(|h| h.to_f32()).collect()
}

/// `x` rounded once to `H`, as bits.
fn rounded<H: Half>(x: &[f32]) -> Vec<u16> {
    x.iter().map(|&v| H::from_f32(v).to_bits()).collect()
}

fn bits<H: Half>(x: &[H]) -> Vec<u16> {
    x.iter().map(|h| h.to_bits()).collect()
}

/// Several shapes: short rows, a strided layout, many rows (parallel),
/// rows longer than a stream segment (the `f32` call splits those across
/// the threads; the 16-bit call runs them one per thread).
fn shapes() -> Vec<Shape> {
    vec![
        Shape::matrix(5, 7).unwrap(),
        Shape::matrix(1, 1).unwrap(),
        Shape::new(4, 50, 3).unwrap(),
        Shape::matrix(300, 1000).unwrap(),
        Shape::matrix(3, 40_000).unwrap(),
        Shape::new(2, 20_000, 2).unwrap(),
    ]
}

fn per_row_tau(shape: Shape) -> Vec<f32> {
    (0..shape.rows())
        .map(|r| 0.3 + (r % 7) as f32 * 0.25)
        .collect()
}

fn forward_equals_f32_rounded<H: Half>()
where
    H: gumbel::Element<Compute = f32>,
{
    for shape in shapes() {
        let l = logits::<H>(shape);
        let wide = widen(&l);
        let n = shape.len();
        let taus = per_row_tau(shape);
        for hard in [false, true] {
            let mut y32 = vec![0.0f32; n];
            gumbel::gumbel_softmax(&wide, &mut y32, shape, 0.6, hard, 11, 7).unwrap();
            let mut y = vec![H::from_bits(0x1234); n];
            gumbel::gumbel_softmax(&l, &mut y, shape, 0.6, hard, 11, 7).unwrap();
            assert_eq!(bits(&y), rounded::<H>(&y32), "{shape:?} hard {hard}");

            gumbel::gumbel_softmax_per_row(&wide, &mut y32, shape, &taus, hard, 12, 3).unwrap();
            gumbel::gumbel_softmax_per_row(&l, &mut y, shape, &taus, hard, 12, 3).unwrap();
            assert_eq!(
                bits(&y),
                rounded::<H>(&y32),
                "{shape:?} per row, hard {hard}"
            );
        }
        let mut y32 = vec![0.0f32; n];
        let mut y = vec![H::from_bits(0); n];
        gumbel::tempered_softmax(&wide, &mut y32, shape, 1.7).unwrap();
        gumbel::tempered_softmax(&l, &mut y, shape, 1.7).unwrap();
        assert_eq!(bits(&y), rounded::<H>(&y32), "{shape:?} tempered");
        gumbel::tempered_softmax_per_row(&wide, &mut y32, shape, &taus).unwrap();
        gumbel::tempered_softmax_per_row(&l, &mut y, shape, &taus).unwrap();
        assert_eq!(bits(&y), rounded::<H>(&y32), "{shape:?} tempered per row");
        // A masked class is exactly 0.
        for (k, v) in l.iter().enumerate() {
            if v.to_f32() == f32::NEG_INFINITY {
                assert_eq!(y[k].to_bits(), 0, "{shape:?} masked {k}");
            }
        }

        let (mut i32s, mut i16s) = (vec![-1i64; shape.rows()], vec![-2i64; shape.rows()]);
        gumbel::sample(&wide, &mut i32s, shape, 5, 9).unwrap();
        gumbel::sample(&l, &mut i16s, shape, 5, 9).unwrap();
        assert_eq!(i16s, i32s, "{shape:?} indices");
    }
}

#[test]
fn bf16_forward_is_the_f32_forward_rounded_once() {
    forward_equals_f32_rounded::<Bf16>();
}

#[test]
fn f16_forward_is_the_f32_forward_rounded_once() {
    forward_equals_f32_rounded::<F16>();
}

fn backward_equals_f32_rounded<H: Half + gumbel::Element<Compute = f32>>() {
    for shape in shapes() {
        let l = logits::<H>(shape);
        let n = shape.len();
        let mut y = vec![H::from_bits(0); n];
        gumbel::gumbel_softmax(&l, &mut y, shape, 0.8, false, 1, 2).unwrap();
        let v: Vec<H> = (0..n)
            .map(|i| H::from_f32(((i * 7919) % 211) as f32 / 17.0 - 6.0))
            .collect();
        let (wy, wv) = (widen(&y), widen(&v));
        let taus = per_row_tau(shape);
        let mut g32 = vec![0.0f32; n];
        let mut g = vec![H::from_bits(0x4321); n];
        gumbel::gumbel_softmax_backward(&wy, &wv, &mut g32, shape, 0.8).unwrap();
        gumbel::gumbel_softmax_backward(&y, &v, &mut g, shape, 0.8).unwrap();
        assert_eq!(bits(&g), rounded::<H>(&g32), "{shape:?}");
        gumbel::gumbel_softmax_backward_per_row(&wy, &wv, &mut g32, shape, &taus).unwrap();
        gumbel::gumbel_softmax_backward_per_row(&y, &v, &mut g, shape, &taus).unwrap();
        assert_eq!(bits(&g), rounded::<H>(&g32), "{shape:?} per row");
    }
}

#[test]
fn bf16_backward_is_the_f32_backward_rounded_once() {
    backward_equals_f32_rounded::<Bf16>();
}

#[test]
fn f16_backward_is_the_f32_backward_rounded_once() {
    backward_equals_f32_rounded::<F16>();
}

/// Bad logits, temperatures and soft samples give the `f32` call's error,
/// and leave the 16-bit output untouched.
fn bad_input_as_f32<H: Half + gumbel::Element<Compute = f32>>() {
    let shape = Shape::new(3, 5, 2).unwrap();
    let n = shape.len();
    let good = logits::<H>(shape);
    let sentinel = H::from_bits(0x3c3c);
    let kind = |r: gumbel::Result<()>| r.unwrap_err().kind();
    let logit_cases: [(usize, f32); 3] = [(7, f32::NAN), (12, f32::INFINITY), (0, 0.0)];
    for (at, value) in logit_cases {
        let mut l = good.clone();
        if value == 0.0 {
            // A whole row masked: row (o = 1, i = 0).
            for c in 0..5 {
                l[10 + c * 2] = H::from_f32(f32::NEG_INFINITY);
            }
        } else {
            l[at] = H::from_f32(value);
        }
        let wide = widen(&l);
        let mut y32 = vec![0.0f32; n];
        let mut y = vec![sentinel; n];
        let want = kind(gumbel::gumbel_softmax(
            &wide, &mut y32, shape, 0.5, false, 1, 0,
        ));
        let got = kind(gumbel::gumbel_softmax(&l, &mut y, shape, 0.5, false, 1, 0));
        assert_eq!(got, want, "logit {value} at {at}");
        assert!(matches!(
            got,
            ErrorKind::InvalidLogits | ErrorKind::AllMasked
        ));
        assert!(y.iter().all(|v| v.to_bits() == sentinel.to_bits()));
        let mut idx = vec![-5i64; shape.rows()];
        let got = gumbel::sample(&l, &mut idx, shape, 1, 0)
            .unwrap_err()
            .kind();
        assert_eq!(got, want);
        assert!(idx.iter().all(|&i| i == -5));
    }
    for tau in [0.0f32, -1.0, f32::NAN, f32::INFINITY] {
        let mut y = vec![sentinel; n];
        let got = kind(gumbel::gumbel_softmax(
            &good, &mut y, shape, tau, true, 1, 0,
        ));
        assert_eq!(got, ErrorKind::InvalidTemperature, "tau {tau}");
        assert!(y.iter().all(|v| v.to_bits() == sentinel.to_bits()));
        let mut taus = per_row_tau(shape);
        taus[4] = tau;
        let got = kind(gumbel::tempered_softmax_per_row(
            &good, &mut y, shape, &taus,
        ));
        assert_eq!(got, ErrorKind::InvalidTemperature, "tau {tau}");
        assert!(y.iter().all(|v| v.to_bits() == sentinel.to_bits()));
    }
    let y_soft = vec![H::from_f32(0.1); n];
    for (name, value) in [
        ("y_soft", f32::NAN),
        ("y_soft", 1.5),
        ("grad_out", f32::INFINITY),
    ] {
        let (mut y, mut v) = (y_soft.clone(), vec![H::from_f32(1.0); n]);
        if name == "y_soft" {
            y[3] = H::from_f32(value);
        } else {
            v[3] = H::from_f32(value);
        }
        let mut g = vec![sentinel; n];
        let err = gumbel::gumbel_softmax_backward(&y, &v, &mut g, shape, 1.0).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidValue, "{name} {value}");
        assert!(err.to_string().contains(name), "{err}");
        // The backward validates as it computes: on this error `grad_logits`
        // holds unspecified values (the documented gradient error contract).
    }
    // Lengths.
    let mut short = vec![sentinel; n - 1];
    let got = kind(gumbel::gumbel_softmax(
        &good, &mut short, shape, 1.0, false, 1, 0,
    ));
    assert_eq!(got, ErrorKind::InvalidShape);
}

#[test]
fn bf16_bad_input_fails_as_f32() {
    bad_input_as_f32::<Bf16>();
}

#[test]
fn f16_bad_input_fails_as_f32() {
    bad_input_as_f32::<F16>();
}

/// The C entries: the same bits as the `f32` entries rounded, and the same
/// statuses for bad input (NULL pointers, bad temperatures, NaN logits).
#[test]
fn c_entries_round_the_f32_entries() {
    let shape = Shape::matrix(6, 33).unwrap();
    let n = shape.len();
    let lb = logits::<Bf16>(shape);
    let lf = logits::<F16>(shape);
    let (wb, wf) = (widen(&lb), widen(&lf));
    let raw = |x: &[Bf16]| x.iter().map(|h| h.to_bits()).collect::<Vec<u16>>();
    let rawf = |x: &[F16]| x.iter().map(|h| h.to_bits()).collect::<Vec<u16>>();
    let (lb, lf) = (raw(&lb), rawf(&lf));
    let mut y32 = vec![0.0f32; n];
    let mut y16 = vec![0u16; n];
    unsafe {
        assert_eq!(
            gumbel_softmax_f32(wb.as_ptr(), y32.as_mut_ptr(), 6, 33, 1, 0.5, false, 4, 5),
            0
        );
        assert_eq!(
            gumbel_softmax_bf16(lb.as_ptr(), y16.as_mut_ptr(), 6, 33, 1, 0.5, false, 4, 5),
            0
        );
        assert_eq!(y16, rounded::<Bf16>(&y32));
        assert_eq!(
            gumbel_softmax_f32(wf.as_ptr(), y32.as_mut_ptr(), 6, 33, 1, 0.5, true, 4, 5),
            0
        );
        assert_eq!(
            gumbel_softmax_f16(lf.as_ptr(), y16.as_mut_ptr(), 6, 33, 1, 0.5, true, 4, 5),
            0
        );
        assert_eq!(y16, rounded::<F16>(&y32));
        let (mut i32s, mut i16s) = (vec![0i64; 6], vec![0i64; 6]);
        assert_eq!(
            gumbel_sample_f32(wf.as_ptr(), i32s.as_mut_ptr(), 6, 33, 1, 8, 1),
            0
        );
        assert_eq!(
            gumbel_sample_f16(lf.as_ptr(), i16s.as_mut_ptr(), 6, 33, 1, 8, 1),
            0
        );
        assert_eq!(i16s, i32s);

        let before = y16.clone();
        let cases: [(f32, usize, gumbel_status); 3] = [
            (f32::NAN, 0, GUMBEL_STATUS_INVALID_TEMPERATURE),
            (0.5, 1, GUMBEL_STATUS_NULL_POINTER),
            (0.5, 2, GUMBEL_STATUS_INVALID_LOGITS),
        ];
        for (tau, case, want) in cases {
            let mut l32 = wb.clone();
            let mut l16 = lb.clone();
            if case == 2 {
                l32[40] = f32::NAN;
                l16[40] = 0x7fc1;
            }
            let (p32, p16) = if case == 1 {
                (std::ptr::null(), std::ptr::null())
            } else {
                (l32.as_ptr(), l16.as_ptr())
            };
            let s32 = gumbel_softmax_f32(p32, y32.as_mut_ptr(), 6, 33, 1, tau, false, 4, 5);
            let s16 = gumbel_softmax_bf16(p16, y16.as_mut_ptr(), 6, 33, 1, tau, false, 4, 5);
            assert_eq!((s16, s32), (want, want), "case {case}");
            assert_eq!(y16, before, "case {case}: output written");
        }
    }
}
