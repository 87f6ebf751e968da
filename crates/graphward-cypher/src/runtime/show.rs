//! `SHOW` commands as row sources: a command produces typed rows with every column it has
//! (what Neo4j's `YIELD *` lists), and its `YIELD ... WHERE ... RETURN ...` tail runs over
//! them as a query:
//!
//! ```text
//! SHOW INDEXES YIELD name, type AS t ORDER BY name LIMIT 3 WHERE t = 'RANGE' RETURN name
//!   rows binding id, name, state, ... (all the command's columns)
//!   WITH name AS name, type AS t                    -- YIELD's items (skipped for YIELD *)
//!   WITH * ORDER BY name SKIP .. LIMIT 3 WHERE t = 'RANGE'   -- names renamed to aliases
//!   RETURN name                                     -- or the yielded columns
//! SHOW PROCEDURES WHERE name STARTS WITH 'db.'
//!   WITH <default columns> WITH * WHERE ... RETURN <default columns>
//! ```
//!
//! The tail is checked by the semantic checks with the command's columns in scope (an unknown
//! `YIELD` column is Neo4j's "Trying to YIELD non-existing column" before any row is made) and
//! run by the projection machinery (`Ev::project`: expressions, aggregation, DISTINCT, ORDER
//! BY, SKIP, LIMIT), over no graph: a tail reads the command's rows, never the database.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use graphward_core::commands::RowsStream;
use graphward_core::engine::{CancelToken, QueryType, ResultStream, Summary};
use graphward_core::memory::QueryMemory;
use graphward_core::{Error, ErrorCode, Result, Value};
use graphward_storage::{Edge, ExpandDir, GraphRead, NodeId, NodeRecord, RelId, RelRecord};
use graphward_temporal::Clock;

use super::eval::{Env, Ev, MemAccount, Row};
use super::project::map_children;
use crate::ast::{
    AdminCommand, Clause, Expr, Projection, ProjectionItem, Query, Return, ShowTail, SingleQuery,
    With,
};

/// One column of a `SHOW` command: its name, and whether the command lists it without
/// `YIELD` (Neo4j's default columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowColumn {
    pub name: Cow<'static, str>,
    pub default: bool,
}

const fn d(name: &'static str) -> ShowColumn {
    ShowColumn {
        name: Cow::Borrowed(name),
        default: true,
    }
}

const fn y(name: &'static str) -> ShowColumn {
    ShowColumn {
        name: Cow::Borrowed(name),
        default: false,
    }
}

/// `SHOW INDEXES` (Neo4j 5's columns).
pub const INDEXES: &[ShowColumn] = &[
    d("id"),
    d("name"),
    d("state"),
    d("populationPercent"),
    d("type"),
    d("entityType"),
    d("labelsOrTypes"),
    d("properties"),
    d("indexProvider"),
    d("owningConstraint"),
    d("lastRead"),
    d("readCount"),
    y("trackedSince"),
    y("options"),
    y("failureMessage"),
    y("createStatement"),
];

/// `SHOW CONSTRAINTS` (Neo4j 5's columns).
pub const CONSTRAINTS: &[ShowColumn] = &[
    d("id"),
    d("name"),
    d("type"),
    d("entityType"),
    d("labelsOrTypes"),
    d("properties"),
    d("ownedIndex"),
    d("propertyType"),
    y("options"),
    y("createStatement"),
];

/// `SHOW PROCEDURES` (Neo4j 5's columns).
pub const PROCEDURES: &[ShowColumn] = &[
    d("name"),
    d("description"),
    d("mode"),
    d("worksOnSystem"),
    y("signature"),
    y("argumentDescription"),
    y("returnDescription"),
    y("admin"),
    y("rolesExecution"),
    y("rolesBoostedExecution"),
    y("isDeprecated"),
    y("deprecatedBy"),
    y("option"),
];

