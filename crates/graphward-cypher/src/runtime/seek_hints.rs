//! `MATCH (n:L) WHERE n.p = expr` as `MATCH (n:L {p: expr}) WHERE n.p = expr`, and
//! `MATCH ()-[r:T]->() WHERE r.p = expr` as `MATCH ()-[r:T {p: expr}]->() WHERE r.p = expr`:
//! an equality on a node's or a relationship's property in its MATCH's `WHERE` is copied
//! into the pattern's property map, where the matcher looks for an index to start from
//! (`matcher::access_path`). The `WHERE` is kept, so the rows are the same: the map only
//! adds a check the `WHERE` makes anyway (a null or a missing property fails both).
//! A node's `n.p IN list`, `n.p > x` (`>=`, `<`, `<=`, either way round) and
//! `n.p STARTS WITH s` are copied, as they are, into the node pattern's `seek_hints` (a
//! relationship's `r.p IN list` into the relationship pattern's): the
//! matcher may take its candidates from an index that answers them (a superset of the rows
//! the `WHERE` keeps, which still decides); nothing evaluates a hint as a filter.
//!
//! Copied only when the value cannot depend on the match itself: `expr` is made of literals,
//! parameters, lists, maps, properties, operators, calls of functions of their arguments alone
//! ([`pure_function`]: `toInteger($id)`, `toLower($name)`, `range(1, 100)`) and variables, none
//! of them bound by this `MATCH`; the node is one of the path's own nodes (not inside a quantified group) with a
//! label, in a part without a shortest-path selector; the relationship is a single hop of one
//! type (not a variable-length or quantified one). The executor applies the same copy to each
//! part of a MATCH it matches part by part, where the parts before are bound
//! ([`copy_seekable`] on the part, its share of the `WHERE` distributed by [`conjuncts`]
//! and [`simple_vars`]).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::ast::{Clause, Expr, Match, NodePattern, Query, RelationshipPattern, Statement};

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
                Clause::Match(m) => {
                    if let Some(w) = m.where_.as_mut() {
                        literal_lists(w);
                    }
                    move_dependent_entries(m);
                    copy_seekable(m);
                    // After the copies: a seek hint keeps the expression itself.
                    if let Some(w) = m.where_.as_mut() {
                        once_constants(w);
                    }
                }
                Clause::With(w) => {
                    if let Some(w) = w.where_.as_mut() {
                        literal_lists(w);
                        once_constants(w);
                    }
                }
                Clause::CallSubquery(q)
                | Clause::OptionalCallSubquery(q)
                | Clause::ScopedCallSubquery { query: q, .. } => query(q),
                _ => {}
            }
        }
    }
}

/// A list of literals in a WHERE's operators (`n.id IN [1, 2, 3]`) made one literal value:
/// an operator reads a literal in place, where a list expression was built anew for every
/// row (its value is the same).
fn literal_lists(e: &mut Expr) {
    match e {
        Expr::Binary(_, a, b) => {
            literal_lists(a);
            literal_lists(b);
        }
        Expr::Unary(_, a) => literal_lists(a),
        Expr::List(items) => {
            items.iter_mut().for_each(literal_lists);
            if items.iter().all(|x| matches!(x, Expr::Literal(_))) {
                let values = items
                    .drain(..)
                    .filter_map(|x| match x {
                        Expr::Literal(v) => Some(v),
                        _ => None,
                    })
                    .collect();
                *e = Expr::Literal(graphward_core::Value::List(values));
            }
        }
        _ => {}
    }
}

/// The id of the next [`Expr::Once`] made: unique in the process, so that an evaluator's
/// kept values never mix up two expressions (a copy of one shares its id and its value).
static NEXT_ONCE: AtomicU64 = AtomicU64::new(0);

