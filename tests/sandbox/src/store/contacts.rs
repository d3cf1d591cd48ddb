//! Contact writes: emails, mobile number, account links, and the uniqueness rules.

use serde_json::{Value, json};

use super::common::{apply_builtins, apply_custom, apply_tags, skeleton};
use super::{Ids, Record, Store};
use crate::clock::format_timestamp;
use crate::config::SandboxConfig;
use crate::error::{ApiError, ApiResult};
use crate::fields::Entity;
use crate::validate::{as_id, invalid, phone_digits, valid_email};

/// Builds the new state of a contact from `existing` (None on create) and `input`.
pub(super) fn build(
    store: &Store,
    existing: Option<&Record>,
    input: &Record,
    cfg: &SandboxConfig,
    now: i64,
    ids: &mut Ids,
) -> ApiResult<Record> {
    let creating = existing.is_none();
    let self_id = existing.and_then(|r| r.get("id")).and_then(Value::as_u64);
    let mut rec = match existing {
        Some(r) => r.clone(),
        None => {
            let mut r = skeleton(Entity::Contact, store, now);
            r.insert("emails".into(), json!([]));
            r.insert("sales_accounts".into(), json!([]));
            r.insert("lead_score".into(), json!(0));
            r
        }
    };
    let mut errors = Vec::new();
    apply_builtins(store, Entity::Contact, &mut rec, input, &mut errors);
    let before = errors.len();
    apply_emails(store, self_id, &mut rec, input, cfg, ids, &mut errors);
    apply_mobile(store, self_id, &mut rec, input, &mut errors);
    // A bad email or mobile already explains why there is none; don't pile on.
    let contact_point_errors = errors.len() > before;
    apply_accounts(store, &mut rec, input, &mut errors);
    apply_tags(&mut rec, input, cfg, &mut errors);
    apply_custom(
        store,
        Entity::Contact,
        &mut rec,
        input,
        cfg,
        creating,
        &mut errors,
    );
    let has = |k: &str| rec.get(k).is_some_and(|v| !v.is_null() && v != &json!([]));
    if creating
        && cfg.contact_needs_email_or_mobile
        && !contact_point_errors
        && !has("emails")
        && !has("mobile_number")
    {
        errors.push("Please provide an email or a mobile number.".into());
    }
    if !errors.is_empty() {
        return Err(ApiError::BadRequest(errors));
    }
    let name = |k: &str| rec.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let display = format!("{} {}", name("first_name"), name("last_name"))
        .trim()
        .to_string();
    rec.insert("display_name".into(), json!(display));
    let primary = primary_email(&rec);
    rec.insert("email".into(), json!(primary));
    rec.insert("updated_at".into(), json!(format_timestamp(now)));
    Ok(rec)
}

fn primary_email(rec: &Record) -> Option<String> {
    let emails = rec.get("emails").and_then(Value::as_array)?;
    emails
        .iter()
        .find(|e| e.get("is_primary") == Some(&json!(true)))
        .or_else(|| emails.first())
        .and_then(|e| e.get("value"))
        .and_then(Value::as_str)
        .map(String::from)
}

/// The three write forms: `emails` string, `emails` array of `{value, is_primary}` (or of
/// strings), and `email` string. Each replaces the contact's email list.
fn parse_emails(input: &Record) -> Option<Result<Vec<(String, bool)>, String>> {
    let v = input.get("emails").or_else(|| input.get("email"))?;
    let list = match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) if s.trim().is_empty() => Ok(Vec::new()),
        Value::String(s) => Ok(vec![(s.trim().to_string(), true)]),
        Value::Array(items) => items
            .iter()
            .filter(|i| i.get("_destroy") != Some(&json!(true)))
            .map(|i| match i {
                Value::String(s) => Ok((s.trim().to_string(), false)),
                Value::Object(o) => o
                    .get("value")
                    .and_then(Value::as_str)
                    .map(|s| {
                        (
                            s.trim().to_string(),
                            o.get("is_primary") == Some(&json!(true)),
                        )
                    })
                    .ok_or_else(|| invalid("emails")),
                _ => Err(invalid("emails")),
            })
            .collect(),
        _ => Err(invalid("emails")),
    };
    Some(list)
}

fn apply_emails(
    store: &Store,
    self_id: Option<u64>,
    rec: &mut Record,
    input: &Record,
    cfg: &SandboxConfig,
    ids: &mut Ids,
    errors: &mut Vec<String>,
) {
    if !cfg.email_string_form && input.get("emails").is_some_and(Value::is_string) {
        return errors.push("Invalid value for emails: send a list of {value, is_primary}.".into());
    }
    let list = match parse_emails(input) {
        None => return,
        Some(Err(m)) => return errors.push(m),
        Some(Ok(list)) => list,
    };
    let mut out = Vec::new();
    let any_primary = list.iter().any(|(_, p)| *p);
    for (i, (value, primary)) in list.iter().enumerate() {
        if !valid_email(value) {
            errors.push(format!("Invalid email: {value}"));
            continue;
        }
        if email_taken(store, self_id, value, cfg.recycle_bin_blocks_email) {
            errors.push(format!("Contact with email {value} already exists."));
            continue;
        }
        let is_primary = if any_primary { *primary } else { i == 0 };
        out.push(json!({"id": ids.next(), "value": value, "is_primary": is_primary, "label": null, "_destroy": false}));
    }
    rec.insert("emails".into(), Value::Array(out));
}

