//! CSV import of staff and rosters. Every row is checked first; if any row is bad, the report
//! names each bad row by its line number and nothing is imported.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use crate::directory::model::{Department, PersonInput, Shift};
use crate::directory::store;
use crate::platform::access::Principal;
use crate::platform::audit::{self, Actor, Event};
use crate::platform::error::AppResult;
use crate::platform::i18n::Tr;
use crate::platform::state::AppState;
use crate::platform::validate::{Check, parse_date};

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Rows written (0 whenever `errors` is not empty).
    pub imported: usize,
    pub errors: Vec<RowError>,
}

#[derive(Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RowError {
    /// Line in the file, counting the header as line 1.
    pub line: u64,
    pub field: String,
    /// Message id, e.g. `err-required`.
    pub code: String,
    pub message: String,
}

impl RowError {
    fn new(line: u64, field: &str, code: &str, tr: Tr) -> RowError {
        RowError {
            line,
            field: field.to_owned(),
            code: code.to_owned(),
            message: tr.t(code),
        }
    }
}

impl ImportReport {
    /// A refused import as a validation problem, each bad row named by its line.
    pub fn into_result(self) -> Result<ImportReport, crate::platform::error::AppError> {
        if self.errors.is_empty() {
            return Ok(self);
        }
        Err(crate::platform::error::AppError::Validation(
            self.errors
                .into_iter()
                .map(|e| crate::platform::error::FieldError {
                    line: Some(e.line),
                    ..crate::platform::error::FieldError::new(&e.field, &e.code)
                })
                .collect(),
        ))
    }
}

pub const STAFF_HEADER: [&str; 6] = [
    "employee_no",
    "full_name",
    "profession",
    "department",
    "phone",
    "email",
];
pub const ROSTER_HEADER: [&str; 3] = ["employee_no", "date", "shift"];
const MAX_ROWS: usize = 20_000;

/// Parses rows keyed by header name; reports a missing column once, on line 1.
fn rows(
    body: &str,
    header: &[&str],
    tr: Tr,
    errors: &mut Vec<RowError>,
) -> Vec<(u64, HashMap<String, String>)> {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(body.as_bytes());
    let names: Vec<String> = match r.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_lowercase()).collect(),
        Err(_) => vec![],
    };
    for col in header {
        if !names.iter().any(|n| n == col) {
            errors.push(RowError::new(1, col, "err-csv-column", tr));
        }
    }
    if !errors.is_empty() {
        return vec![];
    }
    let mut out = vec![];
    for rec in r.records() {
        match rec {
            Ok(rec) => {
                let line = rec.position().map_or(0, |p| p.line());
                if rec.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                let map = names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.clone(), rec.get(i).unwrap_or("").to_owned()))
                    .collect();
                out.push((line, map));
            }
            Err(e) => errors.push(RowError::new(
                e.position().map_or(0, |p| p.line()),
                "",
                "err-csv-row",
                tr,
            )),
        }
        if out.len() > MAX_ROWS {
            errors.push(RowError::new(0, "", "err-csv-too-many", tr));
            break;
        }
    }
    out
}

fn push_errors(errors: &mut Vec<RowError>, line: u64, c: Check, tr: Tr) {
    errors.extend(
        c.errors
            .into_iter()
            .map(|e| RowError::new(line, &e.field, &e.code, tr)),
    );
}

/// Finds a department by name or kind, case-insensitively.
fn department_named<'a>(depts: &'a [Department], name: &str) -> Option<&'a Department> {
    let n = name.trim().to_lowercase();
    depts
        .iter()
        .find(|d| d.name.to_lowercase() == n || d.kind == n)
}

/// Checks staff rows; pure apart from the department list it is given.
pub fn check_staff(body: &str, depts: &[Department], tr: Tr) -> (Vec<PersonInput>, Vec<RowError>) {
    let mut errors = vec![];
    let mut ok = vec![];
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (line, row) in rows(body, &STAFF_HEADER, tr, &mut errors) {
        let g = |k: &str| row.get(k).cloned().unwrap_or_default();
        let dept_name = g("department");
        let mut c = Check::new();
        let department_id = if dept_name.trim().is_empty() {
            None
        } else {
            match department_named(depts, &dept_name) {
                Some(d) => Some(d.id),
                None => {
                    c.fail("department", "err-unknown-department");
                    None
                }
            }
        };
        let input = PersonInput {
            facility_id: Some(Uuid::nil()),
            department_id,
            employee_no: g("employee_no"),
            full_name: g("full_name"),
            profession: g("profession"),
            phone: g("phone"),
            email: g("email"),
        }
        .check(&mut c);
        if let Some(first) = seen.insert(input.employee_no.clone(), line)
            && !input.employee_no.is_empty()
        {
            let _ = first;
            c.fail("employee_no", "err-duplicate-in-file");
        }
        if c.errors.is_empty() {
            ok.push(input);
        } else {
            push_errors(&mut errors, line, c, tr);
        }
    }
    (ok, errors)
}

