//! SIA-DCS payloads: SIA DC-03 event blocks inside DC-09.
//!
//! The data field is a list of blocks separated by `|`: an account block (`#1234`, some panels omit the `#`),
//! then a data block starting with `N` (new event) or `O` (old event), and optionally an ASCII text block
//! (`Atext`). A data block holds modifiers and events separated by `/`: a modifier is two lower-case letters
//! and a value (`ri1` area 1, `id12` user 12, `ti14:05` time), and applies to the events after it in the
//! block; an event is two upper-case letters and an optional address (zone or user number), optionally
//! followed by `^text^`. So `#1234|Nri1/BA01/ri2/PA` is a burglary in area 1 zone 1 and a panic in area 2.

use crate::codes::{self, Category, EventInfo};
use crate::error::{Error, Field};

/// A modifier in effect for an event, such as `ri` (area) = `1`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Modifier {
    /// Two lower-case letters (`ri` area, `id` user, `ti` time, `pi` peripheral, ...).
    pub name: String,
    /// Its value as sent.
    pub value: String,
}

/// One SIA event.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SiaEvent {
    /// `true` for a new event (`N` block), `false` for an old one (`O` block).
    pub new: bool,
    /// Two upper-case letters, for example `PA` (panic), `BA` (burglary), `RP` (automatic test).
    pub code: String,
    /// Zone, user or other number after the code, as sent (for example `"01"`).
    pub address: Option<String>,
    /// Modifiers in effect for this event, in the order first set.
    pub modifiers: Vec<Modifier>,
    /// Text between `^` after the event, if any.
    pub text: Option<String>,
}

impl SiaEvent {
    /// Value of the modifier `name`, if in effect.
    #[must_use]
    pub fn modifier(&self, name: &str) -> Option<&str> {
        self.modifiers
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value.as_str())
    }

    /// The area (partition) from the `ri` modifier.
    #[must_use]
    pub fn area(&self) -> Option<&str> {
        self.modifier("ri")
    }

    /// The user number from the `id` modifier.
    #[must_use]
    pub fn user_id(&self) -> Option<&str> {
        self.modifier("id")
    }

    /// Description and category of the code, if it is in the table.
    #[must_use]
    pub fn info(&self) -> Option<EventInfo> {
        codes::sia_info(&self.code)
    }

    /// The code's category ([`Category::Other`] if unknown).
    #[must_use]
    pub fn category(&self) -> Category {
        self.info().map_or(Category::Other, |i| i.category)
    }

    /// A new panic or hold-up (duress) alarm: `PA` or `HA` in a new-event block.
    #[must_use]
    pub fn is_alarm_panic(&self) -> bool {
        self.new
            && self
                .info()
                .is_some_and(|i| !i.restore && i.category.is_alarm_panic())
    }
}

/// A decoded SIA-DCS data field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SiaDcs {
    /// The account block, without `#`.
    pub account: Option<String>,
    /// The events, in order.
    pub events: Vec<SiaEvent>,
    /// The ASCII text block (`A...`), if any.
    pub text: Option<String>,
}

impl SiaDcs {
    /// Parses a SIA-DCS data field such as `#1234|Nri1/BA01` or `Nri1/WA000`.
    pub fn parse(data: &str) -> Result<Self, Error> {
        let mut out = SiaDcs::default();
        let blocks: Vec<&str> = data.split('|').collect();
        for (i, block) in blocks.iter().enumerate() {
            let mut chars = block.chars();
            match chars.next() {
                None => {}
                Some('#') => out.account = Some(account(chars.as_str())?),
                Some('A') if !out.events.is_empty() => out.text = Some(chars.as_str().to_owned()),
                Some('N') => parse_block(chars.as_str(), true, &mut out.events)?,
                Some('O') => parse_block(chars.as_str(), false, &mut out.events)?,
                Some(_)
                    if i == 0
                        && blocks.len() > 1
                        && block.bytes().all(|b| b.is_ascii_hexdigit()) =>
                {
                    out.account = Some(account(block)?);
                }
                // No N/O function code: take the block as new events.
                Some(_) => parse_block(block, true, &mut out.events)?,
            }
        }
        Ok(out)
    }

