//! Rate limits, faults, counters, the state API and persistence, over real HTTP.

mod common;

use std::time::{Duration, Instant};

use common::{seeded_config, start};
use fs_sandbox::{FaultConfig, LatencyConfig, RateLimitHeaders, SandboxConfig};
use serde_json::json;

#[tokio::test]
async fn budget_headers_count_down() {
    let s = start(SandboxConfig {
        hourly_limit: 50,
        ..seeded_config()
    })
    .await;
    let a = s.get("/contacts/filters").await;
    let b = s.get("/contacts/filters").await;
    assert_eq!(a.header("x-ratelimit-limit").as_deref(), Some("50"));
    assert_eq!(a.header("x-ratelimit-remaining").as_deref(), Some("49"));
    assert_eq!(b.header("x-ratelimit-remaining").as_deref(), Some("48"));
    let reset: u64 = a.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert!((3590..=3600).contains(&reset), "{reset}");
    assert!(a.header("retry-after").is_none());
}

#[tokio::test]
async fn hourly_budget_gives_429_with_retry_after_on_the_scaled_clock() {
    // One simulated hour passes in two real seconds (slack for a loaded machine).
    let s = start(SandboxConfig {
        hourly_limit: 3,
        time_scale: 1800.0,
        ..seeded_config()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(s.get("/contacts/filters").await.status, 200);
    }
    let limited = s
        .post(
            "/contacts",
            json!({"contact": {"emails": "late@example.com"}}),
        )
        .await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["errors"]["code"], 429);
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=2).contains(&wait),
        "real seconds to the end of the scaled hour: {wait}"
    );
    assert_eq!(
        limited.header("x-ratelimit-remaining").as_deref(),
        Some("0")
    );
    assert_eq!(
        s.state().await["contacts"],
        json!([]),
        "a refused request changes nothing"
    );

    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(50)).await;
    let again = s
        .post(
            "/contacts",
            json!({"contact": {"emails": "late@example.com"}}),
        )
        .await;
    assert_eq!(again.status, 201, "the next hour has a fresh budget");

    let counters = &s.state().await["counters"];
    assert_eq!(counters["rate_limited"]["POST /contacts"], 1);
    assert_eq!(
        counters["requests"]["POST /contacts"], 2,
        "429s are counted as requests"
    );
    assert_eq!(counters["requests"]["GET /contacts/filters"], 3);
    assert!(counters["requests"].get("GET /__sandbox/state").is_none());
}

#[tokio::test]
async fn per_minute_cap_refuses_until_the_next_minute() {
    // One simulated minute passes in two real seconds.
    let s = start(SandboxConfig {
        hourly_limit: 1000,
        per_minute_limit: 2,
        time_scale: 30.0,
        ..seeded_config()
    })
    .await;
    assert_eq!(s.get("/contacts/filters").await.status, 200);
    assert_eq!(s.get("/contacts/filters").await.status, 200);
    let r = s.get("/contacts/filters").await;
    assert_eq!(r.status, 429);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    assert_eq!(r.header("x-ratelimit-remaining").as_deref(), Some("998"));
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(50)).await;
    assert_eq!(s.get("/contacts/filters").await.status, 200);
}

#[tokio::test]
async fn rate_limit_headers_can_be_switched_off() {
    let s = start(SandboxConfig {
        hourly_limit: 1,
        rate_limit_headers: RateLimitHeaders {
            retry_after: false,
            x_ratelimit_limit: false,
            x_ratelimit_remaining: true,
            x_ratelimit_reset: false,
        },
        ..seeded_config()
    })
    .await;
    let ok = s.get("/contacts/filters").await;
    assert!(ok.header("x-ratelimit-limit").is_none());
    assert!(ok.header("x-ratelimit-reset").is_none());
    assert_eq!(ok.header("x-ratelimit-remaining").as_deref(), Some("0"));
    let limited = s.get("/contacts/filters").await;
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_none());
}

#[tokio::test]
async fn sandbox_endpoints_are_never_limited_or_faulted() {
    let s = start(SandboxConfig {
        hourly_limit: 1,
        faults: FaultConfig {
            reset_before_apply: 1.0,
            ..Default::default()
        },
        ..seeded_config()
    })
    .await;
    for _ in 0..5 {
        assert_eq!(s.get("/__sandbox/state").await.status, 200);
        assert_eq!(s.get("/__sandbox/counters").await.status, 200);
    }
}

