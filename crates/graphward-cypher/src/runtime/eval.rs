//! Expression evaluation and the scalar function library.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use graphward_core::memory::{QueryMemory, Reservation};

use graphward_core::engine::{CancelToken, Params};
use graphward_core::value::{Map, Node, Path, Point, Relationship};
use graphward_core::{Error, ErrorCode, Result, Value};
use graphward_storage::{GraphRead, NodeId, RelRecord};
use graphward_temporal::{self as temporal, Clock};

use super::values::{self, as_f64, equals, float_string, truthy};
use crate::ast::{
    BaseType, BinaryOp, CypherType, Expr, MapProjectionItem, QuantifierKind, SubqueryKind, UnaryOp,
};

/// One row of bindings.
pub type Row = HashMap<String, Value>;

/// Variable bindings an expression reads: a [`Row`], or a frame of the streaming executor
/// (`plan.rs`), whose slots are looked up by the names of its scope.
/// Variable names with their slots in a frame (an operator's scope).
pub type Slots = [(String, usize)];

pub trait Vars {
    fn var(&self, name: &str) -> Option<&Value>;
    /// The bindings as a row (for the parts of evaluation that extend or hand on a row:
    /// comprehensions, pattern predicates, subqueries).
    fn to_row(&self) -> std::borrow::Cow<'_, Row>;
    /// The slot frame and the scope (name, slot) these bindings are read through, when they
    /// are a frame of the streaming executor (what an operator that resolved its variables
    /// to slots once reads directly).
    fn frame(&self) -> Option<(&[Value], &Slots)> {
        None
    }
}

impl Vars for Row {
    fn var(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
    fn to_row(&self) -> std::borrow::Cow<'_, Row> {
        std::borrow::Cow::Borrowed(self)
    }
}

/// A fixed-table procedure registered for tests (the TCK's "there exists a procedure").
#[derive(Debug, Clone)]
pub struct TableProcedure {
    pub inputs: Vec<(String, String)>,
    pub outputs: Vec<(String, String)>,
    pub rows: Vec<Vec<Value>>,
}

/// What a statement runs with, besides the graph.
pub struct Env {
    /// The statement's parameters (shared with the helpers of a parallel scan).
    pub params: Arc<Params>,
    pub clock: Clock,
    pub cancel: CancelToken,
    pub deadline: Option<Instant>,
    pub database: String,
    pub max_rows: u64,
    /// The query's memory account (see [`MemAccount`]).
    pub mem: MemAccount,
    pub procedures: Arc<std::sync::RwLock<HashMap<String, TableProcedure>>>,
    /// The transaction's metadata from the client (`CALL tx.getMetaData()`).
    pub tx_metadata: Arc<graphward_core::value::Map>,
    /// Where `LOAD CSV` reads files (`None`: LOAD CSV is off).
    pub import_dir: Option<std::path::PathBuf>,
}

impl Env {
    /// The same statement's environment for another thread reading with this one (a
    /// parallel scan's helper): the same parameters (shared, not copied), clock, cancel flag, deadline and
    /// limits, and the same query's memory budget, with its own account of what its
    /// expressions hold meanwhile (the scratch charges of two threads' evaluations are
    /// settled apart).
    pub fn for_worker(&self) -> Env {
        Env {
            params: self.params.clone(),
            clock: self.clock.clone(),
            cancel: self.cancel.clone(),
            deadline: self.deadline,
            database: self.database.clone(),
            max_rows: self.max_rows,
            mem: MemAccount::new(self.mem.query.clone()),
            procedures: self.procedures.clone(),
            tx_metadata: self.tx_metadata.clone(),
            import_dir: self.import_dir.clone(),
        }
    }

    pub fn check(&self) -> Result<()> {
        if self.cancel.is_cancelled() {
            return Err(Error::new(
                ErrorCode::Terminated,
                "the query was terminated (interrupted by the client or the server)",
            ));
        }
        if let Some(d) = self.deadline {
            if Instant::now() > d {
                return Err(Error::new(
                    ErrorCode::TransactionTimedOut,
                    "the query exceeded its time limit and was cancelled",
                ));
            }
        }
        Ok(())
    }

    /// Check an intermediate table against the row limit and charge its memory (an estimate
    /// sampled from up to 16 rows) to the query's account, in place of the table before it
    /// and of the rows charged one by one while it was built.
    pub fn check_table(&self, rows: &[Row]) -> Result<()> {
        self.check_sized(rows, row_size)
    }

    /// [`Env::check_table`] for the buffered frames of the streaming executor (the values of
    /// each row's slots).
    pub fn check_frames(&self, rows: &[Vec<Value>]) -> Result<()> {
        self.check_sized(rows, |f| frame_size(f))
    }

    fn check_sized<T>(&self, rows: &[T], size: impl Fn(&T) -> usize) -> Result<()> {
        self.check_rows(rows.len())?;
        self.mem.building.free();
        if rows.is_empty() {
            self.mem.table.free();
            return Ok(());
        }
        let step = (rows.len() / 16).max(1);
        let (mut sampled, mut bytes) = (0usize, 0usize);
        for r in rows.iter().step_by(step).take(16) {
            sampled += 1;
            bytes = bytes.saturating_add(size(r));
        }
        let estimate = (bytes / sampled.max(1)) as u64 * rows.len() as u64;
        self.mem.table.resize(estimate)
    }

    /// Charge one buffered frame (see [`Env::charge_row`]).
    pub fn charge_frame(&self, frame: &[Value]) -> Result<()> {
        self.mem.building.grow(frame_size(frame) as u64)
    }

    /// Charge one row added to a table being built (released by the next
    /// [`Env::check_table`]).
    pub fn charge_row(&self, row: &Row) -> Result<()> {
        self.mem.building.grow(row_size(row) as u64)
    }

    pub fn check_rows(&self, n: usize) -> Result<()> {
        if n as u64 > self.max_rows {
            return Err(Error::new(
                ErrorCode::ResourceLimit,
                format!(
                    "the query exceeded the limit of {} rows in an intermediate result",
                    self.max_rows
                ),
            ));
        }
        Ok(())
    }
}

/// An evaluator over a read view of the graph.
pub struct Ev<'a> {
    pub g: &'a dyn GraphRead,
    pub env: &'a Env,
    /// One property of the node a read-only scan just produced, read along with its id
    /// (`(node, key, value)`; see `plan.rs`): a read of that property of that node takes it
    /// from here instead of a record lookup. Only the streaming executor, which never
    /// writes, fills it; it holds values of the same snapshot storage would return.
    pub prefetched: std::cell::RefCell<Option<Prefetched>>,
    /// The values of the [`Expr::Once`] expressions evaluated so far, by their ids.
    once: std::cell::RefCell<Vec<(u64, Arc<Value>)>>,
}

/// An [`Expr::Once`] value larger than this is not kept (it is evaluated for each row, as
/// any expression): what the cache holds stays small without being charged.
const ONCE_MAX_BYTES: usize = 64 << 10;
/// At most this many [`Expr::Once`] values are kept per evaluator.
const ONCE_MAX: usize = 16;

/// A node, a property key, and that property's value (`None`: the node has no such property).
pub type Prefetched = (NodeId, Arc<str>, Option<Value>);

/// Whether two names (of a variable, of a property) are equal, compared in line: a call to
/// the C library's `memcmp` costs more than comparing a short name, and rows compare names
/// for every variable and property they read.
#[inline(always)]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Rough heap size of a value, for the memory limit.
pub fn approx_size(v: &Value) -> usize {
    values::measure(v).bytes
}

/// Heap size of a row: its hash table (buckets of `(String, Value)`, at most 7/8 full, at
/// least 4), each key's allocation, and what each value holds beyond its bucket.
pub fn row_size(r: &Row) -> usize {
    const ENTRY: usize = std::mem::size_of::<(String, Value)>() + 1;
    const VALUE: usize = std::mem::size_of::<Value>();
    let n = r.len();
    let buckets = match n {
        0 => 0,
        1..=3 => 4,
        4..=7 => 8,
        _ => (n * 8 / 7 + 1).next_power_of_two(),
    };
    r.iter().fold(48 + buckets * ENTRY + 16, |acc, (k, v)| {
        acc.saturating_add(16 + k.len().next_multiple_of(16))
            .saturating_add(values::measure(v).bytes.saturating_sub(VALUE))
    })
}

/// Heap size of a frame's values: the vector and what each value holds.
pub fn frame_size(f: &[Value]) -> usize {
    f.iter()
        .fold(24, |acc, v| acc.saturating_add(values::measure(v).bytes))
}

/// A query's memory account as the executor uses it: the account itself (shared with the
/// server-wide pool), the current intermediate table, the rows of the table being built,
/// and the values built inside the expression being evaluated.
///
/// Expression values are charged *before* they are allocated where their size is known in
/// advance (string and list concatenation, `range`, `split`, `replace`) and settled to the
/// size of the built value afterwards; loops (comprehensions, `reduce`) settle after each
/// element so temporaries are given back. When the outermost evaluation returns, its
/// charges are released: the value then lives in a row, which the table accounting charges.
pub struct MemAccount {
    pub query: Arc<QueryMemory>,
    pub table: Reservation,
    pub building: Reservation,
    pub scratch: Reservation,
    depth: AtomicUsize,
}