fn record_emails(r: &Record) -> impl Iterator<Item = &str> {
    r.get("emails")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("value").and_then(Value::as_str))
}

fn email_taken(store: &Store, self_id: Option<u64>, email: &str, recycled_count: bool) -> bool {
    let live = store
        .contacts
        .iter()
        .filter(|(id, _)| Some(**id) != self_id)
        .any(|(_, r)| record_emails(r).any(|e| e.eq_ignore_ascii_case(email)));
    let recycled = recycled_count
        && store
            .recycle_bin
            .iter()
            .filter(|r| r.get("record_type") == Some(&json!("Contact")))
            .any(|r| record_emails(r).any(|e| e.eq_ignore_ascii_case(email)));
    live || recycled
}

/// The live contact holding `email` (case-insensitive), if any.
pub(super) fn find_by_email(store: &Store, email: &str) -> Option<u64> {
    store
        .contacts
        .iter()
        .find(|(_, r)| record_emails(r).any(|e| e.eq_ignore_ascii_case(email)))
        .map(|(id, _)| *id)
}

fn apply_mobile(
    store: &Store,
    self_id: Option<u64>,
    rec: &mut Record,
    input: &Record,
    errors: &mut Vec<String>,
) {
    let Some(v) = input.get("mobile_number") else {
        return;
    };
    let s = match v {
        Value::Null => {
            rec.insert("mobile_number".into(), Value::Null);
            return;
        }
        Value::String(s) if s.trim().is_empty() => {
            rec.insert("mobile_number".into(), Value::Null);
            return;
        }
        Value::String(s) => s.trim(),
        _ => return errors.push(invalid("mobile_number")),
    };
    let Some(digits) = phone_digits(s) else {
        return errors.push(invalid("mobile_number"));
    };
    let taken = store
        .contacts
        .iter()
        .filter(|(id, _)| Some(**id) != self_id)
        .any(|(_, r)| {
            r.get("mobile_number")
                .and_then(Value::as_str)
                .and_then(phone_digits)
                .is_some_and(|d| d == digits)
        });
    if taken {
        return errors.push("The mobile number already exists.".into());
    }
    rec.insert("mobile_number".into(), json!(s));
}

/// `sales_accounts` replaces the links; `sales_account_id` sets the primary link and keeps the others.
fn apply_accounts(store: &Store, rec: &mut Record, input: &Record, errors: &mut Vec<String>) {
    let mut links: Vec<(u64, bool)> = rec
        .get("sales_accounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| {
            Some((
                l.get("id")?.as_u64()?,
                l.get("is_primary") == Some(&json!(true)),
            ))
        })
        .collect();
    if let Some(v) = input.get("sales_accounts") {
        match parse_links(store, v) {
            Ok(new) => links = new,
            Err(m) => errors.push(m),
        }
    }
    if let Some(v) = input.get("sales_account_id") {
        if v.is_null() {
            links.retain(|(_, p)| !p);
        } else {
            match as_id(v).filter(|id| store.sales_accounts.contains_key(id)) {
                Some(id) => {
                    links.retain(|(l, _)| *l != id);
                    links.iter_mut().for_each(|l| l.1 = false);
                    links.insert(0, (id, true));
                }
                None => errors.push(invalid("sales_account_id")),
            }
        }
    }
    if !links.is_empty() && !links.iter().any(|l| l.1) {
        links[0].1 = true;
    }
    let primary = links.iter().find(|l| l.1).map(|l| l.0);
    rec.insert(
        "sales_accounts".into(),
        json!(
            links
                .iter()
                .map(|(id, p)| json!({"id": id, "is_primary": p}))
                .collect::<Vec<_>>()
        ),
    );
    rec.insert("sales_account_id".into(), json!(primary));
}

fn parse_links(store: &Store, v: &Value) -> Result<Vec<(u64, bool)>, String> {
    let arr = v.as_array().ok_or_else(|| invalid("sales_accounts"))?;
    let mut out: Vec<(u64, bool)> = Vec::new();
    for item in arr {
        let id = item
            .get("id")
            .and_then(as_id)
            .ok_or_else(|| invalid("sales_accounts"))?;
        if !store.sales_accounts.contains_key(&id) {
            return Err(format!("Sales account {id} does not exist."));
        }
        if !out.iter().any(|(x, _)| *x == id) {
            out.push((id, item.get("is_primary") == Some(&json!(true))));
        }
    }
    let mut seen_primary = false;
    for l in &mut out {
        l.1 = l.1 && !seen_primary;
        seen_primary |= l.1;
    }
    Ok(out)
}

/// Read-time fields: account names (links to deleted accounts are hidden) and `links`.
pub(super) fn render_links(store: &Store, out: &mut Record) {
    let links: Vec<Value> = out
        .get("sales_accounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| {
            let id = l.get("id")?.as_u64()?;
            let acct = store.sales_accounts.get(&id)?;
            Some(json!({"id": id, "name": acct.get("name"), "is_primary": l.get("is_primary")}))
        })
        .collect();
    let primary = links
        .iter()
        .find(|l| l.get("is_primary") == Some(&json!(true)))
        .and_then(|l| l.get("id"))
        .cloned()
        .unwrap_or(Value::Null);
    out.insert("sales_accounts".into(), Value::Array(links));
    out.insert("sales_account_id".into(), primary);
    if let Some(id) = out.get("id").and_then(Value::as_u64) {
        out.insert(
            "links".into(),
            json!({"notes": format!("/contacts/{id}/notes")}),
        );
    }
}
