//! Notes and tasks (appointments have a module of their own): attached to a contact or sales account through `targetable_type`/`targetable_id`.

use serde_json::{Value, json};

use super::{Record, Store};
use crate::clock::{format_timestamp, is_iso_date_or_datetime};
use crate::error::{ApiError, ApiResult};
use crate::fields::Entity;
use crate::validate::{as_id, invalid};

/// The records of `table` whose target is record `id` of `e`.
pub(super) fn under(
    table: &std::collections::BTreeMap<u64, Record>,
    e: Entity,
    id: u64,
) -> Vec<&Record> {
    table
        .values()
        .filter(|r| {
            r.get("targetable_type") == Some(&json!(e.model()))
                && r.get("targetable_id") == Some(&json!(id))
        })
        .collect()
}

impl Store {
    // Checks the target fields in `input` (when present, or always when `required`) and
    // copies them into `rec`.
    pub(super) fn apply_target(
        &self,
        rec: &mut Record,
        input: &Record,
        required: bool,
        errors: &mut Vec<String>,
    ) {
        let ty = input.get("targetable_type");
        let id = input.get("targetable_id");
        if ty.is_none() && id.is_none() && !required {
            return;
        }
        let ty = ty
            .or_else(|| rec.get("targetable_type"))
            .and_then(Value::as_str);
        let id = id.or_else(|| rec.get("targetable_id"));
        let Some(entity) = ty.and_then(Entity::from_model) else {
            return errors.push(match ty {
                None => "targetable_type can't be blank.".into(),
                Some(t) => format!("Invalid value for targetable_type: {t}."),
            });
        };
        let Some(id) = id.and_then(as_id) else {
            return errors.push("targetable_id can't be blank.".into());
        };
        if !self.table(entity).contains_key(&id) {
            return errors.push(format!("{} {id} does not exist.", entity.model()));
        }
        rec.insert("targetable_type".into(), json!(entity.model()));
        rec.insert("targetable_id".into(), json!(id));
    }

    /// `POST /notes`.
    pub fn create_note(&mut self, input: &Record, now: i64) -> ApiResult<Value> {
        let mut ids = self.ids();
        let id = ids.next();
        let mut rec = Record::new();
        rec.insert("id".into(), json!(id));
        rec.insert("created_at".into(), json!(format_timestamp(now)));
        rec.insert("creater_id".into(), json!(self.key_user()));
        let rec = self.write_note(rec, input, true, now)?;
        self.commit_ids(ids);
        self.notes.insert(id, rec.clone());
        self.touch();
        Ok(Value::Object(rec))
    }

