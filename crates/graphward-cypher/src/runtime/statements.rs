//! The statement cache: the parsed form of a query text, reused by the next `prepare` of the
//! same text, so that a client repeating a statement pays a hash lookup instead of a parse, and
//! the static checks of it run once (the [`Prepared`] copies share their hints, see
//! `graphward_core::engine::Prepared`).
//!
//! What is cached is only the parsed statement and what the engine learned of it that holds
//! whatever the parameters and whoever runs it: authorization is decided at every run on the
//! typed statement by the front door, and procedure arguments are checked at every run against
//! the parameters. Only queries are cached (never server commands or administration: their
//! text may carry passwords and secrets). Bounded by entries and by bytes of text; the least
//! recently used go first. A schema change (index or constraint created or dropped) empties it,
//! so that nothing planned against the old schema survives it.

use std::collections::HashMap;
use std::sync::Arc;

use graphward_core::engine::Prepared;

/// Most statements kept.
pub(crate) const MAX_ENTRIES: usize = 1024;
/// Most bytes of statement text kept (each entry counts its text plus [`ENTRY_OVERHEAD`]).
pub(crate) const MAX_BYTES: usize = 4 * 1024 * 1024;
/// Longer texts are not kept (a parse costs little next to running such a statement).
pub(crate) const MAX_TEXT: usize = 16 * 1024;
/// What an entry costs besides its text (the parsed tree is several times the text).
const ENTRY_OVERHEAD: usize = 256;

struct Entry {
    prepared: Prepared,
    last_used: u64,
    bytes: usize,
}

/// Least-recently-used statements by text.
#[derive(Default)]
pub(crate) struct StatementCache {
    entries: HashMap<Arc<str>, Entry>,
    bytes: usize,
    tick: u64,
}

impl StatementCache {
    /// The statement prepared earlier for `text`, if kept.
    pub(crate) fn get(&mut self, text: &str) -> Option<Prepared> {
        self.tick += 1;
        let tick = self.tick;
        let e = self.entries.get_mut(text)?;
        e.last_used = tick;
        Some(e.prepared.clone())
    }

    /// Keeps `prepared` for `text` (unless too long), evicting the least recently used
    /// entries when over a bound.
    pub(crate) fn insert(&mut self, text: &str, prepared: Prepared) {
        if text.len() > MAX_TEXT {
            return;
        }
        self.tick += 1;
        let bytes = text.len() * 8 + ENTRY_OVERHEAD;
        let entry = Entry {
            prepared,
            last_used: self.tick,
            bytes,
        };
        if let Some(old) = self.entries.insert(Arc::from(text), entry) {
            self.bytes -= old.bytes;
        }
        self.bytes += bytes;
        if self.entries.len() > MAX_ENTRIES || self.bytes > MAX_BYTES {
            self.evict();
        }
    }

    /// Drops the least recently used quarter (at least enough to be within the bounds).
    fn evict(&mut self) {
        let mut ages: Vec<(u64, Arc<str>)> = self
            .entries
            .iter()
            .map(|(k, e)| (e.last_used, k.clone()))
            .collect();
        ages.sort_unstable_by_key(|(t, _)| *t);
        let keep_entries = MAX_ENTRIES - MAX_ENTRIES / 4;
        let keep_bytes = MAX_BYTES - MAX_BYTES / 4;
        for (_, k) in ages {
            if self.entries.len() <= keep_entries && self.bytes <= keep_bytes {
                break;
            }
            if let Some(e) = self.entries.remove(&k) {
                self.bytes -= e.bytes;
            }
        }
    }

    /// Forgets everything (the schema changed).
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_entries_least_recently_used_first() {
        let mut c = StatementCache::default();
        c.insert("q0", Prepared::unparsed("q0"));
        for i in 1..=MAX_ENTRIES {
            // q0 stays in use.
            assert!(c.get("q0").is_some());
            let t = format!("q{i}");
            c.insert(&t, Prepared::unparsed(&t));
        }
        assert!(c.len() <= MAX_ENTRIES);
        assert!(c.get("q0").is_some(), "the entry in use is kept");
        assert!(c.get("q1").is_none(), "the oldest unused entry went first");
        assert!(c.get(&format!("q{MAX_ENTRIES}")).is_some());
    }

    #[test]
    fn bounded_by_bytes_and_long_texts_not_kept() {
        let mut c = StatementCache::default();
        let long = "x".repeat(MAX_TEXT + 1);
        c.insert(&long, Prepared::unparsed(&long));
        assert_eq!(c.len(), 0);
        let big = MAX_TEXT;
        for i in 0..(MAX_BYTES / (big * 8) + 10) {
            let t = format!("{i:08}{}", "y".repeat(big - 8));
            c.insert(&t, Prepared::unparsed(&t));
            assert!(c.bytes <= MAX_BYTES);
        }
        c.clear();
        assert_eq!((c.len(), c.bytes), (0, 0));
    }
}
