//! Reads over many records: saved views with pagination, lookup, and the task list.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::{Value, json};

use super::{Record, Store};
use crate::clock::format_date;
use crate::error::{ApiError, ApiResult};
use crate::fields::Entity;
use crate::validate::phone_digits;

/// Default page size, as upstream.
pub const DEFAULT_PER_PAGE: usize = 25;
/// Largest page size; bigger requests are clamped.
pub const MAX_PER_PAGE: usize = 100;

/// The saved views of each entity: (id, name, only the key user's records).
const CONTACT_VIEWS: &[(u64, &str, bool)] = &[
    (70_000_000_701, "All Contacts", false),
    (70_000_000_702, "My Contacts", true),
];
const ACCOUNT_VIEWS: &[(u64, &str, bool)] = &[
    (70_000_000_711, "All Accounts", false),
    (70_000_000_712, "My Accounts", true),
];

fn views(e: Entity) -> &'static [(u64, &'static str, bool)] {
    match e {
        Entity::Contact => CONTACT_VIEWS,
        Entity::SalesAccount => ACCOUNT_VIEWS,
    }
}

/// Paging, sorting and filtering parameters of list endpoints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    /// 1-based page.
    pub page: usize,
    /// Page size, clamped to 1..=100.
    pub per_page: usize,
    /// Field to sort by (top-level field of the record); id when absent.
    pub sort: Option<String>,
    /// Descending when true.
    pub descending: bool,
    /// Task list filter.
    pub filter: Option<String>,
}

impl ListQuery {
    /// Reads `page`, `per_page`, `sort`, `sort_type`, `filter` from query parameters.
    pub fn from_params(params: &HashMap<String, String>) -> ApiResult<ListQuery> {
        let num = |k: &str, default: usize| -> ApiResult<usize> {
            match params.get(k) {
                None => Ok(default),
                Some(s) => s
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| ApiError::bad(format!("Invalid value for {k}."))),
            }
        };
        let descending = match params.get("sort_type").map(String::as_str) {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(ApiError::bad("Invalid value for sort_type.")),
        };
        Ok(ListQuery {
            page: num("page", 1)?.max(1),
            per_page: num("per_page", DEFAULT_PER_PAGE)?.clamp(1, MAX_PER_PAGE),
            sort: params.get("sort").cloned(),
            descending,
            filter: params.get("filter").cloned(),
        })
    }
}

fn cmp_json(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a.unwrap_or(&Value::Null), b.unwrap_or(&Value::Null)) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (x, y) => x.to_string().cmp(&y.to_string()),
    }
}

/// Sorts, pages and wraps `items` as `{key: [...], "meta": {"total_pages", "total"}}`.
pub(super) fn page(key: &str, mut items: Vec<Value>, q: &ListQuery) -> Value {
    if let Some(field) = &q.sort {
        items.sort_by(|a, b| cmp_json(a.get(field), b.get(field)));
    }
    if q.descending {
        items.reverse();
    }
    let total = items.len();
    let total_pages = total.div_ceil(q.per_page);
    let page: Vec<Value> = items
        .into_iter()
        .skip((q.page - 1) * q.per_page)
        .take(q.per_page)
        .collect();
    json!({ key: page, "meta": {"total_pages": total_pages, "total": total} })
}

impl Store {
    /// `GET /contacts/filters`, `GET /sales_accounts/filters`.
    pub fn filters(&self, e: Entity) -> Value {
        let list: Vec<Value> = views(e)
            .iter()
            .map(|(id, name, mine)| {
                json!({"id": id, "name": name, "model_class_name": e.model(), "user_id": self.key_user(),
                       "is_default": !mine, "is_public": true})
            })
            .collect();
        json!({ "filters": list })
    }

    /// `GET /contacts/view/:id` and the account equivalent.
    pub fn list_view(&self, e: Entity, view_id: u64, q: &ListQuery) -> ApiResult<Value> {
        let (_, _, mine) = views(e)
            .iter()
            .find(|v| v.0 == view_id)
            .ok_or_else(ApiError::not_found)?;
        let me = json!(self.key_user());
        let items = self
            .table(e)
            .values()
            .filter(|r| !mine || r.get("owner_id") == Some(&me))
            .map(|r| self.render(e, r))
            .collect();
        Ok(page(e.plural(), items, q))
    }

    /// `GET /lookup?q=&f=&entities=`: exact match, answered with the double nesting
    /// `{"contacts": {"contacts": [...]}}`.
    pub fn lookup(
        &self,
        q: Option<&str>,
        f: Option<&str>,
        entities: Option<&str>,
    ) -> ApiResult<Value> {
        let (Some(q), Some(f)) = (q.filter(|s| !s.is_empty()), f.filter(|s| !s.is_empty())) else {
            return Err(ApiError::bad("q and f are required."));
        };
        let mut out = serde_json::Map::new();
        for name in entities
            .unwrap_or("contact,sales_account")
            .split(',')
            .map(str::trim)
        {
            let e = match name {
                "contact" => Entity::Contact,
                "sales_account" => Entity::SalesAccount,
                other => {
                    return Err(ApiError::bad(format!(
                        "Invalid value for entities: {other}."
                    )));
                }
            };
            let hits: Vec<Value> = self
                .table(e)
                .values()
                .filter(|r| matches(r, f, q))
                .map(|r| self.render(e, r))
                .collect();
            out.insert(e.plural().into(), json!({ e.plural(): hits }));
        }
        Ok(Value::Object(out))
    }

