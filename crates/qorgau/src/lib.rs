//! Qorgau: protecting health workers, and under ILO C190 any workers, from violence and
//! harassment at work. See `docs/architecture.md` for the map.

pub mod accounts;
pub mod alarms;
pub mod app;
pub mod auditlog;
pub mod demo;
pub mod directory;
pub mod home;
pub mod notify;
pub mod platform;
pub mod reports;
pub mod triage;