/// `SHOW FUNCTIONS` (Neo4j 5's columns).
pub const FUNCTIONS: &[ShowColumn] = &[
    d("name"),
    d("category"),
    d("description"),
    y("signature"),
    y("isBuiltIn"),
    y("argumentDescription"),
    y("returnDescription"),
    y("aggregating"),
    y("rolesExecution"),
    y("rolesBoostedExecution"),
    y("isDeprecated"),
    y("deprecatedBy"),
];

/// `SHOW DATABASES` (Neo4j 5's columns).
pub const DATABASES: &[ShowColumn] = &[
    d("name"),
    d("type"),
    d("aliases"),
    d("access"),
    y("databaseID"),
    y("serverID"),
    d("address"),
    d("role"),
    d("writer"),
    d("requestedStatus"),
    d("currentStatus"),
    d("statusMessage"),
    d("default"),
    d("home"),
    y("currentPrimariesCount"),
    y("currentSecondariesCount"),
    y("requestedPrimariesCount"),
    y("requestedSecondariesCount"),
    y("creationTime"),
    y("lastStartTime"),
    y("lastStopTime"),
    y("store"),
    y("lastCommittedTxn"),
    y("replicationLag"),
    d("constituents"),
    y("options"),
];

/// `SHOW TRANSACTIONS`: Neo4j's columns graphward has, and Memgraph's (`transaction_id`,
/// `query`, `metadata`: gqlalchemy's `get_transactions` reads them), listed by default.
pub const TRANSACTIONS: &[ShowColumn] = &[
    d("database"),
    d("transactionId"),
    d("username"),
    d("currentQuery"),
    d("startTime"),
    d("status"),
    d("elapsedTime"),
    d("idleTime"),
    d("holdsWriteLock"),
    d("metaData"),
    d("transaction_id"),
    d("query"),
    d("metadata"),
];

/// `TERMINATE TRANSACTIONS`: Neo4j's columns, then Memgraph's (gqlalchemy's
/// `terminate_transactions` reads `transaction_id` and `killed`).
pub const TERMINATED: &[ShowColumn] = &[
    d("transactionId"),
    d("username"),
    d("message"),
    d("transaction_id"),
    d("killed"),
];

/// The columns of one of the engine's `SHOW` commands (`None` for the others).
pub fn columns_of(cmd: &AdminCommand) -> Option<&'static [ShowColumn]> {
    Some(match cmd {
        AdminCommand::ShowIndexes { .. } => INDEXES,
        AdminCommand::ShowConstraints { .. } => CONSTRAINTS,
        AdminCommand::ShowProcedures { .. } => PROCEDURES,
        AdminCommand::ShowFunctions { .. } => FUNCTIONS,
        AdminCommand::ShowDatabases { .. } => DATABASES,
        AdminCommand::ShowTransactions { .. } => TRANSACTIONS,
        AdminCommand::TerminateTransactions { .. } => TERMINATED,
        _ => return None,
    })
}

/// A tail compiled over a command's columns.
#[derive(Debug, Clone)]
pub struct CompiledTail {
    /// The tail as a query over rows binding every column.
    query: Query,
    /// The result's columns.
    pub columns: Vec<String>,
}

fn var_item(name: &str, alias: Option<&str>) -> ProjectionItem {
    ProjectionItem {
        expr: Expr::Variable(name.to_string()),
        alias: alias.map(str::to_string),
        text: name.to_string(),
    }
}

fn items_projection(items: Vec<ProjectionItem>) -> Projection {
    Projection {
        distinct: false,
        star: false,
        items,
        order_by: Vec::new(),
        skip: None,
        limit: None,
    }
}

/// `e` with the variables named in `map` renamed (`YIELD x AS y ... WHERE x = 1` reads `y`, as
/// Neo4j rewrites it).
fn rename(e: &Expr, map: &[(String, String)]) -> Expr {
    if let Expr::Variable(v) = e {
        return match map.iter().find(|(from, _)| from == v) {
            Some((_, to)) => Expr::Variable(to.clone()),
            None => e.clone(),
        };
    }
    map_children(e, &mut |c| rename(c, map))
}

