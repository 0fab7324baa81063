//! Filtered sampling: per-row temperature, top-k, min-p and top-p, then an
//! exact keyed Gumbel-max draw. The kept sets and probabilities are checked
//! against a reference written here from the definitions by sorting, the
//! frequencies against it by chi-square (with wrong orders and a missing
//! temperature rejected), the index against the keyed sample on the
//! processed logits, and the C entries against bad input.

use crate::common;

use common::{chi_square_p, counts, ALPHA};
use gumbel::ffi::*;
use gumbel::{sample_filtered, sample_keyed, streams, FilteredSample, Filters, Shape};

/// One row's filters: temperature, top-k, top-p, min-p.
#[derive(Clone, Copy, Debug)]
struct Setting {
    t: f64,
    k: i64,
    p: f64,
    min_p: f64,
}

const OFF: Setting = Setting {
    t: 1.0,
    k: 0,
    p: 1.0,
    min_p: 0.0,
};

/// The order in which a reference applies the truncations.
#[derive(Clone, Copy, PartialEq)]
enum Order {
    /// The library's: temperature, top-k and min-p, then top-p.
    Documented,
    /// Top-p before top-k (on the full distribution).
    TopPFirst,
    /// The truncations on the untempered distribution, the temperature last.
    TemperatureLast,
    /// The temperature ignored.
    NoTemperature,
}

/// The processed distribution by the definitions, sorting the row: each
/// class's probability (0 for removed classes).
fn reference(l: &[f64], s: Setting, order: Order) -> Vec<f64> {
    let t = if order == Order::NoTemperature {
        1.0
    } else {
        s.t
    };
    let truncation_t = if order == Order::TemperatureLast {
        1.0
    } else {
        t
    };
    let m = l.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let x: Vec<f64> = l.iter().map(|&v| (v - m) / truncation_t).collect();
    let mut keep: Vec<bool> = l.iter().map(|&v| v > f64::NEG_INFINITY).collect();
    let mut sorted: Vec<usize> = (0..l.len()).filter(|&i| keep[i]).collect();
    sorted.sort_by(|&a, &b| x[b].partial_cmp(&x[a]).unwrap());
    let top_k = |keep: &mut Vec<bool>| {
        if s.k > 0 && (s.k as usize) < sorted.len() {
            let kth = x[sorted[s.k as usize - 1]];
            for i in 0..l.len() {
                keep[i] &= x[i] >= kth;
            }
        }
    };
    let min_p = |keep: &mut Vec<bool>| {
        for i in 0..l.len() {
            keep[i] &= x[i].exp() >= s.min_p;
        }
    };
    let top_p = |keep: &mut Vec<bool>| {
        let total: f64 = (0..l.len()).filter(|&i| keep[i]).map(|i| x[i].exp()).sum();
        let mut above = 0.0;
        let mut cut = f64::NEG_INFINITY;
        let mut j = 0;
        let kept: Vec<usize> = sorted.iter().copied().filter(|&i| keep[i]).collect();
        while j < kept.len() && above < s.p * total {
            cut = x[kept[j]];
            while j < kept.len() && x[kept[j]] == cut {
                above += x[kept[j]].exp();
                j += 1;
            }
        }
        for i in 0..l.len() {
            keep[i] &= x[i] >= cut;
        }
    };
    if order == Order::TopPFirst {
        top_p(&mut keep);
        top_k(&mut keep);
        min_p(&mut keep);
    } else {
        top_k(&mut keep);
        min_p(&mut keep);
        top_p(&mut keep);
    }
    let w: Vec<f64> = (0..l.len())
        .map(|i| if keep[i] { ((l[i] - m) / t).exp() } else { 0.0 })
        .collect();
    let z: f64 = w.iter().sum();
    w.iter().map(|v| v / z).collect()
}

