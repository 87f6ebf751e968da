#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)]
//! Test helpers (no extra dependencies).

use graphward_core::value::Map;
use graphward_core::Value;
use graphward_storage::{Database, SchemaDef, SchemaKind, Storage};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A temporary directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "graphward-storage-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `String` from a `&str` (the storage API takes owned names).
pub fn s(x: &str) -> String {
    x.to_string()
}

/// A property map from pairs.
pub fn props(pairs: &[(&str, Value)]) -> Map {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// A fresh in-memory storage holding one database, `neo4j`.
pub fn mem_db() -> std::sync::Arc<Database> {
    let st = Storage::open_in_memory().unwrap();
    st.create_database("neo4j").unwrap();
    st.database("neo4j").unwrap()
}

/// A schema definition of `kind` on `label` (or relationship type) over `ps`.
pub fn def(name: &str, kind: SchemaKind, label: &str, ps: &[&str]) -> SchemaDef {
    SchemaDef {
        name: s(name),
        kind,
        label: s(label),
        properties: ps.iter().map(|p| s(p)).collect(),
    }
}