    fn write_note(
        &self,
        mut rec: Record,
        input: &Record,
        creating: bool,
        now: i64,
    ) -> ApiResult<Record> {
        let mut errors = Vec::new();
        match input.get("description") {
            Some(Value::String(s)) if !s.trim().is_empty() => {
                rec.insert("description".into(), json!(s));
            }
            None if !creating => {}
            _ => errors.push("description can't be blank.".into()),
        }
        self.apply_target(&mut rec, input, creating, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::BadRequest(errors));
        }
        rec.insert("updated_at".into(), json!(format_timestamp(now)));
        Ok(rec)
    }

    /// `PUT /notes/:id`.
    pub fn update_note(&mut self, id: u64, input: &Record, now: i64) -> ApiResult<Value> {
        let existing = self.notes.get(&id).ok_or_else(ApiError::not_found)?.clone();
        let rec = self.write_note(existing, input, false, now)?;
        self.notes.insert(id, rec.clone());
        self.touch();
        Ok(Value::Object(rec))
    }

    /// `DELETE /notes/:id`.
    pub fn delete_note(&mut self, id: u64) -> ApiResult<()> {
        self.notes.remove(&id).ok_or_else(ApiError::not_found)?;
        self.touch();
        Ok(())
    }

    /// `GET /contacts/:id/notes` (and the account equivalent).
    pub fn notes_of(&self, e: Entity, id: u64) -> ApiResult<Value> {
        if !self.table(e).contains_key(&id) {
            return Err(ApiError::not_found());
        }
        Ok(json!({ "notes": under(&self.notes, e, id) }))
    }

    /// `POST /tasks`.
    pub fn create_task(&mut self, input: &Record, now: i64) -> ApiResult<Value> {
        let mut ids = self.ids();
        let id = ids.next();
        let mut rec = Record::new();
        rec.insert("id".into(), json!(id));
        for k in [
            "description",
            "task_type_id",
            "outcome_id",
            "completed_date",
        ] {
            rec.insert(k.into(), Value::Null);
        }
        rec.insert("status".into(), json!(0));
        rec.insert("owner_id".into(), json!(self.key_user()));
        rec.insert("creater_id".into(), json!(self.key_user()));
        rec.insert("created_at".into(), json!(format_timestamp(now)));
        let rec = self.write_task(rec, input, true, now)?;
        self.commit_ids(ids);
        self.tasks.insert(id, rec.clone());
        self.touch();
        Ok(Value::Object(rec))
    }

    fn write_task(
        &self,
        mut rec: Record,
        input: &Record,
        creating: bool,
        now: i64,
    ) -> ApiResult<Record> {
        let mut errors = Vec::new();
        match input.get("title") {
            Some(Value::String(s)) if !s.trim().is_empty() => {
                rec.insert("title".into(), json!(s));
            }
            None if !creating => {}
            _ => errors.push("title can't be blank.".into()),
        }
        match input.get("due_date") {
            Some(Value::String(s)) if is_iso_date_or_datetime(s) => {
                rec.insert("due_date".into(), json!(s));
            }
            None if !creating => {}
            None => errors.push("due_date can't be blank.".into()),
            Some(_) => errors.push(invalid("due_date")),
        }
        if let Some(v) = input.get("description") {
            if v.is_string() || v.is_null() {
                rec.insert("description".into(), v.clone());
            } else {
                errors.push(invalid("description"));
            }
        }
        if let Some(v) = input.get("owner_id") {
            match as_id(v).filter(|id| self.has_user(*id)) {
                Some(id) => {
                    rec.insert("owner_id".into(), json!(id));
                }
                None => errors.push(invalid("owner_id")),
            }
        }
        for k in ["task_type_id", "outcome_id"] {
            if let Some(v) = input.get(k) {
                if v.is_null() || as_id(v).is_some() {
                    rec.insert(k.into(), v.clone());
                } else {
                    errors.push(invalid(k));
                }
            }
        }
        if let Some(v) = input.get("status") {
            match v.as_u64() {
                Some(1) => {
                    if rec.get("status") != Some(&json!(1)) {
                        rec.insert("completed_date".into(), json!(format_timestamp(now)));
                    }
                    rec.insert("status".into(), json!(1));
                }
                Some(0) => {
                    rec.insert("status".into(), json!(0));
                    rec.insert("completed_date".into(), Value::Null);
                }
                _ => errors.push(invalid("status")),
            }
        }
        self.apply_target(&mut rec, input, creating, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::BadRequest(errors));
        }
        rec.insert("updater_id".into(), json!(self.key_user()));
        rec.insert("updated_at".into(), json!(format_timestamp(now)));
        Ok(rec)
    }

    /// `GET /tasks/:id`.
    pub fn get_task(&self, id: u64) -> ApiResult<Value> {
        self.tasks
            .get(&id)
            .map(|r| Value::Object(r.clone()))
            .ok_or_else(ApiError::not_found)
    }

    /// `PUT /tasks/:id`; `{"status": 1}` completes the task.
    pub fn update_task(&mut self, id: u64, input: &Record, now: i64) -> ApiResult<Value> {
        let existing = self.tasks.get(&id).ok_or_else(ApiError::not_found)?.clone();
        let rec = self.write_task(existing, input, false, now)?;
        self.tasks.insert(id, rec.clone());
        self.touch();
        Ok(Value::Object(rec))
    }

    /// `DELETE /tasks/:id`.
    pub fn delete_task(&mut self, id: u64) -> ApiResult<()> {
        self.tasks.remove(&id).ok_or_else(ApiError::not_found)?;
        self.touch();
        Ok(())
    }
}
