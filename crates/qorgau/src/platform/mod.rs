//! What every capability uses, and nothing capability-specific.

pub mod access;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod batch;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod events;
pub mod extract;
pub mod i18n;
pub mod idempotency;
pub mod keys;
pub mod ops;
pub mod sqlite_direct;
pub mod state;
pub mod time;
pub mod validate;
pub mod web;
