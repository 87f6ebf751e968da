//! The narrow interface through which protocol crates (Bolt, HTTP) reach the graph engine.
//!
//! A protocol session opens a [`Transaction`] (explicit, or one per auto-commit query), runs
//! statements in it, pulls rows from each [`ResultStream`], and commits or rolls back. The
//! engine behind it (`graphward-cypher`'s `Engine`) owns storage and Cypher; nothing here
//! knows about sockets.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::commands::TxControl;
use crate::error::{Error, ErrorCode, Result};
use crate::value::Value;

/// Query parameters (`$name`).
pub type Params = BTreeMap<String, Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessMode {
    Read,
    #[default]
    Write,
}

/// A shared flag that cancels a running query (Bolt RESET, a time limit, a closed connection).
/// The executor polls it cooperatively; a cancelled query fails with `Terminated` and its
/// transaction rolls back.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Who is asking: who, never what they may do. Filled in by the auth layer; every decision
/// reads the user's rights as stored at that moment (`graphward_auth::policy`).
#[derive(Debug, Clone, Default)]
pub struct Principal {
    pub user: Option<String>,
    /// Restricts this principal to one graph (the JWT `graph` claim), if set.
    pub graph_scope: Option<String>,
    /// The bearer token this principal was authenticated with, if any (for re-checks:
    /// expiry, block list, revoke-all). Opaque to protocol crates.
    pub token: Option<TokenRef>,
}

/// What the auth layer remembers of a verified token. Never holds the token itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRef {
    /// A digest of the token (e.g. hex SHA-256), for block-list checks.
    pub digest: String,
    /// `iat` and `exp`, seconds since the epoch.
    pub issued_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct TxOptions {
    /// Database (named graph); `None` means the server's default database.
    pub database: Option<String>,
    pub mode: AccessMode,
    /// Per-transaction timeout requested by the client; the server's limit still applies.
    pub timeout: Option<Duration>,
    pub principal: Principal,
    /// Cancels whatever runs in this transaction.
    pub cancel: CancelToken,
    /// True for a transaction the protocol opened for a single auto-commit query.
    pub implicit: bool,
    /// The client's transaction metadata (Bolt's `tx_metadata` in BEGIN or an auto-commit
    /// RUN): shown by `SHOW TRANSACTIONS` (`metaData`) and `CALL tx.getMetaData()`.
    pub metadata: crate::value::Map,
}

/// What kind of statement ran (Bolt's `type` field: r, w, rw, s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryType {
    #[default]
    Read,
    Write,
    ReadWrite,
    Schema,
}

impl QueryType {
    pub fn as_bolt(&self) -> &'static str {
        match self {
            QueryType::Read => "r",
            QueryType::Write => "w",
            QueryType::ReadWrite => "rw",
            QueryType::Schema => "s",
        }
    }
}

/// Update counters, named as Neo4j names them in Bolt's `stats` map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    pub nodes_created: u64,
    pub nodes_deleted: u64,
    pub relationships_created: u64,
    pub relationships_deleted: u64,
    pub properties_set: u64,
    pub labels_added: u64,
    pub labels_removed: u64,
    pub indexes_added: u64,
    pub indexes_removed: u64,
    pub constraints_added: u64,
    pub constraints_removed: u64,
    pub system_updates: u64,
}

impl Stats {
    pub fn contains_updates(&self) -> bool {
        *self != Stats::default()
    }
    /// `(bolt key, value)` pairs for the non-zero counters.
    pub fn nonzero(&self) -> Vec<(&'static str, u64)> {
        [
            ("nodes-created", self.nodes_created),
            ("nodes-deleted", self.nodes_deleted),
            ("relationships-created", self.relationships_created),
            ("relationships-deleted", self.relationships_deleted),
            ("properties-set", self.properties_set),
            ("labels-added", self.labels_added),
            ("labels-removed", self.labels_removed),
            ("indexes-added", self.indexes_added),
            ("indexes-removed", self.indexes_removed),
            ("constraints-added", self.constraints_added),
            ("constraints-removed", self.constraints_removed),
            ("system-updates", self.system_updates),
        ]
        .into_iter()
        .filter(|(_, v)| *v != 0)
        .collect()
    }
}

/// Summary available once a result stream is exhausted (or discarded).
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub query_type: QueryType,
    pub stats: Stats,
    /// The database the statement ran against.
    pub database: String,
    /// The plan, for EXPLAIN (Bolt `plan`).
    pub plan: Option<Box<PlanDescription>>,
    /// The plan with rows and storage hits per operator, for PROFILE (Bolt `profile`).
    pub profile: Option<Box<PlanDescription>>,
}