/// The parts of a WHERE whose value is the same for every row ([`constant`]) wrapped in
/// [`Expr::Once`]: evaluated once per query instead of once per row (`n.d > date('2020-01-01')`,
/// `n.x IN range(1, 100)` without an index, `n.name = toLower($name)`). A literal or a
/// parameter alone is read as cheaply as a kept value and stays as it is.
pub(crate) fn once_constants(e: &mut Expr) {
    if constant(e) {
        if !matches!(e, Expr::Literal(_) | Expr::Parameter(_) | Expr::Once(..)) {
            let inner = std::mem::replace(e, Expr::Literal(graphward_core::Value::Null));
            *e = Expr::Once(Box::new(inner), NEXT_ONCE.fetch_add(1, Ordering::Relaxed));
        }
        return;
    }
    // The parts below (through what `map_children` rebuilds: operators, calls, CASE, the
    // list a comprehension iterates).
    *e = super::project::map_children(e, &mut |c| {
        let mut c = c.clone();
        once_constants(&mut c);
        c
    });
}

/// Whether `e`'s value is the same wherever in a statement it is evaluated: literals,
/// parameters, lists, maps, operators, indexing, `CASE`, and calls of [`pure_function`]s
/// and of the temporal constructors (their clock is the statement's), nothing else.
fn constant(e: &Expr) -> bool {
    match e {
        Expr::Literal(_) | Expr::Parameter(_) => true,
        Expr::Once(..) => true,
        Expr::Unary(_, a) | Expr::IsNull(a) | Expr::IsNotNull(a) => constant(a),
        Expr::Binary(_, a, b) | Expr::Index(a, b) => constant(a) && constant(b),
        Expr::Slice(a, f, t) => {
            constant(a) && f.as_deref().is_none_or(constant) && t.as_deref().is_none_or(constant)
        }
        Expr::List(items) => items.iter().all(constant),
        Expr::Map(items) => items.iter().all(|(_, x)| constant(x)),
        Expr::FunctionCall {
            name,
            distinct: false,
            args,
        } => (pure_function(name) || statement_clock_function(name)) && args.iter().all(constant),
        Expr::Case {
            operand,
            whens,
            else_,
        } => {
            operand.as_deref().is_none_or(constant)
                && whens.iter().all(|(w, t)| constant(w) && constant(t))
                && else_.as_deref().is_none_or(constant)
        }
        _ => false,
    }
}

/// The temporal constructors, whose `now` is the statement's clock: the same value wherever
/// in the statement they are called (`datetime.realtime()` and the like are not).
fn statement_clock_function(name: &str) -> bool {
    const CLOCK: &[&str] = &[
        "date",
        "datetime",
        "localdatetime",
        "localtime",
        "time",
        "duration",
        "date.statement",
        "datetime.statement",
        "localdatetime.statement",
        "localtime.statement",
        "time.statement",
        "date.truncate",
        "datetime.truncate",
        "localdatetime.truncate",
        "localtime.truncate",
        "time.truncate",
        "duration.between",
        "duration.inmonths",
        "duration.indays",
        "duration.inseconds",
        "datetime.fromepoch",
        "datetime.fromepochmillis",
    ];
    CLOCK.contains(&name.to_ascii_lowercase().as_str())
}

/// The top-level conjuncts of `e`.
pub fn conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Binary(crate::ast::BinaryOp::And, a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        other => out.push(other),
    }
}

/// Made of literals, parameters, lists, maps, properties, operators, calls of
/// [`pure_function`]s and variables not in `bound`: the same value wherever in the match it
/// is evaluated.
fn independent(e: &Expr, bound: &[String]) -> bool {
    let mut vars = Vec::new();
    plain_vars(e, Calls::Pure, &mut vars) && vars.iter().all(|v| !bound.contains(v))
}

/// A function of its arguments alone: no clock, no randomness, no storage but the entity it
/// is given (which a statement sees the same throughout). Its calls give the same value
/// wherever they are evaluated: a seek may evaluate them before the match, a sort below the
/// projection (`plan::keys_over_input`).
pub(crate) fn pure_function(name: &str) -> bool {
    const PURE: &[&str] = &[
        "abs",
        "acos",
        "asin",
        "atan",
        "atan2",
        "ceil",
        "char_length",
        "coalesce",
        "cos",
        "cot",
        "degrees",
        "elementid",
        "endnode",
        "exp",
        "floor",
        "haversin",
        "head",
        "id",
        "isempty",
        "isnan",
        "keys",
        "labels",
        "last",
        "left",
        "length",
        "log",
        "log10",
        "lower",
        "ltrim",
        "nullif",
        "properties",
        "radians",
        "range",
        "replace",
        "reverse",
        "right",
        "round",
        "rtrim",
        "sign",
        "sin",
        "size",
        "split",
        "sqrt",
        "startnode",
        "substring",
        "tail",
        "tan",
        "toboolean",
        "tobooleanlist",
        "tobooleanornull",
        "tofloat",
        "tofloatlist",
        "tofloatornull",
        "tointeger",
        "tointegerlist",
        "tointegerornull",
        "tolower",
        "tostring",
        "tostringlist",
        "tostringornull",
        "toupper",
        "trim",
        "type",
        "upper",
        "valuetype",
    ];
    PURE.contains(&name.to_ascii_lowercase().as_str())
}

