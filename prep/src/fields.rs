//! Field vocabulary: the standard fields a column can map to, and custom fields with their
//! inferred or confirmed types.

use serde::{Deserialize, Serialize};

use crate::dates::{DateOrder, OrderEvidence, parse_raw};
use crate::values::{parse_checkbox, parse_number, split_list};

/// A standard (non-custom) field a source column can map to. The serialised names are the
/// words used in mapping files and the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)] // each variant is named after the field it stands for
pub enum StdField {
    ContactId,
    FirstName,
    LastName,
    ContactName,
    Email,
    OtherEmail,
    Company,
    JobTitle,
    WorkNumber,
    MobileNumber,
    /// A phone whose kind (work, mobile, other) comes from its label column.
    Phone,
    /// The label column paired with a `phone` column by its number (Phone 1 Note …).
    PhoneLabel,
    Address,
    Address2,
    City,
    State,
    Zipcode,
    Country,
    Owner,
    CreatedAt,
    UpdatedAt,
    NoteDate,
    NoteText,
    Author,
    Pinned,
    TodoId,
    Title,
    Details,
    DueDate,
    CompletedDate,
    Status,
    Priority,
    TaskType,
    Template,
    AppointmentId,
    Date,
    Start,
    End,
    AllDay,
    Color,
    TeamMemberId,
    Name,
    Role,
    Database,
    ListName,
    ListType,
    ListId,
    ListCount,
    TemplateId,
    TemplateName,
    Folder,
    Subject,
    Body,
}

impl StdField {
    /// The serialised name (`first_name`, …).
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Whether this field holds a date the customer may need to order (DD/MM vs MM/DD).
    pub fn is_date(self) -> bool {
        matches!(
            self,
            StdField::CreatedAt
                | StdField::UpdatedAt
                | StdField::NoteDate
                | StdField::DueDate
                | StdField::CompletedDate
                | StdField::Date
                | StdField::Start
                | StdField::End
        )
    }
}

/// Type of a custom field, in the words the bundle, the loader and the sandbox share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Single line, up to 255 characters.
    Text,
    /// Long text.
    Paragraph,
    /// A number.
    Number,
    /// A calendar date.
    Date,
    /// Yes/no.
    Checkbox,
    /// One of `choices`.
    Dropdown,
    /// Any of `choices`.
    MultiSelect,
}

impl FieldType {
    /// The serialised word (`multi_select`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Paragraph => "paragraph",
            FieldType::Number => "number",
            FieldType::Date => "date",
            FieldType::Checkbox => "checkbox",
            FieldType::Dropdown => "dropdown",
            FieldType::MultiSelect => "multi_select",
        }
    }
}

/// Freshsales' single-line text limit.
pub const TEXT_MAX_CHARS: usize = 255;

/// A custom field of the bundle: its label, type and choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomFieldDef {
    /// The label in Freshsales (the original header unless the customer renamed it).
    pub label: String,
    /// The confirmed (or proposed) type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Allowed values of a dropdown or multi-select, in display order; empty otherwise.
    #[serde(default)]
    pub choices: Vec<String>,
    /// For dates: which number comes first in slash dates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_order: Option<DateOrder>,
}

/// A typed value of a custom field, as it goes into the bundle.
pub type FieldValue = serde_json::Value;

/// Why a value does not fit its field.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueProblem(pub String);

impl CustomFieldDef {
    /// Converts one non-empty cell to this field's typed value. To convert many cells, make
    /// one [`Converter`] and reuse it.
    pub fn convert(&self, cell: &str) -> Result<FieldValue, ValueProblem> {
        Converter::new(self).convert(cell)
    }
}

/// A custom field definition ready to convert many cells: the lower-case spellings of its
/// choices are worked out once instead of once per cell.
#[derive(Debug, Clone)]
pub struct Converter<'d> {
    def: &'d CustomFieldDef,
    /// `def.choices`, lower-cased, index for index.
    lower_choices: Vec<String>,
}

