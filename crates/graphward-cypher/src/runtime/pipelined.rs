//! `CREATE` fed row by row by the streaming executor.
//!
//! The clause runner applies a query clause by clause: every row of the reading clauses is
//! built (as a map) and held before the first `CREATE` runs, so a load of a million rows
//! holds a million rows. A query of reading clauses (MATCH, UNWIND, WITH) followed by one
//! `CREATE` and nothing else — the shape of a bulk load,
//! `UNWIND $rows AS r MATCH (a:N {id: r.s}), (b:N {id: r.d}) CREATE (a)-[:R]->(b)` — runs
//! here instead: the reading clauses are planned for the streaming executor
//! ([`Reading`]), and each row they produce is created as soon as it comes, so the query holds
//! one row at a time.
//!
//! That is the runner's result only when nothing the `CREATE` writes can be read by the
//! reading clauses still running (the Halloween problem: `MATCH (n) CREATE (:M)` would meet
//! its own new nodes). [`streamable`] decides it on the parsed query, conservatively:
//! - every new node has labels that no node pattern of the reading clauses asks for a subset
//!   of (an unlabelled pattern matches any node; a label expression counts as matching any),
//!   counting only the parts that can match a node without a relationship (a part with one
//!   whose length cannot be zero matches a new node only through a new relationship);
//! - every new relationship's type is not one a relationship pattern of the reading clauses
//!   can match (no type, or a type expression, matches any);
//! - no expression of the query reads the graph through a pattern (pattern predicates and
//!   comprehensions, `EXISTS`, `COUNT`, `COLLECT` subqueries): those would see the rows
//!   created before theirs.
//!
//! Existing entities are not changed by a `CREATE` (a node pattern that names a bound
//! variable with labels or properties is refused by the runner, which the query is then left
//! to), so what the reading clauses read of them stays true.

use graphward_core::engine::Stats;
use graphward_core::Result;

use super::eval::Env;
use super::plan::Reading;
use super::runner::{Runner, StoreTx};
use crate::ast::{Clause, Create, Expr, NodePattern, Query, RelationshipPattern, SingleQuery};

/// A query `streamable` accepted: its reading clauses and its `CREATE`.
pub struct Pipelined<'q> {
    reading: SingleQuery,
    create: &'q Create,
}

/// The reading clauses and the `CREATE` of `q`, when `q` is reading clauses followed by one
/// `CREATE` and the `CREATE` cannot change what they read (see the module's doc).
pub fn streamable(q: &Query) -> Option<Pipelined<'_>> {
    if !q.unions.is_empty() {
        return None;
    }
    let (last, reading) = q.first.clauses.split_last()?;
    let Clause::Create(create) = last else {
        return None;
    };
    if reading.is_empty() {
        return None;
    }
    let mut reads = Reads::default();
    let mut graph_expr = false;
    let mut exprs = |e: &Expr| {
        crate::semantic::walk(e, &mut |x| {
            graph_expr |= matches!(
                x,
                Expr::PatternComprehension { .. }
                    | Expr::PatternPredicate(_)
                    | Expr::ExistsSubquery(_)
                    | Expr::ValueSubquery(..)
            );
        })
    };
    for c in reading {
        match c {
            Clause::Match(m) => {
                if let Some(w) = &m.where_ {
                    exprs(w);
                }
                for part in &m.pattern {
                    let el = &part.element;
                    if let Some(p) = &el.predicate {
                        exprs(p);
                    }
                    // Every node of a part with a relationship is an end of one of its
                    // relationships: a new node can only be matched there through a new
                    // relationship (checked below), unless a length may be zero.
                    reads.lone = el.chain.is_empty()
                        || el.chain.iter().any(|(r, _)| {
                            r.length.is_some_and(|(min, _)| min == Some(0)) || r.group.is_some()
                        });
                    reads.node(&el.start, &mut exprs);
                    for (r, n) in &el.chain {
                        reads.rel(r, &mut exprs);
                        reads.node(n, &mut exprs);
                        if let Some(g) = &r.group {
                            reads.node(&g.left, &mut exprs);
                            reads.node(&g.right, &mut exprs);
                            if let Some(p) = &g.predicate {
                                exprs(p);
                            }
                            for (n, r) in &g.more {
                                reads.node(n, &mut exprs);
                                reads.rel(r, &mut exprs);
                            }
                        }
                    }
                }
            }
            Clause::Unwind(u) => exprs(&u.expr),
            Clause::With(w) => {
                let p = &w.projection;
                p.items.iter().for_each(|i| exprs(&i.expr));
                p.order_by.iter().for_each(|o| exprs(&o.expr));
                [&p.skip, &p.limit, &w.where_]
                    .into_iter()
                    .flatten()
                    .for_each(&mut exprs);
            }
            _ => return None,
        }
    }
    // What the CREATE makes: a node for each pattern node whose variable is not bound yet.
    let mut bound: Vec<&str> = Vec::new();
    // Every variable the reading clauses leave in scope is bound (the planner knows them; a
    // name the CREATE mentions that they do not bind is a new node).
    let scope = reading_scope(reading);
    bound.extend(scope.iter().map(String::as_str));
    let mut new_labels: Vec<&[String]> = Vec::new();
    let mut new_types: Vec<&str> = Vec::new();
    for part in &create.pattern {
        let el = &part.element;
        for n in std::iter::once(&el.start).chain(el.chain.iter().map(|(_, n)| n)) {
            if let Some(p) = &n.properties {
                exprs(p);
            }
            if bind(&n.variable, &mut bound) {
                new_labels.push(&n.labels);
            }
        }
        for (r, _) in &el.chain {
            if let Some(p) = &r.properties {
                exprs(p);
            }
            new_types.extend(r.types.first().map(String::as_str));
        }
    }
    if graph_expr || reads.any_node && !new_labels.is_empty() {
        return None;
    }
    let node_read = new_labels.iter().any(|labels| {
        reads
            .node_labels
            .iter()
            .any(|wanted| wanted.iter().all(|l| labels.contains(l)))
    });
    let rel_read = reads.any_rel && !new_types.is_empty()
        || new_types.iter().any(|t| {
            reads
                .rel_types
                .iter()
                .any(|types| types.iter().any(|x| x == t))
        });
    if node_read || rel_read {
        return None;
    }
    Some(Pipelined {
        reading: SingleQuery {
            use_graph: q.first.use_graph.clone(),
            clauses: reading.to_vec(),
        },
        create,
    })
}

