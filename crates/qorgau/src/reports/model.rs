//! Report records and the pure rules on what a reporter sends.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::i18n::Lang;
use crate::platform::time::Ts;
use crate::platform::validate::Check;
use crate::reports::service::When;

pub const NARRATIVE_MAX: usize = 20_000;
pub const WITNESSES_MAX: usize = 2_000;
pub const RELATED_MAX: usize = 20;
pub const SICK_LEAVE_MAX: u32 = 366;

/// How much of the reporter's identity the handlers get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Handlers see who reported.
    Named,
    /// The identity is sealed; an investigator may unseal it, stating why, and she is told.
    Confidential,
    /// No account; she comes back with a receipt.
    Anonymous,
}

impl Mode {
    pub fn code(self) -> &'static str {
        match self {
            Mode::Named => "named",
            Mode::Confidential => "confidential",
            Mode::Anonymous => "anonymous",
        }
    }
    pub fn parse(s: &str) -> Option<Mode> {
        [Mode::Named, Mode::Confidential, Mode::Anonymous]
            .into_iter()
            .find(|m| m.code() == s)
    }
}

/// What she wants done.
pub const WISHES: [&str; 6] = [
    "record_only",
    "mediation",
    "disciplinary",
    "police",
    "union_support",
    "legal_help",
];

/// A term from the taxonomy with its names; missing Kazakh or Kyrgyz names fall back to Russian.
#[derive(Clone, Debug)]
pub struct Term {
    pub id: String,
    pub en: String,
    pub ru: String,
    pub kk: String,
    pub ky: String,
}

