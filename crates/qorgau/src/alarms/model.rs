//! Alarms and the pure rules of their life: where they come from, which changes are allowed in
//! which state, and how long each step took.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::time::Ts;

/// Where a press came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The phone button (PWA) or any API client.
    Phone,
    Mqtt,
    /// An alarm panel speaking SIA DC-09.
    Panel,
    /// Raised by Qorgau itself (a silent panel).
    System,
}

impl Source {
    pub fn code(self) -> &'static str {
        match self {
            Source::Phone => "phone",
            Source::Mqtt => "mqtt",
            Source::Panel => "panel",
            Source::System => "system",
        }
    }
    pub fn parse(s: &str) -> Option<Source> {
        [Source::Phone, Source::Mqtt, Source::Panel, Source::System]
            .into_iter()
            .find(|x| x.code() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Panic,
    /// A duress code: looks like a cancel to whoever watches, escalates at once.
    Duress,
    /// A panel stopped sending its supervision messages.
    PanelSilent,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Panic => "panic",
            Kind::Duress => "duress",
            Kind::PanelSilent => "panel_silent",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Panic, Kind::Duress, Kind::PanelSilent]
            .into_iter()
            .find(|x| x.code() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Raised,
    Acknowledged,
    Dispatched,
    OnScene,
    Resolved,
}

impl State {
    pub fn code(self) -> &'static str {
        match self {
            State::Raised => "raised",
            State::Acknowledged => "acknowledged",
            State::Dispatched => "dispatched",
            State::OnScene => "on_scene",
            State::Resolved => "resolved",
        }
    }
    pub fn parse(s: &str) -> Option<State> {
        [
            State::Raised,
            State::Acknowledged,
            State::Dispatched,
            State::OnScene,
            State::Resolved,
        ]
        .into_iter()
        .find(|x| x.code() == s)
    }
    pub fn is_open(self) -> bool {
        self != State::Resolved
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    FalseAlarm,
    DeEscalated,
    RemovedBySecurity,
    PoliceAttended,
    Injury,
    /// The person who pressed said she is safe before anyone arrived.
    StoodDown,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::FalseAlarm,
        Outcome::DeEscalated,
        Outcome::RemovedBySecurity,
        Outcome::PoliceAttended,
        Outcome::Injury,
        Outcome::StoodDown,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Outcome::FalseAlarm => "false_alarm",
            Outcome::DeEscalated => "de_escalated",
            Outcome::RemovedBySecurity => "removed_by_security",
            Outcome::PoliceAttended => "police_attended",
            Outcome::Injury => "injury",
            Outcome::StoodDown => "stood_down",
        }
    }
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|x| x.code() == s)
    }
}

/// Emergency services whose call is recorded (Kazakhstan and Kyrgyzstan numbers).
pub const SERVICES: &[&str] = &["102", "103", "112"];

/// What a responder does to an alarm.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Act {
    Acknowledge,
    /// Names of the guards sent.
    Dispatch {
        guards: Vec<String>,
    },
    OnScene,
    /// `102` police, `103` ambulance, `112` single emergency number.
    Called {
        service: String,
    },
    Note {
        text: String,
    },
    Resolve {
        outcome: Outcome,
        #[serde(default)]
        note: String,
    },
}

impl Act {
    pub fn code(&self) -> &'static str {
        match self {
            Act::Acknowledge => "acknowledged",
            Act::Dispatch { .. } => "dispatched",
            Act::OnScene => "on_scene",
            Act::Called { .. } => "called",
            Act::Note { .. } => "note",
            Act::Resolve { .. } => "resolved",
        }
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the alarm is resolved")]
    Closed,
    #[error("not possible in this state")]
    WrongState,
    #[error("bad field {0}")]
    Field(&'static str, &'static str),
}

