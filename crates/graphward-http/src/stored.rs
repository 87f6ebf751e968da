//! Stored (installed) queries in the TigerGraph style.
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

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use graphward_core::commands::{
    wrong_family, Command, CommandContext, CommandFamily, RowsStream, ServerCommand,
    StoredQueryCommand,
};
use graphward_core::engine::{
    AccessMode, CancelToken, Params, Prepared, Principal, QueryEngine, ResultStream, TxOptions,
};
use graphward_core::{Error, ErrorCode, Value};
use serde::{Deserialize, Serialize};
use serde_json::Value as J;

use crate::error::{codes, ApiError};
use crate::json::{self, Format};
use crate::query::{autocommit_job, prelude, spawn_job, Shape, Statement};
use crate::{json_response, Shared};

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
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = statement.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '\'' | '"' | '`' => {
                i += 1;
                while let Some(&d) = chars.get(i) {
                    if d == '\\' && c != '`' {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    if d == c {
                        break;
                    }
                }
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while chars.get(i).is_some_and(|&d| d != '\n') {
                    i += 1;
                }
            }
            '$' => {
                i += 1;
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|d| d.is_alphanumeric() || *d == '_')
                {
                    i += 1;
                }
                let name: String = chars.get(start..i).unwrap_or_default().iter().collect();
                if !name.is_empty() && !out.contains(&name) {
                    out.push(name);
                }
            }
            _ => i += 1,
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

/// Run a typed stored-query command for an HTTP endpoint through the server's engine (the
/// front door), so that it is authorized by the same table as the statement over Bolt.
async fn through_front_door(
    app: &Shared,
    principal: Principal,
    command: StoredQueryCommand,
) -> Result<(), ApiError> {
    let engine = app.state.engine.clone();
    // On the graph the command names (a token limited to it may use it).
    let graph = match &command {
        StoredQueryCommand::Install { graph, .. }
        | StoredQueryCommand::Drop { graph, .. }
        | StoredQueryCommand::Show { graph: Some(graph) } => graph.clone(),
        StoredQueryCommand::Show { graph: None } => "system".to_string(),
    };
    crate::blocking(move || -> Result<(), Error> {
        let mut tx = engine.begin(TxOptions {
            database: Some(graph),
            principal,
            implicit: true,
            ..TxOptions::default()
        })?;
        let prepared = Prepared::parsed_as(
            "stored-query command (HTTP)",
            None,
            Command::StoredQuery(command),
        );
        let mut rows = tx.run_prepared(prepared, Params::new())?;
        while let Some(row) = rows.next_row() {
            row?;
        }
        drop(rows);
        tx.commit().map(|_| ())
    })
    .await?
    .map_err(ApiError::from)
}

// ---------------------------------------------------------------------------------------------
// HTTP

fn store(app: &Shared) -> Result<Arc<StoredQueries>, ApiError> {
    app.state
        .stored
        .clone()
        .ok_or_else(|| ApiError::not_found(codes::NOT_FOUND, "stored queries are not enabled"))
}

fn missing(graph: &str, name: &str) -> ApiError {
    ApiError::not_found(
        codes::QUERY_NOT_FOUND,
        format!("there is no stored query {name:?} on graph {graph:?}"),
    )
}

