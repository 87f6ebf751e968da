//! The logical plan of a query and the pull-based executor over it.
//!
//! A plan is built once per query from the analysed AST: a tree of operators (argument,
//! node scan / index seek / expand, filter, unwind, projection, distinct, sort, top-k,
//! skip, limit, aggregation). Each operator pulls rows from its child on demand, so the
//! streaming operators (scan, expand, unwind, filter, projection, skip, limit) never hold more
//! than the row at hand; only the breakers (sort, top-k, aggregation, distinct) buffer. LIMIT
//! stops pulling its input; ORDER BY + LIMIT k keeps a heap of k rows.
//!
//! Rows are slot frames: the planner gives every variable definition (a pattern variable,
//! an UNWIND variable, a projected column) a slot of its own, and the operators pass one
//! frame (`Vec<Value>`, a value or entity reference per slot) down the pipeline: each
//! operator writes only the slots it defines, so an operator that produces several rows
//! from one input row (scan, expand, unwind) keeps its input in the frame untouched.
//! Expressions read a frame through the names of the operator's scope ([`FrameVars`]);
//! entities are references (ids) until a row leaves the engine. The buffering operators
//! (sort, top-k, aggregation) keep only the values of the slots in scope, charged to the
//! query's memory budget. Scans are read from the storage a page at a time (the plan holds
//! no borrow of it between pulls), with the cancel flag and the clock checked before each
//! page; chains of fixed single hops are expanded slot to slot ([`ExpandShape`], `Walk`).
//! Several pattern parts of which at most one has relationships are matched part by part
//! (one match each, the WHERE on the last), so a cartesian product streams. Parts the frame
//! pipeline does not do itself (variable-length and quantified patterns, predicates inside
//! patterns, path variables, pattern parts sharing relationship uniqueness, DISTINCT with
//! ORDER BY) hand a row built from the frame to the matcher or the projection code and write
//! the slots back.
//!
//! Queries the executor cannot run yet (updates, procedure calls, subqueries) run on
//! the clause-at-a-time runner (`runner.rs`); [`plan_query`] still describes them for EXPLAIN.

use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::Arc;

use graphward_core::engine::PlanDescription;
use graphward_core::{Result, Value};
use graphward_storage::{
    Edge, ExpandDir, GraphRead, IndexPage, Iter, NodeId, NodeRecord, RelId, RelRecord, SchemaDef,
};

use super::eval::{node_ref, Ev, Row, Vars};
use super::matcher::{count_store_shape, Access, Anchor, CountOf, Counted, Seek, SeekBound};
use super::project::{
    contains_aggregate, map_children, pattern_vars, projection_items, substitute_items,
    walk as walk_exprs, Aggregator,
};
use super::seek_hints;
use super::values::{key, order};
use crate::ast::{
    BinaryOp, Clause, Direction, Expr, LoadCsv, Match, NodePattern, PatternPart, Projection, Query,
    RelationshipPattern, SingleQuery, SortItem, Unwind,
};

/// A plan: its root operator, the result columns, and whether the streaming executor can run
/// it (otherwise it only describes what the clause runner does, for EXPLAIN).
pub struct Plan {
    pub root: Node,
    pub columns: Vec<String>,
    /// The slot of each result column.
    pub column_slots: Vec<usize>,
    /// Slots in a frame.
    pub width: usize,
    pub executable: bool,
}

/// One row of the streaming executor: a value (or entity reference) per slot.
pub type Frame = Vec<Value>;

/// The variables visible to an operator, each with its slot.
type Scope = Arc<[(String, usize)]>;

/// A frame read through the names of a scope (what expressions evaluate against).
pub struct FrameVars<'f> {
    pub frame: &'f [Value],
    pub scope: &'f [(String, usize)],
}

impl Vars for FrameVars<'_> {
    fn var(&self, name: &str) -> Option<&Value> {
        self.scope
            .iter()
            .find(|(n, _)| super::eval::same_name(n, name))
            .and_then(|(_, s)| self.frame.get(*s))
    }
    fn frame(&self) -> Option<(&[Value], &super::eval::Slots)> {
        Some((self.frame, self.scope))
    }
    fn to_row(&self) -> std::borrow::Cow<'_, Row> {
        std::borrow::Cow::Owned(frame_row(self.frame, self.scope))
    }
}

/// The row a frame holds for `scope` (for the parts that work on rows).
fn frame_row(frame: &[Value], scope: &[(String, usize)]) -> Row {
    let mut r = Row::with_capacity(scope.len());
    for (n, s) in scope {
        r.insert(n.clone(), frame.get(*s).cloned().unwrap_or(Value::Null));
    }
    r
}

/// Writes the next row `pending` holds (the matches or subquery rows of the current input
/// row) into the slots of `defs`; `false` when it holds none.
fn emit_pending(
    pending: &mut VecDeque<Row>,
    frame: &mut [Value],
    defs: &[(String, usize)],
) -> bool {
    match pending.pop_front() {
        Some(r) => {
            write_row(frame, defs, r);
            true
        }
        None => false,
    }
}

/// Writes the variables `defs` of `row` into their slots.
fn write_row(frame: &mut [Value], defs: &[(String, usize)], mut row: Row) {
    for (n, s) in defs {
        if let Some(slot) = frame.get_mut(*s) {
            *slot = row.remove(n).unwrap_or(Value::Null);
        }
    }
}

fn set(frame: &mut [Value], slot: usize, v: Value) {
    if let Some(x) = frame.get_mut(slot) {
        *x = v;
    }
}

/// Writes a reference to node `id` into `slot`, reusing the box of the reference the slot
/// holds (a scan or an expansion writes one per row).
fn set_node(frame: &mut [Value], slot: usize, id: NodeId) {
    if let Some(Value::Node(n)) = frame.get_mut(slot) {
        if n.element_id.is_empty() && n.labels.is_empty() && n.properties.is_empty() {
            n.id = id as i64;
            return;
        }
    }
    set(frame, slot, node_ref(id));
}

/// `*dst = src.clone()`, reusing `dst`'s box when both are node references (a top-k whose
/// every row enters the heap copies one per row).
fn assign(dst: &mut Value, src: &Value) {
    if let (Value::Node(d), Value::Node(n)) = (&mut *dst, src) {
        let is_ref = |x: &graphward_core::value::Node| {
            x.element_id.is_empty() && x.labels.is_empty() && x.properties.is_empty()
        };
        if is_ref(d) && is_ref(n) {
            d.id = n.id;
            return;
        }
    }
    dst.clone_from(src);
}

/// The values of a scope's slots (what a buffering operator keeps of a row).
fn take_values(frame: &[Value], scope: &[(String, usize)]) -> Vec<Value> {
    scope
        .iter()
        .map(|(_, s)| frame.get(*s).cloned().unwrap_or(Value::Null))
        .collect()
}

fn put_values(frame: &mut [Value], scope: &[(String, usize)], vals: Vec<Value>) {
    for ((_, s), v) in scope.iter().zip(vals) {
        set(frame, *s, v);
    }
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
    /// A count the storage keeps, written to every column's slot: the one row of a query of
    /// [`count_store_shape`] (a leaf, no scan).
    CountStore {
        of: CountOf,
        slots: Vec<usize>,
        done: bool,
    },
    /// One pattern part matched from its anchor candidates, one candidate at a time.
    MatchStream {
        m: Box<Match>,
        /// The property of the pattern's node the query reads (most often), read along with
        /// the ids when the anchor is a scan.
        prefetch: Option<Arc<str>>,
        describe: Box<MatchShape>,
        cur: Option<MatchCursor>,
        pending: VecDeque<Row>,
        /// The input's variables, and the ones the pattern binds (with their slots).
        input: Scope,
        defs: Scope,
        /// All of them (what WHERE sees).
        output: Scope,
        /// A pattern of one new node with labels at most: a scan or a seek writes the node's
        /// slot itself (no row, no matcher); `Some(slot)` (`None` inside for an anonymous
        /// node).
        scan_slot: Option<Option<usize>>,
        /// A chain of single hops the plan expands itself, reading and writing slots (see
        /// [`ExpandShape`]); `None` when the matcher walks the pattern.
        expand: Option<Box<ExpandShape>>,
        /// The order the ORDER BY above wants this match's rows in (see [`OrderHint`]).
        order: Option<Box<OrderHint>>,
        /// The access path decided for the first input row, when it depends on nothing that
        /// changes from row to row (see [`value_independent`]): the rows after it start
        /// there too, without deciding again.
        fixed: Option<Box<Access>>,
    },
    /// A pattern the streaming matcher does not walk (several parts, shortest paths): all the
    /// matches of one input row at a time.
    MatchPerRow {
        m: Box<Match>,
        scope: Vec<String>,
        describe: Box<MatchShape>,
        pending: VecDeque<Row>,
        input: Scope,
        defs: Scope,
    },
    Unwind {
        u: Unwind,
        cur: Option<Items>,
        input: Scope,
        slot: usize,
    },
    /// LOAD CSV: the rows of the file each input row names, one record at a time.
    LoadCsv {
        l: Box<LoadCsv>,
        cur: Option<Box<super::csv::CsvRows>>,
        input: Scope,
        slot: usize,
    },
    /// Evaluates the items against the input row and writes them to their slots (the row
    /// ORDER BY and WITH ... WHERE see holds both); an item that passes a variable on under
    /// its own name keeps its slot.
    Project {
        items: Vec<(String, Expr)>,
        slots: Vec<Option<usize>>,
        input: Scope,
        /// Rows so far (the cancel flag and the clock are read every 64).
        ticks: u64,
    },
    Distinct {
        columns: Vec<String>,
        slots: Vec<usize>,
        seen: HashSet<String>,
        /// The keys seen, charged to the query (taken on the first pull).
        held: Option<graphward_core::memory::Reservation>,
    },
    /// ORDER BY; with `skip`/`limit` a top-k of `skip + limit` rows.
    Sort {
        items: Vec<SortItem>,
        skip: Option<Expr>,
        limit: Option<Expr>,
        out: Option<VecDeque<Vec<Value>>>,
        input: Scope,
        /// Set by the match below when it reads its anchor in this sort's order from an
        /// index (see [`OrderHint`]): the sort then passes its input on as it comes.
        ordered: Option<Arc<AtomicBool>>,
        passing: bool,
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
        input: Scope,
        ticks: u64,
    },
    /// The projected columns (a scope boundary: the planner narrows the scope, the frame
    /// is passed on as it is); `produce`: the query's result (ProduceResults).
    Select {
        columns: Vec<String>,
        produce: bool,
    },
    /// Aggregation: it consumes its input as it is pulled, then hands out the groups.
    Eager {
        p: Box<Projection>,
        scope: Vec<String>,
        where_: Option<Expr>,
        out: Option<VecDeque<Row>>,
        input: Scope,
        columns: Scope,
    },
    /// UNION [ALL]: the branches one after another, each branch's result columns moved into
    /// the first branch's slots (UNION without ALL is this under a DISTINCT).
    Union {
        columns: Vec<String>,
        /// Each branch's result slots, in column order.
        branches: Vec<Vec<usize>>,
        /// The branch being pulled.
        at: usize,
    },
    /// `[OPTIONAL] CALL [(vars)] { ... }` of reading clauses only: for each input row, the
    /// subquery's rows for it (run by [`Ev::run_subquery`] on that row, its imported
    /// variables), one at a time; with OPTIONAL, a row it gives none for goes on with nulls.
    /// The second child is the subquery's plan, for EXPLAIN only.
    Apply {
        q: Box<Query>,
        optional: bool,
        imports: Option<Vec<String>>,
        columns: Vec<String>,
        pending: VecDeque<Row>,
        input: Scope,
        /// The subquery's columns (new to the outer scope) and their slots.
        defs: Scope,
    },
    /// A clause only the clause runner executes (described for EXPLAIN).
    Other {
        name: String,
        details: String,
    },
}

impl Op {
    /// A match whose cursor reads a label scan with no per-row work but its WHERE (one node
    /// pattern, no other label to check, no expansion, no row pending): its clause, cursor,
    /// the node's slot and the scope WHERE reads (see [`Node::drain_page`]).
    fn plain_scan(&mut self) -> Option<(&Match, &mut MatchCursor, Option<usize>, &Scope)> {
        let Op::MatchStream {
            m,
            cur: Some(c),
            pending,
            scan_slot: Some(slot),
            output,
            ..
        } = self
        else {
            return None;
        };
        if !pending.is_empty() || !c.anchor.scan || c.other_labels || c.walk.is_some() {
            return None;
        }
        Some((m, c, *slot, output))
    }
}

/// An ORDER BY on one property of a node (`ORDER BY n.p [DESC]`), handed by the planner
/// ([`order_by_index`]) to the match that binds `n` when nothing between them reorders rows
/// and the match runs once (on the query's one-row leaf). When that match scans `n`'s label
/// (or seeks a range of `p`) and the storage says an index on the label's `p` lists every
/// node of the label in ORDER BY's order ([`GraphRead::index_orders`]), the match reads its
/// candidates from that index in order ([`OrderedPages`], only the range for a range seek)
/// and sets `used`: the sort above passes rows on as they come, so `ORDER BY n.p LIMIT k`
/// reads about k index entries instead of the whole label.
struct OrderHint {
    var: String,
    key: Arc<str>,
    descending: bool,
    used: Arc<AtomicBool>,
}

/// A match read in an index's order: the node pattern, its label, and the range of a range
/// seek on the ordered property (`None`: the whole index, for a label scan).
type InOrder = (usize, String, Option<(SeekBound, SeekBound)>);

impl OrderHint {
    /// Whether the access path `access` of `part` can be read in this order from an index:
    /// a scan of the hint's node's label, or a range seek on the ordered property, when the
    /// index on it lists every node of the label in ORDER BY's order.
    fn in_order(
        &self,
        g: &dyn GraphRead,
        part: &PatternPart,
        access: &Access,
    ) -> Result<Option<InOrder>> {
        let (node, label, range) = match access {
            Access::LabelScan { node, label } => (*node, label, None),
            Access::NodeIndexSeek {
                node,
                label,
                property,
                seek: Seek::Range { lower, upper },
                ..
            } if **property == *self.key => (*node, label, Some((lower.clone(), upper.clone()))),
            _ => return Ok(None),
        };
        let (nps, _) = MatchShape::patterns(part);
        let named = nps
            .get(node)
            .and_then(|n| n.variable.as_deref())
            .is_some_and(|v| v == self.var);
        if !named || !g.index_orders(label, &self.key)? {
            return Ok(None);
        }
        Ok(Some((node, label.clone(), range)))
    }

    /// The anchor and candidates of `part` on `row` read in this order from an index, when
    /// the access path the matcher takes (`access`) allows it and the range's bounds are
    /// values the index orders (a null or another type: `None`, the match goes its usual way).
    fn start(
        &self,
        ev: &Ev,
        part: &PatternPart,
        row: &Row,
        access: &Access,
    ) -> Result<Option<(Anchor, OrderedPages)>> {
        let Some((node, label, range)) = self.in_order(ev.g, part, access)? else {
            return Ok(None);
        };
        let bound = |b: &SeekBound| -> Result<std::ops::Bound<Value>> {
            Ok(match b {
                None => std::ops::Bound::Unbounded,
                Some((e, true)) => std::ops::Bound::Included(ev.eval(e, row)?),
                Some((e, false)) => std::ops::Bound::Excluded(ev.eval(e, row)?),
            })
        };
        let range = match &range {
            Some((lower, upper)) => (bound(lower)?, bound(upper)?),
            None => (std::ops::Bound::Unbounded, std::ops::Bound::Unbounded),
        };
        let mut pages = OrderedPages {
            label: label.clone(),
            key: self.key.clone(),
            range,
            descending: self.descending,
            after: None,
            page: FIRST_PAGE,
            buf: VecDeque::new(),
            done: false,
            held: ev.env.mem.reservation(),
        };
        if !pages.fill(ev)? {
            return Ok(None);
        }
        // Every candidate has the label (the index holds only such nodes), as in a scan.
        let anchor = Anchor {
            index: node,
            label: Some(label),
            scan: true,
            sought: None,
        };
        Ok(Some((anchor, pages)))
    }
}

/// How EXPLAIN shows a MATCH. For a single pattern part, its access path is the matcher's own
/// decision ([`super::matcher::access_path`]), taken against a graph by
/// [`Node::resolve_access`]: the scan or seek of a lone node pattern, or the leaf under the
/// expansion.
#[derive(Clone)]
struct MatchShape {
    operator: String,
    details: String,
    identifiers: Vec<String>,
    /// The pattern part whose access path is shown, and the variables bound before it.
    part: Option<(Box<PatternPart>, Vec<String>)>,
    /// That access path, once resolved.
    access: Option<Access>,
    /// The access path (a label scan, or a range seek on the property) read in the order of
    /// an index: the property and whether descending (see [`OrderHint`]).
    ordered: Option<(Arc<str>, bool)>,
    optional: bool,
}

