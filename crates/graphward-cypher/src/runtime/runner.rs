//! The clause runner: drives a query clause by clause over a storage transaction, applying
//! updates (CREATE, MERGE, SET, REMOVE, DELETE, FOREACH) and procedure calls.

use std::collections::{BTreeMap, HashMap, HashSet};

use graphward_core::engine::Stats;
use graphward_core::value::Map;
use graphward_core::{Error, ErrorCode, Result, Value};
use graphward_storage::{ExpandDir, GraphRead, GraphWrite, NodeId, ReadTxn, RelId, WriteTxn};

use super::eval::{node_ref, rel_ref, Ev, Row};
use super::project::pattern_vars;
use crate::ast::{
    Call, Clause, Direction, Expr, Foreach, InTransactions, OnError, PatternPart, Query,
    RemoveItem, SetItem, SingleQuery,
};

use super::eval::Env;

/// The storage transaction a statement runs in.
#[allow(clippy::large_enum_variant)]
pub enum StoreTx {
    Read(ReadTxn),
    Write(WriteTxn),
}

impl StoreTx {
    pub fn read(&self) -> &dyn GraphRead {
        match self {
            StoreTx::Read(t) => t,
            StoreTx::Write(t) => t,
        }
    }

    pub fn write(&mut self) -> Result<&mut WriteTxn> {
        match self {
            StoreTx::Write(t) => Ok(t),
            StoreTx::Read(_) => Err(Error::new(
                ErrorCode::Forbidden,
                "writing is not allowed in a read-only transaction (access mode READ)",
            )
            .with_detail("AccessMode")),
        }
    }
}

pub struct Runner<'t> {
    pub tx: &'t mut StoreTx,
    pub env: &'t Env,
    pub stats: Stats,
    /// How `CALL { ... } IN TRANSACTIONS` ends the statement's storage transaction and runs
    /// inner ones: given by an implicit (auto-commit) transaction only; without it such a
    /// clause fails.
    pub txns: Option<&'t dyn InnerTransactions>,
}

/// The transaction side of `CALL { ... } IN TRANSACTIONS`, given to the runner by the
/// transaction that runs the statement (it owns the write lock and the table of open
/// transactions). The storage transaction the runner holds is swapped in place.
pub trait InnerTransactions {
    /// Ends the statement's storage transaction, which has written nothing yet (a write
    /// clause before `IN TRANSACTIONS` is refused at compile time), releasing its write lock;
    /// a fresh snapshot takes its place.
    fn end_outer(&self, store: &mut StoreTx) -> Result<()>;
    /// Takes the write lock for an inner transaction (waiting as any writer does, bounded by
    /// the transaction's deadline and cancellation); with its id as `SHOW TRANSACTIONS` and
    /// the status report name it.
    fn begin_inner(&self) -> Result<(WriteTxn, String)>;
    /// Commits an inner transaction (durable when it returns) and releases the write lock.
    fn commit_inner(&self, w: WriteTxn) -> Result<()>;
    /// Rolls an inner transaction back and releases the write lock.
    fn abort_inner(&self, w: WriteTxn);
    /// After the last batch: the statement goes on in a new storage transaction that sees
    /// every inner commit (a write transaction when a later clause writes).
    fn resume_outer(&self, store: &mut StoreTx, write: bool) -> Result<()>;
}

/// The error of `CALL { ... } IN TRANSACTIONS` in an explicit transaction (Neo4j's code and
/// message).
pub fn implicit_only() -> Error {
    Error::new(
        ErrorCode::TransactionStartFailed,
        "A query with 'CALL { ... } IN TRANSACTIONS' can only be executed in an implicit \
         transaction, but tried to execute in an explicit transaction.",
    )
}

/// Errors that end `CALL { ... } IN TRANSACTIONS` whatever its `ON ERROR`: the query was
/// terminated or ran out of time, or the database cannot go on.
fn ends_every_batch(e: &Error) -> bool {
    matches!(
        e.code,
        ErrorCode::Terminated
            | ErrorCode::TransactionTimedOut
            | ErrorCode::TransactionTimedOutClientConfiguration
            | ErrorCode::MemoryLimit
            | ErrorCode::ResourceLimit
            | ErrorCode::DatabaseUnavailable
            | ErrorCode::Internal
    )
}

/// The status map of `REPORT STATUS AS s`.
fn tx_status(started: bool, committed: bool, id: Option<&str>, error: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("started".to_string(), Value::Bool(started));
    m.insert("committed".to_string(), Value::Bool(committed));
    m.insert(
        "transactionId".to_string(),
        id.map_or(Value::Null, |s| Value::String(s.to_string())),
    );
    m.insert(
        "errorMessage".to_string(),
        error.map_or(Value::Null, |s| Value::String(s.to_string())),
    );
    Value::Map(m)
}

/// The columns a subquery returns, as written in its final RETURN (`None` for `RETURN *` or
/// a unit subquery).
fn returned_columns(q: &Query) -> Option<Vec<String>> {
    match q.first.clauses.last() {
        Some(Clause::Return(r)) if !r.projection.star => Some(
            r.projection
                .items
                .iter()
                .map(|i| i.name().to_string())
                .collect(),
        ),
        _ => None,
    }
}

/// The names `scope` gained over `before` (the columns a `RETURN *` subquery added).
fn new_names(before: &[String], scope: &[String]) -> Vec<String> {
    scope
        .iter()
        .filter(|c| !before.contains(c))
        .cloned()
        .collect()
}

/// An incoming row of a batch that failed or never ran: null subquery columns, and its
/// status.
fn null_row(mut r: Row, cols: &[String], status_var: Option<&str>, status: Value) -> Row {
    for c in cols {
        r.insert(c.clone(), Value::Null);
    }
    if let Some(v) = status_var {
        r.insert(v.to_string(), status);
    }
    r
}

