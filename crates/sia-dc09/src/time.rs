//! DC-09 timestamps and the receiver's acceptance window.
//!
//! A DC-09 timestamp is `HH:MM:SS,MM-DD-YYYY` in UTC. Inside an encrypted message it is what stops a recorded
//! frame from being replayed later: the receiver rejects a message whose time is more than 20 seconds ahead
//! of, or more than 40 seconds behind, its own clock (and answers NAK carrying its own time, so the panel can
//! correct its clock). This module never reads a clock: the caller passes "now" in, which keeps the crate
//! pure and the tests deterministic.

use std::fmt;

use crate::error::{Error, Field};

/// How far (seconds) a message's time may be ahead of the receiver's clock and still be accepted.
pub const MAX_AHEAD_SECS: i64 = 20;
/// How far (seconds) a message's time may be behind the receiver's clock and still be accepted.
pub const MAX_BEHIND_SECS: i64 = 40;

/// Whether a message stamped `message_unix` is acceptable to a receiver whose clock reads `receiver_unix`
/// (both seconds since the Unix epoch, UTC): within +20 s / -40 s.
#[must_use]
pub fn within_window(message_unix: i64, receiver_unix: i64) -> bool {
    let offset = message_unix.saturating_sub(receiver_unix);
    (-MAX_BEHIND_SECS..=MAX_AHEAD_SECS).contains(&offset)
}

/// A validated DC-09 timestamp (UTC, whole seconds, years 0000 to 9999).
///
/// Ordering is chronological.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

impl Timestamp {
    /// Length of the textual form `HH:MM:SS,MM-DD-YYYY`, without the leading `_`.
    pub const TEXT_LEN: usize = 19;

    /// A timestamp from its parts; fails if any part is out of range (month 1-12, a day that exists in that
    /// month, hour 0-23, minute and second 0-59, year at most 9999).
    pub fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Result<Self, Error> {
        let valid = year <= 9999
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60;
        if !valid {
            return Err(Error::bad(Field::Timestamp, "date or time out of range"));
        }
        Ok(Timestamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    /// The timestamp for `secs` seconds since the Unix epoch, or `None` outside years 0000 to 9999.
    #[must_use]
    pub fn from_unix(secs: i64) -> Option<Self> {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let year = u16::try_from(year).ok().filter(|y| *y <= 9999)?;
        // rem is in 0..86400, so these fit.
        let hour = u8::try_from(rem / 3600).ok()?;
        let minute = u8::try_from(rem % 3600 / 60).ok()?;
        let second = u8::try_from(rem % 60).ok()?;
        Some(Timestamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    /// Seconds since the Unix epoch.
    #[must_use]
    pub fn to_unix(self) -> i64 {
        let days = days_from_civil(i64::from(self.year), self.month, self.day);
        days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }

    /// Parses `HH:MM:SS,MM-DD-YYYY` (exactly 19 bytes, no leading `_`).
    pub fn parse(text: &[u8]) -> Result<Self, Error> {
        let shape_ok = text.len() == Self::TEXT_LEN
            && text[2] == b':'
            && text[5] == b':'
            && text[8] == b','
            && text[11] == b'-'
            && text[14] == b'-';
        if !shape_ok {
            return Err(Error::bad(Field::Timestamp, "expected HH:MM:SS,MM-DD-YYYY"));
        }
        let num = |range: std::ops::Range<usize>| -> Result<u16, Error> {
            decimal(&text[range]).ok_or(Error::bad(Field::Timestamp, "expected digits"))
        };
        let small = |range: std::ops::Range<usize>| -> Result<u8, Error> {
            u8::try_from(num(range)?).map_err(|_| Error::bad(Field::Timestamp, "expected digits"))
        };
        Timestamp::new(
            num(15..19)?,
            small(9..11)?,
            small(12..14)?,
            small(0..2)?,
            small(3..5)?,
            small(6..8)?,
        )
    }

    /// Whether this message time is acceptable to a receiver whose clock reads `receiver_unix`
    /// (see [`within_window`]).
    #[must_use]
    pub fn is_within_window(self, receiver_unix: i64) -> bool {
        within_window(self.to_unix(), receiver_unix)
    }

    /// Year (0-9999).
    #[must_use]
    pub fn year(self) -> u16 {
        self.year
    }
    /// Month (1-12).
    #[must_use]
    pub fn month(self) -> u8 {
        self.month
    }
    /// Day of month (1-31).
    #[must_use]
    pub fn day(self) -> u8 {
        self.day
    }
    /// Hour (0-23).
    #[must_use]
    pub fn hour(self) -> u8 {
        self.hour
    }
    /// Minute (0-59).
    #[must_use]
    pub fn minute(self) -> u8 {
        self.minute
    }
    /// Second (0-59).
    #[must_use]
    pub fn second(self) -> u8 {
        self.second
    }
}

/// Formats as `HH:MM:SS,MM-DD-YYYY` (the frame adds the leading `_`).
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}:{:02},{:02}-{:02}-{:04}",
            self.hour, self.minute, self.second, self.month, self.day, self.year
        )
    }
}