/// Compile `tail` over a command's `columns` (all of them; `default` marks those listed
/// without `YIELD`): the unknown `YIELD` column and every static error of the tail are
/// reported here, before the command makes a row.
pub fn compile(columns: &[ShowColumn], tail: &ShowTail) -> Result<CompiledTail> {
    let all: Vec<String> = columns.iter().map(|c| c.name.to_string()).collect();
    let defaults: Vec<&str> = columns
        .iter()
        .filter(|c| c.default)
        .map(|c| c.name.as_ref())
        .collect();
    let mut clauses = Vec::new();
    // The columns in scope after YIELD (or without it), in order.
    let visible: Vec<String>;
    let mut renamed: Vec<(String, String)> = Vec::new();
    let mut order = None;
    match &tail.yield_ {
        Some(p) if p.star => {
            visible = all.clone();
            order = Some(p);
        }
        Some(p) => {
            let mut items = Vec::with_capacity(p.items.len());
            let mut names = Vec::with_capacity(p.items.len());
            for it in &p.items {
                let Expr::Variable(col) = &it.expr else {
                    return Err(Error::syntax("YIELD takes * or column names"));
                };
                if !all.contains(col) {
                    return Err(Error::syntax(format!(
                        "Trying to YIELD non-existing column: `{col}`"
                    ))
                    .with_detail("UndefinedVariable"));
                }
                let name = it.alias.clone().unwrap_or_else(|| col.clone());
                if names.contains(&name) {
                    return Err(Error::syntax(format!(
                        "Multiple result columns with the same name are not supported: `{name}`"
                    ))
                    .with_detail("ColumnNameConflict"));
                }
                if name != *col {
                    renamed.push((col.clone(), name.clone()));
                }
                items.push(var_item(col, it.alias.as_deref()));
                names.push(name);
            }
            clauses.push(Clause::With(With {
                projection: items_projection(items),
                where_: None,
            }));
            visible = names;
            order = Some(p);
        }
        None => {
            clauses.push(Clause::With(With {
                projection: items_projection(defaults.iter().map(|c| var_item(c, None)).collect()),
                where_: None,
            }));
            visible = defaults.iter().map(|c| c.to_string()).collect();
        }
    }
    let order_by: Vec<_> = order
        .map(|p| {
            p.order_by
                .iter()
                .map(|s| crate::ast::SortItem {
                    expr: rename(&s.expr, &renamed),
                    ascending: s.ascending,
                })
                .collect()
        })
        .unwrap_or_default();
    let skip = order.and_then(|p| p.skip.clone());
    let limit = order.and_then(|p| p.limit.clone());
    let where_ = tail.where_.as_ref().map(|w| rename(w, &renamed));
    if !order_by.is_empty() || skip.is_some() || limit.is_some() || where_.is_some() {
        clauses.push(Clause::With(With {
            projection: Projection {
                distinct: false,
                star: true,
                items: Vec::new(),
                order_by,
                skip,
                limit,
            },
            where_,
        }));
    }
    let projection = match &tail.return_ {
        Some(r) => r.clone(),
        None => items_projection(visible.iter().map(|c| var_item(c, None)).collect()),
    };
    clauses.push(Clause::Return(Return { projection }));
    let query = Query {
        first: SingleQuery {
            use_graph: None,
            clauses,
        },
        unions: Vec::new(),
    };
    let columns = crate::semantic::check_over_columns(&query, &all)?;
    Ok(CompiledTail { query, columns })
}

