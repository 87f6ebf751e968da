//! Updates fed row by row by the streaming executor.
//!
//! The clause runner applies a query clause by clause: every row of the reading clauses is
//! built (as a map) and held before the first update runs, so a load of a million rows holds
//! a million rows. A query of reading clauses (MATCH, UNWIND, LOAD CSV, WITH) followed by
//! `CREATE`, `MERGE`, `SET`, `REMOVE` and `FOREACH` clauses, with WITHs between them that keep
//! or drop each row on its own (or one `DELETE`), and at most a RETURN — the
//! shapes of a bulk load or a bulk update,
//! `UNWIND $rows AS r MATCH (a:N {id: r.s}), (b:N {id: r.d}) CREATE (a)-[:R]->(b)`,
//! `LOAD CSV WITH HEADERS FROM 'file:///people.csv' AS r CREATE (:Person {id: r.id})`,
//! `UNWIND $rows AS r MERGE (n:N {id: r.id}) ON CREATE SET n.name = r.name`,
//! `MATCH (n:N) WHERE n.id > 10 SET n.flag = true`,
//! `UNWIND $rows AS r MERGE (p:Person {id: r.id}) SET p.name = r.name MERGE (c:City {name:
//! r.city}) MERGE (p)-[:LIVES_IN]->(c)` — runs here instead: the reading clauses are planned
//! for the streaming executor ([`Reading`]), and the updates are applied to each row as soon
//! as it comes, one after the other (the runner applies each row after row too, with the same
//! code), so the query holds one row at a time. A RETURN may follow the updates: its items are
//! evaluated for each row right after that row's updates (an aggregate fed, a projection
//! kept), then DISTINCT, ORDER BY, SKIP and LIMIT apply as the runner applies them, and
//! entities are resolved at the end, as the runner resolves them.
//!
//! That is the runner's result only when nothing the updates write can change what the
//! reading clauses still running read (the Halloween problem: `MATCH (n) CREATE (:M)` would
//! meet its own new nodes, `MATCH (n:N) WHERE n.v < 10 SET n.v = n.v + 1` could see a node
//! again). [`streamable`] decides it on the parsed query, conservatively:
//! - every new node has labels that no node pattern of the reading clauses asks for a subset
//!   of (an unlabelled pattern matches any node; a label expression counts as matching any),
//!   counting only the parts that can match a node without a relationship (a part with one
//!   whose length cannot be zero matches a new node only through a new relationship);
//! - every new relationship's type is not one a relationship pattern of the reading clauses
//!   can match (no type, or a type expression, matches any);
//! - no property key an update sets or removes (`SET n.p`, ON CREATE / ON MATCH SET,
//!   `REMOVE n.p`; `SET n = map` and `n += map` set any) is one the reading clauses read
//!   (`n.p`, a pattern's map, `n[k]`; `n {.*}`, `properties(n)` and `keys(n)` read any), and
//!   no label it adds or removes is one they mention (in a pattern, `n:L`, `labels(n)`);
//! - with several update clauses, none reads what another writes, by the same rules (a
//!   MERGE's pattern is read as a MATCH's; the values SET and CREATE give are read, and a
//!   WITH's items and WHERE; a WITH unbinds the variables it drops): run
//!   clause by clause, each would see every row's writes of the others, run row by row only
//!   the rows' before — two MERGEs of the same label, or a CREATE of a type a later MERGE
//!   matches, go to the runner (where Neo4j plans an Eager);
//! - the RETURN reads no property key or label the updates write (it would read them
//!   before later rows write them);
//! - a DELETE (no RETURN) only of the node a lone `MATCH (n ...)` binds, or of the
//!   relationship a lone `MATCH (a)-[r]->(b)` binds (`deletes_own`): each row deletes its own
//!   node or relationship, which no other row reads;
//! - no expression of the query reads the graph through a pattern (pattern predicates and
//!   comprehensions, `EXISTS`, `COUNT`, `COLLECT` subqueries): those would see the writes of
//!   the rows before theirs.

use graphward_core::engine::Stats;
use graphward_core::{Result, Value};

use super::eval::{Env, Ev, Row};
use super::plan::Reading;
use super::project::{contains_aggregate, projection_items, Aggregator};
use super::runner::{InnerTransactions, Runner, StoreTx};
use crate::ast::{
    Clause, Create, Delete, Direction, Expr, Foreach, InTransactions, MapProjectionItem, Merge,
    NodePattern, Projection, Query, RelationshipPattern, RemoveItem, SetItem, SingleQuery, With,
};

/// A query [`streamable`] accepted: its reading clauses and its updates.
pub struct Pipelined<'q> {
    reading: SingleQuery,
    /// The update clauses, applied in turn to each row (a MERGE may make one row several).
    updates: Vec<Update<'q>>,
    /// A RETURN after the updates: its items are evaluated for each row after that row's
    /// updates (what they read, no later row's update changes), aggregates fed as rows come.
    ret: Option<&'q Projection>,
    /// The variables in scope after the last update (what `RETURN *` returns).
    scope: Vec<String>,
    /// The variables of the reading clauses' rows the updates and the RETURN name (see
    /// [`used_vars`]): the rest are not copied into the rows handed to the updates. `None`:
    /// every one is.
    used: Option<Vec<String>>,
}