/// The state after `act`, or why it is refused. Notes and calls never change the state; every
/// forward step may be skipped (a guard can arrive before anyone acknowledged on screen).
pub fn next_state(state: State, act: &Act) -> Result<State, Refused> {
    if state == State::Resolved {
        return Err(Refused::Closed);
    }
    let rank = |s: State| match s {
        State::Raised => 0,
        State::Acknowledged => 1,
        State::Dispatched => 2,
        State::OnScene => 3,
        State::Resolved => 4,
    };
    let to = match act {
        Act::Acknowledge => State::Acknowledged,
        Act::Dispatch { guards } => {
            if guards.is_empty()
                || guards
                    .iter()
                    .any(|g| g.trim().is_empty() || g.chars().count() > 100)
                || guards.len() > 20
            {
                return Err(Refused::Field("guards", "err-guards"));
            }
            State::Dispatched
        }
        Act::OnScene => State::OnScene,
        Act::Called { service } => {
            if !SERVICES.contains(&service.as_str()) {
                return Err(Refused::Field("service", "err-choice"));
            }
            return Ok(state);
        }
        Act::Note { text } => {
            let n = text.trim().chars().count();
            if n == 0 || n > 2000 {
                return Err(Refused::Field(
                    "text",
                    if n == 0 {
                        "err-required"
                    } else {
                        "err-too-long"
                    },
                ));
            }
            return Ok(state);
        }
        Act::Resolve { note, .. } => {
            if note.chars().count() > 2000 {
                return Err(Refused::Field("note", "err-too-long"));
            }
            State::Resolved
        }
    };
    if rank(to) < rank(state) || (to == state && !matches!(act, Act::Dispatch { .. })) {
        return Err(Refused::WrongState);
    }
    Ok(to)
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Alarm {
    pub id: Uuid,
    pub facility_id: Uuid,
    pub department_id: Option<Uuid>,
    pub source: Source,
    /// Device id, panel account, or account name.
    pub source_ref: String,
    pub kind: Kind,
    pub state: State,
    pub outcome: Option<Outcome>,
    pub room: String,
    pub floor: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub silent: bool,
    pub pressed_by: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub pressed_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Ts,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acked_at: Option<Ts>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub on_scene_at: Option<Ts>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Ts>,
    /// Escalation steps already taken.
    pub escalation_level: i64,
    /// The security post that answers it (covering its department, else the rest of the
    /// facility), chosen when it was raised.
    pub post_id: Option<Uuid>,
    /// Whom the last escalation step told (`facility_duty_admin`, `department_head`,
    /// `security_post`, `regional_duty_officer`); empty before the first step.
    pub escalation_target: String,
    #[serde(skip)]
    pub region_id: String,
}

impl Alarm {
    pub fn place(&self) -> crate::platform::access::Place {
        crate::platform::access::Place {
            country: self.region_id.split('-').next().unwrap_or("").to_owned(),
            region: self.region_id.clone(),
            facility: Some(self.facility_id),
            department: self.department_id,
            person: None,
        }
    }
    /// Seconds from the press to acknowledgement and to arrival, when they happened.
    pub fn response_secs(&self) -> (Option<f64>, Option<f64>) {
        let secs = |t: Option<Ts>| t.map(|t| (t.micros() - self.pressed_at.micros()) as f64 / 1e6);
        (secs(self.acked_at), secs(self.on_scene_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn forward_steps_and_skips_are_allowed() {
        assert_eq!(
            next_state(State::Raised, &Act::Acknowledge),
            Ok(State::Acknowledged)
        );
        assert_eq!(next_state(State::Raised, &Act::OnScene), Ok(State::OnScene));
        assert_eq!(
            next_state(
                State::Acknowledged,
                &Act::Dispatch {
                    guards: vec!["Ерлан".into()]
                }
            ),
            Ok(State::Dispatched)
        );
        assert_eq!(
            next_state(
                State::Dispatched,
                &Act::Dispatch {
                    guards: vec!["Бакыт".into()]
                }
            ),
            Ok(State::Dispatched),
            "more guards may be sent"
        );
        assert_eq!(
            next_state(
                State::Raised,
                &Act::Resolve {
                    outcome: Outcome::FalseAlarm,
                    note: String::new()
                }
            ),
            Ok(State::Resolved)
        );
    }

    #[test]
    fn backwards_repeats_and_closed_are_refused() {
        assert_eq!(
            next_state(State::OnScene, &Act::Acknowledge),
            Err(Refused::WrongState)
        );
        assert_eq!(
            next_state(State::Acknowledged, &Act::Acknowledge),
            Err(Refused::WrongState)
        );
        assert_eq!(
            next_state(State::Resolved, &Act::Note { text: "x".into() }),
            Err(Refused::Closed)
        );
    }

    #[test]
    fn calls_and_notes_keep_the_state_and_check_their_fields() {
        assert_eq!(
            next_state(
                State::Raised,
                &Act::Called {
                    service: "102".into()
                }
            ),
            Ok(State::Raised)
        );
        assert!(
            next_state(
                State::Raised,
                &Act::Called {
                    service: "911".into()
                }
            )
            .is_err()
        );
        assert!(next_state(State::Raised, &Act::Note { text: "  ".into() }).is_err());
        assert!(next_state(State::Raised, &Act::Dispatch { guards: vec![] }).is_err());
    }

    fn any_act() -> impl Strategy<Value = Act> {
        prop_oneof![
            Just(Act::Acknowledge),
            Just(Act::OnScene),
            prop::collection::vec(".{0,5}", 0..3).prop_map(|guards| Act::Dispatch { guards }),
            "[0-9]{3}".prop_map(|service| Act::Called { service }),
            ".{0,5}".prop_map(|text| Act::Note { text }),
            (0usize..6).prop_map(|i| Act::Resolve {
                outcome: Outcome::ALL[i],
                note: String::new()
            }),
        ]
    }

    proptest! {
        /// Whatever responders do, an alarm never goes back a step and nothing follows resolution.
        #[test]
        fn never_backwards(acts in prop::collection::vec(any_act(), 0..30)) {
            let rank = |s: State| [State::Raised, State::Acknowledged, State::Dispatched, State::OnScene, State::Resolved]
                .iter().position(|x| *x == s).unwrap_or(0);
            let mut s = State::Raised;
            for a in &acts {
                if let Ok(n) = next_state(s, a) {
                    prop_assert!(rank(n) >= rank(s));
                    prop_assert!(s != State::Resolved);
                    s = n;
                }
            }
        }
    }
}