/// Run a compiled tail over `rows` (each with every column, in the order of `columns`).
pub fn run(
    compiled: &CompiledTail,
    columns: &[ShowColumn],
    rows: Vec<Vec<Value>>,
    env: &Env,
) -> Result<Vec<Vec<Value>>> {
    let mut table: Vec<Row> = Vec::with_capacity(rows.len());
    for r in rows {
        let row: Row = columns
            .iter()
            .map(|c| c.name.to_string())
            .zip(r.into_iter().chain(std::iter::repeat(Value::Null)))
            .collect();
        table.push(row);
    }
    env.check_table(&table)?;
    let go = || -> Result<Vec<Row>> {
        let g = NoGraph;
        let ev = Ev::new(&g, env);
        let mut scope: Vec<String> = columns.iter().map(|c| c.name.to_string()).collect();
        let mut table = table;
        for c in &compiled.query.first.clauses {
            env.check()?;
            let p = match c {
                Clause::With(w) => ev.project(&w.projection, table, &scope, w.where_.as_ref())?,
                Clause::Return(r) => ev.project(&r.projection, table, &scope, None)?,
                _ => return Err(Error::internal("a SHOW tail holds WITH and RETURN only")),
            };
            scope = p.columns;
            table = p.rows;
            env.check_table(&table)?;
        }
        Ok(table)
    };
    let deep =
        crate::semantic::statement_is_deep(&crate::ast::Statement::Query(compiled.query.clone()));
    let table = if deep {
        crate::parser::on_big_stack(go)??
    } else {
        go()?
    };
    Ok(table
        .into_iter()
        .map(|mut r| {
            compiled
                .columns
                .iter()
                .map(|c| r.remove(c).unwrap_or(Value::Null))
                .collect()
        })
        .collect())
}

/// The default columns of `rows` (a `SHOW` command without a tail).
pub fn default_columns(
    columns: &[ShowColumn],
    rows: Vec<Vec<Value>>,
) -> (Vec<String>, Vec<Vec<Value>>) {
    let keep: Vec<bool> = columns.iter().map(|c| c.default).collect();
    let names = columns
        .iter()
        .filter(|c| c.default)
        .map(|c| c.name.to_string())
        .collect();
    let rows = rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .zip(keep.iter())
                .filter(|(_, k)| **k)
                .map(|(v, _)| v)
                .collect()
        })
        .collect();
    (names, rows)
}

