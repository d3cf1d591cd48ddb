//! The record store: every record in memory, in the API's own read shape, plus the pure
//! operations the HTTP handlers call. Nothing here knows about HTTP.

mod accounts;
mod activities;
mod appointments;
mod common;
mod contacts;
mod listing;
mod settings;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::clock::format_timestamp;
use crate::config::SandboxConfig;
use crate::error::{ApiError, ApiResult};
use crate::fields::{CustomField, Entity};
use crate::seed::Seed;

pub use listing::ListQuery;

/// A record as a JSON object.
pub type Record = Map<String, Value>;

/// The first id handed out; above `i32::MAX` so 32-bit id bugs surface at once.
pub const FIRST_ID: u64 = 70_000_001_001;

/// A user of the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// 64-bit id.
    pub id: u64,
    /// Login email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Active flag.
    pub is_active: bool,
}

/// All sandbox data. Serializes to the persistence file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Store {
    next_id: u64,
    revision: u64,
    users: Vec<User>,
    contact_fields: Vec<CustomField>,
    account_fields: Vec<CustomField>,
    contacts: BTreeMap<u64, Record>,
    sales_accounts: BTreeMap<u64, Record>,
    notes: BTreeMap<u64, Record>,
    tasks: BTreeMap<u64, Record>,
    /// Absent from files persisted before appointments existed.
    #[serde(default)]
    appointments: BTreeMap<u64, Record>,
    recycle_bin: Vec<Record>,
}

/// Hands out ids; copied and committed only when a write succeeds, so failed writes leave
/// no gaps in the store's state.
#[derive(Debug)]
pub(crate) struct Ids(u64);

impl Ids {
    pub(crate) fn next(&mut self) -> u64 {
        let id = self.0;
        self.0 += 1;
        id
    }
}

impl Default for Store {
    fn default() -> Self {
        Store {
            next_id: FIRST_ID,
            revision: 0,
            users: Vec::new(),
            contact_fields: Vec::new(),
            account_fields: Vec::new(),
            contacts: BTreeMap::new(),
            sales_accounts: BTreeMap::new(),
            notes: BTreeMap::new(),
            tasks: BTreeMap::new(),
            appointments: BTreeMap::new(),
            recycle_bin: Vec::new(),
        }
    }
}

impl Store {
    /// A store holding `seed` (or just the default user when there is none).
    pub fn from_seed(seed: Option<&Seed>, cfg: &SandboxConfig, now: i64) -> ApiResult<Store> {
        let mut store = Store::default();
        store.apply_seed(seed.unwrap_or(&Seed::default()), cfg, now)?;
        Ok(store)
    }

    /// Adds a seed's users, fields and records; all or nothing.
    pub fn apply_seed(&mut self, seed: &Seed, cfg: &SandboxConfig, now: i64) -> ApiResult<()> {
        let mut next = self.clone();
        for u in &seed.users {
            if next
                .users
                .iter()
                .any(|x| x.email.eq_ignore_ascii_case(&u.email))
            {
                return Err(ApiError::bad(format!("User {} already exists.", u.email)));
            }
            let id = match u.id {
                Some(id) => next.pin(id)?,
                None => next.alloc(),
            };
            next.users.push(User {
                id,
                email: u.email.clone(),
                display_name: u.display_name.clone(),
                is_active: u.is_active,
            });
        }
        if next.users.is_empty() {
            let id = next.alloc();
            next.users.push(User {
                id,
                email: "admin@sandbox.example".into(),
                display_name: "Sandbox Admin".into(),
                is_active: true,
            });
        }
        for (entity, defs) in [
            (Entity::Contact, &seed.fields.contacts),
            (Entity::SalesAccount, &seed.fields.sales_accounts),
        ] {
            for d in defs {
                next.add_field(
                    entity,
                    &d.label,
                    d.kind,
                    &d.choices,
                    d.required,
                    d.name.clone(),
                )?;
            }
        }
        for (entity, records) in [
            (Entity::SalesAccount, &seed.sales_accounts),
            (Entity::Contact, &seed.contacts),
        ] {
            for r in records {
                let pinned = match r.get("id") {
                    None => None,
                    Some(v) => Some(
                        next.pin(
                            v.as_u64()
                                .ok_or_else(|| ApiError::bad("Seed ids must be integers."))?,
                        )?,
                    ),
                };
                let mut input = r.clone();
                input.remove("id");
                next.insert_new(entity, &input, cfg, now, pinned)?;
            }
        }
        next.touch();
        *self = next;
        Ok(())
    }

