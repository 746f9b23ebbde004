//! Process maps: how a team's work flows from idea to production, step by
//! step, which steps are work and which are waiting, and where it hurts.
//! Lead time is the sum of the steps' typical durations; flow efficiency is
//! the share of it spent working.

use std::fmt::Write;

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    Work,
    Wait,
}

impl StepKind {
    pub fn parse(s: &str) -> Option<StepKind> {
        match s {
            "work" => Some(StepKind::Work),
            "wait" => Some(StepKind::Wait),
            _ => None,
        }
    }
}

/// One step of a process map.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Step {
    pub name: String,
    pub kind: StepKind,
    /// As written, e.g. `2d`.
    pub typical: String,
    pub typical_seconds: u64,
    /// Where it hurts, in the team's words.
    pub pain: Option<String>,
}

/// A team's process map, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessMap {
    pub steps: Vec<Step>,
}

/// Lead time and flow efficiency of a map.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Flow {
    pub lead_time_seconds: u64,
    pub work_seconds: u64,
    pub wait_seconds: u64,
    /// Work / lead time, 0 to 1.
    pub flow_efficiency: f64,
}

impl ProcessMap {
    /// None for a map with no steps.
    pub fn flow(&self) -> Option<Flow> {
        let sum = |kind| self.steps.iter().filter(|s| s.kind == kind).map(|s| s.typical_seconds).sum::<u64>();
        let (work, wait) = (sum(StepKind::Work), sum(StepKind::Wait));
        let lead = work + wait;
        (lead > 0).then(|| Flow {
            lead_time_seconds: lead,
            work_seconds: work,
            wait_seconds: wait,
            flow_efficiency: (work as f64 / lead as f64 * 1000.0).round() / 1000.0,
        })
    }
}

/// Seconds as a short duration: `3d 4h`, `45m`.
pub fn short_duration(seconds: u64) -> String {
    let (d, h, m) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60);
    let parts: Vec<String> =
        [(d, "d"), (h, "h"), (m, "m")].iter().filter(|(n, _)| *n > 0).map(|(n, u)| format!("{n}{u}")).collect();
    if parts.is_empty() { format!("{seconds}s") } else { parts.into_iter().take(2).collect::<Vec<_>>().join(" ") }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Text cut to `n` characters, with an ellipsis when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}