/// The function calls [`plain_vars`] accepts.
#[derive(Clone, Copy, PartialEq)]
pub enum Calls {
    None,
    /// Calls of [`pure_function`]s only.
    Pure,
    Any,
}

/// The variables of `e` if it is made only of literals, parameters, variables, lists, maps,
/// properties, label checks, indexing and operators, and the function calls `calls` allows:
/// nothing that binds a variable of its own or reads a pattern. `false` otherwise.
pub fn plain_vars(e: &Expr, calls: Calls, out: &mut Vec<String>) -> bool {
    match e {
        Expr::Literal(_) | Expr::Parameter(_) | Expr::CountStar => true,
        Expr::Once(inner, _) => plain_vars(inner, calls, out),
        Expr::Variable(v) => {
            out.push(v.clone());
            true
        }
        Expr::Property(b, _)
        | Expr::Unary(_, b)
        | Expr::IsNull(b)
        | Expr::IsNotNull(b)
        | Expr::HasLabels(b, _) => plain_vars(b, calls, out),
        Expr::Index(a, b) | Expr::Binary(_, a, b) => {
            plain_vars(a, calls, out) && plain_vars(b, calls, out)
        }
        Expr::FunctionCall { name, args, .. }
            if calls == Calls::Any || (calls == Calls::Pure && pure_function(name)) =>
        {
            args.iter().all(|x| plain_vars(x, calls, out))
        }
        Expr::List(items) => items.iter().all(|x| plain_vars(x, calls, out)),
        Expr::Map(items) => items.iter().all(|(_, x)| plain_vars(x, calls, out)),
        _ => false,
    }
}

/// The variables of `e` if it is plain without function calls ([`plain_vars`]): what may be
/// evaluated at another point of the match (a call such as `rand()` may not).
pub fn simple_vars(e: &Expr, out: &mut Vec<String>) -> bool {
    plain_vars(e, Calls::None, out)
}

/// Copy the independent equalities of `m`'s `WHERE` into its patterns' property maps, and
/// its independent `IN`, range and `STARTS WITH` conjuncts on a node's property into that
/// node pattern's seek hints.
pub fn copy_seekable(m: &mut Match) {
    let Some(w) = &m.where_ else {
        return;
    };
    let bound = pattern_vars(&m.pattern);
    let mut terms = Vec::new();
    conjuncts(w, &mut terms);
    let mut found: Vec<(String, String, Expr)> = Vec::new();
    let mut hints: Vec<(String, Expr)> = Vec::new();
    for t in terms {
        if let Expr::Binary(crate::ast::BinaryOp::Eq, a, b) = t {
            for (prop, value) in [(a, b), (b, a)] {
                if let Some((var, key)) = var_property(prop) {
                    if independent(value, &bound) {
                        found.push((var.to_string(), key.to_string(), (**value).clone()));
                        break;
                    }
                }
            }
        } else if let Some((var, _, _, value)) = seekable(t) {
            if independent(value, &bound) {
                hints.push((var.to_string(), t.clone()));
            }
        }
    }
    if found.is_empty() && hints.is_empty() {
        return;
    }
    for part in &mut m.pattern {
        let selector = part.shortest.is_some();
        let element = &mut part.element;
        if !selector {
            copy_into_node(&mut element.start, &found, &hints);
        }
        for (rp, np) in &mut element.chain {
            copy_into(rp, &found, &hints);
            if !selector {
                copy_into_node(np, &found, &hints);
            }
        }
    }
}

