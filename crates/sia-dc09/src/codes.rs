//! A small table of common event codes and what kind of event each is.
//!
//! A monitoring centre must treat a panic or duress signal differently from a low battery, whichever
//! protocol the panel speaks. This table names the codes a staff-safety deployment meets most (SIA DC-03 two
//! letter codes, Contact ID three digit codes) and puts each in a [`Category`]. It is deliberately small:
//! codes not listed still decode, they just have no description and fall in [`Category::Other`].

/// What kind of event a code reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Category {
    /// Panic button (silent or audible).
    Panic,
    /// Duress or hold-up: someone is being forced.
    Duress,
    /// Personal emergency (pendant, emergency button).
    Emergency,
    /// Medical alarm.
    Medical,
    /// Fire, smoke, heat.
    Fire,
    /// Intrusion.
    Burglary,
    /// Gas, water, carbon monoxide, temperature.
    Environmental,
    /// Tamper with a device or enclosure.
    Tamper,
    /// Technical trouble: power, battery, communication, sensor.
    Trouble,
    /// Arming, disarming, access.
    OpenClose,
    /// Periodic or manual test, power-up.
    Test,
    /// Anything else, and codes not in the table.
    Other,
}

impl Category {
    /// Panic or duress: someone needs help now and must not be kept waiting by the queue.
    #[must_use]
    pub const fn is_alarm_panic(self) -> bool {
        matches!(self, Category::Panic | Category::Duress)
    }

    /// Any alarm that calls for a response (panic, duress, emergency, medical, fire, burglary, environmental).
    #[must_use]
    pub const fn is_alarm(self) -> bool {
        matches!(
            self,
            Category::Panic
                | Category::Duress
                | Category::Emergency
                | Category::Medical
                | Category::Fire
                | Category::Burglary
                | Category::Environmental
        )
    }
}

/// Description and category of a known code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventInfo {
    /// Short English description.
    pub name: &'static str,
    /// What kind of event it is.
    pub category: Category,
    /// Whether the code reports the end of a condition (a restoral) rather than its start.
    /// Contact ID carries this in its qualifier instead, so it is always `false` for Contact ID codes.
    pub restore: bool,
}

use Category::*;

const fn ev(name: &'static str, category: Category) -> EventInfo {
    EventInfo {
        name,
        category,
        restore: false,
    }
}

const fn re(name: &'static str, category: Category) -> EventInfo {
    EventInfo {
        name,
        category,
        restore: true,
    }
}

/// SIA DC-03 event codes (two letters).
const SIA: &[(&str, EventInfo)] = &[
    ("PA", ev("Panic alarm", Panic)),
    ("PH", re("Panic alarm restore", Panic)),
    ("PR", re("Panic restoral", Panic)),
    ("PT", ev("Panic trouble", Trouble)),
    ("HA", ev("Hold-up (duress) alarm", Duress)),
    ("HH", re("Hold-up alarm restore", Duress)),
    ("HR", re("Hold-up restoral", Duress)),
    ("HT", ev("Hold-up trouble", Trouble)),
    ("QA", ev("Emergency alarm", Emergency)),
    ("QH", re("Emergency alarm restore", Emergency)),
    ("QR", re("Emergency restoral", Emergency)),
    ("MA", ev("Medical alarm", Medical)),
    ("MH", re("Medical alarm restore", Medical)),
    ("MR", re("Medical restoral", Medical)),
    ("FA", ev("Fire alarm", Fire)),
    ("FH", re("Fire alarm restore", Fire)),
    ("FR", re("Fire restoral", Fire)),
    ("FT", ev("Fire trouble", Trouble)),
    ("BA", ev("Burglary alarm", Burglary)),
    ("BH", re("Burglary alarm restore", Burglary)),
    ("BR", re("Burglary restoral", Burglary)),
    ("BT", ev("Burglary trouble", Trouble)),
    ("BB", ev("Burglary bypass", Other)),
    ("BC", ev("Burglary cancel", OpenClose)),
    ("GA", ev("Gas alarm", Environmental)),
    ("GH", re("Gas alarm restore", Environmental)),
    ("WA", ev("Water alarm", Environmental)),
    ("WH", re("Water alarm restore", Environmental)),
    ("KA", ev("Heat alarm", Environmental)),
    ("KH", re("Heat alarm restore", Environmental)),
    ("TA", ev("Tamper alarm", Tamper)),
    ("TR", re("Tamper restoral", Tamper)),
    ("ES", ev("Expansion device tamper", Tamper)),
    ("AT", ev("AC power trouble", Trouble)),
    ("AR", re("AC power restoral", Trouble)),
    ("YT", ev("System battery trouble", Trouble)),
    ("YR", re("System battery restoral", Trouble)),
    ("YC", ev("Communications fail", Trouble)),
    ("YK", re("Communications restoral", Trouble)),
    ("LT", ev("Phone line trouble", Trouble)),
    ("LR", re("Phone line restoral", Trouble)),
    ("ET", ev("Expansion trouble", Trouble)),
    ("ER", re("Expansion restoral", Trouble)),
    ("XT", ev("Transmitter battery trouble", Trouble)),
    ("XR", re("Transmitter battery restoral", Trouble)),
    ("OP", ev("Opening (disarmed)", OpenClose)),
    ("CL", ev("Closing (armed)", OpenClose)),
    ("OA", ev("Automatic opening", OpenClose)),
    ("CA", ev("Automatic closing", OpenClose)),
    ("OR", ev("Disarm from alarm", OpenClose)),
    ("CG", ev("Partial closing", OpenClose)),
    ("RP", ev("Automatic test", Test)),
    ("RX", ev("Manual test", Test)),
    ("RR", ev("Power up", Test)),
];

