//! A session as `POST /health-checks` takes it: counts per topic and notes,
//! nothing else. Any other field is refused, so no person's name or vote
//! can be stored.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::{HealthSettings, Votes};
use crate::config::did_you_mean;
use crate::error::{Error, ErrorCode};
use crate::policy::Name;

const FIELDS: &[&str] = &["team", "date", "votes", "notes"];
/// More votes than this on one topic is a typo, not a team.
const MAX_COUNT: u64 = 10_000;
/// The longest note on one topic.
const MAX_NOTE: usize = 2000;

/// A checked session, not yet stored.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSession {
    pub team: Name,
    pub date: NaiveDate,
    pub votes: BTreeMap<String, Votes>,
    pub notes: BTreeMap<String, String>,
}

fn unknown(field: &str, message: String) -> Error {
    Error::field(ErrorCode::UnknownParameter, field, message)
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::invalid_parameter(field, message)
}

fn hint(name: &str, known: &[&str]) -> String {
    match did_you_mean(name, known) {
        Some(k) => format!("did you mean `{k}`?"),
        None => format!("known ones are {}", known.join(", ")),
    }
}

/// Check a body against the topics; `now` bounds the date.
pub fn session_from_json(body: Value, settings: &HealthSettings, now: DateTime<Utc>) -> Result<NewSession, Error> {
    let Value::Object(map) = body else {
        return Err(Error::field(ErrorCode::InvalidJson, "body", "the body must be a JSON object"));
    };
    for key in map.keys() {
        if !FIELDS.contains(&key.as_str()) {
            return Err(unknown(
                key,
                format!(
                    "unknown field `{}`: a health check holds only team, date, votes and notes \
                     (counts per topic, never who voted what); {}",
                    key.escape_debug(),
                    hint(key, FIELDS)
                ),
            ));
        }
    }
    let team = match map.get("team") {
        None | Some(Value::Null) => return Err(Error::missing("team", "payments")),
        Some(Value::String(t)) => Name::parse("team", t).map_err(|m| invalid("team", m))?,
        Some(_) => return Err(invalid("team", "team must be a string, e.g. \"payments\"")),
    };
    let date = date(map.get("date"), now)?;
    let topics = settings.topic_ids();
    let votes = votes(map.get("votes"), &topics)?;
    let notes = notes(map.get("notes"), &topics)?;
    Ok(NewSession { team, date, votes, notes })
}

fn date(value: Option<&Value>, now: DateTime<Utc>) -> Result<NaiveDate, Error> {
    let text = match value {
        None | Some(Value::Null) => return Err(Error::missing("date", "2027-01-15")),
        Some(Value::String(s)) => s,
        Some(_) => return Err(invalid("date", "date must be a string YYYY-MM-DD, e.g. \"2027-01-15\"")),
    };
    let shape = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    let parsed = shape.then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()).flatten();
    let Some(date) = parsed else {
        return Err(invalid(
            "date",
            format!("date `{}` is not a day written YYYY-MM-DD, e.g. 2027-01-15", text.escape_debug()),
        ));
    };
    // Somewhere on Earth it may already be tomorrow.
    let latest = now.date_naive().checked_add_days(Days::new(1)).unwrap_or(NaiveDate::MAX);
    if date > latest {
        return Err(invalid("date", format!("date {date} is in the future; give the day the team met")));
    }
    if date.year() < 1970 {
        return Err(invalid("date", format!("date {date} is before 1970")));
    }
    Ok(date)
}

fn object<'v>(value: &'v Value, field: &str, example: &str) -> Result<&'v Map<String, Value>, Error> {
    value.as_object().ok_or_else(|| invalid(field, format!("{field} must be an object, e.g. {example}")))
}

