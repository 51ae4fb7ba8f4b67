//! The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting your customers the easy way: an
//! alternative to the Pareto/NBD model", Marketing Science 24(2), 275–284).
//!
//! While active, a customer buys at a Poisson rate λ ~ Gamma(r, α); after each purchase they become inactive
//! with probability p ~ Beta(a, b). From a customer's history summarised as `(x, t_x, T)` — repeat purchases,
//! time of the last one and time since the first one, all measured from the first purchase in one unit of the
//! caller's choosing — the model gives the probability they are still active and the purchases to expect in
//! the next `t` units. Parameters are in that same unit (α scales with it; r, a, b do not).
//!
//! Fitting maximises the likelihood (equation 6 of the paper) with Nelder–Mead over the logarithms of the
//! four parameters: the logs keep every parameter positive without constraints, the objective is smooth and
//! only four-dimensional, and Nelder–Mead needs no gradients, which for this likelihood would mean
//! digamma functions of every customer's counts. The search restarts from its own best point until a
//! restart no longer improves the optimum, which guards against the simplex collapsing early.

use serde::{Deserialize, Serialize};

/// One customer's purchase history in the model's terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Repeat purchases: purchases after the first one (on distinct periods).
    pub frequency: u32,
    /// Time from the first purchase to the last one (0 when `frequency` is 0).
    pub recency: f64,
    /// Time from the first purchase to the end of the observation period.
    pub age: f64,
}

/// The four fitted parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Shape of the Gamma distribution of purchase rates.
    pub r: f64,
    /// Scale of the Gamma distribution of purchase rates (in the observations' time unit).
    pub alpha: f64,
    /// First shape of the Beta distribution of drop-out probabilities.
    pub a: f64,
    /// Second shape of the Beta distribution of drop-out probabilities.
    pub b: f64,
}

/// The result of a fit: parameters, the log-likelihood they reach and how the search went.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub params: Params,
    pub log_likelihood: f64,
    pub customers: usize,
    pub iterations: usize,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelError {
    #[error("no customers to fit")]
    Empty,
    #[error("customer {index}: {reason}")]
    BadObservation { index: usize, reason: &'static str },
    #[error("everyone bought exactly once; the model needs some repeat purchases")]
    NoRepeats,
    #[error("the fit did not reach a finite likelihood")]
    NotFinite,
}

impl Observation {
    fn check(&self, index: usize) -> Result<(), ModelError> {
        let bad = |reason| Err(ModelError::BadObservation { index, reason });
        if !self.age.is_finite() || self.age <= 0.0 {
            return bad("T must be a positive number");
        }
        if !self.recency.is_finite() || self.recency < 0.0 {
            return bad("recency must be zero or more");
        }
        if self.recency > self.age {
            return bad("recency cannot exceed T");
        }
        if self.frequency > 0 && self.recency <= 0.0 {
            return bad("a customer with repeat purchases needs a positive recency");
        }
        Ok(())
    }
}

/// Checks every observation, so callers can reject a summary before fitting it.
pub fn validate(observations: &[Observation]) -> Result<(), ModelError> {
    if observations.is_empty() {
        return Err(ModelError::Empty);
    }
    for (i, o) in observations.iter().enumerate() {
        o.check(i)?;
    }
    if observations.iter().all(|o| o.frequency == 0) {
        return Err(ModelError::NoRepeats);
    }
    Ok(())
}

fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// `ln(e^x + e^y)` without overflow; `y` may be `-∞`.
fn log_add_exp(x: f64, y: f64) -> f64 {
    let (hi, lo) = if x >= y { (x, y) } else { (y, x) };
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// One customer's log-likelihood (equation 6 of the paper, in logs).
pub fn log_likelihood_one(p: &Params, o: &Observation) -> f64 {
    let x = f64::from(o.frequency);
    let Params { r, alpha, a, b } = *p;
    let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
    let a2 = ln_gamma(a + b) + ln_gamma(b + x) - ln_gamma(b) - ln_gamma(a + b + x);
    let a3 = -(r + x) * (alpha + o.age).ln();
    let a4 = if o.frequency > 0 {
        a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + o.recency).ln()
    } else {
        f64::NEG_INFINITY
    };
    a1 + a2 + log_add_exp(a3, a4)
}

/// The sample's log-likelihood: the sum over customers.
pub fn log_likelihood(p: &Params, observations: &[Observation]) -> f64 {
    observations.iter().map(|o| log_likelihood_one(p, o)).sum()
}

/// Probability that a customer with this history is still active at the end of it (equation 12).
/// A customer with no repeat purchase is certainly active in this model: drop-out happens only after a
/// purchase.
pub fn p_alive(p: &Params, o: &Observation) -> f64 {
    if o.frequency == 0 {
        return 1.0;
    }
    let x = f64::from(o.frequency);
    let log_ratio =
        (p.a / (p.b + x - 1.0)).ln() + (p.r + x) * ((p.alpha + o.age) / (p.alpha + o.recency)).ln();
    1.0 / (1.0 + log_ratio.exp())
}

/// Expected purchases in the next `t` time units for a customer with this history (equation 10).
pub fn expected_purchases(p: &Params, o: &Observation, t: f64) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    let x = f64::from(o.frequency);
    let Params { r, alpha, a, b } = *p;
    let z = t / (alpha + o.age + t);
    let hyp = hyp2f1(r + x, b + x, a + b + x - 1.0, z);
    let decay = ((alpha + o.age) / (alpha + o.age + t)).powf(r + x);
    let numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - decay * hyp);
    numerator * p_alive(p, o)
}

