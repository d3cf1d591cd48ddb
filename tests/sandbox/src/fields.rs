//! Field definitions: built-in fields per entity, custom fields with `cf_` names, and the
//! checks custom values go through.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::clock::is_iso_date;
use crate::config::{DropdownValueMode, UnknownCfPolicy};
use crate::seed::FieldKind;

/// Derives a custom field's name from its label the way Freshsales does:
/// `cf_` + the label lowercased, with every character that is not an ASCII letter or digit
/// replaced by `_` (no collapsing), so `Date of birth?` becomes `cf_date_of_birth_`.
pub fn derive_cf_name(label: &str) -> String {
    let body: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("cf_{body}")
}

/// The two record types that carry fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// `/contacts`.
    Contact,
    /// `/sales_accounts`.
    SalesAccount,
}

impl Entity {
    /// Path segment and list key: `contacts`, `sales_accounts`.
    pub fn plural(self) -> &'static str {
        match self {
            Entity::Contact => "contacts",
            Entity::SalesAccount => "sales_accounts",
        }
    }

    /// Body root key: `contact`, `sales_account`.
    pub fn singular(self) -> &'static str {
        match self {
            Entity::Contact => "contact",
            Entity::SalesAccount => "sales_account",
        }
    }

    /// Model name used in `targetable_type` and `base_model`.
    pub fn model(self) -> &'static str {
        match self {
            Entity::Contact => "Contact",
            Entity::SalesAccount => "SalesAccount",
        }
    }

    /// Parses the plural path segment.
    pub fn from_plural(s: &str) -> Option<Entity> {
        match s {
            "contacts" => Some(Entity::Contact),
            "sales_accounts" => Some(Entity::SalesAccount),
            _ => None,
        }
    }

    /// Parses a model name (`targetable_type`).
    pub fn from_model(s: &str) -> Option<Entity> {
        match s {
            "Contact" => Some(Entity::Contact),
            "SalesAccount" => Some(Entity::SalesAccount),
            _ => None,
        }
    }
}

/// One choice of a dropdown or multi_select field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// 64-bit choice id.
    pub id: u64,
    /// Choice text.
    pub value: String,
}

/// A custom field definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomField {
    /// Opaque string id, as upstream.
    pub id: String,
    /// The `cf_` name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Type.
    pub kind: FieldKind,
    /// Choices for dropdown / multi_select.
    pub choices: Vec<Choice>,
    /// Must be present on create.
    pub required: bool,
}

impl CustomField {
    /// The field in the `/settings/<entity>/fields` shape.
    pub fn render(&self, entity: Entity, position: usize) -> Value {
        json!({
            "id": self.id, "name": self.name, "label": self.label,
            "type": self.kind.api_type(), "default": false, "required": self.required,
            "visible": true, "position": position, "base_model": entity.model(),
            "field_group_id": null, "choices": self.choices,
        })
    }