/// One operator of a query plan, in the shape Neo4j reports it (Bolt `plan` / `profile`
/// metadata): the operator, the variables it binds, its arguments and its inputs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanDescription {
    pub operator_type: String,
    pub identifiers: Vec<String>,
    pub arguments: BTreeMap<String, Value>,
    pub children: Vec<PlanDescription>,
    /// PROFILE: rows this operator produced.
    pub rows: u64,
    /// PROFILE: storage reads this operator made itself (not counting its children).
    pub db_hits: u64,
}

impl PlanDescription {
    /// The Bolt metadata map; `profiled` adds `rows`, `dbHits` and the page-cache fields.
    pub fn to_value(&self, profiled: bool) -> Value {
        let mut m = BTreeMap::new();
        m.insert(
            "operatorType".to_string(),
            Value::String(self.operator_type.clone()),
        );
        m.insert(
            "identifiers".to_string(),
            Value::List(
                self.identifiers
                    .iter()
                    .map(|i| Value::String(i.clone()))
                    .collect(),
            ),
        );
        m.insert("args".to_string(), Value::Map(self.arguments.clone()));
        m.insert(
            "children".to_string(),
            Value::List(self.children.iter().map(|c| c.to_value(profiled)).collect()),
        );
        if profiled {
            let int = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
            m.insert("rows".to_string(), int(self.rows));
            m.insert("dbHits".to_string(), int(self.db_hits));
            m.insert("pageCacheHits".to_string(), Value::Int(0));
            m.insert("pageCacheMisses".to_string(), Value::Int(0));
            m.insert("pageCacheHitRatio".to_string(), Value::Float(0.0));
            m.insert("time".to_string(), Value::Int(0));
        }
        Value::Map(m)
    }
}

/// Rows of one statement, pulled one at a time.
pub trait ResultStream: Send {
    fn columns(&self) -> &[String];
    /// The next row; `None` when exhausted. An error ends the stream and fails the transaction.
    fn next_row(&mut self) -> Option<Result<Vec<Value>>>;
    /// Summary; complete once `next_row` returned `None`.
    fn summary(&self) -> Summary;
}

/// What a successful commit reports.
#[derive(Debug, Clone, Default)]
pub struct CommitInfo {
    /// Opaque bookmark naming the committed state (Bolt `bookmark`).
    pub bookmark: Option<String>,
}

/// A statement parsed once. Protocol crates get it from [`QueryEngine::prepare`] when they need
/// to know what a statement is before running it (Bolt: `BEGIN`/`COMMIT`/`ROLLBACK` sent as
/// queries), and hand it to [`Transaction::run_prepared`], so the engine never parses the same
/// text twice. The parsed form itself is opaque here (this crate knows no Cypher syntax): the
/// engine that made it reads it back with [`Prepared::parsed`].
#[derive(Clone)]
pub struct Prepared {
    text: Arc<str>,
    control: Option<TxControl>,
    parsed: Option<Arc<dyn Any + Send + Sync>>,
    /// Shared by every copy of this statement (an engine's statement cache hands out copies).
    hints: Arc<Hints>,
}

/// What the engine learned about a prepared statement, shared by the copies of it.
#[derive(Debug, Default)]
struct Hints {
    /// A query that only reads: it takes no write lock, writes nothing, calls no procedure
    /// and touches nothing outside its snapshot, so running it again has no effect.
    short_read: bool,
    /// The engine's static checks passed: later runs of the same statement skip them.
    checked: AtomicBool,
    /// Runs of a `short_read` statement in a row that did not end within the time a protocol
    /// gave it on its own thread (see [`Prepared::may_run_inline`]).
    strikes: AtomicU8,
}

/// Runs in a row of a short read that overran the inline budget before it is never run
/// inline again (a busy machine can make a quick statement overrun now and then).
const INLINE_STRIKES: u8 = 8;

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("len", &self.text.len())
            .field("control", &self.control)
            .field("parsed", &self.parsed.is_some())
            .field("hints", &self.hints)
            .finish()
    }
}

impl Prepared {
    /// Text not parsed yet: whoever runs it parses it (once).
    pub fn unparsed(text: &str) -> Prepared {
        Prepared {
            text: Arc::from(text),
            control: None,
            parsed: None,
            hints: Arc::default(),
        }
    }

    /// A parsed statement; `control` says whether it is a transaction-control statement.
    pub fn parsed_as<T: Any + Send + Sync>(
        text: &str,
        control: Option<TxControl>,
        parsed: T,
    ) -> Prepared {
        Prepared {
            text: Arc::from(text),
            control,
            parsed: Some(Arc::new(parsed)),
            hints: Arc::default(),
        }
    }

