//! `loader prepare`, `loader inspect` and `loader demo`: file and clock I/O around the
//! preparer core.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use loader::sibling;
use prep::bundle;
use prep::report::{Summary, queue_csv};
use prep::review::Reason;
use prep::{Confirmation, Mapping, Options, Settings};

/// Arguments of `loader prepare`.
#[derive(Args)]
pub struct PrepareArgs {
    /// Export files, or folders holding them (walked recursively).
    #[arg(long, required = true, num_args = 1..)]
    input: Vec<PathBuf>,
    /// Where to write the bundle (`.jsonl.gz`). The scope report, the effective mapping and
    /// the review queues are written next to it.
    #[arg(long)]
    out: PathBuf,
    /// A mapping file (saved from the page or a previous run) that overrides the proposal.
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// The name of the person confirming the mapping. Without it the bundle is a draft
    /// the loader will not push.
    #[arg(long)]
    confirmed_by: Option<String>,
    /// Confirmation time (RFC 3339). Defaults to now; pass it to reproduce a bundle byte for byte.
    #[arg(long, requires = "confirmed_by")]
    confirmed_at: Option<String>,
    /// Label of the multi-select custom field that receives AllClients groups.
    #[arg(long, default_value = "AllClients Groups")]
    groups_field: String,
    /// Extra hosts whose template images die with the account (white-label domains).
    #[arg(long = "allclients-host")]
    allclients_hosts: Vec<String>,
    /// The largest value Freshsales takes, in characters, as KIND=N with KIND one of
    /// `text` (default 255), `paragraph` (10000) or `note` (65535); longer values are held
    /// in the review queue. Repeatable.
    #[arg(long = "limit", value_name = "KIND=N", value_parser = parse_limit)]
    limits: Vec<(String, usize)>,
    /// The AllClients account's time zone, an IANA name such as America/Chicago: the export's
    /// times are wall-clock times there. Recorded in the bundle; the loader converts every
    /// date and time with it (and will not push without it).
    #[arg(long, value_name = "ZONE", value_parser = parse_zone)]
    time_zone: Option<String>,
    /// The customer's corrections (values fixed, owners assigned): a corrections file saved
    /// from the page (`.json`), or a review queue's CSV edited in a spreadsheet (`.csv`).
    /// Repeatable; recorded in the bundle.
    #[arg(long = "corrections", value_name = "FILE")]
    corrections: Vec<PathBuf>,
}

fn parse_zone(s: &str) -> Result<String, String> {
    loader::zone::Zone::named(s).map(|z| z.name().to_string())
}

fn parse_limit(s: &str) -> Result<(String, usize), String> {
    let (kind, n) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not KIND=N"))?;
    if !matches!(kind, "text" | "paragraph" | "note") {
        return Err(format!("'{kind}' is not one of text, paragraph, note"));
    }
    let n: usize = n
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("'{n}' is not a positive number of characters"))?;
    Ok((kind.to_string(), n))
}

/// The corrections files merged in order (a later fix of the same cell wins). An edited
/// review queue is compared with the queue of a preparation without it.
fn read_corrections(
    paths: &[PathBuf],
    files: &[&prep::read::ReadFile],
    options: &Options,
) -> Result<prep::corrections::Corrections> {
    let mut all = prep::corrections::Corrections::default();
    for p in paths {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("cannot read corrections {}", p.display()))?;
        let is_csv = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let bad = |e: String| anyhow::anyhow!("{}: {e}", p.display());
        if is_csv {
            let before = Options {
                confirmation: None,
                corrections: all.clone(),
                ..options.clone()
            };
            let review = prep::prepare::prepare_read(files, &before, |p, _| Ok(p.review))?;
            all.add_from_queue(
                prep::corrections::Corrections::from_queue_csv(&text, &review).map_err(bad)?,
            );
        } else {
            all.add(prep::corrections::Corrections::from_json(&text).map_err(bad)?);
        }
    }
    Ok(all)
}