/// Whether a WITH keeps or drops each row on its own (no aggregate, DISTINCT, ORDER BY, SKIP
/// or LIMIT).
fn per_row(p: &Projection) -> bool {
    !p.distinct
        && p.order_by.is_empty()
        && p.skip.is_none()
        && p.limit.is_none()
        && !p.items.iter().any(|i| contains_aggregate(&i.expr))
}

/// The variables in scope after a WITH's projection.
fn with_scope(p: &Projection, scope: &[String]) -> Vec<String> {
    with_scope_of(p, scope, str::to_string)
}

/// The variables in scope after a WITH's projection, as `name` gives them.
fn with_scope_of<'p, T: Clone + PartialEq>(
    p: &'p Projection,
    scope: &[T],
    name: impl Fn(&'p str) -> T,
) -> Vec<T> {
    let mut next: Vec<T> = if p.star { scope.to_vec() } else { Vec::new() };
    for i in &p.items {
        let n = name(i.name());
        if !next.contains(&n) {
            next.push(n);
        }
    }
    next
}

/// An update clause of a pipelined query.
enum Update<'q> {
    Create(&'q Create),
    Merge(&'q Merge),
    Set(&'q [SetItem]),
    Remove(&'q [RemoveItem]),
    /// `[DETACH] DELETE n` of the one node a lone `MATCH (n ...)` binds (see [`deletes_own`]).
    Delete(&'q Delete),
    /// `FOREACH (x IN list | ...)` of CREATE, MERGE, SET and REMOVE clauses (what they read
    /// and write counts as the FOREACH's).
    Foreach(&'q Foreach),
    /// A `WITH [WHERE]` between updates that keeps or drops each row on its own (no
    /// aggregate, DISTINCT, ORDER BY, SKIP or LIMIT), with the variables in scope before it.
    With(&'q With, Vec<String>),
}

impl<'q> Update<'q> {
    fn of(c: &'q Clause) -> Option<Update<'q>> {
        Some(match c {
            Clause::Create(c) => Update::Create(c),
            Clause::Merge(m) => Update::Merge(m),
            Clause::Set(items) => Update::Set(items),
            Clause::Remove(items) => Update::Remove(items),
            Clause::With(w) if per_row(&w.projection) => Update::With(w, Vec::new()),
            Clause::Foreach(f)
                if f.clauses.iter().all(|c| {
                    matches!(
                        c,
                        Clause::Create(_) | Clause::Merge(_) | Clause::Set(_) | Clause::Remove(_)
                    )
                }) =>
            {
                Update::Foreach(f)
            }
            _ => return None,
        })
    }

    /// The pattern parts whose variables it binds.
    fn parts(&self) -> &'q [crate::ast::PatternPart] {
        match self {
            Update::Create(c) => c.pattern.as_slice(),
            Update::Merge(m) => std::slice::from_ref(&m.pattern),
            // A FOREACH's variables stay inside it.
            Update::Set(_)
            | Update::Remove(_)
            | Update::Delete(_)
            | Update::Foreach(_)
            | Update::With(..) => &[],
        }
    }
}

/// The reading clauses and the updates of `q`, when `q` is reading clauses followed by
/// CREATE, MERGE, SET and REMOVE clauses (or one DELETE, see [`deletes_own`]) none of which
/// can change what the reading clauses or another of them read (see the module's doc).
pub fn streamable(q: &Query) -> Option<Pipelined<'_>> {
    if !q.unions.is_empty() {
        return None;
    }
    let (ret, rest) = match q.first.clauses.split_last()? {
        (Clause::Return(r), rest) => (Some(&r.projection), rest),
        _ => (None, q.first.clauses.as_slice()),
    };
    let (reading, updates) = match rest.split_last()? {
        (Clause::Delete(d), _) if ret.is_none() && deletes_own(rest, d) => {
            (&rest[..rest.len() - 1], vec![Update::Delete(d)])
        }
        _ => {
            let mut at = rest
                .iter()
                .rposition(|c| Update::of(c).is_none())
                .map_or(0, |i| i + 1);
            // A WITH before the first update is a reading clause.
            while matches!(rest.get(at), Some(Clause::With(_))) {
                at += 1;
            }
            let updates: Vec<Update<'_>> = rest[at..].iter().filter_map(Update::of).collect();
            (&rest[..at], updates)
        }
    };
    if reading.is_empty() || updates.is_empty() {
        return None;
    }
    // The variables in scope before each WITH, and after the last update (`RETURN *`).
    let mut after = reading_scope(reading);
    let mut updates = updates;
    for u in &mut updates {
        match u {
            Update::With(w, before) => {
                *before = after.clone();
                after = with_scope(&w.projection, &after);
            }
            u => {
                for v in super::project::pattern_vars(u.parts()) {
                    if !after.contains(&v) {
                        after.push(v);
                    }
                }
            }
        }
    }
    if updates.iter().all(|u| matches!(u, Update::With(..))) {
        return None;
    }
    let mut reads = Reads::default();
    for c in reading {
        reads.clause(c)?;
    }
    // Every variable the reading clauses leave in scope is bound; a node variable of an
    // update's pattern that is not bound yet is a new node.
    let scope = reading_scope(reading);
    let mut bound: Vec<&str> = scope.iter().map(String::as_str).collect();
    let mut bound_all = bound.clone();
    let mut all = Writes::default();
    let mut each: Vec<(Reads<'_>, Writes<'_>)> = Vec::with_capacity(updates.len());
    for u in &updates {
        let mut w = Writes::default();
        w.update(u, &mut bound);
        all.update(u, &mut bound_all);
        let mut r = Reads::default();
        r.update(u);
        each.push((r, w));
    }
    if reads.conflict(&all) {
        return None;
    }
    // Each update runs for a row before the next row's updates: another update clause must
    // not read what one writes (run clause by clause, it would see every row's writes).
    for (k, (r, _)) in each.iter().enumerate() {
        for (j, (_, w)) in each.iter().enumerate() {
            if j != k && r.conflict(w) {
                return None;
            }
        }
    }
    if let Some(p) = ret {
        // Evaluated row by row, a RETURN must not read what a later row's update writes.
        let mut returned = Reads::default();
        returned.projection(p, None);
        if returned.graph || all.keys.meets(&returned.keys) || all.labels.meets(&returned.labels) {
            return None;
        }
    }
    let used = used_vars(&updates, ret).map(|v| v.into_iter().map(str::to_string).collect());
    Some(Pipelined {
        reading: SingleQuery {
            use_graph: q.first.use_graph.clone(),
            clauses: reading.to_vec(),
        },
        updates,
        ret,
        scope: after,
        used,
    })
}

/// The variables the updates and the RETURN after them name (in expressions, and as the
/// nodes and relationships of their patterns): all a row handed to them needs of the
/// reading clauses' variables. `None` when that is not known from the names: an expression
/// reads a pattern or a subquery (whose variables are not expressions), a projection has a
/// star, a pattern has a quantified group, or the update is a FOREACH or a WITH.
fn used_vars<'q>(updates: &[Update<'q>], ret: Option<&'q Projection>) -> Option<Vec<&'q str>> {
    fn expr<'q>(e: &'q Expr, out: &mut Vec<&'q str>) -> Option<()> {
        if reads_graph(e) {
            return None;
        }
        crate::semantic::walk(e, &mut |x| {
            if let Expr::Variable(v) = x {
                out.push(v);
            }
        });
        Some(())
    }
    fn node<'q>(n: &'q NodePattern, out: &mut Vec<&'q str>) -> Option<()> {
        out.extend(n.variable.as_deref());
        for e in n.properties.iter().chain(n.predicate.as_deref()) {
            expr(e, out)?;
        }
        Some(())
    }
    fn part<'q>(p: &'q crate::ast::PatternPart, out: &mut Vec<&'q str>) -> Option<()> {
        out.extend(p.variable.as_deref());
        let el = &p.element;
        if el.predicate.is_some() || el.path_var.is_some() {
            return None;
        }
        node(&el.start, out)?;
        for (r, n) in &el.chain {
            if r.group.is_some() {
                return None;
            }
            out.extend(r.variable.as_deref());
            for e in r.properties.iter().chain(r.predicate.as_deref()) {
                expr(e, out)?;
            }
            node(n, out)?;
        }
        Some(())
    }
    fn set<'q>(items: &'q [SetItem], out: &mut Vec<&'q str>) -> Option<()> {
        for it in items {
            match it {
                SetItem::Property { target, value, .. } => {
                    expr(target, out)?;
                    expr(value, out)?;
                }
                SetItem::Replace { variable, value } | SetItem::Merge { variable, value } => {
                    out.push(variable);
                    expr(value, out)?;
                }
                SetItem::Labels { variable, .. } => out.push(variable),
            }
        }
        Some(())
    }
    let mut out = Vec::new();
    for u in updates {
        match u {
            Update::Create(c) => {
                for p in &c.pattern {
                    part(p, &mut out)?;
                }
            }
            Update::Merge(m) => {
                part(&m.pattern, &mut out)?;
                set(&m.on_create, &mut out)?;
                set(&m.on_match, &mut out)?;
            }
            Update::Set(items) => set(items, &mut out)?,
            Update::Remove(items) => {
                for it in items.iter() {
                    match it {
                        RemoveItem::Property { target, .. } => expr(target, &mut out)?,
                        RemoveItem::Labels { variable, .. } => out.push(variable),
                    }
                }
            }
            Update::Delete(d) => {
                for e in &d.exprs {
                    expr(e, &mut out)?;
                }
            }
            Update::Foreach(_) | Update::With(..) => return None,
        }
    }
    if let Some(p) = ret {
        if p.star {
            return None;
        }
        for e in p
            .items
            .iter()
            .map(|i| &i.expr)
            .chain(p.order_by.iter().map(|o| &o.expr))
        {
            expr(e, &mut out)?;
        }
        for e in [p.skip.as_ref(), p.limit.as_ref()].into_iter().flatten() {
            expr(e, &mut out)?;
        }
    }
    Some(out)
}

