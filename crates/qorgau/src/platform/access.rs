//! The one place that decides who may do what to which record.
//!
//! A role grants actions; an account's scope (own, department, facility, region, country) bounds
//! the records those actions reach. Routes ask [`Principal::require`] for the action, then
//! [`Principal::sees`] for each record, and answer 404 for a record outside the scope, so that a
//! refusal never confirms that a record exists. `docs/access.md` is the human-readable copy of
//! [`grants`]; the `access_table` integration test holds the two together.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::platform::error::{AppError, AppResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Worker,
    SecurityGuard,
    DepartmentHead,
    FacilityAdmin,
    Investigator,
    UnionRep,
    RegionalHealth,
    LabourInspector,
    MinistryAnalyst,
    Prosecutor,
    SystemAdmin,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::Worker,
        Role::SecurityGuard,
        Role::DepartmentHead,
        Role::FacilityAdmin,
        Role::Investigator,
        Role::UnionRep,
        Role::RegionalHealth,
        Role::LabourInspector,
        Role::MinistryAnalyst,
        Role::Prosecutor,
        Role::SystemAdmin,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::SecurityGuard => "security_guard",
            Role::DepartmentHead => "department_head",
            Role::FacilityAdmin => "facility_admin",
            Role::Investigator => "investigator",
            Role::UnionRep => "union_rep",
            Role::RegionalHealth => "regional_health",
            Role::LabourInspector => "labour_inspector",
            Role::MinistryAnalyst => "ministry_analyst",
            Role::Prosecutor => "prosecutor",
            Role::SystemAdmin => "system_admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == s)
    }

    /// The scope level an account of this role normally has.
    pub fn natural_scope(self) -> ScopeKind {
        match self {
            Role::Worker => ScopeKind::Own,
            Role::DepartmentHead => ScopeKind::Department,
            Role::SecurityGuard | Role::FacilityAdmin | Role::Investigator | Role::UnionRep => {
                ScopeKind::Facility
            }
            Role::RegionalHealth | Role::LabourInspector | Role::Prosecutor => ScopeKind::Region,
            Role::MinistryAnalyst | Role::SystemAdmin => ScopeKind::Country,
        }
    }

    /// Roles that can read a sealed identity, play evidence, export a case or manage accounts
    /// must enrol a second factor before they can do anything else.
    pub fn requires_totp(self) -> bool {
        [
            Action::IdentityUnseal,
            Action::EvidencePlay,
            Action::CaseExport,
            Action::AccountsManage,
        ]
        .into_iter()
        .any(|a| grants(self, a))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Regions, facilities, departments, posts, shifts: no personal data.
    DirectoryView,
    DirectoryManage,
    /// Names and contacts of staff (every read is audited).
    PeopleView,
    PeopleManage,
    RosterView,
    AccountsManage,
    AuditView,
    IdentityUnseal,
    EvidencePlay,
    CaseExport,
    /// Press the panic button.
    AlarmRaise,
    /// See alarms and the live feed within the scope.
    AlarmView,
    /// Acknowledge, dispatch, record arrival and calls, resolve.
    AlarmRespond,
    /// Register alarm panels, set their keys and supervision, place unassigned ones.
    PanelsManage,
    /// Set a facility's escalation policy; add and remove outgoing webhooks and read their
    /// delivery log.
    NotifyManage,
    /// Add or correct days in a country's holiday calendar.
    CalendarManage,
    /// File an incident report (named or confidential) and follow one's own reports.
    ReportSubmit,
    /// Read reports within the scope (every read is audited and shown to the reporter).
    ReportView,
}

impl Action {
    pub const ALL: [Action; 18] = [
        Action::DirectoryView,
        Action::DirectoryManage,
        Action::PeopleView,
        Action::PeopleManage,
        Action::RosterView,
        Action::AccountsManage,
        Action::AuditView,
        Action::IdentityUnseal,
        Action::EvidencePlay,
        Action::CaseExport,
        Action::AlarmRaise,
        Action::AlarmView,
        Action::AlarmRespond,
        Action::PanelsManage,
        Action::NotifyManage,
        Action::CalendarManage,
        Action::ReportSubmit,
        Action::ReportView,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::DirectoryView => "directory.view",
            Action::DirectoryManage => "directory.manage",
            Action::PeopleView => "people.view",
            Action::PeopleManage => "people.manage",
            Action::RosterView => "roster.view",
            Action::AccountsManage => "accounts.manage",
            Action::AuditView => "audit.view",
            Action::IdentityUnseal => "identity.unseal",
            Action::EvidencePlay => "evidence.play",
            Action::CaseExport => "case.export",
            Action::AlarmRaise => "alarm.raise",
            Action::AlarmView => "alarm.view",
            Action::AlarmRespond => "alarm.respond",
            Action::PanelsManage => "panels.manage",
            Action::NotifyManage => "notify.manage",
            Action::CalendarManage => "calendar.manage",
            Action::ReportSubmit => "report.submit",
            Action::ReportView => "report.view",
        }
    }
}

