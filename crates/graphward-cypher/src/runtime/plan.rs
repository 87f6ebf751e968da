//! The logical plan of a query and the pull-based executor over it.
//!
//! A plan is built once per query from the analysed AST: a tree of operators (argument,
//! node scan / index seek / expand, filter, unwind, projection, distinct, sort, top-k,
//! skip, limit, aggregation). Each operator pulls rows from its child on demand, so the
//! streaming operators (scan, expand, unwind, filter, projection, skip, limit) never hold more
//! than the row at hand; only the breakers (sort, top-k, aggregation, distinct) buffer. LIMIT
//! stops pulling its input; ORDER BY + LIMIT k keeps a heap of k rows.
//!
//! Queries the executor cannot run yet (updates, procedure calls, subqueries, UNION) run on
//! the clause-at-a-time runner (`runner.rs`); [`plan_query`] still describes them for EXPLAIN.

use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashSet, VecDeque};
use std::sync::Arc;

use graphward_core::engine::PlanDescription;
use graphward_core::{Result, Value};
use graphward_storage::{
    Edge, ExpandDir, GraphRead, Iter, NodeId, NodeRecord, RelId, RelRecord, SchemaDef,
};

use super::eval::{Ev, Row};
use super::project::{
    contains_aggregate, pattern_vars, projection_items, substitute_items, walk as walk_exprs,
    Aggregator,
};
use super::values::{key, order};
use crate::ast::{Clause, Expr, Match, Projection, Query, SingleQuery, SortItem, Unwind};

/// A plan: its root operator, the result columns, and whether the streaming executor can run
/// it (otherwise it only describes what the clause runner does, for EXPLAIN).
pub struct Plan {
    pub root: Node,
    pub columns: Vec<String>,
    pub executable: bool,
}

/// One operator with its input(s) and its PROFILE counters.
pub struct Node {
    op: Op,
    children: Vec<Node>,
    /// Rows produced.
    rows: u64,
    /// Storage reads made while this operator (and its inputs) ran.
    hits_inclusive: u64,
}

enum Op {
    /// The leaf: one empty row.
    Argument {
        done: bool,
    },
    /// One pattern part matched from its anchor candidates, one candidate at a time.
    MatchStream {
        m: Box<Match>,
        /// The property of the pattern's node the query reads (most often), read along with
        /// the ids when the anchor is a scan.
        prefetch: Option<Arc<str>>,
        new_vars: Vec<String>,
        describe: MatchShape,
        cur: Option<MatchCursor>,
        pending: VecDeque<Row>,
    },
    /// A pattern the streaming matcher does not walk (several parts, shortest paths): all the
    /// matches of one input row at a time.
    MatchPerRow {
        m: Box<Match>,
        scope: Vec<String>,
        describe: MatchShape,
        pending: VecDeque<Row>,
    },
    Unwind {
        u: Unwind,
        cur: Option<(Row, Items)>,
    },
    /// Evaluates the items against the input row and adds them to it (the row ORDER BY and
    /// WITH ... WHERE see); [`Op::Select`] keeps only the columns at the end.
    Project {
        items: Vec<(String, Expr)>,
    },
    Distinct {
        columns: Vec<String>,
        seen: HashSet<String>,
    },
    /// ORDER BY; with `skip`/`limit` a top-k of `skip + limit` rows.
    Sort {
        items: Vec<SortItem>,
        skip: Option<Expr>,
        limit: Option<Expr>,
        out: Option<VecDeque<Row>>,
    },
    Skip {
        n: Expr,
        left: Option<usize>,
    },
    Limit {
        n: Expr,
        left: Option<usize>,
    },
    Filter {
        pred: Expr,
    },
    /// Keeps the projected columns; `produce`: the query's result (ProduceResults).
    Select {
        columns: Vec<String>,
        produce: bool,
    },
    /// Aggregation (and DISTINCT with ORDER BY): buffers its input and projects it whole.
    Eager {
        p: Box<Projection>,
        scope: Vec<String>,
        where_: Option<Expr>,
        out: Option<VecDeque<Row>>,
    },
    /// A clause only the clause runner executes (described for EXPLAIN).
    Other {
        name: String,
        details: String,
    },
}

/// How a MATCH is expected to start (for EXPLAIN; the matcher picks the anchor per row).
#[derive(Clone)]
struct MatchShape {
    operator: String,
    details: String,
    identifiers: Vec<String>,
}

struct MatchCursor {
    row: Row,
    anchor: super::matcher::Anchor,
    candidates: std::vec::IntoIter<NodeId>,
    /// The prefetched property of each candidate, in step with `candidates`.
    values: Option<std::vec::IntoIter<Option<Value>>>,
    /// What the collected candidates and values hold, charged to the query.
    _held: graphward_core::memory::Reservation,
    any: bool,
    pulled: u64,
}

/// The values an UNWIND walks: a `range()` counted lazily, or a list.
enum Items {
    Range {
        next: i64,
        end: i64,
        step: i64,
        done: bool,
    },
    List(std::vec::IntoIter<Value>),
    One(Option<Value>),
}

