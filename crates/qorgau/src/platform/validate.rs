//! Field checks shared by every form and API body. Each returns a message id on failure, and
//! collects into a list so one answer names every bad field at once.

use crate::platform::error::{AppError, FieldError};

#[derive(Default)]
pub struct Check {
    pub errors: Vec<FieldError>,
}

impl Check {
    pub fn new() -> Check {
        Check::default()
    }

    pub fn fail(&mut self, field: &str, code: &str) {
        self.errors.push(FieldError::new(field, code));
    }

    /// Trimmed text of `min..=max` characters, no control characters but newlines in long text.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        let v = value.trim();
        let n = v.chars().count();
        if n < min {
            self.fail(
                field,
                if n == 0 {
                    "err-required"
                } else {
                    "err-too-short"
                },
            );
        } else if n > max {
            self.fail(field, "err-too-long");
        } else if v
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            self.fail(field, "err-invalid");
        }
        v.to_owned()
    }

    /// Empty, or a phone number: digits with optional +, spaces, dashes, brackets.
    pub fn phone(&mut self, field: &str, value: &str) -> String {
        let v = value.trim();
        let digits = v.chars().filter(char::is_ascii_digit).count();
        let ok = v.is_empty()
            || (v.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
                && (3..=15).contains(&digits)
                && v.len() <= 32);
        if !ok {
            self.fail(field, "err-phone");
        }
        v.to_owned()
    }

    /// Empty, or something shaped like an e-mail address.
    pub fn email(&mut self, field: &str, value: &str) -> String {
        let v = value.trim();
        let ok = v.is_empty()
            || (v.len() <= 254
                && v.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
                })
                && !v.chars().any(char::is_whitespace));
        if !ok {
            self.fail(field, "err-email");
        }
        v.to_owned()
    }

    /// One of a fixed set.
    pub fn choice(&mut self, field: &str, value: &str, allowed: &[&str]) -> String {
        let v = value.trim();
        if v.is_empty() {
            self.fail(field, "err-required");
        } else if !allowed.contains(&v) {
            self.fail(field, "err-choice");
        }
        v.to_owned()
    }

    /// `HH:MM`, 24-hour.
    pub fn hhmm(&mut self, field: &str, value: &str) -> String {
        let v = value.trim();
        if parse_hhmm(v).is_none() {
            self.fail(field, "err-time");
        }
        v.to_owned()
    }

    pub fn done(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
}

/// Minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<jiff::civil::Date> {
    if s.len() != 10 {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_name_each_bad_field() {
        let mut c = Check::new();
        c.text("name", "  ", 1, 10);
        c.text("note", "x".repeat(11).as_str(), 0, 10);
        c.phone("phone", "+7 (701) 123-45-67");
        c.phone("fax", "call me");
        c.email("email", "a@b.kz");
        c.email("email2", "nope");
        c.hhmm("starts", "24:00");
        c.choice("kind", "moon", &["sun"]);
        let codes: Vec<_> = c
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("name", "err-required"),
                ("note", "err-too-long"),
                ("fax", "err-phone"),
                ("email2", "err-email"),
                ("starts", "err-time"),
                ("kind", "err-choice"),
            ]
        );
    }

    #[test]
    fn times_and_dates() {
        assert_eq!(parse_hhmm("08:30"), Some(510));
        assert_eq!(parse_hhmm("8:30"), None);
        assert!(parse_date("2026-02-29").is_none());
        assert!(parse_date("2028-02-29").is_some());
    }
}
