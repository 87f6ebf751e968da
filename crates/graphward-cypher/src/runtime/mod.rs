//! The runtime: [`Engine`] (the `QueryEngine` implementation), transactions, and the
//! executor modules (`eval`, `matcher`, `project`, `runner`, `values`).

mod csv;
pub mod eval;
pub mod matcher;
mod memgraph;
mod parallel;
mod pipelined;
pub mod plan;
pub mod project;
pub mod runner;
pub(crate) mod seek_hints;
pub mod show;
mod statements;
pub mod values;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use graphward_core::engine::{
    AccessMode, AutoCompact, Bookmark, CancelToken, CommitInfo, DatabaseInfo, EngineConfig, Limits,
    Params, Prepared, QueryEngine, QueryType, ResultStream, Stats, Summary, Transaction,
    TransactionMetrics, TxOptions,
};
use graphward_core::{Error, ErrorCode, Result, Value};
use graphward_storage::{Database, GraphRead, GraphWrite, SchemaDef, SchemaKind, Storage};
use graphward_temporal::Clock;

use crate::ast::{AdminCommand, SchemaEntity, ShowCommand, Statement};
use eval::{Env, Ev, MemAccount, Row, TableProcedure};
use graphward_core::commands::RowsStream;
use runner::{has_updates, Runner, StoreTx};

/// Parse one statement within the engine's limits (query length, nesting depth): the one parse
/// every statement gets, whatever it is (query, schema or server command).
pub fn parse_statement(text: &str, limits: &Limits) -> Result<Statement> {
    if text.len() > limits.max_query_length {
        return Err(Error::new(
            ErrorCode::ResourceLimit,
            format!(
                "query is {} bytes long, more than the limit of {} bytes",
                text.len(),
                limits.max_query_length
            ),
        ));
    }
    let mut stmt = crate::parser::parse(text, limits.max_nesting_depth)?;
    // A deeply nested statement is walked on a big stack only; it goes without the hints.
    if !crate::semantic::statement_is_deep(&stmt) {
        seek_hints::add(&mut stmt);
    }
    Ok(stmt)
}

/// How long a writer waits for the write lock before giving up (unless the transaction's own
/// timeout ends sooner).
const WRITE_LOCK_TIMEOUT: Duration = Duration::from_secs(30);
/// A transaction with less time than this left does not wait for a snapshot while the
/// database file is compacted or reopened (see `EngineTx::begin_read`).
const SHORT_WAIT: Duration = Duration::from_millis(10);

/// How often the first writer in a database's queue looks again at the write lock (a release
/// by another engine transaction wakes it at once; this bounds the wait for any other holder).
const WRITE_LOCK_POLL: Duration = Duration::from_millis(5);

/// How often a writer further back in the queue wakes to check its deadline and cancellation
/// (its turn wakes it at once).
const WRITE_QUEUE_CHECK: Duration = Duration::from_millis(50);

/// How often a transaction waiting for a bookmark's commit looks again.
const BOOKMARK_POLL: Duration = Duration::from_millis(10);

/// Longest statement text `SHOW TRANSACTIONS` shows (longer ones are cut, marked with `...`).
const SHOWN_STATEMENT_CHARS: usize = 1000;

/// What the engine knows about one open transaction (`SHOW TRANSACTIONS`).
#[derive(Debug, Clone)]
struct TxEntry {
    database: String,
    user: Option<String>,
    started: graphward_core::temporal::DateTime,
    started_at: Instant,
    /// When its last statement ended (or it began).
    last_active: Instant,
    /// The statement running now, or the last one.
    statement: Option<String>,
    running: bool,
    /// Whether it holds its database's write lock.
    holds_write: bool,
    /// Whether it is waiting for the write lock.
    waiting: bool,
    cancel: CancelToken,
    terminated: bool,
    /// The database file's size when the snapshot watcher first saw this transaction.
    baseline_size: Option<u64>,
    /// The snapshot warning was logged.
    warned: bool,
    /// Where the transaction's storage transaction rests between its statements, so that
    /// `TERMINATE TRANSACTION` can release it (the write lock, the snapshot) at once.
    parked: Parked,
    /// When its time is up (the client's or the server's transaction timeout).
    deadline: Option<Instant>,
    /// The client's transaction metadata.
    metadata: Arc<graphward_core::value::Map>,
    /// Its time was up while no statement of it ran: its storage transaction (the snapshot,
    /// the write lock) was released by the engine; its next statement or commit fails.
    expired: bool,
}

/// A transaction's storage transaction while no statement of it runs (see [`TxEntry::parked`]).
#[derive(Clone, Default)]
struct Parked(Arc<Mutex<Option<StoreTx>>>);

impl std::fmt::Debug for Parked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Parked")
    }
}

/// The writers waiting for one database's write lock, served in arrival order: only the first
/// in the queue tries to take the lock, and a release wakes it at once (no polling race in
/// which a late writer overtakes ones waiting longer).
#[derive(Default)]
struct WriteQueue {
    /// Transaction ids, first come first.
    waiting: Mutex<VecDeque<u64>>,
    turn: Condvar,
}

impl WriteQueue {
    /// Wakes the waiters (a write lock was released, or the queue's head changed).
    fn wake(&self) {
        // Notify under the queue's lock: the head checks the lock and starts waiting under
        // it, so it cannot miss the wake-up.
        let _guard = self.waiting.lock();
        self.turn.notify_all();
    }
}

struct Inner {
    storage: Storage,
    config: EngineConfig,
    procedures: Arc<RwLock<HashMap<String, TableProcedure>>>,
    /// The id the next transaction gets.
    next_tx: AtomicU64,
    /// Open transactions by id.
    txs: Mutex<HashMap<u64, TxEntry>>,
    /// Write-lock waits that had to wait, and their total time in microseconds.
    lock_waits: AtomicU64,
    lock_wait_micros: AtomicU64,
    /// Per database: the writers waiting for its write lock.
    write_queues: Mutex<HashMap<String, Arc<WriteQueue>>>,
    /// The server-wide memory pool every query's charges go to.
    memory: Arc<graphward_core::memory::MemoryPool>,
    /// Parsed queries by text (see [`statements`]).
    statements: Mutex<statements::StatementCache>,
}

impl Inner {
    /// The statement parsed once and kept in the statement cache (queries only), or the
    /// cached one.
    fn prepare(&self, text: &str) -> Result<Prepared> {
        if let Some(p) = self.statements.lock().ok().and_then(|mut c| c.get(text)) {
            return Ok(p);
        }
        let stmt = parse_statement(text, &self.config.limits)?;
        let control = match &stmt {
            Statement::TxControl(c) => Some(*c),
            _ => None,
        };
        // Only queries are kept: a server command's text may hold a password or a secret.
        let query = match &stmt {
            Statement::Query(_) => true,
            Statement::Explain(s) | Statement::Profile(s) => matches!(**s, Statement::Query(_)),
            _ => false,
        };
        let prepared = if is_short_read(&stmt) {
            Prepared::parsed_short_read(text, stmt)
        } else {
            Prepared::parsed_as(text, control, stmt)
        };
        if query {
            if let Ok(mut c) = self.statements.lock() {
                c.insert(text, prepared.clone());
            }
        }
        Ok(prepared)
    }
    /// Compacts one database file (see [`Engine::compact_database`]).
    fn compact(&self, name: &str) -> Result<(u64, u64)> {
        self.storage.compact(&name.to_ascii_lowercase())
    }

    /// The write-lock queue of `database`.
    fn write_queue(&self, database: &str) -> Result<Arc<WriteQueue>> {
        let mut queues = self
            .write_queues
            .lock()
            .map_err(|_| Error::internal("write-lock queue poisoned"))?;
        Ok(queues.entry(database.to_string()).or_default().clone())
    }

    /// A write lock of `database` was released: the first waiter takes it now.
    fn write_released(&self, database: &str) {
        let queue = match self.write_queues.lock() {
            Ok(q) => q.get(database).cloned(),
            Err(_) => None,
        };
        if let Some(q) = queue {
            q.wake();
        }
    }

    fn set_holds_write(&self, id: u64, holds: bool) {
        self.update_tx(id, |e| e.holds_write = holds);
    }

    fn update_tx(&self, id: u64, f: impl FnOnce(&mut TxEntry)) {
        if let Ok(mut txs) = self.txs.lock() {
            if let Some(e) = txs.get_mut(&id) {
                f(e);
            }
        }
    }

    /// The id of the transaction holding the write lock of `database`, if one is known.
    fn write_holder(&self, database: &str) -> Option<u64> {
        let txs = self.txs.lock().ok()?;
        txs.iter()
            .find(|(_, e)| e.holds_write && e.database == database)
            .map(|(id, _)| *id)
    }
}