/// Whether `clauses` are one `MATCH` of one lone node pattern, `MATCH (n:L {...}) WHERE ...`,
/// followed by a DELETE of just that node, or one `MATCH` of one directed relationship,
/// `MATCH (a)-[r:T]->(b) WHERE ...`, followed by a DELETE of just that relationship: each
/// row's node (relationship) is a different one, and no other row reads it, so deleting it as
/// its row comes is what deleting them all at the end does (with DETACH, a node's
/// relationships go too; no pattern of the match has one; a relationship's ends stay).
fn deletes_own(clauses: &[Clause], d: &Delete) -> bool {
    let [Clause::Match(m), Clause::Delete(_)] = clauses else {
        return false;
    };
    let [part] = m.pattern.as_slice() else {
        return false;
    };
    let own = match part.element.chain.as_slice() {
        [] => part.element.start.variable.as_deref(),
        // Undirected, each relationship would be matched from both ends (the second row
        // would read a relationship the first deleted).
        [(r, _)] if r.length.is_none() && r.group.is_none() && r.direction != Direction::Both => {
            r.variable.as_deref()
        }
        _ => None,
    };
    let Some(v) = own else {
        return false;
    };
    !m.optional
        && part.variable.is_none()
        && part.shortest.is_none()
        && part.element.path_var.is_none()
        && matches!(d.exprs.as_slice(), [Expr::Variable(x)] if x == v)
}

