pub mod calendar;
pub mod classify;
