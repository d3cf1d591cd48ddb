//! Dates as AllClients writes them: `M/D/YYYY` with an optional `h:mm[:ss] AM/PM`, `M/D/YY`,
//! year-less `MM/DD` (birthdays), and ISO. Date-only values stay calendar dates: nothing
//! here knows about time zones, so nothing can shift them.

use crate::model::Text;
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

/// The length of an ISO date with its time of day (`YYYY-MM-DDTHH:MM:SS`).
const ISO_LEN: usize = 19;

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
        let mut buf = [0; ISO_LEN];
        match self.iso_in(&mut buf) {
            Some(iso) => iso.to_string(),
            None => self.formatted_iso(),
        }
    }

    /// [`Self::to_iso`] as a contact's value: at most 19 bytes, held inline natively.
    pub fn to_iso_text(&self) -> Text {
        let mut buf = [0; ISO_LEN];
        match self.iso_in(&mut buf) {
            Some(iso) => Text::from(iso),
            None => Text::from(self.formatted_iso()),
        }
    }

    /// The ISO text written into `buf`; `None` for a year outside 0–9999.
    fn iso_in<'b>(&self, buf: &'b mut [u8; ISO_LEN]) -> Option<&'b str> {
        let d = self.date;
        // Digits written straight into a buffer on the stack: this runs for every dated
        // row, and `write!` through the formatter cost more than the date's parsing. Years
        // here come from at most four digits; any other goes through the formatter.
        let y = u16::try_from(d.year()).ok().filter(|&y| y <= 9999)?;
        let mut two = |at: usize, n: u8| {
            buf[at] = b'0' + n / 10 % 10;
            buf[at + 1] = b'0' + n % 10;
        };
        two(0, (y / 100) as u8);
        two(2, (y % 100) as u8);
        two(5, u8::from(d.month()));
        two(8, d.day());
        let len = match self.time {
            None => 10,
            Some((h, m, sec)) => {
                two(11, h);
                two(14, m);
                two(17, sec);
                buf[10] = b'T';
                buf[13] = b':';
                buf[16] = b':';
                ISO_LEN
            }
        };
        buf[4] = b'-';
        buf[7] = b'-';
        std::str::from_utf8(&buf[..len]).ok()
    }

    /// [`Self::to_iso`] through the formatter, for years outside 0–9999.
    fn formatted_iso(self) -> String {
        use std::fmt::Write;
        let d = self.date;
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
    // Read as bytes: every separator is ASCII, so a byte position found is a character
    // boundary, and this runs for every date cell, several times (proposal, checks, build).
    let bytes = s.as_bytes();
    let (date_part, time_part) = match bytes.iter().position(|&b| b == b' ' || b == b'T') {
        Some(i) => (&bytes[..i], Some(s[i + 1..].trim())),
        None => (bytes, None),
    };
    let time = match time_part {
        Some(t) if !t.is_empty() => Some(parse_time(t)?),
        _ => None,
    };
    let sep = [b'/', b'-', b'.']
        .into_iter()
        .find(|sep| date_part.contains(sep))?;
    // Each part's value and digit count; no date has more than three parts.
    let mut parts = [(0u32, 0usize); 3];
    let mut count = 0;
    for p in date_part.split(|&b| b == sep) {
        if count == parts.len() {
            return None;
        }
        parts[count] = (digits(p, 4)?, p.len());
        count += 1;
    }
    let small = |n: u32| u8::try_from(n).ok();
    match parts[..count] {
        [(y, 4), (m, _), (d, _)] => Some(RawDate {
            a: small(m)?,
            b: small(d)?,
            year: Some(y as i32),
            iso: true,
            time,
        }),
        [(a, al), (b, bl), (y, yl)] if al <= 2 && bl <= 2 && (yl == 4 || yl == 2) => {
            let mut year = y as i32;
            if yl == 2 {
                // A fixed pivot keeps the result independent of today's date.
                year += if year < 50 { 2000 } else { 1900 };
            }
            Some(RawDate {
                a: small(a)?,
                b: small(b)?,
                year: Some(year),
                iso: false,
                time,
            })
        }
        [(a, al), (b, bl)] if al <= 2 && bl <= 2 && sep == b'/' && time.is_none() => {
            Some(RawDate {
                a: small(a)?,
                b: small(b)?,
                year: None,
                iso: false,
                time: None,
            })
        }
        _ => None,
    }
}

