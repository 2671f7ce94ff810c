//! Retaliation watch, the pure part: her roster in the four weeks before the report against the
//! four weeks from the report date, and which changes are large enough to ask her union
//! representative to look into.
//!
//! Thresholds (per four-week window; a full-time rota is about 20 shifts):
//! - night shifts or weekend shifts: flagged when they rise by at least 3 and to at least one
//!   and a half times what they were. Being moved onto nights and weekends is the usual
//!   informal punishment; a rise of one or two is ordinary rota noise.
//! - total shifts: flagged when they change by at least 4 and by at least a quarter, either way:
//!   fewer shifts is lost pay (or edging her out), many more is overload.
//!
//! A flagged change is explained, and raises no alert, when her department's other staff as a
//! whole changed the same way across the same windows (their mean counts pass the same
//! threshold): a department-wide rota change is not aimed at her. Anything else, including
//! leave she asked for, this system cannot see, so the alert asks the representative to look.

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

/// Days in each window.
pub const WINDOW_DAYS: i64 = 28;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Counts {
    pub total: u32,
    pub nights: u32,
    pub weekends: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Total,
    Nights,
    Weekends,
}

/// Her roster before and after, and what stands out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Comparison {
    #[schema(value_type = String)]
    pub report_day: Date,
    pub before: Counts,
    pub after: Counts,
    /// Changes past the thresholds that her department's rota does not explain.
    pub flagged: Vec<Measure>,
    /// Changes past the thresholds that her department as a whole shared.
    pub explained: Vec<Measure>,
}

/// The two windows: `[day - 28, day - 1]` and `[day, day + 27]`.
pub fn windows(day: Date) -> Option<((Date, Date), (Date, Date))> {
    let d = |n: i64| day.checked_add(jiff::Span::new().days(n)).ok();
    Some(((d(-WINDOW_DAYS)?, d(-1)?), (day, d(WINDOW_DAYS - 1)?)))
}

/// Counts roster entries (the local start date and the shift code) falling in `[from, to]`.
/// A night shift is the shift coded `night`; a weekend shift starts on a Saturday or Sunday.
pub fn count(entries: &[(Date, String)], from: Date, to: Date) -> Counts {
    entries.iter().filter(|(d, _)| *d >= from && *d <= to).fold(
        Counts::default(),
        |mut c, (d, code)| {
            c.total += 1;
            c.nights += u32::from(code == "night");
            c.weekends += u32::from(matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday));
            c
        },
    )
}

fn rose(before: u32, after: u32) -> bool {
    after >= before + 3 && 2 * after >= 3 * before
}

fn moved(before: u32, after: u32) -> bool {
    let diff = before.abs_diff(after);
    diff >= 4 && 4 * diff >= before.max(after)
}

pub fn flags(before: Counts, after: Counts) -> Vec<Measure> {
    let mut out = vec![];
    if moved(before.total, after.total) {
        out.push(Measure::Total);
    }
    if rose(before.nights, after.nights) {
        out.push(Measure::Nights);
    }
    if rose(before.weekends, after.weekends) {
        out.push(Measure::Weekends);
    }
    out
}

/// The mean counts of her department's other staff, rounded to the nearest shift.
pub fn mean(peers: &[Counts]) -> Counts {
    let n = peers.len() as u32;
    if n == 0 {
        return Counts::default();
    }
    let avg = |f: fn(&Counts) -> u32| (peers.iter().map(f).sum::<u32>() + n / 2) / n;
    Counts {
        total: avg(|c| c.total),
        nights: avg(|c| c.nights),
        weekends: avg(|c| c.weekends),
    }
}

/// Compares her roster around the report day, setting aside what her department's other staff
/// (`peers`: each one's roster entries) went through as well.
pub fn compare(
    entries: &[(Date, String)],
    peers: &[Vec<(Date, String)>],
    report_day: Date,
) -> Option<Comparison> {
    let ((b0, b1), (a0, a1)) = windows(report_day)?;
    let before = count(entries, b0, b1);
    let after = count(entries, a0, a1);
    let peer_flags = if peers.is_empty() {
        vec![]
    } else {
        let pb: Vec<Counts> = peers.iter().map(|e| count(e, b0, b1)).collect();
        let pa: Vec<Counts> = peers.iter().map(|e| count(e, a0, a1)).collect();
        flags(mean(&pb), mean(&pa))
    };
    let (explained, flagged) = flags(before, after)
        .into_iter()
        .partition(|m| peer_flags.contains(m));
    Some(Comparison {
        report_day,
        before,
        after,
        flagged,
        explained,
    })
}