fn add_stats(a: &mut Stats, b: &Stats) {
    a.nodes_created += b.nodes_created;
    a.nodes_deleted += b.nodes_deleted;
    a.relationships_created += b.relationships_created;
    a.relationships_deleted += b.relationships_deleted;
    a.properties_set += b.properties_set;
    a.labels_added += b.labels_added;
    a.labels_removed += b.labels_removed;
    a.indexes_added += b.indexes_added;
    a.indexes_removed += b.indexes_removed;
    a.constraints_added += b.constraints_added;
    a.constraints_removed += b.constraints_removed;
    a.system_updates += b.system_updates;
}

fn targ(msg: impl Into<String>) -> Error {
    Error::type_error(msg).with_detail("InvalidArgumentType")
}

/// Properties to store: a map without nulls.
fn to_props(v: Value) -> Result<Map> {
    match v {
        Value::Map(m) => Ok(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        Value::Null => Ok(Map::new()),
        other => Err(targ(format!(
            "expected a map of properties, got {}",
            other.type_name()
        ))),
    }
}

impl<'t> Runner<'t> {
    pub fn new(tx: &'t mut StoreTx, env: &'t Env) -> Self {
        Runner {
            tx,
            env,
            stats: Stats::default(),
            txns: None,
        }
    }

    fn ev(&self) -> Ev<'_> {
        Ev::new(self.tx.read(), self.env)
    }

    pub fn run_query(&mut self, q: &Query) -> Result<(Vec<String>, Vec<Row>)> {
        self.run_union(q, Row::new(), Vec::new())
    }

    /// A query with its UNION branches, each starting from `seed` (the outer row of a
    /// `CALL { ... }` subquery, or an empty row at the top level).
    fn run_union(
        &mut self,
        q: &Query,
        seed: Row,
        scope: Vec<String>,
    ) -> Result<(Vec<String>, Vec<Row>)> {
        let (cols, mut rows) = self.run_single(&q.first, vec![seed.clone()], scope.clone())?;
        let mut distinct = false;
        for (all, sq) in &q.unions {
            let (c2, r2) = self.run_single(sq, vec![seed.clone()], scope.clone())?;
            if c2 != cols {
                return Err(Error::semantic(
                    "all sub queries in a UNION must have the same return column names",
                )
                .with_detail("DifferentColumnsInUnion"));
            }
            rows.extend(r2);
            if !*all {
                distinct = true;
            }
        }
        if distinct {
            let mut seen = HashSet::new();
            rows.retain(|r| {
                let k: Vec<String> = cols
                    .iter()
                    .map(|c| super::values::key(r.get(c).unwrap_or(&Value::Null)))
                    .collect();
                seen.insert(k.join("\u{1}"))
            });
        }
        Ok((cols, rows))
    }

    pub fn run_single(
        &mut self,
        sq: &SingleQuery,
        mut rows: Vec<Row>,
        mut scope: Vec<String>,
    ) -> Result<(Vec<String>, Vec<Row>)> {
        if let Some(counted) = self.ev().whole_label_count(sq, &rows)? {
            return Ok(counted);
        }
        let mut columns = Vec::new();
        let n = sq.clauses.len();
        for (i, c) in sq.clauses.iter().enumerate() {
            self.env.check()?;
            if let Clause::InTransactions { call, options } = c {
                let then_write = sq.clauses.get(i + 1..).is_some_and(|rest| {
                    rest.iter()
                        .any(|c| clause_has_updates(std::slice::from_ref(c)))
                });
                rows = self.in_transactions(call, options, rows, &mut scope, then_write)?;
                self.env.check_table(&rows)?;
                continue;
            }
            if let Clause::Return(r) = c {
                let p = self.ev().project(&r.projection, rows, &scope, None)?;
                columns = p.columns;
                rows = p.rows;
                continue;
            }
            let standalone_call = n == 1;
            rows = self.clause(c, rows, &mut scope, standalone_call, &mut columns)?;
            self.env.check_table(&rows)?;
        }
        let standalone_call = n == 1 && matches!(sq.clauses.last(), Some(Clause::Call(_)));
        if !matches!(sq.clauses.last(), Some(Clause::Return(_))) && !standalone_call {
            // Queries that end in an update return no rows.
            return Ok((Vec::new(), Vec::new()));
        }
        Ok((columns, rows))
    }

    fn clause(
        &mut self,
        c: &Clause,
        rows: Vec<Row>,
        scope: &mut Vec<String>,
        standalone: bool,
        columns: &mut Vec<String>,
    ) -> Result<Vec<Row>> {
        match c {
            Clause::Match(m) => self.ev().match_clause(m, rows, scope),
            Clause::Unwind(u) => self.ev().unwind_clause(u, rows, scope),
            Clause::LoadCsv(l) => super::csv::load_csv_clause(&self.ev(), l, rows, scope),
            Clause::With(w) => {
                let p = self
                    .ev()
                    .project(&w.projection, rows, scope, w.where_.as_ref())?;
                *scope = p.columns;
                Ok(p.rows)
            }
            Clause::Return(_) => Ok(rows),
            Clause::Create(cr) => {
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    self.env.check()?;
                    let mut r = row;
                    for part in &cr.pattern {
                        r = self.create_part(part, r)?;
                    }
                    out.push(r);
                }
                for v in pattern_vars(&cr.pattern) {
                    if !scope.contains(&v) {
                        scope.push(v);
                    }
                }
                Ok(out)
            }
            Clause::Merge(m) => {
                let mut out = Vec::new();
                for row in rows {
                    self.env.check()?;
                    self.merge_row(m, row, &mut out)?;
                }
                for v in pattern_vars(std::slice::from_ref(&m.pattern)) {
                    if !scope.contains(&v) {
                        scope.push(v);
                    }
                }
                Ok(out)
            }
            Clause::Set(items) => {
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    out.push(self.set_items(items, row)?);
                }
                Ok(out)
            }
            Clause::Remove(items) => {
                for row in &rows {
                    self.remove_row(items, row)?;
                }
                Ok(rows)
            }
            Clause::Delete(d) => {
                let mut nodes: Vec<NodeId> = Vec::new();
                let mut rels: Vec<RelId> = Vec::new();
                for row in &rows {
                    self.deletable(d, row, &mut nodes, &mut rels)?;
                }
                self.delete(nodes, rels, d.detach)?;
                Ok(rows)
            }
            Clause::Foreach(f) => {
                for row in &rows {
                    self.foreach(f, row)?;
                }
                Ok(rows)
            }
            Clause::Call(call) => self.call(call, rows, scope, standalone, columns),
            // Only at the top level of a query (checked at compile time); run by `run_single`.
            Clause::InTransactions { .. } => Err(Error::semantic(
                "Nested CALL { ... } IN TRANSACTIONS is not supported",
            )),
            Clause::CallSubquery(q)
            | Clause::OptionalCallSubquery(q)
            | Clause::ScopedCallSubquery { query: q, .. } => {
                let (optional, imports) = c.subquery_imports();
                let mut out = Vec::new();
                for row in rows {
                    let (seed, inner_scope) = match imports {
                        None => (row.clone(), scope.clone()),
                        Some(vars) => (
                            row.iter()
                                .filter(|(k, _)| vars.contains(k))
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect(),
                            vars.to_vec(),
                        ),
                    };
                    let (cols, sub) = self.run_union(q, seed, inner_scope)?;
                    if cols.is_empty() {
                        out.push(row);
                        continue;
                    }
                    if sub.is_empty() && optional {
                        let mut r = row.clone();
                        for c in &cols {
                            r.insert(c.clone(), Value::Null);
                        }
                        out.push(r);
                    }
                    for s in sub {
                        let mut r = row.clone();
                        for c in &cols {
                            r.insert(c.clone(), s.get(c).cloned().unwrap_or(Value::Null));
                        }
                        out.push(r);
                    }
                    if let Some(c0) = Some(&cols) {
                        for c in c0 {
                            if !scope.contains(c) {
                                scope.push(c.clone());
                            }
                        }
                    }
                }
                Ok(out)
            }
        }
    }

    /// `CALL { ... } IN TRANSACTIONS`: the incoming rows in batches of `OF n ROWS` (1000),
    /// each batch's subquery runs in an inner transaction that commits before the next
    /// batch starts. The statement's own transaction ends first (it has written nothing) and
    /// a new one, which sees every inner commit, follows the last batch. A failed batch is
    /// rolled back; `ON ERROR FAIL` then fails the query (batches committed before stay
    /// committed), `CONTINUE` goes on with the next batch, `BREAK` runs no further batch;
    /// the rows of a batch that failed or never ran keep null subquery columns.
    /// Cancellation, time and memory limits end it whatever `ON ERROR` says.
    fn in_transactions(
        &mut self,
        call: &Clause,
        options: &InTransactions,
        rows: Vec<Row>,
        scope: &mut Vec<String>,
        then_write: bool,
    ) -> Result<Vec<Row>> {
        let mut rows = rows.into_iter();
        let mut next = |_: &StoreTx, size: usize| -> Result<Vec<Row>> {
            Ok(rows.by_ref().take(size).collect())
        };
        self.in_batches(call, options, &mut next, true, scope, then_write)
    }

    /// `CALL { ... } IN TRANSACTIONS` over the rows `next` gives, a batch at a time (it is
    /// handed the statement's snapshot, taken before the first batch, to read them from);
    /// the rows the batches give back are kept when `keep` (a clause after it reads them).
    pub(super) fn in_batches(
        &mut self,
        call: &Clause,
        options: &InTransactions,
        next: &mut dyn FnMut(&StoreTx, usize) -> Result<Vec<Row>>,
        keep: bool,
        scope: &mut Vec<String>,
        then_write: bool,
    ) -> Result<Vec<Row>> {
        let txns = self.txns.ok_or_else(implicit_only)?;
        let size = match &options.batch_size {
            None => 1000,
            Some(e) => match self.ev().eval(e, &Row::new())? {
                Value::Int(n) if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
                other => {
                    return Err(Error::new(
                        ErrorCode::ArgumentError,
                        format!(
                            "Invalid input. '{}' is not a valid value. Must be a positive integer.",
                            match &other {
                                Value::String(s) => s.clone(),
                                Value::Null => "NULL".to_string(),
                                Value::Int(_) | Value::Float(_) =>
                                    super::values::number_string(&other),
                                v => v.type_name().to_string(),
                            }
                        ),
                    )
                    .with_detail("NumberOutOfRange"))
                }
            },
        };
        let static_cols = call.subquery().and_then(returned_columns);
        let before: Vec<String> = scope.clone();
        txns.end_outer(self.tx)?;
        let mut out = Vec::new();
        let mut committed: u64 = 0;
        let mut stopped = false;
        let status_var = options.report_status.as_deref();
        loop {
            let batch: Vec<Row> = next(&*self.tx, size)?;
            if batch.is_empty() {
                break;
            }
            self.env.check()?;
            if stopped {
                // ON ERROR BREAK: the batches after the failed one never start.
                let cols = static_cols
                    .clone()
                    .unwrap_or_else(|| new_names(&before, scope));
                for r in batch.into_iter().filter(|_| keep) {
                    out.push(null_row(
                        r,
                        &cols,
                        status_var,
                        tx_status(false, false, None, None),
                    ));
                }
                continue;
            }
            let (w, id) = txns.begin_inner()?;
            let mut store = StoreTx::Write(w);
            let mut batch_scope = scope.clone();
            // CONTINUE and BREAK give a failed batch's rows back with null columns.
            let kept = (keep && options.on_error != OnError::Fail).then(|| batch.clone());
            let ran = {
                let mut inner = Runner {
                    tx: &mut store,
                    env: self.env,
                    stats: Stats::default(),
                    txns: None,
                };
                let mut cols = Vec::new();
                inner
                    .clause(call, batch, &mut batch_scope, false, &mut cols)
                    .map(|rows| (rows, inner.stats))
            };
            let ran = match (ran, store) {
                (Ok(done), StoreTx::Write(w)) => txns.commit_inner(w).map(|()| done),
                (Err(e), StoreTx::Write(w)) => {
                    txns.abort_inner(w);
                    Err(e)
                }
                (r, StoreTx::Read(_)) => r,
            };
            match ran {
                Ok((done, stats)) => {
                    committed += 1;
                    add_stats(&mut self.stats, &stats);
                    *scope = batch_scope;
                    for mut r in done.into_iter().filter(|_| keep) {
                        if let Some(v) = status_var {
                            r.insert(v.to_string(), tx_status(true, true, Some(&id), None));
                        }
                        out.push(r);
                    }
                }
                Err(e) if ends_every_batch(&e) || options.on_error == OnError::Fail => {
                    let mut e = e;
                    e.message = format!("{} (Transactions committed: {committed})", e.message);
                    return Err(e);
                }
                Err(e) => {
                    let cols = static_cols
                        .clone()
                        .unwrap_or_else(|| new_names(&before, scope));
                    let status = tx_status(true, false, Some(&id), Some(&e.message));
                    for r in kept.unwrap_or_default() {
                        out.push(null_row(r, &cols, status_var, status.clone()));
                    }
                    if options.on_error == OnError::Break {
                        stopped = true;
                    }
                }
            }
        }
        txns.resume_outer(self.tx, then_write)?;
        for c in static_cols.unwrap_or_default() {
            if !scope.contains(&c) {
                scope.push(c);
            }
        }
        if let Some(v) = status_var {
            scope.push(v.to_string());
        }
        Ok(out)
    }

    /// MERGE cannot create an entity whose pattern property is null: it could never match it
    /// again (Neo4j: "Cannot merge node using null property value").
    fn check_merge_properties(&mut self, part: &PatternPart, row: &Row) -> Result<()> {
        let nodes = std::iter::once(&part.element.start)
            .chain(part.element.chain.iter().map(|(_, n)| n))
            .filter(|np| np.variable.as_ref().is_none_or(|v| !row.contains_key(v)))
            .map(|np| (&np.properties, "node"));
        let rels = part
            .element
            .chain
            .iter()
            .map(|(rp, _)| (&rp.properties, "relationship"));
        for (props, kind) in nodes.chain(rels) {
            let Some(e) = props else { continue };
            if let Value::Map(m) = self.ev().eval(e, row)? {
                if let Some((k, _)) = m.iter().find(|(_, v)| matches!(v, Value::Null)) {
                    return Err(Error::semantic(format!(
                        "Cannot merge {kind} using null property value for {k}"
                    ))
                    .with_detail("MergeReadOwnWrites"));
                }
            }
        }
        Ok(())
    }

    /// MERGE for one row: the rows of the pattern's matches (each after ON MATCH SET), or of
    /// what it created (after ON CREATE SET), appended to `out`.
    pub(super) fn merge_row(
        &mut self,
        m: &crate::ast::Merge,
        row: Row,
        out: &mut Vec<Row>,
    ) -> Result<()> {
        let found = self
            .ev()
            .match_pattern(std::slice::from_ref(&m.pattern), &row)?;
        if found.is_empty() {
            self.check_merge_properties(&m.pattern, &row)?;
            let r = self.create_part(&m.pattern, row)?;
            out.push(self.set_items(&m.on_create, r)?);
        } else {
            for r in found {
                out.push(self.set_items(&m.on_match, r)?);
            }
        }
        Ok(())
    }

    pub(super) fn create_part(&mut self, part: &PatternPart, mut row: Row) -> Result<Row> {
        let mut node_ids: Vec<NodeId> = Vec::new();
        let mut rels = Vec::new();
        let all_nodes: Vec<&crate::ast::NodePattern> = std::iter::once(&part.element.start)
            .chain(part.element.chain.iter().map(|(_, n)| n))
            .collect();
        for np in &all_nodes {
            let existing = np.variable.as_ref().and_then(|v| row.get(v).cloned());
            let id = match existing {
                Some(Value::Node(n)) => n.id as u64,
                Some(Value::Null) => {
                    return Err(Error::semantic(format!(
                        "cannot create a relationship to a null node `{}`",
                        np.variable.as_deref().unwrap_or("")
                    )))
                }
                Some(other) => {
                    return Err(Error::type_error(format!(
                        "`{}` is a {}, expected a node",
                        np.variable.as_deref().unwrap_or(""),
                        other.type_name()
                    ))
                    .with_detail("VariableTypeConflict"))
                }
                None => {
                    let props = match &np.properties {
                        Some(e) => to_props(self.ev().eval(e, &row)?)?,
                        None => Map::new(),
                    };
                    let nprops = props.len() as u64;
                    let id = self.tx.write()?.create_node(&np.labels, props)?;
                    self.stats.nodes_created += 1;
                    self.stats.labels_added += np.labels.len() as u64;
                    self.stats.properties_set += nprops;
                    if let Some(v) = &np.variable {
                        row.insert(v.clone(), node_ref(id));
                    }
                    id
                }
            };
            node_ids.push(id);
        }
        for (i, (rp, _)) in part.element.chain.iter().enumerate() {
            let (src, dst) = match rp.direction {
                Direction::Incoming => (node_ids[i + 1], node_ids[i]),
                _ => (node_ids[i], node_ids[i + 1]),
            };
            let Some(t) = rp.types.first() else {
                return Err(Error::semantic(
                    "a relationship type is required to create a relationship",
                )
                .with_detail("NoSingleRelationshipType"));
            };
            let props = match &rp.properties {
                Some(e) => to_props(self.ev().eval(e, &row)?)?,
                None => Map::new(),
            };
            let nprops = props.len() as u64;
            let id = self.tx.write()?.create_relationship(src, dst, t, props)?;
            self.stats.relationships_created += 1;
            self.stats.properties_set += nprops;
            let rec = graphward_storage::RelRecord {
                id,
                src,
                dst,
                rel_type: t.clone(),
                properties: Map::new(),
            };
            let rv = rel_ref(&rec);
            if let Some(v) = &rp.variable {
                row.insert(v.clone(), rv.clone());
            }
            rels.push(rv);
        }
        if let Some(pv) = &part.variable {
            let nodes = node_ids
                .iter()
                .map(|id| match node_ref(*id) {
                    Value::Node(n) => *n,
                    _ => unreachable_node(),
                })
                .collect();
            let relationships = rels
                .into_iter()
                .filter_map(|r| match r {
                    Value::Relationship(r) => Some(*r),
                    _ => None,
                })
                .collect();
            row.insert(
                pv.clone(),
                Value::Path(graphward_core::value::Path {
                    nodes,
                    relationships,
                }),
            );
        }
        Ok(row)
    }

    pub(super) fn set_items(&mut self, items: &[SetItem], row: Row) -> Result<Row> {
        for it in items {
            self.env.check()?;
            match it {
                SetItem::Property { target, key, value } => {
                    let t = self.ev().eval(target, &row)?;
                    let v = self.ev().eval(value, &row)?;
                    self.set_prop(&t, key, v)?;
                }
                SetItem::Replace { variable, value } | SetItem::Merge { variable, value } => {
                    let replace = matches!(it, SetItem::Replace { .. });
                    let t = row.get(variable).cloned().unwrap_or(Value::Null);
                    let v = self.ev().eval(value, &row)?;
                    let props: Map = match v {
                        Value::Map(m) => m,
                        Value::Node(n) => self.ev().node_props(n.id)?,
                        Value::Relationship(r) => self.ev().rel_props(r.id)?,
                        Value::Null if replace => Map::new(),
                        other => {
                            return Err(targ(format!(
                                "SET expects a map, got {}",
                                other.type_name()
                            )))
                        }
                    };
                    if t.is_null() {
                        continue;
                    }
                    if replace {
                        let clean: Map = props.into_iter().filter(|(_, v)| !v.is_null()).collect();
                        let n = clean.len() as u64;
                        match &t {
                            Value::Node(nd) => {
                                let old = self.ev().node_props(nd.id)?.len() as u64;
                                self.tx
                                    .write()?
                                    .replace_node_properties(nd.id as u64, clean)?;
                                self.stats.properties_set += n + old.saturating_sub(0).min(old);
                            }
                            Value::Relationship(r) => {
                                let old = self.ev().rel_props(r.id)?.len() as u64;
                                self.tx
                                    .write()?
                                    .replace_relationship_properties(r.id as u64, clean)?;
                                self.stats.properties_set += n + old.min(old);
                            }
                            other => {
                                return Err(targ(format!(
                                    "cannot SET properties on {}",
                                    other.type_name()
                                )))
                            }
                        }
                    } else {
                        for (k, v) in props {
                            self.set_prop(&t, &k, v)?;
                        }
                    }
                }
                SetItem::Labels { variable, labels } => match row.get(variable) {
                    Some(Value::Node(n)) => {
                        let id = n.id as u64;
                        let added = self.tx.write()?.add_labels(id, labels)?;
                        self.stats.labels_added += added as u64;
                    }
                    Some(Value::Null) | None => {}
                    Some(other) => {
                        return Err(targ(format!("cannot set labels on {}", other.type_name())))
                    }
                },
            }
        }
        Ok(row)
    }

    fn set_prop(&mut self, target: &Value, key: &str, v: Value) -> Result<()> {
        match target {
            Value::Null => Ok(()),
            Value::Node(n) => {
                self.tx.write()?.set_node_property(n.id as u64, key, v)?;
                self.stats.properties_set += 1;
                Ok(())
            }
            Value::Relationship(r) => {
                self.tx
                    .write()?
                    .set_relationship_property(r.id as u64, key, v)?;
                self.stats.properties_set += 1;
                Ok(())
            }
            other => Err(targ(format!(
                "cannot set a property on {}",
                other.type_name()
            ))),
        }
    }

    /// REMOVE for one row.
    pub(super) fn remove_row(&mut self, items: &[RemoveItem], row: &Row) -> Result<()> {
        for it in items {
            self.remove_item(it, row)?;
        }
        Ok(())
    }

    fn remove_item(&mut self, it: &RemoveItem, row: &Row) -> Result<()> {
        match it {
            RemoveItem::Property { target, key } => {
                let t = self.ev().eval(target, row)?;
                let has = match &t {
                    Value::Node(n) => self.ev().node_props(n.id)?.contains_key(key),
                    Value::Relationship(r) => self.ev().rel_props(r.id)?.contains_key(key),
                    _ => false,
                };
                if has {
                    self.set_prop(&t, key, Value::Null)?;
                } else if !t.is_null() && !matches!(t, Value::Node(_) | Value::Relationship(_)) {
                    return Err(targ(format!(
                        "cannot remove a property from {}",
                        t.type_name()
                    )));
                }
                Ok(())
            }
            RemoveItem::Labels { variable, labels } => match row.get(variable) {
                Some(Value::Node(n)) => {
                    let id = n.id as u64;
                    let removed = self.tx.write()?.remove_labels(id, labels)?;
                    self.stats.labels_removed += removed as u64;
                    Ok(())
                }
                Some(Value::Null) | None => Ok(()),
                Some(other) => Err(targ(format!(
                    "cannot remove labels from {}",
                    other.type_name()
                ))),
            },
        }
    }

    /// DELETE for one row (what the clause does for all its rows at once).
    pub(super) fn delete_row(&mut self, d: &crate::ast::Delete, row: &Row) -> Result<()> {
        let mut nodes: Vec<NodeId> = Vec::new();
        let mut rels: Vec<RelId> = Vec::new();
        self.deletable(d, row, &mut nodes, &mut rels)?;
        self.delete(nodes, rels, d.detach)
    }

    /// Adds what a DELETE's expressions give for `row` to `nodes` and `rels`.
    fn deletable(
        &self,
        d: &crate::ast::Delete,
        row: &Row,
        nodes: &mut Vec<NodeId>,
        rels: &mut Vec<RelId>,
    ) -> Result<()> {
        for e in &d.exprs {
            collect_deletable(self.ev().eval(e, row)?, nodes, rels)?;
        }
        Ok(())
    }

    fn delete(&mut self, nodes: Vec<NodeId>, rels: Vec<RelId>, detach: bool) -> Result<()> {
        let mut rel_set: Vec<RelId> = Vec::new();
        let mut seen = HashSet::new();
        for r in rels {
            if seen.insert(r) {
                rel_set.push(r);
            }
        }
        if detach {
            for n in &nodes {
                if self.tx.read().node(*n)?.is_none() {
                    continue;
                }
                for e in self.tx.read().expand(*n, ExpandDir::Both, &[])? {
                    if seen.insert(e.rel) {
                        rel_set.push(e.rel);
                    }
                }
            }
        }
        for r in rel_set {
            if self.tx.read().relationship(r)?.is_some() {
                self.tx.write()?.delete_relationship(r)?;
                self.stats.relationships_deleted += 1;
            }
        }
        let mut nseen = HashSet::new();
        for n in nodes {
            if !nseen.insert(n) {
                continue;
            }
            if self.tx.read().node(n)?.is_none() {
                continue;
            }
            if !self.tx.read().expand(n, ExpandDir::Both, &[])?.is_empty() {
                return Err(Error::new(
                    ErrorCode::ConstraintValidationFailed,
                    format!("Cannot delete node<{n}>, because it still has relationships. To delete this node, you must first delete its relationships."),
                )
                .with_detail("DeleteConnectedNode"));
            }
            self.tx.write()?.delete_node(n)?;
            self.stats.nodes_deleted += 1;
        }
        Ok(())
    }

    pub(super) fn foreach(&mut self, f: &Foreach, row: &Row) -> Result<()> {
        let list = self.ev().eval(&f.list, row)?;
        let items = match list {
            Value::Null => return Ok(()),
            Value::List(l) => l,
            other => {
                return Err(targ(format!(
                    "FOREACH expects a list, got {}",
                    other.type_name()
                )))
            }
        };
        for it in items {
            let mut r = row.clone();
            r.insert(f.variable.clone(), it);
            let mut rows = vec![r];
            let mut scope: Vec<String> = rows[0].keys().cloned().collect();
            let mut cols = Vec::new();
            for c in &f.clauses {
                rows = self.clause(c, rows, &mut scope, false, &mut cols)?;
            }
        }
        Ok(())
    }

    fn call(
        &mut self,
        call: &Call,
        rows: Vec<Row>,
        scope: &mut Vec<String>,
        standalone: bool,
        columns: &mut Vec<String>,
    ) -> Result<Vec<Row>> {
        let name = call.procedure.to_ascii_lowercase();
        let (out_fields, table): (Vec<String>, Option<super::eval::TableProcedure>) = {
            let procs = self
                .env
                .procedures
                .read()
                .map_err(|_| Error::internal("procedure registry poisoned"))?;
            match procs.get(&name) {
                Some(p) => (p.outputs.iter().map(|(n, _)| n.clone()).collect(), Some(p.clone())),
                None => match builtin_outputs(&name) {
                    Some(f) => (f.iter().map(|s| s.to_string()).collect(), None),
                    None => {
                        return Err(Error::new(
                            ErrorCode::ProcedureNotFound,
                            format!("There is no procedure with the name `{}` registered for this database instance", call.procedure),
                        )
                        .with_detail("ProcedureNotFound"))
                    }
                },
            }
        };
        let mut out = Vec::new();
        for row in rows {
            // Arguments.
            let args: Vec<Value> = match &call.args {
                Some(a) => a
                    .iter()
                    .map(|e| self.ev().eval(e, &row))
                    .collect::<Result<_>>()?,
                None if !standalone && table.as_ref().is_some_and(|t| !t.inputs.is_empty()) => {
                    return Err(Error::syntax(format!(
                        "procedure {} takes arguments: pass them explicitly, implicit arguments \
                         are only allowed in a standalone CALL",
                        call.procedure
                    ))
                    .with_detail("InvalidArgumentPassingMode"))
                }
                None => match &table {
                    Some(t) => t
                        .inputs
                        .iter()
                        .map(|(n, _)| {
                            self.env.params.get(n).cloned().ok_or_else(|| {
                                Error::new(
                                    ErrorCode::ParameterMissing,
                                    format!("expected parameter ${n}"),
                                )
                                .with_detail("MissingParameter")
                            })
                        })
                        .collect::<Result<_>>()?,
                    None => vec![],
                },
            };
            let results: Vec<Vec<Value>> = match &table {
                Some(t) => {
                    if args.len() != t.inputs.len() {
                        return Err(Error::semantic(format!(
                            "procedure {} takes {} arguments, {} given",
                            call.procedure,
                            t.inputs.len(),
                            args.len()
                        ))
                        .with_detail("InvalidNumberOfArguments"));
                    }
                    for (a, (_, ty)) in args.iter().zip(&t.inputs) {
                        if !type_accepts(ty, a) {
                            // openCypher: a compile-time SyntaxError (InvalidArgumentType).
                            return Err(Error::syntax(format!(
                                "procedure argument of type {} cannot be {}",
                                ty,
                                a.type_name()
                            ))
                            .with_detail("InvalidArgumentType"));
                        }
                    }
                    t.rows
                        .iter()
                        .filter(|r| {
                            args.iter().enumerate().all(|(i, a)| {
                                super::values::equals(r.get(i).unwrap_or(&Value::Null), a)
                                    == Some(true)
                                    || (a.is_null() && r.get(i).is_some_and(|v| v.is_null()))
                            })
                        })
                        .map(|r| r[t.inputs.len().min(r.len())..].to_vec())
                        .collect()
                }
                None => self.builtin(&name, &args)?,
            };
            for res in results {
                let mut r = row.clone();
                let mut ok = true;
                if call.yield_all || (call.yields.is_empty() && standalone) {
                    for (i, f) in out_fields.iter().enumerate() {
                        r.insert(f.clone(), res.get(i).cloned().unwrap_or(Value::Null));
                    }
                } else {
                    for (f, alias) in &call.yields {
                        let Some(i) = out_fields.iter().position(|x| x == f) else {
                            return Err(Error::semantic(format!("unknown procedure output `{f}`"))
                                .with_detail("UndefinedVariable"));
                        };
                        r.insert(
                            alias.clone().unwrap_or_else(|| f.clone()),
                            res.get(i).cloned().unwrap_or(Value::Null),
                        );
                    }
                }
                if let Some(w) = &call.where_ {
                    ok = self.ev().eval(w, &r)? == Value::Bool(true);
                }
                if ok {
                    out.push(r);
                }
            }
            if out_fields.is_empty() && !standalone {
                // Void procedure inside a query: the row passes through (standalone: no rows).
                out.push(row);
            }
        }
        let names: Vec<String> = if call.yield_all || (call.yields.is_empty() && standalone) {
            out_fields.clone()
        } else {
            call.yields
                .iter()
                .map(|(f, a)| a.clone().unwrap_or_else(|| f.clone()))
                .collect()
        };
        for n in &names {
            if !scope.contains(n) {
                scope.push(n.clone());
            }
        }
        if standalone {
            *columns = names;
        }
        Ok(out)
    }

    fn builtin(&self, name: &str, _args: &[Value]) -> Result<Vec<Vec<Value>>> {
        let g = self.tx.read();
        let strings = |v: Vec<String>| -> Vec<Vec<Value>> {
            v.into_iter().map(|s| vec![Value::String(s)]).collect()
        };
        Ok(match name {
            "db.labels" => strings(g.labels()?),
            "db.relationshiptypes" => strings(g.relationship_types()?),
            "db.propertykeys" => strings(g.property_keys()?),
            "dbms.components" => vec![vec![
                Value::String("Neo4j Kernel".into()),
                Value::List(vec![Value::String("5.26.0".into())]),
                Value::String("community".into()),
            ]],
            "db.info" => vec![vec![
                Value::String(self.env.database.clone()),
                Value::String(self.env.database.clone()),
            ]],
            "dbms.info" => vec![vec![
                Value::String("graphward".into()),
                Value::String("graphward".into()),
                Value::String(env!("CARGO_PKG_VERSION").into()),
            ]],
            "db.ping" => vec![vec![Value::Bool(true)]],
            "tx.getmetadata" => vec![vec![Value::Map((*self.env.tx_metadata).clone())]],
            _ => vec![],
        })
    }
}

