//! Appointments arrive with their original times (issue 11): checked against the shipped
//! sample's Appointments.csv read here with the `csv` crate, not through `prep`, and with
//! the zone converted here with jiff, not through the loader.

mod common;

use std::collections::HashMap;

use common::*;
use serde_json::Value;

/// `M/D/YYYY` → `YYYY-MM-DD`.
fn iso_date(us: &str) -> String {
    let p: Vec<u32> = us.split('/').map(|x| x.parse().unwrap()).collect();
    format!("{:04}-{:02}-{:02}", p[2], p[0], p[1])
}

/// `M/D/YYYY` and `H:MM AM` as a Chicago wall-clock time with its offset.
fn chicago(date: &str, clock: &str) -> String {
    let (hm, ampm) = clock.split_once(' ').unwrap();
    let (h, m) = hm.split_once(':').unwrap();
    let mut h: i8 = h.parse().unwrap();
    if ampm == "PM" && h != 12 {
        h += 12;
    }
    if ampm == "AM" && h == 12 {
        h = 0;
    }
    let d: jiff::civil::Date = iso_date(date).parse().unwrap();
    let zoned = d
        .at(h, m.parse().unwrap(), 0, 0)
        .in_tz("America/Chicago")
        .unwrap();
    zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

struct Row {
    email: String,
    title: String,
    from: String,
    end: String,
    all_day: bool,
}

/// The sample's appointments, by id, as they should arrive.
fn expected() -> HashMap<String, Row> {
    let mut r = csv::Reader::from_path(sample().join("Appointments.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|x| x == name).unwrap();
    let (id, email, title, date, start, end, all_day) = (
        col("Appointment ID"),
        col("Email"),
        col("Description"),
        col("Date"),
        col("Start Time"),
        col("End Time"),
        col("All Day"),
    );
    let mut out = HashMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let all = rec[all_day].eq_ignore_ascii_case("yes");
        let day = &rec[date];
        let (from, to) = if all {
            let to = if rec[end].is_empty() {
                iso_date(day)
            } else {
                iso_date(&rec[end])
            };
            (iso_date(day), to)
        } else {
            let to = match rec[end].split_once(' ') {
                // "5/5/2022 7:15 AM": a date of its own.
                Some((d, t)) if d.contains('/') => chicago(d, t),
                _ => chicago(day, &rec[end]),
            };
            (chicago(day, &rec[start]), to)
        };
        out.insert(
            rec[id].to_string(),
            Row {
                email: rec[email].to_lowercase(),
                title: rec[title].to_string(),
                from,
                end: to,
                all_day: all,
            },
        );
    }
    out
}

fn check_against_source(state: &Value) {
    let rows = expected();
    let appts = state["appointments"].as_array().unwrap();
    assert_eq!(
        appts.len(),
        rows.len(),
        "one appointment per row, no duplicate"
    );
    let emails: HashMap<i64, String> = state["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_i64().unwrap(),
                c["email"].as_str().unwrap_or("").to_lowercase(),
            )
        })
        .collect();
    for (id, row) in &rows {
        let r = loader::payload::import_ref(&format!("appointment:allclients:{id}"));
        let a = appts
            .iter()
            .find(|a| a["description"].as_str().unwrap_or("").contains(&r))
            .unwrap_or_else(|| panic!("appointment {id} arrived"));
        assert_eq!(a["title"], row.title.as_str(), "{id}");
        assert_eq!(a["from_date"], row.from.as_str(), "{id} start");
        assert_eq!(a["end_date"], row.end.as_str(), "{id} end");
        assert_eq!(a["is_allday"], row.all_day, "{id}");
        let target = a["targetable_id"].as_i64();
        match row.email.as_str() {
            "" => assert_eq!(target, None, "{id} has no contact"),
            email => {
                assert_eq!(
                    target.and_then(|t| emails.get(&t)).map(String::as_str),
                    Some(email),
                    "{id}"
                );
                let attendees = a["appointment_attendees"].to_string();
                assert!(
                    attendees.contains(&target.unwrap().to_string()),
                    "{id}: {attendees}"
                );
            }
        }
    }
}

#[test]
fn every_appointment_arrives_with_its_original_times_once_even_when_answers_are_lost() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    // A clean load.
    let sb = Sandbox::start(config(ready_seed(&bundle), FAST));
    let o = push(&bundle, &sb, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join("sample.bundle.load/report-appointments.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(report["expected"], 20);
    assert_eq!(report["created"], 20, "{report}");
    let clean = sb.state();
    check_against_source(&clean);
    let o = verify(&bundle, &sb);
    assert!(o.status.success(), "{}", text(&o));
    drop(sb);

    // Every create's answer is lost after it was applied, and the account has no
    // per-contact list of appointments: the loader settles each by paging the account's
    // lists for its ref, and never creates one twice.
    let dir2 = tempfile::tempdir().unwrap();
    let bundle2 = dir2.path().join("sample.bundle.jsonl.gz");
    std::fs::copy(&bundle, &bundle2).unwrap();
    let mut cfg = config(ready_seed(&bundle2), FAST);
    cfg.contact_appointments_list = false;
    cfg.faults.lost_after_commit = 1.0;
    cfg.faults.only = vec!["POST /appointments".into()];
    let sb = Sandbox::start(cfg);
    let o = push(&bundle2, &sb, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let lossy = sb.state();
    let faults: u64 = lossy["counters"]["faults"]
        .as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
    assert!(faults >= 20, "every create lost its answer: {faults}");
    check_against_source(&lossy);
    assert!(
        canonical(&lossy) == canonical(&clean),
        "{}",
        first_difference(&canonical(&clean), &canonical(&lossy)).unwrap_or_default()
    );
}