/// `v.key` for a property of a variable.
fn var_property(e: &Expr) -> Option<(&str, &str)> {
    match e {
        Expr::Property(target, key) => match &**target {
            Expr::Variable(var) => Some((var, key)),
            _ => None,
        },
        _ => None,
    }
}

/// What an index can answer about a property: the values it is in, a range, a prefix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SeekKind {
    /// `v.key IN list`
    In,
    /// `v.key > x` (or `x < v.key`); `true` when the bound is included (`>=`)
    Lower(bool),
    /// `v.key < x` (or `x > v.key`); `true` when the bound is included (`<=`)
    Upper(bool),
    /// `v.key STARTS WITH s`
    Prefix,
}

/// A conjunct an index can answer: `(variable, key, kind, value)` for `variable.key` compared
/// with `value` (the other side).
pub fn seekable(t: &Expr) -> Option<(&str, &str, SeekKind, &Expr)> {
    use crate::ast::BinaryOp::*;
    let Expr::Binary(op, a, b) = t else {
        return None;
    };
    if let Some((v, k)) = var_property(a) {
        let kind = match op {
            In => SeekKind::In,
            Gt => SeekKind::Lower(false),
            Ge => SeekKind::Lower(true),
            Lt => SeekKind::Upper(false),
            Le => SeekKind::Upper(true),
            StartsWith => SeekKind::Prefix,
            _ => return None,
        };
        return Some((v, k, kind, b));
    }
    let (v, k) = var_property(b)?;
    let kind = match op {
        Lt => SeekKind::Lower(false),
        Le => SeekKind::Lower(true),
        Gt => SeekKind::Upper(false),
        Ge => SeekKind::Upper(true),
        _ => return None,
    };
    Some((v, k, kind, a))
}

/// Does `e` name one of `vars`? `None` when it cannot tell (comprehensions, subqueries and
/// patterns bind or read variables of their own).
fn mentions(e: &Expr, vars: &[String]) -> Option<bool> {
    let mut named = Vec::new();
    plain_vars(e, Calls::Any, &mut named).then(|| named.iter().any(|v| vars.contains(v)))
}

/// `(b {id: a.id + 1})<--(a)`: a property-map entry whose value names a variable of the same
/// MATCH's pattern moves to the MATCH's `WHERE` as `b.id = a.id + 1` (the same predicate),
/// so it is checked once the whole pattern is bound rather than when `b` is (where `a` may
/// not be yet). Only for named nodes and single-hop relationships outside quantified groups.
pub fn move_dependent_entries(m: &mut Match) {
    let vars = pattern_vars(&m.pattern);
    let mut moved: Vec<Expr> = Vec::new();
    let mut take = |var: &Option<String>, props: &mut Option<Expr>| {
        let (Some(var), Some(Expr::Map(items))) = (var, props.as_mut()) else {
            return;
        };
        items.retain(|(k, v)| {
            if mentions(v, &vars) == Some(false) {
                return true;
            }
            moved.push(Expr::Binary(
                crate::ast::BinaryOp::Eq,
                Box::new(Expr::Property(
                    Box::new(Expr::Variable(var.clone())),
                    k.clone(),
                )),
                Box::new(v.clone()),
            ));
            false
        });
    };
    for part in &mut m.pattern {
        let element = &mut part.element;
        take(&element.start.variable, &mut element.start.properties);
        for (rp, np) in &mut element.chain {
            if rp.length.is_none() && rp.group.is_none() {
                take(&rp.variable, &mut rp.properties);
            }
            take(&np.variable, &mut np.properties);
        }
    }
    for e in moved {
        m.where_ = Some(match m.where_.take() {
            Some(w) => Expr::Binary(crate::ast::BinaryOp::And, Box::new(w), Box::new(e)),
            None => e,
        });
    }
}

/// Into a node pattern with a label (an index needs one), not inside a quantified group.
fn copy_into_node(
    np: &mut NodePattern,
    found: &[(String, String, Expr)],
    hints: &[(String, Expr)],
) {
    let Some(var) = &np.variable else {
        return;
    };
    if np.labels.is_empty() {
        return;
    }
    for (v, key, value) in found {
        if v == var {
            add_entry(&mut np.properties, key, value);
        }
    }
    for (v, t) in hints {
        if v == var && !np.seek_hints.contains(t) {
            np.seek_hints.push(t.clone());
        }
    }
}

