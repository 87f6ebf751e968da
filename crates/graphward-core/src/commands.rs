//! Server commands: statements the server answers itself, in front of the Cypher engine.
//!
//! Some statements a client sends over Bolt or HTTP are not graph queries but server
//! administration: `RELOAD BOLT_SERVER TLS`, `SHOW TLS`, `CREATE USER ...`, `GRANT ...`,
//! `INSTALL QUERY ...`. The crates that own those concerns (TLS, auth, HTTP) implement
//! [`ServerCommand`]; the binary stacks them in a [`CommandEngine`] around the Cypher engine.
//! Protocol crates see one [`QueryEngine`] and need not know which statements are commands;
//! the Cypher engine never sees them. Nothing here knows about sockets either.

use std::sync::Arc;

use crate::engine::{
    CommitInfo, DatabaseInfo, Params, Principal, QueryEngine, QueryType, ResultStream, Stats,
    Summary, Transaction, TxOptions,
};
use crate::error::Result;
use crate::value::Value;

/// What a command handler knows about the statement's context.
#[derive(Debug, Clone)]
pub struct CommandContext<'a> {
    pub principal: &'a Principal,
    /// The database of the surrounding transaction.
    pub database: &'a str,
    /// True inside an explicit transaction (BEGIN ... COMMIT); some commands refuse to run there.
    pub explicit_transaction: bool,
}

/// One family of server commands.
pub trait ServerCommand: Send + Sync + 'static {
    /// `None` when `query` is not one of this handler's commands (the next handler, and in the
    /// end the Cypher engine, gets it); otherwise the command's result or its error.
    fn handle(
        &self,
        query: &str,
        params: &Params,
        ctx: &CommandContext<'_>,
    ) -> Option<Result<Box<dyn ResultStream>>>;
}

/// A [`QueryEngine`] that offers each statement to its command handlers first.
pub struct CommandEngine {
    inner: Arc<dyn QueryEngine>,
    handlers: Vec<Arc<dyn ServerCommand>>,
}

impl CommandEngine {
    pub fn new(inner: Arc<dyn QueryEngine>) -> Self {
        CommandEngine {
            inner,
            handlers: Vec::new(),
        }
    }

    /// Add a handler; handlers are asked in the order they were added.
    pub fn with(mut self, handler: Arc<dyn ServerCommand>) -> Self {
        self.handlers.push(handler);
        self
    }

    pub fn inner(&self) -> &Arc<dyn QueryEngine> {
        &self.inner
    }
}

impl QueryEngine for CommandEngine {
    fn begin(&self, options: TxOptions) -> Result<Box<dyn Transaction>> {
        let principal = options.principal.clone();
        let explicit = !options.implicit;
        let inner = self.inner.begin(options)?;
        Ok(Box::new(CommandTx {
            inner,
            handlers: self.handlers.clone(),
            principal,
            explicit,
        }))
    }

    fn default_database(&self) -> String {
        self.inner.default_database()
    }

    fn databases(&self) -> Vec<DatabaseInfo> {
        self.inner.databases()
    }
}

struct CommandTx {
    inner: Box<dyn Transaction>,
    handlers: Vec<Arc<dyn ServerCommand>>,
    principal: Principal,
    explicit: bool,
}

impl Transaction for CommandTx {
    fn run(&mut self, query: &str, params: Params) -> Result<Box<dyn ResultStream>> {
        if !self.handlers.is_empty() {
            let database = self.inner.database().to_string();
            let ctx = CommandContext {
                principal: &self.principal,
                database: &database,
                explicit_transaction: self.explicit,
            };
            for handler in &self.handlers {
                if let Some(result) = handler.handle(query, &params, &ctx) {
                    return result;
                }
            }
        }
        self.inner.run(query, params)
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

/// Split a statement into upper-cased words, ignoring a trailing `;` and surrounding space:
/// a helper for command handlers that match keyword sequences (`RELOAD BOLT_SERVER TLS`).
pub fn keywords(query: &str) -> Vec<String> {
    query
        .trim()
        .trim_end_matches(';')
        .split_whitespace()
        .map(|w| w.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_normalized() {
        assert_eq!(
            keywords("  reload Bolt_Server   tls ; "),
            vec!["RELOAD", "BOLT_SERVER", "TLS"]
        );
        assert!(keywords(" ; ").is_empty());
    }
}
