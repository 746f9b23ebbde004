//! One module per group of routes.

pub mod calendar;
pub mod decisions;
pub mod health;
pub mod teams;
pub mod windows;