impl MatchShape {
    fn prefix(&self) -> &'static str {
        if self.optional {
            "Optional"
        } else {
            ""
        }
    }

    /// The part's node and relationship patterns.
    fn patterns(part: &PatternPart) -> (Vec<&NodePattern>, Vec<&RelationshipPattern>) {
        let mut nps = vec![&part.element.start];
        nps.extend(part.element.chain.iter().map(|(_, n)| n));
        let rps = part.element.chain.iter().map(|(r, _)| r).collect();
        (nps, rps)
    }

    /// ` ORDER BY p DESC` when the access path is read in an index's order.
    fn ordered_text(&self) -> String {
        match &self.ordered {
            Some((key, descending)) => {
                format!(
                    " ORDER BY {key} {}",
                    if *descending { "DESC" } else { "ASC" }
                )
            }
            None => String::new(),
        }
    }

    /// The operator, details and identifiers of the access path (`None` for a bound node,
    /// which has no leaf of its own).
    fn access_text(&self) -> Option<(String, String, Vec<String>)> {
        let (part, _) = self.part.as_ref()?;
        let (nps, rps) = Self::patterns(part);
        let var = |i: usize| {
            nps.get(i)
                .and_then(|n| n.variable.clone())
                .unwrap_or_default()
        };
        let ids = |i: usize| {
            nps.get(i)
                .and_then(|n| n.variable.clone())
                .into_iter()
                .collect()
        };
        Some(match self.access.as_ref()? {
            Access::Bound { .. } => return None,
            Access::NodeIndexSeek {
                node,
                label,
                property,
                seek,
                unique,
            } => {
                let by_range = matches!(seek, Seek::Range { .. } | Seek::Prefix(_));
                let condition = seek_condition(property, seek);
                (
                    format!(
                        "Node{}IndexSeek{}",
                        if *unique { "Unique" } else { "" },
                        if by_range { "ByRange" } else { "" }
                    ),
                    format!(
                        "{} {}:{label}({property}) WHERE {condition}{}",
                        if *unique { "UNIQUE" } else { "RANGE INDEX" },
                        var(*node),
                        self.ordered_text(),
                    ),
                    ids(*node),
                )
            }
            Access::NodeCompositeSeek {
                node,
                label,
                properties,
                values,
                unique,
            } => (
                if *unique {
                    "NodeUniqueIndexSeek"
                } else {
                    "NodeIndexSeek"
                }
                .to_string(),
                format!(
                    "{} {}:{label}({}) WHERE {}",
                    if *unique { "UNIQUE" } else { "RANGE INDEX" },
                    var(*node),
                    properties.join(", "),
                    properties
                        .iter()
                        .zip(values)
                        .map(|(p, v)| format!("{p} = {}", expr_text(v)))
                        .collect::<Vec<_>>()
                        .join(" AND ")
                ),
                ids(*node),
            ),
            Access::RelIndexSeek {
                rel,
                rel_type,
                property,
                seek,
                direction,
            } => {
                let condition = seek_condition(property, seek);
                let r = rps.get(*rel).and_then(|r| r.variable.clone());
                let (l, rr) = match direction {
                    Direction::Outgoing => ("-", "->"),
                    Direction::Incoming => ("<-", "-"),
                    Direction::Both => ("-", "-"),
                };
                let mut identifiers: Vec<String> = ids(*rel);
                identifiers.extend(r.clone());
                identifiers.extend(ids(rel + 1));
                (
                    if *direction == Direction::Both {
                        "UndirectedRelationshipIndexSeek"
                    } else {
                        "DirectedRelationshipIndexSeek"
                    }
                    .to_string(),
                    format!(
                        "RANGE INDEX ({}){l}[{}:{rel_type}({property})]{rr}({}) WHERE {condition}",
                        var(*rel),
                        r.unwrap_or_default(),
                        var(rel + 1),
                    ),
                    identifiers,
                )
            }
            Access::LabelScan { node, label } => match &self.ordered {
                Some((key, _)) => (
                    "NodeIndexScan".to_string(),
                    format!(
                        "RANGE INDEX {}:{label}({key}){}",
                        var(*node),
                        self.ordered_text()
                    ),
                    ids(*node),
                ),
                None => (
                    "NodeByLabelScan".to_string(),
                    format!("{}:{label}", var(*node)),
                    ids(*node),
                ),
            },
            Access::AllNodes => ("AllNodesScan".to_string(), var(0), ids(0)),
        })
    }
}

struct MatchCursor {
    /// The input as a row (for the matcher; empty for a scan that writes its slot itself).
    row: Row,
    anchor: super::matcher::Anchor,
    candidates: Candidates,
    /// The expansion from the current candidate (with `ExpandShape`).
    walk: Option<Walk>,
    any: bool,
    pulled: u64,
    /// Whether the scanned node pattern has labels besides the one the scan reads (checked
    /// per candidate then; decided once per cursor).
    other_labels: bool,
    /// The candidate ids an index seek found, charged to the query while they are held.
    _held: graphward_core::memory::Reservation,
}

/// Where the anchor candidates of a match come from.
enum Candidates {
    /// Known when the match starts: a bound node, an index seek (a handful, or as many as a
    /// range holds: charged to the query's memory).
    Ids(std::vec::IntoIter<NodeId>),
    /// A scan, read from the storage a page at a time.
    Scan(Box<ScanPages>),
    /// A label scan, or the range of a range seek, read in the order of an index a page at a
    /// time.
    Ordered(Box<OrderedPages>),
}

impl Candidates {
    /// The next candidate, with the prefetched property when the scan reads one.
    fn next(&mut self, ev: &Ev) -> Result<Option<(NodeId, Option<Value>)>> {
        match self {
            Candidates::Ids(it) => Ok(it.next().map(|id| (id, None))),
            Candidates::Scan(s) => s.next(ev),
            Candidates::Ordered(o) => Ok(o.next(ev)?.map(|id| (id, None))),
        }
    }
}

/// The first page a scan reads: a LIMIT that needs one row reads a handful of records.
const FIRST_PAGE: usize = 8;
/// Pages double up to this many ids (the storage reads a page in about 0.1-0.3 ms).
const MAX_PAGE: usize = 1024;

/// A label scan (or a scan of every node) pulled from the storage a page at a time: the plan
/// holds no borrow of the storage transaction between pulls, so each page resumes after the
/// last id of the one before (ids ascend). The cancel flag and the clock are checked before
/// every page, so a query over its time limit (a short read on a Bolt connection's thread,
/// whose limit is 1 ms) stops within a page of it instead of after the whole scan.
pub(crate) struct ScanPages {
    label: Option<String>,
    /// The property read along with each id (see `prefetch_key`).
    key: Option<Arc<str>>,
    after: Option<NodeId>,
    /// The size of the next page: small first, doubling to [`MAX_PAGE`].
    page: usize,
    /// The rest of the page read last, in reverse (the next candidate last).
    buf: Vec<(NodeId, Option<Value>)>,
    done: bool,
    /// What the page in `buf` holds, charged to the query.
    held: graphward_core::memory::Reservation,
}

impl ScanPages {
    fn new(ev: &Ev, label: Option<String>, key: Option<Arc<str>>) -> ScanPages {
        ScanPages {
            label,
            key,
            after: None,
            page: FIRST_PAGE,
            buf: Vec::new(),
            done: false,
            held: ev.env.mem.reservation(),
        }
    }

    fn next(&mut self, ev: &Ev) -> Result<Option<(NodeId, Option<Value>)>> {
        self.fill(ev)?;
        Ok(self.buf.pop())
    }

    /// The rest of the page read last, or the next page when none is left (empty when the
    /// scan is done), in reverse order like `buf`: what [`Node::scan_page`] hands over.
    fn take_page(&mut self, ev: &Ev) -> Result<Vec<(NodeId, Option<Value>)>> {
        self.fill(ev)?;
        Ok(std::mem::take(&mut self.buf))
    }

    /// Reads the next page into `buf` when it is empty and the scan is not done.
    fn fill(&mut self, ev: &Ev) -> Result<()> {
        if self.buf.is_empty() && !self.done {
            ev.env.check()?;
            let mut page = read_page(
                ev.g,
                self.label.as_deref(),
                self.key.as_deref(),
                self.after,
                self.page,
            )?;
            if page.len() < self.page {
                self.done = true;
            }
            match page.last() {
                Some((id, _)) => self.after = Some(*id),
                None => self.done = true,
            }
            self.held.resize(page_bytes(&page))?;
            self.page = self.page.saturating_mul(2).min(MAX_PAGE);
            // Taken from the end: the page reversed once, no copy into another buffer.
            page.reverse();
            self.buf = page;
        }
        Ok(())
    }
}

/// Up to `limit` nodes of `label` (every node for `None`) after `after`, each with its
/// property `key` when the scan reads one: a scan's next page.
pub(crate) fn read_page(
    g: &dyn GraphRead,
    label: Option<&str>,
    key: Option<&str>,
    after: Option<NodeId>,
    limit: usize,
) -> Result<Vec<(NodeId, Option<Value>)>> {
    Ok(match key {
        Some(k) => g.node_property_page(label, k, after, limit)?,
        None => g
            .nodes_page(label, after, limit)?
            .into_iter()
            .map(|id| (id, None))
            .collect(),
    })
}

/// What a page of a scan holds in memory: its entries and the values read with them.
pub(crate) fn page_bytes(page: &[(NodeId, Option<Value>)]) -> u64 {
    let entry = std::mem::size_of::<(NodeId, Option<Value>)>();
    let bytes = page.iter().fold(0usize, |acc, (_, v)| {
        let heap = v.as_ref().map_or(0, |v| {
            super::values::measure(v)
                .bytes
                .saturating_sub(std::mem::size_of::<Value>())
        });
        acc.saturating_add(entry + heap)
    });
    bytes as u64
}

/// A page of a plain scan's rows handed over at once (see [`Node::scan_page`]), in reverse
/// order (the next row last): each node's id and the property the scan reads with it.
pub(crate) struct ScanPage {
    /// The scanned node's slot (`None`: an anonymous node).
    pub slot: Option<usize>,
    /// The property read along with each id, when the scan reads one.
    pub key: Option<Arc<str>>,
    pub rows: Vec<(NodeId, Option<Value>)>,
}

impl ScanPage {
    /// What the scan writes for one of its rows (as a pull of it would): the node's slot, and
    /// the property read with it where `Ev::node_prop` finds it.
    pub(crate) fn write_row(&self, ev: &Ev, frame: &mut [Value], id: NodeId, v: Option<Value>) {
        if let Some(key) = self.key.as_ref() {
            set_prefetched(ev, key, id, v);
        }
        if let Some(s) = self.slot {
            set_node(frame, s, id);
        }
    }
}

/// What opening a [`Op::MatchStream`]'s cursor reads of it.
struct OpenMatch<'o> {
    m: &'o Match,
    prefetch: Option<&'o Arc<str>>,
    input: &'o Scope,
    scan_slot: Option<&'o Option<usize>>,
    expand: Option<&'o ExpandShape>,
    order: Option<&'o OrderHint>,
}

impl OpenMatch<'_> {
    /// The match's cursor for its next input row (pulled from `children`): the access path
    /// (`fixed` once it depends on no row), the anchor and its candidates. `None` when the
    /// input has no more rows.
    fn cursor(
        &self,
        children: &mut [Node],
        cx: &Cx,
        frame: &mut Frame,
        fixed: &mut Option<Box<Access>>,
    ) -> Result<Option<MatchCursor>> {
        let ev = &cx.ev;
        let OpenMatch {
            m,
            prefetch,
            input,
            scan_slot,
            expand,
            order,
        } = *self;
        let Some(part) = m.pattern.first() else {
            return Ok(None);
        };
        if !Node::child(children, cx, frame)? {
            return Ok(None);
        }
        let row = frame_row(frame, input);
        // An ORDER BY above that an index gives in order (see `OrderHint`):
        // the access path is decided here then, once for both.
        let access = match order {
            Some(_) => {
                let (nps, rps) = MatchShape::patterns(part);
                Some(ev.access_for(&nps, &rps, &row, false)?)
            }
            None => None,
        };
        let in_order = match (order, &access) {
            (Some(h), Some(a)) => h.start(ev, part, &row, a)?,
            _ => None,
        };
        // What the sort above goes by is what this match does now (not what
        // EXPLAIN's resolution of the access path said).
        if let Some(h) = order {
            h.used.store(in_order.is_some(), AtomicOrdering::Relaxed);
        }
        let (anchor, candidates, held) = match in_order {
            Some((anchor, pages)) => (
                anchor,
                Candidates::Ordered(Box::new(pages)),
                ev.hold_ids(0)?,
            ),
            None => {
                // Decided once when nothing of it changes from row to row.
                let access = match (access, fixed.as_deref()) {
                    (Some(a), _) => Some(a),
                    (None, Some(f)) => Some(f.clone()),
                    (None, None) => {
                        let (nps, rps) = MatchShape::patterns(part);
                        let a = ev.access_for(&nps, &rps, &row, true)?;
                        if value_independent(&a, &nps) {
                            *fixed = Some(Box::new(a.clone()));
                        }
                        Some(a)
                    }
                };
                let (anchor, ids) = ev.part_anchor(part, &row, access)?;
                let held = ev.hold_ids(ids.as_ref().map_or(0, Vec::len))?;
                let candidates = match ids {
                    Some(ids) => Candidates::Ids(ids.into_iter()),
                    None => Candidates::Scan(Box::new(ScanPages::new(
                        ev,
                        anchor.label.clone(),
                        prefetch.cloned().filter(|_| part.element.chain.is_empty()),
                    ))),
                };
                (anchor, candidates, held)
            }
        };
        let fast = scan_slot.is_some() || expand.is_some();
        let other_labels = has_other_labels(&part.element.start, anchor.label.as_deref());
        Ok(Some(MatchCursor {
            other_labels,
            row: if fast { Row::new() } else { row },
            anchor,
            candidates,
            walk: None,
            any: false,
            pulled: 0,
            _held: held,
        }))
    }
}

/// The ids the rest of scan `s` may return (after the last it read) and a helper to read
/// them with, when the scan is between pages (not done, no page held), there are enough ids
/// to read in parallel ([`super::parallel::MIN_SPAN`]), the scan returns enough nodes (a
/// sparse label's few nodes spread over many ids are read at once on one thread) and a
/// helper is free.
fn parallel_start(
    g: &dyn GraphRead,
    s: &ScanPages,
) -> Result<Option<(NodeId, NodeId, super::parallel::Helper)>> {
    if s.done || !s.buf.is_empty() {
        return Ok(None);
    }
    let nodes = match s.label.as_deref() {
        Some(l) => g.label_count(l)?,
        None => g.node_count()?,
    };
    if nodes < super::parallel::MIN_NODES {
        return Ok(None);
    }
    let start = match s.after {
        None => 0,
        Some(a) => match a.checked_add(1) {
            Some(n) => n,
            None => return Ok(None),
        },
    };
    let Some((lo, last)) = g.node_id_span(s.label.as_deref())? else {
        return Ok(None);
    };
    let first = start.max(lo);
    if last < first || last - first < super::parallel::MIN_SPAN {
        return Ok(None);
    }
    Ok(super::parallel::helper().map(|h| (first, last, h)))
}

/// Whether the row in `frame` passes a WHERE (every row passes none).
fn passes(
    ev: &Ev,
    where_: Option<&Expr>,
    frame: &[Value],
    scope: &[(String, usize)],
) -> Result<bool> {
    match where_ {
        Some(w) => Ok(ev.eval_in(w, &FrameVars { frame, scope })? == Value::Bool(true)),
        None => Ok(true),
    }
}

/// A projection's items evaluated against the row in `frame`, then written to their slots.
fn project_row(
    ev: &Ev,
    items: &[(String, Expr)],
    slots: &[Option<usize>],
    input: &[(String, usize)],
    frame: &mut Frame,
) -> Result<()> {
    // One item reads the input before its slot is written; several are all evaluated
    // first (one may read a slot another writes).
    if let ([(_, e)], [Some(s)]) = (items, slots) {
        let v = ev.eval_in(
            e,
            &FrameVars {
                frame,
                scope: input,
            },
        )?;
        set(frame, *s, v);
        return Ok(());
    }
    let mut vals = Vec::with_capacity(items.len());
    {
        let vars = FrameVars {
            frame,
            scope: input,
        };
        for ((_, e), s) in items.iter().zip(slots.iter()) {
            if s.is_some() {
                vals.push(ev.eval_in(e, &vars)?);
            }
        }
    }
    for (s, v) in slots.iter().flatten().zip(vals) {
        set(frame, *s, v);
    }
    Ok(())
}

/// Node `id`'s property `key`, read along with it by a scan, where `Ev::node_prop` finds it.
fn set_prefetched(ev: &Ev, key: &Arc<str>, id: NodeId, v: Option<Value>) {
    let mut p = ev.prefetched.borrow_mut();
    match &mut *p {
        Some((pid, pkey, pv)) if Arc::ptr_eq(pkey, key) => {
            *pid = id;
            *pv = v;
        }
        other => *other = Some((id, key.clone(), v)),
    }
}

/// The nodes of a label in the order of an index on one of their properties (see
/// [`OrderHint`]), read a page at a time like [`ScanPages`]: each page resumes after the
/// last index key of the one before, the cancel flag and the clock checked before it.
pub(crate) struct OrderedPages {
    label: String,
    key: Arc<str>,
    /// The values read (both unbounded: the whole index).
    range: (std::ops::Bound<Value>, std::ops::Bound<Value>),
    descending: bool,
    after: Option<Vec<u8>>,
    page: usize,
    buf: VecDeque<NodeId>,
    done: bool,
    held: graphward_core::memory::Reservation,
}

impl OrderedPages {
    /// Reads the next page; `false` when the storage cannot read the index this way.
    fn fill(&mut self, ev: &Ev) -> Result<bool> {
        ev.env.check()?;
        let page: Option<IndexPage> = ev.g.index_order_page(
            &self.label,
            &self.key,
            (self.range.0.as_ref(), self.range.1.as_ref()),
            self.descending,
            self.after.as_deref(),
            self.page,
        )?;
        let Some((ids, resume)) = page else {
            self.done = true;
            return Ok(false);
        };
        self.done = resume.is_none();
        self.after = resume;
        let bytes = ids.len().saturating_mul(std::mem::size_of::<NodeId>())
            + self.after.as_ref().map_or(0, Vec::len);
        self.held.resize(bytes as u64)?;
        self.page = self.page.saturating_mul(2).min(MAX_PAGE);
        self.buf.extend(ids);
        Ok(true)
    }

