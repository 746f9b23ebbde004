//! Black-box tests: the real service on a real port, spoken to over HTTP.

mod calendar;
mod can_deploy;
mod errors;
mod helpers;
mod teams;
mod windows;
