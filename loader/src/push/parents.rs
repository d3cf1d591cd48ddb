//! Accounts and contacts: idempotent upserts. The pre-image is read once, before the
//! first attempt, and journalled, so rollback can tell created from updated records and a
//! resumed run cannot mistake its own first attempt for an existing record.

use anyhow::{Result, anyhow};
use prep::model::{Account as BundleAccount, Contact};
use reqwest::Method;
use serde_json::{Value, json};

use super::{Ctx, Outcome, fingerprint, is_fatal, query, source_of};
use crate::api::{Answer, CallError, Idempotency};
use crate::journal::{Entry, Phase, PreImage};
use crate::payload;

async fn lookup_contact(ctx: &Ctx, email: &str) -> Result<PreImage, CallError> {
    // Learned in a batch before the phase: absent costs nothing, present one read by id.
    let known = super::known::lookup(ctx, |k| &k.emails, email).await;
    match known {
        Some(None) => return Ok(PreImage::Absent),
        Some(Some(found)) => {
            if let Some(id) = found["id"].as_i64() {
                return full_contact(ctx, id, &found).await;
            }
        }
        None => {}
    }
    let a = ctx
        .client
        .get(&query(
            "/lookup",
            &[("q", email.trim()), ("f", "email"), ("entities", "contact")],
        ))
        .await?;
    let found = a.body["contacts"]["contacts"].as_array().and_then(|list| {
        list.iter().find(|c| {
            let primary = c["email"]
                .as_str()
                .map(|e| e.eq_ignore_ascii_case(email.trim()))
                .unwrap_or(false);
            let any = c["emails"].as_array().is_some_and(|es| {
                es.iter().any(|e| {
                    e["value"]
                        .as_str()
                        .is_some_and(|v| v.eq_ignore_ascii_case(email.trim()))
                })
            });
            primary || any
        })
    });
    let Some(id) = found.and_then(|c| c["id"].as_i64()) else {
        return Ok(PreImage::Absent);
    };
    full_contact(ctx, id, found.unwrap_or(&Value::Null)).await
}

/// The whole record of a contact found by a search, as the pre-image: a search's entry may
/// be a summary, and rollback restores what the pre-image holds.
async fn full_contact(ctx: &Ctx, id: i64, found: &Value) -> Result<PreImage, CallError> {
    let full = ctx
        .client
        .get(&format!("/contacts/{id}?include=sales_accounts"))
        .await?;
    let record = match &full.body["contact"] {
        Value::Object(_) => full.body["contact"].clone(),
        _ => found.clone(),
    };
    Ok(PreImage::Present { id, record })
}

async fn lookup_account(ctx: &Ctx, name: &str) -> Result<PreImage, CallError> {
    let known = super::known::lookup(ctx, |k| &k.names, name).await;
    match known {
        Some(None) => return Ok(PreImage::Absent),
        Some(Some(record)) => {
            if let Some(id) = record["id"].as_i64() {
                return Ok(PreImage::Present { id, record });
            }
        }
        None => {}
    }
    let a = ctx
        .client
        .get(&query(
            "/lookup",
            &[
                ("q", name.trim()),
                ("f", "name"),
                ("entities", "sales_account"),
            ],
        ))
        .await?;
    let found = a.body["sales_accounts"]["sales_accounts"]
        .as_array()
        .and_then(|list| {
            list.iter().find(|x| {
                x["name"]
                    .as_str()
                    .is_some_and(|n| n.trim().eq_ignore_ascii_case(name.trim()))
            })
        });
    Ok(
        match found.and_then(|x| x["id"].as_i64().map(|id| (id, x.clone()))) {
            Some((id, record)) => PreImage::Present { id, record },
            None => PreImage::Absent,
        },
    )
}