impl<'d> Converter<'d> {
    /// Prepares `def` for conversions.
    pub fn new(def: &'d CustomFieldDef) -> Converter<'d> {
        Converter {
            def,
            lower_choices: def.choices.iter().map(|c| c.to_lowercase()).collect(),
        }
    }

    /// Converts one non-empty cell to the field's typed value.
    pub fn convert(&self, cell: &str) -> Result<FieldValue, ValueProblem> {
        let v = crate::values::trim(cell);
        match self.def.field_type {
            FieldType::Text => {
                // A char takes at least a byte: only a longer text can have too many.
                if v.len() > TEXT_MAX_CHARS && v.chars().count() > TEXT_MAX_CHARS {
                    Err(ValueProblem(format!(
                        "longer than {TEXT_MAX_CHARS} characters; make the field a paragraph"
                    )))
                } else {
                    Ok(FieldValue::String(v.to_string()))
                }
            }
            FieldType::Paragraph => Ok(FieldValue::String(cell.to_string())),
            FieldType::Number => parse_number(v)
                .map(FieldValue::Number)
                .ok_or_else(|| ValueProblem("not a number".into())),
            FieldType::Checkbox => parse_checkbox(v)
                .map(FieldValue::Bool)
                .ok_or_else(|| ValueProblem("not a yes/no value".into())),
            FieldType::Date => {
                let raw = parse_raw(v).ok_or_else(|| ValueProblem("not a date".into()))?;
                if raw.is_year_less() {
                    return Err(ValueProblem("date without a year".into()));
                }
                raw.settle(self.def.date_order.unwrap_or_default())
                    .map(|d| {
                        // The date part, cut from the date-time's own text.
                        let mut iso = d.to_iso();
                        iso.truncate(10);
                        FieldValue::String(iso)
                    })
                    .ok_or_else(|| ValueProblem("no such calendar date".into()))
            }
            FieldType::Dropdown => self
                .choice(v)
                .map(|c| FieldValue::String(c.to_string()))
                .ok_or_else(|| ValueProblem(format!("'{v}' is not one of the field's choices"))),
            FieldType::MultiSelect => {
                let mut out = Vec::new();
                for piece in split_list(v) {
                    let c = self.choice(&piece).ok_or_else(|| {
                        ValueProblem(format!("'{piece}' is not one of the field's choices"))
                    })?;
                    out.push(FieldValue::String(c.to_string()));
                }
                Ok(FieldValue::Array(out))
            }
        }
    }

    /// The choice matching `value` (exactly, else case-insensitively), in the choice's own
    /// spelling.
    fn choice(&self, value: &str) -> Option<&'d str> {
        let choices = &self.def.choices;
        if let Some(c) = choices.iter().find(|c| c.as_str() == value) {
            return Some(c);
        }
        let lower = value.to_lowercase();
        self.lower_choices
            .iter()
            .position(|c| *c == lower)
            .map(|i| choices[i].as_str())
    }
}

/// The result of looking at a column's values.
#[derive(Debug, Clone, PartialEq)]
pub struct Inference {
    /// The proposed definition.
    pub def: CustomFieldDef,
    /// 0–1: how sure the proposal is.
    pub confidence: f64,
    /// In plain words, why.
    pub reason: String,
    /// Date-order evidence, for date columns.
    pub dates: Option<OrderEvidence>,
}

/// Most distinct values a dropdown proposal may have.
const DROPDOWN_MAX_CHOICES: usize = 30;

/// How many of `values` pass `test`, unless more than `allowed` fail: then `None`, as
/// soon as the first too many has failed.
fn count_unless_too_few(
    values: &[&str],
    allowed: usize,
    mut test: impl FnMut(&str) -> bool,
) -> Option<usize> {
    let mut misses = 0;
    values
        .iter()
        .all(|v| {
            misses += usize::from(!test(v));
            misses <= allowed
        })
        .then(|| values.len() - misses)
}