/// The built-in procedures as `SHOW PROCEDURES` lists them: (name, description).
pub fn builtin_procedures() -> &'static [(&'static str, &'static str)] {
    &[
        ("db.labels", "List all labels in the database."),
        (
            "db.relationshipTypes",
            "List all relationship types in the database.",
        ),
        ("db.propertyKeys", "List all property keys in the database."),
        (
            "dbms.components",
            "List DBMS components and their versions.",
        ),
        ("db.info", "Provides information regarding the database."),
        ("dbms.info", "Provides information regarding the DBMS."),
        ("db.ping", "Checks that the database is available."),
        ("tx.getMetaData", "Provides attached transaction metadata."),
    ]
}

pub(crate) fn builtin_outputs(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "db.labels" => &["label"],
        "db.relationshiptypes" => &["relationshipType"],
        "db.propertykeys" => &["propertyKey"],
        "dbms.components" => &["name", "versions", "edition"],
        "db.info" => &["id", "name"],
        "dbms.info" => &["id", "name", "version"],
        "db.ping" => &["success"],
        "tx.getmetadata" => &["metadata"],
        _ => return None,
    })
}

fn type_accepts(ty: &str, v: &Value) -> bool {
    let t = ty.trim_end_matches('?').to_ascii_uppercase();
    match (t.as_str(), v) {
        (_, Value::Null) => true,
        ("ANY", _) => true,
        ("STRING", Value::String(_)) => true,
        ("INTEGER", Value::Int(_)) => true,
        ("FLOAT", Value::Float(_)) | ("FLOAT", Value::Int(_)) => true,
        ("NUMBER", Value::Int(_) | Value::Float(_)) => true,
        ("BOOLEAN", Value::Bool(_)) => true,
        ("MAP", Value::Map(_)) => true,
        ("NODE", Value::Node(_)) => true,
        ("RELATIONSHIP", Value::Relationship(_)) => true,
        ("PATH", Value::Path(_)) => true,
        (t, Value::List(_)) if t.starts_with("LIST") => true,
        _ => false,
    }
}

