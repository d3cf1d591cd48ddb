//! Edits: each one changes the customer's overrides and re-runs the preparation.

use super::*;

// Edits: each one changes `overrides` and re-runs the preparation.

pub(super) fn control_value(target: &Element) -> Option<String> {
    if let Some(s) = target.dyn_ref::<HtmlSelectElement>() {
        Some(s.value())
    } else {
        target.dyn_ref::<HtmlTextAreaElement>().map(|t| t.value())
    }
}

pub(super) fn on_file_override(control: &Element, value: String) {
    let (Some(file), Some(field)) = (
        control.get_attribute("data-file"),
        control.get_attribute("data-field"),
    ) else {
        return;
    };
    with_app(|a| {
        let over = a.overrides.files.entry(file).or_default();
        match field.as_str() {
            "kind" => {
                over.kind = serde_json::from_value(serde_json::Value::String(value)).ok();
            }
            "encoding" => over.encoding = Some(value),
            "delimiter" => over.delimiter = Some(value),
            _ => {}
        }
    });
    spawn_local(reanalyse());
}

pub(super) fn on_mapping_change(control: &Element, value: String) {
    let (Some(kind), Some(source), Some(field)) = (
        control.get_attribute("data-kind"),
        control.get_attribute("data-source"),
        control.get_attribute("data-field"),
    ) else {
        return;
    };
    let Ok(kind) = serde_json::from_value::<FileKind>(serde_json::Value::String(kind)) else {
        return;
    };
    with_app(|a| {
        let Some(current) = a
            .analysis
            .as_ref()
            .and_then(|an| an.mapping.column(kind, &source).cloned())
        else {
            return;
        };
        let cols = a.overrides.columns.entry(kind).or_default();
        let pos = match cols.iter().position(|c| c.source == source) {
            Some(p) => p,
            None => {
                cols.push(ColumnMapping {
                    source: source.clone(),
                    target: current.target.clone(),
                    confidence: 1.0,
                    reason: String::new(),
                    date_order: None,
                });
                cols.len() - 1
            }
        };
        match field.as_str() {
            "target" => match value.parse::<Target>() {
                Ok(t) => cols[pos].target = t,
                Err(e) => notify("mapping", &format!("{source}: {e}"), true),
            },
            "date_order" => cols[pos].date_order = parse_order(&value),
            _ => {}
        }
    });
    notify(
        "mapping",
        &format!("Changed where “{source}” goes; checked again below."),
        false,
    );
    spawn_local(reanalyse());
}

/// "Back to the suggestion": the column's edit is dropped.
pub(super) fn revert_column(kind: &str, source: &str) {
    let Ok(kind) = serde_json::from_value::<FileKind>(serde_json::Value::String(kind.into()))
    else {
        return;
    };
    with_app(|a| {
        if let Some(cols) = a.overrides.columns.get_mut(&kind) {
            cols.retain(|c| c.source != source);
        }
    });
    notify(
        "mapping",
        &format!("“{source}” is back to the suggestion."),
        false,
    );
    spawn_local(reanalyse());
}

pub(super) fn parse_order(value: &str) -> Option<DateOrder> {
    serde_json::from_value(serde_json::Value::String(value.to_string())).ok()
}

pub(super) fn on_custom_field_change(control: &Element, value: String) {
    let (Some(label), Some(field)) = (
        control.get_attribute("data-label"),
        control.get_attribute("data-field"),
    ) else {
        return;
    };
    with_app(|a| {
        let Some(current) = a
            .analysis
            .as_ref()
            .and_then(|an| an.mapping.custom_field(&label).cloned())
        else {
            return;
        };
        let defs = &mut a.overrides.custom_fields;
        if !defs.iter().any(|d| d.label == label) {
            defs.push(current);
        }
        let Some(def): Option<&mut CustomFieldDef> = defs.iter_mut().find(|d| d.label == label)
        else {
            return;
        };
        match field.as_str() {
            "type" => {
                if let Ok(t) = serde_json::from_value(serde_json::Value::String(value)) {
                    def.field_type = t;
                }
            }
            "choices" => {
                def.choices = value
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            "date_order" => def.date_order = parse_order(&value),
            _ => {}
        }
    });
    spawn_local(reanalyse());
}

/// The groups field's name is a setting of the preparation (`--groups-field`); edits that
/// already name the old field follow it.
pub(super) fn rename_groups_field(new: &str) {
    if new.is_empty() {
        return;
    }
    with_app(|a| {
        let old = std::mem::replace(&mut a.groups_label, new.to_string());
        for cols in a.overrides.columns.values_mut() {
            for c in cols {
                if c.target == Target::Custom(old.clone()) {
                    c.target = Target::Custom(new.to_string());
                }
            }
        }
        for d in &mut a.overrides.custom_fields {
            if d.label == old {
                d.label = new.to_string();
            }
        }
    });
}

pub(super) async fn download_queue(reason: String) {
    let mapping =
        with_app(|a| serde_json::to_string(&a.overrides).unwrap_or_default()).unwrap_or_default();
    let file = format!("review-{reason}.csv");
    match call(Request::Queue { mapping, reason }, None).await {
        Ok(a) => save(
            a.text.unwrap_or_default().as_bytes(),
            "text/csv;charset=utf-8",
            &file,
        ),
        Err(e) => notify("review", &e, true),
    }
}
