//! The fit reproduces the paper's CDNOW estimates (Fader, Hardie & Lee 2005, table in section 4):
//! r = 0.243, α = 4.414, a = 0.793, b = 2.426, log-likelihood −9582.4, on the 2,357-customer sample in weeks.

use canopy_segments::bgnbd::{self, FitOptions, Observation};
use canopy_segments::summary::read_summary;

fn cdnow() -> Vec<Observation> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/cdnow_customers_summary.csv"
    );
    read_summary(std::fs::File::open(path).expect("fixture")).expect("summary")
}

#[test]
fn fit_reproduces_the_papers_cdnow_parameters() {
    let sample = cdnow();
    assert_eq!(sample.len(), 2357);
    let fit = bgnbd::fit(&sample, FitOptions::default()).expect("fit");
    let p = fit.params;
    // The paper prints three decimals; the maximum must round to them.
    let close = |got: f64, want: f64| (got - want).abs() <= 0.0005;
    assert!(close(p.r, 0.243), "r = {}", p.r);
    assert!(close(p.alpha, 4.414), "alpha = {}", p.alpha);
    assert!(close(p.a, 0.793), "a = {}", p.a);
    assert!(close(p.b, 2.426), "b = {}", p.b);
    assert!(
        (fit.log_likelihood - -9582.4).abs() <= 0.05,
        "LL = {}",
        fit.log_likelihood
    );
}

#[test]
fn fit_does_not_depend_on_the_starting_point() {
    let sample = cdnow();
    let far = FitOptions {
        start: bgnbd::Params {
            r: 5.0,
            alpha: 50.0,
            a: 0.1,
            b: 10.0,
        },
        ..FitOptions::default()
    };
    let a = bgnbd::fit(&sample, FitOptions::default())
        .expect("fit")
        .params;
    let b = bgnbd::fit(&sample, far).expect("fit").params;
    for (x, y) in [(a.r, b.r), (a.alpha, b.alpha), (a.a, b.a), (a.b, b.b)] {
        assert!((x - y).abs() / x < 1e-4, "{a:?} vs {b:?}");
    }
}

#[test]
fn summary_rows_with_errors_name_their_line() {
    let bad = "ID,frequency,recency,T\n1,2,3,4\n2,two,3,4\n";
    let err = read_summary(bad.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("line 3"), "{err}");
    let missing = read_summary("frequency,recency\n1,2\n".as_bytes())
        .unwrap_err()
        .to_string();
    assert!(missing.contains("`T`"), "{missing}");
}
