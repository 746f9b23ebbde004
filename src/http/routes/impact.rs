//! `/impact`: traffic data for release decisions. The week profile of a
//! service (JSON, and a heat map with its windows drawn over it), what a
//! deploy at a given time would run through, and the quietest spans.

use std::fmt::Write as _;

use actix_web::{HttpResponse, web};
use chrono::{Datelike, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::dashboard::esc;
use crate::config::parse_duration_text;
use crate::error::{Error, ErrorCode};
use crate::gate::Gate;
use crate::http::params;
use crate::http::strict::{Known, Query};
use crate::policy::{Kind, Name, Rules};
use crate::traffic::{DAYS, Profile, SLOTS, Suggestion, WhatIf};

fn no_data(service: &str) -> Error {
    Error::new(
        ErrorCode::NoTrafficData,
        format!(
            "no traffic source has data for service `{}`; /readyz lists the sources and their last errors",
            service.escape_debug()
        ),
    )
}

fn service(value: Option<&str>) -> Result<Name, Error> {
    params::name("service", value, "checkout")
}

fn duration(field: &str, value: Option<&str>, default: Duration, max: Duration) -> Result<Duration, Error> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(text) => {
            let d = parse_duration_text(text).map_err(|m| Error::invalid_parameter(field, m))?;
            if d > max {
                return Err(Error::invalid_parameter(
                    field,
                    format!("`{text}` is longer than {}", humantime::format_duration(max.to_std().unwrap_or_default())),
                ));
            }
            Ok(d)
        }
    }
}

/// The profile over `weeks` (default: `[traffic] weeks`).
fn profile_of(gate: &Gate, service: &Name, weeks: Option<&str>) -> Result<std::sync::Arc<Profile>, Error> {
    match weeks.filter(|w| !w.is_empty()) {
        None => gate.traffic().profile(service.as_str()).ok_or_else(|| no_data(service.as_str())),
        Some(w) => {
            let n = w
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=12).contains(n))
                .ok_or_else(|| Error::invalid_parameter("weeks", "weeks must be a whole number from 1 to 12"))?;
            let weekly = gate.traffic().weekly(service.as_str()).ok_or_else(|| no_data(service.as_str()))?;
            Ok(std::sync::Arc::new(weekly.profile(n)))
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProfileQuery {
    service: Option<String>,
    /// Weeks of data, 1 to 12 (default `[traffic] weeks`, as fetched).
    weeks: Option<String>,
}

impl Known for ProfileQuery {
    const FIELDS: &'static [&'static str] = &["service", "weeks"];
}

/// A service's week: 168 hour-of-week slots, Monday 00:00 first, in the source's zone.
#[utoipa::path(get, path = "/impact/profile", tag = "impact", params(ProfileQuery), responses((status = 200, body = Profile)))]
pub async fn profile(gate: web::Data<Gate>, query: Query<ProfileQuery>) -> Result<HttpResponse, Error> {
    let s = service(query.service.as_deref())?;
    Ok(HttpResponse::Ok().json(&*profile_of(&gate, &s, query.weeks.as_deref())?))
}

/// The heat map of a service's week (7 rows x 24 hours), with the windows
/// that apply to it in the current week drawn over it.
#[utoipa::path(get, path = "/impact/profile.svg", tag = "impact", params(ProfileQuery),
    responses((status = 200, content_type = "image/svg+xml", body = String)))]
pub async fn heat_map(gate: web::Data<Gate>, query: Query<ProfileQuery>) -> Result<HttpResponse, Error> {
    let s = service(query.service.as_deref())?;
    let p = profile_of(&gate, &s, query.weeks.as_deref())?;
    let svg = render_heat_map(&p, &gate.live().rules, Utc::now());
    Ok(HttpResponse::Ok().content_type("image/svg+xml").insert_header(("cache-control", "no-store")).body(svg))
}