/// The role x action table. Keep `docs/access.md` in step: a test compares them.
pub fn grants(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match action {
        DirectoryView => true,
        DirectoryManage | PeopleManage => matches!(role, FacilityAdmin | SystemAdmin),
        PeopleView => matches!(
            role,
            DepartmentHead | FacilityAdmin | Investigator | SystemAdmin
        ),
        RosterView => matches!(role, DepartmentHead | FacilityAdmin | SystemAdmin),
        AccountsManage | AuditView => matches!(role, SystemAdmin),
        IdentityUnseal | EvidencePlay => matches!(role, Investigator),
        CaseExport => matches!(role, Investigator | Prosecutor),
        AlarmRaise => true,
        AlarmView => matches!(
            role,
            SecurityGuard
                | DepartmentHead
                | FacilityAdmin
                | Investigator
                | RegionalHealth
                | MinistryAnalyst
                | SystemAdmin
        ),
        AlarmRespond => matches!(role, SecurityGuard | FacilityAdmin | SystemAdmin),
        PanelsManage | NotifyManage => matches!(role, FacilityAdmin | SystemAdmin),
        CalendarManage => matches!(role, SystemAdmin),
        ReportSubmit => true,
        // Handlers only: managers and administrators may be the people reported on.
        ReportView => matches!(role, Investigator | UnionRep),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    Own,
    Department,
    Facility,
    Region,
    Country,
}

impl ScopeKind {
    pub fn code(self) -> &'static str {
        match self {
            ScopeKind::Own => "own",
            ScopeKind::Department => "department",
            ScopeKind::Facility => "facility",
            ScopeKind::Region => "region",
            ScopeKind::Country => "country",
        }
    }
    pub fn parse(s: &str) -> Option<ScopeKind> {
        [
            ScopeKind::Own,
            ScopeKind::Department,
            ScopeKind::Facility,
            ScopeKind::Region,
            ScopeKind::Country,
        ]
        .into_iter()
        .find(|k| k.code() == s)
    }
}

/// What an account may reach. `Country` with a code limits to one country; without, all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Own,
    Department(Uuid),
    Facility(Uuid),
    Region(String),
    Country(Option<String>),
}

impl Scope {
    pub fn kind(&self) -> ScopeKind {
        match self {
            Scope::Own => ScopeKind::Own,
            Scope::Department(_) => ScopeKind::Department,
            Scope::Facility(_) => ScopeKind::Facility,
            Scope::Region(_) => ScopeKind::Region,
            Scope::Country(_) => ScopeKind::Country,
        }
    }
    pub fn id_text(&self) -> Option<String> {
        match self {
            Scope::Own => None,
            Scope::Department(u) | Scope::Facility(u) => Some(u.to_string()),
            Scope::Region(r) => Some(r.clone()),
            Scope::Country(c) => c.clone(),
        }
    }
    pub fn from_parts(kind: &str, id: Option<&str>) -> Option<Scope> {
        let uuid = || id.and_then(|s| Uuid::parse_str(s).ok());
        Some(match ScopeKind::parse(kind)? {
            ScopeKind::Own => Scope::Own,
            ScopeKind::Department => Scope::Department(uuid()?),
            ScopeKind::Facility => Scope::Facility(uuid()?),
            ScopeKind::Region => Scope::Region(id?.to_owned()),
            ScopeKind::Country => Scope::Country(id.map(str::to_owned)),
        })
    }
    /// Written as `kind` or `kind:id` on the command line.
    pub fn parse_cli(s: &str) -> Option<Scope> {
        match s.split_once(':') {
            Some((k, id)) => Scope::from_parts(k, Some(id)),
            None => Scope::from_parts(s, None),
        }
    }

    /// Nullable filter values for list queries:
    /// `($1 IS NULL OR region = $1) AND ($2 IS NULL OR facility = $2) ...`.
    pub fn filter(&self, own_person: Option<Uuid>) -> ScopeFilter {
        let mut f = ScopeFilter::default();
        match self {
            Scope::Own => f.person = Some(own_person.unwrap_or(Uuid::nil())),
            Scope::Department(d) => f.department = Some(*d),
            Scope::Facility(x) => f.facility = Some(*x),
            Scope::Region(r) => f.region = Some(r.clone()),
            Scope::Country(c) => f.country = c.clone(),
        }
        f
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeFilter {
    pub country: Option<String>,
    pub region: Option<String>,
    pub facility: Option<Uuid>,
    pub department: Option<Uuid>,
    pub person: Option<Uuid>,
}

/// Where a record sits, from the country down to the person it is about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    pub country: String,
    pub region: String,
    pub facility: Option<Uuid>,
    pub department: Option<Uuid>,
    pub person: Option<Uuid>,
}

/// How the caller authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    Session {
        id_hash: String,
    },
    /// A personal API token; `read_only` tokens may only use safe methods.
    Token {
        id: Uuid,
        read_only: bool,
    },
}