/// Whether a pattern's node variable `v` makes a new node (it is not bound yet; it is from
/// now on).
fn bind<'q>(v: &'q Option<String>, bound: &mut Vec<&'q str>) -> bool {
    match v.as_deref() {
        Some(name) if bound.contains(&name) => false,
        Some(name) => {
            bound.push(name);
            true
        }
        None => true,
    }
}

/// The variables in scope after `clauses` (the names a later clause may use).
fn reading_scope(clauses: &[Clause]) -> Vec<String> {
    let mut scope: Vec<String> = Vec::new();
    for c in clauses {
        match c {
            Clause::Match(m) => {
                for v in super::project::pattern_vars(&m.pattern) {
                    if !scope.contains(&v) {
                        scope.push(v);
                    }
                }
            }
            Clause::Unwind(u) => scope.push(u.variable.clone()),
            Clause::LoadCsv(l) => scope.push(l.variable.clone()),
            Clause::With(w) => scope = with_scope(&w.projection, &scope),
            _ => {}
        }
    }
    scope
}

/// Property keys or labels: some named ones, or any.
#[derive(Default)]
struct Names<'q> {
    named: Vec<&'q str>,
    any: bool,
}

impl<'q> Names<'q> {
    fn meets(&self, other: &Names<'_>) -> bool {
        (self.any && (other.any || !other.named.is_empty()))
            || (other.any && !self.named.is_empty())
            || self.named.iter().any(|n| other.named.contains(n))
    }
}

/// Whether `e` (or anything in it) reads the graph through a pattern.
fn reads_graph(e: &Expr) -> bool {
    let mut found = false;
    crate::semantic::walk(e, &mut |x| {
        found |= matches!(
            x,
            Expr::PatternComprehension { .. }
                | Expr::PatternPredicate(_)
                | Expr::ExistsSubquery(_)
                | Expr::ValueSubquery(..)
        );
    });
    found
}

/// What the reading clauses (or an update clause) can read.
#[derive(Default)]
struct Reads<'q> {
    /// The label sets node patterns ask for (a node matches when it has all of one), of the
    /// parts where a node can match without a relationship.
    node_labels: Vec<&'q [String]>,
    /// Such a node pattern with a label expression (taken to match any node).
    any_node: bool,
    /// Whether the part being read can match a node without a relationship (it has none, or
    /// one whose length may be zero).
    lone: bool,
    /// The types relationship patterns accept.
    rel_types: Vec<&'q [String]>,
    /// A relationship pattern of any type, or with a type expression.
    any_rel: bool,
    /// Property keys read, labels mentioned.
    keys: Names<'q>,
    labels: Names<'q>,
    /// An expression that reads the graph through a pattern.
    graph: bool,
}

impl<'q> Reads<'q> {
    /// Takes in a reading clause; `None` for a clause that is not one.
    fn clause(&mut self, c: &'q Clause) -> Option<()> {
        match c {
            Clause::Match(m) => {
                if let Some(w) = &m.where_ {
                    self.expr(w);
                }
                for part in &m.pattern {
                    self.part(part);
                }
            }
            Clause::Unwind(u) => self.expr(&u.expr),
            Clause::LoadCsv(l) => self.expr(&l.url),
            Clause::With(w) => self.projection(&w.projection, w.where_.as_ref()),
            _ => return None,
        }
        Some(())
    }

    /// What an update clause reads: a MERGE's pattern as a MATCH's, the values it sets (and
    /// the entities they are set on, when an expression gives them).
    fn update(&mut self, u: &Update<'q>) {
        match u {
            Update::Create(c) => {
                for part in &c.pattern {
                    let el = &part.element;
                    for n in std::iter::once(&el.start).chain(el.chain.iter().map(|(_, n)| n)) {
                        if let Some(p) = &n.properties {
                            self.expr(p);
                        }
                    }
                    for (r, _) in &el.chain {
                        if let Some(p) = &r.properties {
                            self.expr(p);
                        }
                    }
                }
            }
            Update::Merge(m) => {
                self.part(&m.pattern);
                self.set_items(&m.on_create);
                self.set_items(&m.on_match);
            }
            Update::Set(items) => self.set_items(items),
            Update::Remove(items) => {
                for it in items.iter() {
                    if let RemoveItem::Property { target, .. } = it {
                        self.expr(target);
                    }
                }
            }
            Update::Delete(d) => {
                for e in &d.exprs {
                    self.expr(e);
                }
            }
            Update::Foreach(f) => {
                self.expr(&f.list);
                for u in f.clauses.iter().filter_map(Update::of) {
                    self.update(&u);
                }
            }
            Update::With(w, _) => self.projection(&w.projection, w.where_.as_ref()),
        }
    }