/// `n` draws of the row `l` under `s` through the C entry, as `n` keyed
/// rows of one request at consecutive steps, in batches of at most 2000.
fn draws(l: &[f64], s: Setting, n: usize, seed: u64) -> Vec<i64> {
    let classes = l.len();
    let step = streams(Shape::matrix(1, classes).unwrap());
    let mut indices = vec![-1i64; n];
    for (b, out) in indices.chunks_mut(2000).enumerate() {
        let rows = out.len();
        let x: Vec<f64> = (0..rows).flat_map(|_| l.iter().copied()).collect();
        let seeds = vec![seed; rows];
        let first = (b * 2000) as u64;
        let offsets: Vec<u64> = (first..first + rows as u64).map(|i| i * step).collect();
        let (t, k, p, mp) = (
            vec![s.t; rows],
            vec![s.k; rows],
            vec![s.p; rows],
            vec![s.min_p; rows],
        );
        let st = unsafe {
            gumbel_sample_filtered_f64(
                x.as_ptr(),
                out.as_mut_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                rows,
                classes,
                t.as_ptr(),
                k.as_ptr(),
                p.as_ptr(),
                mp.as_ptr(),
                seeds.as_ptr(),
                offsets.as_ptr(),
            )
        };
        assert_eq!(st, GUMBEL_STATUS_OK, "{}", common::last_error());
    }
    indices
}

/// The chi-square p-value of `counts` against `probs`; 0 if a class of
/// probability 0 was drawn, 1 for a certain class that was always drawn.
fn fit(counts: &[u64], probs: &[f64]) -> f64 {
    if counts.iter().zip(probs).any(|(&c, &p)| p == 0.0 && c > 0) {
        return 0.0;
    }
    if probs.iter().filter(|&&p| p > 0.0).count() == 1 {
        return 1.0;
    }
    chi_square_p(counts, probs)
}

/// A row with ties, a masked class and a spread of probabilities.
const ROW: [f64; 12] = [
    2.0,
    1.2,
    1.2,
    0.4,
    -0.3,
    f64::NEG_INFINITY,
    2.6,
    -1.5,
    0.9,
    -0.8,
    1.9,
    -2.4,
];

#[test]
fn filtered_frequencies_follow_the_renormalised_truncated_softmax() {
    let settings = [
        Setting { t: 0.6, ..OFF },
        Setting { t: 1.7, ..OFF },
        Setting { k: 4, ..OFF },
        Setting {
            t: 1.5,
            k: 3,
            ..OFF
        },
        Setting { p: 0.8, ..OFF },
        Setting {
            t: 2.0,
            p: 0.6,
            ..OFF
        },
        Setting { min_p: 0.2, ..OFF },
        Setting {
            t: 1.8,
            min_p: 0.3,
            ..OFF
        },
        Setting {
            t: 0.8,
            k: 6,
            p: 0.9,
            min_p: 0.05,
        },
        Setting {
            t: 2.5,
            k: 8,
            p: 0.7,
            ..OFF
        },
    ];
    let n = 200_000;
    for (i, s) in settings.iter().enumerate() {
        let probs = reference(&ROW, *s, Order::Documented);
        let got = counts(&draws(&ROW, *s, n, 100 + i as u64), ROW.len());
        let p = fit(&got, &probs);
        assert!(
            p > ALPHA,
            "{s:?}: p = {p:e}, counts {got:?}, probs {probs:?}"
        );
    }
}

/// Rows of at least 64 k classes find top-k from its candidates (the
/// classes above an estimate of the k-th largest logit): the frequencies on
/// a row of 2048 classes with ties and masked classes follow the reference
/// (top-k 13, 16 and 30, the k-th class at 2% to 6%), and a top-k one class
/// short (a candidate list missing a class) is rejected.
#[test]
fn long_rows_follow_the_renormalised_truncated_softmax() {
    // Logits of spread 0.6: the k-th class keeps a mass of percents.
    let row: Vec<f64> = batch(1, 2048).iter().map(|v| 0.3 * v).collect();
    let n = 100_000;
    let settings = [
        Setting {
            t: 0.8,
            k: 16,
            ..OFF
        },
        Setting {
            t: 1.5,
            k: 13,
            p: 0.99,
            ..OFF
        },
        Setting {
            t: 1.2,
            k: 30,
            p: 0.99,
            min_p: 0.01,
        },
    ];
    for (i, s) in settings.iter().enumerate() {
        let got = counts(&draws(&row, *s, n, 300 + i as u64), row.len());
        let p = fit(&got, &reference(&row, *s, Order::Documented));
        assert!(p > ALPHA, "{s:?}: p = {p:e}");
        let short = Setting { k: s.k - 1, ..*s };
        let bad = fit(&got, &reference(&row, short, Order::Documented));
        assert!(bad < ALPHA, "{s:?}: top-k one short passes, p = {bad:e}");
    }
}

