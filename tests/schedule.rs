//! Temperature schedules against their formulas at hand-picked steps,
//! monotonicity, and the bounds they promise.

use gumbel::{ErrorKind, Schedule};

#[test]
fn exponential_follows_the_formula_and_its_staircase() {
    // Jang et al.'s setting: tau = max(0.5, exp(-r t)), r = 1e-4, N = 500.
    let s = Schedule::exponential(1.0, 1e-4, 0.5, 500).unwrap();
    assert_eq!(s.tau(0), 1.0);
    assert_eq!(s.tau(499), 1.0);
    assert_eq!(s.tau(500), (-0.05f64).exp());
    assert_eq!(s.tau(999), (-0.05f64).exp());
    assert_eq!(s.tau(1000), (-0.1f64).exp());
    assert_eq!(s.tau(2750), (-0.25f64).exp());
    // exp(-1e-4 t) = 0.5 at t = ln 2 / 1e-4 = 6931.47: the staircase value
    // at 6500 is above 0.5, at 7000 it is clamped.
    assert_eq!(s.tau(6999), (-0.65f64).exp());
    assert!(s.tau(6999) > 0.5);
    assert_eq!(s.tau(7000), 0.5);
    assert_eq!(s.tau(u64::MAX), 0.5);
    // every = 1: each step; tau0 scales the curve.
    let s = Schedule::exponential(5.0, 0.01, 0.1, 1).unwrap();
    for t in [0u64, 1, 2, 7, 100, 391] {
        assert_eq!(s.tau(t), 5.0 * (-0.01 * t as f64).exp(), "step {t}");
    }
    // 5 e^(-0.01 t) = 0.1 at t = 100 ln 50 = 391.2.
    assert_eq!(s.tau(392), 0.1);
    // rate 0 is a constant schedule, for any step.
    let s = Schedule::exponential(2.0, 0.0, 0.5, 3).unwrap();
    assert!([0, 1, 1 << 40, u64::MAX].iter().all(|&t| s.tau(t) == 2.0));
    // Huge rate and step: rate * t overflows to inf, tau_min, no NaN.
    let s = Schedule::exponential(1.0, f64::MAX, 1e-300, 1).unwrap();
    assert_eq!(s.tau(u64::MAX), 1e-300);
    assert_eq!(s.tau(0), 1.0);
    // every larger than the step: still tau0.
    let s = Schedule::exponential(1.0, 1.0, 0.5, u64::MAX).unwrap();
    assert_eq!(s.tau(u64::MAX - 1), 1.0);
    assert_eq!(s.tau(u64::MAX), 0.5);
}

#[test]
fn linear_and_cosine_follow_their_formulas() {
    let s = Schedule::linear(2.0, 0.5, 100).unwrap();
    assert_eq!(s.tau(0), 2.0);
    assert_eq!(s.tau(50), 1.25);
    assert_eq!(s.tau(25), 1.625);
    assert!((s.tau(99) - (2.0 - 1.5 * 0.99)).abs() < 1e-15);
    assert_eq!(s.tau(100), 0.5);
    assert_eq!(s.tau(u64::MAX), 0.5);
    // A rise works too.
    let s = Schedule::linear(0.1, 1.0, 10).unwrap();
    assert!((s.tau(3) - 0.37).abs() < 1e-15);
    assert_eq!(s.tau(10), 1.0);

    // Cosine: tau_end + (tau0 - tau_end)(1 + cos(pi t / T)) / 2. At t = T/2
    // the cosine is 0 (midpoint); at T/3 it is 1/2 (three quarters of the
    // way back up); at 2T/3 it is -1/2.
    let s = Schedule::cosine(2.0, 0.5, 300).unwrap();
    assert_eq!(s.tau(0), 2.0);
    assert!((s.tau(150) - 1.25).abs() < 1e-15);
    assert!((s.tau(100) - (0.5 + 1.5 * 0.75)).abs() < 1e-15);
    assert!((s.tau(200) - (0.5 + 1.5 * 0.25)).abs() < 1e-15);
    for t in [1u64, 17, 123, 299] {
        let want = 0.5 + 1.5 * (1.0 + (std::f64::consts::PI * t as f64 / 300.0).cos()) / 2.0;
        assert!(
            (s.tau(t) - want).abs() < 1e-15,
            "step {t}: {} vs {want}",
            s.tau(t)
        );
    }
    assert_eq!(s.tau(300), 0.5);
    assert_eq!(s.tau(u64::MAX), 0.5);
    // total_steps = 1: tau0 at step 0, tau_end from step 1.
    for s in [
        Schedule::linear(3.0, 1.0, 1).unwrap(),
        Schedule::cosine(3.0, 1.0, 1).unwrap(),
    ] {
        assert_eq!((s.tau(0), s.tau(1)), (3.0, 1.0));
    }
}

