//! The session's keys and their values as JSON text, kept sorted.
//!
//! Each top-level value stays raw JSON text until a handler reads it, so
//! an untouched value costs a scan on the way in and a copy on the way
//! out, never a tree. A decoded state keeps the payload whole and indexes
//! it: keys and values are spans of it, so reading a cookie allocates the
//! index, not a string per key and value.

/// The session's top-level keys, in sorted order, and their values as JSON
/// text.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The decoded payload the spans point into; empty for a new session.
    text: String,
    /// Sorted by key; keys are unique.
    entries: Vec<Entry>,
    /// Counts the changes, so that an encoding of the state can tell
    /// whether it is still current.
    generation: u64,
}

#[derive(Debug)]
pub(super) struct Entry {
    /// The key, unescaped.
    pub(super) key: Text,
    /// The value's JSON text, as it was read or written.
    pub(super) value: Text,
}

#[derive(Debug)]
pub(super) enum Text {
    /// `text[start..end]` of the [`State`].
    Span {
        start: usize,
        end: usize,
    },
    Owned(String),
}

impl Text {
    fn is_span(&self) -> bool {
        matches!(self, Self::Span { .. })
    }
}

/// Where an [`insert`](State::insert) went, and the value it replaced.
#[derive(Debug)]
pub(crate) struct Previous {
    index: usize,
    value: Option<Text>,
}

impl State {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The state of a decoded payload: `entries` index `text`, in the
    /// order they came; duplicate keys: the last wins.
    pub(super) fn from_parts(text: String, mut entries: Vec<Entry>) -> Self {
        sort_last_wins(&text, &mut entries);
        Self {
            text,
            entries,
            generation: 0,
        }
    }

    fn resolve<'a>(&'a self, text: &'a Text) -> &'a str {
        resolve(&self.text, text)
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        let key = key.as_bytes();
        self.entries.binary_search_by(|entry| {
            let stored = match &entry.key {
                // Bytes: the span is on character boundaries already.
                Text::Span { start, end } => {
                    self.text.as_bytes().get(*start..*end).unwrap_or_default()
                }
                Text::Owned(owned) => owned.as_bytes(),
            };
            // Keys mostly differ in their first byte: compared inline,
            // that decides most steps without a call to compare the rest.
            match (stored.first(), key.first()) {
                (Some(a), Some(b)) if a != b => a.cmp(b),
                _ => stored.cmp(key),
            }
        })
    }

    /// The JSON text stored under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        let index = self.find(key).ok()?;
        self.entries
            .get(index)
            .map(|entry| self.resolve(&entry.value))
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Stores `value`, JSON text, under `key`; returns what it replaced,
    /// for [`restore`](Self::restore).
    pub(crate) fn insert(&mut self, key: String, value: String) -> Previous {
        let found = self.find(&key);
        self.put(found, key, value)
    }

    /// [`insert`](Self::insert), unless `same(stored, value)` says that
    /// the value stored under `key` is `value` already: then nothing
    /// changes, and the answer is `None`. One search for both.
    pub(crate) fn insert_changed(
        &mut self,
        key: String,
        value: String,
        same: impl FnOnce(&str, &str) -> bool,
    ) -> Option<Previous> {
        let found = self.find(&key);
        if let Ok(index) = found
            && let Some(entry) = self.entries.get(index)
            && same(self.resolve(&entry.value), &value)
        {
            return None;
        }
        Some(self.put(found, key, value))
    }

    /// Stores `value` where [`find`](Self::find) found `key`.
    fn put(&mut self, found: Result<usize, usize>, key: String, value: String) -> Previous {
        self.generation += 1;
        let value = Text::Owned(value);
        match found {
            Ok(index) => match self.entries.get_mut(index) {
                Some(entry) => Previous {
                    index,
                    value: Some(std::mem::replace(&mut entry.value, value)),
                },
                None => Previous { index, value: None },
            },
            Err(index) => {
                let key = Text::Owned(key);
                if self.entries.capacity() == 0 {
                    // A new session's first key: allocated at once, not
                    // through the growth path (about 60 instructions).
                    self.entries = Vec::with_capacity(4);
                }
                self.entries.insert(index, Entry { key, value });
                Previous { index, value: None }
            }
        }
    }

