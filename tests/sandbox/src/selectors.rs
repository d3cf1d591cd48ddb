//! The fixed selector lists (`/selector/*`); owners come from the store's users.

use serde_json::{Value, json};

use crate::fields::RefList;

/// Contact statuses (`/selector/contact_statuses`).
pub const CONTACT_STATUSES: &[(u64, &str)] = &[
    (70_000_000_101, "New"),
    (70_000_000_102, "Contacted"),
    (70_000_000_103, "Interested"),
    (70_000_000_104, "Customer"),
];

/// Lifecycle stages with the statuses that belong to them.
pub const LIFECYCLE_STAGES: &[(u64, &str, &[u64])] = &[
    (
        70_000_000_201,
        "Lead",
        &[70_000_000_101, 70_000_000_102, 70_000_000_103],
    ),
    (70_000_000_202, "Customer", &[70_000_000_104]),
];

/// Lead sources.
pub const LEAD_SOURCES: &[(u64, &str)] = &[
    (70_000_000_301, "Web"),
    (70_000_000_302, "Email"),
    (70_000_000_303, "Referral"),
    (70_000_000_304, "Import"),
];

/// Territories.
pub const TERRITORIES: &[(u64, &str)] = &[(70_000_000_401, "North"), (70_000_000_402, "South")];

/// Industry types.
pub const INDUSTRY_TYPES: &[(u64, &str)] = &[
    (70_000_000_501, "Software"),
    (70_000_000_502, "Manufacturing"),
    (70_000_000_503, "Retail"),
];

/// Business types.
pub const BUSINESS_TYPES: &[(u64, &str)] = &[
    (70_000_000_601, "Customer"),
    (70_000_000_602, "Partner"),
    (70_000_000_603, "Vendor"),
];

/// Whether `id` is in a fixed list (users and accounts are checked against the store).
pub fn fixed_list_contains(list: RefList, id: u64) -> bool {
    let pairs: &[(u64, &str)] = match list {
        RefList::Territories => TERRITORIES,
        RefList::LeadSources => LEAD_SOURCES,
        RefList::ContactStatuses => CONTACT_STATUSES,
        RefList::IndustryTypes => INDUSTRY_TYPES,
        RefList::BusinessTypes => BUSINESS_TYPES,
        RefList::LifecycleStages => return LIFECYCLE_STAGES.iter().any(|s| s.0 == id),
        RefList::Users | RefList::SalesAccounts => return false,
    };
    pairs.iter().any(|p| p.0 == id)
}

/// The body of a fixed selector by its path name, e.g. `territories` → `{"territories":[...]}`.
/// `owners` is not here: it needs the store.
pub fn fixed_selector(name: &str) -> Option<Value> {
    let simple = |pairs: &[(u64, &str)]| -> Vec<Value> {
        pairs
            .iter()
            .enumerate()
            .map(|(i, (id, n))| json!({"id": id, "name": n, "position": i + 1}))
            .collect()
    };
    let list = match name {
        "contact_statuses" => CONTACT_STATUSES
            .iter()
            .enumerate()
            .map(|(i, (id, n))| {
                let stage = LIFECYCLE_STAGES
                    .iter()
                    .find(|s| s.2.contains(id))
                    .map(|s| s.0);
                json!({"id": id, "name": n, "position": i + 1, "lifecycle_stage_id": stage})
            })
            .collect(),
        "lifecycle_stages" => LIFECYCLE_STAGES
            .iter()
            .enumerate()
            .map(|(i, (id, n, statuses))| {
                json!({"id": id, "name": n, "position": i + 1, "disabled": false,
                       "default": true, "type": "Custom", "contact_status_ids": statuses})
            })
            .collect(),
        "lead_sources" => simple(LEAD_SOURCES),
        "territories" => simple(TERRITORIES),
        "industry_types" => simple(INDUSTRY_TYPES),
        "business_types" => simple(BUSINESS_TYPES),
        _ => return None,
    };
    Some(json!({ name: list }))
}