/// How a transaction id is shown to clients (`SHOW TRANSACTIONS`, lock-wait errors), in
/// Neo4j's form: `<database>-transaction-<n>`.
fn tx_id_string(database: &str, id: u64) -> String {
    format!("{database}-transaction-{id}")
}

/// Reads an id written by [`tx_id_string`]: the database and the number.
fn parse_tx_id(text: &str) -> Option<(&str, u64)> {
    let (database, n) = text.rsplit_once("-transaction-")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((database, n.parse().ok()?))
}

/// Logs, once per transaction, one that has held its snapshot for `age` while its database
/// file grew (old snapshots keep the pages later commits free from being reused). Runs until
/// the engine is dropped.
fn watch_snapshots(engine: std::sync::Weak<Inner>, age: Duration) {
    let tick = (age / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
    loop {
        std::thread::sleep(tick);
        let Some(inner) = engine.upgrade() else {
            return;
        };
        let databases: Vec<String> = match inner.txs.lock() {
            Ok(txs) => {
                let mut d: Vec<String> = txs
                    .values()
                    .filter(|e| !e.warned)
                    .map(|e| e.database.clone())
                    .collect();
                d.sort();
                d.dedup();
                d
            }
            Err(_) => return,
        };
        let sizes: HashMap<String, u64> = databases
            .into_iter()
            .filter_map(|name| {
                let size = inner.storage.database(&name).ok()?.file_size()?;
                Some((name, size))
            })
            .collect();
        let now = Instant::now();
        let Ok(mut txs) = inner.txs.lock() else {
            return;
        };
        for (id, e) in txs.iter_mut().filter(|(_, e)| !e.warned) {
            let Some(&size) = sizes.get(&e.database) else {
                continue;
            };
            let baseline = *e.baseline_size.get_or_insert(size);
            let held = now.saturating_duration_since(e.started_at);
            if held >= age && size > baseline {
                e.warned = true;
                tracing::warn!(
                    transaction = %tx_id_string(&e.database, *id),
                    user = e.user.as_deref().unwrap_or(""),
                    database = %e.database,
                    "transaction has held its snapshot for {} s while the database file grew from {baseline} to {size} bytes; end it with TERMINATE TRANSACTION (--transaction-timeout bounds it)",
                    held.as_secs()
                );
            }
        }
    }
}

/// How often the engine looks for idle transactions past their timeout.
const EXPIRY_TICK: Duration = Duration::from_millis(250);

/// Releases the storage transaction (snapshot, write lock) of every transaction whose time
/// is up while it is idle between statements: an old snapshot then stops keeping the pages
/// later commits free, so a forgotten reader cannot grow the file beyond what was written
/// during its timeout. The transaction's next statement or commit fails with the timeout
/// error. Runs until the engine is dropped.
fn expire_loop(engine: std::sync::Weak<Inner>) {
    loop {
        std::thread::sleep(EXPIRY_TICK);
        let Some(inner) = engine.upgrade() else {
            return;
        };
        let now = Instant::now();
        let due: Vec<(u64, String, Parked)> = match inner.txs.lock() {
            Ok(txs) => txs
                .iter()
                .filter(|(_, e)| !e.expired && e.deadline.is_some_and(|d| now >= d))
                .map(|(id, e)| (*id, e.database.clone(), e.parked.clone()))
                .collect(),
            Err(_) => return,
        };
        for (id, database, parked) in due {
            // Only a parked store is taken: a running statement stops at its own deadline.
            let store = match parked.0.lock() {
                Ok(mut slot) => slot.take(),
                Err(_) => continue,
            };
            let Some(store) = store else {
                continue;
            };
            let wrote = matches!(store, StoreTx::Write(_));
            drop(store);
            inner.update_tx(id, |e| {
                e.expired = true;
                e.holds_write = false;
            });
            if wrote {
                inner.write_released(&database);
            }
            tracing::info!(
                transaction = %tx_id_string(&database, id),
                "transaction timed out while idle: its snapshot{} released",
                if wrote { " and the write lock were" } else { " was" }
            );
        }
    }
}

/// How often automatic compaction looks at the database files.
const AUTO_COMPACT_TICK: Duration = Duration::from_secs(1);

/// Whether automatic compaction should compact a file of `size` bytes whose size after the
/// last compaction (or when first seen) was `baseline`.
fn auto_compact_due(policy: AutoCompact, baseline: u64, size: u64) -> bool {
    let grown_to = u128::from(baseline) * u128::from(100 + policy.growth_percent) / 100;
    size >= policy.min_bytes && u128::from(size) >= grown_to.max(1)
}

/// Automatic compaction (see [`AutoCompact`]): compacts a database file that has grown past
/// the policy's threshold, when no transaction is open on it. Runs until the engine is
/// dropped.
fn auto_compact_loop(engine: std::sync::Weak<Inner>, policy: AutoCompact) {
    // The sizes at startup: growth is counted from here.
    let mut baselines: HashMap<String, u64> = match engine.upgrade() {
        Some(inner) => inner
            .storage
            .database_names()
            .into_iter()
            .filter_map(|name| {
                let size = inner.storage.database(&name).ok()?.file_size()?;
                Some((name, size))
            })
            .collect(),
        None => return,
    };
    loop {
        std::thread::sleep(AUTO_COMPACT_TICK);
        let Some(inner) = engine.upgrade() else {
            return;
        };
        for name in inner.storage.database_names() {
            let Some(size) = inner
                .storage
                .database(&name)
                .ok()
                .and_then(|db| db.file_size())
            else {
                continue;
            };
            let baseline = *baselines.entry(name.clone()).or_insert(size);
            if !auto_compact_due(policy, baseline, size) {
                continue;
            }
            let busy = match inner.txs.lock() {
                Ok(txs) => txs.values().any(|e| e.database == name && !e.expired),
                Err(_) => return,
            };
            if busy {
                // A transaction began meanwhile would make the storage refuse (it never
                // waits for one); look again at the next tick.
                continue;
            }
            let started = Instant::now();
            match inner.compact(&name) {
                Ok((before, after)) => {
                    baselines.insert(name.clone(), after);
                    tracing::info!(
                        database = %name,
                        before,
                        after,
                        seconds = started.elapsed().as_secs_f64(),
                        "database compacted automatically (grown by {} % since the last compaction)",
                        policy.growth_percent
                    );
                }
                Err(e) if e.code == ErrorCode::DatabaseUnavailable => {
                    tracing::debug!(database = %name, "automatic compaction postponed: {}", e.message);
                }
                Err(e) => {
                    // Not retried until the file grows again past the threshold.
                    baselines.insert(name.clone(), size);
                    tracing::warn!(database = %name, "automatic compaction failed: {}", e.message);
                }
            }
        }
    }
}

/// A `Duration` value of a span of wall-clock time.
fn duration_value(d: Duration) -> Value {
    Value::Duration(graphward_core::temporal::Duration {
        months: 0,
        days: 0,
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
    })
}

/// The graph engine: storage plus Cypher. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    /// The database a bookmark names; `InvalidBookmark` when it does not exist.
    fn bookmark_database(&self, b: &Bookmark) -> Result<Arc<Database>> {
        match self.inner.storage.database(&b.database) {
            Err(e) if e.code == ErrorCode::DatabaseNotFound => Err(Error::new(
                ErrorCode::InvalidBookmark,
                format!("bookmark '{b}' names a database that does not exist"),
            )),
            other => other,
        }
    }

    /// Open (or create) the data directory and the default database.
    pub fn open(data_dir: &Path, config: EngineConfig) -> Result<Engine> {
        Self::with_storage(Storage::open(data_dir)?, config, true)
    }

    /// An engine whose storage lives in memory (tests, the TCK).
    pub fn open_in_memory(config: EngineConfig) -> Result<Engine> {
        Self::with_storage(Storage::open_in_memory()?, config, false)
    }

    /// `on_disk`: database files exist, so old snapshots are watched (see
    /// [`watch_snapshots`]).
    fn with_storage(storage: Storage, config: EngineConfig, on_disk: bool) -> Result<Engine> {
        let default = config.default_database.to_ascii_lowercase();
        if !storage.database_names().contains(&default) {
            storage.create_database(&default)?;
        }
        let warn_age = config.limits.snapshot_warning_age.filter(|_| on_disk);
        let auto_compact = config.auto_compact.filter(|_| on_disk);
        let memory = graphward_core::memory::MemoryPool::new(config.limits.max_total_memory_bytes);
        let engine = Engine {
            inner: Arc::new(Inner {
                memory,
                storage,
                config,
                procedures: Arc::new(RwLock::new(HashMap::new())),
                next_tx: AtomicU64::new(1),
                txs: Mutex::new(HashMap::new()),
                lock_waits: AtomicU64::new(0),
                lock_wait_micros: AtomicU64::new(0),
                write_queues: Mutex::new(HashMap::new()),
                statements: Mutex::new(statements::StatementCache::default()),
            }),
        };
        if let Some(age) = warn_age.filter(|a| !a.is_zero()) {
            let weak = Arc::downgrade(&engine.inner);
            let spawned = std::thread::Builder::new()
                .name("snapshot-watch".into())
                .spawn(move || watch_snapshots(weak, age));
            if let Err(e) = spawned {
                tracing::warn!("old snapshots will not be reported: cannot start a thread: {e}");
            }
        }
        {
            let weak = Arc::downgrade(&engine.inner);
            let spawned = std::thread::Builder::new()
                .name("tx-expiry".into())
                .spawn(move || expire_loop(weak));
            if let Err(e) = spawned {
                tracing::warn!(
                    "idle transactions past their timeout keep their snapshot until their next statement: cannot start a thread: {e}"
                );
            }
        }
        if let Some(policy) = auto_compact {
            let weak = Arc::downgrade(&engine.inner);
            let spawned = std::thread::Builder::new()
                .name("auto-compact".into())
                .spawn(move || auto_compact_loop(weak, policy));
            if let Err(e) = spawned {
                tracing::warn!("automatic compaction is off: cannot start a thread: {e}");
            }
        }
        Ok(engine)
    }

    /// Register a fixed-table procedure (the TCK's "there exists a procedure" step).
    pub fn register_procedure(
        &self,
        name: &str,
        inputs: Vec<(String, String)>,
        outputs: Vec<(String, String)>,
        rows: Vec<Vec<Value>>,
    ) {
        if let Ok(mut p) = self.inner.procedures.write() {
            p.insert(
                name.to_ascii_lowercase(),
                TableProcedure {
                    inputs,
                    outputs,
                    rows,
                },
            );
        }
    }

    /// Compacts one database file (`COMPACT DATABASE name`): gives free pages back to the
    /// file system. Fails with `DatabaseUnavailable` while transactions are open on it, and
    /// new ones wait while it runs. Returns the file size before and after, in bytes.
    pub fn compact_database(&self, name: &str) -> Result<(u64, u64)> {
        self.inner.compact(name)
    }

    /// The underlying storage (for tools and tests).
    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }
}

