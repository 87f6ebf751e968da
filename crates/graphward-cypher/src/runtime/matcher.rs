//! Pattern matching: anchors (bound variable, index seek, label scan, all nodes), expansion
//! left and right from the anchor, variable-length expansion, relationship isomorphism.

use std::collections::HashSet;

use graphward_core::value::{Node, Path, Relationship};
use graphward_core::{Error, Result, Value};
use graphward_storage::{Edge, ExpandDir, NodeId, RelId};

use super::eval::{node_ref, rel_ref, row_size, Ev, Row};
use super::seek_hints::{seekable, SeekKind};
use super::values::equals;
use crate::ast::{
    Clause, Direction, Expr, NodePattern, PatternPart, QuantGroup, RelationshipPattern,
    SelectorCount, ShortestKind, SingleQuery,
};

/// A relationship traversed while matching: the relationship and the node reached.
#[derive(Clone)]
struct Hop {
    rel: Relationship,
    /// The node on the far side (in pattern order, i.e. the right-hand side).
    node: NodeId,
}

#[derive(Clone)]
enum RelBinding {
    Single(Relationship),
    /// Hops in pattern order (left to right); intermediate nodes are the hops' `node`s except
    /// the last, which is the right-hand node of the pattern step.
    Var(Vec<Hop>),
}

struct State {
    nodes: Vec<Option<NodeId>>,
    rels: Vec<Option<RelBinding>>,
    used: HashSet<RelId>,
    row: Row,
    /// The anchor node pattern and the label its candidates were scanned by (so it is known).
    anchor: usize,
    anchor_label: Option<String>,
    /// The anchor's property an equality seek found its candidates by, with the value sought
    /// (see [`Anchor::sought`]).
    sought: Option<Box<(String, Value)>>,
}

/// Where a pattern part starts: the node pattern, and the label every candidate is known to
/// have: the scanned label, or the label of the node index a seek reads (`None` for a bound
/// node, a relationship index seek or a scan of all nodes).
#[derive(Clone, Debug)]
pub(crate) struct Anchor {
    pub index: usize,
    pub label: Option<String>,
    /// The candidates come from a scan (of `label`, or of every node).
    pub scan: bool,
    /// An equality seek of an index on one property found the candidates: the property and
    /// the value sought, which every candidate has (only an integer, a string or a boolean,
    /// whose index keys are equal exactly when the values are): a property map's entry for it
    /// is not read again.
    pub sought: Option<Box<(String, Value)>>,
}

/// Where the matcher starts a pattern part: decided once, by [`access_path`], from the
/// pattern, the variables bound before it, the schema and the label counts. The matcher
/// carries it out ([`Ev::choose_anchor`]) and EXPLAIN / PROFILE name it (`plan.rs`).
#[derive(Clone, Debug, PartialEq)]
pub enum Access {
    /// Node pattern `node` is bound already (by the input row or an earlier pattern part).
    Bound { node: usize },
    /// An index of `label(property)` finds node pattern `node`'s candidates (the nodes whose
    /// property `seek` describes); `unique` when it backs a uniqueness or key constraint.
    NodeIndexSeek {
        node: usize,
        label: String,
        property: String,
        seek: Seek,
        unique: bool,
    },
    /// A composite index (or node key) of `label(properties)` finds node pattern `node`'s
    /// candidates: the nodes whose properties equal `values`, one for each, in order.
    NodeCompositeSeek {
        node: usize,
        label: String,
        properties: Vec<String>,
        values: Vec<Expr>,
        unique: bool,
    },
    /// A relationship index of `rel_type(property)` finds relationship pattern `rel`'s
    /// relationships; the candidates are the nodes at its left end (node pattern `rel`).
    RelIndexSeek {
        rel: usize,
        rel_type: String,
        property: String,
        /// An equality or an `IN` list.
        seek: Seek,
        direction: Direction,
    },
    /// Every node with `label` (the smallest label of the pattern).
    LabelScan { node: usize, label: String },
    /// Every node.
    AllNodes,
}

/// One side of a range seek: its value and whether it is included; `None` when unbounded.
pub type SeekBound = Option<(Expr, bool)>;

/// What a node index seek looks for: values evaluated before the pattern is matched.
#[derive(Clone, Debug, PartialEq)]
pub enum Seek {
    /// The property equals the value (a property map entry, or a copied `WHERE` equality).
    Eq(Expr),
    /// The property is one of the list's values (`n.p IN list`).
    In(Expr),
    /// The property lies between the bounds (at least one), each `true` when included.
    Range { lower: SeekBound, upper: SeekBound },
    /// The string property starts with the value (`n.p STARTS WITH s`).
    Prefix(Expr),
}

impl Access {
    /// The node pattern the matcher starts from.
    pub fn node(&self) -> usize {
        match self {
            Access::Bound { node }
            | Access::NodeIndexSeek { node, .. }
            | Access::NodeCompositeSeek { node, .. }
            | Access::LabelScan { node, .. } => *node,
            Access::RelIndexSeek { rel, .. } => *rel,
            Access::AllNodes => 0,
        }
    }
}

/// Can `e`, a value of a property map, be evaluated before the pattern is matched (it names
/// no variable of `declared`, the ones the pattern binds itself)? Anything it cannot see
/// through (comprehensions, subqueries, patterns, CASE) is not: an operand naming a variable
/// of the pattern itself (`(b {id: a.id + 1})<--(a)`) would be read before it is bound.
fn known_before(e: &Expr, declared: &[&String]) -> bool {
    let mut named = Vec::new();
    super::seek_hints::plain_vars(e, super::seek_hints::Calls::Any, &mut named)
        && named.iter().all(|v| !declared.contains(&v))
}

/// The seeks a node pattern's hints (`seek_hints`: its `WHERE` conjuncts an index can
/// answer) allow, best first: `IN` lists, then ranges (a lower and an upper bound of the same
/// property together), then prefixes. Only hints on the pattern's own variable whose value is
/// known before the pattern is matched.
fn hinted_seeks(np: &NodePattern, declared: &[&String]) -> Vec<(String, Seek)> {
    let mut ins = Vec::new();
    let mut ranges: Vec<(String, SeekBound, SeekBound)> = Vec::new();
    let mut prefixes = Vec::new();
    for t in &np.seek_hints {
        let Some((var, key, kind, value)) = seekable(t) else {
            continue;
        };
        if np.variable.as_deref() != Some(var) || !known_before(value, declared) {
            continue;
        }
        let range = |ranges: &mut Vec<(String, _, _)>| -> usize {
            match ranges.iter().position(|(k, _, _)| k == key) {
                Some(at) => at,
                None => {
                    ranges.push((key.to_string(), None, None));
                    ranges.len() - 1
                }
            }
        };
        match kind {
            SeekKind::In => ins.push((key.to_string(), Seek::In(value.clone()))),
            SeekKind::Prefix => prefixes.push((key.to_string(), Seek::Prefix(value.clone()))),
            SeekKind::Lower(inclusive) => {
                let at = range(&mut ranges);
                ranges[at].1.get_or_insert((value.clone(), inclusive));
            }
            SeekKind::Upper(inclusive) => {
                let at = range(&mut ranges);
                ranges[at].2.get_or_insert((value.clone(), inclusive));
            }
        }
    }
    ins.into_iter()
        .chain(
            ranges
                .into_iter()
                .map(|(k, lower, upper)| (k, Seek::Range { lower, upper })),
        )
        .chain(prefixes)
        .collect()
}