    fn next(&mut self, ev: &Ev) -> Result<Option<NodeId>> {
        if self.buf.is_empty() && !self.done {
            self.fill(ev)?;
        }
        Ok(self.buf.pop_front())
    }
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

    /// Writes the next row into `frame`; `false` when there are no more.
    pub fn pull(&mut self, cx: &Cx, frame: &mut Frame) -> Result<bool> {
        let before = cx.hits.get();
        let r = self.pull_inner(cx, frame);
        self.hits_inclusive += cx.hits.get().saturating_sub(before);
        if let Ok(true) = &r {
            self.rows += 1;
        }
        r
    }

    /// The rest of a plain scan's page at once, for an operator above that takes its rows'
    /// values directly (aggregation): when this is a match of one node pattern whose cursor
    /// scans its label with nothing to check per row (no WHERE, no other label, no
    /// expansion, no row pending) and `take` accepts the scan (its node's slot and the
    /// property it reads with the node), what `take` answered and the rows the scan holds,
    /// or its next page. `None` otherwise, and when the scan is done: the caller then drains
    /// or pulls rows as usual (which starts a scan, ends one and takes the next input row).
    /// The rows count as this operator's, the page read as its storage hits, as if pulled
    /// one at a time.
    pub(crate) fn scan_page<T>(
        &mut self,
        cx: &Cx,
        take: impl FnOnce(Option<usize>, Option<&str>) -> Option<T>,
    ) -> Result<Option<(T, ScanPage)>> {
        let Some((m, c, slot, _)) = self.op.plain_scan() else {
            return Ok(None);
        };
        let Candidates::Scan(s) = &mut c.candidates else {
            return Ok(None);
        };
        if m.where_.is_some() {
            return Ok(None);
        }
        let Some(taken) = take(slot, s.key.as_deref()) else {
            return Ok(None);
        };
        let before = cx.hits.get();
        let rows = s.take_page(&cx.ev)?;
        self.hits_inclusive += cx.hits.get().saturating_sub(before);
        if rows.is_empty() {
            return Ok(None);
        }
        c.any = true;
        self.rows += rows.len() as u64;
        Ok(Some((
            taken,
            ScanPage {
                slot,
                key: s.key.clone(),
                rows,
            },
        )))
    }