/// A top-k at or above the number of classes is off, up to `i64::MAX`
/// (no product of `k` overflows on the way): the tokens of the call without
/// top-k.
#[test]
fn top_k_at_or_above_the_classes_is_off() {
    let (rows, classes) = (4usize, 2048usize);
    let x = batch(rows, classes);
    let shape = Shape::matrix(rows, classes).unwrap();
    let keys: Vec<u64> = (0..rows as u64).collect();
    let run = |k: i64| {
        let mut indices = vec![-1i64; rows];
        let (t, k, p) = (vec![0.9; rows], vec![k; rows], vec![0.95; rows]);
        let filters = Filters {
            temperatures: Some(&t),
            top_k: Some(&k),
            top_p: Some(&p),
            min_p: None,
        };
        let out = FilteredSample {
            indices: &mut indices,
            log_probs: None,
            processed_log_probs: None,
        };
        sample_filtered(&x, out, shape, filters, &keys, &keys).unwrap();
        indices
    };
    let off = run(0);
    for k in [classes as i64, classes as i64 + 1, 1 << 58, i64::MAX] {
        assert_eq!(run(k), off, "top-k {k}");
    }
}

#[test]
fn wrong_orders_and_a_missing_temperature_are_rejected() {
    // Settings where each wrong variant keeps a different set or weights:
    // the test's power against them is checked here, once each.
    let n = 200_000;
    let cases = [
        (
            Setting {
                t: 1.0,
                k: 2,
                p: 0.6,
                ..OFF
            },
            Order::TopPFirst,
        ),
        (
            Setting {
                t: 2.0,
                p: 0.6,
                ..OFF
            },
            Order::TemperatureLast,
        ),
        (
            Setting {
                t: 0.5,
                min_p: 0.2,
                ..OFF
            },
            Order::TemperatureLast,
        ),
        (
            Setting {
                t: 1.8,
                k: 5,
                ..OFF
            },
            Order::NoTemperature,
        ),
    ];
    for (i, (s, wrong)) in cases.iter().enumerate() {
        let got = counts(&draws(&ROW, *s, n, 900 + i as u64), ROW.len());
        let right = fit(&got, &reference(&ROW, *s, Order::Documented));
        let bad = fit(&got, &reference(&ROW, *s, *wrong));
        assert!(right > ALPHA, "{s:?}: p = {right:e}");
        assert!(bad < ALPHA, "{s:?}: the wrong variant passes, p = {bad:e}");
    }
}

/// `rows` rows of `classes` logits with masked classes and ties.
fn batch(rows: usize, classes: usize) -> Vec<f64> {
    let mut x = vec![0.0f64; rows * classes];
    gumbel::noise(&mut x, 0.0, 2.0, 5, 0).unwrap();
    for (i, v) in x.iter_mut().enumerate() {
        if i % 11 == 3 {
            *v = f64::NEG_INFINITY;
        } else if i % 7 == 0 {
            *v = (*v * 2.0).round() / 2.0;
        }
    }
    x
}

/// Per-row parameters cycling through filter kinds (greedy included).
fn settings(rows: usize) -> (Vec<f64>, Vec<i64>, Vec<f64>, Vec<f64>) {
    let kinds = [
        OFF,
        Setting {
            t: 0.7,
            k: 20,
            ..OFF
        },
        Setting {
            t: 1.3,
            p: 0.9,
            ..OFF
        },
        Setting { min_p: 0.1, ..OFF },
        Setting { t: 0.0, ..OFF },
        Setting {
            t: 0.9,
            k: 50,
            p: 0.95,
            min_p: 0.02,
        },
    ];
    let pick = |r: usize| kinds[r % kinds.len()];
    (
        (0..rows).map(|r| pick(r).t).collect(),
        (0..rows).map(|r| pick(r).k).collect(),
        (0..rows).map(|r| pick(r).p).collect(),
        (0..rows).map(|r| pick(r).min_p).collect(),
    )
}