/// The one decision of where a pattern part starts (see [`Access`]), in this order: a bound
/// node; an index seek of a node pattern's labels and property map (a composite index when
/// the map gives all its properties, else a single-property one); (for a pattern with
/// relationships) a relationship index covering a single-type, fixed-length relationship's
/// property map; a seek from a node's `seek_hints` (an `IN` list; a range only when
/// `range_size` counts it below a `SEEK_COST`th of the smallest label of the pattern, or,
/// when it cannot count it, and for a prefix, when 30% of its label is no more than that
/// label); the smallest label; every node. `bound` says which variables are bound before
/// the part; `schema` is read only when an index could apply.
pub fn access_path(
    nps: &[&NodePattern],
    rps: &[&RelationshipPattern],
    bound: &dyn Fn(&str) -> bool,
    schema: &dyn Fn() -> Result<Vec<graphward_storage::SchemaDef>>,
    label_count: &dyn Fn(&str) -> Result<u64>,
    range_size: &RangeSize<'_>,
) -> Result<Access> {
    for (i, np) in nps.iter().enumerate() {
        if np.variable.as_deref().is_some_and(bound) {
            return Ok(Access::Bound { node: i });
        }
    }
    let declared: Vec<&String> = nps
        .iter()
        .filter_map(|n| n.variable.as_ref())
        .chain(rps.iter().filter_map(|r| r.variable.as_ref()))
        .filter(|v| !bound(v))
        .collect();
    let cell: std::cell::OnceCell<Vec<graphward_storage::SchemaDef>> = std::cell::OnceCell::new();
    let defs = || -> Result<&Vec<graphward_storage::SchemaDef>> {
        if let Some(d) = cell.get() {
            return Ok(d);
        }
        let d = schema()?;
        Ok(cell.get_or_init(|| d))
    };
    let find = |rel: bool, label: &str, key: &str| -> Result<Option<bool>> {
        Ok(defs()?.iter().find_map(|d| {
            (d.kind.has_index()
                && d.kind.on_relationships() == rel
                && d.label == label
                && d.properties.len() == 1
                && d.properties.first().map(String::as_str) == Some(key))
            .then(|| d.kind.is_constraint())
        }))
    };
    for (i, np) in nps.iter().enumerate() {
        let Some(Expr::Map(items)) = &np.properties else {
            continue;
        };
        // A composite index (or key constraint) whose every property the map gives.
        let known: Vec<&(String, Expr)> = items
            .iter()
            .filter(|(_, e)| known_before(e, &declared))
            .collect();
        if known.len() > 1 {
            for l in &np.labels {
                let value = |k: &String| known.iter().find(|(x, _)| x == k).map(|(_, e)| e.clone());
                let found = defs()?.iter().find_map(|d| {
                    let values: Option<Vec<Expr>> = d.properties.iter().map(value).collect();
                    (d.kind.has_index()
                        && !d.kind.on_relationships()
                        && d.label == *l
                        && d.properties.len() > 1)
                        .then_some(values)
                        .flatten()
                        .map(|values| (d.properties.clone(), values, d.kind.is_constraint()))
                });
                if let Some((properties, values, unique)) = found {
                    return Ok(Access::NodeCompositeSeek {
                        node: i,
                        label: l.clone(),
                        properties,
                        values,
                        unique,
                    });
                }
            }
        }
        for (k, e) in items {
            if !known_before(e, &declared) {
                continue;
            }
            for l in &np.labels {
                if let Some(unique) = find(false, l, k)? {
                    return Ok(Access::NodeIndexSeek {
                        node: i,
                        label: l.clone(),
                        property: k.clone(),
                        seek: Seek::Eq(e.clone()),
                        unique,
                    });
                }
            }
        }
    }
    // The relationships an index can start from: single hops of one type, with a node on
    // their left (`rel` names both).
    let hops = || {
        rps.iter()
            .enumerate()
            .filter_map(|(j, rp)| match rp.types.as_slice() {
                [rel_type] if rp.length.is_none() && j < nps.len() => Some((j, *rp, rel_type)),
                _ => None,
            })
    };
    for (j, rp, rel_type) in hops() {
        let Some(Expr::Map(items)) = &rp.properties else {
            continue;
        };
        for (k, e) in items {
            if known_before(e, &declared) && find(true, rel_type, k)?.is_some() {
                return Ok(Access::RelIndexSeek {
                    rel: j,
                    rel_type: rel_type.clone(),
                    property: k.clone(),
                    seek: Seek::Eq(e.clone()),
                    direction: rp.direction,
                });
            }
        }
    }
    // Each label's count, read once; the smallest label of the pattern (the first of the
    // smallest) is the scan a range seek is weighed against, and the scan taken otherwise.
    let mut counts: Vec<(usize, &str, u64)> = Vec::new();
    for (i, np) in nps.iter().enumerate() {
        for l in &np.labels {
            counts.push((i, l.as_str(), label_count(l)?));
        }
    }
    let mut best: Option<(usize, u64, &str)> = None;
    for &(i, l, c) in &counts {
        if best.is_none_or(|(_, bc, _)| c < bc) {
            best = Some((i, c, l));
        }
    }
    for (i, np) in nps.iter().enumerate() {
        for (k, seek) in hinted_seeks(np, &declared) {
            for l in &np.labels {
                let Some(unique) = find(false, l, &k)? else {
                    continue;
                };
                // A range whose size the index tells (counted up to what decides): sought
                // when a node it finds costs less than the nodes a scan of the smallest
                // label reads instead (a found node is about SEEK_COST scanned ones: the
                // index entry, then its record by id). Otherwise a range or a prefix is
                // taken to keep 30% of its label (Neo4j's default range selectivity), and a
                // scan of a label smaller than that starts instead.
                if matches!(seek, Seek::Range { .. } | Seek::Prefix(_)) {
                    let count = counts
                        .iter()
                        .find(|(at, x, _)| *at == i && *x == l.as_str())
                        .map_or(0, |(_, _, c)| *c);
                    let scan = best.map_or(count, |(_, c, _)| c);
                    let cap = scan / SEEK_COST + 1;
                    let scans = match range_size(l, &k, &seek, cap)? {
                        Some(n) => n >= cap,
                        None => scan < count.saturating_mul(3) / 10,
                    };
                    if scans {
                        continue;
                    }
                }
                return Ok(Access::NodeIndexSeek {
                    node: i,
                    label: l.clone(),
                    property: k,
                    seek,
                    unique,
                });
            }
        }
    }
    for (j, rp, rel_type) in hops() {
        for t in &rp.seek_hints {
            let Some((var, key, SeekKind::In, value)) = seekable(t) else {
                continue;
            };
            if rp.variable.as_deref() == Some(var)
                && known_before(value, &declared)
                && find(true, rel_type, key)?.is_some()
            {
                return Ok(Access::RelIndexSeek {
                    rel: j,
                    rel_type: rel_type.clone(),
                    property: key.to_string(),
                    seek: Seek::In(value.clone()),
                    direction: rp.direction,
                });
            }
        }
    }
    Ok(match best {
        Some((node, _, l)) => Access::LabelScan {
            node,
            label: l.to_string(),
        },
        None => Access::AllNodes,
    })
}

/// How many nodes a range seek on `label(property)` finds, counted up to the cap given
/// (`None` when not known: the bounds cannot be evaluated yet, no index can count them).
pub type RangeSize<'a> = dyn Fn(&str, &str, &Seek, u64) -> Result<Option<u64>> + 'a;

/// What reading one node through an index costs, in nodes a label scan reads (measured on
/// bench/engine's data over Bolt: a count of 39,000 of 200,000 nodes took 60 ms through
/// the index, 50 ms by a scan).
const SEEK_COST: u64 = 6;

/// The size of a range seek (see [`RangeSize`]) with its bounds evaluated by `eval`;
/// `None` for other seeks and bounds it cannot evaluate.
pub(crate) fn range_size(
    g: &dyn graphward_storage::GraphRead,
    label: &str,
    property: &str,
    seek: &Seek,
    eval: &dyn Fn(&Expr) -> Option<Value>,
    cap: u64,
) -> Result<Option<u64>> {
    let Seek::Range { lower, upper } = seek else {
        return Ok(None);
    };
    let Some((lo, hi)) = range_bounds(lower, upper, eval) else {
        return Ok(None);
    };
    if null_bound(&lo, &hi) {
        return Ok(Some(0));
    }
    g.index_range_count(label, property, as_bound(&lo), as_bound(&hi), cap)
}

/// A bound's value and whether it is included; `None`: unbounded.
type BoundValue = Option<(Value, bool)>;

/// A range seek's bounds evaluated; `None` when one cannot be.
fn range_bounds(
    lower: &SeekBound,
    upper: &SeekBound,
    eval: &dyn Fn(&Expr) -> Option<Value>,
) -> Option<(BoundValue, BoundValue)> {
    let bound = |b: &SeekBound| -> Option<BoundValue> {
        match b {
            None => Some(None),
            Some((e, inclusive)) => eval(e).map(|v| Some((v, *inclusive))),
        }
    };
    Some((bound(lower)?, bound(upper)?))
}

/// Whether a bound is null: the range's comparison is null, it holds for no node.
fn null_bound(lo: &BoundValue, hi: &BoundValue) -> bool {
    [lo, hi].iter().any(|b| matches!(b, Some((Value::Null, _))))
}

fn as_bound(b: &BoundValue) -> std::ops::Bound<&Value> {
    match b {
        None => std::ops::Bound::Unbounded,
        Some((v, true)) => std::ops::Bound::Included(v),
        Some((v, false)) => std::ops::Bound::Excluded(v),
    }
}

#[derive(Clone, Copy)]
struct Step {
    rel: usize,
    from: usize,
    to: usize,
    reversed: bool,
}

fn rel_from_edge(node: NodeId, e: &Edge, rel_type: String) -> Relationship {
    let (s, d) = if e.outgoing {
        (node, e.other)
    } else {
        (e.other, node)
    };
    Relationship {
        id: e.rel as i64,
        element_id: String::new(),
        start: s as i64,
        end: d as i64,
        start_element_id: String::new(),
        end_element_id: String::new(),
        rel_type,
        properties: Default::default(),
    }
}

/// What a query answered from the storage's counts counts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Counted {
    /// Nodes with the label, or all nodes.
    Nodes(Option<String>),
    /// Relationships of the type, or all relationships.
    Relationships(Option<String>),
}

/// A count the storage keeps, and the result columns that all show it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CountOf {
    pub what: Counted,
    pub columns: Vec<String>,
}

/// `MATCH (v[:L]) RETURN count(v), count(*)` and `MATCH (a)-[r[:T]]->(b) RETURN count(r)`:
/// exactly a MATCH of one pattern part — one node with at most one label, or one directed
/// relationship of one type or any between two nodes without labels (no properties,
/// predicates, WHERE, OPTIONAL, path variable, length or type expression) — followed by a RETURN whose items are
/// all non-DISTINCT `count(*)` or `count(v)` of one of the pattern's variables (no DISTINCT,
/// `*`, ORDER BY, SKIP or LIMIT). Every match binds every variable to an entity, so each
/// item is the number of nodes (of the label) or of relationships, which the storage keeps
/// (as Neo4j's NodeCountFromCountStore and RelationshipCountFromCountStore answer them).
/// Decided on the typed query.
pub(crate) fn count_store_shape(sq: &SingleQuery) -> Option<CountOf> {
    let [Clause::Match(m), Clause::Return(r)] = sq.clauses.as_slice() else {
        return None;
    };
    if m.optional || m.where_.is_some() {
        return None;
    }
    let [part] = m.pattern.as_slice() else {
        return None;
    };
    if part.variable.is_some() || part.shortest.is_some() {
        return None;
    }
    let plain = |np: &NodePattern| {
        np.label_expr.is_none() && np.properties.is_none() && np.predicate.is_none()
    };
    let start = &part.element.start;
    let mut vars: Vec<&String> = start.variable.iter().collect();
    let what = match part.element.chain.as_slice() {
        [] => match (start.labels.as_slice(), plain(start)) {
            ([], true) => Counted::Nodes(None),
            ([label], true) => Counted::Nodes(Some(label.clone())),
            _ => return None,
        },
        [(rel, end)] => {
            let rel_plain = rel.types.len() <= 1
                && rel.type_expr.is_none()
                && rel.length.is_none()
                && rel.properties.is_none()
                && rel.predicate.is_none()
                && rel.group.is_none()
                && matches!(rel.direction, Direction::Outgoing | Direction::Incoming);
            let ends_plain =
                plain(start) && plain(end) && start.labels.is_empty() && end.labels.is_empty();
            // `(a)-[r]->(a)` would count self-loops only.
            let distinct_ends = match (&start.variable, &end.variable) {
                (Some(a), Some(b)) => a != b,
                _ => true,
            };
            if !(rel_plain && ends_plain && distinct_ends) {
                return None;
            }
            vars.extend(rel.variable.iter());
            vars.extend(end.variable.iter());
            Counted::Relationships(rel.types.first().cloned())
        }
        _ => return None,
    };
    let p = &r.projection;
    if p.distinct
        || p.star
        || p.items.is_empty()
        || !p.order_by.is_empty()
        || p.skip.is_some()
        || p.limit.is_some()
    {
        return None;
    }
    let counts_a_match = |e: &Expr| match e {
        Expr::CountStar => true,
        Expr::FunctionCall {
            name,
            distinct: false,
            args,
        } => {
            name.eq_ignore_ascii_case("count")
                && matches!(args.as_slice(), [Expr::Variable(v)] if vars.contains(&v))
        }
        _ => false,
    };
    if !p.items.iter().all(|i| counts_a_match(&i.expr)) {
        return None;
    }
    Some(CountOf {
        what,
        columns: p.items.iter().map(|i| i.name().to_string()).collect(),
    })
}