    /// `POST /filtered_search/:entity` (§17.3): records matching every rule of
    /// `filter_rule` (`[{attribute, operator: "is_in" | "is", value}]`, at most 100 values a
    /// rule), paged by `page`/`per_page` in the body. `contact_email.email` matches any of a
    /// contact's emails; other attributes are matched as `/lookup` matches its `f`.
    pub fn filtered_search(&self, e: Entity, body: &Record) -> ApiResult<Value> {
        let rules = body
            .get("filter_rule")
            .and_then(Value::as_array)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| ApiError::bad("filter_rule can't be blank."))?;
        let mut parsed: Vec<(String, Vec<String>)> = Vec::new();
        for r in rules {
            let attribute = r["attribute"]
                .as_str()
                .ok_or_else(|| ApiError::bad("Invalid value for attribute."))?;
            let values: Vec<String> = match (r["operator"].as_str(), &r["value"]) {
                (Some("is_in"), Value::Array(list)) => list
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .collect(),
                (Some("is"), Value::String(v)) => vec![v.clone()],
                (Some("is"), v) if !v.is_null() => vec![v.to_string()],
                _ => return Err(ApiError::bad("Invalid value for operator.")),
            };
            if values.len() > 100 {
                return Err(ApiError::bad("A filter takes at most 100 values."));
            }
            let f = match attribute {
                "contact_email.email" | "email" => "email",
                other => other,
            };
            parsed.push((f.to_string(), values));
        }
        let num = |k: &str, default: usize| {
            body.get(k)
                .and_then(Value::as_u64)
                .map_or(default, |n| n as usize)
        };
        let q = ListQuery {
            page: num("page", 1).max(1),
            per_page: num("per_page", DEFAULT_PER_PAGE).clamp(1, MAX_PER_PAGE),
            sort: None,
            descending: false,
            filter: None,
        };
        let hits: Vec<Value> = self
            .table(e)
            .values()
            .filter(|r| {
                parsed
                    .iter()
                    .all(|(f, values)| values.iter().any(|v| matches(r, f, v)))
            })
            .map(|r| self.render(e, r))
            .collect();
        Ok(page(e.plural(), hits, &q))
    }

    /// `GET /tasks?filter=open|completed|due_today|due_tomorrow|overdue` (default open), paged.
    pub fn list_tasks(&self, q: &ListQuery, now: i64) -> ApiResult<Value> {
        let today = format_date(now);
        let tomorrow = format_date(now + 86_400);
        let filter = q.filter.as_deref().unwrap_or("open");
        let status = |r: &Record| r.get("status").and_then(Value::as_u64).unwrap_or(0);
        let due = |r: &Record| -> String {
            r.get("due_date")
                .and_then(Value::as_str)
                .unwrap_or("")
                .chars()
                .take(10)
                .collect()
        };
        let keep: Box<dyn Fn(&Record) -> bool> = match filter {
            "open" => Box::new(|r| status(r) == 0),
            "completed" => Box::new(|r| status(r) == 1),
            "due_today" => Box::new(|r| status(r) == 0 && due(r) == today),
            "due_tomorrow" => Box::new(|r| status(r) == 0 && due(r) == tomorrow),
            "overdue" => Box::new(|r| status(r) == 0 && due(r) < today),
            other => return Err(ApiError::bad(format!("Invalid value for filter: {other}."))),
        };
        let items = self
            .tasks
            .values()
            .filter(|r| keep(r))
            .map(|r| Value::Object(r.clone()))
            .collect();
        Ok(page("tasks", items, q))
    }
}

fn matches(r: &Record, f: &str, q: &str) -> bool {
    let as_text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match f {
        "email" | "emails" => r
            .get("emails")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("value").and_then(Value::as_str))
            .any(|e| e.eq_ignore_ascii_case(q)),
        "mobile_number" => {
            let want = phone_digits(q);
            want.is_some()
                && r.get("mobile_number")
                    .and_then(Value::as_str)
                    .and_then(phone_digits)
                    == want
        }
        "name" => r
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case(q)),
        cf if cf.starts_with("cf_") => r
            .get("custom_field")
            .and_then(|c| c.get(cf))
            .is_some_and(|v| !v.is_null() && as_text(v) == q),
        other => r
            .get(other)
            .is_some_and(|v| !v.is_null() && as_text(v) == q),
    }
}
