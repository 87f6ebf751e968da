//! `Storage` (a directory of named databases), `Database`, and the two transaction kinds.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use graphward_core::engine::DatabaseStatus;

use graphward_core::value::Map;
use graphward_core::{Error, ErrorCode, Result, Value};
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};

use crate::codec::{self, NodeData, RelData, SchemaData};
use crate::tables::{
    self, is_io_failure, st, BoxIter, Src, WTabs, KIND_KEY, KIND_LABEL, KIND_TYPE,
};
use crate::{
    Edge, ExpandDir, GraphRead, GraphWrite, IndexPage, NodeId, NodeRecord, RelId, RelRecord,
    SchemaDef, SchemaKind,
};

// ---------------------------------------------------------------------------------------------
// token cache

/// Token dictionaries (label / relationship type / property key names <-> ids).
#[derive(Debug, Default, Clone)]
pub(crate) struct TokenCache {
    names: [HashMap<String, u32>; 3],
    ids: [HashMap<u32, String>; 3],
}

impl TokenCache {
    fn id(&self, kind: u8, name: &str) -> Option<u32> {
        self.names.get(kind as usize)?.get(name).copied()
    }
    fn name(&self, kind: u8, id: u32) -> Option<&str> {
        self.ids.get(kind as usize)?.get(&id).map(String::as_str)
    }
    fn insert(&mut self, kind: u8, id: u32, name: &str) {
        if let (Some(n), Some(i)) = (
            self.names.get_mut(kind as usize),
            self.ids.get_mut(kind as usize),
        ) {
            n.insert(name.to_string(), id);
            i.insert(id, name.to_string());
        }
    }
    fn is_empty(&self) -> bool {
        self.names.iter().all(HashMap::is_empty)
    }
    fn merge(&mut self, other: &TokenCache) {
        for kind in 0..3u8 {
            if let Some(ids) = other.ids.get(kind as usize) {
                for (id, name) in ids {
                    self.insert(kind, *id, name);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// storage

/// Options for [`Storage::open_with`].
#[derive(Debug, Clone)]
pub struct StorageOptions {
    /// Verify the checksum of every page of each database file when it is opened (reads the
    /// whole file once). A file altered behind redb's back then fails to open with an error,
    /// where an unchecked open could hit the damage later. Default: true.
    pub verify_on_open: bool,
    /// redb page cache per database, in bytes. Default: 1 GiB (grows only as pages are used).
    pub cache_bytes: usize,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            verify_on_open: true,
            cache_bytes: 1 << 30,
        }
    }
}

/// Runs `f`, turning a panic (redb asserts on some malformed pages) into an `Internal` error.
pub(crate) fn no_panic<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => Err(Error::internal(format!(
            "storage failure during {what} (the database file may be damaged)"
        ))),
    }
}

/// One data directory holding many named databases (or all in memory).
pub struct Storage {
    options: StorageOptions,
    dir: Option<PathBuf>,
    dbs: RwLock<BTreeMap<String, Slot>>,
    /// Serializes create / drop.
    admin: Mutex<()>,
}

/// A database of the catalog: open, or offline (its file is missing, empty or damaged).
#[derive(Clone)]
enum Slot {
    Open(Arc<Database>),
    Offline { path: PathBuf, error: Error },
}

/// The catalog file in `<dir>/databases/`: the names of the databases, one a line. A database
/// it lists whose file is missing or empty is offline, never silently re-created empty.
const CATALOG_FILE: &str = "catalog";
const CATALOG_HEADER: &str = "# graphward database catalog v1: one database name a line";

/// The state of one database, for `SHOW DATABASES`, `/health` and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseState {
    pub name: String,
    pub status: DatabaseStatus,
    /// Why it is not online (empty when online).
    pub message: String,
    /// Storage I/O failures seen since it was opened.
    pub io_failures: u64,
}

/// What [`Storage::check_dir`] found for one database (or [`Storage::backup_to`] saved).
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub name: String,
    /// `Ok((nodes, relationships))` when the file opened and every page checksum verified.
    pub result: Result<(u64, u64)>,
}

const LOCKED: &str = "DatabaseLocked";

/// True when a database file could not be opened because another process (a running
/// server) holds it.
pub fn is_locked(e: &Error) -> bool {
    e.detail.as_deref() == Some(LOCKED)
}

fn lock_err() -> Error {
    Error::internal("storage lock poisoned")
}

/// Checks a database name (`[A-Za-z][A-Za-z0-9._-]{0,62}`) and returns it lowercased.
pub fn normalize_database_name(name: &str) -> Result<String> {
    let mut chars = name.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {
            name.len() <= 63
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
        }
        _ => false,
    };
    if !ok {
        return Err(Error::argument(format!(
            "Invalid database name `{name}`: it must start with a letter and contain only letters, digits, '.', '_' and '-' (at most 63 characters)"
        ))
        .with_detail("InvalidDatabaseName"));
    }
    Ok(name.to_ascii_lowercase())
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::internal(format!("{what} {}: {e}", path.display()))
}

/// Creates (truncating) a file only the server's user can read and write.
pub(crate) fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// Creates a directory (and its parents) only the server's user can enter.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| io_err("cannot create directory", dir, e))
}

/// Reads the catalog: `Ok(None)` when there is none yet (a data directory from before the
/// catalog existed, or a new one).
fn read_catalog(db_dir: &Path) -> Result<Option<Vec<String>>> {
    let path = db_dir.join(CATALOG_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("cannot read the database catalog", &path, e)),
    };
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = normalize_database_name(line).map_err(|_| {
            Error::internal(format!(
                "the database catalog {} lists an invalid database name `{line}`",
                path.display()
            ))
        })?;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(Some(names))
}

/// Replaces the catalog atomically (write a temporary file, fsync, rename, fsync the dir).
fn write_catalog(db_dir: &Path, names: &[String]) -> Result<()> {
    use std::io::Write;
    let path = db_dir.join(CATALOG_FILE);
    let tmp = db_dir.join(format!("{CATALOG_FILE}.tmp"));
    let mut text = String::from(CATALOG_HEADER);
    text.push('\n');
    for n in names {
        text.push_str(n);
        text.push('\n');
    }
    let write = || -> std::io::Result<()> {
        let mut f = create_private(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| io_err("cannot write the database catalog", &path, e))?;
    sync_dir(db_dir)
}

/// The `.redb` files of a directory whose stem is a valid, lowercase database name.
fn list_database_files(db_dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let entries =
        std::fs::read_dir(db_dir).map_err(|e| io_err("cannot read data directory", db_dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_err("cannot read data directory", db_dir, e))?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("redb") {
            continue;
        }
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        match normalize_database_name(stem) {
            Ok(name) if name == stem => names.push(name),
            _ => {}
        }
    }
    names.sort();
    Ok(names)
}

/// The startup check of one database file the catalog lists: it must exist and not be empty
/// (redb would silently create a fresh, empty database in its place).
fn check_file(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.len() == 0 => Err(Error::new(
            ErrorCode::DatabaseUnavailable,
            format!(
                "the database file {} is empty (zero length): restore it from a backup or drop the database",
                path.display()
            ),
        )),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::new(
            ErrorCode::DatabaseUnavailable,
            format!(
                "the database file {} is missing: restore it from a backup or drop the database",
                path.display()
            ),
        )),
        Err(e) => Err(io_err("cannot read the database file", path, e)),
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_err("cannot sync directory", dir, e))
}

impl Storage {
    /// Opens (creating if missing) a data directory and every database in it.
    pub fn open(dir: &Path) -> Result<Storage> {
        Self::open_with(dir, StorageOptions::default())
    }

    /// [`Storage::open`] with options.
    pub fn open_with(dir: &Path, options: StorageOptions) -> Result<Storage> {
        let db_dir = dir.join("databases");
        std::fs::create_dir_all(&db_dir)
            .map_err(|e| io_err("cannot create data directory", &db_dir, e))?;
        let names = match read_catalog(&db_dir)? {
            Some(names) => names,
            None => {
                // First start with the catalog: adopt the files present.
                let names = list_database_files(&db_dir)?;
                write_catalog(&db_dir, &names)?;
                names
            }
        };
        let mut dbs = BTreeMap::new();
        for name in names {
            let path = db_dir.join(format!("{name}.redb"));
            // A missing, empty or damaged database must not take the others down: it stays in
            // the catalog as offline (with the reason) and can be restored or dropped. A file
            // locked by another process fails the whole open instead: two servers on one
            // directory is a configuration error.
            let opened =
                check_file(&path).and_then(|()| Database::open_existing(&name, &path, &options));
            let slot = match opened {
                Ok(db) => Slot::Open(Arc::new(db)),
                Err(e) if e.detail.as_deref() == Some(LOCKED) => return Err(e),
                Err(error) => {
                    tracing::error!(database = %name, reason = %error.message, "database is offline: it failed its startup check");
                    Slot::Offline { path, error }
                }
            };
            dbs.insert(name, slot);
        }
        Ok(Storage {
            options,
            dir: Some(db_dir),
            dbs: RwLock::new(dbs),
            admin: Mutex::new(()),
        })
    }

    /// The startup checks, offline (the server must be stopped): every database the catalog
    /// of `dir` lists must have a non-empty file that opens and whose every page checksum
    /// verifies. Changes nothing on disk but what redb's crash recovery writes, and the
    /// migration of a file of an older storage format (1 to 4) to the current one (which
    /// opening it for use does too).
    pub fn check_dir(dir: &Path) -> Result<Vec<CheckReport>> {
        let db_dir = dir.join("databases");
        if !db_dir.is_dir() {
            return Err(Error::new(
                ErrorCode::DatabaseNotFound,
                format!(
                    "{} is not a graphward data directory (no databases/ in it)",
                    dir.display()
                ),
            ));
        }
        let names = match read_catalog(&db_dir)? {
            Some(n) => n,
            None => list_database_files(&db_dir)?,
        };
        let options = StorageOptions {
            verify_on_open: true,
            cache_bytes: 64 << 20,
        };
        let mut out = Vec::new();
        for name in names {
            let path = db_dir.join(format!("{name}.redb"));
            let result = check_file(&path)
                .and_then(|()| Database::open_existing(&name, &path, &options))
                .and_then(|db| {
                    let r = db.begin_read()?;
                    Ok((r.count_nodes(None)?, r.count_relationships()?))
                });
            out.push(CheckReport { name, result });
        }
        Ok(out)
    }

    /// A storage whose databases live in memory only (tests, the TCK).
    pub fn open_in_memory() -> Result<Storage> {
        Ok(Storage {
            options: StorageOptions::default(),
            dir: None,
            dbs: RwLock::new(BTreeMap::new()),
            admin: Mutex::new(()),
        })
    }