impl<'a> Ev<'a> {
    /// A query of [`count_store_shape`] answered from the counts the storage keeps, without
    /// a scan, on the single empty row a query starts from. `None` for any other shape or
    /// input (the caller runs the query normally). Returns the columns and the one row.
    pub fn whole_label_count(
        &self,
        sq: &SingleQuery,
        rows: &[Row],
    ) -> Result<Option<(Vec<String>, Vec<Row>)>> {
        let ([input], Some(of)) = (rows, count_store_shape(sq)) else {
            return Ok(None);
        };
        if !input.is_empty() {
            return Ok(None);
        }
        let n = self.stored_count(&of)?;
        let columns = of.columns.clone();
        let row: Row = columns.iter().map(|c| (c.clone(), n.clone())).collect();
        Ok(Some((columns, vec![row])))
    }

    /// The count [`count_store_shape`] found the query asks for, read from the storage.
    pub(crate) fn stored_count(&self, of: &CountOf) -> Result<Value> {
        let n = match &of.what {
            Counted::Nodes(Some(label)) => self.g.label_count(label)?,
            Counted::Nodes(None) => self.g.node_count()?,
            Counted::Relationships(None) => self.g.count_relationships()?,
            Counted::Relationships(Some(t)) => self.g.count_relationships_of_type(t)?,
        };
        Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
    }

    /// Match a comma-separated pattern against one input row; every result extends the row.
    ///
    /// The rows are charged to the query's memory account while they are found (so an
    /// enumeration that would outgrow the budget stops), and given back when they are
    /// returned: the caller that keeps them charges them as rows of its table.
    pub fn match_pattern(&self, parts: &[PatternPart], row: &Row) -> Result<Vec<Row>> {
        let mem = &self.env.mem;
        // A scope of its own: expressions evaluated while matching (property maps) must not
        // release the rows charged so far.
        mem.enter();
        let mark = mem.mark();
        let r = self.match_pattern_charged(parts, row);
        let settled = mem.settle(mark, 0);
        mem.leave();
        settled?;
        r
    }

    fn match_pattern_charged(&self, parts: &[PatternPart], row: &Row) -> Result<Vec<Row>> {
        let mut partial: Vec<(Row, HashSet<RelId>)> = vec![(row.clone(), HashSet::new())];
        for part in parts {
            let mut next = Vec::new();
            for (r, used) in partial {
                self.env.check()?;
                self.match_part(part, r, used, &mut next)?;
                self.env.check_rows(next.len())?;
            }
            partial = next;
            if partial.is_empty() {
                break;
            }
        }
        Ok(partial.into_iter().map(|(r, _)| r).collect())
    }

    fn node_patterns(part: &PatternPart) -> Vec<&NodePattern> {
        let mut v = vec![&part.element.start];
        v.extend(part.element.chain.iter().map(|(_, n)| n));
        v
    }

    fn match_part(
        &self,
        part: &PatternPart,
        row: Row,
        used: HashSet<RelId>,
        out: &mut Vec<(Row, HashSet<RelId>)>,
    ) -> Result<()> {
        if let Some(kind) = &part.shortest {
            // `shortestPath` and `allShortestPaths` are `SHORTEST 1` and `ALL SHORTEST`.
            let (k, groups) = match kind {
                ShortestKind::Single => (1, false),
                ShortestKind::All => (1, true),
                ShortestKind::Paths(k) => (self.selector_count(k, &row)?, false),
                ShortestKind::Groups(k) => (self.selector_count(k, &row)?, true),
            };
            return self.match_selected(part, k, groups, row, used, out);
        }
        let nps = Self::node_patterns(part);
        let rps: Vec<&RelationshipPattern> = part.element.chain.iter().map(|(r, _)| r).collect();
        let (anchor, candidates) = self.anchor_for_part(part, &row)?;
        let steps = steps_from(anchor.index, rps.len());
        for id in candidates {
            let id = id?;
            self.env.check()?;
            let mut st = State {
                nodes: vec![None; nps.len()],
                rels: vec![None; rps.len()],
                used: used.clone(),
                row: row.clone(),
                anchor: anchor.index,
                anchor_label: anchor.label.clone(),
                sought: anchor.sought.clone(),
            };
            if !self.bind_node(&nps, anchor.index, id, &mut st)? {
                continue;
            }
            self.extend(part, &nps, &rps, &steps, 0, &mut st, out)?;
        }
        Ok(())
    }

    /// The access path of a pattern part on `row` ([`access_path`], the decision EXPLAIN
    /// shows).
    ///
    /// With `sized`, a range seek's size is counted in the index (see [`access_path`]);
    /// without, it is estimated: a match that reads a range in an index's order (see
    /// `plan::OrderHint`) keeps the seek, which reads only the range, where a scan in that
    /// order would read the index from its start.
    pub(crate) fn access_for(
        &self,
        nps: &[&NodePattern],
        rps: &[&RelationshipPattern],
        row: &Row,
        sized: bool,
    ) -> Result<Access> {
        access_path(
            nps,
            rps,
            &|v| row.contains_key(v),
            &|| self.g.schema(),
            &|l| self.g.label_count(l),
            &|l, p, seek, cap| match sized {
                true => range_size(self.g, l, p, seek, &|e| self.eval(e, row).ok(), cap),
                false => Ok(None),
            },
        )
    }

    /// Where to start, as [`access_path`] decides, and the candidates for that node
    /// pattern. Label and full scans are pulled lazily from the storage. A seek whose value
    /// cannot be evaluated (or whose index is gone) falls back to a scan of the label.
    fn choose_anchor(
        &self,
        nps: &[&NodePattern],
        rps: &[&RelationshipPattern],
        row: &Row,
    ) -> Result<(Anchor, graphward_storage::Iter<'a, NodeId>)> {
        let access = self.access_for(nps, rps, row, true)?;
        self.anchor_by(nps, row, access)
    }

