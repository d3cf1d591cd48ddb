//! The store without HTTP.

use serde_json::{Value, json};

use super::*;
use crate::seed::{FieldKind, SeedField};

fn obj(v: Value) -> Record {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn store() -> (Store, SandboxConfig) {
    let cfg = SandboxConfig::default();
    let mut seed = Seed::default();
    seed.fields.contacts.push(SeedField {
        label: "Segment".into(),
        kind: FieldKind::Dropdown,
        choices: vec!["Gold".into(), "Silver".into()],
        required: false,
        name: None,
    });
    (Store::from_seed(Some(&seed), &cfg, 0).unwrap(), cfg)
}

#[test]
fn ids_are_64_bit_and_increase() {
    let (mut s, cfg) = store();
    let a = s
        .create(Entity::Contact, &obj(json!({"emails": "a@x.io"})), &cfg, 0)
        .unwrap();
    let b = s
        .create(Entity::Contact, &obj(json!({"emails": "b@x.io"})), &cfg, 0)
        .unwrap();
    let (a, b) = (a["id"].as_u64().unwrap(), b["id"].as_u64().unwrap());
    assert!(a > FIRST_ID && b > a);
    assert!(s.key_user() >= FIRST_ID);
}

#[test]
fn upsert_reports_created_then_updated_and_keeps_unsent_fields() {
    let (mut s, cfg) = store();
    let ident = obj(json!({"emails": "ada@x.io"}));
    let (created, first) = s
        .upsert(
            Entity::Contact,
            &ident,
            &obj(json!({"first_name": "Ada", "custom_field": {"cf_segment": "Gold"}})),
            &cfg,
            0,
        )
        .unwrap();
    assert!(created);
    let (created, second) = s
        .upsert(
            Entity::Contact,
            &ident,
            &obj(json!({"last_name": "L"})),
            &cfg,
            1,
        )
        .unwrap();
    assert!(!created);
    assert_eq!(first["id"], second["id"]);
    assert_eq!(second["first_name"], "Ada");
    assert_eq!(second["last_name"], "L");
    assert_eq!(second["custom_field"]["cf_segment"], "Gold");
    assert_eq!(second["updated_at"], "1970-01-01T00:00:01+00:00");
    assert_eq!(second["created_at"], "1970-01-01T00:00:00+00:00");
}

#[test]
fn failed_writes_change_nothing() {
    let (mut s, cfg) = store();
    let c = s
        .create(Entity::Contact, &obj(json!({"emails": "a@x.io"})), &cfg, 0)
        .unwrap();
    let id = c["id"].as_u64().unwrap();
    let before = s.snapshot();
    let rev = s.revision();
    let err = s
        .update(
            Entity::Contact,
            id,
            &obj(json!({"first_name": "B", "custom_field": {"cf_segment": "Tin"}})),
            &cfg,
            0,
        )
        .unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(
        s.create(Entity::Contact, &obj(json!({"emails": "bad"})), &cfg, 0)
            .is_err()
    );
    assert_eq!(s.snapshot(), before);
    assert_eq!(s.revision(), rev);
    let next = s
        .create(Entity::Contact, &obj(json!({"emails": "b@x.io"})), &cfg, 0)
        .unwrap();
    assert_eq!(
        next["id"].as_u64().unwrap(),
        id + 2,
        "one id for the record, one for its email"
    );
}

#[test]
fn errors_are_collected_together() {
    let (mut s, cfg) = store();
    let err = s
        .create(
            Entity::Contact,
            &obj(json!({"emails": "bad", "mobile_number": "x", "tags": 3})),
            &cfg,
            0,
        )
        .unwrap_err();
    assert_eq!(err.messages().len(), 3, "{:?}", err.messages());
    assert_eq!(err.body()["errors"]["code"], 400);
}

#[test]
fn seed_pins_ids_and_rejects_clashes() {
    let cfg = SandboxConfig::default();
    let seed: Seed = serde_json::from_value(json!({
        "sales_accounts": [{"id": 90000000000u64, "name": "Pinned"}],
        "contacts": [{"emails": "c@x.io", "sales_account_id": 90000000000u64}]
    }))
    .unwrap();
    let s = Store::from_seed(Some(&seed), &cfg, 0).unwrap();
    let snap = s.snapshot();
    assert_eq!(snap["sales_accounts"][0]["id"], 90000000000u64);
    assert!(snap["contacts"][0]["id"].as_u64().unwrap() > 90000000000);
    assert_eq!(snap["contacts"][0]["sales_accounts"][0]["name"], "Pinned");
    let clash: Seed = serde_json::from_value(
        json!({"sales_accounts": [{"id": 5, "name": "A"}, {"id": 5, "name": "B"}]}),
    )
    .unwrap();
    assert!(Store::from_seed(Some(&clash), &cfg, 0).is_err());
}

#[test]
fn store_round_trips_through_json() {
    let (mut s, cfg) = store();
    s.create(
        Entity::Contact,
        &obj(json!({"emails": "a@x.io", "tags": ["t"]})),
        &cfg,
        0,
    )
    .unwrap();
    let text = serde_json::to_string(&s).unwrap();
    let back: Store = serde_json::from_str(&text).unwrap();
    assert_eq!(back.snapshot(), s.snapshot());
    assert_eq!(back.revision(), s.revision());
}
