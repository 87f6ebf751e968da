//! The HTTP side of stored queries (`PUT/GET/DELETE /queries/{graph}/{name}`,
//! `GET /queries/{graph}`, `GET|POST /restpp/query/{graph}/{name}`): thin callers of the
//! catalog in `graphward-stored`, authorized through the front door as typed commands.

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use graphward_core::commands::{Command, StoredQueryCommand};
use graphward_core::engine::{AccessMode, CancelToken, Params, Prepared, Principal, TxOptions};
use graphward_core::{Error, Value};
use serde_json::Value as J;

pub use graphward_stored::{StoredQueries, StoredQuery, StoredQueryCommands};

use crate::error::{codes, ApiError};
use crate::json::{self, Format};
use crate::query::{autocommit_job, prelude, spawn_job, Shape, Statement};
use crate::{json_response, Shared};

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