/// Which slots of the current week (in the profile's zone) a deny or an
/// allow window applying to the service covers, at each slot's middle.
pub fn covered(p: &Profile, rules: &Rules, now: chrono::DateTime<Utc>) -> Vec<(bool, bool)> {
    let local = p.zone.local(now).date();
    let monday = local - Duration::days(local.weekday().num_days_from_monday() as i64);
    let windows: Vec<_> = rules.windows().iter().filter(|w| w.spec.services.matches(&p.service)).collect();
    (0..SLOTS)
        .map(|i| {
            let midnight = monday.and_hms_opt(0, 0, 0).unwrap_or_default();
            let t = p.zone.resolve(midnight + Duration::hours(i as i64) + Duration::minutes(30));
            let on = |kind: Kind| windows.iter().any(|w| w.kind == kind && w.containing(t).is_some());
            (on(Kind::Deny), on(Kind::Allow))
        })
        .collect()
}

fn shade(percentile: f64) -> &'static str {
    match percentile {
        p if p >= 95.0 => "#b42318",
        p if p >= 75.0 => "#f97066",
        p if p >= 50.0 => "#fec84b",
        p if p >= 25.0 => "#a6ef67",
        _ => "#3ccb7f",
    }
}

pub fn render_heat_map(p: &Profile, rules: &Rules, now: chrono::DateTime<Utc>) -> String {
    let (cell_w, cell_h, left, top) = (34.0_f64, 26.0_f64, 44.0_f64, 34.0_f64);
    let (width, height) = (left + 24.0 * cell_w + 8.0, top + 7.0 * cell_h + 40.0);
    let cover = covered(p, rules, now);
    let mut h = String::with_capacity(48 * 1024);
    let _ = write!(
        h,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="system-ui, sans-serif" font-size="11"><title>Requests per minute of {service} by hour of the week ({tz}, median of {weeks} weeks); deny windows hatched, allow windows outlined</title>"#,
        service = esc(&p.service),
        tz = esc(&p.timezone),
        weeks = p.weeks,
    );
    h.push_str(r##"<defs><pattern id="deny" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#1d2939" stroke-width="2"/></pattern></defs>"##);
    for hour in (0..24).step_by(3) {
        let _ =
            write!(h, r#"<text x="{:.1}" y="{:.1}">{hour:02}</text>"#, left + hour as f64 * cell_w + 2.0, top - 8.0);
    }
    for (i, slot) in p.slots.iter().enumerate() {
        let (d, hour) = (i / 24, i % 24);
        if hour == 0 {
            let _ = write!(h, r#"<text x="4" y="{:.1}">{}</text>"#, top + d as f64 * cell_h + cell_h * 0.65, DAYS[d]);
        }
        let (x, y) = (left + hour as f64 * cell_w, top + d as f64 * cell_h);
        let (deny, allow) = cover[i];
        let _ = write!(
            h,
            r#"<rect class="slot" data-slot="{i}" data-percentile="{pct:.1}" data-deny="{deny}" data-allow="{allow}" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{hh:.1}" fill="{fill}"><title>{day} {hour:02}:00: {req:.0} requests a minute, busier than {pct:.0}% of the week's hours{win}</title></rect>"#,
            w = cell_w - 1.0,
            hh = cell_h - 1.0,
            fill = shade(slot.percentile),
            day = slot.day,
            req = slot.requests,
            pct = slot.percentile,
            win = match (deny, allow) {
                (true, _) => "; a freeze covers it this week",
                (false, true) => "; in a deploy window this week",
                _ => "",
            },
        );
        if deny {
            let _ = write!(
                h,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{hh:.1}" fill="url(#deny)" opacity="0.35"/>"#,
                w = cell_w - 1.0,
                hh = cell_h - 1.0
            );
        }
        if allow {
            let _ = write!(
                h,
                r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#175cd3" stroke-width="2"/>"##,
                x + 1.0,
                y + 1.0,
                cell_w - 3.0,
                cell_h - 3.0
            );
        }
    }
    let ly = top + 7.0 * cell_h + 20.0;
    let mut x = left;
    for (label, p) in [("quiet", 0.0), ("", 30.0), ("", 60.0), ("busy", 80.0), ("peak", 99.0)] {
        let _ = write!(h, r#"<rect x="{x:.1}" y="{:.1}" width="18" height="12" fill="{}"/>"#, ly - 10.0, shade(p));
        if !label.is_empty() {
            let _ = write!(h, r#"<text x="{:.1}" y="{ly:.1}">{label}</text>"#, x + 22.0);
        }
        x += if label.is_empty() { 22.0 } else { 60.0 };
    }
    let _ = write!(
        h,
        r##"<rect x="{:.1}" y="{:.1}" width="18" height="12" fill="url(#deny)" stroke="#1d2939"/><text x="{:.1}" y="{ly:.1}">freeze</text><rect x="{:.1}" y="{:.1}" width="18" height="12" fill="none" stroke="#175cd3" stroke-width="2"/><text x="{:.1}" y="{ly:.1}">deploy window</text></svg>"##,
        x + 20.0,
        ly - 10.0,
        x + 42.0,
        x + 110.0,
        ly - 10.0,
        x + 132.0,
    );
    h
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WhatIfQuery {
    service: Option<String>,
    /// RFC 3339; default now.
    at: Option<String>,
    /// How long the deploy takes; default 30m, at most 7 days.
    duration: Option<String>,
}

impl Known for WhatIfQuery {
    const FIELDS: &'static [&'static str] = &["service", "at", "duration"];
}

/// What a deploy at `at` for `duration` would run through.
#[utoipa::path(get, path = "/impact", tag = "impact", params(WhatIfQuery), responses((status = 200, body = WhatIf)))]
pub async fn what_if(gate: web::Data<Gate>, query: Query<WhatIfQuery>) -> Result<HttpResponse, Error> {
    let s = service(query.service.as_deref())?;
    let at = params::instant("at", query.at.as_deref())?.unwrap_or_else(Utc::now);
    let d = duration("duration", query.duration.as_deref(), Duration::minutes(30), Duration::days(7))?;
    let p = profile_of(&gate, &s, None)?;
    Ok(HttpResponse::Ok().json(p.what_if(at, d)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    service: Option<String>,
    /// The span's length, rounded up to whole hours; default 2h, at most 24h.
    duration: Option<String>,
    /// How many spans, 1 to 10; default 3.
    count: Option<String>,
}

impl Known for SuggestQuery {
    const FIELDS: &'static [&'static str] = &["service", "duration", "count"];
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Suggestions {
    pub service: String,
    pub timezone: String,
    pub suggestions: Vec<Suggestion>,
}

/// The quietest non-overlapping spans of the week, each with its share of
/// the week's requests and a deploy window ready to paste into the config.
#[utoipa::path(get, path = "/impact/suggest", tag = "impact", params(SuggestQuery), responses((status = 200, body = Suggestions)))]
pub async fn suggest(gate: web::Data<Gate>, query: Query<SuggestQuery>) -> Result<HttpResponse, Error> {
    let s = service(query.service.as_deref())?;
    let d = duration("duration", query.duration.as_deref(), Duration::hours(2), Duration::hours(24))?;
    let count = params::limit(query.count.as_deref(), 3, 10).map_err(|mut e| {
        e.field = Some("count".into());
        e.message = "count must be a whole number from 1 to 10".into();
        e
    })?;
    let p = profile_of(&gate, &s, None)?;
    let hours = ((d.num_minutes() + 59) / 60).max(1) as usize;
    Ok(HttpResponse::Ok().json(Suggestions {
        service: p.service.clone(),
        timezone: p.timezone.clone(),
        suggestions: p.suggest(hours, count as usize),
    }))
}

/// What users saw during one release, against the same span a week earlier.
#[utoipa::path(get, path = "/deployments/{id}/impact", tag = "impact", params(("id" = String, Path)),
    responses((status = 200, body = crate::gate::DeploymentImpact)))]
pub async fn deployment(gate: web::Data<Gate>, id: web::Path<String>) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::Ok().json(gate.deployment_impact(&id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    team: Option<String>,
    /// A date or RFC 3339 time; default 28 days ago, at most 366.
    since: Option<String>,
}

impl Known for ReportQuery {
    const FIELDS: &'static [&'static str] = &["team", "since"];
}

/// What users saw during a team's releases: one sentence for the business,
/// and each release. HTML when the client prefers it (a browser), else JSON.
#[utoipa::path(get, path = "/impact/report", tag = "impact", params(ReportQuery),
    responses((status = 200, body = crate::gate::ImpactReport), (status = 200, content_type = "text/html", body = String)))]
pub async fn report(
    gate: web::Data<Gate>,
    req: actix_web::HttpRequest,
    query: Query<ReportQuery>,
) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let team = params::name("team", query.team.as_deref(), "payments")?;
    let since = params::instant_or_date("since", query.since.as_deref())?.unwrap_or(now - Duration::days(28));
    if since >= now || now - since > Duration::days(366) {
        return Err(Error::invalid_parameter("since", "since must be in the past, at most 366 days ago"));
    }
    let report = gate.impact_report(team.as_str(), since).await?;
    let html = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if !html {
        return Ok(HttpResponse::Ok().json(report));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .body(report_html(&report)))
}

fn report_html(r: &crate::gate::ImpactReport) -> String {
    let mut h = String::with_capacity(16 * 1024);
    super::dashboard::page_start(
        &mut h,
        &format!("what users saw during {}'s releases", r.team),
        "",
        &format!("Release impact: {}", r.team),
        &format!("<a href=\"/\">Dashboard</a> · since {}", r.since.date_naive()),
    );
    let _ = write!(
        h,
        r#"<section id="sentence"><h2>In one sentence</h2><p class="sentence">{sentence}</p></section>
<section id="releases"><h2>Releases</h2>"#,
        sentence = esc(&r.sentence),
    );
    if r.deployments.is_empty() {
        h.push_str("<p class=\"muted\">No release with traffic data in this range.</p>");
    } else {
        h.push_str("<table><thead><tr><th>release</th><th>service</th><th>started</th><th>verdict</th><th>failed requests beyond usual</th><th>minutes degraded</th><th>minutes slow</th><th>error ratio (a week before)</th></tr></thead><tbody>");
        for d in &r.deployments {
            let i = &d.impact;
            let pct = |x: Option<f64>| x.map_or("–".to_string(), |x| format!("{:.2}%", 100.0 * x));
            let _ = write!(
                h,
                "<tr data-deployment=\"{id}\" data-verdict=\"{verdict}\"><td>{id}{version}</td><td>{service}</td><td>{started}</td><td>{label}</td><td>{failed:.0}</td><td>{degraded:.0}</td><td>{slow:.0}</td><td>{ratio} ({base})</td></tr>",
                id = esc(&d.deployment.id),
                version = d.deployment.version.as_deref().map(|v| format!(" ({})", esc(v))).unwrap_or_default(),
                service = esc(d.deployment.service.as_deref().unwrap_or("")),
                started = d.deployment.started_at.format("%a %Y-%m-%d %H:%M UTC"),
                verdict = serde_json::to_value(i.verdict)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                label = match i.verdict {
                    crate::traffic::ImpactVerdict::Degraded => "DEGRADED",
                    crate::traffic::ImpactVerdict::NoVisibleImpact => "no visible impact",
                },
                failed = i.extra_failed_requests,
                degraded = i.minutes_degraded,
                slow = i.minutes_slow,
                ratio = pct(i.error_ratio),
                base = pct(i.baseline_error_ratio),
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>\n</main>\n</body>\n</html>\n");
    h
}