impl QueryEngine for Engine {
    fn begin(&self, options: TxOptions) -> Result<Box<dyn Transaction>> {
        let name = options
            .database
            .clone()
            .unwrap_or_else(|| self.inner.config.default_database.clone())
            .to_ascii_lowercase();
        let system = name == "system";
        let db = if system {
            // `system` answers SHOW DATABASES whatever state the others are in; other
            // statements there use the default database, and fail when they need it and it
            // is unavailable.
            self.inner
                .storage
                .database(&self.inner.config.default_database.to_ascii_lowercase())
                .ok()
        } else {
            Some(self.inner.storage.database(&name).map_err(|e| {
                if e.code == ErrorCode::DatabaseNotFound {
                    Error::new(
                        ErrorCode::DatabaseNotFound,
                        format!("Database does not exist. Database name: '{name}'."),
                    )
                } else {
                    e
                }
            })?)
        };
        let id = self.inner.next_tx.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let parked = Parked::default();
        if let Ok(mut txs) = self.inner.txs.lock() {
            txs.insert(
                id,
                TxEntry {
                    database: name.clone(),
                    user: options.principal.user.clone(),
                    started: Clock::system().now,
                    started_at: now,
                    last_active: now,
                    statement: None,
                    running: false,
                    holds_write: false,
                    waiting: false,
                    cancel: options.cancel.clone(),
                    terminated: false,
                    baseline_size: None,
                    warned: false,
                    parked: parked.clone(),
                    deadline: [
                        options.timeout,
                        self.inner.config.limits.transaction_timeout,
                    ]
                    .into_iter()
                    .flatten()
                    .min()
                    .map(|t| now + t),
                    metadata: Arc::new(options.metadata.clone()),
                    expired: false,
                },
            );
        }
        let mut tx = EngineTx {
            engine: self.inner.clone(),
            id,
            started: now,
            name,
            db,
            store: None,
            parked,
            lent: Arc::new(Mutex::new(Lent::default())),
            options,
            failed: false,
            ran: false,
        };
        // An explicit transaction reads from a snapshot taken now, whatever its access mode;
        // one that may write takes the write lock at its first write (`upgrade_to_write`).
        // `system` needs no store for its own statements (SHOW DATABASES): opened on demand.
        if !tx.options.implicit && !system {
            tx.open_store(false)?;
        }
        tx.park();
        Ok(Box::new(tx))
    }

    fn prepare(&self, text: &str) -> Result<Prepared> {
        self.inner.prepare(text)
    }

    fn bookmarks_reached(&self, bookmarks: &[String]) -> Result<bool> {
        for b in Bookmark::parse_all(bookmarks)? {
            if b.database == "system" {
                continue;
            }
            let db = self.bookmark_database(&b)?;
            // Not known while the file is being compacted or reopened (that would wait).
            match db.try_begin_read()? {
                Some(r) if b.commits <= r.commit_seq()? => {}
                _ => return Ok(false),
            }
        }
        Ok(true)
    }

    fn default_database(&self) -> String {
        self.inner.config.default_database.to_ascii_lowercase()
    }

    fn transaction_metrics(&self) -> TransactionMetrics {
        let now = Instant::now();
        let (open, oldest_age) = match self.inner.txs.lock() {
            Ok(txs) => (
                txs.len() as u64,
                txs.values()
                    .map(|e| now.saturating_duration_since(e.started_at))
                    .max()
                    .unwrap_or_default(),
            ),
            Err(_) => (0, Duration::ZERO),
        };
        TransactionMetrics {
            open,
            oldest_age,
            lock_waits: self.inner.lock_waits.load(Ordering::Relaxed),
            lock_wait_total: Duration::from_micros(
                self.inner.lock_wait_micros.load(Ordering::Relaxed),
            ),
        }
    }

    fn check_bookmarks(&self, bookmarks: &[String]) -> Result<()> {
        let marks = Bookmark::parse_all(bookmarks)?;
        let deadline = Instant::now() + self.inner.config.limits.bookmark_wait.unwrap_or_default();
        for b in marks {
            if b.database == "system" {
                continue;
            }
            let db = self.bookmark_database(&b)?;
            // A bookmark from the future (a commit this database has not reached: issued by
            // a server with a copy further ahead, or before a restore) waits, bounded, as
            // Neo4j waits for a transaction id, then fails with a transient error.
            loop {
                let have = db.begin_read()?.commit_seq()?;
                if b.commits <= have {
                    break;
                }
                let now = Instant::now();
                if now >= deadline {
                    return Err(Error::new(
                        ErrorCode::BookmarkTimeout,
                        format!(
                            "Database '{}' not up to the requested bookmark '{b}' ({} commits) after waiting {} ms; the latest is {have} commits",
                            b.database,
                            b.commits,
                            self.inner
                                .config
                                .limits
                                .bookmark_wait
                                .unwrap_or_default()
                                .as_millis()
                        ),
                    ));
                }
                std::thread::sleep(BOOKMARK_POLL.min(deadline - now));
            }
        }
        Ok(())
    }

    fn databases(&self) -> Vec<DatabaseInfo> {
        let default = self.default_database();
        self.inner
            .storage
            .states()
            .into_iter()
            .map(|s| DatabaseInfo {
                default: s.name == default,
                name: s.name,
                status: s.status,
                status_message: s.message,
                io_failures: s.io_failures,
            })
            .collect()
    }
}

struct EngineTx {
    engine: Arc<Inner>,
    /// This transaction's number in the engine's table of open transactions.
    id: u64,
    started: Instant,
    name: String,
    /// `None` only for `system` when the default database is unavailable.
    db: Option<Arc<Database>>,
    /// The storage transaction while a call (a statement, commit) runs; between calls it
    /// rests in `parked`.
    store: Option<StoreTx>,
    parked: Parked,
    /// Where a streaming result gives the storage transaction back (it holds it while it
    /// pulls rows), and whether it failed.
    lent: Arc<Mutex<Lent>>,
    options: TxOptions,
    failed: bool,
    /// A statement has run: whatever it read came from the snapshot, so a later first write
    /// must check that the snapshot is still current. Until then a first write needs no
    /// check (nothing was read from the snapshot).
    ran: bool,
}

impl Drop for EngineTx {
    fn drop(&mut self) {
        // Release the write lock (an uncommitted write transaction aborts when dropped)
        // before the table stops naming this transaction as its holder.
        self.unpark();
        let held = matches!(self.store, Some(StoreTx::Write(_)));
        self.store = None;
        if held {
            self.engine.write_released(&self.name);
        }
        if let Ok(mut txs) = self.engine.txs.lock() {
            txs.remove(&self.id);
        }
    }
}