fn faulty(faults: FaultConfig) -> SandboxConfig {
    SandboxConfig {
        faults,
        random_seed: 7,
        ..seeded_config()
    }
}

#[tokio::test]
async fn server_errors_do_not_apply_the_request() {
    let s = start(faulty(FaultConfig {
        error_5xx: 1.0,
        ..Default::default()
    }))
    .await;
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..30 {
        let r = s
            .post(
                "/contacts",
                json!({"contact": {"emails": format!("x{i}@example.com")}}),
            )
            .await;
        assert!([500, 502, 503].contains(&r.status), "{}", r.status);
        if r.status == 500 {
            assert_eq!(r.body["errors"]["code"], 500);
        }
        seen.insert(r.status);
    }
    assert_eq!(seen.len(), 3, "all three 5xx kinds occur: {seen:?}");
    let st = s.state().await;
    assert_eq!(st["contacts"], json!([]));
    assert_eq!(st["counters"]["faults"]["error_5xx"], 30);
}

#[tokio::test]
async fn reset_before_apply_drops_the_connection_and_changes_nothing() {
    let s = start(faulty(FaultConfig {
        reset_before_apply: 1.0,
        ..Default::default()
    }))
    .await;
    let err = s
        .send_raw(
            reqwest::Method::POST,
            "/contacts",
            Some(json!({"contact": {"emails": "r@example.com"}})),
            Some("sandbox-key"),
        )
        .await;
    let Err(e) = err else {
        panic!("expected a dropped connection")
    };
    assert!(e.is_request() || e.is_connect() || e.is_body(), "{e:?}");
    let st = s.state().await;
    assert_eq!(st["contacts"], json!([]));
    assert_eq!(st["counters"]["faults"]["reset_before_apply"], 1);
}

#[tokio::test]
async fn lost_after_commit_applies_then_drops_the_connection() {
    let s = start(faulty(FaultConfig {
        lost_after_commit: 1.0,
        ..Default::default()
    }))
    .await;
    let err = s
        .send_raw(
            reqwest::Method::POST,
            "/contacts/upsert",
            Some(json!({"unique_identifier": {"emails": "l@example.com"}, "contact": {"first_name": "Lost"}})),
            Some("sandbox-key"),
        )
        .await;
    assert!(err.is_err(), "the response never arrives");
    let st = s.state().await;
    assert_eq!(
        st["contacts"][0]["email"], "l@example.com",
        "but the change was committed"
    );
    assert_eq!(st["contacts"][0]["first_name"], "Lost");
    assert_eq!(st["counters"]["faults"]["lost_after_commit"], 1);
}

#[tokio::test]
async fn latency_delays_requests() {
    let s = start(faulty(FaultConfig {
        latency: LatencyConfig {
            probability: 1.0,
            ms: 300,
        },
        ..Default::default()
    }))
    .await;
    let t = Instant::now();
    assert_eq!(s.get("/contacts/filters").await.status, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(s.state().await["counters"]["faults"]["latency"], 1);
}

#[tokio::test]
async fn faults_are_reproducible_with_a_seed() {
    let cfg = faulty(FaultConfig {
        error_5xx: 0.5,
        ..Default::default()
    });
    let mut runs = Vec::new();
    for _ in 0..2 {
        let s = start(cfg.clone()).await;
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(s.get("/contacts/filters").await.status);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&200) && runs[0].iter().any(|s| *s >= 500),
        "{:?}",
        runs[0]
    );
}

#[tokio::test]
async fn state_api_is_off_unless_enabled_but_the_library_snapshot_works() {
    let s = start(SandboxConfig {
        seed: seeded_config().seed,
        ..Default::default()
    })
    .await;
    assert_eq!(s.get("/__sandbox/state").await.status, 404);
    assert_eq!(s.post("/__sandbox/reset", json!({})).await.status, 404);
    assert_eq!(s.post("/__sandbox/seed", json!({})).await.status, 404);
    s.contact(json!({"emails": "lib@example.com"})).await;
    let snap = s.sb.state_snapshot();
    assert_eq!(snap["contacts"][0]["email"], "lib@example.com");
    for key in [
        "contacts",
        "sales_accounts",
        "notes",
        "tasks",
        "recycle_bin",
        "counters",
    ] {
        assert!(snap.get(key).is_some(), "{key}");
    }
}

