//! graphward-stored: the stored (installed) query catalog, in the TigerGraph style, and the
//! handler of its server commands. HTTP (`/queries`, `/restpp`) and Bolt (through the front
//! door) are thin callers.
//!
//! An administrator installs a named, parameterised Cypher query on a graph, with the server
//! command `INSTALL QUERY name ON GRAPH g AS '...'` (over Bolt or HTTP) or with
//! `PUT /queries/{graph}/{name}`; `SHOW QUERIES [ON GRAPH g]` and `DROP QUERY name ON GRAPH g`
//! list and remove them. Anyone allowed on the graph runs one with
//! `GET|POST /restpp/query/{graph}/{name}?param=value`, under their own privileges.
//!
//! Queries are kept in `<data dir>/stored-queries.json`, rewritten atomically (temporary file,
//! fsync, rename) on every change. An installed query is checked first: the graph must exist
//! and `EXPLAIN <query>` must compile.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use graphward_core::commands::{
    wrong_family, Command, CommandContext, CommandFamily, RowsStream, ServerCommand,
    StoredQueryCommand,
};
use graphward_core::engine::{AccessMode, Params, Principal, QueryEngine, ResultStream, TxOptions};
use graphward_core::{Error, ErrorCode, Value};
use serde::{Deserialize, Serialize};
use serde_json::Value as J;

/// The file stored queries are kept in, inside the data directory.
pub const FILE_NAME: &str = "stored-queries.json";
/// Longest stored query text.
pub const MAX_STATEMENT: usize = 64 * 1024;
/// Most stored queries.
pub const MAX_QUERIES: usize = 10_000;

/// One installed query.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredQuery {
    pub graph: String,
    pub name: String,
    pub statement: String,
    /// The `$parameters` the statement uses.
    pub parameters: Vec<String>,
    pub installed_by: Option<String>,
    /// Seconds since the epoch.
    pub installed_at: i64,
}

impl StoredQuery {
    pub fn to_json(&self) -> J {
        serde_json::json!({
            "graph": self.graph,
            "name": self.name,
            "statement": self.statement,
            "parameters": self.parameters,
            "installed_by": self.installed_by,
            "installed_at": self.installed_at,
        })
    }
}

#[derive(Serialize, Deserialize, Default)]
struct FileFormat {
    version: u32,
    queries: Vec<StoredQuery>,
}