    /// A parsed statement the engine knows to be a short read: a query that only reads from
    /// its snapshot (no write, no lock, no procedure, no I/O outside storage reads), so that
    /// abandoning a run and running it again changes nothing. A protocol may then try it on
    /// its own thread under a short time budget ([`Prepared::may_run_inline`]).
    pub fn parsed_short_read<T: Any + Send + Sync>(text: &str, parsed: T) -> Prepared {
        Prepared {
            text: Arc::from(text),
            control: None,
            parsed: Some(Arc::new(parsed)),
            hints: Arc::new(Hints {
                short_read: true,
                ..Hints::default()
            }),
        }
    }

    /// Whether this is a short read (see [`Prepared::parsed_short_read`]).
    pub fn is_short_read(&self) -> bool {
        self.hints.short_read
    }

    /// A short read that has not overrun the inline budget too often: a protocol may run it
    /// on its own (async) thread with a time limit of that budget, and when the limit ends
    /// it, give up that run (nothing was written) and run it again on a blocking thread.
    pub fn may_run_inline(&self) -> bool {
        self.hints.short_read && self.hints.strikes.load(Ordering::Relaxed) < INLINE_STRIKES
    }

    /// A run on the protocol's own thread ended within its budget: the overruns before it do
    /// not count (unless there were already enough of them in a row).
    pub fn inline_ended(&self) {
        let _ = self
            .hints
            .strikes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                (s > 0 && s < INLINE_STRIKES).then_some(0)
            });
    }

    /// A run on the protocol's own thread overran its budget.
    pub fn inline_overran(&self) {
        let _ = self
            .hints
            .strikes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                Some(s.saturating_add(1))
            });
    }

    /// Whether the engine's static checks already passed for this statement.
    pub fn is_checked(&self) -> bool {
        self.hints.checked.load(Ordering::Relaxed)
    }

    /// The engine's static checks passed (later runs skip them).
    pub fn mark_checked(&self) {
        self.hints.checked.store(true, Ordering::Relaxed);
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// `Some` for `BEGIN`, `COMMIT`, `ROLLBACK` sent as a statement.
    pub fn control(&self) -> Option<TxControl> {
        self.control
    }

    /// The parsed form, if this was parsed into a `T`.
    pub fn parsed<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.parsed.as_deref().and_then(|p| p.downcast_ref::<T>())
    }
}

/// One transaction. Statements run in order; each stream must be drained or dropped before the
/// next `run`. Dropping a transaction without `commit` rolls it back.
pub trait Transaction: Send {
    fn run(&mut self, query: &str, params: Params) -> Result<Box<dyn ResultStream>>;
    /// Run a statement already parsed by [`QueryEngine::prepare`]. Engines that parse override
    /// this to use the parsed form instead of parsing the text again.
    fn run_prepared(
        &mut self,
        statement: Prepared,
        params: Params,
    ) -> Result<Box<dyn ResultStream>> {
        self.run(statement.text(), params)
    }
    fn commit(self: Box<Self>) -> Result<CommitInfo>;
    fn rollback(self: Box<Self>) -> Result<()>;
    /// The database this transaction runs against.
    fn database(&self) -> &str;
}

/// Facts about one database, for `SHOW DATABASES` and routing.
#[derive(Debug, Clone, Default)]
pub struct DatabaseInfo {
    pub name: String,
    pub default: bool,
    /// `online`, `degraded` (storage failed; reads only until it recovers by itself) or
    /// `offline` (failed its startup check).
    pub status: DatabaseStatus,
    /// Why the database is not online (empty when it is).
    pub status_message: String,
    /// Storage I/O failures seen since the server started.
    pub io_failures: u64,
}

/// The state of one database (`SHOW DATABASES` `currentStatus`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DatabaseStatus {
    #[default]
    Online,
    /// Storage failed (e.g. disk full): reads are served where the storage allows, writes are
    /// refused, and the database reopens by itself once writes succeed again.
    Degraded,
    /// Failed its startup check (file missing, empty or damaged): refuses every query.
    Offline,
}

impl DatabaseStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            DatabaseStatus::Online => "online",
            DatabaseStatus::Degraded => "degraded",
            DatabaseStatus::Offline => "offline",
        }
    }
}

