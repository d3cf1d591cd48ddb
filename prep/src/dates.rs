//! Dates as AllClients writes them: `M/D/YYYY` with an optional `h:mm[:ss] AM/PM`, `M/D/YY`,
//! year-less `MM/DD` (birthdays), and ISO. Date-only values stay calendar dates: nothing
//! here knows about time zones, so nothing can shift them.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

/// Which of the two slash-separated numbers is the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// Month first (US, and AllClients' own format).
    #[default]
    Mdy,
    /// Day first.
    Dmy,
}

/// A date as written, before the month/day order is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawDate {
    /// First number of a slash date, or the month of an ISO date.
    pub a: u8,
    /// Second number of a slash date, or the day of an ISO date.
    pub b: u8,
    /// The year, when written (two-digit years already widened).
    pub year: Option<i32>,
    /// Whether the order is fixed by the format (ISO) rather than by convention.
    pub iso: bool,
    /// Time of day, when written: hours (0–23), minutes, seconds.
    pub time: Option<(u8, u8, u8)>,
}

/// A settled date, ready for the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarDate {
    /// The calendar date.
    pub date: Date,
    /// Time of day, when the source had one.
    pub time: Option<(u8, u8, u8)>,
}

impl CalendarDate {
    /// `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM:SS` (local to the source account, no offset).
    pub fn to_iso(&self) -> String {
        use std::fmt::Write;
        let d = self.date;
        // One exact-size buffer: this runs for every dated row.
        let mut s = String::with_capacity(19);
        // Writing to a String cannot fail.
        let _ = write!(
            s,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        );
        if let Some((h, m, sec)) = self.time {
            let _ = write!(s, "T{h:02}:{m:02}:{sec:02}");
        }
        s
    }
}

/// Parses the shape of a date; `None` when it is not a date at all.
pub fn parse_raw(input: &str) -> Option<RawDate> {
    let s = crate::values::trim(input);
    if s.is_empty() || s.len() > 40 {
        return None;
    }
    let (date_part, time_part) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim())),
        None => (s, None),
    };
    let time = match time_part {
        Some(t) if !t.is_empty() => Some(parse_time(t)?),
        _ => None,
    };
    let sep = if date_part.contains('/') {
        '/'
    } else if date_part.contains('-') {
        '-'
    } else if date_part.contains('.') {
        '.'
    } else {
        return None;
    };
    // No date has more than three parts, so a fixed array saves an allocation per cell.
    let mut parts = [""; 3];
    let mut count = 0;
    for p in date_part.split(sep) {
        if count == parts.len()
            || p.is_empty()
            || p.len() > 4
            || !p.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        parts[count] = p;
        count += 1;
    }
    let num = |p: &str| p.parse::<u32>().ok();
    match &parts[..count] {
        [y, m, d] if y.len() == 4 => Some(RawDate {
            a: u8::try_from(num(m)?).ok()?,
            b: u8::try_from(num(d)?).ok()?,
            year: Some(num(y)? as i32),
            iso: true,
            time,
        }),
        [a, b, y] if a.len() <= 2 && b.len() <= 2 && (y.len() == 4 || y.len() == 2) => {
            let mut year = num(y)? as i32;
            if y.len() == 2 {
                // A fixed pivot keeps the result independent of today's date.
                year += if year < 50 { 2000 } else { 1900 };
            }
            Some(RawDate {
                a: u8::try_from(num(a)?).ok()?,
                b: u8::try_from(num(b)?).ok()?,
                year: Some(year),
                iso: false,
                time,
            })
        }
        [a, b] if a.len() <= 2 && b.len() <= 2 && sep == '/' && time.is_none() => Some(RawDate {
            a: u8::try_from(num(a)?).ok()?,
            b: u8::try_from(num(b)?).ok()?,
            year: None,
            iso: false,
            time: None,
        }),
        _ => None,
    }
}

fn parse_time(t: &str) -> Option<(u8, u8, u8)> {
    let t = t.trim_end_matches('Z');
    let (clock, meridiem) = if let Some(x) = strip_suffix_ignore_case(t, "AM") {
        (x.trim(), Some(false))
    } else if let Some(x) = strip_suffix_ignore_case(t, "PM") {
        (x.trim(), Some(true))
    } else {
        (t, None)
    };
    // Drop fractional seconds and a numeric offset, which a calendar export never needs.
    let clock = clock.split(['.', '+']).next()?;
    let mut nums = [0u8; 3];
    let mut count = 0;
    for p in clock.split(':') {
        if count == nums.len()
            || p.is_empty()
            || p.len() > 2
            || !p.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        nums[count] = p.parse().ok()?;
        count += 1;
    }
    if count < 2 {
        return None;
    }
    let (mut h, m, s) = (nums[0], nums[1], nums[2]);
    if m > 59 || s > 59 {
        return None;
    }
    match meridiem {
        Some(pm) => {
            if h == 0 || h > 12 {
                return None;
            }
            if h == 12 {
                h = 0;
            }
            if pm {
                h += 12;
            }
        }
        None if h > 23 => return None,
        None => {}
    }
    Some((h, m, s))
}

