//! Appointments over real HTTP: create, read, update, delete; validation of titles, dates
//! with offsets, order, targets and attendees; the switches for what upstream may not do.

mod common;

use common::{seeded_config, start};
use serde_json::{Value, json};

fn refused(r: &common::Resp, needle: &str) {
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.messages().contains(needle),
        "{} lacks {needle}",
        r.messages()
    );
}

#[tokio::test]
async fn appointments_create_read_update_delete_and_validate() {
    let s = start(seeded_config()).await;
    let c = s.contact(json!({"emails": "a@example.com"})).await;
    let user = s.state().await["users"][0]["id"].clone();
    let body = |extra: Value| {
        let mut a = json!({
            "title": "Listing walkthrough",
            "from_date": "2021-03-04T14:05:00-06:00",
            "end_date": "2021-03-04T15:00:00-06:00",
            "time_zone": "America/Chicago",
            "location": "12 Elm St",
            "targetable_type": "Contact", "targetable_id": c,
            "appointment_attendees_attributes": [
                {"attendee_type": "FdMultitenant::User", "attendee_id": user},
                {"attendee_type": "Contact", "attendee_id": c}
            ]
        });
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        json!({ "appointment": a })
    };
    refused(
        &s.post("/appointments", body(json!({"title": " "}))).await,
        "title",
    );
    refused(
        &s.post(
            "/appointments",
            body(json!({"from_date": "2021-03-04T14:05:00"})),
        )
        .await,
        "offset",
    );
    refused(
        &s.post(
            "/appointments",
            body(json!({"end_date": "2021-03-04T13:00:00-06:00"})),
        )
        .await,
        "on or after",
    );
    refused(
        &s.post("/appointments", body(json!({"targetable_id": 1})))
            .await,
        "does not exist",
    );
    refused(
        &s.post(
            "/appointments",
            body(json!({"appointment_attendees_attributes": [{"attendee_type": "Contact", "attendee_id": 9}]})),
        )
        .await,
        "Attendee",
    );
    let r = s.post("/appointments", body(json!({}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["appointment"]["id"].as_u64().unwrap();
    let got = s.get(&format!("/appointments/{id}")).await;
    assert_eq!(
        got.body["appointment"]["from_date"],
        "2021-03-04T14:05:00-06:00"
    );
    assert_eq!(
        got.body["appointment"]["appointment_attendees"][1]["attendee_id"],
        c
    );
    let listed = s.get(&format!("/contacts/{c}/appointments")).await;
    assert_eq!(listed.body["appointments"][0]["id"], id);
    assert_eq!(
        s.get("/appointments?filter=past").await.body["meta"]["total"],
        1
    );
    assert_eq!(
        s.get("/appointments?filter=upcoming").await.body["meta"]["total"],
        0
    );

    // All day: calendar dates; without a contact: allowed.
    let r = s
        .post(
            "/appointments",
            json!({"appointment": {"title": "Open house", "is_allday": true,
                   "from_date": "2021-05-01", "end_date": "2021-05-02"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    refused(
        &s.post(
            "/appointments",
            json!({"appointment": {"title": "x", "from_date": "2021-05-01", "end_date": "2021-05-02"}}),
        )
        .await,
        "from_date",
    );

    let up = s
        .put(
            &format!("/appointments/{id}"),
            json!({"appointment": {"location": "14 Elm St"}}),
        )
        .await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert_eq!(up.body["appointment"]["title"], "Listing walkthrough");
    assert_eq!(up.body["appointment"]["location"], "14 Elm St");
    assert_eq!(s.state().await["appointments"].as_array().unwrap().len(), 2);
    assert_eq!(s.delete(&format!("/appointments/{id}")).await.status, 200);
    assert_eq!(s.get(&format!("/appointments/{id}")).await.status, 404);
}

#[tokio::test]
async fn unconfirmed_appointment_behaviours_are_switches() {
    let mut cfg = seeded_config();
    cfg.appointment_owner_id = false;
    cfg.contact_appointments_list = false;
    let s = start(cfg).await;
    let c = s.contact(json!({"emails": "a@example.com"})).await;
    let user = s.state().await["users"][0]["id"].clone();
    let a = json!({"appointment": {"title": "Coffee", "owner_id": user,
                   "from_date": "2021-03-04T09:00:00Z", "end_date": "2021-03-04T10:00:00Z",
                   "targetable_type": "Contact", "targetable_id": c}});
    refused(&s.post("/appointments", a).await, "owner_id");
    assert_eq!(
        s.get(&format!("/contacts/{c}/appointments")).await.status,
        404
    );
}
