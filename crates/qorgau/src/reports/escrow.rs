//! Matching escrow, the pure part: identifiers of a perpetrator brought to one canonical form
//! and hashed under a key kept apart from the database, so that two reporters who typed the same
//! person differently still match, and a database dump holds no name, phone or IIN.
//!
//! Forms, chosen so that the usual ways of writing one person agree:
//! - name: lower case (Cyrillic and Latin alike), ё → е, punctuation and hyphens as spaces,
//!   words sorted (surname first or last both occur), Kazakh and Kyrgyz letters (ә ғ қ ң ө ұ ү
//!   һ і) kept as they are; bound to the facility, as a name alone is too common to match on.
//! - phone: E.164 for Kazakhstan (+7 and ten digits; 8 7xx... and 7xx... local forms) and
//!   Kyrgyzstan (+996 and nine digits; 0 7xx... local form).
//! - Kazakh IIN: twelve digits whose check digit is right.
//! - Kyrgyz PIN: fourteen digits, the first 1 or 2 and then a day and month of birth.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Name,
    Phone,
    Iin,
    Pin,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Name => "name",
            Kind::Phone => "phone",
            Kind::Iin => "iin",
            Kind::Pin => "pin",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Name, Kind::Phone, Kind::Iin, Kind::Pin]
            .into_iter()
            .find(|k| k.code() == s)
    }
}

/// A full name in its canonical form; `None` when fewer than two words are left, since one word
/// would match half a facility.
pub fn normalise_name(s: &str) -> Option<String> {
    let cleaned: String = s
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ё' => 'е',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    let mut words: Vec<&str> = cleaned.split_whitespace().collect();
    if words.len() < 2 {
        return None;
    }
    words.sort_unstable();
    Some(words.join(" "))
}

/// A Kazakh or Kyrgyz phone number in E.164, or `None` for anything else.
pub fn normalise_phone(s: &str) -> Option<String> {
    if s.chars()
        .any(|c| !(c.is_ascii_digit() || " -()+.".contains(c)))
        || s.chars().skip(1).any(|c| c == '+')
    {
        return None;
    }
    let plus = s.trim_start().starts_with('+');
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    let national = |cc: &str, rest: &str| format!("+{cc}{rest}");
    match (plus, d.len()) {
        (true, 11) if d.starts_with('7') => Some(national("7", &d[1..])),
        (true, 12) if d.starts_with("996") => Some(national("996", &d[3..])),
        (false, 11) if d.starts_with("87") || d.starts_with("77") => Some(national("7", &d[1..])),
        (false, 10) if d.starts_with('7') => Some(national("7", &d)),
        (false, 12) if d.starts_with("996") => Some(national("996", &d[3..])),
        (false, 10) if d.starts_with('0') => Some(national("996", &d[1..])),
        _ => None,
    }
}

fn digits(s: &str) -> Option<Vec<u32>> {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_digit(10))
        .collect()
}

/// A Kazakh IIN (twelve digits) whose check digit is right.
pub fn normalise_iin(s: &str) -> Option<String> {
    let d = digits(s)?;
    if d.len() != 12 {
        return None;
    }
    // Weights 1..11, and if the sum mod 11 is 10, weights 3..11,1,2; 10 again means no valid IIN.
    let sum = |w: &dyn Fn(usize) -> u32| (0..11).map(|i| d[i] * w(i)).sum::<u32>() % 11;
    let mut check = sum(&|i| i as u32 + 1);
    if check == 10 {
        check = sum(&|i| ((i as u32 + 2) % 11) + 1);
    }
    (check < 10 && check == d[11]).then(|| d.iter().map(|x| x.to_string()).collect())
}