/// Kinds of adverse treatment she can record.
pub const KINDS: [&str; 4] = ["shift_change", "disciplinary", "dismissal_threat", "other"];

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn c(total: u32, nights: u32, weekends: u32) -> Counts {
        Counts {
            total,
            nights,
            weekends,
        }
    }

    #[test]
    fn thresholds_table() {
        use Measure::*;
        let cases: &[(Counts, Counts, &[Measure])] = &[
            (c(20, 5, 6), c(20, 5, 6), &[]),
            // Rota noise: two more nights, one more weekend.
            (c(20, 5, 6), c(20, 7, 7), &[]),
            // Three more nights but not half as many again (6 -> 9 is exactly 1.5: flagged).
            (c(20, 6, 4), c(20, 9, 4), &[Nights]),
            (c(20, 7, 4), c(20, 10, 4), &[]),
            // Moved onto nights from none.
            (c(20, 0, 4), c(20, 3, 4), &[Nights]),
            (c(20, 4, 2), c(20, 4, 8), &[Weekends]),
            // Cut from 20 to 15 shifts: 5 and a quarter.
            (c(20, 4, 4), c(15, 4, 4), &[Total]),
            (c(20, 4, 4), c(17, 4, 4), &[]),
            // Small rotas: 4 -> 8 doubles.
            (c(4, 0, 0), c(8, 0, 0), &[Total]),
            (c(20, 2, 2), c(10, 8, 6), &[Total, Nights, Weekends]),
            // Fewer nights is not flagged by itself.
            (c(20, 8, 8), c(20, 0, 0), &[]),
        ];
        for (b, a, want) in cases {
            assert_eq!(flags(*b, *a), *want, "{b:?} -> {a:?}");
        }
    }

    #[test]
    fn counts_windows_around_the_day() {
        let day = date(2025, 6, 2); // a Monday
        let e = |d: Date, code: &str| (d, code.to_owned());
        let entries = vec![
            e(date(2025, 5, 4), "day"),    // before the window
            e(date(2025, 5, 5), "night"),  // first day of before
            e(date(2025, 5, 31), "day"),   // Saturday
            e(date(2025, 6, 1), "night"),  // Sunday, last day of before
            e(date(2025, 6, 2), "night"),  // report day: after
            e(date(2025, 6, 29), "day"),   // Sunday, last day of after
            e(date(2025, 6, 30), "night"), // past the window
        ];
        let cmp = compare(&entries, &[], day).expect("windows");
        assert_eq!(cmp.before, c(3, 2, 2));
        assert_eq!(cmp.after, c(2, 1, 1));
        assert!(cmp.flagged.is_empty());
    }

    /// `n` shifts coded `code` on consecutive days from `from`.
    fn run(from: Date, n: i64, code: &str) -> Vec<(Date, String)> {
        (0..n)
            .map(|i| {
                (
                    from.checked_add(jiff::Span::new().days(i)).expect("date"),
                    code.to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn a_change_the_whole_department_shared_is_explained() {
        let day = date(2025, 6, 2);
        let before = date(2025, 5, 5);
        // Her: 2 nights before, 10 after.
        let mut her = run(before, 2, "night");
        her.extend(run(day, 10, "night"));
        // Peers moved onto nights the same way: explained.
        let peers: Vec<_> = (0..3).map(|_| her.clone()).collect();
        let cmp = compare(&her, &peers, day).expect("windows");
        assert_eq!(cmp.flagged, []);
        assert_eq!(cmp.explained, [Measure::Total, Measure::Nights]);
        // Peers unchanged: hers is unexplained.
        let mut same = run(before, 6, "night");
        same.extend(run(day, 6, "night"));
        let cmp = compare(&her, &[same.clone(), same], day).expect("windows");
        assert!(cmp.flagged.contains(&Measure::Nights));
        assert!(cmp.explained.is_empty());
    }

    #[test]
    fn mean_rounds_to_the_nearest_shift() {
        assert_eq!(mean(&[]), c(0, 0, 0));
        assert_eq!(mean(&[c(3, 1, 0), c(4, 2, 1)]), c(4, 2, 1));
        assert_eq!(mean(&[c(3, 1, 0), c(4, 1, 0), c(4, 1, 1)]), c(4, 1, 0));
    }

    proptest! {
        #[test]
        fn no_change_is_never_flagged(t in 0u32..60, n in 0u32..30, w in 0u32..30) {
            prop_assert!(flags(c(t, n, w), c(t, n, w)).is_empty());
        }

        #[test]
        fn total_flag_is_symmetric(a in 0u32..60, b in 0u32..60) {
            prop_assert_eq!(
                flags(c(a, 0, 0), c(b, 0, 0)).contains(&Measure::Total),
                flags(c(b, 0, 0), c(a, 0, 0)).contains(&Measure::Total)
            );
        }
    }
}