/// Finds a contact created without email by its `external_id` (the bundle key we set),
/// paging the All Contacts view: only needed when a create's outcome was lost.
async fn find_by_external_id(ctx: &Ctx, key: &str) -> Result<Option<i64>, CallError> {
    // The cheap way first: a lookup on the field (unverified upstream for `external_id`;
    // a refusal just means paging a view instead).
    if let Ok(Some(id)) = lookup_external_id(ctx, key).await {
        return Ok(Some(id));
    }
    let filters = ctx.client.get("/contacts/filters").await?;
    let views = filters.body["filters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // Only a view of every contact can prove the contact is not there. View names follow
    // the account's language; without one called "All Contacts" the answer stays in doubt
    // rather than risk a second contact.
    let Some(view_id) = views
        .iter()
        .find(|v| {
            v["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("All Contacts"))
        })
        .and_then(|v| v["id"].as_i64())
    else {
        return Err(CallError::Ambiguous(
            "no \"All Contacts\" view to search for a contact whose create answer was lost".into(),
        ));
    };
    let mut page = 1;
    loop {
        let a = ctx
            .client
            .get(&format!(
                "/contacts/view/{view_id}?page={page}&per_page=100"
            ))
            .await?;
        if let Some(c) = a.body["contacts"]
            .as_array()
            .and_then(|l| l.iter().find(|c| c["external_id"].as_str() == Some(key)))
        {
            return Ok(c["id"].as_i64());
        }
        let total = a.body["meta"]["total_pages"].as_u64().unwrap_or(1);
        if page as u64 >= total {
            return Ok(None);
        }
        page += 1;
    }
}

/// One lookup for a contact whose `external_id` is `key` (the bundle key a load sets on
/// contacts without email).
async fn lookup_external_id(ctx: &Ctx, key: &str) -> Result<Option<i64>, CallError> {
    let known = super::known::lookup(ctx, |k| &k.external_ids, key).await;
    if let Some(found) = known {
        return Ok(found.and_then(|r| r["id"].as_i64()));
    }
    let a = ctx
        .client
        .get(&query(
            "/lookup",
            &[("q", key), ("f", "external_id"), ("entities", "contact")],
        ))
        .await?;
    Ok(a.body["contacts"]["contacts"].as_array().and_then(|l| {
        l.iter()
            .find(|c| c["external_id"].as_str() == Some(key))
            .and_then(|c| c["id"].as_i64())
    }))
}

fn tags_of(pre: &PreImage) -> Vec<String> {
    match pre {
        PreImage::Present { record, .. } => record["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The pre-image journalled before this record's first write, if an earlier run got that
/// far (whatever happened next: crash, lost answers, a retry given up).
async fn first_pre_image(ctx: &Ctx, key: &str) -> Option<PreImage> {
    ctx.state.lock().await.first_pre_image.get(key).cloned()
}

/// Whether an upsert created the record, from the journalled pre-image and the answer.
/// `again`: an earlier attempt at this record may have landed, so a 200 can be the answer
/// to our own create.
fn upsert_created(pre: &PreImage, ans: &Answer, id: i64, again: bool) -> bool {
    match pre {
        PreImage::Present { id: before, .. } => *before != id && ans.status == 201,
        // Absent before, and a clean first 200: the lookup missed a record that existed
        // (a secondary address, a lagging index). It is not ours to delete on rollback.
        _ => ans.status == 201 || again || ans.attempts > 1,
    }
}

/// Handles a record this run need not send: already loaded by an interrupted run of the same
/// bundle, or unchanged since the previous load (`--since`). Its id is kept for the records
/// that link to it.
async fn skip_loaded(
    ctx: &Ctx,
    phase: Phase,
    key: &str,
    fp: &str,
    done: Option<i64>,
) -> Result<bool> {
    if let Some(id) = done {
        ctx.ids.lock().await.insert(key.to_string(), id);
        ctx.count(phase, Outcome::Skipped("already loaded (resumed)".into()))
            .await;
        return Ok(true);
    }
    if let Some(id) = ctx.unchanged(key, fp) {
        ctx.ids.lock().await.insert(key.to_string(), id);
        let reason = "unchanged since previous load".to_string();
        ctx.log(Entry::Skipped {
            phase,
            key: key.into(),
            reason: reason.clone(),
        })
        .await?;
        ctx.count(phase, Outcome::Skipped(reason)).await;
        return Ok(true);
    }
    Ok(false)
}

pub(super) async fn push_account(ctx: &Ctx, a: BundleAccount) -> Result<()> {
    let fp = fingerprint(&a);
    let done = ctx.state.lock().await.id(&a.key);
    if skip_loaded(ctx, Phase::Accounts, &a.key, &fp, done).await? {
        return Ok(());
    }
    // As for contacts: the pre-image is read once and journalled, so after a crash the
    // journal, not the upsert's 200 (which would see our own first attempt), says whether
    // this load created the account.
    let earlier = first_pre_image(ctx, &a.key).await;
    let again = earlier.is_some();
    let pre = match earlier {
        Some(pre_image) => pre_image,
        None => match lookup_account(ctx, &a.name).await {
            Ok(p) => p,
            Err(e) if is_fatal(&e) => return Err(e.into()),
            Err(e) => {
                return ctx
                    .reject(Phase::Accounts, &a.key, String::new(), &a, &e)
                    .await;
            }
        },
    };
    ctx.log(Entry::Intent {
        phase: Phase::Accounts,
        key: a.key.clone(),
        pre_image: pre.clone(),
    })
    .await?;
    match ctx
        .client
        .call(
            Method::POST,
            "/sales_accounts/upsert",
            Some(&payload::account(&a)),
            Idempotency::Safe,
        )
        .await
    {
        Ok(ans) => {
            let id = ans.body["sales_account"]["id"]
                .as_i64()
                .ok_or_else(|| anyhow!("sales account upsert answered without an id"))?;
            let created = upsert_created(&pre, &ans, id, again);
            upserted(ctx, Phase::Accounts, &a.key, id, created, fp, None).await?;
        }
        Err(e) if is_fatal(&e) => return Err(e.into()),
        Err(e) => {
            ctx.reject(Phase::Accounts, &a.key, String::new(), &a, &e)
                .await?
        }
    }
    Ok(())
}

/// A record's content without where it came from: a later export that only moved rows
/// around must not count as a change.
pub(super) fn content_fingerprint(c: &Contact) -> String {
    let mut c = c.clone();
    c.sources.clear();
    fingerprint(&c)
}

pub(super) async fn push_contact(ctx: &Ctx, c: Contact) -> Result<()> {
    let fp = content_fingerprint(&c);
    let (done, in_doubt) = {
        let s = ctx.state.lock().await;
        (s.id(&c.key), s.in_doubt(&c.key))
    };
    if skip_loaded(ctx, Phase::Contacts, &c.key, &fp, done).await? {
        return Ok(());
    }
    let account_id = match &c.account {
        Some(k) => ctx.ids.lock().await.get(k.as_str()).copied(),
        None => None,
    };
    let result = match &c.email {
        Some(email) => {
            // The pre-image is read once, before the first attempt, and journalled: after a
            // crash the journal (not a second lookup, which would see our own write) says
            // whether this run created the contact.
            let earlier = first_pre_image(ctx, &c.key).await;
            let again = earlier.is_some();
            let pre = match earlier {
                Some(pre_image) => pre_image,
                None => match lookup_contact(ctx, email).await {
                    Ok(p) => p,
                    Err(e) if is_fatal(&e) => return Err(e.into()),
                    Err(e) => {
                        return ctx
                            .reject(Phase::Contacts, &c.key, source_of(&c.sources), &c, &e)
                            .await;
                    }
                },
            };
            ctx.log(Entry::Intent {
                phase: Phase::Contacts,
                key: c.key.clone(),
                pre_image: pre.clone(),
            })
            .await?;
            let mut contact = payload::contact(
                &c,
                account_id,
                &tags_of(&pre),
                &ctx.pre.types,
                &ctx.pre.targets,
                &ctx.forms,
            );
            // An external id another integration gave this contact stays its own.
            if let PreImage::Present { record, .. } = &pre
                && record["external_id"]
                    .as_str()
                    .is_some_and(|x| !x.is_empty())
                && let Some(m) = contact.as_object_mut()
            {
                m.remove("external_id");
            }
            let body = json!({
                "unique_identifier": {"emails": email.trim()},
                "contact": contact,
            });
            ctx.client
                .call(
                    Method::POST,
                    "/contacts/upsert",
                    Some(&body),
                    Idempotency::Safe,
                )
                .await
                .map(|a| {
                    let id = a.body["contact"]["id"].as_i64().unwrap_or_default();
                    let created = upsert_created(&pre, &a, id, again);
                    (a, created)
                })
        }
        None => {
            if in_doubt {
                match find_by_external_id(ctx, &c.key).await {
                    Ok(Some(id)) => {
                        ctx.log(Entry::Done {
                            phase: Phase::Contacts,
                            key: c.key.clone(),
                            id,
                            created: true,
                            fingerprint: fp,
                            updated_at: None,
                        })
                        .await?;
                        ctx.ids.lock().await.insert(c.key.clone(), id);
                        ctx.count(Phase::Contacts, Outcome::Created).await;
                        return Ok(());
                    }
                    Ok(None) => {}
                    Err(e) if is_fatal(&e) => return Err(e.into()),
                    Err(e) => {
                        // Still in doubt: refused for now rather than risk a second contact.
                        return ctx
                            .reject(Phase::Contacts, &c.key, source_of(&c.sources), &c, &e)
                            .await;
                    }
                }
            }
            let contact = payload::contact(
                &c,
                account_id,
                &[],
                &ctx.pre.types,
                &ctx.pre.targets,
                &ctx.forms,
            );
            let body = json!({ "contact": contact });
            // `--since`: the previous load created this contact and the export has changed
            // it. Without an email there is no upsert: update it in place, or a second
            // contact would appear.
            // Without a journal entry (a first load, or one whose journal is gone) the
            // account itself says whether an earlier load created this contact: by the
            // external id every load sets. A refused lookup (unverified upstream) leaves
            // only the create.
            let previous = match ctx.since.as_ref().and_then(|s| s.id(&c.key)) {
                Some(id) => Some(id),
                None if !in_doubt => match lookup_external_id(ctx, &c.key).await {
                    Ok(found) => found,
                    Err(e) if is_fatal(&e) => return Err(e.into()),
                    Err(_) => None,
                },
                None => None,
            };
            if let Some(previous) = previous {
                match update_previous_contact(ctx, &c.key, previous, &body).await? {
                    Ok(Some(ans)) => {
                        let updated_at = ans.body["contact"]["updated_at"]
                            .as_str()
                            .map(str::to_string);
                        return upserted(
                            ctx,
                            Phase::Contacts,
                            &c.key,
                            previous,
                            false,
                            fp,
                            updated_at,
                        )
                        .await;
                    }
                    Ok(None) => {} // deleted since: create it again
                    Err(e) if is_fatal(&e) => return Err(e.into()),
                    Err(e) => {
                        return ctx
                            .reject(Phase::Contacts, &c.key, source_of(&c.sources), &c, &e)
                            .await;
                    }
                }
            }
            ctx.log(Entry::Intent {
                phase: Phase::Contacts,
                key: c.key.clone(),
                pre_image: PreImage::Absent,
            })
            .await?;
            let mut attempt = 0;
            loop {
                attempt += 1;
                match ctx
                    .client
                    .call(Method::POST, "/contacts", Some(&body), Idempotency::Create)
                    .await
                {
                    Err(CallError::Ambiguous(_)) if attempt < 6 => {
                        match find_by_external_id(ctx, &c.key).await {
                            Ok(Some(id)) => {
                                break Ok((
                                    crate::api::Answer {
                                        status: 201,
                                        body: json!({"contact": {"id": id}}),
                                        attempts: 1,
                                    },
                                    true,
                                ));
                            }
                            Ok(None) => continue,
                            Err(e) => break Err(e),
                        }
                    }
                    other => break other.map(|a| (a, true)),
                }
            }
        }
    };
    match result {
        Ok((ans, created)) => {
            let id = ans.body["contact"]["id"]
                .as_i64()
                .ok_or_else(|| anyhow!("contact write answered without an id"))?;
            let updated_at = ans.body["contact"]["updated_at"]
                .as_str()
                .map(str::to_string);
            upserted(ctx, Phase::Contacts, &c.key, id, created, fp, updated_at).await?;
        }
        Err(e) if is_fatal(&e) => return Err(e.into()),
        Err(e) => {
            ctx.reject(Phase::Contacts, &c.key, source_of(&c.sources), &c, &e)
                .await?
        }
    }
    Ok(())
}

/// Journals an upserted account or contact, keeps its id for the records that link to it,
/// and counts it as created or updated.
async fn upserted(
    ctx: &Ctx,
    phase: Phase,
    key: &str,
    id: i64,
    created: bool,
    fingerprint: String,
    updated_at: Option<String>,
) -> Result<()> {
    ctx.log(Entry::Done {
        phase,
        key: key.into(),
        id,
        created,
        fingerprint,
        updated_at,
    })
    .await?;
    ctx.ids.lock().await.insert(key.into(), id);
    let outcome = if created {
        Outcome::Created
    } else {
        Outcome::Updated
    };
    ctx.count(phase, outcome).await;
    Ok(())
}

/// Updates a contact a previous load created (read first, so rollback can restore it);
/// `Ok(None)` when it is gone.
/// The outer error is the journal's (fatal), the inner one the API's (the record's).
async fn update_previous_contact(
    ctx: &Ctx,
    key: &str,
    id: i64,
    body: &Value,
) -> Result<Result<Option<Answer>, CallError>> {
    let before = match ctx.client.get(&format!("/contacts/{id}")).await {
        Ok(a) => a.body["contact"].clone(),
        Err(CallError::Rejected { status: 404, .. }) => return Ok(Ok(None)),
        Err(e) => return Ok(Err(e)),
    };
    ctx.log(Entry::Intent {
        phase: Phase::Contacts,
        key: key.into(),
        pre_image: PreImage::Present { id, record: before },
    })
    .await?;
    Ok(
        match ctx
            .client
            .call(
                Method::PUT,
                &format!("/contacts/{id}"),
                Some(body),
                Idempotency::Safe,
            )
            .await
        {
            Ok(a) => Ok(Some(a)),
            Err(CallError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        },
    )
}
