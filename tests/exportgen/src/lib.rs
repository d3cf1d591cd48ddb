//! A seeded generator of realistic AllClients exports, messy on purpose: Windows-1252 and
//! UTF-8-with-BOM files, CRLF, quoted newlines, non-ASCII names, duplicate emails differing
//! only in case, malformed and missing emails, orphan notes and to-dos, system notes, an
//! unknown owner, ambiguous dates, HTML templates with images that will break.
//!
//! The same seed and size always give the same bytes: the shipped sample export is this
//! generator's output, and a test keeps the two in step.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// RNG seed.
    pub seed: u64,
    /// Contact rows (duplicates and bad rows included).
    pub contacts: usize,
    /// Note rows.
    pub notes: usize,
    /// To-do rows.
    pub tasks: usize,
    /// Add the side files (users, flags, templates, appointments).
    pub side_files: bool,
    /// Every column kind AllClients exports can have, beyond the sample's: phones 3 and 4
    /// with labels, a repeated Email header, day-first dates (Add Date and a custom date),
    /// to-dos with completion dates and without due dates. Drawn from a second random
    /// stream, so the other values are those of the same spec without it.
    pub every_kind: bool,
}

impl Spec {
    /// The shipped sample export.
    pub fn sample() -> Spec {
        Spec {
            seed: 20261125,
            contacts: 400,
            notes: 900,
            tasks: 150,
            side_files: true,
            every_kind: false,
        }
    }

    /// A smaller export with every column kind ([`Spec::every_kind`]).
    pub fn every_kind() -> Spec {
        Spec {
            seed: 20261201,
            contacts: 120,
            notes: 200,
            tasks: 60,
            side_files: true,
            every_kind: true,
        }
    }
}

/// One generated file.
#[derive(Debug, Clone)]
pub struct File {
    /// Relative path (`/`-separated).
    pub name: String,
    /// Bytes as they would be on disk.
    pub bytes: Vec<u8>,
}

/// What the generator planted, for tests to check against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Planted {
    /// Contact rows whose email repeats an earlier row's (case differs).
    pub duplicate_rows: usize,
    /// Contact rows with a malformed email.
    pub invalid_emails: usize,
    /// Contact rows without an email.
    pub missing_emails: usize,
    /// Notes whose email/id match no contact.
    pub orphan_notes: usize,
    /// Tasks whose contact is unknown.
    pub orphan_tasks: usize,
}

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "José",
    "Zoë",
    "François",
    "Søren",
    "Renée",
    "Björn",
    "Chloé",
    "Mañuel",
    "Ågot",
    "Jürgen",
    "O'Neil",
    "Anne-Marie",
    "Mårten",
    "Iñaki",
    "Siobhán",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Müller",
    "Núñez",
    "O'Brien",
    "Schäfer",
    "Gonçalves",
    "Wójcik",
    "Köhler",
    "Dupont",
    "Van der Berg",
    "Smith-Jones",
];
const COMPANIES: &[&str] = &[
    "Acme Realty",
    "Blue Sky Insurance",
    "Café Olé, LLC",
    "Smith & Sons",
    "Northwind Traders",
    "acme realty",
    "Globex Corporation",
    "Initech",
    "Umbrella \"Health\" Group",
    "",
    "",
    "",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Austin", "TX", "78701"),
    ("Denver", "CO", "80202"),
    ("Boston", "MA", "02108"),
    ("Seattle", "WA", "98101"),
    ("Miami", "FL", "33101"),
    ("Portland", "OR", "97201"),
];
const CATEGORIES: &[&str] = &["Client", "Prospect", "Past Client", "Vendor", ""];
const SOURCES: &[&str] = &["Referral", "Website", "Open House", "Zillow", ""];
const FLAGS: &[&str] = &[
    "VIP",
    "Newsletter",
    "Golf",
    "Holiday Card",
    "Do Not Call",
    "Buyer",
    "Seller",
];
const GROUPS: &[&str] = &["Sphere", "Farm Area", "Past Clients 2019", "Investors"];
const LEVELS: &[&str] = &["Gold", "Silver", "Bronze"];
const OWNERS: &[&str] = &[
    "pat@agency.example",
    "Sam Rivera",
    "lee@agency.example",
    "Jordan Unknown",
];
const NOTE_TEXTS: &[&str] = &[
    "Called, left voicemail.",
    "Met at open house on Elm St. Interested in 3BR.",
    "Sent CMA.\nFollow up next week about pricing.",
    "Prefers text over email; \"don't call after 6pm\".",
    "[[System]][[Icon:Email]] Email sent: Monthly Newsletter",
    "[[System]] Contact added to workflow: New Lead Drip",
    "Closing scheduled — bring keys, café meeting at 10.",
    "Spouse (Renée) handles the paperwork, cc her on everything.",
];

