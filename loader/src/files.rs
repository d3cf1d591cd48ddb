//! Reading export files from disk: folders are walked (sorted, so the result does not depend
//! on the file system's order) and named by their path relative to the folder.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use prep::InputFile;

/// Loads every export file named by `paths` (files, or folders walked recursively).
pub fn load_inputs(paths: &[PathBuf]) -> Result<Vec<InputFile>> {
    let mut out = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            for f in found {
                let rel = f.strip_prefix(path).unwrap_or(&f);
                let name = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push(read(&f, name)?);
            }
        } else {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push(read(path, name)?);
        }
    }
    if out.is_empty() {
        bail!(
            "no export files (.csv, .tsv, .txt, .html) found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut names: Vec<&str> = out.iter().map(|f| f.name.as_str()).collect();
    names.sort();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        bail!(
            "two input files are both named {}: give them different names",
            w[0]
        );
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| {
            prep::archive::EXTENSIONS.contains(&e.to_string_lossy().to_lowercase().as_str())
        }) {
            out.push(path);
        }
    }
    Ok(())
}

fn read(path: &Path, name: String) -> Result<InputFile> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(InputFile { name, bytes })
}
