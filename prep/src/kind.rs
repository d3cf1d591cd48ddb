//! What each input file is (contacts, notes, …), recognised by its headers first and its
//! name second, and the header aliases of every kind (from `shared/allclients.md` §12).

use serde::{Deserialize, Serialize};

use crate::fields::StdField;

/// The kind of an AllClients export file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// Contacts.csv: one person per row.
    Contacts,
    /// Notes.csv: timestamped notes joined to contacts.
    Notes,
    /// To-Dos / tasks.
    Tasks,
    /// Calendar appointments.
    Appointments,
    /// Team members (users).
    Users,
    /// Flags / tags / groups / categories / sources lists.
    Lists,
    /// Email templates (CSV with HTML bodies, or `.html` files).
    Templates,
    /// Not recognised: reported, not loaded.
    Unknown,
}

impl FileKind {
    /// Every kind an export's file can be, in the order they are prepared (contacts first:
    /// everything else joins to them).
    pub const KNOWN: [FileKind; 7] = [
        FileKind::Contacts,
        FileKind::Notes,
        FileKind::Tasks,
        FileKind::Appointments,
        FileKind::Users,
        FileKind::Lists,
        FileKind::Templates,
    ];

    /// The word used in the bundle and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Contacts => "contacts",
            FileKind::Notes => "notes",
            FileKind::Tasks => "tasks",
            FileKind::Appointments => "appointments",
            FileKind::Users => "users",
            FileKind::Lists => "lists",
            FileKind::Templates => "templates",
            FileKind::Unknown => "unknown",
        }
    }
}

/// Header normal form: lower-case letters and digits only, so `"Phone 1 Note"`,
/// `"phone1note"` and `"Phone1_Note"` compare equal.
pub fn normalize_header(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// What a header alias stands for in a contacts file beyond the plain standard fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alias {
    /// A standard field.
    Std(StdField),
    /// The flags/tags column (split into tags).
    Tags,
    /// A single-choice list (Category, Category 2, Source): a dropdown custom field.
    Dropdown,
    /// The groups column: a multi-select custom field named by the customer.
    Groups,
}

use Alias::*;
use StdField as F;