impl MemAccount {
    pub fn new(query: Arc<QueryMemory>) -> MemAccount {
        MemAccount {
            table: Reservation::new(&query),
            building: Reservation::new(&query),
            scratch: Reservation::new(&query),
            query,
            depth: AtomicUsize::new(0),
        }
    }

    /// An account with only a per-query limit (tests, tools).
    pub fn standalone(limit: u64) -> MemAccount {
        MemAccount::new(QueryMemory::standalone(limit))
    }

    /// A new reservation on this query's account (operator state).
    pub fn reservation(&self) -> Reservation {
        Reservation::new(&self.query)
    }

    /// The expression charges so far, to settle back to with [`MemAccount::settle`].
    pub fn mark(&self) -> u64 {
        self.scratch.size()
    }

    /// Charge `n` bytes about to be allocated by an expression.
    pub fn charge(&self, n: usize) -> Result<()> {
        self.scratch.grow(n as u64)
    }

    /// What was charged since `mark` became `extra` bytes (the value kept).
    pub fn settle(&self, mark: u64, extra: u64) -> Result<()> {
        self.scratch.resize(mark.saturating_add(extra))
    }

    /// Settle to `mark` plus the value built, refusing values nested too deep to drop,
    /// compare or send without deep recursion.
    pub fn settle_value(&self, mark: u64, v: &Value) -> Result<()> {
        let m = values::measure(v);
        values::check_depth(m.depth)?;
        self.settle(mark, m.bytes as u64)
    }

    /// Open an evaluation scope: expression charges are released when the outermost scope
    /// is left.
    pub fn enter(&self) {
        self.depth.fetch_add(1, Ordering::Relaxed);
    }

    pub fn leave(&self) {
        if self.depth.fetch_sub(1, Ordering::Relaxed) == 1 && self.scratch.size() > 0 {
            self.scratch.free();
        }
    }
}

pub fn node_ref(id: NodeId) -> Value {
    Value::Node(Box::new(Node {
        id: id as i64,
        element_id: String::new(),
        labels: Vec::new(),
        properties: Map::new(),
    }))
}

pub fn rel_ref(r: &RelRecord) -> Value {
    Value::Relationship(Box::new(Relationship {
        id: r.id as i64,
        element_id: String::new(),
        start: r.src as i64,
        end: r.dst as i64,
        start_element_id: String::new(),
        end_element_id: String::new(),
        rel_type: r.rel_type.clone(),
        properties: Map::new(),
    }))
}

pub fn node_element_id(db: &str, id: i64) -> String {
    format!("4:{db}:{id}")
}

pub fn rel_element_id(db: &str, id: i64) -> String {
    format!("5:{db}:{id}")
}

fn deleted(what: &str, id: i64) -> Error {
    Error::new(
        ErrorCode::EntityNotFound,
        format!("{what} {id} has been deleted"),
    )
    .with_detail("DeletedEntityAccess")
}

fn targ(msg: impl Into<String>) -> Error {
    Error::type_error(msg).with_detail("InvalidArgumentType")
}

/// A conversion or accessor function given a value of a kind it cannot take (openCypher
/// classifies these as `InvalidArgumentValue`).
fn tval(msg: impl Into<String>) -> Error {
    Error::type_error(msg).with_detail("InvalidArgumentValue")
}

/// `range()` arguments: integers only (openCypher: ArgumentError, InvalidArgumentType).
fn range_arg(v: &Value) -> Result<Option<i64>> {
    match v {
        Value::Null => Ok(None),
        Value::Int(i) => Ok(Some(*i)),
        other => Err(Error::argument(format!(
            "range() expects integer arguments, got {}",
            other.type_name()
        ))
        .with_detail("InvalidArgumentType")),
    }
}

fn int_arg(v: &Value, what: &str) -> Result<Option<i64>> {
    match v {
        Value::Null => Ok(None),
        Value::Int(i) => Ok(Some(*i)),
        Value::Float(f) if f.fract() == 0.0 => Ok(Some(*f as i64)),
        other => Err(targ(format!(
            "{what} expects an integer, got {}",
            other.type_name()
        ))),
    }
}

