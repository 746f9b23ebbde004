//! Traffic data: what users see during releases and which hours are quiet.
//! Sources are fetched in the background, never on a decision's path; a
//! decision reads the precomputed week profile of its service.

mod impact;
mod profile;
mod sources;

pub use impact::{Impact, Verdict as ImpactVerdict, compare, mann_whitney_greater};
pub use profile::{DAYS, Level, Profile, SLOTS, Sample, Slot, Suggestion, Weekly, WhatIf};
pub use sources::{
    Kind, PROMETHEUS_MAX_POINTS, Samples, SourceSpec, for_service, join, newrelic_series, prometheus_range, read_csv,
};