impl Iterator for Items {
    type Item = Value;
    fn next(&mut self) -> Option<Value> {
        match self {
            Items::Range {
                next,
                end,
                step,
                done,
            } => {
                if *done || (*step > 0 && *next > *end) || (*step < 0 && *next < *end) {
                    return None;
                }
                let v = *next;
                match next.checked_add(*step) {
                    Some(n) => *next = n,
                    None => *done = true,
                }
                Some(Value::Int(v))
            }
            Items::List(it) => it.next(),
            Items::One(v) => v.take(),
        }
    }
}

/// What an operator needs while it runs.
pub struct Cx<'a> {
    pub ev: Ev<'a>,
    pub hits: &'a Cell<u64>,
}

impl Node {
    fn new(op: Op, children: Vec<Node>) -> Node {
        Node {
            op,
            children,
            rows: 0,
            hits_inclusive: 0,
        }
    }

    /// The next row, or `None` when there are no more.
    pub fn pull(&mut self, cx: &Cx) -> Result<Option<Row>> {
        let before = cx.hits.get();
        let r = self.pull_inner(cx);
        self.hits_inclusive += cx.hits.get().saturating_sub(before);
        if let Ok(Some(_)) = &r {
            self.rows += 1;
        }
        r
    }

    fn child(children: &mut [Node], cx: &Cx) -> Result<Option<Row>> {
        match children.first_mut() {
            Some(c) => c.pull(cx),
            None => Ok(None),
        }
    }

