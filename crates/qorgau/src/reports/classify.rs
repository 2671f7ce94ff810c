//! When an incident happened, in the terms the labour law and the rota use: which shift, the date
//! that shift started, whether the date is a weekend, and what the national calendar makes of it.
//!
//! Pure: the caller brings the facility's local wall-clock time, its shift definitions and the
//! country calendar (compiled-in days merged with those an administrator added).

use std::collections::BTreeMap;

use jiff::civil::{Date, DateTime, Time, Weekday};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a calendar row says about a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday (day off by law).
    Holiday,
    /// A day off moved here from a holiday that fell on a weekend, or by government order.
    TransferDayOff,
    /// A Saturday or Sunday made a working day in exchange for a transferred day off.
    TransferWorkingDay,
}

impl DayKind {
    pub const ALL: [DayKind; 3] = [
        DayKind::Holiday,
        DayKind::TransferDayOff,
        DayKind::TransferWorkingDay,
    ];

    /// The `kind` column of `holidays-*.csv` and of the `calendar_days` table.
    pub fn code(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::TransferDayOff => "transfer_day_off",
            DayKind::TransferWorkingDay => "transfer_working_day",
        }
    }

    pub fn parse(s: &str) -> Option<DayKind> {
        DayKind::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// The day type of the incident's local date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayType {
    WorkingDay,
    PublicHoliday,
    TransferredDayOff,
    /// The working day immediately before a public holiday (a shortened day by law).
    PreHoliday,
    /// An ordinary Saturday or Sunday: neither a working day nor a holiday. Kept apart from
    /// `working_day` so that a plain Sunday is not reported as one.
    RestDay,
}

impl DayType {
    pub fn code(self) -> &'static str {
        match self {
            DayType::WorkingDay => "working_day",
            DayType::PublicHoliday => "public_holiday",
            DayType::TransferredDayOff => "transferred_day_off",
            DayType::PreHoliday => "pre_holiday",
            DayType::RestDay => "rest_day",
        }
    }

    pub fn parse(s: &str) -> Option<DayType> {
        [
            DayType::WorkingDay,
            DayType::PublicHoliday,
            DayType::TransferredDayOff,
            DayType::PreHoliday,
            DayType::RestDay,
        ]
        .into_iter()
        .find(|d| d.code() == s)
    }
}

/// A country's days that differ from the plain Monday-to-Friday week.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Calendar {
    days: BTreeMap<Date, DayKind>,
}

impl Calendar {
    /// Sets (or, for a later source such as an administrator's entry, replaces) a date's kind.
    pub fn insert(&mut self, day: Date, kind: DayKind) {
        self.days.insert(day, kind);
    }

    pub fn kind(&self, day: Date) -> Option<DayKind> {
        self.days.get(&day).copied()
    }

    /// Saturday or Sunday, unless the calendar made it a working day.
    pub fn is_weekend(&self, day: Date) -> bool {
        matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
            && self.kind(day) != Some(DayKind::TransferWorkingDay)
    }

    fn is_working_day(&self, day: Date) -> bool {
        !self.is_weekend(day)
            && !matches!(
                self.kind(day),
                Some(DayKind::Holiday | DayKind::TransferDayOff)
            )
    }

    pub fn day_type(&self, day: Date) -> DayType {
        match self.kind(day) {
            Some(DayKind::Holiday) => DayType::PublicHoliday,
            Some(DayKind::TransferDayOff) => DayType::TransferredDayOff,
            _ if self.is_working_day(day)
                && day
                    .tomorrow()
                    .is_ok_and(|t| self.kind(t) == Some(DayKind::Holiday)) =>
            {
                DayType::PreHoliday
            }
            _ if self.is_weekend(day) => DayType::RestDay,
            _ => DayType::WorkingDay,
        }
    }
}

/// A shift definition reduced to what classification needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShiftSpan {
    pub code: String,
    pub starts: Time,
    pub ends: Time,
}

impl ShiftSpan {
    /// From the directory's `HH:MM` texts; `None` if either is malformed.
    pub fn parse(code: &str, starts: &str, ends: &str) -> Option<ShiftSpan> {
        let t = |s: &str| {
            crate::platform::validate::parse_hhmm(s)
                .and_then(|m| Time::new((m / 60) as i8, (m % 60) as i8, 0, 0).ok())
        };
        Some(ShiftSpan {
            code: code.to_owned(),
            starts: t(starts)?,
            ends: t(ends)?,
        })
    }

