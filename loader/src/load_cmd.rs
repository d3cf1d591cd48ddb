//! `loader plan | push | verify | rollback | status | demo`: argument handling and printing
//! around the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use loader::account::preflight;
use loader::journal::{self, Entry, Phase, State};
use loader::payload::{DropdownForm, EmailForm, Forms, MultiSelectForm};
use loader::plan::Plan;
use loader::progress::Mode;
use loader::push::{PushOptions, PushResult, run_paths};
use loader::target::TargetArgs;

/// Runs an async command on a fresh runtime.
pub fn block_on(f: impl std::future::Future<Output = Result<ExitCode>>) -> Result<ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(f)
}

/// Arguments of `loader plan`.
#[derive(Args)]
pub struct PlanArgs {
    /// The bundle.
    pub bundle: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Owner for records whose owner has no Freshsales user.
    #[arg(long)]
    pub default_owner: Option<String>,
    /// Print the plan as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Learn which request forms this account accepts, with a canary contact (and one note,
    /// to-do and appointment) that is deleted and forgotten again; needs `--consent-canary`.
    /// The forms found go into the journal, and `push` uses them.
    #[arg(long, requires = "consent_canary")]
    pub probe: bool,
    /// The account owner agrees that the probe creates and then deletes one canary contact
    /// named `zz-migration-probe-…@example.invalid` with one note, to-do and appointment.
    #[arg(long)]
    pub consent_canary: bool,
}

/// Payload forms for what Freshsales' docs leave open. Each one given here wins; the others
/// come from the last `loader plan --probe` of this load (its journal), else the defaults.
#[derive(Args, Clone, Default)]
pub struct FormArgs {
    /// How to send emails (default `auto`: one address as a string).
    #[arg(long, value_enum)]
    pub email_form: Option<EmailForm>,
    /// How to send dropdown values: choice text or id (default `text`).
    #[arg(long, value_enum)]
    pub dropdown_form: Option<DropdownForm>,
    /// How to send multi-select values (default `semicolon`).
    #[arg(long, value_enum)]
    pub multi_select_form: Option<MultiSelectForm>,
    /// Also send appointments' `owner_id` (`--appointment-owner-id=false` to not): some
    /// clients do; unverified upstream. The owner is an attendee either way.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub appointment_owner_id: Option<bool>,
}

impl FormArgs {
    /// The forms to use: each given one, else the probe's (when it probed this target),
    /// else the default.
    fn forms_over(&self, probed: Option<&Forms>) -> Forms {
        let base = probed.cloned().unwrap_or_default();
        Forms {
            email: self.email_form.unwrap_or(base.email),
            dropdown: self.dropdown_form.unwrap_or(base.dropdown),
            multi_select: self.multi_select_form.unwrap_or(base.multi_select),
            appointment_owner_id: self
                .appointment_owner_id
                .unwrap_or(base.appointment_owner_id),
        }
    }

    /// [`FormArgs::forms_over`] with the probe recorded in `bundle`'s journal for `target`.
    fn forms(&self, bundle: &Path, target: &str) -> Forms {
        let (journal, _) = run_paths(bundle);
        let probed = loader::journal::read(&journal)
            .ok()
            .and_then(|entries| loader::journal::State::replay(&entries).probed)
            .filter(|(t, _)| t == target)
            .map(|(_, f)| f);
        self.forms_over(probed.as_ref())
    }
}