#[tokio::test]
async fn state_dump_reset_and_seed() {
    let s = start(seeded_config()).await;
    let c = s.contact(json!({"emails": "dump@example.com"})).await;
    let a = s.account("Acme").await;
    s.post(
        "/notes",
        json!({"note": {"description": "n", "targetable_type": "Contact", "targetable_id": c}}),
    )
    .await;
    s.post("/tasks", json!({"task": {"title": "t", "due_date": "2030-01-01", "targetable_type": "SalesAccount", "targetable_id": a}}))
        .await;
    let st = s.state().await;
    assert_eq!(st["contacts"][0]["id"], c);
    assert_eq!(
        st["contacts"][0]["custom_field"]["cf_anniversary"],
        serde_json::Value::Null
    );
    assert_eq!(st["sales_accounts"][0]["id"], a);
    assert_eq!(st["notes"][0]["targetable_id"], c);
    assert_eq!(st["tasks"][0]["targetable_type"], "SalesAccount");
    assert_eq!(st["recycle_bin"], json!([]));
    // The library snapshot is the same dump (counters aside, which moved with the dump call).
    assert_eq!(s.sb.state_snapshot()["contacts"], st["contacts"]);
    assert_eq!(s.sb.state_snapshot()["tasks"], st["tasks"]);

    assert_eq!(s.post("/__sandbox/reset", json!({})).await.status, 200);
    let st = s.state().await;
    assert_eq!(st["contacts"], json!([]));
    assert_eq!(st["notes"], json!([]));
    assert_eq!(st["counters"]["total"], 0);
    assert_eq!(
        st["fields"]["contacts"].as_array().unwrap().len(),
        7,
        "seeded fields survive a reset"
    );

    let seeded = s
        .post(
            "/__sandbox/seed",
            json!({"users": [{"email": "new@agency.example", "display_name": "New"}],
                   "fields": {"contacts": [{"label": "Region", "type": "text"}]},
                   "sales_accounts": [{"id": 80000000001u64, "name": "Seeded Co"}],
                   "contacts": [{"emails": "pre@example.com", "custom_field": {"cf_region": "EU"},
                                 "sales_account_id": 80000000001u64}]}),
        )
        .await;
    assert_eq!(seeded.status, 200, "{}", seeded.body);
    let look = s
        .get("/lookup?q=pre@example.com&f=email&entities=contact")
        .await;
    assert_eq!(
        look.body["contacts"]["contacts"][0]["custom_field"]["cf_region"],
        "EU"
    );
    assert_eq!(
        look.body["contacts"]["contacts"][0]["sales_account_id"],
        80000000001u64
    );
    assert_eq!(
        s.get("/selector/owners").await.body["users"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let bad = s
        .post(
            "/__sandbox/seed",
            json!({"contacts": [{"emails": "ok2@example.com"}, {"emails": "broken"}]}),
        )
        .await;
    assert_eq!(bad.status, 400);
    let st = s.state().await;
    assert_eq!(
        st["contacts"].as_array().unwrap().len(),
        1,
        "a failed seed applies nothing"
    );
    assert_eq!(
        s.post("/__sandbox/seed", json!({"nonsense": 1}))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn persistence_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let cfg = SandboxConfig {
        persist_path: Some(path.clone()),
        ..seeded_config()
    };
    let s = start(cfg.clone()).await;
    let id = s
        .contact(json!({"emails": "keep@example.com", "custom_field": {"cf_nickname": "K"}}))
        .await;
    let note = s
        .post("/notes", json!({"note": {"description": "kept", "targetable_type": "Contact", "targetable_id": id}}))
        .await;
    assert_eq!(note.status, 201);
    s.sb.shutdown().await;
    assert!(path.exists());

    let again = start(cfg).await;
    let got = again.get(&format!("/contacts/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["contact"]["custom_field"]["cf_nickname"], "K");
    assert_eq!(
        again.get(&format!("/contacts/{id}/notes")).await.body["notes"][0]["description"],
        "kept"
    );
    let next = again.contact(json!({"emails": "next@example.com"})).await;
    assert!(next > id, "ids continue after a restart");
    again.sb.shutdown().await;
}
