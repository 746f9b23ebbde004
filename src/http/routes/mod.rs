//! One module per group of routes.

pub mod audit;
pub mod calendar;
pub mod dashboard;
pub mod decisions;
pub mod deployments;
pub mod health;
pub mod health_checks;
pub mod health_map_page;
pub mod impact;
pub mod overrides;
pub mod process;
pub mod scorecard;
pub mod scorecard_page;
pub mod teams;
pub mod windows;