    fn alloc(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    // A pinned id must be unused; later ids continue above it.
    fn pin(&mut self, id: u64) -> ApiResult<u64> {
        let taken = self.users.iter().any(|u| u.id == id)
            || self.contacts.contains_key(&id)
            || self.sales_accounts.contains_key(&id);
        if taken {
            return Err(ApiError::bad(format!("Id {id} is already used.")));
        }
        self.next_id = self.next_id.max(id + 1);
        Ok(id)
    }

    pub(crate) fn ids(&self) -> Ids {
        Ids(self.next_id)
    }

    pub(crate) fn commit_ids(&mut self, ids: Ids) {
        self.next_id = self.next_id.max(ids.0);
    }

    /// Increases on every change; the persistence layer writes when it moves.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    fn touch(&mut self) {
        self.revision += 1;
    }

    /// Marks the store changed without changing data (a reset must still be persisted).
    pub fn bump_revision(&mut self) {
        self.touch();
    }

    /// The user the API keys act as (creator of notes and tasks, default owner).
    pub fn key_user(&self) -> u64 {
        self.users.first().map(|u| u.id).unwrap_or(FIRST_ID)
    }

    /// Whether a user id exists.
    pub fn has_user(&self, id: u64) -> bool {
        self.users.iter().any(|u| u.id == id)
    }

    pub(crate) fn table(&self, e: Entity) -> &BTreeMap<u64, Record> {
        match e {
            Entity::Contact => &self.contacts,
            Entity::SalesAccount => &self.sales_accounts,
        }
    }

    fn table_mut(&mut self, e: Entity) -> &mut BTreeMap<u64, Record> {
        match e {
            Entity::Contact => &mut self.contacts,
            Entity::SalesAccount => &mut self.sales_accounts,
        }
    }

    /// Custom field definitions of an entity.
    pub fn custom_fields(&self, e: Entity) -> &[CustomField] {
        match e {
            Entity::Contact => &self.contact_fields,
            Entity::SalesAccount => &self.account_fields,
        }
    }

    fn build(
        &self,
        e: Entity,
        existing: Option<&Record>,
        input: &Record,
        cfg: &SandboxConfig,
        now: i64,
        ids: &mut Ids,
    ) -> ApiResult<Record> {
        match e {
            Entity::Contact => contacts::build(self, existing, input, cfg, now, ids),
            Entity::SalesAccount => accounts::build(self, existing, input, cfg, now, ids),
        }
    }

    fn insert_new(
        &mut self,
        e: Entity,
        input: &Record,
        cfg: &SandboxConfig,
        now: i64,
        pinned: Option<u64>,
    ) -> ApiResult<u64> {
        let mut ids = self.ids();
        let id = pinned.unwrap_or_else(|| ids.next());
        let mut rec = self.build(e, None, input, cfg, now, &mut ids)?;
        rec.insert("id".into(), json!(id));
        rec.insert("created_at".into(), json!(format_timestamp(now)));
        self.commit_ids(ids);
        self.table_mut(e).insert(id, rec);
        self.touch();
        Ok(id)
    }

    /// Plain create (`POST /contacts`, `POST /sales_accounts`); returns the rendered record.
    pub fn create(
        &mut self,
        e: Entity,
        input: &Record,
        cfg: &SandboxConfig,
        now: i64,
    ) -> ApiResult<Value> {
        let id = self.insert_new(e, input, cfg, now, None)?;
        self.get(e, id)
    }

    /// The rendered record, or 404 (soft-deleted records are 404 too).
    pub fn get(&self, e: Entity, id: u64) -> ApiResult<Value> {
        let rec = self.table(e).get(&id).ok_or_else(ApiError::not_found)?;
        Ok(self.render(e, rec))
    }

    /// Partial update: only the sent fields change.
    pub fn update(
        &mut self,
        e: Entity,
        id: u64,
        input: &Record,
        cfg: &SandboxConfig,
        now: i64,
    ) -> ApiResult<Value> {
        let existing = self.table(e).get(&id).ok_or_else(ApiError::not_found)?;
        let mut ids = self.ids();
        let rec = self.build(e, Some(existing), input, cfg, now, &mut ids)?;
        self.commit_ids(ids);
        self.table_mut(e).insert(id, rec);
        self.touch();
        self.get(e, id)
    }

