//! Server commands: statements the server answers itself, outside the Cypher engine.
//!
//! Some statements a client sends over Bolt or HTTP are not graph queries but server
//! administration: `RELOAD BOLT_SERVER TLS`, `SHOW TLS`, `CREATE USER ...`, `GRANT ...`,
//! `INSTALL QUERY ...`. The Cypher parser (the one parser for everything a client sends) turns
//! them into the typed [`Command`] values below; the front door (`graphward-auth`) authorizes
//! them from that typed value and routes each to the [`ServerCommand`] handler of its family.
//! The crates that own those concerns (TLS, auth, stored queries, configuration) implement
//! [`ServerCommand`]; none of them reads statement text. Nothing here knows about sockets.

use crate::auth::DbmsPrivilege;
use crate::engine::{Params, Principal, QueryType, ResultStream, Stats, Summary};
use crate::error::{Error, ErrorCode, Result};
use crate::value::Value;

/// A server command, as parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Auth(AuthCommand),
    Tls(TlsCommand),
    /// `RELOAD CONFIG`: re-read the configuration file and apply what can change at runtime.
    ReloadConfig,
    StoredQuery(StoredQueryCommand),
    /// Storage maintenance a protocol carries out itself (the HTTP `/admin/backup*` and
    /// `/admin/compact/{database}` endpoints): authorized from this typed value through the
    /// same table as every statement ([`crate::engine::QueryEngine::authorize`]), never run
    /// by a handler.
    Maintenance(MaintenanceCommand),
}

/// Storage maintenance over HTTP (`graphward backup`, `graphward compact`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaintenanceCommand {
    /// Stage an online backup, fetch one of its files, or remove it (`/admin/backup*`).
    Backup,
    /// Compact one database file (`/admin/compact/{database}`).
    Compact { database: String },
    /// Read the server's figures (`GET /metrics`).
    Metrics,
}

/// The family of a command: which handler runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandFamily {
    Auth,
    Tls,
    Config,
    StoredQuery,
    Maintenance,
}

impl Command {
    /// A `SHOW` command (it lists rows and takes a `YIELD` / `WHERE` / `RETURN` tail).
    pub fn is_show(&self) -> bool {
        matches!(
            self,
            Command::Auth(
                AuthCommand::ShowUsers
                    | AuthCommand::ShowCurrentUser
                    | AuthCommand::ShowRoles
                    | AuthCommand::ShowPrivileges { .. }
                    | AuthCommand::ShowSecrets { .. }
            ) | Command::Tls(TlsCommand::Show)
                | Command::StoredQuery(StoredQueryCommand::Show { .. })
        )
    }

    pub fn family(&self) -> CommandFamily {
        match self {
            Command::Auth(_) => CommandFamily::Auth,
            Command::Tls(_) => CommandFamily::Tls,
            Command::ReloadConfig => CommandFamily::Config,
            Command::StoredQuery(_) => CommandFamily::StoredQuery,
            Command::Maintenance(_) => CommandFamily::Maintenance,
        }
    }
}

/// `BEGIN`, `COMMIT`, `ROLLBACK` sent as statements (pymgclient with autocommit off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxControl {
    Begin,
    Commit,
    Rollback,
}

/// A privilege level on a graph, as written in `GRANT READ|WRITE|ADMIN ON GRAPH g`. Levels are
/// cumulative: WRITE includes READ, ADMIN includes WRITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GraphLevel {
    Read,
    Write,
    Admin,
}

impl GraphLevel {
    pub fn as_str(&self) -> &'static str {
        match self {
            GraphLevel::Read => "READ",
            GraphLevel::Write => "WRITE",
            GraphLevel::Admin => "ADMIN",
        }
    }
}

/// A password as written in the statement: a literal or a parameter name. Never printed.
#[derive(Clone, PartialEq)]
pub enum Secret {
    Literal(String),
    Param(String),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Literal(_) => write!(f, "Literal(****)"),
            Secret::Param(p) => write!(f, "Param({p})"),
        }
    }
}

impl Secret {
    /// The password, reading a parameter when the statement names one.
    pub fn resolve(&self, params: &Params) -> Result<String> {
        match self {
            Secret::Literal(s) => Ok(s.clone()),
            Secret::Param(p) => match params.get(p) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(Error::type_error(format!(
                    "parameter ${p} must be a string"
                ))),
                None => Err(Error::new(
                    ErrorCode::ParameterMissing,
                    format!("Expected parameter(s): {p}"),
                )),
            },
        }
    }
}

