//! What people see of the sessions: colours (the median vote), trends
//! against the team's previous session, the map of every team's latest
//! session (by team name, never by score) and, across the organisation, how
//! many teams felt green, yellow or red about a topic each quarter.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::{Colour, HealthSettings, Session, Votes};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Enough voters: colours are shown.
    Ok,
    /// Fewer voters than `min_votes`: no colours, no counts.
    TooFewVotes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    Up,
    Down,
    Same,
}

impl Trend {
    fn between(before: Colour, now: Colour) -> Trend {
        match now.cmp(&before) {
            std::cmp::Ordering::Greater => Trend::Up,
            std::cmp::Ordering::Less => Trend::Down,
            std::cmp::Ordering::Equal => Trend::Same,
        }
    }

    pub fn arrow(self) -> &'static str {
        match self {
            Trend::Up => "↑",
            Trend::Down => "↓",
            Trend::Same => "→",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Up => "up",
            Trend::Down => "down",
            Trend::Same => "same",
        }
    }
}

/// One topic of one session.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TopicView {
    pub topic: String,
    pub title: String,
    /// The median vote; null when the session has too few voters.
    pub colour: Option<Colour>,
    /// Against the same topic in the team's previous session; null for the
    /// first session, or when either shows no colour for it.
    pub trend: Option<Trend>,
    /// The counts; null when the session has too few voters.
    pub votes: Option<Votes>,
    pub note: Option<String>,
}

/// One session as shown.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: String,
    pub team: String,
    #[schema(value_type = String, example = "2027-01-15")]
    pub date: NaiveDate,
    pub voters: u32,
    pub status: SessionStatus,
    pub topics: Vec<TopicView>,
}

impl SessionView {
    pub fn topic(&self, id: &str) -> Option<&TopicView> {
        self.topics.iter().find(|t| t.topic == id)
    }
}

/// Each session's colours, oldest first.
fn colours<'s>(settings: &HealthSettings, session: &'s Session) -> Option<BTreeMap<&'s str, Colour>> {
    (session.voters() >= settings.min_votes)
        .then(|| session.votes.iter().filter_map(|(t, v)| Some((t.as_str(), v.median()?))).collect())
}

/// One team's sessions (any order) as shown, newest first. Topics follow the
/// settings' order; a topic no longer configured is still shown by its id.
pub fn session_views(settings: &HealthSettings, sessions: &[Session]) -> Vec<SessionView> {
    let mut sorted: Vec<&Session> = sessions.iter().collect();
    sorted.sort_by(|a, b| (&a.team, a.date).cmp(&(&b.team, b.date)));
    let mut views = Vec::with_capacity(sorted.len());
    let mut previous: Option<(&str, Option<BTreeMap<&str, Colour>>)> = None;
    for s in sorted {
        let now = colours(settings, s);
        let before = previous.as_ref().filter(|(team, _)| *team == s.team).and_then(|(_, c)| c.as_ref());
        let order = |t: &str| settings.topics.iter().position(|c| c.id == t).unwrap_or(usize::MAX);
        let mut ids: Vec<&str> = s.votes.keys().chain(s.notes.keys()).map(String::as_str).collect();
        ids.sort_by_key(|t| (order(t), *t));
        ids.dedup();
        let topics = ids
            .into_iter()
            .map(|t| {
                let colour = now.as_ref().and_then(|c| c.get(t).copied());
                TopicView {
                    topic: t.to_string(),
                    title: settings.topic(t).map_or_else(|| t.to_string(), |c| c.title.clone()),
                    colour,
                    trend: colour.zip(before.and_then(|b| b.get(t).copied())).map(|(c, b)| Trend::between(b, c)),
                    votes: now.as_ref().and(s.votes.get(t).copied()),
                    note: s.notes.get(t).cloned(),
                }
            })
            .collect();
        views.push(SessionView {
            id: s.id.clone(),
            team: s.team.clone(),
            date: s.date,
            voters: s.voters(),
            status: if now.is_some() { SessionStatus::Ok } else { SessionStatus::TooFewVotes },
            topics,
        });
        previous = Some((s.team.as_str(), now));
    }
    views.reverse();
    views
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TopicRef {
    pub id: String,
    pub title: String,
    pub green: String,
    pub red: String,
}

/// One cell of the map.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MapCell {
    pub topic: String,
    pub colour: Option<Colour>,
    pub trend: Option<Trend>,
}

/// One team's row: its latest session, or none yet.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MapRow {
    pub team: String,
    pub session: Option<String>,
    #[schema(value_type = Option<String>)]
    pub date: Option<NaiveDate>,
    pub status: Option<SessionStatus>,
    /// One per configured topic, in the topics' order.
    pub cells: Vec<MapCell>,
}

