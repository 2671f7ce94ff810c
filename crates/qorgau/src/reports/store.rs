//! SQL for reports and the calendars they are classified against.

use crate::args;
use crate::platform::db::{Db, DbResult, Tx};
use crate::platform::time::Ts;
use crate::platform::validate::parse_date;
use crate::reports::calendar::{CalendarDay, CheckedDay, merged};
use crate::reports::classify::{Calendar, DayKind};

const LOCAL_DAYS: &str =
    "SELECT country, day, kind, name FROM calendar_days WHERE country = $1 ORDER BY day";
const PUT_DAY: &str = "INSERT INTO calendar_days (country, day, kind, name, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (country, day) DO UPDATE SET kind = excluded.kind, name = excluded.name, updated_at = excluded.updated_at";
const DELETE_DAY: &str = "DELETE FROM calendar_days WHERE country = $1 AND day = $2";

/// The days an administrator added for a country. A row that no longer parses (edited by hand in
/// the database) is skipped rather than failing every classification.
pub async fn local_days(db: &Db, country: &str) -> DbResult<Vec<CalendarDay>> {
    let rows = db.fetch_all(LOCAL_DAYS, args![country]).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let day: String = r.get("day")?;
        let kind: String = r.get("kind")?;
        if let (Some(day), Some(kind)) = (parse_date(&day), DayKind::parse(&kind)) {
            out.push(CalendarDay {
                country: r.get("country")?,
                day,
                kind,
                name: r.get("name")?,
                source: "local".into(),
            });
        }
    }
    Ok(out)
}

/// The country's calendar as classification uses it.
pub async fn calendar(db: &Db, country: &str) -> DbResult<Calendar> {
    Ok(merged(country, &local_days(db, country).await?))
}

pub async fn put_day(tx: &mut Tx, country: &str, d: &CheckedDay) -> DbResult<()> {
    tx.execute(
        PUT_DAY,
        args![
            country,
            d.day.to_string(),
            d.kind.code(),
            &d.name,
            Ts::now()
        ],
    )
    .await?;
    Ok(())
}

/// Removes an administrator's entry; `false` if there was none.
pub async fn delete_day(tx: &mut Tx, country: &str, day: &str) -> DbResult<bool> {
    Ok(tx.execute(DELETE_DAY, args![country, day]).await? > 0)
}