    pub fn create_database(&self, name: &str) -> Result<()> {
        let name = normalize_database_name(name)?;
        let _admin = self.admin.lock().map_err(|_| lock_err())?;
        if self.dbs.read().map_err(|_| lock_err())?.contains_key(&name) {
            return Err(Error::new(
                ErrorCode::DatabaseExists,
                format!("Database `{name}` already exists"),
            ));
        }
        let db = match &self.dir {
            Some(dir) => {
                let path = dir.join(format!("{name}.redb"));
                if path.exists() {
                    // A leftover file not in the catalog (a crash between creating the file and
                    // listing it, or one copied in by hand): kept aside, never reused or lost.
                    let stamp = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0);
                    let aside = dir.join(format!("{name}.redb.unlisted-{stamp}"));
                    std::fs::rename(&path, &aside).map_err(|e| {
                        io_err("cannot move aside unlisted database file", &path, e)
                    })?;
                    tracing::warn!(file = %aside.display(), "a database file the catalog did not list was moved aside");
                }
                let db = Database::open_file(&name, &path, &self.options)?;
                sync_dir(dir)?;
                let mut names = self.database_names();
                names.push(name.clone());
                write_catalog(dir, &names)?;
                db
            }
            None => Database::open_memory(&name)?,
        };
        self.dbs
            .write()
            .map_err(|_| lock_err())?
            .insert(name, Slot::Open(Arc::new(db)));
        Ok(())
    }

    pub fn drop_database(&self, name: &str) -> Result<()> {
        let key = name.to_ascii_lowercase();
        let _admin = self.admin.lock().map_err(|_| lock_err())?;
        let removed = self.dbs.write().map_err(|_| lock_err())?.remove(&key);
        let path = match removed {
            None => return Err(not_found(name)),
            Some(Slot::Open(db)) => db.path.clone(),
            Some(Slot::Offline { path, .. }) => Some(path),
        };
        if let Some(dir) = &self.dir {
            // The catalog first: a crash after it leaves a stale file that a later CREATE
            // replaces, never a listed database that came back.
            write_catalog(dir, &self.database_names())?;
        }
        if let Some(path) = &path {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("cannot delete database", path, e)),
            }
            if let Some(dir) = &self.dir {
                sync_dir(dir)?;
            }
        }
        Ok(())
    }

    pub fn database_names(&self) -> Vec<String> {
        match self.dbs.read() {
            Ok(m) => m.keys().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn database(&self, name: &str) -> Result<Arc<Database>> {
        let key = name.to_ascii_lowercase();
        match self.dbs.read().map_err(|_| lock_err())?.get(&key) {
            Some(Slot::Open(db)) => Ok(db.clone()),
            Some(Slot::Offline { error, .. }) => Err(Error::new(
                ErrorCode::DatabaseUnavailable,
                format!("Database `{key}` is offline: {}", error.message),
            )),
            None => Err(not_found(name)),
        }
    }

    /// Databases whose files could not be opened, with the reason (for the server log).
    /// They are listed by `database_names`, fail in `database`, and can be dropped.
    pub fn broken_databases(&self) -> Vec<(String, Error)> {
        match self.dbs.read() {
            Ok(m) => m
                .iter()
                .filter_map(|(k, v)| match v {
                    Slot::Offline { error, .. } => Some((k.clone(), error.clone())),
                    Slot::Open(_) => None,
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Writes a consistent snapshot of every database that is not offline into
    /// `dest/databases/` (created mode 0700; no database file may exist there yet), with a
    /// catalog listing them. Writers go on meanwhile. Returns, per database, the node and
    /// relationship counts of its snapshot, or why it was skipped (offline).
    pub fn backup_to(&self, dest: &Path) -> Result<Vec<CheckReport>> {
        let db_dir = dest.join("databases");
        create_private_dir(&db_dir)?;
        let slots: Vec<(String, Slot)> = self
            .dbs
            .read()
            .map_err(|_| lock_err())?
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut out = Vec::new();
        let mut saved = Vec::new();
        for (name, slot) in slots {
            match slot {
                Slot::Open(db) => {
                    let counts = db.backup_to(&db_dir.join(format!("{name}.redb")))?;
                    saved.push(name.clone());
                    out.push(CheckReport {
                        name,
                        result: Ok(counts),
                    });
                }
                Slot::Offline { error, .. } => out.push(CheckReport {
                    name,
                    result: Err(error),
                }),
            }
        }
        write_catalog(&db_dir, &saved)?;
        Ok(out)
    }

    /// Compacts one database: see [`Database::compact`].
    pub fn compact(&self, name: &str) -> Result<(u64, u64)> {
        self.database(name)?.compact()
    }

    /// Every database of the catalog with its state (online, degraded or offline).
    pub fn states(&self) -> Vec<DatabaseState> {
        let Ok(m) = self.dbs.read() else {
            return Vec::new();
        };
        m.iter()
            .map(|(k, v)| match v {
                Slot::Open(db) => {
                    let (status, message) = db.status();
                    DatabaseState {
                        name: k.clone(),
                        status,
                        message,
                        io_failures: db.inner.io_failures.load(Ordering::Relaxed),
                    }
                }
                Slot::Offline { error, .. } => DatabaseState {
                    name: k.clone(),
                    status: DatabaseStatus::Offline,
                    message: error.message.clone(),
                    io_failures: 0,
                },
            })
            .collect()
    }
}

/// The size of a database file in bytes (0 in memory or when it cannot be read).
fn file_len(path: Option<&Path>) -> u64 {
    path.and_then(|p| std::fs::metadata(p).ok())
        .map_or(0, |m| m.len())
}

/// Compacts a redb file: each call moves what it can, a few rounds reach the fixed point.
fn compact_rounds(db: &mut redb::Database) -> std::result::Result<(), redb::CompactionError> {
    for _ in 0..8 {
        if !db.compact()? {
            break;
        }
    }
    Ok(())
}

/// `meta["format"]` of a database file (0 for a new, empty one).
fn stored_format(db: &redb::Database) -> Result<u64> {
    let r = db.begin_read().map_err(st)?;
    let meta = match r.open_table(tables::META) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(e) => return Err(st(e)),
    };
    let v = meta.get("format").map_err(st)?.map(|g| g.value());
    Ok(v.unwrap_or(0))
}

/// The error for a database file of a storage format this build cannot read (written by a
/// newer graphward).
fn unsupported_format(name: &str, found: u64) -> Error {
    Error::new(
        ErrorCode::DatabaseUnavailable,
        format!(
            "database `{name}` has storage format {found}; this build reads formats 1 (migrated on open) to {}: open it with the graphward version that wrote it",
            tables::FORMAT_VERSION
        ),
    )
    .with_detail("UnsupportedStorageFormat")
}

fn not_found(name: &str) -> Error {
    Error::new(
        ErrorCode::DatabaseNotFound,
        format!("Database `{name}` does not exist"),
    )
}

// ---------------------------------------------------------------------------------------------
// database

/// One named graph: a redb file (or in-memory backend) plus cached token dictionaries.
pub struct Database {
    name: String,
    path: Option<PathBuf>,
    inner: Arc<DbInner>,
}

pub(crate) struct DbInner {
    /// The latest read snapshot, with the [`DbInner::generation`] it was taken at: read
    /// transactions that begin while nothing commits share it (opening a redb read
    /// transaction's tables and loading the schemas is a fifth of a short query). Declared
    /// first, so it is dropped before the handle.
    snapshot: Mutex<Option<(u64, Arc<Snapshot>)>>,
    /// Moved on after every commit and before every compaction or reopen: a snapshot of an
    /// older generation is never handed out again.
    generation: AtomicU64,
    name: String,
    /// The redb handle; `None` only for the moment it is being reopened after a failure.
    handle: RwLock<Option<redb::Database>>,
    /// Committed tokens only (a cache: misses fall back to the transaction's own tables).
    tokens: RwLock<Arc<TokenCache>>,
    /// The file and cache size, to reopen it after an I/O failure (`None` in memory).
    reopen: Option<(PathBuf, usize)>,
    health: Mutex<Health>,
    io_failures: AtomicU64,
}

/// Whether the storage of a database works.
#[derive(Debug, Clone)]
enum Health {
    Online,
    /// An I/O error (e.g. disk full) failed a read or write. Writes are refused; a recovery
    /// thread reopens the file (so reads work again) and probes with a small durable write,
    /// backing off, until one succeeds.
    Degraded {
        reason: String,
        recovering: bool,
    },
}

/// First and longest wait between recovery attempts of a degraded database.
const RECOVERY_FIRST_WAIT: Duration = Duration::from_millis(250);
const RECOVERY_MAX_WAIT: Duration = Duration::from_secs(5);
/// The table the recovery probe writes (one key, removed again at once).
const PROBE: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("health_probe");
/// How much the recovery probe writes: a write this large must succeed before a degraded
/// database takes writes again (a few bytes could fit in the last free page of a full disk,
/// and the next real write would fail again at once).
const PROBE_BYTES: usize = 1 << 20;

impl DbInner {
    /// Forgets the shared read snapshot (after a commit, before a compaction or reopen);
    /// transactions reading it keep it until they end.
    fn new_generation(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let old = self.snapshot.lock().ok().and_then(|mut s| s.take());
        drop(old);
    }

    /// The shared read snapshot, when nothing committed since it was taken.
    fn shared_snapshot(&self) -> Option<Arc<Snapshot>> {
        let g = self.generation.load(Ordering::Acquire);
        let cached = self.snapshot.lock().ok()?;
        match &*cached {
            Some((at, snap)) if *at == g => Some(snap.clone()),
            _ => None,
        }
    }

    /// Shares `snap`, taken at generation `at`, unless something committed since.
    fn share_snapshot(&self, at: u64, snap: &Arc<Snapshot>) {
        if let Ok(mut cached) = self.snapshot.lock() {
            if self.generation.load(Ordering::Acquire) == at {
                *cached = Some((at, snap.clone()));
            }
        }
    }

    /// Runs `f` on the redb handle.
    fn with_db<T>(&self, f: impl FnOnce(&redb::Database) -> Result<T>) -> Result<T> {
        let guard = self.handle.read().map_err(|_| lock_err())?;
        match guard.as_ref() {
            Some(db) => f(db),
            None => Err(Error::new(
                ErrorCode::DatabaseUnavailable,
                format!(
                    "Database `{}` is being reopened after a storage failure; retry shortly",
                    self.name
                ),
            )),
        }
    }

    /// Passes `e` through, first noting a storage I/O failure (degrades the database).
    fn note(self: &Arc<Self>, e: Error) -> Error {
        if is_io_failure(&e) {
            self.fail(&e.message);
        }
        e
    }

    fn fail(self: &Arc<Self>, reason: &str) {
        self.io_failures.fetch_add(1, Ordering::Relaxed);
        let Ok(mut h) = self.health.lock() else {
            return;
        };
        let start = match &*h {
            Health::Online => {
                tracing::error!(
                    database = %self.name,
                    reason = %reason,
                    "storage failed: database degraded (writes refused until it recovers by itself)"
                );
                true
            }
            Health::Degraded { recovering, .. } => !recovering,
        };
        if start {
            let recovering = self.reopen.is_some();
            *h = Health::Degraded {
                reason: reason.to_string(),
                recovering,
            };
            if recovering {
                let weak = Arc::downgrade(self);
                let spawned = std::thread::Builder::new()
                    .name(format!("recover-{}", self.name))
                    .spawn(move || recover(weak));
                if spawned.is_err() {
                    *h = Health::Degraded {
                        reason: reason.to_string(),
                        recovering: false,
                    };
                }
            }
        }
    }

    fn check_writable(&self) -> Result<()> {
        match &*self.health.lock().map_err(|_| lock_err())? {
            Health::Online => Ok(()),
            Health::Degraded { reason, .. } => Err(Error::new(
                ErrorCode::DatabaseUnavailable,
                format!(
                    "Database `{}` is degraded after a storage failure ({reason}); writes are refused until it recovers",
                    self.name
                ),
            )),
        }
    }

    /// Closes the failed handle and opens the file again (redb recovers the last commit).
    fn reopen_handle(&self) -> Result<()> {
        let Some((path, cache)) = &self.reopen else {
            return Err(Error::internal("an in-memory database cannot be reopened"));
        };
        let mut h = self.handle.write().map_err(|_| lock_err())?;
        self.new_generation();
        if let Some(old) = h.take() {
            // Fails (and defers) while a write transaction is still alive; the open below
            // then fails too and the next attempt retries.
            let _ = old.close();
        }
        let db = no_panic("reopen", || {
            redb::Builder::new()
                .set_cache_size(*cache)
                .open(path)
                .map_err(st)
        })?;
        *h = Some(db);
        Ok(())
    }

    /// One recovery attempt: reopen, then a small durable write proves writes work again.
    fn try_recover(&self) -> Result<()> {
        self.reopen_handle()?;
        let probe = self.with_db(|db| {
            no_panic("recovery probe", || {
                let blob = vec![0u8; PROBE_BYTES];
                for write in [true, false] {
                    let mut w = db.begin_write().map_err(st)?;
                    w.set_durability(redb::Durability::Immediate).map_err(st)?;
                    w.set_quick_repair(true);
                    {
                        let mut t = w.open_table(PROBE).map_err(st)?;
                        if write {
                            t.insert("space", blob.as_slice()).map_err(st)?;
                        } else {
                            t.remove("space").map_err(st)?;
                        }
                    }
                    w.commit().map_err(st)?;
                }
                Ok(())
            })
        });
        if let Err(e) = probe {
            // Reopen again so reads keep working while writes cannot.
            let _ = self.reopen_handle();
            return Err(e);
        }
        Ok(())
    }
}

/// The recovery loop of a degraded database (its own thread; ends when the database is
/// dropped or recovered).
fn recover(weak: Weak<DbInner>) {
    let mut wait = RECOVERY_FIRST_WAIT;
    let started = Instant::now();
    let mut attempts = 0u64;
    loop {
        let Some(inner) = weak.upgrade() else {
            return;
        };
        attempts += 1;
        match inner.try_recover() {
            Ok(()) => {
                if let Ok(mut h) = inner.health.lock() {
                    *h = Health::Online;
                }
                tracing::warn!(
                    database = %inner.name,
                    attempts,
                    after_seconds = started.elapsed().as_secs(),
                    "storage recovered: database online again"
                );
                return;
            }
            Err(e) => {
                tracing::debug!(database = %inner.name, error = %e.message, "storage recovery attempt failed; retrying");
            }
        }
        drop(inner);
        std::thread::sleep(wait);
        wait = (wait * 2).min(RECOVERY_MAX_WAIT);
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish()
    }
}

impl Database {
    /// Creates a new database file (or opens one).
    fn open_file(name: &str, path: &Path, options: &StorageOptions) -> Result<Database> {
        Self::open_path(name, path, options, true)
    }

    /// Opens an existing database file (never creates one).
    fn open_existing(name: &str, path: &Path, options: &StorageOptions) -> Result<Database> {
        Self::open_path(name, path, options, false)
    }

    fn open_path(
        name: &str,
        path: &Path,
        options: &StorageOptions,
        create: bool,
    ) -> Result<Database> {
        no_panic("open", || {
            let mut b = redb::Builder::new();
            b.set_cache_size(options.cache_bytes)
                .set_check_integrity_on_open(options.verify_on_open);
            let opened = if create { b.create(path) } else { b.open(path) };
            let db = opened.map_err(|e| {
                let locked = matches!(
                    e,
                    redb::DatabaseError::DatabaseAlreadyOpen
                        | redb::DatabaseError::LockProtocolMismatch
                );
                let err =
                    Error::internal(format!("cannot open database file {}: {e}", path.display()));
                if locked {
                    err.with_detail(LOCKED)
                } else {
                    err
                }
            })?;
            Self::init(
                name,
                Some(path.to_path_buf()),
                db,
                Some((path.to_path_buf(), options.cache_bytes)),
            )
        })
    }

    fn open_memory(name: &str) -> Result<Database> {
        let db = redb::Builder::new()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(st)?;
        Self::init(name, None, db, None)
    }

    fn init(
        name: &str,
        path: Option<PathBuf>,
        mut db: redb::Database,
        reopen: Option<(PathBuf, usize)>,
    ) -> Result<Database> {
        // Check the format (migrating an older one first, in bounded transactions) and create
        // every table (so read transactions can open them).
        let mut fmt = stored_format(&db)?;
        let migrated = !matches!(fmt, 0 | tables::FORMAT_VERSION);
        // Each migration ends at a later format (a format 1 file straight at the current
        // one), so this runs at most three.
        for _ in 0..3 {
            match fmt {
                // A new file, or a current one.
                0 | tables::FORMAT_VERSION => break,
                1 | crate::migrate::FORMAT_MIGRATING_FROM_1 => {
                    crate::migrate::v1_to_v2(&db, name, fmt, crate::migrate::BATCH, None)?;
                }
                // An adjacency chunk per (node, type): rebuilt in the format 5 layout.
                2..=4 | crate::migrate::FORMAT_MIGRATING_TO_5 => {
                    crate::migrate::v4_to_v5(&db, name, fmt, crate::migrate::BATCH, None)?;
                }
                // A node table entry per node: moved into blocks.
                5 | crate::migrate::FORMAT_MIGRATING_TO_6 => {
                    crate::migrate::v5_to_v6(&db, name, fmt, crate::migrate::BATCH, None)?;
                }
                other => return Err(unsupported_format(name, other)),
            }
            fmt = stored_format(&db)?;
        }
        let wtxn = db.begin_write().map_err(st)?;
        {
            if !matches!(fmt, 0 | tables::FORMAT_VERSION) {
                return Err(unsupported_format(name, fmt));
            }
            let mut t = tables::open_write(&wtxn)?;
            if fmt != tables::FORMAT_VERSION {
                t.meta
                    .insert("format", tables::FORMAT_VERSION)
                    .map_err(st)?;
            }
            if !type_counts_current(&t)? {
                recount_types(&mut t, name)?;
            }
        }
        wtxn.commit().map_err(st)?;
        if migrated {
            // The old tables' pages are free now (half the file after a rebuild): give them
            // back to the file system before anyone opens a transaction.
            // A failure leaves the file as it is (the free pages are reused by later writes).
            let before = file_len(path.as_deref());
            match compact_rounds(&mut db) {
                Ok(()) => {
                    tracing::warn!(database = %name, bytes_before = before, bytes_after = file_len(path.as_deref()), "database file compacted after its storage format migration");
                }
                Err(e) => {
                    tracing::warn!(database = %name, error = %e, "the database file could not be compacted after its storage format migration; its free pages stay in the file (COMPACT DATABASE gives them back later)");
                }
            }
        }
        // Load the token dictionaries.
        let rtxn = db.begin_read().map_err(st)?;
        let t = tables::open_read(&rtxn)?;
        let mut cache = TokenCache::default();
        for e in t.token_names.range::<(u8, u32)>(..).map_err(st)? {
            let (k, v) = e.map_err(st)?;
            let (kind, id) = k.value();
            cache.insert(kind, id, v.value());
        }
        drop(t);
        drop(rtxn);
        Ok(Database {
            name: name.to_string(),
            path,
            inner: Arc::new(DbInner {
                snapshot: Mutex::new(None),
                generation: AtomicU64::new(0),
                name: name.to_string(),
                handle: RwLock::new(Some(db)),
                tokens: RwLock::new(Arc::new(cache)),
                reopen,
                health: Mutex::new(Health::Online),
                io_failures: AtomicU64::new(0),
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The size of the database file in bytes (`None` in memory or when it cannot be read).
    pub fn file_size(&self) -> Option<u64> {
        let path = self.path.as_ref()?;
        std::fs::metadata(path).ok().map(|m| m.len())
    }

    /// Online, or degraded with the reason.
    pub fn status(&self) -> (DatabaseStatus, String) {
        match self.inner.health.lock().as_deref() {
            Ok(Health::Online) => (DatabaseStatus::Online, String::new()),
            Ok(Health::Degraded { reason, .. }) => (
                DatabaseStatus::Degraded,
                format!("storage failed: {reason}; reads only until it recovers by itself"),
            ),
            Err(_) => (DatabaseStatus::Degraded, "storage lock poisoned".into()),
        }
    }

    fn token_snapshot(&self) -> Result<Arc<TokenCache>> {
        Ok(self.inner.tokens.read().map_err(|_| lock_err())?.clone())
    }

    /// Writes a consistent copy of this database, as of one committed snapshot, to the new
    /// file `dest` (mode 0600; it must not exist): every table is copied from a read
    /// transaction into a fresh redb file, so writers go on meanwhile and the copy is compact.
    /// Returns the node and relationship counts of the snapshot.
    pub fn backup_to(&self, dest: &Path) -> Result<(u64, u64)> {
        let rtxn = self.inner.with_db(|db| db.begin_read().map_err(st))?;
        no_panic("backup", || {
            // Create it empty with its mode first (refusing to overwrite); redb fills it.
            {
                let mut o = std::fs::OpenOptions::new();
                o.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    o.mode(0o600);
                }
                o.open(dest)
                    .map_err(|e| io_err("cannot create backup file", dest, e))?;
            }
            let out = redb::Builder::new().create(dest).map_err(st)?;
            let mut w = out.begin_write().map_err(st)?;
            w.set_durability(redb::Durability::Immediate).map_err(st)?;
            tables::copy_all(&rtxn, &w)?;
            w.commit().map_err(st)?;
            let counts = {
                let r = out.begin_read().map_err(st)?;
                let t = tables::open_read(&r)?;
                (t.meta_get("node_count")?, t.meta_get("rel_count")?)
            };
            out.close().map_err(st)?;
            Ok(counts)
        })
        .map_err(|e| self.inner.note(e))
    }

    /// Compacts the database file (gives free pages back to the file system). Waits for no
    /// one: fails with `DatabaseUnavailable` while a transaction is open on the database, so
    /// run it when the database is quiet. New transactions wait while it runs. Returns the
    /// file size before and after, in bytes (0 in memory).
    pub fn compact(&self) -> Result<(u64, u64)> {
        let before = file_len(self.path.as_deref());
        {
            let mut h = self.inner.handle.write().map_err(|_| lock_err())?;
            self.inner.new_generation();
            let Some(db) = h.as_mut() else {
                return Err(Error::new(
                    ErrorCode::DatabaseUnavailable,
                    format!("Database `{}` is being reopened; retry shortly", self.name),
                ));
            };
            no_panic("compact", || {
                compact_rounds(db).map_err(|e| match e {
                    redb::CompactionError::TransactionInProgress
                    | redb::CompactionError::PersistentSavepointExists
                    | redb::CompactionError::EphemeralSavepointExists => Error::new(
                        ErrorCode::DatabaseUnavailable,
                        format!(
                            "cannot compact `{}` while transactions are open on it: {e}; retry when it is quiet",
                            self.name
                        ),
                    ),
                    other => st(other),
                })
            })
            .map_err(|e| self.inner.note(e))?;
        }
        Ok((before, file_len(self.path.as_deref())))
    }

    /// A snapshot read transaction.
    pub fn begin_read(&self) -> Result<ReadTxn> {
        no_panic("begin_read", || self.begin_read_inner()).map_err(|e| self.inner.note(e))
    }

    /// A read transaction, unless the database file is being compacted or reopened right now
    /// (`None`: `begin_read` would wait for that). For callers that must not block.
    pub fn try_begin_read(&self) -> Result<Option<ReadTxn>> {
        if let Some(snap) = self.inner.shared_snapshot() {
            return self.read_txn(snap).map(Some);
        }
        let at = self.inner.generation.load(Ordering::Acquire);
        let txn = {
            let guard = match self.inner.handle.try_read() {
                Ok(g) => g,
                Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
                Err(std::sync::TryLockError::Poisoned(_)) => return Err(lock_err()),
            };
            match guard.as_ref() {
                Some(db) => no_panic("begin_read", || db.begin_read().map_err(st))
                    .map_err(|e| self.inner.note(e))?,
                None => return Ok(None),
            }
        };
        no_panic("begin_read", || self.read_from(txn, at))
            .map(Some)
            .map_err(|e| self.inner.note(e))
    }

    fn begin_read_inner(&self) -> Result<ReadTxn> {
        if let Some(snap) = self.inner.shared_snapshot() {
            return self.read_txn(snap);
        }
        let at = self.inner.generation.load(Ordering::Acquire);
        let txn = self.inner.with_db(|db| db.begin_read().map_err(st))?;
        self.read_from(txn, at)
    }

    /// A read transaction on a new snapshot, shared with the ones that begin after it
    /// until the next commit (`at`: the generation read before the redb transaction began).
    fn read_from(&self, txn: redb::ReadTransaction, at: u64) -> Result<ReadTxn> {
        let tabs = tables::open_read(&txn)?;
        let schemas = tabs.load_schemas()?;
        let snap = Arc::new(Snapshot {
            tabs,
            schemas,
            _txn: txn,
        });
        self.inner.share_snapshot(at, &snap);
        self.read_txn(snap)
    }

    fn read_txn(&self, snap: Arc<Snapshot>) -> Result<ReadTxn> {
        Ok(ReadTxn {
            snap,
            tokens: self.token_snapshot()?,
            _db: self.inner.clone(),
        })
    }

    /// The write transaction (blocks while another one is open, including one held by the
    /// calling thread: never open two in one thread).
    pub fn begin_write(&self) -> Result<WriteTxn> {
        self.inner.check_writable()?;
        no_panic("begin_write", || {
            let txn = self.inner.with_db(|db| db.begin_write().map_err(st))?;
            self.wrap_write(txn)
        })
        .map_err(|e| self.inner.note(e))
    }

    /// Like [`Database::begin_write`] but returns `Ok(None)` instead of waiting when another
    /// write transaction is open.
    pub fn try_begin_write(&self) -> Result<Option<WriteTxn>> {
        self.inner.check_writable()?;
        let txn = self.inner.with_db(|db| match db.try_begin_write() {
            Ok(txn) => Ok(Some(txn)),
            Err(redb::TransactionError::WouldBlock) => Ok(None),
            Err(e) => Err(st(e)),
        });
        match txn {
            Ok(Some(txn)) => no_panic("begin_write", || self.wrap_write(txn))
                .map(Some)
                .map_err(|e| self.inner.note(e)),
            Ok(None) => Ok(None),
            Err(e) => Err(self.inner.note(e)),
        }
    }

    fn wrap_write(&self, mut txn: redb::WriteTransaction) -> Result<WriteTxn> {
        txn.set_durability(redb::Durability::Immediate)
            .map_err(st)?;
        // Saves the allocator state with each commit and commits in two phases: recovery after
        // a crash is then immediate and does not rely on checksums alone to pick the valid
        // commit slot. Measured cost on the load benchmark: within noise.
        txn.set_quick_repair(true);
        let tokens = self.token_snapshot()?;
        let cell = TxnCell::try_new(txn, |txn| WriteState::open(txn, self.inner.clone(), tokens))?;
        Ok(WriteTxn(cell))
    }
}

impl<'t> WriteState<'t> {
    /// Opens the tables of `txn` and loads the counters and schemas.
    fn open(
        txn: &'t redb::WriteTransaction,
        inner: Arc<DbInner>,
        tokens: Arc<TokenCache>,
    ) -> Result<WriteState<'t>> {
        let tabs = tables::open_write(txn)?;
        let type_counts_valid = type_counts_current(&tabs)?;
        Ok(WriteState {
            type_counts: HashMap::new(),
            type_counts_valid,
            counters: Counters::load(&tabs)?,
            schemas: tabs.load_schemas()?,
            tabs: Some(tabs),
            inner,
            tokens,
            local: TokenCache::default(),
            label_counts: HashMap::new(),
            buf: Vec::with_capacity(256),
            bbuf: Vec::with_capacity(codec::BLOCK_BYTES),
            idx: IndexWrites::default(),
            recent: RefCell::new(VecDeque::with_capacity(RECENT_CAP)),
            poisoned: false,
            dirty: false,
            touched: BTreeSet::new(),
            touched_rels: BTreeSet::new(),
            rels_added: 0,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// shared read logic

/// The meta key counting commits that wrote something: a transaction compares the value of
/// its snapshot with the one its write transaction sees to know whether anything committed
/// in between.
const COMMIT_SEQ_KEY: &str = "commit_seq";

/// The meta key saying the per-type relationship counts (`type_count/<type id>`) are current:
/// it holds `commit_seq + 1` of the last commit that moved them. A commit by a build that does
/// not keep them (or a migration) moves `commit_seq` only, so they are recounted on the next
/// open ([`recount_types`]); absent (read as 0) means never counted.
const TYPE_COUNTS_AT: &str = "type_counts_at";

/// The prefix of the per-type count keys in `meta` (`type_count/<type id>`).
const TYPE_COUNT_PREFIX: &str = "type_count/";

fn type_count_key(t: u32) -> String {
    format!("{TYPE_COUNT_PREFIX}{t}")
}

/// Whether the per-type counts are current (see [`TYPE_COUNTS_AT`]).
fn type_counts_current(t: &impl Src) -> Result<bool> {
    Ok(t.meta_get(TYPE_COUNTS_AT)? == t.meta_get(COMMIT_SEQ_KEY)?.wrapping_add(1))
}

/// Relationships per type, counted from the outgoing adjacency (chunks and delta).
fn count_types(t: &impl Src) -> Result<HashMap<u32, u64>> {
    let mut counts: HashMap<u32, u64> = HashMap::new();
    for e in t.tabs().out.range::<(u64, u32, u64)>(..).map_err(st)? {
        let (_, v) = e.map_err(st)?;
        for edge in codec::AdjReader::new(v.value()) {
            let (_, ty, _, _) = edge?;
            *counts.entry(ty).or_default() += 1;
        }
    }
    for e in t
        .tabs()
        .out_delta
        .range::<(u64, u32, u64)>(..)
        .map_err(st)?
    {
        let (k, _) = e.map_err(st)?;
        *counts.entry(k.value().1).or_default() += 1;
    }
    Ok(counts)
}

/// Counts every type's relationships again and marks the counts current (on open, when a
/// commit did not move them: a new file, a migrated one, or one an older build wrote to).
fn recount_types(t: &mut WTabs<'_>, name: &str) -> Result<()> {
    let counts = count_types(t)?;
    let stale: Vec<String> = t
        .meta
        // The prefix followed by anything: '0' is the character after '/'.
        .range::<&str>(TYPE_COUNT_PREFIX.."type_count0")
        .map_err(st)?
        .map(|e| e.map(|(k, _)| k.value().to_string()).map_err(st))
        .collect::<Result<_>>()?;
    for k in stale {
        t.meta.remove(k.as_str()).map_err(st)?;
    }
    let total: u64 = counts.values().sum();
    for (ty, c) in counts {
        t.meta.insert(type_count_key(ty).as_str(), c).map_err(st)?;
    }
    let seq = t.meta_get(COMMIT_SEQ_KEY)?;
    t.meta
        .insert(TYPE_COUNTS_AT, seq.wrapping_add(1))
        .map_err(st)?;
    if total > 0 {
        tracing::info!(database = %name, relationships = total, "relationship counts per type taken");
    }
    Ok(())
}

/// Relationships of type `name` (0 for a type never used): the kept count when it is
/// current, else counted from the adjacency.
fn read_type_count<C: Ctx>(c: &C, name: &str) -> Result<u64> {
    let Some(t) = c.token_id(KIND_TYPE, name)? else {
        return Ok(0);
    };
    match c.type_count(t)? {
        Some(n) => Ok(n),
        None => Ok(count_types(c.src()?)?.get(&t).copied().unwrap_or(0)),
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    next_node: u64,
    next_rel: u64,
    next_token: [u32; 3],
    next_schema: u32,
    node_count: u64,
    rel_count: u64,
    /// How many transactions that wrote something have committed (the key is absent, read
    /// as 0, in files written before it existed).
    commit_seq: u64,
}

const TOKEN_COUNTER_KEYS: [&str; 3] = ["next_label", "next_type", "next_key"];

impl Counters {
    fn load(t: &impl Src) -> Result<Counters> {
        let u32_of = |k: &str| -> Result<u32> {
            u32::try_from(t.meta_get(k)?).map_err(|_| codec::corrupt("counter out of range"))
        };
        Ok(Counters {
            next_node: t.meta_get("next_node")?,
            next_rel: t.meta_get("next_rel")?,
            next_token: [
                u32_of(TOKEN_COUNTER_KEYS[0])?,
                u32_of(TOKEN_COUNTER_KEYS[1])?,
                u32_of(TOKEN_COUNTER_KEYS[2])?,
            ],
            next_schema: u32_of("next_schema")?,
            node_count: t.meta_get("node_count")?,
            rel_count: t.meta_get("rel_count")?,
            commit_seq: t.meta_get(COMMIT_SEQ_KEY)?,
        })
    }

    fn store(&self, t: &mut WTabs<'_>) -> Result<()> {
        let m = &mut t.meta;
        m.insert("next_node", self.next_node).map_err(st)?;
        m.insert("next_rel", self.next_rel).map_err(st)?;
        for (k, v) in TOKEN_COUNTER_KEYS.iter().zip(self.next_token) {
            m.insert(*k, u64::from(v)).map_err(st)?;
        }
        m.insert("next_schema", u64::from(self.next_schema))
            .map_err(st)?;
        m.insert("node_count", self.node_count).map_err(st)?;
        m.insert("rel_count", self.rel_count).map_err(st)?;
        m.insert(COMMIT_SEQ_KEY, self.commit_seq).map_err(st)?;
        Ok(())
    }
}

/// What both transaction kinds provide to the shared read code.
trait Ctx {
    type S<'a>: Src
    where
        Self: 'a;
    fn src(&self) -> Result<&Self::S<'_>>;
    fn cache(&self) -> &TokenCache;
    fn local(&self) -> Option<&TokenCache>;
    fn schemas(&self) -> &[SchemaData];
    /// Remembers ids that certainly exist right now (a write txn uses this to skip
    /// re-checking endpoints in `create_relationship`).
    fn note_existing(&self, _ids: &[u64]) {}
    fn count(&self, label: Option<u32>) -> Result<u64>;
    fn rel_count(&self) -> Result<u64>;
    /// Relationships of type `t` from the kept counts (`None` when they are not current:
    /// see [`TYPE_COUNTS_AT`]).
    fn type_count(&self, t: u32) -> Result<Option<u64>>;
    /// Entries of index `schema`.
    fn index_count(&self, schema: u32) -> Result<u64> {
        self.src()?.index_count_stored(schema)
    }

    fn token_id(&self, kind: u8, name: &str) -> Result<Option<u32>> {
        if let Some(id) = self.cache().id(kind, name) {
            return Ok(Some(id));
        }
        if let Some(id) = self.local().and_then(|l| l.id(kind, name)) {
            return Ok(Some(id));
        }
        self.src()?.token_id_stored(kind, name)
    }

    fn token_name(&self, kind: u8, id: u32) -> Result<String> {
        if let Some(n) = self.cache().name(kind, id) {
            return Ok(n.to_string());
        }
        if let Some(n) = self.local().and_then(|l| l.name(kind, id)) {
            return Ok(n.to_string());
        }
        self.src()?
            .token_name_stored(kind, id)?
            .ok_or_else(|| codec::corrupt(&format!("unknown token {kind}:{id}")))
    }

    fn props_to_map(&self, props: Vec<(u32, Value)>) -> Result<Map> {
        let mut m = Map::new();
        for (k, v) in props {
            m.insert(self.token_name(KIND_KEY, k)?, v);
        }
        Ok(m)
    }
}

fn read_node<C: Ctx>(c: &C, id: NodeId) -> Result<Option<NodeRecord>> {
    let Some(d) = c.src()?.node_data(id)? else {
        return Ok(None);
    };
    let mut labels = Vec::with_capacity(d.labels.len());
    for l in &d.labels {
        labels.push(c.token_name(KIND_LABEL, *l)?);
    }
    Ok(Some(NodeRecord {
        id,
        labels,
        properties: c.props_to_map(d.props)?,
    }))
}

fn read_rel<C: Ctx>(c: &C, id: RelId) -> Result<Option<RelRecord>> {
    let Some(d) = c.src()?.rel_data(id)? else {
        return Ok(None);
    };
    Ok(Some(RelRecord {
        id,
        src: d.src,
        dst: d.dst,
        rel_type: c.token_name(KIND_TYPE, d.rel_type)?,
        properties: c.props_to_map(d.props)?,
    }))
}

fn read_nodes_with_label<C: Ctx>(c: &C, label: &str) -> Result<Vec<NodeId>> {
    match c.token_id(KIND_LABEL, label)? {
        Some(l) => c.src()?.label_node_ids(l),
        None => Ok(Vec::new()),
    }
}

fn read_expand<C: Ctx>(c: &C, node: NodeId, dir: ExpandDir, types: &[String]) -> Result<Vec<Edge>> {
    let ids = type_ids(c, types)?;
    if ids.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    c.src()?.expand_ids(node, dir, ids.as_deref())
}

/// Resolves a type filter: `Ok(None)` = any type, `Ok(Some(empty))` = nothing can match.
fn type_ids<C: Ctx>(c: &C, types: &[String]) -> Result<Option<Vec<u32>>> {
    if types.is_empty() {
        return Ok(None);
    }
    let mut ids = Vec::with_capacity(types.len());
    for t in types {
        if let Some(id) = c.token_id(KIND_TYPE, t)? {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(Some(ids))
}

fn read_degree<C: Ctx>(c: &C, node: NodeId, dir: ExpandDir, types: &[String]) -> Result<u64> {
    let ids = type_ids(c, types)?;
    if ids.as_ref().is_some_and(Vec::is_empty) {
        return Ok(0);
    }
    let ids = ids.as_deref();
    let s = c.src()?;
    Ok(match dir {
        ExpandDir::Outgoing => s.degree_dir(node, true, ids, false)?,
        ExpandDir::Incoming => s.degree_dir(node, false, ids, false)?,
        ExpandDir::Both => {
            s.degree_dir(node, true, ids, false)? + s.degree_dir(node, false, ids, true)?
        }
    })
}

fn read_index_seek<C: Ctx>(
    c: &C,
    label: &str,
    properties: &[String],
    values: &[Value],
) -> Result<Option<Vec<NodeId>>> {
    let out = seek_schema(c, false, label, properties, values)?;
    if let Some(ids) = &out {
        c.note_existing(ids);
    }
    Ok(out)
}

/// Relationships of `rel_type` whose properties equal `values`, through a relationship index
/// (or uniqueness or key constraint) on exactly `(rel_type, properties)`.
fn read_rel_index_seek<C: Ctx>(
    c: &C,
    rel_type: &str,
    properties: &[String],
    values: &[Value],
) -> Result<Option<Vec<RelId>>> {
    seek_schema(c, true, rel_type, properties, values)
}

/// The ids with `values` in the index (or uniqueness or key constraint) on exactly
/// `(label, properties)`: nodes, or relationships when `rel` (`label` is then a type).
/// `Ok(None)` if there is no such index.
fn seek_schema<C: Ctx>(
    c: &C,
    rel: bool,
    label: &str,
    properties: &[String],
    values: &[Value],
) -> Result<Option<Vec<u64>>> {
    let Some(lid) = c.token_id(if rel { KIND_TYPE } else { KIND_LABEL }, label)? else {
        return Ok(None);
    };
    let mut keys = Vec::with_capacity(properties.len());
    for p in properties {
        match c.token_id(KIND_KEY, p)? {
            Some(k) => keys.push(k),
            None => return Ok(None),
        }
    }
    let Some(schema) = c
        .schemas()
        .iter()
        .find(|s| s.rel == rel && s.indexed() && s.label == lid && s.keys == keys)
    else {
        return Ok(None);
    };
    if values.len() != keys.len() {
        return Err(Error::argument(format!(
            "index seek on {} properties with {} values",
            keys.len(),
            values.len()
        )));
    }
    if !values.iter().all(codec::seekable) {
        return Ok(Some(Vec::new()));
    }
    let mut key = Vec::new();
    for v in values {
        codec::encode_index_value(&mut key, v);
    }
    let mut out = Vec::new();
    c.src()?.index_nodes(schema.id, &key, &mut out)?;
    Ok(Some(out))
}

/// The single-property schema on `(label, property)`, if any.
fn single_schema<C: Ctx>(c: &C, label: &str, property: &str) -> Result<Option<u32>> {
    let Some(lid) = c.token_id(KIND_LABEL, label)? else {
        return Ok(None);
    };
    let Some(key) = c.token_id(KIND_KEY, property)? else {
        return Ok(None);
    };
    Ok(c.schemas()
        .iter()
        .find(|s| {
            s.node_indexed() && s.label == lid && s.keys.len() == 1 && s.keys.first() == Some(&key)
        })
        .map(|s| s.id))
}

#[derive(PartialEq)]
enum Family {
    Number,
    String,
}

fn family(v: &Value) -> Option<Family> {
    match v {
        Value::Int(_) | Value::Float(_) => Some(Family::Number),
        Value::String(_) => Some(Family::String),
        _ => None,
    }
}

/// 2^63 as f64.
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

/// Smallest integer satisfying the lower bound (`None`: no integer does).
fn lower_int(b: Bound<&Value>) -> Option<i64> {
    match b {
        Bound::Unbounded => Some(i64::MIN),
        Bound::Included(Value::Int(i)) => Some(*i),
        Bound::Excluded(Value::Int(i)) => i.checked_add(1),
        Bound::Included(Value::Float(f)) | Bound::Excluded(Value::Float(f)) => {
            let excl = matches!(b, Bound::Excluded(_));
            let c = if excl && f.fract() == 0.0 {
                f + 1.0
            } else {
                f.ceil()
            };
            if c >= TWO_63 {
                None
            } else if c < -TWO_63 {
                Some(i64::MIN)
            } else {
                Some(c as i64)
            }
        }
        _ => None,
    }
}

/// Largest integer satisfying the upper bound (`None`: no integer does).
fn upper_int(b: Bound<&Value>) -> Option<i64> {
    match b {
        Bound::Unbounded => Some(i64::MAX),
        Bound::Included(Value::Int(i)) => Some(*i),
        Bound::Excluded(Value::Int(i)) => i.checked_sub(1),
        Bound::Included(Value::Float(f)) | Bound::Excluded(Value::Float(f)) => {
            let excl = matches!(b, Bound::Excluded(_));
            let c = if excl && f.fract() == 0.0 {
                f - 1.0
            } else {
                f.floor()
            };
            if c < -TWO_63 {
                None
            } else if c >= TWO_63 {
                Some(i64::MAX)
            } else {
                Some(c as i64)
            }
        }
        _ => None,
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => f64::NAN,
    }
}

fn key_with(prefix: &[u8], body: &[u8], node: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + body.len() + 10);
    k.extend_from_slice(prefix);
    k.extend_from_slice(body);
    codec::put_key_node(&mut k, node);
    k
}

/// The kind of values a pair of range bounds selects (see [`range_family`]).
enum RangeKind {
    /// A bound of a type no index range reads: the caller filters.
    Unsupported,
    /// Nothing (bounds of different families, or NaN).
    Empty,
    /// No bound at all.
    Whole,
    Of(Family),
}

fn range_family(lower: Bound<&Value>, upper: Bound<&Value>) -> RangeKind {
    let fam_of = |b: Bound<&Value>| -> Option<Option<Family>> {
        match b {
            Bound::Unbounded => Some(None),
            Bound::Included(v) | Bound::Excluded(v) => family(v).map(Some),
        }
    };
    let (Some(fl), Some(fu)) = (fam_of(lower), fam_of(upper)) else {
        return RangeKind::Unsupported;
    };
    let is_nan = |b: Bound<&Value>| matches!(b, Bound::Included(Value::Float(f)) | Bound::Excluded(Value::Float(f)) if f.is_nan());
    match (fl, fu) {
        (None, None) => RangeKind::Whole,
        (Some(a), Some(b)) if a != b => RangeKind::Empty,
        _ if is_nan(lower) || is_nan(upper) => RangeKind::Empty,
        (Some(a), _) | (None, Some(a)) => RangeKind::Of(a),
    }
}

/// The inclusive key range of the integers (and integral floats) between the bounds in index
/// `sid_b`; `None` when no integer lies between them.
fn int_keys(
    sid_b: &[u8],
    lower: Bound<&Value>,
    upper: Bound<&Value>,
) -> Option<(Vec<u8>, Vec<u8>)> {
    let (lo, hi) = (lower_int(lower)?, upper_int(upper)?);
    if lo > hi {
        return None;
    }
    let mut p = sid_b.to_vec();
    p.push(codec::IDX_T_INT);
    let (mut lo_b, mut hi_b) = (Vec::new(), Vec::new());
    codec::put_ordered_int(&mut lo_b, lo);
    codec::put_ordered_int(&mut hi_b, hi);
    Some((key_with(&p, &lo_b, 0), key_with(&p, &hi_b, u64::MAX)))
}

/// The key range of the strings between the bounds in index `sid_b`.
fn string_keys(
    sid_b: &[u8],
    lower: Bound<&Value>,
    upper: Bound<&Value>,
) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let mut p = sid_b.to_vec();
    p.push(codec::IDX_T_STRING);
    let enc = |v: &Value| -> Vec<u8> {
        let mut body = Vec::new();
        if let Value::String(s) = v {
            codec::escape_str(&mut body, s.as_bytes());
        }
        body.extend_from_slice(&[0, 0]);
        body
    };
    let lo = match lower {
        Bound::Unbounded => Bound::Included(p.clone()),
        Bound::Included(v) => Bound::Included(key_with(&p, &enc(v), 0)),
        Bound::Excluded(v) => Bound::Excluded(key_with(&p, &enc(v), u64::MAX)),
    };
    let hi = match upper {
        Bound::Unbounded => {
            let mut end = sid_b.to_vec();
            end.push(codec::IDX_T_STRING + 1);
            Bound::Excluded(end)
        }
        Bound::Included(v) => Bound::Included(key_with(&p, &enc(v), u64::MAX)),
        Bound::Excluded(v) => Bound::Excluded(key_with(&p, &enc(v), 0)),
    };
    (lo, hi)
}

fn as_slice_bound(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn read_index_range<C: Ctx>(
    c: &C,
    label: &str,
    property: &str,
    lower: Bound<&Value>,
    upper: Bound<&Value>,
) -> Result<Option<Vec<NodeId>>> {
    let mut out = Vec::new();
    let found = visit_index_range(c, label, property, lower, upper, &mut |id| {
        out.push(id);
        true
    })?;
    if found.is_none() {
        return Ok(None);
    }
    out.sort_unstable();
    out.dedup();
    Ok(Some(out))
}

/// See [`GraphRead::index_range_count`].
fn read_index_range_count<C: Ctx>(
    c: &C,
    label: &str,
    property: &str,
    lower: Bound<&Value>,
    upper: Bound<&Value>,
    cap: u64,
) -> Result<Option<u64>> {
    let mut n = 0u64;
    let found = visit_index_range(c, label, property, lower, upper, &mut |_| {
        n += 1;
        n < cap
    })?;
    Ok(found.map(|()| n.min(cap)))
}

/// Calls `f` with the node id of each entry of the index on `label(property)` whose value
/// lies between the bounds (integers, then non-integral floats, for numbers), until it
/// returns `false`. `None` when the index cannot answer (see [`GraphRead::index_range`]).
fn visit_index_range<C: Ctx>(
    c: &C,
    label: &str,
    property: &str,
    lower: Bound<&Value>,
    upper: Bound<&Value>,
    f: &mut dyn FnMut(u64) -> bool,
) -> Result<Option<()>> {
    let Some(sid) = single_schema(c, label, property)? else {
        return Ok(None);
    };
    let fam = match range_family(lower, upper) {
        // A bound of another type, or none: let the caller filter.
        RangeKind::Unsupported | RangeKind::Whole => return Ok(None),
        RangeKind::Empty => return Ok(Some(())),
        RangeKind::Of(f) => f,
    };
    let src = c.src()?;
    let sid_b = sid.to_be_bytes();
    let more = std::cell::Cell::new(true);
    let mut f = |id| {
        more.set(f(id));
        more.get()
    };
    match fam {
        Family::Number => {
            // Integers (and integral floats) live under the int tag.
            if let Some((lo_k, hi_k)) = int_keys(&sid_b, lower, upper) {
                src.index_visit(Bound::Included(&lo_k), Bound::Included(&hi_k), &mut f)?;
            }
            if !more.get() {
                return Ok(Some(()));
            }
            // Non-integral floats under the float tag; NaN sorts outside [-inf, +inf].
            let mut p = sid_b.to_vec();
            p.push(codec::IDX_T_FLOAT);
            let lo_k;
            let lo_b = match lower {
                Bound::Unbounded => {
                    lo_k = key_with(&p, &codec::ordered_f64(f64::NEG_INFINITY).to_be_bytes(), 0);
                    Bound::Included(lo_k.as_slice())
                }
                Bound::Included(v) => {
                    lo_k = key_with(&p, &codec::ordered_f64(as_f64(v)).to_be_bytes(), 0);
                    Bound::Included(lo_k.as_slice())
                }
                Bound::Excluded(v) => {
                    lo_k = key_with(&p, &codec::ordered_f64(as_f64(v)).to_be_bytes(), u64::MAX);
                    Bound::Excluded(lo_k.as_slice())
                }
            };
            let hi_k;
            let hi_b = match upper {
                Bound::Unbounded => {
                    hi_k = key_with(
                        &p,
                        &codec::ordered_f64(f64::INFINITY).to_be_bytes(),
                        u64::MAX,
                    );
                    Bound::Included(hi_k.as_slice())
                }
                Bound::Included(v) => {
                    hi_k = key_with(&p, &codec::ordered_f64(as_f64(v)).to_be_bytes(), u64::MAX);
                    Bound::Included(hi_k.as_slice())
                }
                Bound::Excluded(v) => {
                    hi_k = key_with(&p, &codec::ordered_f64(as_f64(v)).to_be_bytes(), 0);
                    Bound::Excluded(hi_k.as_slice())
                }
            };
            src.index_visit(lo_b, hi_b, &mut f)?;
        }
        Family::String => {
            let (lo, hi) = string_keys(&sid_b, lower, upper);
            src.index_visit(as_slice_bound(&lo), as_slice_bound(&hi), &mut f)?;
        }
    }
    Ok(Some(()))
}

/// See [`GraphRead::index_orders`].
fn read_index_orders<C: Ctx>(c: &C, label: &str, property: &str) -> Result<bool> {
    let (Some(sid), Some(lid)) = (
        single_schema(c, label, property)?,
        c.token_id(KIND_LABEL, label)?,
    ) else {
        return Ok(false);
    };
    if c.index_count(sid)? != c.count(Some(lid))? {
        return Ok(false); // a node of the label lacks the property
    }
    let bool_tag = |t: u8| t == codec::IDX_T_FALSE || t == codec::IDX_T_TRUE;
    Ok(match c.src()?.index_edge_tags(sid)? {
        None => true,
        Some((a, b)) if a == b => a == codec::IDX_T_INT || a == codec::IDX_T_STRING || bool_tag(a),
        Some((a, b)) => bool_tag(a) && bool_tag(b),
    })
}

/// See [`GraphRead::index_order_page`].
#[allow(clippy::too_many_arguments)]
fn read_index_order_page<C: Ctx>(
    c: &C,
    label: &str,
    property: &str,
    lower: Bound<&Value>,
    upper: Bound<&Value>,
    descending: bool,
    after: Option<&[u8]>,
    limit: usize,
) -> Result<Option<IndexPage>> {
    let Some(sid) = single_schema(c, label, property)? else {
        return Ok(None);
    };
    let sid_b = sid.to_be_bytes();
    let (lo, hi): (Bound<Vec<u8>>, Bound<Vec<u8>>) = match range_family(lower, upper) {
        RangeKind::Unsupported => return Ok(None),
        RangeKind::Empty => return Ok(Some((Vec::new(), None))),
        RangeKind::Whole => {
            let (lo, hi) = tables::schema_bounds(sid);
            (
                Bound::Included(lo),
                hi.map_or(Bound::Unbounded, Bound::Excluded),
            )
        }
        // Only the integer keys: an index in ORDER BY's order of numbers holds no others.
        RangeKind::Of(Family::Number) => match int_keys(&sid_b, lower, upper) {
            Some((lo, hi)) => (Bound::Included(lo), Bound::Included(hi)),
            None => return Ok(Some((Vec::new(), None))),
        },
        RangeKind::Of(Family::String) => string_keys(&sid_b, lower, upper),
    };
    let (ids, resume) = c.src()?.index_page(
        as_slice_bound(&lo),
        as_slice_bound(&hi),
        descending,
        after,
        limit,
    )?;
    c.note_existing(&ids);
    Ok(Some((ids, resume)))
}

fn read_index_prefix<C: Ctx>(
    c: &C,
    label: &str,
    property: &str,
    prefix: &str,
) -> Result<Option<Vec<NodeId>>> {
    let Some(sid) = single_schema(c, label, property)? else {
        return Ok(None);
    };
    let mut p = sid.to_be_bytes().to_vec();
    p.push(codec::IDX_T_STRING);
    codec::escape_str(&mut p, prefix.as_bytes());
    let mut out = Vec::new();
    c.src()?.index_prefix_scan(&p, &mut out)?;
    out.sort_unstable();
    Ok(Some(out))
}

fn read_schema<C: Ctx>(c: &C) -> Result<Vec<SchemaDef>> {
    let mut out = Vec::new();
    for s in c.schemas() {
        let mut properties = Vec::with_capacity(s.keys.len());
        for k in &s.keys {
            properties.push(c.token_name(KIND_KEY, *k)?);
        }
        out.push(SchemaDef {
            name: s.name.clone(),
            kind: SchemaKind::of_flags(s.rel, s.exists, s.unique),
            label: c.token_name(if s.rel { KIND_TYPE } else { KIND_LABEL }, s.label)?,
            properties,
        });
    }
    Ok(out)
}

fn read_count<C: Ctx>(c: &C, label: Option<&str>) -> Result<u64> {
    match label {
        None => c.count(None),
        Some(l) => match c.token_id(KIND_LABEL, l)? {
            Some(id) => c.count(Some(id)),
            None => Ok(0),
        },
    }
}

fn read_token_list<C: Ctx>(c: &C, kind: u8) -> Result<Vec<String>> {
    let mut names = c.src()?.token_names_of_kind(kind)?;
    if let Some(local) = c.local() {
        if let Some(ids) = local.ids.get(kind as usize) {
            let mut extra: Vec<(u32, &String)> = ids.iter().map(|(i, n)| (*i, n)).collect();
            extra.sort();
            for (_, n) in extra {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        }
    }
    Ok(names)
}

macro_rules! impl_graph_read {
    ($t:ty) => {
        impl GraphRead for $t {
            fn node(&self, id: NodeId) -> Result<Option<NodeRecord>> {
                no_panic("read", || read_node(self, id))
            }
            fn relationship(&self, id: RelId) -> Result<Option<RelRecord>> {
                no_panic("read", || read_rel(self, id))
            }
            fn all_nodes(&self) -> Result<Vec<NodeId>> {
                no_panic("read", || self.src()?.all_node_ids())
            }
            fn nodes_with_label(&self, label: &str) -> Result<Vec<NodeId>> {
                no_panic("read", || read_nodes_with_label(self, label))
            }
            fn all_relationships(&self) -> Result<Vec<RelId>> {
                no_panic("read", || self.src()?.all_rel_ids())
            }
            fn expand(&self, node: NodeId, dir: ExpandDir, types: &[String]) -> Result<Vec<Edge>> {
                no_panic("read", || read_expand(self, node, dir, types))
            }
            fn index_seek(
                &self,
                label: &str,
                properties: &[String],
                values: &[Value],
            ) -> Result<Option<Vec<NodeId>>> {
                no_panic("read", || read_index_seek(self, label, properties, values))
            }
            fn index_range(
                &self,
                label: &str,
                property: &str,
                lower: Bound<&Value>,
                upper: Bound<&Value>,
            ) -> Result<Option<Vec<NodeId>>> {
                no_panic("read", || {
                    read_index_range(self, label, property, lower, upper)
                })
            }
            fn index_range_count(
                &self,
                label: &str,
                property: &str,
                lower: Bound<&Value>,
                upper: Bound<&Value>,
                cap: u64,
            ) -> Result<Option<u64>> {
                no_panic("read", || {
                    read_index_range_count(self, label, property, lower, upper, cap)
                })
            }
            fn index_prefix(
                &self,
                label: &str,
                property: &str,
                prefix: &str,
            ) -> Result<Option<Vec<NodeId>>> {
                no_panic("read", || read_index_prefix(self, label, property, prefix))
            }
            fn index_orders(&self, label: &str, property: &str) -> Result<bool> {
                no_panic("read", || read_index_orders(self, label, property))
            }
            fn index_order_page(
                &self,
                label: &str,
                property: &str,
                range: (Bound<&Value>, Bound<&Value>),
                descending: bool,
                after: Option<&[u8]>,
                limit: usize,
            ) -> Result<Option<IndexPage>> {
                no_panic("read", || {
                    read_index_order_page(
                        self, label, property, range.0, range.1, descending, after, limit,
                    )
                })
            }
            fn rel_index_seek(
                &self,
                rel_type: &str,
                properties: &[String],
                values: &[Value],
            ) -> Result<Option<Vec<RelId>>> {
                no_panic("read", || {
                    read_rel_index_seek(self, rel_type, properties, values)
                })
            }
            fn schema(&self) -> Result<Vec<SchemaDef>> {
                no_panic("read", || read_schema(self))
            }
            fn count_nodes(&self, label: Option<&str>) -> Result<u64> {
                no_panic("read", || read_count(self, label))
            }
            fn labels(&self) -> Result<Vec<String>> {
                no_panic("read", || read_token_list(self, KIND_LABEL))
            }
            fn type_name(&self, type_id: u32) -> Result<Option<String>> {
                no_panic("read", || self.token_name(KIND_TYPE, type_id).map(Some))
            }
            fn relationship_types(&self) -> Result<Vec<String>> {
                no_panic("read", || read_token_list(self, KIND_TYPE))
            }
            fn property_keys(&self) -> Result<Vec<String>> {
                no_panic("read", || read_token_list(self, KIND_KEY))
            }
            fn node_exists(&self, id: NodeId) -> Result<bool> {
                no_panic("read", || self.src()?.node_exists(id))
            }
            fn node_property(&self, id: NodeId, key: &str) -> Result<Option<Value>> {
                no_panic("read", || match self.token_id(KIND_KEY, key)? {
                    Some(k) => self.src()?.node_prop(id, k),
                    None => Ok(None),
                })
            }
            fn node_labels(&self, id: NodeId) -> Result<Option<Vec<String>>> {
                no_panic("read", || match self.src()?.node_labels_ids(id)? {
                    Some(ids) => {
                        let mut out = Vec::with_capacity(ids.len());
                        for l in ids {
                            out.push(self.token_name(KIND_LABEL, l)?);
                        }
                        Ok(Some(out))
                    }
                    None => Ok(None),
                })
            }
            fn relationship_property(&self, id: RelId, key: &str) -> Result<Option<Value>> {
                no_panic("read", || match self.token_id(KIND_KEY, key)? {
                    Some(k) => self.src()?.rel_prop(id, k),
                    None => Ok(None),
                })
            }
            fn degree(&self, node: NodeId, dir: ExpandDir, types: &[String]) -> Result<u64> {
                no_panic("read", || read_degree(self, node, dir, types))
            }
            fn nodes_page(
                &self,
                label: Option<&str>,
                after: Option<NodeId>,
                limit: usize,
            ) -> Result<Vec<NodeId>> {
                no_panic("read", || match label {
                    None => self.src()?.ids_page(false, after, limit),
                    Some(l) => match self.token_id(KIND_LABEL, l)? {
                        Some(lid) => self.src()?.label_nodes_page(lid, after, limit),
                        None => Ok(Vec::new()),
                    },
                })
            }
            fn relationships_page(&self, after: Option<RelId>, limit: usize) -> Result<Vec<RelId>> {
                no_panic("read", || self.src()?.ids_page(true, after, limit))
            }
            fn count_relationships(&self) -> Result<u64> {
                no_panic("read", || self.rel_count())
            }
            fn count_relationships_of_type(&self, rel_type: &str) -> Result<u64> {
                no_panic("read", || read_type_count(self, rel_type))
            }
            fn node_ids<'a>(&'a self, label: Option<&str>) -> Result<crate::Iter<'a, NodeId>> {
                no_panic("read", || {
                    Ok(guarded(match label {
                        None => self.src()?.id_iter(false)?,
                        Some(l) => match self.token_id(KIND_LABEL, l)? {
                            Some(lid) => self.src()?.label_id_iter(lid)?,
                            None => Box::new(std::iter::empty()),
                        },
                    }))
                })
            }
            fn relationship_ids<'a>(&'a self) -> Result<crate::Iter<'a, RelId>> {
                no_panic("read", || Ok(guarded(self.src()?.id_iter(true)?)))
            }
            fn expand_iter<'a>(
                &'a self,
                node: NodeId,
                dir: ExpandDir,
                types: &[String],
            ) -> Result<crate::Iter<'a, Edge>> {
                no_panic("read", || {
                    let ids = type_ids(self, types)?;
                    if ids.as_ref().is_some_and(Vec::is_empty) {
                        return Ok(guarded(Box::new(std::iter::empty())));
                    }
                    let ts = ids.as_deref();
                    let s = self.src()?;
                    Ok(guarded(match dir {
                        ExpandDir::Outgoing => s.edge_iter(node, true, ts, false)?,
                        ExpandDir::Incoming => s.edge_iter(node, false, ts, false)?,
                        ExpandDir::Both => Box::new(
                            s.edge_iter(node, true, ts, false)?
                                .chain(s.edge_iter(node, false, ts, true)?),
                        ),
                    }))
                })
            }
            fn node_property_scan<'a>(
                &'a self,
                label: Option<&str>,
                key: &str,
            ) -> Result<crate::Iter<'a, (NodeId, Option<Value>)>> {
                no_panic("read", || {
                    let key = self.token_id(KIND_KEY, key)?;
                    let label = match label {
                        None => None,
                        Some(l) => match self.token_id(KIND_LABEL, l)? {
                            Some(lid) => Some(lid),
                            None => return Ok(guarded(Box::new(std::iter::empty()))),
                        },
                    };
                    Ok(guarded(self.src()?.prop_scan(label, key)?))
                })
            }
            fn node_id_span(&self, label: Option<&str>) -> Result<Option<(NodeId, NodeId)>> {
                no_panic("read", || {
                    let label = match label {
                        None => None,
                        Some(l) => match self.token_id(KIND_LABEL, l)? {
                            Some(lid) => Some(lid),
                            None => return Ok(None),
                        },
                    };
                    self.src()?.id_span(label)
                })
            }
            fn shared(&self) -> Option<&(dyn GraphRead + Sync)> {
                self.as_shared()
            }
            fn node_property_page(
                &self,
                label: Option<&str>,
                key: &str,
                after: Option<NodeId>,
                limit: usize,
            ) -> Result<Vec<(NodeId, Option<Value>)>> {
                no_panic("read", || {
                    let Some((label, key, start)) = scan_page_at(self, label, key, after)? else {
                        return Ok(Vec::new());
                    };
                    self.src()?.prop_page(label, key, start, limit)
                })
            }
            fn node_property_stats(
                &self,
                label: Option<&str>,
                key: &str,
                after: Option<NodeId>,
                until: NodeId,
                limit: usize,
            ) -> Result<crate::PropertyStats> {
                no_panic("read", || {
                    let Some((label, key, start)) = scan_page_at(self, label, key, after)? else {
                        return Ok(crate::PropertyStats::default());
                    };
                    self.src()?.prop_stats(label, key, start, until, limit)
                })
            }
        }
    };
}

/// Where a page of a scan of `label`'s nodes (every node for `None`) reading property `key`
/// starts (the id after `after`), with the label's and the key's token ids (the key's `None`
/// when no node has it: every item counts, none has a value); `None` when the page is empty
/// (no id after `after`, or a label no node carries).
#[allow(clippy::type_complexity)]
fn scan_page_at<C: Ctx>(
    c: &C,
    label: Option<&str>,
    key: &str,
    after: Option<NodeId>,
) -> Result<Option<(Option<u32>, Option<u32>, u64)>> {
    let start = match after {
        None => 0,
        Some(a) => match a.checked_add(1) {
            Some(s) => s,
            None => return Ok(None),
        },
    };
    let label = match label {
        None => None,
        Some(l) => match c.token_id(KIND_LABEL, l)? {
            Some(lid) => Some(lid),
            None => return Ok(None),
        },
    };
    Ok(Some((label, c.token_id(KIND_KEY, key)?, start)))
}

/// An iterator whose every step runs under [`no_panic`]; it ends after the first error.
fn guarded<'a, T: 'a>(it: crate::Iter<'a, T>) -> crate::Iter<'a, T> {
    let mut it = Some(it);
    Box::new(std::iter::from_fn(move || {
        let cur = it.as_mut()?;
        let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cur.next()));
        match step {
            Ok(Some(Ok(v))) => Some(Ok(v)),
            Ok(Some(Err(e))) => {
                it = None;
                Some(Err(e))
            }
            Ok(None) => {
                it = None;
                None
            }
            Err(_) => {
                it = None;
                Some(Err(Error::internal(
                    "storage failure during read (the database file may be damaged)",
                )))
            }
        }
    }))
}

// ---------------------------------------------------------------------------------------------
// read transaction

/// A redb read transaction with its tables open and the schemas loaded: what read
/// transactions read, shared by those that begin while nothing commits (see
/// [`DbInner::snapshot`]).
struct Snapshot {
    tabs: tables::RTabs,
    schemas: Vec<SchemaData>,
    _txn: redb::ReadTransaction,
}

/// A snapshot read transaction. `Send`: it may move between threads.
pub struct ReadTxn {
    snap: Arc<Snapshot>,
    tokens: Arc<TokenCache>,
    /// Keeps the database open for as long as the snapshot lives (dropped last).
    _db: Arc<DbInner>,
}

impl Ctx for ReadTxn {
    type S<'a> = tables::RTabs;
    fn src(&self) -> Result<&Self::S<'_>> {
        Ok(&self.snap.tabs)
    }
    fn cache(&self) -> &TokenCache {
        &self.tokens
    }
    fn local(&self) -> Option<&TokenCache> {
        None
    }
    fn schemas(&self) -> &[SchemaData] {
        &self.snap.schemas
    }
    fn count(&self, label: Option<u32>) -> Result<u64> {
        match label {
            None => self.snap.tabs.meta_get("node_count"),
            Some(l) => self.snap.tabs.label_count_stored(l),
        }
    }
    fn rel_count(&self) -> Result<u64> {
        self.snap.tabs.meta_get("rel_count")
    }
    fn type_count(&self, t: u32) -> Result<Option<u64>> {
        let tabs = &self.snap.tabs;
        if !type_counts_current(tabs)? {
            return Ok(None);
        }
        tabs.meta_get(&type_count_key(t)).map(Some)
    }
}

impl_graph_read!(ReadTxn);

impl ReadTxn {
    /// A snapshot: its tables never change, and any number of threads may read them.
    fn as_shared(&self) -> Option<&(dyn GraphRead + Sync)> {
        Some(self)
    }
}

impl ReadTxn {
    /// The number of writing commits this snapshot includes: equal to
    /// [`WriteTxn::commit_seq`] of a later write transaction exactly when nothing was
    /// committed in between.
    pub fn commit_seq(&self) -> Result<u64> {
        self.snap.tabs.meta_get(COMMIT_SEQ_KEY)
    }
}

// ---------------------------------------------------------------------------------------------
// write transaction

/// The write transaction. Sees its own writes; nothing is visible to others until `commit`,
/// which is durable (fsync) before it returns. Dropping it without commit aborts.
pub struct WriteTxn(TxnCell);

self_cell::self_cell!(
    /// The redb transaction and the state borrowing it (its open tables), in one allocation:
    /// the state is always dropped before the transaction.
    struct TxnCell {
        owner: redb::WriteTransaction,
        #[covariant]
        dependent: WriteState,
    }
);

/// What a write transaction keeps beside the redb transaction it borrows from.
struct WriteState<'t> {
    /// Open tables.
    tabs: Option<WTabs<'t>>,
    inner: Arc<DbInner>,
    tokens: Arc<TokenCache>,
    /// Tokens created (or looked up from disk) by this transaction.
    local: TokenCache,
    schemas: Vec<SchemaData>,
    counters: Counters,
    /// Label counts touched by this transaction (absolute values).
    label_counts: HashMap<u32, u64>,
    /// Relationships created minus deleted per type, moved into the kept counts at commit
    /// when those are current (`type_counts_valid`).
    type_counts: HashMap<u32, i64>,
    type_counts_valid: bool,
    buf: Vec<u8>,
    /// The block a relationship record is written into.
    bbuf: Vec<u8>,
    /// Property index writes (their key buffer and entry counts).
    idx: IndexWrites,
    /// Node ids known to exist (just created, or just returned by an index seek); cleared by
    /// `delete_node`. Lets `create_relationship` skip two random reads in the common
    /// seek-seek-create pattern.
    recent: RefCell<VecDeque<u64>>,
    /// Set after an internal error midway through a write: the transaction can only abort.
    poisoned: bool,
    /// Set once any write method ran; a clean transaction's commit is a no-op.
    dirty: bool,
    /// Nodes created or changed by this transaction while an existence constraint exists:
    /// checked against the existence constraints at commit.
    touched: BTreeSet<u64>,
    /// Relationships created or changed by this transaction while a relationship existence
    /// constraint exists: checked at commit like `touched`.
    touched_rels: BTreeSet<u64>,
    /// Relationships this transaction created, each an edge in both delta tables (bounds the
    /// merge at commit).
    rels_added: u64,
}

#[allow(dead_code)]
fn _assert_send() {
    fn is_send<T: Send>() {}
    fn is_sync<T: Sync>() {}
    is_send::<redb::WriteTransaction>();
    is_sync::<redb::WriteTransaction>();
    is_send::<WTabs<'static>>();
    is_send::<ReadTxn>();
    is_send::<WriteTxn>();
    is_send::<Arc<DbInner>>();
    is_send::<TokenCache>();
    // Shared between sessions.
    is_send::<Storage>();
    is_sync::<Storage>();
    is_send::<Database>();
    is_sync::<Database>();
}

// Dropping a `WriteTxn` drops its state (the tables) and then the uncommitted redb
// transaction, which aborts it.

impl Ctx for WriteTxn {
    type S<'a> = WTabs<'a>;
    fn src(&self) -> Result<&Self::S<'_>> {
        self.state().src()
    }
    fn cache(&self) -> &TokenCache {
        self.state().cache()
    }
    fn local(&self) -> Option<&TokenCache> {
        self.state().local()
    }
    fn schemas(&self) -> &[SchemaData] {
        self.state().schemas()
    }
    fn count(&self, label: Option<u32>) -> Result<u64> {
        self.state().count(label)
    }
    fn rel_count(&self) -> Result<u64> {
        self.state().rel_count()
    }
    fn type_count(&self, t: u32) -> Result<Option<u64>> {
        self.state().type_count(t)
    }
    fn index_count(&self, schema: u32) -> Result<u64> {
        self.state().index_count(schema)
    }
    fn note_existing(&self, ids: &[u64]) {
        self.state().note_existing(ids)
    }
}

impl<'t> Ctx for WriteState<'t> {
    type S<'a>
        = WTabs<'t>
    where
        Self: 'a;
    fn src(&self) -> Result<&Self::S<'_>> {
        self.tabs.as_ref().ok_or_else(closed)
    }
    fn cache(&self) -> &TokenCache {
        &self.tokens
    }
    fn local(&self) -> Option<&TokenCache> {
        Some(&self.local)
    }
    fn schemas(&self) -> &[SchemaData] {
        &self.schemas
    }
    fn count(&self, label: Option<u32>) -> Result<u64> {
        match label {
            None => Ok(self.counters.node_count),
            Some(l) => match self.label_counts.get(&l) {
                Some(c) => Ok(*c),
                None => self.src()?.label_count_stored(l),
            },
        }
    }
    fn rel_count(&self) -> Result<u64> {
        Ok(self.counters.rel_count)
    }
    fn type_count(&self, t: u32) -> Result<Option<u64>> {
        if !self.type_counts_valid {
            return Ok(None);
        }
        let stored = self.src()?.meta_get(&type_count_key(t))?;
        Ok(Some(add_delta(
            stored,
            self.type_counts.get(&t).copied().unwrap_or(0),
        )))
    }
    fn index_count(&self, schema: u32) -> Result<u64> {
        let stored = self.src()?.index_count_stored(schema)?;
        Ok(add_delta(
            stored,
            self.idx.counts.get(&schema).copied().unwrap_or(0),
        ))
    }
    fn note_existing(&self, ids: &[u64]) {
        if ids.len() <= RECENT_CAP {
            let mut r = self.recent.borrow_mut();
            for id in ids {
                if r.len() >= RECENT_CAP {
                    r.pop_front();
                }
                r.push_back(*id);
            }
        }
    }
}

/// How many recently seen node ids a write txn remembers as existing.
const RECENT_CAP: usize = 16;

impl_graph_read!(WriteTxn);
impl_graph_read!(WriteState<'_>);

impl WriteTxn {
    /// Not shared: a write transaction is read by the thread that writes it.
    fn as_shared(&self) -> Option<&(dyn GraphRead + Sync)> {
        None
    }
}

impl WriteState<'_> {
    /// Not shared: see [`WriteTxn::as_shared`].
    fn as_shared(&self) -> Option<&(dyn GraphRead + Sync)> {
        None
    }
}

fn closed() -> Error {
    Error::new(
        ErrorCode::TransactionInvalid,
        "the write transaction is already finished",
    )
}

fn entity_not_found(what: &str, id: u64) -> Error {
    Error::new(
        ErrorCode::EntityNotFound,
        format!("{what} with id {id} has been deleted or does not exist"),
    )
    .with_detail("DeletedEntityAccess")
}

/// An index entry of one node: schema id, whether unique, normalized key bytes.
pub(crate) type IndexEntry = (u32, bool, Vec<u8>);

fn prop_of(props: &[(u32, Value)], key: u32) -> Option<&Value> {
    props
        .binary_search_by_key(&key, |(k, _)| *k)
        .ok()
        .and_then(|i| props.get(i))
        .map(|(_, v)| v)
}

/// The index key of an entity with `props` in schema `s`: its values of the schema's
/// properties, or `None` when it lacks one of them.
fn schema_key(s: &SchemaData, props: &[(u32, Value)]) -> Option<Vec<u8>> {
    let mut key = Vec::new();
    for k in &s.keys {
        codec::encode_index_value(&mut key, prop_of(props, *k)?);
    }
    Some(key)
}

pub(crate) fn index_entries(schemas: &[SchemaData], d: &NodeData) -> Vec<IndexEntry> {
    schemas
        .iter()
        .filter(|s| s.node_indexed() && d.labels.binary_search(&s.label).is_ok())
        .filter_map(|s| Some((s.id, s.unique, schema_key(s, &d.props)?)))
        .collect()
}

/// The index entries of one relationship (relationship indexes, uniqueness and key
/// constraints on its type whose properties it all has): schema id, whether unique,
/// normalized key bytes.
fn rel_index_entries(schemas: &[SchemaData], d: &RelData) -> Vec<IndexEntry> {
    schemas
        .iter()
        .filter(|s| s.rel_indexed() && s.label == d.rel_type)
        .filter_map(|s| Some((s.id, s.unique, schema_key(s, &d.props)?)))
        .collect()
}

impl<'t> WriteState<'t> {
    fn guard(&self) -> Result<()> {
        if self.poisoned {
            return Err(Error::new(
                ErrorCode::TransactionInvalid,
                "the transaction failed earlier with a storage error and can only be rolled back",
            ));
        }
        if self.tabs.is_none() {
            return Err(closed());
        }
        Ok(())
    }

    /// Runs a write operation, poisoning the transaction on internal errors (which may leave
    /// partial effects; client errors are detected before anything is written).
    fn run<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.guard()?;
        // Conservatively dirty as soon as a write method runs (even one that then fails).
        self.dirty = true;
        let r = no_panic("write", || f(self));
        if let Err(e) = &r {
            if e.code == ErrorCode::Internal {
                self.poisoned = true;
            }
        }
        r
    }

    fn tabs_mut(&mut self) -> Result<&mut WTabs<'t>> {
        self.tabs.as_mut().ok_or_else(closed)
    }

    /// The id of a token, creating it if needed.
    fn intern(&mut self, kind: u8, name: &str) -> Result<u32> {
        if let Some(id) = self.tokens.id(kind, name) {
            return Ok(id);
        }
        if let Some(id) = self.local.id(kind, name) {
            return Ok(id);
        }
        let tabs = self.tabs.as_mut().ok_or_else(closed)?;
        if let Some(id) = tabs.token_id_stored(kind, name)? {
            self.local.insert(kind, id, name);
            return Ok(id);
        }
        let slot = self
            .counters
            .next_token
            .get_mut(kind as usize)
            .ok_or_else(|| Error::internal("bad token kind"))?;
        let id = *slot;
        *slot = id
            .checked_add(1)
            .ok_or_else(|| Error::internal("token id space exhausted"))?;
        tabs.tokens.insert((kind, name), id).map_err(st)?;
        tabs.token_names.insert((kind, id), name).map_err(st)?;
        self.local.insert(kind, id, name);
        Ok(id)
    }

    /// Validates and interns a property map (nulls are dropped). Sorted by key id.
    fn intern_props(&mut self, properties: Map) -> Result<Vec<(u32, Value)>> {
        for (k, v) in &properties {
            if !v.is_null() {
                codec::check_property(k, v)?;
            }
        }
        let mut out = Vec::with_capacity(properties.len());
        for (k, v) in properties {
            if v.is_null() {
                continue;
            }
            let id = self.intern(KIND_KEY, &k)?;
            out.push((id, v));
        }
        out.sort_by_key(|(k, _)| *k);
        Ok(out)
    }

    fn intern_labels(&mut self, labels: &[String]) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(labels.len());
        for l in labels {
            out.push(self.intern(KIND_LABEL, l)?);
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    fn violation(&self, schema: u32, existing: u64, d: &NodeData) -> Error {
        let Some(s) = self.schemas.iter().find(|s| s.id == schema) else {
            return Error::new(
                ErrorCode::ConstraintValidationFailed,
                format!("Node({existing}) already exists with the same indexed value"),
            );
        };
        let label = self
            .token_name(KIND_LABEL, s.label)
            .unwrap_or_else(|_| format!("#{}", s.label));
        let mut parts = Vec::new();
        for k in &s.keys {
            let name = self
                .token_name(KIND_KEY, *k)
                .unwrap_or_else(|_| format!("#{k}"));
            let value = prop_of(&d.props, *k)
                .map(render_value)
                .unwrap_or_else(|| "null".into());
            parts.push((name, value));
        }
        let msg = if let [(n, v)] = parts.as_slice() {
            format!("Node({existing}) already exists with label `{label}` and property `{n}` = {v}")
        } else {
            let names: Vec<String> = parts.iter().map(|(n, _)| format!("`{n}`")).collect();
            let values: Vec<String> = parts.iter().map(|(_, v)| v.clone()).collect();
            format!(
                "Node({existing}) already exists with label `{label}` and properties {} = {}",
                names.join(", "),
                values.join(", ")
            )
        };
        Error::new(ErrorCode::ConstraintValidationFailed, msg)
    }

    /// Checks unique entries in `add` against the stored index (other nodes than `id`).
    fn check_unique(&self, id: u64, add: &[IndexEntry], d: &NodeData) -> Result<()> {
        let src = self.src()?;
        for (sid, unique, key) in add {
            if *unique {
                if let Some(other) = src.index_other(*sid, key, id)? {
                    return Err(self.violation(*sid, other, d));
                }
            }
        }
        Ok(())
    }

    fn bump_label(&mut self, label: u32, up: bool) -> Result<()> {
        let cur = match self.label_counts.get(&label) {
            Some(c) => *c,
            None => self.src()?.label_count_stored(label)?,
        };
        let new = if up {
            cur.saturating_add(1)
        } else {
            cur.saturating_sub(1)
        };
        self.label_counts.insert(label, new);
        Ok(())
    }

    /// Writes a changed node record and maintains label and property indexes.
    /// Remember a created or changed node for the commit-time existence check (only while
    /// an existence constraint exists).
    fn touch(&mut self, id: u64) {
        if self.schemas.iter().any(|s| s.exists && !s.rel) {
            self.touched.insert(id);
        }
    }

    /// Remember a created or changed relationship for the commit-time existence check (only
    /// while a relationship existence constraint exists).
    fn touch_rel(&mut self, id: u64) {
        if self.schemas.iter().any(|s| s.exists && s.rel) {
            self.touched_rels.insert(id);
        }
    }

    /// The existence constraints hold for every node this transaction created or changed
    /// (Neo4j checks them at commit, so `MERGE ... ON CREATE SET` may add the property later
    /// in the transaction).
    fn check_existence(&mut self) -> Result<()> {
        let touched = std::mem::take(&mut self.touched);
        let touched_rels = std::mem::take(&mut self.touched_rels);
        if !touched_rels.is_empty() {
            let exists: Vec<SchemaData> = self
                .schemas
                .iter()
                .filter(|s| s.exists && s.rel)
                .cloned()
                .collect();
            for id in touched_rels {
                // Deleted later in the transaction: nothing to check.
                let Some(d) = self.src()?.rel_data(id)? else {
                    continue;
                };
                for s in exists.iter().filter(|s| s.label == d.rel_type) {
                    if let Some(missing) = s.keys.iter().find(|k| prop_of(&d.props, **k).is_none())
                    {
                        return Err(self.existence_violation(s, id, *missing));
                    }
                }
            }
        }
        if touched.is_empty() {
            return Ok(());
        }
        let exists: Vec<SchemaData> = self
            .schemas
            .iter()
            .filter(|s| s.exists && !s.rel)
            .cloned()
            .collect();
        for id in touched {
            let Some(d) = self.src()?.node_data(id)? else {
                continue;
            };
            for s in &exists {
                if d.labels.binary_search(&s.label).is_err() {
                    continue;
                }
                if let Some(missing) = s.keys.iter().find(|k| prop_of(&d.props, **k).is_none()) {
                    return Err(self.existence_violation(s, id, *missing));
                }
            }
        }
        Ok(())
    }

    fn existence_violation(&self, s: &SchemaData, id: u64, key: u32) -> Error {
        let key = self.token_name(KIND_KEY, key).unwrap_or_default();
        let message = if s.rel {
            let ty = self.token_name(KIND_TYPE, s.label).unwrap_or_default();
            format!("Relationship({id}) with type `{ty}` must have the property `{key}`")
        } else {
            let label = self.token_name(KIND_LABEL, s.label).unwrap_or_default();
            format!("Node({id}) with label `{label}` must have the property `{key}`")
        };
        Error::new(ErrorCode::ConstraintValidationFailed, message)
    }

    /// A relationship uniqueness violation: `existing` already has the values `d` brings.
    fn rel_violation(&self, schema: u32, existing: u64, d: &RelData) -> Error {
        let Some(s) = self.schemas.iter().find(|s| s.id == schema) else {
            return Error::new(
                ErrorCode::ConstraintValidationFailed,
                format!("Relationship({existing}) already exists with the same property values"),
            );
        };
        let ty = self
            .token_name(KIND_TYPE, s.label)
            .unwrap_or_else(|_| format!("#{}", s.label));
        let mut names = Vec::new();
        let mut values = Vec::new();
        for k in &s.keys {
            names.push(format!(
                "`{}`",
                self.token_name(KIND_KEY, *k)
                    .unwrap_or_else(|_| format!("#{k}"))
            ));
            values.push(
                prop_of(&d.props, *k)
                    .map(render_value)
                    .unwrap_or_else(|| "null".into()),
            );
        }
        let what = if names.len() == 1 {
            "property"
        } else {
            "properties"
        };
        Error::new(
            ErrorCode::ConstraintValidationFailed,
            format!(
                "Relationship({existing}) already exists with type `{ty}` and {what} {} = {}",
                names.join(", "),
                values.join(", ")
            ),
        )
    }

    fn has_rel_index(&self) -> bool {
        self.schemas.iter().any(|s| s.rel_indexed())
    }

    /// Writes a changed relationship record, keeping its index entries in step (uniqueness
    /// checked before anything is written) and remembering it for the existence check.
    fn update_rel(&mut self, id: u64, old: Option<&RelData>, new: &RelData) -> Result<()> {
        self.touch_rel(id);
        let old_entries = old
            .map(|o| rel_index_entries(&self.schemas, o))
            .unwrap_or_default();
        let new_entries = rel_index_entries(&self.schemas, new);
        let add: Vec<IndexEntry> = new_entries
            .iter()
            .filter(|e| !old_entries.contains(e))
            .cloned()
            .collect();
        {
            let src = self.src()?;
            for (sid, _, key) in add.iter().filter(|(_, unique, _)| *unique) {
                if let Some(other) = src.index_other(*sid, key, id)? {
                    return Err(self.rel_violation(*sid, other, new));
                }
            }
        }
        self.write_rel(id, new)?;
        let tabs = self.tabs.as_mut().ok_or_else(closed)?;
        for (sid, _, key) in old_entries.iter().filter(|e| !new_entries.contains(e)) {
            self.idx.remove(&mut tabs.prop_idx, *sid, key, id)?;
        }
        for (sid, _, key) in &add {
            self.idx.add(&mut tabs.prop_idx, *sid, key, id)?;
        }
        Ok(())
    }

    fn update_node(&mut self, id: u64, old: &NodeData, new: NodeData) -> Result<()> {
        self.touch(id);
        let old_entries = index_entries(&self.schemas, old);
        let new_entries = index_entries(&self.schemas, &new);
        let add: Vec<IndexEntry> = new_entries
            .iter()
            .filter(|e| !old_entries.contains(e))
            .cloned()
            .collect();
        self.check_unique(id, &add, &new)?;
        codec::encode_node(&mut self.buf, &new);
        let tabs = self.tabs.as_mut().ok_or_else(closed)?;
        tables::block_put(
            &mut tabs.nodes,
            &mut tabs.node_tail,
            &mut self.bbuf,
            &mut tabs.node_end,
            id,
            &self.buf,
        )?;
        for (sid, _, key) in old_entries.iter().filter(|e| !new_entries.contains(e)) {
            self.idx.remove(&mut tabs.prop_idx, *sid, key, id)?;
        }
        for (sid, _, key) in &add {
            self.idx.add(&mut tabs.prop_idx, *sid, key, id)?;
        }
        let removed: Vec<u32> = old
            .labels
            .iter()
            .filter(|l| new.labels.binary_search(l).is_err())
            .copied()
            .collect();
        let added: Vec<u32> = new
            .labels
            .iter()
            .filter(|l| old.labels.binary_search(l).is_err())
            .copied()
            .collect();
        for l in &removed {
            tables::label_remove(&mut tabs.label_idx, *l, id)?;
        }
        for l in &added {
            tables::label_add(&mut tabs.label_idx, *l, id)?;
        }
        for l in removed {
            self.bump_label(l, false)?;
        }
        for l in added {
            self.bump_label(l, true)?;
        }
        Ok(())
    }

    fn existing_node(&self, id: u64) -> Result<NodeData> {
        self.src()?
            .node_data(id)?
            .ok_or_else(|| entity_not_found("Node", id))
    }

    fn existing_rel(&self, id: u64) -> Result<RelData> {
        self.src()?
            .rel_data(id)?
            .ok_or_else(|| entity_not_found("Relationship", id))
    }

    fn write_rel(&mut self, id: u64, d: &RelData) -> Result<()> {
        codec::encode_rel(&mut self.buf, d);
        let tabs = self.tabs.as_mut().ok_or_else(closed)?;
        tables::block_put(
            &mut tabs.rels,
            &mut tabs.rel_tail,
            &mut self.bbuf,
            &mut tabs.rel_end,
            id,
            &self.buf,
        )
    }

    /// Writes the counters before the commit; `None` when nothing was written.
    fn finish(&mut self) -> Result<Option<TokenCache>> {
        self.guard()?;
        if !self.dirty {
            return Ok(None);
        }
        self.check_existence()?;
        let mut counters = self.counters;
        counters.commit_seq = counters.commit_seq.wrapping_add(1);
        let label_counts = std::mem::take(&mut self.label_counts);
        let type_counts = std::mem::take(&mut self.type_counts);
        let type_counts_valid = self.type_counts_valid;
        let idx_counts = std::mem::take(&mut self.idx.counts);
        let rels_added = self.rels_added;
        {
            let tabs = self.tabs_mut()?;
            merge_deltas(tabs, counters.rel_count, rels_added)?;
            counters.store(tabs)?;
            if type_counts_valid {
                for (t, delta) in type_counts {
                    let key = type_count_key(t);
                    let c = add_delta(tabs.meta_get(&key)?, delta);
                    if c == 0 {
                        tabs.meta.remove(key.as_str()).map_err(st)?;
                    } else {
                        tabs.meta.insert(key.as_str(), c).map_err(st)?;
                    }
                }
                tabs.meta
                    .insert(TYPE_COUNTS_AT, counters.commit_seq.wrapping_add(1))
                    .map_err(st)?;
            }
            for (l, c) in label_counts {
                if c == 0 {
                    tabs.label_count.remove(l).map_err(st)?;
                } else {
                    tabs.label_count.insert(l, c).map_err(st)?;
                }
            }
            for (sid, delta) in idx_counts {
                let c = add_delta(tabs.index_count_stored(sid)?, delta);
                if c == 0 {
                    tabs.idx_count.remove(sid).map_err(st)?;
                } else {
                    tabs.idx_count.insert(sid, c).map_err(st)?;
                }
            }
        }
        Ok(Some(std::mem::take(&mut self.local)))
    }
}