impl<'a> Ev<'a> {
    pub fn new(g: &'a dyn GraphRead, env: &'a Env) -> Self {
        Ev {
            g,
            env,
            prefetched: std::cell::RefCell::new(None),
            once: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// The value of `Expr::Once(inner, id)`: kept from its first evaluation (an error is
    /// not kept: each evaluation gives it again).
    fn once(&self, inner: &Expr, key: u64, row: &dyn Vars) -> Result<Arc<Value>> {
        if let Some((_, v)) = self.once.borrow().iter().find(|(k, _)| *k == key) {
            return Ok(v.clone());
        }
        let v = Arc::new(self.eval_in(inner, row)?);
        let mut kept = self.once.borrow_mut();
        if kept.len() < ONCE_MAX && values::measure(&v).bytes <= ONCE_MAX_BYTES {
            kept.push((key, v.clone()));
        }
        Ok(v)
    }

    // ---- entity access -------------------------------------------------------------

    pub fn node_props(&self, id: i64) -> Result<Map> {
        match self.g.node(id as u64)? {
            Some(n) => Ok(n.properties),
            None => Err(deleted("node", id)),
        }
    }

    pub fn node_labels(&self, id: i64) -> Result<Vec<String>> {
        match self.g.node_labels(id as u64)? {
            Some(l) => Ok(l),
            None => Err(deleted("node", id)),
        }
    }

    /// One property of a node, read by key without decoding the record; a missing node is
    /// told from a missing property only when the property is absent.
    pub fn node_prop(&self, id: i64, key: &str) -> Result<Value> {
        if let Some((pid, pkey, v)) = &*self.prefetched.borrow() {
            if *pid == id as u64 && same_name(pkey, key) {
                return Ok(v.clone().unwrap_or(Value::Null));
            }
        }
        match self.g.node_property(id as u64, key)? {
            Some(v) => Ok(v),
            None if self.g.node_exists(id as u64)? => Ok(Value::Null),
            None => Err(deleted("node", id)),
        }
    }

    /// One property of a relationship, read by key (see [`Ev::node_prop`]).
    pub fn rel_prop(&self, id: i64, key: &str) -> Result<Value> {
        match self.g.relationship_property(id as u64, key)? {
            Some(v) => Ok(v),
            None if self.g.relationship(id as u64)?.is_some() => Ok(Value::Null),
            None => Err(deleted("relationship", id)),
        }
    }

    pub fn rel_props(&self, id: i64) -> Result<Map> {
        match self.g.relationship(id as u64)? {
            Some(r) => Ok(r.properties),
            None => Err(deleted("relationship", id)),
        }
    }

    pub fn property(&self, base: &Value, key: &str) -> Result<Value> {
        match base {
            Value::Null => Ok(Value::Null),
            Value::Node(n) => self.node_prop(n.id, key),
            Value::Relationship(r) => self.rel_prop(r.id, key),
            Value::Map(m) => Ok(m.get(key).cloned().unwrap_or(Value::Null)),
            Value::Point(p) => point_property(p, key),
            other => match temporal::property(other, key) {
                Some(r) => r,
                None => Err(targ(format!(
                    "type mismatch: expected a map, node or relationship but was {}",
                    other.type_name()
                ))),
            },
        }
    }

    /// Replace entity references with full values (labels, properties, element ids).
    pub fn resolve(&self, v: Value) -> Result<Value> {
        let db = &self.env.database;
        Ok(match v {
            Value::Node(n) => match self.g.node(n.id as u64)? {
                Some(rec) => Value::Node(Box::new(Node {
                    id: n.id,
                    element_id: node_element_id(db, n.id),
                    labels: rec.labels,
                    properties: rec.properties,
                })),
                None => Value::Node(Box::new(Node {
                    element_id: node_element_id(db, n.id),
                    ..*n
                })),
            },
            Value::Relationship(r) => {
                let props = match self.g.relationship(r.id as u64)? {
                    Some(rec) => rec.properties,
                    None => Map::new(),
                };
                Value::Relationship(Box::new(Relationship {
                    element_id: rel_element_id(db, r.id),
                    start_element_id: node_element_id(db, r.start),
                    end_element_id: node_element_id(db, r.end),
                    properties: props,
                    ..*r
                }))
            }
            Value::Path(p) => {
                let mut nodes = Vec::with_capacity(p.nodes.len());
                for n in p.nodes {
                    match self.resolve(Value::Node(Box::new(n)))? {
                        Value::Node(n) => nodes.push(*n),
                        _ => return Err(Error::internal("path node did not resolve")),
                    }
                }
                let mut rels = Vec::with_capacity(p.relationships.len());
                for r in p.relationships {
                    match self.resolve(Value::Relationship(Box::new(r)))? {
                        Value::Relationship(r) => rels.push(*r),
                        _ => return Err(Error::internal("path relationship did not resolve")),
                    }
                }
                Value::Path(Path {
                    nodes,
                    relationships: rels,
                })
            }
            Value::List(l) => Value::List(
                l.into_iter()
                    .map(|x| self.resolve(x))
                    .collect::<Result<_>>()?,
            ),
            Value::Map(m) => Value::Map(
                m.into_iter()
                    .map(|(k, x)| Ok((k, self.resolve(x)?)))
                    .collect::<Result<_>>()?,
            ),
            other => other,
        })
    }

    // ---- expressions ---------------------------------------------------------------

    /// Evaluate an expression against a row. The values it builds are charged to the
    /// query's memory account while it runs (see [`MemAccount`]).
    pub fn eval(&self, e: &Expr, row: &Row) -> Result<Value> {
        self.eval_in(e, row)
    }

    /// [`Ev::eval`] against any bindings: a row, or a frame of the streaming executor.
    pub fn eval_in(&self, e: &Expr, row: &dyn Vars) -> Result<Value> {
        let mem = &self.env.mem;
        mem.enter();
        let r = self.eval_expr(e, row);
        mem.leave();
        r
    }

    fn eval_expr(&self, e: &Expr, row: &dyn Vars) -> Result<Value> {
        match e {
            Expr::Literal(v) => Ok(v.clone()),
            Expr::Once(inner, id) => Ok(Arc::unwrap_or_clone(self.once(inner, *id, row)?)),
            Expr::Parameter(p) => match self.env.params.get(p) {
                Some(v) => Ok(v.clone()),
                None => Err(Error::new(
                    ErrorCode::ParameterMissing,
                    format!("expected parameter ${p} to be given"),
                )
                .with_detail("MissingParameter")),
            },
            Expr::Variable(v) => Ok(row.var(v).cloned().unwrap_or(Value::Null)),
            Expr::List(items) => {
                let mark = self.env.mem.mark();
                let v = Value::List(
                    items
                        .iter()
                        .map(|x| self.eval_in(x, row))
                        .collect::<Result<_>>()?,
                );
                self.env.mem.settle_value(mark, &v)?;
                Ok(v)
            }
            Expr::Map(items) => {
                let mark = self.env.mem.mark();
                let mut m = BTreeMap::new();
                for (k, x) in items {
                    m.insert(k.clone(), self.eval_in(x, row)?);
                }
                let v = Value::Map(m);
                self.env.mem.settle_value(mark, &v)?;
                Ok(v)
            }
            // A variable's property is read in place (no copy of the entity reference).
            Expr::Property(base, key) => match &**base {
                Expr::Variable(v) => match row.var(v) {
                    Some(b) => self.property(b, key),
                    None => Ok(Value::Null),
                },
                _ => {
                    let b = self.eval_in(base, row)?;
                    self.property(&b, key)
                }
            },
            Expr::Index(base, idx) => {
                let b = self.eval_in(base, row)?;
                let i = self.eval_in(idx, row)?;
                self.index(&b, &i)
            }
            Expr::Slice(base, from, to) => {
                let b = self.eval_in(base, row)?;
                let f = match from {
                    Some(x) => self.eval_in(x, row)?,
                    None => Value::Int(0),
                };
                let t = match to {
                    Some(x) => self.eval_in(x, row)?,
                    None => Value::Int(i64::MAX),
                };
                slice(&b, &f, &t)
            }
            Expr::Unary(op, x) => {
                let v = self.eval_in(x, row)?;
                match op {
                    UnaryOp::Not => Ok(match truthy(&v)? {
                        Some(b) => Value::Bool(!b),
                        None => Value::Null,
                    }),
                    UnaryOp::Plus => match v {
                        Value::Int(_) | Value::Float(_) | Value::Null | Value::Duration(_) => Ok(v),
                        other => Err(targ(format!(
                            "cannot apply unary + to {}",
                            other.type_name()
                        ))),
                    },
                    UnaryOp::Minus => match v {
                        Value::Int(i) => i.checked_neg().map(Value::Int).ok_or_else(|| {
                            Error::new(ErrorCode::ArithmeticError, "integer overflow")
                        }),
                        Value::Float(f) => Ok(Value::Float(-f)),
                        Value::Null => Ok(Value::Null),
                        other => values::arith('*', &other, &Value::Int(-1)),
                    },
                }
            }
            Expr::Binary(op, l, r) => self.binary(*op, l, r, row),
            Expr::IsNull(x) => Ok(Value::Bool(self.eval_in(x, row)?.is_null())),
            Expr::IsNotNull(x) => Ok(Value::Bool(!self.eval_in(x, row)?.is_null())),
            Expr::HasLabels(x, labels) => match self.eval_in(x, row)? {
                Value::Null => Ok(Value::Null),
                Value::Node(n) => {
                    let have = self.node_labels(n.id)?;
                    Ok(Value::Bool(labels.iter().all(|l| have.contains(l))))
                }
                // `r:T`: the relationship has type T (a relationship has exactly one type).
                Value::Relationship(r) => Ok(Value::Bool(labels.iter().all(|l| *l == r.rel_type))),
                other => Err(targ(format!(
                    "label predicate on {}, expected a node",
                    other.type_name()
                ))),
            },
            // `exists((a)-[:R]->())`: the pattern's truth, not "the argument is not null"
            // (a pattern predicate is never null, so that would be true for every row).
            Expr::FunctionCall { name, args, .. }
                if name.eq_ignore_ascii_case("exists")
                    && matches!(args.as_slice(), [Expr::PatternPredicate(_)]) =>
            {
                self.eval_in(&args[0], row)
            }
            Expr::FunctionCall { name, args, .. } => {
                let mark = self.env.mem.mark();
                let vals = args
                    .iter()
                    .map(|a| self.eval_in(a, row))
                    .collect::<Result<Vec<_>>>()?;
                let v = self.call(name, vals)?;
                self.env.mem.settle_value(mark, &v)?;
                Ok(v)
            }
            Expr::CountStar => Err(Error::semantic("count(*) is only allowed in a projection")
                .with_detail("InvalidAggregation")),
            Expr::Case {
                operand,
                whens,
                else_,
            } => {
                match operand {
                    Some(op) => {
                        let v = self.eval_in(op, row)?;
                        for (w, t) in whens {
                            let wv = self.eval_in(w, row)?;
                            if equals(&v, &wv) == Some(true) {
                                return self.eval_in(t, row);
                            }
                        }
                    }
                    None => {
                        for (w, t) in whens {
                            if let Value::Bool(true) = self.eval_in(w, row)? {
                                return self.eval_in(t, row);
                            }
                        }
                    }
                }
                match else_ {
                    Some(e) => self.eval_in(e, row),
                    None => Ok(Value::Null),
                }
            }
            Expr::ListComprehension {
                variable,
                list,
                predicate,
                projection,
            } => {
                let mem = &self.env.mem;
                let mark = mem.mark();
                let l = self.eval_in(list, row)?;
                let items = match l {
                    Value::Null => return Ok(Value::Null),
                    Value::List(items) => items,
                    other => {
                        return Err(targ(format!("expected a list, got {}", other.type_name())))
                    }
                };
                // The input list stays charged while it is consumed; each element kept is
                // charged as it is added, and the temporaries of its evaluation given back.
                let held = mem.mark().saturating_sub(mark);
                let mut kept = 0u64;
                let mut r = row.to_row().into_owned();
                let mut out = Vec::new();
                for (i, it) in items.into_iter().enumerate() {
                    // Long comprehensions stay cancellable (RESET, time limit).
                    if i % 4096 == 4095 {
                        self.env.check()?;
                    }
                    r.insert(variable.clone(), it.clone());
                    if let Some(p) = predicate {
                        if self.eval_in(p, &r)? != Value::Bool(true) {
                            mem.settle(mark, held + kept)?;
                            continue;
                        }
                    }
                    let v = match projection {
                        Some(p) => self.eval_in(p, &r)?,
                        None => it,
                    };
                    let m = values::measure(&v);
                    values::check_depth(m.depth + 1)?;
                    kept += m.bytes as u64;
                    mem.settle(mark, held + kept)?;
                    out.push(v);
                }
                Ok(Value::List(out))
            }
            Expr::Quantifier {
                kind,
                variable,
                list,
                predicate,
            } => {
                let l = self.eval_in(list, row)?;
                let items = match l {
                    Value::Null => return Ok(Value::Null),
                    Value::List(items) => items,
                    other => {
                        return Err(targ(format!("expected a list, got {}", other.type_name())))
                    }
                };
                let mut r = row.to_row().into_owned();
                let (mut t, mut f, mut n) = (0usize, 0usize, 0usize);
                let mark = self.env.mem.mark();
                for (i, it) in items.into_iter().enumerate() {
                    if i % 4096 == 4095 {
                        self.env.check()?;
                    }
                    r.insert(variable.clone(), it);
                    let v = match predicate {
                        Some(p) => self.eval_in(p, &r)?,
                        None => Value::Bool(true),
                    };
                    self.env.mem.settle(mark, 0)?;
                    match truthy(&v)? {
                        Some(true) => t += 1,
                        Some(false) => f += 1,
                        None => n += 1,
                    }
                }
                Ok(match kind {
                    QuantifierKind::All => {
                        if f > 0 {
                            Value::Bool(false)
                        } else if n > 0 {
                            Value::Null
                        } else {
                            Value::Bool(true)
                        }
                    }
                    QuantifierKind::Any => {
                        if t > 0 {
                            Value::Bool(true)
                        } else if n > 0 {
                            Value::Null
                        } else {
                            Value::Bool(false)
                        }
                    }
                    QuantifierKind::None => {
                        if t > 0 {
                            Value::Bool(false)
                        } else if n > 0 {
                            Value::Null
                        } else {
                            Value::Bool(true)
                        }
                    }
                    QuantifierKind::Single => {
                        if t > 1 {
                            Value::Bool(false)
                        } else if n > 0 {
                            Value::Null
                        } else {
                            Value::Bool(t == 1)
                        }
                    }
                })
            }
            Expr::Reduce {
                accumulator,
                init,
                variable,
                list,
                expr,
            } => {
                let mem = &self.env.mem;
                let list_mark = mem.mark();
                let l = self.eval_in(list, row)?;
                let mark = mem.mark();
                let held = mark.saturating_sub(list_mark);
                let mut acc = self.eval_in(init, row)?;
                let items = match l {
                    Value::Null => return Ok(Value::Null),
                    Value::List(items) => items,
                    other => {
                        return Err(targ(format!("expected a list, got {}", other.type_name())))
                    }
                };
                let mut r = row.to_row().into_owned();
                for (i, it) in items.into_iter().enumerate() {
                    if i % 4096 == 4095 {
                        self.env.check()?;
                    }
                    r.insert(accumulator.clone(), acc);
                    r.insert(variable.clone(), it);
                    acc = self.eval_in(expr, &r)?;
                    // Only the accumulator is kept: the step's temporaries are given back.
                    let m = values::measure(&acc);
                    values::check_depth(m.depth)?;
                    mem.settle(list_mark, held + m.bytes as u64)?;
                }
                Ok(acc)
            }
            Expr::PatternComprehension {
                variable,
                pattern,
                predicate,
                projection,
            } => {
                let part = crate::ast::PatternPart {
                    variable: variable.clone(),
                    shortest: None,
                    element: (**pattern).clone(),
                    span: Default::default(),
                };
                let mem = &self.env.mem;
                let mark = mem.mark();
                let rows = self.match_pattern(std::slice::from_ref(&part), &row.to_row())?;
                let held = mem.mark().saturating_sub(mark);
                let mut kept = 0u64;
                let mut out = Vec::new();
                for r in rows {
                    if let Some(p) = predicate {
                        if self.eval_in(p, &r)? != Value::Bool(true) {
                            continue;
                        }
                    }
                    let v = self.eval_in(projection, &r)?;
                    let m = values::measure(&v);
                    values::check_depth(m.depth + 1)?;
                    kept += m.bytes as u64;
                    mem.settle(mark, held + kept)?;
                    out.push(v);
                }
                Ok(Value::List(out))
            }
            Expr::PatternPredicate(pattern) => {
                let part = crate::ast::PatternPart {
                    variable: None,
                    shortest: None,
                    element: (**pattern).clone(),
                    span: Default::default(),
                };
                let rows = self.match_pattern(std::slice::from_ref(&part), &row.to_row())?;
                Ok(Value::Bool(!rows.is_empty()))
            }
            Expr::ExistsSubquery(q) => {
                let rows = self.run_read_query(q, &row.to_row())?;
                Ok(Value::Bool(!rows.is_empty()))
            }
            Expr::ValueSubquery(kind, q) => {
                let (cols, rows) = self.run_subquery(q, &row.to_row())?;
                match kind {
                    SubqueryKind::Count => Ok(Value::Int(rows.len() as i64)),
                    SubqueryKind::Collect => {
                        let Some(c) = cols.first() else {
                            return Err(Error::syntax(
                                "A COLLECT subquery must end with a RETURN of one column",
                            )
                            .with_detail("InvalidClauseComposition"));
                        };
                        let v = Value::List(
                            rows.into_iter()
                                .map(|r| r.get(c).cloned().unwrap_or(Value::Null))
                                .collect(),
                        );
                        self.env.mem.settle_value(self.env.mem.mark(), &v)?;
                        Ok(v)
                    }
                }
            }
            Expr::LabelCheck(x, le) => match self.eval_in(x, row)? {
                Value::Null => Ok(Value::Null),
                Value::Node(n) => Ok(Value::Bool(le.matches(&self.node_labels(n.id)?))),
                Value::Relationship(r) => Ok(Value::Bool(le.matches(&[r.rel_type]))),
                other => Err(targ(format!(
                    "label expression on {}, expected a node or relationship",
                    other.type_name()
                ))),
            },
            Expr::IsType(x, ty, negated) => {
                let v = self.eval_in(x, row)?;
                Ok(Value::Bool(is_of_type(&v, ty) != *negated))
            }
            Expr::MapProjection(base, items) => {
                let b = self.eval_in(base, row)?;
                if b.is_null() {
                    return Ok(Value::Null);
                }
                let mark = self.env.mem.mark();
                let mut m = BTreeMap::new();
                for it in items {
                    match it {
                        MapProjectionItem::Property(k) => {
                            m.insert(k.clone(), self.property(&b, k)?);
                        }
                        MapProjectionItem::AllProperties => {
                            let all = match &b {
                                Value::Node(n) => self.node_props(n.id)?,
                                Value::Relationship(r) => self.rel_props(r.id)?,
                                Value::Map(mm) => mm.clone(),
                                other => {
                                    return Err(targ(format!(
                                        "map projection on {}",
                                        other.type_name()
                                    )))
                                }
                            };
                            m.extend(all);
                        }
                        MapProjectionItem::Literal(k, x) => {
                            m.insert(k.clone(), self.eval_in(x, row)?);
                        }
                        MapProjectionItem::Variable(v) => {
                            m.insert(v.clone(), row.var(v).cloned().unwrap_or(Value::Null));
                        }
                    }
                }
                let v = Value::Map(m);
                self.env.mem.settle_value(mark, &v)?;
                Ok(v)
            }
        }
    }

    fn binary(&self, op: BinaryOp, l: &Expr, r: &Expr, row: &dyn Vars) -> Result<Value> {
        use BinaryOp::*;
        match op {
            And | Or | Xor => {
                let a = truthy(&self.eval_in(l, row)?)?;
                // Short-circuit where the result is already decided.
                match (op, a) {
                    (And, Some(false)) => return Ok(Value::Bool(false)),
                    (Or, Some(true)) => return Ok(Value::Bool(true)),
                    _ => {}
                }
                let b = truthy(&self.eval_in(r, row)?)?;
                let res = match op {
                    And => match (a, b) {
                        (Some(false), _) | (_, Some(false)) => Some(false),
                        (Some(true), Some(true)) => Some(true),
                        _ => None,
                    },
                    Or => match (a, b) {
                        (Some(true), _) | (_, Some(true)) => Some(true),
                        (Some(false), Some(false)) => Some(false),
                        _ => None,
                    },
                    _ => match (a, b) {
                        (Some(x), Some(y)) => Some(x != y),
                        _ => None,
                    },
                };
                Ok(res.map(Value::Bool).unwrap_or(Value::Null))
            }
            _ => {
                let mark = self.env.mem.mark();
                // A literal operand is read in place (`n.id IN [1, 2, 3]` copied its list
                // for every row).
                let (a_val, b_val, a_once, b_once);
                let a = match l {
                    Expr::Literal(v) => v,
                    Expr::Once(inner, id) => {
                        a_once = self.once(inner, *id, row)?;
                        &*a_once
                    }
                    _ => {
                        a_val = self.eval_in(l, row)?;
                        &a_val
                    }
                };
                let b = match r {
                    Expr::Literal(v) => v,
                    Expr::Once(inner, id) => {
                        b_once = self.once(inner, *id, row)?;
                        &*b_once
                    }
                    _ => {
                        b_val = self.eval_in(r, row)?;
                        &b_val
                    }
                };
                // `+` and `||` of strings and lists build a new value as large as both:
                // charged before it is allocated.
                let builds = matches!(op, Add | Concat)
                    && (matches!(a, Value::String(_) | Value::List(_))
                        || matches!(b, Value::String(_) | Value::List(_)));
                if !builds {
                    return binary_values(op, a, b);
                }
                let (ma, mb) = (values::measure(a), values::measure(b));
                values::check_depth(ma.depth.max(mb.depth) + 1)?;
                self.env.mem.charge(ma.bytes.saturating_add(mb.bytes))?;
                let v = binary_values(op, a, b)?;
                self.env.mem.settle_value(mark, &v)?;
                Ok(v)
            }
        }
    }

    fn index(&self, b: &Value, i: &Value) -> Result<Value> {
        match (b, i) {
            (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
            (Value::List(l), Value::Int(idx)) => {
                let n = l.len() as i64;
                let k = if *idx < 0 { n + idx } else { *idx };
                if k < 0 || k >= n {
                    Ok(Value::Null)
                } else {
                    Ok(l[k as usize].clone())
                }
            }
            (Value::List(_), other) => Err(targ(format!(
                "list index must be an integer, got {}",
                other.type_name()
            ))),
            (Value::Map(_) | Value::Node(_) | Value::Relationship(_), Value::String(k)) => {
                self.property(b, k)
            }
            (Value::Map(_) | Value::Node(_) | Value::Relationship(_), other) => {
                Err(Error::type_error(format!(
                    "map key must be a string, got {}",
                    other.type_name()
                ))
                .with_detail("MapElementAccessByNonString"))
            }
            (other, _) => Err(targ(format!("cannot index into {}", other.type_name()))),
        }
    }

    // ---- functions -----------------------------------------------------------------

    pub fn call(&self, name: &str, args: Vec<Value>) -> Result<Value> {
        let lname = name.to_ascii_lowercase();
        if let Some(r) = temporal::call(&lname, &args, &self.env.clock) {
            return r;
        }
        let a0 = args.first().cloned().unwrap_or(Value::Null);
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Null);
        let num1 = |f: fn(f64) -> f64| -> Result<Value> {
            match &a0 {
                Value::Null => Ok(Value::Null),
                v => match as_f64(v) {
                    Some(x) => Ok(Value::Float(f(x))),
                    None => Err(targ(format!(
                        "{name} expects a number, got {}",
                        v.type_name()
                    ))),
                },
            }
        };
        match lname.as_str() {
            "id" => match a0 {
                Value::Node(n) => Ok(Value::Int(n.id)),
                Value::Relationship(r) => Ok(Value::Int(r.id)),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "id() expects a node or relationship, got {}",
                    o.type_name()
                ))),
            },
            "elementid" => match a0 {
                Value::Node(n) => Ok(Value::String(node_element_id(&self.env.database, n.id))),
                Value::Relationship(r) => {
                    Ok(Value::String(rel_element_id(&self.env.database, r.id)))
                }
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "elementId() expects a node or relationship, got {}",
                    o.type_name()
                ))),
            },
            "labels" => match a0 {
                Value::Node(n) => Ok(Value::List(
                    self.node_labels(n.id)?
                        .into_iter()
                        .map(Value::String)
                        .collect(),
                )),
                Value::Null => Ok(Value::Null),
                o => Err(tval(format!(
                    "labels() expects a node, got {}",
                    o.type_name()
                ))),
            },
            "type" => match a0 {
                Value::Relationship(r) => Ok(Value::String(r.rel_type)),
                Value::Null => Ok(Value::Null),
                o => Err(tval(format!(
                    "type() expects a relationship, got {}",
                    o.type_name()
                ))),
            },
            "properties" => match a0 {
                Value::Node(n) => Ok(Value::Map(self.node_props(n.id)?)),
                Value::Relationship(r) => Ok(Value::Map(self.rel_props(r.id)?)),
                Value::Map(m) => Ok(Value::Map(m)),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "properties() expects a node, relationship or map, got {}",
                    o.type_name()
                ))),
            },
            "keys" => match a0 {
                Value::Node(n) => Ok(Value::List(
                    self.node_props(n.id)?
                        .into_keys()
                        .map(Value::String)
                        .collect(),
                )),
                Value::Relationship(r) => Ok(Value::List(
                    self.rel_props(r.id)?
                        .into_keys()
                        .map(Value::String)
                        .collect(),
                )),
                Value::Map(m) => Ok(Value::List(m.into_keys().map(Value::String).collect())),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "keys() expects a node, relationship or map, got {}",
                    o.type_name()
                ))),
            },
            "startnode" | "endnode" => match a0 {
                Value::Relationship(r) => Ok(node_ref(if lname == "startnode" {
                    r.start as u64
                } else {
                    r.end as u64
                })),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "{name}() expects a relationship, got {}",
                    o.type_name()
                ))),
            },
            "nodes" => match a0 {
                Value::Path(p) => Ok(Value::List(
                    p.nodes
                        .into_iter()
                        .map(|n| Value::Node(Box::new(n)))
                        .collect(),
                )),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "nodes() expects a path, got {}",
                    o.type_name()
                ))),
            },
            "relationships" => match a0 {
                Value::Path(p) => Ok(Value::List(
                    p.relationships
                        .into_iter()
                        .map(|r| Value::Relationship(Box::new(r)))
                        .collect(),
                )),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "relationships() expects a path, got {}",
                    o.type_name()
                ))),
            },
            "length" => match a0 {
                Value::Path(p) => Ok(Value::Int(p.relationships.len() as i64)),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "length() expects a path, got {}",
                    o.type_name()
                ))),
            },
            "size" => match a0 {
                Value::List(l) => Ok(Value::Int(l.len() as i64)),
                Value::String(s) => Ok(Value::Int(s.chars().count() as i64)),
                Value::Map(m) => Ok(Value::Int(m.len() as i64)),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "size() expects a list or string, got {}",
                    o.type_name()
                ))),
            },
            "isempty" => match a0 {
                Value::List(l) => Ok(Value::Bool(l.is_empty())),
                Value::String(s) => Ok(Value::Bool(s.is_empty())),
                Value::Map(m) => Ok(Value::Bool(m.is_empty())),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "isEmpty() expects a list, string or map, got {}",
                    o.type_name()
                ))),
            },
            "head" | "last" => match a0 {
                Value::List(mut l) => Ok(if lname == "head" {
                    if l.is_empty() {
                        Value::Null
                    } else {
                        l.swap_remove(0)
                    }
                } else {
                    l.pop().unwrap_or(Value::Null)
                }),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "{name}() expects a list, got {}",
                    o.type_name()
                ))),
            },
            "tail" => match a0 {
                Value::List(l) => Ok(Value::List(l.into_iter().skip(1).collect())),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "tail() expects a list, got {}",
                    o.type_name()
                ))),
            },
            "reverse" => match a0 {
                Value::List(mut l) => {
                    l.reverse();
                    Ok(Value::List(l))
                }
                Value::String(s) => Ok(Value::String(s.chars().rev().collect())),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "reverse() expects a list or string, got {}",
                    o.type_name()
                ))),
            },
            "range" => {
                let start = range_arg(&a0)?;
                let end = range_arg(&arg(1))?;
                let step = if args.len() > 2 {
                    range_arg(&arg(2))?
                } else {
                    Some(1)
                };
                let (Some(start), Some(end), Some(step)) = (start, end, step) else {
                    return Err(targ("range() arguments must not be null"));
                };
                if step == 0 {
                    return Err(Error::argument("range() step must not be zero")
                        .with_detail("NumberOutOfRange"));
                }
                // Charged before it is built: the number of elements is known.
                let span = (end as i128 - start as i128) / step as i128;
                let count = if span < 0 { 0 } else { span + 1 };
                let bytes = count.saturating_mul(std::mem::size_of::<Value>() as i128);
                self.env
                    .mem
                    .charge(usize::try_from(bytes).unwrap_or(usize::MAX))?;
                let mut out = Vec::new();
                let mut i = start;
                while (step > 0 && i <= end) || (step < 0 && i >= end) {
                    out.push(Value::Int(i));
                    if out.len() % 4096 == 0 {
                        self.env.check()?;
                        self.env.check_rows(out.len())?;
                    }
                    match i.checked_add(step) {
                        Some(n) => i = n,
                        None => break,
                    }
                }
                Ok(Value::List(out))
            }
            "coalesce" => Ok(args
                .into_iter()
                .find(|v| !v.is_null())
                .unwrap_or(Value::Null)),
            "tointeger" => to_integer(a0, OnFailure::Error),
            "tointegerornull" => to_integer(a0, OnFailure::Null),
            "tofloat" => to_float(a0, OnFailure::Error),
            "tofloatornull" => to_float(a0, OnFailure::Null),
            "toboolean" => to_boolean(a0, OnFailure::Error),
            "tobooleanornull" => to_boolean(a0, OnFailure::Null),
            "tostring" => to_string_value(a0, OnFailure::Error),
            "tostringornull" => to_string_value(a0, OnFailure::Null),
            "abs" => match a0 {
                Value::Int(i) => i
                    .checked_abs()
                    .map(Value::Int)
                    .ok_or_else(|| Error::new(ErrorCode::ArithmeticError, "integer overflow")),
                Value::Float(f) => Ok(Value::Float(f.abs())),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "abs() expects a number, got {}",
                    o.type_name()
                ))),
            },
            "sign" => match a0 {
                Value::Int(i) => Ok(Value::Int(i.signum())),
                Value::Float(f) => Ok(Value::Int(if f > 0.0 {
                    1
                } else if f < 0.0 {
                    -1
                } else {
                    0
                })),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "sign() expects a number, got {}",
                    o.type_name()
                ))),
            },
            "ceil" => num1(f64::ceil),
            "floor" => num1(f64::floor),
            "round" => {
                if a0.is_null() {
                    return Ok(Value::Null);
                }
                let x = as_f64(&a0).ok_or_else(|| targ("round() expects a number"))?;
                if args.len() >= 2 {
                    let Some(p) = int_arg(&arg(1), "round")? else {
                        return Ok(Value::Null);
                    };
                    let mode = match args.get(2) {
                        None => RoundMode::HalfUp,
                        Some(Value::Null) => return Ok(Value::Null),
                        Some(Value::String(m)) => RoundMode::parse(m)?,
                        Some(o) => {
                            return Err(targ(format!(
                                "round() expects a rounding mode string, got {}",
                                o.type_name()
                            )))
                        }
                    };
                    round_decimal(x, p, mode).map(Value::Float)
                } else {
                    Ok(Value::Float((x + 0.5).floor()))
                }
            }
            "sqrt" => num1(f64::sqrt),
            "exp" => num1(f64::exp),
            "log" => num1(f64::ln),
            "log10" => num1(f64::log10),
            "sin" => num1(f64::sin),
            "cos" => num1(f64::cos),
            "tan" => num1(f64::tan),
            "asin" => num1(f64::asin),
            "acos" => num1(f64::acos),
            "atan" => num1(f64::atan),
            "cot" => num1(|x| 1.0 / x.tan()),
            "degrees" => num1(f64::to_degrees),
            "radians" => num1(f64::to_radians),
            "haversin" => num1(|x| (1.0 - x.cos()) / 2.0),
            "atan2" => match (as_f64(&a0), as_f64(&arg(1))) {
                (Some(y), Some(x)) => Ok(Value::Float(y.atan2(x))),
                _ => Ok(Value::Null),
            },
            "pi" => Ok(Value::Float(std::f64::consts::PI)),
            "e" => Ok(Value::Float(std::f64::consts::E)),
            "rand" => {
                use std::hash::{BuildHasher, Hasher};
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_u64(self.env.clock.now.nanos as u64);
                Ok(Value::Float(
                    (h.finish() >> 11) as f64 / (1u64 << 53) as f64,
                ))
            }
            "timestamp" => Ok(Value::Int(
                self.env.clock.now.seconds * 1000 + (self.env.clock.now.nanos / 1_000_000) as i64,
            )),
            "trim" | "ltrim" | "rtrim" | "btrim" if args.len() == 2 => match (a0, arg(1)) {
                (Value::String(s), Value::String(chars)) => {
                    let set = |c: char| chars.contains(c);
                    Ok(Value::String(match lname.as_str() {
                        "ltrim" => s.trim_start_matches(set).to_string(),
                        "rtrim" => s.trim_end_matches(set).to_string(),
                        _ => s.trim_matches(set).to_string(),
                    }))
                }
                (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
                (a, b) => Err(targ(format!(
                    "{name}() expects two strings, got {} and {}",
                    a.type_name(),
                    b.type_name()
                ))),
            },
            "toupper" | "upper" | "tolower" | "lower" | "trim" | "ltrim" | "rtrim" | "btrim" => {
                match a0 {
                    Value::String(s) => Ok(Value::String(match lname.as_str() {
                        "toupper" | "upper" => s.to_uppercase(),
                        "tolower" | "lower" => s.to_lowercase(),
                        "trim" | "btrim" => s.trim().to_string(),
                        "ltrim" => s.trim_start().to_string(),
                        _ => s.trim_end().to_string(),
                    })),
                    Value::Null => Ok(Value::Null),
                    o => Err(targ(format!(
                        "{name}() expects a string, got {}",
                        o.type_name()
                    ))),
                }
            }
            "replace" => match (a0, arg(1), arg(2)) {
                (Value::String(s), Value::String(f), Value::String(t)) => {
                    // Charged before it is built: the result can be much longer than `s`.
                    let hits = if f.is_empty() {
                        s.chars().count() + 1
                    } else {
                        s.matches(f.as_str()).count()
                    };
                    self.env
                        .mem
                        .charge(hits.saturating_mul(t.len()).saturating_add(s.len()))?;
                    Ok(Value::String(s.replace(&f, &t)))
                }
                (Value::Null, _, _) | (_, Value::Null, _) | (_, _, Value::Null) => Ok(Value::Null),
                _ => Err(targ("replace() expects strings")),
            },
            "substring" => {
                match a0 {
                    Value::Null => Ok(Value::Null),
                    Value::String(s) => {
                        let start = int_arg(&arg(1), "substring")?.unwrap_or(0);
                        if start < 0 {
                            return Err(Error::argument("negative start index")
                                .with_detail("NumberOutOfRange"));
                        }
                        let chars: Vec<char> = s.chars().collect();
                        let st = (start as usize).min(chars.len());
                        let len = if args.len() > 2 {
                            let l = int_arg(&arg(2), "substring")?.unwrap_or(0);
                            if l < 0 {
                                return Err(Error::argument("negative length")
                                    .with_detail("NumberOutOfRange"));
                            }
                            l as usize
                        } else {
                            chars.len()
                        };
                        Ok(Value::String(chars[st..].iter().take(len).collect()))
                    }
                    o => Err(targ(format!(
                        "substring() expects a string, got {}",
                        o.type_name()
                    ))),
                }
            }
            "left" | "right" => match a0 {
                Value::Null => Ok(Value::Null),
                Value::String(s) => {
                    let n = match int_arg(&arg(1), &lname)? {
                        Some(n) if n >= 0 => n as usize,
                        Some(_) => {
                            return Err(
                                Error::argument("negative length").with_detail("NumberOutOfRange")
                            )
                        }
                        None => {
                            return Err(Error::argument("length must not be null")
                                .with_detail("NumberOutOfRange"))
                        }
                    };
                    let chars: Vec<char> = s.chars().collect();
                    Ok(Value::String(if lname == "left" {
                        chars.iter().take(n).collect()
                    } else {
                        chars[chars.len().saturating_sub(n)..].iter().collect()
                    }))
                }
                o => Err(targ(format!(
                    "{name}() expects a string, got {}",
                    o.type_name()
                ))),
            },
            "split" => match (a0, arg(1)) {
                (Value::String(s), Value::String(d)) => Ok(Value::List(if d.is_empty() {
                    self.env.mem.charge(
                        s.chars()
                            .count()
                            .saturating_mul(std::mem::size_of::<Value>() + 4),
                    )?;
                    s.chars().map(|c| Value::String(c.to_string())).collect()
                } else {
                    self.env.mem.charge(
                        (s.matches(d.as_str()).count() + 1)
                            .saturating_mul(std::mem::size_of::<Value>())
                            .saturating_add(s.len()),
                    )?;
                    s.split(d.as_str())
                        .map(|x| Value::String(x.to_string()))
                        .collect()
                })),
                (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
                _ => Err(targ("split() expects strings")),
            },
            "exists" => Ok(Value::Bool(!a0.is_null())),
            "randomuuid" => {
                use std::hash::{BuildHasher, Hasher};
                let s = std::collections::hash_map::RandomState::new();
                let mut h1 = s.build_hasher();
                h1.write_u8(1);
                let mut h2 = s.build_hasher();
                h2.write_u8(2);
                let (a, b) = (h1.finish(), h2.finish());
                Ok(Value::String(format!(
                    "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                    a >> 32,
                    (a >> 16) & 0xffff,
                    a & 0xfff,
                    b >> 52,
                    b & 0xffff_ffff_ffff
                )))
            }
            "tostringlist" => convert_list(name, a0, to_string_value),
            "tointegerlist" => convert_list(name, a0, to_integer),
            "tofloatlist" => convert_list(name, a0, to_float),
            "tobooleanlist" => convert_list(name, a0, to_boolean),
            "valuetype" => Ok(Value::String(value_type(&a0))),
            "point" => match a0 {
                Value::Null => Ok(Value::Null),
                Value::Map(m) => make_point(&m),
                o => Err(targ(format!(
                    "point() expects a map, got {}",
                    o.type_name()
                ))),
            },
            "distance" | "point.distance" => match (a0, arg(1)) {
                (Value::Point(a), Value::Point(b)) => point_distance(&a, &b),
                (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
                (a, b) => Err(targ(format!(
                    "point.distance() expects two points, got {} and {}",
                    a.type_name(),
                    b.type_name()
                ))),
            },
            "point.withinbbox" => match (a0, arg(1), arg(2)) {
                (Value::Point(p), Value::Point(ll), Value::Point(ur)) => {
                    if p.srid != ll.srid || p.srid != ur.srid {
                        return Ok(Value::Null);
                    }
                    // A geographic box whose lower-left longitude is east of its upper-right
                    // one crosses the antimeridian.
                    let in_x = if matches!(p.srid, 4326 | 4979) && ll.x > ur.x {
                        p.x >= ll.x || p.x <= ur.x
                    } else {
                        ll.x <= p.x && p.x <= ur.x
                    };
                    Ok(Value::Bool(in_x && ll.y <= p.y && p.y <= ur.y))
                }
                (Value::Null, _, _) | (_, Value::Null, _) | (_, _, Value::Null) => Ok(Value::Null),
                _ => Err(targ("point.withinBBox() expects three points")),
            },
            "isnan" => match a0 {
                Value::Float(f) => Ok(Value::Bool(f.is_nan())),
                Value::Int(_) => Ok(Value::Bool(false)),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "isNaN() expects a number, got {}",
                    o.type_name()
                ))),
            },
            "nullif" => {
                let b = arg(1);
                Ok(if equals(&a0, &b) == Some(true) {
                    Value::Null
                } else {
                    a0
                })
            }
            "char_length" | "character_length" => match a0 {
                Value::String(s) => Ok(Value::Int(s.chars().count() as i64)),
                Value::Null => Ok(Value::Null),
                o => Err(targ(format!(
                    "{name}() expects a string, got {}",
                    o.type_name()
                ))),
            },
            _ => {
                Err(Error::syntax(format!("Unknown function '{name}'"))
                    .with_detail("UnknownFunction"))
            }
        }
    }
}

