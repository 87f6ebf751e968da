//! [`FrontDoor`]: the one path every statement takes, from Bolt and HTTP alike:
//!
//! ```text
//! text ──parse once──▶ typed Statement ──policy::needs──▶ authorize ──route──▶ Cypher engine
//!                                                                       └────▶ ServerCommand handler
//! ```
//!
//! * **Parse once**: the Cypher engine's parser turns the text into a typed
//!   [`graphward_cypher::ast::Statement`] (queries, schema and database commands, and server
//!   commands alike). A protocol that needs to know what a statement is before running it
//!   (Bolt's `BEGIN` sent as a query) calls [`QueryEngine::prepare`] and hands the parsed
//!   statement on; nothing is parsed twice and nothing decides from text.
//! * **Authorize**: [`crate::policy::needs`] gives the privilege the typed statement needs;
//!   it is checked against the principal's rights as they are *now* (read from the auth store
//!   at every statement, so a REVOKE, a DROP USER or a blocked token applies to the next
//!   statement of an open transaction), after re-checking the principal's token and user.
//! * **Route**: queries, schema and database commands go to the Cypher engine with the parsed
//!   statement; server commands go to the [`ServerCommand`] handler of their family.
//!
//! At `begin`, a principal without READ on the database is refused, and one without WRITE gets
//! a read-only transaction (a second line of defence: the storage refuses writes in it).

use std::sync::Arc;

use graphward_core::auth::Authenticator;
use graphward_core::commands::{Command, CommandContext, ServerCommand, TxControl};
use graphward_core::engine::{
    AccessMode, CommitInfo, DatabaseInfo, Params, Prepared, Principal, QueryEngine, ResultStream,
    Transaction, TxOptions,
};
use graphward_core::{Error, ErrorCode, Result};
use graphward_cypher::ast::{AdminCommand, ShowCommand, ShowStatement, Statement};

use crate::jwt::RefusalKind;
use crate::policy::{needs, Needs};
use crate::service::{who, AuthService};
use crate::store::{Level, ALL_GRAPHS};

/// The engine the protocols see: parse, authorize, route.
pub struct FrontDoor {
    cypher: Arc<dyn QueryEngine>,
    handlers: Vec<Arc<dyn ServerCommand>>,
    auth: Arc<AuthService>,
}

impl FrontDoor {
    /// `cypher` is the Cypher engine (it parses every statement and runs queries).
    pub fn new(cypher: Arc<dyn QueryEngine>, auth: Arc<AuthService>) -> Self {
        FrontDoor {
            cypher,
            handlers: Vec::new(),
            auth,
        }
    }

    /// Add the handler of one family of server commands.
    pub fn with(mut self, handler: Arc<dyn ServerCommand>) -> Self {
        self.handlers.push(handler);
        self
    }
}

fn forbidden(message: String) -> Error {
    Error::new(ErrorCode::Forbidden, message)
}

fn from_level(l: graphward_core::commands::GraphLevel) -> Level {
    match l {
        graphward_core::commands::GraphLevel::Read => Level::Read,
        graphward_core::commands::GraphLevel::Write => Level::Write,
        graphward_core::commands::GraphLevel::Admin => Level::Admin,
    }
}

fn scope_refusal(scope: &str, graph: &str) -> Error {
    forbidden(format!(
        "{} ({}): the token is limited to graph '{scope}' and cannot access graph '{graph}'.",
        RefusalKind::GraphScope.title(),
        RefusalKind::GraphScope.code(),
    ))
}

impl QueryEngine for FrontDoor {
    fn begin(&self, options: TxOptions) -> Result<Box<dyn Transaction>> {
        let principal = options.principal.clone();
        if !self.auth.is_disabled() && principal.user.is_none() {
            return Err(Error::new(ErrorCode::Unauthorized, "not authenticated"));
        }
        let default = self.cypher.default_database();
        let db = options
            .database
            .clone()
            .unwrap_or_else(|| default.clone())
            .to_ascii_lowercase();
        let explicit = !options.implicit;
        let mut tx = FrontTx {
            inner: None,
            pending: None,
            cypher: self.cypher.clone(),
            handlers: self.handlers.clone(),
            auth: self.auth.clone(),
            principal,
            db,
            default,
            explicit,
            failed: false,
        };
        if !explicit {
            // An auto-commit transaction runs on its statement's graph: a top-level `USE g`
            // reopens it there (`open_for`).
            tx.pending = Some(options.clone());
        }
        tx.open(options)?;
        Ok(Box::new(tx))
    }

    fn prepare(&self, text: &str) -> Result<Prepared> {
        self.cypher.prepare(text)
    }

