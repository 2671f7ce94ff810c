//! The pure rules of handling a report: which status changes a handler may make, and which
//! mandatory notifications a report starts, to whom, due when. No I/O here, so both are table-
//! and property-tested.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::platform::time::Ts;
use crate::platform::validate::Check;
use crate::reports::model::Status;

/// Whether a handler may move a report from `from` to `to` by hand. Opening a case and merging
/// have their own actions (they carry a target), and a merged report or an opened case is not
/// reopened from triage: the report that absorbed it, or the case, carries it on.
pub fn can_set(from: Status, to: Status) -> bool {
    use Status::*;
    matches!(
        (from, to),
        (Received, InTriage) | (Received, Closed) | (InTriage, Closed) | (Closed, InTriage)
    )
}

/// Whether a report in this status may still be merged into another or opened as a case.
pub fn open(s: Status) -> bool {
    matches!(s, Status::Received | Status::InTriage)
}

/// One mandatory-notification rule: a report matching it obliges the handlers to notify `body`
/// within `hours`. A rule with no condition matches every report; otherwise any one condition
/// that holds is enough.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DutyRule {
    /// Unique within the country, e.g. `police`.
    pub id: String,
    /// The body to notify: an `id` from `emergency-and-escalation.csv` (police, prosecutor,
    /// regional_health_dept, labour_inspection, facility_head ...).
    pub body: String,
    /// Taxonomy ids; a report with any of them matches. Empty: no condition on types.
    #[serde(default)]
    pub types: Vec<String>,
    /// A report of at least this severity matches. Absent: no condition on severity.
    #[serde(default)]
    pub min_severity: Option<u8>,
    /// A report with an injury matches.
    #[serde(default)]
    pub injury: bool,
    /// Hours from the report's arrival to the deadline (1 to 720).
    pub hours: u32,
    /// Outside the facility: never made while the reporter has withdrawn her consent.
    pub external: bool,
}

/// What of a report the rules look at.
pub struct Facts<'a> {
    pub types: &'a [String],
    pub severity: u8,
    pub injury: bool,
}

impl DutyRule {
    pub fn applies(&self, f: &Facts) -> bool {
        let conditions = !self.types.is_empty() || self.min_severity.is_some() || self.injury;
        if !conditions {
            return true;
        }
        let by_type = self.types.iter().any(|t| {
            f.types
                .iter()
                .any(|x| x == t || x.starts_with(&format!("{t}.")))
        });
        let by_severity = self.min_severity.is_some_and(|m| f.severity >= m);
        by_type || by_severity || (self.injury && f.injury)
    }

    /// The deadline for a report that arrived at `from`.
    pub fn due(&self, from: Ts) -> Ts {
        from.add_secs(i64::from(self.hours) * 3600)
    }
}

/// The rules that a report starts, in their order.
pub fn duties_for<'r>(rules: &'r [DutyRule], f: &Facts) -> Vec<&'r DutyRule> {
    rules.iter().filter(|r| r.applies(f)).collect()
}

/// Validates a country's whole rule list as an administrator sends it; `bodies` are the ids
/// that country's escalation table knows.
pub fn check_rules(rules: &[DutyRule], bodies: &[&str], taxonomy: &dyn Fn(&str) -> bool) -> Check {
    let mut c = Check::new();
    if rules.len() > 100 {
        c.fail("rules", "err-invalid");
    }
    let mut seen = std::collections::HashSet::new();
    for (i, r) in rules.iter().enumerate() {
        let at = |f: &str| format!("rules[{i}].{f}");
        let id_ok = !r.id.is_empty()
            && r.id.len() <= 40
            && r.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !id_ok {
            c.fail(&at("id"), "err-invalid");
        } else if !seen.insert(r.id.as_str()) {
            c.fail(&at("id"), "err-duplicate");
        }
        if !bodies.contains(&r.body.as_str()) {
            c.fail(&at("body"), "err-choice");
        }
        if r.types.iter().any(|t| !taxonomy(t)) {
            c.fail(&at("types"), "err-choice");
        }
        if r.min_severity.is_some_and(|s| s > 5) {
            c.fail(&at("min_severity"), "err-range");
        }
        if !(1..=720).contains(&r.hours) {
            c.fail(&at("hours"), "err-range");
        }
    }
    c
}

