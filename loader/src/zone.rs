//! The AllClients account's time zone: the export writes wall-clock times there with no
//! offset, and Freshsales wants instants. Pure: a zone name in, dated strings out, through
//! jiff's bundled zone database (so every machine converts the same way).

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// A named IANA time zone.
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    /// The zone called `name` (`America/Chicago`, `UTC`, …), or why there is none.
    pub fn named(name: &str) -> Result<Zone, String> {
        let name = name.trim();
        TimeZone::get(name)
            .map(|tz| Zone {
                name: name.to_string(),
                tz,
            })
            .map_err(|_| {
                format!(
                    "'{name}' is not a time zone name (use an IANA name such as America/Chicago)"
                )
            })
    }

    /// UTC.
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".into(),
            tz: TimeZone::UTC,
        }
    }

    /// The zone's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A source-local `YYYY-MM-DDTHH:MM:SS` as the same wall-clock time with its offset
    /// (`…-06:00`). A time that does not exist (the hour skipped when clocks go forward) is
    /// moved forward by the gap, and an ambiguous one takes the earlier offset, as calendars
    /// do. `None` when `local` is not such a time.
    pub fn with_offset(&self, local: &str) -> Option<String> {
        let dt: DateTime = local.parse().ok()?;
        let zoned = self.tz.to_ambiguous_zoned(dt).compatible().ok()?;
        Some(zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
    }

    /// Midday of a calendar date `YYYY-MM-DD` in this zone, with its offset: a due date that
    /// stays the same calendar day wherever it is read.
    pub fn midday(&self, date: &str) -> Option<String> {
        self.with_offset(&format!("{}T12:00:00", date.get(..10)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_clock_times_get_the_offset_of_their_date() {
        let z = Zone::named("America/Chicago").unwrap();
        assert_eq!(
            z.with_offset("2021-03-04T14:05:00").as_deref(),
            Some("2021-03-04T14:05:00-06:00")
        );
        assert_eq!(
            z.with_offset("2021-07-04T14:05:00").as_deref(),
            Some("2021-07-04T14:05:00-05:00"),
            "daylight saving time"
        );
        // 2:30 on the spring-forward night does not exist in Chicago: 3:30 CDT.
        assert_eq!(
            z.with_offset("2021-03-14T02:30:00").as_deref(),
            Some("2021-03-14T03:30:00-05:00")
        );
        assert_eq!(
            z.midday("2021-03-04").as_deref(),
            Some("2021-03-04T12:00:00-06:00")
        );
        assert_eq!(z.with_offset("4 March"), None);
        assert!(Zone::named("Mars/Olympus").is_err());
        assert_eq!(
            Zone::utc().with_offset("2021-03-04T14:05:00").as_deref(),
            Some("2021-03-04T14:05:00+00:00")
        );
    }
}