/// Proposes a type for a column from its values. `force` keeps a type decided by the
/// header (category and source are dropdowns, groups a multi-select) while still
/// collecting choices.
pub fn infer(label: &str, values: &[&str], force: Option<FieldType>) -> Inference {
    let non_empty: Vec<&str> = values
        .iter()
        .map(|v| crate::values::trim(v))
        .filter(|v| !v.is_empty())
        .collect();
    let n = non_empty.len();
    let def = |field_type, choices| CustomFieldDef {
        label: label.to_string(),
        field_type,
        choices,
        date_order: None,
    };
    let distinct = |split: bool| -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        let mut keys = crate::FastSet::default();
        // A value met before adds nothing (its pieces are already in), and most columns
        // repeat a few values many times: only a value's first occurrence is lower-cased.
        let mut met = crate::FastSet::default();
        let mut add = |p: &str| {
            if keys.insert(p.to_lowercase()) {
                seen.push(p.to_string());
            }
        };
        for v in &non_empty {
            if !met.insert(*v) {
                continue;
            }
            if split {
                split_list(v).iter().for_each(|p| add(p));
            } else {
                add(v);
            }
        }
        // Each key made once: a free-text column has as many distinct values as rows.
        seen.sort_by_cached_key(|a| a.to_lowercase());
        seen
    };
    if let Some(t) = force {
        let choices = match t {
            FieldType::Dropdown => distinct(false),
            FieldType::MultiSelect => distinct(true),
            _ => Vec::new(),
        };
        let count = choices.len();
        return Inference {
            def: def(t, choices),
            confidence: 0.9,
            reason: format!(
                "header names a {} list ({count} distinct values)",
                t.as_str()
            ),
            dates: None,
        };
    }
    if n == 0 {
        return Inference {
            def: def(FieldType::Text, vec![]),
            confidence: 0.3,
            reason: "column is empty".into(),
            dates: None,
        };
    }
    if non_empty.iter().any(|v| {
        (v.len() > TEXT_MAX_CHARS && v.chars().count() > TEXT_MAX_CHARS) || v.contains('\n')
    }) {
        return Inference {
            def: def(FieldType::Paragraph, vec![]),
            confidence: 0.9,
            reason: format!("values longer than {TEXT_MAX_CHARS} characters or on several lines"),
            dates: None,
        };
    }
    let checkbox_family = |v: &&str| parse_checkbox(v).is_some();
    if non_empty.iter().all(checkbox_family) {
        let words: std::collections::BTreeSet<String> =
            non_empty.iter().map(|v| v.to_ascii_lowercase()).collect();
        let numeric = words.iter().all(|w| w == "0" || w == "1");
        if words.len() <= 2 && (!numeric || n >= 3) {
            return Inference {
                def: def(FieldType::Checkbox, vec![]),
                confidence: if numeric { 0.6 } else { 0.9 },
                reason: format!("all {n} values are yes/no"),
                dates: None,
            };
        }
    }
    // A few stray values ("n/a", a typo) should not demote a column of dates or numbers to
    // text: they are held as invalid values instead, where the customer sees them. At most
    // one in fifty, and none in a column of fewer than twenty values.
    let allowed = if n >= 20 { n / 50 } else { 0 };
    let stray = |ok: usize| {
        if ok == n {
            String::new()
        } else {
            format!("; {} other values will be held as invalid", n - ok)
        }
    };
    // Read once, with the evidence gathered as the values are read, giving up as soon as
    // too many values are not dates (most columns are not dates, and say so at their
    // first value).
    let mut ev = OrderEvidence::default();
    let mut year_less = 0;
    let dated = count_unless_too_few(&non_empty, allowed, |text| match parse_raw(text) {
        Some(raw) => {
            ev.add(&raw, text);
            year_less += usize::from(raw.is_year_less());
            true
        }
        None => false,
    });
    if let Some(dated) = dated {
        if year_less == 0 {
            let mut d = def(FieldType::Date, vec![]);
            d.date_order = Some(ev.order());
            let reason = if ev.needs_review() {
                format!(
                    "{dated} of {n} values are dates; {} could be read day-first or month-first{}",
                    ev.ambiguous,
                    stray(dated)
                )
            } else {
                format!("{dated} of {n} values are dates{}", stray(dated))
            };
            return Inference {
                def: d,
                confidence: 0.9,
                reason,
                dates: Some(ev),
            };
        }
        return Inference {
            def: def(FieldType::Text, vec![]),
            confidence: 0.7,
            reason: format!(
                "{year_less} dates have no year (kept as text: Freshsales dates need one)"
            ),
            dates: None,
        };
    }
    if let Some(numbers) = count_unless_too_few(&non_empty, allowed, |v| parse_number(v).is_some())
    {
        return Inference {
            def: def(FieldType::Number, vec![]),
            confidence: if numbers == n { 0.85 } else { 0.7 },
            reason: format!("{numbers} of {n} values are numbers{}", stray(numbers)),
            dates: None,
        };
    }
    let multi = non_empty
        .iter()
        .filter(|v| v.contains(';') || v.contains('|'))
        .count();
    if multi > 0 {
        let choices = distinct(true);
        if choices.len() <= DROPDOWN_MAX_CHOICES && choices.len() * 2 <= n + multi {
            let count = choices.len();
            return Inference {
                def: def(FieldType::MultiSelect, choices),
                confidence: 0.7,
                reason: format!("values are lists drawn from {count} repeating choices"),
                dates: None,
            };
        }
    }
    let choices = distinct(false);
    if n >= 4 && choices.len() <= DROPDOWN_MAX_CHOICES && choices.len() * 3 <= n {
        let count = choices.len();
        return Inference {
            def: def(FieldType::Dropdown, choices),
            confidence: 0.7,
            reason: format!("{count} distinct values in {n} rows"),
            dates: None,
        };
    }
    Inference {
        def: def(FieldType::Text, vec![]),
        confidence: 0.8,
        reason: format!("free text ({} distinct values in {n} rows)", choices.len()),
        dates: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(values: &[&str]) -> FieldType {
        infer("x", values, None).def.field_type
    }

    /// A date or number column keeps its type with one stray value in fifty, not with two
    /// (nor with any stray among fewer than twenty), and says how many were strays.
    #[test]
    fn stray_values_are_tolerated_up_to_one_in_fifty() {
        for (good, bad) in [("3/4/2020", "n/a"), ("12.5", "twelve")] {
            let column = |n: usize, strays: usize| {
                let mut v = vec![good; n - strays];
                // Strays first: the count stops early, it must still count them all.
                v.splice(0..0, std::iter::repeat_n(bad, strays));
                infer("x", &v, None)
            };
            let one = column(50, 1);
            assert_ne!(one.def.field_type, FieldType::Text, "{good}");
            assert!(one.reason.starts_with("49 of 50 values"), "{}", one.reason);
            assert!(
                one.reason
                    .ends_with("1 other values will be held as invalid"),
                "{}",
                one.reason
            );
            assert_ne!(column(50, 2).def.field_type, one.def.field_type, "{good}");
            assert_eq!(column(100, 2).def.field_type, one.def.field_type, "{good}");
            assert_ne!(column(19, 1).def.field_type, one.def.field_type, "{good}");
            assert!(
                column(19, 0).reason.starts_with("19 of 19"),
                "{}",
                column(19, 0).reason
            );
        }
    }

    #[test]
    fn infers_types_from_values() {
        assert_eq!(ty(&["3/4/2020", "12/25/2019", ""]), FieldType::Date);
        assert_eq!(ty(&["12", "1,500", "7.5"]), FieldType::Number);
        assert_eq!(ty(&["Yes", "No", "yes"]), FieldType::Checkbox);
        assert_eq!(ty(&["1", "0", "1", "1"]), FieldType::Checkbox);
        assert_eq!(
            ty(&["Gold", "Silver", "Gold", "Gold", "Silver", "Gold"]),
            FieldType::Dropdown
        );
        assert_eq!(
            ty(&["Golf; Tennis", "Golf", "Tennis|Golf", "Golf"]),
            FieldType::MultiSelect
        );
        assert_eq!(ty(&[&"x".repeat(300)]), FieldType::Paragraph);
        assert_eq!(ty(&["01234", "02345"]), FieldType::Text);
        assert_eq!(ty(&["12/25", "01/05"]), FieldType::Text);
        assert_eq!(ty(&["a", "b", "c"]), FieldType::Text);
        let mut mostly: Vec<String> = (0..60).map(|i| i.to_string()).collect();
        mostly.push("n/a".into());
        let refs: Vec<&str> = mostly.iter().map(String::as_str).collect();
        assert_eq!(ty(&refs), FieldType::Number);
        assert_eq!(ty(&["1", "2", "n/a"]), FieldType::Text);
    }

    /// Choices keep the first spelling met of each (case aside), whatever repeats follow,
    /// and are listed case-insensitively; a list's pieces count one by one.
    #[test]
    fn choices_keep_their_first_spelling_in_case_insensitive_order() {
        let mut values = vec!["silver", "Gold", "SILVER", "gold", "Bronze"];
        values.extend(std::iter::repeat_n("Gold", 20));
        let dropdown = infer("Tier", &values, Some(FieldType::Dropdown)).def;
        assert_eq!(dropdown.choices, ["Bronze", "Gold", "silver"]);
        let lists = ["golf; Tennis", "Tennis|GOLF", "golf; Tennis", "chess"];
        let multi = infer("Hobbies", &lists, Some(FieldType::MultiSelect)).def;
        assert_eq!(multi.choices, ["chess", "golf", "Tennis"]);
    }

    /// A date column's evidence covers every value, read once: the day-first one proves
    /// the order even after ambiguous ones, and the ambiguous are all counted.
    #[test]
    fn date_evidence_covers_every_value() {
        let inf = infer("When", &["03/04/2020", "05/06/2020", "25/12/2020"], None);
        assert_eq!(inf.def.date_order, Some(DateOrder::Dmy));
        let ev = inf.dates.expect("a date column has evidence");
        assert_eq!((ev.ambiguous, ev.dmy, ev.mdy), (2, 1, 0));
    }

    #[test]
    fn converts_and_rejects_values() {
        let mut d = infer("When", &["03/04/2020", "05/06/2020"], None).def;
        assert_eq!(d.convert("03/04/2020").unwrap(), "2020-03-04");
        d.date_order = Some(DateOrder::Dmy);
        assert_eq!(d.convert("03/04/2020").unwrap(), "2020-04-03");
        assert!(d.convert("31/31/2020").is_err());
        let dd = CustomFieldDef {
            label: "Tier".into(),
            field_type: FieldType::Dropdown,
            choices: vec!["Gold".into(), "Silver".into()],
            date_order: None,
        };
        assert_eq!(dd.convert("gold").unwrap(), "Gold");
        assert!(dd.convert("Bronze").is_err());
        let ms = CustomFieldDef {
            field_type: FieldType::MultiSelect,
            ..dd
        };
        assert_eq!(
            ms.convert("silver;Gold").unwrap(),
            serde_json::json!(["Silver", "Gold"])
        );
    }
}