    /// Checks one value and returns the form it is stored in; `Err` carries the message.
    pub fn check_value(&self, value: &Value, mode: DropdownValueMode) -> Result<Value, String> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let invalid = || format!("Invalid value for {}.", self.name);
        match self.kind {
            FieldKind::Text | FieldKind::Paragraph => {
                let s = value.as_str().ok_or_else(invalid)?;
                let max = if self.kind == FieldKind::Text {
                    255
                } else {
                    8000
                };
                if s.chars().count() > max {
                    return Err(format!(
                        "{} is too long (maximum is {max} characters).",
                        self.name
                    ));
                }
                Ok(value.clone())
            }
            FieldKind::Number if value.is_number() => Ok(value.clone()),
            FieldKind::Date if value.as_str().is_some_and(is_iso_date) => Ok(value.clone()),
            FieldKind::Checkbox if value.is_boolean() => Ok(value.clone()),
            FieldKind::Number | FieldKind::Date | FieldKind::Checkbox => Err(invalid()),
            FieldKind::Dropdown => {
                let choice = self
                    .find_choice(value, mode)
                    .ok_or_else(|| self.not_a_choice(value))?;
                Ok(self.stored(choice, mode))
            }
            FieldKind::MultiSelect => {
                let items: Vec<Value> = match value {
                    Value::String(s) => s
                        .split(';')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(|p| Value::String(p.to_string()))
                        .collect(),
                    Value::Array(a) => a.clone(),
                    _ => return Err(invalid()),
                };
                let mut out = Vec::new();
                for item in &items {
                    let choice = self
                        .find_choice(item, mode)
                        .ok_or_else(|| self.not_a_choice(item))?;
                    out.push(match self.stored(choice, mode) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    });
                }
                Ok(Value::String(out.join(";")))
            }
        }
    }

    fn find_choice(&self, value: &Value, mode: DropdownValueMode) -> Option<&Choice> {
        let by_text = || {
            value
                .as_str()
                .and_then(|s| self.choices.iter().find(|c| c.value == s))
        };
        let by_id = || {
            let id = value
                .as_u64()
                .or_else(|| value.as_str().and_then(|s| s.parse().ok()))?;
            self.choices.iter().find(|c| c.id == id)
        };
        match mode {
            DropdownValueMode::Text => by_text(),
            DropdownValueMode::Id => by_id(),
            DropdownValueMode::Either => by_text().or_else(by_id),
        }
    }

    fn stored(&self, choice: &Choice, mode: DropdownValueMode) -> Value {
        match mode {
            DropdownValueMode::Id => json!(choice.id),
            DropdownValueMode::Text | DropdownValueMode::Either => json!(choice.value),
        }
    }

    fn not_a_choice(&self, value: &Value) -> String {
        let shown = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        format!(
            "Invalid value for {}: '{shown}' is not one of its choices.",
            self.name
        )
    }
}

/// Multi-select values written in a form the account does not take (`mode`), one message
/// each.
pub fn multi_select_form_errors(
    defs: &[CustomField],
    input: &Value,
    mode: crate::config::MultiSelectMode,
) -> Vec<String> {
    use crate::config::MultiSelectMode as M;
    let Some(obj) = input.as_object() else {
        return Vec::new();
    };
    obj.iter()
        .filter(|(key, value)| {
            defs.iter()
                .any(|d| &d.name == *key && d.kind == FieldKind::MultiSelect)
                && matches!(
                    (mode, value),
                    (M::Semicolon, Value::Array(_)) | (M::Array, Value::String(_))
                )
        })
        .map(|(key, _)| {
            format!(
                "Invalid value for {key}: send {}.",
                if mode == M::Array {
                    "a list of choices"
                } else {
                    "the choices joined by ';'"
                }
            )
        })
        .collect()
}

/// Merges a `custom_field` object into `target`, checking every key against `defs`.
/// All problems are reported together.
pub fn merge_custom_fields(
    defs: &[CustomField],
    target: &mut Map<String, Value>,
    input: &Value,
    policy: UnknownCfPolicy,
    mode: DropdownValueMode,
) -> Result<(), Vec<String>> {
    let obj = input
        .as_object()
        .ok_or_else(|| vec!["custom_field must be an object.".to_string()])?;
    let mut errors = Vec::new();
    for (key, value) in obj {
        match defs.iter().find(|d| &d.name == key) {
            Some(def) => match def.check_value(value, mode) {
                Ok(v) => {
                    target.insert(key.clone(), v);
                }
                Err(e) => errors.push(e),
            },
            None if policy == UnknownCfPolicy::Drop => {}
            None => errors.push(format!("Invalid custom field: {key} does not exist.")),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Required custom fields that are missing or null in `values`.
pub fn missing_required(defs: &[CustomField], values: &Map<String, Value>) -> Vec<String> {
    defs.iter()
        .filter(|d| d.required && values.get(&d.name).is_none_or(Value::is_null))
        .map(|d| format!("{} can't be blank.", d.name))
        .collect()
}

/// How a built-in field's value is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinKind {
    /// A string (or null).
    Text,
    /// An integer (or null).
    Int,
    /// A number (or null).
    Number,
    /// An id that must exist in a selector list (or null).
    Ref(RefList),
    /// Handled by the entity's own write code (emails, tags, sales_accounts, ...).
    Special,
}

/// Selector lists a built-in id field refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefList {
    /// `/selector/owners`.
    Users,
    /// `/selector/territories`.
    Territories,
    /// `/selector/lead_sources`.
    LeadSources,
    /// `/selector/contact_statuses`.
    ContactStatuses,
    /// `/selector/lifecycle_stages`.
    LifecycleStages,
    /// `/selector/industry_types`.
    IndustryTypes,
    /// `/selector/business_types`.
    BusinessTypes,
    /// Existing sales accounts.
    SalesAccounts,
}

/// A built-in (non-custom) field.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinField {
    /// API name.
    pub name: &'static str,
    /// UI label.
    pub label: &'static str,
    /// `type` in the fields endpoint.
    pub api_type: &'static str,
    /// Value check.
    pub kind: BuiltinKind,
}

