//! Instants as integer microseconds since the Unix epoch.
//!
//! The same BIGINT column type serves SQLite and PostgreSQL, sorts exactly (text timestamps in
//! SQLite do not: `...40.5Z` < `...40Z`), and needs no sqlx time feature. Calendars and zones are
//! jiff's job at the edges.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Ts(i64);

impl Ts {
    pub fn now() -> Ts {
        Ts(jiff::Timestamp::now().as_microsecond())
    }
    pub fn from_micros(m: i64) -> Ts {
        Ts(m)
    }
    pub fn micros(self) -> i64 {
        self.0
    }
    pub fn add_secs(self, s: i64) -> Ts {
        Ts(self.0.saturating_add(s.saturating_mul(1_000_000)))
    }
    pub fn timestamp(self) -> jiff::Timestamp {
        jiff::Timestamp::from_microsecond(self.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
    /// RFC 3339 in UTC, second precision unless sub-second parts exist.
    pub fn rfc3339(self) -> String {
        self.timestamp().to_string()
    }
    /// Wall-clock time in a zone, for pages: `2026-11-23 21:05`.
    pub fn local(self, tz: &str) -> String {
        let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
        self.timestamp()
            .to_zoned_datetime(zone)
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    }
}

impl From<Ts> for String {
    fn from(t: Ts) -> String {
        t.rfc3339()
    }
}

impl TryFrom<String> for Ts {
    type Error = jiff::Error;
    fn try_from(s: String) -> Result<Ts, jiff::Error> {
        let t: jiff::Timestamp = s.parse()?;
        Ok(Ts(t.as_microsecond()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        let t = Ts::from_micros(1_700_000_000_123_456);
        let s: String = t.into();
        assert_eq!(s, "2023-11-14T22:13:20.123456Z");
        assert_eq!(Ts::try_from(s).ok(), Some(t));
    }

    #[test]
    fn shows_kazakh_and_kyrgyz_wall_clock() {
        // 2024-03-01 onwards all of Kazakhstan is UTC+5; Kyrgyzstan stays UTC+6.
        let t = Ts::try_from("2026-11-23T16:00:00Z".to_owned()).expect("valid");
        assert_eq!(t.local("Asia/Almaty"), "2026-11-23 21:00");
        assert_eq!(t.local("Asia/Bishkek"), "2026-11-23 22:00");
    }
}