/// Runs `loader prepare`.
pub fn run(args: &PrepareArgs) -> Result<()> {
    refuse_output_among_inputs(&args.input, &args.out)?;
    let inputs = crate::files::load_inputs(&args.input)?;
    let mapping = match &args.mapping {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read mapping {}", p.display()))?;
            Some(Mapping::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?)
        }
        None => None,
    };
    let confirmation = match &args.confirmed_by {
        Some(name) if name.trim().is_empty() => bail!("--confirmed-by needs a name"),
        Some(name) => {
            let at = match &args.confirmed_at {
                Some(at) => {
                    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                        .with_context(|| {
                            format!("--confirmed-at '{at}' is not an RFC 3339 time")
                        })?;
                    at.clone()
                }
                None => loader::now_rfc3339(),
            };
            Some(Confirmation {
                confirmed_by: name.trim().to_string(),
                confirmed_at: at,
            })
        }
        None => None,
    };
    let mut settings = Settings {
        groups_field_label: args.groups_field.clone(),
        ..Settings::default()
    };
    settings
        .allclients_hosts
        .extend(args.allclients_hosts.iter().cloned());
    settings.time_zone = args.time_zone.clone();
    for (kind, n) in &args.limits {
        match kind.as_str() {
            "text" => settings.limits.text = *n,
            "paragraph" => settings.limits.paragraph = *n,
            _ => settings.limits.note = *n,
        }
    }
    let mut options = Options {
        mapping,
        settings,
        confirmation,
        corrections: Default::default(),
    };
    // Read once, for the preparation and for the one a corrections file is compared with;
    // the files' bytes become their tables' text.
    let read = prep::read::read_owned(inputs, options.mapping.as_ref())?;
    let files: Vec<&prep::read::ReadFile> = read.iter().collect();
    options.corrections = read_corrections(&args.corrections, &files, &options)?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = args.out.with_extension("partial");
    let file = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    // Notes are built one at a time while the bundle is written (the page does the same),
    // so a large export's notes are never all in memory.
    let written = prep::prepare::prepare_read(&files, &options, |p, notes| {
        if p.confirmation.is_some() {
            prep::checks::refuse_blocking(&p.problems)?;
        }
        let mut w = BufWriter::new(file);
        // The writer hashes every line as it writes it and seals the bundle with that hash,
        // so the file need not be read back to know it: it is synced, then renamed.
        let manifest = bundle::write_streaming_threaded(&p, notes, &mut w)?;
        w.flush()?;
        w.get_ref().sync_all()?;
        Ok((p, manifest))
    });
    let (prepared, manifest) = match written {
        Ok(w) => w,
        Err(e) => {
            // Nothing half-written is left behind.
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
    };
    std::fs::rename(&tmp, &args.out)?;
    let summary = Summary::of(&manifest);
    std::fs::write(
        sibling(&args.out, ".scope.md"),
        summary.markdown(&prepared.review),
    )?;
    std::fs::write(
        sibling(&args.out, ".scope.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    std::fs::write(
        sibling(&args.out, ".mapping.json"),
        serde_json::to_string_pretty(&prepared.mapping_file())?,
    )?;
    let queues = sibling(&args.out, ".review");
    std::fs::create_dir_all(&queues)?;
    for reason in Reason::ALL {
        let path = queues.join(format!("{}.csv", reason.as_str()));
        if prepared.review.iter().any(|i| i.reason == reason) {
            std::fs::write(&path, queue_csv(&prepared.review, reason))?;
        } else if path.exists() {
            std::fs::remove_file(&path)?;
        }
    }
    print_summary(&summary);
    println!("\nwrote {}", args.out.display());
    println!(
        "      {} (scope report)",
        sibling(&args.out, ".scope.md").display()
    );
    println!(
        "      {} (effective mapping: edit and pass back with --mapping)",
        sibling(&args.out, ".mapping.json").display()
    );
    println!("      {}/ (review queues as CSV)", queues.display());
    if summary.confirmation.is_none() {
        println!(
            "\nThis bundle is a draft: pass --confirmed-by NAME once the mapping is confirmed."
        );
    }
    match &prepared.settings.time_zone {
        Some(z) => println!("Times are read as wall-clock times in {z}."),
        None => println!(
            "\nThe AllClients account's time zone is not stated: pass --time-zone (e.g. \
             America/Chicago), or the loader will not push (its times could not be placed)."
        ),
    }
    Ok(())
}

/// Refuses an `--out` that would overwrite an input file, or that lies inside an input
/// folder (its review queues are CSV files a later run would read back as export files).
fn refuse_output_among_inputs(inputs: &[PathBuf], out: &Path) -> Result<()> {
    let out_abs = absolute(out);
    let written = [
        out_abs.clone(),
        out_abs.with_extension("partial"),
        sibling(&out_abs, ".scope.md"),
        sibling(&out_abs, ".scope.json"),
        sibling(&out_abs, ".mapping.json"),
    ];
    let review = sibling(&out_abs, ".review");
    for input in inputs {
        let input_abs = absolute(input);
        if input_abs.is_dir() {
            if out_abs.starts_with(&input_abs) {
                bail!(
                    "--out {} is inside the input folder {}: the bundle and its review files \
                     would be read as export files next time. Write it somewhere else",
                    out.display(),
                    input.display()
                );
            }
        } else if written.contains(&input_abs) || input_abs.starts_with(&review) {
            bail!(
                "--out {} would overwrite the input file {}: write the bundle somewhere else",
                out.display(),
                input.display()
            );
        }
    }
    Ok(())
}

/// `p` made absolute with symbolic links resolved as far as it exists (an output file
/// does not exist yet, but its folder may be reached through a link).
fn absolute(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) => absolute(parent).join(name),
        _ => abs,
    }
}