/// The value of 1 to `max` ASCII digits; `None` for anything else.
fn digits(p: &[u8], max: usize) -> Option<u32> {
    if p.is_empty() || p.len() > max {
        return None;
    }
    p.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
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
    let clock = clock.as_bytes();
    let clock = match clock.iter().position(|&b| b == b'.' || b == b'+') {
        Some(i) => &clock[..i],
        None => clock,
    };
    let mut nums = [0u8; 3];
    let mut count = 0;
    for p in clock.split(|&b| b == b':') {
        if count == nums.len() {
            return None;
        }
        // Two digits at most, so the value fits.
        nums[count] = digits(p, 2)? as u8;
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

    /// Adds the evidence of values read after these: the result is what adding them one by
    /// one gives (counts summed, the first examples kept).
    pub fn merge(&mut self, later: OrderEvidence) {
        self.mdy += later.mdy;
        self.dmy += later.dmy;
        self.ambiguous += later.ambiguous;
        let room = 3usize.saturating_sub(self.examples.len());
        self.examples.extend(later.examples.into_iter().take(room));
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

    /// Values along every path of the parser, each with what it reads (month-or-day,
    /// day-or-month, year, ISO, time), as the parser read them when it still split strings
    /// on characters: reading bytes changed none of them.
    #[test]
    fn parse_raw_cases() {
        type Read = Option<(u8, u8, Option<i32>, bool, Option<(u8, u8, u8)>)>;
        let cases: &[(&str, Read)] = &[
            (
                "12/31/2014 12:46:50 PM",
                Some((12, 31, Some(2014), false, Some((12, 46, 50)))),
            ),
            (
                "2020-02-29T23:59:59Z",
                Some((2, 29, Some(2020), true, Some((23, 59, 59)))),
            ),
            ("3/4/99", Some((3, 4, Some(1999), false, None))),
            ("3/4/49", Some((3, 4, Some(2049), false, None))),
            ("3/4/50", Some((3, 4, Some(1950), false, None))),
            ("12/25", Some((12, 25, None, false, None))),
            ("12/25 9:00", None),
            ("1.2.2020", Some((1, 2, Some(2020), false, None))),
            ("2020.1.2", Some((1, 2, Some(2020), true, None))),
            ("31-12-2020", Some((31, 12, Some(2020), false, None))),
            ("2020-1-2 0:00 am", None),
            (
                "1/2/2020 12:00 AM",
                Some((1, 2, Some(2020), false, Some((0, 0, 0)))),
            ),
            (
                "1/2/2020 12:00 PM",
                Some((1, 2, Some(2020), false, Some((12, 0, 0)))),
            ),
            ("1/2/2020 13:00 PM", None),
            ("1/2/2020 0:00 AM", None),
            ("1/2/2020 24:00", None),
            ("1/2/2020 23:60", None),
            (
                "1/2/2020 10:30.25+02",
                Some((1, 2, Some(2020), false, Some((10, 30, 0)))),
            ),
            (
                "1/2/2020T10:30:00Z",
                Some((1, 2, Some(2020), false, Some((10, 30, 0)))),
            ),
            ("  1/2/2020  ", Some((1, 2, Some(2020), false, None))),
            (
                "\u{a0}1/2/2020\u{2003}",
                Some((1, 2, Some(2020), false, None)),
            ),
            ("1/2/2020\u{a0}9:05", None),
            (
                "1/2/2020 \u{a0}9:05\u{a0}",
                Some((1, 2, Some(2020), false, Some((9, 5, 0)))),
            ),
            ("1/2/12345", None),
            ("123/4/2020", None),
            ("1//2020", None),
            ("1/2/3/4", None),
            ("2020-13-45", Some((13, 45, Some(2020), true, None))),
            ("2020-300-1", None),
            ("1-2", None),
            ("1/2/2020 9", None),
            ("1/2/2020 9:5:3:1", None),
            (
                "1/2/2020 9:05:07 pm",
                Some((1, 2, Some(2020), false, Some((21, 5, 7)))),
            ),
            ("x", None),
            ("", None),
            ("T", None),
            ("1/2/2020 ", Some((1, 2, Some(2020), false, None))),
            ("1/2/2020 é", None),
            ("0/0/0000", Some((0, 0, Some(0), false, None))),
            (
                "1/2/2020 1:2Z",
                Some((1, 2, Some(2020), false, Some((1, 2, 0)))),
            ),
        ];
        for (value, want) in cases {
            let got = parse_raw(value).map(|r| (r.a, r.b, r.year, r.iso, r.time));
            assert_eq!(&got, want, "{value:?}");
        }
    }

    /// The digits written by hand are what the formatter writes, for every year a date can
    /// have (negative and five-digit ones through the formatter), with and without a time.
    #[test]
    fn to_iso_writes_what_the_formatter_writes() {
        let years = (-9999..=9999)
            .step_by(7)
            .chain([-1, 0, 1, 9, 10, 99, 100, 999, 1000, 9999]);
        for (n, year) in years.enumerate() {
            let month = Month::try_from((n % 12) as u8 + 1).unwrap();
            let day = (n % 28) as u8 + 1;
            let date = Date::from_calendar_date(year, month, day).unwrap();
            let n = n as u8;
            for time in [None, Some((0, 0, 0)), Some((n % 24, n % 60, (n / 3) % 60))] {
                let d = CalendarDate { date, time };
                assert_eq!(d.to_iso(), d.formatted_iso(), "{d:?}");
                assert_eq!(d.to_iso_text(), d.formatted_iso(), "{d:?}");
            }
        }
        let d = CalendarDate {
            date: Date::from_calendar_date(7, Month::March, 4).unwrap(),
            time: Some((9, 5, 0)),
        };
        assert_eq!(d.to_iso(), "0007-03-04T09:05:00");
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

    /// Evidence gathered in parts and merged in order is the evidence of one pass, for any
    /// place the values are cut at.
    #[test]
    fn merged_evidence_is_one_passes() {
        let values = [
            "03/04/2020",
            "13/04/2020",
            "05/06/2020",
            "04/13/2020",
            "07/08/2020",
            "x",
            "09/10/2020",
            "11/12/2020",
            "2020-01-02",
            "01/02/2020",
        ];
        let of = |vs: &[&str]| {
            let mut ev = OrderEvidence::default();
            for v in vs {
                if let Some(raw) = parse_raw(v) {
                    ev.add(&raw, v);
                }
            }
            ev
        };
        let whole = of(&values);
        assert_eq!(whole.examples.len(), 3);
        for a in 0..=values.len() {
            for b in a..=values.len() {
                let mut ev = of(&values[..a]);
                ev.merge(of(&values[a..b]));
                ev.merge(of(&values[b..]));
                assert_eq!(ev, whole, "cut at {a} and {b}");
            }
        }
    }
}