/// Value of an all-ASCII-digit slice of at most four digits.
pub(crate) fn decimal(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 4 {
        return None;
    }
    digits.iter().try_fold(0u16, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + u16::from(d - b'0'))
    })
}

fn is_leap(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's "chrono-compatible low-level
// date algorithms").
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // month is 1..=12 and day 1..=31 by construction.
    (
        year,
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let ts = Timestamp::parse(b"14:12:04,09-25-2019").unwrap();
        assert_eq!((ts.hour(), ts.minute(), ts.second()), (14, 12, 4));
        assert_eq!((ts.month(), ts.day(), ts.year()), (9, 25, 2019));
        assert_eq!(ts.to_string(), "14:12:04,09-25-2019");
    }

    #[test]
    fn unix_round_trip() {
        // 2020-07-08T08:40:47Z, the timestamp of a pysiaalarm test frame, is 1594197647 (the epoch value that
        // pysiaalarm's own to_dict test case records for it).
        let ts = Timestamp::parse(b"08:40:47,07-08-2020").unwrap();
        assert_eq!(ts.to_unix(), 1_594_197_647);
        assert_eq!(Timestamp::from_unix(1_594_197_647), Some(ts));
        assert_eq!(
            Timestamp::from_unix(0).unwrap().to_string(),
            "00:00:00,01-01-1970"
        );
        assert_eq!(
            Timestamp::from_unix(-1).unwrap().to_string(),
            "23:59:59,12-31-1969"
        );
        for secs in [951_782_400, 4_107_542_399, -62_167_219_200, 253_402_300_799] {
            assert_eq!(Timestamp::from_unix(secs).unwrap().to_unix(), secs);
        }
        assert_eq!(Timestamp::from_unix(253_402_300_800), None);
        assert_eq!(Timestamp::from_unix(-62_167_219_201), None);
        assert_eq!(Timestamp::from_unix(i64::MAX), None);
        assert_eq!(Timestamp::from_unix(i64::MIN), None);
    }

    #[test]
    fn rejects_impossible_dates() {
        for bad in [
            &b"24:00:00,01-01-2024"[..],
            b"23:60:00,01-01-2024",
            b"23:59:60,01-01-2024",
            b"00:00:00,13-01-2024",
            b"00:00:00,00-01-2024",
            b"00:00:00,02-30-2024",
            b"00:00:00,02-29-2023",
            b"00:00:00,02-29-1900",
            b"0a:00:00,01-01-2024",
            b"00:00:00,01-01-201",
            b"00-00-00,01-01-2024",
            b"",
        ] {
            assert!(
                Timestamp::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(Timestamp::parse(b"00:00:00,02-29-2000").is_ok());
    }

    #[test]
    fn window_is_plus_20_minus_40() {
        let now = 1_700_000_000;
        assert!(within_window(now, now));
        assert!(within_window(now + 20, now));
        assert!(!within_window(now + 21, now));
        assert!(within_window(now - 40, now));
        assert!(!within_window(now - 41, now));
        assert!(!within_window(i64::MIN, i64::MAX));
        assert!(!within_window(i64::MAX, i64::MIN));
        let ts = Timestamp::from_unix(now - 30).unwrap();
        assert!(ts.is_within_window(now));
        assert!(!ts.is_within_window(now - 60));
    }
}