fn add_entry(properties: &mut Option<Expr>, key: &str, value: &Expr) {
    match properties {
        None => *properties = Some(Expr::Map(vec![(key.to_string(), value.clone())])),
        Some(Expr::Map(items)) => {
            if !items.iter().any(|(k, _)| k == key) {
                items.push((key.to_string(), value.clone()));
            }
        }
        // A parameter map: left as it is.
        Some(_) => {}
    }
}

fn copy_into(
    rp: &mut RelationshipPattern,
    found: &[(String, String, Expr)],
    hints: &[(String, Expr)],
) {
    let Some(var) = &rp.variable else {
        return;
    };
    if rp.length.is_some() || rp.group.is_some() || rp.types.len() != 1 {
        return;
    }
    for (v, key, value) in found {
        if v == var {
            add_entry(&mut rp.properties, key, value);
        }
    }
    // Only `IN` lists: relationship indexes answer equalities.
    for (v, t) in hints {
        if v == var
            && matches!(seekable(t), Some((_, _, SeekKind::In, _)))
            && !rp.seek_hints.contains(t)
        {
            rp.seek_hints.push(t.clone());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::ast::BinaryOp;

    /// The WHERE of the statement's first MATCH, after [`add`].
    fn where_of(q: &str) -> Expr {
        let mut stmt = crate::parser::parse(q, 200).unwrap();
        add(&mut stmt);
        let Statement::Query(q) = stmt else {
            panic!("not a query")
        };
        match q.first.clauses.first() {
            Some(Clause::Match(m)) => m.where_.clone().unwrap(),
            _ => panic!("no MATCH"),
        }
    }

    /// The right operand of a comparison.
    fn right(e: &Expr) -> &Expr {
        match e {
            Expr::Binary(_, _, r) => r,
            other => panic!("not a comparison: {other:?}"),
        }
    }

    #[test]
    fn row_independent_parts_of_a_where_are_kept_once() {
        // Calls of functions of their arguments, the statement's clock, parameters and
        // operators over them.
        for q in [
            "MATCH (n) WHERE n.x > toInteger('5') + $p RETURN n",
            "MATCH (n) WHERE n.d < date('2020-01-01') RETURN n",
            "MATCH (n) WHERE n.x + 0 IN range(1, 100) RETURN n",
            "MATCH (n) WHERE n.t > datetime() - duration('P1D') RETURN n",
            "MATCH (n) WHERE n.x = CASE WHEN $a THEN 1 ELSE toInteger($b) END RETURN n",
        ] {
            assert!(matches!(right(&where_of(q)), Expr::Once(..)), "{q}");
        }
        // A literal or a parameter alone stays as it is; so do rand(), the real-time clock,
        // anything reading the row, and a literal list (one literal already).
        for q in [
            "MATCH (n) WHERE n.x > 5 RETURN n",
            "MATCH (n) WHERE n.x > $p RETURN n",
            "MATCH (n) WHERE n.x > rand() RETURN n",
            "MATCH (n) WHERE n.t > datetime.realtime() RETURN n",
            "MATCH (n) WHERE n.x > n.y + 1 RETURN n",
            "MATCH (n) WHERE n.x IN [1, 2, 3] RETURN n",
        ] {
            let w = where_of(q);
            let mut once = false;
            crate::semantic::walk(&w, &mut |x| once |= matches!(x, Expr::Once(..)));
            assert!(!once, "{q}: {w:?}");
        }
        // Inside a conjunction and a function call of the row, only the constant part.
        let w = where_of("MATCH (n) WHERE n.a = 1 AND toLower(n.s) = toLower($s) RETURN n");
        let Expr::Binary(BinaryOp::And, _, r) = w else {
            panic!("not AND")
        };
        let Expr::Binary(_, l, r) = *r else {
            panic!("not a comparison")
        };
        assert!(matches!(*l, Expr::FunctionCall { .. }));
        assert!(matches!(*r, Expr::Once(..)));
    }
}
