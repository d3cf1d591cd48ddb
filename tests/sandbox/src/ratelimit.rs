//! Rate-limit accounting as a pure state machine over simulated seconds.
//!
//! Windows are fixed and aligned to the sandbox's start: hour `n` covers
//! `[3600n, 3600(n+1))` simulated seconds. Rejected calls do not use up budget.

use serde::Serialize;

/// Hourly budget plus per-minute cap for one account.
#[derive(Debug, Clone, Serialize)]
pub struct RateLimiter {
    hourly_limit: u32,
    per_minute_limit: u32,
    hour_window: u64,
    hour_used: u32,
    minute_window: u64,
    minute_used: u32,
}

/// Budget figures for the response headers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Hourly limit, when one is set.
    pub limit: Option<u32>,
    /// Calls left this hour, when a limit is set.
    pub remaining: Option<u32>,
    /// Simulated seconds until the hour window resets.
    pub reset_secs: f64,
}

/// The verdict on one call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Served; the budget after counting it.
    Allowed(Budget),
    /// Refused with 429.
    Limited {
        /// Budget (unchanged by the refusal).
        budget: Budget,
        /// Simulated seconds until a call would be allowed.
        retry_after_secs: f64,
    },
}

const HOUR: f64 = 3600.0;
const MINUTE: f64 = 60.0;

impl RateLimiter {
    /// A limiter; a limit of 0 means unlimited.
    pub fn new(hourly_limit: u32, per_minute_limit: u32) -> Self {
        RateLimiter {
            hourly_limit,
            per_minute_limit,
            hour_window: 0,
            hour_used: 0,
            minute_window: 0,
            minute_used: 0,
        }
    }

    /// Counts a call at simulated time `now` (seconds since start), or refuses it.
    pub fn check(&mut self, now: f64) -> Decision {
        let now = now.max(0.0);
        let hour = (now / HOUR) as u64;
        let minute = (now / MINUTE) as u64;
        if hour != self.hour_window {
            self.hour_window = hour;
            self.hour_used = 0;
        }
        if minute != self.minute_window {
            self.minute_window = minute;
            self.minute_used = 0;
        }
        let hour_end = (hour + 1) as f64 * HOUR - now;
        let minute_end = (minute + 1) as f64 * MINUTE - now;
        let hour_full = self.hourly_limit > 0 && self.hour_used >= self.hourly_limit;
        let minute_full = self.per_minute_limit > 0 && self.minute_used >= self.per_minute_limit;
        if hour_full || minute_full {
            let retry_after_secs = if hour_full { hour_end } else { minute_end };
            return Decision::Limited {
                budget: self.budget(hour_end),
                retry_after_secs,
            };
        }
        self.hour_used += 1;
        self.minute_used += 1;
        Decision::Allowed(self.budget(hour_end))
    }

    fn budget(&self, reset_secs: f64) -> Budget {
        let limited = self.hourly_limit > 0;
        Budget {
            limit: limited.then_some(self.hourly_limit),
            remaining: limited.then(|| self.hourly_limit.saturating_sub(self.hour_used)),
            reset_secs,
        }
    }

    /// Calls counted in the current hour window.
    pub fn hour_used(&self) -> u32 {
        self.hour_used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hourly_budget_runs_out_and_resets_next_hour() {
        let mut rl = RateLimiter::new(3, 0);
        for left in [2, 1, 0] {
            match rl.check(10.0) {
                Decision::Allowed(b) => assert_eq!(b.remaining, Some(left)),
                d => panic!("{d:?}"),
            }
        }
        match rl.check(100.0) {
            Decision::Limited {
                retry_after_secs,
                budget,
            } => {
                assert!((retry_after_secs - 3500.0).abs() < 1e-6);
                assert_eq!(budget.remaining, Some(0));
            }
            d => panic!("{d:?}"),
        }
        assert!(matches!(rl.check(3600.0), Decision::Allowed(b) if b.remaining == Some(2)));
    }

    #[test]
    fn minute_cap_refuses_until_the_next_minute() {
        let mut rl = RateLimiter::new(100, 2);
        assert!(matches!(rl.check(1.0), Decision::Allowed(_)));
        assert!(matches!(rl.check(2.0), Decision::Allowed(_)));
        match rl.check(30.0) {
            Decision::Limited {
                retry_after_secs, ..
            } => assert!((retry_after_secs - 30.0).abs() < 1e-6),
            d => panic!("{d:?}"),
        }
        assert!(matches!(rl.check(60.0), Decision::Allowed(b) if b.remaining == Some(97)));
    }

    #[test]
    fn zero_means_unlimited() {
        let mut rl = RateLimiter::new(0, 0);
        for _ in 0..10_000 {
            assert!(matches!(rl.check(0.0), Decision::Allowed(b) if b.limit.is_none()));
        }
    }
}