    fn set_items(&mut self, items: &'q [SetItem]) {
        for it in items {
            match it {
                SetItem::Property { target, value, .. } => {
                    self.expr(target);
                    self.expr(value);
                }
                SetItem::Replace { value, .. } | SetItem::Merge { value, .. } => self.expr(value),
                SetItem::Labels { .. } => {}
            }
        }
    }

    /// A pattern part a MATCH (or a MERGE) matches.
    fn part(&mut self, part: &'q crate::ast::PatternPart) {
        let el = &part.element;
        if let Some(p) = &el.predicate {
            self.expr(p);
        }
        // Every node of a part with a relationship is an end of one of its relationships: a
        // new node can only be matched there through a new relationship (checked apart),
        // unless a length may be zero.
        self.lone = el.chain.is_empty()
            || el
                .chain
                .iter()
                .any(|(r, _)| r.length.is_some_and(|(min, _)| min == Some(0)) || r.group.is_some());
        self.node(&el.start);
        for (r, n) in &el.chain {
            self.rel(r);
            self.node(n);
            if let Some(g) = &r.group {
                self.node(&g.left);
                self.node(&g.right);
                if let Some(p) = &g.predicate {
                    self.expr(p);
                }
                for (n, r) in &g.more {
                    self.node(n);
                    self.rel(r);
                }
            }
        }
    }

    fn projection(&mut self, p: &'q Projection, where_: Option<&'q Expr>) {
        for i in &p.items {
            self.expr(&i.expr);
        }
        for o in &p.order_by {
            self.expr(&o.expr);
        }
        for e in [p.skip.as_ref(), p.limit.as_ref(), where_]
            .into_iter()
            .flatten()
        {
            self.expr(e);
        }
    }

    fn expr(&mut self, e: &'q Expr) {
        self.graph |= reads_graph(e);
        let (keys, labels) = (&mut self.keys, &mut self.labels);
        crate::semantic::walk(e, &mut |x| match x {
            Expr::Property(_, k) => keys.named.push(k),
            Expr::Index(_, i) => match &**i {
                Expr::Literal(graphward_core::Value::String(k)) => keys.named.push(k),
                // A list's element (an entity's property needs a string key).
                Expr::Literal(graphward_core::Value::Int(_)) => {}
                _ => keys.any = true,
            },
            Expr::MapProjection(_, items) => {
                for it in items {
                    match it {
                        MapProjectionItem::Property(k) => keys.named.push(k),
                        MapProjectionItem::AllProperties => keys.any = true,
                        MapProjectionItem::Literal(..) | MapProjectionItem::Variable(_) => {}
                    }
                }
            }
            Expr::FunctionCall { name, .. } => {
                let any = |f: &str| name.eq_ignore_ascii_case(f);
                if any("properties") || any("keys") || name.contains('.') {
                    keys.any = true;
                }
                if any("labels") || name.contains('.') {
                    labels.any = true;
                }
            }
            Expr::HasLabels(_, ls) => labels.named.extend(ls.iter().map(String::as_str)),
            Expr::LabelCheck(..) => labels.any = true,
            _ => {}
        });
    }

    /// A pattern's property map: its keys are read, and its values.
    fn map(&mut self, m: &'q Expr) {
        match m {
            Expr::Map(items) => self
                .keys
                .named
                .extend(items.iter().map(|(k, _)| k.as_str())),
            _ => self.keys.any = true,
        }
        self.expr(m);
    }

    fn node(&mut self, n: &'q NodePattern) {
        if n.label_expr.is_some() {
            self.any_node |= self.lone;
            self.labels.any = true;
        } else {
            if self.lone {
                self.node_labels.push(&n.labels);
            }
            self.labels
                .named
                .extend(n.labels.iter().map(String::as_str));
        }
        if let Some(p) = &n.properties {
            self.map(p);
        }
        if let Some(p) = &n.predicate {
            self.expr(p);
        }
    }

    fn rel(&mut self, r: &'q RelationshipPattern) {
        if r.type_expr.is_some() || r.types.is_empty() {
            self.any_rel = true;
        } else {
            self.rel_types.push(&r.types);
        }
        if let Some(p) = &r.properties {
            self.map(p);
        }
        if let Some(p) = &r.predicate {
            self.expr(p);
        }
    }

    /// Whether `w` can change what these reads see.
    fn conflict(&self, w: &Writes<'_>) -> bool {
        let node = w.new_labels.iter().any(|labels| {
            self.any_node
                || self
                    .node_labels
                    .iter()
                    .any(|wanted| wanted.iter().all(|l| labels.contains(l)))
        });
        let rel = w.new_types.iter().any(|t| {
            self.any_rel
                || self
                    .rel_types
                    .iter()
                    .any(|types| types.iter().any(|x| x == t))
        });
        self.graph
            || w.graph
            || node
            || rel
            || w.keys.meets(&self.keys)
            || w.labels.meets(&self.labels)
    }
}