impl Term {
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

pub struct Taxonomy {
    pub incident_types: Vec<Term>,
    pub perpetrators: Vec<Term>,
    pub places: Vec<Term>,
    /// Severity levels 0..=5, in order.
    pub severities: Vec<Term>,
}

fn terms(v: &serde_json::Value) -> Vec<Term> {
    let s = |t: &serde_json::Value, k: &str| t[k].as_str().unwrap_or_default().to_owned();
    v.as_array()
        .map(|a| {
            a.iter()
                .filter(|t| t["id"].is_string())
                .map(|t| Term {
                    id: s(t, "id"),
                    en: s(t, "en"),
                    ru: s(t, "ru"),
                    kk: s(t, "kk"),
                    ky: s(t, "ky"),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub static TAXONOMY: LazyLock<Taxonomy> = LazyLock::new(|| {
    let v: serde_json::Value =
        serde_json::from_str(include_str!("../../reference/taxonomy.json")).unwrap_or_default();
    Taxonomy {
        incident_types: terms(&v["incident_types"]),
        perpetrators: terms(&v["perpetrator_types"]),
        places: terms(&v["locations"]),
        severities: terms(&v["severity_scales"]["platform_default"]["levels"]),
    }
});

/// What a reporter sends (named or confidential; an account is needed for both).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ReportInput {
    /// `named` (default) or `confidential`.
    pub mode: String,
    /// Incident type ids from the taxonomy, at least one.
    pub types: Vec<String>,
    pub perpetrator: String,
    /// 0 (non-physical) to 5 (fatal), from the taxonomy's platform scale.
    pub severity: Option<u8>,
    pub injury: bool,
    pub sick_leave_days: Option<u32>,
    pub psychological_harm: bool,
    pub witnesses: String,
    /// Where: any facility (ambulance crews work everywhere); the reporter's own when absent.
    pub facility_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    /// Place type from the taxonomy (`ward`, `emergency_dept`, `patient_home` ...).
    pub place: String,
    /// Local wall-clock date-time at the facility, `YYYY-MM-DDTHH:MM`.
    pub occurred_local: String,
    pub wishes: Vec<String>,
    pub narrative: String,
    pub alarm_id: Option<Uuid>,
    /// Earlier reports this one follows up.
    pub related: Vec<Uuid>,
    /// Who is reporting: `self` (default, it happened to her), `witness`, or `representative`
    /// (a union representative on a member's behalf).
    pub relation: String,
    /// For a representative: how and when the member gave her consent (10 to 1000 characters).
    pub consent_record: String,
}

/// Who files a report in relation to the incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// It happened to the reporter.
    #[serde(rename = "self")]
    Own,
    Witness,
    /// A union representative on a member's behalf, with her recorded consent.
    Representative,
}

impl Relation {
    pub const ALL: [Relation; 3] = [Relation::Own, Relation::Witness, Relation::Representative];
    pub fn code(self) -> &'static str {
        match self {
            Relation::Own => "self",
            Relation::Witness => "witness",
            Relation::Representative => "representative",
        }
    }
    pub fn parse(s: &str) -> Option<Relation> {
        Relation::ALL.into_iter().find(|r| r.code() == s)
    }
}

pub const CONSENT_RECORD_MAX: usize = 1_000;

/// A checked report, ready to store.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckedReport {
    pub mode: Mode,
    pub types: Vec<String>,
    pub perpetrator: String,
    pub severity: u8,
    pub injury: bool,
    pub sick_leave_days: u32,
    pub psychological_harm: bool,
    pub witnesses: String,
    pub place: String,
    pub occurred_local: jiff::civil::DateTime,
    pub wishes: Vec<String>,
    pub narrative: String,
    pub alarm_id: Option<Uuid>,
    pub related: Vec<Uuid>,
    pub relation: Relation,
    pub consent_record: String,
}

fn known(list: &[Term], id: &str) -> bool {
    list.iter().any(|t| t.id == id)
}

impl ReportInput {
    /// Checks every field, naming each bad one; the facility is checked against the database
    /// by the caller.
    pub fn check(&self, c: &mut Check) -> Option<CheckedReport> {
        let t = &*TAXONOMY;
        // Anonymous reports come through their own route, which sets the mode itself.
        let mode = if self.mode.trim().is_empty() {
            Some(Mode::Named)
        } else {
            Mode::parse(self.mode.trim()).filter(|m| *m != Mode::Anonymous)
        };
        if mode.is_none() {
            c.fail("mode", "err-choice");
        }
        let mut types: Vec<String> = self.types.iter().map(|s| s.trim().to_owned()).collect();
        types.sort();
        types.dedup();
        if types.is_empty() {
            c.fail("types", "err-required");
        } else if types.len() > t.incident_types.len()
            || !types.iter().all(|x| known(&t.incident_types, x))
        {
            c.fail("types", "err-choice");
        }
        let perpetrator = self.perpetrator.trim().to_owned();
        if !known(&t.perpetrators, &perpetrator) {
            c.fail("perpetrator", "err-choice");
        }
        let severity = self.severity.unwrap_or(0);
        if usize::from(severity) >= t.severities.len() {
            c.fail("severity", "err-choice");
        }
        let sick_leave_days = self.sick_leave_days.unwrap_or(0);
        if sick_leave_days > SICK_LEAVE_MAX {
            c.fail("sick_leave_days", "err-invalid");
        }
        let witnesses = c.text("witnesses", &self.witnesses, 0, WITNESSES_MAX);
        let place = self.place.trim().to_owned();
        if !place.is_empty() && !known(&t.places, &place) {
            c.fail("place", "err-choice");
        }
        let occurred_local = self.occurred_local.trim().parse().ok();
        if occurred_local.is_none() {
            c.fail("occurred_local", "err-datetime");
        }
        let mut wishes: Vec<String> = self.wishes.iter().map(|s| s.trim().to_owned()).collect();
        wishes.sort();
        wishes.dedup();
        if !wishes.iter().all(|w| WISHES.contains(&w.as_str())) {
            c.fail("wishes", "err-choice");
        }
        let narrative = c.text("narrative", &self.narrative, 1, NARRATIVE_MAX);
        let mut related = self.related.clone();
        related.sort();
        related.dedup();
        if related.len() > RELATED_MAX {
            c.fail("related", "err-invalid");
        }
        let relation = match self.relation.trim() {
            "" => Some(Relation::Own),
            r => Relation::parse(r),
        };
        if relation.is_none() {
            c.fail("relation", "err-choice");
        }
        // Her consent is what lets a representative speak for her: it is recorded, or nothing is.
        let consent_record = if relation == Some(Relation::Representative) {
            c.text(
                "consent_record",
                &self.consent_record,
                10,
                CONSENT_RECORD_MAX,
            )
        } else {
            String::new()
        };
        if !c.errors.is_empty() {
            return None;
        }
        Some(CheckedReport {
            mode: mode?,
            types,
            perpetrator,
            severity,
            injury: self.injury,
            sick_leave_days,
            psychological_harm: self.psychological_harm,
            witnesses,
            place,
            occurred_local: occurred_local?,
            wishes,
            narrative,
            alarm_id: self.alarm_id,
            related,
            relation: relation?,
            consent_record,
        })
    }
}

/// An anonymous report: the report itself and, optionally, a passphrase she adds to her receipt.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AnonymousInput {
    #[serde(flatten)]
    pub report: ReportInput,
    pub passphrase: String,
}

/// The only time the receipt is shown.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Receipt {
    /// 16 digits; keep it: nobody, not even the handlers, can tell it to you again.
    pub receipt: String,
}

/// Coming back to an anonymous report.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ReceiptLookup {
    pub receipt: String,
    pub passphrase: String,
}