/// What a streaming result reports back when it ends (it returns the storage transaction to the
/// transaction's parking slot).
#[derive(Default)]
struct Lent {
    /// The result failed: the transaction fails with it.
    failed: bool,
}

impl EngineTx {
    /// Takes the storage transaction back from where it rests between calls (it is gone if
    /// `TERMINATE TRANSACTION` released it meanwhile). A streaming result that ended gives it
    /// back to the same place.
    fn unpark(&mut self) {
        if self.store.is_none() {
            if let Ok(mut slot) = self.parked.0.lock() {
                self.store = slot.take();
            }
        }
    }

    /// Takes back the storage transaction a streaming result held, and its failure: a failed
    /// stream fails the transaction and releases its write lock at once.
    fn reclaim(&mut self) {
        self.unpark();
        let failed = match self.lent.lock() {
            Ok(mut l) => std::mem::take(&mut l.failed),
            Err(_) => true,
        };
        if failed {
            self.failed = true;
            if let Some(StoreTx::Write(w)) = self.store.take() {
                let _ = w.abort();
                self.engine.set_holds_write(self.id, false);
                self.engine.write_released(&self.name);
            }
        }
    }

    /// Puts the storage transaction where `TERMINATE TRANSACTION` can release it while no
    /// call runs; a transaction terminated meanwhile releases it now instead.
    fn park(&mut self) {
        let Some(store) = self.store.take() else {
            return;
        };
        // Checked under the slot's lock: TERMINATE cancels first and then empties the slot,
        // so either it sees this store or this sees its cancellation.
        let released = match self.parked.0.lock() {
            Ok(mut slot) if !self.options.cancel.is_cancelled() => {
                *slot = Some(store);
                None
            }
            _ => Some(matches!(store, StoreTx::Write(_))),
        };
        if released == Some(true) {
            self.engine.set_holds_write(self.id, false);
            self.engine.write_released(&self.name);
        }
    }

    fn db(&self) -> Result<Arc<Database>> {
        self.db.clone().ok_or_else(|| {
            Error::new(
                ErrorCode::DatabaseUnavailable,
                format!(
                    "the default database '{}' is unavailable",
                    self.engine.config.default_database.to_ascii_lowercase()
                ),
            )
        })
    }

    fn open_store(&mut self, write: bool) -> Result<()> {
        let db = self.db()?;
        let store = if write {
            StoreTx::Write(self.acquire_write(&db)?)
        } else {
            StoreTx::Read(self.begin_read(&db)?)
        };
        self.store = Some(store);
        Ok(())
    }

    /// A snapshot. While the database file is being compacted or reopened a snapshot waits for
    /// it; a transaction whose time ends within [`SHORT_WAIT`] fails now instead (it would
    /// time out waiting; a protocol that tried a short read on its own thread under a short
    /// time limit then runs it again where waiting is fine).
    fn begin_read(&self, db: &Database) -> Result<graphward_storage::ReadTxn> {
        if let Some(r) = db.try_begin_read()? {
            return Ok(r);
        }
        if let Some((d, by_client)) = self.deadline() {
            if d.saturating_duration_since(Instant::now()) < SHORT_WAIT {
                return Err(self.timed_out(
                    by_client,
                    &format!(
                        " waiting for database '{}' (being compacted or reopened)",
                        self.name
                    ),
                ));
            }
        }
        db.begin_read()
    }

    /// The first write of a transaction that read from a snapshot: takes the write lock and
    /// continues in a write transaction, unless something was committed since the snapshot
    /// (the transaction's reads may be stale, so its writes could lose an update): then it
    /// fails with the transient `Outdated`, which drivers retry.
    fn upgrade_to_write(&mut self) -> Result<()> {
        let snapshot = match &self.store {
            Some(StoreTx::Write(_)) => return Ok(()),
            Some(StoreTx::Read(r)) if self.ran => Some(r.commit_seq()?),
            Some(StoreTx::Read(_)) | None => None,
        };
        let db = self.db()?;
        let w = self.acquire_write(&db)?;
        if let Some(seen) = snapshot {
            if w.commit_seq() != seen {
                let _ = w.abort();
                self.engine.set_holds_write(self.id, false);
                self.engine.write_released(&self.name);
                return Err(Error::new(
                    ErrorCode::Outdated,
                    format!(
                        "transaction {} read from a snapshot, and another transaction has committed on database '{}' since; retry the transaction",
                        tx_id_string(&self.name, self.id),
                        self.name
                    ),
                ));
            }
        }
        self.store = Some(StoreTx::Write(w));
        Ok(())
    }

    /// When this transaction's time is up, counted from its start: the client's timeout or
    /// the server's transaction timeout, whichever ends first, and whether it is the
    /// client's.
    fn deadline(&self) -> Option<(Instant, bool)> {
        let client = self.options.timeout.map(|t| (self.started + t, true));
        let server = self
            .engine
            .config
            .limits
            .transaction_timeout
            .map(|t| (self.started + t, false));
        match (client, server) {
            (Some(c), Some(s)) => Some(if c.0 <= s.0 { c } else { s }),
            (c, s) => c.or(s),
        }
    }

    /// The error of a transaction that ran out of time (`what` it was doing then).
    fn timed_out(&self, by_client: bool, what: &str) -> Error {
        let (code, limit, whose) = if by_client {
            (
                ErrorCode::TransactionTimedOutClientConfiguration,
                self.options.timeout,
                "the timeout the client configured",
            )
        } else {
            (
                ErrorCode::TransactionTimedOut,
                self.engine.config.limits.transaction_timeout,
                "the server's transaction timeout",
            )
        };
        Error::new(
            code,
            format!(
                "transaction {} timed out after {} ms ({whose}){what}; it was rolled back",
                tx_id_string(&self.name, self.id),
                limit.unwrap_or_default().as_millis(),
            ),
        )
    }

    /// Fails once `TERMINATE TRANSACTION` (or the protocol) cancelled the transaction.
    fn check_terminated(&self) -> Result<()> {
        if self.options.cancel.is_cancelled() {
            return Err(Error::new(
                ErrorCode::Terminated,
                format!(
                    "transaction {} was terminated",
                    tx_id_string(&self.name, self.id)
                ),
            ));
        }
        Ok(())
    }

    /// Fails once the transaction's time is up.
    fn check_deadline(&self) -> Result<()> {
        match self.deadline() {
            Some((d, by_client)) if Instant::now() >= d => Err(self.timed_out(by_client, "")),
            _ => Ok(()),
        }
    }

    /// Waits for the database's write lock, at most until the transaction's deadline or
    /// [`WRITE_LOCK_TIMEOUT`], whichever comes first.
    fn acquire_write(&self, db: &Database) -> Result<graphward_storage::WriteTxn> {
        let start = Instant::now();
        let lock_deadline = start + WRITE_LOCK_TIMEOUT;
        let tx_deadline = self.deadline();
        let (result, waited) = self.wait_for_write(db, lock_deadline, tx_deadline);
        if waited {
            let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.engine.lock_waits.fetch_add(1, Ordering::Relaxed);
            self.engine
                .lock_wait_micros
                .fetch_add(micros, Ordering::Relaxed);
        }
        self.engine.update_tx(self.id, |e| {
            e.waiting = false;
            e.holds_write = result.is_ok();
        });
        result
    }

    fn wait_for_write(
        &self,
        db: &Database,
        lock_deadline: Instant,
        tx_deadline: Option<(Instant, bool)>,
    ) -> (Result<graphward_storage::WriteTxn>, bool) {
        let mut first = true;
        let result = self.wait_loop(db, lock_deadline, tx_deadline, &mut first);
        (result, !first)
    }

    /// Takes the write lock in turn: a writer that finds no one queued tries at once;
    /// otherwise it joins the database's queue and only the queue's head tries, so writers
    /// are served in arrival order. Leaves the queue on success, error, cancellation or
    /// timeout.
    fn wait_loop(
        &self,
        db: &Database,
        lock_deadline: Instant,
        tx_deadline: Option<(Instant, bool)>,
        first: &mut bool,
    ) -> Result<graphward_storage::WriteTxn> {
        let queue = self.engine.write_queue(&self.name)?;
        let poisoned = || Error::internal("write-lock queue poisoned");
        let mut waiting = queue.waiting.lock().map_err(|_| poisoned())?;
        if waiting.is_empty() {
            if let Some(w) = db.try_begin_write()? {
                return Ok(w);
            }
        }
        waiting.push_back(self.id);
        *first = false;
        drop(waiting);
        self.engine.update_tx(self.id, |e| e.waiting = true);
        let mut waiting = queue.waiting.lock().map_err(|_| poisoned())?;
        let outcome = loop {
            let head = waiting.front() == Some(&self.id);
            if head {
                match db.try_begin_write() {
                    Ok(Some(w)) => break Ok(w),
                    Ok(None) => {}
                    Err(e) => break Err(e),
                }
            }
            if let Err(e) = self.may_wait(lock_deadline, tx_deadline) {
                break Err(e);
            }
            let now = Instant::now();
            let next = tx_deadline.map_or(lock_deadline, |(d, _)| d.min(lock_deadline));
            let pause = if head {
                WRITE_LOCK_POLL
            } else {
                WRITE_QUEUE_CHECK
            };
            let pause = pause.min(next.saturating_duration_since(now));
            waiting = match queue.turn.wait_timeout(waiting, pause) {
                Ok((g, _)) => g,
                Err(_) => return Err(poisoned()),
            };
        };
        waiting.retain(|id| *id != self.id);
        // The head changed (or this writer gave up): the next one's turn.
        queue.turn.notify_all();
        outcome
    }