/// Arguments of `loader push`.
#[derive(Args)]
pub struct PushArgs {
    /// The bundle.
    pub bundle: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Owner for records whose owner has no Freshsales user (otherwise unmatched owners block).
    #[arg(long)]
    pub default_owner: Option<String>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Machine-readable events on stdout instead of progress bars.
    #[arg(long)]
    pub json: bool,
    /// A previous load's journal: send only records new or changed since (delta at cutover).
    #[arg(long)]
    pub since: Option<PathBuf>,
    /// Create missing custom fields through the settings API before pushing (unverified
    /// upstream: Freshsales documents the route for custom modules only).
    #[arg(long)]
    pub create_fields: bool,
    /// Run only these phases (comma-separated: accounts, contacts, notes, tasks,
    /// appointments, manual), e.g. contacts first and their notes in a later run. A phase
    /// whose parents are not loaded yet is refused.
    #[arg(long, value_delimiter = ',', value_parser = parse_phase)]
    pub phases: Vec<Phase>,
    /// Leave behind the notes AllClients wrote itself (emails sent, status changes): not
    /// sent, counted in the report as skipped by choice. Saves one call each.
    #[arg(long)]
    pub leave_system_notes: bool,
    #[command(flatten)]
    pub forms: FormArgs,
}

fn parse_phase(s: &str) -> std::result::Result<Phase, String> {
    serde_json::from_value(serde_json::Value::String(s.trim().to_lowercase())).map_err(|_| {
        format!("'{s}' is not a phase (accounts, contacts, notes, tasks, appointments, manual)")
    })
}

/// Arguments of `loader verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The bundle (its journal sits next to it).
    pub bundle: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    /// As given to push.
    #[arg(long)]
    pub default_owner: Option<String>,
    #[command(flatten)]
    pub forms: FormArgs,
}

/// Arguments of `loader rollback`.
#[derive(Args)]
pub struct RollbackArgs {
    /// The load's journal (`<bundle>.journal.jsonl`).
    pub journal: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Say what would be undone, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Move created contacts and accounts to the recycle bin instead of erasing them.
    #[arg(long)]
    pub soft_delete: bool,
}

fn hms(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}h {:02}m {:02}s", s / 3600, s % 3600 / 60, s % 60)
}

fn print_plan(plan: &Plan, run_dir: &Path) -> Result<()> {
    println!("custom fields:");
    for f in &plan.fields {
        println!(
            "  {:<28} {:<13} {:<16} {}",
            f.label,
            f.field_type.as_str(),
            f.status,
            f.name.as_deref().unwrap_or("-")
        );
    }
    println!("owners:");
    for o in &plan.owners {
        println!(
            "  {:<28} {:<28} {:<14} {} records",
            o.source,
            o.email.as_deref().unwrap_or("-"),
            o.status,
            o.references
        );
    }
    std::fs::create_dir_all(run_dir)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "source",
        "email",
        "freshsales_user_id",
        "status",
        "references",
    ])?;
    for o in &plan.owners {
        w.write_record([
            prep::report::neutralise(&o.source),
            prep::report::neutralise(o.email.as_deref().unwrap_or("")),
            o.user_id.map(|i| i.to_string()).unwrap_or_default(),
            o.status.clone(),
            o.references.to_string(),
        ])?;
    }
    std::fs::write(run_dir.join("owners.csv"), w.into_inner()?)?;
    let c = &plan.calls;
    println!(
        "API calls: preflight {}, accounts {}, contacts {}, notes {}, tasks {}, appointments {} = {}",
        c.preflight,
        c.accounts,
        c.contacts,
        c.notes,
        c.tasks,
        c.appointments,
        c.total()
    );
    if let Some(n) = plan.existing_contacts.filter(|n| *n > 0) {
        println!(
            "{n} of the bundle's contacts already exist in the account: each costs a read of what it holds now (kept for rollback) and of the notes already under it, counted below"
        );
    }
    println!("ETA at the budget's pace: {}", hms(plan.eta_seconds));
    let t = &plan.time;
    println!(
        "on the live account at {:.0} calls/hour: {}",
        t.budget_per_hour,
        t.hours
            .iter()
            .filter(|(_, h)| *h > 0.0)
            .map(|(p, h)| format!("{p} {h:.1} h"))
            .collect::<Vec<_>>()
            .join(", ")
            + &format!(" = {:.1} h", t.total_hours)
    );
    for c in &t.choices {
        println!("  to shorten it: {c}");
    }
    for w in &plan.warnings {
        println!("warning: {w}");
    }
    if plan.blocking.is_empty() {
        println!("nothing blocks the push");
    } else {
        println!("\nBLOCKING — do these first:");
        for b in &plan.blocking {
            println!("  [ ] {b}");
        }
    }
    println!(
        "owner reconciliation: {}",
        run_dir.join("owners.csv").display()
    );
    Ok(())
}