/// What a conversion function does with a value of a type it cannot convert: `toInteger()`
/// fails, `toIntegerOrNull()` (and the list forms, element by element) give null.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnFailure {
    Error,
    Null,
}

fn to_integer(v: Value, on: OnFailure) -> Result<Value> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::Int(i) => Ok(Value::Int(i)),
        Value::Float(f) => {
            if f.is_finite() && f.abs() < 9.2e18 {
                Ok(Value::Int(f.trunc() as i64))
            } else if on == OnFailure::Null {
                Ok(Value::Null)
            } else {
                Err(Error::argument("float out of integer range").with_detail("NumberOutOfRange"))
            }
        }
        Value::Bool(b) => Ok(Value::Int(b as i64)),
        Value::String(s) => Ok(parse_int_string(&s).map(Value::Int).unwrap_or(Value::Null)),
        o => match on {
            OnFailure::Null => Ok(Value::Null),
            OnFailure::Error => Err(tval(format!(
                "toInteger() cannot convert {}",
                o.type_name()
            ))),
        },
    }
}

fn to_float(v: Value, on: OnFailure) -> Result<Value> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::Int(i) => Ok(Value::Float(i as f64)),
        Value::Float(f) => Ok(Value::Float(f)),
        Value::String(s) => Ok(s
            .trim()
            .parse::<f64>()
            .map(Value::Float)
            .unwrap_or(Value::Null)),
        o => match on {
            OnFailure::Null => Ok(Value::Null),
            OnFailure::Error => Err(tval(format!("toFloat() cannot convert {}", o.type_name()))),
        },
    }
}