type Table = &'static [(Alias, &'static [&'static str])];

const CONTACTS: Table = &[
    (
        Std(F::ContactId),
        &[
            "Contact ID",
            "ContactID",
            "ID",
            "Record ID",
            "AllClients ID",
        ],
    ),
    (Std(F::FirstName), &["First Name", "First", "Given Name"]),
    (
        Std(F::LastName),
        &["Last Name", "Last", "Surname", "Family Name"],
    ),
    (
        Std(F::Email),
        &[
            "Email",
            "Email Address",
            "E-mail",
            "Primary Email",
            "Email 1",
        ],
    ),
    (
        Std(F::OtherEmail),
        &[
            "Other Email",
            "Email 2",
            "Secondary Email",
            "Alternate Email",
            "Other Email Address",
        ],
    ),
    (
        Std(F::Company),
        &[
            "Company",
            "Company Name",
            "Business",
            "Organization",
            "Organisation",
            "Account Name",
        ],
    ),
    (
        Std(F::JobTitle),
        &["Job Title", "Title", "Position", "Occupation"],
    ),
    (
        Std(F::WorkNumber),
        &[
            "Work Phone",
            "Business Phone",
            "Office Phone",
            "Work Number",
        ],
    ),
    (
        Std(F::MobileNumber),
        &[
            "Mobile Phone",
            "Mobile",
            "Cell",
            "Cell Phone",
            "Mobile Number",
        ],
    ),
    (
        Std(F::Phone),
        &[
            "Phone",
            "Phone 1",
            "Phone 2",
            "Phone 3",
            "Phone 4",
            "Home Phone",
            "Phone Number",
            "Other Phone",
        ],
    ),
    (
        Std(F::PhoneLabel),
        &[
            "Phone 1 Note",
            "Phone 2 Note",
            "Phone 3 Note",
            "Phone 4 Note",
            "Phone 1 Type",
            "Phone 2 Type",
            "Phone 3 Type",
            "Phone 4 Type",
            "Phone 1 Label",
            "Phone 2 Label",
            "Phone 3 Label",
            "Phone 4 Label",
            "Phone Type",
            "Phone Note",
            "Phone Label",
        ],
    ),
    (
        Std(F::Address),
        &[
            "Address",
            "Street",
            "Street Address",
            "Address 1",
            "Address Line 1",
        ],
    ),
    (
        Std(F::Address2),
        &["Address 2", "Address Line 2", "Street 2"],
    ),
    (Std(F::City), &["City", "Town"]),
    (
        Std(F::State),
        &["State", "Province", "ST", "Region", "State/Province"],
    ),
    (
        Std(F::Zipcode),
        &["Zip", "Zip Code", "Postal Code", "Postcode", "Zipcode"],
    ),
    (Std(F::Country), &["Country"]),
    (
        Std(F::Owner),
        &[
            "Team Member",
            "Assigned To",
            "Owner",
            "Database",
            "Contact Owner",
            "teammemberid",
        ],
    ),
    (
        Std(F::CreatedAt),
        &[
            "Add Date",
            "Added",
            "Date Added",
            "Created",
            "Created Date",
            "adddate",
            "Created At",
        ],
    ),
    (
        Std(F::UpdatedAt),
        &[
            "Edit Date",
            "Edited",
            "Last Modified",
            "Modified",
            "Updated",
            "editdate",
            "Updated At",
            "Last Edited",
            "Date Modified",
        ],
    ),
    (Tags, &["Flags", "Tags", "Flag", "Tag"]),
    (
        Dropdown,
        &[
            "Category",
            "Category 1",
            "Contact Category",
            "Status",
            "Category 2",
            "Custom Category",
            "Source",
            "Lead Source",
            "Contact Source",
        ],
    ),
    (Groups, &["Group", "Groups"]),
];

const CONTACT_LINK: Table = &[
    (Std(F::ContactId), &["Contact ID", "ContactID"]),
    (
        Std(F::Email),
        &["Email", "Contact Email", "Email Address", "E-mail"],
    ),
    (Std(F::FirstName), &["First Name", "First"]),
    (Std(F::LastName), &["Last Name", "Last"]),
    (Std(F::ContactName), &["Name", "Contact", "Contact Name"]),
];

const NOTES: Table = &[
    (Std(F::ContactId), &["ID"]),
    (
        Std(F::NoteDate),
        &[
            "Date",
            "Note Date",
            "Created",
            "Date Added",
            "Timestamp",
            "Created At",
            "Added",
        ],
    ),
    (
        Std(F::NoteText),
        &[
            "Note",
            "Notes",
            "Note Text",
            "Content",
            "Body",
            "notecontent",
            "Note Content",
        ],
    ),
    (
        Std(F::Author),
        &["Added By", "Team Member", "User", "Author", "Created By"],
    ),
    (Std(F::Pinned), &["Pinned", "Pin"]),
];

const TASKS: Table = &[
    (
        Std(F::TodoId),
        &["To-Do ID", "ToDo ID", "Task ID", "ID", "todoid"],
    ),
    (
        Std(F::Title),
        &["Summary", "Subject", "Title", "To-Do", "Task", "ToDo"],
    ),
    (Std(F::Details), &["Details", "Description", "Notes"]),
    (
        Std(F::DueDate),
        &["Due Date", "Due", "Date", "Due On", "duedate"],
    ),
    (
        Std(F::CompletedDate),
        &[
            "Completed Date",
            "Complete Date",
            "Date Completed",
            "Completed On",
            "completedate",
        ],
    ),
    (Std(F::Status), &["Status", "Completed", "Done", "Complete"]),
    (Std(F::Priority), &["Priority"]),
    (Std(F::TaskType), &["Category", "Type", "To-Do Type"]),
    (
        Std(F::Owner),
        &["Assigned To", "Team Member", "Owner", "teammemberid"],
    ),
    (
        Std(F::Template),
        &["Email Template", "Letter Template", "Template"],
    ),
];

const APPOINTMENTS: Table = &[
    (
        Std(F::AppointmentId),
        &["Appointment ID", "ID", "appointmentid"],
    ),
    (Std(F::Title), &["Description", "Subject", "Title"]),
    (Std(F::Details), &["Details", "Notes", "Location"]),
    (Std(F::Date), &["Date", "Appointment Date"]),
    (
        Std(F::Start),
        &[
            "Start",
            "Start Time",
            "Start Date/Time",
            "Start Date",
            "startdatetime",
        ],
    ),
    (
        Std(F::End),
        &[
            "End",
            "End Time",
            "End Date/Time",
            "End Date",
            "enddatetime",
        ],
    ),
    (Std(F::AllDay), &["All Day", "All-Day"]),
    (Std(F::Owner), &["Team Member", "Assigned To", "Owner"]),
    (Std(F::Color), &["Color", "Colour"]),
];

const USERS: Table = &[
    (
        Std(F::TeamMemberId),
        &["Team Member ID", "ID", "teammemberid", "User ID"],
    ),
    (
        Std(F::Name),
        &[
            "Name",
            "Full Name",
            "Display Name",
            "display_fullname",
            "User Name",
        ],
    ),
    (Std(F::FirstName), &["First Name"]),
    (Std(F::LastName), &["Last Name"]),
    (
        Std(F::Email),
        &["Email", "Login", "Email Address", "E-mail"],
    ),
    (
        Std(F::Role),
        &["User Level", "Role", "Access Level", "user_level"],
    ),
    (Std(F::Database), &["Database"]),
];

const LISTS: Table = &[
    (
        Std(F::ListName),
        &[
            "Name",
            "Flag",
            "Tag",
            "Category",
            "Source",
            "Group",
            "Flag Name",
            "Tag Name",
            "Group Name",
            "Category Name",
            "Source Name",
        ],
    ),
    (Std(F::ListType), &["Type", "List Type"]),
    (Std(F::ListId), &["ID", "flagid", "categoryid", "sourceid"]),
    (Std(F::ListCount), &["Count", "Contacts", "Contact Count"]),
];

const TEMPLATES: Table = &[
    (
        Std(F::TemplateId),
        &["ID", "Template ID", "emailtemplateid"],
    ),
    (Std(F::TemplateName), &["Name", "Template Name", "Template"]),
    (Std(F::Folder), &["Folder"]),
    (Std(F::Subject), &["Subject", "Subject Line", "subjectline"]),
    (
        Std(F::Body),
        &["Body", "Message Body", "HTML", "messagebody", "Message"],
    ),
    (Std(F::Owner), &["Owner", "Team Member"]),
];

fn tables(kind: FileKind) -> &'static [Table] {
    match kind {
        FileKind::Contacts => &[CONTACTS],
        FileKind::Notes => &[NOTES, CONTACT_LINK],
        FileKind::Tasks => &[TASKS, CONTACT_LINK],
        FileKind::Appointments => &[APPOINTMENTS, CONTACT_LINK],
        FileKind::Users => &[USERS],
        FileKind::Lists => &[LISTS],
        FileKind::Templates => &[TEMPLATES],
        FileKind::Unknown => &[],
    }
}

