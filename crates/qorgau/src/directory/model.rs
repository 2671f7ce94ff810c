//! Directory records and the pure rules on their inputs.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::directory::reference::{DEPARTMENT_KINDS, FACILITY_KINDS, PROFESSIONS, REGION_LIST};
use crate::platform::access::Place;
use crate::platform::validate::Check;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Region {
    pub id: String,
    pub country: String,
    pub kind: String,
    pub name: String,
    pub name_en: String,
    pub name_ru: String,
    pub name_kk: String,
    pub name_ky: String,
    pub centre: String,
    pub tz: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Facility {
    pub id: Uuid,
    pub region_id: String,
    pub kind: String,
    pub name: String,
    pub address: String,
    pub phone: String,
    pub tz: String,
    pub archived: bool,
}

impl Facility {
    pub fn country(&self) -> &str {
        self.region_id.split('-').next().unwrap_or("")
    }
    pub fn place(&self) -> Place {
        Place {
            country: self.country().to_owned(),
            region: self.region_id.clone(),
            facility: Some(self.id),
            department: None,
            person: None,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct FacilityInput {
    pub region_id: String,
    pub kind: String,
    pub name: String,
    pub address: String,
    pub phone: String,
    /// IANA zone; defaults to the region's.
    pub tz: String,
}

impl FacilityInput {
    pub fn check(&self, c: &mut Check) -> FacilityInput {
        let regions: Vec<&str> = REGION_LIST.iter().map(|r| r.iso.as_str()).collect();
        let kinds: Vec<&str> = FACILITY_KINDS.iter().map(|t| t.id.as_str()).collect();
        let region_id = c.choice("region_id", &self.region_id, &regions);
        let tz = if self.tz.trim().is_empty() {
            REGION_LIST
                .iter()
                .find(|r| r.iso == region_id)
                .map(|r| r.tz.clone())
                .unwrap_or_default()
        } else {
            let tz = self.tz.trim().to_owned();
            if jiff::tz::TimeZone::get(&tz).is_err() {
                c.fail("tz", "err-timezone");
            }
            tz
        };
        FacilityInput {
            region_id,
            kind: c.choice("kind", &self.kind, &kinds),
            name: c.text("name", &self.name, 2, 200),
            address: c.text("address", &self.address, 0, 300),
            phone: c.phone("phone", &self.phone),
            tz,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Department {
    pub id: Uuid,
    pub facility_id: Uuid,
    pub kind: String,
    pub name: String,
    pub floor: String,
    pub archived: bool,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct DepartmentInput {
    pub kind: String,
    pub name: String,
    pub floor: String,
}

impl DepartmentInput {
    pub fn check(&self, c: &mut Check) -> DepartmentInput {
        DepartmentInput {
            kind: c.choice("kind", &self.kind, DEPARTMENT_KINDS),
            name: c.text("name", &self.name, 2, 200),
            floor: c.text("floor", &self.floor, 0, 20),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SecurityPost {
    pub id: Uuid,
    pub facility_id: Uuid,
    pub name: String,
    pub location: String,
    pub phone: String,
    /// `24/7` or `HH:MM-HH:MM`.
    pub hours: String,
    /// The department this post answers alarms for; `null`: the rest of the facility.
    pub department_id: Option<Uuid>,
    pub archived: bool,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct PostInput {
    pub name: String,
    pub location: String,
    pub phone: String,
    pub hours: String,
    /// The department this post answers alarms for (one of the facility's); none: the rest of
    /// the facility.
    pub department_id: Option<Uuid>,
}

impl PostInput {
    pub fn check(&self, c: &mut Check) -> PostInput {
        let hours = self.hours.trim();
        let hours = if hours.is_empty() { "24/7" } else { hours };
        let ok = hours == "24/7"
            || hours.split_once('-').is_some_and(|(a, b)| {
                crate::platform::validate::parse_hhmm(a.trim()).is_some()
                    && crate::platform::validate::parse_hhmm(b.trim()).is_some()
            });
        if !ok {
            c.fail("hours", "err-hours");
        }
        PostInput {
            name: c.text("name", &self.name, 2, 200),
            location: c.text("location", &self.location, 0, 200),
            phone: c.phone("phone", &self.phone),
            hours: hours.to_owned(),
            department_id: self.department_id,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Person {
    pub id: Uuid,
    pub facility_id: Uuid,
    pub department_id: Option<Uuid>,
    pub employee_no: String,
    pub full_name: String,
    /// A profession id from the reference list (nurse, doctor, feldsher ...).
    pub profession: String,
    pub phone: String,
    pub email: String,
    pub archived: bool,
    #[serde(skip)]
    pub region_id: String,
}

impl Person {
    pub fn place(&self) -> Place {
        Place {
            country: self.region_id.split('-').next().unwrap_or("").to_owned(),
            region: self.region_id.clone(),
            facility: Some(self.facility_id),
            department: self.department_id,
            person: Some(self.id),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct PersonInput {
    pub facility_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub employee_no: String,
    pub full_name: String,
    pub profession: String,
    pub phone: String,
    pub email: String,
}

impl PersonInput {
    pub fn check(&self, c: &mut Check) -> PersonInput {
        let profs: Vec<&str> = PROFESSIONS.iter().map(|t| t.id.as_str()).collect();
        if self.facility_id.is_none() {
            c.fail("facility_id", "err-required");
        }
        PersonInput {
            facility_id: self.facility_id,
            department_id: self.department_id,
            employee_no: c.text("employee_no", &self.employee_no, 1, 40),
            full_name: c.text("full_name", &self.full_name, 2, 200),
            profession: c.choice("profession", &self.profession, &profs),
            phone: c.phone("phone", &self.phone),
            email: c.email("email", &self.email),
        }
    }
}

/// Lower-cased name and number for search that works the same on SQLite (whose `lower()` only
/// folds ASCII) and PostgreSQL.
pub fn search_key(full_name: &str, employee_no: &str) -> String {
    format!(
        "{} {}",
        full_name.to_lowercase(),
        employee_no.to_lowercase()
    )
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Shift {
    pub id: Uuid,
    pub facility_id: Uuid,
    pub code: String,
    pub starts: String,
    pub ends: String,
}

impl Shift {
    /// A shift whose end is not after its start runs across midnight.
    pub fn crosses_midnight(&self) -> bool {
        crate::platform::validate::parse_hhmm(&self.ends)
            <= crate::platform::validate::parse_hhmm(&self.starts)
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ShiftInput {
    pub code: String,
    pub starts: String,
    pub ends: String,
}

impl ShiftInput {
    pub fn check(&self, c: &mut Check) -> ShiftInput {
        let code = c.text("code", &self.code, 1, 30);
        if !code
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        {
            c.fail("code", "err-code");
        }
        ShiftInput {
            code,
            starts: c.hhmm("starts", &self.starts),
            ends: c.hhmm("ends", &self.ends),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RosterEntry {
    pub person_id: Uuid,
    pub employee_no: String,
    /// Local date the shift starts.
    pub day: String,
    pub shift: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facility_defaults_to_region_zone() {
        let mut c = Check::new();
        let f = FacilityInput {
            region_id: "KG-GB".into(),
            kind: "city_hospital".into(),
            name: "Bishkek City Hospital No. 1".into(),
            ..Default::default()
        }
        .check(&mut c);
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(f.tz, "Asia/Bishkek");
    }

    #[test]
    fn night_shift_crosses_midnight() {
        let s = |a: &str, b: &str| Shift {
            id: Uuid::nil(),
            facility_id: Uuid::nil(),
            code: "x".into(),
            starts: a.into(),
            ends: b.into(),
        };
        assert!(s("20:00", "08:00").crosses_midnight());
        assert!(!s("08:00", "20:00").crosses_midnight());
        assert!(s("08:00", "08:00").crosses_midnight(), "a 24-hour duty");
    }

    #[test]
    fn person_input_names_bad_fields() {
        let mut c = Check::new();
        PersonInput {
            profession: "astronaut".into(),
            email: "x".into(),
            ..Default::default()
        }
        .check(&mut c);
        let fields: Vec<_> = c.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "facility_id",
                "employee_no",
                "full_name",
                "profession",
                "email"
            ]
        );
    }
}
