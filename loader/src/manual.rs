//! The manual-step pack: what Freshsales has no API for (email templates, AllClients
//! workflows, to-do plans, autoresponders), written out for a person to rebuild.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use prep::bundle::Record;

/// Characters of a template's name kept in its file name: 60 characters of up to four
/// UTF-8 bytes each, plus the number and extension, stay far below the usual 255-byte limit.
const MAX_NAME_CHARS: usize = 60;

/// Writes `<run_dir>/manual/` with one HTML file per template and a checklist.
pub fn write_pack(bundle: &Path, run_dir: &Path) -> Result<()> {
    let dir = run_dir.join("manual");
    std::fs::create_dir_all(dir.join("templates"))?;
    let mut list = String::from(
        "# Manual steps\n\nFreshsales has no API for these: rebuild them by hand.\n\n## Email templates\n\n",
    );
    let mut count = 0;
    crate::account::each_record(bundle, |r| {
        if let Record::Template(t) = r {
            count += 1;
            let safe: String = t
                .name
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == ' ' || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            // File systems allow 255 bytes a name: a long template name is cut (the
            // number keeps the names unique; the checklist has the full name).
            let short: String = safe.trim().chars().take(MAX_NAME_CHARS).collect();
            let file = format!("{count:03} {}.html", short.trim());
            std::fs::write(dir.join("templates").join(&file), &t.html)?;
            let id = t
                .key
                .strip_prefix("template:allclients:")
                .map(|id| format!(", AllClients template {id}"))
                .unwrap_or_default();
            let _ = writeln!(
                list,
                "- [ ] **{}** ({}{id}) subject: {} → `templates/{file}`",
                t.name,
                t.folder.as_deref().unwrap_or("no folder"),
                t.subject.as_deref().unwrap_or("(none)")
            );
            for f in &t.flags {
                let _ = writeln!(
                    list,
                    "  - {}: {}",
                    f.kind.replace('_', " "),
                    prep::report::code_span(&f.value)
                );
            }
        }
        Ok(())
    })?;
    if count == 0 {
        list.push_str("None in this export.\n");
    }
    list.push_str(
        "\n## Workflows, to-do plans and autoresponders\n\nAllClients cannot export them as runnable logic. List each one from AllClients \
         (Settings → Workflows, To-Do Plans, Autoresponders) and rebuild it as a Freshsales workflow or sales sequence.\n",
    );
    std::fs::write(dir.join("CHECKLIST.md"), list)?;
    Ok(())
}