fn to_boolean(v: Value, on: OnFailure) -> Result<Value> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::Bool(b) => Ok(Value::Bool(b)),
        Value::String(s) => Ok(match s.trim().to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::Null,
        }),
        Value::Int(i) => Ok(Value::Bool(i != 0)),
        o => match on {
            OnFailure::Null => Ok(Value::Null),
            OnFailure::Error => Err(tval(format!(
                "toBoolean() cannot convert {}",
                o.type_name()
            ))),
        },
    }
}

fn to_string_value(v: Value, on: OnFailure) -> Result<Value> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::String(s) => Ok(Value::String(s)),
        Value::Int(i) => Ok(Value::String(i.to_string())),
        Value::Float(f) => Ok(Value::String(float_string(f))),
        Value::Bool(b) => Ok(Value::String(b.to_string())),
        o => match temporal::to_string(&o) {
            Some(s) => Ok(Value::String(s)),
            None => match on {
                OnFailure::Null => Ok(Value::Null),
                OnFailure::Error => {
                    Err(tval(format!("toString() cannot convert {}", o.type_name())))
                }
            },
        },
    }
}

/// `toStringList()`, `toIntegerList()` ...: the `...OrNull` conversion of every element.
fn convert_list(
    name: &str,
    v: Value,
    convert: fn(Value, OnFailure) -> Result<Value>,
) -> Result<Value> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::List(l) => Ok(Value::List(
            l.into_iter()
                .map(|x| convert(x, OnFailure::Null))
                .collect::<Result<_>>()?,
        )),
        o => Err(targ(format!(
            "{name}() expects a list, got {}",
            o.type_name()
        ))),
    }
}