    /// Whether a writer waiting for the lock may go on waiting: not when it was terminated
    /// or its time (or the lock wait's) is up.
    fn may_wait(&self, lock_deadline: Instant, tx_deadline: Option<(Instant, bool)>) -> Result<()> {
        if self.options.cancel.is_cancelled() {
            return Err(Error::new(
                ErrorCode::Terminated,
                "the transaction was terminated",
            ));
        }
        let now = Instant::now();
        let holder = || match self.engine.write_holder(&self.name) {
            Some(id) => format!("transaction {}", tx_id_string(&self.name, id)),
            None => "another transaction".to_string(),
        };
        if let Some((d, by_client)) = tx_deadline {
            if now >= d {
                let what = format!(
                    " waiting for the write lock on database '{}', held by {}",
                    self.name,
                    holder()
                );
                return Err(self.timed_out(by_client, &what));
            }
        }
        if now >= lock_deadline {
            return Err(Error::new(
                ErrorCode::TransactionTimedOut,
                format!(
                    "timed out after {} s waiting for the write lock on database '{}', held by {}",
                    WRITE_LOCK_TIMEOUT.as_secs(),
                    self.name,
                    holder()
                ),
            ));
        }
        Ok(())
    }

    fn env(&self, params: Params) -> Env {
        let limits = &self.engine.config.limits;
        // The client's timeout bounds the whole transaction; the server's query timeout
        // bounds each statement.
        let deadline = match (
            self.deadline().map(|(d, _)| d),
            limits.query_timeout.map(|t| Instant::now() + t),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Env {
            params: Arc::new(params),
            clock: Clock::system(),
            cancel: self.options.cancel.clone(),
            deadline,
            database: self.name.clone(),
            max_rows: limits.max_rows,
            mem: MemAccount::new(graphward_core::memory::QueryMemory::new(
                limits.max_memory_bytes,
                self.engine.memory.clone(),
            )),
            procedures: self.engine.procedures.clone(),
            tx_metadata: Arc::new(self.options.metadata.clone()),
            import_dir: self.engine.config.import_dir.clone(),
        }
    }

    fn run_inner(&mut self, prepared: Prepared, params: Params) -> Result<Box<dyn ResultStream>> {
        let parsed_here;
        let stmt = match prepared.parsed::<Statement>() {
            Some(s) => s,
            None => {
                parsed_here = parse_statement(prepared.text(), &self.engine.config.limits)?;
                &parsed_here
            }
        };
        let query = prepared.text();
        // Once per statement: the copies the statement cache hands out share the mark.
        if !prepared.is_checked() {
            crate::semantic::check_with_source(stmt, query)?;
            prepared.mark_checked();
        }
        // Every run: whether the graph named by USE is this transaction's depends on the
        // session, not on the text.
        if let Some(target) = stmt.use_target() {
            self.check_use(target.graph)?;
        }
        let (stmt, explain, profile) = match stmt {
            Statement::Explain(s) => (&**s, true, false),
            Statement::Profile(s) => (&**s, false, true),
            s => (s, false, false),
        };
        match stmt {
            Statement::Admin(_) | Statement::Show(_) if explain => Err(Error::syntax(
                "EXPLAIN applies to queries only, not to administration or schema commands",
            )),
            Statement::Show(show) => match &show.command {
                ShowCommand::Admin(cmd) => self.show(cmd, Some(&show.tail), params),
                ShowCommand::Server(_) => Err(Error::new(
                    ErrorCode::NotSupported,
                    "this is a server command, answered by the server's front door, not by the Cypher engine",
                )),
            },
            Statement::Admin(cmd) if cmd.is_show() => self.show(cmd, None, params),
            Statement::Admin(cmd) => {
                let schema = matches!(
                    cmd,
                    AdminCommand::CreateIndex { .. }
                        | AdminCommand::CreateUniqueConstraint { .. }
                        | AdminCommand::CreateExistenceConstraint { .. }
                        | AdminCommand::CreateKeyConstraint { .. }
                        | AdminCommand::DropIndex { .. }
                        | AdminCommand::DropConstraint { .. }
                );
                let result = self.admin(cmd.clone());
                if schema {
                    // Nothing planned against the old schema is reused.
                    if let Ok(mut c) = self.engine.statements.lock() {
                        c.clear();
                    }
                }
                result
            }
            Statement::Explain(_) | Statement::Profile(_) => {
                Err(Error::syntax("EXPLAIN/PROFILE may not be nested"))
            }
            Statement::Command(_) | Statement::TxControl(_) => Err(Error::new(
                ErrorCode::NotSupported,
                "this is a server command, answered by the server's front door, not by the Cypher engine",
            )),
            Statement::Query(q) => {
                if let Ok(procs) = self.engine.procedures.read() {
                    runner::check_procedure_calls(q, &procs, &params)?;
                }
                let writes = has_updates(q);
                if explain {
                    // The access paths are decided against the graph's schema and label
                    // counts, as the matcher decides them when the query runs.
                    if self.store.is_none() {
                        self.open_store(false)?;
                    }
                    let mut planned = plan::plan_query(q, query);
                    if let Some(store) = &self.store {
                        let env = self.env(params.clone());
                        planned.root.resolve_access(store.read(), &env)?;
                    }
                    return Ok(Box::new(RowsStream::with_summary(
                        vec![],
                        vec![],
                        Summary {
                            query_type: if writes {
                                QueryType::Write
                            } else {
                                QueryType::Read
                            },
                            database: self.name.clone(),
                            plan: Some(Box::new(planned.root.describe())),
                            ..Summary::default()
                        },
                    )));
                }
                // `CALL { } IN TRANSACTIONS` commits inner transactions of its own: only a
                // transaction opened for this one statement may (decided on how it was
                // begun, whatever the protocol).
                let in_transactions = crate::semantic::has_in_transactions(q);
                if in_transactions && !self.options.implicit {
                    return Err(runner::implicit_only());
                }
                let may_write = self.options.mode == AccessMode::Write;
                if in_transactions && may_write {
                    // Nothing writes before the batches (checked at compile time): the
                    // statement reads from a snapshot, and each inner transaction takes the
                    // write lock in turn (the clauses after the last batch too, if they write).
                    if self.store.is_none() {
                        self.open_store(false)?;
                    }
                } else if writes && may_write {
                    // The first write: from here on the transaction holds the write lock.
                    self.upgrade_to_write()?;
                } else if self.store.is_none() {
                    // A read-mode auto-commit transaction opens a read store, so the check
                    // below refuses its writes as it does in an explicit one.
                    self.open_store(false)?;
                }
                if writes && !may_write {
                    return Err(Error::new(
                        ErrorCode::Forbidden,
                        "Writing in read access mode not allowed.",
                    ));
                }
                if writes && !in_transactions && matches!(self.store, Some(StoreTx::Read(_))) {
                    return Err(Error::new(
                        ErrorCode::Forbidden,
                        "Writing in read access mode not allowed.",
                    ));
                }
                let env = self.env(params);
                let deep = crate::semantic::statement_is_deep(stmt);
                let mut planned = plan::plan_query(q, query);
                if profile {
                    if let Some(store) = &self.store {
                        planned.root.resolve_access(store.read(), &env)?;
                    }
                }
                if planned.executable && !writes && !deep {
                    // Rows are pulled from the plan as the client asks for them; the result
                    // holds the storage transaction until it ends.
                    let store = self
                        .store
                        .take()
                        .ok_or_else(|| Error::internal("no storage transaction"))?;
                    return Ok(Box::new(PlanStream {
                        store: Some(store),
                        env,
                        frame: vec![Value::Null; planned.width],
                        root: planned.root,
                        columns: planned.columns,
                        column_slots: planned.column_slots,
                        home: self.lent.clone(),
                        parked: self.parked.clone(),
                        database: self.name.clone(),
                        profile,
                        hits: std::cell::Cell::new(0),
                        emitted: 0,
                        done: false,
                    }));
                }
                // Reading clauses followed by one update that cannot change what they read
                // (see `pipelined.rs`): each row is updated as the streaming executor
                // produces it.
                if !deep && !in_transactions && !profile {
                    if let Some(p) = pipelined::streamable(q) {
                        let mut store = self
                            .store
                            .take()
                            .ok_or_else(|| Error::internal("no storage transaction"))?;
                        let ran = p.run(&mut store, &env, query);
                        self.store = Some(store);
                        if let Some(ran) = ran {
                            let (cols, rows, stats) = ran?;
                            let query_type = query_type_of(&stats, &cols);
                            return Ok(Box::new(RowsStream::with_summary(
                                cols,
                                rows,
                                Summary {
                                    query_type,
                                    stats,
                                    database: self.name.clone(),
                                    ..Summary::default()
                                },
                            )));
                        }
                    }
                }
                // The runner works on the storage transaction taken out of the slot (it may
                // swap it: `CALL { } IN TRANSACTIONS`), which goes back before any error.
                let mut store = self
                    .store
                    .take()
                    .ok_or_else(|| Error::internal("no storage transaction"))?;
                type Ran = Result<(Vec<String>, Vec<Vec<Value>>, Stats)>;
                let exec = |store: &mut StoreTx,
                            txns: Option<&dyn runner::InnerTransactions>|
                 -> Ran {
                    // Reading clauses and one `CALL { } IN TRANSACTIONS`: the batches are
                    // pulled from the streaming executor (see `pipelined::Batched`).
                    if let (Some(t), Some(b)) = (txns, pipelined::batched(q)) {
                        if let Some(ran) = b.run(store, &env, query, t) {
                            return ran;
                        }
                    }
                    let mut runner = Runner::new(store, &env);
                    runner.txns = txns;
                    let (cols, rows) = runner.run_query(q)?;
                    let stats = runner.stats;
                    let out = resolve_rows(&Ev::new(store.read(), &env), &cols, rows)?;
                    Ok((cols, out, stats))
                };
                // The transaction itself goes to the thread that runs the statement (it is
                // `Send`, not `Sync`), and is lent to the runner there.
                let this = &mut *self;
                let store_ref = &mut store;
                let mut run = move || -> Ran {
                    let txns: Option<&dyn runner::InnerTransactions> =
                        if in_transactions { Some(&*this) } else { None };
                    exec(store_ref, txns)
                };
                let ran = if deep {
                    crate::parser::on_big_stack(run).and_then(|r| r)
                } else {
                    run()
                };
                self.store = Some(store);
                let (cols, rows, stats) = ran?;
                let query_type = query_type_of(&stats, &cols);
                let profile = profile.then(|| {
                    let mut d = planned.root.describe();
                    d.rows = rows.len() as u64;
                    d.arguments.insert(
                        "runtime".to_string(),
                        Value::String("MATERIALIZED".to_string()),
                    );
                    Box::new(d)
                });
                Ok(Box::new(RowsStream::with_summary(
                    cols,
                    rows,
                    Summary {
                        query_type,
                        stats,
                        database: self.name.clone(),
                        plan: None,
                        profile,
                    },
                )))
            }
        }
    }

    /// `USE graph`: the graph must exist and be the one this transaction runs on (the front
    /// door opens an auto-commit transaction on the graph its statement names).
    fn check_use(&self, graph: &str) -> Result<()> {
        let graph = graph.to_ascii_lowercase();
        let default = self.engine.config.default_database.to_ascii_lowercase();
        let here = if self.name == "system" {
            &default
        } else {
            &self.name
        };
        if graph == *here {
            return Ok(());
        }
        if graph == "system" {
            return Err(Error::new(
                ErrorCode::NotSupported,
                "Not supported: USE system with a query: the system database holds no graph data",
            ));
        }
        if let Err(e) = self.engine.storage.database(&graph) {
            if e.code == ErrorCode::DatabaseNotFound {
                return Err(Error::new(
                    ErrorCode::DatabaseNotFound,
                    format!("Graph not found: {graph}. Database does not exist. Database name: '{graph}'."),
                ));
            }
            return Err(e);
        }
        Err(Error::new(
            ErrorCode::NotSupported,
            format!(
                "Not supported: USE {graph} in a transaction on database '{here}': a transaction runs on one \
                 database; open the session (or transaction) on '{graph}', or send the query in an \
                 auto-commit transaction"
            ),
        ))
    }

    fn admin(&mut self, cmd: AdminCommand) -> Result<Box<dyn ResultStream>> {
        let storage = &self.engine.storage;
        let default = self.engine.config.default_database.to_ascii_lowercase();
        let mut stats = Stats::default();
        let cols: Vec<String> = vec![];
        let rows: Vec<Vec<Value>> = vec![];
        let s = |x: &str| Value::String(x.to_string());
        match cmd {
            AdminCommand::CreateDatabase {
                name,
                if_not_exists,
            } => match storage.create_database(&name) {
                Ok(()) => stats.system_updates += 1,
                Err(e) if e.code == ErrorCode::DatabaseExists && if_not_exists => {}
                Err(e) => return Err(e),
            },
            AdminCommand::DropDatabase { name, if_exists } => {
                let lname = name.to_ascii_lowercase();
                if lname == default || lname == "system" {
                    return Err(Error::new(
                        ErrorCode::Forbidden,
                        format!("the default database '{lname}' cannot be dropped"),
                    ));
                }
                match storage.drop_database(&lname) {
                    Ok(()) => stats.system_updates += 1,
                    Err(e) if e.code == ErrorCode::DatabaseNotFound && if_exists => {}
                    Err(e) => return Err(e),
                }
            }
            AdminCommand::CreateIndex {
                name,
                if_not_exists,
                entity,
                label,
                properties,
            } => self.create_schema(
                name,
                if_not_exists,
                label,
                properties,
                match entity {
                    SchemaEntity::Node => SchemaKind::Index,
                    SchemaEntity::Relationship => SchemaKind::RelIndex,
                },
                &mut stats,
            )?,
            AdminCommand::CreateKeyConstraint {
                name,
                if_not_exists,
                entity,
                label,
                properties,
            } => self.create_schema(
                name,
                if_not_exists,
                label,
                properties,
                match entity {
                    SchemaEntity::Node => SchemaKind::Key,
                    SchemaEntity::Relationship => SchemaKind::RelKey,
                },
                &mut stats,
            )?,
            AdminCommand::CreateUniqueConstraint {
                name,
                if_not_exists,
                entity,
                label,
                properties,
            } => self.create_schema(
                name,
                if_not_exists,
                label,
                properties,
                match entity {
                    SchemaEntity::Node => SchemaKind::Unique,
                    SchemaEntity::Relationship => SchemaKind::RelUnique,
                },
                &mut stats,
            )?,
            AdminCommand::CreateExistenceConstraint {
                name,
                if_not_exists,
                entity,
                label,
                property,
            } => self.create_schema(
                name,
                if_not_exists,
                label,
                vec![property],
                match entity {
                    SchemaEntity::Node => SchemaKind::Existence,
                    SchemaEntity::Relationship => SchemaKind::RelExistence,
                },
                &mut stats,
            )?,
            AdminCommand::DropIndex { name, if_exists }
            | AdminCommand::DropConstraint { name, if_exists } => {
                self.ensure_write()?;
                let w = self.write_store()?;
                let exists = w.schema()?.iter().any(|d| d.name == name);
                if !exists {
                    if if_exists {
                        return Ok(Box::new(RowsStream::with_summary(
                            vec![],
                            vec![],
                            self.summary(stats, QueryType::Schema),
                        )));
                    }
                    return Err(Error::semantic(format!(
                        "no index or constraint named '{name}'"
                    )));
                }
                let unique = w
                    .schema()?
                    .iter()
                    .any(|d| d.name == name && d.kind.is_constraint());
                w.drop_schema(&name)?;
                if unique {
                    stats.constraints_removed += 1;
                } else {
                    stats.indexes_removed += 1;
                }
            }
            AdminCommand::Memgraph(c) => return self.memgraph_admin(c),
            AdminCommand::CompactDatabase { name } => {
                // Runs on no snapshot of its own: an auto-commit COMPACT holds no storage
                // transaction; in an explicit transaction its snapshot makes it refused.
                let started = Instant::now();
                let (before, after) = self.engine.compact(&name)?;
                tracing::info!(
                    database = %name,
                    before,
                    after,
                    seconds = started.elapsed().as_secs_f64(),
                    "database compacted (COMPACT DATABASE)"
                );
                let to_int = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
                return Ok(Box::new(RowsStream::with_summary(
                    vec!["database".into(), "bytesBefore".into(), "bytesAfter".into()],
                    vec![vec![s(&name), to_int(before), to_int(after)]],
                    self.summary(stats, QueryType::Schema),
                )));
            }
            AdminCommand::ShowDatabases { .. }
            | AdminCommand::ShowIndexes { .. }
            | AdminCommand::ShowConstraints { .. }
            | AdminCommand::ShowProcedures { .. }
            | AdminCommand::ShowFunctions { .. }
            | AdminCommand::ShowTransactions { .. }
            | AdminCommand::TerminateTransactions { .. } => {
                return Err(Error::internal(
                    "a SHOW command reached the schema commands",
                ));
            }
        }
        Ok(Box::new(RowsStream::with_summary(
            cols,
            rows,
            self.summary(stats, QueryType::Schema),
        )))
    }

    #[allow(clippy::too_many_arguments)]
    fn create_schema(
        &mut self,
        name: Option<String>,
        if_not_exists: bool,
        label: String,
        properties: Vec<String>,
        kind: SchemaKind,
        stats: &mut Stats,
    ) -> Result<()> {
        if properties.is_empty() {
            return Err(Error::syntax(
                "an index or constraint needs at least one property",
            ));
        }
        self.ensure_write()?;
        let w = self.write_store()?;
        let unique = kind.is_constraint();
        let name = name.unwrap_or_else(|| {
            format!(
                "{}_{}_{}",
                match kind {
                    SchemaKind::Index => "index",
                    SchemaKind::Unique => "constraint",
                    SchemaKind::Existence => "constraint_exists",
                    SchemaKind::RelUnique => "constraint_rel",
                    SchemaKind::RelExistence => "constraint_rel_exists",
                    SchemaKind::RelIndex => "index_rel",
                    SchemaKind::Key => "constraint_key",
                    SchemaKind::RelKey => "constraint_rel_key",
                },
                label.to_ascii_lowercase(),
                properties.join("_").to_ascii_lowercase()
            )
        });
        let existing = w.schema()?;
        if existing.iter().any(|d| {
            d.name == name || (d.label == label && d.properties == properties && d.kind == kind)
        }) {
            if if_not_exists {
                return Ok(());
            }
            return Err(Error::semantic(format!(
                "an equivalent index or constraint already exists: '{name}'"
            )));
        }
        w.create_schema(SchemaDef {
            name,
            kind,
            label,
            properties,
        })?;
        if unique {
            stats.constraints_added += 1;
        } else {
            stats.indexes_added += 1;
        }
        Ok(())
    }

    /// Whether this transaction's principal may see (and terminate) `entry`: its own, or
    /// every one when the statement says `all_users` (decided by the front door from the
    /// authorization table: an administrator, or authentication off).
    fn may_see(&self, entry: &TxEntry, all_users: bool) -> bool {
        let p = &self.options.principal;
        all_users || (p.user.is_some() && entry.user == p.user)
    }

    /// `SHOW TRANSACTIONS` rows (the columns of `show::TRANSACTIONS`).
    fn show_transactions(&self, ids: &[String], all_users: bool) -> Vec<Vec<Value>> {
        let wanted: Vec<(&str, u64)> = ids.iter().filter_map(|i| parse_tx_id(i)).collect();
        let now = Instant::now();
        let mut entries: Vec<(u64, TxEntry)> = match self.engine.txs.lock() {
            Ok(txs) => txs
                .iter()
                .filter(|(id, e)| {
                    self.may_see(e, all_users)
                        && (ids.is_empty()
                            || wanted.iter().any(|(d, n)| *d == e.database && *n == **id))
                })
                .map(|(id, e)| (*id, e.clone()))
                .collect(),
            Err(_) => Vec::new(),
        };
        entries.sort_by_key(|(id, _)| *id);
        let s = |x: &str| Value::String(x.to_string());
        entries
            .into_iter()
            .map(|(id, e)| {
                let status = if e.terminated {
                    "Terminated".to_string()
                } else if e.expired {
                    "Timed out".to_string()
                } else if e.waiting {
                    match self.engine.write_holder(&e.database) {
                        Some(h) => format!("Blocked by: [{}]", tx_id_string(&e.database, h)),
                        None => "Blocked".to_string(),
                    }
                } else if e.running {
                    "Running".to_string()
                } else {
                    "Idle".to_string()
                };
                let idle = if e.running {
                    Duration::ZERO
                } else {
                    now.saturating_duration_since(e.last_active)
                };
                vec![
                    s(&e.database),
                    s(&tx_id_string(&e.database, id)),
                    e.user.as_deref().map_or(Value::Null, s),
                    s(e.statement.as_deref().unwrap_or("")),
                    Value::DateTime(e.started),
                    s(&status),
                    duration_value(now.saturating_duration_since(e.started_at)),
                    duration_value(idle),
                    Value::Bool(e.holds_write),
                    Value::Map((*e.metadata).clone()),
                    s(&tx_id_string(&e.database, id)),
                    Value::List(e.statement.as_deref().map(s).into_iter().collect()),
                    Value::Map((*e.metadata).clone()),
                ]
            })
            .collect()
    }

    /// `TERMINATE TRANSACTIONS` rows (the columns of `show::TERMINATED`).
    fn terminate_transactions(&self, ids: &[String], all_users: bool) -> Vec<Vec<Value>> {
        let s = |x: &str| Value::String(x.to_string());
        let mut rows = Vec::with_capacity(ids.len());
        let mut release = Vec::new();
        let Ok(mut txs) = self.engine.txs.lock() else {
            return rows;
        };
        for text in ids {
            let found = parse_tx_id(text).and_then(|(database, n)| {
                txs.get_mut(&n)
                    .filter(|e| e.database == database && self.may_see(e, all_users))
            });
            match found {
                Some(e) => {
                    e.cancel.cancel();
                    e.terminated = true;
                    if let Some((_, n)) = parse_tx_id(text) {
                        release.push((n, e.database.clone(), e.parked.clone()));
                    }
                    rows.push(vec![
                        s(text),
                        e.user.as_deref().map_or(Value::Null, s),
                        s("Transaction terminated."),
                        s(text),
                        Value::Bool(true),
                    ]);
                }
                None => rows.push(vec![
                    s(text),
                    Value::Null,
                    s("Transaction not found."),
                    s(text),
                    Value::Bool(false),
                ]),
            }
        }
        drop(txs);
        // A terminated transaction between statements (an idle one) gives its write lock and
        // snapshot back now, not when its client next speaks; one running a statement stops
        // at the statement's next cancellation check and releases them then.
        for (n, database, parked) in release {
            let store = match parked.0.lock() {
                Ok(mut slot) => slot.take(),
                Err(_) => None,
            };
            if matches!(store, Some(StoreTx::Write(_))) {
                drop(store);
                self.engine.set_holds_write(n, false);
                self.engine.write_released(&database);
            }
        }
        rows
    }

    fn summary(&self, stats: Stats, query_type: QueryType) -> Summary {
        Summary {
            query_type,
            stats,
            database: self.name.clone(),
            plan: None,
            profile: None,
        }
    }

    fn ensure_write(&mut self) -> Result<()> {
        if self.store.is_none() || self.options.mode == AccessMode::Write {
            self.upgrade_to_write()
        } else {
            Ok(())
        }
    }

    fn write_store(&mut self) -> Result<&mut graphward_storage::WriteTxn> {
        match self.store.as_mut() {
            Some(s) => s.write(),
            None => Err(Error::internal("no storage transaction")),
        }
    }
}

/// The inner transactions of `CALL { ... } IN TRANSACTIONS` (see
/// [`runner::InnerTransactions`]): each takes the database's write lock in turn like any
/// writer, so other writers may commit between batches.
impl runner::InnerTransactions for EngineTx {
    fn end_outer(&self, store: &mut StoreTx) -> Result<()> {
        let db = self.db()?;
        let snapshot = StoreTx::Read(self.begin_read(&db)?);
        if let StoreTx::Write(w) = std::mem::replace(store, snapshot) {
            let aborted = w.abort();
            self.engine.set_holds_write(self.id, false);
            self.engine.write_released(&self.name);
            aborted?;
        }
        Ok(())
    }

