//! The HTTP face: routes, the auth extractors, errors as answers, startup.

pub mod auth;
mod error;
pub mod metrics;
pub mod openapi;
mod params;
pub mod routes;
mod routes_table;
pub mod startup;
mod strict;

pub use routes_table::{EVERY_ROUTE, ROUTES, Route, declares};
pub use startup::{Application, Launch};