/// The engine as protocol crates see it.
pub trait QueryEngine: Send + Sync + 'static {
    /// Begin a transaction. Fails with `DatabaseNotFound` for an unknown database.
    fn begin(&self, options: TxOptions) -> Result<Box<dyn Transaction>>;
    /// Parse a statement once, before running it (a syntax error is reported here). The
    /// default leaves it unparsed, for engines that know no syntax (test doubles).
    fn prepare(&self, text: &str) -> Result<Prepared> {
        Ok(Prepared::unparsed(text))
    }
    /// Whether storage answers: the default database opens a read transaction. Needs no
    /// principal (the front door forwards it to the engine without authorization: it reads
    /// nothing a client sees).
    fn health(&self) -> Result<()> {
        let tx = self.begin(TxOptions {
            mode: AccessMode::Read,
            implicit: true,
            ..TxOptions::default()
        })?;
        tx.rollback()
    }
    /// The name of the default database (`neo4j` unless configured otherwise).
    fn default_database(&self) -> String;
    fn databases(&self) -> Vec<DatabaseInfo>;
    /// Refuses with `InvalidBookmark` a bookmark this server did not issue: malformed, for a
    /// database that does not exist, or naming more commits than the database has. The
    /// default accepts every well-formed one (test doubles).
    fn check_bookmarks(&self, bookmarks: &[String]) -> Result<()> {
        Bookmark::parse_all(bookmarks).map(|_| ())
    }
    /// Whether every bookmark is reached now, without waiting (`check_bookmarks` waits,
    /// bounded, for one that is not). Errors as `check_bookmarks`. The default: no bookmark.
    fn bookmarks_reached(&self, bookmarks: &[String]) -> Result<bool> {
        Bookmark::parse_all(bookmarks).map(|b| b.is_empty())
    }
    /// Open transactions and write-lock waits, for `/metrics`.
    fn transaction_metrics(&self) -> TransactionMetrics {
        TransactionMetrics::default()
    }
    /// Whether `principal` may run `command` now, decided from the typed command by the same
    /// table as every statement (the front door re-checks the login and reads the principal's
    /// rights as stored now). For commands a protocol carries out itself (the HTTP admin
    /// endpoints); statements are authorized when they run. The default refuses: an engine
    /// without an authorization table allows nothing.
    fn authorize(&self, principal: &Principal, command: &crate::commands::Command) -> Result<()> {
        let _ = principal;
        Err(Error::new(
            ErrorCode::Forbidden,
            format!(
                "{:?} commands cannot be authorized on this server",
                command.family()
            ),
        ))
    }
}

/// Transaction figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransactionMetrics {
    /// Transactions open now (explicit and auto-commit).
    pub open: u64,
    /// Age of the oldest open transaction.
    pub oldest_age: Duration,
    /// Waits for a database's write lock so far (those that had to wait at all).
    pub lock_waits: u64,
    /// Total time spent waiting for write locks so far.
    pub lock_wait_total: Duration,
}

/// Most bookmarks one request may carry.
pub const MAX_BOOKMARKS: usize = 1000;

/// A bookmark as graphward issues it at commit: `graphward:<database>:<n>`, where `n` counts
/// the commits (that wrote something) the database had after that transaction. On one server
/// every commit is visible at once, so any bookmark it issued is already satisfied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bookmark {
    pub database: String,
    pub commits: u64,
}

impl Bookmark {
    const PREFIX: &'static str = "graphward:";
    /// Longest bookmark accepted, in bytes.
    const MAX_LEN: usize = 256;

    /// Reads one bookmark; anything else is `InvalidBookmark`.
    pub fn parse(text: &str) -> Result<Bookmark> {
        let invalid = || {
            let shown: String = text.chars().take(80).collect();
            Error::new(
                ErrorCode::InvalidBookmark,
                format!("'{shown}' is not a bookmark this server issued"),
            )
        };
        if text.len() > Self::MAX_LEN {
            return Err(invalid());
        }
        let rest = text.strip_prefix(Self::PREFIX).ok_or_else(invalid)?;
        let (database, n) = rest.rsplit_once(':').ok_or_else(invalid)?;
        let valid_name = !database.is_empty()
            && database
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !valid_name || n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let commits = n.parse::<u64>().map_err(|_| invalid())?;
        Ok(Bookmark {
            database: database.to_ascii_lowercase(),
            commits,
        })
    }

    /// Reads a request's bookmarks (at most [`MAX_BOOKMARKS`]).
    pub fn parse_all(texts: &[String]) -> Result<Vec<Bookmark>> {
        if texts.len() > MAX_BOOKMARKS {
            return Err(Error::new(
                ErrorCode::InvalidBookmark,
                format!(
                    "{} bookmarks, more than the limit of {MAX_BOOKMARKS}",
                    texts.len()
                ),
            ));
        }
        texts.iter().map(|t| Bookmark::parse(t)).collect()
    }
}

