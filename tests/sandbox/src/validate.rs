//! Value checks shared by the record writers.

use serde_json::Value;

/// A plausible email: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// The digits of a phone number if it only uses phone characters and has at least 4 digits.
/// Two numbers are the same when their digits are.
pub fn phone_digits(s: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
    if !s.chars().all(allowed) {
        return None;
    }
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 4).then_some(digits)
}

/// An id must be a JSON integer (strings were rejected upstream).
pub fn as_id(v: &Value) -> Option<u64> {
    v.as_u64()
}

/// The message for a bad value.
pub fn invalid(field: &str) -> String {
    format!("Invalid value for {field}.")
}

/// `tags` must be an array of strings; blanks are dropped and duplicates kept once.
pub fn parse_tags(v: &Value) -> Result<Vec<String>, String> {
    let arr = v.as_array().ok_or_else(|| invalid("tags"))?;
    let mut out: Vec<String> = Vec::new();
    for t in arr {
        let s = t.as_str().ok_or_else(|| invalid("tags"))?.trim();
        if !s.is_empty() && !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails() {
        assert!(valid_email("ada@example.com"));
        assert!(valid_email("a.b+c@sub.example.org"));
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
            "a@.com",
            "a@x..com",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(
            phone_digits("+1 (555) 010-0101").as_deref(),
            Some("15550100101")
        );
        assert_eq!(phone_digits("call me"), None);
        assert_eq!(phone_digits("12"), None);
    }

    #[test]
    fn tags() {
        assert_eq!(
            parse_tags(&json!(["a", " b ", "a", ""])),
            Ok(vec!["a".into(), "b".into()])
        );
        assert!(parse_tags(&json!("a,b")).is_err());
        assert!(parse_tags(&json!([1])).is_err());
    }
}