#[test]
fn each_row_is_the_keyed_sample_of_its_processed_logits() {
    for (rows, classes) in [(13, 9), (40, 1000), (3, 40_000)] {
        let x = batch(rows, classes);
        let (t, k, p, mp) = settings(rows);
        let seeds: Vec<u64> = (0..rows as u64).map(|r| r * 31 + 7).collect();
        let offsets: Vec<u64> = (0..rows as u64).map(|r| r * 1000).collect();
        let shape = Shape::matrix(rows, classes).unwrap();
        let mut indices = vec![-1i64; rows];
        let mut raw = vec![f64::NAN; rows];
        let mut processed = vec![f64::NAN; rows];
        let filters = Filters {
            temperatures: Some(&t),
            top_k: Some(&k),
            top_p: Some(&p),
            min_p: Some(&mp),
        };
        let out = FilteredSample {
            indices: &mut indices,
            log_probs: Some(&mut raw),
            processed_log_probs: Some(&mut processed),
        };
        sample_filtered(&x, out, shape, filters, &seeds, &offsets).unwrap();
        for r in 0..rows {
            let l = &x[r * classes..(r + 1) * classes];
            let s = Setting {
                t: t[r],
                k: k[r],
                p: p[r],
                min_p: mp[r],
            };
            let i = indices[r] as usize;
            let m = l.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let log_z = m + l.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            assert!(
                (raw[r] - (l[i] - log_z)).abs() < 1e-12,
                "row {r}: raw log-prob"
            );
            if s.t == 0.0 {
                assert_eq!(l[i], m, "greedy row {r} takes the largest logit");
                assert_eq!(i, l.iter().position(|&v| v == m).unwrap(), "the first one");
                assert_eq!(processed[r], 0.0);
                continue;
            }
            let probs = reference(l, s, Order::Documented);
            assert!(probs[i] > 0.0, "row {r}: class {i} was filtered out");
            assert!(
                (processed[r] - probs[i].ln()).abs() < 1e-9,
                "row {r}: processed log-prob"
            );
            // The keyed Gumbel-max sample on the processed logits.
            let processed_logits: Vec<f64> = l
                .iter()
                .zip(&probs)
                .map(|(&v, &q)| {
                    if q > 0.0 {
                        (v - m) / s.t
                    } else {
                        f64::NEG_INFINITY
                    }
                })
                .collect();
            let mut want = [-1i64];
            let one = Shape::matrix(1, classes).unwrap();
            sample_keyed(
                &processed_logits,
                &mut want,
                one,
                &seeds[r..=r],
                &offsets[r..=r],
            )
            .unwrap();
            assert_eq!(indices[r], want[0], "row {r} ({s:?}), classes {classes}");
        }
        // Without any filter the index is the keyed sample's on the logits.
        let mut plain = vec![-1i64; rows];
        let out = FilteredSample {
            indices: &mut plain,
            log_probs: None,
            processed_log_probs: None,
        };
        sample_filtered(&x, out, shape, Filters::default(), &seeds, &offsets).unwrap();
        let mut want = vec![-1i64; rows];
        sample_keyed(&x, &mut want, shape, &seeds, &offsets).unwrap();
        assert_eq!(plain, want);
    }
}