/// Contact ID (SIA DC-05) event codes (three digits).
const CID: &[(u16, EventInfo)] = &[
    (100, ev("Medical", Medical)),
    (101, ev("Personal emergency", Emergency)),
    (102, ev("Fail to report in", Emergency)),
    (110, ev("Fire", Fire)),
    (111, ev("Smoke", Fire)),
    (112, ev("Combustion", Fire)),
    (113, ev("Water flow", Fire)),
    (114, ev("Heat", Fire)),
    (115, ev("Pull station", Fire)),
    (117, ev("Flame", Fire)),
    (120, ev("Panic", Panic)),
    (121, ev("Duress", Duress)),
    (122, ev("Silent panic", Panic)),
    (123, ev("Audible panic", Panic)),
    (124, ev("Duress, access granted", Duress)),
    (125, ev("Duress, egress granted", Duress)),
    (130, ev("Burglary", Burglary)),
    (131, ev("Perimeter", Burglary)),
    (132, ev("Interior", Burglary)),
    (133, ev("24-hour burglary", Burglary)),
    (134, ev("Entry/exit", Burglary)),
    (135, ev("Day/night", Burglary)),
    (136, ev("Outdoor", Burglary)),
    (137, ev("Tamper", Tamper)),
    (139, ev("Intrusion verified", Burglary)),
    (140, ev("General alarm", Burglary)),
    (144, ev("Sensor tamper", Tamper)),
    (145, ev("Expansion module tamper", Tamper)),
    (146, ev("Silent burglary", Burglary)),
    (150, ev("24-hour non-burglary", Environmental)),
    (151, ev("Gas detected", Environmental)),
    (154, ev("Water leakage", Environmental)),
    (158, ev("High temperature", Environmental)),
    (159, ev("Low temperature", Environmental)),
    (162, ev("Carbon monoxide", Environmental)),
    (300, ev("System trouble", Trouble)),
    (301, ev("AC loss", Trouble)),
    (302, ev("Low system battery", Trouble)),
    (305, ev("System reset", Trouble)),
    (309, ev("Battery test failure", Trouble)),
    (311, ev("Battery missing or dead", Trouble)),
    (350, ev("Communication trouble", Trouble)),
    (351, ev("Telco 1 fault", Trouble)),
    (354, ev("Failure to communicate event", Trouble)),
    (380, ev("Sensor trouble", Trouble)),
    (383, ev("Sensor tamper", Tamper)),
    (384, ev("RF low battery", Trouble)),
    (400, ev("Open/close", OpenClose)),
    (401, ev("Open/close by user", OpenClose)),
    (402, ev("Group open/close", OpenClose)),
    (403, ev("Automatic open/close", OpenClose)),
    (406, ev("Cancel", OpenClose)),
    (407, ev("Remote arm/disarm", OpenClose)),
    (408, ev("Quick arm", OpenClose)),
    (409, ev("Keyswitch open/close", OpenClose)),
    (441, ev("Armed stay", OpenClose)),
    (570, ev("Zone bypass", Other)),
    (601, ev("Manual test", Test)),
    (602, ev("Periodic test", Test)),
    (603, ev("Periodic RF transmission", Test)),
    (604, ev("Fire test", Test)),
    (607, ev("Walk test mode", Test)),
];

/// Description and category of a SIA DC-03 event code such as `"PA"` (case-sensitive, as sent).
#[must_use]
pub fn sia_info(code: &str) -> Option<EventInfo> {
    SIA.iter().find(|(c, _)| *c == code).map(|(_, info)| *info)
}

/// Description and category of a Contact ID event code such as `120`.
#[must_use]
pub fn cid_info(code: u16) -> Option<EventInfo> {
    CID.iter().find(|(c, _)| *c == code).map(|(_, info)| *info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_codes() {
        for code in [120, 121, 122, 123] {
            assert!(cid_info(code).unwrap().category.is_alarm_panic(), "{code}");
        }
        for code in ["PA", "HA"] {
            let info = sia_info(code).unwrap();
            assert!(info.category.is_alarm_panic() && !info.restore, "{code}");
        }
        assert!(sia_info("PH").unwrap().restore);
        assert!(!cid_info(130).unwrap().category.is_alarm_panic());
        assert!(cid_info(130).unwrap().category.is_alarm());
        assert!(!cid_info(602).unwrap().category.is_alarm());
        assert_eq!(cid_info(999), None);
        assert_eq!(sia_info("ZZ"), None);
    }

    #[test]
    fn tables_have_no_duplicates() {
        for (i, (a, _)) in SIA.iter().enumerate() {
            assert!(SIA[i + 1..].iter().all(|(b, _)| a != b), "{a}");
            assert!(a.len() == 2 && a.bytes().all(|b| b.is_ascii_uppercase()));
        }
        for (i, (a, _)) in CID.iter().enumerate() {
            assert!(CID[i + 1..].iter().all(|(b, _)| a != b), "{a}");
            assert!(*a <= 999);
        }
    }
}
