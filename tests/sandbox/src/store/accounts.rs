//! Sales account writes: `name` is required and unique (case-insensitive).

use serde_json::{Value, json};

use super::common::{apply_builtins, apply_custom, apply_tags, skeleton};
use super::{Ids, Record, Store};
use crate::clock::format_timestamp;
use crate::config::SandboxConfig;
use crate::error::{ApiError, ApiResult};
use crate::fields::Entity;

/// Builds the new state of an account from `existing` (None on create) and `input`.
pub(super) fn build(
    store: &Store,
    existing: Option<&Record>,
    input: &Record,
    cfg: &SandboxConfig,
    now: i64,
    _ids: &mut Ids,
) -> ApiResult<Record> {
    let creating = existing.is_none();
    let self_id = existing.and_then(|r| r.get("id")).and_then(Value::as_u64);
    let mut rec = match existing {
        Some(r) => r.clone(),
        None => skeleton(Entity::SalesAccount, store, now),
    };
    let mut errors = Vec::new();
    apply_builtins(store, Entity::SalesAccount, &mut rec, input, &mut errors);
    apply_tags(&mut rec, input, cfg, &mut errors);
    apply_custom(
        store,
        Entity::SalesAccount,
        &mut rec,
        input,
        cfg,
        creating,
        &mut errors,
    );
    match rec.get("name").and_then(Value::as_str).map(str::trim) {
        None | Some("") if creating || input.contains_key("name") => {
            errors.push("name can't be blank.".into())
        }
        Some(name) if input.contains_key("name") => {
            let name = name.to_string();
            if find_by_name(store, &name).is_some_and(|id| Some(id) != self_id) {
                errors.push(format!("Sales account with name {name} already exists."));
            }
            rec.insert("name".into(), json!(name));
        }
        _ => {}
    }
    if let Some(parent) = rec.get("parent_sales_account_id").and_then(Value::as_u64)
        && Some(parent) == self_id
    {
        errors.push("An account can't be its own parent.".into());
    }
    if !errors.is_empty() {
        return Err(ApiError::BadRequest(errors));
    }
    rec.insert("updated_at".into(), json!(format_timestamp(now)));
    Ok(rec)
}

/// The live account named `name` (case-insensitive), if any.
pub(super) fn find_by_name(store: &Store, name: &str) -> Option<u64> {
    store
        .sales_accounts
        .iter()
        .find(|(_, r)| {
            r.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .map(|(id, _)| *id)
}
