//! Counters and histograms for `/metrics`, in the Prometheus text format.
//! Written by hand: a few maps behind mutexes are all this needs.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
/// At most this many environments get their own label; the rest are "other",
/// so callers cannot grow the metrics without bound.
const MAX_ENVIRONMENTS: usize = 200;

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    /// By environment: [allowed, denied].
    decisions: Mutex<HashMap<String, [u64; 2]>>,
    reasons: Mutex<HashMap<(String, &'static str), u64>>,
    requests: Mutex<HashMap<(String, String), Histogram>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Escape a label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    /// Count one real decision and its reason codes.
    pub fn decision(&self, allowed: bool, environment: &str, codes: &[&'static str]) {
        let mut decisions = lock(&self.decisions);
        let own_label = decisions.contains_key(environment) || decisions.len() < MAX_ENVIRONMENTS;
        let env = if own_label { environment.to_string() } else { "other".to_string() };
        decisions.entry(env.clone()).or_default()[usize::from(!allowed)] += 1;
        drop(decisions);
        let mut reasons = lock(&self.reasons);
        for code in codes {
            *reasons.entry((env.clone(), code)).or_default() += 1;
        }
    }

    /// Time one HTTP request, by matched route pattern and method.
    pub fn request(&self, route: &str, method: &str, took: Duration) {
        let seconds = took.as_secs_f64();
        let mut requests = lock(&self.requests);
        let h = requests.entry((route.to_string(), method.to_string())).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    /// The text exposition, with the gauges read now.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        let header = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        header(
            &mut out,
            "deploy_gate_decisions_total",
            "counter",
            "Real (not simulated) decisions, by result and environment.",
        );
        let mut rows: Vec<_> = lock(&self.decisions)
            .iter()
            .flat_map(|(e, [allow, deny])| [("allow", e.clone(), *allow), ("deny", e.clone(), *deny)])
            .filter(|(_, _, n)| *n > 0)
            .collect();
        rows.sort();
        for (result, env, n) in rows {
            let _ =
                writeln!(out, "deploy_gate_decisions_total{{result=\"{result}\",environment=\"{}\"}} {n}", label(&env));
        }
        header(
            &mut out,
            "deploy_gate_decision_reasons_total",
            "counter",
            "Reasons in real decisions, by environment and reason code.",
        );
        let mut rows: Vec<_> = lock(&self.reasons).iter().map(|((e, c), n)| (e.clone(), c.to_string(), *n)).collect();
        rows.sort();
        for (env, code, n) in rows {
            let _ = writeln!(
                out,
                "deploy_gate_decision_reasons_total{{environment=\"{}\",code=\"{code}\"}} {n}",
                label(&env)
            );
        }
        header(
            &mut out,
            "deploy_gate_http_request_duration_seconds",
            "histogram",
            "HTTP request latency, by route and method.",
        );
        let requests = lock(&self.requests);
        let mut keys: Vec<_> = requests.keys().collect();
        keys.sort();
        for key in keys {
            let h = &requests[key];
            let labels = format!("route=\"{}\",method=\"{}\"", label(&key.0), label(&key.1));
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "deploy_gate_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ =
                writeln!(out, "deploy_gate_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "deploy_gate_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "deploy_gate_http_request_duration_seconds_count{{{labels}}} {}", h.count);
        }
        drop(requests);
        header(&mut out, "deploy_gate_active_windows", "gauge", "Windows with an occurrence open now, by kind.");
        let _ = writeln!(out, "deploy_gate_active_windows{{kind=\"deny\"}} {}", gauges.active_deny);
        let _ = writeln!(out, "deploy_gate_active_windows{{kind=\"allow\"}} {}", gauges.active_allow);
        header(&mut out, "deploy_gate_active_overrides", "gauge", "Overrides in force now.");
        let _ = writeln!(out, "deploy_gate_active_overrides {}", gauges.active_overrides);
        header(&mut out, "deploy_gate_config_reloads_total", "counter", "Config reloads that went live.");
        let _ = writeln!(out, "deploy_gate_config_reloads_total {}", gauges.reloads);
        header(&mut out, "deploy_gate_config_reload_errors_total", "counter", "Config edits refused as invalid.");
        let _ = writeln!(out, "deploy_gate_config_reload_errors_total {}", gauges.reload_errors);
        out
    }
}

/// Values read at scrape time.
pub struct Gauges {
    pub active_deny: usize,
    pub active_allow: usize,
    pub active_overrides: usize,
    pub reloads: u64,
    pub reload_errors: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_counts_and_escapes() {
        let m = Metrics::default();
        m.decision(false, "production", &["window_active", "team_red"]);
        m.decision(true, "prod\"x", &[]);
        m.request("/can-deploy", "GET", Duration::from_millis(3));
        let text =
            m.render(&Gauges { active_deny: 2, active_allow: 1, active_overrides: 0, reloads: 3, reload_errors: 1 });
        assert!(text.contains("deploy_gate_decisions_total{result=\"deny\",environment=\"production\"} 1"), "{text}");
        assert!(text.contains("environment=\"prod\\\"x\"} 1"), "{text}");
        assert!(text.contains("deploy_gate_decision_reasons_total{environment=\"production\",code=\"team_red\"} 1"));
        assert!(text.contains(
            "deploy_gate_http_request_duration_seconds_bucket{route=\"/can-deploy\",method=\"GET\",le=\"0.0025\"} 0"
        ));
        assert!(text.contains(
            "deploy_gate_http_request_duration_seconds_bucket{route=\"/can-deploy\",method=\"GET\",le=\"0.005\"} 1"
        ));
        assert!(
            text.contains("deploy_gate_http_request_duration_seconds_count{route=\"/can-deploy\",method=\"GET\"} 1")
        );
        assert!(text.contains("deploy_gate_active_windows{kind=\"deny\"} 2"));
        assert!(text.contains("deploy_gate_config_reload_errors_total 1"));
    }

    #[test]
    fn environments_beyond_the_limit_share_one_label() {
        let m = Metrics::default();
        for i in 0..MAX_ENVIRONMENTS + 5 {
            m.decision(true, &format!("env-{i}"), &[]);
        }
        let text =
            m.render(&Gauges { active_deny: 0, active_allow: 0, active_overrides: 0, reloads: 0, reload_errors: 0 });
        assert!(text.contains("environment=\"other\"} 5"), "{text}");
    }
}