/// The digits of a receipt as typed (spaces and dashes allowed), or `None` if it cannot be one.
pub fn normalise_receipt(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (digits.len() == 16 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// A receipt shown in groups of four, easier to copy by hand.
pub fn format_receipt(digits: &str) -> String {
    digits
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// An anonymous report's id: the start of the day it arrived in the high 48 bits (which
/// `created_at` holds anyway), random below (UUID version 8). The id tells no finer time than the
/// day, and one day's reports sit together in every index keyed by id, so a burst of anonymous
/// reports dirties a few pages instead of pages all over the tables (bench/issue5.sh: the p99).
pub fn day_id(day: Ts) -> Uuid {
    let ms = u64::try_from(day.micros() / 1000).unwrap_or(0);
    let mut b: [u8; 16] = rand::random();
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    uuid::Builder::from_custom_bytes(b).into_uuid()
}

/// The start of the UTC day: an anonymous report keeps no finer time of filing.
pub fn day_of(t: Ts) -> Ts {
    const DAY: i64 = 86_400_000_000;
    Ts::from_micros(t.micros().div_euclid(DAY) * DAY)
}

/// Where a report is in its handling (`triage::rules` says which changes are allowed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    InTriage,
    /// Converted into a case; the case carries it on.
    CaseOpened,
    Closed,
    /// A duplicate, merged into another report that carries it on.
    Merged,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Received,
        Status::InTriage,
        Status::CaseOpened,
        Status::Closed,
        Status::Merged,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::InTriage => "in_triage",
            Status::CaseOpened => "case_opened",
            Status::Closed => "closed",
            Status::Merged => "merged",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.code() == s)
    }
}

/// Who reported, as handlers see it: the name for a named report, nothing for a confidential
/// one until it is unsealed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Reporter {
    pub user_id: Uuid,
    pub username: String,
    pub person_id: Option<Uuid>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Report {
    pub id: Uuid,
    pub mode: Mode,
    pub status: Status,
    /// Present for named reports only.
    pub reporter: Option<Reporter>,
    pub types: Vec<String>,
    pub perpetrator: String,
    pub severity: u8,
    pub injury: bool,
    pub sick_leave_days: u32,
    pub psychological_harm: bool,
    pub witnesses: String,
    pub facility_id: Uuid,
    pub department_id: Option<Uuid>,
    pub place: String,
    pub when: When,
    pub wishes: Vec<String>,
    pub narrative: String,
    pub alarm_id: Option<Uuid>,
    pub related: Vec<Uuid>,
    /// Her own incident, a witness's report, or a representative's on a member's behalf.
    pub relation: Relation,
    /// How the member gave a representative her consent to report.
    pub consent_record: Option<String>,
    #[schema(value_type = String)]
    pub created_at: Ts,
    /// Set while the reporter has withdrawn her consent to escalation (for an anonymous report,
    /// the day only): no referral outside the facility may be made (`reports::consent`).
    #[schema(value_type = Option<String>)]
    pub escalation_withdrawn_at: Option<Ts>,
}

/// Giving or withdrawing consent to escalation, from the reporter.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct ConsentInput {
    /// `false` withdraws consent to escalation, `true` gives it again.
    pub escalation: bool,
}

/// The same from an anonymous reporter, with her receipt.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct AnonymousConsent {
    pub receipt: String,
    #[serde(default)]
    pub passphrase: String,
    #[serde(default)]
    pub escalation: bool,
}

/// A message between the reporter and the handlers.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Message {
    pub seq: i64,
    pub from_reporter: bool,
    /// Staff member's username and role; absent for the reporter.
    pub author: Option<String>,
    pub body: String,
    /// For an anonymous reporter's messages, the day only.
    #[schema(value_type = String)]
    pub at: Ts,
}

pub const MESSAGE_MAX: usize = 5_000;

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct MessageInput {
    pub body: String,
}

/// A message from an anonymous reporter: her receipt (and passphrase) with it.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AnonymousMessage {
    pub receipt: String,
    pub passphrase: String,
    pub body: String,
}

/// What an anonymous reporter sees with her receipt.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AnonymousView {
    pub report: Report,
    pub messages: Vec<Message>,
    pub access_log: Vec<AccessEntry>,
    /// Received, then every status change (handling: `triage`).
    pub timeline: Vec<crate::triage::model::TimelineEntry>,
    /// Files she added (their metadata removed).
    pub attachments: Vec<crate::reports::attachments::Attachment>,
}

/// One staff read or action on a report, as the reporter sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AccessEntry {
    #[schema(value_type = String)]
    pub at: Ts,
    /// Username and role of the staff member.
    pub who: String,
    pub action: String,
    pub reason: Option<String>,
}