/// `count` moved by `delta` (never below zero).
fn add_delta(count: u64, delta: i64) -> u64 {
    if delta >= 0 {
        count.saturating_add(delta.unsigned_abs())
    } else {
        count.saturating_sub(delta.unsigned_abs())
    }
}

/// A write transaction's property index writes: a scratch buffer for the keys, and the
/// entries added (positive) or removed per schema id, written to the stored counts at commit.
#[derive(Default)]
struct IndexWrites {
    kbuf: Vec<u8>,
    counts: HashMap<u32, i64>,
}

impl IndexWrites {
    /// Adds the entry of `id` under `key` to index `schema` (counted when it was not there).
    fn add(&mut self, t: &mut PropIdxTable<'_>, schema: u32, key: &[u8], id: u64) -> Result<()> {
        tables::idx_key(&mut self.kbuf, schema, key, id);
        if t.insert(self.kbuf.as_slice(), ()).map_err(st)?.is_none() {
            *self.counts.entry(schema).or_insert(0) += 1;
        }
        Ok(())
    }

    /// Removes the entry of `id` under `key` from index `schema` (counted when it was there).
    fn remove(&mut self, t: &mut PropIdxTable<'_>, schema: u32, key: &[u8], id: u64) -> Result<()> {
        tables::idx_key(&mut self.kbuf, schema, key, id);
        if t.remove(self.kbuf.as_slice()).map_err(st)?.is_some() {
            *self.counts.entry(schema).or_insert(0) -= 1;
        }
        Ok(())
    }
}

