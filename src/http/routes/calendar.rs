//! `/calendar`: every occurrence of every window in a time range.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::http::error::ApiError;
use crate::http::params;
use crate::http::state::AppState;
use crate::policy::{Kind, Rules};

/// The default range, from `from`.
pub const DEFAULT_SPAN: Duration = Duration::days(14);
const MAX_SPAN: Duration = Duration::days(366);
const MAX_OCCURRENCES: usize = 10_000;

#[derive(Debug, Deserialize)]
pub struct CalendarQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub team: Option<String>,
    pub service: Option<String>,
    pub environment: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub window_id: String,
    pub kind: Kind,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: Option<String>,
    #[serde(skip)]
    pub timezone: &'static str,
}

/// The occurrences in a range, sorted by start then window id.
pub struct Calendar {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub entries: Vec<Entry>,
}

/// The calendar a query asks for.
pub fn calendar(rules: &Rules, q: &CalendarQuery, now: DateTime<Utc>) -> Result<Calendar, ApiError> {
    let from = params::instant("from", q.from.as_deref())?.unwrap_or(now);
    let to = params::instant("to", q.to.as_deref())?.unwrap_or(from + DEFAULT_SPAN);
    if to <= from {
        return Err(ApiError::bad("invalid_parameter", "to", "to must be after from"));
    }
    if to - from > MAX_SPAN {
        return Err(ApiError::bad(
            "invalid_parameter",
            "to",
            "the range is longer than 366 days; ask for a shorter one",
        ));
    }
    let team = params::optional_name("team", q.team.as_deref())?;
    let service = params::optional_name("service", q.service.as_deref())?;
    let environment = params::optional_name("environment", q.environment.as_deref())?;
    let mut out = Vec::new();
    for w in rules.windows() {
        if !w.may_apply(
            team.as_ref().map(|n| n.as_str()),
            service.as_ref().map(|n| n.as_str()),
            environment.as_ref().map(|n| n.as_str()),
        ) {
            continue;
        }
        let room = MAX_OCCURRENCES + 1 - out.len();
        for o in w.schedule.between(from, to, room) {
            out.push(Entry {
                window_id: w.id().to_string(),
                kind: w.kind,
                start: o.start,
                end: o.end,
                reason: w.spec.reason.clone(),
                timezone: w.zone.name(),
            });
        }
        if out.len() > MAX_OCCURRENCES {
            return Err(ApiError::bad(
                "too_many_occurrences",
                "to",
                format!(
                    "more than {MAX_OCCURRENCES} occurrences in the range; ask for a shorter range or filter by team or environment"
                ),
            ));
        }
    }
    out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.window_id.cmp(&b.window_id)));
    Ok(Calendar { from, to, entries: out })
}

pub async fn get(state: web::Data<AppState>, query: web::Query<CalendarQuery>) -> Result<HttpResponse, ApiError> {
    let live = state.live();
    let found = calendar(&live.rules, &query, Utc::now())?;
    Ok(HttpResponse::Ok().json(found.entries))
}
