//! The Kazakh and Kyrgyz calendars: the research's holiday files compiled in, and the days an
//! administrator adds for years the research does not cover (they win over the compiled ones).

use std::sync::LazyLock;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::platform::validate::{Check, parse_date};
use crate::reports::classify::{Calendar, DayKind};

pub const COUNTRIES: [&str; 2] = ["KZ", "KG"];

const HOLIDAYS_KZ: &str = include_str!("../../reference/holidays-kz.csv");
const HOLIDAYS_KG: &str = include_str!("../../reference/holidays-kg.csv");

/// A date in a country's calendar, as listed to people and the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct CalendarDay {
    pub country: String,
    #[schema(value_type = String, example = "2027-03-22")]
    pub day: Date,
    pub kind: DayKind,
    /// English name from the reference data, or the administrator's wording.
    pub name: String,
    /// `reference` (compiled in, from the research) or `local` (added by an administrator).
    pub source: String,
}

/// An administrator's entry: a date's kind in one country.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct CalendarDayInput {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `holiday`, `transfer_day_off` or `transfer_working_day`.
    pub kind: String,
    pub name: String,
}

/// A checked entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckedDay {
    pub day: Date,
    pub kind: DayKind,
    pub name: String,
}

impl CalendarDayInput {
    pub fn check(&self, c: &mut Check) -> Option<CheckedDay> {
        let day = parse_date(self.day.trim());
        if day.is_none() {
            c.fail("day", "err-date");
        }
        let kind = DayKind::parse(self.kind.trim());
        if kind.is_none() {
            c.fail("kind", "err-invalid");
        }
        let name = c.text("name", &self.name, 1, 120);
        Some(CheckedDay {
            day: day?,
            kind: kind?,
            name,
        })
    }
}

pub fn is_country(code: &str) -> bool {
    COUNTRIES.contains(&code)
}

fn parse(country: &str, src: &str) -> Vec<CalendarDay> {
    let mut r = csv::Reader::from_reader(src.as_bytes());
    let headers = r.headers().cloned().unwrap_or_default();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(d), Some(k), Some(n)) = (col("date"), col("kind"), col("name_en")) else {
        return Vec::new();
    };
    r.records()
        .filter_map(Result::ok)
        .filter_map(|rec| {
            Some(CalendarDay {
                country: country.to_owned(),
                day: parse_date(rec.get(d)?)?,
                kind: DayKind::parse(rec.get(k)?)?,
                name: rec.get(n)?.to_owned(),
                source: "reference".into(),
            })
        })
        .collect()
}

static REFERENCE: LazyLock<Vec<CalendarDay>> = LazyLock::new(|| {
    let mut all = parse("KZ", HOLIDAYS_KZ);
    all.extend(parse("KG", HOLIDAYS_KG));
    all
});

/// The compiled-in days of one country.
pub fn reference_days<'a>(country: &'a str) -> impl Iterator<Item = &'a CalendarDay> + 'a {
    REFERENCE.iter().filter(move |d| d.country == country)
}

/// The calendar from the reference data alone.
pub fn compiled(country: &str) -> Calendar {
    merged(country, &[])
}

/// The reference days overlaid with an administrator's entries for the same country.
pub fn merged(country: &str, local: &[CalendarDay]) -> Calendar {
    let mut cal = Calendar::default();
    for d in reference_days(country).chain(local.iter().filter(|d| d.country == country)) {
        cal.insert(d.day, d.kind);
    }
    cal
}

/// Every listed day of a country, local entries replacing reference ones on the same date, in
/// date order.
pub fn listing(country: &str, local: &[CalendarDay]) -> Vec<CalendarDay> {
    let mut by_day = std::collections::BTreeMap::new();
    for d in reference_days(country).chain(local.iter().filter(|d| d.country == country)) {
        by_day.insert(d.day, d.clone());
    }
    by_day.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn both_calendars_compile_in_with_every_row() {
        let kz = reference_days("KZ").count();
        let kg = reference_days("KG").count();
        // One header line each; every other line is a dated row.
        assert_eq!(kz, HOLIDAYS_KZ.lines().count() - 1);
        assert_eq!(kg, HOLIDAYS_KG.lines().count() - 1);
        assert!(kz > 50 && kg > 50);
        assert_eq!(
            compiled("KZ").kind(date(2026, 3, 21)),
            Some(DayKind::Holiday)
        );
    }

    #[test]
    fn local_entries_replace_reference_ones_in_the_listing() {
        let local = [CalendarDay {
            country: "KZ".into(),
            day: date(2024, 3, 25),
            kind: DayKind::TransferWorkingDay,
            name: "Correction".into(),
            source: "local".into(),
        }];
        let l = listing("KZ", &local);
        let d = l
            .iter()
            .find(|d| d.day == date(2024, 3, 25))
            .expect("listed");
        assert_eq!(
            (d.source.as_str(), d.kind),
            ("local", DayKind::TransferWorkingDay)
        );
        assert_eq!(l.len(), reference_days("KZ").count());
        assert!(l.windows(2).all(|w| w[0].day < w[1].day));
        assert!(
            listing("KG", &local)
                .iter()
                .all(|d| d.source == "reference")
        );
    }

    #[test]
    fn input_names_bad_fields() {
        let mut c = Check::new();
        let r = CalendarDayInput {
            day: "2028-02-30".into(),
            kind: "party".into(),
            name: String::new(),
        }
        .check(&mut c);
        assert!(r.is_none());
        let fields: Vec<_> = c.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["day", "kind", "name"]);
        let mut c = Check::new();
        let r = CalendarDayInput {
            day: "2028-03-21".into(),
            kind: "holiday".into(),
            name: "Nauryz".into(),
        }
        .check(&mut c);
        assert!(c.errors.is_empty());
        assert_eq!(r.map(|d| d.kind), Some(DayKind::Holiday));
    }
}
