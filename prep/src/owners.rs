//! Team members, owners and lists (flags, groups, categories, sources). Owners are matched
//! to the users file by email, id or name; the loader later matches them to Freshsales users
//! by email.

use std::collections::BTreeMap;

use crate::fields::StdField as F;
use crate::model::{Owner, OwnerStatus, TeamMember};
use crate::review::{Reason, ReviewItem};
use crate::sheet::Sheet;
use crate::values::{email_key, is_valid_email, squash};

/// Team members from users sheets.
pub fn team_members(sheets: &[Sheet]) -> Vec<TeamMember> {
    let mut out = Vec::new();
    for sheet in sheets {
        for row in &sheet.table.rows {
            let cell = |f: F| sheet.cell(row, sheet.std(f)).map(str::to_string);
            let name = cell(F::Name).or_else(|| {
                let full = squash(&format!(
                    "{} {}",
                    cell(F::FirstName).unwrap_or_default(),
                    cell(F::LastName).unwrap_or_default()
                ));
                (!full.is_empty()).then_some(full)
            });
            out.push(TeamMember {
                id: cell(F::TeamMemberId),
                name,
                email: cell(F::Email),
                role: cell(F::Role),
            });
        }
    }
    out
}

/// One reference to an owner: its value and where it was first seen.
pub struct OwnerRef<'a> {
    /// The value as written.
    pub value: &'a str,
    /// Input file.
    pub file: &'a str,
    /// Row.
    pub row: u64,
}

/// Resolves every distinct owner value (trimmed, case-insensitive) against the users;
/// `assigned` (by lower-cased owner value) are the customer's choices, which win.
pub fn resolve<'a>(
    refs: impl IntoIterator<Item = OwnerRef<'a>>,
    users: &[TeamMember],
    assigned: &BTreeMap<String, String>,
) -> (Vec<Owner>, Vec<ReviewItem>) {
    let mut by_key: BTreeMap<String, (Owner, String, u64)> = BTreeMap::new();
    for r in refs {
        let key = r.value.trim().to_lowercase();
        if key.is_empty() {
            continue;
        }
        // A handful of owners, each named by thousands of records: counted in place.
        if let Some(entry) = by_key.get_mut(&key) {
            entry.0.references += 1;
            continue;
        }
        let entry = by_key.entry(key.clone()).or_insert_with(|| {
            let found = users.iter().find(|u| {
                let v = r.value.trim();
                u.email
                    .as_deref()
                    .is_some_and(|e| email_key(e) == email_key(v))
                    || u.id.as_deref() == Some(v)
                    || u.name
                        .as_deref()
                        .is_some_and(|n| squash(n).to_lowercase() == squash(v).to_lowercase())
            });
            let owner = match (assigned.get(&key), found) {
                (Some(email), _) => Owner {
                    source: r.value.trim().to_string(),
                    email: Some(email.clone()),
                    name: users
                        .iter()
                        .find(|u| {
                            u.email
                                .as_deref()
                                .is_some_and(|e| email_key(e) == email_key(email))
                        })
                        .and_then(|u| u.name.clone()),
                    status: OwnerStatus::Assigned,
                    references: 0,
                },
                (None, Some(u)) => Owner {
                    source: r.value.trim().to_string(),
                    email: u.email.clone(),
                    name: u.name.clone(),
                    status: OwnerStatus::InUsersFile,
                    references: 0,
                },
                (None, None) => Owner {
                    source: r.value.trim().to_string(),
                    email: is_valid_email(r.value.trim()).then(|| r.value.trim().to_string()),
                    name: None,
                    status: OwnerStatus::Unknown,
                    references: 0,
                },
            };
            (owner, r.file.to_string(), r.row)
        });
        entry.0.references += 1;
    }
    let mut owners = Vec::new();
    let mut review = Vec::new();
    for (_, (owner, file, row)) in by_key {
        if owner.status == OwnerStatus::Unknown {
            let mut item = ReviewItem::new(
                Reason::UnknownOwner,
                &file,
                format!(
                    "owner '{}' ({} records) is not in the users file: map it to a Freshsales user",
                    owner.source, owner.references
                ),
            )
            .value("owner", &owner.source);
            item.row = Some(row);
            review.push(item);
        }
        owners.push(owner);
    }
    (owners, review)
}

/// A list entry from a Flags / Groups / Categories / Sources file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// The value.
    pub name: String,
    /// `flag`, `tag`, `group`, `category`, `category 2`, `source` (lower-case), from the
    /// Type column or the file name.
    pub list: String,
}

/// Entries of all list sheets.
pub fn lists(sheets: &[Sheet]) -> Vec<ListEntry> {
    let mut out = Vec::new();
    for sheet in sheets {
        let from_name = {
            let n = sheet.file.to_lowercase();
            ["group", "categor", "source", "flag", "tag"]
                .iter()
                .find(|w| n.contains(*w))
                .map(|w| if *w == "categor" { "category" } else { w }.to_string())
                .unwrap_or_else(|| "flag".to_string())
        };
        let header_list = sheet
            .std(F::ListName)
            .map(|i| crate::kind::normalize_header(&sheet.table.headers[i]))
            .filter(|h| h != "name" && !h.ends_with("name"));
        for row in &sheet.table.rows {
            let Some(name) = sheet.cell(row, sheet.std(F::ListName)) else {
                continue;
            };
            let list = sheet
                .cell(row, sheet.std(F::ListType))
                .map(str::to_lowercase)
                .or_else(|| header_list.clone())
                .unwrap_or_else(|| from_name.clone());
            out.push(ListEntry {
                name: name.to_string(),
                list,
            });
        }
    }
    out
}