    fn health(&self) -> Result<()> {
        self.cypher.health()
    }

    fn default_database(&self) -> String {
        self.cypher.default_database()
    }

    fn databases(&self) -> Vec<DatabaseInfo> {
        self.cypher.databases()
    }

    fn check_bookmarks(&self, bookmarks: &[String]) -> Result<()> {
        self.cypher.check_bookmarks(bookmarks)
    }

    fn bookmarks_reached(&self, bookmarks: &[String]) -> Result<bool> {
        self.cypher.bookmarks_reached(bookmarks)
    }

    fn transaction_metrics(&self) -> graphward_core::engine::TransactionMetrics {
        self.cypher.transaction_metrics()
    }

    /// A command a protocol carries out itself (the HTTP admin endpoints), decided by the
    /// table as if sent to `system`: the login is re-checked and the rights read as stored now.
    fn authorize(&self, principal: &Principal, command: &Command) -> Result<()> {
        if self.auth.is_disabled() {
            return Ok(());
        }
        if principal.user.is_none() {
            return Err(Error::new(ErrorCode::Unauthorized, "not authenticated"));
        }
        let needs = needs(
            &Statement::Command(command.clone()),
            principal.user.as_deref(),
        );
        let default = self.cypher.default_database();
        authorize(&self.auth, principal, "system", &default, &needs)
    }
}

/// Check `needs` against the principal's rights as they are now, for a statement on `db`
/// (`target` is the graph a graph-level requirement applies to).
fn authorize(
    auth: &AuthService,
    p: &Principal,
    db: &str,
    target: &str,
    needs: &Needs,
) -> Result<()> {
    if auth.is_disabled() {
        return Ok(());
    }
    // Token expiry, block list or a dropped user: refused at the next statement, inside an
    // open transaction too (a REVOKE is seen by the check below, which reads rights as stored
    // now).
    auth.recheck(p)?;
    let scope = p.graph_scope.as_deref();
    if let (Some(scope), true) = (scope, db == "system") {
        if *needs != Needs::Anyone {
            return Err(forbidden(format!(
                "{} ({}): the token is limited to graph '{scope}'; on the system database it may only run SHOW CURRENT USER.",
                RefusalKind::GraphScope.title(),
                RefusalKind::GraphScope.code(),
            )));
        }
    }
    let denied = || {
        forbidden(format!(
            "Permission denied: this statement needs {} ({} does not have it).",
            needs.describe(target),
            who(p)
        ))
    };
    let on_graph = |level: Level, graph: &str| -> Result<()> {
        if auth.level(p, graph) >= Some(level) {
            return Ok(());
        }
        match scope {
            Some(s) if !s.eq_ignore_ascii_case(graph) => Err(scope_refusal(s, graph)),
            _ => Err(denied()),
        }
    };
    match needs {
        Needs::Anyone => Ok(()),
        Needs::OwnAccount => match scope {
            None => Ok(()),
            Some(_) => Err(denied()),
        },
        Needs::OwnAccountByPassword => {
            if scope.is_some() || p.token.is_some() {
                Err(forbidden(
                    "Permission denied: secrets can be managed only after a password login, not with a token.".to_string(),
                ))
            } else {
                Ok(())
            }
        }
        Needs::Graph(l) => on_graph(from_level(*l), target),
        Needs::NamedGraph(l, g) => on_graph(from_level(*l), g),
        Needs::AdminAll => {
            if auth.level(p, ALL_GRAPHS) == Some(Level::Admin) {
                Ok(())
            } else {
                Err(denied())
            }
        }
        Needs::Dbms(privilege) => {
            if auth.allows(p, *privilege) {
                Ok(())
            } else {
                Err(denied())
            }
        }
    }
}

struct FrontTx {
    /// The engine's transaction; `None` until an auto-commit transaction's statement comes.
    inner: Option<Box<dyn Transaction>>,
    /// The options of an auto-commit transaction not opened yet.
    pending: Option<TxOptions>,
    cypher: Arc<dyn QueryEngine>,
    handlers: Vec<Arc<dyn ServerCommand>>,
    auth: Arc<AuthService>,
    principal: Principal,
    /// The transaction's database, lower-cased.
    db: String,
    /// The default database (what `system` reaches for data).
    default: String,
    explicit: bool,
    /// A statement failed: the transaction only rolls back now (as Neo4j's does).
    failed: bool,
}