    /// Writes the data field: `#acct|N...` with one block per run of new or old events, `/` between
    /// events, a modifier written whenever its value differs from the one in effect, and `|A<text>` last.
    ///
    /// Modifiers carry forward within a block, so an event with fewer modifiers than the one before it in
    /// the same block reads back with the earlier ones added.
    #[must_use]
    pub fn to_data(&self) -> String {
        let mut blocks: Vec<String> = Vec::new();
        if let Some(acct) = &self.account {
            blocks.push(format!("#{acct}"));
        }
        // (new?, parts, modifiers in effect) of the block being written.
        let mut block: Option<(bool, Vec<String>, Vec<Modifier>)> = None;
        for ev in &self.events {
            if block.as_ref().is_some_and(|(new, _, _)| *new != ev.new) {
                blocks.extend(block.take().map(finish_block));
            }
            let (_, parts, in_effect) =
                block.get_or_insert_with(|| (ev.new, Vec::new(), Vec::new()));
            for m in &ev.modifiers {
                if !in_effect.contains(m) {
                    parts.push(format!("{}{}", m.name, m.value));
                    in_effect.retain(|e| e.name != m.name);
                    in_effect.push(m.clone());
                }
            }
            let mut part = ev.code.clone();
            if let Some(addr) = &ev.address {
                part.push_str(addr);
            }
            if let Some(text) = &ev.text {
                part.push('^');
                part.push_str(text);
                part.push('^');
            }
            parts.push(part);
        }
        blocks.extend(block.map(finish_block));
        if let Some(text) = &self.text {
            blocks.push(format!("A{text}"));
        }
        blocks.join("|")
    }

    /// Whether any event is a new panic or duress alarm.
    #[must_use]
    pub fn is_alarm_panic(&self) -> bool {
        self.events.iter().any(SiaEvent::is_alarm_panic)
    }
}

fn finish_block((new, parts, _): (bool, Vec<String>, Vec<Modifier>)) -> String {
    format!("{}{}", if new { 'N' } else { 'O' }, parts.join("/"))
}

fn account(digits: &str) -> Result<String, Error> {
    if (1..=16).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(digits.to_owned())
    } else {
        Err(Error::bad(
            Field::SiaDcs,
            "account is not 1 to 16 hex digits",
        ))
    }
}

