//! `cargo bench -p prep`: prepare throughput on two generated exports, the usual one
//! (100k contacts, 300k notes, 20k tasks) and a notes-heavy one (10k contacts, 1M notes),
//! each next to a raw `csv::ByteRecord` parse of the same bytes, so the ratios show side by
//! side in one run, with the peak memory of each (the high-water mark is reset between them).
//! Target (issue 14): prepare ≥ 0.3 × raw parse. `BENCH_CONTACTS`/`BENCH_NOTES`/`BENCH_TASKS`
//! change the first export; `BENCH_ONLY=usual|notes` runs one; `BENCH_STREAM_ONLY` stops after
//! the streamed path (for memory profilers).

use std::time::Instant;

// The allocator the loader binary uses, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use exportgen::{Spec, generate};
use prep::{InputFile, Options, bundle, prepare};
use sha2::{Digest, Sha256};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Resets the kernel's high-water mark of this process's resident memory (Linux ≥ 4.0), so
/// each export's peak is its own.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(v);
    }
    (best, out.expect("runs > 0"))
}

/// Counts and hashes what is written to it, holding nothing.
#[derive(Default)]
struct HashSink {
    len: usize,
    hash: Sha256,
}

impl HashSink {
    fn finish(self) -> (usize, String) {
        (self.len, format!("{:x}", self.hash.finalize()))
    }
}

impl std::io::Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.len += buf.len();
        self.hash.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The figures of one export.
struct Figures {
    label: &'static str,
    mb: f64,
    raw: f64,
    prepare: f64,
    write: f64,
    verify: f64,
    streamed: f64,
    bundle_mb: f64,
    stream_peak: Option<f64>,
}

fn run(label: &'static str, spec: &Spec, runs: usize) -> Figures {
    let t = Instant::now();
    let (files, _) = generate(spec);
    let inputs: Vec<InputFile> = files
        .into_iter()
        .map(|f| InputFile {
            name: f.name,
            bytes: f.bytes,
        })
        .collect();
    let total: usize = inputs.iter().map(|f| f.bytes.len()).sum();
    let mb = total as f64 / 1e6;
    println!(
        "{label} export: {} contacts, {} notes, {} tasks = {mb:.1} MB (generated in {:.1}s)",
        spec.contacts,
        spec.notes,
        spec.tasks,
        t.elapsed().as_secs_f64()
    );
    // First, before anything else raises the high-water mark: the streaming path the CLI
    // and the page use (notes built one at a time while the bundle is written).
    reset_peak_rss();
    let t = Instant::now();
    // Into a hashing sink, as the CLI writes to a file and the page streams out of WASM
    // memory: neither holds the bundle, so neither should the figure.
    // As `loader prepare` reads: the files given away, so their bytes become the tables'
    // text (the bench keeps its own copy for the runs below).
    let read = prep::read::read_owned(inputs.clone(), None).expect("read");
    let refs: Vec<&prep::read::ReadFile> = read.iter().collect();
    let streamed = prep::prepare::prepare_read(&refs, &Options::default(), |p, notes| {
        let mut out = HashSink::default();
        // As the CLI writes: compressing on a thread of its own.
        bundle::write_streaming_threaded(&p, notes, &mut out)?;
        Ok(out.finish())
    })
    .expect("prepare");
    drop(refs);
    drop(read);
    let stream_s = t.elapsed().as_secs_f64();
    let stream_peak = peak_rss_mb();
    if std::env::var_os("BENCH_STREAM_ONLY").is_some() {
        println!(
            "prepare + streamed write: {:.1} MB/s, peak RSS {:?} MB",
            mb / stream_s,
            stream_peak
        );
        std::process::exit(0);
    }
    let (raw, records) = best_of(runs, || {
        let mut n = 0u64;
        for f in &inputs {
            let delimiter = if f.name.starts_with("Tasks") {
                b';'
            } else {
                b','
            };
            let mut r = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .flexible(true)
                .from_reader(&f.bytes[..]);
            let mut rec = csv::ByteRecord::new();
            while r.read_byte_record(&mut rec).expect("valid csv") {
                n += 1;
            }
        }
        n
    });
    let (prep_s, prepared) = best_of(runs, || {
        prepare(&inputs, &Options::default()).expect("prepare")
    });
    let (write_s, bytes) = best_of(runs, || bundle::to_bytes(&prepared).expect("bundle"));
    let (read_s, _) = best_of(runs, || bundle::verify(&bytes[..]).expect("verify"));
    assert_eq!(
        streamed,
        (bytes.len(), format!("{:x}", Sha256::digest(&bytes))),
        "the streaming path writes the same bundle"
    );
    println!(
        "  {records} rows; {} contacts, {} notes, {} review items ({} carry their whole row); best of {runs} runs",
        prepared.contacts.len(),
        prepared.notes.len(),
        prepared.review.len(),
        prepared
            .review
            .iter()
            .filter(|i| !i.record.is_empty())
            .count()
    );
    Figures {
        label,
        mb,
        raw,
        prepare: prep_s,
        write: write_s,
        verify: read_s,
        streamed: stream_s,
        bundle_mb: bytes.len() as f64 / 1e6,
        stream_peak,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // cargo test --benches asks for a listing; there is nothing to list
    }
    let runs = env("BENCH_RUNS", 3);
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let mut all = Vec::new();
    if only.is_empty() || only == "usual" {
        let spec = Spec {
            seed: 42,
            contacts: env("BENCH_CONTACTS", 100_000),
            notes: env("BENCH_NOTES", 300_000),
            tasks: env("BENCH_TASKS", 20_000),
            side_files: false,
            every_kind: false,
        };
        all.push(run("usual", &spec, runs));
    }
    if only.is_empty() || only == "notes" {
        let spec = Spec {
            seed: 43,
            contacts: 10_000,
            notes: 1_000_000,
            tasks: 0,
            side_files: false,
            every_kind: false,
        };
        all.push(run("notes-heavy", &spec, runs));
    }
    println!();
    print!("{:<34}", "");
    for f in &all {
        print!("{:>22}", f.label);
    }
    println!();
    let line = |name: &str, cell: &dyn Fn(&Figures) -> String| {
        print!("{name:<34}");
        for f in &all {
            print!("{:>22}", cell(f));
        }
        println!();
    };
    line("input", &|f| format!("{:.1} MB", f.mb));
    line("raw csv::ByteRecord parse", &|f| {
        format!("{:.1} MB/s", f.mb / f.raw)
    });
    line("prepare (decode→records)", &|f| {
        format!("{:.1} MB/s", f.mb / f.prepare)
    });
    line("ratio prepare / raw (≥ 0.3)", &|f| {
        format!("{:.3}", f.raw / f.prepare)
    });
    line("bundle write (gzip+sha256)", &|f| {
        format!("{:.1} MB/s", f.mb / f.write)
    });
    line("ratio prepare+write / raw", &|f| {
        format!("{:.3}", f.raw / (f.prepare + f.write))
    });
    line("bundle verify (read)", &|f| {
        format!("{:.1} MB/s", f.mb / f.verify)
    });
    line("bundle size", &|f| format!("{:.1} MB", f.bundle_mb));
    line("prepare + streamed write (1st run)", &|f| {
        format!("{:.2} s", f.streamed)
    });
    line("peak RSS, streamed path", &|f| {
        f.stream_peak
            .map_or("?".into(), |p| format!("{p:.0} MB ({:.1}x)", p / f.mb))
    });
    println!("(peak RSS includes the export itself, held in memory throughout)");
}
