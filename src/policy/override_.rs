//! Emergency overrides: time-limited, scoped exceptions that lift reasons.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::target::{Name, Target};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Override {
    pub id: String,
    pub team: Name,
    /// None: every service of the team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Name>,
    pub environment: Name,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
}

impl Override {
    /// In force at `t`: created, not yet expired (expiry is exact), not revoked.
    pub fn active_at(&self, t: DateTime<Utc>) -> bool {
        self.created_at <= t && t < self.expires_at && self.revoked_at.is_none_or(|r| t < r)
    }

    /// When it stops being in force.
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.revoked_at.map_or(self.expires_at, |r| r.min(self.expires_at))
    }

    /// Whether it covers a deploy of `target`. An override for one service
    /// does not cover a deploy of the team's whole surface.
    pub fn covers(&self, target: &Target) -> bool {
        self.team == target.team
            && self.environment == target.environment
            && match (&self.service, &target.service) {
                (None, _) => true,
                (Some(mine), Some(theirs)) => mine == theirs,
                (Some(_), None) => false,
            }
    }
}
