//! AllClients ids as lookup keys. Nearly every id is a plain number; kept as one, a lookup
//! hashes a word and compares it in the table, where a text key sends every probe to the
//! heap for its bytes. Notes, tasks and appointments look their contact up by id once
//! each: a few hundred thousand lookups into a table of every contact.

use crate::FastMap;

/// A map from id text to `V`, the same as a map keyed by the text: AllClients ids, and
/// the digits of phone numbers, which are mostly plain numbers too.
#[derive(Debug, Clone)]
pub struct IdMap<V> {
    /// Ids written as a plain decimal number (no sign, no leading zero), by that number.
    numbers: FastMap<u64, V>,
    /// Every other id, by its text.
    texts: FastMap<Box<str>, V>,
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap {
            numbers: FastMap::default(),
            texts: FastMap::default(),
        }
    }
}

/// The number an id is the decimal text of, when that text is the number's only way of
/// being written: "42" is 42, "042", "+42" and "42.0" stay text, so two ids are the same
/// key exactly when their texts are the same.
fn number(id: &str) -> Option<u64> {
    let b = id.as_bytes();
    // 19 digits always fit in a u64.
    let canonical = matches!(b.len(), 1..=19)
        && b.iter().all(u8::is_ascii_digit)
        && (b[0] != b'0' || b.len() == 1);
    if canonical { id.parse().ok() } else { None }
}

impl<V> IdMap<V> {
    /// The value of `id`.
    pub fn get(&self, id: &str) -> Option<&V> {
        match number(id) {
            Some(n) => self.numbers.get(&n),
            None => self.texts.get(id),
        }
    }

    /// Sets the value of `id`, giving back the one it replaces.
    pub fn insert(&mut self, id: &str, value: V) -> Option<V> {
        match number(id) {
            Some(n) => self.numbers.insert(n, value),
            None => self.texts.insert(id.into(), value),
        }
    }

    /// Makes room for `n` more ids at once (as numbers, which nearly all are).
    pub fn reserve(&mut self, n: usize) {
        self.numbers.reserve(n);
    }

    /// How many ids have a value.
    pub fn len(&self) -> usize {
        self.numbers.len() + self.texts.len()
    }

    /// Whether no id has a value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn only_the_one_way_of_writing_a_number_is_kept_as_it() {
        assert_eq!(number("0"), Some(0));
        assert_eq!(number("10070"), Some(10070));
        assert_eq!(
            number("9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        for text in [
            "",
            "042",
            "00",
            "+42",
            "-1",
            "42.0",
            "4 2",
            "٤٢",
            "18446744073709551616",
            "99999999999999999999",
            "abc",
        ] {
            assert_eq!(number(text), None, "{text:?}");
        }
    }

    #[test]
    fn it_answers_as_a_map_keyed_by_the_text_does() {
        // Ids that are the same number written differently must stay apart.
        let ids = [
            "42",
            "042",
            "0042",
            "0",
            "00",
            "+42",
            "42.0",
            "C-17",
            "c-17",
            "17",
            "1",
            "18446744073709551615",
            "18446744073709551616",
            "9999999999999999999",
            "٤٢",
        ];
        let mut map = IdMap::default();
        let mut text: HashMap<&str, usize> = HashMap::new();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(map.insert(id, i), text.insert(id, i), "{id}");
        }
        // Replacing gives back what was there, in both halves.
        for (i, id) in ["42", "C-17"].iter().enumerate() {
            assert_eq!(map.insert(id, 100 + i), text.insert(id, 100 + i));
        }
        assert_eq!(map.len(), text.len());
        for probe in ids.iter().chain(&["43", "c-18", "", " 42"]) {
            assert_eq!(map.get(probe), text.get(probe), "{probe:?}");
        }
    }
}