fn parse_int_string(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(i);
    }
    t.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && f.abs() < 9.2e18)
        .map(|f| f.trunc() as i64)
}

pub fn binary_values(op: BinaryOp, a: &Value, b: &Value) -> Result<Value> {
    use BinaryOp::*;
    let cmp_res = |f: fn(std::cmp::Ordering) -> bool| -> Value {
        match values::compare(a, b) {
            Some(o) => Value::Bool(f(o)),
            // Numbers where one is NaN: comparable kinds, but no order holds.
            None if matches!(a, Value::Int(_) | Value::Float(_))
                && matches!(b, Value::Int(_) | Value::Float(_)) =>
            {
                Value::Bool(false)
            }
            None => Value::Null,
        }
    };
    Ok(match op {
        Eq => equals(a, b).map(Value::Bool).unwrap_or(Value::Null),
        Ne => equals(a, b).map(|x| Value::Bool(!x)).unwrap_or(Value::Null),
        Lt => cmp_res(|o| o.is_lt()),
        Le => cmp_res(|o| o.is_le()),
        Gt => cmp_res(|o| o.is_gt()),
        Ge => cmp_res(|o| o.is_ge()),
        Add => values::arith('+', a, b)?,
        Sub => values::arith('-', a, b)?,
        Mul => values::arith('*', a, b)?,
        Div => values::arith('/', a, b)?,
        Mod => values::arith('%', a, b)?,
        Pow => values::arith('^', a, b)?,
        Concat => match (a, b) {
            (Value::Null, _) | (_, Value::Null) => Value::Null,
            (Value::String(x), Value::String(y)) => {
                let mut s = String::with_capacity(x.len() + y.len());
                s.push_str(x);
                s.push_str(y);
                Value::String(s)
            }
            (Value::List(x), Value::List(y)) => {
                Value::List(x.iter().chain(y.iter()).cloned().collect())
            }
            (x, y) => {
                return Err(targ(format!(
                    "|| concatenates two strings or two lists, got {} and {}",
                    x.type_name(),
                    y.type_name()
                )))
            }
        },
        In => match b {
            Value::Null => Value::Null,
            Value::List(l) => {
                let mut unknown = false;
                for x in l {
                    match equals(a, x) {
                        Some(true) => return Ok(Value::Bool(true)),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                if unknown {
                    Value::Null
                } else {
                    Value::Bool(false)
                }
            }
            other => {
                return Err(targ(format!(
                    "IN expects a list, got {}",
                    other.type_name()
                )))
            }
        },
        StartsWith | EndsWith | Contains => match (a, b) {
            (Value::String(x), Value::String(y)) => Value::Bool(match op {
                StartsWith => x.starts_with(y.as_str()),
                EndsWith => x.ends_with(y.as_str()),
                _ => x.contains(y.as_str()),
            }),
            _ => Value::Null,
        },
        RegexMatch => match (a, b) {
            (Value::String(x), Value::String(p)) => {
                let re = regex::Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                    Error::argument(format!("invalid regular expression: {e}"))
                        .with_detail("InvalidArgumentValue")
                })?;
                Value::Bool(re.is_match(x))
            }
            _ => Value::Null,
        },
        And | Or | Xor => return Err(Error::internal("boolean operator evaluated eagerly")),
    })
}