    fn begin_inner(&self) -> Result<(graphward_storage::WriteTxn, String)> {
        self.check_terminated()?;
        self.check_deadline()?;
        let db = self.db()?;
        let w = self.acquire_write(&db)?;
        let id = self.engine.next_tx.fetch_add(1, Ordering::Relaxed);
        Ok((w, tx_id_string(&self.name, id)))
    }

    fn commit_inner(&self, w: graphward_storage::WriteTxn) -> Result<()> {
        let committed = w.commit();
        self.engine.set_holds_write(self.id, false);
        self.engine.write_released(&self.name);
        committed
    }

    fn abort_inner(&self, w: graphward_storage::WriteTxn) {
        let _ = w.abort();
        self.engine.set_holds_write(self.id, false);
        self.engine.write_released(&self.name);
    }

    fn resume_outer(&self, store: &mut StoreTx, write: bool) -> Result<()> {
        let db = self.db()?;
        let next = if write {
            StoreTx::Write(self.acquire_write(&db)?)
        } else {
            StoreTx::Read(self.begin_read(&db)?)
        };
        if let StoreTx::Write(w) = std::mem::replace(store, next) {
            // Not expected (the outer store is a snapshot during the batches).
            let _ = w.abort();
            self.engine.write_released(&self.name);
        }
        Ok(())
    }
}

impl Transaction for EngineTx {
    fn run(&mut self, query: &str, params: Params) -> Result<Box<dyn ResultStream>> {
        // The statement cache, as a prepared statement; text that does not parse goes on
        // unparsed, to fail in the run like any other error of the statement.
        let prepared = self
            .engine
            .prepare(query)
            .unwrap_or_else(|_| Prepared::unparsed(query));
        self.run_prepared(prepared, params)
    }