/// Whether a CREATE pattern's node variable `v` makes a new node (it is not bound yet; it is
/// from now on).
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
            Clause::With(w) => {
                let mut next: Vec<String> = if w.projection.star {
                    scope.clone()
                } else {
                    Vec::new()
                };
                for i in &w.projection.items {
                    let name = i.name().to_string();
                    if !next.contains(&name) {
                        next.push(name);
                    }
                }
                scope = next;
            }
            _ => {}
        }
    }
    scope
}

/// What the node and relationship patterns of the reading clauses can match.
#[derive(Default)]
struct Reads<'q> {
    /// The label sets node patterns ask for (a node matches when it has all of one), of the
    /// parts where a node can match without a relationship.
    node_labels: Vec<&'q [String]>,
    /// Whether the part being read can match a node without a relationship (it has none, or
    /// one whose length may be zero).
    lone: bool,
    /// A node pattern with a label expression (taken to match any node).
    any_node: bool,
    /// The types relationship patterns accept.
    rel_types: Vec<&'q [String]>,
    /// A relationship pattern of any type, or with a type expression.
    any_rel: bool,
}

impl<'q> Reads<'q> {
    fn node(&mut self, n: &'q NodePattern, exprs: &mut dyn FnMut(&Expr)) {
        if self.lone && n.label_expr.is_some() {
            self.any_node = true;
        } else if self.lone {
            self.node_labels.push(&n.labels);
        }
        if let Some(p) = &n.properties {
            exprs(p);
        }
        if let Some(p) = &n.predicate {
            exprs(p);
        }
    }

    fn rel(&mut self, r: &'q RelationshipPattern, exprs: &mut dyn FnMut(&Expr)) {
        if r.type_expr.is_some() || r.types.is_empty() {
            self.any_rel = true;
        } else {
            self.rel_types.push(&r.types);
        }
        if let Some(p) = &r.properties {
            exprs(p);
        }
        if let Some(p) = &r.predicate {
            exprs(p);
        }
    }
}

impl Pipelined<'_> {
    /// Runs the query: `None` when the streaming executor cannot run its reading clauses
    /// (the caller runs the whole query on the runner then), else what it created.
    pub fn run(&self, store: &mut StoreTx, env: &Env, source: &str) -> Option<Result<Stats>> {
        let mut reading = Reading::plan(&self.reading, source)?;
        Some(self.create_each(&mut reading, store, env))
    }

    fn create_each(&self, reading: &mut Reading, store: &mut StoreTx, env: &Env) -> Result<Stats> {
        let mut runner = Runner::new(store, env);
        loop {
            env.check()?;
            let Some(mut row) = reading.next_row(runner.tx.read(), env)? else {
                break;
            };
            for part in &self.create.pattern {
                row = runner.create_part(part, row)?;
            }
        }
        Ok(runner.stats)
    }
}