/// The property index table of a write transaction.
type PropIdxTable<'t> = redb::Table<'t, &'static [u8], ()>;

/// Bounded merge of the adjacency delta tables at commit: when one holds more than
/// [`tables::delta_target`] entries, the next window of it (at most twice what this
/// transaction added, plus 1024, and at most [`tables::MERGE_MAX`]) moves into the chunks, so
/// the delta stays near its target size, no commit does more than a bounded multiple of its
/// own work, and the merge's memory is bounded however large the transaction was (the rest
/// of a huge load's delta is merged by the commits after it; reads see delta and chunks alike).
fn merge_deltas(tabs: &mut WTabs<'_>, rels: u64, added: u64) -> Result<()> {
    merge_deltas_at_most(tabs, rels, added, tables::MERGE_MAX)
}

fn merge_deltas_at_most(tabs: &mut WTabs<'_>, rels: u64, added: u64, cap: u64) -> Result<()> {
    let target = tables::delta_target(rels);
    let mut buf = Vec::new();
    for outgoing in [true, false] {
        let cursor_key = if outgoing {
            tables::OUT_DELTA_CURSOR
        } else {
            tables::IN_DELTA_CURSOR
        };
        let cursor = tabs.meta_get(cursor_key)?;
        let (chunks, delta) = if outgoing {
            (&mut tabs.out, &mut tabs.out_delta)
        } else {
            (&mut tabs.inc, &mut tabs.inc_delta)
        };
        let len = delta.len().map_err(st)?;
        if len <= target {
            continue;
        }
        let max = (len - target)
            .min(added.saturating_mul(2).saturating_add(1024))
            .min(cap);
        let next = tables::delta_merge(chunks, delta, &mut buf, cursor, max)?;
        if next != cursor {
            tabs.meta.insert(cursor_key, next).map_err(st)?;
        }
    }
    Ok(())
}

