//! What the account already holds of the bundle's accounts and contacts, learned before
//! their phase in batches of 100 (`POST /filtered_search/:entity`, §17.3) instead of one
//! lookup per record: a load into a fresh account then costs one call per record. Where
//! the account does not answer the batched form (detected by the preflight, or refused
//! here), nothing is learned and each record is looked up on its own as before.

use std::collections::HashMap;

use anyhow::Result;
use reqwest::Method;
use serde_json::{Value, json};

use super::parents::content_fingerprint;
use super::{Ctx, fingerprint};
use crate::account::each_record;
use crate::api::{CallError, Idempotency};
use prep::bundle::Record;

/// Records found, by the lower-cased value they were searched by; a value searched and not
/// found maps to `None`.
#[derive(Default)]
pub(super) struct Known {
    /// Contacts by email.
    pub emails: HashMap<String, Option<Value>>,
    /// Contacts by external id.
    pub external_ids: HashMap<String, Option<Value>>,
    /// Sales accounts by name.
    pub names: HashMap<String, Option<Value>>,
}

/// What the batches learned of `value` in the map `of` picks: `Some(found)` when it was
/// searched (`found` is `None` when it does not exist), `None` when nothing was learned.
pub(super) async fn lookup(
    ctx: &Ctx,
    of: fn(&Known) -> &HashMap<String, Option<Value>>,
    value: &str,
) -> Option<Option<Value>> {
    let known = ctx.known.lock().await;
    of(known.as_ref()?)
        .get(&value.trim().to_lowercase())
        .cloned()
}

/// Every email a contact record carries (its list, and the single `email` some answers add).
pub(crate) fn emails_of(r: &Value) -> Vec<String> {
    let mut out: Vec<String> = r["emails"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["value"].as_str().map(str::to_string))
        .collect();
    out.extend(r["email"].as_str().map(str::to_string));
    out
}

/// Searches `entity` for records whose `attribute` is one of `values`, 100 at a time;
/// `None` when the account refuses the form. Also what `loader plan` counts existing
/// contacts with (`account::existing_contacts`).
pub(crate) async fn search(
    client: &crate::api::Client,
    entity: &str,
    attribute: &str,
    values: &[String],
    matched: impl Fn(&Value) -> Vec<String>,
) -> Result<Option<HashMap<String, Option<Value>>>, CallError> {
    let mut out: HashMap<String, Option<Value>> =
        values.iter().map(|v| (v.to_lowercase(), None)).collect();
    let root = format!("{entity}s");
    for chunk in values.chunks(100) {
        let mut page = 1u64;
        loop {
            let body = json!({"filter_rule": [{"attribute": attribute, "operator": "is_in",
                "value": chunk}], "page": page, "per_page": 100});
            let a = match client
                .call(
                    Method::POST,
                    &format!("/filtered_search/{entity}"),
                    Some(&body),
                    Idempotency::Safe,
                )
                .await
            {
                Ok(a) if a.body[&root].is_array() => a,
                Ok(_)
                | Err(CallError::Rejected { .. })
                | Err(CallError::NotJson { status: 404, .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            for r in a.body[&root].as_array().into_iter().flatten() {
                for m in matched(r) {
                    if let Some(slot) = out.get_mut(&m.to_lowercase())
                        && slot.is_none()
                    {
                        *slot = Some(r.clone());
                    }
                }
            }
            if page >= a.body["meta"]["total_pages"].as_u64().unwrap_or(1) {
                break;
            }
            page += 1;
        }
    }
    Ok(Some(out))
}

/// Learns which of the bundle's accounts and contacts this run still has to write already
/// exist. Records the journal already answers for, or that are unchanged since `--since`,
/// are not searched.
pub(super) async fn learn(ctx: &Ctx, bundle: &std::path::Path) -> Result<()> {
    if !ctx.pre.batched_search {
        return Ok(());
    }
    let (mut emails, mut externals, mut names) = (Vec::new(), Vec::new(), Vec::new());
    {
        let state = ctx.state.lock().await;
        let pending = |key: &str, fp: &str| {
            state.id(key).is_none()
                && !state.first_pre_image.contains_key(key)
                && ctx.unchanged(key, fp).is_none()
        };
        each_record(bundle, |r| {
            match r {
                Record::Account(a) if pending(&a.key, &fingerprint(&a)) => {
                    names.push(a.name.trim().to_string())
                }
                Record::Contact(c) if pending(&c.key, &content_fingerprint(&c)) => match &c.email {
                    Some(e) => emails.push(e.trim().to_string()),
                    None => externals.push(c.key.clone()),
                },
                _ => {}
            }
            Ok(())
        })?;
    }
    let field = |name: &'static str| {
        move |r: &Value| r[name].as_str().map(str::to_string).into_iter().collect()
    };
    let c = &ctx.client;
    let found = (
        search(c, "contact", "contact_email.email", &emails, emails_of).await?,
        search(
            c,
            "contact",
            "external_id",
            &externals,
            field("external_id"),
        )
        .await?,
        search(c, "sales_account", "name", &names, field("name")).await?,
    );
    let mut known = ctx.known.lock().await;
    if let (Some(e), Some(x), Some(n)) = found {
        *known = Some(Known {
            emails: e,
            external_ids: x,
            names: n,
        });
    }
    Ok(())
}