    fn run_prepared(
        &mut self,
        statement: Prepared,
        params: Params,
    ) -> Result<Box<dyn ResultStream>> {
        self.reclaim();
        if self.failed {
            return Err(Error::new(
                ErrorCode::TransactionInvalid,
                "the transaction has failed and must be rolled back",
            ));
        }
        let shown: String = statement
            .text()
            .chars()
            .take(SHOWN_STATEMENT_CHARS)
            .collect();
        let shown = if shown.len() < statement.text().len() {
            format!("{shown}...")
        } else {
            shown
        };
        self.engine.update_tx(self.id, |e| {
            e.statement = Some(shown);
            e.running = true;
        });
        self.unpark();
        let result = self
            .check_terminated()
            .and_then(|()| self.check_deadline())
            .and_then(|()| self.run_inner(statement, params));
        self.ran = true;
        self.engine.update_tx(self.id, |e| {
            e.running = false;
            e.last_active = Instant::now();
        });
        match result {
            Ok(s) => {
                self.park();
                Ok(s)
            }
            Err(e) => {
                self.failed = true;
                // Roll back right away: a failed statement leaves nothing behind.
                if let Some(StoreTx::Write(w)) = self.store.take() {
                    let _ = w.abort();
                    self.engine.set_holds_write(self.id, false);
                    self.engine.write_released(&self.name);
                }
                self.park();
                Err(e)
            }
        }
    }