/// What an update clause (or all of them) writes.
#[derive(Default)]
struct Writes<'q> {
    /// The labels of each new node.
    new_labels: Vec<&'q [String]>,
    /// The type of each new relationship.
    new_types: Vec<&'q str>,
    /// Property keys set and labels added on nodes that may already be there.
    keys: Names<'q>,
    labels: Names<'q>,
    /// An expression that reads the graph through a pattern.
    graph: bool,
}

impl<'q> Writes<'q> {
    /// A CREATE or MERGE pattern: its nodes whose variables are not bound are new.
    fn pattern(&mut self, part: &'q crate::ast::PatternPart, bound: &mut Vec<&'q str>) {
        let el = &part.element;
        for n in std::iter::once(&el.start).chain(el.chain.iter().map(|(_, n)| n)) {
            if let Some(p) = &n.properties {
                self.graph |= reads_graph(p);
            }
            if bind(&n.variable, bound) {
                self.new_labels.push(&n.labels);
            }
        }
        for (r, _) in &el.chain {
            if let Some(p) = &r.properties {
                self.graph |= reads_graph(p);
            }
            self.new_types.extend(r.types.first().map(String::as_str));
        }
    }

    /// What update `u` writes; `bound` are the variables bound before it (and after it).
    fn update(&mut self, u: &Update<'q>, bound: &mut Vec<&'q str>) {
        match u {
            Update::Create(c) => {
                for part in &c.pattern {
                    self.pattern(part, bound);
                }
            }
            Update::Merge(m) => {
                self.pattern(&m.pattern, bound);
                self.items(&m.on_create);
                self.items(&m.on_match);
            }
            Update::Set(items) => self.items(items),
            Update::Remove(items) => self.removed(items),
            // Each row deletes its own node, which no other row matches (`deletes_own`).
            Update::Delete(_) => {}
            Update::Foreach(f) => {
                let mut inner = bound.clone();
                inner.push(&f.variable);
                for u in f.clauses.iter().filter_map(Update::of) {
                    self.update(&u, &mut inner);
                }
            }
            // Only the variables it passes on stay bound (a later pattern's node of another
            // name is a new node).
            Update::With(w, _) => *bound = with_scope_of(&w.projection, bound, |n| n),
        }
    }

    fn removed(&mut self, items: &'q [RemoveItem]) {
        for it in items {
            match it {
                RemoveItem::Property { target, key } => {
                    self.keys.named.push(key);
                    self.graph |= reads_graph(target);
                }
                RemoveItem::Labels { labels, .. } => {
                    self.labels.named.extend(labels.iter().map(String::as_str));
                }
            }
        }
    }

    fn items(&mut self, items: &'q [SetItem]) {
        for it in items {
            match it {
                SetItem::Property { target, key, value } => {
                    self.keys.named.push(key);
                    self.graph |= reads_graph(target) || reads_graph(value);
                }
                SetItem::Replace { value, .. } | SetItem::Merge { value, .. } => {
                    self.keys.any = true;
                    self.graph |= reads_graph(value);
                }
                SetItem::Labels { labels, .. } => {
                    self.labels.named.extend(labels.iter().map(String::as_str));
                }
            }
        }
    }
}

/// What a pipelined query gives: its columns, its rows (entities resolved), what it wrote.
pub type Ran = (Vec<String>, Vec<Vec<Value>>, Stats);

/// `<reading clauses> CALL { ... } IN TRANSACTIONS [OF n ROWS] [ON ERROR ...]` with nothing
/// after it (the bulk load Neo4j recommends: `LOAD CSV ... AS row CALL { WITH row CREATE ...
/// } IN TRANSACTIONS OF 1000 ROWS`): the reading clauses run on the streaming executor and
/// each batch is pulled from it as the one before has committed, so the statement holds one
/// batch of rows, not the whole input (the runner builds the input's table first). They read
/// the snapshot the statement takes before the first batch, as the runner's table was read:
/// no batch's writes can change what they read.
pub struct Batched<'q> {
    reading: SingleQuery,
    call: &'q Clause,
    options: &'q InTransactions,
}

/// The reading clauses and the `CALL { } IN TRANSACTIONS` of `q`, when `q` is only those.
pub fn batched(q: &Query) -> Option<Batched<'_>> {
    if !q.unions.is_empty() {
        return None;
    }
    let (Clause::InTransactions { call, options }, reading) = q.first.clauses.split_last()? else {
        return None;
    };
    if reading.is_empty() {
        return None;
    }
    let mut reads = Reads::default();
    for c in reading {
        reads.clause(c)?;
    }
    Some(Batched {
        reading: SingleQuery {
            use_graph: q.first.use_graph.clone(),
            clauses: reading.to_vec(),
        },
        call,
        options,
    })
}

impl Batched<'_> {
    /// Runs the query: `None` when the streaming executor cannot run its reading clauses
    /// (the caller runs the whole query on the runner then). It returns no rows.
    pub fn run(
        &self,
        store: &mut StoreTx,
        env: &Env,
        source: &str,
        txns: &dyn InnerTransactions,
    ) -> Option<Result<Ran>> {
        let mut reading = Reading::plan(&self.reading, source)?;
        let mut runner = Runner::new(store, env);
        runner.txns = Some(txns);
        let mut scope = reading_scope(&self.reading.clauses);
        // A batch is charged as it is pulled, then held as the current table.
        let mut next = |tx: &StoreTx, size: usize| -> Result<Vec<Row>> {
            let mut batch = Vec::new();
            while batch.len() < size {
                let Some(row) = reading.next_row(tx.read(), env)? else {
                    break;
                };
                env.charge_row(&row)?;
                batch.push(row);
            }
            env.check_table(&batch)?;
            Ok(batch)
        };
        let ran = runner.in_batches(self.call, self.options, &mut next, false, &mut scope, false);
        Some(ran.map(|_| (Vec::new(), Vec::new(), std::mem::take(&mut runner.stats))))
    }
}

