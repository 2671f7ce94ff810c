//! Pure rules of notifications: a facility's escalation policy and its validation, what a
//! notification says, and the webhook signature.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::platform::error::FieldError;

/// Whom an escalation step tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The facility's administrators (role facility_admin, facility scope); those on duty by the
    /// roster when any is.
    FacilityDutyAdmin,
    /// The heads of the alarm's department, or of every department when it has none; those on
    /// duty by the roster when any is.
    DepartmentHead,
    /// The facility's security guards; those on duty by the roster when any is.
    SecurityPost,
    /// Regional health officers (role regional_health) of the facility's region.
    RegionalDutyOfficer,
}

impl Target {
    pub const ALL: [Target; 4] = [
        Target::FacilityDutyAdmin,
        Target::DepartmentHead,
        Target::SecurityPost,
        Target::RegionalDutyOfficer,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Target::FacilityDutyAdmin => "facility_duty_admin",
            Target::DepartmentHead => "department_head",
            Target::SecurityPost => "security_post",
            Target::RegionalDutyOfficer => "regional_duty_officer",
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.code() == s)
    }

    /// The message id of its name.
    pub fn label_id(self) -> &'static str {
        match self {
            Target::FacilityDutyAdmin => "notify-target-facility-duty-admin",
            Target::DepartmentHead => "notify-target-department-head",
            Target::SecurityPost => "notify-target-security-post",
            Target::RegionalDutyOfficer => "notify-target-regional-duty-officer",
        }
    }
}

/// Whom of `subs` to tell: those whose person is on duty now by the roster, or, when none of
/// them is (no roster kept, nobody linked to the directory, a gap between shifts), all of them.
/// Someone is always told; people off shift are not woken while a colleague is on it.
pub fn on_duty_first<T>(
    subs: Vec<T>,
    person: impl Fn(&T) -> Option<Uuid>,
    on_duty: &std::collections::HashSet<Uuid>,
) -> Vec<T> {
    if subs
        .iter()
        .any(|s| person(s).is_some_and(|p| on_duty.contains(&p)))
    {
        subs.into_iter()
            .filter(|s| person(s).is_some_and(|p| on_duty.contains(&p)))
            .collect()
    } else {
        subs
    }
}

/// One step: this many seconds after the previous step (the first: after the press) without an
/// acknowledgement, tell `target`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Step {
    pub after_secs: i64,
    pub target: Target,
}

pub const MIN_STEPS: usize = 1;
pub const MAX_STEPS: usize = 6;
/// An hour: a step later than that is not escalation any more.
pub const MAX_STEP_SECS: i64 = 3600;

/// Thirty seconds to the facility's duty administrator, then a minute more to the region.
pub const DEFAULT_POLICY: [Step; 2] = [
    Step {
        after_secs: 30,
        target: Target::FacilityDutyAdmin,
    },
    Step {
        after_secs: 60,
        target: Target::RegionalDutyOfficer,
    },
];

/// A step as sent: the target by its code, so that an unknown one is a field error, not a
/// malformed body.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct StepInput {
    pub after_secs: i64,
    pub target: String,
}