/// What `header` means in a file of `kind`, by alias (case- and punctuation-insensitive).
/// Report-style qualified headers (`Contact: First Name`) fall back to the part after the
/// colon.
pub fn alias(kind: FileKind, header: &str) -> Option<Alias> {
    alias_exact(kind, header).or_else(|| {
        let (_, last) = header.rsplit_once(':')?;
        alias_exact(kind, last)
    })
}

fn alias_exact(kind: FileKind, header: &str) -> Option<Alias> {
    let norm = normalize_header(header);
    if norm.is_empty() {
        return None;
    }
    for table in tables(kind) {
        for (alias, names) in table.iter() {
            if names.iter().any(|n| normalize_header(n) == norm) {
                return Some(*alias);
            }
        }
    }
    // AllClients numbers its phone columns; accept any "Phone N …" spelling.
    if kind == FileKind::Contacts && norm.starts_with("phone") {
        let rest = norm
            .trim_start_matches("phone")
            .trim_start_matches(|c: char| c.is_ascii_digit());
        if ["note", "type", "label"].contains(&rest) {
            return Some(Std(F::PhoneLabel));
        }
        if rest.is_empty() {
            return Some(Std(F::Phone));
        }
        if rest.contains("text") || rest.contains("sms") {
            return None; // text opt-in flags stay custom fields
        }
    }
    None
}

