//! Write steps shared by contacts and sales accounts.

use serde_json::{Value, json};

use super::{Record, Store};
use crate::clock::format_timestamp;
use crate::config::{SandboxConfig, TagUpdateMode};
use crate::fields::{
    BuiltinKind, Entity, RefList, builtin_fields, merge_custom_fields, missing_required,
};
use crate::selectors::fixed_list_contains;
use crate::validate::{as_id, invalid, parse_tags};

/// Copies the plain built-in fields (text, numbers, selector ids) from `input`, checking each.
/// Unknown non-custom keys and read-only fields are ignored, as Rails-style APIs do.
pub(super) fn apply_builtins(
    store: &Store,
    e: Entity,
    rec: &mut Record,
    input: &Record,
    errors: &mut Vec<String>,
) {
    for field in builtin_fields(e) {
        let Some(v) = input.get(field.name) else {
            continue;
        };
        let ok = match field.kind {
            BuiltinKind::Special => continue,
            _ if v.is_null() => true,
            BuiltinKind::Text => v.is_string(),
            BuiltinKind::Int => v.is_i64() || v.is_u64(),
            BuiltinKind::Number => v.is_number(),
            BuiltinKind::Ref(list) => as_id(v).is_some_and(|id| ref_exists(store, list, id)),
        };
        if ok {
            rec.insert(field.name.into(), v.clone());
        } else {
            errors.push(invalid(field.name));
        }
    }
}

/// Whether an id exists in the list a built-in field refers to.
pub(super) fn ref_exists(store: &Store, list: RefList, id: u64) -> bool {
    match list {
        RefList::Users => store.has_user(id),
        RefList::SalesAccounts => store.sales_accounts.contains_key(&id),
        other => fixed_list_contains(other, id),
    }
}

/// `tags`: replaced or merged according to the config.
pub(super) fn apply_tags(
    rec: &mut Record,
    input: &Record,
    cfg: &SandboxConfig,
    errors: &mut Vec<String>,
) {
    let Some(v) = input.get("tags") else { return };
    match parse_tags(v) {
        Ok(new) => {
            let mut tags = match cfg.tag_update_mode {
                TagUpdateMode::Replace => Vec::new(),
                TagUpdateMode::Merge => rec
                    .get("tags")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|t| t.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            for t in new {
                if !tags.contains(&t) {
                    tags.push(t);
                }
            }
            rec.insert("tags".into(), json!(tags));
        }
        Err(m) => errors.push(m),
    }
}

/// `custom_field` merged key by key; then required custom fields are checked on create.
pub(super) fn apply_custom(
    store: &Store,
    e: Entity,
    rec: &mut Record,
    input: &Record,
    cfg: &SandboxConfig,
    creating: bool,
    errors: &mut Vec<String>,
) {
    let defs = store.custom_fields(e);
    let mut cf = rec
        .get("custom_field")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(v) = input.get("custom_field") {
        errors.extend(crate::fields::multi_select_form_errors(
            defs,
            v,
            cfg.multi_select_form,
        ));
    }
    if let Some(v) = input.get("custom_field")
        && let Err(mut errs) = merge_custom_fields(
            defs,
            &mut cf,
            v,
            cfg.unknown_cf_policy,
            cfg.dropdown_value_mode,
        )
    {
        errors.append(&mut errs);
    }
    if creating {
        errors.extend(missing_required(defs, &cf));
    }
    rec.insert("custom_field".into(), Value::Object(cf));
}

/// Fields every new record starts with.
pub(super) fn skeleton(e: Entity, store: &Store, now: i64) -> Record {
    let mut rec = Record::new();
    for field in builtin_fields(e) {
        rec.insert(field.name.into(), Value::Null);
    }
    rec.insert("tags".into(), json!([]));
    rec.insert("custom_field".into(), json!({}));
    rec.insert("owner_id".into(), json!(store.key_user()));
    rec.insert("created_at".into(), json!(format_timestamp(now)));
    rec
}
