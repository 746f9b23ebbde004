//! The HTTP face: routes, the error catalogue, startup.

pub mod auth;
pub mod error;
pub mod metrics;
pub mod openapi;
mod params;
pub mod routes;
pub mod startup;
pub mod state;

pub use startup::{Application, Launch, ROUTES};
