//! Optional persistence of the store to a JSON file.

use std::path::Path;

use crate::store::Store;

/// Reads a saved store; `Ok(None)` when the file does not exist yet.
pub fn load(path: &Path) -> anyhow::Result<Option<Store>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!("reading state {}: {e}", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("reading state {}: {e}", path.display())),
    }
}

/// Writes the store atomically (temporary file, then rename) so a crash never leaves half a file.
pub fn save(path: &Path, store: &Store) -> anyhow::Result<()> {
    let text = serde_json::to_string(store)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