fn unreachable_node() -> graphward_core::value::Node {
    graphward_core::value::Node {
        id: -1,
        element_id: String::new(),
        labels: vec![],
        properties: BTreeMap::new(),
    }
}

fn collect_deletable(v: Value, nodes: &mut Vec<NodeId>, rels: &mut Vec<RelId>) -> Result<()> {
    match v {
        Value::Null => Ok(()),
        Value::Node(n) => {
            nodes.push(n.id as u64);
            Ok(())
        }
        Value::Relationship(r) => {
            rels.push(r.id as u64);
            Ok(())
        }
        Value::Path(p) => {
            for r in p.relationships {
                rels.push(r.id as u64);
            }
            for n in p.nodes {
                nodes.push(n.id as u64);
            }
            Ok(())
        }
        Value::List(l) => {
            for x in l {
                collect_deletable(x, nodes, rels)?;
            }
            Ok(())
        }
        other => Err(Error::type_error(format!(
            "DELETE expects a node, relationship or path, got {}",
            other.type_name()
        ))
        .with_detail("InvalidArgumentType")),
    }
}

/// Procedure calls checked at compile time (before any data is touched, so `EXPLAIN` raises
/// the same errors): the procedure exists, the number of explicit arguments matches its
/// signature, literal and parameter arguments have the declared types, and implicit
/// arguments are only used by a standalone CALL whose parameters are all given.
pub fn check_procedure_calls(
    q: &Query,
    procs: &HashMap<String, super::eval::TableProcedure>,
    params: &graphward_core::engine::Params,
) -> Result<()> {
    fn walk(
        cs: &[Clause],
        standalone: bool,
        procs: &HashMap<String, super::eval::TableProcedure>,
        params: &graphward_core::engine::Params,
    ) -> Result<()> {
        for c in cs {
            match c {
                Clause::Call(call) => check_call(call, standalone, procs, params)?,
                Clause::CallSubquery(q)
                | Clause::OptionalCallSubquery(q)
                | Clause::ScopedCallSubquery { query: q, .. } => {
                    for sq in std::iter::once(&q.first).chain(q.unions.iter().map(|(_, s)| s)) {
                        walk(&sq.clauses, false, procs, params)?;
                    }
                }
                Clause::Foreach(f) => walk(&f.clauses, false, procs, params)?,
                Clause::InTransactions { call, .. } => {
                    walk(std::slice::from_ref(&**call), false, procs, params)?
                }
                _ => {}
            }
        }
        Ok(())
    }
    for sq in std::iter::once(&q.first).chain(q.unions.iter().map(|(_, s)| s)) {
        let standalone = q.unions.is_empty() && sq.clauses.len() == 1;
        walk(&sq.clauses, standalone, procs, params)?;
    }
    Ok(())
}