fn slice(b: &Value, f: &Value, t: &Value) -> Result<Value> {
    match b {
        Value::Null => Ok(Value::Null),
        Value::List(l) => {
            let n = l.len() as i64;
            let norm = |v: &Value, default: i64| -> Result<Option<i64>> {
                match v {
                    Value::Null => Ok(None),
                    Value::Int(i) => {
                        let k = if *i < 0 { n + i } else { *i };
                        Ok(Some(k.clamp(0, n)))
                    }
                    other => {
                        let _ = default;
                        Err(targ(format!(
                            "slice bound must be an integer, got {}",
                            other.type_name()
                        )))
                    }
                }
            };
            let (Some(s), Some(e)) = (norm(f, 0)?, norm(t, n)?) else {
                return Ok(Value::Null);
            };
            if s >= e {
                return Ok(Value::List(vec![]));
            }
            Ok(Value::List(l[s as usize..e as usize].to_vec()))
        }
        other => Err(targ(format!("cannot slice {}", other.type_name()))),
    }
}

/// `round(x, precision, mode)`'s rounding modes (Java's `RoundingMode`, as Neo4j takes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RoundMode {
    Up,
    Down,
    Ceiling,
    Floor,
    HalfUp,
    HalfDown,
    HalfEven,
    Unnecessary,
}

impl RoundMode {
    fn parse(m: &str) -> Result<RoundMode> {
        Ok(match m.to_ascii_uppercase().as_str() {
            "UP" => RoundMode::Up,
            "DOWN" => RoundMode::Down,
            "CEILING" => RoundMode::Ceiling,
            "FLOOR" => RoundMode::Floor,
            "HALF_UP" => RoundMode::HalfUp,
            "HALF_DOWN" => RoundMode::HalfDown,
            "HALF_EVEN" => RoundMode::HalfEven,
            "UNNECESSARY" => RoundMode::Unnecessary,
            _ => {
                return Err(Error::argument(format!(
                    "Unknown rounding mode '{m}': expected one of UP, DOWN, CEILING, FLOOR, \
                     HALF_UP, HALF_DOWN, HALF_EVEN, UNNECESSARY"
                ))
                .with_detail("InvalidArgumentValue"))
            }
        })
    }
}

