//! The API surface over real HTTP: every endpoint's happy path and documented errors.

mod common;

use common::{KEY, seeded_config, start};
use fs_sandbox::{DropdownValueMode, SandboxConfig, TagUpdateMode, UnknownCfPolicy};
use serde_json::{Value, json};

fn bad(r: &common::Resp, needle: &str) {
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["errors"]["code"], 400);
    assert!(r.body["errors"]["message"].is_array(), "{}", r.body);
    assert!(
        r.messages().contains(needle),
        "{} lacks {needle}",
        r.messages()
    );
}

#[tokio::test]
async fn contact_create_get_update_delete_forget() {
    let s = start(seeded_config()).await;
    let r = s
        .post(
            "/contacts",
            json!({"contact": {"first_name": "Ada", "last_name": "Lovelace", "emails": "ada@example.com",
                   "job_title": "CTO", "custom_field": {"cf_anniversary": "2020-02-29", "cf_preferred_contact": "Email"}}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let c = &r.body["contact"];
    let id = c["id"].as_u64().unwrap();
    assert!(id > i32::MAX as u64, "ids are 64-bit: {id}");
    assert_eq!(c["display_name"], "Ada Lovelace");
    assert_eq!(c["email"], "ada@example.com");
    assert_eq!(c["emails"][0]["is_primary"], true);
    assert_eq!(c["custom_field"]["cf_anniversary"], "2020-02-29");
    assert_eq!(
        c["custom_field"]["cf_nickname"],
        Value::Null,
        "unset custom fields read as null"
    );
    assert!(c["created_at"].as_str().unwrap().ends_with("+00:00"));

    let got = s.get(&format!("/contacts/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["contact"]["job_title"], "CTO");

    // Partial update: only sent fields change, custom fields merge key by key.
    let up = s
        .put(
            &format!("/contacts/{id}"),
            json!({"contact": {"job_title": "Countess", "custom_field": {"cf_score": 7}}}),
        )
        .await;
    assert_eq!(up.status, 200, "{}", up.body);
    let c = &up.body["contact"];
    assert_eq!(c["job_title"], "Countess");
    assert_eq!(c["first_name"], "Ada");
    assert_eq!(c["email"], "ada@example.com");
    assert_eq!(c["custom_field"]["cf_anniversary"], "2020-02-29");
    assert_eq!(c["custom_field"]["cf_score"], 7);

    assert_eq!(
        s.put("/contacts/123", json!({"contact": {"job_title": "x"}}))
            .await
            .status,
        404
    );
    assert_eq!(s.get("/contacts/not-a-number").await.status, 404);

    let del = s.delete(&format!("/contacts/{id}")).await;
    assert_eq!(del.status, 200);
    assert_eq!(s.get(&format!("/contacts/{id}")).await.status, 404);
    let st = s.state().await;
    assert_eq!(st["contacts"], json!([]));
    assert_eq!(st["recycle_bin"][0]["id"], id);
    assert_eq!(st["recycle_bin"][0]["record_type"], "Contact");
    assert_eq!(s.delete(&format!("/contacts/{id}")).await.status, 404);

    // The email is free again once soft-deleted (configurable), and forget erases the bin copy.
    s.contact(json!({"emails": "ada@example.com"})).await;
    assert_eq!(
        s.delete(&format!("/contacts/{id}/forget")).await.status,
        200
    );
    assert_eq!(s.state().await["recycle_bin"], json!([]));
    assert_eq!(
        s.delete(&format!("/contacts/{id}/forget")).await.status,
        404
    );
}

#[tokio::test]
async fn forget_erases_a_live_contact_with_its_notes_and_tasks() {
    let s = start(seeded_config()).await;
    let id = s.contact(json!({"emails": "gone@example.com"})).await;
    let n = s
        .post("/notes", json!({"note": {"description": "hi", "targetable_type": "Contact", "targetable_id": id}}))
        .await;
    assert_eq!(n.status, 201);
    let t = s
        .post(
            "/tasks",
            json!({"task": {"title": "t", "due_date": "2030-01-01", "targetable_type": "Contact", "targetable_id": id}}),
        )
        .await;
    assert_eq!(t.status, 201);
    assert_eq!(
        s.delete(&format!("/contacts/{id}/forget")).await.status,
        200
    );
    let st = s.state().await;
    assert_eq!(st["contacts"], json!([]));
    assert_eq!(st["notes"], json!([]));
    assert_eq!(st["tasks"], json!([]));
    assert_eq!(st["recycle_bin"], json!([]));
}

#[tokio::test]
async fn recycled_email_can_be_configured_to_block() {
    let s = start(SandboxConfig {
        recycle_bin_blocks_email: true,
        ..seeded_config()
    })
    .await;
    let id = s.contact(json!({"emails": "ada@example.com"})).await;
    s.delete(&format!("/contacts/{id}")).await;
    let r = s
        .post(
            "/contacts",
            json!({"contact": {"emails": "ada@example.com"}}),
        )
        .await;
    bad(&r, "already exists");
}

#[tokio::test]
async fn email_write_forms() {
    let s = start(seeded_config()).await;
    let a = s.contact(json!({"emails": "one@example.com"})).await;
    let b = s
        .contact(
            json!({"emails": [{"value": "two@example.com", "is_primary": false},
                                    {"value": "three@example.com", "is_primary": true}]}),
        )
        .await;
    let c = s.contact(json!({"email": "four@example.com"})).await;
    let email = |id: u64| {
        let s = &s;
        async move { s.get(&format!("/contacts/{id}")).await.body["contact"].clone() }
    };
    assert_eq!(email(a).await["email"], "one@example.com");
    let bc = email(b).await;
    assert_eq!(bc["email"], "three@example.com");
    assert_eq!(bc["emails"].as_array().unwrap().len(), 2);
    assert_eq!(email(c).await["email"], "four@example.com");
    // Plain string array works too; the first is primary.
    let d = s
        .contact(json!({"emails": ["five@example.com", "six@example.com"]}))
        .await;
    assert_eq!(email(d).await["email"], "five@example.com");
}

#[tokio::test]
async fn contact_validation_errors() {
    let s = start(seeded_config()).await;
    s.contact(json!({"emails": "taken@example.com", "mobile_number": "+1 555 0101"}))
        .await;
    let post = |body: Value| s.post("/contacts", json!({ "contact": body }));

    bad(
        &post(json!({"emails": "not-an-email"})).await,
        "Invalid email",
    );
    bad(
        &post(json!({"emails": "TAKEN@example.com"})).await,
        "already exists",
    );
    bad(
        &post(json!({"emails": "new@example.com", "mobile_number": "+1 (555) 0101"})).await,
        "The mobile number already exists.",
    );
    bad(
        &post(json!({"emails": "new@example.com", "mobile_number": "call me"})).await,
        "Invalid value for mobile_number.",
    );
    bad(
        &post(json!({"first_name": "Nobody"})).await,
        "email or a mobile number",
    );
    bad(
        &post(json!({"emails": "new@example.com", "custom_field": {"cf_nope": 1}})).await,
        "cf_nope",
    );
    bad(
        &post(
            json!({"emails": "new@example.com", "custom_field": {"cf_preferred_contact": "Fax"}}),
        )
        .await,
        "cf_preferred_contact",
    );
    bad(
        &post(json!({"emails": "new@example.com", "custom_field": {"cf_interests": "Golf;Darts"}}))
            .await,
        "Darts",
    );
    bad(
        &post(
            json!({"emails": "new@example.com", "custom_field": {"cf_anniversary": "12/31/2020"}}),
        )
        .await,
        "cf_anniversary",
    );
    bad(
        &post(json!({"emails": "new@example.com", "custom_field": {"cf_score": "7"}})).await,
        "cf_score",
    );
    bad(
        &post(json!({"emails": "new@example.com", "custom_field": {"cf_newsletter_": "yes"}}))
            .await,
        "cf_newsletter_",
    );
    bad(
        &post(json!({"emails": "new@example.com", "owner_id": 1})).await,
        "owner_id",
    );
    bad(
        &post(json!({"emails": "new@example.com", "sales_accounts": [{"id": "70000001001"}]}))
            .await,
        "sales_accounts",
    );
    bad(
        &post(json!({"emails": "new@example.com", "tags": "a,b"})).await,
        "tags",
    );
    bad(
        &s.post(
            "/contacts",
            json!({"first_name": "Bare", "emails": "bare@example.com"}),
        )
        .await,
        "Missing root key",
    );
    let raw = s
        .http
        .post(format!("{}/contacts", s.base))
        .header("Authorization", format!("Token token={KEY}"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    // Nothing failed half-way.
    assert_eq!(s.state().await["contacts"].as_array().unwrap().len(), 1);

    // The good forms pass.
    let ok = post(
        json!({"emails": "ok@example.com", "mobile_number": "+44 20 7946 0000",
                         "owner_id": s.state().await["users"][1]["id"],
                         "custom_field": {"cf_interests": ["Golf", "Chess"], "cf_newsletter_": true,
                                          "cf_score": 2.5, "cf_bio": "long\ntext"}}),
    )
    .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(
        ok.body["contact"]["custom_field"]["cf_interests"],
        "Golf;Chess"
    );
}

#[tokio::test]
async fn upsert_creates_then_updates_only_sent_fields() {
    let s = start(seeded_config()).await;
    let first = s
        .post(
            "/contacts/upsert",
            json!({"unique_identifier": {"emails": "ada@example.com"},
                   "contact": {"first_name": "Ada", "custom_field": {"cf_preferred_contact": "Phone"}, "tags": ["imported"]}}),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let id = first.body["contact"]["id"].clone();
    assert_eq!(first.body["contact"]["email"], "ada@example.com");

    let second = s
        .post(
            "/contacts/upsert",
            json!({"unique_identifier": {"emails": "ADA@example.com"}, "contact": {"job_title": "Analyst"}}),
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.body);
    let c = &second.body["contact"];
    assert_eq!(c["id"], id);
    assert_eq!(c["first_name"], "Ada");
    assert_eq!(c["job_title"], "Analyst");
    assert_eq!(c["tags"], json!(["imported"]));
    assert_eq!(c["custom_field"]["cf_preferred_contact"], "Phone");
    assert_eq!(s.state().await["contacts"].as_array().unwrap().len(), 1);

    bad(
        &s.post("/contacts/upsert", json!({"contact": {"first_name": "x"}}))
            .await,
        "unique_identifier",
    );
    bad(
        &s.post(
            "/contacts/upsert",
            json!({"unique_identifier": {"external_id": "9"}, "contact": {}}),
        )
        .await,
        "Unsupported unique identifier",
    );
    bad(
        &s.post(
            "/contacts/upsert",
            json!({"unique_identifier": {"emails": "b@example.com"}, "contact": {"custom_field": {"cf_x": 1}}}),
        )
        .await,
        "cf_x",
    );
}

#[tokio::test]
async fn bulk_destroy_soft_deletes_listed_ids() {
    let s = start(seeded_config()).await;
    let a = s.contact(json!({"emails": "a@example.com"})).await;
    let b = s.contact(json!({"emails": "b@example.com"})).await;
    let keep = s.contact(json!({"emails": "c@example.com"})).await;
    let r = s
        .post(
            "/contacts/bulk_destroy",
            json!({"selected_ids": [a, b, 42]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["deleted_ids"], json!([a, b]));
    let st = s.state().await;
    assert_eq!(st["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(st["contacts"][0]["id"], keep);
    assert_eq!(st["recycle_bin"].as_array().unwrap().len(), 2);
    bad(
        &s.post("/contacts/bulk_destroy", json!({})).await,
        "selected_ids",
    );
}

#[tokio::test]
async fn lookup_has_the_double_nesting() {
    let s = start(seeded_config()).await;
    let id = s
        .contact(
            json!({"emails": "ada@example.com", "mobile_number": "+1 555 0199",
                        "custom_field": {"cf_nickname": "Countess"}}),
        )
        .await;
    s.account("Acme").await;
    let r = s
        .get("/lookup?q=ada@example.com&f=email&entities=contact")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["contacts"]["contacts"][0]["id"], id);
    assert!(r.body.get("sales_accounts").is_none());
    let r = s
        .get("/lookup?q=%2B1%20555%200199&f=mobile_number&entities=contact")
        .await;
    assert_eq!(r.body["contacts"]["contacts"][0]["id"], id);
    let r = s
        .get("/lookup?q=Countess&f=cf_nickname&entities=contact")
        .await;
    assert_eq!(r.body["contacts"]["contacts"][0]["id"], id);
    let r = s
        .get("/lookup?q=nobody@example.com&f=email&entities=contact")
        .await;
    assert_eq!(r.body, json!({"contacts": {"contacts": []}}));
    let r = s.get("/lookup?q=acme&f=name&entities=sales_account").await;
    assert_eq!(
        r.body["sales_accounts"]["sales_accounts"][0]["name"],
        "Acme"
    );
    bad(&s.get("/lookup?f=email&entities=contact").await, "required");
    bad(
        &s.get("/lookup?q=x&f=email&entities=deal").await,
        "entities",
    );
}

#[tokio::test]
async fn views_paginate_with_meta() {
    let s = start(seeded_config()).await;
    for i in 0..7 {
        s.contact(json!({"emails": format!("p{i}@example.com"), "first_name": format!("P{i}")}))
            .await;
    }
    let f = s.get("/contacts/filters").await;
    assert_eq!(f.status, 200);
    let all = f.body["filters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "All Contacts")
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let p1 = s
        .get(&format!("/contacts/view/{all}?page=1&per_page=3"))
        .await;
    assert_eq!(p1.status, 200);
    assert_eq!(p1.body["meta"], json!({"total_pages": 3, "total": 7}));
    assert_eq!(p1.body["contacts"].as_array().unwrap().len(), 3);
    assert_eq!(p1.body["contacts"][0]["first_name"], "P0");
    let p3 = s
        .get(&format!("/contacts/view/{all}?page=3&per_page=3"))
        .await;
    assert_eq!(p3.body["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(p3.body["contacts"][0]["first_name"], "P6");
    let past = s
        .get(&format!("/contacts/view/{all}?page=4&per_page=3"))
        .await;
    assert_eq!(past.body["contacts"], json!([]));
    let desc = s
        .get(&format!(
            "/contacts/view/{all}?per_page=2&sort=first_name&sort_type=desc"
        ))
        .await;
    assert_eq!(desc.body["contacts"][0]["first_name"], "P6");
    let big = s.get(&format!("/contacts/view/{all}?per_page=500")).await;
    assert_eq!(big.body["meta"]["total_pages"], 1);
    assert_eq!(s.get("/contacts/view/1").await.status, 404);
    bad(
        &s.get(&format!("/contacts/view/{all}?page=abc")).await,
        "page",
    );

    let many = start(seeded_config()).await;
    for i in 0..105 {
        many.contact(json!({"emails": format!("m{i}@example.com")}))
            .await;
    }
    let r = many
        .get(&format!("/contacts/view/{all}?per_page=1000"))
        .await;
    assert_eq!(
        r.body["contacts"].as_array().unwrap().len(),
        100,
        "per_page is capped at 100"
    );
    assert_eq!(r.body["meta"], json!({"total_pages": 2, "total": 105}));
    let d = many.get(&format!("/contacts/view/{all}")).await;
    assert_eq!(
        d.body["contacts"].as_array().unwrap().len(),
        25,
        "default page size"
    );
}

#[tokio::test]
async fn sales_accounts_and_contact_links() {
    let s = start(seeded_config()).await;
    let r = s
        .post(
            "/sales_accounts",
            json!({"sales_account": {"name": "Acme", "custom_field": {"cf_tier": "Gold"}}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let acme = r.body["sales_account"]["id"].as_u64().unwrap();
    assert!(acme > i32::MAX as u64);
    bad(
        &s.post(
            "/sales_accounts",
            json!({"sales_account": {"name": "ACME"}}),
        )
        .await,
        "already exists",
    );
    bad(
        &s.post(
            "/sales_accounts",
            json!({"sales_account": {"city": "Austin"}}),
        )
        .await,
        "name",
    );
    bad(
        &s.post(
            "/sales_accounts",
            json!({"sales_account": {"name": "X", "custom_field": {"cf_tier": "Bronze"}}}),
        )
        .await,
        "cf_tier",
    );
    bad(
        &s.post(
            "/sales_accounts",
            json!({"sales_account": {"name": "X", "industry_type_id": 5}}),
        )
        .await,
        "industry_type_id",
    );

    let up = s
        .post("/sales_accounts/upsert", json!({"unique_identifier": {"name": "Globex"}, "sales_account": {"city": "Springfield"}}))
        .await;
    assert_eq!(up.status, 201, "{}", up.body);
    let globex = up.body["sales_account"]["id"].as_u64().unwrap();
    assert_eq!(up.body["sales_account"]["name"], "Globex");
    let up2 = s
        .post(
            "/sales_accounts/upsert",
            json!({"unique_identifier": {"name": "globex"}, "sales_account": {"phone": "555"}}),
        )
        .await;
    assert_eq!(up2.status, 200);
    assert_eq!(up2.body["sales_account"]["id"], globex);
    assert_eq!(up2.body["sales_account"]["city"], "Springfield");

    let put = s
        .put(
            &format!("/sales_accounts/{acme}"),
            json!({"sales_account": {"website": "acme.example"}}),
        )
        .await;
    assert_eq!(put.status, 200);
    assert_eq!(put.body["sales_account"]["custom_field"]["cf_tier"], "Gold");
    assert_eq!(
        s.get(&format!("/sales_accounts/{acme}")).await.body["sales_account"]["website"],
        "acme.example"
    );

    // Contacts link through sales_accounts (replaces the list) or sales_account_id (primary).
    let c = s
        .contact(json!({"emails": "e@example.com", "sales_accounts": [{"id": acme, "is_primary": true}, {"id": globex, "is_primary": false}]}))
        .await;
    let got = s.get(&format!("/contacts/{c}")).await.body["contact"].clone();
    assert_eq!(got["sales_account_id"], acme);
    assert_eq!(got["sales_accounts"][1]["name"], "Globex");
    let replaced = s
        .put(
            &format!("/contacts/{c}"),
            json!({"contact": {"sales_accounts": [{"id": globex}]}}),
        )
        .await;
    assert_eq!(
        replaced.body["contact"]["sales_accounts"],
        json!([{"id": globex, "name": "Globex", "is_primary": true}])
    );
    let primary = s
        .put(
            &format!("/contacts/{c}"),
            json!({"contact": {"sales_account_id": acme}}),
        )
        .await;
    assert_eq!(primary.body["contact"]["sales_account_id"], acme);
    assert_eq!(
        primary.body["contact"]["sales_accounts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    bad(
        &s.put(
            &format!("/contacts/{c}"),
            json!({"contact": {"sales_account_id": 5}}),
        )
        .await,
        "sales_account_id",
    );

    let views = s.get("/sales_accounts/filters").await.body;
    let all = views["filters"][0]["id"].as_u64().unwrap();
    let list = s.get(&format!("/sales_accounts/view/{all}")).await;
    assert_eq!(list.body["meta"]["total"], 2);

    assert_eq!(
        s.delete(&format!("/sales_accounts/{globex}")).await.status,
        200
    );
    assert_eq!(
        s.get(&format!("/sales_accounts/{globex}")).await.status,
        404
    );
    let got = s.get(&format!("/contacts/{c}")).await.body["contact"].clone();
    assert_eq!(
        got["sales_accounts"].as_array().unwrap().len(),
        1,
        "links to deleted accounts are hidden"
    );
    assert_eq!(
        s.state().await["recycle_bin"][0]["record_type"],
        "SalesAccount"
    );
}

#[tokio::test]
async fn notes_create_update_delete_and_list_through_parent() {
    let s = start(seeded_config()).await;
    let c = s.contact(json!({"emails": "n@example.com"})).await;
    let r = s
        .post("/notes", json!({"note": {"description": "Called.", "targetable_type": "Contact", "targetable_id": c}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let n = r.body["note"]["id"].as_u64().unwrap();
    assert!(n > i32::MAX as u64);
    assert_eq!(
        r.body["note"]["creater_id"],
        s.state().await["users"][0]["id"]
    );
    assert_eq!(
        s.get(&format!("/notes/{n}")).await.status,
        404,
        "GET /notes/:id is 404 upstream"
    );
    let up = s
        .put(
            &format!("/notes/{n}"),
            json!({"note": {"description": "Called twice."}}),
        )
        .await;
    assert_eq!(up.status, 200);
    assert_eq!(up.body["note"]["targetable_id"], c);
    let list = s.get(&format!("/contacts/{c}/notes")).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["notes"][0]["description"], "Called twice.");
    assert_eq!(s.get("/contacts/1/notes").await.status, 404);

    bad(
        &s.post(
            "/notes",
            json!({"note": {"targetable_type": "Contact", "targetable_id": c}}),
        )
        .await,
        "description",
    );
    bad(
        &s.post(
            "/notes",
            json!({"note": {"description": "x", "targetable_type": "Deal", "targetable_id": c}}),
        )
        .await,
        "targetable_type",
    );
    bad(
        &s.post(
            "/notes",
            json!({"note": {"description": "x", "targetable_type": "Contact", "targetable_id": 1}}),
        )
        .await,
        "does not exist",
    );
    let a = s.account("Acme").await;
    let an = s
        .post("/notes", json!({"note": {"description": "Acct", "targetable_type": "SalesAccount", "targetable_id": a}}))
        .await;
    assert_eq!(an.status, 201);
    assert_eq!(
        s.get(&format!("/sales_accounts/{a}/notes")).await.body["notes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    assert_eq!(s.delete(&format!("/notes/{n}")).await.status, 200);
    assert_eq!(s.delete(&format!("/notes/{n}")).await.status, 404);
    assert_eq!(
        s.get(&format!("/contacts/{c}/notes")).await.body["notes"],
        json!([])
    );
}

#[tokio::test]
async fn tasks_create_complete_list_delete() {
    let s = start(seeded_config()).await;
    let c = s.contact(json!({"emails": "t@example.com"})).await;
    let target = json!({"targetable_type": "Contact", "targetable_id": c});
    let mut body = target.clone();
    body["due_date"] = json!("2030-05-01T10:00:00Z");
    bad(&s.post("/tasks", json!({ "task": body })).await, "title");
    let mut body = target.clone();
    body["title"] = json!("Follow up");
    bad(
        &s.post("/tasks", json!({ "task": body.clone() })).await,
        "due_date",
    );
    body["due_date"] = json!("next week");
    bad(
        &s.post("/tasks", json!({ "task": body.clone() })).await,
        "due_date",
    );
    body["due_date"] = json!("2030-05-01T10:00:00Z");
    let r = s.post("/tasks", json!({ "task": body })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let t = &r.body["task"];
    let id = t["id"].as_u64().unwrap();
    assert_eq!(t["status"], 0);
    assert_eq!(t["completed_date"], Value::Null);
    assert_eq!(t["owner_id"], s.state().await["users"][0]["id"]);

    let open = s.get("/tasks?filter=open").await;
    assert_eq!(open.body["tasks"][0]["targetable_id"], c);
    assert_eq!(open.body["meta"]["total"], 1);
    let done = s
        .put(&format!("/tasks/{id}"), json!({"task": {"status": 1}}))
        .await;
    assert_eq!(done.status, 200);
    assert_eq!(done.body["task"]["status"], 1);
    assert!(done.body["task"]["completed_date"].is_string());
    assert_eq!(done.body["task"]["title"], "Follow up");
    assert_eq!(s.get("/tasks?filter=open").await.body["tasks"], json!([]));
    assert_eq!(
        s.get("/tasks?filter=completed").await.body["tasks"][0]["id"],
        id
    );
    assert_eq!(
        s.get(&format!("/tasks/{id}")).await.body["task"]["status"],
        1
    );
    bad(
        &s.put(&format!("/tasks/{id}"), json!({"task": {"status": 7}}))
            .await,
        "status",
    );
    bad(&s.get("/tasks?filter=someday").await, "filter");

    let overdue_body = json!({"task": {"title": "Late", "due_date": "2001-01-01", "targetable_type": "Contact", "targetable_id": c}});
    assert_eq!(s.post("/tasks", overdue_body).await.status, 201);
    assert_eq!(
        s.get("/tasks?filter=overdue").await.body["tasks"][0]["title"],
        "Late"
    );

    assert_eq!(s.delete(&format!("/tasks/{id}")).await.status, 200);
    assert_eq!(s.get(&format!("/tasks/{id}")).await.status, 404);
}

#[tokio::test]
async fn tags_replace_by_default_and_merge_when_configured() {
    let s = start(seeded_config()).await;
    let id = s
        .contact(json!({"emails": "tag@example.com", "tags": ["vip", "old"]}))
        .await;
    let r = s
        .put(
            &format!("/contacts/{id}"),
            json!({"contact": {"tags": ["new"]}}),
        )
        .await;
    assert_eq!(r.body["contact"]["tags"], json!(["new"]));

    let m = start(SandboxConfig {
        tag_update_mode: TagUpdateMode::Merge,
        ..seeded_config()
    })
    .await;
    let id = m
        .contact(json!({"emails": "tag@example.com", "tags": ["vip"]}))
        .await;
    let r = m
        .put(
            &format!("/contacts/{id}"),
            json!({"contact": {"tags": ["new", "vip"]}}),
        )
        .await;
    assert_eq!(r.body["contact"]["tags"], json!(["vip", "new"]));
}

#[tokio::test]
async fn settings_fields_show_builtin_and_custom_fields() {
    let s = start(seeded_config()).await;
    let r = s.get("/settings/contacts/fields").await;
    assert_eq!(r.status, 200);
    let fields = r.body["fields"].as_array().unwrap();
    let by = |name: &str| {
        fields
            .iter()
            .find(|f| f["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(by("first_name")["default"], true);
    assert_eq!(by("emails")["default"], true);
    let ann = by("cf_anniversary");
    assert_eq!(
        (
            ann["label"].as_str(),
            ann["type"].as_str(),
            ann["default"].as_bool()
        ),
        (Some("Anniversary"), Some("date"), Some(false))
    );
    let pc = by("cf_preferred_contact");
    assert_eq!(pc["type"], "dropdown");
    assert_eq!(pc["choices"][0]["value"], "Email");
    assert!(pc["choices"][0]["id"].as_u64().is_some());
    assert_eq!(by("cf_interests")["type"], "multi_select_dropdown");
    assert_eq!(by("cf_newsletter_")["label"], "Newsletter?");
    assert_eq!(by("cf_bio")["type"], "textarea");
    assert_eq!(by("cf_score")["type"], "number");
    assert_eq!(by("cf_nickname")["type"], "text");
    let acct = s.get("/settings/sales_accounts/fields").await;
    assert!(
        acct.body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "cf_tier" && f["type"] == "dropdown")
    );
    assert_eq!(s.get("/settings/deals/fields").await.status, 404);
}

#[tokio::test]
async fn selectors() {
    let s = start(seeded_config()).await;
    let owners = s.get("/selector/owners").await;
    assert_eq!(owners.status, 200);
    let users = owners.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["email"], "pat@agency.example");
    assert_eq!(users[1]["is_active"], false);
    assert!(users[0]["id"].as_u64().unwrap() > i32::MAX as u64);
    for (path, key) in [
        ("contact_statuses", "contact_statuses"),
        ("lifecycle_stages", "lifecycle_stages"),
        ("lead_sources", "lead_sources"),
        ("territories", "territories"),
        ("industry_types", "industry_types"),
        ("business_types", "business_types"),
    ] {
        let r = s.get(&format!("/selector/{path}")).await;
        assert_eq!(r.status, 200, "{path}");
        let list = r.body[key].as_array().unwrap();
        assert!(
            !list.is_empty() && list[0]["id"].as_u64().is_some() && list[0]["name"].is_string(),
            "{path}"
        );
    }
    let stages = s.get("/selector/lifecycle_stages").await.body;
    assert!(stages["lifecycle_stages"][0]["contact_status_ids"].is_array());
    assert_eq!(s.get("/selector/deal_stages").await.status, 404);
    // Selector ids are accepted on records.
    let status =
        s.get("/selector/contact_statuses").await.body["contact_statuses"][0]["id"].clone();
    let c = s
        .post(
            "/contacts",
            json!({"contact": {"emails": "x@example.com", "contact_status_id": status}}),
        )
        .await;
    assert_eq!(c.status, 201);
}

#[tokio::test]
async fn auth_401_and_admin_only_403() {
    let s = start(SandboxConfig {
        non_admin_keys: vec!["plain-user".into()],
        ..seeded_config()
    })
    .await;
    let get = |key: Option<&'static str>, path: &'static str| {
        let s = &s;
        async move {
            s.send_raw(reqwest::Method::GET, path, None, key)
                .await
                .unwrap()
        }
    };
    let none = get(None, "/contacts/filters").await;
    assert_eq!(none.status, 401);
    assert_eq!(none.body["errors"]["code"], 401);
    assert_eq!(get(Some("wrong"), "/contacts/filters").await.status, 401);
    let bearer = s
        .http
        .get(s.url("/contacts/filters"))
        .header("Authorization", format!("Bearer {KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status().as_u16(), 401);
    assert_eq!(
        get(Some("plain-user"), "/contacts/filters").await.status,
        200
    );
    let owners = get(Some("plain-user"), "/selector/owners").await;
    assert_eq!(owners.status, 403);
    assert!(owners.messages().contains("not authorised"));
    assert_eq!(
        get(Some("plain-user"), "/settings/contacts/fields")
            .await
            .status,
        403
    );
    assert_eq!(get(Some(KEY), "/selector/owners").await.status, 200);
}

#[tokio::test]
async fn classic_api_prefix_serves_the_same_api() {
    let s = start(seeded_config()).await;
    let r = s
        .post(
            "/api/contacts",
            json!({"contact": {"emails": "classic@example.com"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["contact"]["id"].as_u64().unwrap();
    assert_eq!(s.get(&format!("/contacts/{id}")).await.status, 200);
    assert_eq!(s.get(&format!("/api/contacts/{id}")).await.status, 200);
    assert_eq!(s.get("/api/no/such/route").await.status, 404);
}

#[tokio::test]
async fn custom_field_creation_is_behind_a_switch() {
    let off = start(seeded_config()).await;
    let forms = off.get("/settings/contacts/forms").await;
    assert_eq!(forms.status, 200);
    let form = forms.body["forms"][0]["id"].as_u64().unwrap();
    let body = json!({"field": {"label": "Date of birth?", "type": "date"}});
    assert_eq!(
        off.post(
            &format!("/settings/contacts/forms/{form}/fields"),
            body.clone()
        )
        .await
        .status,
        404
    );

    let on = start(SandboxConfig {
        custom_field_creation: true,
        ..seeded_config()
    })
    .await;
    let r = on
        .post(
            &format!("/settings/contacts/forms/{form}/fields"),
            body.clone(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["field"]["name"], "cf_date_of_birth_");
    assert_eq!(r.body["field"]["type"], "date");
    bad(
        &on.post(&format!("/settings/contacts/forms/{form}/fields"), body)
            .await,
        "already exists",
    );
    let coded = on
        .post(
            &format!("/settings/contacts/forms/{form}/fields"),
            json!({"label": "Segment", "field_type": 6, "choices": [{"value": "Gold"}, "Silver"]}),
        )
        .await;
    assert_eq!(coded.status, 201, "{}", coded.body);
    assert_eq!(coded.body["field"]["choices"][1]["value"], "Silver");
    bad(
        &on.post(
            &format!("/settings/contacts/forms/{form}/fields"),
            json!({"label": "X", "field_type": 99}),
        )
        .await,
        "field_type",
    );
    assert_eq!(
        on.post(
            "/settings/contacts/forms/1/fields",
            json!({"label": "Y", "type": "text"})
        )
        .await
        .status,
        404
    );
    let fields = on.get("/settings/contacts/fields").await.body;
    assert!(
        fields["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "cf_segment")
    );
    let c = on
        .post("/contacts", json!({"contact": {"emails": "b@example.com", "custom_field": {"cf_date_of_birth_": "1815-12-10", "cf_segment": "Gold"}}}))
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
}

#[tokio::test]
async fn unknown_cf_can_be_dropped_and_dropdowns_can_take_ids() {
    let s = start(SandboxConfig {
        unknown_cf_policy: UnknownCfPolicy::Drop,
        dropdown_value_mode: DropdownValueMode::Id,
        ..seeded_config()
    })
    .await;
    let fields = s.get("/settings/contacts/fields").await.body;
    let phone_id = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "cf_preferred_contact")
        .unwrap()["choices"][1]["id"]
        .clone();
    let r = s
        .post(
            "/contacts",
            json!({"contact": {"emails": "d@example.com", "custom_field": {"cf_unknown": "x", "cf_preferred_contact": phone_id}}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        r.body["contact"]["custom_field"]
            .get("cf_unknown")
            .is_none()
    );
    assert_eq!(
        r.body["contact"]["custom_field"]["cf_preferred_contact"],
        phone_id
    );
    bad(
        &s.post("/contacts", json!({"contact": {"emails": "e@example.com", "custom_field": {"cf_preferred_contact": "Phone"}}}))
            .await,
        "cf_preferred_contact",
    );
}

#[tokio::test]
async fn delete_status_and_bare_bodies_are_configurable() {
    let s = start(SandboxConfig {
        delete_status: 204,
        require_root_key: false,
        ..seeded_config()
    })
    .await;
    let r = s
        .post("/contacts", json!({"emails": "bare@example.com"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["contact"]["id"].as_u64().unwrap();
    assert_eq!(s.delete(&format!("/contacts/{id}")).await.status, 204);
}

#[tokio::test]
async fn contacts_without_email_or_mobile_can_be_allowed() {
    let s = start(SandboxConfig {
        contact_needs_email_or_mobile: false,
        ..seeded_config()
    })
    .await;
    let r = s
        .post(
            "/contacts",
            json!({"contact": {"first_name": "Nobody", "work_number": "555 0100"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["contact"]["first_name"], "Nobody");
}