/// Parses the modifiers and events of one block (after its `N`/`O`).
fn parse_block(block: &str, new: bool, events: &mut Vec<SiaEvent>) -> Result<(), Error> {
    let bytes = block.as_bytes();
    let mut modifiers: Vec<Modifier> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (a, b) = (bytes[at], bytes.get(at + 1).copied().unwrap_or(0));
        if a == b'/' {
            at += 1;
        } else if a.is_ascii_lowercase() && b.is_ascii_lowercase() {
            let start = at + 2;
            let len = bytes[start..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || matches!(c, b':' | b'-' | b'.'))
                .count();
            let modifier = Modifier {
                name: block[at..start].to_owned(),
                value: block[start..start + len].to_owned(),
            };
            modifiers.retain(|m| m.name != modifier.name);
            modifiers.push(modifier);
            at = start + len;
        } else if a.is_ascii_uppercase() && b.is_ascii_uppercase() {
            let start = at + 2;
            let len = bytes[start..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            let address = (len > 0).then(|| block[start..start + len].to_owned());
            at = start + len;
            let mut text = None;
            if bytes.get(at) == Some(&b'^') {
                let rest = &block[at + 1..];
                let end = rest.find('^').unwrap_or(rest.len());
                text = Some(rest[..end].to_owned());
                at += 1 + end + usize::from(end < rest.len());
            }
            events.push(SiaEvent {
                new,
                code: [char::from(a), char::from(b)].iter().collect(),
                address,
                modifiers: modifiers.clone(),
                text,
            });
        } else {
            return Err(Error::bad(
                Field::SiaDcs,
                "expected a modifier (two lower-case letters) or an event code",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(d: &SiaDcs) -> Vec<(&str, Option<&str>, Option<&str>)> {
        d.events
            .iter()
            .map(|e| (e.code.as_str(), e.address.as_deref(), e.area()))
            .collect()
    }

    #[test]
    fn parses_real_forms() {
        // Forms from pysiaalarm's test cases and from frames captured from PROSEC panels.
        let d = SiaDcs::parse("#1234|Nri1/BA01").unwrap();
        assert_eq!(d.account.as_deref(), Some("1234"));
        assert_eq!(codes(&d), vec![("BA", Some("01"), Some("1"))]);

        let d = SiaDcs::parse("|Nri1/CL501").unwrap();
        assert_eq!(
            (d.account.clone(), codes(&d)),
            (None, vec![("CL", Some("501"), Some("1"))])
        );

        let d = SiaDcs::parse("Nri1/WA000").unwrap();
        assert_eq!(codes(&d), vec![("WA", Some("000"), Some("1"))]);

        let d = SiaDcs::parse("36214|NRP").unwrap();
        assert_eq!(
            (d.account.as_deref(), codes(&d)),
            (Some("36214"), vec![("RP", None, None)])
        );

        let d = SiaDcs::parse("#51449|Nri0000/LR").unwrap();
        assert_eq!(codes(&d), vec![("LR", None, Some("0000"))]);

        let d = SiaDcs::parse("#123456|Nri1CL0^VX FRONTE ^").unwrap();
        assert_eq!(codes(&d), vec![("CL", Some("0"), Some("1"))]);
        assert_eq!(d.events[0].text.as_deref(), Some("VX FRONTE "));

        let d = SiaDcs::parse("#1234|NRR|Atest").unwrap();
        assert_eq!(
            (codes(&d), d.text.as_deref()),
            (vec![("RR", None, None)], Some("test"))
        );
    }

    #[test]
    fn modifiers_carry_forward() {
        let d = SiaDcs::parse("#1234|Nti14:05/id12/ri1/BA01/BA02/ri2/PA").unwrap();
        assert_eq!(
            codes(&d),
            vec![
                ("BA", Some("01"), Some("1")),
                ("BA", Some("02"), Some("1")),
                ("PA", None, Some("2"))
            ]
        );
        assert_eq!(d.events[2].user_id(), Some("12"));
        assert_eq!(d.events[2].modifier("ti"), Some("14:05"));
        assert!(d.is_alarm_panic());
        assert!(!d.events[0].is_alarm_panic());
    }

    #[test]
    fn panic_needs_new_block_and_alarm_code() {
        assert!(SiaDcs::parse("#1|Nri1/PA001").unwrap().is_alarm_panic());
        assert!(SiaDcs::parse("#1|NHA").unwrap().is_alarm_panic());
        assert!(!SiaDcs::parse("#1|Nri1/PH001").unwrap().is_alarm_panic());
        assert!(!SiaDcs::parse("#1|Ori1/PA001").unwrap().is_alarm_panic());
        // Unknown codes still decode.
        let d = SiaDcs::parse("#1|NZZ9").unwrap();
        assert_eq!(d.events[0].category(), Category::Other);
    }

    #[test]
    fn round_trip() {
        for data in [
            "#1234|Nri1/BA01",
            "#1234|Nid3/ri1/PA/BA2^Hall^|OBA5|Anote",
            "NRP",
            "#AB|Nri1/BA01/ri2/FA3",
        ] {
            let d = SiaDcs::parse(data).unwrap();
            let again = SiaDcs::parse(&d.to_data()).unwrap();
            assert_eq!(d, again, "{data} -> {}", d.to_data());
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "#12G4|NBA1",
            "#1234|N1BA",
            "#1234|Nri1/B",
            "#1234|Nri1/BA01/x",
            "#1234|Né",
        ] {
            assert!(SiaDcs::parse(bad).is_err(), "{bad}");
        }
    }
}
