//! `/metrics` through `prometheus-client`, the Prometheus project's own
//! crate: counters and histograms kept as requests happen, gauges read at
//! scrape time. The text is OpenMetrics, which Prometheus reads.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
/// At most this many environments get their own label; the rest are "other",
/// so callers cannot grow the metrics without bound.
const MAX_ENVIRONMENTS: usize = 200;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    result: &'static str,
    environment: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    environment: String,
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    reason: &'static str,
}

type Requests = Family<RequestLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    decisions: Family<DecisionLabels, Counter>,
    reasons: Family<ReasonLabels, Counter>,
    requests: Requests,
    auth_failures: Family<FailureLabels, Counter>,
    active_windows: Family<KindLabels, Gauge>,
    active_overrides: Gauge,
    reloads: Counter,
    reload_errors: Counter,
    environments: Mutex<HashSet<String>>,
}

/// Values read at scrape time.
pub struct Gauges {
    pub active_deny: usize,
    pub active_allow: usize,
    pub active_overrides: usize,
    pub reloads: u64,
    pub reload_errors: u64,
}

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("deploy_gate");
        let decisions = Family::default();
        registry.register("decisions", "Real (not simulated) decisions, by result and environment", decisions.clone());
        let reasons = Family::default();
        registry.register(
            "decision_reasons",
            "Reasons in real decisions, by environment and reason code",
            reasons.clone(),
        );
        let requests = Requests::new_with_constructor(histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency, by route and method",
            requests.clone(),
        );
        let auth_failures = Family::default();
        registry.register(
            "auth_failures",
            "Requests refused for their token: unknown, malformed, or throttled",
            auth_failures.clone(),
        );
        let active_windows = Family::default();
        registry.register("active_windows", "Windows with an occurrence open now, by kind", active_windows.clone());
        let active_overrides = Gauge::default();
        registry.register("active_overrides", "Overrides in force now", active_overrides.clone());
        let reloads = Counter::default();
        registry.register("config_reloads", "Config reloads that went live", reloads.clone());
        let reload_errors = Counter::default();
        registry.register("config_reload_errors", "Config edits refused as invalid", reload_errors.clone());
        Metrics {
            registry,
            decisions,
            reasons,
            requests,
            auth_failures,
            active_windows,
            active_overrides,
            reloads,
            reload_errors,
            environments: Mutex::default(),
        }
    }
}

impl Metrics {
    /// The environment's own label, or "other" past the first 200.
    fn environment_label(&self, environment: &str) -> String {
        let mut seen = self.environments.lock().unwrap_or_else(|e| e.into_inner());
        if seen.contains(environment) || seen.len() < MAX_ENVIRONMENTS {
            seen.insert(environment.to_string());
            environment.to_string()
        } else {
            "other".to_string()
        }
    }

    /// Count one real decision and its reason codes.
    pub fn decision(&self, allowed: bool, environment: &str, codes: &[&'static str]) {
        let environment = self.environment_label(environment);
        let result = if allowed { "allow" } else { "deny" };
        self.decisions.get_or_create(&DecisionLabels { result, environment: environment.clone() }).inc();
        for code in codes {
            self.reasons.get_or_create(&ReasonLabels { environment: environment.clone(), code }).inc();
        }
    }

    /// Time one HTTP request, by matched route pattern and method.
    pub fn request(&self, route: &str, method: &str, took: Duration) {
        let labels = RequestLabels { route: route.to_string(), method: method.to_string() };
        self.requests.get_or_create(&labels).observe(took.as_secs_f64());
    }

    /// Count a request refused for its token.
    pub fn auth_failure(&self, reason: &'static str) {
        self.auth_failures.get_or_create(&FailureLabels { reason }).inc();
    }

    /// The text exposition, with the gauges read now.
    pub fn render(&self, gauges: &Gauges) -> String {
        self.active_windows.get_or_create(&KindLabels { kind: "deny" }).set(gauges.active_deny as i64);
        self.active_windows.get_or_create(&KindLabels { kind: "allow" }).set(gauges.active_allow as i64);
        self.active_overrides.set(gauges.active_overrides as i64);
        // Reloads are counted by the core; catch the counters up.
        self.reloads.inc_by(gauges.reloads.saturating_sub(self.reloads.get()));
        self.reload_errors.inc_by(gauges.reload_errors.saturating_sub(self.reload_errors.get()));
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauges() -> Gauges {
        Gauges { active_deny: 2, active_allow: 1, active_overrides: 0, reloads: 3, reload_errors: 1 }
    }

    #[test]
    fn the_exposition_counts_and_escapes() {
        let m = Metrics::default();
        m.decision(false, "production", &["window_active", "team_red"]);
        m.decision(true, "prod\"x", &[]);
        m.request("/can-deploy", "GET", Duration::from_millis(3));
        m.auth_failure("unknown_token");
        let text = m.render(&gauges());
        assert!(text.contains("deploy_gate_decisions_total{result=\"deny\",environment=\"production\"} 1"), "{text}");
        assert!(text.contains("environment=\"prod\\\"x\"} 1"), "{text}");
        assert!(text.contains("deploy_gate_decision_reasons_total{environment=\"production\",code=\"team_red\"} 1"));
        assert!(
            text.contains(
                "deploy_gate_http_request_duration_seconds_bucket{le=\"0.0025\",route=\"/can-deploy\",method=\"GET\"} 0"
            ),
            "{text}"
        );
        assert!(text.contains(
            "deploy_gate_http_request_duration_seconds_bucket{le=\"0.005\",route=\"/can-deploy\",method=\"GET\"} 1"
        ));
        assert!(
            text.contains("deploy_gate_http_request_duration_seconds_count{route=\"/can-deploy\",method=\"GET\"} 1")
        );
        assert!(text.contains("deploy_gate_active_windows{kind=\"deny\"} 2"));
        assert!(text.contains("deploy_gate_config_reload_errors_total 1"));
        assert!(text.contains("deploy_gate_auth_failures_total{reason=\"unknown_token\"} 1"));
        // Read again: the reload counters do not count twice.
        assert!(m.render(&gauges()).contains("deploy_gate_config_reloads_total 3"));
    }

    #[test]
    fn environments_beyond_the_limit_share_one_label() {
        let m = Metrics::default();
        for i in 0..MAX_ENVIRONMENTS + 5 {
            m.decision(true, &format!("env-{i}"), &[]);
        }
        let text = m.render(&gauges());
        assert!(text.contains("environment=\"other\"} 5"), "{text}");
    }
}
