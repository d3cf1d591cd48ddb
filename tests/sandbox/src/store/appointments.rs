//! Appointments (`shared/freshsales-api.md` §17.1): a title, a start and an end with their
//! offsets (or calendar dates for an all-day one), an optional target, and attendees that
//! must exist. Read by id, by contact (a switch: unconfirmed upstream) and as the account's
//! past or upcoming list.

use serde_json::{Value, json};

use super::{ListQuery, Record, Store, listing};
use crate::clock::{date_days, format_timestamp, parse_offset_datetime};
use crate::config::SandboxConfig;
use crate::error::{ApiError, ApiResult};
use crate::fields::Entity;
use crate::validate::{as_id, invalid};

/// When an appointment starts or ends, as Unix seconds: a date-time with its offset, or (for
/// an all-day appointment) a calendar date at midnight UTC.
fn instant(v: &str, all_day: bool) -> Option<i64> {
    parse_offset_datetime(v).or_else(|| {
        if all_day && v.len() == 10 {
            date_days(v).map(|d| d * 86_400)
        } else {
            None
        }
    })
}

impl Store {
    /// `POST /appointments`.
    pub fn create_appointment(
        &mut self,
        input: &Record,
        cfg: &SandboxConfig,
        now: i64,
    ) -> ApiResult<Value> {
        let mut ids = self.ids();
        let id = ids.next();
        let mut rec = Record::new();
        rec.insert("id".into(), json!(id));
        for k in ["description", "location", "time_zone"] {
            rec.insert(k.into(), Value::Null);
        }
        rec.insert("is_allday".into(), json!(false));
        rec.insert("appointment_attendees".into(), json!([]));
        rec.insert("creater_id".into(), json!(self.key_user()));
        rec.insert("created_at".into(), json!(format_timestamp(now)));
        let rec = self.write_appointment(rec, input, true, cfg, now)?;
        self.commit_ids(ids);
        self.appointments.insert(id, rec.clone());
        self.touch();
        Ok(Value::Object(rec))
    }

    fn write_appointment(
        &self,
        mut rec: Record,
        input: &Record,
        creating: bool,
        cfg: &SandboxConfig,
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
        match input.get("is_allday") {
            Some(Value::Bool(b)) => {
                rec.insert("is_allday".into(), json!(b));
            }
            None => {}
            Some(_) => errors.push(invalid("is_allday")),
        }
        let all_day = rec.get("is_allday") == Some(&json!(true));
        for k in ["from_date", "end_date"] {
            match input.get(k) {
                Some(Value::String(s)) if instant(s, all_day).is_some() => {
                    rec.insert(k.into(), json!(s));
                }
                None if !creating => {}
                None => errors.push(format!("{k} can't be blank.")),
                Some(_) => errors.push(format!(
                    "Invalid value for {k}: an ISO 8601 date-time with its offset{}.",
                    if all_day {
                        " (or a date for an all-day appointment)"
                    } else {
                        ""
                    }
                )),
            }
        }
        let at = |k: &str| {
            rec.get(k)
                .and_then(Value::as_str)
                .and_then(|s| instant(s, all_day))
        };
        if let (Some(from), Some(end)) = (at("from_date"), at("end_date"))
            && from > end
        {
            errors.push("end_date must be on or after from_date.".into());
        }
        for k in ["description", "location", "time_zone"] {
            if let Some(v) = input.get(k) {
                if v.is_string() || v.is_null() {
                    rec.insert(k.into(), v.clone());
                } else {
                    errors.push(invalid(k));
                }
            }
        }
        if let Some(v) = input.get("owner_id") {
            if !cfg.appointment_owner_id {
                errors.push("Unknown attribute owner_id.".into());
            } else {
                match as_id(v).filter(|id| self.has_user(*id)) {
                    Some(id) => {
                        rec.insert("owner_id".into(), json!(id));
                    }
                    None => errors.push(invalid("owner_id")),
                }
            }
        }
        if let Some(list) = input.get("appointment_attendees_attributes") {
            match list.as_array() {
                Some(list) => {
                    let mut attendees = Vec::new();
                    for a in list {
                        let ty = a["attendee_type"].as_str().unwrap_or("");
                        let id = as_id(&a["attendee_id"]);
                        let exists = match (ty, id) {
                            ("FdMultitenant::User", Some(id)) => self.has_user(id),
                            ("Contact", Some(id)) => self.contacts.contains_key(&id),
                            _ => false,
                        };
                        if exists {
                            attendees.push(json!({"attendee_type": ty, "attendee_id": id}));
                        } else {
                            errors.push(format!(
                                "Attendee {ty} {} does not exist.",
                                a["attendee_id"]
                            ));
                        }
                    }
                    rec.insert("appointment_attendees".into(), json!(attendees));
                }
                None => errors.push(invalid("appointment_attendees_attributes")),
            }
        }
        self.apply_target(&mut rec, input, false, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::BadRequest(errors));
        }
        rec.insert("updated_at".into(), json!(format_timestamp(now)));
        Ok(rec)
    }

    /// `GET /appointments/:id`.
    pub fn get_appointment(&self, id: u64) -> ApiResult<Value> {
        self.appointments
            .get(&id)
            .map(|r| Value::Object(r.clone()))
            .ok_or_else(ApiError::not_found)
    }

    /// `PUT /appointments/:id`.
    pub fn update_appointment(
        &mut self,
        id: u64,
        input: &Record,
        cfg: &SandboxConfig,
        now: i64,
    ) -> ApiResult<Value> {
        let existing = self
            .appointments
            .get(&id)
            .ok_or_else(ApiError::not_found)?
            .clone();
        let rec = self.write_appointment(existing, input, false, cfg, now)?;
        self.appointments.insert(id, rec.clone());
        self.touch();
        Ok(Value::Object(rec))
    }

    /// `DELETE /appointments/:id`.
    pub fn delete_appointment(&mut self, id: u64) -> ApiResult<()> {
        self.appointments
            .remove(&id)
            .ok_or_else(ApiError::not_found)?;
        self.touch();
        Ok(())
    }

    /// `GET /contacts/:id/appointments`.
    pub fn appointments_of(&self, e: Entity, id: u64) -> ApiResult<Value> {
        if !self.table(e).contains_key(&id) {
            return Err(ApiError::not_found());
        }
        Ok(json!({ "appointments": super::activities::under(&self.appointments, e, id) }))
    }

    /// `GET /appointments?filter=past|upcoming` (default upcoming), paged: by end, before or
    /// after now.
    pub fn list_appointments(&self, q: &ListQuery, now: i64) -> ApiResult<Value> {
        let past = match q.filter.as_deref().unwrap_or("upcoming") {
            "past" => true,
            "upcoming" => false,
            other => return Err(ApiError::bad(format!("Invalid value for filter: {other}."))),
        };
        let items = self
            .appointments
            .values()
            .filter(|a| {
                let all_day = a.get("is_allday") == Some(&json!(true));
                let end = a
                    .get("end_date")
                    .and_then(Value::as_str)
                    .and_then(|s| instant(s, all_day))
                    .unwrap_or(0);
                (end < now) == past
            })
            .map(|a| Value::Object(a.clone()))
            .collect();
        Ok(listing::page("appointments", items, q))
    }
}