    /// Undoes the [`insert`](Self::insert) that returned `previous`, which
    /// must be the last change.
    pub(crate) fn restore(&mut self, previous: Previous) {
        self.generation += 1;
        match previous.value {
            Some(value) => {
                if let Some(entry) = self.entries.get_mut(previous.index) {
                    entry.value = value;
                }
            }
            None => {
                if previous.index < self.entries.len() {
                    self.entries.remove(previous.index);
                }
            }
        }
    }

    /// Removes `key`; whether it was there.
    pub(crate) fn remove(&mut self, key: &str) -> bool {
        match self.find(key) {
            Ok(index) => {
                self.generation += 1;
                self.entries.remove(index);
                true
            }
            Err(_) => false,
        }
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|entry| self.resolve(&entry.key))
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.generation += 1;
        self.entries.clear();
        self.text.clear();
    }

    /// Changes whenever the state does.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// About how many bytes [`write_into`](Self::write_into) writes.
    pub(super) fn len_hint(&self) -> usize {
        let owned: usize = self
            .entries
            .iter()
            .map(|entry| match (&entry.key, &entry.value) {
                (Text::Owned(key), Text::Owned(value)) => key.len() + value.len(),
                (Text::Owned(text), _) | (_, Text::Owned(text)) => text.len(),
                _ => 0,
            })
            .sum();
        self.text.len() + owned + 4 * self.entries.len() + 2
    }

    /// Writes `{"key":value,...}`, keys in sorted order, each value as the
    /// JSON text it was read or inserted as.
    pub(super) fn write_into(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let key = self.resolve(&entry.key);
            if entry.key.is_span() {
                // Read from the payload without escapes, so it has no
                // quote, backslash or control character (JSON allows them
                // only escaped): what serde_json would write.
                out.push(b'"');
                out.extend_from_slice(key.as_bytes());
                out.push(b'"');
            } else {
                // Writing to a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, key);
            }
            out.push(b':');
            out.extend_from_slice(self.resolve(&entry.value).as_bytes());
        }
        out.push(b'}');
    }
}

fn resolve<'a>(text: &'a str, t: &'a Text) -> &'a str {
    match t {
        Text::Span { start, end } => text.get(*start..*end).unwrap_or_default(),
        Text::Owned(owned) => owned,
    }
}

/// Sorts entries by key, keeping the last of equal keys (as a map filled
/// in order would). Cookies this crate wrote are sorted already.
fn sort_last_wins(text: &str, entries: &mut Vec<Entry>) {
    if entries.windows(2).all(|w| match w {
        [a, b] => resolve(text, &a.key) < resolve(text, &b.key),
        _ => true,
    }) {
        return;
    }
    // Stable: equal keys stay in the order they came.
    entries.sort_by(|a, b| resolve(text, &a.key).cmp(resolve(text, &b.key)));
    entries.dedup_by(|later, kept| {
        let same = resolve(text, &later.key) == resolve(text, &kept.key);
        if same {
            std::mem::swap(&mut later.value, &mut kept.value);
        }
        same
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_and_kept_in_byte_order() {
        // Keys that share first bytes, differ only in length, are empty,
        // or are not ASCII, inserted out of order.
        let keys = [
            "b", "", "ab", "a", "_id_", "abc", "é", "aa", "_expiry_", "z", "ä", "_",
        ];
        let mut state = State::new();
        for (n, key) in keys.iter().enumerate() {
            state.insert((*key).to_owned(), n.to_string());
        }
        let mut sorted = keys.to_vec();
        sorted.sort_unstable();
        assert_eq!(state.keys().collect::<Vec<_>>(), sorted);
        for (n, key) in keys.iter().enumerate() {
            assert_eq!(state.get(key), Some(n.to_string().as_str()), "{key:?}");
        }
        for missing in ["c", "abd", "a\0", "_i", "ê"] {
            assert_eq!(state.get(missing), None, "{missing:?}");
        }
        // A decoded state finds its keys the same way.
        let text = String::from(r#"{"aa":1,"b":2}"#);
        let entries = vec![
            Entry {
                key: Text::Span { start: 2, end: 4 },
                value: Text::Span { start: 6, end: 7 },
            },
            Entry {
                key: Text::Span { start: 9, end: 10 },
                value: Text::Span { start: 12, end: 13 },
            },
        ];
        let state = State::from_parts(text, entries);
        assert_eq!(state.get("aa"), Some("1"));
        assert_eq!(state.get("b"), Some("2"));
        assert_eq!(state.get("a"), None);
    }
}