/// User, role, privilege and secret administration (Neo4j and Memgraph syntax).
#[derive(Debug, Clone, PartialEq)]
pub enum AuthCommand {
    CreateUser {
        name: String,
        password: Option<Secret>,
        if_not_exists: bool,
    },
    /// `ALTER USER name SET PASSWORD ...` / `SET PASSWORD FOR name TO ...`
    SetPassword {
        name: String,
        password: Secret,
    },
    /// `ALTER CURRENT USER SET PASSWORD FROM 'old' TO 'new'`
    ChangeOwnPassword {
        old: Secret,
        new: Secret,
    },
    DropUser {
        name: String,
        if_exists: bool,
    },
    ShowUsers,
    ShowCurrentUser,
    CreateRole {
        name: String,
        if_not_exists: bool,
    },
    DropRole {
        name: String,
        if_exists: bool,
    },
    ShowRoles,
    GrantRole {
        roles: Vec<String>,
        user: String,
    },
    RevokeRole {
        roles: Vec<String>,
        user: String,
    },
    Grant {
        levels: Vec<GraphLevel>,
        /// A graph name, or `*` for every graph.
        graph: String,
        to: String,
    },
    Revoke {
        levels: Vec<GraphLevel>,
        graph: String,
        from: String,
    },
    ShowPrivileges {
        name: Option<String>,
    },
    GrantDbms {
        privilege: DbmsPrivilege,
        to: String,
    },
    RevokeDbms {
        privilege: DbmsPrivilege,
        from: String,
    },
    CreateSecret {
        alias: Option<String>,
        user: Option<String>,
    },
    ShowSecrets {
        user: Option<String>,
    },
    DropSecret {
        alias: String,
        user: Option<String>,
    },
    /// `ROTATE TOKEN SIGNING KEY`
    RotateTokenKey,
}

/// TLS administration: `RELOAD [BOLT_SERVER|HTTP_SERVER] TLS`, `CALL dbms.security.reloadTLS()`,
/// `SHOW TLS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsCommand {
    Reload { bolt: bool, http: bool },
    Show,
}

/// Stored queries (TigerGraph style).
#[derive(Debug, Clone, PartialEq)]
pub enum StoredQueryCommand {
    /// `INSTALL QUERY name ON GRAPH g AS '...'`
    Install {
        name: String,
        graph: String,
        statement: String,
    },
    /// `SHOW QUERIES [ON GRAPH g]`
    Show { graph: Option<String> },
    /// `DROP QUERY name ON GRAPH g`
    Drop { name: String, graph: String },
}

/// What a command handler knows about the statement's context.
#[derive(Clone)]
pub struct CommandContext<'a> {
    /// Who runs it, as authorized by the front door for this very statement.
    pub principal: &'a Principal,
    /// The database of the surrounding transaction.
    pub database: &'a str,
    /// True inside an explicit transaction (BEGIN ... COMMIT); some commands refuse to run there.
    pub explicit_transaction: bool,
    /// Whether the principal may read a graph (for commands that list things per graph).
    pub can_read: &'a dyn Fn(&str) -> bool,
}

/// The handler of one family of server commands. The front door has already authorized the
/// statement from its typed value (`graphward_auth::policy`); a handler may narrow further
/// (e.g. filter listed rows) but never decides from text.
pub trait ServerCommand: Send + Sync + 'static {
    /// The family this handler runs.
    fn family(&self) -> CommandFamily;
    /// Run `command` (always of this handler's family).
    fn run(
        &self,
        command: &Command,
        params: &Params,
        ctx: &CommandContext<'_>,
    ) -> Result<Box<dyn ResultStream>>;
}

/// The error a handler gives a command of another family (a wiring mistake, never a client's).
pub fn wrong_family(command: &Command) -> Error {
    Error::internal(format!(
        "a {:?} command was routed to the wrong handler",
        command.family()
    ))
}

/// A materialized result, for commands that answer with a small table.
pub struct RowsStream {
    columns: Vec<String>,
    rows: std::vec::IntoIter<Vec<Value>>,
    summary: Summary,
}

impl RowsStream {
    pub fn new(columns: Vec<String>, rows: Vec<Vec<Value>>, database: &str) -> Self {
        let summary = Summary {
            query_type: QueryType::Schema,
            stats: Stats::default(),
            database: database.to_string(),
            plan: None,
            profile: None,
        };
        RowsStream::with_summary(columns, rows, summary)
    }

    /// A materialized result with a summary of the caller's making (the Cypher runtime's
    /// results are materialized too).
    pub fn with_summary(columns: Vec<String>, rows: Vec<Vec<Value>>, summary: Summary) -> Self {
        RowsStream {
            columns,
            rows: rows.into_iter(),
            summary,
        }
    }

    /// Count the command as a system update (Neo4j's `system-updates` counter).
    pub fn with_system_updates(mut self, n: u64) -> Self {
        self.summary.stats.system_updates = n;
        self
    }

    /// An empty result with no columns.
    pub fn empty(database: &str) -> Self {
        RowsStream::new(Vec::new(), Vec::new(), database)
    }

    pub fn boxed(self) -> Box<dyn ResultStream> {
        Box::new(self)
    }
}

impl ResultStream for RowsStream {
    fn columns(&self) -> &[String] {
        &self.columns
    }
    fn next_row(&mut self) -> Option<Result<Vec<Value>>> {
        self.rows.next().map(Ok)
    }
    fn summary(&self) -> Summary {
        self.summary.clone()
    }
}