pub async fn staff(
    st: &AppState,
    p: &Principal,
    facility: Uuid,
    body: &str,
    tr: Tr,
) -> AppResult<ImportReport> {
    let depts = store::departments(&st.db, facility, false).await?;
    let (rows, errors) = check_staff(body, &depts, tr);
    if !errors.is_empty() {
        return Ok(ImportReport {
            imported: 0,
            errors,
        });
    }
    let mut tx = st.db.begin().await?;
    let existing = store::people_by_number(&mut tx, facility).await?;
    for mut input in rows.iter().cloned() {
        input.facility_id = Some(facility);
        match existing.get(&input.employee_no) {
            Some(id) => {
                store::update_person(&mut tx, *id, &input).await?;
            }
            None => {
                store::create_person(&mut tx, facility, &input).await?;
            }
        }
    }
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("people.import", "facility", facility)
            .detail(serde_json::json!({ "rows": rows.len() })),
    )
    .await?;
    tx.commit().await?;
    Ok(ImportReport {
        imported: rows.len(),
        errors: vec![],
    })
}

/// Checks roster rows against the facility's staff numbers and shift codes.
pub fn check_roster(
    body: &str,
    people: &HashMap<String, Uuid>,
    shifts: &[Shift],
    tr: Tr,
) -> (Vec<(Uuid, Uuid, String)>, Vec<RowError>) {
    let mut errors = vec![];
    let mut ok = vec![];
    for (line, row) in rows(body, &ROSTER_HEADER, tr, &mut errors) {
        let g = |k: &str| row.get(k).map(|s| s.trim().to_owned()).unwrap_or_default();
        let mut c = Check::new();
        let person = people.get(&g("employee_no")).copied();
        if person.is_none() {
            c.fail("employee_no", "err-unknown-employee");
        }
        let day = g("date");
        if parse_date(&day).is_none() {
            c.fail("date", "err-date");
        }
        let shift = shifts.iter().find(|s| s.code == g("shift")).map(|s| s.id);
        if shift.is_none() {
            c.fail("shift", "err-unknown-shift");
        }
        match (person, shift, c.errors.is_empty()) {
            (Some(p), Some(s), true) => ok.push((p, s, day)),
            _ => push_errors(&mut errors, line, c, tr),
        }
    }
    (ok, errors)
}

pub async fn roster(
    st: &AppState,
    p: &Principal,
    facility: Uuid,
    body: &str,
    tr: Tr,
) -> AppResult<ImportReport> {
    let shifts = store::shifts(&st.db, facility).await?;
    let mut tx = st.db.begin().await?;
    let people = store::people_by_number(&mut tx, facility).await?;
    let (rows, errors) = check_roster(body, &people, &shifts, tr);
    if !errors.is_empty() {
        return Ok(ImportReport {
            imported: 0,
            errors,
        });
    }
    for (person, shift, day) in &rows {
        store::add_roster_entry(&mut tx, *person, *shift, day).await?;
    }
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("roster.import", "facility", facility)
            .detail(serde_json::json!({ "rows": rows.len() })),
    )
    .await?;
    tx.commit().await?;
    Ok(ImportReport {
        imported: rows.len(),
        errors: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::i18n::Lang;

    fn dept() -> Department {
        Department {
            id: Uuid::from_u128(9),
            facility_id: Uuid::nil(),
            kind: "emergency".into(),
            name: "Приёмное отделение".into(),
            floor: "1".into(),
            archived: false,
        }
    }

    #[test]
    fn staff_rows_report_line_numbers_and_import_nothing() {
        let csv = "employee_no,full_name,profession,department,phone,email\n\
                   A1,Айгүл Серікқызы,nurse,приёмное отделение,+7 701 000 00 00,\n\
                   A2,,nurse,,,\n\
                   A3,Bakyt Asanov,astronaut,emergency,,bad-mail\n\
                   A1,Дубль,nurse,,,\n";
        let (ok, errs) = check_staff(csv, &[dept()], Tr::new(Lang::En));
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].department_id, Some(Uuid::from_u128(9)));
        let lines: Vec<_> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            lines,
            vec![
                (3, "full_name"),
                (4, "profession"),
                (4, "email"),
                (5, "employee_no")
            ]
        );
    }

    #[test]
    fn missing_column_is_reported_on_line_one() {
        let (ok, errs) = check_staff("employee_no,full_name\nA1,X Y\n", &[], Tr::new(Lang::En));
        assert!(ok.is_empty());
        assert!(errs.iter().all(|e| e.line == 1));
        assert_eq!(errs.len(), 4);
    }

    #[test]
    fn roster_rows_are_checked_against_staff_and_shifts() {
        let people = HashMap::from([("A1".to_owned(), Uuid::from_u128(1))]);
        let shifts = vec![Shift {
            id: Uuid::from_u128(2),
            facility_id: Uuid::nil(),
            code: "night".into(),
            starts: "20:00".into(),
            ends: "08:00".into(),
        }];
        let csv = "employee_no,date,shift\nA1,2026-12-31,night\nB2,2026-13-01,moon\n";
        let (ok, errs) = check_roster(csv, &people, &shifts, Tr::new(Lang::En));
        assert_eq!(
            ok,
            vec![(
                Uuid::from_u128(1),
                Uuid::from_u128(2),
                "2026-12-31".to_owned()
            )]
        );
        assert_eq!(errs.len(), 3);
        assert!(errs.iter().all(|e| e.line == 3));
    }
}
