//! Fault decisions drawn from a seeded RNG, so a run with the same seed and the same
//! request order fails the same way.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::FaultConfig;

/// What goes wrong with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing.
    None,
    /// Answer with this 5xx status without applying the request.
    ServerError(u16),
    /// Drop the connection before applying the request.
    ResetBeforeApply,
    /// Apply the request, then drop the connection.
    LostAfterCommit,
}

/// The full plan for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultPlan {
    /// The failure, if any.
    pub fault: Fault,
    /// Delay before handling, in real milliseconds.
    pub latency_ms: Option<u64>,
}

/// Draws fault plans.
#[derive(Debug, Clone)]
pub struct FaultDecider {
    rng: ChaCha8Rng,
    config: FaultConfig,
}

impl FaultDecider {
    /// A decider seeded with `seed`.
    pub fn new(config: FaultConfig, seed: u64) -> Self {
        FaultDecider {
            rng: ChaCha8Rng::seed_from_u64(seed),
            config,
        }
    }

    /// Replaces the fault probabilities (the random stream goes on).
    pub fn set_config(&mut self, config: FaultConfig) {
        self.config = config;
    }

    /// The plan for the next request, a `method` request for `path`.
    pub fn decide_for(&mut self, method: &str, path: &str) -> FaultPlan {
        let plan = self.decide();
        if self.config.applies_to(method, path) {
            plan
        } else {
            FaultPlan {
                fault: Fault::None,
                latency_ms: plan.latency_ms,
            }
        }
    }

    /// The plan for the next request.
    pub fn decide(&mut self) -> FaultPlan {
        // Always draw the same number of values so one request's outcome doesn't shift the
        // stream for the next.
        let u: f64 = self.rng.random();
        let l: f64 = self.rng.random();
        let pick: usize = self.rng.random_range(0..3);
        let c = &self.config;
        let fault = if u < c.error_5xx {
            Fault::ServerError([500, 502, 503][pick])
        } else if u < c.error_5xx + c.reset_before_apply {
            Fault::ResetBeforeApply
        } else if u < c.error_5xx + c.reset_before_apply + c.lost_after_commit {
            Fault::LostAfterCommit
        } else {
            Fault::None
        };
        let latency_ms = (l < c.latency.probability).then_some(c.latency.ms);
        FaultPlan { fault, latency_ms }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LatencyConfig;

    #[test]
    fn no_faults_by_default() {
        let mut d = FaultDecider::new(FaultConfig::default(), 7);
        for _ in 0..1000 {
            assert_eq!(
                d.decide(),
                FaultPlan {
                    fault: Fault::None,
                    latency_ms: None
                }
            );
        }
    }

    #[test]
    fn scoped_faults_hit_only_the_named_calls() {
        let cfg = FaultConfig {
            reset_before_apply: 1.0,
            only: vec!["POST /notes".into()],
            ..FaultConfig::default()
        };
        let mut d = FaultDecider::new(cfg, 1);
        let hit = |d: &mut FaultDecider, m, p| d.decide_for(m, p).fault;
        assert_eq!(
            hit(&mut d, "POST", "/crm/sales/api/notes"),
            Fault::ResetBeforeApply
        );
        assert_eq!(
            hit(&mut d, "GET", "/crm/sales/api/contacts/5/notes"),
            Fault::None
        );
        assert_eq!(hit(&mut d, "POST", "/crm/sales/api/tasks"), Fault::None);
        d.set_config(FaultConfig::default());
        assert_eq!(hit(&mut d, "POST", "/crm/sales/api/notes"), Fault::None);
    }

    #[test]
    fn same_seed_same_sequence_and_rates_roughly_hold() {
        let cfg = FaultConfig {
            error_5xx: 0.2,
            reset_before_apply: 0.1,
            lost_after_commit: 0.1,
            latency: LatencyConfig {
                probability: 0.5,
                ms: 3,
            },
            only: Vec::new(),
        };
        let mut a = FaultDecider::new(cfg.clone(), 42);
        let mut b = FaultDecider::new(cfg, 42);
        let plans: Vec<_> = (0..4000).map(|_| a.decide()).collect();
        assert_eq!(plans, (0..4000).map(|_| b.decide()).collect::<Vec<_>>());
        let count = |f: &dyn Fn(&FaultPlan) -> bool| plans.iter().filter(|p| f(p)).count();
        let errors = count(&|p| matches!(p.fault, Fault::ServerError(_)));
        let resets = count(&|p| p.fault == Fault::ResetBeforeApply);
        let lost = count(&|p| p.fault == Fault::LostAfterCommit);
        let slow = count(&|p| p.latency_ms == Some(3));
        assert!((650..950).contains(&errors), "{errors}");
        assert!((300..500).contains(&resets), "{resets}");
        assert!((300..500).contains(&lost), "{lost}");
        assert!((1800..2200).contains(&slow), "{slow}");
        for status in [500, 502, 503] {
            assert!(plans.iter().any(|p| p.fault == Fault::ServerError(status)));
        }
    }

    #[test]
    fn certain_fault_always_fires() {
        let cfg = FaultConfig {
            lost_after_commit: 1.0,
            ..Default::default()
        };
        let mut d = FaultDecider::new(cfg, 1);
        assert!((0..100).all(|_| d.decide().fault == Fault::LostAfterCommit));
    }
}