fn check_call(
    call: &Call,
    standalone: bool,
    procs: &HashMap<String, super::eval::TableProcedure>,
    params: &graphward_core::engine::Params,
) -> Result<()> {
    let name = call.procedure.to_ascii_lowercase();
    let Some(t) = procs.get(&name) else {
        if builtin_outputs(&name).is_some() {
            return Ok(());
        }
        return Err(Error::new(
            ErrorCode::ProcedureNotFound,
            format!(
                "There is no procedure with the name `{}` registered for this database instance",
                call.procedure
            ),
        )
        .with_detail("ProcedureNotFound"));
    };
    match &call.args {
        Some(args) => {
            if args.len() != t.inputs.len() {
                return Err(Error::syntax(format!(
                    "Procedure call does not provide the required number of arguments: \
                     procedure {} takes {} argument(s), {} given",
                    call.procedure,
                    t.inputs.len(),
                    args.len()
                ))
                .with_detail("InvalidNumberOfArguments"));
            }
            for (a, (_, ty)) in args.iter().zip(&t.inputs) {
                let known = match a {
                    Expr::Literal(v) => Some(v),
                    Expr::Parameter(p) => params.get(p),
                    _ => None,
                };
                if let Some(v) = known {
                    if !type_accepts(ty, v) {
                        return Err(Error::syntax(format!(
                            "procedure argument of type {} cannot be {}",
                            ty,
                            v.type_name()
                        ))
                        .with_detail("InvalidArgumentType"));
                    }
                }
            }
        }
        None if !standalone && !t.inputs.is_empty() => {
            return Err(Error::syntax(format!(
                "procedure {} takes arguments: pass them explicitly, implicit arguments are \
                 only allowed in a standalone CALL",
                call.procedure
            ))
            .with_detail("InvalidArgumentPassingMode"))
        }
        None => {
            for (n, ty) in &t.inputs {
                match params.get(n) {
                    None => {
                        return Err(Error::new(
                            ErrorCode::ParameterMissing,
                            format!("expected parameter ${n}"),
                        )
                        .with_detail("MissingParameter"))
                    }
                    Some(v) if !type_accepts(ty, v) => {
                        return Err(Error::syntax(format!(
                            "procedure argument ${n} of type {ty} cannot be {}",
                            v.type_name()
                        ))
                        .with_detail("InvalidArgumentType"))
                    }
                    Some(_) => {}
                }
            }
        }
    }
    Ok(())
}

