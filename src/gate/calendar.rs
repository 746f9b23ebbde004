//! The calendar: every occurrence of the windows that may apply to some
//! target, in a time range.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::error::{Error, ErrorCode};
use crate::policy::{Kind, Name, Rules};

/// The longest range one answer covers.
const MAX_SPAN: Duration = Duration::days(366);
/// The most occurrences one answer carries.
const MAX_OCCURRENCES: usize = 10_000;

/// A checked calendar question.
#[derive(Clone, Debug)]
pub struct CalendarQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub team: Option<Name>,
    pub service: Option<Name>,
    pub environment: Option<Name>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub window_id: String,
    pub kind: Kind,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: Option<String>,
}

/// The occurrences in a range, sorted by start then window id.
pub struct Calendar {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub entries: Vec<Entry>,
}

impl CalendarQuery {
    /// A range that ends after it starts and spans at most a year.
    pub fn check_range(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), Error> {
        if to <= from {
            return Err(Error::invalid_parameter("to", "to must be after from"));
        }
        if to - from > MAX_SPAN {
            return Err(Error::invalid_parameter("to", "the range is longer than 366 days; ask for a shorter one"));
        }
        Ok(())
    }
}

/// Every occurrence in `[from, to)` of the windows that may apply.
pub fn calendar(rules: &Rules, q: &CalendarQuery) -> Result<Calendar, Error> {
    CalendarQuery::check_range(q.from, q.to)?;
    let (team, service, environment) = (
        q.team.as_ref().map(Name::as_str),
        q.service.as_ref().map(Name::as_str),
        q.environment.as_ref().map(Name::as_str),
    );
    let mut out = Vec::new();
    for w in rules.windows().iter().filter(|w| w.may_apply(team, service, environment)) {
        let room = MAX_OCCURRENCES + 1 - out.len();
        out.extend(w.schedule.spans(q.from, q.to, room).into_iter().map(|o| Entry {
            window_id: w.id().to_string(),
            kind: w.kind,
            start: o.start,
            end: o.end,
            reason: w.spec.reason.clone(),
        }));
        if out.len() > MAX_OCCURRENCES {
            return Err(Error::field(
                ErrorCode::TooManyOccurrences,
                "to",
                format!(
                    "more than {MAX_OCCURRENCES} occurrences in the range; ask for a shorter range or filter by team or environment"
                ),
            ));
        }
    }
    out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.window_id.cmp(&b.window_id)));
    Ok(Calendar { from: q.from, to: q.to, entries: out })
}