    fn commit(mut self: Box<Self>) -> Result<CommitInfo> {
        self.reclaim();
        if self.failed {
            return Err(Error::new(
                ErrorCode::TransactionInvalid,
                "the transaction has failed and was rolled back",
            ));
        }
        let mut this = self;
        this.unpark();
        this.check_terminated()?;
        this.check_deadline()?;
        // The bookmark counts the database's commits up to and including this one.
        let commits = match this.store.take() {
            Some(StoreTx::Write(w)) => {
                let after = w.commit_seq() + u64::from(w.has_writes());
                let committed = w.commit();
                this.engine.set_holds_write(this.id, false);
                this.engine.write_released(&this.name);
                committed?;
                after
            }
            Some(StoreTx::Read(r)) => r.commit_seq()?,
            None => match &this.db {
                Some(db) if this.name != "system" => db.begin_read()?.commit_seq()?,
                _ => 0,
            },
        };
        Ok(CommitInfo {
            bookmark: Some(
                Bookmark {
                    database: this.name.clone(),
                    commits,
                }
                .to_string(),
            ),
        })
    }

    fn rollback(mut self: Box<Self>) -> Result<()> {
        self.reclaim();
        if let Some(StoreTx::Write(w)) = self.store.take() {
            let aborted = w.abort();
            self.engine.set_holds_write(self.id, false);
            self.engine.write_released(&self.name);
            aborted?;
        }
        Ok(())
    }

    fn database(&self) -> &str {
        &self.name
    }
}

/// A query that only reads from its snapshot: MATCH, UNWIND, WITH and RETURN (no update, no
/// procedure call, no subquery), nothing deep. Running it takes no lock and has no effect, so
/// a protocol may try it under a short time budget and, if the budget ends it, run it again.
fn is_short_read(stmt: &Statement) -> bool {
    let Statement::Query(q) = stmt else {
        return false;
    };
    let reads_only = std::iter::once(&q.first)
        .chain(q.unions.iter().map(|(_, s)| s))
        .flat_map(|sq| sq.clauses.iter())
        .all(|c| {
            matches!(
                c,
                crate::ast::Clause::Match(_)
                    | crate::ast::Clause::Unwind(_)
                    | crate::ast::Clause::With(_)
                    | crate::ast::Clause::Return(_)
            )
        });
    reads_only && !crate::semantic::statement_is_deep(stmt)
}

#[allow(dead_code)]
fn _unused(_: BTreeMap<String, Value>, _: Row, _: SchemaDef) {}

/// The result of a query the streaming executor runs: each `next_row` pulls one row from the
/// plan. It holds the transaction's storage transaction while it lives and gives it back
/// (with its failure, if any) when it ends or is dropped.
struct PlanStream {
    store: Option<StoreTx>,
    env: Env,
    root: plan::Node,
    columns: Vec<String>,
    /// The slot of each column in `frame`, the row the plan's operators write.
    column_slots: Vec<usize>,
    frame: plan::Frame,
    home: Arc<Mutex<Lent>>,
    /// Where the storage transaction rests once the stream ends (see [`EngineTx::park`]).
    parked: Parked,
    database: String,
    /// PROFILE: count storage reads per operator.
    profile: bool,
    hits: std::cell::Cell<u64>,
    emitted: u64,
    done: bool,
}

impl PlanStream {
    fn give_back(&mut self, failed: bool) {
        self.done = true;
        // The failure first: whoever takes the store back from the slot then sees it.
        if let Ok(mut l) = self.home.lock() {
            l.failed |= failed;
        }
        if let Some(store) = self.store.take() {
            if let Ok(mut slot) = self.parked.0.lock() {
                *slot = Some(store);
            }
        }
    }

    fn pull(&mut self) -> Result<Option<Vec<Value>>> {
        let Some(store) = self.store.as_ref() else {
            return Ok(None);
        };
        let counting;
        let g: &dyn GraphRead = if self.profile {
            counting = plan::Counting {
                inner: store.read(),
                hits: &self.hits,
            };
            &counting
        } else {
            store.read()
        };
        let cx = plan::Cx {
            ev: Ev::new(g, &self.env),
            hits: &self.hits,
        };
        if !self.root.pull(&cx, &mut self.frame)? {
            return Ok(None);
        }
        self.emitted += 1;
        cx.ev
            .env
            .check_rows(usize::try_from(self.emitted).unwrap_or(usize::MAX))?;
        // Entities leave the engine here: references become full values. The frame keeps
        // its values (an operator upstream may produce more rows from them).
        let mut vals = Vec::with_capacity(self.column_slots.len());
        for s in &self.column_slots {
            let v = self.frame.get(*s).cloned().unwrap_or(Value::Null);
            vals.push(cx.ev.resolve(v)?);
        }
        Ok(Some(vals))
    }
}

impl ResultStream for PlanStream {
    fn columns(&self) -> &[String] {
        &self.columns
    }

    fn next_row(&mut self) -> Option<Result<Vec<Value>>> {
        if self.done {
            return None;
        }
        match self.pull() {
            Ok(Some(row)) => Some(Ok(row)),
            Ok(None) => {
                self.give_back(false);
                None
            }
            Err(e) => {
                self.give_back(true);
                Some(Err(e))
            }
        }
    }

    fn summary(&self) -> Summary {
        Summary {
            query_type: QueryType::Read,
            stats: Stats::default(),
            database: self.database.clone(),
            plan: None,
            profile: self.profile.then(|| {
                let mut d = self.root.describe();
                d.arguments.insert(
                    "runtime".to_string(),
                    Value::String("STREAMING".to_string()),
                );
                Box::new(d)
            }),
        }
    }
}

impl Drop for PlanStream {
    fn drop(&mut self) {
        self.give_back(false);
    }
}

/// The query type a statement that ran on the clause runner (or pipelined) reports: `w` when
/// it wrote and returns nothing, `rw` when it wrote and returns columns, else `r`.
fn query_type_of(stats: &Stats, columns: &[String]) -> QueryType {
    match (stats.contains_updates(), columns.is_empty()) {
        (true, true) => QueryType::Write,
        (true, false) => QueryType::ReadWrite,
        _ => QueryType::Read,
    }
}

/// The columns of rows the clause runner (or a pipelined update) made, in column order, with
/// the entities resolved to full values as they leave the engine.
pub(crate) fn resolve_rows(ev: &Ev, columns: &[String], rows: Vec<Row>) -> Result<Vec<Vec<Value>>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut vals = Vec::with_capacity(columns.len());
        for c in columns {
            vals.push(ev.resolve(r.get(c).cloned().unwrap_or(Value::Null))?);
        }
        out.push(vals);
    }
    Ok(out)
}