/// `PUT /queries/{graph}/{name}` with `{"statement": "..."}`.
pub(crate) async fn install(
    State(app): State<Shared>,
    Path((graph, name)): Path<(String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    let store = store(&app)?;
    let (principal, headers, body) = prelude(&app, req).await?;
    let v = crate::parse_json_body(&headers, &body)?;
    let Some(statement) = v.get("statement").and_then(J::as_str).map(str::to_string) else {
        return Err(ApiError::bad_request(
            "the body must be {\"statement\": \"<Cypher query>\"}",
        ));
    };
    let replaced = store.get(&graph, &name).is_some();
    let command = StoredQueryCommand::Install {
        name: name.clone(),
        graph: graph.clone(),
        statement,
    };
    through_front_door(&app, principal, command).await?;
    let q = store
        .get(&graph, &name)
        .ok_or_else(|| missing(&graph, &name))?;
    let status = if replaced {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_response(status, &q.to_json()))
}

/// READ on `graph`, decided by the front door (as `SHOW QUERIES ON GRAPH g`): what reading a
/// graph's stored queries, or running one, needs at least.
async fn may_read(app: &Shared, principal: Principal, graph: &str) -> Result<(), ApiError> {
    let graph = Some(graph.to_string());
    through_front_door(app, principal, StoredQueryCommand::Show { graph }).await
}

/// `GET /queries/{graph}/{name}`
pub(crate) async fn show(
    State(app): State<Shared>,
    Path((graph, name)): Path<(String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    let store = store(&app)?;
    let (principal, _, _) = prelude(&app, req).await?;
    may_read(&app, principal, &graph).await?;
    let q = store
        .get(&graph, &name)
        .ok_or_else(|| missing(&graph, &name))?;
    Ok(json_response(StatusCode::OK, &q.to_json()))
}

/// `GET /queries/{graph}`
pub(crate) async fn list(
    State(app): State<Shared>,
    Path(graph): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let store = store(&app)?;
    let (principal, _, _) = prelude(&app, req).await?;
    may_read(&app, principal, &graph).await?;
    let qs: Vec<J> = store
        .list(Some(&graph))
        .iter()
        .map(StoredQuery::to_json)
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({"queries": qs}),
    ))
}

/// `DELETE /queries/{graph}/{name}`
pub(crate) async fn drop_query(
    State(app): State<Shared>,
    Path((graph, name)): Path<(String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    let store = store(&app)?;
    let (principal, _, _) = prelude(&app, req).await?;
    let old = store.get(&graph, &name);
    let command = StoredQueryCommand::Drop {
        name: name.clone(),
        graph: graph.clone(),
    };
    // Authorized before anything is said about the query: a caller that may not drop learns
    // nothing of whether it exists.
    match (through_front_door(&app, principal, command).await, old) {
        (Ok(()), Some(old)) => Ok(json_response(StatusCode::OK, &old.to_json())),
        (Err(e), _) if e.status != StatusCode::BAD_REQUEST => Err(e),
        _ => Err(missing(&graph, &name)),
    }
}

async fn run_stored(
    app: Shared,
    graph: String,
    name: String,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> Result<Response, ApiError> {
    let store = store(&app)?;
    let (principal, headers, body) = prelude(&app, req).await?;
    // READ on the graph (the least a run needs) before anything is said about the query.
    may_read(&app, principal.clone(), &graph).await?;
    let q = store
        .get(&graph, &name)
        .ok_or_else(|| missing(&graph, &name))?;
    let Query(pairs) =
        query.map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?;
    let mut params = Params::new();
    for (k, v) in pairs {
        let v = json::query_string_value(&v);
        match params.get_mut(&k) {
            Some(Value::List(items)) => items.push(v),
            Some(old) => {
                let first = std::mem::replace(old, Value::Null);
                *old = Value::List(vec![first, v]);
            }
            None => {
                params.insert(k, v);
            }
        }
    }
    if !body.is_empty() {
        let v = crate::parse_json_body(&headers, &body)?;
        match &v {
            J::Object(_) => params.extend(json::params(Some(&v), Format::Plain)?),
            _ => {
                return Err(ApiError::bad_request(
                    "the body must be a JSON object of parameters",
                ))
            }
        }
    }
    let cancel = CancelToken::new();
    let options = TxOptions {
        database: Some(graph),
        mode: AccessMode::Write,
        principal,
        cancel: cancel.clone(),
        implicit: true,
        ..TxOptions::default()
    };
    let statement = Some(Statement {
        text: q.statement,
        params,
    });
    let job = autocommit_job(
        app.clone(),
        options,
        statement,
        Format::Plain,
        Shape::Objects,
    );
    Ok(spawn_job(&app, StatusCode::OK, "application/json", cancel, job).await)
}

/// `GET /restpp/query/{graph}/{name}?param=value`
pub(crate) async fn run_get(
    State(app): State<Shared>,
    Path((graph, name)): Path<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> Result<Response, ApiError> {
    run_stored(app, graph, name, query, req).await
}

/// `POST /restpp/query/{graph}/{name}?param=value` with an optional JSON object of parameters.
pub(crate) async fn run_post(
    State(app): State<Shared>,
    Path((graph, name)): Path<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> Result<Response, ApiError> {
    run_stored(app, graph, name, query, req).await
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
