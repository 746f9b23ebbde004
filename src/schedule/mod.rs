//! Time rules, pure and without I/O: the cron dialect, wall-time resolution in
//! IANA zones, and the occurrences of a schedule.

mod cron;
mod occurrence;
mod spans;
mod zone;

pub use cron::{CronError, CronExpr};
pub use occurrence::{
    Cursor, End, Memo, Occurrence, SEARCH_LIMIT, SPAN_REACH, Schedule, first_start_after, last_start_at_or_before,
};
pub use zone::{UnknownZone, Zone};