impl Pipelined<'_> {
    /// Runs the query: `None` when the streaming executor cannot run its reading clauses
    /// (the caller runs the whole query on the runner then), else its result.
    pub fn run(&self, store: &mut StoreTx, env: &Env, source: &str) -> Option<Result<Ran>> {
        let mut reading = Reading::plan(&self.reading, source)?;
        if let Some(used) = &self.used {
            reading.keep_only(used);
        }
        Some(self.update_each(&mut reading, store, env))
    }

    fn update_each(&self, reading: &mut Reading, store: &mut StoreTx, env: &Env) -> Result<Ran> {
        let mut runner = Runner::new(store, env);
        let mut ret = match self.ret {
            Some(p) => Some(Returned::new(
                p,
                &self.scope,
                &Ev::new(runner.tx.read(), env),
            )),
            None => None,
        };
        // The rows of one input row before and after an update (a MERGE may make several).
        let mut rows = Vec::new();
        let mut next = Vec::new();
        loop {
            env.check()?;
            let Some(row) = reading.next_row(runner.tx.read(), env)? else {
                break;
            };
            rows.push(row);
            for u in &self.updates {
                for mut row in rows.drain(..) {
                    match u {
                        Update::Create(c) => {
                            for part in &c.pattern {
                                row = runner.create_part(part, row)?;
                            }
                            next.push(row);
                        }
                        Update::Merge(m) => runner.merge_row(m, row, &mut next)?,
                        Update::Set(items) => next.push(runner.set_items(items, row)?),
                        Update::Delete(d) => runner.delete_row(d, &row)?,
                        Update::Remove(items) => {
                            runner.remove_row(items, &row)?;
                            next.push(row);
                        }
                        Update::Foreach(f) => {
                            runner.foreach(f, &row)?;
                            next.push(row);
                        }
                        Update::With(w, scope) => {
                            let ev = Ev::new(runner.tx.read(), env);
                            let p =
                                ev.project(&w.projection, vec![row], scope, w.where_.as_ref())?;
                            next.extend(p.rows);
                        }
                    }
                }
                std::mem::swap(&mut rows, &mut next);
            }
            if let Some(ret) = &mut ret {
                let ev = Ev::new(runner.tx.read(), env);
                for row in rows.drain(..) {
                    ret.feed(&ev, row)?;
                }
            }
            rows.clear();
        }
        let stats = std::mem::take(&mut runner.stats);
        let Some(ret) = ret else {
            return Ok((Vec::new(), Vec::new(), stats));
        };
        let ev = Ev::new(runner.tx.read(), env);
        let (columns, out) = ret.finish(&ev)?;
        let resolved = super::resolve_rows(&ev, &columns, out)?;
        Ok((columns, resolved, stats))
    }
}

/// The RETURN of a pipelined query, fed one row at a time: an aggregation keeps its groups,
/// a projection its projected rows (and the row ORDER BY reads, only when there is one);
/// DISTINCT, ORDER BY, SKIP and LIMIT apply at the end, as the runner applies them.
struct Returned<'q> {
    p: &'q Projection,
    items: Vec<(String, Expr)>,
    columns: Vec<String>,
    agg: Option<Aggregator>,
    out: Vec<(Row, Row)>,
}