impl FrontTx {
    /// Open the engine's transaction on `options.database` (lower-cased into `self.db`): no
    /// READ there refuses it, no WRITE makes it read-only.
    fn open(&mut self, mut options: TxOptions) -> Result<()> {
        let db = options
            .database
            .clone()
            .unwrap_or_else(|| self.default.clone())
            .to_ascii_lowercase();
        let principal = &self.principal;
        if !self.auth.is_disabled() {
            if db == "system" {
                // Administration is sent here; every statement is authorized on its own. Data
                // reached through `system` is the default database's, so the transaction may
                // write only for a principal that may write there.
                if self.auth.level(principal, &self.default) < Some(Level::Write) {
                    options.mode = AccessMode::Read;
                }
            } else {
                let Some(level) = self.auth.level(principal, &db) else {
                    if let Some(scope) = principal.graph_scope.as_deref() {
                        if !scope.eq_ignore_ascii_case(&db) {
                            return Err(scope_refusal(scope, &db));
                        }
                    }
                    return Err(forbidden(format!(
                        "Permission denied: {} has no READ privilege on graph '{db}'.",
                        who(principal)
                    )));
                };
                if level < Level::Write {
                    options.mode = AccessMode::Read;
                }
            }
        }
        options.database = Some(db.clone());
        self.inner = Some(self.cypher.begin(options)?);
        self.db = db;
        Ok(())
    }

    /// The engine's transaction (opened).
    fn inner(&mut self) -> Result<&mut Box<dyn Transaction>> {
        self.inner
            .as_mut()
            .ok_or_else(|| Error::internal("the transaction is not open"))
    }

    /// An auto-commit transaction whose statement names another graph with a top-level
    /// `USE` (which must exist) is reopened on that graph, and authorized there. In an
    /// explicit transaction the engine refuses a `USE` of another graph.
    fn open_for(&mut self, statement: &Statement) -> Result<()> {
        let Some(target) = statement.use_target().filter(|t| t.top_level) else {
            return Ok(());
        };
        let graph = target.graph.to_ascii_lowercase();
        let here = self.target_graph().to_string();
        if graph == here || graph == "system" {
            return Ok(());
        }
        let Some(mut options) = self.pending.take() else {
            return Ok(());
        };
        if !self.cypher.databases().iter().any(|d| d.name == graph) {
            return Err(Error::new(
                ErrorCode::DatabaseNotFound,
                format!(
                    "Graph not found: {graph}. Database does not exist. Database name: '{graph}'."
                ),
            ));
        }
        if let Some(old) = self.inner.take() {
            old.rollback()?;
        }
        options.database = Some(graph);
        self.open(options)
    }

    /// The graph a graph-level requirement applies to.
    fn target_graph(&self) -> &str {
        if self.db == "system" {
            &self.default
        } else {
            &self.db
        }
    }

    /// Check `needs` against the principal's rights as they are now.
    fn authorize(&self, needs: &Needs) -> Result<()> {
        authorize(
            &self.auth,
            &self.principal,
            &self.db,
            self.target_graph(),
            needs,
        )
    }

    fn run_command(&self, command: &Command, params: &Params) -> Result<Box<dyn ResultStream>> {
        let family = command.family();
        let handler = self
            .handlers
            .iter()
            .find(|h| h.family() == family)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NotSupported,
                    format!("{family:?} commands are not available on this server"),
                )
            })?;
        let auth = self.auth.clone();
        let principal = self.principal.clone();
        let can_read = move |graph: &str| {
            auth.is_disabled()
                || auth
                    .level(&principal, &graph.to_ascii_lowercase())
                    .is_some()
        };
        let ctx = CommandContext {
            principal: &self.principal,
            database: self
                .inner
                .as_ref()
                .map_or(self.db.as_str(), |t| t.database()),
            explicit_transaction: self.explicit,
            can_read: &can_read,
        };
        handler.run(command, params, &ctx)
    }
}

impl Transaction for FrontTx {
    fn run(&mut self, query: &str, params: Params) -> Result<Box<dyn ResultStream>> {
        let prepared = self.cypher.prepare(query)?;
        self.run_prepared(prepared, params)
    }