fn votes(value: Option<&Value>, topics: &[&str]) -> Result<BTreeMap<String, Votes>, Error> {
    let example = r#"{"fun": {"green": 4, "yellow": 2, "red": 0}}"#;
    let map = match value {
        None | Some(Value::Null) => return Err(Error::missing("votes", example)),
        Some(v) => object(v, "votes", example)?,
    };
    if map.is_empty() {
        return Err(invalid("votes", format!("votes has no topics; give counts per topic, e.g. {example}")));
    }
    let mut out = BTreeMap::new();
    for (topic, counts) in map {
        let field = format!("votes.{topic}");
        if !topics.contains(&topic.as_str()) {
            return Err(unknown(&field, format!("unknown topic `{}`; {}", topic.escape_debug(), hint(topic, topics))));
        }
        let counts = object(counts, &field, r#"{"green": 4, "yellow": 2, "red": 0}"#)?;
        let mut v = Votes::default();
        for (colour, n) in counts {
            let field = format!("{field}.{colour}");
            let slot = match colour.as_str() {
                "green" => &mut v.green,
                "yellow" => &mut v.yellow,
                "red" => &mut v.red,
                _ => {
                    return Err(unknown(
                        &field,
                        format!(
                            "`{}` is not a colour: a topic takes the counts green, yellow and red, \
                             never who voted what",
                            colour.escape_debug()
                        ),
                    ));
                }
            };
            *slot = match n.as_u64() {
                Some(n) if n <= MAX_COUNT => n as u32,
                Some(_) => return Err(invalid(&field, format!("{field} must be at most {MAX_COUNT}"))),
                None => {
                    return Err(invalid(
                        &field,
                        format!("{field} must be a whole number of votes, 0 or more, not {n}"),
                    ));
                }
            };
        }
        if v.total() == 0 {
            return Err(invalid(&field, format!("{field} has no votes; leave the topic out instead")));
        }
        out.insert(topic.clone(), v);
    }
    Ok(out)
}

fn notes(value: Option<&Value>, topics: &[&str]) -> Result<BTreeMap<String, String>, Error> {
    let map = match value {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(v) => object(v, "notes", r#"{"speed": "waiting on the platform team"}"#)?,
    };
    let mut out = BTreeMap::new();
    for (topic, note) in map {
        let field = format!("notes.{topic}");
        if !topics.contains(&topic.as_str()) {
            return Err(unknown(&field, format!("unknown topic `{}`; {}", topic.escape_debug(), hint(topic, topics))));
        }
        let Value::String(text) = note else {
            return Err(invalid(&field, format!("{field} must be text")));
        };
        if text.chars().count() > MAX_NOTE {
            return Err(invalid(&field, format!("{field} is longer than {MAX_NOTE} characters")));
        }
        // Line breaks and tabs are fine in a note; other control characters
        // would garble pages.
        if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(invalid(&field, format!("{field} holds control characters; write plain text")));
        }
        if !text.trim().is_empty() {
            out.insert(topic.clone(), text.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2027-01-20T12:00:00Z".parse().expect("instant")
    }

    fn check(body: Value) -> Result<NewSession, Error> {
        session_from_json(body, &HealthSettings::default(), now())
    }

    fn refused(body: Value) -> (ErrorCode, String, String) {
        let e = check(body).expect_err("refused");
        (e.code, e.field.unwrap_or_default(), e.message)
    }

    #[test]
    fn counts_and_notes_are_taken() {
        let s = check(json!({"team": "Payments", "date": "2027-01-15",
            "votes": {"fun": {"green": 4, "yellow": 1}}, "notes": {"fun": "good sprint"}}))
        .expect("valid");
        assert_eq!(s.team.as_str(), "payments");
        assert_eq!(s.votes["fun"], Votes { green: 4, yellow: 1, red: 0 });
        assert_eq!(s.notes["fun"], "good sprint");
    }

    #[test]
    fn anything_that_could_name_a_person_is_refused() {
        let base = |extra: (&str, Value)| {
            let mut b = json!({"team": "payments", "date": "2027-01-15", "votes": {"fun": {"green": 3}}});
            b[extra.0] = extra.1;
            b
        };
        assert_eq!(refused(base(("name", json!("alice")))).0, ErrorCode::UnknownParameter);
        assert_eq!(refused(base(("voters", json!(["alice"])))).1, "voters");
        let per_person = json!({"team": "payments", "date": "2027-01-15", "votes": {"fun": {"alice": "green"}}});
        let (code, field, _) = refused(per_person);
        assert_eq!((code, field.as_str()), (ErrorCode::UnknownParameter, "votes.fun.alice"));
        let list = json!({"team": "payments", "date": "2027-01-15", "votes": {"fun": ["green", "red"]}});
        assert_eq!(refused(list).1, "votes.fun");
    }

    #[test]
    fn bad_counts_name_their_field() {
        for n in [json!(-1), json!(2.5), json!("3"), json!(null), json!(1_000_000)] {
            let body = json!({"team": "payments", "date": "2027-01-15", "votes": {"fun": {"green": n}}});
            let (code, field, message) = refused(body);
            assert_eq!((code, field.as_str()), (ErrorCode::InvalidParameter, "votes.fun.green"), "{n}: {message}");
        }
        let none = json!({"team": "payments", "date": "2027-01-15", "votes": {"fun": {"green": 0}}});
        assert_eq!(refused(none).1, "votes.fun");
    }

    #[test]
    fn unknown_topics_are_named_with_the_closest_one() {
        let body = json!({"team": "payments", "date": "2027-01-15", "votes": {"funn": {"green": 3}}});
        let (code, field, message) = refused(body);
        assert_eq!((code, field.as_str()), (ErrorCode::UnknownParameter, "votes.funn"));
        assert!(message.contains("did you mean `fun`?"), "{message}");
        let note =
            json!({"team": "payments", "date": "2027-01-15", "votes": {"fun": {"green": 3}}, "notes": {"x": "y"}});
        assert_eq!(refused(note).1, "notes.x");
    }

    #[test]
    fn dates_are_yyyy_mm_dd_and_not_in_the_future() {
        for d in ["2027-1-15", "15.01.2027", "2027-02-30", "2027-01-15T10:00:00Z", "2027-01-22", " 2027-01-15"] {
            let body = json!({"team": "payments", "date": d, "votes": {"fun": {"green": 3}}});
            assert_eq!(refused(body).1, "date", "{d}");
        }
        // Tomorrow in UTC is today somewhere.
        let body = json!({"team": "payments", "date": "2027-01-21", "votes": {"fun": {"green": 3}}});
        assert!(check(body).is_ok());
        let missing = json!({"team": "payments", "votes": {"fun": {"green": 3}}});
        assert_eq!(refused(missing).0, ErrorCode::MissingParameter);
    }
}