/// The map drawn left to right: work as solid boxes, waits as dashed ones,
/// pain points marked with a red `!` (and their words below); under it, a
/// bar of the lead time with work and waiting in proportion. `beside` is a
/// line of deploy-gate's own data shown under the map.
pub fn svg(team: &str, map: &ProcessMap, beside: Option<&str>) -> String {
    const BOX_W: usize = 132;
    const GAP: usize = 28;
    const LEFT: usize = 16;
    let n = map.steps.len().max(1);
    let width = (LEFT * 2 + n * BOX_W + (n - 1) * GAP).max(480);
    let pains: Vec<(usize, &str)> =
        map.steps.iter().enumerate().filter_map(|(i, s)| Some((i + 1, s.pain.as_deref()?))).collect();
    let height = 250 + pains.len() * 18 + if beside.is_some() { 22 } else { 0 };
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" role="img" aria-label="Process map of {t}">
<title>Process map of {t}</title>
<defs><pattern id="waiting" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="8" stroke="#c9c9c9" stroke-width="3"/></pattern>
<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>
<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{t}: how work flows</text>
"##,
        t = escape(team)
    );
    if map.steps.is_empty() {
        let _ = write!(
            out,
            r#"<text x="{LEFT}" y="60">No process map yet: add [[teams.process]] steps to this team in the config.</text>"#
        );
    }
    for (i, s) in map.steps.iter().enumerate() {
        let x = LEFT + i * (BOX_W + GAP);
        let y = 44;
        let (class, fill, stroke, dash, text) = match s.kind {
            StepKind::Work => ("step work", "#2b6cb0", "#1a4971", "", "#ffffff"),
            StepKind::Wait => ("step wait", "url(#waiting)", "#777777", r#" stroke-dasharray="6 4""#, "#222222"),
        };
        let _ = write!(
            out,
            r#"<g class="{class}" data-kind="{kind}"><title>{name}: {kind}, typically {typ}{pain}</title>
<rect x="{x}" y="{y}" width="{BOX_W}" height="64" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="2"{dash}/>
<text x="{tx}" y="{y1}" text-anchor="middle" fill="{text}" font-weight="bold">{short}</text>
<text x="{tx}" y="{y2}" text-anchor="middle" fill="{text}">{kind} · {typ}</text></g>
"#,
            kind = if s.kind == StepKind::Work { "work" } else { "wait" },
            name = escape(&s.name),
            short = escape(&clip(&s.name, 18)),
            typ = escape(&s.typical),
            pain = s.pain.as_deref().map(|p| format!(" — pain: {}", escape(p))).unwrap_or_default(),
            tx = x + BOX_W / 2,
            y1 = y + 27,
            y2 = y + 47,
        );
        if i + 1 < map.steps.len() {
            let _ = writeln!(
                out,
                r##"<line x1="{a}" y1="76" x2="{b}" y2="76" stroke="#555" stroke-width="2" marker-end="url(#arrow)"/>"##,
                a = x + BOX_W + 2,
                b = x + BOX_W + GAP - 2
            );
        }
        if let Some(p) = &s.pain {
            let number = pains.iter().position(|(k, _)| *k == i + 1).map_or(0, |k| k + 1);
            let _ = writeln!(
                out,
                r##"<g class="pain"><title>Pain: {p}</title><circle cx="{cx}" cy="44" r="11" fill="#c53030"/><text x="{cx}" y="49" text-anchor="middle" fill="#fff" font-weight="bold">!{number}</text></g>"##,
                p = escape(p),
                cx = x + BOX_W - 8
            );
        }
    }
    let mut y = 140;
    if let Some(flow) = map.flow() {
        let bar = width - 2 * LEFT;
        let mut x = LEFT as f64;
        for s in &map.steps {
            let w = bar as f64 * s.typical_seconds as f64 / flow.lead_time_seconds as f64;
            let fill = if s.kind == StepKind::Work { "#2b6cb0" } else { "url(#waiting)" };
            let _ = writeln!(
                out,
                r##"<rect class="lead {kind}" x="{x:.1}" y="{y}" width="{w:.1}" height="16" fill="{fill}" stroke="#777" stroke-width="0.5"><title>{name}: {typ}</title></rect>"##,
                kind = if s.kind == StepKind::Work { "work" } else { "wait" },
                name = escape(&s.name),
                typ = escape(&s.typical),
            );
            x += w;
        }
        let _ = write!(
            out,
            r##"<text x="{LEFT}" y="{ty}" class="summary">Lead time {lead} · work {work} · waiting {wait} · flow efficiency {eff}%</text>
<text x="{LEFT}" y="{ly}" fill="#555">Solid: work. Hatched and dashed: waiting. A red ! marks a pain point.</text>
"##,
            ty = y + 36,
            ly = y + 56,
            lead = short_duration(flow.lead_time_seconds),
            work = short_duration(flow.work_seconds),
            wait = short_duration(flow.wait_seconds),
            eff = (flow.flow_efficiency * 100.0).round(),
        );
        y += 80;
    }
    for (k, (step, p)) in pains.iter().enumerate() {
        let name = &map.steps[step - 1].name;
        let _ = writeln!(
            out,
            r##"<text x="{LEFT}" y="{y}" fill="#c53030">!{n} {name}: {p}</text>"##,
            n = k + 1,
            name = escape(name),
            p = escape(&clip(p, 120)),
        );
        y += 18;
    }
    if let Some(line) = beside {
        let _ = writeln!(out, r#"<text x="{LEFT}" y="{y}" class="gate-wait">{}</text>"#, escape(line));
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, kind: StepKind, seconds: u64, pain: Option<&str>) -> Step {
        Step {
            name: name.into(),
            kind,
            typical: short_duration(seconds),
            typical_seconds: seconds,
            pain: pain.map(Into::into),
        }
    }

    #[test]
    fn lead_time_is_the_sum_and_flow_efficiency_the_share_of_work() {
        let map = ProcessMap {
            steps: vec![
                step("code", StepKind::Work, 86_400, None),
                step("review queue", StepKind::Wait, 2 * 86_400, Some("reviewers are busy")),
                step("deploy", StepKind::Work, 3600, None),
                step("release train", StepKind::Wait, 86_400 - 3600, None),
            ],
        };
        let flow = map.flow().expect("flow");
        assert_eq!(flow.lead_time_seconds, 4 * 86_400);
        assert_eq!((flow.work_seconds, flow.wait_seconds), (90_000, 255_600));
        assert_eq!(flow.flow_efficiency, 0.26);
        assert!(ProcessMap::default().flow().is_none());
    }

    #[test]
    fn the_svg_draws_waits_apart_from_work_and_marks_pain() {
        let map = ProcessMap {
            steps: vec![
                step("code <fast>", StepKind::Work, 3600, None),
                step("wait", StepKind::Wait, 7200, Some("queue & friends")),
            ],
        };
        let svg = svg("pay&co", &map, Some("Gate wait last 30 days: none"));
        assert_eq!(svg.matches(r#"class="step work""#).count(), 1);
        assert_eq!(svg.matches(r#"class="step wait""#).count(), 1);
        assert!(svg.contains("stroke-dasharray"));
        assert_eq!(svg.matches(r#"class="pain""#).count(), 1);
        assert!(svg.contains("queue &amp; friends") && svg.contains("code &lt;fast&gt;") && svg.contains("pay&amp;co"));
        assert!(svg.contains("flow efficiency 33%"), "{svg}");
        assert!(svg.contains("Gate wait last 30 days"));
    }

    #[test]
    fn steps_are_drawn_left_to_right_in_order() {
        let map = ProcessMap {
            steps: ["plan", "build", "queue", "ship"]
                .iter()
                .enumerate()
                .map(|(i, n)| step(n, if i == 2 { StepKind::Wait } else { StepKind::Work }, 3600, None))
                .collect(),
        };
        let svg = svg("t", &map, None);
        let mut xs = Vec::new();
        for name in ["plan", "build", "queue", "ship"] {
            let at = svg.find(&format!("<title>{name}: ")).expect("step drawn");
            let x: usize = svg[at..]
                .split("<rect x=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .and_then(|x| x.parse().ok())
                .expect("x");
            xs.push(x);
        }
        assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
    }

    #[test]
    fn short_durations_read_as_written() {
        assert_eq!(short_duration(90 * 60), "1h 30m");
        assert_eq!(short_duration(3 * 86_400 + 4 * 3600 + 60), "3d 4h");
        assert_eq!(short_duration(30), "30s");
    }
}