/// A Kyrgyz PIN: fourteen digits, 1 (woman) or 2 (man), then the day and month of birth.
pub fn normalise_pin(s: &str) -> Option<String> {
    let d = digits(s)?;
    let day = d.get(1)? * 10 + d.get(2)?;
    let month = d.get(3)? * 10 + d.get(4)?;
    (d.len() == 14 && matches!(d[0], 1 | 2) && (1..=31).contains(&day) && (1..=12).contains(&month))
        .then(|| d.iter().map(|x| x.to_string()).collect())
}

/// The canonical form of an identifier, `None` if it is not a valid one of its kind. A name is
/// bound to the facility it was lodged for.
pub fn normalise(kind: Kind, value: &str, facility: Uuid) -> Option<String> {
    match kind {
        Kind::Name => normalise_name(value).map(|n| format!("{facility}|{n}")),
        Kind::Phone => normalise_phone(value),
        Kind::Iin => normalise_iin(value),
        Kind::Pin => normalise_pin(value),
    }
}

/// HMAC-SHA256 of the canonical form, with the kind bound in so that no form of one kind can
/// collide with another's.
pub fn tag(key: &[u8; 32], kind: Kind, canonical: &str) -> String {
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(b"escrow:");
    mac.update(kind.code().as_bytes());
    mac.update(b":");
    mac.update(canonical.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A reporter's answer to "your report matches another: go on?".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Pending,
    GoOn,
    NotNow,
}

impl Answer {
    pub fn code(self) -> &'static str {
        match self {
            Answer::Pending => "pending",
            Answer::GoOn => "go_on",
            Answer::NotNow => "not_now",
        }
    }

    pub fn parse(s: &str) -> Option<Answer> {
        [Answer::Pending, Answer::GoOn, Answer::NotNow]
            .into_iter()
            .find(|a| a.code() == s)
    }
}

/// The reports a handler may be told about: those whose reporters said go on, and only once at
/// least two did. One reporter alone saying go on discloses nothing, since "your report matches
/// report X" would tell the handler about a reporter who has not agreed.
pub fn disclosed<T: Copy>(answers: &[(T, Answer)]) -> Vec<T> {
    let go: Vec<T> = answers
        .iter()
        .filter(|(_, a)| *a == Answer::GoOn)
        .map(|(t, _)| *t)
        .collect();
    if go.len() >= 2 { go } else { vec![] }
}