impl WriteTxn {
    fn state(&self) -> &WriteState<'_> {
        self.0.borrow_dependent()
    }

    fn state_mut<T>(&mut self, f: impl FnOnce(&mut WriteState<'_>) -> T) -> T {
        self.0.with_dependent_mut(|_, w| f(w))
    }

    /// Commits durably. On error nothing was committed.
    pub fn commit(self) -> Result<()> {
        let inner = self.state().inner.clone();
        no_panic("commit", || self.commit_inner()).map_err(|e| inner.note(e))
    }

    fn commit_inner(mut self) -> Result<()> {
        let Some(local) = self.state_mut(|w| w.finish())? else {
            // Nothing was written: skip the durable commit (two fsyncs) entirely. Matters for
            // read-only queries run in write transactions.
            return self.abort();
        };
        let inner = self.state().inner.clone();
        // Drops the tables, then commits the transaction they borrowed.
        let txn = self.0.into_owner();
        let committed = txn.commit();
        // Read transactions that begin from now on see this commit (and after a failed one,
        // a fresh snapshot is the safe choice).
        inner.new_generation();
        committed.map_err(|e| {
            let mut e = st(e);
            e.message = format!("commit failed: {}", e.message);
            e
        })?;
        if !local.is_empty() {
            let mut guard = inner.tokens.write().map_err(|_| lock_err())?;
            let mut merged = (**guard).clone();
            merged.merge(&local);
            *guard = Arc::new(merged);
        }
        Ok(())
    }

    /// The number of writing commits this transaction started from (see
    /// [`ReadTxn::commit_seq`]).
    pub fn commit_seq(&self) -> u64 {
        self.state().counters.commit_seq
    }

    /// Whether anything was written (a commit then counts in [`WriteTxn::commit_seq`]).
    pub fn has_writes(&self) -> bool {
        self.state().dirty
    }

    /// Discards every change.
    pub fn abort(self) -> Result<()> {
        let inner = self.state().inner.clone();
        self.0.into_owner().abort().map_err(|e| inner.note(st(e)))
    }
}