fn pick<'a>(rng: &mut ChaCha8Rng, list: &[&'a str]) -> &'a str {
    list.choose(rng).copied().unwrap_or("")
}

fn csv_cell(s: &str, delim: char) -> String {
    if s.contains(['"', '\n', '\r', delim]) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_line(cells: &[String], delim: char) -> String {
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c, delim))
        .collect::<Vec<_>>()
        .join(&delim.to_string());
    line.push_str("\r\n");
    line
}

fn us_date(rng: &mut ChaCha8Rng, with_time: bool) -> String {
    let (m, d, y) = (
        rng.random_range(1..=12),
        rng.random_range(1..=28),
        rng.random_range(2012..=2024),
    );
    if with_time {
        let h = rng.random_range(1..=12);
        let ampm = if rng.random_bool(0.5) { "AM" } else { "PM" };
        format!(
            "{m}/{d}/{y} {h}:{:02}:{:02} {ampm}",
            rng.random_range(0..60),
            rng.random_range(0..60)
        )
    } else {
        format!("{m}/{d}/{y}")
    }
}

fn phone(rng: &mut ChaCha8Rng) -> String {
    format!(
        "({}) {}-{:04}",
        rng.random_range(200..999),
        rng.random_range(200..999),
        rng.random_range(0..10000)
    )
}

fn windows_1252(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    debug_assert!(!unmappable, "sample text must fit Windows-1252");
    bytes.into_owned()
}

struct Person {
    id: u64,
    email: String,
    name: (String, String),
}

