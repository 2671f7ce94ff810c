//! ADM-CID payloads: Ademco Contact ID (SIA DC-05) events inside DC-09.
//!
//! In DC-09 the Contact ID message loses its tone-dialling framing (account, message type and checksum) and
//! becomes text: `#acct|QEEE GG ZZZ`, where `Q` is the qualifier (1 new event or opening, 3 restore or
//! closing, 6 previously reported condition still present), `EEE` the event code, `GG` the partition and
//! `ZZZ` the zone or user number. Many panels (Ajax, Hikvision, DSC) send only this, so it is the form most
//! alarms arrive in.

use std::fmt;

use crate::codes::{self, Category, EventInfo};
use crate::error::{Error, Field};

/// The Contact ID event qualifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Qualifier {
    /// `1`: new event, or opening (disarm).
    New,
    /// `3`: restore, or closing (arm).
    Restore,
    /// `6`: previously reported condition still present (status report).
    Previous,
}

impl Qualifier {
    /// The digit sent on the wire.
    #[must_use]
    pub const fn digit(self) -> char {
        match self {
            Qualifier::New => '1',
            Qualifier::Restore => '3',
            Qualifier::Previous => '6',
        }
    }

    fn from_digit(digit: u8) -> Option<Self> {
        match digit {
            b'1' => Some(Qualifier::New),
            b'3' => Some(Qualifier::Restore),
            b'6' => Some(Qualifier::Previous),
            _ => None,
        }
    }
}

/// A decoded ADM-CID data field.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ContactId {
    /// The account in the data field (`#1234|...` or `1234|...`), if present.
    pub account: Option<String>,
    /// New event, restore, or still present.
    pub qualifier: Qualifier,
    /// Event code, 0 to 999 (for example 120 panic, 130 burglary, 602 periodic test).
    pub code: u16,
    /// Partition (group), 0 to 99.
    pub partition: u8,
    /// Zone or user number, 0 to 999 (which one depends on the code).
    pub zone: u16,
}

impl ContactId {
    /// Parses `[#]acct|QEEE GG ZZZ`, or `QEEE GG ZZZ` without an account; the spaces may be left out.
    ///
    /// Digits must be decimal. (DC-05 allows hex digits B-F in tone signalling; DC-09 panels send decimal.)
    pub fn parse(data: &str) -> Result<Self, Error> {
        let bad = |reason| Error::bad(Field::ContactId, reason);
        let (account, event) = match data.rsplit_once('|') {
            Some((acct, event)) => {
                let acct = acct.strip_prefix('#').unwrap_or(acct);
                if acct.is_empty() {
                    (None, event)
                } else if (1..=16).contains(&acct.len())
                    && acct.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    (Some(acct.to_owned()), event)
                } else {
                    return Err(bad("account is not 1 to 16 hex digits"));
                }
            }
            None => (None, data),
        };
        let digits: Vec<u8> = match event.as_bytes() {
            [q, e1, e2, e3, b' ', g1, g2, b' ', z1, z2, z3] => {
                vec![*q, *e1, *e2, *e3, *g1, *g2, *z1, *z2, *z3]
            }
            d @ [_, _, _, _, _, _, _, _, _] => d.to_vec(),
            _ => return Err(bad("expected QEEE GG ZZZ")),
        };
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(bad("expected decimal digits"));
        }
        let num = |range: std::ops::Range<usize>| crate::time::decimal(&digits[range]).unwrap_or(0);
        let qualifier =
            Qualifier::from_digit(digits[0]).ok_or(bad("qualifier must be 1, 3 or 6"))?;
        Ok(ContactId {
            account,
            qualifier,
            code: num(1..4),
            partition: u8::try_from(num(4..6)).map_err(|_| bad("partition"))?,
            zone: num(6..9),
        })
    }

    /// Writes the data field: `#acct|QEEE GG ZZZ` (or without `#acct|` when there is no account).
    /// Values above the field widths are written modulo 1000 (code, zone) and 100 (partition).
    #[must_use]
    pub fn to_data(&self) -> String {
        self.to_string()
    }

    /// Description and category of the event code, if it is in the table.
    #[must_use]
    pub fn info(&self) -> Option<EventInfo> {
        codes::cid_info(self.code)
    }

    /// The code's category ([`Category::Other`] if unknown).
    #[must_use]
    pub fn category(&self) -> Category {
        self.info().map_or(Category::Other, |i| i.category)
    }

    /// Whether this reports the end of a condition (qualifier 3).
    #[must_use]
    pub fn is_restore(&self) -> bool {
        self.qualifier == Qualifier::Restore
    }

    /// A new panic or duress alarm: codes 120 to 125 with qualifier 1. Restores and status reports are not.
    #[must_use]
    pub fn is_alarm_panic(&self) -> bool {
        self.qualifier == Qualifier::New && self.category().is_alarm_panic()
    }
}

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(acct) = &self.account {
            write!(f, "#{acct}|")?;
        }
        write!(
            f,
            "{}{:03} {:02} {:03}",
            self.qualifier.digit(),
            self.code % 1000,
            self.partition % 100,
            self.zone % 1000
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let c = ContactId::parse("#1234|1130 01 015").unwrap();
        assert_eq!(
            c,
            ContactId {
                account: Some("1234".into()),
                qualifier: Qualifier::New,
                code: 130,
                partition: 1,
                zone: 15
            }
        );
        assert_eq!(c.to_data(), "#1234|1130 01 015");
        assert!(!c.is_alarm_panic());
        assert_eq!(c.category(), Category::Burglary);

        // OPAX sends the account without '#'.
        let c = ContactId::parse("10064|1602 00 000").unwrap();
        assert_eq!(c.account.as_deref(), Some("10064"));
        assert_eq!((c.code, c.qualifier), (602, Qualifier::New));

        let c = ContactId::parse("3120 02 007").unwrap();
        assert_eq!(
            (c.account.clone(), c.qualifier, c.code, c.partition, c.zone),
            (None, Qualifier::Restore, 120, 2, 7)
        );
        assert!(!c.is_alarm_panic());

        let c = ContactId::parse("|612100003").unwrap();
        assert_eq!((c.qualifier, c.code, c.zone), (Qualifier::Previous, 121, 3));
    }

    #[test]
    fn panic_classification() {
        for code in [120, 121, 122, 123] {
            let c = ContactId::parse(&format!("#ABC|1{code} 01 001")).unwrap();
            assert!(c.is_alarm_panic(), "{code}");
        }
        let unknown = ContactId::parse("#ABC|1999 01 001").unwrap();
        assert_eq!(unknown.info(), None);
        assert_eq!(unknown.category(), Category::Other);
        assert!(!unknown.is_alarm_panic());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "#1234|",
            "#1234|2130 01 015",
            "#1234|1130 01 01",
            "#1234|1130 01 0150",
            "#1234|1130-01-015",
            "#1234|1B30 01 015",
            "#12G4|1130 01 015",
            "#12345678901234567|1130 01 015",
            "#1234|1130 01 015 ",
            "#1234|1130 01 01é",
        ] {
            assert!(ContactId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