impl std::fmt::Display for Bookmark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}:{}", Self::PREFIX, self.database, self.commits)
    }
}

/// Resource limits enforced by the engine (all configurable; see the server's config docs).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest query text accepted, in bytes.
    pub max_query_length: usize,
    /// Deepest nesting of expressions/patterns the parser accepts.
    pub max_nesting_depth: usize,
    /// Most rows one query may produce or hold in an intermediate result.
    pub max_rows: u64,
    /// Approximate memory one query may hold in intermediate results, in bytes.
    pub max_memory_bytes: u64,
    /// Memory all running queries together may hold, in bytes (the server-wide pool every
    /// query's charges also go to).
    pub max_total_memory_bytes: u64,
    /// Wall-clock limit per query; the executor cancels it cooperatively and rolls back.
    pub query_timeout: Option<Duration>,
    /// Wall-clock limit of a whole transaction, from BEGIN (or the auto-commit query) to
    /// COMMIT, including any wait for the write lock; a client's shorter `tx_timeout` wins.
    pub transaction_timeout: Option<Duration>,
    /// A transaction that has held its snapshot this long while its database file grew is
    /// reported in the log (once); `None`: never.
    pub snapshot_warning_age: Option<Duration>,
    /// How long a transaction whose bookmark names a commit the database has not reached
    /// waits for it before failing with the transient `BookmarkTimeout` (Neo4j's
    /// `db.transaction.bookmark_ready_timeout`); `None`: it fails at once.
    pub bookmark_wait: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_query_length: 1024 * 1024,
            max_nesting_depth: 200,
            max_rows: 10_000_000,
            max_memory_bytes: 2 * 1024 * 1024 * 1024,
            max_total_memory_bytes: 4 * 1024 * 1024 * 1024,
            query_timeout: Some(Duration::from_secs(300)),
            transaction_timeout: Some(Duration::from_secs(300)),
            snapshot_warning_age: Some(Duration::from_secs(60)),
            bookmark_wait: Some(Duration::from_secs(30)),
        }
    }
}

/// Engine configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Name of the default database, created at first start (`neo4j`).
    pub default_database: String,
    pub limits: Limits,
    /// Automatic compaction of database files; `None`: only `COMPACT DATABASE` (and the
    /// CLI/HTTP tools) compact.
    pub auto_compact: Option<AutoCompact>,
    /// The Bolt address (`host:port`) `SHOW DATABASES` announces: the advertised address,
    /// else the one the server listens on.
    pub bolt_address: String,
    /// The directory `LOAD CSV` reads files from (`--import-dir`); `None`: LOAD CSV is off.
    pub import_dir: Option<std::path::PathBuf>,
}

/// When a database file is compacted by itself: in the background, while no transaction is
/// open on it, once it has grown by `growth_percent` % over its size after the last
/// compaction (or at startup) and is at least `min_bytes` large. Space freed by deletes,
/// and pages kept by old snapshots during churn, go back to the file system this way; a
/// database that grows for real is compacted once per such growth step, so the cost stays
/// proportional to the data written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoCompact {
    pub growth_percent: u64,
    pub min_bytes: u64,
}

impl Default for AutoCompact {
    fn default() -> Self {
        AutoCompact {
            growth_percent: 100,
            min_bytes: 256 * 1024 * 1024,
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            default_database: "neo4j".to_string(),
            limits: Limits::default(),
            auto_compact: Some(AutoCompact::default()),
            bolt_address: "localhost:7687".to_string(),
            import_dir: None,
        }
    }
}

#[cfg(test)]
mod bookmark_tests {
    use super::*;

    #[test]
    fn bookmarks_round_trip_and_refuse_anything_else() {
        let b = Bookmark {
            database: "neo4j".into(),
            commits: 42,
        };
        assert_eq!(Bookmark::parse(&b.to_string()).unwrap(), b);
        for bad in [
            "",
            "FB:kcwQabc",
            "graphward:",
            "graphward:neo4j",
            "graphward:neo4j:",
            "graphward::1",
            "graphward:neo4j:-1",
            "graphward:neo4j:+1",
            "graphward:neo4j:99999999999999999999999",
            "graphward:ne o4j:1",
        ] {
            let e = Bookmark::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidBookmark, "{bad}");
        }
        let long = format!("graphward:{}:1", "a".repeat(300));
        assert!(Bookmark::parse(&long).is_err());
        let many = vec![b.to_string(); MAX_BOOKMARKS + 1];
        assert!(Bookmark::parse_all(&many).is_err());
    }
}
