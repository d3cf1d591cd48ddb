//! Reading single cell values: emails, yes/no, numbers, tag lists; and counting them.

/// `value.trim()`, answered without a scan when the value starts and ends with a visible
/// ASCII character (almost every cell): the preparation trims every cell it reads, several
/// times over, and the general trim decodes characters from both ends.
#[inline]
pub fn trim(value: &str) -> &str {
    match value.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => value,
        [only] if only.is_ascii_graphic() => value,
        _ => value.trim(),
    }
}

/// The dedupe key of an email: trimmed and lower-cased.
pub fn email_key(email: &str) -> String {
    trim(email).to_lowercase()
}

/// Whether `email` (already trimmed) is an address Freshsales will take. This is the WHATWG
/// "valid e-mail address" rule browsers use, plus a dot in the domain and non-ASCII letters
/// (internationalised addresses, RFC 6531): an RFC 5322 parser would accept quoted and
/// comment forms that CRMs reject.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    const LOCAL_SPECIAL: &str = ".!#$%&'*+/=?^_`{|}~-";
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || LOCAL_SPECIAL.contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    // The labels are read as they are split, not gathered: this runs for every email.
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let domain_ok = domain.len() <= 253
        && domain.split('.').all(label_ok)
        && domain.rsplit_once('.').is_some_and(|(_, tld)| {
            tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic)
        });
    local_ok && domain_ok
}

/// Reads a yes/no cell. `X` means yes, as in AllClients' one-column-per-flag exports.
pub fn parse_checkbox(value: &str) -> Option<bool> {
    const YES: [&str; 8] = ["yes", "y", "true", "t", "1", "x", "on", "checked"];
    const NO: [&str; 7] = ["no", "n", "false", "f", "0", "off", "unchecked"];
    // Compared ignoring ASCII case, without a lower-cased copy: the proposal asks this of
    // every value of a column until one is not a yes or no.
    let v = trim(value);
    let is = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(v));
    if is(&YES) {
        Some(true)
    } else if is(&NO) {
        Some(false)
    } else {
        None
    }
}

/// Reads a number, accepting thousands separators (`1,234.5`), and returns it in plain
/// JSON form. Values with a leading zero (`01234`, zip codes, ids) are not numbers: they
/// must keep their zeros, and more than 15 significant digits would not survive a double.
pub fn parse_number(value: &str) -> Option<serde_json::Number> {
    let s = trim(value);
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    if int.is_empty() || !int.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let int_plain: String = if int.contains(',') {
        let groups: Vec<&str> = int.split(',').collect();
        let ok = groups[0].len() <= 3
            && !groups[0].is_empty()
            && groups[1..].iter().all(|g| g.len() == 3)
            && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return None;
        }
        groups.concat()
    } else {
        if !int.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        int.to_string()
    };
    if int_plain.len() > 1 && int_plain.starts_with('0') {
        return None;
    }
    if let Some(f) = frac
        && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let significant = int_plain.trim_start_matches('0').len() + frac.map_or(0, str::len);
    if significant > 15 {
        return None;
    }
    let text = match frac {
        Some(f) => format!("{}{}.{}", if neg { "-" } else { "" }, int_plain, f),
        None => format!("{}{}", if neg { "-" } else { "" }, int_plain),
    };
    serde_json::from_str(&text).ok()
}

/// Splits a tag or multi-choice cell on `;` `,` `|` and newlines, trims, and drops empties
/// and case-insensitive repeats (the first spelling wins).
pub fn split_list(value: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in value.split([';', ',', '|', '\n', '\r']) {
        let t = piece.trim();
        if !t.is_empty() && !out.iter().any(|o| same_lowercase(o, t)) {
            out.push(t.to_string());
        }
    }
    out
}

/// Adds `items` to `list`, skipping case-insensitive repeats.
pub fn union_into(list: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for item in items {
        if !list.iter().any(|o| same_lowercase(o, &item)) {
            list.push(item);
        }
    }
}

/// `text` lower-cased (as `str::to_lowercase` would) into `room`, when it is ASCII and fits:
/// the hot lookups lower-case short keys, and a copy on the heap for each took longer than
/// the lookup. `None` for any other text, which the caller lower-cases in full.
pub(crate) fn ascii_lowercase_in<'r>(text: &str, room: &'r mut [u8]) -> Option<&'r str> {
    if !text.is_ascii() {
        return None;
    }
    let buf = room.get_mut(..text.len())?;
    buf.copy_from_slice(text.as_bytes());
    buf.make_ascii_lowercase();
    // ASCII stays ASCII when lower-cased, so it is text.
    std::str::from_utf8(buf).ok()
}

/// Whether `a` and `b` are alike once lower-cased (`str::to_lowercase`): for ASCII without
/// lower-casing copies, which took an allocation for every pair compared, and the tags and
/// emails of every contact are compared so.
fn same_lowercase(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        // Beyond ASCII, lower-casing can change a length or depend on the letters around
        // (a final sigma), so it is done as the standard library does it.
        a.to_lowercase() == b.to_lowercase()
    }
}

