//! Per-endpoint request counters, shown by `/__sandbox/state`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::faults::{Fault, FaultPlan};

/// Request counts. Endpoints are named `METHOD /path/{param}` without the base prefix.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counters {
    /// Every API request, whatever the outcome.
    pub total: u64,
    /// Requests per endpoint (429s, 401s and faulted requests included).
    pub requests: BTreeMap<String, u64>,
    /// 429s served per endpoint.
    pub rate_limited: BTreeMap<String, u64>,
    /// 401s served.
    pub unauthorized: u64,
    /// Faults injected, by kind.
    pub faults: FaultCounts,
}

/// Faults injected, by kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FaultCounts {
    /// 500/502/503 answers.
    pub error_5xx: u64,
    /// Connections dropped before applying.
    pub reset_before_apply: u64,
    /// Connections dropped after applying.
    pub lost_after_commit: u64,
    /// Delayed requests.
    pub latency: u64,
}

impl Counters {
    /// Counts a request to `endpoint`.
    pub fn request(&mut self, endpoint: &str) {
        self.total += 1;
        *self.requests.entry(endpoint.to_string()).or_default() += 1;
    }

    /// Counts a 429.
    pub fn limited(&mut self, endpoint: &str) {
        *self.rate_limited.entry(endpoint.to_string()).or_default() += 1;
    }

    /// Counts the faults of a plan.
    pub fn fault(&mut self, plan: &FaultPlan) {
        match plan.fault {
            Fault::None => {}
            Fault::ServerError(_) => self.faults.error_5xx += 1,
            Fault::ResetBeforeApply => self.faults.reset_before_apply += 1,
            Fault::LostAfterCommit => self.faults.lost_after_commit += 1,
        }
        if plan.latency_ms.is_some() {
            self.faults.latency += 1;
        }
    }
}