impl<'q> Returned<'q> {
    fn new(p: &'q Projection, scope: &[String], ev: &Ev) -> Returned<'q> {
        let items = projection_items(p, scope);
        let columns = items.iter().map(|(n, _)| n.clone()).collect();
        let agg = items
            .iter()
            .any(|(_, e)| contains_aggregate(e))
            .then(|| Aggregator::new(ev, &items));
        Returned {
            p,
            items,
            columns,
            agg,
            out: Vec::new(),
        }
    }

    fn feed(&mut self, ev: &Ev, row: Row) -> Result<()> {
        if let Some(agg) = &mut self.agg {
            return agg.feed(ev, &row);
        }
        let mut pr = Row::new();
        for (n, e) in &self.items {
            pr.insert(n.clone(), ev.eval(e, &row)?);
        }
        ev.env.charge_row(&pr)?;
        let sort_row = if self.p.order_by.is_empty() {
            Row::new()
        } else {
            let mut sort_row = row;
            for (k, v) in &pr {
                sort_row.insert(k.clone(), v.clone());
            }
            ev.env.charge_row(&sort_row)?;
            sort_row
        };
        self.out.push((pr, sort_row));
        Ok(())
    }

    fn finish(self, ev: &Ev) -> Result<(Vec<String>, Vec<Row>)> {
        let out = match self.agg {
            Some(agg) => agg.finish(ev)?,
            None => self.out,
        };
        let rows = ev.finish_projection(self.p, &self.items, &self.columns, out, None)?;
        Ok((self.columns, rows))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use crate::ast::Statement;

    fn piped(q: &str) -> bool {
        match crate::parser::parse(q, 200).unwrap() {
            Statement::Query(q) => super::streamable(&q).is_some(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn several_updates_pipeline_when_none_reads_what_another_writes() {
        for q in [
            "UNWIND $rows AS r MERGE (p:P {id: r.id}) SET p.name = r.name",
            "UNWIND $rows AS r MERGE (p:P {id: r.id}) MERGE (c:C {id: r.c}) MERGE (p)-[:IN]->(c)",
            "UNWIND $rows AS r CREATE (a:A) CREATE (b:B) CREATE (a)-[:T]->(b) SET a.x = 1",
            "MATCH (n:N) SET n.a = 1 REMOVE n.b SET n:L RETURN count(*)",
            "MATCH (n:N) WHERE n.x > 1 DETACH DELETE n",
            "MATCH (a:N)-[r:T]->(b) WHERE r.w < 3 DELETE r",
            "MATCH (a)<-[r]-(b:N) DELETE r",
            "UNWIND $rows AS r MERGE (p:P {id: r.id}) \
             FOREACH (t IN r.tags | MERGE (g:Tag {name: t}) MERGE (p)-[:TAGGED]->(g))",
            "MATCH p = (a:N)-[:T*]->(b) FOREACH (n IN nodes(p) | SET n.marked = true)",
            "UNWIND $rows AS r MERGE (p:P {id: r.id}) WITH p, r WHERE r.city IS NOT NULL \
             MERGE (c:City {name: r.city}) MERGE (p)-[:IN]->(c)",
            "UNWIND $rows AS r CREATE (a:A) WITH a, r.y AS x SET a.x = x RETURN count(*)",
            "UNWIND range(1, 20000) AS i MATCH (p:P {id: i}) \
             FOREACH (t IN ['t' + (i % 7), 't' + (i % 11)] | MERGE (g:Tag {name: t}) \
             MERGE (p)-[:TAGGED]->(g))",
            "LOAD CSV FROM 'file:///x.csv' AS r MERGE (p:P {id: r[0]}) ON CREATE SET p.n = r[1] \
             MERGE (q:Q {id: r[2]}) MERGE (p)-[:R {w: r[3]}]->(q)",
        ] {
            assert!(piped(q), "{q}");
        }
    }

    #[test]
    fn several_updates_go_to_the_runner_when_one_reads_what_another_writes() {
        for q in [
            // The same label merged twice: the second may meet the first's later nodes.
            "UNWIND $rows AS r MERGE (a:P {id: r.a}) MERGE (b:P {id: r.b})",
            // A key set that another clause matches on, or reads.
            "UNWIND $rows AS r MERGE (a:P {id: r.a}) SET a.id = r.b",
            "UNWIND $rows AS r MATCH (n {id: r.id}) SET n.c = r.c SET n.d = n.c",
            // A type created that another clause matches.
            "UNWIND $rows AS r MATCH (a:A {id: r.a}), (b:B {id: r.b}) CREATE (a)-[:K]->(b) \
             MERGE (b)-[:K]->(a)",
            // A label removed or added that another clause's pattern reads.
            "MATCH (n:N) REMOVE n:M MERGE (m:M {id: n.id})",
            "MATCH (n:N) SET n:M MERGE (m:M {id: n.id})",
            // New nodes of a label another clause merges on.
            "UNWIND $rows AS r CREATE (:P {id: r.a}) MERGE (:P {id: r.b})",
            // Any key set (`=`, `+=`) against a key read.
            "UNWIND $rows AS r MERGE (a:P {id: r.a}) SET a += r.props",
            // An update after a WITH that needs every row first (ORDER BY, aggregation).
            "UNWIND $rows AS r CREATE (a:A) WITH a ORDER BY a.x SET a.x = 1",
            "UNWIND $rows AS r CREATE (a:A) WITH count(a) AS c CREATE (:Count {c: c})",
            // A WITH reading what an update writes; a variable it drops, made again as a new
            // node of a label the match reads.
            "UNWIND $rows AS r CREATE (a:A {x: r.x}) WITH a WHERE a.x > 0 SET a.x = 0",
            "MATCH (n:N) SET n.a = 1 WITH n AS m CREATE (n:N)",
            // A DELETE of what another row may read: an undirected relationship (matched
            // from both ends), a relationship's end, a node of a longer pattern, a path.
            "MATCH (a)-[r:T]-(b) DELETE r",
            "MATCH (a)-[r:T]->(b) DETACH DELETE a",
            "MATCH (a)-[r:T]->(b), (c) DELETE r",
            "MATCH p = (a)-[r:T]->(b) DELETE r",
            "MATCH (a)-[r:T*1..2]->(b) DETACH DELETE a",
            // A FOREACH whose writes another clause reads, or with a DELETE inside.
            "MATCH (n:N) WHERE n.id > 0 FOREACH (x IN [1] | SET n.id = x)",
            "UNWIND $rows AS r MERGE (p:P {id: r.id}) FOREACH (x IN r.more | CREATE (:P {id: x}))",
            "MATCH (n:N) FOREACH (x IN [1] | DETACH DELETE n)",
        ] {
            assert!(!piped(q), "{q}");
        }
    }
}