const fn f(
    name: &'static str,
    label: &'static str,
    api_type: &'static str,
    kind: BuiltinKind,
) -> BuiltinField {
    BuiltinField {
        name,
        label,
        api_type,
        kind,
    }
}

use BuiltinKind::{Int, Number, Ref, Special, Text};

/// Writable built-in contact fields.
pub const CONTACT_FIELDS: &[BuiltinField] = &[
    f("first_name", "First name", "text", Text),
    f("last_name", "Last name", "text", Text),
    f("emails", "Emails", "email", Special),
    f("job_title", "Job title", "text", Text),
    f("work_number", "Work", "phone_number", Text),
    f("mobile_number", "Mobile", "phone_number", Special),
    f("address", "Address", "textarea", Text),
    f("city", "City", "text", Text),
    f("state", "State", "text", Text),
    f("zipcode", "Zipcode", "text", Text),
    f("country", "Country", "text", Text),
    f("time_zone", "Time zone", "dropdown", Text),
    f("owner_id", "Sales owner", "dropdown", Ref(RefList::Users)),
    f(
        "territory_id",
        "Territory",
        "dropdown",
        Ref(RefList::Territories),
    ),
    f(
        "lead_source_id",
        "Source",
        "dropdown",
        Ref(RefList::LeadSources),
    ),
    f("campaign_id", "Campaign", "dropdown", Int),
    f(
        "contact_status_id",
        "Status",
        "dropdown",
        Ref(RefList::ContactStatuses),
    ),
    f(
        "lifecycle_stage_id",
        "Lifecycle stage",
        "dropdown",
        Ref(RefList::LifecycleStages),
    ),
    f(
        "subscription_status",
        "Subscription status",
        "dropdown",
        Int,
    ),
    f("medium", "Medium", "text", Text),
    f("keyword", "Keyword", "text", Text),
    f("facebook", "Facebook", "text", Text),
    f("twitter", "Twitter", "text", Text),
    f("linkedin", "LinkedIn", "text", Text),
    f("external_id", "External ID", "text", Text),
    f("sales_accounts", "Accounts", "auto_complete", Special),
    f("sales_account_id", "Account", "auto_complete", Special),
    f("tags", "Tags", "multi_select_dropdown", Special),
];

/// Writable built-in sales account fields.
pub const ACCOUNT_FIELDS: &[BuiltinField] = &[
    f("name", "Name", "text", Text),
    f("address", "Address", "textarea", Text),
    f("city", "City", "text", Text),
    f("state", "State", "text", Text),
    f("zipcode", "Zipcode", "text", Text),
    f("country", "Country", "text", Text),
    f("phone", "Phone", "phone_number", Text),
    f("website", "Website", "url", Text),
    f("owner_id", "Sales owner", "dropdown", Ref(RefList::Users)),
    f(
        "industry_type_id",
        "Industry type",
        "dropdown",
        Ref(RefList::IndustryTypes),
    ),
    f(
        "business_type_id",
        "Business type",
        "dropdown",
        Ref(RefList::BusinessTypes),
    ),
    f("number_of_employees", "Number of employees", "number", Int),
    f("annual_revenue", "Annual revenue", "number", Number),
    f(
        "parent_sales_account_id",
        "Parent account",
        "auto_complete",
        Ref(RefList::SalesAccounts),
    ),
    f(
        "territory_id",
        "Territory",
        "dropdown",
        Ref(RefList::Territories),
    ),
    f("tags", "Tags", "multi_select_dropdown", Special),
];

/// The built-in fields of an entity.
pub fn builtin_fields(entity: Entity) -> &'static [BuiltinField] {
    match entity {
        Entity::Contact => CONTACT_FIELDS,
        Entity::SalesAccount => ACCOUNT_FIELDS,
    }
}