/// `text` without `suffix`, matched ignoring ASCII case.
fn strip_suffix_ignore_case<'t>(text: &'t str, suffix: &str) -> Option<&'t str> {
    let cut = text.len().checked_sub(suffix.len())?;
    let tail = text.as_bytes().get(cut..)?;
    // An ASCII suffix matched, so `cut` is a character boundary.
    tail.eq_ignore_ascii_case(suffix.as_bytes())
        .then(|| text.get(..cut))
        .flatten()
}

impl RawDate {
    /// Whether the value reads as a valid date in both orders with different results.
    pub fn is_ambiguous(&self) -> bool {
        !self.iso && self.a != self.b && self.a <= 12 && self.b <= 12
    }

    /// The order this value alone proves (a number above 12 can only be a day).
    pub fn proves(&self) -> Option<DateOrder> {
        if self.iso {
            return None;
        }
        match (self.a > 12, self.b > 12) {
            (true, false) => Some(DateOrder::Dmy),
            (false, true) => Some(DateOrder::Mdy),
            _ => None,
        }
    }

    /// Settles the date in `order`; `None` when there is no year or no such day.
    pub fn settle(&self, order: DateOrder) -> Option<CalendarDate> {
        let (month, day) = if self.iso || order == DateOrder::Mdy {
            (self.a, self.b)
        } else {
            (self.b, self.a)
        };
        let month = Month::try_from(month).ok()?;
        let date = Date::from_calendar_date(self.year?, month, day).ok()?;
        Some(CalendarDate {
            date,
            time: self.time,
        })
    }

    /// Whether the value is a month and day without a year (a birthday, typically).
    pub fn is_year_less(&self) -> bool {
        self.year.is_none()
    }
}

/// What a column's dates say about their order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderEvidence {
    /// Values that only make sense month-first.
    pub mdy: usize,
    /// Values that only make sense day-first.
    pub dmy: usize,
    /// Values valid both ways with different results.
    pub ambiguous: usize,
    /// A few of the ambiguous values, for the review queue.
    pub examples: Vec<String>,
}

impl OrderEvidence {
    /// Adds one value's evidence.
    pub fn add(&mut self, raw: &RawDate, text: &str) {
        match raw.proves() {
            Some(DateOrder::Mdy) => self.mdy += 1,
            Some(DateOrder::Dmy) => self.dmy += 1,
            None if raw.is_ambiguous() => {
                self.ambiguous += 1;
                if self.examples.len() < 3 {
                    self.examples.push(text.trim().to_string());
                }
            }
            None => {}
        }
    }

    /// The order the evidence supports, US month-first when nothing decides it.
    pub fn order(&self) -> DateOrder {
        if self.dmy > self.mdy {
            DateOrder::Dmy
        } else {
            DateOrder::Mdy
        }
    }

    /// Whether the column's order is a guess the customer should confirm.
    pub fn needs_review(&self) -> bool {
        self.ambiguous > 0 && (self.mdy == 0 && self.dmy == 0 || self.mdy > 0 && self.dmy > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(s: &str, order: DateOrder) -> Option<String> {
        parse_raw(s)?.settle(order).map(|d| d.to_iso())
    }

    #[test]
    fn allclients_formats() {
        assert_eq!(
            iso("12/31/2014 12:46:50 PM", DateOrder::Mdy).unwrap(),
            "2014-12-31T12:46:50"
        );
        assert_eq!(
            iso("1/3/2015 7:03:10 AM", DateOrder::Mdy).unwrap(),
            "2015-01-03T07:03:10"
        );
        assert_eq!(
            iso("10/2/2014 3:22 PM", DateOrder::Mdy).unwrap(),
            "2014-10-02T15:22:00"
        );
        assert_eq!(
            iso("12/1/2014 12:05 AM", DateOrder::Mdy).unwrap(),
            "2014-12-01T00:05:00"
        );
        assert_eq!(iso("2019-03-04", DateOrder::Dmy).unwrap(), "2019-03-04");
        assert_eq!(
            iso("2019-03-04T10:11:12Z", DateOrder::Mdy).unwrap(),
            "2019-03-04T10:11:12"
        );
        assert_eq!(iso("4/5/21", DateOrder::Mdy).unwrap(), "2021-04-05");
        assert_eq!(iso("4/5/21", DateOrder::Dmy).unwrap(), "2021-05-04");
        assert_eq!(iso("2/30/2020", DateOrder::Mdy), None);
        assert_eq!(iso("13:00 PM", DateOrder::Mdy), None);
        assert!(parse_raw("hello").is_none());
        assert!(parse_raw("1234").is_none());
        assert!(parse_raw("12/25").unwrap().is_year_less());
    }

    #[test]
    fn ambiguity_evidence() {
        let mut ev = OrderEvidence::default();
        for v in ["03/04/2020", "05/06/2020"] {
            ev.add(&parse_raw(v).unwrap(), v);
        }
        assert!(ev.needs_review());
        ev.add(&parse_raw("25/12/2020").unwrap(), "25/12/2020");
        assert!(!ev.needs_review());
        assert_eq!(ev.order(), DateOrder::Dmy);
        assert!(!parse_raw("04/04/2020").unwrap().is_ambiguous());
    }
}
