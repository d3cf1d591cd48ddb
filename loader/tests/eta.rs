//! The push's ETA against its wall clock. This is the one test that measures time, so it is
//! a test binary of its own: cargo runs binaries one after another, so the push has the
//! machine to itself. Beside the other rehearsals (ten tests on two cores, some killing and
//! restarting pushes) it once took 11 % longer than its ETA because the loader waited for a
//! core, not for the budget.

mod common;

use common::*;
use serde_json::{Value, json};

#[test]
fn the_eta_holds_and_the_budget_is_never_exceeded() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    // The Growth plan's limits on a clock where an hour lasts twenty seconds: the push's
    // 1476 calls span two "hours" of budget, so the hourly window, not only the pace, is
    // exercised. The machine's own time per call (a few milliseconds in a debug build) does
    // not shrink with the clock; at 360 (an hour in ten seconds, a call every 12.5 ms) it
    // was up to 15 % of the push, at 180 about half that.
    let scale = 180.0;
    let sb = Sandbox::start(config(ready_seed(&bundle), scale));
    let t = target(&sb.url(), scale);
    let o = loader(&args(
        &[
            "push",
            bundle.to_str().unwrap(),
            "--default-owner",
            "pat@agency.example",
            "--json",
        ],
        &t,
    ));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let done: Value = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "done")
        .expect("a done event");
    let eta = done["eta_seconds"].as_f64().unwrap();
    let took = done["elapsed_seconds"].as_f64().unwrap();
    println!("{done}");
    assert!(
        (took - eta).abs() / eta <= 0.10,
        "ETA {eta:.1}s, push took {took:.1}s"
    );
    assert_eq!(done["throttled"], json!(0), "{done}");
    let state = sb.state();
    let limited: u64 = state["counters"]["rate_limited"]
        .as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
    assert_eq!(limited, 0, "the sandbox never had to refuse a call");
}
