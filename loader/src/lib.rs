//! The loader: takes a confirmed bundle into a Freshsales account (or the local sandbox).
//! Pure parts (`plan`, `ratelimit`, `journal` replay, `payload`) are tested without HTTP;
//! `api` is the only module that talks to the network.

pub mod account;
pub mod api;
pub mod journal;
pub mod manual;
pub mod payload;
pub mod plan;
pub mod probe;
pub mod progress;
pub mod push;
pub mod ratelimit;
pub mod rehearsal;
pub mod report;
pub mod rollback;
pub mod target;
pub mod verify;
pub mod zone;

/// Now, RFC 3339, whole seconds (the edge's clock; the core never reads one).
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A file next to a bundle: `acme.bundle.jsonl.gz` + `.scope.md` → `acme.bundle.scope.md`.
pub fn sibling(bundle: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let name = bundle
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".jsonl.gz")
        .or_else(|| name.strip_suffix(".gz"))
        .unwrap_or(&name);
    bundle.with_file_name(format!("{stem}{suffix}"))
}