/// Whether a query reads files with `LOAD CSV` (in any part of it).
pub fn has_load_csv(q: &Query) -> bool {
    fn clauses(cs: &[Clause]) -> bool {
        cs.iter().any(|c| match c {
            Clause::LoadCsv(_) => true,
            Clause::Foreach(f) => clauses(&f.clauses),
            Clause::CallSubquery(q)
            | Clause::OptionalCallSubquery(q)
            | Clause::ScopedCallSubquery { query: q, .. } => has_load_csv(q),
            Clause::InTransactions { call, .. } => clauses(std::slice::from_ref(&**call)),
            _ => false,
        })
    }
    q.parts().any(|p| clauses(&p.clauses))
}

pub fn has_updates(q: &Query) -> bool {
    clause_has_updates(&q.first.clauses)
        || q.unions.iter().any(|(_, s)| clause_has_updates(&s.clauses))
}

/// Whether any of `cs` writes (an update clause, or a subquery that has one).
fn clause_has_updates(cs: &[Clause]) -> bool {
    cs.iter().any(|c| match c {
        Clause::Create(_)
        | Clause::Merge(_)
        | Clause::Set(_)
        | Clause::Remove(_)
        | Clause::Delete(_)
        | Clause::Foreach(_) => true,
        Clause::CallSubquery(q)
        | Clause::OptionalCallSubquery(q)
        | Clause::ScopedCallSubquery { query: q, .. } => has_updates(q),
        Clause::InTransactions { call, .. } => clause_has_updates(std::slice::from_ref(&**call)),
        _ => false,
    })
}

#[allow(dead_code)]
fn _expr_unused(_: &Expr) {}