/// Expected purchases in `(0, t]` for a customer just acquired (equation 9).
pub fn expected_purchases_new(p: &Params, t: f64) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    let Params { r, alpha, a, b } = *p;
    let hyp = hyp2f1(r, b, a + b - 1.0, t / (alpha + t));
    (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)).powf(r) * hyp)
}

/// Gauss's hypergeometric function ₂F₁(a, b; c; z) for 0 ≤ z < 1 by its power series. The model only ever
/// asks for z = t / (α + T + t) < 1, where the series converges; terms are summed until they stop changing
/// the sum in double precision.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 0..1_000_000u32 {
        let k = f64::from(k);
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        sum += term;
        if term.abs() <= f64::EPSILON * sum.abs() {
            break;
        }
    }
    sum
}

/// Options for the Nelder–Mead search.
#[derive(Debug, Clone, Copy)]
pub struct FitOptions {
    /// Starting parameters (all 1 by default, as in the paper's own spreadsheet).
    pub start: Params,
    /// Stop when the simplex's objective values differ by less than this (per customer).
    pub tolerance: f64,
    /// Upper bound on iterations per restart.
    pub max_iterations: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            start: Params {
                r: 1.0,
                alpha: 1.0,
                a: 1.0,
                b: 1.0,
            },
            tolerance: 1e-12,
            max_iterations: 20_000,
        }
    }
}

/// Maximum-likelihood fit of the model to a sample.
pub fn fit(observations: &[Observation], options: FitOptions) -> Result<Fit, ModelError> {
    validate(observations)?;
    let n = observations.len() as f64;
    // The mean negative log-likelihood keeps the tolerance independent of the sample's size.
    let objective = |theta: &[f64; 4]| {
        let p = from_logs(theta);
        let ll = log_likelihood(&p, observations);
        if ll.is_finite() {
            -ll / n
        } else {
            f64::INFINITY
        }
    };
    let s = options.start;
    let mut best = [s.r.ln(), s.alpha.ln(), s.a.ln(), s.b.ln()];
    let mut best_value = objective(&best);
    let mut iterations = 0;
    for _ in 0..20 {
        let (theta, value, its) =
            nelder_mead(&objective, best, options.tolerance, options.max_iterations);
        iterations += its;
        let improved = best_value - value;
        if value <= best_value {
            best = theta;
            best_value = value;
        }
        if improved.abs() <= options.tolerance {
            break;
        }
    }
    if !best_value.is_finite() {
        return Err(ModelError::NotFinite);
    }
    let params = from_logs(&best);
    Ok(Fit {
        params,
        log_likelihood: log_likelihood(&params, observations),
        customers: observations.len(),
        iterations,
    })
}

fn from_logs(theta: &[f64; 4]) -> Params {
    Params {
        r: theta[0].exp(),
        alpha: theta[1].exp(),
        a: theta[2].exp(),
        b: theta[3].exp(),
    }
}

