//! `cargo bench -p prep`: prepare throughput on a generated 100k-contact, 300k-note export,
//! next to a raw `csv::ByteRecord` parse of the same bytes, so the ratio shows in one run.
//! Target: prepare ≥ 0.5 × raw parse. Sizes can be changed with BENCH_CONTACTS/BENCH_NOTES.

use std::time::Instant;

use exportgen::{Spec, generate};
use prep::{InputFile, Options, bundle, prepare};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
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

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // cargo test --benches asks for a listing; there is nothing to list
    }
    let spec = Spec {
        seed: 42,
        contacts: env("BENCH_CONTACTS", 100_000),
        notes: env("BENCH_NOTES", 300_000),
        tasks: env("BENCH_TASKS", 20_000),
        side_files: false,
        every_kind: false,
    };
    let t = Instant::now();
    let (files, _) = generate(&spec);
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
        "export: {} contacts, {} notes, {} tasks = {mb:.1} MB (generated in {:.1}s)",
        spec.contacts,
        spec.notes,
        spec.tasks,
        t.elapsed().as_secs_f64()
    );
    // First, before anything else raises the high-water mark: the streaming path the CLI
    // and the page use (notes built one at a time while the bundle is written).
    let t = Instant::now();
    let streamed = prep::prepare::prepare_with(&inputs, &Options::default(), |p, notes| {
        let mut out = Vec::new();
        bundle::write_streaming(&p, notes, &mut out)?;
        Ok(out)
    })
    .expect("prepare");
    let stream_s = t.elapsed().as_secs_f64();
    let stream_peak = peak_rss_mb();
    if std::env::var_os("BENCH_STREAM_ONLY").is_some() {
        // For memory profilers: stop before the in-memory path raises the high-water mark.
        println!(
            "prepare + streamed write: {:.1} MB/s, peak RSS {:?} MB",
            mb / stream_s,
            stream_peak
        );
        return;
    }
    let runs = env("BENCH_RUNS", 3);
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
    println!(
        "raw csv::ByteRecord parse : {:>8.1} MB/s  ({records} records, {:.3}s)",
        mb / raw,
        raw
    );
    println!(
        "prepare (decode→records)  : {:>8.1} MB/s  ({:.3}s)",
        mb / prep_s,
        prep_s
    );
    println!(
        "bundle write (gzip+sha256): {:>8.1} MB/s of input  ({:.3}s, bundle {:.1} MB)",
        mb / write_s,
        write_s,
        bytes.len() as f64 / 1e6
    );
    println!(
        "prepare + bundle write    : {:>8.1} MB/s",
        mb / (prep_s + write_s)
    );
    println!(
        "bundle verify (read)      : {:>8.1} MB/s of input  ({:.3}s)",
        mb / read_s,
        read_s
    );
    println!(
        "ratio prepare / raw parse : {:.2}  (target ≥ 0.5)",
        raw / prep_s
    );
    println!(
        "ratio prepare+write / raw : {:.2}",
        raw / (prep_s + write_s)
    );
    assert_eq!(streamed, bytes, "the streaming path writes the same bundle");
    println!(
        "prepare + streamed write  : {:>8.1} MB/s  ({stream_s:.3}s, first run, cold caches)",
        mb / stream_s
    );
    if let Some(peak) = stream_peak {
        println!(
            "peak RSS, streamed path   : {peak:.0} MB = {:.1} x input (input and generator output included)",
            peak / mb
        );
    }
    if let Some(peak) = peak_rss_mb() {
        println!(
            "peak RSS                  : {peak:.0} MB (input {mb:.0} MB held in memory throughout)"
        );
    }
}