    /// The anchor and candidates of the access path `access` (decided for `nps` on `row`).
    fn anchor_by(
        &self,
        nps: &[&NodePattern],
        row: &Row,
        access: Access,
    ) -> Result<(Anchor, graphward_storage::Iter<'a, NodeId>)> {
        // The ids a seek found, charged to the query while the iterator holds them.
        let ids = |v: Vec<NodeId>| -> Result<graphward_storage::Iter<'a, NodeId>> {
            let held = self.hold_ids(v.len())?;
            Ok(Box::new(v.into_iter().map(move |id| {
                let _ = &held;
                Ok(id)
            })))
        };
        let seeked = |index: usize| Anchor {
            index,
            label: None,
            scan: false,
            sought: None,
        };
        // A node index holds only nodes with its label: the matcher need not read it again.
        let indexed = |index: usize, label: &str| Anchor {
            index,
            label: Some(label.to_string()),
            scan: false,
            sought: None,
        };
        let scan = |index: usize, label: Option<&str>| -> Result<(Anchor, _)> {
            Ok((
                Anchor {
                    index,
                    label: label.map(str::to_string),
                    scan: true,
                    sought: None,
                },
                self.g.node_ids(label)?,
            ))
        };
        // A node seek's candidates, or a scan of its label when the index cannot answer.
        let found_or_scan = |node: usize, label: &str, found: Option<Vec<NodeId>>| match found {
            Some(found) => Ok((indexed(node, label), ids(found)?)),
            None => scan(node, Some(label)),
        };
        match access {
            Access::Bound { node } => {
                let Some(v) = nps.get(node).and_then(|np| np.variable.as_ref()) else {
                    return scan(0, None);
                };
                Ok((
                    seeked(node),
                    match row.get(v) {
                        Some(Value::Node(n)) => ids(vec![n.id as u64])?,
                        Some(Value::Null) | None => ids(vec![])?,
                        Some(other) => {
                            return Err(Error::type_error(format!(
                                "variable `{v}` is a {}, expected a node",
                                other.type_name()
                            ))
                            .with_detail("VariableTypeConflict"))
                        }
                    },
                ))
            }
            Access::NodeIndexSeek {
                node,
                label,
                property,
                seek,
                ..
            } => {
                let found = self.seek_nodes(&label, &property, &seek, row)?;
                let (mut anchor, ids) = found_or_scan(node, &label, found)?;
                if let (false, Seek::Eq(e)) = (anchor.scan, &seek) {
                    let v = self.eval(e, row)?;
                    if matches!(v, Value::Int(_) | Value::String(_) | Value::Bool(_)) {
                        anchor.sought = Some(Box::new((property, v)));
                    }
                }
                Ok((anchor, ids))
            }
            Access::NodeCompositeSeek {
                node,
                label,
                properties,
                values,
                ..
            } => {
                let evaluated: Option<Vec<Value>> =
                    values.iter().map(|e| self.eval(e, row).ok()).collect();
                let found = match evaluated {
                    Some(vals) => self.g.index_seek(&label, &properties, &vals)?,
                    None => None,
                };
                found_or_scan(node, &label, found)
            }
            Access::RelIndexSeek {
                rel,
                rel_type,
                property,
                seek,
                direction,
            } => {
                let key = [property];
                let one = |v: &Value| {
                    self.g
                        .rel_index_seek(&rel_type, &key, std::slice::from_ref(v))
                };
                let found = match &seek {
                    Seek::Eq(e) => self.seek_each(e, false, row, &one)?,
                    Seek::In(e) => self.seek_each(e, true, row, &one)?,
                    Seek::Range { .. } | Seek::Prefix(_) => None,
                };
                let Some(rels) = found else {
                    return scan(0, None);
                };
                let mut ends = Vec::with_capacity(rels.len());
                for r in rels {
                    let Some(rec) = self.g.relationship(r)? else {
                        continue;
                    };
                    match direction {
                        Direction::Outgoing => ends.push(rec.src),
                        Direction::Incoming => ends.push(rec.dst),
                        Direction::Both => ends.extend([rec.src, rec.dst]),
                    }
                }
                ends.sort_unstable();
                ends.dedup();
                Ok((seeked(rel), ids(ends)?))
            }
            Access::LabelScan { node, label } => scan(node, Some(&label)),
            Access::AllNodes => scan(0, None),
        }
    }

    /// `n` node ids a seek found, charged to the query for as long as the reservation lives.
    pub(crate) fn hold_ids(&self, n: usize) -> Result<graphward_core::memory::Reservation> {
        let held = self.env.mem.reservation();
        held.grow(n.saturating_mul(std::mem::size_of::<NodeId>()) as u64)?;
        Ok(held)
    }

    /// The nodes of `label` whose `property` satisfies `seek`, through the index on
    /// `label(property)`, ascending. `None` when the index cannot answer (it is gone, a value
    /// cannot be evaluated now, or is of a type the index does not order): the caller scans
    /// the label and the `WHERE` decides, as it decides on the nodes a seek finds.
    fn seek_nodes(
        &self,
        label: &str,
        property: &str,
        seek: &Seek,
        row: &Row,
    ) -> Result<Option<Vec<NodeId>>> {
        let key = [property.to_string()];
        let one = |v: &Value| self.g.index_seek(label, &key, std::slice::from_ref(v));
        match seek {
            Seek::Eq(e) => self.seek_each(e, false, row, &one),
            Seek::In(e) => self.seek_each(e, true, row, &one),
            Seek::Range { lower, upper } => {
                let Some((lo, hi)) = range_bounds(lower, upper, &|e| self.eval(e, row).ok()) else {
                    return Ok(None);
                };
                if null_bound(&lo, &hi) {
                    return Ok(Some(Vec::new()));
                }
                self.g
                    .index_range(label, property, as_bound(&lo), as_bound(&hi))
            }
            Seek::Prefix(e) => match self.eval(e, row) {
                Ok(Value::Null) => Ok(Some(Vec::new())),
                Ok(Value::String(s)) => self.g.index_prefix(label, property, &s),
                _ => Ok(None),
            },
        }
    }

    /// The ids `one` (a seek of one value) finds for the value of `e`, or (with `list`) for
    /// each value of the list `e` is, ascending and without repeats. `None` when the value
    /// cannot be evaluated now, is not a list (with `list`), or `one` cannot answer.
    fn seek_each(
        &self,
        e: &Expr,
        list: bool,
        row: &Row,
        one: &dyn Fn(&Value) -> Result<Option<Vec<u64>>>,
    ) -> Result<Option<Vec<u64>>> {
        let Ok(v) = self.eval(e, row) else {
            return Ok(None);
        };
        if !list {
            return one(&v);
        }
        match v {
            // `x IN null` holds for nothing.
            Value::Null => Ok(Some(Vec::new())),
            Value::List(items) => {
                let mut out = Vec::new();
                for (i, v) in items.iter().filter(|v| !v.is_null()).enumerate() {
                    // A long list is many seeks: the cancel flag and the clock are checked
                    // as they go.
                    if i % 256 == 255 {
                        self.env.check()?;
                    }
                    let Some(found) = one(v)? else {
                        return Ok(None);
                    };
                    out.extend(found);
                }
                out.sort_unstable();
                out.dedup();
                Ok(Some(out))
            }
            _ => Ok(None),
        }
    }

    /// The anchor of one pattern part (see [`Ev::choose_anchor`]).
    fn anchor_for_part(
        &self,
        part: &PatternPart,
        row: &Row,
    ) -> Result<(Anchor, graphward_storage::Iter<'a, NodeId>)> {
        let nps = Self::node_patterns(part);
        let rps: Vec<&RelationshipPattern> = part.element.chain.iter().map(|(r, _)| r).collect();
        self.choose_anchor(&nps, &rps, row)
    }

    /// Does node `id` satisfy node pattern `i`? Binds its variable if so.
    fn bind_node(
        &self,
        nps: &[&NodePattern],
        i: usize,
        id: NodeId,
        st: &mut State,
    ) -> Result<bool> {
        let np = nps[i];
        if let Some(v) = &np.variable {
            if let Some(existing) = st.row.get(v) {
                match existing {
                    Value::Node(n) if n.id as u64 == id => {}
                    _ => return Ok(false),
                }
            }
        }
        // Labels and properties are read one by one (the record is never decoded whole);
        // labels the anchor's label scan guarantees are not read again.
        let scanned = |l: &String| i == st.anchor && st.anchor_label.as_deref() == Some(l.as_str());
        if np.label_expr.is_some() || np.labels.iter().any(|l| !scanned(l)) {
            let Some(labels) = self.g.node_labels(id)? else {
                return Ok(false);
            };
            if !np.labels.iter().all(|l| labels.contains(l)) {
                return Ok(false);
            }
            if np
                .label_expr
                .as_ref()
                .is_some_and(|le| !le.matches(&labels))
            {
                return Ok(false);
            }
        }
        if let Some(pe) = &np.properties {
            // A property found proves the node is there; only a match without one reads
            // whether it is (a gone node has no properties, so it matches no value).
            let found = std::cell::Cell::new(false);
            let sought = st.sought.as_deref().filter(|_| i == st.anchor);
            if !self.props_match_by(pe, &st.row, |k| {
                if let Some((_, v)) = sought.filter(|(key, _)| key == k) {
                    found.set(true);
                    return Ok(v.clone());
                }
                let v = self.g.node_property(id, k)?;
                found.set(found.get() || v.is_some());
                Ok(v.unwrap_or(Value::Null))
            })? {
                return Ok(false);
            }
            if !found.get() && !self.g.node_exists(id)? {
                return Ok(false);
            }
        }
        let mut inserted = None;
        if let Some(v) = &np.variable {
            if !st.row.contains_key(v) {
                inserted = Some(v);
            }
            st.row.insert(v.clone(), node_ref(id));
        }
        if let Some(p) = &np.predicate {
            // Semantic checks let it see only this node and variables bound before the pattern.
            if self.eval(p, &st.row)? != Value::Bool(true) {
                if let Some(v) = inserted {
                    st.row.remove(v);
                }
                return Ok(false);
            }
        }
        st.nodes[i] = Some(id);
        Ok(true)
    }

    /// Do the properties `get` reads equal the pattern's map `pe`?
    fn props_match_by(
        &self,
        pe: &Expr,
        row: &Row,
        get: impl Fn(&str) -> Result<Value>,
    ) -> Result<bool> {
        let want = self.eval(pe, row)?;
        match want {
            Value::Map(m) => {
                for (k, v) in &m {
                    let have = get(k)?;
                    if equals(&have, v) != Some(true) {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Value::Null => Ok(true),
            other => Err(Error::type_error(format!(
                "pattern properties must be a map, got {}",
                other.type_name()
            ))),
        }
    }

    fn rel_ok(&self, rp: &RelationshipPattern, rel: &Relationship, row: &Row) -> Result<bool> {
        if let Some(te) = &rp.type_expr {
            if !te.matches(std::slice::from_ref(&rel.rel_type)) {
                return Ok(false);
            }
        }
        if let Some(pe) = &rp.properties {
            let id = rel.id as u64;
            if !self.props_match_by(pe, row, |k| {
                Ok(self.g.relationship_property(id, k)?.unwrap_or(Value::Null))
            })? {
                return Ok(false);
            }
        }
        if let Some(p) = &rp.predicate {
            let mut r = row.clone();
            if let Some(v) = &rp.variable {
                r.insert(v.clone(), Value::Relationship(Box::new(rel.clone())));
            }
            if self.eval(p, &r)? != Value::Bool(true) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Does node `id` match node pattern `np` (labels, label expression, properties and
    /// predicate, its variable bound to the node in `row`)? `row` is given back as it was.
    fn node_ok(&self, np: &NodePattern, id: NodeId, row: &mut Row) -> Result<bool> {
        if !np.labels.is_empty() || np.label_expr.is_some() {
            let Some(labels) = self.g.node_labels(id)? else {
                return Ok(false);
            };
            if !np.labels.iter().all(|l| labels.contains(l))
                || np
                    .label_expr
                    .as_ref()
                    .is_some_and(|le| !le.matches(&labels))
            {
                return Ok(false);
            }
        }
        if let Some(pe) = &np.properties {
            if !self.g.node_exists(id)?
                || !self.props_match_by(pe, row, |k| {
                    Ok(self.g.node_property(id, k)?.unwrap_or(Value::Null))
                })?
            {
                return Ok(false);
            }
        }
        if let (Some(p), Some(v)) = (&np.predicate, &np.variable) {
            let prev = row.insert(v.clone(), node_ref(id));
            let ok = self.eval(p, row);
            match prev {
                Some(old) => row.insert(v.clone(), old),
                None => row.remove(v),
            };
            if ok? != Value::Bool(true) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// One hop of a variable-length relationship, from `left` to `right` in pattern order:
    /// the relationship's type and properties, and, for a quantified path pattern of one
    /// relationship, the group's node patterns and predicates with the iteration's variables
    /// as singletons.
    fn hop_ok(
        &self,
        rp: &RelationshipPattern,
        rel: &Relationship,
        left: NodeId,
        right: NodeId,
        row: &Row,
    ) -> Result<bool> {
        let Some(g) = rp.group.as_deref().filter(|g| g.checks_nodes()) else {
            return self.rel_ok(rp, rel, row);
        };
        self.iteration_ok(rp, g, &[left, right], std::slice::from_ref(rel), row)
    }

    /// One iteration of quantified path pattern `g` (kept on `first`): its nodes and
    /// relationships in pattern order match the group's node and relationship patterns, and
    /// the group's predicate holds, with the iteration's variables as singletons.
    fn iteration_ok(
        &self,
        first: &RelationshipPattern,
        g: &QuantGroup,
        nodes: &[NodeId],
        rels: &[Relationship],
        row: &Row,
    ) -> Result<bool> {
        let n = g.size();
        if nodes.len() != n + 1 || rels.len() != n {
            return Err(Error::internal(
                "quantified path pattern iteration of the wrong size",
            ));
        }
        let mut r = row.clone();
        for (j, id) in nodes.iter().enumerate() {
            if let Some(v) = &g.node(j).variable {
                r.insert(v.clone(), node_ref(*id));
            }
        }
        for (j, rel) in rels.iter().enumerate() {
            if let Some(v) = &g.rel(first, j).variable {
                r.insert(v.clone(), Value::Relationship(Box::new(rel.clone())));
            }
        }
        for (j, id) in nodes.iter().enumerate() {
            if !self.node_ok(g.node(j), *id, &mut r)? {
                return Ok(false);
            }
        }
        for (j, rel) in rels.iter().enumerate() {
            if !self.rel_ok(g.rel(first, j), rel, &r)? {
                return Ok(false);
            }
        }
        if let Some(p) = &g.predicate {
            if self.eval(p, &r)? != Value::Bool(true) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The checks of node pattern `np` that read nothing but the node's labels.
    fn labels_ok(&self, np: &NodePattern, id: NodeId) -> Result<bool> {
        if np.labels.is_empty() && np.label_expr.is_none() {
            return Ok(true);
        }
        let Some(labels) = self.g.node_labels(id)? else {
            return Ok(false);
        };
        Ok(np.labels.iter().all(|l| labels.contains(l))
            && np.label_expr.as_ref().is_none_or(|le| le.matches(&labels)))
    }

    /// One hop of a variable-length walk over `rp` (a quantified path pattern of `n`
    /// relationships per iteration, or a variable-length relationship): hop `t` of the walk
    /// (in walk order, `hops` before it, starting at `from`) crosses `rel` from `here` to
    /// `other`. A group of several relationships checks labels and types per hop and the
    /// whole iteration when its last hop is crossed.
    #[allow(clippy::too_many_arguments)]
    fn walk_hop_ok(
        &self,
        rp: &RelationshipPattern,
        reversed: bool,
        rel: &Relationship,
        here: NodeId,
        other: NodeId,
        hops: &[Hop],
        from: NodeId,
        row: &Row,
    ) -> Result<bool> {
        let g = match rp.group.as_deref() {
            Some(g) if g.size() > 1 => g,
            _ => {
                let (left, right) = if reversed {
                    (other, here)
                } else {
                    (here, other)
                };
                return self.hop_ok(rp, rel, left, right, row);
            }
        };
        let n = g.size();
        let t = hops.len();
        let j = if reversed { n - 1 - t % n } else { t % n };
        let rpat = g.rel(rp, j);
        if rpat
            .type_expr
            .as_ref()
            .is_some_and(|te| !te.matches(std::slice::from_ref(&rel.rel_type)))
        {
            return Ok(false);
        }
        // The inner node reached: right of relationship j walking forward, left of it back.
        if !self.labels_ok(g.node(if reversed { j } else { j + 1 }), other)? {
            return Ok(false);
        }
        if !(t + 1).is_multiple_of(n) {
            return Ok(true);
        }
        // The iteration is complete: its nodes and relationships in walk order.
        let begin = t + 1 - n;
        let mut nodes = Vec::with_capacity(n + 1);
        nodes.push(at_of(&hops[..begin], from));
        nodes.extend(hops[begin..].iter().map(|h| h.node));
        nodes.push(other);
        let mut rels: Vec<Relationship> = hops[begin..].iter().map(|h| h.rel.clone()).collect();
        rels.push(rel.clone());
        if reversed {
            nodes.reverse();
            rels.reverse();
        }
        self.iteration_ok(rp, g, &nodes, &rels, row)
    }

    fn dir(rp: &RelationshipPattern, reversed: bool) -> ExpandDir {
        match (rp.direction, reversed) {
            (Direction::Both, _) => ExpandDir::Both,
            (Direction::Outgoing, false) | (Direction::Incoming, true) => ExpandDir::Outgoing,
            _ => ExpandDir::Incoming,
        }
    }

    /// The type of the relationship of edge `e` found by expanding over `rp`: the pattern's
    /// when it names exactly one type (the expansion returned only that type), else the
    /// edge's ([`Ev::edge_type`]).
    pub(crate) fn rel_type_name(&self, rp: &RelationshipPattern, e: &Edge) -> Result<String> {
        if let [t] = rp.types.as_slice() {
            return Ok(t.clone());
        }
        self.edge_type(e)
    }

    /// The type of an edge's relationship: named from the token id the adjacency gives,
    /// else (a graph that cannot name it) read from the relationship.
    fn edge_type(&self, e: &Edge) -> Result<String> {
        if let Some(t) = self.g.type_name(e.type_id)? {
            return Ok(t);
        }
        Ok(self
            .g
            .relationship(e.rel)?
            .map(|r| r.rel_type)
            .unwrap_or_default())
    }

    #[allow(clippy::too_many_arguments)]
    fn extend(
        &self,
        part: &PatternPart,
        nps: &[&NodePattern],
        rps: &[&RelationshipPattern],
        steps: &[Step],
        k: usize,
        st: &mut State,
        out: &mut Vec<(Row, HashSet<RelId>)>,
    ) -> Result<()> {
        if k == steps.len() {
            let mut row = st.row.clone();
            if let Some(pv) = &part.variable {
                row.insert(pv.clone(), Value::Path(build_path(&st.nodes, &st.rels)));
            }
            if let Some(pred) = &part.element.predicate {
                if self.eval(pred, &row)? != Value::Bool(true) {
                    return Ok(());
                }
            }
            self.env.mem.charge(row_size(&row))?;
            out.push((row, st.used.clone()));
            return Ok(());
        }
        let step = steps[k];
        let rp = rps[step.rel];
        let Some(from) = st.nodes[step.from] else {
            return Err(Error::internal("pattern step from an unbound node"));
        };
        let dir = Self::dir(rp, step.reversed);
        // A relationship variable bound earlier constrains the step.
        let bound_rel = rp.variable.as_ref().and_then(|v| st.row.get(v).cloned());
        if let Some((min, max)) = rp.length {
            let min = min.unwrap_or(1);
            let max = max.unwrap_or(u64::MAX);
            let mut hops: Vec<Hop> = Vec::new();
            return self.var_expand(part, nps, rps, steps, k, st, out, from, min, max, &mut hops);
        }
        for e in self.g.expand_iter(from, dir, &rp.types)? {
            let e = e?;
            if st.used.contains(&e.rel) {
                continue;
            }
            let rel = rel_from_edge(from, &e, self.rel_type_name(rp, &e)?);
            if let Some(b) = &bound_rel {
                match b {
                    Value::Relationship(r) if r.id == rel.id => {}
                    _ => continue,
                }
            }
            if !self.rel_ok(rp, &rel, &st.row)? {
                continue;
            }
            let saved_row = st.row.clone();
            let prev_node = st.nodes[step.to];
            if !self.bind_node(nps, step.to, e.other, st)? {
                st.row = saved_row;
                continue;
            }
            st.used.insert(e.rel);
            st.rels[step.rel] = Some(RelBinding::Single(rel.clone()));
            if let Some(v) = &rp.variable {
                st.row.insert(v.clone(), Value::Relationship(Box::new(rel)));
            }
            self.extend(part, nps, rps, steps, k + 1, st, out)?;
            st.used.remove(&e.rel);
            st.rels[step.rel] = None;
            st.nodes[step.to] = prev_node;
            st.row = saved_row;
        }
        Ok(())
    }

    /// Variable-length expansion as a depth-first search with an explicit stack (a path
    /// can be as long as the graph has relationships, so no recursion per hop). Each level
    /// holds the edges of one node still to try; the hops and the level stack are charged to
    /// the query's memory account, and the time limit and cancellation are checked per hop.
    #[allow(clippy::too_many_arguments)]
    fn var_expand(
        &self,
        part: &PatternPart,
        nps: &[&NodePattern],
        rps: &[&RelationshipPattern],
        steps: &[Step],
        k: usize,
        st: &mut State,
        out: &mut Vec<(Row, HashSet<RelId>)>,
        from: NodeId,
        min: u64,
        max: u64,
        hops: &mut Vec<Hop>,
    ) -> Result<()> {
        let step = steps[k];
        let rp = rps[step.rel];
        let group = rp.group.as_deref();
        // Relationships per iteration (a quantified path pattern of several relationships
        // walks them in turn; an iteration ends every `n` hops).
        let n = group.map_or(1, |g| g.size());
        // The relationship pattern hop `t` of the walk crosses.
        let pat_at = |t: usize| -> &RelationshipPattern {
            let j = if step.reversed { n - 1 - t % n } else { t % n };
            group.map_or(rp, |g| g.rel(rp, j))
        };
        let res = self.env.mem.reservation();
        // One level per node on the current path: the node's edges and the next to try.
        let mut levels: Vec<(Vec<Edge>, usize)> = Vec::new();
        let mut at = from;
        loop {
            // Visit `at`, reached by `hops`.
            self.env.check()?;
            let t = hops.len();
            if t.is_multiple_of(n) {
                self.var_finish(part, nps, rps, steps, k, st, out, at, min, hops)?;
            }
            let edges = if !t.is_multiple_of(n) || ((t / n) as u64) < max {
                let rpat = pat_at(t);
                self.g
                    .expand(at, Self::dir(rpat, step.reversed), &rpat.types)?
            } else {
                Vec::new()
            };
            res.grow((edges.len() * std::mem::size_of::<Edge>() + LEVEL_BYTES) as u64)?;
            levels.push((edges, 0));
            // Find the next edge to follow, backtracking over exhausted levels.
            let mut next = None;
            while let Some((edges, i)) = levels.last_mut() {
                if let Some(e) = edges.get(*i).cloned() {
                    *i += 1;
                    if st.used.contains(&e.rel) {
                        continue;
                    }
                    let here = at_of(hops, from);
                    let rpat = pat_at(hops.len());
                    let rel = rel_from_edge(here, &e, self.rel_type_name(rpat, &e)?);
                    if !self.walk_hop_ok(
                        rp,
                        step.reversed,
                        &rel,
                        here,
                        e.other,
                        hops,
                        from,
                        &st.row,
                    )? {
                        continue;
                    }
                    next = Some((e, rel));
                    break;
                }
                let n = edges.len();
                levels.pop();
                res.shrink((n * std::mem::size_of::<Edge>() + LEVEL_BYTES) as u64);
                if let Some(h) = hops.pop() {
                    st.used.remove(&(h.rel.id as RelId));
                }
            }
            let Some((e, rel)) = next else {
                return Ok(());
            };
            st.used.insert(e.rel);
            hops.push(Hop { rel, node: e.other });
            at = e.other;
        }
    }

    /// Bind the end of a variable-length step at `at` (if the path is long enough) and
    /// continue with the rest of the pattern.
    #[allow(clippy::too_many_arguments)]
    fn var_finish(
        &self,
        part: &PatternPart,
        nps: &[&NodePattern],
        rps: &[&RelationshipPattern],
        steps: &[Step],
        k: usize,
        st: &mut State,
        out: &mut Vec<(Row, HashSet<RelId>)>,
        at: NodeId,
        min: u64,
        hops: &[Hop],
    ) -> Result<()> {
        let step = steps[k];
        let rp = rps[step.rel];
        let n = rp.group.as_deref().map_or(1, |g| g.size());
        if ((hops.len() / n) as u64) < min {
            return Ok(());
        }
        let saved_row = st.row.clone();
        let prev_node = st.nodes[step.to];
        if self.bind_node(nps, step.to, at, st)? {
            let in_order = if step.reversed {
                // Hops were collected right-to-left: reverse into pattern order.
                reverse_hops(hops, st.nodes[step.from].unwrap_or(at))
            } else {
                hops.to_vec()
            };
            let ok = match (
                &rp.group,
                rp.variable.as_ref().and_then(|v| saved_row.get(v)),
            ) {
                (None, Some(b)) => {
                    let rel_list = Value::List(
                        in_order
                            .iter()
                            .map(|h| Value::Relationship(Box::new(h.rel.clone())))
                            .collect(),
                    );
                    equals(b, &rel_list) == Some(true)
                }
                _ => true,
            };
            if ok {
                match &rp.group {
                    Some(g) => {
                        let first = if step.reversed {
                            Some(at)
                        } else {
                            st.nodes[step.from]
                        };
                        if let Some(first) = first {
                            bind_group(g, rp, first, &in_order, &mut st.row);
                        }
                    }
                    None => {
                        if let Some(v) = &rp.variable {
                            let rel_list = Value::List(
                                in_order
                                    .iter()
                                    .map(|h| Value::Relationship(Box::new(h.rel.clone())))
                                    .collect(),
                            );
                            st.row.insert(v.clone(), rel_list);
                        }
                    }
                }
                st.rels[step.rel] = Some(RelBinding::Var(in_order));
                self.extend(part, nps, rps, steps, k + 1, st, out)?;
                st.rels[step.rel] = None;
            }
        }
        st.nodes[step.to] = prev_node;
        st.row = saved_row;
        Ok(())
    }

    /// The k of a path selector: written, or the value of its parameter, which must be a
    /// non-negative integer (checked when the query runs, as Neo4j does).
    fn selector_count(&self, k: &SelectorCount, row: &Row) -> Result<u64> {
        let name = match k {
            SelectorCount::Literal(k) => return Ok(*k),
            SelectorCount::Parameter(name) => name,
        };
        match self.eval(&Expr::Parameter(name.clone()), row)? {
            Value::Int(i) if i >= 0 => Ok(i as u64),
            Value::Int(i) => Err(Error::new(
                graphward_core::ErrorCode::ArgumentError,
                format!(
                    "Invalid input. '{i}' is not a valid value for the number of paths of a \
                     path selector (${name}). Must be a non-negative integer."
                ),
            )
            .with_detail("NegativeIntegerArgument")),
            other => Err(Error::new(
                graphward_core::ErrorCode::ArgumentError,
                format!(
                    "Invalid input. A {} is not a valid value for the number of paths of a path \
                     selector (${name}). Must be a non-negative integer.",
                    other.type_name()
                ),
            )
            .with_detail("InvalidArgumentType")),
        }
    }

    /// The nodes matching end `np` of a path selector's pattern on `row`: the bound node, or
    /// the candidates of its anchor checked against the whole node pattern. `None` when
    /// every node matches (an unconstrained, unbound end).
    fn selector_ends(&self, np: &NodePattern, row: &Row) -> Result<Option<Vec<NodeId>>> {
        let bound = np.variable.as_ref().is_some_and(|v| row.contains_key(v));
        if !bound
            && np.labels.is_empty()
            && np.label_expr.is_none()
            && np.properties.is_none()
            && np.predicate.is_none()
        {
            return Ok(None);
        }
        let (_, candidates) = self.choose_anchor(&[np], &[], row)?;
        let res = self.env.mem.reservation();
        let mut ids = Vec::new();
        let mut r = row.clone();
        for id in candidates {
            let id = id?;
            self.env.check()?;
            if self.node_ok(np, id, &mut r)? {
                res.grow(std::mem::size_of::<NodeId>() as u64)?;
                ids.push(id);
            }
        }
        // The caller keeps the list: charged again there as part of its search state.
        Ok(Some(ids))
    }

    /// A GQL path selector (`SHORTEST k`, `SHORTEST k GROUPS`, `ALL SHORTEST`, `ANY k`) over a
    /// whole path pattern: fixed relationships, variable-length relationships and quantified
    /// path patterns (of one relationship or several) in any order. Per start node, a
    /// breadth-first search by path length over trails (no relationship twice) walks the
    /// pattern as an automaton: a state is the element of the pattern being matched, the
    /// iterations it has done and the position inside the current iteration; an element
    /// ends (and the next begins, or the path is complete) where its quantifier allows, at a
    /// node that matches the node pattern between them. The pre-filters (node and
    /// relationship patterns, quantified path pattern predicates, a parenthesized path
    /// pattern's WHERE) hold on every selected path; per end node it selects k paths or the
    /// paths of k lengths (partitions by start and end node). Paths are kept as a tree of
    /// hops (each hop points to the one before it); every hop and frontier entry is charged
    /// to the query's memory account and the deadline is checked per expanded path, so a
    /// search the graph makes explode ends with the memory or time limit error. When the
    /// pattern is one relationship pattern (of one relationship per iteration) and the
    /// selection only needs shortest paths (one path or one length group, no pre-filter on
    /// the whole path, paths of at least one hop) a node is expanded only at the depth it
    /// was first reached: prefixes of shortest paths are shortest paths.
    fn match_selected(
        &self,
        part: &PatternPart,
        k: u64,
        groups: bool,
        row: Row,
        used: HashSet<RelId>,
        out: &mut Vec<(Row, HashSet<RelId>)>,
    ) -> Result<()> {
        if k == 0 {
            return Ok(());
        }
        let el = &part.element;
        let elems: Vec<Elem<'_>> = el
            .chain
            .iter()
            .map(|(rp, _)| {
                let (min, max) = match rp.length {
                    Some((lo, hi)) => (lo.unwrap_or(1), hi.unwrap_or(u64::MAX)),
                    None => (1, 1),
                };
                Elem {
                    rp,
                    min,
                    max,
                    n: rp.group.as_deref().map_or(1, |g| g.size()),
                }
            })
            .collect();
        let nodes: Vec<&NodePattern> = std::iter::once(&el.start)
            .chain(el.chain.iter().map(|(_, n)| n))
            .collect();
        // Property maps that read no variable of the pattern are checked as the search
        // reaches their node or relationship; the others once the whole path is bound.
        let pvars: HashSet<String> = super::project::pattern_vars(std::slice::from_ref(part))
            .into_iter()
            .collect();
        let closed = |e: &Option<Expr>| e.as_ref().is_none_or(|e| reads_none_of(e, &pvars));
        let node_now: Vec<bool> = nodes.iter().map(|np| closed(&np.properties)).collect();
        let rel_now: Vec<bool> = elems.iter().map(|e| closed(&e.rp.properties)).collect();
        let total_max = elems.iter().fold(0u64, |acc, e| {
            acc.saturating_add(e.max.saturating_mul(e.n as u64))
        });
        let simple = elems.len() == 1 && elems[0].n == 1;
        let first_min = elems.first().map_or(1, |e| e.min);
        let start_np = &el.start;
        let Some(end_np) = nodes.last().copied() else {
            return Ok(());
        };
        let last = nodes.len() - 1;
        let plan = SelectorPlan {
            part,
            elems,
            nodes: nodes.clone(),
            node_now,
            rel_now,
            k,
            groups,
            total_max,
        };
        // A node pattern whose property map reads the pattern's variables is narrowed by its
        // labels only here (the full check comes with the bound path).
        let narrowed = |np: &NodePattern, now: bool| {
            if now {
                np.clone()
            } else {
                NodePattern {
                    properties: None,
                    predicate: None,
                    seek_hints: Vec::new(),
                    ..np.clone()
                }
            }
        };
        let state = self.env.mem.reservation();
        let start_pat = narrowed(start_np, plan.node_now[0]);
        let starts = match self.selector_ends(&start_pat, &row)? {
            Some(ids) => ids,
            None => {
                let (_, c) = self.choose_anchor(&[&start_pat], &[], &row)?;
                c.collect::<Result<Vec<NodeId>>>()?
            }
        };
        state.grow((starts.len() * std::mem::size_of::<NodeId>()) as u64)?;
        let same_end = start_np.variable.is_some() && start_np.variable == end_np.variable;
        let targets: Option<HashSet<NodeId>> = if same_end {
            None
        } else {
            self.selector_ends(&narrowed(end_np, plan.node_now[last]), &row)?
                .map(|v| v.into_iter().collect())
        };
        if let Some(t) = &targets {
            state.grow((t.len() * 2 * std::mem::size_of::<NodeId>()) as u64)?;
        }
        let whole_path_filter = part.element.predicate.is_some();
        for s in starts {
            self.env.check()?;
            let mut r0 = row.clone();
            if let Some(v) = &start_np.variable {
                r0.insert(v.clone(), node_ref(s));
            }
            if same_end && plan.node_now[last] && !self.node_ok(end_np, s, &mut r0)? {
                continue;
            }
            let is_target = |t: NodeId| -> bool {
                if same_end {
                    t == s
                } else {
                    targets.as_ref().is_none_or(|ts| ts.contains(&t))
                }
            };
            let prune = simple && k == 1 && first_min <= 1 && !whole_path_filter && !is_target(s);
            let target_count = if same_end {
                Some(1)
            } else {
                targets.as_ref().map(|t| t.len())
            };
            let search = SelectorSearch {
                start: s,
                prune,
                used: &used,
                is_target: &is_target,
                target_count,
            };
            self.selector_search(&plan, &search, &mut r0, out)?;
        }
        Ok(())
    }

    /// Node pattern `i` of a selector's path pattern at `node`, checked as the search
    /// reaches it: fully when its property map reads no variable of the pattern, else by its
    /// labels (the rest once the path is bound).
    fn boundary_ok(
        &self,
        q: &SelectorPlan<'_>,
        i: usize,
        node: NodeId,
        row: &mut Row,
    ) -> Result<bool> {
        let np = q.nodes[i];
        if q.node_now[i] {
            self.node_ok(np, node, row)
        } else {
            self.labels_ok(np, node)
        }
    }

    /// The states a path whose last hop is tree entry `idx` (at `node`) is in, given that it
    /// has done `c` iterations of element `e` and `p` hops of the current one: it may go on
    /// with element `e`, and, where `e`'s quantifier allows it to end, go on with the next
    /// element (or be complete) if `node` matches the node pattern between them.
    #[allow(clippy::too_many_arguments)]
    fn close_state(
        &self,
        q: &SelectorPlan<'_>,
        search: &SelectorSearch<'_>,
        idx: usize,
        node: NodeId,
        mut e: usize,
        mut c: u64,
        p: usize,
        row: &mut Row,
        out: &mut Vec<Front>,
    ) -> Result<()> {
        loop {
            let Some(el) = q.elems.get(e) else {
                out.push(Front { idx, e, c: 0, p: 0 });
                return Ok(());
            };
            if p != 0 || c < el.max {
                out.push(Front { idx, e, c, p });
            }
            if p != 0 || c < el.min {
                return Ok(());
            }
            if e + 1 == q.elems.len() && !(search.is_target)(node) {
                return Ok(());
            }
            if !self.boundary_ok(q, e + 1, node, row)? {
                return Ok(());
            }
            e += 1;
            c = 0;
        }
    }

    /// Can the path of frontier entry `f` (at `at`) go on over `rel` to `other`?
    #[allow(clippy::too_many_arguments)]
    fn selector_hop_ok(
        &self,
        q: &SelectorPlan<'_>,
        f: &Front,
        tree: &[TreeHop],
        start: NodeId,
        at: NodeId,
        other: NodeId,
        rel: &Relationship,
        row: &Row,
    ) -> Result<bool> {
        let el = &q.elems[f.e];
        let g = match el.rp.group.as_deref() {
            None if el.rp.length.is_none() => {
                return if q.rel_now[f.e] {
                    self.rel_ok(el.rp, rel, row)
                } else {
                    Ok(el
                        .rp
                        .type_expr
                        .as_ref()
                        .is_none_or(|te| te.matches(std::slice::from_ref(&rel.rel_type))))
                };
            }
            Some(g) if el.n > 1 => g,
            _ => return self.hop_ok(el.rp, rel, at, other, row),
        };
        let rpat = g.rel(el.rp, f.p);
        if rpat
            .type_expr
            .as_ref()
            .is_some_and(|te| !te.matches(std::slice::from_ref(&rel.rel_type)))
            || !self.labels_ok(g.node(f.p + 1), other)?
        {
            return Ok(false);
        }
        if f.p + 1 < el.n {
            return Ok(true);
        }
        // The iteration is complete: its nodes and relationships, back from this hop.
        let mut rels = vec![rel.clone()];
        let mut nodes = vec![other, at];
        let mut i = f.idx;
        for _ in 0..f.p {
            let Some(th) = tree.get(i) else {
                return Err(Error::internal(
                    "path selector: iteration shorter than its group",
                ));
            };
            rels.push(th.hop.rel.clone());
            i = th.parent;
            nodes.push(node_of(tree, i, start));
        }
        rels.reverse();
        nodes.reverse();
        self.iteration_ok(el.rp, g, &nodes, &rels, row)
    }

    /// One start node's search of [`Ev::match_selected`].
    fn selector_search(
        &self,
        q: &SelectorPlan<'_>,
        search: &SelectorSearch<'_>,
        row: &mut Row,
        out: &mut Vec<(Row, HashSet<RelId>)>,
    ) -> Result<()> {
        let res = self.env.mem.reservation();
        let start = search.start;
        // The tree of hops: each with the hop before it (or NONE) and its pattern element.
        let mut tree: Vec<TreeHop> = Vec::new();
        let entry_bytes =
            |h: &Hop| (std::mem::size_of::<TreeHop>() + h.rel.rel_type.len() + 32) as u64;
        let front_bytes = std::mem::size_of::<Front>() as u64;
        // Per end node: paths selected, and length groups completed.
        let mut found: std::collections::HashMap<NodeId, (u64, u64)> = Default::default();
        let mut done = 0usize;
        let mut first_depth: std::collections::HashMap<NodeId, u64> = Default::default();
        first_depth.insert(start, 0);
        let mut frontier: Vec<Front> = Vec::new();
        self.close_state(q, search, NONE, start, 0, 0, 0, row, &mut frontier)?;
        res.grow(frontier.len() as u64 * front_bytes)?;
        let complete = q.elems.len();
        let mut depth = 0u64;
        loop {
            // Select the complete paths of this length.
            let mut reached_now: Vec<NodeId> = Vec::new();
            for f in &frontier {
                if f.e != complete {
                    continue;
                }
                self.env.check()?;
                let t = node_of(&tree, f.idx, start);
                if !(search.is_target)(t) {
                    continue;
                }
                let entry = found.entry(t).or_insert((0, 0));
                let full = if q.groups {
                    entry.1 >= q.k
                } else {
                    entry.0 >= q.k
                };
                if full {
                    continue;
                }
                let hops = path_of(&tree, f.idx);
                let Some(r) = self.bind_selected(q, start, &hops, row)? else {
                    continue;
                };
                if let Some(pred) = &q.part.element.predicate {
                    if self.eval(pred, &r)? != Value::Bool(true) {
                        continue;
                    }
                }
                entry.0 += 1;
                if !q.groups && entry.0 >= q.k {
                    done += 1;
                }
                if q.groups {
                    reached_now.push(t);
                }
                self.env.mem.charge(row_size(&r))?;
                out.push((r, search.used.clone()));
                self.env.check_rows(out.len())?;
            }
            if q.groups {
                reached_now.sort_unstable();
                reached_now.dedup();
                for t in reached_now {
                    if let Some(e) = found.get_mut(&t) {
                        e.1 += 1;
                        if e.1 >= q.k {
                            done += 1;
                        }
                    }
                }
            }
            if search.target_count.is_some_and(|n| done >= n)
                || depth >= q.total_max
                || frontier.is_empty()
            {
                return Ok(());
            }
            // Extend every path of this length by one relationship.
            depth += 1;
            let mut next: Vec<Front> = Vec::new();
            for f in &frontier {
                if f.e == complete {
                    continue;
                }
                self.env.check()?;
                let at = node_of(&tree, f.idx, start);
                if search.prune && first_depth.get(&at).is_some_and(|d| *d + 1 < depth) {
                    continue;
                }
                let el = &q.elems[f.e];
                let rpat = el.rp.group.as_deref().map_or(el.rp, |g| g.rel(el.rp, f.p));
                for e in self.g.expand(at, Self::dir(rpat, false), &rpat.types)? {
                    if search.used.contains(&e.rel) || on_path(&tree, f.idx, e.rel) {
                        continue;
                    }
                    if search.prune {
                        match first_depth.get(&e.other) {
                            Some(d) if *d < depth => continue,
                            Some(_) if q.k == 1 && !q.groups => continue,
                            _ => {}
                        }
                    }
                    let rel = rel_from_edge(at, &e, self.rel_type_name(rpat, &e)?);
                    if !self.selector_hop_ok(q, f, &tree, start, at, e.other, &rel, row)? {
                        continue;
                    }
                    let hop = Hop { rel, node: e.other };
                    res.grow(entry_bytes(&hop))?;
                    if search.prune && !first_depth.contains_key(&e.other) {
                        res.grow(32)?;
                        first_depth.insert(e.other, depth);
                    }
                    tree.push(TreeHop {
                        hop,
                        parent: f.idx,
                        elem: f.e,
                    });
                    let idx = tree.len() - 1;
                    let (c, p) = if f.p + 1 == el.n {
                        (f.c + 1, 0)
                    } else {
                        (f.c, f.p + 1)
                    };
                    let before = next.len();
                    self.close_state(q, search, idx, e.other, f.e, c, p, row, &mut next)?;
                    res.grow((next.len() - before) as u64 * front_bytes)?;
                }
            }
            frontier = next;
        }
    }

    /// The row of a path a selector found (`hops` in order, each with its pattern element):
    /// the pattern's node variables at the element boundaries, relationship and group
    /// variables, the path variable; `None` when a variable bound before (or twice in the
    /// pattern) disagrees, or a node or relationship pattern whose check needed the bound
    /// path fails.
    fn bind_selected(
        &self,
        q: &SelectorPlan<'_>,
        start: NodeId,
        hops: &[(Hop, usize)],
        row: &Row,
    ) -> Result<Option<Row>> {
        let len = q.elems.len();
        let mut r = row.clone();
        let mut bounds = Vec::with_capacity(len + 1);
        let mut spans = Vec::with_capacity(len);
        let mut pos = 0;
        let mut cur = start;
        for e in 0..len {
            bounds.push(cur);
            let begin = pos;
            while let Some((h, _)) = hops.get(pos).filter(|(_, he)| *he == e) {
                cur = h.node;
                pos += 1;
            }
            spans.push((begin, pos));
        }
        bounds.push(cur);
        for (np, id) in q.nodes.iter().zip(&bounds) {
            if let Some(v) = &np.variable {
                match r.get(v) {
                    Some(Value::Node(n)) if n.id as u64 == *id => {}
                    Some(_) => return Ok(None),
                    None => {
                        r.insert(v.clone(), node_ref(*id));
                    }
                }
            }
        }
        for (e, el) in q.elems.iter().enumerate() {
            let (a, b) = spans[e];
            let hs: Vec<Hop> = hops[a..b].iter().map(|(h, _)| h.clone()).collect();
            match (&el.rp.group, el.rp.length) {
                (Some(g), _) => bind_group(g, el.rp, bounds[e], &hs, &mut r),
                (None, length) => {
                    let Some(v) = &el.rp.variable else { continue };
                    let val = match (length, hs.first()) {
                        (Some(_), _) => Value::List(
                            hs.iter()
                                .map(|h| Value::Relationship(Box::new(h.rel.clone())))
                                .collect(),
                        ),
                        (None, Some(h)) => Value::Relationship(Box::new(h.rel.clone())),
                        (None, None) => Value::Null,
                    };
                    match r.get(v) {
                        Some(b) if equals(b, &val) != Some(true) => return Ok(None),
                        Some(_) => {}
                        None => {
                            r.insert(v.clone(), val);
                        }
                    }
                }
            }
        }
        if let Some(pv) = &q.part.variable {
            let all: Vec<Hop> = hops.iter().map(|(h, _)| h.clone()).collect();
            let path = build_path(&[Some(start)], &[Some(RelBinding::Var(all))]);
            r.insert(pv.clone(), Value::Path(path));
        }
        // What the search could not check before the path was bound.
        for (i, (np, id)) in q.nodes.iter().zip(&bounds).enumerate() {
            if !q.node_now[i] && !self.node_ok(np, *id, &mut r)? {
                return Ok(None);
            }
        }
        for (e, el) in q.elems.iter().enumerate() {
            if el.rp.length.is_none() && !q.rel_now[e] {
                if let Some((h, _)) = hops.get(spans[e].0) {
                    if !self.rel_ok(el.rp, &h.rel, &r)? {
                        return Ok(None);
                    }
                }
            }
        }
        Ok(Some(r))
    }
}

/// One element of a selector's path pattern: a relationship pattern (fixed, variable-length
/// or a quantified path pattern of `n` relationships per iteration) and its bounds.
struct Elem<'p> {
    rp: &'p RelationshipPattern,
    min: u64,
    max: u64,
    n: usize,
}

/// A path selector's search, the same for every start node.
struct SelectorPlan<'p> {
    part: &'p PatternPart,
    elems: Vec<Elem<'p>>,
    /// The outer node patterns: the start, then the one after each element.
    nodes: Vec<&'p NodePattern>,
    /// Node pattern `i` is checked in full as the search reaches it (else by labels, and in
    /// full once the path is bound).
    node_now: Vec<bool>,
    /// The same for a fixed relationship pattern.
    rel_now: Vec<bool>,
    k: u64,
    groups: bool,
    /// The longest path the pattern allows (`u64::MAX`: unbounded).
    total_max: u64,
}

/// What one start node's search of a path selector looks for.
struct SelectorSearch<'p> {
    start: NodeId,
    /// Expand a node only at the depth it was first reached (see `match_selected`).
    prune: bool,
    used: &'p HashSet<RelId>,
    is_target: &'p dyn Fn(NodeId) -> bool,
    target_count: Option<usize>,
}

/// A path of a selector's search: its last hop (tree entry `idx`, or none) and where it is in
/// the pattern: element `e` (`elems.len()`: complete), `c` iterations of it done, `p` hops
/// into the current one.
struct Front {
    idx: usize,
    e: usize,
    c: u64,
    p: usize,
}

/// A hop of a selector's tree of paths: the hop before it (`NONE` for the first) and the
/// pattern element it belongs to.
struct TreeHop {
    hop: Hop,
    parent: usize,
    elem: usize,
}

/// No tree entry: the path that has not left its start node.
const NONE: usize = usize::MAX;

/// The node the path ending with tree entry `i` stands on.
fn node_of(tree: &[TreeHop], i: usize, start: NodeId) -> NodeId {
    tree.get(i).map_or(start, |t| t.hop.node)
}

/// The hops of the path ending with tree entry `i`, in order, each with its element.
fn path_of(tree: &[TreeHop], mut i: usize) -> Vec<(Hop, usize)> {
    let mut hops = Vec::new();
    while let Some(t) = tree.get(i) {
        hops.push((t.hop.clone(), t.elem));
        i = t.parent;
    }
    hops.reverse();
    hops
}

/// Is relationship `rel` on the path ending with tree entry `i`?
fn on_path(tree: &[TreeHop], mut i: usize, rel: RelId) -> bool {
    while let Some(t) = tree.get(i) {
        if t.hop.rel.id as u64 == rel {
            return true;
        }
        i = t.parent;
    }
    false
}

/// Does `e` read none of `vars` (literals, parameters, other variables, their properties,
/// lists, maps, operators and function calls over them)? Anything else counts as reading
/// them.
fn reads_none_of(e: &Expr, vars: &HashSet<String>) -> bool {
    match e {
        Expr::Literal(_) | Expr::Parameter(_) | Expr::Once(..) => true,
        Expr::Variable(v) => !vars.contains(v),
        Expr::List(items) => items.iter().all(|x| reads_none_of(x, vars)),
        Expr::Map(items) => items.iter().all(|(_, x)| reads_none_of(x, vars)),
        Expr::Property(x, _) | Expr::Unary(_, x) => reads_none_of(x, vars),
        Expr::Binary(_, l, r) => reads_none_of(l, vars) && reads_none_of(r, vars),
        Expr::FunctionCall { args, .. } => args.iter().all(|x| reads_none_of(x, vars)),
        _ => false,
    }
}

/// Bind a quantified path pattern's group variables (kept on `first_rel`): each inner node
/// and relationship variable becomes the list of what it matched in every iteration; `first`
/// is the first iteration's left node and `hops` are in pattern order.
fn bind_group(
    g: &QuantGroup,
    first_rel: &RelationshipPattern,
    first: NodeId,
    hops: &[Hop],
    row: &mut Row,
) {
    let n = g.size();
    let iters = hops.len() / n;
    let pos = |t: usize| if t == 0 { first } else { hops[t - 1].node };
    for j in 0..=n {
        if let Some(v) = &g.node(j).variable {
            let nodes = (0..iters).map(|i| node_ref(pos(i * n + j))).collect();
            row.insert(v.clone(), Value::List(nodes));
        }
    }
    for j in 0..n {
        if let Some(v) = &g.rel(first_rel, j).variable {
            let rels = (0..iters)
                .map(|i| Value::Relationship(Box::new(hops[i * n + j].rel.clone())))
                .collect();
            row.insert(v.clone(), Value::List(rels));
        }
    }
}

/// Bytes charged per level of a variable-length search besides its edges.
const LEVEL_BYTES: usize = 64;

/// The node a variable-length search stands on: the last hop's, or where it started.
fn at_of(hops: &[Hop], from: NodeId) -> NodeId {
    hops.last().map_or(from, |h| h.node)
}

fn reverse_hops(hops: &[Hop], origin: NodeId) -> Vec<Hop> {
    // hops[i].node is the node reached after hop i, walking away from `origin`.
    // In pattern order the walk goes from the last node back to `origin`.
    let mut out = Vec::with_capacity(hops.len());
    for i in (0..hops.len()).rev() {
        let reached = if i == 0 { origin } else { hops[i - 1].node };
        out.push(Hop {
            rel: hops[i].rel.clone(),
            node: reached,
        });
    }
    out
}

fn build_path(nodes: &[Option<NodeId>], rels: &[Option<RelBinding>]) -> Path {
    let mk = |id: NodeId| Node {
        id: id as i64,
        element_id: String::new(),
        labels: vec![],
        properties: Default::default(),
    };
    let mut p = Path {
        nodes: Vec::new(),
        relationships: Vec::new(),
    };
    if let Some(Some(first)) = nodes.first() {
        p.nodes.push(mk(*first));
    }
    for (i, r) in rels.iter().enumerate() {
        match r {
            Some(RelBinding::Single(rel)) => {
                p.relationships.push(rel.clone());
                if let Some(Some(n)) = nodes.get(i + 1) {
                    p.nodes.push(mk(*n));
                }
            }
            Some(RelBinding::Var(hops)) => {
                for h in hops {
                    p.relationships.push(h.rel.clone());
                    p.nodes.push(mk(h.node));
                }
            }
            None => {}
        }
    }
    p
}

/// Helper for callers that need a relationship value from a stored record.
pub fn rel_value(r: &graphward_storage::RelRecord) -> Value {
    rel_ref(r)
}

/// Entry points for the streaming executor (`plan.rs`): the anchor `match_part` would pick for
/// one pattern part, and the matches that start from one anchor candidate, so the executor can
/// walk the candidates one at a time instead of materializing every match.
impl<'a> Ev<'a> {
    /// The anchor `match_part` would pick for `part` on `row` (by `access` when the caller
    /// decided the access path already), with its candidates when they are few and known now
    /// (a bound node, an index seek); `None` for a scan (of `anchor.label`, or of every node),
    /// which the caller reads from the storage a page at a time (the plan's operators hold no
    /// borrow of storage between pulls).
    pub(crate) fn part_anchor(
        &self,
        part: &PatternPart,
        row: &Row,
        access: Option<Access>,
    ) -> Result<(Anchor, Option<Vec<NodeId>>)> {
        let (anchor, ids) = match access {
            Some(access) => self.anchor_by(&Self::node_patterns(part), row, access)?,
            None => self.anchor_for_part(part, row)?,
        };
        if anchor.scan {
            return Ok((anchor, None));
        }
        let ids = ids.collect::<Result<Vec<NodeId>>>()?;
        Ok((anchor, Some(ids)))
    }

    /// Matches of `part` (not a shortest path) on `row` whose node `anchor` is `id`.
    pub(crate) fn match_part_at(
        &self,
        part: &PatternPart,
        row: &Row,
        anchor: &Anchor,
        id: NodeId,
    ) -> Result<Vec<Row>> {
        // As in `match_pattern`: a scope of its own, so predicates evaluated while matching
        // (node, relationship and quantified path pattern predicates) do not release the
        // rows charged so far.
        let mem = &self.env.mem;
        mem.enter();
        let mark = mem.mark();
        let r = self.match_part_at_charged(part, row, anchor, id);
        let settled = mem.settle(mark, 0);
        mem.leave();
        settled?;
        r
    }

    fn match_part_at_charged(
        &self,
        part: &PatternPart,
        row: &Row,
        anchor: &Anchor,
        id: NodeId,
    ) -> Result<Vec<Row>> {
        let nps = Self::node_patterns(part);
        let rps: Vec<&RelationshipPattern> = part.element.chain.iter().map(|(r, _)| r).collect();
        let steps = steps_from(anchor.index, rps.len());
        let mut st = State {
            nodes: vec![None; nps.len()],
            rels: vec![None; rps.len()],
            used: HashSet::new(),
            row: row.clone(),
            anchor: anchor.index,
            anchor_label: anchor.label.clone(),
            sought: anchor.sought.clone(),
        };
        let mut out = Vec::new();
        if self.bind_node(&nps, anchor.index, id, &mut st)? {
            self.extend(part, &nps, &rps, &steps, 0, &mut st, &mut out)?;
        }
        Ok(out.into_iter().map(|(r, _)| r).collect())
    }
}

/// The expansion order from node `anchor` of a chain of `rels` relationships: rightwards to the
/// end, then leftwards back to the start.
fn steps_from(anchor: usize, rels: usize) -> Vec<Step> {
    let right = (anchor..rels).map(|i| Step {
        rel: i,
        from: i,
        to: i + 1,
        reversed: false,
    });
    let left = (0..anchor).rev().map(|i| Step {
        rel: i,
        from: i + 1,
        to: i,
        reversed: true,
    });
    right.chain(left).collect()
}