/// Parses the compiled-in defaults (`reference/duty-rules.csv`) for one country.
pub fn parse_defaults(csv_text: &str, country: &str) -> Vec<DutyRule> {
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let Ok(headers) = rd.headers().cloned() else {
        return vec![];
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(c), Some(id), Some(body), Some(types), Some(sev), Some(inj), Some(hours), Some(ext)) = (
        col("country"),
        col("id"),
        col("body"),
        col("types"),
        col("min_severity"),
        col("injury"),
        col("hours"),
        col("external"),
    ) else {
        return vec![];
    };
    rd.records()
        .filter_map(Result::ok)
        .filter(|r| r.get(c) == Some(country))
        .filter_map(|r| {
            Some(DutyRule {
                id: r.get(id)?.to_string(),
                body: r.get(body)?.to_string(),
                types: r
                    .get(types)?
                    .split('|')
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect(),
                min_severity: r.get(sev)?.parse().ok(),
                injury: r.get(inj)? == "1",
                hours: r.get(hours)?.parse().ok()?,
                external: r.get(ext)? == "1",
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: &str = include_str!("../../reference/duty-rules.csv");

    fn facts<'a>(types: &'a [String], severity: u8, injury: bool) -> Facts<'a> {
        Facts {
            types,
            severity,
            injury,
        }
    }

    #[test]
    fn status_changes_by_hand() {
        use Status::*;
        let table = [
            (Received, InTriage, true),
            (Received, Closed, true),
            (InTriage, Closed, true),
            (Closed, InTriage, true),
            (InTriage, Received, false),
            (Closed, Received, false),
            (Received, CaseOpened, false),
            (Received, Merged, false),
            (Merged, InTriage, false),
            (Merged, Closed, false),
            (CaseOpened, Closed, false),
            (CaseOpened, InTriage, false),
            (InTriage, InTriage, false),
        ];
        for (from, to, ok) in table {
            assert_eq!(can_set(from, to), ok, "{from:?} -> {to:?}");
        }
        assert!(open(Received) && open(InTriage));
        assert!(!open(Closed) && !open(Merged) && !open(CaseOpened));
    }

    #[test]
    fn defaults_parse_for_both_countries() {
        for country in ["KZ", "KG"] {
            let rules = parse_defaults(DEFAULTS, country);
            assert_eq!(rules.len(), 4, "{country}");
            assert!(rules.iter().any(|r| r.body == "police" && r.external));
            assert!(
                rules
                    .iter()
                    .any(|r| r.body == "facility_head" && !r.external)
            );
        }
        assert!(parse_defaults(DEFAULTS, "UZ").is_empty());
        assert!(parse_defaults("nonsense", "KZ").is_empty());
    }

    #[test]
    fn which_reports_start_which_duties() {
        let rules = parse_defaults(DEFAULTS, "KZ");
        let ids = |types: &[&str], sev: u8, injury: bool| -> Vec<String> {
            let t: Vec<String> = types.iter().map(|s| s.to_string()).collect();
            duties_for(&rules, &facts(&t, sev, injury))
                .into_iter()
                .map(|r| r.id.clone())
                .collect()
        };
        // An insult: nothing is mandatory.
        assert!(ids(&["psychological.verbal_abuse"], 0, false).is_empty());
        // A threat: the facility head.
        assert_eq!(ids(&["psychological.threat"], 1, false), ["facility_head"]);
        // A weapon, whatever the severity given: police too.
        assert_eq!(
            ids(&["physical.weapon"], 1, false),
            ["facility_head", "police"]
        );
        // An injury needing treatment: facility head and police.
        assert_eq!(
            ids(&["physical.assault"], 3, true),
            ["facility_head", "police"]
        );
        // Severe: everyone.
        assert_eq!(
            ids(&["physical.assault"], 4, true),
            [
                "facility_head",
                "police",
                "regional_health",
                "labour_inspection"
            ]
        );
        // A parent type in a rule covers its children, not the reverse.
        let parent = DutyRule {
            types: vec!["physical".into()],
            min_severity: None,
            ..rules[0].clone()
        };
        let child = ["physical.assault".to_string()];
        assert!(parent.applies(&facts(&child, 0, false)));
        let phys = ["physicalish".to_string()];
        assert!(!parent.applies(&facts(&phys, 0, false)));
    }

    #[test]
    fn a_rule_without_conditions_matches_all() {
        let r = DutyRule {
            id: "all".into(),
            body: "facility_head".into(),
            types: vec![],
            min_severity: None,
            injury: false,
            hours: 72,
            external: false,
        };
        assert!(r.applies(&facts(&[], 0, false)));
        let t0 = Ts::from_micros(1_000_000);
        assert_eq!(r.due(t0).micros() - t0.micros(), 72 * 3600 * 1_000_000);
    }

    #[test]
    fn administrator_lists_are_checked() {
        let rules = parse_defaults(DEFAULTS, "KZ");
        let bodies = [
            "facility_head",
            "police",
            "regional_health_dept",
            "labour_inspection",
        ];
        let known = |t: &str| t.starts_with("physical") || t.starts_with("psychological");
        assert!(check_rules(&rules, &bodies, &known).done().is_ok());
        let mut bad = rules.clone();
        bad[1].id = bad[0].id.clone();
        bad[2].body = "mars".into();
        bad[3].hours = 0;
        bad[0].types.push("nonsense".into());
        bad[0].min_severity = Some(9);
        let err = check_rules(&bad, &bodies, &known).done().unwrap_err();
        let text = format!("{err:?}");
        for f in [
            "rules[1].id",
            "rules[2].body",
            "rules[3].hours",
            "rules[0].types",
            "rules[0].min_severity",
        ] {
            assert!(text.contains(f), "{f} in {text}");
        }
    }
}