/// Round `x` to `precision` decimal places on its shortest decimal representation (as
/// `BigDecimal.valueOf(x).setScale(precision, mode)` does), so `round(2.675, 2)` is 2.68
/// even though the binary double is slightly below 2.675.
fn round_decimal(x: f64, precision: i64, mode: RoundMode) -> Result<f64> {
    if !x.is_finite() {
        return Ok(x);
    }
    if precision < 0 {
        // Round to tens, hundreds...: scale down, round to an integer, scale back.
        let f = 10f64.powi(precision.unsigned_abs().min(400) as i32);
        return Ok(round_decimal(x / f, 0, mode)? * f);
    }
    let negative = x.is_sign_negative();
    let text = format!("{}", x.abs());
    let (int_part, frac_part) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let p = usize::try_from(precision).unwrap_or(usize::MAX);
    if frac_part.len() <= p {
        return Ok(x);
    }
    let mut digits: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes().take(p))
        .map(|b| b - b'0')
        .collect();
    let rest = &frac_part.as_bytes()[p..];
    let rest_zero = rest.iter().all(|&b| b == b'0');
    let first = rest.first().map(|b| b - b'0').unwrap_or(0);
    let after_first_zero = rest.iter().skip(1).all(|&b| b == b'0');
    let last_odd = digits.last().is_some_and(|d| d % 2 == 1);
    let up = match mode {
        RoundMode::Up => !rest_zero,
        RoundMode::Down => false,
        RoundMode::Ceiling => !rest_zero && !negative,
        RoundMode::Floor => !rest_zero && negative,
        RoundMode::HalfUp => first >= 5,
        RoundMode::HalfDown => first > 5 || (first == 5 && !after_first_zero),
        RoundMode::HalfEven => first > 5 || (first == 5 && (!after_first_zero || last_odd)),
        RoundMode::Unnecessary => {
            if !rest_zero {
                return Err(Error::argument(
                    "Rounding necessary: the value has more digits than the precision and \
                     the rounding mode is UNNECESSARY",
                )
                .with_detail("InvalidArgumentValue"));
            }
            false
        }
    };
    if up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let int_len = digits.len() - p;
    let mut out = String::with_capacity(digits.len() + 2);
    for (i, d) in digits.iter().enumerate() {
        if i == int_len {
            out.push('.');
        }
        out.push(char::from(b'0' + d));
    }
    let v: f64 = out
        .parse()
        .map_err(|_| Error::internal(format!("round(): cannot read back {out}")))?;
    Ok(if negative && v != 0.0 { -v } else { v })
}

/// `v IS :: ty`.
pub fn is_of_type(v: &Value, ty: &CypherType) -> bool {
    if v.is_null() {
        return match &ty.base {
            BaseType::Null => true,
            BaseType::Union(ts) => ts.iter().any(|t| is_of_type(v, t)),
            _ => !ty.not_null,
        };
    }
    match &ty.base {
        BaseType::Any => true,
        BaseType::Nothing | BaseType::Null => false,
        BaseType::Boolean => matches!(v, Value::Bool(_)),
        BaseType::String => matches!(v, Value::String(_)),
        BaseType::Integer => matches!(v, Value::Int(_)),
        BaseType::Float => matches!(v, Value::Float(_)),
        BaseType::Date => matches!(v, Value::Date(_)),
        BaseType::LocalTime => matches!(v, Value::LocalTime(_)),
        BaseType::ZonedTime => matches!(v, Value::Time(_)),
        BaseType::LocalDateTime => matches!(v, Value::LocalDateTime(_)),
        BaseType::ZonedDateTime => matches!(v, Value::DateTime(_)),
        BaseType::Duration => matches!(v, Value::Duration(_)),
        BaseType::Point => matches!(v, Value::Point(_)),
        BaseType::Node => matches!(v, Value::Node(_)),
        BaseType::Relationship => matches!(v, Value::Relationship(_)),
        BaseType::Map => matches!(v, Value::Map(_)),
        BaseType::Path => matches!(v, Value::Path(_)),
        BaseType::List(inner) => match v {
            Value::List(items) => items.iter().all(|x| is_of_type(x, inner)),
            _ => false,
        },
        BaseType::Union(ts) => ts.iter().any(|t| is_of_type(v, t)),
    }
}

/// `valueType(v)`: Neo4j's type string, e.g. `INTEGER NOT NULL`, `LIST<STRING NOT NULL> NOT NULL`.
pub fn value_type(v: &Value) -> String {
    const ORDER: [&str; 17] = [
        "NULL",
        "BOOLEAN",
        "STRING",
        "INTEGER",
        "FLOAT",
        "DATE",
        "LOCAL TIME",
        "ZONED TIME",
        "LOCAL DATETIME",
        "ZONED DATETIME",
        "DURATION",
        "POINT",
        "NODE",
        "RELATIONSHIP",
        "MAP",
        "LIST",
        "PATH",
    ];
    match v {
        Value::Null => "NULL".to_string(),
        Value::List(items) => {
            let has_null = items.iter().any(|x| x.is_null());
            let mut members: Vec<(usize, String)> = Vec::new();
            for x in items.iter().filter(|x| !x.is_null()) {
                let t = value_type(x);
                let t = if has_null {
                    t.trim_end_matches(" NOT NULL").to_string()
                } else {
                    t
                };
                let rank = ORDER
                    .iter()
                    .position(|o| t.starts_with(o))
                    .unwrap_or(ORDER.len());
                if !members.iter().any(|(_, m)| *m == t) {
                    members.push((rank, t));
                }
            }
            members.sort();
            let inner = if members.is_empty() {
                if has_null { "NULL" } else { "NOTHING" }.to_string()
            } else {
                members
                    .into_iter()
                    .map(|(_, t)| t)
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            format!("LIST<{inner}> NOT NULL")
        }
        other => format!("{} NOT NULL", other.type_name()),
    }
}

/// `point({x, y[, z][, crs | srid]})` or `point({longitude, latitude[, height][, crs | srid]})`.
fn make_point(m: &Map) -> Result<Value> {
    let num = |k: &str| -> Result<Option<f64>> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => as_f64(v)
                .map(Some)
                .ok_or_else(|| targ(format!("point(): `{k}` must be a number"))),
        }
    };
    // A null coordinate gives a null point.
    if ["x", "y", "z", "longitude", "latitude", "height"]
        .iter()
        .any(|k| matches!(m.get(*k), Some(Value::Null)))
    {
        return Ok(Value::Null);
    }
    let geographic = m.contains_key("longitude") || m.contains_key("latitude");
    let (x, y, z) = if geographic {
        (num("longitude")?, num("latitude")?, num("height")?)
    } else {
        (num("x")?, num("y")?, num("z")?)
    };
    let (Some(x), Some(y)) = (x, y) else {
        return Err(
            Error::argument("point() needs x and y, or longitude and latitude")
                .with_detail("InvalidArgumentValue"),
        );
    };
    let srid = match (m.get("srid"), m.get("crs")) {
        (Some(Value::Int(s)), _) => *s as i32,
        (_, Some(Value::String(c))) => match c.to_ascii_lowercase().as_str() {
            "cartesian" => 7203,
            "cartesian-3d" => 9157,
            "wgs-84" => 4326,
            "wgs-84-3d" => 4979,
            _ => {
                return Err(Error::argument(format!("point(): unknown crs '{c}'"))
                    .with_detail("InvalidArgumentValue"))
            }
        },
        _ => match (geographic, z.is_some()) {
            (true, false) => 4326,
            (true, true) => 4979,
            (false, false) => 7203,
            (false, true) => 9157,
        },
    };
    let three_d = matches!(srid, 9157 | 4979);
    if !matches!(srid, 7203 | 9157 | 4326 | 4979) || three_d != z.is_some() {
        return Err(Error::argument(format!(
            "point(): srid {srid} does not fit {} coordinates",
            if z.is_some() { 3 } else { 2 }
        ))
        .with_detail("InvalidArgumentValue"));
    }
    if matches!(srid, 4326 | 4979) && !(-90.0..=90.0).contains(&y) {
        return Err(
            Error::argument("point(): latitude must be between -90 and 90")
                .with_detail("InvalidArgumentValue"),
        );
    }
    Ok(Value::Point(Point { srid, x, y, z }))
}

fn point_property(p: &Point, key: &str) -> Result<Value> {
    let geographic = matches!(p.srid, 4326 | 4979);
    let f = |v: f64| Ok(Value::Float(v));
    match key {
        "x" => f(p.x),
        "y" => f(p.y),
        "z" => Ok(p.z.map(Value::Float).unwrap_or(Value::Null)),
        "longitude" if geographic => f(p.x),
        "latitude" if geographic => f(p.y),
        "height" if geographic => Ok(p.z.map(Value::Float).unwrap_or(Value::Null)),
        "srid" => Ok(Value::Int(p.srid as i64)),
        "crs" => Ok(Value::String(
            match p.srid {
                7203 => "cartesian",
                9157 => "cartesian-3d",
                4326 => "wgs-84",
                _ => "wgs-84-3d",
            }
            .into(),
        )),
        other => Err(
            Error::argument(format!("a point has no property `{other}`"))
                .with_detail("InvalidArgumentValue"),
        ),
    }
}

/// Euclidean distance for cartesian points, great-circle (haversine, mean Earth radius) for
/// WGS-84; points of different coordinate systems have no distance (null).
fn point_distance(a: &Point, b: &Point) -> Result<Value> {
    if a.srid != b.srid {
        return Ok(Value::Null);
    }
    Ok(Value::Float(match a.srid {
        4326 | 4979 => {
            const R: f64 = 6_378_140.0;
            let (la1, la2) = (a.y.to_radians(), b.y.to_radians());
            let dla = la2 - la1;
            let dlo = (b.x - a.x).to_radians();
            let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
            let d = 2.0 * R * h.sqrt().min(1.0).asin();
            match (a.z, b.z) {
                (Some(z1), Some(z2)) => (d * d + (z2 - z1).powi(2)).sqrt(),
                _ => d,
            }
        }
        _ => {
            let dz = match (a.z, b.z) {
                (Some(z1), Some(z2)) => z2 - z1,
                _ => 0.0,
            };
            ((b.x - a.x).powi(2) + (b.y - a.y).powi(2) + dz * dz).sqrt()
        }
    }))
}