/// The writes run on the state; `WriteTxn` only lends it out.
impl GraphWrite for WriteTxn {
    fn create_node(&mut self, labels: &[String], properties: Map) -> Result<NodeId> {
        self.state_mut(|w| w.create_node(labels, properties))
    }
    fn create_relationship(
        &mut self,
        src: NodeId,
        dst: NodeId,
        rel_type: &str,
        properties: Map,
    ) -> Result<RelId> {
        self.state_mut(|w| w.create_relationship(src, dst, rel_type, properties))
    }
    fn set_node_property(&mut self, id: NodeId, key: &str, value: Value) -> Result<()> {
        self.state_mut(|w| w.set_node_property(id, key, value))
    }
    fn set_relationship_property(&mut self, id: RelId, key: &str, value: Value) -> Result<()> {
        self.state_mut(|w| w.set_relationship_property(id, key, value))
    }
    fn replace_node_properties(&mut self, id: NodeId, properties: Map) -> Result<()> {
        self.state_mut(|w| w.replace_node_properties(id, properties))
    }
    fn replace_relationship_properties(&mut self, id: RelId, properties: Map) -> Result<()> {
        self.state_mut(|w| w.replace_relationship_properties(id, properties))
    }
    fn add_labels(&mut self, id: NodeId, labels: &[String]) -> Result<usize> {
        self.state_mut(|w| w.add_labels(id, labels))
    }
    fn remove_labels(&mut self, id: NodeId, labels: &[String]) -> Result<usize> {
        self.state_mut(|w| w.remove_labels(id, labels))
    }
    fn delete_node(&mut self, id: NodeId) -> Result<()> {
        self.state_mut(|w| w.delete_node(id))
    }
    fn delete_relationship(&mut self, id: RelId) -> Result<()> {
        self.state_mut(|w| w.delete_relationship(id))
    }
    fn create_schema(&mut self, def: SchemaDef) -> Result<()> {
        self.state_mut(|w| w.create_schema(def))
    }
    fn drop_schema(&mut self, name: &str) -> Result<()> {
        self.state_mut(|w| w.drop_schema(name))
    }
}

fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(render_value).collect();
            format!("[{}]", parts.join(", "))
        }
        other => format!("{other:?}"),
    }
}

impl GraphWrite for WriteState<'_> {
    fn create_node(&mut self, labels: &[String], properties: Map) -> Result<NodeId> {
        self.run(|w| {
            let props = w.intern_props(properties)?;
            let labels = w.intern_labels(labels)?;
            let id = w.counters.next_node;
            let d = NodeData { labels, props };
            let entries = index_entries(&w.schemas, &d);
            w.check_unique(id, &entries, &d)?;
            w.touch(id);
            codec::encode_node(&mut w.buf, &d);
            let tabs = w.tabs.as_mut().ok_or_else(closed)?;
            tables::block_put(
                &mut tabs.nodes,
                &mut tabs.node_tail,
                &mut w.bbuf,
                &mut tabs.node_end,
                id,
                &w.buf,
            )?;
            for l in &d.labels {
                tables::label_add(&mut tabs.label_idx, *l, id)?;
            }
            for (sid, _, key) in &entries {
                w.idx.add(&mut tabs.prop_idx, *sid, key, id)?;
            }
            for l in &d.labels {
                w.bump_label(*l, true)?;
            }
            w.counters.next_node = id
                .checked_add(1)
                .ok_or_else(|| Error::internal("node id space exhausted"))?;
            w.counters.node_count += 1;
            w.note_existing(&[id]);
            Ok(id)
        })
    }

    fn create_relationship(
        &mut self,
        src: NodeId,
        dst: NodeId,
        rel_type: &str,
        properties: Map,
    ) -> Result<RelId> {
        self.run(|w| {
            {
                let s = w.src()?;
                let recent = w.recent.borrow();
                for n in [src, dst] {
                    if !recent.contains(&n) && !s.node_exists(n)? {
                        return Err(entity_not_found("Node", n));
                    }
                }
            }
            let props = w.intern_props(properties)?;
            let t = w.intern(KIND_TYPE, rel_type)?;
            let id = w.counters.next_rel;
            let d = RelData {
                src,
                dst,
                rel_type: t,
                props,
            };
            w.update_rel(id, None, &d)?;
            let tabs = w.tabs.as_mut().ok_or_else(closed)?;
            tables::edge_insert(&mut tabs.out_delta, src, t, id, dst)?;
            tables::edge_insert(&mut tabs.inc_delta, dst, t, id, src)?;
            w.rels_added += 1;
            *w.type_counts.entry(t).or_default() += 1;
            w.counters.next_rel = id
                .checked_add(1)
                .ok_or_else(|| Error::internal("relationship id space exhausted"))?;
            w.counters.rel_count += 1;
            Ok(id)
        })
    }

    fn set_node_property(&mut self, id: NodeId, key: &str, value: Value) -> Result<()> {
        self.run(|w| {
            let old = w.existing_node(id)?;
            let mut new = old.clone();
            if value.is_null() {
                let Some(k) = w.token_id(KIND_KEY, key)? else {
                    return Ok(());
                };
                let before = new.props.len();
                new.props.retain(|(pk, _)| *pk != k);
                if new.props.len() == before {
                    return Ok(());
                }
            } else {
                codec::check_property(key, &value)?;
                let k = w.intern(KIND_KEY, key)?;
                match new.props.binary_search_by_key(&k, |(pk, _)| *pk) {
                    Ok(i) => {
                        if let Some(slot) = new.props.get_mut(i) {
                            slot.1 = value;
                        }
                    }
                    Err(i) => new.props.insert(i, (k, value)),
                }
            }
            w.update_node(id, &old, new)
        })
    }

    fn set_relationship_property(&mut self, id: RelId, key: &str, value: Value) -> Result<()> {
        self.run(|w| {
            let mut d = w.existing_rel(id)?;
            // The old record matters only for index entries.
            let old = w.has_rel_index().then(|| d.clone());
            if value.is_null() {
                let Some(k) = w.token_id(KIND_KEY, key)? else {
                    return Ok(());
                };
                let before = d.props.len();
                d.props.retain(|(pk, _)| *pk != k);
                if d.props.len() == before {
                    return Ok(());
                }
            } else {
                codec::check_property(key, &value)?;
                let k = w.intern(KIND_KEY, key)?;
                match d.props.binary_search_by_key(&k, |(pk, _)| *pk) {
                    Ok(i) => {
                        if let Some(slot) = d.props.get_mut(i) {
                            slot.1 = value;
                        }
                    }
                    Err(i) => d.props.insert(i, (k, value)),
                }
            }
            w.update_rel(id, old.as_ref(), &d)
        })
    }

    fn replace_node_properties(&mut self, id: NodeId, properties: Map) -> Result<()> {
        self.run(|w| {
            let old = w.existing_node(id)?;
            let props = w.intern_props(properties)?;
            let new = NodeData {
                labels: old.labels.clone(),
                props,
            };
            w.update_node(id, &old, new)
        })
    }

    fn replace_relationship_properties(&mut self, id: RelId, properties: Map) -> Result<()> {
        self.run(|w| {
            let old = w.existing_rel(id)?;
            let mut d = old.clone();
            d.props = w.intern_props(properties)?;
            w.update_rel(id, Some(&old), &d)
        })
    }

    fn add_labels(&mut self, id: NodeId, labels: &[String]) -> Result<usize> {
        self.run(|w| {
            let old = w.existing_node(id)?;
            let ids = w.intern_labels(labels)?;
            let mut new = old.clone();
            let mut added = 0;
            for l in ids {
                if let Err(i) = new.labels.binary_search(&l) {
                    new.labels.insert(i, l);
                    added += 1;
                }
            }
            if added > 0 {
                w.update_node(id, &old, new)?;
            }
            Ok(added)
        })
    }

    fn remove_labels(&mut self, id: NodeId, labels: &[String]) -> Result<usize> {
        self.run(|w| {
            let old = w.existing_node(id)?;
            let mut new = old.clone();
            let mut removed = 0;
            for l in labels {
                if let Some(lid) = w.token_id(KIND_LABEL, l)? {
                    if let Ok(i) = new.labels.binary_search(&lid) {
                        new.labels.remove(i);
                        removed += 1;
                    }
                }
            }
            if removed > 0 {
                w.update_node(id, &old, new)?;
            }
            Ok(removed)
        })
    }

    fn delete_node(&mut self, id: NodeId) -> Result<()> {
        self.run(|w| {
            let Some(d) = w.src()?.node_data(id)? else {
                return Ok(());
            };
            if w.src()?.has_relationships(id)? {
                return Err(Error::new(
                    ErrorCode::ConstraintValidationFailed,
                    format!(
                        "Cannot delete node<{id}>, because it still has relationships. To delete this node, you must first delete its relationships."
                    ),
                )
                .with_detail("DeleteConnectedNode"));
            }
            w.recent.borrow_mut().clear();
            let entries = index_entries(&w.schemas, &d);
            let tabs = w.tabs.as_mut().ok_or_else(closed)?;
            tables::block_remove(&mut tabs.nodes, &mut tabs.node_tail, &mut w.bbuf, id)?;
            for l in &d.labels {
                tables::label_remove(&mut tabs.label_idx, *l, id)?;
            }
            for (sid, _, key) in &entries {
                w.idx.remove(&mut tabs.prop_idx, *sid, key, id)?;
            }
            for l in &d.labels {
                w.bump_label(*l, false)?;
            }
            w.counters.node_count = w.counters.node_count.saturating_sub(1);
            Ok(())
        })
    }

    fn delete_relationship(&mut self, id: RelId) -> Result<()> {
        self.run(|w| {
            let Some(d) = w.src()?.rel_data(id)? else {
                return Ok(());
            };
            let entries = rel_index_entries(&w.schemas, &d);
            let tabs = w.tabs.as_mut().ok_or_else(closed)?;
            tables::block_remove(&mut tabs.rels, &mut tabs.rel_tail, &mut w.bbuf, id)?;
            for (sid, _, key) in &entries {
                w.idx.remove(&mut tabs.prop_idx, *sid, key, id)?;
            }
            tables::edge_remove(
                &mut tabs.out,
                &mut tabs.out_delta,
                &mut w.buf,
                d.src,
                d.rel_type,
                id,
            )?;
            tables::edge_remove(
                &mut tabs.inc,
                &mut tabs.inc_delta,
                &mut w.buf,
                d.dst,
                d.rel_type,
                id,
            )?;
            w.counters.rel_count = w.counters.rel_count.saturating_sub(1);
            *w.type_counts.entry(d.rel_type).or_default() -= 1;
            Ok(())
        })
    }

    fn create_schema(&mut self, def: SchemaDef) -> Result<()> {
        self.run(|w| {
            if def.properties.is_empty() {
                return Err(Error::argument("an index needs at least one property"));
            }
            if w.schemas.iter().any(|s| s.name == def.name) {
                return Err(Error::new(
                    ErrorCode::ConstraintValidationFailed,
                    format!("An index or constraint named `{}` already exists", def.name),
                )
                .with_detail("EquivalentSchemaRuleAlreadyExists"));
            }
            let mut seen = Vec::new();
            for p in &def.properties {
                if seen.contains(&p) {
                    return Err(Error::argument(format!(
                        "property `{p}` is listed twice in the index"
                    )));
                }
                seen.push(p);
            }
            let rel = def.kind.on_relationships();
            let label = w.intern(if rel { KIND_TYPE } else { KIND_LABEL }, &def.label)?;
            let mut keys = Vec::with_capacity(def.properties.len());
            for p in &def.properties {
                keys.push(w.intern(KIND_KEY, p)?);
            }
            // An index and a uniqueness constraint may cover the same properties (Memgraph
            // allows both; gqlalchemy's `Field(index=True, unique=True)` creates both).
            let (exists, unique) = def.kind.flags();
            if w.schemas.iter().any(|s| {
                s.rel == rel
                    && s.label == label
                    && s.keys == keys
                    && s.unique == unique
                    && s.exists == exists
            }) {
                let target = if rel {
                    format!("()-[:{}]-()", def.label)
                } else {
                    format!(":{}", def.label)
                };
                return Err(Error::new(
                    ErrorCode::ConstraintValidationFailed,
                    format!(
                        "An index or constraint on {target}({}) already exists",
                        def.properties.join(", ")
                    ),
                )
                .with_detail("EquivalentSchemaRuleAlreadyExists"));
            }
            let id = w.counters.next_schema;
            let s = SchemaData {
                id,
                name: def.name.clone(),
                unique,
                exists,
                rel,
                label,
                keys,
            };
            let creation_failed = |mut e: Error| {
                e.message = format!("Unable to create constraint `{}`: {}", def.name, e.message);
                e
            };
            // Build the entries in memory first so a violation leaves no trace. The entities
            // the rule covers, as (id, properties): the label's nodes, or (relationships have
            // no type index) every relationship of the type, each read once.
            let src = w.src()?;
            let covered: BoxIter<'_, (u64, Vec<(u32, Value)>)> = if rel {
                Box::new(src.id_iter(true)?.filter_map(move |r| {
                    let found = r.and_then(|r| Ok(src.rel_data(r)?.map(|d| (r, d))));
                    match found {
                        Ok(Some((r, d))) if d.rel_type == label => Some(Ok((r, d.props))),
                        Ok(_) => None,
                        Err(e) => Some(Err(e)),
                    }
                }))
            } else {
                Box::new(src.label_node_ids(label)?.into_iter().filter_map(move |n| {
                    match src.node_data(n) {
                        Ok(Some(d)) => Some(Ok((n, d.props))),
                        Ok(None) => None,
                        Err(e) => Some(Err(e)),
                    }
                }))
            };
            let mut entries: Vec<(Vec<u8>, u64)> = Vec::new();
            for item in covered {
                let (n, props) = item?;
                // Refused if existing data violates it.
                if s.exists {
                    if let Some(missing) = s.keys.iter().find(|k| prop_of(&props, **k).is_none()) {
                        return Err(creation_failed(w.existence_violation(&s, n, *missing)));
                    }
                }
                if s.indexed() {
                    if let Some(key) = schema_key(&s, &props) {
                        entries.push((key, n));
                    }
                }
            }
            entries.sort();
            if s.unique {
                for pair in entries.windows(2) {
                    if let [(k1, n1), (k2, n2)] = pair {
                        if k1 == k2 {
                            w.schemas.push(s.clone());
                            let e = if rel {
                                let d = w.src()?.rel_data(*n2)?;
                                d.map(|d| w.rel_violation(id, *n1, &d))
                            } else {
                                let d = w.src()?.node_data(*n2)?.unwrap_or_default();
                                Some(w.violation(id, *n1, &d))
                            };
                            w.schemas.pop();
                            let e = e.unwrap_or_else(|| Error::internal("relationship vanished"));
                            return Err(creation_failed(e));
                        }
                    }
                }
            }
            let rec = codec::encode_schema(&s);
            let tabs = w.tabs.as_mut().ok_or_else(closed)?;
            for (key, n) in &entries {
                w.idx.add(&mut tabs.prop_idx, id, key, *n)?;
            }
            tabs.schema.insert(id, rec.as_slice()).map_err(st)?;
            w.counters.next_schema = id
                .checked_add(1)
                .ok_or_else(|| Error::internal("schema id space exhausted"))?;
            w.schemas.push(s);
            Ok(())
        })
    }

    fn drop_schema(&mut self, name: &str) -> Result<()> {
        self.run(|w| {
            let Some(pos) = w.schemas.iter().position(|s| s.name == name) else {
                return Err(Error::new(
                    ErrorCode::ConstraintValidationFailed,
                    format!("No index or constraint named `{name}` exists"),
                )
                .with_detail("IndexNotFound"));
            };
            let id = w.schemas.get(pos).map(|s| s.id).unwrap_or_default();
            let tabs = w.tabs.as_mut().ok_or_else(closed)?;
            let prefix = id.to_be_bytes();
            let mut keys: Vec<Vec<u8>> = Vec::new();
            for e in tabs.prop_idx.range(&prefix[..]..).map_err(st)? {
                let (k, _) = e.map_err(st)?;
                let k = k.value();
                if !k.starts_with(&prefix) {
                    break;
                }
                keys.push(k.to_vec());
            }
            for key in &keys {
                tabs.prop_idx.remove(key.as_slice()).map_err(st)?;
            }
            tabs.idx_count.remove(id).map_err(st)?;
            w.idx.counts.remove(&id);
            tabs.schema.remove(id).map_err(st)?;
            w.schemas.remove(pos);
            Ok(())
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use redb::{ReadableTable, ReadableTableMetadata};

    /// A commit's merge moves at most `cap` entries of each delta into the chunks; the rest
    /// stays for the commits after it (the window it holds in memory is bounded however large
    /// the transaction was).
    #[test]
    fn a_merge_moves_a_bounded_window() {
        let db = redb::Builder::new()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let w = db.begin_write().unwrap();
        let mut tabs = tables::open_write(&w).unwrap();
        for i in 0..10_000u64 {
            tables::edge_insert(&mut tabs.out_delta, i % 300, 1, i, (i * 7) % 300).unwrap();
            tables::edge_insert(&mut tabs.inc_delta, (i * 7) % 300, 1, i, i % 300).unwrap();
        }
        let chunk_edges = |t: &tables::AdjTable<'_>| -> usize {
            t.iter()
                .unwrap()
                .map(|e| codec::decode_adj(e.unwrap().1.value()).unwrap().len())
                .sum()
        };
        // 10,000 relationships: a target of 4096; the transaction added them all (a window of
        // 2 x 10,000 + 1024), capped at 1000.
        merge_deltas_at_most(&mut tabs, 10_000, 10_000, 1000).unwrap();
        assert_eq!(tabs.out_delta.len().unwrap(), 9_000);
        assert_eq!(tabs.inc_delta.len().unwrap(), 9_000);
        assert_eq!(chunk_edges(&tabs.out), 1000);
        assert_eq!(chunk_edges(&tabs.inc), 1000);
        // The next merges go on down to the target.
        merge_deltas(&mut tabs, 10_000, 10_000).unwrap();
        assert_eq!(tabs.out_delta.len().unwrap(), 4096);
        assert_eq!(chunk_edges(&tabs.out), 10_000 - 4096);
        assert_eq!(chunk_edges(&tabs.inc), 10_000 - 4096);
    }
}
