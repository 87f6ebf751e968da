//! [`GuardedEngine`]: a [`QueryEngine`] wrapper that enforces per-graph privileges.
//!
//! It sits outermost (around the `CommandEngine`), so both server commands and Cypher pass
//! through it:
//! * no READ on the database: `begin` fails with `Forbidden` (or the JWT graph-scope error when
//!   the principal's token is limited to another graph);
//! * READ but not WRITE: the transaction is opened read-only and a write is refused with
//!   `Forbidden`;
//! * `CREATE/DROP DATABASE` need ADMIN on every graph; index and constraint changes need ADMIN
//!   on the database.
//!
//! The `system` database (where drivers send administration commands) is open to every
//! authenticated user, read-only unless the user has ADMIN on every graph; the commands check
//! their own privileges. A principal whose token is limited to one graph may run only
//! `SHOW CURRENT USER` there: everything else on `system` (listing databases, users, its own
//! privileges elsewhere) is outside its graph.

use std::sync::Arc;

use graphward_core::commands::keywords;
use graphward_core::engine::{
    AccessMode, CommitInfo, DatabaseInfo, Params, Principal, QueryEngine, ResultStream,
    Transaction, TxOptions,
};
use graphward_core::{Error, ErrorCode, Result};

use crate::jwt::RefusalKind;
use crate::service::{who, AuthService};
use crate::store::{Level, ALL_GRAPHS};

pub struct GuardedEngine {
    inner: Arc<dyn QueryEngine>,
    auth: Arc<AuthService>,
}

impl GuardedEngine {
    pub fn new(inner: Arc<dyn QueryEngine>, auth: Arc<AuthService>) -> Self {
        GuardedEngine { inner, auth }
    }
}

fn forbidden(message: String) -> Error {
    Error::new(ErrorCode::Forbidden, message)
}

impl QueryEngine for GuardedEngine {
    fn begin(&self, mut options: TxOptions) -> Result<Box<dyn Transaction>> {
        let principal = options.principal.clone();
        // Superuser principals are made by trusted code only: the authenticator (a user with
        // ADMIN on every graph, re-checked on Bolt at each BEGIN/RUN) or internal callers.
        if self.auth.is_disabled() || (principal.superuser && principal.graph_scope.is_none()) {
            return self.inner.begin(options);
        }
        if principal.user.is_none() {
            return Err(Error::new(ErrorCode::Unauthorized, "not authenticated"));
        }
        let db = options
            .database
            .clone()
            .unwrap_or_else(|| self.inner.default_database())
            .to_ascii_lowercase();
        let level = if db == "system" {
            // Administration commands run here; they check their own privileges.
            match self.auth.level(&principal, ALL_GRAPHS) {
                Some(Level::Admin) => Some(Level::Admin),
                _ => Some(Level::Read),
            }
        } else {
            self.auth.level(&principal, &db)
        };
        let Some(level) = level else {
            if let Some(scope) = principal.graph_scope.as_deref() {
                if !scope.eq_ignore_ascii_case(&db) {
                    return Err(forbidden(format!(
                        "{} ({}): the token is limited to graph '{scope}' and cannot access graph '{db}'.",
                        RefusalKind::GraphScope.title(),
                        RefusalKind::GraphScope.code(),
                    )));
                }
            }
            return Err(forbidden(format!(
                "Permission denied: {} has no READ privilege on graph '{db}'.",
                who(&principal)
            )));
        };
        if level < Level::Write {
            options.mode = AccessMode::Read;
        }
        let inner = self.inner.begin(options)?;
        let scoped_system = db == "system" && principal.graph_scope.is_some();
        Ok(Box::new(GuardedTx {
            inner,
            auth: self.auth.clone(),
            principal,
            level,
            db,
            scoped_system,
        }))
    }

    fn default_database(&self) -> String {
        self.inner.default_database()
    }

    fn databases(&self) -> Vec<DatabaseInfo> {
        self.inner.databases()
    }
}

struct GuardedTx {
    inner: Box<dyn Transaction>,
    auth: Arc<AuthService>,
    principal: Principal,
    level: Level,
    db: String,
    /// A graph-scoped principal on `system`: only `SHOW CURRENT USER` runs.
    scoped_system: bool,
}

impl Transaction for GuardedTx {
    fn run(&mut self, query: &str, params: Params) -> Result<Box<dyn ResultStream>> {
        let words = keywords(query);
        let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
        if self.scoped_system && !(w(0) == "SHOW" && w(1) == "CURRENT" && w(2) == "USER") {
            let scope = self.principal.graph_scope.as_deref().unwrap_or("");
            return Err(forbidden(format!(
                "{} ({}): the token is limited to graph '{scope}'; on the system database it may only run SHOW CURRENT USER.",
                RefusalKind::GraphScope.title(),
                RefusalKind::GraphScope.code(),
            )));
        }
        let database_admin = matches!(w(0), "CREATE" | "DROP")
            && (w(1) == "DATABASE" || (w(1) == "OR" && w(3) == "DATABASE"));
        if database_admin {
            self.auth.require_admin(&self.principal)?;
        }
        let schema = matches!(w(0), "CREATE" | "DROP") && matches!(w(1), "INDEX" | "CONSTRAINT");
        if schema && self.level < Level::Admin {
            return Err(forbidden(format!(
                "Permission denied: changing indexes or constraints needs ADMIN on graph '{}' ({} does not have it).",
                self.db,
                who(&self.principal)
            )));
        }
        let level = self.level;
        let db = self.db.clone();
        let principal = self.principal.clone();
        self.inner.run(query, params).map_err(|e| {
            if e.code == ErrorCode::Forbidden
                && level < Level::Write
                && e.message.contains("read access mode")
            {
                forbidden(format!(
                    "Permission denied: {} has no WRITE privilege on graph '{db}'.",
                    who(&principal)
                ))
            } else {
                e
            }
        })
    }

    fn commit(self: Box<Self>) -> Result<CommitInfo> {
        self.inner.commit()
    }

    fn rollback(self: Box<Self>) -> Result<()> {
        self.inner.rollback()
    }

    fn database(&self) -> &str {
        self.inner.database()
    }
}
