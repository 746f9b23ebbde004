//! What users saw during one release, against the same span a week before:
//! requests, error ratio, extra failed requests, minutes degraded and slow,
//! p95 latency, and a verdict from a Mann-Whitney U test.

use serde::Serialize;

use super::profile::Sample;

/// One-sided significance of "errors were higher during the release".
pub const ALPHA: f64 = 0.05;
/// A minute is slow when its p95 latency is this many times the baseline's.
pub const SLOW: f64 = 1.5;

/// The comparison.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Impact {
    /// Requests during the release (and the 10 minutes after it).
    pub requests: f64,
    pub error_ratio: Option<f64>,
    pub baseline_error_ratio: Option<f64>,
    /// Failed requests beyond what the baseline's ratio would have given.
    pub extra_failed_requests: f64,
    /// Minutes whose error ratio was at least twice the baseline's.
    pub minutes_degraded: f64,
    /// Minutes whose p95 latency was at least 1.5 times the baseline's.
    pub minutes_slow: f64,
    /// Seconds: the mean of the per-minute p95s.
    pub latency_p95: Option<f64>,
    pub baseline_latency_p95: Option<f64>,
    /// One-sided Mann-Whitney U test of the per-minute error ratios.
    pub p_value: Option<f64>,
    pub verdict: Verdict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    NoVisibleImpact,
    Degraded,
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| sum / n as f64)
}

fn ratios(samples: &[Sample]) -> Vec<f64> {
    samples.iter().filter(|s| s.requests > 0.0).filter_map(|s| s.errors.map(|e| e / s.requests)).collect()
}

/// The minutes between samples (their step), from the samples themselves.
fn step_minutes(samples: &[Sample]) -> f64 {
    let mut gaps: Vec<i64> = samples.windows(2).map(|w| (w[1].at - w[0].at).num_seconds()).filter(|g| *g > 0).collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).map_or(1.0, |g| *g as f64 / 60.0)
}

/// The p-value of "x tends to be larger than y" (Mann-Whitney U, normal
/// approximation with the tie correction); `None` with too few values.
pub fn mann_whitney_greater(x: &[f64], y: &[f64]) -> Option<f64> {
    let (n1, n2) = (x.len(), y.len());
    if n1 < 3 || n2 < 3 {
        return None;
    }
    let mut all: Vec<(f64, bool)> = x.iter().map(|v| (*v, true)).chain(y.iter().map(|v| (*v, false))).collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = all.len();
    let (mut rank_x, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        rank_x += rank * all[i..=j].iter().filter(|(_, from_x)| *from_x).count() as f64;
        i = j + 1;
    }
    let (n1f, n2f, nf) = (n1 as f64, n2 as f64, n as f64);
    let u = rank_x - n1f * (n1f + 1.0) / 2.0;
    let mean = n1f * n2f / 2.0;
    let variance = n1f * n2f / 12.0 * ((nf + 1.0) - ties / (nf * (nf - 1.0)));
    if variance <= 0.0 {
        return Some(1.0);
    }
    // With continuity correction.
    let z = (u - mean - 0.5) / variance.sqrt();
    Some(0.5 * libm::erfc(z / std::f64::consts::SQRT_2))
}

/// Compare the release's samples with the baseline's.
pub fn compare(during: &[Sample], baseline: &[Sample]) -> Impact {
    let step = step_minutes(during);
    let requests: f64 = during.iter().map(|s| s.requests).sum::<f64>() * step;
    let ratio_of = |s: &[Sample]| {
        let (e, r) =
            s.iter().filter_map(|s| s.errors.map(|e| (e, s.requests))).fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
        (r > 0.0).then(|| e / r)
    };
    let (ratio, base_ratio) = (ratio_of(during), ratio_of(baseline));
    let extra = match (ratio, base_ratio) {
        (Some(r), Some(b)) => ((r - b) * requests).max(0.0),
        (Some(r), None) => r * requests,
        _ => 0.0,
    };
    let base = base_ratio.unwrap_or(0.0);
    let degraded_minutes = during
        .iter()
        .filter(|s| s.requests > 0.0 && s.errors.is_some_and(|e| e / s.requests > 0.0 && e / s.requests >= 2.0 * base))
        .count() as f64
        * step;
    let latency = mean(during.iter().filter_map(|s| s.latency_p95));
    let base_latency = mean(baseline.iter().filter_map(|s| s.latency_p95));
    let slow = base_latency.map_or(0.0, |b| {
        during.iter().filter(|s| s.latency_p95.is_some_and(|l| b > 0.0 && l >= SLOW * b)).count() as f64 * step
    });
    let p = mann_whitney_greater(&ratios(during), &ratios(baseline));
    let worse = ratio.is_some_and(|r| r > 0.0 && r >= 2.0 * base);
    let verdict = if p.is_some_and(|p| p < ALPHA) && worse { Verdict::Degraded } else { Verdict::NoVisibleImpact };
    Impact {
        requests: requests.round(),
        error_ratio: ratio,
        baseline_error_ratio: base_ratio,
        extra_failed_requests: extra.round(),
        minutes_degraded: degraded_minutes,
        minutes_slow: slow,
        latency_p95: latency,
        baseline_latency_p95: base_latency,
        p_value: p,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};

    use super::*;

    fn minutes(from: &str, n: i64, f: impl Fn(i64) -> (f64, f64, f64)) -> Vec<Sample> {
        let start: DateTime<Utc> = from.parse().expect("t");
        (0..n)
            .map(|i| {
                let (r, e, l) = f(i);
                Sample { at: start + Duration::minutes(i), requests: r, errors: Some(e), latency_p95: Some(l) }
            })
            .collect()
    }

    #[test]
    fn mann_whitney_matches_a_worked_example() {
        // Every x above every y: U = n1 * n2, the smallest p there is for 5 and 5.
        let p = mann_whitney_greater(&[6.0, 7.0, 8.0, 9.0, 10.0], &[1.0, 2.0, 3.0, 4.0, 5.0]).expect("p");
        assert!((p - 0.0061).abs() < 0.001, "{p}");
        // The same samples: no evidence at all.
        let p = mann_whitney_greater(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]).expect("p");
        assert!(p > 0.5, "{p}");
        assert_eq!(mann_whitney_greater(&[1.0], &[2.0, 3.0, 4.0]), None);
    }

    #[test]
    fn an_error_spike_is_degraded_and_a_quiet_release_is_not() {
        let baseline = minutes("2026-11-03T14:00:00Z", 30, |i| (100.0, 0.2 + (i % 3) as f64 * 0.05, 0.2));
        let spike = minutes("2026-11-10T14:00:00Z", 30, |i| {
            if (5..15).contains(&i) { (100.0, 8.0, 0.6) } else { (100.0, 0.2 + (i % 3) as f64 * 0.05, 0.2) }
        });
        let i = compare(&spike, &baseline);
        assert_eq!(i.verdict, Verdict::Degraded, "{i:?}");
        assert_eq!((i.requests, i.minutes_degraded, i.minutes_slow), (3000.0, 10.0, 10.0));
        assert!(i.extra_failed_requests > 70.0 && i.extra_failed_requests < 80.0, "{i:?}");
        let quiet = minutes("2026-11-10T14:00:00Z", 30, |i| (100.0, 0.2 + ((i + 1) % 3) as f64 * 0.05, 0.2));
        let i = compare(&quiet, &baseline);
        assert_eq!((i.verdict, i.extra_failed_requests, i.minutes_degraded), (Verdict::NoVisibleImpact, 0.0, 0.0));
    }
}