#[test]
fn filtered_rows_do_not_depend_on_the_batch_or_the_thread_count() {
    let (rows, classes) = (64, 1000);
    let x32: Vec<f32> = batch(rows, classes).iter().map(|&v| v as f32).collect();
    let (t, k, p, mp) = settings(rows);
    let (t, p, mp): (Vec<f32>, Vec<f32>, Vec<f32>) = (
        t.iter().map(|&v| v as f32).collect(),
        p.iter().map(|&v| v as f32).collect(),
        mp.iter().map(|&v| v as f32).collect(),
    );
    let seeds: Vec<u64> = (0..rows as u64).map(|r| r ^ 0x55).collect();
    let offsets: Vec<u64> = (0..rows as u64).map(|r| r * 3).collect();
    let run = |rows: &[usize], threads| {
        let g = |v: &[f32]| rows.iter().map(|&r| v[r]).collect::<Vec<_>>();
        let l: Vec<f32> = rows
            .iter()
            .flat_map(|&r| x32[r * classes..(r + 1) * classes].iter().copied())
            .collect();
        let (t, p, mp) = (g(&t), g(&p), g(&mp));
        let k: Vec<i64> = rows.iter().map(|&r| k[r]).collect();
        let s: Vec<u64> = rows.iter().map(|&r| seeds[r]).collect();
        let o: Vec<u64> = rows.iter().map(|&r| offsets[r]).collect();
        common::in_pool(threads, || {
            let mut i = vec![-1i64; rows.len()];
            let mut lp = vec![f32::NAN; rows.len()];
            let out = FilteredSample {
                indices: &mut i,
                log_probs: None,
                processed_log_probs: Some(&mut lp),
            };
            let filters = Filters {
                temperatures: Some(&t),
                top_k: Some(&k),
                top_p: Some(&p),
                min_p: Some(&mp),
            };
            let shape = Shape::matrix(rows.len(), classes).unwrap();
            sample_filtered(&l, out, shape, filters, &s, &o).unwrap();
            (i, lp.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
        })
    };
    let all: Vec<usize> = (0..rows).collect();
    let whole = run(&all, 1);
    assert_eq!(run(&all, 2), whole);
    assert_eq!(run(&all, 3), whole);
    let reversed: Vec<usize> = (0..rows).rev().collect();
    let (i, lp) = run(&reversed, 2);
    for (j, &r) in reversed.iter().enumerate() {
        assert_eq!((i[j], lp[j]), (whole.0[r], whole.1[r]), "row {r} reversed");
    }
    for r in [0, 17, 63] {
        let (i, lp) = run(&[r], 1);
        assert_eq!((i[0], lp[0]), (whole.0[r], whole.1[r]), "row {r} alone");
    }
}

#[test]
fn filtered_c_entries_reject_bad_input_and_leave_outputs_untouched() {
    let (rows, classes) = (2usize, 4usize);
    let x = [0.5f32, 1.0, -1.0, 0.0, 2.0, 0.0, 1.0, -3.0];
    let keys = [1u64, 2];
    let call = |x: &[f32], t: &[f32], k: &[i64], p: &[f32], mp: &[f32]| {
        let mut i = [-7i64; 2];
        let mut lp = [9.0f32; 2];
        let st = unsafe {
            gumbel_sample_filtered_f32(
                x.as_ptr(),
                i.as_mut_ptr(),
                lp.as_mut_ptr(),
                std::ptr::null_mut(),
                rows,
                classes,
                t.as_ptr(),
                k.as_ptr(),
                p.as_ptr(),
                mp.as_ptr(),
                keys.as_ptr(),
                keys.as_ptr(),
            )
        };
        (st, i, lp)
    };
    let (t, k, p, mp) = ([1.0f32, 0.5], [0i64, 2], [1.0f32, 0.9], [0.0f32, 0.1]);
    let (st, i, lp) = call(&x, &t, &k, &p, &mp);
    assert_eq!(st, GUMBEL_STATUS_OK);
    assert!(i.iter().all(|&i| (0..classes as i64).contains(&i)));
    assert!(lp.iter().all(|&v| v <= 0.0));
    let untouched = |(st, i, lp): (gumbel_status, [i64; 2], [f32; 2]), want, words: &[&str]| {
        common::expect(st, want, words);
        assert_eq!((i, lp), ([-7; 2], [9.0; 2]), "outputs written on error");
    };
    let nan = f32::NAN;
    untouched(
        call(&x, &[1.0, -0.5], &k, &p, &mp),
        GUMBEL_STATUS_INVALID_TEMPERATURE,
        &["temperatures[1]"],
    );
    untouched(
        call(&x, &[f32::INFINITY, 1.0], &k, &p, &mp),
        GUMBEL_STATUS_INVALID_TEMPERATURE,
        &["temperatures[0]"],
    );
    untouched(
        call(&x, &t, &[0, -1], &p, &mp),
        GUMBEL_STATUS_INVALID_PARAMETER,
        &["top_k[1]"],
    );
    untouched(
        call(&x, &t, &k, &[0.0, 1.0], &mp),
        GUMBEL_STATUS_INVALID_PARAMETER,
        &["top_p[0]"],
    );
    untouched(
        call(&x, &t, &k, &[1.0, 1.5], &mp),
        GUMBEL_STATUS_INVALID_PARAMETER,
        &["top_p[1]"],
    );
    untouched(
        call(&x, &t, &k, &[nan, 1.0], &mp),
        GUMBEL_STATUS_INVALID_PARAMETER,
        &["top_p[0]"],
    );
    untouched(
        call(&x, &t, &k, &p, &[0.0, -0.1]),
        GUMBEL_STATUS_INVALID_PARAMETER,
        &["min_p[1]"],
    );
    untouched(
        call(&x, &t, &k, &p, &[nan, 0.0]),
        GUMBEL_STATUS_INVALID_PARAMETER,
        &["min_p[0]"],
    );
    let mut bad = x;
    bad[5] = nan;
    untouched(
        call(&bad, &t, &k, &p, &mp),
        GUMBEL_STATUS_INVALID_LOGITS,
        &["NaN"],
    );
    let masked = [f32::NEG_INFINITY; 8];
    untouched(
        call(&masked, &t, &k, &p, &mp),
        GUMBEL_STATUS_ALL_MASKED,
        &[],
    );

    // NULL parameter arrays turn filters off; NULL outputs are not computed.
    let mut i = [-1i64; 2];
    let null: *const f32 = std::ptr::null();
    let no_k: *const i64 = std::ptr::null();
    let st = unsafe {
        gumbel_sample_filtered_f32(
            x.as_ptr(),
            i.as_mut_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            rows,
            classes,
            null,
            no_k,
            null,
            null,
            keys.as_ptr(),
            keys.as_ptr(),
        )
    };
    assert_eq!(st, GUMBEL_STATUS_OK);
    let mut want = [-1i64; 2];
    let st = unsafe {
        gumbel_sample_keyed_f32(
            x.as_ptr(),
            want.as_mut_ptr(),
            rows,
            classes,
            keys.as_ptr(),
            keys.as_ptr(),
        )
    };
    assert_eq!(st, GUMBEL_STATUS_OK);
    assert_eq!(i, want);

    // Required pointers, overlaps, shapes.
    let mut lp = [0.0f32; 2];
    let status = |logits: *const f32,
                  indices: *mut i64,
                  lp: *mut f32,
                  temperatures: *const f32,
                  classes| unsafe {
        gumbel_sample_filtered_f32(
            logits,
            indices,
            lp,
            std::ptr::null_mut(),
            rows,
            classes,
            temperatures,
            no_k,
            null,
            null,
            keys.as_ptr(),
            keys.as_ptr(),
        )
    };
    common::expect(
        status(null, i.as_mut_ptr(), lp.as_mut_ptr(), null, classes),
        GUMBEL_STATUS_NULL_POINTER,
        &["logits"],
    );
    common::expect(
        status(
            x.as_ptr(),
            std::ptr::null_mut(),
            lp.as_mut_ptr(),
            null,
            classes,
        ),
        GUMBEL_STATUS_NULL_POINTER,
        &["indices"],
    );
    common::expect(
        status(
            x.as_ptr(),
            i.as_mut_ptr(),
            x.as_ptr().cast_mut(),
            null,
            classes,
        ),
        GUMBEL_STATUS_OVERLAP,
        &["logits", "log_probs"],
    );
    common::expect(
        status(
            x.as_ptr(),
            i.as_mut_ptr(),
            lp.as_mut_ptr(),
            lp.as_ptr(),
            classes,
        ),
        GUMBEL_STATUS_OVERLAP,
        &["temperatures", "log_probs"],
    );
    common::expect(
        status(x.as_ptr(), i.as_mut_ptr(), lp.as_mut_ptr(), null, 0),
        GUMBEL_STATUS_INVALID_SHAPE,
        &[],
    );
    let misaligned = unsafe { lp.as_mut_ptr().cast::<u8>().add(1).cast::<f32>() };
    common::expect(
        status(x.as_ptr(), i.as_mut_ptr(), misaligned, null, classes),
        GUMBEL_STATUS_MISALIGNED_POINTER,
        &["log_probs"],
    );
    // The double twin checks the same way.
    let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let mut i64s = [-7i64; 2];
    let st = unsafe {
        gumbel_sample_filtered_f64(
            x64.as_ptr(),
            i64s.as_mut_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            rows,
            classes,
            std::ptr::null(),
            [3i64, -2].as_ptr(),
            std::ptr::null(),
            [0.0f64, 2.0].as_ptr(),
            keys.as_ptr(),
            keys.as_ptr(),
        )
    };
    common::expect(st, GUMBEL_STATUS_INVALID_PARAMETER, &["top_k[1]"]);
    assert_eq!(i64s, [-7; 2]);
    // No rows: a no-op even with NULL pointers.
    let st = unsafe {
        gumbel_sample_filtered_f32(
            null,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
            classes,
            null,
            no_k,
            null,
            null,
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(st, GUMBEL_STATUS_OK);
}

#[test]
fn tokens_far_in_the_tail_are_drawn_at_their_rate() {
    // One dominant token and 4095 rare ones of probability 2e-6 each (mass
    // 8.2e-3): the rare tokens together are drawn at their rate, each
    // reachable (a noise table or a short uniform truncates this tail).
    let classes = 4096;
    let rare = (2e-6f64).ln();
    let mut l = vec![rare; classes];
    l[0] = (1.0 - 4095.0 * 2e-6f64).ln();
    let n = 100_000;
    let got = draws(&l, OFF, n, 77);
    let hits = got.iter().filter(|&&i| i != 0).count() as f64;
    let mass = 4095.0 * 2e-6;
    let (mean, sd) = (n as f64 * mass, (n as f64 * mass * (1.0 - mass)).sqrt());
    // |z| < 5: a two-sided level below 1e-6.
    assert!(
        (hits - mean).abs() < 5.0 * sd,
        "{hits} rare draws, expected {mean:.1} +- {sd:.1}"
    );
}

/// Rows are checked in the pass that samples them (the top-k heap's pass,
/// or a pass of their own): a NaN or `+inf` anywhere in a long row, after
/// the heap has filled and in a block no top-k candidate enters, is found
/// under every filter, the first bad logit of the matrix is named (before
/// a masked row and before a bad parameter), and nothing is written.
#[test]
fn bad_logits_anywhere_in_long_rows_are_found_under_every_filter() {
    let (rows, classes) = (3usize, 5000usize);
    // The first classes of each row are far above the others: top-k's heap
    // fills with them, and no later block enters it.
    let x: Vec<f32> = (0..rows * classes)
        .map(|i| match i % classes {
            c @ 0..=99 => 100.0 + c as f32,
            _ => ((i * 7919) % 1000) as f32 * 0.001,
        })
        .collect();
    let shape = Shape::matrix(rows, classes).unwrap();
    let seeds = [1u64, 2, 3];
    let run = |x: &[f32], t: f32, k: i64, p: f32, min_p: f32| {
        let mut indices = [-7i64; 3];
        let (t, k, p, min_p) = ([t; 3], [k; 3], [p; 3], [min_p; 3]);
        let filters = Filters {
            temperatures: Some(&t[..]),
            top_k: Some(&k[..]),
            top_p: Some(&p[..]),
            min_p: Some(&min_p[..]),
        };
        let out = FilteredSample {
            indices: &mut indices,
            log_probs: None,
            processed_log_probs: None,
        };
        let result = sample_filtered(x, out, shape, filters, &seeds, &seeds);
        (result, indices)
    };
    let settings = [
        (0.8f32, 5i64, 0.9f32, 0.0f32),
        (1.0, 50, 1.0, 0.0),
        (1.0, 0, 1.0, 0.1),
        (0.7, 0, 0.5, 0.0),
        (1.0, 0, 1.0, 0.0),
        (0.0, 5, 1.0, 0.0),
    ];
    for &(t, k, p, min_p) in &settings {
        let (ok, _) = run(&x, t, k, p, min_p);
        assert!(ok.is_ok(), "{ok:?}");
        let cases = [
            (1, 4990, f32::NAN, false),
            (2, 3001, f32::INFINITY, false),
            (2, 4999, f32::NAN, true),
            (0, 0, f32::NAN, false),
        ];
        for (row, class, value, masked_before) in cases {
            let mut bad = x.clone();
            bad[row * classes + class] = value;
            // A masked row before it: the bad logit is still reported.
            if masked_before {
                bad[..classes].fill(f32::NEG_INFINITY);
            }
            let (result, indices) = run(&bad, t, k, p, min_p);
            let e = result.expect_err("a bad logit");
            assert_eq!(e.kind(), gumbel::ErrorKind::InvalidLogits, "{e}");
            assert!(
                e.to_string().contains(&format!("row {row}, class {class}")),
                "{t} {k} {p} {min_p}: {e}"
            );
            assert_eq!(indices, [-7; 3], "outputs written on error");
        }
        let mut masked = x.clone();
        masked[2 * classes..].fill(f32::NEG_INFINITY);
        let e = run(&masked, t, k, p, min_p).0.expect_err("a masked row");
        assert_eq!(e.kind(), gumbel::ErrorKind::AllMasked, "{e}");
        assert!(e.to_string().contains("row 2"), "{e}");
    }
    // A bad logit is reported before a bad parameter.
    let mut bad = x.clone();
    bad[classes + 17] = f32::NAN;
    let e = run(&bad, 1.0, 0, 1.5, 0.0).0.expect_err("two errors");
    assert_eq!(e.kind(), gumbel::ErrorKind::InvalidLogits, "{e}");
}