/// Teams x topics, sorted by team name.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct HealthMap {
    pub min_votes: u32,
    pub topics: Vec<TopicRef>,
    pub teams: Vec<MapRow>,
}

fn topic_refs(settings: &HealthSettings) -> Vec<TopicRef> {
    settings
        .topics
        .iter()
        .map(|t| TopicRef { id: t.id.clone(), title: t.title.clone(), green: t.green.clone(), red: t.red.clone() })
        .collect()
}

/// The latest session of every team in `teams` or with a session, by name.
pub fn health_map(settings: &HealthSettings, teams: &[String], sessions: &[Session]) -> HealthMap {
    let views = session_views(settings, sessions);
    let mut latest: BTreeMap<&str, &SessionView> = BTreeMap::new();
    for v in &views {
        // Newest first: the first seen is the latest.
        latest.entry(v.team.as_str()).or_insert(v);
    }
    let names: BTreeSet<&str> = teams.iter().map(String::as_str).chain(latest.keys().copied()).collect();
    let rows = names
        .into_iter()
        .map(|team| {
            let session = latest.get(team);
            MapRow {
                team: team.to_string(),
                session: session.map(|s| s.id.clone()),
                date: session.map(|s| s.date),
                status: session.map(|s| s.status),
                cells: settings
                    .topics
                    .iter()
                    .map(|t| {
                        let seen = session.and_then(|s| s.topic(&t.id));
                        MapCell {
                            topic: t.id.clone(),
                            colour: seen.and_then(|c| c.colour),
                            trend: seen.and_then(|c| c.trend),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    HealthMap { min_votes: settings.min_votes, topics: topic_refs(settings), teams: rows }
}

/// How many teams felt each colour about a topic in one quarter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QuarterCount {
    /// e.g. `2027-Q1`.
    pub quarter: String,
    pub green: u32,
    pub yellow: u32,
    pub red: u32,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TopicQuarters {
    pub topic: String,
    pub title: String,
    /// Every quarter from the first session's to the last one's, oldest first.
    pub quarters: Vec<QuarterCount>,
}

/// The organisation-wide view: per topic, per quarter, how many teams' latest
/// session of that quarter showed green, yellow or red.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Quarters {
    pub quarters: Vec<String>,
    pub topics: Vec<TopicQuarters>,
}

/// (year, quarter 1-4) of a day.
fn quarter_of(d: NaiveDate) -> (i32, u32) {
    (d.year(), d.month0() / 3 + 1)
}

fn quarter_name((year, q): (i32, u32)) -> String {
    format!("{year}-Q{q}")
}

pub fn quarters(settings: &HealthSettings, sessions: &[Session]) -> Quarters {
    let Some(first) = sessions.iter().map(|s| quarter_of(s.date)).min() else {
        return Quarters { quarters: Vec::new(), topics: Vec::new() };
    };
    let last = sessions.iter().map(|s| quarter_of(s.date)).max().unwrap_or(first);
    let mut axis = Vec::new();
    let mut q = first;
    while q <= last {
        axis.push(q);
        q = if q.1 == 4 { (q.0 + 1, 1) } else { (q.0, q.1 + 1) };
    }
    // Each team's latest session in each quarter counts once.
    let mut latest: BTreeMap<((i32, u32), &str), &Session> = BTreeMap::new();
    for s in sessions {
        let slot = latest.entry((quarter_of(s.date), s.team.as_str())).or_insert(s);
        if s.date > slot.date {
            *slot = s;
        }
    }
    let topics = settings
        .topics
        .iter()
        .map(|t| {
            let quarters = axis
                .iter()
                .map(|q| {
                    let mut count = QuarterCount { quarter: quarter_name(*q), green: 0, yellow: 0, red: 0 };
                    for s in latest.range((*q, "")..).take_while(|((sq, _), _)| sq == q).map(|(_, s)| s) {
                        match colours(settings, s).and_then(|c| c.get(t.id.as_str()).copied()) {
                            Some(Colour::Green) => count.green += 1,
                            Some(Colour::Yellow) => count.yellow += 1,
                            Some(Colour::Red) => count.red += 1,
                            None => {}
                        }
                    }
                    count
                })
                .collect();
            TopicQuarters { topic: t.id.clone(), title: t.title.clone(), quarters }
        })
        .collect();
    Quarters { quarters: axis.into_iter().map(quarter_name).collect(), topics }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(team: &str, date: &str, votes: &[(&str, Votes)]) -> Session {
        let date: NaiveDate = date.parse().expect("date");
        Session {
            id: Session::id_for(team, date),
            team: team.into(),
            date,
            votes: votes.iter().map(|(t, v)| (t.to_string(), *v)).collect(),
            notes: BTreeMap::new(),
            recorded_at: "2027-01-01T00:00:00Z".parse().expect("instant"),
            recorded_by: "test".into(),
        }
    }

    const GREEN: Votes = Votes { green: 4, yellow: 1, red: 0 };
    const YELLOW: Votes = Votes { green: 1, yellow: 3, red: 1 };
    const RED: Votes = Votes { green: 0, yellow: 1, red: 4 };
    const TWO: Votes = Votes { green: 2, yellow: 0, red: 0 };

    #[test]
    fn the_trend_compares_with_the_previous_session_of_the_same_team() {
        let s = HealthSettings::default();
        let list = [
            session("payments", "2027-01-10", &[("fun", YELLOW), ("speed", GREEN)]),
            session("payments", "2027-04-10", &[("fun", GREEN), ("speed", RED), ("value", YELLOW)]),
            session("search", "2027-02-01", &[("fun", RED)]),
        ];
        let views = session_views(&s, &list);
        let pay: Vec<&SessionView> = views.iter().filter(|v| v.team == "payments").collect();
        assert_eq!(pay[0].date.to_string(), "2027-04-10", "newest first");
        assert_eq!(pay[0].topic("fun").and_then(|t| t.trend), Some(Trend::Up));
        assert_eq!(pay[0].topic("speed").and_then(|t| t.trend), Some(Trend::Down));
        assert_eq!(pay[0].topic("value").and_then(|t| t.trend), None, "not voted on before");
        assert_eq!(pay[1].topic("fun").and_then(|t| t.trend), None, "the first session");
        let search = views.iter().find(|v| v.team == "search").expect("search");
        assert_eq!(search.topic("fun").and_then(|t| t.trend), None, "another team's session is not its past");
    }

    #[test]
    fn too_few_voters_show_no_colours_and_no_counts() {
        let s = HealthSettings::default();
        let views = session_views(&s, &[session("payments", "2027-01-10", &[("fun", TWO)])]);
        assert_eq!(views[0].status, SessionStatus::TooFewVotes);
        assert_eq!(views[0].voters, 2);
        assert!(views[0].topics.iter().all(|t| t.colour.is_none() && t.votes.is_none() && t.trend.is_none()));
        // A later session with enough voters has nothing to compare against.
        let views = session_views(
            &s,
            &[session("payments", "2027-01-10", &[("fun", TWO)]), session("payments", "2027-02-10", &[("fun", GREEN)])],
        );
        assert_eq!(views[0].topic("fun").and_then(|t| t.colour), Some(Colour::Green));
        assert_eq!(views[0].topic("fun").and_then(|t| t.trend), None);
    }

    #[test]
    fn the_map_lists_every_team_by_name_with_its_latest_session() {
        let s = HealthSettings::default();
        let list = [
            session("search", "2027-01-10", &[("fun", RED)]),
            session("checkout", "2027-01-10", &[("fun", RED)]),
            session("checkout", "2027-03-10", &[("fun", GREEN)]),
        ];
        let map = health_map(&s, &["payments".into(), "checkout".into()], &list);
        let names: Vec<&str> = map.teams.iter().map(|r| r.team.as_str()).collect();
        assert_eq!(names, ["checkout", "payments", "search"]);
        assert_eq!(map.teams[0].date.map(|d| d.to_string()).as_deref(), Some("2027-03-10"));
        let fun = map.teams[0].cells.iter().find(|c| c.topic == "fun").expect("fun");
        assert_eq!((fun.colour, fun.trend), (Some(Colour::Green), Some(Trend::Up)));
        assert!(map.teams[1].session.is_none());
        assert_eq!(map.teams[0].cells.len(), 10, "one cell per configured topic");
    }

    #[test]
    fn quarters_count_each_teams_latest_session_once() {
        let s = HealthSettings::default();
        let list = [
            session("a", "2027-01-10", &[("fun", RED)]),
            session("a", "2027-03-10", &[("fun", GREEN)]),
            session("b", "2027-02-10", &[("fun", YELLOW)]),
            session("c", "2027-02-11", &[("fun", TWO)]),
            session("a", "2027-07-01", &[("fun", RED)]),
        ];
        let q = quarters(&s, &list);
        assert_eq!(q.quarters, ["2027-Q1", "2027-Q2", "2027-Q3"]);
        let fun = q.topics.iter().find(|t| t.topic == "fun").expect("fun");
        let counts: Vec<(u32, u32, u32)> = fun.quarters.iter().map(|c| (c.green, c.yellow, c.red)).collect();
        // Q1: a green (its latest), b yellow, c too few voters; Q2 empty; Q3 a red.
        assert_eq!(counts, [(1, 1, 0), (0, 0, 0), (0, 0, 1)]);
    }
}
