//! Black-box tests: the real service on a real port, spoken to over HTTP.

mod admin;
mod audit;
mod auth;
mod calendar;
mod can_deploy;
mod dashboard;
mod deployments;
mod errors;
mod health_checks;
#[allow(dead_code)] // shared with the other test binaries, which use other parts
mod helpers;
mod impact;
mod observability;
mod overrides;
mod protocol;
mod reload;
mod robustness;
mod scorecard;
mod teams;
mod windows;
