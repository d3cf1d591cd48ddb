//! The seed file: users, custom field definitions and pre-existing records.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Initial data for the sandbox, in the JSON shape of the issue:
/// `{"users": [...], "fields": {"contacts": [...], "sales_accounts": [...]}, "contacts": [], "sales_accounts": []}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seed {
    /// Users returned by `/selector/owners`. When empty the sandbox invents one admin user.
    pub users: Vec<SeedUser>,
    /// Custom field definitions per entity.
    pub fields: SeedFields,
    /// Contacts in the API's write shape (`{"first_name": .., "emails": .., "custom_field": {..}}`);
    /// an optional `id` pins the record id.
    pub contacts: Vec<Map<String, Value>>,
    /// Sales accounts in the API's write shape; an optional `id` pins the record id.
    pub sales_accounts: Vec<Map<String, Value>>,
}

/// A user of the account (an owner candidate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    /// Pinned id; assigned when absent.
    #[serde(default)]
    pub id: Option<u64>,
    /// Login email, the key the loader maps owners by.
    pub email: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Deactivated users still appear in the selector.
    #[serde(default = "yes")]
    pub is_active: bool,
}

fn yes() -> bool {
    true
}

/// Custom field definitions per entity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedFields {
    /// Custom fields of contacts.
    pub contacts: Vec<SeedField>,
    /// Custom fields of sales accounts.
    pub sales_accounts: Vec<SeedField>,
}

/// One custom field definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedField {
    /// Label shown in the UI; the `cf_` name is derived from it unless `name` is given.
    pub label: String,
    /// The bundle's type word.
    #[serde(rename = "type")]
    pub kind: FieldKind,
    /// Allowed values for dropdown and multi_select fields.
    #[serde(default)]
    pub choices: Vec<String>,
    /// A required field must be present on create.
    #[serde(default)]
    pub required: bool,
    /// Explicit `cf_` name, to model a field whose label was renamed after creation.
    #[serde(default)]
    pub name: Option<String>,
}

/// Custom field types, in the bundle's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Single-line text.
    Text,
    /// Multi-line text.
    Paragraph,
    /// A JSON number.
    Number,
    /// ISO `YYYY-MM-DD`.
    Date,
    /// A boolean.
    Checkbox,
    /// One value out of `choices`.
    Dropdown,
    /// Several values out of `choices`.
    MultiSelect,
}

impl FieldKind {
    /// The `type` string shown by `/settings/<entity>/fields`. `dropdown` and
    /// `multi_select_dropdown` are seen upstream; the others are the sandbox's choice.
    pub fn api_type(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Paragraph => "textarea",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Checkbox => "checkbox",
            FieldKind::Dropdown => "dropdown",
            FieldKind::MultiSelect => "multi_select_dropdown",
        }
    }

    /// Parses a bundle word or an API `type` string.
    pub fn parse(word: &str) -> Option<FieldKind> {
        Some(match word {
            "text" => FieldKind::Text,
            "paragraph" | "textarea" => FieldKind::Paragraph,
            "number" => FieldKind::Number,
            "date" => FieldKind::Date,
            "checkbox" => FieldKind::Checkbox,
            "dropdown" => FieldKind::Dropdown,
            "multi_select" | "multi_select_dropdown" => FieldKind::MultiSelect,
            _ => return None,
        })
    }

    /// The sandbox's numeric `field_type` code for field creation (upstream codes are undocumented).
    pub fn from_code(code: u64) -> Option<FieldKind> {
        Some(match code {
            1 => FieldKind::Text,
            2 => FieldKind::Paragraph,
            3 => FieldKind::Number,
            4 => FieldKind::Date,
            5 => FieldKind::Checkbox,
            6 => FieldKind::Dropdown,
            7 => FieldKind::MultiSelect,
            _ => return None,
        })
    }

    /// Whether values must come from `choices`.
    pub fn has_choices(self) -> bool {
        matches!(self, FieldKind::Dropdown | FieldKind::MultiSelect)
    }
}

impl Seed {
    /// Reads a seed file.
    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Seed> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading seed {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("parsing seed {}: {e}", path.display()))
    }
}
