//! Health checks: a team's own "I feel that..." votes on topics such as
//! "easy to release" or "fun". They are shown to everyone to start
//! conversations and are never used to judge: nothing in this module is
//! reachable from the decision engine, and nothing here scores, totals or
//! ranks teams.

mod book;
mod input;
mod view;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use book::{record, sessions};
pub use input::{NewSession, session_from_json};
pub use view::{
    HealthMap, MapCell, MapRow, QuarterCount, Quarters, SessionStatus, SessionView, TopicQuarters, TopicRef, TopicView,
    Trend, health_map, quarters, session_views,
};

/// A vote's colour; red < yellow < green.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    Red,
    Yellow,
    Green,
}

impl Colour {
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Red => "red",
            Colour::Yellow => "yellow",
            Colour::Green => "green",
        }
    }
}

/// One topic a team votes on, with what green and red look like.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Topic {
    pub id: String,
    pub title: String,
    pub green: String,
    pub red: String,
}

/// `[health]`: the topics and how many voters a session needs to show colours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthSettings {
    pub min_votes: u32,
    pub topics: Vec<Topic>,
}

/// Fewer voters than this and a session shows no colours: with two or three
/// people, counts would tell who voted what.
pub const DEFAULT_MIN_VOTES: u32 = 3;

impl Default for HealthSettings {
    fn default() -> HealthSettings {
        HealthSettings { min_votes: DEFAULT_MIN_VOTES, topics: CLASSIC.iter().map(|t| t.topic()).collect() }
    }
}

impl HealthSettings {
    pub fn topic(&self, id: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.id == id)
    }

    pub fn topic_ids(&self) -> Vec<&str> {
        self.topics.iter().map(|t| t.id.as_str()).collect()
    }
}

/// A topic of the classic squad health check.
pub struct Classic {
    pub id: &'static str,
    pub title: &'static str,
    pub green: &'static str,
    pub red: &'static str,
}

impl Classic {
    pub fn topic(&self) -> Topic {
        Topic { id: self.id.into(), title: self.title.into(), green: self.green.into(), red: self.red.into() }
    }

    pub fn find(id: &str) -> Option<&'static Classic> {
        CLASSIC.iter().find(|c| c.id == id)
    }
}

/// The ten classic topics, the default when `[health]` names none.
pub const CLASSIC: &[Classic] = &[
    Classic {
        id: "easy-to-release",
        title: "Easy to release",
        green: "Releasing is simple, safe, painless and mostly automated.",
        red: "Releasing is risky, painful, lots of manual work, and takes forever.",
    },
    Classic {
        id: "suitable-process",
        title: "Suitable process",
        green: "Our way of working fits us perfectly.",
        red: "Our way of working does not fit us at all.",
    },
    Classic {
        id: "tech-quality",
        title: "Tech quality",
        green: "We're proud of our code: clean, easy to read, with good tests.",
        red: "Our code is a mess and technical debt is out of control.",
    },
    Classic {
        id: "value",
        title: "Value",
        green: "We deliver great stuff, we're proud of it and our stakeholders are happy.",
        red: "We deliver things we are ashamed of, and our stakeholders are unhappy.",
    },
    Classic {
        id: "speed",
        title: "Speed",
        green: "We get things done quickly: no waiting, no delays.",
        red: "We never seem to finish anything: we keep getting stuck, interrupted or blocked.",
    },
    Classic {
        id: "mission",
        title: "Mission",
        green: "We know exactly why we are here, and it excites us.",
        red: "We have no idea why we are here; there is no clear picture or focus.",
    },
    Classic {
        id: "fun",
        title: "Fun",
        green: "We love going to work and have great fun working together.",
        red: "Boring.",
    },
    Classic {
        id: "learning",
        title: "Learning",
        green: "We're learning lots of interesting things all the time.",
        red: "We never have time to learn anything.",
    },
    Classic {
        id: "support",
        title: "Support",
        green: "We always get great support and help when we ask for it.",
        red: "We keep getting stuck because we can't get the support we ask for.",
    },
    Classic {
        id: "pawns-or-players",
        title: "Pawns or players",
        green: "We are in control of our destiny: we decide what to build and how.",
        red: "We are pawns in a game, with no say in what we build or how.",
    },
];

/// How many voted green, yellow and red on one topic: counts only, never who.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Votes {
    pub green: u32,
    pub yellow: u32,
    pub red: u32,
}

impl Votes {
    pub fn total(&self) -> u32 {
        self.green + self.yellow + self.red
    }

    /// The median vote (red < yellow < green); with an even count, the lower
    /// of the two middle votes. None when nobody voted.
    pub fn median(&self) -> Option<Colour> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        // The lower middle of `total` votes sorted red first, 1-based.
        let middle = total.div_ceil(2);
        Some(if middle <= self.red {
            Colour::Red
        } else if middle <= self.red + self.yellow {
            Colour::Yellow
        } else {
            Colour::Green
        })
    }
}

/// One session as it is kept: the team, the day, the counts and notes per
/// topic, and the token that recorded it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub team: String,
    pub date: NaiveDate,
    pub votes: BTreeMap<String, Votes>,
    #[serde(default)]
    pub notes: BTreeMap<String, String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

impl Session {
    /// The session's id: a team holds at most one session a day.
    pub fn id_for(team: &str, date: NaiveDate) -> String {
        format!("{team}-{date}")
    }

    /// How many people voted: the largest vote total over its topics (not
    /// everyone votes on every topic).
    pub fn voters(&self) -> u32 {
        self.votes.values().map(Votes::total).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(green: u32, yellow: u32, red: u32) -> Votes {
        Votes { green, yellow, red }
    }

    #[test]
    fn the_colour_is_the_median_vote() {
        assert_eq!(v(3, 1, 1).median(), Some(Colour::Green));
        assert_eq!(v(1, 3, 1).median(), Some(Colour::Yellow));
        assert_eq!(v(1, 1, 3).median(), Some(Colour::Red));
        // red, yellow, green: the middle one.
        assert_eq!(v(1, 1, 1).median(), Some(Colour::Yellow));
        assert_eq!(v(0, 0, 0).median(), None);
    }

    #[test]
    fn an_even_count_takes_the_lower_middle() {
        // red red green green: the lower middle is red.
        assert_eq!(v(2, 0, 2).median(), Some(Colour::Red));
        // red yellow green green: yellow.
        assert_eq!(v(2, 1, 1).median(), Some(Colour::Yellow));
        // yellow green: yellow.
        assert_eq!(v(1, 1, 0).median(), Some(Colour::Yellow));
        // green x3, red x1: red green green green -> lower middle green.
        assert_eq!(v(3, 0, 1).median(), Some(Colour::Green));
    }

    #[test]
    fn the_defaults_are_the_ten_classic_topics() {
        let s = HealthSettings::default();
        assert_eq!(s.min_votes, 3);
        assert_eq!(
            s.topic_ids(),
            [
                "easy-to-release",
                "suitable-process",
                "tech-quality",
                "value",
                "speed",
                "mission",
                "fun",
                "learning",
                "support",
                "pawns-or-players"
            ]
        );
        assert!(s.topics.iter().all(|t| !t.title.is_empty() && !t.green.is_empty() && !t.red.is_empty()));
    }
}