/// Generates an export.
pub fn generate(spec: &Spec) -> (Vec<File>, Planted) {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut planted = Planted::default();
    let mut files = Vec::new();
    let mut people: Vec<Person> = Vec::new();

    let header = [
        "Contact ID",
        "First Name",
        "Last Name",
        "Email",
        "Other Email",
        "Company",
        "Address",
        "City",
        "State",
        "Zip",
        "Phone 1",
        "Phone 1 Note",
        "Phone 2",
        "Phone 2 Note",
        "Category",
        "Source",
        "Flags",
        "Groups",
        "Team Member",
        "Birthday",
        "Anniversary",
        "Membership Level",
        "Newsletter",
        "Referral Count",
        "Referral Notes",
        "Add Date",
        "Edit Date",
    ];
    let mut extra_rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x5eed);
    let mut header: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    if spec.every_kind {
        header.extend(
            [
                "Phone 3",
                "Phone 3 Note",
                "Phone 4",
                "Phone 4 Note",
                "Email",
                "Closing Date",
            ]
            .map(String::from),
        );
    }
    let mut contacts = csv_line(&header, ',');
    for i in 0..spec.contacts {
        let id = 10_000 + i as u64;
        let first = pick(&mut rng, FIRST).to_string();
        let last = pick(&mut rng, LAST).to_string();
        let roll: f64 = rng.random();
        let mut email = format!(
            "{}.{}{}@{}",
            first
                .to_lowercase()
                .replace(|c: char| !c.is_ascii_alphabetic(), ""),
            last.to_lowercase()
                .replace(|c: char| !c.is_ascii_alphabetic(), ""),
            i,
            ["example.com", "mail.example.org", "agency.example"][i % 3]
        );
        let mut name = (first.clone(), last.clone());
        if roll < 0.04 && !people.is_empty() {
            // The same person again, email in other case: a duplicate to merge.
            let j = rng.random_range(0..people.len());
            email = people[j].email.to_uppercase();
            name = people[j].name.clone();
            planted.duplicate_rows += 1;
        } else if roll < 0.06 {
            email = [
                format!("{}@@example.com", first.to_lowercase()),
                format!("{} at example.com", last),
                "n/a".to_string(),
                format!("{}@example", last.to_lowercase()),
            ]
            .choose(&mut rng)
            .cloned()
            .unwrap_or_default();
            planted.invalid_emails += 1;
        } else if roll < 0.08 {
            email = String::new();
            planted.missing_emails += 1;
        } else if roll < 0.10 {
            email = format!("  {email} ");
        }
        let (city, state, zip) = *CITIES.choose(&mut rng).unwrap_or(&("", "", ""));
        let nflags = rng.random_range(0..3);
        let flags: Vec<&str> = FLAGS.choose_multiple(&mut rng, nflags).copied().collect();
        let ngroups = rng.random_range(0..2);
        let groups: Vec<&str> = GROUPS.choose_multiple(&mut rng, ngroups).copied().collect();
        let anniversary = if rng.random_bool(0.3) {
            // Month and day both <= 12: nothing tells DD/MM from MM/DD.
            format!(
                "{:02}/{:02}/{}",
                rng.random_range(1..=12),
                rng.random_range(1..=12),
                rng.random_range(1990..2020)
            )
        } else {
            String::new()
        };
        let referral_count = match rng.random_range(0..200) {
            0 => "n/a".to_string(),
            1..=80 => rng.random_range(0..12).to_string(),
            _ => String::new(),
        };
        let long_note = if rng.random_bool(0.02) {
            "Long story: ".repeat(30)
        } else {
            String::new()
        };
        let mut add = us_date(&mut rng, true);
        if spec.every_kind {
            // Day-first, as a UK account writes it: some days above 12 prove the order.
            add = format!(
                "{:02}/{:02}/{} 10:{:02}",
                extra_rng.random_range(1..=28),
                extra_rng.random_range(1..=12),
                extra_rng.random_range(2012..=2024),
                extra_rng.random_range(0..60)
            );
        }
        let edit = if rng.random_bool(0.01) {
            "13/45/2019".to_string()
        } else {
            us_date(&mut rng, true)
        };
        let mut row = vec![
            id.to_string(),
            name.0.clone(),
            name.1.clone(),
            email.clone(),
            if rng.random_bool(0.1) {
                format!("alt{i}@example.net")
            } else {
                String::new()
            },
            pick(&mut rng, COMPANIES).to_string(),
            if rng.random_bool(0.8) {
                format!("{} Main St", rng.random_range(1..9999))
            } else {
                String::new()
            },
            city.into(),
            state.into(),
            zip.into(),
            phone(&mut rng),
            pick(&mut rng, &["Mobile", "Work", "Home", "cell", ""]).into(),
            if rng.random_bool(0.4) {
                phone(&mut rng)
            } else {
                String::new()
            },
            pick(&mut rng, &["Home", "Work", "Fax"]).into(),
            pick(&mut rng, CATEGORIES).into(),
            pick(&mut rng, SOURCES).into(),
            flags.join("; "),
            groups.join(", "),
            if i % 97 == 0 {
                "Jordan Unknown".into()
            } else {
                pick(&mut rng, &OWNERS[..3]).into()
            },
            if rng.random_bool(0.3) {
                format!(
                    "{:02}/{:02}",
                    rng.random_range(1..=12),
                    rng.random_range(1..=28)
                )
            } else {
                String::new()
            },
            anniversary,
            pick(&mut rng, LEVELS).into(),
            pick(&mut rng, &["Yes", "No", ""]).into(),
            referral_count,
            long_note,
            add,
            edit,
        ];
        if spec.every_kind {
            let r = &mut extra_rng;
            let maybe_phone = |r: &mut ChaCha8Rng, p: f64| {
                if r.random_bool(p) {
                    phone(r)
                } else {
                    String::new()
                }
            };
            row.extend([
                maybe_phone(r, 0.5),
                pick(r, &["Other", "Fax", "Home", "Mobile", ""]).into(),
                maybe_phone(r, 0.3),
                pick(r, &["Pager", "Work", "Assistant", ""]).into(),
                if r.random_bool(0.3) {
                    format!("work{i}@company.example")
                } else {
                    String::new()
                },
                if r.random_bool(0.5) {
                    format!(
                        "{:02}/{:02}/{}",
                        r.random_range(13..=28),
                        r.random_range(1..=12),
                        r.random_range(2015..=2024)
                    )
                } else {
                    String::new()
                },
            ]);
        }
        contacts.push_str(&csv_line(&row, ','));
        if !email.trim().is_empty()
            && email.contains('@')
            && !email.contains("@@")
            && !email.contains(' ')
            && email.matches('.').count() > 0
        {
            people.push(Person {
                id,
                email: email.trim().to_string(),
                name,
            });
        }
    }
    files.push(File {
        name: "Contacts.csv".into(),
        bytes: windows_1252(&contacts),
    });

    // Notes: UTF-8 with BOM, quoted newlines, joined by id or by email.
    let mut notes = String::from("\u{feff}");
    notes.push_str(&csv_line(
        &["Contact ID", "Email", "Date", "Note"].map(String::from),
        ',',
    ));
    for n in 0..spec.notes {
        let text = if n == 3 {
            "<img src=x onerror=alert('xss')><script>alert(1)</script> pasted from a web form"
                .to_string()
        } else {
            let mut t = pick(&mut rng, NOTE_TEXTS).to_string();
            if rng.random_bool(0.05) {
                t.push_str(&" Lots of detail.".repeat(rng.random_range(5..40)));
            }
            t
        };
        let date = format!(
            "{}/{}/{} {}:{:02} {}",
            rng.random_range(1..=12),
            rng.random_range(1..=28),
            rng.random_range(2015..=2024),
            rng.random_range(1..=12),
            rng.random_range(0..60),
            if rng.random_bool(0.5) { "AM" } else { "PM" }
        );
        let (id, email) = if rng.random_bool(0.03) || people.is_empty() {
            planted.orphan_notes += 1;
            (String::new(), format!("gone{n}@old-domain.example"))
        } else {
            let p = people.choose(&mut rng).expect("people is not empty");
            if rng.random_bool(0.5) {
                (p.id.to_string(), String::new())
            } else {
                (String::new(), format!(" {} ", p.email.to_uppercase()))
            }
        };
        notes.push_str(&csv_line(&[id, email, date, text], ','));
    }
    files.push(File {
        name: "Notes.csv".into(),
        bytes: notes.into_bytes(),
    });

    // To-dos: semicolon-delimited, as a European Excel would save them.
    let mut task_header: Vec<String> = [
        "To-Do ID",
        "Contact ID",
        "Email",
        "Summary",
        "Details",
        "Due Date",
        "Status",
        "Priority",
        "Category",
        "Assigned To",
    ]
    .map(String::from)
    .to_vec();
    if spec.every_kind {
        task_header.push("Completed Date".into());
    }
    let mut tasks = csv_line(&task_header, ';');
    for t in 0..spec.tasks {
        let (id, email) = if rng.random_bool(0.04) || people.is_empty() {
            planted.orphan_tasks += 1;
            ("999999".to_string(), String::new())
        } else {
            let p = people.choose(&mut rng).expect("people is not empty");
            (p.id.to_string(), p.email.clone())
        };
        let mut row = vec![
            (50_000 + t).to_string(),
            id,
            email,
            pick(
                &mut rng,
                &[
                    "Call back",
                    "Send CMA",
                    "Birthday card",
                    "Follow up; pricing",
                    "",
                ],
            )
            .into(),
            if rng.random_bool(0.3) {
                "Discuss;\nnext steps".into()
            } else {
                String::new()
            },
            us_date(&mut rng, false),
            pick(&mut rng, &["Open", "Closed", "open"]).into(),
            pick(&mut rng, &["1", "3", "5", "High", "Low"]).into(),
            pick(&mut rng, &["Phone Call", "Email", "Letter", ""]).into(),
            pick(&mut rng, &OWNERS[..3]).into(),
        ];
        if spec.every_kind {
            let r = &mut extra_rng;
            if r.random_bool(0.2) {
                row[5] = String::new(); // no due date
            }
            let closed = row[6] == "Closed";
            row.push(if closed && r.random_bool(0.8) {
                us_date(r, true)
            } else {
                String::new()
            });
        }
        tasks.push_str(&csv_line(&row, ';'));
    }
    files.push(File {
        name: "Tasks.csv".into(),
        bytes: tasks.into_bytes(),
    });

    if spec.side_files {
        let mut users = csv_line(
            &["Team Member ID", "Name", "Email", "User Level"].map(String::from),
            ',',
        );
        for (id, name, email, level) in [
            ("0", "Pat Owner", "pat@agency.example", "Administrator"),
            ("12", "Sam Rivera", "sam@agency.example", "Power User"),
            ("15", "Lee Chen", "lee@agency.example", "Standard User"),
        ] {
            users.push_str(&csv_line(&[id, name, email, level].map(String::from), ','));
        }
        files.push(File {
            name: "Users.csv".into(),
            bytes: users.into_bytes(),
        });

        let mut flags = csv_line(&["Name", "Type", "Count"].map(String::from), ',');
        for f in FLAGS.iter().chain(&["Unused Flag"]) {
            flags.push_str(&csv_line(
                &[
                    f.to_string(),
                    "Flag".into(),
                    rng.random_range(0..50).to_string(),
                ],
                ',',
            ));
        }
        for s in ["Referral", "Website", "Open House", "Zillow", "Trade Show"] {
            flags.push_str(&csv_line(
                &[s.to_string(), "Source".into(), "0".into()],
                ',',
            ));
        }
        files.push(File {
            name: "Flags.csv".into(),
            bytes: flags.into_bytes(),
        });

        let mut templates = csv_line(
            &["Name", "Folder", "Subject", "Body"].map(String::from),
            ',',
        );
        templates.push_str(&csv_line(
            &[
                "Monthly Newsletter".into(),
                "Marketing".into(),
                "News for [FirstName]".into(),
                "<p>Hi [FirstName],</p>\r\n<img src=\"https://www.allclients.com/images/userfiles/123/logo.png\">\r\n<p>See the market report.</p>".into(),
            ],
            ',',
        ));
        templates.push_str(&csv_line(
            &[
                "Thank You".into(),
                "Follow-up".into(),
                "Thank you!".into(),
                "<p>Thanks {Company}!</p><img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==\">".into(),
            ],
            ',',
        ));
        files.push(File {
            name: "EmailTemplates.csv".into(),
            bytes: templates.into_bytes(),
        });
        files.push(File {
            name: "templates/Welcome.html".into(),
            bytes: "<h1>Welcome aboard</h1>\n<p>We're glad you're here.</p>\n<img src=\"images/banner.jpg\" alt=\"banner\">\n".as_bytes().to_vec(),
        });

        let mut appts = csv_line(
            &[
                "Appointment ID",
                "Email",
                "Description",
                "Date",
                "Start Time",
                "End Time",
                "All Day",
                "Team Member",
            ]
            .map(String::from),
            ',',
        );
        for a in 0..20 {
            let email = if a % 7 == 0 {
                String::new()
            } else {
                people
                    .choose(&mut rng)
                    .map(|p| p.email.clone())
                    .unwrap_or_default()
            };
            let title = pick(&mut rng, &["Listing appointment", "Coffee", "Closing"]);
            let date = us_date(&mut rng, false);
            // us_date's days stop at 28, so the next day is in the same month.
            let next_day = {
                let parts: Vec<&str> = date.split('/').collect();
                let day: u32 = parts[1].parse().unwrap_or(1);
                format!("{}/{}/{}", parts[0], day + 1, parts[2])
            };
            // Timed, all day, an all-day event over two days, a timed one ending the next
            // morning, and some with no owner: every shape AllClients' calendar has.
            let (start, end, all_day) = match a % 5 {
                1 => (String::new(), String::new(), "Yes"),
                2 => (String::new(), next_day, "Yes"),
                3 => ("8:30 PM".into(), format!("{next_day} 7:15 AM"), ""),
                _ => ("9:00 AM".into(), "10:30 AM".into(), ""),
            };
            let owner = if a % 6 == 4 { "" } else { "Pat Owner" };
            appts.push_str(&csv_line(
                &[
                    (700 + a).to_string(),
                    email,
                    title.into(),
                    date,
                    start,
                    end,
                    all_day.into(),
                    owner.into(),
                ],
                ',',
            ));
        }
        files.push(File {
            name: "Appointments.csv".into(),
            bytes: appts.into_bytes(),
        });
    }
    (files, planted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes() {
        let spec = Spec {
            seed: 7,
            contacts: 50,
            notes: 80,
            tasks: 10,
            side_files: true,
            every_kind: true,
        };
        let (a, pa) = generate(&spec);
        let (b, pb) = generate(&spec);
        assert_eq!(pa, pb);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.bytes, y.bytes, "{}", x.name);
        }
        let (c, _) = generate(&Spec { seed: 8, ..spec });
        assert_ne!(a[0].bytes, c[0].bytes);
    }
}