#[test]
fn schedules_are_monotonic_and_stay_in_range() {
    let schedules = [
        (
            Schedule::exponential(10.0, 3e-3, 0.2, 7).unwrap(),
            0.2,
            10.0,
        ),
        (Schedule::linear(10.0, 0.2, 1000).unwrap(), 0.2, 10.0),
        (Schedule::cosine(10.0, 0.2, 1000).unwrap(), 0.2, 10.0),
        (Schedule::linear(0.2, 10.0, 1000).unwrap(), 0.2, 10.0),
        (Schedule::cosine(0.2, 10.0, 1000).unwrap(), 0.2, 10.0),
        // Extreme ranges: a step count where t / T rounds to 1 before T.
        (
            Schedule::linear(1.0, 1e-300, u64::MAX).unwrap(),
            1e-300,
            1.0,
        ),
        (
            Schedule::cosine(1e300, 1e-300, u64::MAX).unwrap(),
            1e-300,
            1e300,
        ),
    ];
    for (s, lo, hi) in schedules {
        let rising = s.tau(u64::MAX) > s.tau(0);
        let steps = (0..1500u64).chain([u64::MAX - 2, u64::MAX - 1, u64::MAX]);
        let mut previous = s.tau(0);
        for t in steps {
            let tau = s.tau(t);
            assert!(
                tau.is_finite() && tau > 0.0 && (lo..=hi).contains(&tau),
                "{s:?} at {t}: {tau}"
            );
            if rising {
                assert!(tau >= previous, "{s:?} falls at {t}");
            } else {
                assert!(tau <= previous, "{s:?} rises at {t}");
            }
            previous = tau;
        }
    }
}

#[test]
fn bad_arguments_are_rejected() {
    for bad in [0.0, -0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = Schedule::exponential(bad, 1e-3, 0.5, 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidTemperature);
        assert!(e.message().contains("tau0"));
        let e = Schedule::exponential(1.0, 1e-3, bad, 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidTemperature);
        assert!(e.message().contains("tau_min"));
        for make in [Schedule::linear, Schedule::cosine] {
            assert!(make(bad, 1.0, 10).unwrap_err().message().contains("tau0"));
            let e = make(1.0, bad, 10).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidTemperature);
            assert!(e.message().contains("tau_end"));
        }
    }
    let e = Schedule::exponential(0.5, 1e-3, 1.0, 1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidTemperature);
    assert!(e.message().contains("tau_min") && e.message().contains("tau0"));
    for rate in [-1e-9, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = Schedule::exponential(1.0, rate, 0.5, 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert!(e.message().contains("rate"));
    }
    let e = Schedule::exponential(1.0, 1e-3, 0.5, 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert!(e.message().contains("every"));
    for make in [Schedule::linear, Schedule::cosine] {
        let e = make(1.0, 0.5, 0).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert!(e.message().contains("total_steps"));
    }
    // Subnormal temperatures are valid, as for the samplers.
    assert!(Schedule::linear(f64::from_bits(1), 1.0, 5).is_ok());
}
