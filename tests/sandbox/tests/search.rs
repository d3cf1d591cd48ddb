//! `POST /filtered_search/:entity`: many records found in one call, paged; off by a switch.

mod common;

use common::{seeded_config, start};
use serde_json::json;

#[tokio::test]
async fn filtered_search_finds_many_emails_in_one_call() {
    let s = start(seeded_config()).await;
    for i in 0..3 {
        s.contact(json!({"emails": format!("p{i}@example.com"), "external_id": format!("allclients:{i}")}))
            .await;
    }
    let r = s
        .post(
            "/filtered_search/contact",
            json!({"filter_rule": [{"attribute": "contact_email.email", "operator": "is_in",
                    "value": ["P0@example.com", "p2@example.com", "nobody@example.com"]}],
                   "page": 1, "per_page": 100}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut found: Vec<String> = r.body["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap().to_string())
        .collect();
    found.sort();
    assert_eq!(found, ["p0@example.com", "p2@example.com"]);
    assert_eq!(r.body["meta"]["total"], 2);
    let by_id = s
        .post(
            "/filtered_search/contact",
            json!({"filter_rule": [{"attribute": "external_id", "operator": "is_in", "value": ["allclients:1"]}]}),
        )
        .await;
    assert_eq!(by_id.body["contacts"][0]["email"], "p1@example.com");
    let too_many: Vec<String> = (0..101).map(|i| format!("x{i}@example.com")).collect();
    let r = s
        .post(
            "/filtered_search/contact",
            json!({"filter_rule": [{"attribute": "contact_email.email", "operator": "is_in", "value": too_many}]}),
        )
        .await;
    assert_eq!(r.status, 400);

    let mut cfg = seeded_config();
    cfg.filtered_search = false;
    let off = start(cfg).await;
    let r = off
        .post("/filtered_search/contact", json!({"filter_rule": []}))
        .await;
    assert_eq!(r.status, 404);
}