#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    pub scope: Scope,
    pub person_id: Option<Uuid>,
    pub via: Via,
}

impl Principal {
    pub fn can(&self, action: Action) -> bool {
        grants(self.role, action)
    }

    pub fn require(&self, action: Action) -> AppResult<()> {
        if self.can(action) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Whether a record at `place` is within this account's scope.
    pub fn sees(&self, place: &Place) -> bool {
        match &self.scope {
            Scope::Own => self.person_id.is_some() && place.person == self.person_id,
            Scope::Department(d) => place.department == Some(*d),
            Scope::Facility(f) => place.facility == Some(*f),
            Scope::Region(r) => &place.region == r,
            Scope::Country(None) => true,
            Scope::Country(Some(c)) => &place.country == c,
        }
    }

    /// `require` and `sees` together: 403 without the action, 404 outside the scope.
    pub fn check(&self, action: Action, place: &Place) -> AppResult<()> {
        self.require(action)?;
        if self.sees(place) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    pub fn filter(&self) -> ScopeFilter {
        self.scope.filter(self.person_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, scope: Scope) -> Principal {
        Principal {
            user_id: Uuid::nil(),
            username: "t".into(),
            role,
            scope,
            person_id: Some(Uuid::from_u128(7)),
            via: Via::Session {
                id_hash: String::new(),
            },
        }
    }

    #[test]
    fn scope_bounds_records() {
        let f1 = Uuid::from_u128(1);
        let f2 = Uuid::from_u128(2);
        let p = principal(Role::FacilityAdmin, Scope::Facility(f1));
        let inside = Place {
            country: "KZ".into(),
            region: "KZ-75".into(),
            facility: Some(f1),
            ..Place::default()
        };
        let outside = Place {
            facility: Some(f2),
            ..inside.clone()
        };
        assert!(p.check(Action::PeopleView, &inside).is_ok());
        assert!(matches!(
            p.check(Action::PeopleView, &outside),
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            p.check(Action::AuditView, &inside),
            Err(AppError::Forbidden)
        ));
    }

    #[test]
    fn own_scope_needs_a_person() {
        let mut p = principal(Role::Worker, Scope::Own);
        let mine = Place {
            person: Some(Uuid::from_u128(7)),
            ..Place::default()
        };
        assert!(p.sees(&mine));
        p.person_id = None;
        assert!(!p.sees(&mine));
        assert!(!p.sees(&Place::default()));
    }

    #[test]
    fn second_factor_for_sensitive_roles_only() {
        let need: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.requires_totp())
            .collect();
        assert_eq!(
            need,
            vec![Role::Investigator, Role::Prosecutor, Role::SystemAdmin]
        );
    }

    #[test]
    fn scope_cli_form() {
        assert_eq!(
            Scope::parse_cli("region:KZ-75"),
            Some(Scope::Region("KZ-75".into()))
        );
        assert_eq!(Scope::parse_cli("country"), Some(Scope::Country(None)));
        assert_eq!(Scope::parse_cli("facility:nope"), None);
        assert_eq!(Scope::parse_cli("galaxy"), None);
    }
}

#[cfg(test)]
mod doc_tests {
    use super::*;

    /// `docs/access.md` states the role x action table; it must say what `grants` does.
    #[test]
    fn access_doc_matches_grants() {
        let doc = include_str!("../../../../docs/access.md");
        let mut seen = 0;
        let header: Vec<&str> = doc
            .lines()
            .find(|l| l.starts_with("| action |"))
            .expect("actions table")
            .split('|')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        for line in doc.lines() {
            let cells: Vec<&str> = line
                .split('|')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            let Some(action) = cells
                .first()
                .and_then(|c| Action::ALL.into_iter().find(|a| a.code() == *c))
            else {
                continue;
            };
            seen += 1;
            for (i, cell) in cells.iter().enumerate().skip(1) {
                let role = Role::parse(header[i]).expect("role column");
                assert_eq!(
                    *cell == "✓",
                    grants(role, action),
                    "docs/access.md says {cell} for {} / {}",
                    action.code(),
                    role.code()
                );
            }
        }
        assert_eq!(seen, Action::ALL.len(), "every action has a row");
    }
}