/// At most this many identifiers from one report, so that the escrow cannot be used as an
/// oracle by lodging a list of guesses and waiting for a match.
pub const MAX_PER_REPORT: i64 = 5;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_agree_across_case_yo_spacing_and_order() {
        let a = normalise_name("  Семёнов   Ерлан-Қайратұлы ").expect("name");
        let b = normalise_name("ерлан ҚАЙРАТҰЛЫ семенов").expect("name");
        assert_eq!(a, b);
        assert_eq!(a, "ерлан семенов қайратұлы");
        assert_eq!(normalise_name("IVANOV Ivan"), normalise_name("ivan ivanov"));
        // Kazakh and Kyrgyz letters are not folded into Russian ones: different people.
        assert_ne!(normalise_name("Әсел Нұрова"), normalise_name("Асел Нурова"));
        assert_eq!(normalise_name("Ivanov"), None);
        assert_eq!(normalise_name(" - "), None);
    }

    #[test]
    fn phones_in_local_and_international_forms() {
        for s in [
            "+7 701 123 45 67",
            "8 (701) 123-45-67",
            "87011234567",
            "7011234567",
            "77011234567",
        ] {
            assert_eq!(normalise_phone(s).as_deref(), Some("+77011234567"), "{s}");
        }
        for s in ["+996 555 123 456", "0555 123 456", "996555123456"] {
            assert_eq!(normalise_phone(s).as_deref(), Some("+996555123456"), "{s}");
        }
        for s in [
            "12345",
            "+1 202 555 0100",
            "8 701 123",
            "70112345a7",
            "+7+7011234567",
        ] {
            assert_eq!(normalise_phone(s), None, "{s}");
        }
    }

    #[test]
    fn iin_check_digit() {
        // The second uses the second set of weights (its first sum is 10 mod 11).
        let valid = ["860904350504", "950101400012", "881212500022"];
        for v in valid {
            assert_eq!(normalise_iin(v).as_deref(), Some(v), "{v}");
        }
        assert_eq!(
            normalise_iin("860904 350504").as_deref(),
            Some("860904350504")
        );
        assert_eq!(normalise_iin("860904350505"), None);
        assert_eq!(normalise_iin("86090435050"), None);
        assert_eq!(normalise_iin("86090435050x"), None);
    }

    #[test]
    fn kyrgyz_pin_shape() {
        assert_eq!(
            normalise_pin("2 1505 1990 00123").as_deref(),
            Some("21505199000123")
        );
        assert_eq!(normalise_pin("31505199000123"), None);
        assert_eq!(normalise_pin("23205199000123"), None);
        assert_eq!(normalise_pin("21513199000123"), None);
        assert_eq!(normalise_pin("2150519900012"), None);
    }

    #[test]
    fn names_are_bound_to_the_facility_and_kinds_do_not_collide() {
        let (f, g) = (Uuid::now_v7(), Uuid::now_v7());
        let key = [7u8; 32];
        let a = normalise(Kind::Name, "Ivan Ivanov", f).expect("name");
        let b = normalise(Kind::Name, "Ivan Ivanov", g).expect("name");
        assert_ne!(tag(&key, Kind::Name, &a), tag(&key, Kind::Name, &b));
        assert_ne!(
            tag(&key, Kind::Iin, "860904350504"),
            tag(&key, Kind::Pin, "860904350504")
        );
        assert_ne!(
            tag(&key, Kind::Phone, "+77011234567"),
            tag(&[8u8; 32], Kind::Phone, "+77011234567")
        );
    }

    #[test]
    fn disclosure_needs_two_who_said_go_on() {
        use Answer::*;
        assert!(disclosed(&[(1, GoOn), (2, Pending)]).is_empty());
        assert!(disclosed(&[(1, GoOn), (2, NotNow)]).is_empty());
        assert_eq!(disclosed(&[(1, GoOn), (2, GoOn), (3, NotNow)]), vec![1, 2]);
    }

    /// Independent IIN check, the reference way: the weighted sums written out.
    fn iin_ok(d: &[u32; 12]) -> bool {
        let w1 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        let w2 = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];
        let s1: u32 = (0..11).map(|i| d[i] * w1[i]).sum::<u32>() % 11;
        let c = if s1 == 10 {
            (0..11).map(|i| d[i] * w2[i]).sum::<u32>() % 11
        } else {
            s1
        };
        c != 10 && c == d[11]
    }

    proptest! {
        #[test]
        fn name_form_is_idempotent_and_order_free(words in prop::collection::vec("[a-zA-Zа-яА-ЯёЁәғқңөұүһі]{1,8}", 2..4)) {
            let joined = words.join(" ");
            if let Some(n) = normalise_name(&joined) {
                prop_assert_eq!(normalise_name(&n), Some(n.clone()));
                let mut rev = words.clone();
                rev.reverse();
                prop_assert_eq!(normalise_name(&rev.join("  ").to_uppercase()), Some(n));
            }
        }

        #[test]
        fn iin_agrees_with_the_reference(d in prop::array::uniform12(0u32..10)) {
            let s: String = d.iter().map(|x| x.to_string()).collect();
            prop_assert_eq!(normalise_iin(&s).is_some(), iin_ok(&d));
        }

        #[test]
        fn phone_form_is_a_fixed_point(n in 0u64..10_000_000_000) {
            let s = format!("8 7{:09}", n % 1_000_000_000);
            let e = normalise_phone(&s).expect("kz local");
            prop_assert_eq!(normalise_phone(&e), Some(e.clone()));
            prop_assert!(e.starts_with("+77") && e.len() == 12);
        }
    }
}