    fn pull_inner(&mut self, cx: &Cx) -> Result<Option<Row>> {
        let ev = &cx.ev;
        let children = &mut self.children;
        match &mut self.op {
            Op::Argument { done } => {
                if *done {
                    return Ok(None);
                }
                *done = true;
                Ok(Some(Row::new()))
            }
            Op::MatchStream {
                m,
                prefetch,
                new_vars,
                cur,
                pending,
                ..
            } => loop {
                if let Some(r) = pending.pop_front() {
                    return Ok(Some(r));
                }
                match cur {
                    Some(c) => {
                        if let Some(id) = c.candidates.next() {
                            // The cancel flag and the clock, every 64 candidates (a candidate
                            // whose matches take long is checked inside the expansion).
                            c.pulled = c.pulled.wrapping_add(1);
                            if c.pulled % 64 == 1 {
                                ev.env.check()?;
                            }
                            let Some(part) = m.pattern.first() else {
                                return Ok(None);
                            };
                            if let (Some(vals), Some(key)) = (c.values.as_mut(), prefetch.as_ref())
                            {
                                let v = vals.next().flatten();
                                *ev.prefetched.borrow_mut() = Some((id, key.clone(), v));
                            }
                            for r in ev.match_part_at(part, &c.row, &c.anchor, id)? {
                                if let Some(w) = &m.where_ {
                                    if ev.eval(w, &r)? != Value::Bool(true) {
                                        continue;
                                    }
                                }
                                c.any = true;
                                pending.push_back(r);
                            }
                            continue;
                        }
                        let done = cur.take();
                        if let Some(c) = done {
                            if m.optional && !c.any {
                                let mut r = c.row;
                                for v in new_vars.iter() {
                                    r.entry(v.clone()).or_insert(Value::Null);
                                }
                                return Ok(Some(r));
                            }
                        }
                    }
                    None => {
                        let Some(row) = Self::child(children, cx)? else {
                            return Ok(None);
                        };
                        let Some(part) = m.pattern.first() else {
                            return Ok(None);
                        };
                        let (anchor, ids, values) = match prefetch.as_ref() {
                            Some(key) => ev.part_anchor_with(part, &row, key)?,
                            None => {
                                let (a, ids) = ev.part_anchor(part, &row)?;
                                (a, ids, None)
                            }
                        };
                        let held = ev.env.mem.reservation();
                        if let Some(vals) = &values {
                            let slot = std::mem::size_of::<Option<Value>>();
                            let bytes = vals.iter().fold(0usize, |acc, v| {
                                let heap = v.as_ref().map_or(0, |v| {
                                    super::values::measure(v)
                                        .bytes
                                        .saturating_sub(std::mem::size_of::<Value>())
                                });
                                acc.saturating_add(slot + heap)
                            });
                            held.grow(bytes as u64)?;
                        }
                        *cur = Some(MatchCursor {
                            row,
                            anchor,
                            candidates: ids.into_iter(),
                            values: values.map(|v| v.into_iter()),
                            _held: held,
                            any: false,
                            pulled: 0,
                        });
                    }
                }
            },
            Op::MatchPerRow {
                m, scope, pending, ..
            } => loop {
                if let Some(r) = pending.pop_front() {
                    return Ok(Some(r));
                }
                let Some(row) = Self::child(children, cx)? else {
                    return Ok(None);
                };
                let mut sc = scope.clone();
                *pending = ev.match_clause(m, vec![row], &mut sc)?.into();
            },
            Op::Unwind { u, cur } => loop {
                if let Some((row, items)) = cur {
                    if let Some(v) = items.next() {
                        let mut r = row.clone();
                        r.insert(u.variable.clone(), v);
                        return Ok(Some(r));
                    }
                    *cur = None;
                }
                let Some(row) = Self::child(children, cx)? else {
                    return Ok(None);
                };
                ev.env.check()?;
                let items = match lazy_range(ev, &u.expr, &row)? {
                    Some(it) => it,
                    None => match ev.eval(&u.expr, &row)? {
                        Value::Null => continue,
                        Value::List(l) => Items::List(l.into_iter()),
                        other => Items::One(Some(other)),
                    },
                };
                *cur = Some((row, items));
            },
            Op::Project { items } => {
                let Some(mut row) = Self::child(children, cx)? else {
                    return Ok(None);
                };
                ev.env.check()?;
                let mut vals = Vec::with_capacity(items.len());
                for (_, e) in items.iter() {
                    vals.push(ev.eval(e, &row)?);
                }
                for ((n, _), v) in items.iter().zip(vals) {
                    row.insert(n.clone(), v);
                }
                Ok(Some(row))
            }
            Op::Distinct { columns, seen } => loop {
                let Some(row) = Self::child(children, cx)? else {
                    return Ok(None);
                };
                let k: String = columns
                    .iter()
                    .map(|c| key(row.get(c).unwrap_or(&Value::Null)))
                    .collect::<Vec<_>>()
                    .join("\u{1}");
                if seen.insert(k) {
                    ev.env.check_rows(seen.len())?;
                    return Ok(Some(row));
                }
            },
            Op::Sort {
                items,
                skip,
                limit,
                out,
            } => {
                if out.is_none() {
                    *out = Some(sort_input(children, cx, items, skip, limit)?);
                }
                Ok(out.as_mut().and_then(|o| o.pop_front()))
            }
            Op::Skip { n, left } => {
                if left.is_none() {
                    *left = Some(ev.count_arg(n, &Row::new(), "SKIP")?);
                }
                while let Some(k) = left.as_mut().filter(|k| **k > 0) {
                    *k -= 1;
                    if Self::child(children, cx)?.is_none() {
                        return Ok(None);
                    }
                }
                Self::child(children, cx)
            }
            Op::Limit { n, left } => {
                if left.is_none() {
                    *left = Some(ev.count_arg(n, &Row::new(), "LIMIT")?);
                }
                match left {
                    Some(0) | None => Ok(None),
                    Some(k) => {
                        *k -= 1;
                        Self::child(children, cx)
                    }
                }
            }
            Op::Filter { pred } => loop {
                let Some(row) = Self::child(children, cx)? else {
                    return Ok(None);
                };
                ev.env.check()?;
                if ev.eval(pred, &row)? == Value::Bool(true) {
                    return Ok(Some(row));
                }
            },
            Op::Select { columns, .. } => {
                let Some(mut row) = Self::child(children, cx)? else {
                    return Ok(None);
                };
                let mut out = Row::with_capacity(columns.len());
                for c in columns.iter() {
                    out.insert(c.clone(), row.remove(c).unwrap_or(Value::Null));
                }
                Ok(Some(out))
            }
            Op::Eager {
                p,
                scope,
                where_,
                out,
            } => {
                if out.is_none() && p.items.iter().any(|it| contains_aggregate(&it.expr)) {
                    // Aggregation consumes its input as it is pulled: only the groups are
                    // kept (and charged), never the input rows.
                    let items = projection_items(p, scope);
                    let columns: Vec<String> = items.iter().map(|(n, _)| n.clone()).collect();
                    let mut agg = Aggregator::new(ev, &items);
                    let mut n = 0usize;
                    while let Some(r) = Self::child(children, cx)? {
                        agg.feed(ev, &r)?;
                        n += 1;
                        if n.is_multiple_of(1024) {
                            ev.env.check()?;
                        }
                    }
                    let groups = agg.finish(ev)?;
                    let rows =
                        ev.finish_projection(p, &items, &columns, groups, where_.as_ref())?;
                    *out = Some(rows.into());
                }
                if out.is_none() {
                    let mut rows = Vec::new();
                    while let Some(r) = Self::child(children, cx)? {
                        // Charged as it is buffered (the budget bounds the buffer, not a
                        // row count); `check_table` then holds the whole table's charge.
                        ev.env.charge_row(&r)?;
                        rows.push(r);
                        if rows.len().is_multiple_of(4096) {
                            ev.env.check()?;
                            ev.env.check_table(&rows)?;
                        }
                    }
                    ev.env.check_table(&rows)?;
                    let projected = ev.project(p, rows, scope, where_.as_ref())?;
                    *out = Some(projected.rows.into());
                }
                Ok(out.as_mut().and_then(|o| o.pop_front()))
            }
            Op::Other { .. } => Err(graphward_core::Error::internal(
                "this operator runs on the clause runner, not the streaming executor",
            )),
        }
    }