    /// Opens the cursor of the match at the bottom of a chain of projections and filters,
    /// one of them or the match's WHERE a filter, when its input is the query's one-row
    /// leaf, not pulled yet, without reading a candidate. A parallel scan
    /// ([`Node::parallel_rows`]) may then read the whole scan, where pulling a first row
    /// would have read the scan on one thread up to the first node that passes the filter
    /// (all of it, for a filter few nodes pass). Only on a view threads may share (nothing
    /// runs in parallel otherwise). `filtered`: whether an operator above is a filter.
    pub(crate) fn open_scan(&mut self, cx: &Cx, frame: &mut Frame, filtered: bool) -> Result<()> {
        if cx.ev.g.shared().is_none() {
            return Ok(());
        }
        let Node { op, children, .. } = self;
        match op {
            Op::Project { .. } | Op::Filter { .. } | Op::Select { produce: false, .. } => {
                let filtered = filtered || matches!(op, Op::Filter { .. });
                match children.first_mut() {
                    Some(c) => c.open_scan(cx, frame, filtered),
                    None => Ok(()),
                }
            }
            Op::MatchStream {
                m,
                prefetch,
                cur,
                pending,
                input,
                scan_slot,
                expand,
                order,
                fixed,
                ..
            } if (filtered || m.where_.is_some())
                && cur.is_none()
                && pending.is_empty()
                && matches!(
                    children.first().map(|c| &c.op),
                    Some(Op::Argument { done: false })
                ) =>
            {
                let open = OpenMatch {
                    m,
                    prefetch: prefetch.as_ref(),
                    input,
                    scan_slot: scan_slot.as_ref(),
                    expand: expand.as_deref(),
                    order: order.as_deref(),
                };
                *cur = open.cursor(children, cx, frame, fixed)?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The rest of a plain scan aggregated in parallel ([`super::parallel`]) into `agg`'s
    /// one group: when this is a match of one node pattern whose cursor scans its label with
    /// nothing to check per row (as [`Node::scan_page`]), between pages, over enough ids
    /// ([`super::parallel::MIN_SPAN`]), every aggregate takes the scan's rows directly and
    /// merges ([`Aggregator::partial`]), the storage view is a snapshot threads may share,
    /// and a helper thread is free. `false` otherwise (nothing read). The rows count as this
    /// operator's; the scan ends.
    pub(crate) fn parallel_aggregate(&mut self, cx: &Cx, agg: &mut Aggregator) -> Result<bool> {
        let Some(g) = cx.ev.g.shared() else {
            return Ok(false);
        };
        let Some((m, c, slot, _)) = self.op.plain_scan() else {
            return Ok(false);
        };
        let Candidates::Scan(s) = &mut c.candidates else {
            return Ok(false);
        };
        if m.where_.is_some() {
            return Ok(false);
        }
        let (Some(args), Some(partial)) = (agg.page_args(slot, s.key.as_deref()), agg.partial())
        else {
            return Ok(false);
        };
        let Some((first, last, helper)) = parallel_start(g, s)? else {
            return Ok(false);
        };
        let scan = super::parallel::Scan {
            g,
            env: cx.ev.env,
            label: s.label.as_deref(),
            key: s.key.as_deref(),
            first,
            last,
        };
        let (parts, rows) = match s.key.as_deref().filter(|_| partial.takes_stats(&args)) {
            // Each page's totals when its values are integers (no row made), else its rows.
            Some(key) => super::parallel::scan_stats(
                &scan,
                key,
                helper,
                || (),
                || partial.clone(),
                |p, st| p.absorb_stats(&args, st),
                |_, p, page| p.feed_rows(&args, page),
            )?,
            None => super::parallel::scan(
                &scan,
                helper,
                || (),
                || partial.clone(),
                |_, p, page| p.feed_rows(&args, page),
            )?,
        };
        agg.merge(parts)?;
        s.done = true;
        s.after = Some(last);
        if rows > 0 {
            c.any = true;
        }
        self.rows += rows;
        Ok(true)
    }

    /// The rest of a plain scan read in parallel ([`super::parallel`]), each row that passes
    /// the match's WHERE handed to `each` on the thread that read it, with that thread's
    /// evaluator, its copy of `frame` holding the row, and the row's node id (ascending
    /// along the scan): each morsel's rows go to a state `init` makes for it. The states in
    /// the order of the morsels, when this is a match of one node pattern whose cursor scans
    /// its label with no per-row work but its WHERE (no other label, no expansion, no row
    /// pending), between pages, over enough ids ([`super::parallel::MIN_SPAN`]), the storage
    /// view is a snapshot threads may share and a helper is free; `None` otherwise (nothing
    /// read). The rows that pass count as this operator's; the scan ends.
    pub(crate) fn parallel_rows<T: Send>(
        &mut self,
        cx: &Cx,
        frame: &Frame,
        init: &(dyn Fn() -> T + Sync),
        each: &(dyn Fn(&mut T, &Ev, &mut Frame, NodeId) -> Result<()> + Sync),
    ) -> Result<Option<Vec<T>>> {
        let Some(g) = cx.ev.g.shared() else {
            return Ok(None);
        };
        // Through the projections and filters above the scan (as `drain_page` pushes a
        // page): each thread runs them on its row before `each`. (Their rows are not
        // counted: PROFILE reads on one thread.)
        let Node { op, children, .. } = self;
        match op {
            Op::MatchStream { .. } => {}
            Op::Project {
                items,
                slots,
                input,
                ..
            } => {
                let (items, slots, input) = (&*items, &*slots, &*input);
                return match children.first_mut() {
                    Some(child) => child.parallel_rows(cx, frame, init, &|st, ev, f, id| {
                        project_row(ev, items, slots, input, f)?;
                        each(st, ev, f, id)
                    }),
                    None => Ok(None),
                };
            }
            Op::Filter { pred, input, .. } => {
                let (pred, input) = (&*pred, &*input);
                return match children.first_mut() {
                    Some(child) => child.parallel_rows(cx, frame, init, &|st, ev, f, id| {
                        if passes(ev, Some(pred), f, input)? {
                            each(st, ev, f, id)?;
                        }
                        Ok(())
                    }),
                    None => Ok(None),
                };
            }
            Op::Select { produce: false, .. } => {
                return match children.first_mut() {
                    Some(child) => child.parallel_rows(cx, frame, init, each),
                    None => Ok(None),
                };
            }
            _ => return Ok(None),
        }
        let Some((m, c, slot, output)) = self.op.plain_scan() else {
            return Ok(None);
        };
        let Candidates::Scan(s) = &mut c.candidates else {
            return Ok(None);
        };
        let Some((first, last, helper)) = parallel_start(g, s)? else {
            return Ok(None);
        };
        let env = cx.ev.env;
        let scan = super::parallel::Scan {
            g,
            env,
            label: s.label.as_deref(),
            key: s.key.as_deref(),
            first,
            last,
        };
        let (key, where_) = (s.key.clone(), m.where_.as_ref());
        let (parts, _) = super::parallel::scan(
            &scan,
            helper,
            || (env.for_worker(), frame.clone()),
            || (init(), 0u64),
            |(wenv, wframe), (state, passed), page| {
                let ev = Ev::new(g, wenv);
                for (i, (id, v)) in page.into_iter().enumerate() {
                    if i % 64 == 63 {
                        wenv.check()?;
                    }
                    if let Some(k) = key.as_ref() {
                        set_prefetched(&ev, k, id, v);
                    }
                    if let Some(s) = slot {
                        set_node(wframe, s, id);
                    }
                    if passes(&ev, where_, wframe, output)? {
                        *passed += 1;
                        each(state, &ev, wframe, id)?;
                    }
                }
                Ok(())
            },
        )?;
        let passed: u64 = parts.iter().map(|(_, p)| *p).sum();
        s.done = true;
        s.after = Some(last);
        if passed > 0 {
            c.any = true;
        }
        self.rows += passed;
        Ok(Some(parts.into_iter().map(|(t, _)| t).collect()))
    }

    /// The rows of a plain scan's page pushed into `sink` one after another, through the
    /// projections and filters above the scan, for an operator that consumes its input
    /// without passing rows on (aggregation, sort): no pull through every operator per row.
    /// A page is handed over when the match below reads a label scan with no per-row work
    /// but its WHERE (no other label to check, no expansion, no row pending); `false` when
    /// there is none (a plan of another shape, a scan not started or done): the caller pulls
    /// a row as usual then (which starts a scan, ends one and takes the next input row). Each
    /// operator counts the rows it passes and the storage hits it makes as if pulled.
    pub(crate) fn drain_page(
        &mut self,
        cx: &Cx,
        frame: &mut Frame,
        sink: &mut dyn FnMut(&mut Frame) -> Result<()>,
    ) -> Result<bool> {
        let ev = &cx.ev;
        let before = cx.hits.get();
        let mut sink_hits = 0u64;
        let mut passed = 0u64;
        let mut sink = |f: &mut Frame| -> Result<()> {
            passed += 1;
            let b = cx.hits.get();
            let r = sink(f);
            sink_hits += cx.hits.get().saturating_sub(b);
            r
        };
        let drained = match &mut self.op {
            Op::MatchStream { .. } => {
                let Some((m, c, slot, output)) = self.op.plain_scan() else {
                    return Ok(false);
                };
                let Candidates::Scan(s) = &mut c.candidates else {
                    return Ok(false);
                };
                let mut page = ScanPage {
                    slot,
                    key: s.key.clone(),
                    rows: s.take_page(ev)?,
                };
                let any = !page.rows.is_empty();
                let mut n = 0u32;
                while let Some((id, v)) = page.rows.pop() {
                    n = n.wrapping_add(1);
                    if n.is_multiple_of(64) {
                        ev.env.check()?;
                    }
                    page.write_row(ev, frame, id, v);
                    if !passes(ev, m.where_.as_ref(), frame, output)? {
                        continue;
                    }
                    c.any = true;
                    sink(frame)?;
                }
                any
            }
            Op::Project {
                items,
                slots,
                input,
                ..
            } => match self.children.first_mut() {
                Some(child) => child.drain_page(cx, frame, &mut |f| {
                    project_row(ev, items, slots, input, f)?;
                    sink(f)
                })?,
                None => false,
            },
            Op::Filter { pred, input, .. } => match self.children.first_mut() {
                Some(child) => child.drain_page(cx, frame, &mut |f| {
                    if passes(ev, Some(pred), f, input)? {
                        sink(f)?;
                    }
                    Ok(())
                })?,
                None => false,
            },
            Op::Select { produce: false, .. } => match self.children.first_mut() {
                Some(child) => child.drain_page(cx, frame, &mut sink)?,
                None => false,
            },
            _ => false,
        };
        self.rows += passed;
        self.hits_inclusive += cx
            .hits
            .get()
            .saturating_sub(before)
            .saturating_sub(sink_hits);
        Ok(drained)
    }

    fn child(children: &mut [Node], cx: &Cx, frame: &mut Frame) -> Result<bool> {
        match children.first_mut() {
            Some(c) => c.pull(cx, frame),
            None => Ok(false),
        }
    }

    fn pull_inner(&mut self, cx: &Cx, frame: &mut Frame) -> Result<bool> {
        let ev = &cx.ev;
        let children = &mut self.children;
        match &mut self.op {
            Op::Argument { done } => {
                if *done {
                    return Ok(false);
                }
                *done = true;
                Ok(true)
            }
            Op::CountStore { of, slots, done } => {
                if *done {
                    return Ok(false);
                }
                *done = true;
                let n = ev.stored_count(of)?;
                for s in slots.iter() {
                    set(frame, *s, n.clone());
                }
                Ok(true)
            }
            Op::MatchStream {
                m,
                prefetch,
                cur,
                pending,
                input,
                defs,
                output,
                scan_slot,
                expand,
                order,
                fixed,
                ..
            } => loop {
                if emit_pending(pending, frame, defs) {
                    return Ok(true);
                }
                let Some(part) = m.pattern.first() else {
                    return Ok(false);
                };
                if let (Some(c), Some(shape)) = (cur.as_mut(), expand.as_deref()) {
                    if let Some(w) = c.walk.as_mut() {
                        if w.advance(ev, part, shape, frame)? {
                            if !passes(ev, m.where_.as_ref(), frame, output)? {
                                continue;
                            }
                            c.any = true;
                            return Ok(true);
                        }
                        c.walk = None;
                    }
                }
                match cur {
                    Some(c) => {
                        if let Some((id, v)) = c.candidates.next(ev)? {
                            // The cancel flag and the clock, every 64 candidates (a candidate
                            // whose matches take long is checked inside the expansion; a
                            // scan checks them before each page it reads).
                            c.pulled = c.pulled.wrapping_add(1);
                            if c.pulled % 64 == 1 {
                                ev.env.check()?;
                            }
                            if let (Candidates::Scan(_), Some(key)) =
                                (&c.candidates, prefetch.as_ref())
                            {
                                set_prefetched(ev, key, id, v);
                            }
                            if let Some(slot) = scan_slot.as_ref() {
                                // A scan or a seek of one node with labels at most: its other
                                // labels, its slot, WHERE (what the matcher would check of it,
                                // without building a row).
                                let np = &part.element.start;
                                if c.other_labels {
                                    let Some(have) = ev.g.node_labels(id)? else {
                                        continue;
                                    };
                                    if !np.labels.iter().all(|l| have.contains(l)) {
                                        continue;
                                    }
                                }
                                if let Some(s) = slot {
                                    set_node(frame, *s, id);
                                }
                                if !passes(ev, m.where_.as_ref(), frame, output)? {
                                    continue;
                                }
                                c.any = true;
                                return Ok(true);
                            }
                            if let Some(shape) = expand.as_deref() {
                                c.walk = Walk::start(ev, part, shape, &c.anchor, id, frame)?;
                                continue;
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
                                for (_, s) in defs.iter() {
                                    set(frame, *s, Value::Null);
                                }
                                return Ok(true);
                            }
                        }
                    }
                    None => {
                        let m = &**m;
                        let open = OpenMatch {
                            m,
                            prefetch: prefetch.as_ref(),
                            input,
                            scan_slot: scan_slot.as_ref(),
                            expand: expand.as_deref(),
                            order: order.as_deref(),
                        };
                        match open.cursor(children, cx, frame, fixed)? {
                            Some(c) => *cur = Some(c),
                            None => return Ok(false),
                        }
                    }
                }
            },
            Op::MatchPerRow {
                m,
                scope,
                pending,
                input,
                defs,
                ..
            } => loop {
                if emit_pending(pending, frame, defs) {
                    return Ok(true);
                }
                if !Self::child(children, cx, frame)? {
                    return Ok(false);
                }
                let row = frame_row(frame, input);
                let mut sc = scope.clone();
                *pending = ev.match_clause(m, vec![row], &mut sc)?.into();
            },
            Op::Unwind {
                u,
                cur,
                input,
                slot,
            } => loop {
                if let Some(items) = cur {
                    if let Some(v) = items.next() {
                        set(frame, *slot, v);
                        return Ok(true);
                    }
                    *cur = None;
                }
                if !Self::child(children, cx, frame)? {
                    return Ok(false);
                }
                ev.env.check()?;
                let vars = FrameVars {
                    frame,
                    scope: input,
                };
                let items = match lazy_range(ev, &u.expr, &vars)? {
                    Some(it) => it,
                    None => match ev.eval_in(&u.expr, &vars)? {
                        Value::Null => continue,
                        Value::List(l) => Items::List(l.into_iter()),
                        other => Items::One(Some(other)),
                    },
                };
                *cur = Some(items);
            },
            Op::LoadCsv {
                l,
                cur,
                input,
                slot,
            } => loop {
                if let Some(csv) = cur {
                    if let Some(v) = csv.next_value()? {
                        ev.env.check()?;
                        set(frame, *slot, v);
                        return Ok(true);
                    }
                    *cur = None;
                }
                if !Self::child(children, cx, frame)? {
                    return Ok(false);
                }
                ev.env.check()?;
                let vars = FrameVars {
                    frame,
                    scope: input,
                };
                let url = ev.eval_in(&l.url, &vars)?;
                *cur = super::csv::CsvRows::open(ev, l, url)?.map(Box::new);
            },
            Op::Project {
                items,
                slots,
                input,
                ticks,
            } => {
                if !Self::child(children, cx, frame)? {
                    return Ok(false);
                }
                *ticks = ticks.wrapping_add(1);
                if *ticks % 64 == 1 {
                    ev.env.check()?;
                }
                project_row(ev, items, slots, input, frame)?;
                Ok(true)
            }
            Op::Union { branches, at, .. } => loop {
                let Some(c) = children.get_mut(*at) else {
                    return Ok(false);
                };
                if c.pull(cx, frame)? {
                    if *at > 0 {
                        if let (Some(from), Some(to)) = (branches.get(*at), branches.first()) {
                            for (f, t) in from.iter().zip(to) {
                                let v = frame
                                    .get_mut(*f)
                                    .map(|x| std::mem::replace(x, Value::Null))
                                    .unwrap_or(Value::Null);
                                set(frame, *t, v);
                            }
                        }
                    }
                    return Ok(true);
                }
                *at += 1;
            },
            Op::Distinct {
                slots, seen, held, ..
            } => loop {
                if !Self::child(children, cx, frame)? {
                    return Ok(false);
                }
                let k: String = slots
                    .iter()
                    .map(|s| key(frame.get(*s).unwrap_or(&Value::Null)))
                    .collect::<Vec<_>>()
                    .join("\u{1}");
                if !seen.contains(&k) {
                    // The key, its String and the set's slot for it stay until the end.
                    let cost = (k.capacity() + 2 * std::mem::size_of::<String>()) as u64;
                    held.get_or_insert_with(|| ev.env.mem.reservation())
                        .grow(cost)?;
                }
                if seen.insert(k) {
                    ev.env.check_rows(seen.len())?;
                    return Ok(true);
                }
            },
            Op::Sort {
                items,
                skip,
                limit,
                out,
                input,
                ordered,
                passing,
            } => {
                if *passing {
                    return Self::child(children, cx, frame);
                }
                if out.is_none() {
                    // The first row starts the match below, which decides whether its rows
                    // come in this order already.
                    let mut first = false;
                    if let Some(flag) = ordered {
                        first = Self::child(children, cx, frame)?;
                        if !first {
                            return Ok(false);
                        }
                        if flag.load(AtomicOrdering::Relaxed) {
                            *passing = true;
                            return Ok(true);
                        }
                    }
                    *out = Some(sort_input(
                        children, cx, frame, items, skip, limit, input, first,
                    )?);
                }
                match out.as_mut().and_then(|o| o.pop_front()) {
                    Some(vals) => {
                        put_values(frame, input, vals);
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
            Op::Skip { n, left } => {
                if left.is_none() {
                    *left = Some(ev.count_arg(n, &Row::new(), "SKIP")?);
                }
                while let Some(k) = left.as_mut().filter(|k| **k > 0) {
                    *k -= 1;
                    if !Self::child(children, cx, frame)? {
                        return Ok(false);
                    }
                }
                Self::child(children, cx, frame)
            }
            Op::Limit { n, left } => {
                if left.is_none() {
                    *left = Some(ev.count_arg(n, &Row::new(), "LIMIT")?);
                }
                match left {
                    Some(0) | None => Ok(false),
                    Some(k) => {
                        *k -= 1;
                        Self::child(children, cx, frame)
                    }
                }
            }
            Op::Filter { pred, input, ticks } => loop {
                if !Self::child(children, cx, frame)? {
                    return Ok(false);
                }
                *ticks = ticks.wrapping_add(1);
                if *ticks % 64 == 1 {
                    ev.env.check()?;
                }
                let vars = FrameVars {
                    frame,
                    scope: input,
                };
                if ev.eval_in(pred, &vars)? == Value::Bool(true) {
                    return Ok(true);
                }
            },
            Op::Select { .. } => Self::child(children, cx, frame),
            Op::Eager {
                p,
                scope,
                where_,
                out,
                input,
                columns,
            } => {
                if out.is_none() && p.items.iter().any(|it| contains_aggregate(&it.expr)) {
                    // Aggregation consumes its input as it is pulled: only the groups are
                    // kept (and charged), never the input rows.
                    let items = projection_items(p, scope);
                    let names: Vec<String> = items.iter().map(|(n, _)| n.clone()).collect();
                    let mut agg = Aggregator::new(ev, &items).bound_to(input);
                    let mut n = 0usize;
                    if let Some(c) = children.first_mut() {
                        c.open_scan(cx, frame, false)?;
                    }
                    loop {
                        // A plain scan below hands its rows over a page at a time.
                        if let Some(c) = children.first_mut() {
                            // A big scan's rest read by this thread and a helper.
                            if c.parallel_aggregate(cx, &mut agg)? {
                                continue;
                            }
                            // Else each thread feeds an aggregator of its own, through
                            // the frame, the groups merged in the scan's order.
                            if agg.forks() {
                                let env = ev.env;
                                let template = agg.fork(&env.mem);
                                let parts = c.parallel_rows(
                                    cx,
                                    frame,
                                    &|| template.fork(&env.mem),
                                    &|a: &mut Aggregator, wev: &Ev, f: &mut Frame, _| {
                                        a.feed(
                                            wev,
                                            &FrameVars {
                                                frame: f,
                                                scope: input,
                                            },
                                        )
                                    },
                                )?;
                                if let Some(parts) = parts {
                                    agg.absorb(parts)?;
                                    continue;
                                }
                            }
                            // Its values straight into the aggregates when they all read
                            // the node or the property read with it; else through the frame.
                            let direct =
                                |slot: Option<usize>, key: Option<&str>| agg.page_args(slot, key);
                            if let Some((args, page)) = c.scan_page(cx, direct)? {
                                ev.env.check()?;
                                agg.feed_page(ev, &args, page, frame)?;
                                continue;
                            }
                            let mut feed = |f: &mut Frame| {
                                agg.feed(
                                    ev,
                                    &FrameVars {
                                        frame: f,
                                        scope: input,
                                    },
                                )
                            };
                            if c.drain_page(cx, frame, &mut feed)? {
                                continue;
                            }
                        }
                        if !Self::child(children, cx, frame)? {
                            break;
                        }
                        agg.feed(
                            ev,
                            &FrameVars {
                                frame,
                                scope: input,
                            },
                        )?;
                        n += 1;
                        if n.is_multiple_of(1024) {
                            ev.env.check()?;
                        }
                    }
                    let groups = agg.finish(ev)?;
                    let rows = ev.finish_projection(p, &items, &names, groups, where_.as_ref())?;
                    *out = Some(rows.into());
                }
                if out.is_none() {
                    let mut rows = Vec::new();
                    while Self::child(children, cx, frame)? {
                        let r = frame_row(frame, input);
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
                match out.as_mut().and_then(|o| o.pop_front()) {
                    Some(r) => {
                        write_row(frame, columns, r);
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
            Op::Apply {
                q,
                optional,
                imports,
                columns,
                pending,
                input,
                defs,
            } => loop {
                if emit_pending(pending, frame, defs) {
                    return Ok(true);
                }
                if !Self::child(children, cx, frame)? {
                    return Ok(false);
                }
                ev.env.check()?;
                let mut seed = frame_row(frame, input);
                if let Some(vars) = imports {
                    seed.retain(|k, _| vars.contains(k));
                }
                let (_, rows) = ev.run_subquery(q, &seed)?;
                if columns.is_empty() {
                    // A unit subquery of reading clauses: the input row goes on as it is.
                    return Ok(true);
                }
                if rows.is_empty() && *optional {
                    for (_, s) in defs.iter() {
                        set(frame, *s, Value::Null);
                    }
                    return Ok(true);
                }
                *pending = rows.into();
            },
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
        // Neither is a sort whose input comes in its order from an index.
        if let (
            Op::Sort {
                ordered: Some(f), ..
            },
            Some(c),
        ) = (&self.op, self.children.first())
        {
            if f.load(AtomicOrdering::Relaxed) {
                return c.describe();
            }
        }
        let children: Vec<PlanDescription> = self
            .children
            .iter()
            .filter(|c| !matches!(c.op, Op::Argument { .. }))
            .map(|c| c.describe())
            .collect();
        let mut children = children;
        if let Op::MatchStream { describe, .. } | Op::MatchPerRow { describe, .. } = &self.op {
            // The access path under an expansion: where the matcher starts.
            let expands = describe
                .part
                .as_ref()
                .is_some_and(|(p, _)| !p.element.chain.is_empty());
            if let (true, Some((op, details, identifiers))) = (expands, describe.access_text()) {
                let mut arguments = BTreeMap::new();
                arguments.insert("Details".to_string(), Value::String(details));
                children.push(PlanDescription {
                    operator_type: op,
                    identifiers,
                    arguments,
                    children: Vec::new(),
                    rows: 0,
                    db_hits: 0,
                });
            }
        }
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

    /// Decide the access path of every MATCH of the plan against `g` (its schema and label
    /// counts), as the matcher does, for EXPLAIN and PROFILE to show.
    ///
    /// A range seek's size is counted when `env` evaluates its bounds without a row
    /// (literals, parameters), as the matcher counts it.
    pub fn resolve_access(&mut self, g: &dyn GraphRead, env: &super::eval::Env) -> Result<()> {
        // A match that reads in an index's order estimates its ranges (see `access_for`).
        let sized = !matches!(&self.op, Op::MatchStream { order: Some(_), .. });
        if let Op::MatchStream { describe, .. } | Op::MatchPerRow { describe, .. } = &mut self.op {
            if let Some((part, bound)) = &describe.part {
                let (nps, rps) = MatchShape::patterns(part);
                let ev = Ev::new(g, env);
                let none = Row::new();
                let eval = |e: &Expr| ev.eval(e, &none).ok();
                describe.access = Some(super::matcher::access_path(
                    &nps,
                    &rps,
                    &|v| bound.iter().any(|b| b == v),
                    &|| g.schema(),
                    &|l| g.label_count(l),
                    &|l, p, seek, cap| match sized {
                        true => super::matcher::range_size(g, l, p, seek, &eval, cap),
                        false => Ok(None),
                    },
                )?);
            }
        }
        if let Op::MatchStream {
            describe,
            order: Some(h),
            ..
        } = &mut self.op
        {
            if let (Some(access), Some((part, _))) = (&describe.access, &describe.part) {
                if h.in_order(g, part, access)?.is_some() {
                    describe.ordered = Some((h.key.clone(), h.descending));
                    h.used.store(true, AtomicOrdering::Relaxed);
                }
            }
        }
        for c in &mut self.children {
            c.resolve_access(g, env)?;
        }
        Ok(())
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
            Op::CountStore { of, .. } => match &of.what {
                Counted::Nodes(label) => (
                    s("NodeCountFromCountStore"),
                    format!("count( (:{}) )", label.as_deref().unwrap_or("")),
                    of.columns.clone(),
                ),
                Counted::Relationships(t) => (
                    s("RelationshipCountFromCountStore"),
                    match t {
                        Some(t) => format!("count( ()-[:{t}]->() )"),
                        None => "count( ()-[]->() )".to_string(),
                    },
                    of.columns.clone(),
                ),
            },
            Op::Union { columns, .. } => (s("Union"), String::new(), columns.clone()),
            Op::MatchStream { describe, .. } | Op::MatchPerRow { describe, .. } => {
                let lone = describe
                    .part
                    .as_ref()
                    .is_some_and(|(p, _)| p.element.chain.is_empty());
                match describe.access_text() {
                    // A lone node pattern: the scan or seek is the operator itself.
                    Some((op, details, identifiers)) if lone => {
                        (format!("{}{op}", describe.prefix()), details, identifiers)
                    }
                    _ => (
                        describe.operator.clone(),
                        describe.details.clone(),
                        describe.identifiers.clone(),
                    ),
                }
            }
            Op::Unwind { u, .. } => (
                s("Unwind"),
                format!("{} AS {}", expr_text(&u.expr), u.variable),
                vec![u.variable.clone()],
            ),
            Op::LoadCsv { l, .. } => (
                s("LoadCSV"),
                format!("{} AS {}", expr_text(&l.url), l.variable),
                vec![l.variable.clone()],
            ),
            Op::Project { items, .. } => (
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
            Op::Filter { pred, .. } => (s("Filter"), expr_text(pred), vec![]),
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
            Op::Apply { columns, .. } => (s("Apply"), String::new(), columns.clone()),
            Op::Other { name, details } => (name.clone(), details.clone(), vec![]),
        }
    }
}

/// A short text for an expression in a plan (plan text only, never used to decide).
/// What an index seek looks for, as EXPLAIN's details give it: `id = 3`, `id IN [1, 2]`,
/// `id > 1 AND id <= 9`, `name STARTS WITH 'a'`.
fn seek_condition(property: &str, seek: &Seek) -> String {
    match seek {
        Seek::Eq(v) => format!("{property} = {}", expr_text(v)),
        Seek::In(v) => format!("{property} IN {}", expr_text(v)),
        Seek::Prefix(v) => format!("{property} STARTS WITH {}", expr_text(v)),
        Seek::Range { lower, upper } => {
            let side = |b: &super::matcher::SeekBound, op: &str| {
                b.as_ref().map(|(v, inclusive)| {
                    format!(
                        "{property} {op}{} {}",
                        if *inclusive { "=" } else { "" },
                        expr_text(v)
                    )
                })
            };
            [side(lower, ">"), side(upper, "<")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" AND ")
        }
    }
}

fn expr_text(e: &Expr) -> String {
    match e {
        Expr::Literal(v) => literal_text(v),
        Expr::Parameter(p) => format!("${p}"),
        Expr::Once(x, _) => expr_text(x),
        Expr::Variable(v) => v.clone(),
        Expr::Property(b, k) => format!("{}.{k}", expr_text(b)),
        Expr::FunctionCall { name, args, .. } => format!(
            "{name}({})",
            args.iter().map(expr_text).collect::<Vec<_>>().join(", ")
        ),
        Expr::CountStar => "count(*)".to_string(),
        Expr::Binary(op, a, b) => {
            use crate::ast::BinaryOp::*;
            let sym = match op {
                Or => "OR",
                Xor => "XOR",
                And => "AND",
                Eq => "=",
                Ne => "<>",
                Lt => "<",
                Le => "<=",
                Gt => ">",
                Ge => ">=",
                Add => "+",
                Sub => "-",
                Mul => "*",
                Div => "/",
                Mod => "%",
                Pow => "^",
                In => "IN",
                StartsWith => "STARTS WITH",
                EndsWith => "ENDS WITH",
                Contains => "CONTAINS",
                RegexMatch => "=~",
                Concat => "||",
            };
            format!("{} {sym} {}", expr_text(a), expr_text(b))
        }
        Expr::Unary(crate::ast::UnaryOp::Minus, a) => format!("-{}", expr_text(a)),
        Expr::List(items) => format!(
            "[{}]",
            items.iter().map(expr_text).collect::<Vec<_>>().join(", ")
        ),
        _ => "...".to_string(),
    }
}

/// A literal as a query would write it (a list of literals is one literal value once parsed:
/// `seek_hints::literal_lists`).
fn literal_text(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::List(items) => format!(
            "[{}]",
            items
                .iter()
                .map(literal_text)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => "...".to_string(),
    }
}

/// `UNWIND range(a, b[, s])` with integer bounds: counted lazily instead of built as a list.
/// `None` for anything else (including arguments `range()` refuses: it reports the error).
fn lazy_range(ev: &Ev, e: &Expr, row: &dyn Vars) -> Result<Option<Items>> {
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
        match ev.eval_in(a, row)? {
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
    /// The values of the sort's input scope.
    row: Vec<Value>,
    ascending: Arc<[bool]>,
}

impl Keyed {
    fn cmp_keys(&self, other: &Keyed) -> Ordering {
        Self::cmp_parts(
            &self.ascending,
            &self.keys,
            self.seq,
            &other.keys,
            other.seq,
        )
    }

    fn cmp_parts(ascending: &[bool], a: &[Value], sa: u64, b: &[Value], sb: u64) -> Ordering {
        for (i, asc) in ascending.iter().enumerate() {
            let (Some(x), Some(y)) = (a.get(i), b.get(i)) else {
                break;
            };
            let o = order(x, y);
            let o = if *asc { o } else { o.reverse() };
            if o != Ordering::Equal {
                return o;
            }
        }
        sa.cmp(&sb)
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

/// The rows ORDER BY takes in, with their keys: a heap of the `k` first (`skip + limit`), or
/// all of them.
struct Sorter<'s> {
    items: &'s [SortItem],
    input: &'s [(String, usize)],
    k: Option<usize>,
    ascending: Arc<[bool]>,
    heap: BinaryHeap<Keyed>,
    all: Vec<Keyed>,
    /// The place of the last row taken in the input's order.
    seq: u64,
    /// A scratch buffer for a row's keys.
    keys: Vec<Value>,
}

impl<'s> Sorter<'s> {
    fn new(
        items: &'s [SortItem],
        input: &'s [(String, usize)],
        k: Option<usize>,
        ascending: Arc<[bool]>,
    ) -> Sorter<'s> {
        Sorter {
            items,
            input,
            k,
            ascending,
            heap: BinaryHeap::new(),
            all: Vec::new(),
            seq: 0,
            keys: Vec::with_capacity(items.len()),
        }
    }

    /// The input row in `frame`, whose place in the input's order is `seq` (greater than
    /// the places of the rows before it), into the heap or the buffer.
    fn take(&mut self, ev: &Ev, frame: &mut Frame, seq: u64) -> Result<()> {
        self.keys.clear();
        {
            let vars = FrameVars {
                frame,
                scope: self.input,
            };
            for s in self.items {
                self.keys.push(ev.eval_in(&s.expr, &vars)?);
            }
        }
        self.seq = seq;
        match self.k {
            Some(k) => {
                if self.heap.len() < k {
                    // The heap only grows to k rows: each of those is charged; a row that
                    // replaces another leaves the charge as it is.
                    let row = take_values(frame, self.input);
                    ev.env.charge_frame(&row)?;
                    let keys =
                        std::mem::replace(&mut self.keys, Vec::with_capacity(self.items.len()));
                    self.heap.push(Keyed {
                        keys,
                        seq,
                        row,
                        ascending: self.ascending.clone(),
                    });
                } else if let Some(mut top) = self.heap.peek_mut() {
                    if Keyed::cmp_parts(&self.ascending, &self.keys, seq, &top.keys, top.seq)
                        == Ordering::Less
                    {
                        // The row replaces the largest in place (its vectors are reused);
                        // only a row that enters the heap is copied out of the frame.
                        std::mem::swap(&mut top.keys, &mut self.keys);
                        top.seq = seq;
                        for (dst, (_, s)) in top.row.iter_mut().zip(self.input.iter()) {
                            assign(dst, frame.get(*s).unwrap_or(&Value::Null));
                        }
                    }
                }
            }
            None => {
                let row = take_values(frame, self.input);
                ev.env.charge_frame(&row)?;
                let keys = std::mem::replace(&mut self.keys, Vec::with_capacity(self.items.len()));
                self.all.push(Keyed {
                    keys,
                    seq,
                    row,
                    ascending: self.ascending.clone(),
                });
                if self.all.len().is_multiple_of(4096) {
                    ev.env.check_rows(self.all.len())?;
                }
            }
        }
        Ok(())
    }

    /// The input row in `frame`, next after the rows taken so far (the cancel flag and the
    /// clock checked every 64 rows).
    fn take_next(&mut self, ev: &Ev, frame: &mut Frame) -> Result<()> {
        let seq = self.seq.saturating_add(1);
        if seq.is_multiple_of(64) {
            ev.env.check()?;
        }
        self.take(ev, frame, seq)
    }

    /// The rows another sorter took (of a part of the input after this one's), added as if
    /// this one had taken them.
    fn absorb(&mut self, ev: &Ev, other: Sorter) -> Result<()> {
        let rows = other.heap.into_iter().chain(other.all);
        for r in rows {
            self.seq = self.seq.max(r.seq);
            match self.k {
                Some(k) if self.heap.len() >= k => {
                    if let Some(mut top) = self.heap.peek_mut() {
                        if r.cmp_keys(&top) == Ordering::Less {
                            *top = r;
                        }
                    }
                }
                _ => {
                    ev.env.charge_frame(&r.row)?;
                    if self.k.is_some() {
                        self.heap.push(r);
                    } else {
                        self.all.push(r);
                        if self.all.len().is_multiple_of(4096) {
                            ev.env.check_rows(self.all.len())?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn sorted(self) -> Vec<Vec<Value>> {
        let sorted = if self.k.is_some() {
            self.heap.into_sorted_vec()
        } else {
            let mut all = self.all;
            all.sort();
            all
        };
        sorted.into_iter().map(|e| e.row).collect()
    }
}

/// The rows of ORDER BY: all of them sorted, or the top `skip + limit`. `pulled`: the frame
/// holds the first input row already.
#[allow(clippy::too_many_arguments)]
fn sort_input(
    children: &mut [Node],
    cx: &Cx,
    frame: &mut Frame,
    items: &[SortItem],
    skip: &Option<Expr>,
    limit: &Option<Expr>,
    input: &[(String, usize)],
    mut pulled: bool,
) -> Result<VecDeque<Vec<Value>>> {
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
    if k == Some(0) {
        return Ok(VecDeque::new());
    }
    let ascending: Arc<[bool]> = items.iter().map(|i| i.ascending).collect();
    let mut sorter = Sorter::new(items, input, k, ascending.clone());
    if !pulled {
        if let Some(c) = children.first_mut() {
            c.open_scan(cx, frame, false)?;
        }
    }
    loop {
        if !std::mem::take(&mut pulled) {
            if let Some(c) = children.first_mut() {
                // A big scan below: read by this thread and a helper, each morsel into a
                // sorter of its own (a heap of the top k, or its rows with their keys; a
                // row's place: after the rows taken so far, then its node id, which ascends
                // along the scan).
                {
                    let base = sorter.seq.saturating_add(1);
                    let parts = c.parallel_rows(
                        cx,
                        frame,
                        &|| Sorter::new(items, input, k, ascending.clone()),
                        &|st: &mut Sorter, wev: &Ev, f: &mut Frame, id| {
                            st.take(wev, f, base.saturating_add(id))
                        },
                    )?;
                    if let Some(parts) = parts {
                        for p in parts {
                            sorter.absorb(ev, p)?;
                        }
                        continue;
                    }
                }
                // A plain scan below pushes its pages' rows in (see `Node::drain_page`).
                let mut take = |f: &mut Frame| sorter.take_next(ev, f);
                if c.drain_page(cx, frame, &mut take)? {
                    continue;
                }
            }
            if !Node::child(children, cx, frame)? {
                break;
            }
        }
        sorter.take_next(ev, frame)?;
    }
    let rows = sorter.sorted();
    ev.env.check_frames(&rows)?;
    Ok(rows.into())
}

/// Plans a query. `source` is the query text (only to show patterns in EXPLAIN).
pub fn plan_query(q: &Query, source: &str) -> Plan {
    let mut slots = Slots::default();
    if !q.unions.is_empty() {
        let mut branches = vec![plan_single(&q.first, source, &mut slots)];
        for (_, sq) in &q.unions {
            branches.push(plan_single(sq, source, &mut slots));
        }
        let columns = branches.first().map(|b| b.1.clone()).unwrap_or_default();
        let all = q.unions.iter().all(|(a, _)| *a);
        // Every branch ends in RETURN and the executor runs each of them.
        let executable = std::iter::once(&q.first)
            .chain(q.unions.iter().map(|(_, sq)| sq))
            .all(|sq| matches!(sq.clauses.last(), Some(Clause::Return(_))))
            && branches.iter().all(|b| b.0.executable());
        let slots_of = |b: &(Node, Vec<String>, Vec<(String, usize)>)| -> Vec<usize> {
            columns
                .iter()
                .map(|c| {
                    b.2.iter()
                        .find(|(n, _)| n == c)
                        .map_or(usize::MAX, |(_, s)| *s)
                })
                .collect()
        };
        let branch_slots: Vec<Vec<usize>> = branches.iter().map(slots_of).collect();
        // A branch's RETURN is a projection inside the union, not the query's result.
        for b in &mut branches {
            if let Op::Select { produce, .. } = &mut b.0.op {
                *produce = false;
            }
        }
        let column_slots = branch_slots.first().cloned().unwrap_or_default();
        for b in &mut branches {
            order_by_index(&mut b.0);
        }
        let mut root = Node::new(
            Op::Union {
                columns: columns.clone(),
                branches: branch_slots,
                at: 0,
            },
            branches.into_iter().map(|b| b.0).collect(),
        );
        if !all {
            root = Node::new(
                Op::Distinct {
                    columns: columns.clone(),
                    slots: column_slots.clone(),
                    seen: HashSet::new(),
                    held: None,
                },
                vec![root],
            );
        }
        let root = Node::new(
            Op::Select {
                columns: columns.clone(),
                produce: true,
            },
            vec![root],
        );
        return Plan {
            root,
            columns,
            column_slots,
            width: slots.width,
            executable,
        };
    }
    let (mut root, columns, out) = plan_single(&q.first, source, &mut slots);
    order_by_index(&mut root);
    let executable = root.executable() && matches!(q.first.clauses.last(), Some(Clause::Return(_)));
    let column_slots = columns
        .iter()
        .map(|c| {
            out.iter()
                .find(|(n, _)| n == c)
                .map_or(usize::MAX, |(_, s)| *s)
        })
        .collect();
    Plan {
        root,
        columns,
        column_slots,
        width: slots.width,
        executable,
    }
}

/// Whether the access path `a` a match of the node patterns `nps` decided for one input row
/// is the one it would decide for every other: it rests only on which variables are bound
/// (the same for every row of an operator) and on the schema (which no statement changes
/// while it reads), not on values or label counts. That holds for what `access_path`
/// decides before it weighs anything: a bound node, and a seek on a property map's value
/// (an equality, when no node carries seek hints from the WHERE, some of which are weighed
/// against the label's size). The rest is decided again per row.
fn value_independent(a: &Access, nps: &[&NodePattern]) -> bool {
    let unweighed = || nps.iter().all(|n| n.seek_hints.is_empty());
    match a {
        Access::Bound { .. } | Access::NodeCompositeSeek { .. } => true,
        Access::NodeIndexSeek { seek, .. } | Access::RelIndexSeek { seek, .. } => {
            matches!(seek, Seek::Eq(_)) && unweighed()
        }
        Access::LabelScan { .. } | Access::AllNodes => false,
    }
}

/// Reading clauses (MATCH, UNWIND, WITH) planned for the streaming executor on their own, to
/// feed an update that follows them one row at a time (see `pipelined.rs`).
pub struct Reading {
    root: Node,
    /// The variables in scope after the last clause, with their slots.
    scope: Vec<(String, usize)>,
    frame: Frame,
}

impl Reading {
    /// Plans `sq`'s clauses; `None` when the streaming executor cannot run one of them.
    pub fn plan(sq: &SingleQuery, source: &str) -> Option<Reading> {
        let mut slots = Slots::default();
        let (mut root, _, scope) = plan_single(sq, source, &mut slots);
        order_by_index(&mut root);
        root.executable().then(|| Reading {
            root,
            scope,
            frame: vec![Value::Null; slots.width],
        })
    }

    /// Leaves out of the rows [`Reading::next_row`] makes every variable but `names` (those
    /// the caller reads of them), instead of copying each.
    pub fn keep_only(&mut self, names: &[String]) {
        self.scope.retain(|(n, _)| names.contains(n));
    }

    /// The next row, as the variables in scope. The plan holds no borrow of `g` between
    /// calls, so the caller may write in between (what it writes must not be what the plan
    /// reads: `pipelined::streamable` checks that).
    pub fn next_row(&mut self, g: &dyn GraphRead, env: &super::eval::Env) -> Result<Option<Row>> {
        let hits = Cell::new(0);
        let cx = Cx {
            ev: Ev::new(g, env),
            hits: &hits,
        };
        if !self.root.pull(&cx, &mut self.frame)? {
            return Ok(None);
        }
        Ok(Some(frame_row(&self.frame, &self.scope)))
    }
}

/// Hands each `ORDER BY n.p` of the plan to the match that binds `n`, when the operators
/// between them keep their input's order (see [`OrderHint`]).
fn order_by_index(node: &mut Node) {
    let Node { op, children, .. } = node;
    if let (Op::Sort { items, ordered, .. }, [child]) = (op, children.as_mut_slice()) {
        if let [SortItem { expr, ascending }] = items.as_slice() {
            let used = Arc::new(AtomicBool::new(false));
            if attach_order(child, expr.clone(), !ascending, &used) {
                *ordered = Some(used);
            }
        }
    }
    for c in children {
        order_by_index(c);
    }
}

/// The variable a sort key names: `v` or `v.p`.
fn key_var(e: &Expr) -> Option<&str> {
    match e {
        Expr::Variable(v) => Some(v),
        Expr::Property(base, _) => match base.as_ref() {
            Expr::Variable(v) => Some(v),
            _ => None,
        },
        _ => None,
    }
}

/// Walks down from a sort through operators that pass rows on in their input's order
/// (projection, filter, distinct, unwind, matches that do not bind the key's variable),
/// rewriting the sort key through the projections (`ORDER BY x` of `n.p AS x`, `WITH n AS
/// m`), to the match that binds the variable of the key, now `n.p`; gives that match the hint
/// when it runs once (on the one-row leaf).
fn attach_order(node: &mut Node, mut key: Expr, descending: bool, used: &Arc<AtomicBool>) -> bool {
    let Node { op, children, .. } = node;
    let Some(var) = key_var(&key).map(str::to_string) else {
        return false;
    };
    match op {
        Op::Project { items, .. } => {
            if let Some((_, e)) = items.iter().find(|(n, _)| *n == var) {
                key = match (key, e) {
                    (Expr::Variable(_), e) => e.clone(),
                    (Expr::Property(_, p), Expr::Variable(u)) => {
                        Expr::Property(Box::new(Expr::Variable(u.clone())), p)
                    }
                    _ => return false,
                };
            }
        }
        Op::Filter { .. } | Op::Distinct { .. } | Op::Select { .. } => {}
        Op::Unwind { u, .. } => {
            if u.variable == var {
                return false;
            }
        }
        Op::MatchStream { defs, order, .. } => {
            if defs.iter().any(|(n, _)| *n == var) {
                let once = matches!(
                    children.as_slice(),
                    [Node {
                        op: Op::Argument { .. },
                        ..
                    }]
                );
                let Expr::Property(_, p) = &key else {
                    return false;
                };
                if once {
                    *order = Some(Box::new(OrderHint {
                        var,
                        key: Arc::from(p.as_str()),
                        descending,
                        used: used.clone(),
                    }));
                }
                return once;
            }
        }
        Op::MatchPerRow { defs, .. } => {
            if defs.iter().any(|(n, _)| *n == var) {
                return false;
            }
        }
        _ => return false,
    }
    match children.as_mut_slice() {
        [c] => attach_order(c, key, descending, used),
        _ => false,
    }
}

/// Slot allocation: every variable definition gets a slot of its own.
#[derive(Default)]
struct Slots {
    width: usize,
}

impl Slots {
    fn fresh(&mut self) -> usize {
        self.width += 1;
        self.width - 1
    }
}

/// `name` (re)defined in slot `slot`: later operators read it there.
fn bind(sc: &mut Vec<(String, usize)>, scope: &mut Vec<String>, name: &str, slot: usize) {
    match sc.iter_mut().find(|(n, _)| n == name) {
        Some(e) => e.1 = slot,
        None => sc.push((name.to_string(), slot)),
    }
    if !scope.iter().any(|n| n == name) {
        scope.push(name.to_string());
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

/// Whether a MATCH is matched part by part ([`split_parts`]): several pattern parts of which
/// at most one has relationships (so no two share relationship uniqueness), none OPTIONAL or
/// a shortest-path selector.
pub(super) fn splits(m: &Match) -> bool {
    !m.optional
        && m.pattern.len() > 1
        && m.pattern.iter().all(|p| p.shortest.is_none())
        && m.pattern
            .iter()
            .filter(|p| !p.element.chain.is_empty())
            .count()
            <= 1
}

/// A MATCH of several pattern parts as one MATCH per part: each conjunct of the `WHERE` goes
/// to the first part after which its variables are all bound (one that is not a plain
/// expression of variables, see [`seek_hints::simple_vars`], to the last part), and the
/// equalities a part's own share holds are copied into its patterns, where the matcher
/// seeks an index with values read from the parts before (`b.id = a.id + 1`).
pub(super) fn split_parts(whole: &Match, scope: &[String]) -> Vec<Match> {
    let last = whole.pattern.len().saturating_sub(1);
    let defined: Vec<Vec<String>> = whole
        .pattern
        .iter()
        .map(|p| pattern_vars(std::slice::from_ref(p)))
        .collect();
    // The part that binds `v` first (0 for a variable bound before the MATCH).
    let part_of = |v: &String| -> usize {
        if scope.contains(v) {
            return 0;
        }
        defined.iter().position(|d| d.contains(v)).unwrap_or(last)
    };
    let mut shares: Vec<Vec<Expr>> = vec![Vec::new(); whole.pattern.len()];
    if let Some(w) = &whole.where_ {
        let mut terms = Vec::new();
        seek_hints::conjuncts(w, &mut terms);
        for t in terms {
            let mut vars = Vec::new();
            let at = if seek_hints::simple_vars(t, &mut vars) {
                vars.iter().map(part_of).max().unwrap_or(0)
            } else {
                last
            };
            if let Some(share) = shares.get_mut(at) {
                share.push(t.clone());
            }
        }
    }
    whole
        .pattern
        .iter()
        .zip(shares)
        .map(|(p, share)| {
            let where_ = share
                .into_iter()
                .reduce(|a, b| Expr::Binary(BinaryOp::And, Box::new(a), Box::new(b)));
            let mut m = Match {
                optional: false,
                pattern: vec![p.clone()],
                where_,
                span: whole.span,
            };
            seek_hints::copy_seekable(&mut m);
            m
        })
        .collect()
}

#[allow(clippy::type_complexity)]
fn plan_single(
    sq: &SingleQuery,
    source: &str,
    slots: &mut Slots,
) -> (Node, Vec<String>, Vec<(String, usize)>) {
    if let Some(of) = count_store_shape(sq) {
        let sc: Vec<(String, usize)> = of
            .columns
            .iter()
            .map(|c| (c.clone(), slots.fresh()))
            .collect();
        let columns = of.columns.clone();
        let count = Node::new(
            Op::CountStore {
                slots: sc.iter().map(|(_, s)| *s).collect(),
                of,
                done: false,
            },
            vec![],
        );
        let node = Node::new(
            Op::Select {
                columns: columns.clone(),
                produce: true,
            },
            vec![count],
        );
        return (node, columns, sc);
    }
    let mut node = Node::new(Op::Argument { done: false }, vec![]);
    let mut scope: Vec<String> = Vec::new();
    // The same variables with their slots.
    let mut sc: Vec<(String, usize)> = Vec::new();
    let mut columns = Vec::new();
    for (ci, c) in sq.clauses.iter().enumerate() {
        // `CALL { } IN TRANSACTIONS` is planned as its subquery clause.
        let (c, transactional) = match c {
            Clause::InTransactions { call, .. } => (&**call, true),
            c => (c, false),
        };
        match c {
            Clause::Match(whole) => {
                // Several pattern parts of which at most one has relationships (so none can
                // share a relationship with another): one streaming match per part, each
                // reading the slots the parts before it bound, WHERE on the last.
                let parts: Vec<Match> = if splits(whole) {
                    split_parts(whole, &scope)
                } else {
                    vec![whole.clone()]
                };
                for m in &parts {
                    let new_vars = pattern_vars(&m.pattern);
                    let describe = Box::new(match_shape(m, &scope, source));
                    let streams = m.pattern.len() == 1 && m.pattern[0].shortest.is_none();
                    let input: Scope = sc.clone().into();
                    let mut defs = Vec::new();
                    for v in &new_vars {
                        if !scope.contains(v) {
                            let s = slots.fresh();
                            defs.push((v.clone(), s));
                            bind(&mut sc, &mut scope, v, s);
                        }
                    }
                    let defs: Scope = defs.into();
                    node = if streams {
                        let scan_slot = scan_slot(m, &input, &defs);
                        let expand = expand_shape(m, &input, &defs, slots).map(Box::new);
                        Node::new(
                            Op::MatchStream {
                                prefetch: prefetch_key(
                                    m,
                                    &input_names(&input),
                                    sq.clauses.get(ci..).unwrap_or(&[]),
                                ),
                                m: Box::new(m.clone()),
                                describe,
                                cur: None,
                                pending: VecDeque::new(),
                                input,
                                defs,
                                output: sc.clone().into(),
                                scan_slot,
                                expand,
                                order: None,
                                fixed: None,
                            },
                            vec![node],
                        )
                    } else {
                        Node::new(
                            Op::MatchPerRow {
                                m: Box::new(m.clone()),
                                scope: input_names(&input),
                                describe,
                                pending: VecDeque::new(),
                                input,
                                defs,
                            },
                            vec![node],
                        )
                    };
                }
            }
            Clause::Unwind(u) => {
                let input: Scope = sc.clone().into();
                let slot = slots.fresh();
                node = Node::new(
                    Op::Unwind {
                        u: u.clone(),
                        cur: None,
                        input,
                        slot,
                    },
                    vec![node],
                );
                bind(&mut sc, &mut scope, &u.variable, slot);
            }
            Clause::With(w) => {
                let (n, cols, out) = plan_projection(
                    node,
                    &w.projection,
                    w.where_.as_ref(),
                    &scope,
                    &sc,
                    slots,
                    false,
                );
                node = n;
                scope = cols;
                sc = out;
            }
            Clause::Return(r) => {
                let (n, cols, out) =
                    plan_projection(node, &r.projection, None, &scope, &sc, slots, true);
                node = n;
                columns = cols.clone();
                scope = cols;
                sc = out;
            }
            Clause::Create(cr) => {
                node = other("Create", String::new(), node);
                for v in pattern_vars(&cr.pattern) {
                    if !scope.contains(&v) {
                        let s = slots.fresh();
                        bind(&mut sc, &mut scope, &v, s);
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
                        let s = slots.fresh();
                        bind(&mut sc, &mut scope, &v, s);
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
            // Unwrapped above.
            Clause::InTransactions { .. } => {}
            Clause::LoadCsv(l) => {
                let s = slots.fresh();
                node = Node::new(
                    Op::LoadCsv {
                        l: Box::new(l.clone()),
                        cur: None,
                        input: sc.clone().into(),
                        slot: s,
                    },
                    vec![node],
                );
                bind(&mut sc, &mut scope, &l.variable, s);
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
                let input: Scope = sc.clone().into();
                let mut defs = Vec::new();
                for c in &inner.columns {
                    if !scope.contains(c) {
                        let s = slots.fresh();
                        bind(&mut sc, &mut scope, c, s);
                        defs.push((c.clone(), s));
                    }
                }
                // A subquery of reading clauses runs for each input row as it comes
                // (`Apply`); one that writes (or runs in transactions) on the runner.
                let op =
                    if !transactional && q.reads_only() && q.parts().all(|p| p.use_graph.is_none())
                    {
                        let (optional, imports) = c.subquery_imports();
                        Op::Apply {
                            q: q.clone(),
                            optional,
                            imports: imports.map(<[String]>::to_vec),
                            columns: inner.columns.clone(),
                            pending: VecDeque::new(),
                            input,
                            defs: defs.into(),
                        }
                    } else {
                        Op::Other {
                            name: if transactional {
                                "TransactionApply"
                            } else {
                                "Apply"
                            }
                            .to_string(),
                            details: String::new(),
                        }
                    };
                node = Node::new(op, vec![node, inner.root]);
            }
        }
    }
    (node, columns, sc)
}

fn input_names(sc: &[(String, usize)]) -> Vec<String> {
    sc.iter().map(|(n, _)| n.clone()).collect()
}

/// The slot a MATCH writes itself when its pattern is one new node with labels at most (no
/// properties, predicate, label expression or path variable): `Some(None)` for an anonymous
/// node; `None` when the matcher binds the pattern.
fn scan_slot(
    m: &Match,
    input: &[(String, usize)],
    defs: &[(String, usize)],
) -> Option<Option<usize>> {
    let [part] = m.pattern.as_slice() else {
        return None;
    };
    let np = &part.element.start;
    if !part.element.chain.is_empty()
        || part.shortest.is_some()
        || part.variable.is_some()
        || np.properties.is_some()
        || np.predicate.is_some()
        || np.label_expr.is_some()
    {
        return None;
    }
    match &np.variable {
        None => Some(None),
        Some(v) if input.iter().any(|(n, _)| n == v) => None,
        Some(v) => defs.iter().find(|(n, _)| n == v).map(|(_, s)| Some(*s)),
    }
}

/// A pattern part of fixed single hops the streaming plan expands itself, frame to frame:
/// `(a)-[r:R]->(b)<-[:S]-(c)` with node labels and property maps whose values come from
/// the input (literals, parameters, input variables and their properties), relationship
/// types and property maps, each variable at one place only. Anything else (variable length,
/// quantified groups, predicates inside the pattern, label or type expressions, a path
/// variable, a variable repeated within the pattern, a bound relationship) is walked by the
/// matcher. The anchor is the one the matcher would pick (bound node, index seek, smallest
/// label); from it the walk goes right to the end of the chain, then left to its start.
pub(crate) struct ExpandShape {
    /// The slot of each node position (a hidden slot for an anonymous node).
    nodes: Vec<usize>,
    /// Node positions whose variable the input binds: checked, never written.
    fixed: Vec<bool>,
    /// The slot of each named relationship position.
    rels: Vec<Option<usize>>,
    /// The input's variables (what the property maps read).
    input: Scope,
}

/// Expressions a property map of an expanded pattern may use: values known before the
/// pattern is matched (so they can be read from the input's slots).
fn input_value(e: &Expr, input: &[(String, usize)]) -> bool {
    match e {
        Expr::Literal(_) | Expr::Parameter(_) => true,
        Expr::Variable(v) => input.iter().any(|(n, _)| n == v),
        Expr::Property(b, _) => input_value(b, input),
        Expr::List(items) => items.iter().all(|x| input_value(x, input)),
        Expr::Map(items) => items.iter().all(|(_, x)| input_value(x, input)),
        _ => false,
    }
}

fn expand_shape(
    m: &Match,
    input: &[(String, usize)],
    defs: &[(String, usize)],
    slots: &mut Slots,
) -> Option<ExpandShape> {
    let [part] = m.pattern.as_slice() else {
        return None;
    };
    if part.element.chain.is_empty() || part.shortest.is_some() || part.variable.is_some() {
        return None;
    }
    let props_ok = |p: &Option<Expr>| match p {
        None => true,
        Some(e @ Expr::Map(_)) => input_value(e, input),
        Some(_) => false,
    };
    let mut seen: Vec<String> = Vec::new();
    let mut fresh = |v: &Option<String>| -> bool {
        match v {
            None => true,
            Some(v) if seen.contains(v) => false,
            Some(v) => {
                seen.push(v.clone());
                true
            }
        }
    };
    let in_input = |v: &str| input.iter().find(|(n, _)| n == v).map(|(_, s)| *s);
    let in_defs = |v: &str| defs.iter().find(|(n, _)| n == v).map(|(_, s)| *s);
    let mut nodes = Vec::new();
    let mut fixed = Vec::new();
    let mut rels = Vec::new();
    let nps = std::iter::once(&part.element.start).chain(part.element.chain.iter().map(|(_, n)| n));
    for np in nps {
        if np.label_expr.is_some() || np.predicate.is_some() || !props_ok(&np.properties) {
            return None;
        }
        if !fresh(&np.variable) {
            return None;
        }
        let (slot, bound) = match &np.variable {
            None => (slots.fresh(), false),
            Some(v) => match in_input(v) {
                Some(s) => (s, true),
                None => (in_defs(v)?, false),
            },
        };
        nodes.push(slot);
        fixed.push(bound);
    }
    for (rp, _) in &part.element.chain {
        if rp.length.is_some()
            || rp.group.is_some()
            || rp.type_expr.is_some()
            || rp.predicate.is_some()
            || !props_ok(&rp.properties)
            || !fresh(&rp.variable)
        {
            return None;
        }
        rels.push(match &rp.variable {
            None => None,
            Some(v) if in_input(v).is_some() => return None,
            Some(v) => Some(in_defs(v)?),
        });
    }
    Some(ExpandShape {
        nodes,
        fixed,
        rels,
        input: input.to_vec().into(),
    })
}

/// One hop of the walk: relationship `rel` of the chain, from node position `from` to `to`.
#[derive(Clone, Copy)]
struct Hop {
    rel: usize,
    from: usize,
    to: usize,
    reversed: bool,
}

/// The expansion of one anchor candidate, pulled one match at a time: a stack of hops, each
/// with the adjacency of the node it leaves (one node's edges at a time, charged to the
/// query) and the next edge to try.
struct Walk {
    hops: Vec<Hop>,
    /// Per hop on the stack: the edges of its `from` node and the next one to try.
    levels: Vec<(Vec<Edge>, usize)>,
    /// The relationship each hop on the stack has bound (relationships are distinct).
    bound: Vec<RelId>,
    held: graphward_core::memory::Reservation,
    ticks: u64,
}

/// Does the property map `pe` (evaluated against the input's slots, see [`input_value`])
/// equal the properties `get` reads?
fn props_match(
    ev: &Ev,
    pe: &Expr,
    frame: &[Value],
    input: &[(String, usize)],
    get: impl Fn(&str) -> Result<Option<Value>>,
) -> Result<bool> {
    match ev.eval_in(
        pe,
        &FrameVars {
            frame,
            scope: input,
        },
    )? {
        Value::Map(want) => {
            for (k, v) in &want {
                let have = get(k)?.unwrap_or(Value::Null);
                if super::values::equals(&have, v) != Some(true) {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Value::Null => Ok(true),
        other => Err(graphward_core::Error::type_error(format!(
            "pattern properties must be a map, got {}",
            other.type_name()
        ))),
    }
}

impl Walk {
    /// The walk from `id` at the anchor position, once the anchor's node pattern holds;
    /// `None` when it does not.
    fn start(
        ev: &Ev,
        part: &crate::ast::PatternPart,
        shape: &ExpandShape,
        anchor: &super::matcher::Anchor,
        id: NodeId,
        frame: &mut Frame,
    ) -> Result<Option<Walk>> {
        let a = anchor.index;
        let scanned = anchor.label.as_deref();
        if !node_fits(ev, part, shape, a, id, scanned, frame)? {
            return Ok(None);
        }
        let n = part.element.chain.len();
        let hops: Vec<Hop> = (a..n)
            .map(|i| Hop {
                rel: i,
                from: i,
                to: i + 1,
                reversed: false,
            })
            .chain((0..a).rev().map(|i| Hop {
                rel: i,
                from: i + 1,
                to: i,
                reversed: true,
            }))
            .collect();
        let mut w = Walk {
            hops,
            levels: Vec::new(),
            bound: Vec::new(),
            held: ev.env.mem.reservation(),
            ticks: 0,
        };
        w.push_level(ev, part, shape, frame)?;
        Ok(Some(w))
    }

    /// Reads the edges of the next hop's `from` node onto the stack.
    fn push_level(
        &mut self,
        ev: &Ev,
        part: &crate::ast::PatternPart,
        shape: &ExpandShape,
        frame: &[Value],
    ) -> Result<()> {
        let Some(hop) = self.hops.get(self.levels.len()).copied() else {
            return Ok(());
        };
        let Some((rp, _)) = part.element.chain.get(hop.rel) else {
            return Ok(());
        };
        let from = slot_node(frame, shape.nodes[hop.from]);
        let edges = match from {
            Some(f) => {
                ev.g.expand(f, hop_dir(rp.direction, hop.reversed), &rp.types)?
            }
            None => Vec::new(),
        };
        let total: usize = self
            .levels
            .iter()
            .map(|(e, _)| e.len())
            .sum::<usize>()
            .saturating_add(edges.len());
        self.held
            .resize(total.saturating_mul(std::mem::size_of::<Edge>()) as u64)?;
        self.levels.push((edges, 0));
        Ok(())
    }

    /// Writes the next match into the frame; `false` when there are no more.
    fn advance(
        &mut self,
        ev: &Ev,
        part: &crate::ast::PatternPart,
        shape: &ExpandShape,
        frame: &mut Frame,
    ) -> Result<bool> {
        loop {
            let depth = self.levels.len();
            if depth == 0 {
                return Ok(false);
            }
            let l = depth - 1;
            let Some(hop) = self.hops.get(l).copied() else {
                return Ok(false);
            };
            let next = {
                let (edges, i) = &mut self.levels[l];
                let e = edges.get(*i).copied();
                *i += 1;
                e
            };
            let Some(e) = next else {
                self.levels.pop();
                self.bound.truncate(self.levels.len());
                continue;
            };
            self.ticks = self.ticks.wrapping_add(1);
            if self.ticks.is_multiple_of(64) {
                ev.env.check()?;
            }
            self.bound.truncate(l);
            if self.bound.contains(&e.rel) {
                continue;
            }
            let Some((rp, _)) = part.element.chain.get(hop.rel) else {
                return Ok(false);
            };
            if let Some(pe) = &rp.properties {
                if !props_match(ev, pe, frame, &shape.input, |k| {
                    ev.g.relationship_property(e.rel, k)
                })? {
                    continue;
                }
            }
            if !node_fits(ev, part, shape, hop.to, e.other, None, frame)? {
                continue;
            }
            let from = slot_node(frame, shape.nodes[hop.from]).unwrap_or_default();
            if let Some(slot) = shape.rels.get(hop.rel).copied().flatten() {
                let (s, d) = if e.outgoing {
                    (from, e.other)
                } else {
                    (e.other, from)
                };
                let rel_type = ev.rel_type_name(rp, &e)?;
                set(
                    frame,
                    slot,
                    Value::Relationship(Box::new(graphward_core::value::Relationship {
                        id: e.rel as i64,
                        element_id: String::new(),
                        start: s as i64,
                        end: d as i64,
                        start_element_id: String::new(),
                        end_element_id: String::new(),
                        rel_type,
                        properties: Default::default(),
                    })),
                );
            }
            self.bound.push(e.rel);
            if depth == self.hops.len() {
                return Ok(true);
            }
            self.push_level(ev, part, shape, frame)?;
        }
    }
}

/// The node id a slot holds (`None` for anything else, null included).
fn slot_node(frame: &[Value], slot: usize) -> Option<NodeId> {
    match frame.get(slot) {
        Some(Value::Node(n)) => Some(n.id as u64),
        _ => None,
    }
}

fn hop_dir(d: crate::ast::Direction, reversed: bool) -> ExpandDir {
    use crate::ast::Direction;
    match (d, reversed) {
        (Direction::Both, _) => ExpandDir::Both,
        (Direction::Outgoing, false) | (Direction::Incoming, true) => ExpandDir::Outgoing,
        _ => ExpandDir::Incoming,
    }
}

/// Whether node pattern `np` asks for labels besides `scanned` (the one its candidates were
/// read by): those are checked on each candidate's record.
fn has_other_labels(np: &NodePattern, scanned: Option<&str>) -> bool {
    np.labels.iter().any(|l| Some(l.as_str()) != scanned)
}

/// Does node `id` fit node position `i` (its input binding, labels other than `scanned`,
/// property map)? Writes it to the position's slot when it does (unless the input binds it).
fn node_fits(
    ev: &Ev,
    part: &crate::ast::PatternPart,
    shape: &ExpandShape,
    i: usize,
    id: NodeId,
    scanned: Option<&str>,
    frame: &mut Frame,
) -> Result<bool> {
    let np = if i == 0 {
        &part.element.start
    } else {
        match part.element.chain.get(i - 1) {
            Some((_, n)) => n,
            None => return Ok(false),
        }
    };
    let slot = shape.nodes[i];
    if shape.fixed[i] && slot_node(frame, slot) != Some(id) {
        return Ok(false);
    }
    if has_other_labels(np, scanned) {
        let Some(have) = ev.g.node_labels(id)? else {
            return Ok(false);
        };
        if !np.labels.iter().all(|l| have.contains(l)) {
            return Ok(false);
        }
    }
    if let Some(pe) = &np.properties {
        // A property found proves the node is there; only a match without one reads
        // whether it is (a gone node has no properties, so it matches no value).
        let found = std::cell::Cell::new(false);
        let get = |k: &str| {
            let v = ev.g.node_property(id, k)?;
            found.set(found.get() || v.is_some());
            Ok(v)
        };
        if !props_match(ev, pe, frame, &shape.input, get)? {
            return Ok(false);
        }
        if !found.get() && !ev.g.node_exists(id)? {
            return Ok(false);
        }
    }
    if !shape.fixed[i] {
        set_node(frame, slot, id);
    }
    Ok(true)
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
        // The arguments of aggregate calls too (`sum(n.id)`), which `walk` leaves out.
        let mut todo = vec![e.clone()];
        while let Some(e) = todo.pop() {
            walk_exprs(&e, &mut |x| {
                if let Expr::Property(base, key) = x {
                    if matches!(&**base, Expr::Variable(v) if v == var) {
                        *counts.entry(key.clone()).or_default() += 1;
                    }
                }
                if let Expr::FunctionCall { args, .. } = x {
                    if contains_aggregate(x) {
                        todo.extend(args.iter().cloned());
                    }
                }
            })
        }
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

/// WITH / RETURN: projection, distinct, sort or top-k, skip, limit, filter, then the columns
/// (with their slots: the scope after the clause).
#[allow(clippy::type_complexity)]
fn plan_projection(
    input: Node,
    p: &Projection,
    where_: Option<&Expr>,
    scope: &[String],
    sc: &[(String, usize)],
    slots: &mut Slots,
    produce: bool,
) -> (Node, Vec<String>, Vec<(String, usize)>) {
    let items = projection_items(p, scope);
    let columns: Vec<String> = items.iter().map(|(n, _)| n.clone()).collect();
    let aggregating = items.iter().any(|(_, e)| contains_aggregate(e));
    let in_scope: Scope = sc.to_vec().into();
    if aggregating {
        let out: Vec<(String, usize)> =
            columns.iter().map(|c| (c.clone(), slots.fresh())).collect();
        let node = Node::new(
            Op::Eager {
                p: Box::new(p.clone()),
                scope: scope.to_vec(),
                where_: where_.cloned(),
                out: None,
                input: in_scope,
                columns: out.clone().into(),
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
            return (node, columns, out);
        }
        return (node, columns, out);
    }
    // An item that passes a variable on under its own name keeps its slot; any other gets
    // a new one.
    let mut ext: Vec<(String, usize)> = sc.to_vec();
    let mut item_slots = Vec::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    let mut ext_names = scope.to_vec();
    for (n, e) in &items {
        let kept = match e {
            Expr::Variable(v) if v == n => sc.iter().find(|(x, _)| x == v).map(|(_, s)| *s),
            _ => None,
        };
        let s = match kept {
            Some(s) => {
                item_slots.push(None);
                s
            }
            None => {
                let s = slots.fresh();
                item_slots.push(Some(s));
                s
            }
        };
        out.push((n.clone(), s));
    }
    for (n, s) in &out {
        bind(&mut ext, &mut ext_names, n, *s);
    }
    let ext: Scope = ext.into();
    // ORDER BY ... LIMIT of a projection that is not DISTINCT: the top rows are chosen from
    // the input by keys written over it, and only they are projected (Neo4j plans Top below
    // the Projection too): `RETURN n {.*} ORDER BY n.t DESC LIMIT 20` builds 20 maps, not
    // one per input row.
    let early = match (&p.limit, p.distinct) {
        (Some(_), false) if !p.order_by.is_empty() => keys_over_input(&p.order_by, &items),
        _ => None,
    };
    let mut input = input;
    if let Some(keys) = &early {
        input = Node::new(
            Op::Sort {
                items: keys.clone(),
                skip: p.skip.clone(),
                limit: p.limit.clone(),
                out: None,
                input: in_scope.clone(),
                ordered: None,
                passing: false,
            },
            vec![input],
        );
    }
    let mut node = Node::new(
        Op::Project {
            items: items.clone(),
            slots: item_slots,
            input: in_scope,
            ticks: 0,
        },
        vec![input],
    );
    if p.distinct {
        node = Node::new(
            Op::Distinct {
                columns: columns.clone(),
                slots: out.iter().map(|(_, s)| *s).collect(),
                seen: HashSet::new(),
                held: None,
            },
            vec![node],
        );
    }
    if !p.order_by.is_empty() && early.is_none() {
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
                input: ext.clone(),
                ordered: None,
                passing: false,
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
        node = Node::new(
            Op::Filter {
                pred: w.clone(),
                input: ext,
                ticks: 0,
            },
            vec![node],
        );
    }
    node = Node::new(
        Op::Select {
            columns: columns.clone(),
            produce,
        },
        vec![node],
    );
    (node, columns, out)
}

/// The ORDER BY keys of a projection rewritten over its input (each column a key reads that
/// is not its input's variable passed on is replaced by its item's expression), when that
/// is sound: the keys bind no variables of their own (no comprehension, quantifier, reduce,
/// pattern or subquery) and every item they read, now evaluated for the sort and again for
/// the projection, gives the same value each time (no `rand()`, no clock, no subquery).
fn keys_over_input(order_by: &[SortItem], items: &[(String, Expr)]) -> Option<Vec<SortItem>> {
    let aliases: Vec<(&str, &Expr)> = items
        .iter()
        .filter(|(n, e)| !matches!(e, Expr::Variable(v) if v == n))
        .map(|(n, e)| (n.as_str(), e))
        .collect();
    fn rewrite(e: &Expr, aliases: &[(&str, &Expr)]) -> Option<Expr> {
        if !plain_expr(e) {
            return None;
        }
        if let Expr::Variable(v) = e {
            if let Some((_, item)) = aliases.iter().find(|(n, _)| n == v) {
                let mut pure = true;
                walk_exprs(item, &mut |x| pure &= plain_expr(x));
                return pure.then(|| (*item).clone());
            }
            return Some(e.clone());
        }
        let mut ok = true;
        let out = map_children(e, &mut |c| match rewrite(c, aliases) {
            Some(x) => x,
            None => {
                ok = false;
                c.clone()
            }
        });
        ok.then_some(out)
    }
    order_by
        .iter()
        .map(|s| {
            Some(SortItem {
                expr: rewrite(&s.expr, &aliases)?,
                ascending: s.ascending,
            })
        })
        .collect()
}

/// An expression node that binds no variable and gives the same value for the same row
/// every time it is evaluated (its children are checked on their own).
fn plain_expr(e: &Expr) -> bool {
    match e {
        Expr::Literal(_)
        | Expr::Parameter(_)
        | Expr::Variable(_)
        | Expr::List(_)
        | Expr::Map(_)
        | Expr::Property(..)
        | Expr::Index(..)
        | Expr::Slice(..)
        | Expr::Unary(..)
        | Expr::Binary(..)
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::HasLabels(..)
        | Expr::LabelCheck(..)
        | Expr::IsType(..)
        | Expr::Once(..)
        | Expr::Case { .. } => true,
        Expr::FunctionCall { name, .. } => super::seek_hints::pure_function(name),
        _ => false,
    }
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
    let part = match m.pattern.as_slice() {
        [p] if p.shortest.is_none() => Some((Box::new(p.clone()), scope.to_vec())),
        _ => None,
    };
    MatchShape {
        operator,
        details,
        identifiers,
        part,
        access: None,
        ordered: None,
        optional: m.optional,
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
    fn rel_index_seek(
        &self,
        rel_type: &str,
        properties: &[String],
        values: &[Value],
    ) -> Result<Option<Vec<RelId>>> {
        let r = self.inner.rel_index_seek(rel_type, properties, values)?;
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
    fn index_range_count(
        &self,
        label: &str,
        property: &str,
        lower: std::ops::Bound<&Value>,
        upper: std::ops::Bound<&Value>,
        cap: u64,
    ) -> Result<Option<u64>> {
        let r = self
            .inner
            .index_range_count(label, property, lower, upper, cap)?;
        self.add(r.unwrap_or(0).saturating_add(1) as usize);
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
    fn index_orders(&self, label: &str, property: &str) -> Result<bool> {
        self.inner.index_orders(label, property)
    }
    fn index_order_page(
        &self,
        label: &str,
        property: &str,
        range: (std::ops::Bound<&Value>, std::ops::Bound<&Value>),
        descending: bool,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Option<IndexPage>> {
        let page = self
            .inner
            .index_order_page(label, property, range, descending, after, limit)?;
        self.add(page.as_ref().map_or(1, |(ids, _)| ids.len().max(1)));
        Ok(page)
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
    fn count_relationships_of_type(&self, rel_type: &str) -> Result<u64> {
        self.add(1);
        self.inner.count_relationships_of_type(rel_type)
    }
    // A token name, not a storage read (the token cache answers it).
    fn type_name(&self, type_id: u32) -> Result<Option<String>> {
        self.inner.type_name(type_id)
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
    fn node_property_page(
        &self,
        label: Option<&str>,
        key: &str,
        after: Option<NodeId>,
        limit: usize,
    ) -> Result<Vec<(NodeId, Option<Value>)>> {
        let r = self.inner.node_property_page(label, key, after, limit)?;
        self.add(r.len() + 1);
        Ok(r)
    }
    fn node_id_span(&self, label: Option<&str>) -> Result<Option<(NodeId, NodeId)>> {
        self.add(1);
        self.inner.node_id_span(label)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    //! The streaming executor over a storage stand-in that counts the records it hands out
    //! (and can cancel the query after some): deterministic proofs that scans are read lazily
    //! and that the cancel flag and the clock are seen within a page of a scan.

    use super::*;
    use graphward_core::engine::{CancelToken, Limits};
    use graphward_core::memory::{MemoryPool, QueryMemory};
    use graphward_core::ErrorCode;

    use crate::ast::Statement;
    use crate::runtime::eval::{Env, MemAccount};

    /// `n` nodes `(:N {id})` with ids 0..n, and relationships `i -[:R]-> (i + 1) % n`.
    struct Graph {
        n: u64,
        /// Ids, properties and edges handed out.
        reads: Reads,
        /// Cancelled once `reads` reaches `cancel_after`.
        cancel: CancelToken,
        cancel_after: u64,
        /// Read by several threads at once (`GraphRead::shared`), as a snapshot is.
        shared: bool,
        /// A node whose `id` is the string "bad" instead.
        bad: Option<NodeId>,
        /// The threads that read nodes' properties.
        readers: std::sync::Mutex<std::collections::HashSet<std::thread::ThreadId>>,
    }

    /// A count of reads any thread may add to.
    #[derive(Default)]
    struct Reads(std::sync::atomic::AtomicU64);

    impl Reads {
        fn get(&self) -> u64 {
            self.0.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    impl Graph {
        fn read(&self, k: usize) {
            let before = self
                .reads
                .0
                .fetch_add(k as u64, std::sync::atomic::Ordering::SeqCst);
            if before + k as u64 >= self.cancel_after {
                self.cancel.cancel();
            }
        }
    }

    impl GraphRead for Graph {
        fn node(&self, id: NodeId) -> Result<Option<NodeRecord>> {
            self.read(1);
            Ok((id < self.n).then(|| NodeRecord {
                id,
                labels: vec!["N".into()],
                properties: [("id".to_string(), Value::Int(id as i64))]
                    .into_iter()
                    .collect(),
            }))
        }
        fn relationship(&self, id: RelId) -> Result<Option<RelRecord>> {
            self.read(1);
            Ok((id < self.n).then(|| RelRecord {
                id,
                rel_type: "R".into(),
                src: id,
                dst: (id + 1) % self.n,
                properties: Default::default(),
            }))
        }
        fn all_nodes(&self) -> Result<Vec<NodeId>> {
            self.read(self.n as usize);
            Ok((0..self.n).collect())
        }
        fn nodes_with_label(&self, label: &str) -> Result<Vec<NodeId>> {
            if label != "N" {
                return Ok(Vec::new());
            }
            self.all_nodes()
        }
        fn all_relationships(&self) -> Result<Vec<RelId>> {
            self.all_nodes()
        }
        fn expand(&self, node: NodeId, dir: ExpandDir, types: &[String]) -> Result<Vec<Edge>> {
            let mut out = Vec::new();
            if !types.is_empty() && !types.iter().any(|t| t == "R") {
                return Ok(out);
            }
            if matches!(dir, ExpandDir::Outgoing | ExpandDir::Both) {
                out.push(Edge {
                    rel: node,
                    other: (node + 1) % self.n,
                    outgoing: true,
                    type_id: u32::MAX,
                });
            }
            if matches!(dir, ExpandDir::Incoming | ExpandDir::Both) {
                let prev = (node + self.n - 1) % self.n;
                out.push(Edge {
                    rel: prev,
                    other: prev,
                    outgoing: false,
                    type_id: u32::MAX,
                });
            }
            self.read(out.len());
            Ok(out)
        }
        fn index_seek(&self, _: &str, _: &[String], _: &[Value]) -> Result<Option<Vec<NodeId>>> {
            Ok(None)
        }
        fn schema(&self) -> Result<Vec<SchemaDef>> {
            Ok(Vec::new())
        }
        fn node_id_span(&self, label: Option<&str>) -> Result<Option<(NodeId, NodeId)>> {
            if label.is_some_and(|l| l != "N") || self.n == 0 {
                return Ok(None);
            }
            Ok(Some((0, self.n - 1)))
        }
        fn shared(&self) -> Option<&(dyn GraphRead + Sync)> {
            self.shared.then_some(self as &(dyn GraphRead + Sync))
        }
        fn count_nodes(&self, _: Option<&str>) -> Result<u64> {
            Ok(self.n)
        }
        fn labels(&self) -> Result<Vec<String>> {
            Ok(vec!["N".into()])
        }
        fn relationship_types(&self) -> Result<Vec<String>> {
            Ok(vec!["R".into()])
        }
        fn property_keys(&self) -> Result<Vec<String>> {
            Ok(vec!["id".into()])
        }
        fn node_exists(&self, id: NodeId) -> Result<bool> {
            self.read(1);
            Ok(id < self.n)
        }
        fn node_property(&self, id: NodeId, key: &str) -> Result<Option<Value>> {
            self.read(1);
            if let Ok(mut r) = self.readers.lock() {
                r.insert(std::thread::current().id());
            }
            if self.bad == Some(id) {
                return Ok(Some(Value::String("bad".into())));
            }
            Ok((id < self.n && key == "id").then_some(Value::Int(id as i64)))
        }
        fn node_labels(&self, id: NodeId) -> Result<Option<Vec<String>>> {
            self.read(1);
            Ok((id < self.n).then(|| vec!["N".into()]))
        }
        fn nodes_page(
            &self,
            label: Option<&str>,
            after: Option<NodeId>,
            limit: usize,
        ) -> Result<Vec<NodeId>> {
            if label.is_some_and(|l| l != "N") {
                return Ok(Vec::new());
            }
            let from = after.map_or(0, |a| a + 1);
            let page: Vec<NodeId> = (from..self.n).take(limit).collect();
            self.read(page.len());
            Ok(page)
        }
    }

    fn graph(n: u64, cancel_after: u64) -> Graph {
        Graph {
            n,
            reads: Reads::default(),
            cancel: CancelToken::new(),
            cancel_after,
            shared: false,
            bad: None,
            readers: Default::default(),
        }
    }

    /// Runs `text` on the streaming executor over `g`: the rows, or the first error.
    fn run(g: &Graph, text: &str) -> Result<Vec<Vec<Value>>> {
        let mut rows = Vec::new();
        stream(
            g,
            text,
            &QueryMemory::new(1 << 30, MemoryPool::new(1 << 30)),
            |r| rows.push(r),
        )?;
        Ok(rows)
    }

    /// Runs `text` on the streaming executor over `g` with the memory account `mem`, handing
    /// each row to `each` as it is pulled (as a Bolt PULL does).
    fn stream(
        g: &Graph,
        text: &str,
        mem: &Arc<QueryMemory>,
        mut each: impl FnMut(Vec<Value>),
    ) -> Result<()> {
        let Statement::Query(q) = crate::runtime::parse_statement(text, &Limits::default())? else {
            panic!("not a query: {text}");
        };
        let mut plan = plan_query(&q, text);
        assert!(plan.executable, "{text}");
        let env = Env {
            params: Default::default(),
            clock: graphward_temporal::Clock::system(),
            cancel: g.cancel.clone(),
            deadline: None,
            database: "neo4j".into(),
            max_rows: u64::MAX,
            mem: MemAccount::new(mem.clone()),
            procedures: Default::default(),
            tx_metadata: Default::default(),
            import_dir: None,
        };
        let hits = Cell::new(0);
        let cx = Cx {
            ev: Ev::new(g, &env),
            hits: &hits,
        };
        let mut frame = vec![Value::Null; plan.width];
        while plan.root.pull(&cx, &mut frame)? {
            each(
                plan.column_slots
                    .iter()
                    .map(|s| frame.get(*s).cloned().unwrap_or(Value::Null))
                    .collect(),
            );
        }
        Ok(())
    }

    #[test]
    fn a_scan_stops_within_a_page_of_a_cancel() {
        // Cancelled (as the 1 ms limit of a short read ends it) after 100 records of 100k:
        // the scan notices before its next page, not after reading every node.
        for q in [
            "MATCH (n:N) RETURN count(n), sum(n.id)",
            "MATCH (n:N) RETURN n.id ORDER BY n.id DESC LIMIT 10",
            // (`count(n)` alone is read from the count store: no scan.)
            "MATCH (n) RETURN count(n.id)",
        ] {
            let g = graph(100_000, 100);
            let err = run(&g, q).unwrap_err();
            assert_eq!(err.code, ErrorCode::Terminated, "{q}: {err:?}");
            let reads = g.reads.get();
            assert!(
                reads <= 2 * (100 + MAX_PAGE as u64),
                "{q}: {reads} records read"
            );
        }
        // Not cancelled, the same scan reads every node once (and its `id` with it).
        let g = graph(100_000, u64::MAX);
        let rows = run(&g, "MATCH (n:N) RETURN count(n), sum(n.id)").unwrap();
        assert_eq!(
            rows,
            vec![vec![Value::Int(100_000), Value::Int(4_999_950_000)]]
        );
        assert!(g.reads.get() <= 2 * 100_000, "{}", g.reads.get());
    }

    #[test]
    fn limit_reads_a_handful_of_records_from_a_scan() {
        for q in [
            "MATCH (n:N) WITH n LIMIT 1 RETURN 1",
            "MATCH (n:N) RETURN n.id LIMIT 1",
            "MATCH (n) RETURN n LIMIT 1",
        ] {
            let g = graph(300_000, u64::MAX);
            assert_eq!(run(&g, q).unwrap().len(), 1, "{q}");
            let reads = g.reads.get();
            assert!(reads <= 2 * FIRST_PAGE as u64, "{q}: {reads} records read");
        }
    }

    /// A big scan under an aggregation, over a snapshot threads may share, is read by this
    /// thread and a helper (when the machine has a second core): the answer is the one
    /// thread's, each node is read once, a cancel stops both threads within a page, and an
    /// error in a helper's morsel is the query's error. (One test: the helpers are shared
    /// server-wide, and other tests of this crate's run could take them.)
    #[test]
    fn a_big_scan_aggregates_on_two_threads_as_on_one() {
        let n = 300_000u64;
        let q = "MATCH (n:N) RETURN count(*), count(n), sum(n.id), min(n.id), max(n.id), \
                 avg(n.id), count(n.id)";
        let total = (n * (n - 1) / 2) as i64;
        let want = vec![vec![
            Value::Int(n as i64),
            Value::Int(n as i64),
            Value::Int(total),
            Value::Int(0),
            Value::Int(n as i64 - 1),
            Value::Float(total as f64 / n as f64),
            Value::Int(n as i64),
        ]];
        let mut g = graph(n, u64::MAX);
        g.shared = true;
        assert_eq!(run(&g, q).unwrap(), want);
        // Each node's id read once, its property once (nodes_page, then node_property).
        assert!(g.reads.get() <= 2 * n, "{}", g.reads.get());
        let threads = g.readers.lock().unwrap().len();
        if super::super::parallel::helper().is_some() {
            assert_eq!(threads, 2, "read by {threads} threads");
        }
        // The same on one thread (a view threads may not share).
        let g = graph(n, u64::MAX);
        assert_eq!(run(&g, q).unwrap(), want);
        assert_eq!(g.readers.lock().unwrap().len(), 1);

        // Cancelled after 500 reads: each thread stops before its next page.
        let mut g = graph(n, 500);
        g.shared = true;
        let err = run(&g, q).unwrap_err();
        assert_eq!(err.code, ErrorCode::Terminated);
        assert!(
            g.reads.get() <= 500 + 2 * 2 * MAX_PAGE as u64,
            "{}",
            g.reads.get()
        );

        // Through the frame (grouping keys, a WHERE, the top k): each thread stops too.
        for q in [
            "MATCH (n:N) RETURN n.id % 10 AS k, count(*)",
            "MATCH (n:N) WHERE n.id > 5 RETURN count(*)",
            "MATCH (n:N) RETURN n.id ORDER BY -n.id LIMIT 3",
            "MATCH (n:N) WITH n.id AS x WHERE x % 2 = 0 RETURN x % 3 AS k, count(x)",
            "MATCH (n:N) WITH n, n.id % 7 AS m WHERE m = 1 RETURN n.id ORDER BY m, -n.id LIMIT 4",
        ] {
            let mut g = graph(n, 500);
            g.shared = true;
            let err = run(&g, q).unwrap_err();
            assert_eq!(err.code, ErrorCode::Terminated, "{q}");
            assert!(
                g.reads.get() <= 500 + 2 * 2 * MAX_PAGE as u64,
                "{q}: {}",
                g.reads.get()
            );
            let mut g = graph(n, u64::MAX);
            g.shared = true;
            let rows = run(&g, q).unwrap();
            let one = run(&graph(n, u64::MAX), q).unwrap();
            assert_eq!(rows, one, "{q}");
            if super::super::parallel::helper().is_some() {
                assert_eq!(g.readers.lock().unwrap().len(), 2, "{q}");
            }
        }

        // A string among the ids, in the scan's last morsel: sum() fails on it.
        let mut g = graph(n, u64::MAX);
        g.shared = true;
        g.bad = Some(n - 10);
        let err = run(&g, "MATCH (n:N) RETURN sum(n.id)").unwrap_err();
        assert_eq!(err.code, ErrorCode::TypeError, "{err:?}");
        // min() and max() take it: strings order before numbers.
        let rows = run(&g, "MATCH (n:N) RETURN min(n.id), max(n.id)").unwrap();
        assert_eq!(
            rows,
            vec![vec![Value::String("bad".into()), Value::Int(n as i64 - 1)]]
        );
        // Every helper was given back.
        let held: Vec<_> = std::iter::from_fn(super::super::parallel::helper)
            .take(64)
            .collect();
        assert_eq!(held.len(), super::super::parallel::capacity());
    }

    /// Whether the plan expands a pattern itself (slot to slot) rather than through the matcher.
    fn expands(node: &Node) -> bool {
        matches!(
            &node.op,
            Op::MatchStream {
                expand: Some(_),
                ..
            }
        ) || node.children.iter().any(expands)
    }

    fn ints(v: &[i64]) -> Vec<Value> {
        v.iter().map(|i| Value::Int(*i)).collect()
    }

    /// `q` over 100,000 nodes, cancelled after 500 reads: it stops with `Terminated` within
    /// a page of candidates.
    fn assert_cancel_seen_within_a_page(q: &str) {
        let g = graph(100_000, 500);
        let err = run(&g, q).unwrap_err();
        assert_eq!(err.code, ErrorCode::Terminated);
        assert!(
            g.reads.get() <= 2 * (500 + MAX_PAGE as u64),
            "{q}: {}",
            g.reads.get()
        );
    }

    fn plan_of(text: &str) -> Plan {
        let Statement::Query(q) =
            crate::runtime::parse_statement(text, &Limits::default()).unwrap()
        else {
            panic!("not a query: {text}");
        };
        plan_query(&q, text)
    }

    #[test]
    fn fixed_hops_expand_slot_to_slot_lazily() {
        let int = |i: i64| vec![Value::Int(i)];
        for (q, want) in [
            // (Without the label, the count store would answer it.)
            ("MATCH (a:N)-[r:R]->(b) RETURN count(*)", vec![int(1000)]),
            (
                "MATCH (a:N {id: 5})-[:R]->(b)-[:R]->(c) RETURN c.id",
                vec![int(7)],
            ),
            (
                "MATCH (a:N {id: 5})<-[:R]-(b)<-[:R]-(c) RETURN c.id",
                vec![int(3)],
            ),
            (
                "MATCH (a:N {id: 5})-[:R]-(b) RETURN b.id ORDER BY b.id",
                vec![int(4), int(6)],
            ),
            // Anchored in the middle: the walk goes right, then left.
            (
                "MATCH (a)-[:R]->(b:N {id: 5})-[:R]->(c) RETURN a.id, c.id",
                vec![vec![Value::Int(4), Value::Int(6)]],
            ),
            // Relationships are distinct within a pattern; a relationship variable binds.
            (
                "MATCH (a:N {id: 0})-[r1]-(b)-[r2]-(c) RETURN count(*)",
                vec![int(2)],
            ),
            (
                "MATCH (a:N {id: 0})-[r:R]->(b) RETURN type(r), id(startNode(r)), id(endNode(r))",
                vec![vec![
                    Value::String("R".into()),
                    Value::Int(0),
                    Value::Int(1),
                ]],
            ),
            (
                "MATCH (a:N {id: 5}) MATCH (a)-[:R]->(b) RETURN b.id",
                vec![int(6)],
            ),
            (
                "MATCH (a:N {id: 5}), (b:N {id: 6}) WITH a, b MATCH (a)-[:R]->(b) RETURN count(*)",
                vec![int(1)],
            ),
            (
                "MATCH (a:N {id: 5}), (b:N {id: 7}) WITH a, b MATCH (a)-[:R]->(b) RETURN count(*)",
                vec![int(0)],
            ),
            (
                "MATCH (a:N {id: 5})-[:S]->(b) RETURN count(*)",
                vec![int(0)],
            ),
            (
                "MATCH (a:N {id: 5}) OPTIONAL MATCH (a)-[:S]->(b) RETURN b",
                vec![vec![Value::Null]],
            ),
            (
                "MATCH (a:N {id: 5})-[:R]->(b:Missing) RETURN count(*)",
                vec![int(0)],
            ),
            (
                "MATCH (a)-[:R]->(b) WHERE a.id = 998 RETURN b.id",
                vec![int(999)],
            ),
        ] {
            assert!(expands(&plan_of(q).root), "{q}");
            let g = graph(1000, u64::MAX);
            assert_eq!(run(&g, q).unwrap(), want, "{q}");
        }
        // Shapes the matcher walks.
        for q in [
            "MATCH (a)-[:R*1..2]->(b) RETURN count(*)",
            "MATCH p = (a)-[:R]->(b) RETURN count(*)",
            "MATCH (a)-[:R]->(a) RETURN count(*)",
            "MATCH (a)-[r:R WHERE r.w > 1]->(b) RETURN count(*)",
        ] {
            assert!(!expands(&plan_of(q).root), "{q}");
        }
        // A map naming another variable of the pattern is a WHERE (seek_hints): it expands.
        let q = "MATCH (a)-[:R]->(b {id: a.id + 1}) RETURN count(*)";
        assert!(expands(&plan_of(q).root), "{q}");
        let g = graph(1000, u64::MAX);
        assert_eq!(
            run(&g, q).unwrap(),
            run(
                &g,
                "MATCH (a)-[:R]->(b) WHERE b.id = a.id + 1 RETURN count(*)"
            )
            .unwrap()
        );
        // LIMIT stops the expansion: a handful of records, not the graph.
        let g = graph(300_000, u64::MAX);
        assert_eq!(
            run(&g, "MATCH (a)-[:R]->(b)-[:R]->(c) RETURN c LIMIT 1")
                .unwrap()
                .len(),
            1
        );
        assert!(g.reads.get() <= 4 * FIRST_PAGE as u64, "{}", g.reads.get());
        // A cancel is seen within a page of candidates.
        assert_cancel_seen_within_a_page("MATCH (a:N)-[r:R]->(b) RETURN count(*)");
    }

    /// Several pattern parts (at most one with relationships) stream part by part.
    #[test]
    fn pattern_parts_stream_one_after_another() {
        fn per_row(n: &Node) -> bool {
            matches!(n.op, Op::MatchPerRow { .. }) || n.children.iter().any(per_row)
        }
        for (q, want) in [
            (
                "MATCH (a:N {id: 1}), (b:N {id: 2}) RETURN a.id, b.id",
                vec![ints(&[1, 2])],
            ),
            (
                "MATCH (a:N {id: 5}), (a)-[:R]->(b) RETURN b.id",
                vec![ints(&[6])],
            ),
            (
                "MATCH (a:N), (b:N) WHERE a.id = 3 AND b.id = a.id + 1 RETURN b.id",
                vec![ints(&[4])],
            ),
            ("MATCH (a:N), (b:N) RETURN count(*)", vec![ints(&[100])]),
        ] {
            assert!(!per_row(&plan_of(q).root), "{q}");
            let g = graph(10, u64::MAX);
            assert_eq!(run(&g, q).unwrap(), want, "{q}");
        }
        // Two parts with relationships share the relationship uniqueness: the matcher.
        assert!(per_row(
            &plan_of("MATCH (a)-[:R]->(b), (b)-[:R]->(c) RETURN count(*)").root
        ));
        assert!(per_row(
            &plan_of("OPTIONAL MATCH (a:N), (b:N) RETURN count(*)").root
        ));
    }

    /// A cartesian product streams: LIMIT reads a handful of records, the query's memory
    /// stays flat however many rows it makes, and a cancel is seen within a page.
    #[test]
    fn a_cartesian_product_streams() {
        for q in [
            "MATCH (a:N), (b:N) RETURN a, b LIMIT 5",
            "MATCH (a:N), (b:N), (c:N), (d:N) RETURN a, b, c, d LIMIT 5",
        ] {
            let g = graph(300_000, u64::MAX);
            assert_eq!(run(&g, q).unwrap().len(), 5, "{q}");
            let reads = g.reads.get();
            assert!(reads <= 4 * FIRST_PAGE as u64, "{q}: {reads} records read");
        }
        // 1000 x 1000 rows under a 1 MiB budget (materialized they would take hundreds of
        // MiB). The query's peak grows only while the scans' pages double to their size
        // (bounded by MAX_PAGE ids each), then stays where it is for the next 500k rows.
        let peak = |q: &str| {
            let g = graph(1000, u64::MAX);
            let mem = QueryMemory::new(1 << 20, MemoryPool::new(1 << 20));
            let mut rows = 0u64;
            stream(&g, q, &mem, |r| {
                assert_eq!(r.len(), 2);
                rows += 1;
            })
            .unwrap();
            (rows, mem.peak())
        };
        let (first, early) = peak("MATCH (a:N), (b:N) RETURN a, b LIMIT 1000");
        assert_eq!(first, 1000);
        let (half, pages_full) = peak("MATCH (a:N), (b:N) RETURN a, b LIMIT 510000");
        assert_eq!(half, 510_000);
        let (all, late) = peak("MATCH (a:N), (b:N) RETURN a, b");
        assert_eq!(all, 1_000_000);
        let page = (2 * MAX_PAGE * std::mem::size_of::<(NodeId, Option<Value>)>()) as u64;
        assert!(late <= early + page, "peak {early} -> {late} bytes");
        assert_eq!(
            late, pages_full,
            "the peak moved after the pages were full-size"
        );
        // A cancel is seen within a page of candidates, not after the product.
        assert_cancel_seen_within_a_page("MATCH (a:N), (b:N) RETURN count(*)");
    }

    /// UNION [ALL] streams branch after branch; UNION without ALL keeps (and charges) the
    /// keys it has seen.
    #[test]
    fn unions_stream_branch_after_branch() {
        let g = graph(10, u64::MAX);
        let q = "MATCH (a:N) WHERE a.id <= 2 RETURN a.id AS x, 1 AS y \
                 UNION ALL MATCH (b:N) WHERE b.id <= 3 RETURN 2 AS y, b.id AS x";
        assert!(plan_of(q).executable, "{q}");
        assert_eq!(
            run(&g, q).unwrap(),
            vec![
                ints(&[0, 1]),
                ints(&[1, 1]),
                ints(&[2, 1]),
                ints(&[0, 2]),
                ints(&[1, 2]),
                ints(&[2, 2]),
                ints(&[3, 2])
            ]
        );
        let q = "MATCH (a:N) WHERE a.id <= 2 RETURN a.id AS x \
                 UNION MATCH (b:N) WHERE b.id <= 3 RETURN b.id AS x \
                 UNION RETURN 2 AS x";
        assert!(plan_of(q).executable, "{q}");
        assert_eq!(
            run(&g, q).unwrap(),
            vec![ints(&[0]), ints(&[1]), ints(&[2]), ints(&[3])]
        );
        // A branch the executor cannot run sends the whole union to the clause runner.
        assert!(!plan_of("RETURN 1 AS x UNION ALL CREATE (n) RETURN 2 AS x").executable);

        // 2 x 300,000 rows under a 1 MiB budget: nothing is kept.
        let g = graph(300_000, u64::MAX);
        let mem = QueryMemory::new(1 << 20, MemoryPool::new(1 << 20));
        let mut rows = 0u64;
        stream(
            &g,
            "MATCH (a:N) RETURN a.id AS x UNION ALL MATCH (b:N) RETURN b.id AS x",
            &mem,
            |_| rows += 1,
        )
        .unwrap();
        assert_eq!(rows, 600_000);
        // Without ALL the seen keys are charged: the budget ends it.
        let err = stream(
            &g,
            "MATCH (a:N) RETURN a.id AS x UNION MATCH (b:N) RETURN b.id AS x",
            &QueryMemory::new(1 << 20, MemoryPool::new(1 << 20)),
            |_| {},
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::MemoryLimit);
    }
}
