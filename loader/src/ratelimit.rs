//! The call budget, as a pure state machine: time comes in as seconds (from the caller's
//! clock), decisions come out. Every call the loader makes, reads included, passes here.
//!
//! Two sliding windows (an hour and a minute) make the budget a hard ceiling: no 3600 s or
//! 60 s window ever holds more calls than allowed. Calls are also paced evenly, so the rate is
//! predictable (the ETA printed before a push relies on it) and the server never sees bursts.

use std::collections::VecDeque;

/// What the server told us about its own limit on a response.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ServerHint {
    /// `Retry-After`, seconds.
    pub retry_after: Option<f64>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset`: seconds from now (values that look like epoch seconds are
    /// converted by the caller).
    pub reset_in: Option<f64>,
    /// Whether the response was a 429.
    pub throttled: bool,
}

/// The budget the loader keeps to.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    per_hour: usize,
    per_minute: usize,
    hour: VecDeque<f64>,
    minute: VecDeque<f64>,
    /// The budget's hour and minute, in real seconds (shorter against a sandbox whose clock
    /// runs fast).
    hour_len: f64,
    minute_len: f64,
    next_slot: f64,
    blocked_until: f64,
    backoff: f64,
    /// Calls admitted so far.
    pub admitted: u64,
    /// 429 answers seen.
    pub throttled: u64,
}

const HOUR: f64 = 3600.0;
const MINUTE: f64 = 60.0;
/// How many pacing intervals of lag may be caught up at once.
const CATCH_UP_INTERVALS: f64 = 4.0;

impl RateLimiter {
    /// A limiter allowing `per_hour` calls in any hour and `per_minute` in any minute.
    pub fn new(per_hour: u32, per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_hour: per_hour.max(1) as usize,
            per_minute: per_minute.max(1) as usize,
            hour: VecDeque::new(),
            minute: VecDeque::new(),
            hour_len: HOUR,
            minute_len: MINUTE,
            next_slot: 0.0,
            blocked_until: 0.0,
            backoff: 0.0,
            admitted: 0,
            throttled: 0,
        }
    }

    /// The same budget for a rehearsal against a sandbox whose clock runs `scale` times
    /// faster (its `--time-scale`): an hour of budget lasts 3600/`scale` real seconds.
    pub fn time_scale(mut self, scale: f64) -> RateLimiter {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        self.hour_len = HOUR / scale;
        self.minute_len = MINUTE / scale;
        self
    }

    /// Sustained calls per second.
    pub fn rate(&self) -> f64 {
        (self.per_hour as f64 / self.hour_len).min(self.per_minute as f64 / self.minute_len)
    }

    /// Calls per real hour of the budget, whatever the time scale (the pace on a live
    /// account).
    pub fn per_real_hour(&self) -> f64 {
        (self.per_hour as f64).min(self.per_minute as f64 * 60.0)
    }

    /// Seconds `calls` calls will take at the sustained rate.
    pub fn eta_seconds(&self, calls: u64) -> f64 {
        calls as f64 / self.rate()
    }

    /// Asks to make a call at `now`: `Ok(())` admits it (and counts it), `Err(wait)` says how
    /// many seconds to wait before asking again.
    pub fn try_acquire(&mut self, now: f64) -> Result<(), f64> {
        while self.hour.front().is_some_and(|&t| t <= now - self.hour_len) {
            self.hour.pop_front();
        }
        while self
            .minute
            .front()
            .is_some_and(|&t| t <= now - self.minute_len)
        {
            self.minute.pop_front();
        }
        let mut wait: f64 = 0.0;
        if now < self.blocked_until {
            wait = wait.max(self.blocked_until - now);
        }
        if now < self.next_slot {
            wait = wait.max(self.next_slot - now);
        }
        if self.hour.len() >= self.per_hour {
            wait = wait.max(self.hour[0] + self.hour_len - now);
        }
        if self.minute.len() >= self.per_minute {
            wait = wait.max(self.minute[0] + self.minute_len - now);
        }
        if wait > 0.0 {
            return Err(wait);
        }
        self.hour.push_back(now);
        self.minute.push_back(now);
        // A call admitted a little late (timer granularity, a slow answer) does not push
        // every later slot back: up to a few intervals of lag are caught up, so the pace
        // (and the ETA) holds; the hard windows above still cap any burst.
        let interval = 1.0 / self.rate();
        self.next_slot = self.next_slot.max(now - CATCH_UP_INTERVALS * interval) + interval;
        self.admitted += 1;
        Ok(())
    }

    /// A wait the server asked for, if it is a number worth believing: never negative and
    /// never beyond the budget's hour (a reset in epoch milliseconds, or `inf`, would
    /// otherwise stop the load for good).
    fn sane(&self, wait: Option<f64>) -> Option<f64> {
        wait.filter(|w| w.is_finite())
            .map(|w| w.clamp(0.0, self.hour_len))
    }

    /// Takes in what a response said about the server's limit.
    pub fn observe(&mut self, now: f64, hint: ServerHint) {
        if hint.throttled {
            self.throttled += 1;
            // Without Retry-After, back off exponentially from a minute, capped at an hour.
            // Several requests in flight meet the same wall: only a 429 that comes after
            // the current wait is a reason to wait longer.
            let wait = match self.sane(hint.retry_after).or(self.sane(hint.reset_in)) {
                Some(w) => w,
                None if now < self.blocked_until && self.backoff > 0.0 => self.blocked_until - now,
                None => {
                    self.backoff = if self.backoff == 0.0 {
                        self.minute_len
                    } else {
                        (self.backoff * 2.0).min(self.hour_len)
                    };
                    self.backoff
                }
            };
            self.blocked_until = self.blocked_until.max(now + wait);
        } else {
            self.backoff = 0.0;
            if hint.remaining == Some(0) {
                // Someone else (another integration) spent the shared budget: wait for reset.
                if let Some(reset) = self.sane(hint.reset_in) {
                    self.blocked_until = self.blocked_until.max(now + reset);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives the limiter with a simulated clock; returns admission times.
    fn simulate(l: &mut RateLimiter, calls: usize) -> Vec<f64> {
        let mut now = 0.0;
        let mut times = Vec::new();
        while times.len() < calls {
            match l.try_acquire(now) {
                Ok(()) => times.push(now),
                Err(wait) => now += wait,
            }
        }
        times
    }

    #[test]
    fn never_exceeds_either_window_and_paces_evenly() {
        let mut l = RateLimiter::new(1000, 400);
        let times = simulate(&mut l, 2500);
        for (i, &t) in times.iter().enumerate() {
            let in_hour = times[i..].iter().take_while(|&&u| u < t + HOUR).count();
            assert!(in_hour <= 1000, "hour window from {t}: {in_hour}");
            let in_minute = times[i..].iter().take_while(|&&u| u < t + MINUTE).count();
            assert!(in_minute <= 400);
        }
        // 2500 calls at 1000/h take 2.5 hours, as the ETA says.
        let last = *times.last().unwrap();
        let eta = l.eta_seconds(2500);
        assert!((last - eta).abs() / eta < 0.01, "{last} vs {eta}");
    }

    #[test]
    fn a_scaled_hour_keeps_the_same_budget() {
        let mut l = RateLimiter::new(1000, 400).time_scale(360.0);
        let times = simulate(&mut l, 2500);
        for (i, &t) in times.iter().enumerate() {
            let in_hour = times[i..].iter().take_while(|&&u| u < t + 10.0).count();
            assert!(in_hour <= 1000, "scaled hour window from {t}: {in_hour}");
        }
        let last = *times.last().unwrap();
        assert!(
            (last - 25.0).abs() < 0.5,
            "2500 calls at 1000 per 10 s: {last}"
        );
    }

    #[test]
    fn honours_retry_after_and_backs_off_without_it() {
        let mut l = RateLimiter::new(36000, 400);
        assert!(l.try_acquire(0.0).is_ok());
        l.observe(
            0.0,
            ServerHint {
                retry_after: Some(30.0),
                throttled: true,
                ..ServerHint::default()
            },
        );
        assert_eq!(l.try_acquire(1.0), Err(29.0));
        assert!(l.try_acquire(30.0).is_ok());
        l.observe(
            31.0,
            ServerHint {
                throttled: true,
                ..ServerHint::default()
            },
        );
        assert_eq!(l.try_acquire(31.0), Err(60.0));
        l.observe(
            91.0,
            ServerHint {
                throttled: true,
                ..ServerHint::default()
            },
        );
        assert_eq!(l.try_acquire(91.0), Err(120.0), "doubles");
        // Another request in flight meets the same wall: no further doubling.
        l.observe(
            92.0,
            ServerHint {
                throttled: true,
                ..ServerHint::default()
            },
        );
        assert_eq!(l.try_acquire(92.0), Err(119.0), "not doubled again");
        l.observe(300.0, ServerHint::default());
        l.observe(
            300.0,
            ServerHint {
                remaining: Some(0),
                reset_in: Some(10.0),
                ..ServerHint::default()
            },
        );
        assert_eq!(l.try_acquire(300.0), Err(10.0));
        // A reset in epoch milliseconds, or a nonsense Retry-After, waits an hour at most.
        l.observe(
            400.0,
            ServerHint {
                retry_after: Some(f64::INFINITY),
                reset_in: Some(1.7e12),
                throttled: true,
                ..ServerHint::default()
            },
        );
        assert_eq!(l.try_acquire(400.0), Err(3600.0));
        assert_eq!(l.throttled, 5);
    }
}