    /// Whether the occurrence of this shift that starts on local date `day` covers `at`: a
    /// roster entry for `day` means its person is on duty at `at`.
    pub fn covers(&self, day: Date, at: DateTime) -> bool {
        self.started_for(at) == Some(day.to_datetime(self.starts))
    }

    /// When the occurrence of this shift that covers `at` started, if one does. A shift whose end
    /// is not after its start runs across midnight (equal ends: a 24-hour duty).
    fn started_for(&self, at: DateTime) -> Option<DateTime> {
        let (day, t) = (at.date(), at.time());
        if self.ends > self.starts {
            (self.starts <= t && t < self.ends).then(|| day.to_datetime(self.starts))
        } else if t >= self.starts {
            Some(day.to_datetime(self.starts))
        } else if t < self.ends || self.ends == self.starts {
            day.yesterday().ok().map(|d| d.to_datetime(self.starts))
        } else {
            None
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Classification {
    /// Code of the shift under way (`day`, `evening`, `night` ...); absent when no defined shift
    /// covers the time.
    pub shift: Option<String>,
    /// Local date the shift started: the day before for the small hours of a night shift; the
    /// incident's own date when no shift covers it.
    #[schema(value_type = String, example = "2024-03-20")]
    pub shift_start_date: Date,
    /// Saturday or Sunday of the incident's own local date, unless made a working day.
    pub weekend: bool,
    /// From the incident's own local date (not the shift start date).
    pub day_type: DayType,
}

/// Classifies a local wall-clock time. Where shifts overlap, the one that started last wins: a
/// worker coming on shift is the one on the floor.
pub fn classify(at: DateTime, shifts: &[ShiftSpan], cal: &Calendar) -> Classification {
    let current = shifts
        .iter()
        .filter_map(|s| s.started_for(at).map(|start| (start, s)))
        .max_by_key(|(start, _)| *start);
    let day = at.date();
    Classification {
        shift: current.map(|(_, s)| s.code.clone()),
        shift_start_date: current.map_or(day, |(start, _)| start.date()),
        weekend: cal.is_weekend(day),
        day_type: cal.day_type(day),
    }
}

/// The facility's wall clock at an instant.
pub fn local_of(at: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> DateTime {
    at.to_zoned_datetime(tz.clone()).datetime()
}

/// The instant of a wall-clock time at the facility. Kazakhstan and Kyrgyzstan keep no daylight
/// saving, so a time is never ambiguous there; elsewhere the earlier reading is taken.
pub fn instant_of(
    local: DateTime,
    tz: &jiff::tz::TimeZone,
) -> Result<jiff::Timestamp, jiff::Error> {
    tz.to_ambiguous_timestamp(local).compatible()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::calendar::compiled;
    use jiff::civil::{date, time};

    #[test]
    fn a_roster_entry_covers_its_own_occurrence_only() {
        let night = ShiftSpan::parse("night", "22:00", "08:00").expect("night");
        let day = ShiftSpan::parse("day", "08:00", "16:00").expect("day");
        let duty = ShiftSpan::parse("duty", "09:00", "09:00").expect("24 h");
        let d = date(2024, 3, 20);
        let next = date(2024, 3, 21);
        // The night that started on the 20th runs into the 21st.
        assert!(night.covers(d, next.at(3, 0, 0, 0)));
        assert!(night.covers(d, d.at(23, 0, 0, 0)));
        assert!(!night.covers(next, next.at(3, 0, 0, 0)));
        assert!(!night.covers(d, next.at(8, 0, 0, 0)));
        assert!(!night.covers(d, d.at(21, 59, 0, 0)));
        assert!(day.covers(d, d.at(8, 0, 0, 0)));
        assert!(!day.covers(d, d.at(16, 0, 0, 0)));
        assert!(!day.covers(next, d.at(12, 0, 0, 0)));
        // A 24-hour duty from 09:00 to 09:00 the next day.
        assert!(duty.covers(d, next.at(8, 59, 0, 0)));
        assert!(!duty.covers(d, next.at(9, 0, 0, 0)));
        assert!(duty.covers(next, next.at(9, 0, 0, 0)));
    }

    fn shifts() -> Vec<ShiftSpan> {
        vec![
            ShiftSpan::parse("day", "08:00", "16:00").expect("valid"),
            ShiftSpan::parse("evening", "16:00", "20:00").expect("valid"),
            ShiftSpan::parse("night", "20:00", "08:00").expect("valid"),
        ]
    }

    #[test]
    fn table_of_cases() {
        let kz = compiled("KZ");
        let kg = compiled("KG");
        // (country calendar, local date-time, shift, shift start date, weekend, day type, why)
        let cases: Vec<(&Calendar, DateTime, &str, Date, bool, DayType, &str)> = vec![
            (
                &kz,
                date(2024, 3, 21).at(10, 0, 0, 0),
                "day",
                date(2024, 3, 21),
                false,
                DayType::PublicHoliday,
                "Nauryz, first day (Thursday)",
            ),
            (
                &kz,
                date(2024, 3, 23).at(12, 0, 0, 0),
                "day",
                date(2024, 3, 23),
                true,
                DayType::PublicHoliday,
                "Nauryz on a Saturday: weekend and holiday",
            ),
            (
                &kz,
                date(2024, 1, 7).at(9, 15, 0, 0),
                "day",
                date(2024, 1, 7),
                true,
                DayType::PublicHoliday,
                "Orthodox Christmas on a Sunday: both",
            ),
            (
                &kz,
                date(2024, 6, 16).at(17, 0, 0, 0),
                "evening",
                date(2024, 6, 16),
                true,
                DayType::PublicHoliday,
                "Kurban Ait on a Sunday, no transfer",
            ),
            (
                &kz,
                date(2024, 3, 25).at(11, 0, 0, 0),
                "day",
                date(2024, 3, 25),
                false,
                DayType::TransferredDayOff,
                "Monday off for Nauryz on Saturday",
            ),
            (
                &kz,
                date(2024, 5, 8).at(14, 0, 0, 0),
                "day",
                date(2024, 5, 8),
                false,
                DayType::TransferredDayOff,
                "day off moved by government order",
            ),
            (
                &kz,
                date(2024, 5, 4).at(10, 0, 0, 0),
                "day",
                date(2024, 5, 4),
                false,
                DayType::WorkingDay,
                "Saturday made a working day",
            ),
            (
                &kz,
                date(2024, 3, 20).at(15, 59, 0, 0),
                "day",
                date(2024, 3, 20),
                false,
                DayType::PreHoliday,
                "Wednesday before Nauryz",
            ),
            (
                &kz,
                date(2024, 5, 6).at(10, 0, 0, 0),
                "day",
                date(2024, 5, 6),
                false,
                DayType::PreHoliday,
                "Monday before Defender of the Fatherland Day",
            ),
            (
                &kz,
                date(2024, 3, 20).at(23, 30, 0, 0),
                "night",
                date(2024, 3, 20),
                false,
                DayType::PreHoliday,
                "23:30 on the night shift starting that evening",
            ),
            (
                &kz,
                date(2024, 3, 21).at(3, 0, 0, 0),
                "night",
                date(2024, 3, 20),
                false,
                DayType::PublicHoliday,
                "03:00: the shift began the day before, the day type is the incident's own date",
            ),
            (
                &kz,
                date(2024, 3, 21).at(8, 0, 0, 0),
                "day",
                date(2024, 3, 21),
                false,
                DayType::PublicHoliday,
                "08:00 belongs to the day shift, not the night",
            ),
            (
                &kz,
                date(2024, 3, 16).at(10, 0, 0, 0),
                "day",
                date(2024, 3, 16),
                true,
                DayType::RestDay,
                "an ordinary Saturday",
            ),
            (
                &kz,
                date(2024, 3, 19).at(10, 0, 0, 0),
                "day",
                date(2024, 3, 19),
                false,
                DayType::WorkingDay,
                "an ordinary Tuesday",
            ),
            (
                &kz,
                date(2024, 3, 22).at(10, 0, 0, 0),
                "day",
                date(2024, 3, 22),
                false,
                DayType::PublicHoliday,
                "a holiday before a holiday is not pre-holiday",
            ),
            (
                &kg,
                date(2025, 3, 21).at(10, 0, 0, 0),
                "day",
                date(2025, 3, 21),
                false,
                DayType::PublicHoliday,
                "Nooruz in Kyrgyzstan",
            ),
            (
                &kg,
                date(2025, 3, 20).at(10, 0, 0, 0),
                "day",
                date(2025, 3, 20),
                false,
                DayType::PreHoliday,
                "the day before Nooruz",
            ),
        ];
        for (cal, at, shift, start, weekend, day_type, why) in cases {
            let c = classify(at, &shifts(), cal);
            assert_eq!(c.shift.as_deref(), Some(shift), "{why}");
            assert_eq!(c.shift_start_date, start, "{why}");
            assert_eq!(c.weekend, weekend, "{why}");
            assert_eq!(c.day_type, day_type, "{why}");
        }
    }

    #[test]
    fn no_shift_covers_the_time() {
        let only_day = [ShiftSpan::parse("day", "08:00", "16:00").expect("valid")];
        let c = classify(date(2024, 3, 21).at(3, 0, 0, 0), &only_day, &compiled("KZ"));
        assert_eq!(c.shift, None);
        assert_eq!(c.shift_start_date, date(2024, 3, 21));
        assert_eq!(c.day_type, DayType::PublicHoliday);
    }

    #[test]
    fn a_24_hour_duty_covers_the_next_morning() {
        let duty = [ShiftSpan::parse("duty", "08:00", "08:00").expect("valid")];
        let c = classify(
            date(2024, 3, 21).at(7, 59, 0, 0),
            &duty,
            &Calendar::default(),
        );
        assert_eq!(c.shift.as_deref(), Some("duty"));
        assert_eq!(c.shift_start_date, date(2024, 3, 20));
        let c = classify(
            date(2024, 3, 21).at(8, 0, 0, 0),
            &duty,
            &Calendar::default(),
        );
        assert_eq!(c.shift_start_date, date(2024, 3, 21));
    }

    #[test]
    fn an_administrator_entry_replaces_the_compiled_one() {
        let mut cal = compiled("KZ");
        let (eve, day) = (date(2027, 11, 9), date(2027, 11, 10));
        assert_eq!(cal.day_type(eve), DayType::WorkingDay);
        assert_eq!(cal.day_type(day), DayType::WorkingDay);
        cal.insert(day, DayKind::Holiday);
        assert_eq!(cal.day_type(day), DayType::PublicHoliday);
        assert_eq!(cal.day_type(eve), DayType::PreHoliday);
        cal.insert(date(2024, 3, 25), DayKind::TransferWorkingDay);
        assert_eq!(cal.day_type(date(2024, 3, 25)), DayType::WorkingDay);
    }

    #[test]
    fn kazakhstan_is_utc_plus_5_without_dst_since_march_2024() {
        let almaty = jiff::tz::TimeZone::get("Asia/Almaty").expect("tzdb");
        let ts = |s: &str| s.parse::<jiff::Timestamp>().expect("valid");
        // The last evening on UTC+6, then UTC+5 from 2024-03-01 00:00.
        assert_eq!(
            local_of(ts("2024-02-29T17:30:00Z"), &almaty),
            date(2024, 2, 29).at(23, 30, 0, 0)
        );
        assert_eq!(
            local_of(ts("2024-03-01T18:30:00Z"), &almaty),
            date(2024, 3, 1).at(23, 30, 0, 0)
        );
        // Summer and winter alike: no daylight saving.
        for utc in [
            "2024-07-01T18:30:00Z",
            "2025-01-15T18:30:00Z",
            "2026-08-30T18:30:00Z",
        ] {
            let local = local_of(ts(utc), &almaty);
            assert_eq!(local.time(), time(23, 30, 0, 0), "{utc}");
            assert_eq!(instant_of(local, &almaty).expect("unambiguous"), ts(utc));
        }
        // Every Kazakh zone agrees from then on.
        for z in [
            "Asia/Qostanay",
            "Asia/Aqtobe",
            "Asia/Oral",
            "Asia/Qyzylorda",
        ] {
            let tz = jiff::tz::TimeZone::get(z).expect("tzdb");
            assert_eq!(
                local_of(ts("2025-06-01T00:00:00Z"), &tz),
                date(2025, 6, 1).at(5, 0, 0, 0),
                "{z}"
            );
        }
        let bishkek = jiff::tz::TimeZone::get("Asia/Bishkek").expect("tzdb");
        assert_eq!(
            local_of(ts("2025-06-01T00:00:00Z"), &bishkek),
            date(2025, 6, 1).at(6, 0, 0, 0)
        );
    }

    #[test]
    fn a_night_incident_stored_in_utc_classifies_from_local_time() {
        let almaty = jiff::tz::TimeZone::get("Asia/Almaty").expect("tzdb");
        let at: jiff::Timestamp = "2024-03-20T22:00:00Z".parse().expect("valid");
        let c = classify(local_of(at, &almaty), &shifts(), &compiled("KZ"));
        assert_eq!(c.shift.as_deref(), Some("night"));
        assert_eq!(c.shift_start_date, date(2024, 3, 20));
        assert_eq!(
            c.day_type,
            DayType::PublicHoliday,
            "03:00 on 21 March local"
        );
    }

    #[test]
    fn malformed_shift_times_are_refused() {
        assert!(ShiftSpan::parse("x", "8:00", "16:00").is_none());
        assert!(ShiftSpan::parse("x", "08:00", "24:00").is_none());
    }
}