    /// Create-or-update by the unique identifier (`emails` for contacts, `name` for accounts).
    /// Returns whether the record was created.
    pub fn upsert(
        &mut self,
        e: Entity,
        identifier: &Record,
        input: &Record,
        cfg: &SandboxConfig,
        now: i64,
    ) -> ApiResult<(bool, Value)> {
        let key = match e {
            Entity::Contact => "emails",
            Entity::SalesAccount => "name",
        };
        if let Some(other) = identifier.keys().find(|k| k.as_str() != key) {
            return Err(ApiError::bad(format!(
                "Unsupported unique identifier: {other} (the sandbox supports {key})."
            )));
        }
        let value = identifier
            .get(key)
            .and_then(|v| match v {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Array(a) if a.len() == 1 => a[0].as_str().map(|s| s.trim().to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::bad(format!("unique_identifier.{key} is required.")))?;
        let found = match e {
            Entity::Contact => contacts::find_by_email(self, &value),
            Entity::SalesAccount => accounts::find_by_name(self, &value),
        };
        match found {
            Some(id) => Ok((false, self.update(e, id, input, cfg, now)?)),
            None => {
                let mut input = input.clone();
                if e == Entity::SalesAccount
                    || !(input.contains_key("emails") || input.contains_key("email"))
                {
                    input.entry(key).or_insert(json!(value));
                }
                Ok((true, self.create(e, &input, cfg, now)?))
            }
        }
    }

    /// Soft delete: the record moves to the recycle bin.
    pub fn soft_delete(&mut self, e: Entity, id: u64, now: i64) -> ApiResult<()> {
        let mut rec = self
            .table_mut(e)
            .remove(&id)
            .ok_or_else(ApiError::not_found)?;
        rec.insert("record_type".into(), json!(e.model()));
        rec.insert("deleted_at".into(), json!(format_timestamp(now)));
        self.recycle_bin.push(rec);
        self.touch();
        Ok(())
    }

    /// Permanent erase of a live or recycled record, with its notes, tasks and appointments.
    pub fn forget(&mut self, e: Entity, id: u64) -> ApiResult<()> {
        let live = self.table_mut(e).remove(&id).is_some();
        let before = self.recycle_bin.len();
        self.recycle_bin.retain(|r| {
            !(r.get("id") == Some(&json!(id)) && r.get("record_type") == Some(&json!(e.model())))
        });
        if !live && before == self.recycle_bin.len() {
            return Err(ApiError::not_found());
        }
        let targets = |r: &Record| {
            r.get("targetable_id") == Some(&json!(id))
                && r.get("targetable_type") == Some(&json!(e.model()))
        };
        self.notes.retain(|_, r| !targets(r));
        self.tasks.retain(|_, r| !targets(r));
        self.appointments.retain(|_, r| !targets(r));
        self.touch();
        Ok(())
    }

    /// Soft-deletes every listed id that exists; returns the ids deleted.
    pub fn bulk_destroy(&mut self, e: Entity, ids: &[u64], now: i64) -> Vec<u64> {
        ids.iter()
            .copied()
            .filter(|id| self.soft_delete(e, *id, now).is_ok())
            .collect()
    }

    /// A record in the API's read shape.
    pub fn render(&self, e: Entity, rec: &Record) -> Value {
        let mut out = rec.clone();
        let mut cf = out
            .get("custom_field")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for def in self.custom_fields(e) {
            cf.entry(def.name.clone()).or_insert(Value::Null);
        }
        out.insert("custom_field".into(), Value::Object(cf));
        if e == Entity::Contact {
            contacts::render_links(self, &mut out);
        }
        Value::Object(out)
    }

    /// Every record, as `GET /__sandbox/state` shows them.
    pub fn snapshot(&self) -> Value {
        let list = |e: Entity| -> Vec<Value> {
            self.table(e).values().map(|r| self.render(e, r)).collect()
        };
        json!({
            "contacts": list(Entity::Contact),
            "sales_accounts": list(Entity::SalesAccount),
            "notes": self.notes.values().collect::<Vec<_>>(),
            "tasks": self.tasks.values().collect::<Vec<_>>(),
            "appointments": self.appointments.values().collect::<Vec<_>>(),
            "recycle_bin": self.recycle_bin,
            "users": self.users,
            "fields": {
                "contacts": self.fields_json(Entity::Contact, false),
                "sales_accounts": self.fields_json(Entity::SalesAccount, false),
            },
        })
    }
}

#[cfg(test)]
mod tests;
