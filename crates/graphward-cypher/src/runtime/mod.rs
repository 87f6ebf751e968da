//! The runtime: [`Engine`] (the `QueryEngine` implementation), transactions, and the
//! executor modules (`eval`, `matcher`, `project`, `runner`, `values`).

pub mod eval;
pub mod matcher;
mod memgraph;
pub mod project;
pub mod runner;
pub mod values;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use graphward_core::engine::{
    AccessMode, Bookmark, CancelToken, CommitInfo, DatabaseInfo, EngineConfig, Limits, Params,
    Prepared, QueryEngine, QueryType, ResultStream, Stats, Summary, Transaction,
    TransactionMetrics, TxOptions,
};
use graphward_core::temporal::Clock;
use graphward_core::{Error, ErrorCode, Result, Value};
use graphward_storage::{Database, GraphRead, GraphWrite, SchemaDef, SchemaKind, Storage};

use crate::ast::{AdminCommand, Statement};
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
    crate::parser::parse(text, limits.max_nesting_depth)
}

/// How long a writer waits for the write lock before giving up (unless the transaction's own
/// timeout ends sooner).
const WRITE_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a writer waiting for the write lock looks again.
const WRITE_LOCK_POLL: Duration = Duration::from_millis(2);

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
    /// The server-wide memory pool every query's charges go to.
    memory: Arc<graphward_core::memory::MemoryPool>,
}

