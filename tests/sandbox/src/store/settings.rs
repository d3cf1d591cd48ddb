//! Field definitions, forms, custom field creation and the owners list.

use serde_json::{Value, json};

use super::{Record, Store};
use crate::error::{ApiError, ApiResult};
use crate::fields::{Choice, CustomField, Entity, builtin_fields, derive_cf_name, render_builtin};
use crate::seed::FieldKind;

/// The one form of each entity (`GET /settings/:entity/forms`).
pub const CONTACT_FORM_ID: u64 = 70_000_000_801;
/// See [`CONTACT_FORM_ID`].
pub const ACCOUNT_FORM_ID: u64 = 70_000_000_802;

fn form_id(e: Entity) -> u64 {
    match e {
        Entity::Contact => CONTACT_FORM_ID,
        Entity::SalesAccount => ACCOUNT_FORM_ID,
    }
}

impl Store {
    /// Field definitions: built-in ones (`default: true`) when `with_builtin`, then custom ones.
    pub fn fields_json(&self, e: Entity, with_builtin: bool) -> Vec<Value> {
        let builtin = builtin_fields(e).iter().filter(|_| with_builtin);
        let n = builtin.clone().count();
        builtin
            .enumerate()
            .map(|(i, f)| render_builtin(f, e, i + 1))
            .chain(
                self.custom_fields(e)
                    .iter()
                    .enumerate()
                    .map(|(i, f)| f.render(e, n + i + 1)),
            )
            .collect()
    }

    /// Adds a custom field; the `cf_` name comes from the label unless given.
    pub(super) fn add_field(
        &mut self,
        e: Entity,
        label: &str,
        kind: FieldKind,
        choices: &[String],
        required: bool,
        name: Option<String>,
    ) -> ApiResult<Value> {
        let label = label.trim();
        if label.is_empty() {
            return Err(ApiError::bad("label can't be blank."));
        }
        let name = name.unwrap_or_else(|| derive_cf_name(label));
        if !name.starts_with("cf_") {
            return Err(ApiError::bad(format!(
                "Invalid field name {name}: must start with cf_."
            )));
        }
        let clash = self
            .custom_fields(e)
            .iter()
            .any(|f| f.name == name || f.label.eq_ignore_ascii_case(label));
        if clash {
            return Err(ApiError::bad(format!(
                "A field with label {label} already exists."
            )));
        }
        if kind.has_choices() && choices.is_empty() {
            return Err(ApiError::bad(
                "choices can't be blank for a dropdown field.",
            ));
        }
        let id = self.alloc();
        let choices = if kind.has_choices() {
            choices
                .iter()
                .map(|c| Choice {
                    id: self.alloc(),
                    value: c.clone(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let field = CustomField {
            id: format!("{id:x}-sbx"),
            name,
            label: label.to_string(),
            kind,
            choices,
            required,
        };
        let list = match e {
            Entity::Contact => &mut self.contact_fields,
            Entity::SalesAccount => &mut self.account_fields,
        };
        list.push(field.clone());
        let position = list.len() + builtin_fields(e).len();
        self.touch();
        Ok(field.render(e, position))
    }

    /// `POST /settings/:entity/forms/:form_id/fields`. Body (root key `field` optional):
    /// `label`, and the type as `type` (a bundle word or API type string) or `field_type`
    /// (the sandbox's numeric codes 1..=7), `choices` (strings or `{value}`), `required`.
    pub fn create_field(&mut self, e: Entity, form: u64, body: &Record) -> ApiResult<Value> {
        if form != form_id(e) {
            return Err(ApiError::not_found());
        }
        let label = body
            .get("label")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad("label can't be blank."))?;
        let kind = match (body.get("type"), body.get("field_type")) {
            (Some(Value::String(t)), _) => FieldKind::parse(t),
            (_, Some(code)) => code.as_u64().and_then(FieldKind::from_code),
            _ => None,
        }
        .ok_or_else(|| ApiError::bad("Invalid value for field_type."))?;
        let choices: Vec<String> = body
            .get("choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| {
                c.as_str()
                    .or_else(|| c.get("value").and_then(Value::as_str))
            })
            .map(String::from)
            .collect();
        let required = body
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        self.add_field(e, label, kind, &choices, required, None)
    }

    /// `GET /settings/:entity/forms`.
    pub fn forms(&self, e: Entity) -> Value {
        json!({"forms": [{"id": form_id(e), "name": format!("{} form", e.model()), "entity_type": e.model(),
                           "fields": self.fields_json(e, true)}]})
    }

    /// `GET /selector/owners`.
    pub fn owners(&self) -> Value {
        let users: Vec<Value> = self
            .users
            .iter()
            .map(|u| {
                json!({"id": u.id, "display_name": u.display_name, "email": u.email,
                       "is_active": u.is_active, "work_number": null, "mobile_number": null})
            })
            .collect();
        json!({ "users": users })
    }
}