/// A built-in field in the `/settings/<entity>/fields` shape.
pub fn render_builtin(field: &BuiltinField, entity: Entity, position: usize) -> Value {
    let required = matches!((entity, field.name), (Entity::SalesAccount, "name"));
    json!({
        "id": format!("builtin-{}-{}", entity.singular(), field.name),
        "name": field.name, "label": field.label, "type": field.api_type,
        "default": true, "required": required, "visible": true, "position": position,
        "base_model": entity.model(), "field_group_id": null, "choices": [],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dropdown() -> CustomField {
        CustomField {
            id: "f1".into(),
            name: "cf_segment".into(),
            label: "Segment".into(),
            kind: FieldKind::Dropdown,
            choices: vec![
                Choice {
                    id: 1001,
                    value: "Gold".into(),
                },
                Choice {
                    id: 1002,
                    value: "Silver".into(),
                },
            ],
            required: false,
        }
    }

    #[test]
    fn cf_names_follow_the_documented_example() {
        assert_eq!(derive_cf_name("Date of birth?"), "cf_date_of_birth_");
        assert_eq!(derive_cf_name("Preferred Contact"), "cf_preferred_contact");
        assert_eq!(derive_cf_name("Anniversary"), "cf_anniversary");
        assert_eq!(derive_cf_name("A  B-2"), "cf_a__b_2");
        assert_eq!(derive_cf_name("Année"), "cf_ann_e");
    }

    #[test]
    fn dropdown_modes() {
        let d = dropdown();
        assert_eq!(
            d.check_value(&json!("Gold"), DropdownValueMode::Text),
            Ok(json!("Gold"))
        );
        assert!(
            d.check_value(&json!(1001), DropdownValueMode::Text)
                .is_err()
        );
        assert!(
            d.check_value(&json!("Bronze"), DropdownValueMode::Text)
                .is_err()
        );
        assert_eq!(
            d.check_value(&json!(1002), DropdownValueMode::Id),
            Ok(json!(1002))
        );
        assert!(
            d.check_value(&json!("Gold"), DropdownValueMode::Id)
                .is_err()
        );
        assert_eq!(
            d.check_value(&json!(1002), DropdownValueMode::Either),
            Ok(json!("Silver"))
        );
        assert_eq!(
            d.check_value(&json!("Gold"), DropdownValueMode::Either),
            Ok(json!("Gold"))
        );
    }

    #[test]
    fn multi_select_accepts_string_or_array() {
        let mut d = dropdown();
        d.kind = FieldKind::MultiSelect;
        let m = DropdownValueMode::Text;
        assert_eq!(
            d.check_value(&json!("Gold;Silver"), m),
            Ok(json!("Gold;Silver"))
        );
        assert_eq!(
            d.check_value(&json!(["Silver", "Gold"]), m),
            Ok(json!("Silver;Gold"))
        );
        assert!(d.check_value(&json!("Gold;Tin"), m).is_err());
    }

    #[test]
    fn scalar_types() {
        let mut d = dropdown();
        let m = DropdownValueMode::Text;
        d.kind = FieldKind::Date;
        assert!(d.check_value(&json!("2024-02-29"), m).is_ok());
        assert!(d.check_value(&json!("02/29/2024"), m).is_err());
        d.kind = FieldKind::Number;
        assert!(d.check_value(&json!(3.5), m).is_ok());
        assert!(d.check_value(&json!("3.5"), m).is_err());
        d.kind = FieldKind::Checkbox;
        assert!(d.check_value(&json!(true), m).is_ok());
        assert!(d.check_value(&json!("true"), m).is_err());
        d.kind = FieldKind::Text;
        assert!(d.check_value(&json!("x".repeat(256)), m).is_err());
        assert!(d.check_value(&Value::Null, m).is_ok());
    }

    #[test]
    fn unknown_keys_follow_policy() {
        let defs = vec![dropdown()];
        let mut target = Map::new();
        let input = json!({"cf_segment": "Gold", "cf_nope": 1});
        let m = DropdownValueMode::Text;
        assert!(
            merge_custom_fields(&defs, &mut target, &input, UnknownCfPolicy::Reject, m).is_err()
        );
        merge_custom_fields(&defs, &mut target, &input, UnknownCfPolicy::Drop, m).unwrap();
        assert_eq!(Value::Object(target), json!({"cf_segment": "Gold"}));
    }
}
