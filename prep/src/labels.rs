//! Words for the customer: Freshsales' own field labels for mapping targets, and plain
//! names for file kinds. One home, so the page, the checks and the reports say the same.

use crate::fields::StdField;
use crate::kind::FileKind;
use crate::mapping::Target;

/// Freshsales' label of a standard field (or, where Freshsales has none, what it becomes).
pub fn field(f: StdField) -> &'static str {
    use StdField::*;
    match f {
        ContactId => "External ID (the AllClients contact ID)",
        FirstName => "First name",
        LastName => "Last name",
        ContactName => "Contact's full name (to find the contact)",
        Email => "Email",
        OtherEmail => "Other emails",
        Company => "Sales account (company)",
        JobTitle => "Job title",
        WorkNumber => "Work",
        MobileNumber => "Mobile",
        Phone => "Phone (work, mobile or other, by its label)",
        PhoneLabel => "Label of a phone (home, work, mobile…)",
        Address => "Address",
        Address2 => "Address, second line",
        City => "City",
        State => "State",
        Zipcode => "Zipcode",
        Country => "Country",
        Owner => "Sales owner",
        CreatedAt => "AllClients Created (date field)",
        UpdatedAt => "AllClients Last Edited (date field)",
        NoteDate => "Note date",
        NoteText => "Note text",
        Author => "Note author",
        Pinned => "Pinned note",
        TodoId => "To-do ID (kept in the description)",
        Title => "Title",
        Details => "Description",
        DueDate => "Due date",
        CompletedDate => "Completed on (kept in the description)",
        Status => "Status",
        Priority => "Priority",
        TaskType => "Task type",
        Template => "To-do plan (kept in the description)",
        AppointmentId => "Appointment ID (kept in the description)",
        Date => "Date",
        Start => "From",
        End => "To",
        AllDay => "All day",
        Color => "Colour (kept in the description)",
        TeamMemberId => "Team member ID",
        Name => "Name",
        Role => "Role",
        Database => "Database",
        ListName => "Name",
        ListType => "List type",
        ListId => "ID",
        ListCount => "Count",
        TemplateId => "Template ID",
        TemplateName => "Template name",
        Folder => "Folder",
        Subject => "Subject",
        Body => "Body",
    }
}

/// A mapping target in the customer's words.
pub fn target(t: &Target) -> String {
    match t {
        Target::Field(f) => field(*f).to_string(),
        Target::Tags => "Tags".into(),
        Target::TagIfTrue(tag) => format!("Tag “{tag}” when set"),
        Target::Custom(label) => format!("Custom field “{label}”"),
        Target::Append => "Added to the text as “Column: value”".into(),
        Target::Ignore => "Leave behind (not migrated)".into(),
    }
}

/// A file kind in the customer's words.
pub fn kind(k: FileKind) -> &'static str {
    match k {
        FileKind::Contacts => "Contacts",
        FileKind::Notes => "Notes",
        FileKind::Tasks => "To-dos",
        FileKind::Appointments => "Appointments",
        FileKind::Users => "Team members",
        FileKind::Lists => "Flags, groups and categories",
        FileKind::Templates => "Email templates",
        FileKind::Unknown => "Not an AllClients export",
    }
}