/// Nelder–Mead with the standard coefficients (reflection 1, expansion 2, contraction ½, shrink ½) and an
/// initial simplex of unit steps in log space (each parameter ×e). Returns the best vertex, its value and the
/// iterations used.
fn nelder_mead(
    f: &impl Fn(&[f64; 4]) -> f64,
    start: [f64; 4],
    tolerance: f64,
    max_iterations: usize,
) -> ([f64; 4], f64, usize) {
    const D: usize = 4;
    let mut simplex: Vec<([f64; D], f64)> = Vec::with_capacity(D + 1);
    simplex.push((start, f(&start)));
    for i in 0..D {
        let mut v = start;
        v[i] += 1.0;
        simplex.push((v, f(&v)));
    }
    let combine = |p: &[f64; D], q: &[f64; D], t: f64| {
        let mut out = [0.0; D];
        for i in 0..D {
            out[i] = p[i] + t * (q[i] - p[i]);
        }
        out
    };
    let mut iterations = 0;
    while iterations < max_iterations {
        iterations += 1;
        simplex.sort_by(|x, y| x.1.total_cmp(&y.1));
        let (best, worst) = (simplex[0].1, simplex[D].1);
        if (worst - best).abs() <= tolerance {
            break;
        }
        let mut centroid = [0.0; D];
        for (v, _) in &simplex[..D] {
            for i in 0..D {
                centroid[i] += v[i] / D as f64;
            }
        }
        let worst_point = simplex[D].0;
        let reflected = combine(&centroid, &worst_point, -1.0);
        let fr = f(&reflected);
        if fr < simplex[0].1 {
            let expanded = combine(&centroid, &worst_point, -2.0);
            let fe = f(&expanded);
            simplex[D] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < simplex[D - 1].1 {
            simplex[D] = (reflected, fr);
        } else {
            // Contract towards the better of the worst point and its reflection.
            let (towards, f_towards) = if fr < simplex[D].1 {
                (reflected, fr)
            } else {
                (worst_point, simplex[D].1)
            };
            let contracted = combine(&centroid, &towards, 0.5);
            let fc = f(&contracted);
            if fc < f_towards {
                simplex[D] = (contracted, fc);
            } else {
                let best_point = simplex[0].0;
                for vertex in simplex.iter_mut().skip(1) {
                    let v = combine(&best_point, &vertex.0, 0.5);
                    *vertex = (v, f(&v));
                }
            }
        }
    }
    simplex.sort_by(|x, y| x.1.total_cmp(&y.1));
    (simplex[0].0, simplex[0].1, iterations)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAPER: Params = Params {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };

    #[test]
    fn hypergeometric_series_matches_a_closed_form() {
        // ₂F₁(1, 1; 2; z) = −ln(1 − z) / z
        for z in [0.01f64, 0.3, 0.7, 0.95] {
            let closed = -(1.0 - z).ln() / z;
            assert!((hyp2f1(1.0, 1.0, 2.0, z) - closed).abs() < 1e-12, "z = {z}");
        }
        assert_eq!(hyp2f1(2.0, 3.0, 4.0, 0.0), 1.0);
    }

    #[test]
    fn a_customer_without_repeat_purchases_is_alive() {
        let o = Observation {
            frequency: 0,
            recency: 0.0,
            age: 30.0,
        };
        assert_eq!(p_alive(&PAPER, &o), 1.0);
    }

    #[test]
    fn a_long_silence_after_frequent_buying_lowers_p_alive() {
        let recent = Observation {
            frequency: 5,
            recency: 37.0,
            age: 38.0,
        };
        let silent = Observation {
            recency: 5.0,
            ..recent
        };
        assert!(p_alive(&PAPER, &recent) > 0.85); // ≈ 0.877 by hand
        assert!(p_alive(&PAPER, &silent) < 0.01); // ≈ 0.003
        assert!(
            expected_purchases(&PAPER, &recent, 39.0) > expected_purchases(&PAPER, &silent, 39.0)
        );
    }

    #[test]
    fn p_alive_matches_equation_12_by_hand() {
        // x = 2, t_x = 30.43, T = 38.86 (CDNOW customer 1):
        // 1 / (1 + 0.793/(2.426+2−1) · ((4.414+38.86)/(4.414+30.43))^(0.243+2))
        let o = Observation {
            frequency: 2,
            recency: 30.43,
            age: 38.86,
        };
        let by_hand = 1.0 / (1.0 + 0.793 / 3.426 * (43.274f64 / 34.844).powf(2.243));
        assert!((p_alive(&PAPER, &o) - by_hand).abs() < 1e-12);
    }

    #[test]
    fn expectations_grow_with_the_horizon_and_start_at_zero() {
        let o = Observation {
            frequency: 3,
            recency: 20.0,
            age: 30.0,
        };
        assert_eq!(expected_purchases(&PAPER, &o, 0.0), 0.0);
        let mut last = 0.0;
        for t in [1.0, 10.0, 39.0, 78.0] {
            let e = expected_purchases(&PAPER, &o, t);
            assert!(e > last, "t = {t}");
            last = e;
        }
    }

    #[test]
    fn bad_observations_are_rejected_with_their_index() {
        let ok = Observation {
            frequency: 1,
            recency: 2.0,
            age: 3.0,
        };
        let late = Observation { recency: 4.0, ..ok };
        assert_eq!(
            validate(&[ok, late]),
            Err(ModelError::BadObservation {
                index: 1,
                reason: "recency cannot exceed T"
            })
        );
        assert_eq!(validate(&[]), Err(ModelError::Empty));
        let once = Observation {
            frequency: 0,
            recency: 0.0,
            age: 3.0,
        };
        assert_eq!(validate(&[once]), Err(ModelError::NoRepeats));
    }
}