/// How well a header row fits a kind, or `None` when its signature columns are missing.
fn fit(kind: FileKind, headers: &[String]) -> Option<f64> {
    let aliases: Vec<Option<Alias>> = headers.iter().map(|h| alias(kind, h)).collect();
    let has = |f: StdField| aliases.contains(&Some(Std(f)));
    let eligible = match kind {
        FileKind::Contacts => {
            has(F::FirstName) || has(F::LastName) || has(F::Email) || has(F::Company)
        }
        FileKind::Notes => has(F::NoteText),
        // A lone date column is no to-do list (stock prices and address lists have one).
        FileKind::Tasks => {
            (has(F::Title)
                && (has(F::Priority) || has(F::Status) || has(F::CompletedDate) || has(F::DueDate)))
                || (has(F::DueDate)
                    && (has(F::Priority) || has(F::Status) || has(F::CompletedDate)))
        }
        FileKind::Appointments => {
            has(F::Start) || (has(F::Date) && (has(F::End) || has(F::AllDay) || has(F::Color)))
        }
        FileKind::Users => {
            (has(F::Email) || has(F::Name)) && (has(F::Role) || has(F::TeamMemberId))
        }
        FileKind::Lists => {
            has(F::ListName) && (has(F::ListType) || has(F::ListCount) || headers.len() == 1)
        }
        FileKind::Templates => has(F::Body) && (has(F::Subject) || has(F::TemplateName)),
        FileKind::Unknown => false,
    };
    if !eligible || headers.is_empty() {
        return None;
    }
    let matched = aliases.iter().filter(|a| a.is_some()).count();
    let score = matched as f64 / headers.len() as f64;
    // Contacts exports carry many custom columns, so only their signature counts; any other
    // kind must explain at least a quarter of the headers, else the file is asked about.
    (kind == FileKind::Contacts || score >= 0.25).then_some(score)
}

/// Recognises a file's kind from its first line alone (an HTML file is a template), without
/// reading the rest: for estimates made when a file is added. Unreadable is `Unknown`.
pub fn detect_bytes(file_name: &str, bytes: &[u8]) -> FileKind {
    let lower = file_name.to_lowercase();
    if lower.ends_with(".html") || lower.ends_with(".htm") {
        return FileKind::Templates;
    }
    // The first line's bytes, decoded on their own (a header is short; a quoted header
    // with a line break in it is read as far as the break, which is enough to tell).
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let Ok(decoded) = crate::decode::decode(&bytes[..end], None) else {
        return FileKind::Unknown;
    };
    match crate::table::Table::parse(file_name, &decoded.text, None) {
        Ok(t) if !t.headers.is_empty() => detect(file_name, &t.headers),
        _ => FileKind::Unknown,
    }
}