/// The items without case-insensitive repeats, the first spelling kept: what
/// [`union_into`] builds from an empty list, for many items (the tags of every contact),
/// where comparing each with the whole list so far would cost. Only new items are copied.
pub fn union_of<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen: crate::FastSet<String> = crate::FastSet::default();
    let mut out = Vec::new();
    let mut key = String::new();
    for item in items {
        key.clear();
        if item.is_ascii() {
            key.extend(item.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            key.push_str(&item.to_lowercase());
        }
        if !seen.contains(key.as_str()) {
            seen.insert(key.clone());
            out.push(item.to_string());
        }
    }
    out
}

/// Collapses runs of white space and trims: how names are compared.
pub fn squash(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Adds one to `key`'s count; the key is copied only the first time (counts run over every
/// cell or record of an export).
pub(crate) fn bump(counts: &mut std::collections::BTreeMap<String, u64>, key: &str) {
    match counts.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            counts.insert(key.to_string(), 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_lower_cased_in_the_room_given_and_other_text_is_left_to_the_caller() {
        let mut room = [0u8; 8];
        for text in ["", "a", "MiXeD 42", "12345678"] {
            assert_eq!(
                ascii_lowercase_in(text, &mut room),
                Some(text.to_lowercase().as_str())
            );
        }
        // Too long for the room, or beyond ASCII (the Kelvin sign lower-cases to a k).
        for text in ["123456789", "\u{212A}", "é"] {
            assert_eq!(ascii_lowercase_in(text, &mut room), None, "{text}");
        }
    }

    #[test]
    fn repeats_are_told_as_lower_casing_tells_them() {
        let words = [
            "VIP", "vip", "Vip ", "vip", "K", "\u{212a}", "k", "ΟΔΟΣ", "οδοσ", "οδος", "İ", "i",
            "i\u{307}", "Straße", "STRASSE", "straße", "", "Gold",
        ];
        for a in words {
            for b in words {
                assert_eq!(
                    same_lowercase(a, b),
                    a.to_lowercase() == b.to_lowercase(),
                    "{a:?} {b:?}"
                );
            }
        }
        // The set-based union is the list-based one, from an empty list.
        let mut list = Vec::new();
        union_into(&mut list, words.iter().map(|w| w.to_string()));
        assert_eq!(union_of(words), list);
        assert_eq!(list[..3], ["VIP", "Vip ", "K"]);
    }

    #[test]
    fn trim_is_str_trim() {
        for v in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\u{a0}a",
            "a\u{3000}",
            "é",
            " é ",
            "ab",
            "a b",
            "\ta\n",
            "x\u{2028}",
            "\u{85}",
            "a\r",
        ] {
            assert_eq!(trim(v), v.trim(), "{v:?}");
        }
    }

    #[test]
    fn emails() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.com",
            "o'neil@example.ie",
            "stanisław.wójcik@wp.pl",
        ] {
            assert!(is_valid_email(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@",
            "@b.com",
            "a@b",
            "a b@c.com",
            "a@@b.com",
            "a@b..com",
            ".a@b.com",
            "a@b.c",
            "a@-b.com",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
        assert_eq!(email_key("  Ada@Example.COM "), "ada@example.com");
    }

    #[test]
    fn numbers_keep_leading_zeros_as_text() {
        assert_eq!(parse_number("1,234.50").unwrap().to_string(), "1234.5");
        assert_eq!(parse_number("-7").unwrap().to_string(), "-7");
        assert_eq!(parse_number("0").unwrap().to_string(), "0");
        assert_eq!(parse_number("0.25").unwrap().to_string(), "0.25");
        for bad in [
            "01",
            "01234",
            "1,23",
            "12a",
            "",
            "1.2.3",
            "1234567890123456",
            "200.000.000",
        ] {
            assert!(parse_number(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn lists_and_checkboxes() {
        assert_eq!(
            split_list("VIP; vip ,Golf|Newsletter\nGolf"),
            ["VIP", "Golf", "Newsletter"]
        );
        assert_eq!(parse_checkbox(" X "), Some(true));
        assert_eq!(parse_checkbox("No"), Some(false));
        assert_eq!(parse_checkbox("maybe"), None);
        for yes in ["TRUE", "Checked", " on", "\u{a0}y\u{a0}", "1"] {
            assert_eq!(parse_checkbox(yes), Some(true), "{yes:?}");
        }
        for no in ["UNCHECKED", "Off", "f", "0 "] {
            assert_eq!(parse_checkbox(no), Some(false), "{no:?}");
        }
        for neither in ["", "yés", "yes!", "10", "xx", "nope"] {
            assert_eq!(parse_checkbox(neither), None, "{neither:?}");
        }
    }
}