/// `loader plan`.
pub async fn plan(args: PlanArgs) -> Result<ExitCode> {
    let client = args.target.client()?;
    let mut pre = preflight(&args.bundle, &client, args.default_owner.as_deref()).await?;
    // The time is true only if it counts the contacts that exist (a read each), which the
    // batched search finds for about one call per 100 contacts.
    if pre.batched_search
        && let Some(n) = loader::account::existing_contacts(&client, &args.bundle).await?
    {
        let (rate, per_hour) = (client.rate().await, client.budget_per_hour().await);
        pre.plan
            .with_existing(n.contacts, n.reads, &pre.stats, rate, per_hour);
    }
    let probe = if args.probe {
        // Locked first: no probe runs beside a push of this load.
        let (journal, _) = run_paths(&args.bundle);
        let mut j = loader::journal::Journal::open(&journal)?;
        let report = loader::probe::probe(&client, &pre, &loader::now_rfc3339()).await?;
        j.append(&Entry::Probe {
            target: client.base().to_string(),
            at: loader::now_rfc3339(),
            forms: report.forms.clone(),
        })?;
        Some(report)
    } else {
        None
    };
    if args.json {
        let mut v = serde_json::to_value(&pre.plan)?;
        if let (Some(p), Some(m)) = (&probe, v.as_object_mut()) {
            m.insert("probe".into(), serde_json::to_value(p)?);
        }
        println!("{v}");
    } else {
        print_plan(&pre.plan, &run_paths(&args.bundle).1)?;
        if let Some(p) = &probe {
            print_probe(p);
        }
    }
    if probe.as_ref().is_some_and(|p| !p.removed) {
        anyhow::bail!(
            "the probe's canary {} could not be confirmed gone: delete it in Freshsales",
            probe.map(|p| p.canary).unwrap_or_default()
        );
    }
    Ok(if pre.plan.blocking.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn print_probe(p: &loader::probe::ProbeReport) {
    println!("\nprobe ({} calls, canary {}):", p.calls, p.canary);
    for f in &p.findings {
        println!(
            "  {:<34} tried {:<28} accepted: {}{}",
            f.what,
            f.tried.join(", "),
            f.accepted.as_deref().unwrap_or("none"),
            if f.note.is_empty() || f.accepted.as_deref() == f.tried.first().map(String::as_str) {
                String::new()
            } else {
                format!(" ({})", f.note)
            }
        );
    }
    if let Some(t) = &p.tags_on_update {
        println!("  tags on update: {t}");
    }
    println!(
        "  canary removed: {}; push will use these forms (recorded in the journal)",
        if p.removed { "yes" } else { "NO" }
    );
}

/// `loader push`.
pub async fn push(args: PushArgs) -> Result<ExitCode> {
    let client = args.target.client()?;
    let mut pre = preflight(&args.bundle, &client, args.default_owner.as_deref()).await?;
    if args.create_fields {
        let created = loader::account::create_missing_fields(&client, &pre).await?;
        if !created.is_empty() {
            println!("created fields: {}", created.join(", "));
            pre = preflight(&args.bundle, &client, args.default_owner.as_deref()).await?;
        }
    }
    let mode = if args.json { Mode::Json } else { Mode::Bars };
    if !pre.plan.blocking.is_empty() {
        if !args.json {
            print_plan(&pre.plan, &run_paths(&args.bundle).1)?;
        }
        anyhow::bail!(
            "the preflight blocks this push ({} items above)",
            pre.plan.blocking.len()
        );
    }
    let eta = pre.plan.eta_seconds;
    if !args.json {
        println!(
            "pushing {} to {} — ETA {}",
            args.bundle.display(),
            client.base(),
            hms(eta)
        );
    }
    let started = std::time::Instant::now();
    let opts = PushOptions {
        forms: args.forms.forms(&args.bundle, client.base()),
        concurrency: args.concurrency,
        since: args.since.clone(),
        mode,
        fallback_due: None,
        phases: args.phases.clone(),
        leave_system_notes: args.leave_system_notes,
    };
    let result = loader::push::push(&args.bundle, client.clone(), pre, &opts).await?;
    print_push(&result, &client, started, eta, args.json).await;
    Ok(if result.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// Prints a finished push's reconciliation (per phase) and where its files are.
async fn print_push(
    result: &PushResult,
    client: &loader::api::Client,
    started: std::time::Instant,
    eta: f64,
    json: bool,
) {
    let stats = client.stats().await;
    let elapsed = started.elapsed().as_secs_f64();
    if json {
        loader::progress::event(
            serde_json::json!({"event": "done", "elapsed_seconds": elapsed, "eta_seconds": eta, "calls": stats.sent, "throttled": stats.throttled, "failed": result.errors.len()}),
        );
        return;
    }
    println!(
        "\n{:<12} {:>8} {:>8} {:>8} {:>8} {:>7} {:>8}",
        "phase", "expected", "created", "updated", "skipped", "failed", "in doubt"
    );
    for r in result.reports.values() {
        println!(
            "{:<12} {:>8} {:>8} {:>8} {:>8} {:>7} {:>8}",
            r.phase,
            r.expected,
            r.created,
            r.updated,
            r.skipped.values().sum::<u64>(),
            r.failed,
            r.in_doubt
        );
        for (why, n) in &r.skipped {
            println!("          skipped {n}: {why}");
        }
    }
    println!(
        "\n{} calls ({} answered 429) in {} (ETA was {})",
        stats.sent,
        stats.throttled,
        hms(elapsed),
        hms(eta)
    );
    println!("journal: {}", result.journal.display());
    println!(
        "reports: {}/ (report-<phase>.json/.csv, errors.csv, manual/)",
        result.run_dir.display()
    );
    let doubtful = result.errors.iter().filter(|e| e.status.is_none()).count();
    let refused = result.errors.len() - doubtful;
    if refused > 0 {
        println!(
            "{refused} records were refused: see {}",
            result.run_dir.join("errors.csv").display()
        );
    }
    if doubtful > 0 {
        println!(
            "{doubtful} records are in doubt (sent, but no answer came back): run push again \
             to settle them; it reads back before sending anything again"
        );
    }
}

/// `loader verify`.
pub async fn verify(args: VerifyArgs) -> Result<ExitCode> {
    let client = args.target.client()?;
    let pre = preflight(&args.bundle, &client, args.default_owner.as_deref()).await?;
    let forms = args.forms.forms(&args.bundle, client.base());
    let report = loader::verify::verify(&args.bundle, &client, &pre, &forms).await?;
    Ok(if print_verify(&args.bundle, &report)? {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(4)
    })
}

/// Writes `verify.json` next to the bundle's reports, prints the first differences, and
/// says whether everything matched.
fn print_verify(bundle: &Path, report: &loader::verify::VerifyReport) -> Result<bool> {
    let dir = run_paths(bundle).1;
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("verify.json"),
        serde_json::to_string_pretty(report)?,
    )?;
    println!(
        "verified {} records: {} missing, {} field mismatches, {} duplicates{}",
        report.checked,
        report.missing.len(),
        report.mismatches.len(),
        report.extras.len(),
        if report.unreadable.is_empty() {
            String::new()
        } else {
            format!(", {} could not be read back", report.unreadable.len())
        }
    );
    for m in report.mismatches.iter().take(20) {
        println!(
            "  {} {}: expected {} got {}",
            m.key, m.field, m.expected, m.actual
        );
    }
    for k in report.missing.iter().take(20) {
        println!("  {k}: missing");
    }
    for (k, why) in report.unreadable.iter().take(20) {
        println!("  {k}: could not be read back ({why})");
    }
    println!("report: {}", dir.join("verify.json").display());
    let differing: std::collections::BTreeSet<(&str, &str)> = report
        .mismatches
        .iter()
        .map(|m| (m.key.as_str(), m.field.as_str()))
        .collect();
    println!(
        "{} of {} values read back match what was sent",
        report.values.saturating_sub(differing.len() as u64),
        report.values
    );
    for (k, id) in report.extras.iter().take(20) {
        println!("  {k}: a second copy in Freshsales (id {id}), not made by this load's journal");
    }
    Ok(report.clean())
}

/// `loader rollback`.
pub async fn rollback(args: RollbackArgs) -> Result<ExitCode> {
    let client = args.target.client()?;
    let r =
        loader::rollback::rollback(&args.journal, &client, args.dry_run, args.soft_delete).await?;
    if args.dry_run {
        for (k, a) in &r.planned {
            println!("{a:<12} {k}");
        }
        println!("dry run: {} actions, nothing changed", r.planned.len());
    } else {
        println!(
            "deleted {}, restored {}, already gone {}, resumed {}, kept (edited after import) {}",
            r.deleted,
            r.restored,
            r.already_gone,
            r.resumed,
            r.kept_edited.len()
        );
        for k in &r.kept_edited {
            println!("  kept: {k}");
        }
        for k in &r.kept_uncertain {
            println!("  kept (its pre-image is of another record; check by hand): {k}");
        }
        for k in &r.in_doubt {
            println!("  in doubt (the load never learned whether this write landed): {k}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `loader status`.
pub fn status(path: &Path) -> Result<ExitCode> {
    if !path.is_file() {
        anyhow::bail!(
            "{} does not exist: a load's journal is <bundle>.journal.jsonl, next to the bundle",
            path.display()
        );
    }
    let entries = journal::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let s = State::replay(&entries);
    println!(
        "journal {} ({} entries), bundle {}",
        path.display(),
        entries.len(),
        s.bundle_sha256.as_deref().unwrap_or("?")
    );
    for phase in Phase::ALL {
        let done = s
            .done
            .values()
            .filter(|e| matches!(e, Entry::Done { phase: p, .. } if *p == phase))
            .count();
        let failed = s
            .failed
            .values()
            .filter(|e| matches!(e, Entry::Failed { phase: p, .. } if *p == phase))
            .count();
        let pending = s
            .pending
            .values()
            .filter(|e| matches!(e, Entry::Intent { phase: p, .. } if *p == phase))
            .count();
        let finished = if s.phases_done.contains(&phase) {
            "finished"
        } else {
            "not finished"
        };
        println!(
            "  {:<12} {finished:<13} loaded {done:>6}  failed {failed:>4}  in doubt {pending:>3}",
            phase.as_str()
        );
    }
    if !s.rolled_back.is_empty() {
        println!("  rolled back: {} records", s.rolled_back.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// `loader demo`: the whole journey on the shipped sample, against a sandbox started in
/// this process (no credentials, no network): prepare, plan, push with progress bars,
/// verify, and the reports.
pub async fn demo(out_dir: PathBuf) -> Result<ExitCode> {
    let bundle = crate::prepare_cmd::demo(&out_dir)?;
    // A fresh sandbox each time: an earlier demo's journal would point at records that no
    // longer exist.
    let (journal_path, run_dir) = run_paths(&bundle);
    for stale in [&journal_path] {
        if stale.exists() {
            std::fs::remove_file(stale)?;
        }
    }
    if run_dir.exists() {
        std::fs::remove_dir_all(&run_dir)?;
    }
    let (manifest, _) = loader::account::open_bundle(&bundle)?;
    let scale = loader::rehearsal::DEMO_TIME_SCALE;
    let sandbox = loader::rehearsal::start_sandbox(&manifest, scale).await?;
    println!(
        "\n== sandbox: {} (Growth plan limits, 1000 calls/hour; its clock runs {scale}x, so an hour lasts {}s)",
        sandbox.base_url(),
        3600.0 / scale
    );
    let client = loader::api::Client::new(
        &sandbox.base_url(),
        loader::api::ApiKey::new(loader::rehearsal::SANDBOX_KEY),
        loader::ratelimit::RateLimiter::new(800, 400).time_scale(scale),
    )?;
    // The sample's "Jordan Unknown" has no user: the engineer's decision is a default owner.
    let owner = "pat@agency.example";
    let default_owner = Some(owner);
    println!("\n== plan (default owner {owner})");
    let pre = preflight(&bundle, &client, default_owner).await?;
    print_plan(&pre.plan, &run_dir)?;
    if !pre.plan.blocking.is_empty() {
        anyhow::bail!(
            "the demo's preflight blocks: the sandbox seed is out of step with the bundle"
        );
    }
    println!("\n== push");
    let eta = pre.plan.eta_seconds;
    let started = std::time::Instant::now();
    let opts = PushOptions {
        forms: Forms::default(),
        concurrency: 4,
        since: None,
        mode: Mode::Bars,
        fallback_due: None,
        phases: Vec::new(),
        leave_system_notes: false,
    };
    let s = pre.stats;
    let records = s.accounts
        + s.contacts_with_email
        + s.contacts_without_email
        + s.notes
        + s.tasks
        + s.appointments;
    let served = || {
        sandbox.state_snapshot()["counters"]["total"]
            .as_u64()
            .unwrap_or(0)
    };
    let before_push = served();
    let result = loader::push::push(&bundle, client.clone(), pre, &opts).await?;
    print_push(&result, &client, started, eta, false).await;
    let before_verify = served();
    println!("\n== verify (read back every record)");
    let pre = preflight(&bundle, &client, default_owner).await?;
    let report = loader::verify::verify(&bundle, &client, &pre, &Forms::default()).await?;
    let verified = print_verify(&bundle, &report)?;
    let per = |calls: u64| calls as f64 / records.max(1) as f64;
    println!(
        "calls per bundle record: push {:.2}, verify {:.2} ({records} records)",
        per(before_verify - before_push),
        per(served() - before_verify)
    );
    let state = sandbox.state_snapshot();
    println!(
        "\nsandbox now holds {} contacts, {} accounts, {} notes, {} tasks, {} appointments; it served {} requests, {} of them 429",
        state["contacts"].as_array().map_or(0, Vec::len),
        state["sales_accounts"].as_array().map_or(0, Vec::len),
        state["notes"].as_array().map_or(0, Vec::len),
        state["tasks"].as_array().map_or(0, Vec::len),
        state["appointments"].as_array().map_or(0, Vec::len),
        state["counters"]["total"],
        rate_limited(&state["counters"]["rate_limited"]),
    );
    sandbox.shutdown().await;
    // Refused records are part of the journey (the plan warned, errors.csv lists them);
    // what must hold is that every loaded record reads back as sent.
    Ok(if verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(4)
    })
}

fn rate_limited(per_route: &serde_json::Value) -> u64 {
    match per_route {
        serde_json::Value::Object(m) => m.values().filter_map(|v| v.as_u64()).sum(),
        v => v.as_u64().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_given_wins_over_the_probe_and_the_probe_over_the_default() {
        let probed = Forms {
            email: EmailForm::Array,
            dropdown: DropdownForm::Id,
            multi_select: MultiSelectForm::Array,
            appointment_owner_id: false,
        };
        let given = FormArgs {
            dropdown_form: Some(DropdownForm::Text),
            appointment_owner_id: Some(true),
            ..FormArgs::default()
        };
        let f = given.forms_over(Some(&probed));
        assert_eq!(f.dropdown, DropdownForm::Text);
        assert!(f.appointment_owner_id);
        assert_eq!(f.email, EmailForm::Array);
        assert_eq!(f.multi_select, MultiSelectForm::Array);
        assert_eq!(FormArgs::default().forms_over(None), Forms::default());
    }
}
