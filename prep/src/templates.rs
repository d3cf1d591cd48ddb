//! Email templates: kept as exported, with the images and merge tokens a person must
//! re-host or translate flagged (Freshsales has no template API; they go to the manual pack).

use crate::fields::StdField as F;
use crate::model::{Counts, Source, Template, TemplateFlag};
use crate::review::{Reason, ReviewItem};
use crate::sheet::Sheet;

/// Hosts whose images die with the AllClients account (white-label hosts can be added).
pub const DEFAULT_ALLCLIENTS_HOSTS: [&str; 1] = ["allclients.com"];

/// Finds images and merge tokens to flag in `html`.
pub fn scan(html: &str, hosts: &[String]) -> Vec<TemplateFlag> {
    let mut flags = Vec::new();
    for url in image_urls(html) {
        let lower = url.to_lowercase();
        let kind = if lower.starts_with("data:") {
            "data_image"
        } else if let Some(host) = url_host(&lower) {
            if hosts
                .iter()
                .any(|h| host == h.as_str() || host.ends_with(&format!(".{h}")))
            {
                "hosted_image"
            } else {
                continue;
            }
        } else if lower.starts_with("cid:") {
            "data_image"
        } else {
            "relative_image"
        };
        let value: String = url
            .chars()
            .take(if kind == "data_image" { 40 } else { 500 })
            .collect();
        let flag = TemplateFlag {
            kind: kind.into(),
            value,
        };
        if !flags.contains(&flag) {
            flags.push(flag);
        }
    }
    for token in merge_tokens(html) {
        let flag = TemplateFlag {
            kind: "merge_token".into(),
            value: token,
        };
        if !flags.contains(&flag) {
            flags.push(flag);
        }
    }
    flags
}

fn url_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .or_else(|| url.strip_prefix("//"))?;
    Some(rest.split(['/', ':', '?', '#']).next().unwrap_or(""))
}

/// `src=`, `background=` attribute values and CSS `url(...)` references.
fn image_urls(html: &str) -> Vec<String> {
    let lower = html.to_lowercase();
    let mut out = Vec::new();
    for attr in ["src", "background"] {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(attr) {
            let start = from + pos;
            from = start + attr.len();
            let before_ok = start == 0 || !lower.as_bytes()[start - 1].is_ascii_alphanumeric();
            let rest = lower[from..].trim_start();
            if !before_ok || !rest.starts_with('=') {
                continue;
            }
            let offset = lower.len() - rest.len() + 1;
            let value = &html[offset..];
            let value = value.trim_start();
            let v = match value.chars().next() {
                Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
                _ => value
                    .split(|c: char| c.is_whitespace() || c == '>')
                    .next()
                    .unwrap_or(""),
            };
            if !v.is_empty() {
                out.push(v.to_string());
            }
        }
    }
    let mut from = 0;
    while let Some(pos) = lower[from..].find("url(") {
        let start = from + pos + 4;
        from = start;
        if let Some(end) = html[start..].find(')') {
            let v = html[start..start + end].trim().trim_matches(['"', '\'']);
            if !v.is_empty() {
                out.push(v.to_string());
            }
        }
    }
    out
}

/// `[Token]`, `{Token}` and `%Token%` patterns of word characters (AllClients' merge syntax
/// is not public, so every plausible form is flagged).
fn merge_tokens(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = html.as_bytes();
    for (open, close) in [(b'[', b']'), (b'{', b'}'), (b'%', b'%')] {
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == open {
                let end = bytes[i + 1..].iter().take(40).position(|&b| b == close);
                if let Some(len) = end {
                    let inner = &html[i + 1..i + 1 + len];
                    let wordy = !inner.is_empty()
                        && inner.chars().any(|c| c.is_alphabetic())
                        && inner
                            .chars()
                            .all(|c| c.is_alphanumeric() || " _.:-".contains(c));
                    if wordy {
                        let token = html[i..i + len + 2].to_string();
                        if !out.contains(&token) {
                            out.push(token);
                        }
                        i += len + 2;
                        continue;
                    }
                }
            }
            i += 1;
        }
    }
    out
}

/// A template flag in plain words.
fn flag_words(kind: &str) -> &'static str {
    match kind {
        "data_image" => "an image stored inside the template, which Freshsales cannot import",
        "hosted_image" => {
            "an image on AllClients' servers, which stops working when the account closes"
        }
        "relative_image" => "an image linked by a relative path, which will not be found",
        _ => "a merge field to replace with a Freshsales placeholder",
    }
}

