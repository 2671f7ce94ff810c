//! What handlers send and read while triaging reports.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::platform::time::Ts;
use crate::reports::model::{Mode, Status};

/// Which queue: every report in the caller's scope, or those whose reporter asked for the
/// union's support.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    #[default]
    Facility,
    Union,
}

/// Filters of the triage queue (`GET /api/v1/triage`).
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct QueueParams {
    /// `facility` (default for investigators) or `union` (default for union representatives).
    pub queue: Option<QueueKind>,
    pub status: Option<Status>,
    /// Only reports still to handle (received or in triage).
    pub open: Option<bool>,
    /// `me`, `none`, or an account id.
    pub assignee: Option<String>,
    pub mode: Option<Mode>,
    /// A taxonomy id; a parent type also finds its children.
    pub r#type: Option<String>,
    pub min_severity: Option<u8>,
    /// Only reports with a mandatory notification past its deadline.
    pub overdue: Option<bool>,
    pub facility: Option<Uuid>,
    /// 1 to 200 (default 50).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// The checked filters as the store applies them.
#[derive(Clone, Debug, Default)]
pub struct QueueQuery {
    pub status: Option<Status>,
    pub open: bool,
    pub unassigned: bool,
    pub mode: Option<Mode>,
    pub r#type: Option<String>,
    pub min_severity: Option<u8>,
    pub union: bool,
    pub overdue: bool,
    pub facility: Option<Uuid>,
}

/// One report in the queue: what triage needs, without the narrative or the reporter (opening
/// the report is the audited read that shows them).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct QueueItem {
    pub id: Uuid,
    pub mode: Mode,
    pub status: Status,
    pub facility_id: Uuid,
    pub facility_name: String,
    pub department_id: Option<Uuid>,
    pub types: Vec<String>,
    pub severity: u8,
    pub injury: bool,
    /// The reporter asked for the union's support.
    pub union_support: bool,
    /// Wall-clock time at the facility.
    pub occurred_local: String,
    pub tz: String,
    #[schema(value_type = String)]
    pub created_at: Ts,
    pub escalation_withdrawn: bool,
    pub assignee_id: Option<Uuid>,
    pub assignee: Option<String>,
    pub merged_into: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub duties_open: i64,
    pub duties_overdue: i64,
    #[schema(value_type = Option<String>)]
    pub next_due: Option<Ts>,
    pub overdue: bool,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Queue {
    pub queue: QueueKind,
    pub items: Vec<QueueItem>,
    pub limit: i64,
    pub offset: i64,
}

/// A status the report reached, as its reporter sees it: no names (her access log names who).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub status: Status,
    #[schema(value_type = String)]
    pub at: Ts,
}

/// An internal note: handlers only, never the reporter.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Note {
    pub seq: i64,
    /// Username and role of its author.
    pub author: String,
    pub body: String,
    #[schema(value_type = String)]
    pub at: Ts,
}

pub const NOTE_MAX: usize = 5_000;

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NoteInput {
    pub body: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct StatusInput {
    /// `in_triage` or `closed` (merging and opening a case have their own routes).
    pub status: Status,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AssignInput {
    /// An account that may handle this report; absent or null to unassign.
    pub assignee_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct MergeInput {
    /// The report that carries this duplicate on.
    pub into: Option<Uuid>,
    /// Why they are the same incident (10 to 1000 characters).
    pub reason: String,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CaseInput {
    /// A short title (3 to 200 characters).
    pub title: String,
}

/// A mandatory notification a report started.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Duty {
    pub id: Uuid,
    pub report_id: Uuid,
    pub rule_id: String,
    /// The body to notify (an id from `emergency-and-escalation.csv`).
    pub body: String,
    pub external: bool,
    #[schema(value_type = String)]
    pub due_at: Ts,
    #[schema(value_type = Option<String>)]
    pub done_at: Option<Ts>,
    pub done_by: Option<String>,
    pub reference: Option<String>,
    /// When it was found overdue and escalated.
    #[schema(value_type = Option<String>)]
    pub escalated_at: Option<Ts>,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DutyDoneInput {
    /// The outgoing letter's or registration's number, or how the body was told (1 to 200).
    pub reference: String,
}

/// Everything a handler sees to triage one report.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Triage {
    pub report_id: Uuid,
    pub status: Status,
    pub assignee_id: Option<Uuid>,
    pub assignee: Option<String>,
    pub merged_into: Option<Uuid>,
    /// Reports merged into this one.
    pub duplicates: Vec<Uuid>,
    pub case_id: Option<Uuid>,
    pub escalation_allowed: bool,
    pub notes: Vec<Note>,
    pub duties: Vec<Duty>,
    pub timeline: Vec<TimelineEntry>,
}

/// Overdue mandatory notifications at one facility: what the escalation dashboard shows.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OverdueCount {
    pub facility_id: Uuid,
    pub facility_name: String,
    pub region_id: String,
    pub overdue: i64,
    #[schema(value_type = String)]
    pub oldest_due: Ts,
}

/// A case opened from one or more reports.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CaseSummary {
    pub id: Uuid,
    pub facility_id: Uuid,
    pub department_id: Option<Uuid>,
    pub title: String,
    pub status: String,
    /// Username of whoever opened it.
    pub created_by: String,
    #[schema(value_type = String)]
    pub created_at: Ts,
    pub reports: Vec<Uuid>,
}

/// A country's mandatory-notification rules.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DutyRules {
    pub country: String,
    /// `true` while the compiled-in defaults apply.
    #[serde(default)]
    pub defaults: bool,
    pub rules: Vec<crate::triage::rules::DutyRule>,
}