/// The stored queries of a server.
pub struct StoredQueries {
    path: PathBuf,
    queries: RwLock<BTreeMap<(String, String), StoredQuery>>,
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_graph_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The `$name` parameters a statement uses (outside string literals and comments).
pub fn parameters_of(statement: &str) -> Vec<String> {
    use graphward_cypher::parser::lexer::{tokenize, Tok};
    let mut out: Vec<String> = Vec::new();
    // Text that does not tokenize fails the EXPLAIN check at install anyway.
    for t in tokenize(statement).unwrap_or_default() {
        if let Tok::Param(name) = t.tok {
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl StoredQueries {
    /// Open (or start) the store in `data_dir`. A malformed file is an error: nothing is
    /// overwritten.
    pub fn open(data_dir: &FsPath) -> Result<Self, String> {
        let path = data_dir.join(FILE_NAME);
        let mut queries = BTreeMap::new();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let file: FileFormat = serde_json::from_slice(&bytes).map_err(|e| {
                    format!("{} is not a valid stored-query file: {e}", path.display())
                })?;
                for q in file.queries {
                    if !is_name(&q.name) || !is_graph_name(&q.graph) {
                        return Err(format!(
                            "{}: invalid query or graph name {:?} / {:?}",
                            path.display(),
                            q.name,
                            q.graph
                        ));
                    }
                    queries.insert((q.graph.clone(), q.name.clone()), q);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
        Ok(StoredQueries {
            path,
            queries: RwLock::new(queries),
        })
    }

    pub fn get(&self, graph: &str, name: &str) -> Option<StoredQuery> {
        self.queries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(graph.to_string(), name.to_string()))
            .cloned()
    }

    /// All queries, or those of one graph.
    pub fn list(&self, graph: Option<&str>) -> Vec<StoredQuery> {
        self.queries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter(|q| graph.is_none_or(|g| q.graph == g))
            .cloned()
            .collect()
    }

    fn persist(&self, map: &BTreeMap<(String, String), StoredQuery>) -> Result<(), Error> {
        let file = FileFormat {
            version: 1,
            queries: map.values().cloned().collect(),
        };
        let text = serde_json::to_vec_pretty(&file)
            .map_err(|e| Error::internal(format!("cannot encode stored queries: {e}")))?;
        let tmp = self.path.with_extension("json.tmp");
        let io = |e: std::io::Error| {
            Error::internal(format!("cannot write {}: {e}", self.path.display()))
        };
        {
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(&text).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        if let Some(dir) = self.path.parent() {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    /// Check and install (or replace) a query; `Ok(true)` when it replaced one.
    pub fn install(
        &self,
        engine: &dyn QueryEngine,
        principal: &Principal,
        graph: &str,
        name: &str,
        statement: &str,
    ) -> Result<(StoredQuery, bool), Error> {
        if !is_name(name) {
            return Err(Error::argument(format!(
                "invalid query name {:?}: use letters, digits and _ (at most 128)",
                name.chars().take(140).collect::<String>()
            )));
        }
        if !is_graph_name(graph) {
            return Err(Error::argument("invalid graph name"));
        }
        if statement.trim().is_empty() {
            return Err(Error::argument("the stored query is empty"));
        }
        if statement.len() > MAX_STATEMENT {
            return Err(Error::new(
                ErrorCode::ResourceLimit,
                format!("a stored query may be at most {MAX_STATEMENT} bytes"),
            ));
        }
        let parameters = parameters_of(statement);
        validate(engine, principal, graph, statement, &parameters)?;
        let q = StoredQuery {
            graph: graph.to_string(),
            name: name.to_string(),
            statement: statement.to_string(),
            parameters,
            installed_by: principal.user.clone(),
            installed_at: now_secs(),
        };
        let mut map = self.queries.write().unwrap_or_else(PoisonError::into_inner);
        let key = (graph.to_string(), name.to_string());
        if !map.contains_key(&key) && map.len() >= MAX_QUERIES {
            return Err(Error::new(
                ErrorCode::ResourceLimit,
                format!("at most {MAX_QUERIES} stored queries"),
            ));
        }
        let mut next = map.clone();
        let replaced = next.insert(key, q.clone()).is_some();
        self.persist(&next)?;
        *map = next;
        Ok((q, replaced))
    }

    /// Remove a query; `Ok(None)` when there was none.
    pub fn drop_query(&self, graph: &str, name: &str) -> Result<Option<StoredQuery>, Error> {
        let mut map = self.queries.write().unwrap_or_else(PoisonError::into_inner);
        let key = (graph.to_string(), name.to_string());
        if !map.contains_key(&key) {
            return Ok(None);
        }
        let mut next = map.clone();
        let old = next.remove(&key);
        self.persist(&next)?;
        *map = next;
        Ok(old)
    }
}

fn validate(
    engine: &dyn QueryEngine,
    principal: &Principal,
    graph: &str,
    statement: &str,
    parameters: &[String],
) -> Result<(), Error> {
    if !engine.databases().iter().any(|d| d.name == graph) {
        return Err(Error::new(
            ErrorCode::DatabaseNotFound,
            format!("graph {graph:?} does not exist"),
        ));
    }
    let mut tx = engine.begin(TxOptions {
        database: Some(graph.to_string()),
        mode: AccessMode::Read,
        principal: principal.clone(),
        implicit: true,
        ..TxOptions::default()
    })?;
    let params: Params = parameters
        .iter()
        .map(|p| (p.clone(), Value::Null))
        .collect();
    let result = tx
        .run(&format!("EXPLAIN {statement}"), params)
        .map(|mut s| {
            while let Some(r) = s.next_row() {
                if r.is_err() {
                    break;
                }
            }
        });
    let _ = tx.rollback();
    result
}

// ---------------------------------------------------------------------------------------------
// Server commands

/// `INSTALL QUERY`, `SHOW QUERIES`, `DROP QUERY`.
pub struct StoredQueryCommands {
    pub store: Arc<StoredQueries>,
    /// The engine used to check a query before it is installed (the Cypher engine).
    pub engine: Arc<dyn QueryEngine>,
}

impl StoredQueryCommands {
    fn run_command(
        &self,
        cmd: &StoredQueryCommand,
        ctx: &CommandContext<'_>,
    ) -> Result<Box<dyn ResultStream>, Error> {
        let principal = ctx.principal;
        match cmd {
            StoredQueryCommand::Install {
                name,
                graph,
                statement,
            } => {
                refuse_explicit(ctx)?;
                self.store
                    .install(self.engine.as_ref(), principal, graph, name, statement)?;
                Ok(RowsStream::empty(ctx.database)
                    .with_system_updates(1)
                    .boxed())
            }
            StoredQueryCommand::Drop { name, graph } => {
                refuse_explicit(ctx)?;
                match self.store.drop_query(graph, name)? {
                    Some(_) => Ok(RowsStream::empty(ctx.database)
                        .with_system_updates(1)
                        .boxed()),
                    None => Err(Error::argument(format!(
                        "there is no stored query {name:?} on graph {graph:?}"
                    ))),
                }
            }
            StoredQueryCommand::Show { graph } => {
                // Only the queries of graphs the principal may read are listed.
                let rows = self
                    .store
                    .list(graph.as_deref())
                    .into_iter()
                    .filter(|q| (ctx.can_read)(&q.graph))
                    .map(|q| {
                        vec![
                            Value::String(q.name),
                            Value::String(q.graph),
                            Value::String(q.statement),
                            Value::List(q.parameters.into_iter().map(Value::String).collect()),
                            q.installed_by.map(Value::String).unwrap_or(Value::Null),
                        ]
                    })
                    .collect();
                let columns = ["name", "graph", "statement", "parameters", "installedBy"]
                    .map(String::from)
                    .to_vec();
                Ok(RowsStream::new(columns, rows, ctx.database).boxed())
            }
        }
    }
}

fn refuse_explicit(ctx: &CommandContext<'_>) -> Result<(), Error> {
    if ctx.explicit_transaction {
        Err(Error::new(
            ErrorCode::TransactionInvalid,
            "INSTALL QUERY and DROP QUERY cannot run inside an explicit transaction",
        ))
    } else {
        Ok(())
    }
}

impl ServerCommand for StoredQueryCommands {
    fn family(&self) -> CommandFamily {
        CommandFamily::StoredQuery
    }

    /// Authorized by the front door from the typed command (`graphward_auth::policy`).
    fn run(
        &self,
        command: &Command,
        _params: &Params,
        ctx: &CommandContext<'_>,
    ) -> Result<Box<dyn ResultStream>, Error> {
        match command {
            Command::StoredQuery(cmd) => self.run_command(cmd, ctx),
            other => Err(wrong_family(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_found() {
        assert_eq!(
            parameters_of("MATCH (n {a: $a}) WHERE n.s = '$notme' AND n.b = $b_2 // $c\nRETURN $a"),
            vec!["a".to_string(), "b_2".to_string()]
        );
        assert_eq!(
            parameters_of("RETURN /* $hidden */ $`odd name`, `$not` AS x, $0"),
            vec!["odd name".to_string(), "0".to_string()]
        );
    }

    #[test]
    fn store_round_trips_and_refuses_bad_files() {
        let dir = tempfile::tempdir().unwrap_or_else(|_| unreachable!());
        let s = StoredQueries::open(dir.path()).unwrap_or_else(|_| unreachable!());
        assert!(s.list(None).is_empty());
        std::fs::write(dir.path().join(FILE_NAME), b"{not json").unwrap_or_default();
        assert!(StoredQueries::open(dir.path()).is_err());
        std::fs::write(
            dir.path().join(FILE_NAME),
            br#"{"version":1,"queries":[{"graph":"g","name":"../x","statement":"RETURN 1","parameters":[],"installed_by":null,"installed_at":0}]}"#,
        )
        .unwrap_or_default();
        assert!(StoredQueries::open(dir.path()).is_err());
    }
}
