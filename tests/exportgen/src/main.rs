//! `exportgen OUT_DIR [--seed N] [--contacts N] [--notes N] [--tasks N] [--every-kind]`:
//! writes an export.

use std::path::PathBuf;

const USAGE: &str =
    "usage: exportgen OUT_DIR [--seed N] [--contacts N] [--notes N] [--tasks N] [--every-kind]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut spec = exportgen::Spec::sample();
    let mut out: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Result<u64, Box<dyn std::error::Error>> {
            Ok(args
                .next()
                .ok_or(format!("{name} needs a value"))?
                .parse()?)
        };
        match a.as_str() {
            "--seed" => spec.seed = num("--seed")?,
            "--contacts" => spec.contacts = num("--contacts")? as usize,
            "--notes" => spec.notes = num("--notes")? as usize,
            "--tasks" => spec.tasks = num("--tasks")? as usize,
            "--every-kind" => spec.every_kind = true,
            // An unknown flag is not a folder name (`--help` once made a folder of that name).
            flag if flag.starts_with('-') => return Err(USAGE.into()),
            _ if out.is_none() => out = Some(PathBuf::from(a)),
            other => return Err(format!("unexpected argument {other}").into()),
        }
    }
    let out = out.ok_or(USAGE)?;
    let (files, planted) = exportgen::generate(&spec);
    for f in files {
        let path = out.join(&f.name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &f.bytes)?;
    }
    eprintln!("wrote {} ({planted:?})", out.display());
    Ok(())
}