/// What a staff member sees of who reported, after unsealing.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, PartialEq)]
pub struct SealedIdentity {
    pub user_id: Uuid,
    pub username: String,
    pub person_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UnsealInput {
    /// Why the identity is needed; the reporter reads it.
    pub reason: String,
}

impl UnsealInput {
    pub fn check(&self, c: &mut Check) -> String {
        c.text("reason", &self.reason, 10, 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_ids_tell_the_day_and_nothing_finer() {
        let day = day_of(Ts::from_micros(1_774_000_000_123_456));
        let (a, b) = (day_id(day), day_id(day));
        assert_ne!(a, b);
        assert_eq!(a.as_bytes()[..6], b.as_bytes()[..6]);
        assert_eq!(a.get_version_num(), 8);
        let ms = u64::try_from(day.micros() / 1000).expect("ms");
        assert_eq!(a.as_bytes()[..6], ms.to_be_bytes()[2..]);
        // The next day sorts after.
        let next = day_id(day.add_secs(86_400));
        assert!(next > a && next > b);
    }

    fn good() -> ReportInput {
        ReportInput {
            types: vec![
                "psychological.verbal_abuse".into(),
                "physical.assault".into(),
                "physical.assault".into(),
            ],
            perpetrator: "relative_companion".into(),
            severity: Some(2),
            occurred_local: "2024-03-21T03:00".into(),
            wishes: vec!["police".into(), "union_support".into()],
            narrative: "He pushed me against the door.".into(),
            ..Default::default()
        }
    }

    #[test]
    fn taxonomy_loads() {
        let t = &*TAXONOMY;
        assert!(t.incident_types.len() >= 10);
        assert!(known(&t.perpetrators, "unknown"));
        assert!(known(&t.places, "patient_home"));
        assert_eq!(t.severities.len(), 6);
        assert!(
            t.incident_types
                .iter()
                .all(|x| !x.name(Lang::Ky).is_empty())
        );
    }

    #[test]
    fn a_good_report_is_normalised() {
        let mut c = Check::new();
        let r = good().check(&mut c).expect("valid");
        assert!(c.errors.is_empty());
        assert_eq!(r.mode, Mode::Named);
        assert_eq!(r.types, ["physical.assault", "psychological.verbal_abuse"]);
        assert_eq!(r.occurred_local.to_string(), "2024-03-21T03:00:00");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut c = Check::new();
        let r = ReportInput {
            mode: "loud".into(),
            types: vec!["alien".into()],
            perpetrator: "ghost".into(),
            severity: Some(6),
            sick_leave_days: Some(400),
            witnesses: "x".repeat(WITNESSES_MAX + 1),
            place: "moon".into(),
            occurred_local: "yesterday".into(),
            wishes: vec!["revenge".into()],
            narrative: "x".repeat(NARRATIVE_MAX + 1),
            related: (0..=RELATED_MAX).map(|_| Uuid::now_v7()).collect(),
            ..Default::default()
        }
        .check(&mut c);
        assert!(r.is_none());
        let fields: Vec<_> = c.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "mode",
                "types",
                "perpetrator",
                "severity",
                "sick_leave_days",
                "witnesses",
                "place",
                "occurred_local",
                "wishes",
                "narrative",
                "related"
            ]
        );
    }

    #[test]
    fn receipts_are_sixteen_digits_however_typed() {
        assert_eq!(
            normalise_receipt("1234 5678-9012 3456").as_deref(),
            Some("1234567890123456")
        );
        for bad in [
            "",
            "123456789012345",
            "12345678901234567",
            "1234 5678 9012 345x",
            "１２３４５６７８９０１２３４５６",
        ] {
            assert_eq!(normalise_receipt(bad), None, "{bad}");
        }
        assert_eq!(format_receipt("1234567890123456"), "1234 5678 9012 3456");
    }

    #[test]
    fn filing_time_is_kept_to_the_day() {
        let t = Ts::try_from("2026-11-23T19:55:41.123Z".to_owned()).expect("valid");
        assert_eq!(day_of(t).rfc3339(), "2026-11-23T00:00:00Z");
        assert_eq!(day_of(day_of(t)), day_of(t));
    }

    #[test]
    fn the_account_route_does_not_take_anonymous_reports() {
        let mut c = Check::new();
        let mut i = good();
        i.mode = "anonymous".into();
        assert!(i.check(&mut c).is_none());
        assert_eq!(c.errors[0].field, "mode");
    }

    #[test]
    fn the_narrative_may_be_exactly_the_limit() {
        let mut c = Check::new();
        let mut i = good();
        i.narrative = "я".repeat(NARRATIVE_MAX);
        assert!(i.check(&mut c).is_some());
        let mut c = Check::new();
        i.types.clear();
        assert!(i.check(&mut c).is_none());
        assert_eq!(c.errors[0].field, "types");
    }
}