    fn run_prepared(
        &mut self,
        prepared: Prepared,
        params: Params,
    ) -> Result<Box<dyn ResultStream>> {
        if self.failed {
            return Err(Error::new(
                ErrorCode::TransactionInvalid,
                "the transaction has failed and must be rolled back",
            ));
        }
        let result = self.run_checked(prepared, params);
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn commit(self: Box<Self>) -> Result<CommitInfo> {
        if self.failed {
            if let Some(inner) = self.inner {
                let _ = inner.rollback();
            }
            return Err(Error::new(
                ErrorCode::TransactionInvalid,
                "the transaction has failed and was rolled back",
            ));
        }
        match self.inner {
            Some(inner) => inner.commit(),
            None => Err(Error::internal("the transaction is not open")),
        }
    }

    fn rollback(self: Box<Self>) -> Result<()> {
        match self.inner {
            Some(inner) => inner.rollback(),
            None => Ok(()),
        }
    }

    fn database(&self) -> &str {
        match &self.inner {
            Some(inner) => inner.database(),
            None => &self.db,
        }
    }
}

impl FrontTx {
    /// `cmd` narrowed to what the principal may see, when that depends on who runs it: the
    /// rows of `SHOW DATABASES` are the databases the principal may use (and `system`), as
    /// Neo4j lists them; users see (and terminate) their own transactions, an administrator
    /// (ADMIN on every graph) all of them. Decided here, on the typed command, so that the
    /// engine filters the rows before any `WHERE` of the statement reads them.
    fn scoped(&self, cmd: &AdminCommand) -> Option<AdminCommand> {
        match cmd {
            AdminCommand::ShowDatabases { which, .. } => {
                let visible = (!self.auth.is_disabled()).then(|| {
                    let mut names: Vec<String> = self
                        .cypher
                        .databases()
                        .into_iter()
                        .map(|d| d.name.to_ascii_lowercase())
                        .filter(|n| self.auth.level(&self.principal, n).is_some())
                        .collect();
                    names.push("system".to_string());
                    names
                });
                Some(AdminCommand::ShowDatabases {
                    which: which.clone(),
                    visible,
                })
            }
            AdminCommand::ShowTransactions { ids, .. }
            | AdminCommand::TerminateTransactions { ids, .. } => {
                let all_users = self.auth.is_disabled()
                    || self.auth.level(&self.principal, ALL_GRAPHS) == Some(Level::Admin);
                let ids = ids.clone();
                Some(match cmd {
                    AdminCommand::ShowTransactions { .. } => {
                        AdminCommand::ShowTransactions { ids, all_users }
                    }
                    _ => AdminCommand::TerminateTransactions { ids, all_users },
                })
            }
            _ => None,
        }
    }

    /// Parse (unless done), authorize, route.
    fn run_checked(&mut self, prepared: Prepared, params: Params) -> Result<Box<dyn ResultStream>> {
        let prepared =
            if prepared.parsed::<Statement>().is_some() || prepared.parsed::<Command>().is_some() {
                prepared
            } else {
                self.cypher.prepare(prepared.text())?
            };
        // A typed command built by a protocol (the HTTP stored-query endpoints) takes the same
        // path as a parsed one.
        if let Some(command) = prepared.parsed::<Command>() {
            let command = command.clone();
            self.authorize(&needs(
                &Statement::Command(command.clone()),
                self.principal.user.as_deref(),
            ))?;
            return self.run_command(&command, &params);
        }
        let Some(statement) = prepared.parsed::<Statement>() else {
            return Err(Error::internal("the statement was not parsed"));
        };
        self.open_for(statement)?;
        self.authorize(&needs(statement, self.principal.user.as_deref()))?;
        match statement {
            Statement::Command(command) => {
                let command = command.clone();
                self.run_command(&command, &params)
            }
            Statement::TxControl(c) => Err(Error::new(
                ErrorCode::TransactionInvalid,
                format!(
                    "{} cannot run here: use the protocol's own transaction messages or endpoints",
                    match c {
                        TxControl::Begin => "BEGIN",
                        TxControl::Commit => "COMMIT",
                        TxControl::Rollback => "ROLLBACK",
                    }
                ),
            )),
            Statement::Show(show) => match &show.command {
                // A server command's rows, then its tail (over those rows only).
                ShowCommand::Server(command) => {
                    let stream = self.run_command(command, &params)?;
                    graphward_cypher::runtime::show::apply_to_stream(
                        stream, &show.tail, &params, &self.db,
                    )
                }
                ShowCommand::Admin(cmd) => match self.scoped(cmd) {
                    Some(cmd) => {
                        let statement = Statement::Show(Box::new(ShowStatement {
                            command: ShowCommand::Admin(cmd),
                            tail: show.tail.clone(),
                        }));
                        let prepared = Prepared::parsed_as(prepared.text(), None, statement);
                        self.inner()?.run_prepared(prepared, params)
                    }
                    None => self.inner()?.run_prepared(prepared, params),
                },
            },
            Statement::Admin(cmd) => match self.scoped(cmd) {
                Some(cmd) => {
                    let prepared =
                        Prepared::parsed_as(prepared.text(), None, Statement::Admin(cmd));
                    self.inner()?.run_prepared(prepared, params)
                }
                None => self.inner()?.run_prepared(prepared, params),
            },
            _ => self.inner()?.run_prepared(prepared, params),
        }
    }
}
