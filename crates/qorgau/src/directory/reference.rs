//! Regions, facility kinds and professions from the shared reference data, compiled in.

use std::sync::LazyLock;

use crate::platform::i18n::Lang;

#[derive(Clone, Debug)]
pub struct RegionRef {
    pub country: String,
    pub iso: String,
    pub name_en: String,
    pub name_ru: String,
    pub name_kk: String,
    pub name_ky: String,
    pub kind: String,
    pub centre: String,
    pub tz: String,
}

/// A facility kind, profession or department kind, named in four languages.
#[derive(Clone, Debug)]
pub struct Term {
    pub id: String,
    pub en: String,
    pub ru: String,
    pub kk: String,
    pub ky: String,
}

impl Term {
    /// The name in `lang`, falling back to Russian where the research found no local term.
    pub fn name(&self, lang: Lang) -> &str {
        let s = match lang {
            Lang::En => &self.en,
            Lang::Ru => &self.ru,
            Lang::Kk => &self.kk,
            Lang::Ky => &self.ky,
        };
        if s.is_empty() { &self.ru } else { s }
    }
}

fn read_csv(src: &str) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_reader(src.as_bytes());
    let headers = r.headers().cloned().unwrap_or_default();
    r.records()
        .filter_map(Result::ok)
        .map(|rec| {
            // Normalise to header order so callers index by name.
            let mut out = csv::StringRecord::new();
            for (i, _) in headers.iter().enumerate() {
                out.push_field(rec.get(i).unwrap_or(""));
            }
            out
        })
        .collect()
}

fn col(src: &str, name: &str) -> usize {
    let mut r = csv::Reader::from_reader(src.as_bytes());
    r.headers()
        .ok()
        .and_then(|h| h.iter().position(|c| c == name))
        .unwrap_or(usize::MAX)
}

const REGIONS: &str = include_str!("../../reference/regions.csv");
const FACILITIES_AND_ROLES: &str = include_str!("../../reference/facilities-and-roles.csv");

pub static REGION_LIST: LazyLock<Vec<RegionRef>> = LazyLock::new(|| {
    let c = |n| col(REGIONS, n);
    let (country, iso, en, ru, local, kind, centre, tz) = (
        c("country"),
        c("iso_code"),
        c("name_en"),
        c("name_ru"),
        c("name_local"),
        c("type"),
        c("admin_center_en"),
        c("iana_tz"),
    );
    read_csv(REGIONS)
        .iter()
        .map(|r| {
            let g = |i: usize| r.get(i).unwrap_or("").to_owned();
            let ctry = g(country);
            let (kk, ky) = if ctry == "KZ" {
                (g(local), String::new())
            } else {
                (String::new(), g(local))
            };
            RegionRef {
                country: ctry,
                iso: g(iso),
                name_en: g(en),
                name_ru: g(ru),
                name_kk: kk,
                name_ky: ky,
                kind: g(kind),
                centre: g(centre),
                tz: g(tz),
            }
        })
        .filter(|r| !r.iso.is_empty())
        .collect()
});

fn terms(category: &str) -> Vec<Term> {
    let c = |n| col(FACILITIES_AND_ROLES, n);
    let (cat, id, en, ru, kk, ky) = (c("category"), c("id"), c("en"), c("ru"), c("kk"), c("ky"));
    read_csv(FACILITIES_AND_ROLES)
        .iter()
        .filter(|r| r.get(cat) == Some(category))
        .map(|r| {
            let g = |i: usize| r.get(i).unwrap_or("").to_owned();
            Term {
                id: g(id),
                en: g(en),
                ru: g(ru),
                kk: g(kk),
                ky: g(ky),
            }
        })
        .collect()
}

pub static FACILITY_KINDS: LazyLock<Vec<Term>> = LazyLock::new(|| terms("facility"));
pub static PROFESSIONS: LazyLock<Vec<Term>> = LazyLock::new(|| terms("role"));

pub fn facility_kind(id: &str) -> Option<&'static Term> {
    FACILITY_KINDS.iter().find(|t| t.id == id)
}
pub fn profession(id: &str) -> Option<&'static Term> {
    PROFESSIONS.iter().find(|t| t.id == id)
}

/// Department kinds; names are messages `dept-<kind>` in the directory's Fluent files.
pub const DEPARTMENT_KINDS: &[&str] = &[
    "emergency",
    "icu",
    "psychiatry",
    "paediatrics",
    "maternity",
    "surgery",
    "therapy",
    "outpatient",
    "ambulance_crew",
    "reception",
    "laboratory",
    "administration",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_data_loads() {
        assert_eq!(REGION_LIST.iter().filter(|r| r.country == "KZ").count(), 20);
        assert_eq!(REGION_LIST.iter().filter(|r| r.country == "KG").count(), 9);
        assert!(
            REGION_LIST
                .iter()
                .all(|r| jiff::tz::TimeZone::get(&r.tz).is_ok())
        );
        for k in [
            "city_hospital",
            "childrens_hospital",
            "perinatal_center",
            "ambulance_station",
            "polyclinic",
        ] {
            assert!(facility_kind(k).is_some(), "{k}");
        }
        assert!(profession("nurse").is_some_and(|t| t.name(Lang::Kk) == "Мейіргер"));
    }
}
