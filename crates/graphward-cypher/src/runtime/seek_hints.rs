//! `MATCH ()-[r:T]->() WHERE r.p = expr` as `MATCH ()-[r:T {p: expr}]->() WHERE r.p = expr`:
//! an equality on a relationship's property in its MATCH's `WHERE` is copied into the
//! relationship's property map, where the matcher looks for a relationship index to start
//! from (`Ev::anchor_for_part`). The `WHERE` is kept, so the rows are the same: the map only
//! adds a check the `WHERE` makes anyway (a null or a missing property fails both).
//!
//! Copied only when the value cannot depend on the match itself: `expr` is made of literals,
//! parameters, lists, maps, properties and variables, none of them bound by this `MATCH`; the
//! relationship is a single hop of one type (not a variable-length or quantified one).

use crate::ast::{Clause, Expr, Match, Query, RelationshipPattern, Statement};

use super::project::pattern_vars;

/// Copy the equalities of every `MATCH ... WHERE` of `stmt` (and of its `CALL { }` subqueries).
pub fn add(stmt: &mut Statement) {
    match stmt {
        Statement::Query(q) => query(q),
        Statement::Explain(s) | Statement::Profile(s) => add(s),
        _ => {}
    }
}

fn query(q: &mut Query) {
    for part in std::iter::once(&mut q.first).chain(q.unions.iter_mut().map(|(_, p)| p)) {
        for c in &mut part.clauses {
            match c {
                Clause::Match(m) => match_clause(m),
                Clause::CallSubquery(q)
                | Clause::OptionalCallSubquery(q)
                | Clause::ScopedCallSubquery { query: q, .. } => query(q),
                _ => {}
            }
        }
    }
}

/// The top-level conjuncts of `e`.
fn conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Binary(crate::ast::BinaryOp::And, a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        other => out.push(other),
    }
}

/// Made of literals, parameters, lists, maps, properties and variables not in `bound`.
fn independent(e: &Expr, bound: &[String]) -> bool {
    match e {
        Expr::Literal(_) | Expr::Parameter(_) => true,
        Expr::Variable(v) => !bound.contains(v),
        Expr::Property(b, _) => independent(b, bound),
        Expr::List(items) => items.iter().all(|x| independent(x, bound)),
        Expr::Map(items) => items.iter().all(|(_, x)| independent(x, bound)),
        _ => false,
    }
}

fn match_clause(m: &mut Match) {
    let Some(w) = &m.where_ else {
        return;
    };
    let bound = pattern_vars(&m.pattern);
    let mut terms = Vec::new();
    conjuncts(w, &mut terms);
    let mut found: Vec<(String, String, Expr)> = Vec::new();
    for t in terms {
        let Expr::Binary(crate::ast::BinaryOp::Eq, a, b) = t else {
            continue;
        };
        for (prop, value) in [(a, b), (b, a)] {
            if let Expr::Property(target, key) = &**prop {
                if let Expr::Variable(var) = &**target {
                    if independent(value, &bound) {
                        found.push((var.clone(), key.clone(), (**value).clone()));
                        break;
                    }
                }
            }
        }
    }
    if found.is_empty() {
        return;
    }
    for part in &mut m.pattern {
        for (rp, _) in &mut part.element.chain {
            copy_into(rp, &found);
        }
    }
}

fn copy_into(rp: &mut RelationshipPattern, found: &[(String, String, Expr)]) {
    let Some(var) = &rp.variable else {
        return;
    };
    if rp.length.is_some() || rp.group.is_some() || rp.types.len() != 1 {
        return;
    }
    for (v, key, value) in found {
        if v != var {
            continue;
        }
        match &mut rp.properties {
            None => rp.properties = Some(Expr::Map(vec![(key.clone(), value.clone())])),
            Some(Expr::Map(items)) => {
                if !items.iter().any(|(k, _)| k == key) {
                    items.push((key.clone(), value.clone()));
                }
            }
            // A parameter map: left as it is.
            Some(_) => {}
        }
    }
}