/// Most bytes a `SHOW` tail run outside the engine (over a server command's rows) may use.
pub const SERVER_SHOW_MEMORY: u64 = 64 * 1024 * 1024;
/// Most rows such a tail may hold at once.
pub const SERVER_SHOW_ROWS: u64 = 1_000_000;
/// Longest such a tail may run (the engine's query timeout bounds the engine's own).
pub const SERVER_SHOW_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Apply `tail` to the result of a server command (`SHOW USERS`, `SHOW ROLES`, ...; run by the
/// front door's handlers): every column it returns is a default column. The rows are read
/// first (such results are small tables), then the tail runs over them with its own bounded
/// memory account and time limit.
pub fn apply_to_stream(
    mut stream: Box<dyn ResultStream>,
    tail: &ShowTail,
    params: &graphward_core::engine::Params,
    database: &str,
) -> Result<Box<dyn ResultStream>> {
    let columns: Vec<ShowColumn> = stream
        .columns()
        .iter()
        .map(|c| ShowColumn {
            name: Cow::Owned(c.clone()),
            default: true,
        })
        .collect();
    let compiled = compile(&columns, tail)?;
    let mut rows = Vec::new();
    while let Some(row) = stream.next_row() {
        rows.push(row?);
        if rows.len() as u64 > SERVER_SHOW_ROWS {
            return Err(Error::new(
                ErrorCode::ResourceLimit,
                format!("a SHOW command listed more than {SERVER_SHOW_ROWS} rows"),
            ));
        }
    }
    let summary = stream.summary();
    let env = Env {
        params: std::sync::Arc::new(params.clone()),
        clock: Clock::system(),
        cancel: CancelToken::new(),
        deadline: Some(std::time::Instant::now() + SERVER_SHOW_TIMEOUT),
        database: database.to_string(),
        max_rows: SERVER_SHOW_ROWS,
        mem: MemAccount::new(QueryMemory::standalone(SERVER_SHOW_MEMORY)),
        procedures: Arc::new(std::sync::RwLock::new(HashMap::new())),
        tx_metadata: Arc::new(graphward_core::value::Map::new()),
        import_dir: None,
    };
    let rows = run(&compiled, &columns, rows, &env)?;
    Ok(Box::new(RowsStream::with_summary(
        compiled.columns,
        rows,
        Summary {
            query_type: QueryType::Read,
            ..summary
        },
    )))
}

/// The graph a tail sees: none (a tail reads the command's rows only).
struct NoGraph;

impl GraphRead for NoGraph {
    fn node(&self, _: NodeId) -> Result<Option<NodeRecord>> {
        Ok(None)
    }
    fn relationship(&self, _: RelId) -> Result<Option<RelRecord>> {
        Ok(None)
    }
    fn all_nodes(&self) -> Result<Vec<NodeId>> {
        Ok(Vec::new())
    }
    fn nodes_with_label(&self, _: &str) -> Result<Vec<NodeId>> {
        Ok(Vec::new())
    }
    fn all_relationships(&self) -> Result<Vec<RelId>> {
        Ok(Vec::new())
    }
    fn expand(&self, _: NodeId, _: ExpandDir, _: &[String]) -> Result<Vec<Edge>> {
        Ok(Vec::new())
    }
    fn index_seek(&self, _: &str, _: &[String], _: &[Value]) -> Result<Option<Vec<NodeId>>> {
        Ok(None)
    }
    fn schema(&self) -> Result<Vec<graphward_storage::SchemaDef>> {
        Ok(Vec::new())
    }
    fn count_nodes(&self, _: Option<&str>) -> Result<u64> {
        Ok(0)
    }
    fn labels(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
    fn relationship_types(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
    fn property_keys(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
}

// ---------------------------------------------------------------------------------------------
// the engine's SHOW commands as row sources

use graphward_core::engine::{Params, Stats};
use graphward_storage::{SchemaDef, SchemaKind};

use super::EngineTx;
use crate::ast::{ConstraintRule, DatabaseFilter, IndexFilter, RoutineFilter, SchemaEntity};

fn s(x: &str) -> Value {
    Value::String(x.to_string())
}

fn strings(v: &[String]) -> Value {
    Value::List(v.iter().map(|x| s(x)).collect())
}

/// A name in backticks, as Neo4j writes names in `createStatement`.
fn tick(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

const INDEX_PROVIDER: &str = "range-1.0";

fn index_options() -> Value {
    let mut m = graphward_core::value::Map::new();
    m.insert("indexProvider".into(), s(INDEX_PROVIDER));
    m.insert(
        "indexConfig".into(),
        Value::Map(graphward_core::value::Map::new()),
    );
    Value::Map(m)
}

/// `FOR (n:`L`)` / `FOR ()-[r:`T`]-()` and the variable it binds.
fn schema_pattern(d: &SchemaDef) -> (String, &'static str) {
    if d.kind.on_relationships() {
        (format!("()-[r:{}]-()", tick(&d.label)), "r")
    } else {
        (format!("(n:{})", tick(&d.label)), "n")
    }
}

fn schema_props(d: &SchemaDef, var: &str) -> String {
    d.properties
        .iter()
        .map(|p| format!("{var}.{}", tick(p)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statement that creates `d`, as `SHOW ... YIELD createStatement` lists it.
fn create_statement(d: &SchemaDef) -> String {
    let (pattern, var) = schema_pattern(d);
    let props = schema_props(d, var);
    let rule = match d.kind {
        SchemaKind::Index | SchemaKind::RelIndex => {
            return format!(
                "CREATE RANGE INDEX {} FOR {pattern} ON ({props})",
                tick(&d.name)
            );
        }
        SchemaKind::Unique | SchemaKind::RelUnique => "IS UNIQUE",
        SchemaKind::Existence | SchemaKind::RelExistence => "IS NOT NULL",
        SchemaKind::Key => "IS NODE KEY",
        SchemaKind::RelKey => "IS RELATIONSHIP KEY",
    };
    format!(
        "CREATE CONSTRAINT {} FOR {pattern} REQUIRE ({props}) {rule}",
        tick(&d.name)
    )
}

/// Neo4j's `type` of a constraint in `SHOW CONSTRAINTS`, and its rule and entity.
fn constraint_type(kind: &SchemaKind) -> Option<(&'static str, ConstraintRule, SchemaEntity)> {
    use ConstraintRule::*;
    use SchemaEntity::*;
    Some(match kind {
        SchemaKind::Unique => ("UNIQUENESS", Unique, Node),
        SchemaKind::Existence => ("NODE_PROPERTY_EXISTENCE", Existence, Node),
        SchemaKind::Key => ("NODE_KEY", Key, Node),
        SchemaKind::RelUnique => ("RELATIONSHIP_UNIQUENESS", Unique, Relationship),
        SchemaKind::RelExistence => ("RELATIONSHIP_PROPERTY_EXISTENCE", Existence, Relationship),
        SchemaKind::RelKey => ("RELATIONSHIP_KEY", Key, Relationship),
        SchemaKind::Index | SchemaKind::RelIndex => return None,
    })
}

impl EngineTx {
    /// One of the engine's `SHOW` commands, with its tail if it has one: the tail is compiled
    /// first (nothing is listed when it is wrong), then the command's rows (every column) go
    /// through it, or are cut to the default columns.
    pub(super) fn show(
        &mut self,
        cmd: &AdminCommand,
        tail: Option<&ShowTail>,
        params: Params,
    ) -> Result<Box<dyn ResultStream>> {
        let columns =
            columns_of(cmd).ok_or_else(|| Error::internal("not a SHOW command of the engine"))?;
        // Compiled before anything is listed (or terminated).
        let compiled = tail.map(|t| compile(columns, t)).transpose()?;
        let rows = self.show_rows(cmd)?;
        let query_type = if matches!(cmd, AdminCommand::TerminateTransactions { .. }) {
            QueryType::Write
        } else {
            QueryType::Read
        };
        let (names, rows) = match compiled {
            None => default_columns(columns, rows),
            Some(c) => {
                let env = self.env(params);
                let rows = run(&c, columns, rows, &env)?;
                (c.columns, rows)
            }
        };
        Ok(Box::new(RowsStream::with_summary(
            names,
            rows,
            self.summary(Stats::default(), query_type),
        )))
    }

    /// Every column of every row `cmd` lists, in the order of [`columns_of`].
    fn show_rows(&mut self, cmd: &AdminCommand) -> Result<Vec<Vec<Value>>> {
        match cmd {
            AdminCommand::ShowDatabases { which, visible } => {
                Ok(self.database_rows(which, visible))
            }
            AdminCommand::ShowIndexes { kind } => {
                if !matches!(kind, IndexFilter::All | IndexFilter::Range) {
                    return Ok(Vec::new());
                }
                let mut rows = Vec::new();
                for (i, d) in self.schema_defs()?.into_iter().enumerate() {
                    if !d.kind.has_index() {
                        continue;
                    }
                    let entity = if d.kind.on_relationships() {
                        "RELATIONSHIP"
                    } else {
                        "NODE"
                    };
                    let owner = if d.kind.is_constraint() {
                        s(&d.name)
                    } else {
                        Value::Null
                    };
                    rows.push(vec![
                        Value::Int(i as i64 + 1),
                        s(&d.name),
                        s("ONLINE"),
                        Value::Float(100.0),
                        s("RANGE"),
                        s(entity),
                        strings(std::slice::from_ref(&d.label)),
                        strings(&d.properties),
                        s(INDEX_PROVIDER),
                        owner,
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        index_options(),
                        s(""),
                        s(&create_statement(&d)),
                    ]);
                }
                Ok(rows)
            }
            AdminCommand::ShowConstraints { kind } => {
                let mut rows = Vec::new();
                for (i, d) in self.schema_defs()?.into_iter().enumerate() {
                    let Some((ty, rule, entity)) = constraint_type(&d.kind) else {
                        continue;
                    };
                    if (kind.rule != ConstraintRule::Any && kind.rule != rule)
                        || kind.entity.is_some_and(|e| e != entity)
                    {
                        continue;
                    }
                    let indexed = d.kind.has_index();
                    rows.push(vec![
                        Value::Int(i as i64 + 1),
                        s(&d.name),
                        s(ty),
                        s(match entity {
                            SchemaEntity::Node => "NODE",
                            SchemaEntity::Relationship => "RELATIONSHIP",
                        }),
                        strings(std::slice::from_ref(&d.label)),
                        strings(&d.properties),
                        if indexed { s(&d.name) } else { Value::Null },
                        Value::Null,
                        if indexed {
                            index_options()
                        } else {
                            Value::Null
                        },
                        s(&create_statement(&d)),
                    ]);
                }
                Ok(rows)
            }
            AdminCommand::ShowProcedures { kind } => Ok(self.procedure_rows(*kind)),
            AdminCommand::ShowFunctions { kind } => Ok(function_rows(*kind)),
            AdminCommand::ShowTransactions { ids, all_users } => {
                Ok(self.show_transactions(ids, *all_users))
            }
            AdminCommand::TerminateTransactions { ids, all_users } => {
                Ok(self.terminate_transactions(ids, *all_users))
            }
            _ => Err(Error::internal("not a SHOW command of the engine")),
        }
    }

    fn schema_defs(&mut self) -> Result<Vec<SchemaDef>> {
        if self.store.is_none() {
            self.open_store(false)?;
        }
        self.store
            .as_ref()
            .map(|s| s.read())
            .ok_or_else(|| Error::internal("no store"))?
            .schema()
    }

    fn database_rows(
        &self,
        which: &DatabaseFilter,
        visible: &Option<Vec<String>>,
    ) -> Vec<Vec<Value>> {
        let storage = &self.engine.storage;
        let default = self.engine.config.default_database.to_ascii_lowercase();
        let mut states: Vec<(String, &'static str, String)> = storage
            .states()
            .into_iter()
            .map(|d| (d.name, d.status.as_str(), d.message))
            .collect();
        states.push(("system".into(), "online", String::new()));
        states.sort();
        let mut rows = Vec::new();
        for (n, status, message) in states {
            let shown = match which {
                DatabaseFilter::All => true,
                DatabaseFilter::Named(name) => *name == n,
                DatabaseFilter::Default => n == default,
            };
            // Filtered before any WHERE of the statement reads the rows.
            if !shown || visible.as_ref().is_some_and(|v| !v.contains(&n)) {
                continue;
            }
            let is_default = n == default;
            rows.push(vec![
                s(&n),
                s(if n == "system" { "system" } else { "standard" }),
                Value::List(vec![]),
                s("read-write"),
                Value::Null,
                Value::Null,
                s(&self.engine.config.bolt_address),
                s("primary"),
                Value::Bool(true),
                s("online"),
                s(status),
                s(&message),
                Value::Bool(is_default),
                Value::Bool(is_default),
                Value::Int(1),
                Value::Int(0),
                Value::Int(1),
                Value::Int(0),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Int(0),
                Value::List(vec![]),
                Value::Map(graphward_core::value::Map::new()),
            ]);
        }
        rows
    }

    fn procedure_rows(&self, kind: RoutineFilter) -> Vec<Vec<Value>> {
        let row = |name: &str, description: &str, signature: Value| {
            let mut option = graphward_core::value::Map::new();
            option.insert("deprecated".into(), Value::Bool(false));
            vec![
                s(name),
                s(description),
                s("READ"),
                Value::Bool(false),
                signature,
                Value::List(vec![]),
                Value::List(vec![]),
                Value::Bool(false),
                Value::Null,
                Value::Null,
                Value::Bool(false),
                Value::Null,
                Value::Map(option),
            ]
        };
        let mut rows: Vec<Vec<Value>> = Vec::new();
        if kind != RoutineFilter::UserDefined {
            for (name, description) in super::runner::builtin_procedures() {
                let outputs = super::runner::builtin_outputs(&name.to_ascii_lowercase())
                    .unwrap_or(&[])
                    .iter()
                    .map(|o| format!("{o} :: ANY"))
                    .collect::<Vec<_>>()
                    .join(", ");
                rows.push(row(
                    name,
                    description,
                    s(&format!("{name}() :: ({outputs})")),
                ));
            }
        }
        if kind != RoutineFilter::BuiltIn {
            if let Ok(procs) = self.engine.procedures.read() {
                for name in procs.keys() {
                    rows.push(row(name, "", Value::Null));
                }
            }
        }
        sort_by_name(&mut rows);
        rows
    }
}

fn sort_by_name(rows: &mut [Vec<Value>]) {
    rows.sort_by_key(|r| match r.first() {
        Some(Value::String(n)) => n.to_ascii_lowercase(),
        _ => String::new(),
    });
}

/// Every function graphward has is built in.
fn function_rows(kind: RoutineFilter) -> Vec<Vec<Value>> {
    if kind == RoutineFilter::UserDefined {
        return Vec::new();
    }
    let mut rows: Vec<Vec<Value>> = crate::semantic::function_catalog()
        .into_iter()
        .map(|(name, category)| {
            vec![
                s(name),
                s(category),
                s(""),
                Value::Null,
                Value::Bool(true),
                Value::List(vec![]),
                Value::Null,
                Value::Bool(crate::semantic::is_aggregate_function(name)),
                Value::Null,
                Value::Null,
                Value::Bool(false),
                Value::Null,
            ]
        })
        .collect();
    sort_by_name(&mut rows);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Statement;

    fn tail(q: &str) -> ShowTail {
        match crate::parser::parse(q, 64) {
            Ok(Statement::Show(s)) => s.tail,
            other => panic!("{q}: {other:?}"),
        }
    }

    fn users() -> Box<dyn ResultStream> {
        let s = |x: &str| Value::String(x.to_string());
        RowsStream::new(
            vec!["user".into(), "roles".into()],
            vec![
                vec![s("a"), Value::List(vec![s("admin")])],
                vec![s("b"), Value::List(vec![])],
            ],
            "system",
        )
        .boxed()
    }

    fn run_on_users(q: &str) -> Result<(Vec<String>, Vec<Vec<Value>>)> {
        let params = graphward_core::engine::Params::new();
        let mut out = apply_to_stream(users(), &tail(q), &params, "system")?;
        let cols = out.columns().to_vec();
        let mut rows = Vec::new();
        while let Some(r) = out.next_row() {
            rows.push(r?);
        }
        Ok((cols, rows))
    }

    #[test]
    fn a_server_commands_rows_go_through_the_tail() {
        let (cols, rows) =
            run_on_users("SHOW USERS YIELD user AS u, roles WHERE size(roles) = 0 RETURN u")
                .unwrap();
        assert_eq!(cols, vec!["u".to_string()]);
        assert_eq!(rows, vec![vec![Value::String("b".into())]]);
        let (cols, rows) = run_on_users("SHOW USERS WHERE user = 'a'").unwrap();
        assert_eq!(cols, vec!["user".to_string(), "roles".to_string()]);
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn a_tail_is_checked_and_bounded() {
        let e = run_on_users("SHOW USERS YIELD nope").unwrap_err();
        assert_eq!(e.code, ErrorCode::SyntaxError);
        assert_eq!(e.message, "Trying to YIELD non-existing column: `nope`");
        let e = run_on_users("SHOW USERS YIELD user WHERE roles = []").unwrap_err();
        assert_eq!(e.code, ErrorCode::SyntaxError, "{e}");
        // Memory is charged to the tail's own bounded account: an error, not an abort.
        let e = run_on_users("SHOW USERS YIELD user RETURN size(range(1, 100000000)) AS n")
            .unwrap_err();
        assert_ne!(e.code, ErrorCode::Internal, "{e}");
    }
}
