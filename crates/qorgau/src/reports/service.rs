//! Report rules that need the database: classification against the facility's shifts and the
//! country's calendar as administrators keep it.

use jiff::civil::DateTime;
use serde::Serialize;
use utoipa::ToSchema;

use crate::directory::model::Facility;
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::time::Ts;
use crate::reports::classify::{Classification, ShiftSpan, classify, instant_of};
use crate::reports::store;

/// When an incident happened: the instant, the facility's zone and wall clock, and its
/// classification.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct When {
    #[schema(value_type = String, example = "2024-03-20T22:00:00Z")]
    pub at: Ts,
    /// IANA zone of the facility, kept beside the instant.
    pub tz: String,
    /// Local wall-clock date-time at the facility.
    #[schema(value_type = String, example = "2024-03-21T03:00:00")]
    pub local: DateTime,
    pub classification: Classification,
}

/// Places a local wall-clock time at a facility and classifies it.
pub async fn when_at(db: &Db, f: &Facility, local: DateTime) -> AppResult<When> {
    let zone = jiff::tz::TimeZone::get(&f.tz).map_err(|_| AppError::field("tz", "err-timezone"))?;
    let at = instant_of(local, &zone).map_err(|_| AppError::field("at", "err-datetime"))?;
    let shifts: Vec<ShiftSpan> = crate::directory::store::shifts(db, f.id)
        .await?
        .iter()
        .filter_map(|s| ShiftSpan::parse(&s.code, &s.starts, &s.ends))
        .collect();
    let cal = store::calendar(db, f.country()).await?;
    Ok(When {
        at: Ts::from_micros(at.as_microsecond()),
        tz: f.tz.clone(),
        local,
        classification: classify(local, &shifts, &cal),
    })
}