fn flag_items(t: &Template, row: Option<(u64, u64)>) -> Vec<ReviewItem> {
    t.flags
        .iter()
        .map(|f| {
            let reason = if f.kind == "merge_token" {
                Reason::TemplateMergeToken
            } else {
                Reason::TemplateImage
            };
            let mut item = ReviewItem::new(
                reason,
                &t.source.file,
                format!("template '{}': {}", t.name, flag_words(&f.kind)),
            )
            .value("html", &f.value);
            if let Some((r, l)) = row {
                item = item.at(r, l);
            }
            item
        })
        .collect()
}

/// Templates from CSV sheets.
pub fn from_sheets(sheets: &[Sheet], hosts: &[String]) -> (Vec<Template>, Counts, Vec<ReviewItem>) {
    let mut out = Vec::new();
    let mut counts = Counts::default();
    let mut review = Vec::new();
    for sheet in sheets {
        for row in &sheet.table.rows {
            counts.rows_in += 1;
            let cell = |f: F| sheet.cell(row, sheet.std(f)).map(str::to_string);
            let html = sheet
                .std(F::Body)
                .map(|i| row.get(i).to_string())
                .unwrap_or_default();
            let name = cell(F::TemplateName).unwrap_or_else(|| format!("Template row {}", row.row));
            let folder = cell(F::Folder);
            let mut flags = scan(&html, hosts);
            // A merge field in the subject needs translating as much as one in the body.
            for token in merge_tokens(cell(F::Subject).as_deref().unwrap_or("")) {
                let flag = TemplateFlag {
                    kind: "merge_token".into(),
                    value: token,
                };
                if !flags.contains(&flag) {
                    flags.push(flag);
                }
            }
            let t = Template {
                key: template_key(folder.as_deref(), &name, cell(F::TemplateId).as_deref()),
                flags,
                name,
                folder,
                subject: cell(F::Subject),
                html,
                source: Source {
                    file: sheet.file.to_string(),
                    row: row.row.into(),
                },
            };
            review.extend(flag_items(&t, Some((row.row.into(), row.line.into()))));
            out.push(t);
            counts.loaded += 1;
        }
    }
    (out, counts, review)
}

/// A template from a `.html` file: its name is the file name, its folder the directory.
pub fn from_html_file(path: &str, html: String, hosts: &[String]) -> (Template, Vec<ReviewItem>) {
    let (folder, file) = match path.rsplit_once('/') {
        Some((dir, f)) => (Some(dir.to_string()), f),
        None => (None, path),
    };
    let name = file
        .rsplit_once('.')
        .map_or(file, |(stem, _)| stem)
        .to_string();
    let t = Template {
        key: template_key(folder.as_deref(), &name, None),
        flags: scan(&html, hosts),
        name,
        folder,
        subject: None,
        html,
        source: Source {
            file: path.to_string(),
            row: 1,
        },
    };
    let items = flag_items(&t, None);
    (t, items)
}

fn template_key(folder: Option<&str>, name: &str, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("template:allclients:{id}"),
        None => format!("template:{}/{}", folder.unwrap_or(""), name.to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_images_and_tokens() {
        let hosts = vec!["allclients.com".to_string()];
        let html = r#"<p>Hi [FirstName],</p><img src="data:image/png;base64,AAAA"><img SRC='https://www.allclients.com/images/x.png'>
<img src="https://cdn.example.com/ok.png"><img src=logo.gif><div style="background:url('/bg.jpg')">50% off {Company}</div>"#;
        let kinds: Vec<(String, String)> = scan(html, &hosts)
            .into_iter()
            .map(|f| (f.kind, f.value))
            .collect();
        assert!(kinds.contains(&("data_image".into(), "data:image/png;base64,AAAA".into())));
        assert!(kinds.contains(&(
            "hosted_image".into(),
            "https://www.allclients.com/images/x.png".into()
        )));
        assert!(kinds.contains(&("relative_image".into(), "logo.gif".into())));
        assert!(kinds.contains(&("relative_image".into(), "/bg.jpg".into())));
        assert!(kinds.contains(&("merge_token".into(), "[FirstName]".into())));
        assert!(kinds.contains(&("merge_token".into(), "{Company}".into())));
        assert!(!kinds.iter().any(|(_, v)| v.contains("cdn.example.com")));
    }
}