impl Inner {
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
        self.inner.storage.compact(&name.to_ascii_lowercase())
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
        Ok(Box::new(tx))
    }

    fn prepare(&self, text: &str) -> Result<Prepared> {
        let stmt = parse_statement(text, &self.inner.config.limits)?;
        let control = match &stmt {
            Statement::TxControl(c) => Some(*c),
            _ => None,
        };
        Ok(Prepared::parsed_as(text, control, stmt))
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
        for b in Bookmark::parse_all(bookmarks)? {
            let have = if b.database == "system" {
                0
            } else {
                match self.inner.storage.database(&b.database) {
                    Ok(db) => db.begin_read()?.commit_seq()?,
                    Err(e) if e.code == ErrorCode::DatabaseNotFound => {
                        return Err(Error::new(
                            ErrorCode::InvalidBookmark,
                            format!("bookmark '{b}' names a database that does not exist"),
                        ))
                    }
                    Err(e) => return Err(e),
                }
            };
            // One server: every commit it made is visible at once, so a bookmark past the
            // database's commits was not issued by it (or the database was replaced since).
            if b.commits > have {
                return Err(Error::new(
                    ErrorCode::InvalidBookmark,
                    format!(
                        "bookmark '{b}' is unknown: database '{}' has committed {have} transactions",
                        b.database
                    ),
                ));
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
    store: Option<StoreTx>,
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
        self.store = None;
        if let Ok(mut txs) = self.engine.txs.lock() {
            txs.remove(&self.id);
        }
    }
}

impl EngineTx {
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
            StoreTx::Read(db.begin_read()?)
        };
        self.store = Some(store);
        Ok(())
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

    fn wait_loop(
        &self,
        db: &Database,
        lock_deadline: Instant,
        tx_deadline: Option<(Instant, bool)>,
        first: &mut bool,
    ) -> Result<graphward_storage::WriteTxn> {
        loop {
            if let Some(w) = db.try_begin_write()? {
                return Ok(w);
            }
            if *first {
                *first = false;
                self.engine.update_tx(self.id, |e| e.waiting = true);
            }
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
            let next = tx_deadline.map_or(lock_deadline, |(d, _)| d.min(lock_deadline));
            std::thread::sleep(WRITE_LOCK_POLL.min(next.saturating_duration_since(now)));
        }
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
            params,
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
        }
    }

    fn run_inner(&mut self, prepared: Prepared, params: Params) -> Result<Box<dyn ResultStream>> {
        let stmt = match prepared.parsed::<Statement>() {
            Some(s) => s.clone(),
            None => parse_statement(prepared.text(), &self.engine.config.limits)?,
        };
        let query = prepared.text();
        crate::semantic::check_with_source(&stmt, query)?;
        let (stmt, explain) = match stmt {
            Statement::Explain(s) => (*s, true),
            Statement::Profile(s) => (*s, false),
            s => (s, false),
        };
        match stmt {
            Statement::Admin(_) if explain => Err(Error::syntax(
                "EXPLAIN applies to queries only, not to administration or schema commands",
            )),
            Statement::Admin(cmd) => self.admin(cmd),
            Statement::Explain(_) | Statement::Profile(_) => {
                Err(Error::syntax("EXPLAIN/PROFILE may not be nested"))
            }
            Statement::Command(_) | Statement::TxControl(_) => Err(Error::new(
                ErrorCode::NotSupported,
                "this is a server command, answered by the server's front door, not by the Cypher engine",
            )),
            Statement::Query(q) => {
                if let Ok(procs) = self.engine.procedures.read() {
                    runner::check_procedure_calls(&q, &procs, &params)?;
                }
                let writes = has_updates(&q);
                if explain {
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
                            plan: Some(format!("{q:#?}")),
                            ..Summary::default()
                        },
                    )));
                }
                let may_write = self.options.mode == AccessMode::Write;
                if writes && may_write {
                    // The first write: from here on the transaction holds the write lock.
                    self.upgrade_to_write()?;
                } else if self.store.is_none() {
                    // A read-mode auto-commit transaction opens a read store, so the check
                    // below refuses its writes as it does in an explicit one.
                    self.open_store(false)?;
                }
                if writes && matches!(self.store, Some(StoreTx::Read(_))) {
                    return Err(Error::new(
                        ErrorCode::Forbidden,
                        "Writing in read access mode not allowed.",
                    ));
                }
                let env = self.env(params);
                let store = self
                    .store
                    .as_mut()
                    .ok_or_else(|| Error::internal("no storage transaction"))?;
                let deep = crate::semantic::statement_is_deep(&Statement::Query(q.clone()));
                let exec = |store: &mut StoreTx| -> Result<(Vec<String>, Vec<Vec<Value>>, Stats)> {
                    let mut runner = Runner::new(store, &env);
                    let (cols, rows) = runner.run_query(&q)?;
                    let stats = runner.stats;
                    let ev = Ev::new(store.read(), &env);
                    let mut out = Vec::with_capacity(rows.len());
                    for r in rows {
                        let mut vals = Vec::with_capacity(cols.len());
                        for c in &cols {
                            vals.push(ev.resolve(r.get(c).cloned().unwrap_or(Value::Null))?);
                        }
                        out.push(vals);
                    }
                    Ok((cols, out, stats))
                };
                let (cols, rows, stats) = if deep {
                    crate::parser::on_big_stack(|| exec(store))??
                } else {
                    exec(store)?
                };
                let query_type = match (stats.contains_updates(), cols.is_empty()) {
                    (true, true) => QueryType::Write,
                    (true, false) => QueryType::ReadWrite,
                    _ => QueryType::Read,
                };
                Ok(Box::new(RowsStream::with_summary(
                    cols,
                    rows,
                    Summary {
                        query_type,
                        stats,
                        database: self.name.clone(),
                        plan: None,
                    },
                )))
            }
        }
    }

    fn admin(&mut self, cmd: AdminCommand) -> Result<Box<dyn ResultStream>> {
        let storage = &self.engine.storage;
        let default = self.engine.config.default_database.to_ascii_lowercase();
        let mut stats = Stats::default();
        let mut cols: Vec<String> = vec![];
        let mut rows: Vec<Vec<Value>> = vec![];
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
            AdminCommand::ShowDatabases => {
                cols = [
                    "name",
                    "type",
                    "aliases",
                    "access",
                    "address",
                    "role",
                    "writer",
                    "requestedStatus",
                    "currentStatus",
                    "statusMessage",
                    "default",
                    "home",
                    "constituents",
                ]
                .iter()
                .map(|c| c.to_string())
                .collect();
                let mut states: Vec<(String, &'static str, String)> = storage
                    .states()
                    .into_iter()
                    .map(|d| (d.name, d.status.as_str(), d.message))
                    .collect();
                states.push(("system".into(), "online", String::new()));
                states.sort();
                for (n, status, message) in states {
                    let is_default = n == default;
                    rows.push(vec![
                        s(&n),
                        s(if n == "system" { "system" } else { "standard" }),
                        Value::List(vec![]),
                        s("read-write"),
                        s("localhost:7687"),
                        s("primary"),
                        Value::Bool(true),
                        s("online"),
                        s(status),
                        s(&message),
                        Value::Bool(is_default),
                        Value::Bool(is_default),
                        Value::List(vec![]),
                    ]);
                }
            }
            AdminCommand::CreateIndex {
                name,
                if_not_exists,
                label,
                properties,
            } => self.create_schema(
                name,
                if_not_exists,
                label,
                properties,
                SchemaKind::Index,
                &mut stats,
            )?,
            AdminCommand::CreateUniqueConstraint {
                name,
                if_not_exists,
                label,
                properties,
            } => self.create_schema(
                name,
                if_not_exists,
                label,
                properties,
                SchemaKind::Unique,
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
                    .any(|d| d.name == name && d.kind == SchemaKind::Unique);
                w.drop_schema(&name)?;
                if unique {
                    stats.constraints_removed += 1;
                } else {
                    stats.indexes_removed += 1;
                }
            }
            AdminCommand::Memgraph(c) => return self.memgraph_admin(c),
            AdminCommand::ShowProcedures | AdminCommand::ShowFunctions => {
                return self.show_routines(matches!(cmd, AdminCommand::ShowFunctions))
            }
            AdminCommand::ShowTransactions { ids, all_users } => {
                let (cols, rows) = self.show_transactions(&ids, all_users);
                return Ok(Box::new(RowsStream::with_summary(
                    cols,
                    rows,
                    self.summary(stats, QueryType::Read),
                )));
            }
            AdminCommand::TerminateTransactions { ids, all_users } => {
                let (cols, rows) = self.terminate_transactions(&ids, all_users);
                return Ok(Box::new(RowsStream::with_summary(
                    cols,
                    rows,
                    self.summary(stats, QueryType::Write),
                )));
            }
            AdminCommand::ShowIndexes | AdminCommand::ShowConstraints => {
                let constraints = matches!(cmd, AdminCommand::ShowConstraints);
                if self.store.is_none() {
                    self.open_store(false)?;
                }
                let g = self
                    .store
                    .as_ref()
                    .map(|s| s.read())
                    .ok_or_else(|| Error::internal("no store"))?;
                cols = [
                    "id",
                    "name",
                    "state",
                    "type",
                    "entityType",
                    "labelsOrTypes",
                    "properties",
                ]
                .iter()
                .map(|c| c.to_string())
                .collect();
                for (i, d) in g.schema()?.into_iter().enumerate() {
                    let is_unique = d.kind == SchemaKind::Unique;
                    if constraints && !is_unique {
                        continue;
                    }
                    rows.push(vec![
                        Value::Int(i as i64 + 1),
                        s(&d.name),
                        s("ONLINE"),
                        s(if constraints { "UNIQUENESS" } else { "RANGE" }),
                        s("NODE"),
                        Value::List(vec![s(&d.label)]),
                        Value::List(d.properties.iter().map(|p| s(p)).collect()),
                    ]);
                }
                return Ok(Box::new(RowsStream::with_summary(
                    cols,
                    rows,
                    self.summary(stats, QueryType::Read),
                )));
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
        let unique = kind == SchemaKind::Unique;
        let name = name.unwrap_or_else(|| {
            format!(
                "{}_{}_{}",
                if unique { "constraint" } else { "index" },
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
    /// every one for an administrator (`all_users`, set by the front door) or when
    /// authentication is off.
    fn may_see(&self, entry: &TxEntry, all_users: bool) -> bool {
        let p = &self.options.principal;
        all_users || p.superuser || (p.user.is_some() && entry.user == p.user)
    }

    fn show_transactions(&self, ids: &[String], all_users: bool) -> (Vec<String>, Vec<Vec<Value>>) {
        let cols = [
            "database",
            "transactionId",
            "username",
            "currentQuery",
            "startTime",
            "status",
            "elapsedTime",
            "idleTime",
            "holdsWriteLock",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect();
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
        let rows = entries
            .into_iter()
            .map(|(id, e)| {
                let status = if e.terminated {
                    "Terminated".to_string()
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
                ]
            })
            .collect();
        (cols, rows)
    }

    fn terminate_transactions(
        &self,
        ids: &[String],
        all_users: bool,
    ) -> (Vec<String>, Vec<Vec<Value>>) {
        let cols = ["transactionId", "username", "message"]
            .iter()
            .map(|c| c.to_string())
            .collect();
        let s = |x: &str| Value::String(x.to_string());
        let mut rows = Vec::with_capacity(ids.len());
        let Ok(mut txs) = self.engine.txs.lock() else {
            return (cols, rows);
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
                    rows.push(vec![
                        s(text),
                        e.user.as_deref().map_or(Value::Null, s),
                        s("Transaction terminated."),
                    ]);
                }
                None => rows.push(vec![s(text), Value::Null, s("Transaction not found.")]),
            }
        }
        (cols, rows)
    }

    fn summary(&self, stats: Stats, query_type: QueryType) -> Summary {
        Summary {
            query_type,
            stats,
            database: self.name.clone(),
            plan: None,
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

impl Transaction for EngineTx {
    fn run(&mut self, query: &str, params: Params) -> Result<Box<dyn ResultStream>> {
        self.run_prepared(Prepared::unparsed(query), params)
    }

    fn run_prepared(
        &mut self,
        statement: Prepared,
        params: Params,
    ) -> Result<Box<dyn ResultStream>> {
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
            Ok(s) => Ok(s),
            Err(e) => {
                self.failed = true;
                // Roll back right away: a failed statement leaves nothing behind.
                if let Some(StoreTx::Write(w)) = self.store.take() {
                    let _ = w.abort();
                    self.engine.set_holds_write(self.id, false);
                }
                Err(e)
            }
        }
    }

    fn commit(self: Box<Self>) -> Result<CommitInfo> {
        if self.failed {
            return Err(Error::new(
                ErrorCode::TransactionInvalid,
                "the transaction has failed and was rolled back",
            ));
        }
        let mut this = self;
        this.check_terminated()?;
        this.check_deadline()?;
        // The bookmark counts the database's commits up to and including this one.
        let commits = match this.store.take() {
            Some(StoreTx::Write(w)) => {
                let after = w.commit_seq() + u64::from(w.has_writes());
                w.commit()?;
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
        if let Some(StoreTx::Write(w)) = self.store.take() {
            w.abort()?;
        }
        Ok(())
    }

    fn database(&self) -> &str {
        &self.name
    }
}

#[allow(dead_code)]
fn _unused(_: BTreeMap<String, Value>, _: Row, _: SchemaDef) {}