/// Runs `loader inspect`.
pub fn inspect(path: &Path, json: bool) -> Result<()> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let (manifest, _) = bundle::verify(BufReader::new(file))
        .with_context(|| format!("{} is not a valid bundle", path.display()))?;
    let summary = Summary::of(&manifest);
    if json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!(
            "{}: bundle format {}, content SHA-256 {} (verified)",
            path.display(),
            summary.format_version,
            summary.content_sha256
        );
        print_summary(&summary);
    }
    Ok(())
}

fn print_summary(s: &Summary) {
    println!("\ninputs:");
    for i in &s.inputs {
        let delim = if i.delimiter == "\t" {
            "tab".to_string()
        } else {
            format!("'{}'", i.delimiter)
        };
        println!(
            "  {:<28} {:<12} {:<13} {:<5} {:>7} rows",
            i.file, i.kind, i.encoding, delim, i.rows
        );
    }
    let o = &s.objects;
    println!(
        "\n  {:<14} {:>8} {:>8} {:>8} {:>8}",
        "object", "rows in", "loaded", "merged", "held"
    );
    for (name, c) in [
        ("contacts", o.contacts),
        ("notes", o.notes),
        ("tasks", o.tasks),
        ("appointments", o.appointments),
        ("templates", o.templates),
    ] {
        println!(
            "  {:<14} {:>8} {:>8} {:>8} {:>8}",
            name, c.rows_in, c.loaded, c.merged, c.held
        );
    }
    println!("  {:<14} {:>8} {:>8}", "accounts", "", o.accounts.loaded);
    println!(
        "\ncustom fields: {}",
        s.custom_fields
            .iter()
            .map(|f| format!("{} ({})", f.label, f.field_type.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("tags: {}", s.tags.len());
    let unknown = s
        .owners
        .iter()
        .filter(|o| o.status == prep::model::OwnerStatus::Unknown)
        .count();
    println!("owners: {} ({} unknown)", s.owners.len(), unknown);
    println!("review:");
    for (reason, n) in &s.review {
        if *n > 0 {
            println!("  {reason:<22} {n}");
        }
    }
    println!("ledger: {}", s.ledger_line());
    for w in &s.warnings {
        println!("warning: {w}");
    }
    match &s.confirmation {
        Some(c) => println!("confirmed by {} at {}", c.confirmed_by, c.confirmed_at),
        None => println!("not confirmed (draft)"),
    }
}

/// The shipped sample export, found next to the workspace or the current directory.
pub fn sample_dir() -> Result<PathBuf> {
    let candidates = [
        PathBuf::from("sample/allclients-export"),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sample/allclients-export"),
    ];
    candidates.into_iter().find(|p| p.is_dir()).context(
        "the sample export (sample/allclients-export) was not found; run from the repository root",
    )
}

/// The first half of `loader demo`: prepare and inspect the sample export; returns the bundle.
pub fn demo(out_dir: &Path) -> Result<PathBuf> {
    let sample = sample_dir()?;
    let out = out_dir.join("sample.bundle.jsonl.gz");
    println!("== prepare: {} -> {}", sample.display(), out.display());
    run(&PrepareArgs {
        input: vec![sample],
        out: out.clone(),
        mapping: None,
        confirmed_by: Some("Demo Customer".into()),
        confirmed_at: None,
        groups_field: "AllClients Groups".into(),
        allclients_hosts: Vec::new(),
        limits: Vec::new(),
        // The generator's accounts are in the US Midwest.
        time_zone: Some("America/Chicago".into()),
        corrections: Vec::new(),
    })?;
    println!("\n== inspect {}", out.display());
    inspect(&out, false)?;
    Ok(out)
}