    /// The plan as Bolt reports it; `profiled` fills rows and storage hits.
    pub fn describe(&self) -> PlanDescription {
        // Column pruning after a WITH is not an operator of its own; neither is the one-row
        // leaf the query starts from.
        if let (Op::Select { produce: false, .. }, Some(c)) = (&self.op, self.children.first()) {
            return c.describe();
        }
        let children: Vec<PlanDescription> = self
            .children
            .iter()
            .filter(|c| !matches!(c.op, Op::Argument { .. }))
            .map(|c| c.describe())
            .collect();
        let child_hits: u64 = self.children.iter().map(|c| c.hits_inclusive).sum();
        let (operator, details, identifiers) = self.op.describe();
        let mut arguments = BTreeMap::new();
        if !details.is_empty() {
            arguments.insert("Details".to_string(), Value::String(details));
        }
        PlanDescription {
            operator_type: operator,
            identifiers,
            arguments,
            children,
            rows: self.rows,
            db_hits: self.hits_inclusive.saturating_sub(child_hits),
        }
    }

    fn executable(&self) -> bool {
        !matches!(self.op, Op::Other { .. }) && self.children.iter().all(|c| c.executable())
    }
}

impl Op {
    fn describe(&self) -> (String, String, Vec<String>) {
        let s = |x: &str| x.to_string();
        match self {
            Op::Argument { .. } => (s("Argument"), String::new(), vec![]),
            Op::MatchStream { describe, .. } | Op::MatchPerRow { describe, .. } => (
                describe.operator.clone(),
                describe.details.clone(),
                describe.identifiers.clone(),
            ),
            Op::Unwind { u, .. } => (
                s("Unwind"),
                format!("{} AS {}", expr_text(&u.expr), u.variable),
                vec![u.variable.clone()],
            ),
            Op::Project { items } => (
                s("Projection"),
                items
                    .iter()
                    .map(|(n, e)| format!("{} AS {n}", expr_text(e)))
                    .collect::<Vec<_>>()
                    .join(", "),
                items.iter().map(|(n, _)| n.clone()).collect(),
            ),
            Op::Distinct { columns, .. } => (s("Distinct"), columns.join(", "), columns.clone()),
            Op::Sort {
                items, skip, limit, ..
            } => {
                let keys = items
                    .iter()
                    .map(|i| {
                        format!(
                            "{} {}",
                            expr_text(&i.expr),
                            if i.ascending { "ASC" } else { "DESC" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                if skip.is_some() || limit.is_some() {
                    let k = match (skip, limit) {
                        (Some(s), Some(l)) => format!("{} + {}", expr_text(s), expr_text(l)),
                        (None, Some(l)) => expr_text(l),
                        (Some(_), None) | (None, None) => "all".to_string(),
                    };
                    (s("Top"), format!("{keys} LIMIT {k}"), vec![])
                } else {
                    (s("Sort"), keys, vec![])
                }
            }
            Op::Skip { n, .. } => (s("Skip"), expr_text(n), vec![]),
            Op::Limit { n, .. } => (s("Limit"), expr_text(n), vec![]),
            Op::Filter { pred } => (s("Filter"), expr_text(pred), vec![]),
            Op::Select { columns, .. } => {
                (s("ProduceResults"), columns.join(", "), columns.clone())
            }
            Op::Eager { p, .. } => (
                s(if p.items.iter().any(|i| contains_aggregate(&i.expr)) {
                    "EagerAggregation"
                } else {
                    "Distinct"
                }),
                p.items
                    .iter()
                    .map(|i| i.text.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                p.items.iter().map(|i| i.name().to_string()).collect(),
            ),
            Op::Other { name, details } => (name.clone(), details.clone(), vec![]),
        }
    }
}

/// A short text for an expression in a plan (plan text only, never used to decide).
fn expr_text(e: &Expr) -> String {
    match e {
        Expr::Literal(v) => match v {
            Value::String(s) => format!("'{s}'"),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "NULL".to_string(),
            _ => "...".to_string(),
        },
        Expr::Parameter(p) => format!("${p}"),
        Expr::Variable(v) => v.clone(),
        Expr::Property(b, k) => format!("{}.{k}", expr_text(b)),
        Expr::FunctionCall { name, args, .. } => format!(
            "{name}({})",
            args.iter().map(expr_text).collect::<Vec<_>>().join(", ")
        ),
        Expr::CountStar => "count(*)".to_string(),
        Expr::Binary(op, a, b) => format!("{} {op:?} {}", expr_text(a), expr_text(b)),
        _ => "...".to_string(),
    }
}

/// `UNWIND range(a, b[, s])` with integer bounds: counted lazily instead of built as a list.
/// `None` for anything else (including arguments `range()` refuses: it reports the error).
fn lazy_range(ev: &Ev, e: &Expr, row: &Row) -> Result<Option<Items>> {
    let Expr::FunctionCall {
        name,
        distinct: false,
        args,
    } = e
    else {
        return Ok(None);
    };
    if !name.eq_ignore_ascii_case("range") || !(2..=3).contains(&args.len()) {
        return Ok(None);
    }
    let mut vals = Vec::with_capacity(3);
    for a in args {
        match ev.eval(a, row)? {
            Value::Int(i) => vals.push(i),
            _ => return Ok(None),
        }
    }
    let step = vals.get(2).copied().unwrap_or(1);
    if step == 0 {
        return Ok(None);
    }
    Ok(Some(Items::Range {
        next: vals[0],
        end: vals[1],
        step,
        done: false,
    }))
}

/// One sorted row with its keys; the heap keeps the `k` smallest (`seq` keeps ties stable).
struct Keyed {
    keys: Vec<Value>,
    seq: u64,
    row: Row,
    ascending: Arc<[bool]>,
}

impl Keyed {
    fn cmp_keys(&self, other: &Keyed) -> Ordering {
        for (i, asc) in self.ascending.iter().enumerate() {
            let (Some(a), Some(b)) = (self.keys.get(i), other.keys.get(i)) else {
                break;
            };
            let o = order(a, b);
            let o = if *asc { o } else { o.reverse() };
            if o != Ordering::Equal {
                return o;
            }
        }
        self.seq.cmp(&other.seq)
    }
}

impl PartialEq for Keyed {
    fn eq(&self, other: &Self) -> bool {
        self.cmp_keys(other) == Ordering::Equal
    }
}
impl Eq for Keyed {}
impl PartialOrd for Keyed {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Keyed {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_keys(other)
    }
}

fn sort_input(
    children: &mut [Node],
    cx: &Cx,
    items: &[SortItem],
    skip: &Option<Expr>,
    limit: &Option<Expr>,
) -> Result<VecDeque<Row>> {
    let ev = &cx.ev;
    let empty = Row::new();
    let k = match limit {
        Some(l) => {
            let l = ev.count_arg(l, &empty, "LIMIT")?;
            let s = match skip {
                Some(s) => ev.count_arg(s, &empty, "SKIP")?,
                None => 0,
            };
            Some(l.saturating_add(s))
        }
        None => None,
    };
    let ascending: Arc<[bool]> = items.iter().map(|i| i.ascending).collect();
    let mut heap: BinaryHeap<Keyed> = BinaryHeap::new();
    let mut all: Vec<Keyed> = Vec::new();
    if k == Some(0) {
        return Ok(VecDeque::new());
    }
    let mut seq = 0u64;
    while let Some(row) = Node::child(children, cx)? {
        ev.env.check()?;
        let mut keys = Vec::with_capacity(items.len());
        for s in items {
            keys.push(ev.eval(&s.expr, &row)?);
        }
        let e = Keyed {
            keys,
            seq,
            row,
            ascending: ascending.clone(),
        };
        seq += 1;
        match k {
            Some(k) => {
                if heap.len() < k {
                    // The heap only grows to k rows: each of those is charged; a row that
                    // replaces another leaves the charge as it is.
                    ev.env.charge_row(&e.row)?;
                    heap.push(e);
                } else if heap.peek().is_some_and(|top| e < *top) {
                    heap.pop();
                    heap.push(e);
                }
            }
            None => {
                ev.env.charge_row(&e.row)?;
                all.push(e);
                if all.len().is_multiple_of(4096) {
                    ev.env.check_rows(all.len())?;
                }
            }
        }
    }
    let sorted = if k.is_some() {
        heap.into_sorted_vec()
    } else {
        all.sort();
        all
    };
    let rows: Vec<Row> = sorted.into_iter().map(|e| e.row).collect();
    ev.env.check_table(&rows)?;
    Ok(rows.into())
}

/// Plans a query. `source` is the query text (only to show patterns in EXPLAIN).
pub fn plan_query(q: &Query, source: &str) -> Plan {
    if !q.unions.is_empty() {
        let mut branches = vec![plan_single(&q.first, source)];
        for (_, sq) in &q.unions {
            branches.push(plan_single(sq, source));
        }
        let columns = branches.first().map(|b| b.1.clone()).unwrap_or_default();
        let all = q.unions.iter().all(|(a, _)| *a);
        let union = Node::new(
            Op::Other {
                name: if all { "Union" } else { "Distinct" }.to_string(),
                details: String::new(),
            },
            branches.into_iter().map(|b| b.0).collect(),
        );
        let root = Node::new(
            Op::Other {
                name: "ProduceResults".to_string(),
                details: columns.join(", "),
            },
            vec![union],
        );
        return Plan {
            root,
            columns,
            executable: false,
        };
    }
    let (root, columns) = plan_single(&q.first, source);
    let executable = root.executable() && matches!(q.first.clauses.last(), Some(Clause::Return(_)));
    Plan {
        root,
        columns,
        executable,
    }
}

fn other(name: &str, details: String, input: Node) -> Node {
    Node::new(
        Op::Other {
            name: name.to_string(),
            details,
        },
        vec![input],
    )
}

fn span_text(source: &str, start: usize, end: usize) -> String {
    source.get(start..end).unwrap_or("").to_string()
}

fn plan_single(sq: &SingleQuery, source: &str) -> (Node, Vec<String>) {
    let mut node = Node::new(Op::Argument { done: false }, vec![]);
    let mut scope: Vec<String> = Vec::new();
    let mut columns = Vec::new();
    for (ci, c) in sq.clauses.iter().enumerate() {
        match c {
            Clause::Match(m) => {
                let new_vars = pattern_vars(&m.pattern);
                let describe = match_shape(m, &scope, source);
                let streams = m.pattern.len() == 1 && m.pattern[0].shortest.is_none();
                node = if streams {
                    Node::new(
                        Op::MatchStream {
                            prefetch: prefetch_key(m, &scope, sq.clauses.get(ci..).unwrap_or(&[])),
                            m: Box::new(m.clone()),
                            new_vars: new_vars.clone(),
                            describe,
                            cur: None,
                            pending: VecDeque::new(),
                        },
                        vec![node],
                    )
                } else {
                    Node::new(
                        Op::MatchPerRow {
                            m: Box::new(m.clone()),
                            scope: scope.clone(),
                            describe,
                            pending: VecDeque::new(),
                        },
                        vec![node],
                    )
                };
                for v in new_vars {
                    if !scope.contains(&v) {
                        scope.push(v);
                    }
                }
            }
            Clause::Unwind(u) => {
                node = Node::new(
                    Op::Unwind {
                        u: u.clone(),
                        cur: None,
                    },
                    vec![node],
                );
                if !scope.contains(&u.variable) {
                    scope.push(u.variable.clone());
                }
            }
            Clause::With(w) => {
                let (n, cols) =
                    plan_projection(node, &w.projection, w.where_.as_ref(), &scope, false);
                node = n;
                scope = cols;
            }
            Clause::Return(r) => {
                let (n, cols) = plan_projection(node, &r.projection, None, &scope, true);
                node = n;
                columns = cols.clone();
                scope = cols;
            }
            Clause::Create(cr) => {
                node = other("Create", String::new(), node);
                for v in pattern_vars(&cr.pattern) {
                    if !scope.contains(&v) {
                        scope.push(v);
                    }
                }
            }
            Clause::Merge(m) => {
                node = other(
                    "Merge",
                    span_text(source, m.pattern.span.start, m.pattern.span.end),
                    node,
                );
                for v in pattern_vars(std::slice::from_ref(&m.pattern)) {
                    if !scope.contains(&v) {
                        scope.push(v);
                    }
                }
            }
            Clause::Set(_) => node = other("SetProperty", String::new(), node),
            Clause::Remove(_) => node = other("RemoveLabels", String::new(), node),
            Clause::Delete(d) => {
                node = other(
                    if d.detach { "DetachDelete" } else { "Delete" },
                    d.exprs.iter().map(expr_text).collect::<Vec<_>>().join(", "),
                    node,
                )
            }
            Clause::Foreach(f) => node = other("Foreach", f.variable.clone(), node),
            Clause::LoadCsv(l) => {
                node = other("LoadCSV", l.variable.clone(), node);
                if !scope.contains(&l.variable) {
                    scope.push(l.variable.clone());
                }
            }
            Clause::Call(call) => {
                node = other("ProcedureCall", call.procedure.clone(), node);
                columns = call
                    .yields
                    .iter()
                    .map(|(f, a)| a.clone().unwrap_or_else(|| f.clone()))
                    .collect();
            }
            Clause::CallSubquery(q)
            | Clause::OptionalCallSubquery(q)
            | Clause::ScopedCallSubquery { query: q, .. } => {
                let inner = plan_query(q, source);
                node = Node::new(
                    Op::Other {
                        name: "Apply".to_string(),
                        details: String::new(),
                    },
                    vec![node, inner.root],
                );
                for c in inner.columns {
                    if !scope.contains(&c) {
                        scope.push(c);
                    }
                }
            }
        }
    }
    (node, columns)
}

/// The property to read along with the ids when `m` scans: for a pattern of one new node
/// variable, the key the clauses from `m` on read most often as `var.key` (none if they read
/// none). Which key is only a guess at what saves reads: a value read along with the scan is
/// the one storage would return (the streaming executor never writes).
fn prefetch_key(m: &Match, scope: &[String], clauses: &[Clause]) -> Option<Arc<str>> {
    let [part] = m.pattern.as_slice() else {
        return None;
    };
    if !part.element.chain.is_empty() || part.shortest.is_some() {
        return None;
    }
    let var = part.element.start.variable.as_ref()?;
    if scope.contains(var) {
        return None;
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut see = |e: &Expr| {
        walk_exprs(e, &mut |x| {
            if let Expr::Property(base, key) = x {
                if matches!(&**base, Expr::Variable(v) if v == var) {
                    *counts.entry(key.clone()).or_default() += 1;
                }
            }
        })
    };
    for c in clauses {
        match c {
            Clause::Match(m) => {
                if let Some(w) = &m.where_ {
                    see(w);
                }
            }
            Clause::Unwind(u) => see(&u.expr),
            Clause::With(w) => {
                projection_exprs(&w.projection, &mut see);
                if let Some(e) = &w.where_ {
                    see(e);
                }
            }
            Clause::Return(r) => projection_exprs(&r.projection, &mut see),
            _ => {}
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(k, _)| Arc::from(k.as_str()))
}

fn projection_exprs(p: &Projection, f: &mut dyn FnMut(&Expr)) {
    for it in &p.items {
        f(&it.expr);
    }
    for s in &p.order_by {
        f(&s.expr);
    }
}

/// WITH / RETURN: projection, distinct, sort or top-k, skip, limit, filter, then the columns.
fn plan_projection(
    input: Node,
    p: &Projection,
    where_: Option<&Expr>,
    scope: &[String],
    produce: bool,
) -> (Node, Vec<String>) {
    let items = projection_items(p, scope);
    let columns: Vec<String> = items.iter().map(|(n, _)| n.clone()).collect();
    let aggregating = items.iter().any(|(_, e)| contains_aggregate(e));
    if aggregating || (p.distinct && !p.order_by.is_empty()) {
        let node = Node::new(
            Op::Eager {
                p: Box::new(p.clone()),
                scope: scope.to_vec(),
                where_: where_.cloned(),
                out: None,
            },
            vec![input],
        );
        if produce {
            let node = Node::new(
                Op::Select {
                    columns: columns.clone(),
                    produce,
                },
                vec![node],
            );
            return (node, columns);
        }
        return (node, columns);
    }
    let mut node = Node::new(
        Op::Project {
            items: items.clone(),
        },
        vec![input],
    );
    if p.distinct {
        node = Node::new(
            Op::Distinct {
                columns: columns.clone(),
                seen: HashSet::new(),
            },
            vec![node],
        );
    }
    if !p.order_by.is_empty() {
        let sort_items = p
            .order_by
            .iter()
            .map(|s| SortItem {
                expr: substitute_items(&s.expr, &items),
                ascending: s.ascending,
            })
            .collect();
        node = Node::new(
            Op::Sort {
                items: sort_items,
                skip: p.skip.clone().filter(|_| p.limit.is_some()),
                limit: p.limit.clone(),
                out: None,
            },
            vec![node],
        );
    }
    if let Some(s) = &p.skip {
        node = Node::new(
            Op::Skip {
                n: s.clone(),
                left: None,
            },
            vec![node],
        );
    }
    if let Some(l) = &p.limit {
        node = Node::new(
            Op::Limit {
                n: l.clone(),
                left: None,
            },
            vec![node],
        );
    }
    if let Some(w) = where_ {
        node = Node::new(Op::Filter { pred: w.clone() }, vec![node]);
    }
    node = Node::new(
        Op::Select {
            columns: columns.clone(),
            produce,
        },
        vec![node],
    );
    (node, columns)
}

/// The operator EXPLAIN shows for a MATCH: a scan or seek for a pattern of one node, an
/// expansion otherwise.
fn match_shape(m: &Match, scope: &[String], source: &str) -> MatchShape {
    let identifiers = pattern_vars(&m.pattern);
    let details = m
        .pattern
        .iter()
        .map(|p| span_text(source, p.span.start, p.span.end))
        .collect::<Vec<_>>()
        .join(", ");
    let prefix = if m.optional { "Optional" } else { "" };
    let operator = match m.pattern.as_slice() {
        [p] if p.shortest.is_some() => "ShortestPath".to_string(),
        [p] if p.element.chain.is_empty() => {
            let np = &p.element.start;
            let bound = np.variable.as_ref().is_some_and(|v| scope.contains(v));
            let indexed = matches!(&np.properties, Some(Expr::Map(items)) if !items.is_empty())
                && !np.labels.is_empty();
            if bound {
                format!("{prefix}Argument")
            } else if indexed {
                format!("{prefix}NodeIndexSeek")
            } else if !np.labels.is_empty() {
                format!("{prefix}NodeByLabelScan")
            } else {
                format!("{prefix}AllNodesScan")
            }
        }
        [p] => {
            let var = p.element.chain.iter().any(|(r, _)| r.length.is_some());
            format!(
                "{prefix}{}",
                if var {
                    "VarLengthExpand(All)"
                } else {
                    "Expand(All)"
                }
            )
        }
        _ => format!("{prefix}CartesianProduct"),
    };
    MatchShape {
        operator,
        details,
        identifiers,
    }
}

/// A read view that counts storage reads (PROFILE's dbHits): one per record read, one per
/// id or edge a scan, seek or expansion returns.
pub struct Counting<'a> {
    pub inner: &'a dyn GraphRead,
    pub hits: &'a Cell<u64>,
}

impl Counting<'_> {
    fn add(&self, n: usize) {
        self.hits.set(self.hits.get().saturating_add(n as u64));
    }
}

impl GraphRead for Counting<'_> {
    fn node(&self, id: NodeId) -> Result<Option<NodeRecord>> {
        self.add(1);
        self.inner.node(id)
    }
    fn relationship(&self, id: RelId) -> Result<Option<RelRecord>> {
        self.add(1);
        self.inner.relationship(id)
    }
    fn all_nodes(&self) -> Result<Vec<NodeId>> {
        let r = self.inner.all_nodes()?;
        self.add(r.len() + 1);
        Ok(r)
    }
    fn nodes_with_label(&self, label: &str) -> Result<Vec<NodeId>> {
        let r = self.inner.nodes_with_label(label)?;
        self.add(r.len() + 1);
        Ok(r)
    }
    fn all_relationships(&self) -> Result<Vec<RelId>> {
        let r = self.inner.all_relationships()?;
        self.add(r.len() + 1);
        Ok(r)
    }
    fn expand(&self, node: NodeId, dir: ExpandDir, types: &[String]) -> Result<Vec<Edge>> {
        let r = self.inner.expand(node, dir, types)?;
        self.add(r.len() + 1);
        Ok(r)
    }
    fn index_seek(
        &self,
        label: &str,
        properties: &[String],
        values: &[Value],
    ) -> Result<Option<Vec<NodeId>>> {
        let r = self.inner.index_seek(label, properties, values)?;
        self.add(r.as_ref().map_or(0, |v| v.len()) + 1);
        Ok(r)
    }
    fn index_range(
        &self,
        label: &str,
        property: &str,
        lower: std::ops::Bound<&Value>,
        upper: std::ops::Bound<&Value>,
    ) -> Result<Option<Vec<NodeId>>> {
        let r = self.inner.index_range(label, property, lower, upper)?;
        self.add(r.as_ref().map_or(0, |v| v.len()) + 1);
        Ok(r)
    }
    fn index_prefix(
        &self,
        label: &str,
        property: &str,
        prefix: &str,
    ) -> Result<Option<Vec<NodeId>>> {
        let r = self.inner.index_prefix(label, property, prefix)?;
        self.add(r.as_ref().map_or(0, |v| v.len()) + 1);
        Ok(r)
    }
    fn schema(&self) -> Result<Vec<SchemaDef>> {
        self.inner.schema()
    }
    fn count_nodes(&self, label: Option<&str>) -> Result<u64> {
        self.add(1);
        self.inner.count_nodes(label)
    }
    fn labels(&self) -> Result<Vec<String>> {
        self.add(1);
        self.inner.labels()
    }
    fn relationship_types(&self) -> Result<Vec<String>> {
        self.add(1);
        self.inner.relationship_types()
    }
    fn property_keys(&self) -> Result<Vec<String>> {
        self.add(1);
        self.inner.property_keys()
    }
    fn node_exists(&self, id: NodeId) -> Result<bool> {
        self.add(1);
        self.inner.node_exists(id)
    }
    fn node_property(&self, id: NodeId, key: &str) -> Result<Option<Value>> {
        self.add(1);
        self.inner.node_property(id, key)
    }
    fn node_labels(&self, id: NodeId) -> Result<Option<Vec<String>>> {
        self.add(1);
        self.inner.node_labels(id)
    }
    fn relationship_property(&self, id: RelId, key: &str) -> Result<Option<Value>> {
        self.add(1);
        self.inner.relationship_property(id, key)
    }
    fn degree(&self, node: NodeId, dir: ExpandDir, types: &[String]) -> Result<u64> {
        self.add(1);
        self.inner.degree(node, dir, types)
    }
    fn count_relationships(&self) -> Result<u64> {
        self.add(1);
        self.inner.count_relationships()
    }
    fn nodes_page(
        &self,
        label: Option<&str>,
        after: Option<NodeId>,
        limit: usize,
    ) -> Result<Vec<NodeId>> {
        let r = self.inner.nodes_page(label, after, limit)?;
        self.add(r.len() + 1);
        Ok(r)
    }
    fn relationships_page(&self, after: Option<RelId>, limit: usize) -> Result<Vec<RelId>> {
        let r = self.inner.relationships_page(after, limit)?;
        self.add(r.len() + 1);
        Ok(r)
    }
    // The lazy scans: one hit to open, one per item pulled (as the paged defaults would
    // count them, without falling back to pages under PROFILE).
    fn node_ids<'b>(&'b self, label: Option<&str>) -> Result<Iter<'b, NodeId>> {
        self.add(1);
        Ok(self.counted(self.inner.node_ids(label)?))
    }
    fn relationship_ids<'b>(&'b self) -> Result<Iter<'b, RelId>> {
        self.add(1);
        Ok(self.counted(self.inner.relationship_ids()?))
    }
    fn expand_iter<'b>(
        &'b self,
        node: NodeId,
        dir: ExpandDir,
        types: &[String],
    ) -> Result<Iter<'b, Edge>> {
        self.add(1);
        Ok(self.counted(self.inner.expand_iter(node, dir, types)?))
    }
    fn node_property_scan<'b>(
        &'b self,
        label: Option<&str>,
        key: &str,
    ) -> Result<Iter<'b, (NodeId, Option<Value>)>> {
        self.add(1);
        Ok(self.counted(self.inner.node_property_scan(label, key)?))
    }
    fn label_count(&self, label: &str) -> Result<u64> {
        self.add(1);
        self.inner.label_count(label)
    }
    fn node_count(&self) -> Result<u64> {
        self.add(1);
        self.inner.node_count()
    }
}

impl<'a> Counting<'a> {
    /// `it`, adding one hit per item pulled.
    fn counted<'b, T: 'b>(&'b self, it: Iter<'b, T>) -> Iter<'b, T> {
        let hits = self.hits;
        Box::new(it.inspect(move |_| hits.set(hits.get().saturating_add(1))))
    }
}
