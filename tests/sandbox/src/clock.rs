//! Time: the scaled clock that drives rate limits, and wall-clock timestamps for records.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A clock running `scale` times faster than real time, counted from its creation.
#[derive(Debug, Clone)]
pub struct SimClock {
    start: Instant,
    scale: f64,
}

impl SimClock {
    /// A clock starting now.
    pub fn new(scale: f64) -> Self {
        SimClock {
            start: Instant::now(),
            scale,
        }
    }

    /// Simulated seconds since the clock started.
    pub fn now_secs(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * self.scale
    }

    /// Real seconds a client must wait for `sim_secs` simulated seconds to pass.
    pub fn to_real_secs(&self, sim_secs: f64) -> f64 {
        sim_secs / self.scale
    }
}

/// Seconds since the Unix epoch (wall clock).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Formats Unix seconds the way Freshsales does (ISO-8601 with an offset); the sandbox's
/// account lives in UTC, so the offset is always `+00:00`.
pub fn format_timestamp(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// The `YYYY-MM-DD` date of Unix seconds (UTC).
pub fn format_date(unix_secs: i64) -> String {
    let (y, m, d) = civil_from_days(unix_secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Unix seconds of an ISO 8601 date-time with an offset (`2021-03-04T14:05[:00]-06:00` or
/// `…Z`); `None` without an offset or when it is no real time.
pub fn parse_offset_datetime(s: &str) -> Option<i64> {
    let (date, rest) = (s.get(..10)?, s.get(10..)?);
    if !is_iso_date(date) || !rest.starts_with('T') {
        return None;
    }
    let rest = &rest[1..];
    let split = rest.find(['Z', '+', '-'])?;
    let (clock, zone) = rest.split_at(split);
    let parts: Vec<&str> = clock.split('.').next()?.split(':').collect();
    let num = |p: &str| -> Option<i64> {
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse().ok())?
    };
    let (h, m, sec) = match parts.as_slice() {
        [h, m] => (num(h)?, num(m)?, 0),
        [h, m, s] => (num(h)?, num(m)?, num(s)?),
        _ => return None,
    };
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let offset = match zone {
        "Z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (oh, om) = z[1..].split_once(':')?;
            sign * (num(oh)? * 3600 + num(om)? * 60)
        }
    };
    Some(date_days(date)? * 86_400 + h * 3600 + m * 60 + sec - offset)
}

/// Days since the Unix epoch of a `YYYY-MM-DD` date.
pub fn date_days(date: &str) -> Option<i64> {
    if !is_iso_date(date) {
        return None;
    }
    let y: i64 = date[..4].parse().ok()?;
    let m: i64 = date[5..7].parse().ok()?;
    let d: i64 = date[8..10].parse().ok()?;
    // Howard Hinnant's days-from-civil, the inverse of `civil_from_days`.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

// Howard Hinnant's days-to-civil algorithm; avoids a date crate for one conversion.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Whether `s` is a real calendar date written `YYYY-MM-DD`.
pub fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let max = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=max).contains(&d)
}

/// Whether `s` starts with a valid ISO date (`YYYY-MM-DD`, optionally followed by `T…`),
/// the form task due dates take.
pub fn is_iso_date_or_datetime(s: &str) -> bool {
    match s.get(..10) {
        Some(date) if is_iso_date(date) => s.len() == 10 || s.as_bytes()[10] == b'T',
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_and_leap_days() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(format_timestamp(951_782_400), "2000-02-29T00:00:00+00:00");
        assert_eq!(format_timestamp(1_700_000_000), "2023-11-14T22:13:20+00:00");
        assert_eq!(format_date(1_700_000_000), "2023-11-14");
    }

    #[test]
    fn parses_date_times_with_offsets() {
        assert_eq!(parse_offset_datetime("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_offset_datetime("2023-11-14T16:13:20-06:00"),
            Some(1_700_000_000)
        );
        assert_eq!(
            parse_offset_datetime("2023-11-14T22:13+00:00"),
            Some(1_699_999_980)
        );
        assert_eq!(
            parse_offset_datetime("2023-11-14T22:13:20"),
            None,
            "no offset"
        );
        assert_eq!(parse_offset_datetime("2023-02-30T10:00:00Z"), None);
        assert_eq!(date_days("2000-02-29"), Some(11_016));
    }

    #[test]
    fn validates_dates() {
        assert!(is_iso_date("2024-02-29"));
        assert!(!is_iso_date("2023-02-29"));
        assert!(!is_iso_date("2024-13-01"));
        assert!(!is_iso_date("24-01-01"));
        assert!(!is_iso_date("2024/01/01"));
        assert!(is_iso_date_or_datetime("2024-05-01T10:00:00Z"));
        assert!(is_iso_date_or_datetime("2024-05-01"));
        assert!(!is_iso_date_or_datetime("2024-05-01 10:00"));
        assert!(!is_iso_date_or_datetime("tomorrow"));
    }

    #[test]
    fn scaled_clock_converts_back_to_real_time() {
        let c = SimClock::new(3600.0);
        assert!((c.to_real_secs(3600.0) - 1.0).abs() < 1e-9);
    }
}
