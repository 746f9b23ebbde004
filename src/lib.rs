//! deploy-gate: answers "may I deploy now?" from deploy windows and team risk.
#![forbid(unsafe_code)]

pub mod cli;
pub mod client;
pub mod config;
pub mod error;
pub mod gate;
pub mod health_checks;
pub mod http;
pub mod policy;
pub mod process_maps;
pub mod schedule;
pub mod store;
pub mod traffic;
pub mod wire;