/// Recognises a CSV file's kind from its headers; the file name only breaks near-ties.
pub fn detect(file_name: &str, headers: &[String]) -> FileKind {
    let name = file_name.to_ascii_lowercase();
    let hint = |kind: FileKind| -> bool {
        let words: &[&str] = match kind {
            FileKind::Contacts => &["contact"],
            FileKind::Notes => &["note"],
            FileKind::Tasks => &["task", "todo", "to-do", "followup"],
            FileKind::Appointments => &["appointment", "calendar"],
            FileKind::Users => &["user", "team"],
            FileKind::Lists => &["flag", "tag", "group", "categor", "source", "list"],
            FileKind::Templates => &["template"],
            FileKind::Unknown => &[],
        };
        words.iter().any(|w| name.contains(w))
    };
    let mut best = (FileKind::Unknown, 0.0);
    for kind in FileKind::KNOWN {
        if let Some(mut score) = fit(kind, headers) {
            if hint(kind) {
                score += 0.25;
            }
            if score > best.1 {
                best = (kind, score);
            }
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_is_read_from_the_first_line_alone() {
        let contacts = "\u{feff}Contact ID,First Name,Last Name,Email\r\n1,Ada,L,\"a\nb\"";
        assert_eq!(
            detect_bytes("x.csv", contacts.as_bytes()),
            FileKind::Contacts
        );
        assert_eq!(
            detect_bytes("Notes.csv", b"Email,Note\r\n"),
            FileKind::Notes
        );
        assert_eq!(detect_bytes("t.html", b"<html>"), FileKind::Templates);
        assert_eq!(
            detect_bytes("x.png", &[0x89, b'P', 0, 0, 1]),
            FileKind::Unknown
        );
    }

    fn h(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn normalises_punctuation_and_case() {
        assert_eq!(normalize_header("Phone 1 Note"), "phone1note");
        assert_eq!(normalize_header("Phone1_Note"), "phone1note");
        assert_eq!(normalize_header(" E-mail "), "email");
    }

    #[test]
    fn aliases_depend_on_kind() {
        assert_eq!(alias(FileKind::Contacts, "ID"), Some(Std(F::ContactId)));
        assert_eq!(alias(FileKind::Tasks, "ID"), Some(Std(F::TodoId)));
        assert_eq!(
            alias(FileKind::Contacts, "PHONE_3_LABEL"),
            Some(Std(F::PhoneLabel))
        );
        assert_eq!(alias(FileKind::Contacts, "Phone 2 Text Opt In"), None);
        assert_eq!(alias(FileKind::Contacts, "Anniversary"), None);
    }

    #[test]
    fn detects_kinds_by_headers_not_names() {
        let contacts = h(&["First Name", "Last Name", "Email", "Company", "Phone 1"]);
        assert_eq!(detect("export (3).csv", &contacts), FileKind::Contacts);
        let notes = h(&["Contact ID", "Email", "Date", "Note"]);
        assert_eq!(detect("Contacts.csv", &notes), FileKind::Notes);
        let tasks = h(&["Summary", "Due Date", "Priority", "Status", "Email"]);
        assert_eq!(detect("x.csv", &tasks), FileKind::Tasks);
        let users = h(&["Team Member ID", "Name", "Email", "User Level"]);
        assert_eq!(detect("x.csv", &users), FileKind::Users);
        let lists = h(&["Name", "Type", "Count"]);
        assert_eq!(detect("x.csv", &lists), FileKind::Lists);
        let templates = h(&["Name", "Folder", "Subject", "Body"]);
        assert_eq!(detect("x.csv", &templates), FileKind::Templates);
        // Unrelated data with a date column is not a to-do list.
        let stocks = h(&["Date", "Open", "High", "Low", "Close", "Volume"]);
        assert_eq!(detect("bom.csv", &stocks), FileKind::Unknown);
        let mut japanese = h(&["id", "date"]);
        japanese.extend((1..=15).map(|i| format!("val{i}")));
        assert_eq!(detect("japanese.csv", &japanese), FileKind::Unknown);
        let appts = h(&["Description", "Date", "Start Time", "End Time"]);
        assert_eq!(detect("x.csv", &appts), FileKind::Appointments);
        assert_eq!(detect("x.csv", &h(&["foo", "bar"])), FileKind::Unknown);
    }
}