/// Checks a policy; field names are `steps`, `steps[i].after_secs`, `steps[i].target`.
pub fn validate_policy(steps: &[StepInput]) -> Result<Vec<Step>, Vec<FieldError>> {
    let mut errors = vec![];
    if steps.len() < MIN_STEPS || steps.len() > MAX_STEPS {
        errors.push(FieldError::new("steps", "notify-err-step-count"));
    }
    let mut out = vec![];
    for (i, s) in steps.iter().enumerate().take(MAX_STEPS) {
        if s.after_secs <= 0 || s.after_secs > MAX_STEP_SECS {
            errors.push(FieldError::new(
                &format!("steps[{i}].after_secs"),
                "notify-err-step-secs",
            ));
        }
        match Target::parse(s.target.trim()) {
            Some(target) => out.push(Step {
                after_secs: s.after_secs,
                target,
            }),
            None => errors.push(FieldError::new(&format!("steps[{i}].target"), "err-choice")),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// What happened, as every channel tells it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// `alarm.raised` or `alarm.escalated`.
    pub event: String,
    pub alarm_id: Uuid,
    pub facility_id: Uuid,
    pub region_id: String,
    pub department_id: Option<Uuid>,
    pub kind: String,
    pub room: String,
    pub floor: String,
    /// The escalation step (1 for the first); 0 for a new alarm.
    pub level: i64,
    /// Whom the step tells; empty for a new alarm (its facility's guards and administrators).
    pub target: String,
    /// Microseconds since the epoch.
    pub at: i64,
}

pub const EVENT_RAISED: &str = "alarm.raised";
pub const EVENT_ESCALATED: &str = "alarm.escalated";
pub const EVENTS: [&str; 2] = [EVENT_RAISED, EVENT_ESCALATED];

/// The webhook signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
/// The timestamp inside the signed text lets a receiver refuse old replays.
pub fn signature(secret: &[u8], unix: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(unix.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("t={unix},v1={}", hex::encode(ctx.sign().as_ref()))
}

/// Seconds before retry `attempt` (1 after the first failure): 10 s doubling, at most an hour.
pub fn backoff_secs(attempt: i64) -> i64 {
    let exp = attempt.clamp(1, 20) - 1;
    (10i64 << exp).min(3600)
}

/// A webhook gives up after this many attempts (about 2 h 40 min of trying).
pub const MAX_ATTEMPTS: i64 = 12;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn those_on_duty_are_told_else_everyone() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let subs = vec![(1, Some(a)), (2, Some(b)), (3, None), (4, Some(a))];
        let on: std::collections::HashSet<Uuid> = [a].into();
        let told = on_duty_first(subs.clone(), |s| s.1, &on);
        assert_eq!(told.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 4]);
        // Nobody on duty (or nobody linked to the roster): all of them.
        let nobody = std::collections::HashSet::new();
        assert_eq!(on_duty_first(subs.clone(), |s| s.1, &nobody), subs);
        let other: std::collections::HashSet<Uuid> = [Uuid::from_u128(9)].into();
        assert_eq!(on_duty_first(subs.clone(), |s| s.1, &other), subs);
        assert!(on_duty_first(Vec::<(i32, Option<Uuid>)>::new(), |s| s.1, &on).is_empty());
    }

    fn s(secs: i64, t: &str) -> StepInput {
        StepInput {
            after_secs: secs,
            target: t.into(),
        }
    }

    #[test]
    fn a_good_policy_passes_in_order() {
        let p = validate_policy(&[s(30, "facility_duty_admin"), s(60, "regional_duty_officer")])
            .expect("valid");
        assert_eq!(p, DEFAULT_POLICY.to_vec());
    }

    #[test]
    fn bad_policies_name_the_field() {
        let codes = |v: &[StepInput]| -> Vec<(String, String)> {
            validate_policy(v)
                .expect_err("invalid")
                .into_iter()
                .map(|e| (e.field, e.code))
                .collect()
        };
        assert_eq!(
            codes(&[]),
            vec![("steps".into(), "notify-err-step-count".into())]
        );
        assert_eq!(
            codes(&vec![s(5, "security_post"); 7])[0],
            ("steps".into(), "notify-err-step-count".into())
        );
        assert_eq!(
            codes(&[s(0, "security_post"), s(3601, "nobody")]),
            vec![
                ("steps[0].after_secs".into(), "notify-err-step-secs".into()),
                ("steps[1].after_secs".into(), "notify-err-step-secs".into()),
                ("steps[1].target".into(), "err-choice".into()),
            ]
        );
        assert!(validate_policy(&[s(3600, "department_head")]).is_ok());
    }

    #[test]
    fn signature_matches_a_known_hmac() {
        // HMAC-SHA256(key "secret", "1700000000.{}") computed with `openssl dgst -sha256 -hmac`.
        assert_eq!(
            signature(b"secret", 1_700_000_000, b"{}"),
            "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }

    proptest! {
        #[test]
        fn backoff_grows_and_is_capped(a in 1i64..100) {
            prop_assert!(backoff_secs(a) >= 10);
            prop_assert!(backoff_secs(a) <= 3600);
            prop_assert!(backoff_secs(a + 1) >= backoff_secs(a));
        }

        #[test]
        fn steps_in_range_with_known_targets_pass(secs in proptest::collection::vec(1i64..=3600, 1..=6), t in 0usize..4) {
            let v: Vec<StepInput> = secs.iter().map(|x| s(*x, Target::ALL[t].code())).collect();
            prop_assert_eq!(validate_policy(&v).expect("valid").len(), v.len());
        }
    }
}
