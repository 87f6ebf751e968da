//! Semantic checks: variable binding and scoping, clause composition, aggregation placement,
//! pattern rules for CREATE/MERGE, known functions and obvious static type errors.
//!
//! Every error carries the openCypher TCK detail (`UndefinedVariable`, `VariableAlreadyBound`,
//! ...). Errors the TCK classifies as `SyntaxError` are raised here as
//! `ErrorCode::SemanticError` and reported as `Neo.ClientError.Statement.SyntaxError`, the
//! code Neo4j sends for every error of its semantic analysis; static type errors the TCK
//! classifies as `TypeError` use `ErrorCode::TypeError` in the compile phase.

use std::collections::{HashMap, HashSet};

use crate::ast::*;
use graphward_core::error::Phase;
use graphward_core::{Error, Result, Value};

/// Check variable binding, scoping, aggregation placement and static types.
///
/// Deeply nested statements are checked on a helper thread with a large stack.
pub fn check(stmt: &Statement) -> Result<()> {
    let r = if statement_is_deep(stmt) {
        crate::parser::on_big_stack(|| check_inner(stmt))?
    } else {
        check_inner(stmt)
    };
    r.map_err(|mut e| {
        if e.code == graphward_core::ErrorCode::SemanticError {
            e.code = graphward_core::ErrorCode::SyntaxError;
        }
        e
    })
}

/// Like [`check`], and errors without a position get one: the first occurrence in `src` of
/// the name the message quotes in backticks (e.g. "Variable `x` not defined").
pub fn check_with_source(stmt: &Statement, src: &str) -> Result<()> {
    check(stmt).map_err(|e| locate(e, src))
}

/// Give a semantic error a position by finding the backticked name from its message in the
/// query text (as a whole word). Errors that already have a position are returned unchanged.
pub fn locate(e: Error, src: &str) -> Error {
    if e.position.is_some() {
        return e;
    }
    let Some(name) = e.message.split('`').nth(1) else {
        return e;
    };
    if name.is_empty() {
        return e;
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(i) = src.get(from..).and_then(|s| s.find(name)) {
        let at = from + i;
        let end = at + name.len();
        let before_ok = src
            .get(..at)
            .and_then(|s| s.chars().next_back())
            .is_none_or(|c| !is_word(c));
        let after_ok = src
            .get(end..)
            .and_then(|s| s.chars().next())
            .is_none_or(|c| !is_word(c));
        if before_ok && after_ok {
            let p = crate::parser::position_of(src, at);
            let msg = format!("{} (line {}, column {})", e.message, p.line, p.column);
            let mut e = e.at(p);
            e.message = msg;
            return e;
        }
        from = end;
    }
    e
}

/// Whether recursive processing of `stmt` may need more stack than a default thread has
/// (any expression nested deeper than a few levels, a subquery that writes or nests another,
/// a FOREACH nested in another).
pub fn statement_is_deep(stmt: &Statement) -> bool {
    let limit = crate::parser::SHALLOW_NESTING;
    match stmt {
        Statement::Explain(s) | Statement::Profile(s) => statement_is_deep(s),
        Statement::Admin(_)
        | Statement::Command(_)
        | Statement::TxControl(_)
        | Statement::Show(_) => false,
        Statement::Query(q) => std::iter::once(&q.first)
            .chain(q.unions.iter().map(|(_, s)| s))
            .flat_map(|sq| sq.clauses.iter())
            .any(|c| clause_is_deep(c, limit)),
    }
}

fn clause_is_deep(c: &Clause, limit: usize) -> bool {
    let deep = |e: &Expr| expr_depth(e, limit) > limit;
    let pat_deep = |p: &[PatternPart]| {
        p.iter().any(|part| {
            let el = &part.element;
            std::iter::once(&el.start)
                .chain(el.chain.iter().map(|(_, n)| n))
                .any(|n| n.properties.as_ref().is_some_and(deep))
                || el
                    .chain
                    .iter()
                    .any(|(r, _)| r.properties.as_ref().is_some_and(deep))
        })
    };
    let proj_deep = |p: &Projection| {
        p.items.iter().any(|i| deep(&i.expr))
            || p.order_by.iter().any(|s| deep(&s.expr))
            || p.skip.as_ref().is_some_and(deep)
            || p.limit.as_ref().is_some_and(deep)
    };
    let set_deep = |it: &SetItem| match it {
        SetItem::Property { target, value, .. } => deep(target) || deep(value),
        SetItem::Replace { value, .. } | SetItem::Merge { value, .. } => deep(value),
        SetItem::Labels { .. } => false,
    };
    match c {
        Clause::Match(m) => pat_deep(&m.pattern) || m.where_.as_ref().is_some_and(deep),
        Clause::Unwind(u) => deep(&u.expr),
        Clause::LoadCsv(l) => deep(&l.url),
        Clause::With(w) => proj_deep(&w.projection) || w.where_.as_ref().is_some_and(deep),
        Clause::Return(r) => proj_deep(&r.projection),
        Clause::Create(cr) => pat_deep(&cr.pattern),
        Clause::Merge(m) => {
            pat_deep(std::slice::from_ref(&m.pattern))
                || m.on_create.iter().chain(m.on_match.iter()).any(set_deep)
        }
        Clause::Set(items) => items.iter().any(set_deep),
        Clause::Remove(items) => items.iter().any(|it| match it {
            RemoveItem::Property { target, .. } => deep(target),
            RemoveItem::Labels { .. } => false,
        }),
        Clause::Delete(d) => d.exprs.iter().any(deep),
        Clause::Call(call) => {
            call.args.as_ref().is_some_and(|a| a.iter().any(deep))
                || call.where_.as_ref().is_some_and(deep)
        }
        // One FOREACH of updates adds a frame or two to the recursion; nested ones, or
        // subqueries inside, take the big stack.
        Clause::Foreach(f) => {
            deep(&f.list)
                || f.clauses.iter().any(|c| {
                    matches!(c, Clause::Foreach(_))
                        || c.subquery().is_some()
                        || clause_is_deep(c, limit)
                })
        }
        // A subquery of reading clauses (none deep itself) runs for each row on the
        // streaming executor's `Apply`, a frame or two deeper; any other takes the big stack.
        Clause::CallSubquery(q)
        | Clause::OptionalCallSubquery(q)
        | Clause::ScopedCallSubquery { query: q, .. } => {
            !q.reads_only()
                || q.parts()
                    .flat_map(|p| p.clauses.iter())
                    .any(|c| clause_is_deep(c, limit))
        }
        Clause::InTransactions { .. } => true,
    }
}

/// Whether any clause of `q`, at any depth of `CALL { }` nesting, is a
/// `CALL { ... } IN TRANSACTIONS`.
pub fn has_in_transactions(q: &Query) -> bool {
    q.parts().any(|p| {
        p.clauses.iter().any(|c| {
            matches!(c, Clause::InTransactions { .. })
                || c.subquery().is_some_and(has_in_transactions)
        })
    })
}

/// Where Neo4j allows `CALL { ... } IN TRANSACTIONS`: at the top level of a query without
/// UNION, not inside another subquery, not after a write of the outer query (whose
/// transaction the inner ones would otherwise have to see), with `REPORT STATUS` only for
/// `ON ERROR CONTINUE` or `BREAK`, and `OF n ROWS` / `IN n CONCURRENT` that can be computed
/// before the first row (a literal must be a positive integer).
fn check_in_transactions(q: &Query) -> Result<()> {
    let union = !q.unions.is_empty();
    for part in q.parts() {
        let mut written = false;
        for c in &part.clauses {
            if let Clause::InTransactions { call, options } = c {
                if union {
                    return Err(sem(
                        "InvalidClauseComposition",
                        "CALL { ... } IN TRANSACTIONS in a UNION is not supported",
                    ));
                }
                if call.subquery().is_some_and(has_in_transactions) {
                    return Err(sem(
                        "InvalidClauseComposition",
                        "Nested CALL { ... } IN TRANSACTIONS is not supported",
                    ));
                }
                if written {
                    return Err(sem(
                        "InvalidClauseComposition",
                        "CALL { ... } IN TRANSACTIONS after a write clause is not supported",
                    ));
                }
                check_in_transactions_options(options)?;
                continue;
            }
            if c.subquery().is_some_and(has_in_transactions) {
                return Err(sem(
                    "InvalidClauseComposition",
                    "CALL { ... } IN TRANSACTIONS nested in a regular CALL is not supported",
                ));
            }
            if is_updating(c)
                || c.subquery()
                    .is_some_and(crate::runtime::runner::has_updates)
            {
                written = true;
            }
        }
    }
    Ok(())
}

fn check_in_transactions_options(o: &InTransactions) -> Result<()> {
    if let Some(e) = &o.batch_size {
        static_positive_integer(e, "OF ... ROWS")?;
    }
    if let Some(Some(e)) = &o.concurrency {
        static_positive_integer(e, "IN ... CONCURRENT")?;
    }
    if o.report_status.is_some() && (!o.on_error_given || o.on_error == OnError::Fail) {
        return Err(sem(
            "InvalidClauseComposition",
            "REPORT STATUS can only be used when specifying ON ERROR CONTINUE or ON ERROR BREAK",
        ));
    }
    Ok(())
}

/// `OF n ROWS` / `IN n CONCURRENT`: no variables (nor patterns or subqueries, which need
/// rows), and a literal must be a positive integer.
fn static_positive_integer(e: &Expr, what: &str) -> Result<()> {
    let mut refers = false;
    walk(e, &mut |x| {
        if matches!(
            x,
            Expr::Variable(_)
                | Expr::PatternPredicate(_)
                | Expr::PatternComprehension { .. }
                | Expr::ExistsSubquery(_)
                | Expr::ValueSubquery(..)
        ) {
            refers = true;
        }
    });
    if refers {
        return Err(sem(
            "InvalidArgumentType",
            format!(
                "It is not allowed to refer to variables in {what}, so that the value for {what} can be statically calculated."
            ),
        ));
    }
    if let Expr::Literal(v) = e {
        let shown = match v {
            Value::Int(n) if *n > 0 => return Ok(()),
            Value::Int(n) => n.to_string(),
            Value::Float(f) => f.to_string(),
            Value::String(s) => s.clone(),
            Value::Null => "NULL".to_string(),
            Value::Bool(b) => b.to_string(),
            _ => v.type_name().to_string(),
        };
        return Err(sem(
            "NegativeIntegerArgument",
            format!("Invalid input. '{shown}' is not a valid value. Must be a positive integer."),
        ));
    }
    Ok(())
}

/// Depth of an expression tree, capped just above `limit` (so the walk itself stays shallow).
fn expr_depth(e: &Expr, limit: usize) -> usize {
    fn go(e: &Expr, d: usize, limit: usize, max: &mut usize) {
        if d > *max {
            *max = d;
        }
        if *max > limit {
            return;
        }
        match e {
            Expr::ListComprehension { .. }
            | Expr::PatternComprehension { .. }
            | Expr::Quantifier { .. }
            | Expr::Reduce { .. }
            | Expr::PatternPredicate(_)
            | Expr::ExistsSubquery(_)
            | Expr::ValueSubquery(..)
            | Expr::Case { .. } => {
                // Bigger frames and nested scopes: count double, and look inside.
                *max = (*max).max(d + 2);
                for_each_child_all(e, &mut |c| go(c, d + 2, limit, max));
                if matches!(e, Expr::ExistsSubquery(_) | Expr::ValueSubquery(..)) {
                    *max = limit + 1;
                }
            }
            _ => for_each_child(e, &mut |c| go(c, d + 1, limit, max)),
        }
    }
    let mut max = 0;
    go(e, 1, limit, &mut max);
    max
}

/// Children including those of comprehension-like expressions.
fn for_each_child_all(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    match e {
        Expr::ListComprehension {
            list,
            predicate,
            projection,
            ..
        } => {
            f(list);
            if let Some(p) = predicate {
                f(p);
            }
            if let Some(p) = projection {
                f(p);
            }
        }
        Expr::PatternComprehension {
            predicate,
            projection,
            ..
        } => {
            if let Some(p) = predicate {
                f(p);
            }
            f(projection);
        }
        Expr::Quantifier {
            list, predicate, ..
        } => {
            f(list);
            if let Some(p) = predicate {
                f(p);
            }
        }
        Expr::Reduce {
            init, list, expr, ..
        } => {
            f(init);
            f(list);
            f(expr);
        }
        other => for_each_child(other, f),
    }
}

fn check_inner(stmt: &Statement) -> Result<()> {
    match stmt {
        Statement::Query(q) => {
            check_in_transactions(q)?;
            let mut c = Checker;
            c.query(q, &Scope::new(), Kind::Top).map(|_| ())
        }
        Statement::Explain(s) | Statement::Profile(s) => check_inner(s),
        // A SHOW tail is checked when it is compiled over its command's columns
        // (`check_over_columns`).
        Statement::Admin(_)
        | Statement::Command(_)
        | Statement::TxControl(_)
        | Statement::Show(_) => Ok(()),
    }
}

/// Check `q` as a query over rows binding `columns` (a `SHOW` command's tail, see
/// `runtime::show`); the result's column names.
pub fn check_over_columns(q: &Query, columns: &[String]) -> Result<Vec<String>> {
    let scope: Scope = columns.iter().map(|c| (c.clone(), Ty::Any)).collect();
    let mut c = Checker;
    c.query(q, &scope, Kind::Top).map_err(|mut e| {
        if e.code == graphward_core::ErrorCode::SemanticError {
            e.code = graphward_core::ErrorCode::SyntaxError;
        }
        e
    })
}

/// Whether `name` is a known aggregate function (case-insensitive).
pub fn is_aggregate_function(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    AGGREGATES.contains(&n.as_str())
}

const AGGREGATES: &[&str] = &[
    "count",
    "collect",
    "sum",
    "avg",
    "min",
    "max",
    "stdev",
    "stdevp",
    "percentilecont",
    "percentiledisc",
];

/// The functions as `SHOW FUNCTIONS` lists them: (name as Neo4j spells it, category). The
/// same set as `FUNCTIONS` (a test keeps them equal).
const FUNCTION_CATALOG: &[(&str, &[&str])] = &[
    (
        "Aggregating",
        &[
            "avg",
            "collect",
            "count",
            "max",
            "min",
            "percentileCont",
            "percentileDisc",
            "stDev",
            "stDevP",
            "sum",
        ],
    ),
    (
        "Scalar",
        &[
            "coalesce",
            "elementId",
            "endNode",
            "exists",
            "head",
            "id",
            "isEmpty",
            "last",
            "length",
            "nullIf",
            "properties",
            "randomUUID",
            "size",
            "startNode",
            "timestamp",
            "toBoolean",
            "toBooleanOrNull",
            "toFloat",
            "toFloatOrNull",
            "toInteger",
            "toIntegerOrNull",
            "type",
            "valueType",
        ],
    ),
    (
        "List",
        &[
            "keys",
            "labels",
            "nodes",
            "range",
            "relationships",
            "reverse",
            "tail",
            "toBooleanList",
            "toFloatList",
            "toIntegerList",
            "toStringList",
        ],
    ),
    (
        "Numeric",
        &[
            "abs", "acos", "asin", "atan", "atan2", "ceil", "cos", "cot", "degrees", "e", "exp",
            "floor", "haversin", "isNaN", "log", "log10", "pi", "radians", "rand", "round", "sign",
            "sin", "sqrt", "tan",
        ],
    ),
    (
        "String",
        &[
            "btrim",
            "char_length",
            "character_length",
            "left",
            "lower",
            "ltrim",
            "replace",
            "right",
            "rtrim",
            "split",
            "substring",
            "toLower",
            "toString",
            "toStringOrNull",
            "toUpper",
            "trim",
            "upper",
        ],
    ),
    (
        "Spatial",
        &["distance", "point", "point.distance", "point.withinBBox"],
    ),
    (
        "Temporal",
        &[
            "date",
            "date.realtime",
            "date.statement",
            "date.transaction",
            "date.truncate",
            "datetime",
            "datetime.fromEpoch",
            "datetime.fromEpochMillis",
            "datetime.realtime",
            "datetime.statement",
            "datetime.transaction",
            "datetime.truncate",
            "duration",
            "duration.between",
            "duration.inDays",
            "duration.inMonths",
            "duration.inSeconds",
            "localdatetime",
            "localdatetime.realtime",
            "localdatetime.statement",
            "localdatetime.transaction",
            "localdatetime.truncate",
            "localtime",
            "localtime.realtime",
            "localtime.statement",
            "localtime.transaction",
            "localtime.truncate",
            "time",
            "time.realtime",
            "time.statement",
            "time.transaction",
            "time.truncate",
        ],
    ),
];

/// `(name, category)` of every known function.
pub fn function_catalog() -> Vec<(&'static str, &'static str)> {
    FUNCTION_CATALOG
        .iter()
        .flat_map(|(cat, names)| names.iter().map(move |n| (*n, *cat)))
        .collect()
}

/// Known functions with (min, max) argument counts. Names are lower case.
const FUNCTIONS: &[(&str, usize, usize)] = &[
    // aggregates
    ("count", 1, 1),
    ("collect", 1, 1),
    ("sum", 1, 1),
    ("avg", 1, 1),
    ("min", 1, 1),
    ("max", 1, 1),
    ("stdev", 1, 1),
    ("stdevp", 1, 1),
    ("percentilecont", 2, 2),
    ("percentiledisc", 2, 2),
    // scalar
    ("coalesce", 1, usize::MAX),
    ("endnode", 1, 1),
    ("startnode", 1, 1),
    ("head", 1, 1),
    ("last", 1, 1),
    ("id", 1, 1),
    ("elementid", 1, 1),
    ("length", 1, 1),
    ("properties", 1, 1),
    ("size", 1, 1),
    ("timestamp", 0, 0),
    ("toboolean", 1, 1),
    ("tobooleanornull", 1, 1),
    ("tofloat", 1, 1),
    ("tofloatornull", 1, 1),
    ("tointeger", 1, 1),
    ("tointegerornull", 1, 1),
    ("type", 1, 1),
    ("randomuuid", 0, 0),
    ("nullif", 2, 2),
    ("valuetype", 1, 1),
    ("exists", 1, 1),
    ("isempty", 1, 1),
    // lists
    ("keys", 1, 1),
    ("labels", 1, 1),
    ("nodes", 1, 1),
    ("relationships", 1, 1),
    ("range", 2, 3),
    ("reverse", 1, 1),
    ("tail", 1, 1),
    ("tobooleanlist", 1, 1),
    ("tofloatlist", 1, 1),
    ("tointegerlist", 1, 1),
    ("tostringlist", 1, 1),
    // math
    ("abs", 1, 1),
    ("ceil", 1, 1),
    ("floor", 1, 1),
    ("isnan", 1, 1),
    ("rand", 0, 0),
    ("round", 1, 3),
    ("sign", 1, 1),
    ("e", 0, 0),
    ("exp", 1, 1),
    ("log", 1, 1),
    ("log10", 1, 1),
    ("sqrt", 1, 1),
    ("acos", 1, 1),
    ("asin", 1, 1),
    ("atan", 1, 1),
    ("atan2", 2, 2),
    ("cos", 1, 1),
    ("cot", 1, 1),
    ("degrees", 1, 1),
    ("haversin", 1, 1),
    ("pi", 0, 0),
    ("radians", 1, 1),
    ("sin", 1, 1),
    ("tan", 1, 1),
    // strings
    ("left", 2, 2),
    ("right", 2, 2),
    ("ltrim", 1, 2),
    ("rtrim", 1, 2),
    ("trim", 1, 2),
    ("btrim", 1, 2),
    ("replace", 3, 3),
    ("split", 2, 2),
    ("substring", 2, 3),
    ("tolower", 1, 1),
    ("toupper", 1, 1),
    ("lower", 1, 1),
    ("upper", 1, 1),
    ("tostring", 1, 1),
    ("tostringornull", 1, 1),
    ("char_length", 1, 1),
    ("character_length", 1, 1),
    // spatial
    ("point", 1, 1),
    ("distance", 2, 2),
    ("point.distance", 2, 2),
    ("point.withinbbox", 3, 3),
    // temporal
    ("date", 0, 1),
    ("datetime", 0, 1),
    ("localdatetime", 0, 1),
    ("localtime", 0, 1),
    ("time", 0, 1),
    ("duration", 1, 1),
    ("date.transaction", 0, 1),
    ("date.statement", 0, 1),
    ("date.realtime", 0, 1),
    ("datetime.transaction", 0, 1),
    ("datetime.statement", 0, 1),
    ("datetime.realtime", 0, 1),
    ("localdatetime.transaction", 0, 1),
    ("localdatetime.statement", 0, 1),
    ("localdatetime.realtime", 0, 1),
    ("localtime.transaction", 0, 1),
    ("localtime.statement", 0, 1),
    ("localtime.realtime", 0, 1),
    ("time.transaction", 0, 1),
    ("time.statement", 0, 1),
    ("time.realtime", 0, 1),
    ("date.truncate", 2, 3),
    ("datetime.truncate", 2, 3),
    ("localdatetime.truncate", 2, 3),
    ("localtime.truncate", 2, 3),
    ("time.truncate", 2, 3),
    ("datetime.fromepoch", 2, 2),
    ("datetime.fromepochmillis", 1, 1),
    ("duration.between", 2, 2),
    ("duration.inmonths", 2, 2),
    ("duration.indays", 2, 2),
    ("duration.inseconds", 2, 2),
];

/// Whether `name` is a known built-in function (case-insensitive), and its arity range.
pub fn function_arity(name: &str) -> Option<(usize, usize)> {
    let n = name.to_ascii_lowercase();
    FUNCTIONS
        .iter()
        .find(|(f, _, _)| *f == n)
        .map(|(_, lo, hi)| (*lo, *hi))
}

/// The statically known type of an expression (`Any` when unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Node,
    Rel,
    RelList,
    Path,
    Bool,
    Int,
    Float,
    Str,
    List,
    Map,
    Null,
    Any,
}

impl Ty {
    fn of_value(v: &Value) -> Ty {
        match v {
            Value::Null => Ty::Null,
            Value::Bool(_) => Ty::Bool,
            Value::Int(_) => Ty::Int,
            Value::Float(_) => Ty::Float,
            Value::String(_) => Ty::Str,
            Value::List(_) => Ty::List,
            Value::Map(_) => Ty::Map,
            _ => Ty::Any,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Ty::Node => "Node",
            Ty::Rel => "Relationship",
            Ty::RelList => "List<Relationship>",
            Ty::Path => "Path",
            Ty::Bool => "Boolean",
            Ty::Int => "Integer",
            Ty::Float => "Float",
            Ty::Str => "String",
            Ty::List => "List",
            Ty::Map => "Map",
            Ty::Null => "Null",
            Ty::Any => "Any",
        }
    }
    fn is_scalar(self) -> bool {
        matches!(self, Ty::Bool | Ty::Int | Ty::Float | Ty::Str | Ty::List)
    }
}

type Scope = HashMap<String, Ty>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Top,
    CallSubquery,
    Exists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agg {
    /// Aggregates are allowed here (projection items, ORDER BY of aggregating projections).
    Allowed,
    /// Inside an aggregate call.
    Inside,
    Forbidden,
}

#[derive(Debug, Clone, Copy)]
struct Ctx {
    agg: Agg,
    /// Pattern predicates `(a)-->(b)` are allowed (WHERE clauses, `exists(...)`).
    patterns: bool,
}

impl Ctx {
    fn plain() -> Ctx {
        Ctx {
            agg: Agg::Forbidden,
            patterns: false,
        }
    }
    fn predicate() -> Ctx {
        Ctx {
            agg: Agg::Forbidden,
            patterns: true,
        }
    }
    fn projection() -> Ctx {
        Ctx {
            agg: Agg::Allowed,
            patterns: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatMode {
    Match,
    Create,
    Merge,
    /// Pattern predicates / comprehensions / EXISTS patterns.
    Expr,
}

/// Can the path pattern match no node at all? It is then made only of quantified path
/// patterns whose lower bound is 0 (`((n)-[r]->(m)){0,10}`, `(...)*`): every node pattern of
/// the element is one the parser supplied around a group (none was written) and every
/// relationship is such a group that may repeat zero times.
fn may_be_empty(el: &crate::ast::PatternElement) -> bool {
    !el.chain.is_empty()
        && el.start.is_implied()
        && el.chain.iter().all(|(r, n)| {
            n.is_implied() && r.group.is_some() && matches!(r.length, Some((Some(0), _)))
        })
}

fn sem(detail: &str, msg: impl Into<String>) -> Error {
    Error::semantic(msg).with_detail(detail)
}

fn type_err(msg: impl Into<String>) -> Error {
    Error::type_error(msg)
        .with_detail("InvalidArgumentType")
        .with_phase(Phase::Compile)
}

fn contains_aggregate(e: &Expr) -> bool {
    let mut found = false;
    walk(e, &mut |x| {
        if matches!(x, Expr::CountStar)
            || matches!(x, Expr::FunctionCall { name, .. } if is_aggregate_function(name))
        {
            found = true;
        }
    });
    found
}

/// Pre-order walk over an expression tree (not into subqueries).
pub(crate) fn walk<'e>(e: &'e Expr, f: &mut dyn FnMut(&'e Expr)) {
    f(e);
    match e {
        Expr::Literal(_) | Expr::Parameter(_) | Expr::Variable(_) | Expr::CountStar => {}
        Expr::List(v) => v.iter().for_each(|x| walk(x, f)),
        Expr::Map(m) => m.iter().for_each(|(_, x)| walk(x, f)),
        Expr::Property(b, _) | Expr::IsNull(b) | Expr::IsNotNull(b) | Expr::HasLabels(b, _) => {
            walk(b, f)
        }
        Expr::Unary(_, b) | Expr::Once(b, _) => walk(b, f),
        Expr::Index(a, b) | Expr::Binary(_, a, b) => {
            walk(a, f);
            walk(b, f);
        }
        Expr::Slice(a, b, c) => {
            walk(a, f);
            if let Some(b) = b {
                walk(b, f);
            }
            if let Some(c) = c {
                walk(c, f);
            }
        }
        Expr::FunctionCall { args, .. } => args.iter().for_each(|x| walk(x, f)),
        Expr::Case {
            operand,
            whens,
            else_,
        } => {
            if let Some(o) = operand {
                walk(o, f);
            }
            for (a, b) in whens {
                walk(a, f);
                walk(b, f);
            }
            if let Some(e) = else_ {
                walk(e, f);
            }
        }
        Expr::ListComprehension {
            list,
            predicate,
            projection,
            ..
        } => {
            walk(list, f);
            if let Some(p) = predicate {
                walk(p, f);
            }
            if let Some(p) = projection {
                walk(p, f);
            }
        }
        Expr::PatternComprehension {
            predicate,
            projection,
            ..
        } => {
            if let Some(p) = predicate {
                walk(p, f);
            }
            walk(projection, f);
        }
        Expr::Quantifier {
            list, predicate, ..
        } => {
            walk(list, f);
            if let Some(p) = predicate {
                walk(p, f);
            }
        }
        Expr::Reduce {
            init, list, expr, ..
        } => {
            walk(init, f);
            walk(list, f);
            walk(expr, f);
        }
        Expr::PatternPredicate(_) | Expr::ExistsSubquery(_) | Expr::ValueSubquery(..) => {}
        Expr::LabelCheck(b, _) | Expr::IsType(b, _, _) => walk(b, f),
        Expr::MapProjection(b, items) => {
            walk(b, f);
            for it in items {
                if let MapProjectionItem::Literal(_, x) = it {
                    walk(x, f);
                }
            }
        }
    }
}

fn is_updating(c: &Clause) -> bool {
    matches!(
        c,
        Clause::Create(_)
            | Clause::Merge(_)
            | Clause::Set(_)
            | Clause::Remove(_)
            | Clause::Delete(_)
            | Clause::Foreach(_)
    )
}

fn clause_name(c: &Clause) -> &'static str {
    match c {
        Clause::Match(m) if m.optional => "OPTIONAL MATCH",
        Clause::Match(_) => "MATCH",
        Clause::Unwind(_) => "UNWIND",
        Clause::With(_) => "WITH",
        Clause::Return(_) => "RETURN",
        Clause::Create(_) => "CREATE",
        Clause::Merge(_) => "MERGE",
        Clause::Set(_) => "SET",
        Clause::Remove(_) => "REMOVE",
        Clause::Delete(_) => "DELETE",
        Clause::Call(_) => "CALL",
        Clause::CallSubquery(_) => "CALL",
        Clause::OptionalCallSubquery(_) => "OPTIONAL CALL",
        Clause::ScopedCallSubquery { .. } => "CALL",
        Clause::InTransactions { .. } => "CALL",
        Clause::Foreach(_) => "FOREACH",
        Clause::LoadCsv(_) => "LOAD CSV",
    }
}

struct Checker;

impl Checker {
    fn query(&mut self, q: &Query, outer: &Scope, kind: Kind) -> Result<Vec<String>> {
        let has_all = q.unions.iter().any(|(all, _)| *all);
        let has_distinct = q.unions.iter().any(|(all, _)| !*all);
        if has_all && has_distinct {
            return Err(sem(
                "InvalidClauseComposition",
                "Invalid combination of UNION and UNION ALL",
            ));
        }
        let cols = self.single(&q.first, outer, kind)?;
        let mut sorted = cols.clone();
        sorted.sort();
        for (_, sq) in &q.unions {
            let c = self.single(sq, outer, kind)?;
            let mut s2 = c.clone();
            s2.sort();
            if s2 != sorted {
                return Err(sem(
                    "DifferentColumnsInUnion",
                    "All sub queries in an UNION must have the same return column names",
                ));
            }
        }
        Ok(cols)
    }

    fn single(&mut self, sq: &SingleQuery, outer: &Scope, kind: Kind) -> Result<Vec<String>> {
        let mut scope = outer.clone();
        let n = sq.clauses.len();
        let mut cols = Vec::new();
        let mut updated = false;
        for (i, c) in sq.clauses.iter().enumerate() {
            let is_last = i + 1 == n;
            // `CALL { } IN TRANSACTIONS` is checked as its subquery clause, then binds its
            // status variable.
            let (c, status) = match c {
                Clause::InTransactions { call, options } => {
                    if kind != Kind::Top {
                        return Err(sem(
                            "InvalidClauseComposition",
                            "CALL { ... } IN TRANSACTIONS is only allowed at the top level of a query",
                        ));
                    }
                    (&**call, options.report_status.as_ref())
                }
                c => (c, None),
            };
            if kind == Kind::Exists && is_updating(c) {
                return Err(sem(
                    "InvalidClauseComposition",
                    "An EXISTS subquery cannot contain updating clauses",
                ));
            }
            match c {
                Clause::Return(r) => {
                    if !is_last {
                        return Err(sem(
                            "InvalidClauseComposition",
                            "RETURN can only be used at the end of the query",
                        ));
                    }
                    cols = self.projection(&r.projection, &mut scope, true)?;
                }
                Clause::With(w) => {
                    let old = scope.clone();
                    self.projection(&w.projection, &mut scope, false)?;
                    if let Some(p) = &w.where_ {
                        // WHERE after WITH sees the projected names and the previous scope.
                        let mut ws = old;
                        for (k, v) in &scope {
                            ws.insert(k.clone(), *v);
                        }
                        self.predicate(p, &ws)?;
                    }
                    updated = false;
                }
                Clause::Match(m) => {
                    if updated {
                        return Err(sem(
                            "InvalidClauseComposition",
                            format!(
                                "WITH is required between an updating clause and {}",
                                clause_name(c)
                            ),
                        ));
                    }
                    self.pattern(&m.pattern, &mut scope, PatMode::Match)?;
                    if let Some(p) = &m.where_ {
                        self.predicate(p, &scope)?;
                    }
                }
                Clause::Unwind(u) => {
                    if updated {
                        return Err(sem(
                            "InvalidClauseComposition",
                            "WITH is required between an updating clause and UNWIND",
                        ));
                    }
                    self.expr(&u.expr, &scope, Ctx::plain())?;
                    if scope.contains_key(&u.variable) {
                        return Err(sem(
                            "VariableAlreadyBound",
                            format!("Variable `{}` already declared", u.variable),
                        ));
                    }
                    scope.insert(u.variable.clone(), Ty::Any);
                }
                Clause::LoadCsv(l) => {
                    self.expr(&l.url, &scope, Ctx::plain())?;
                    if scope.contains_key(&l.variable) {
                        return Err(sem(
                            "VariableAlreadyBound",
                            format!("Variable `{}` already declared", l.variable),
                        ));
                    }
                    scope.insert(l.variable.clone(), Ty::Any);
                }
                Clause::Create(cr) => {
                    updated = true;
                    self.pattern(&cr.pattern, &mut scope, PatMode::Create)?;
                }
                Clause::Merge(m) => {
                    updated = true;
                    self.pattern(std::slice::from_ref(&m.pattern), &mut scope, PatMode::Merge)?;
                    for it in m.on_create.iter().chain(m.on_match.iter()) {
                        self.set_item(it, &scope)?;
                    }
                }
                Clause::Set(items) => {
                    updated = true;
                    for it in items {
                        self.set_item(it, &scope)?;
                    }
                }
                Clause::Remove(items) => {
                    updated = true;
                    for it in items {
                        match it {
                            RemoveItem::Property { target, .. } => {
                                self.expr(target, &scope, Ctx::plain())?;
                            }
                            RemoveItem::Labels { variable, .. } => {
                                self.var(variable, &scope)?;
                            }
                        }
                    }
                }
                Clause::Delete(d) => {
                    updated = true;
                    for e in &d.exprs {
                        if matches!(e, Expr::HasLabels(..)) {
                            return Err(sem(
                                "InvalidDelete",
                                "DELETE expects a node, relationship or path, not a label expression",
                            ));
                        }
                        let t = self.expr(e, &scope, Ctx::plain())?;
                        if t.is_scalar() || t == Ty::Map {
                            return Err(sem(
                                "InvalidArgumentType",
                                format!(
                                    "DELETE expects a node, relationship or path, got {}",
                                    t.name()
                                ),
                            ));
                        }
                    }
                }
                Clause::Call(call) => {
                    if call.yield_all && n > 1 {
                        return Err(sem(
                            "UnexpectedSyntax",
                            "YIELD * is only allowed in a standalone procedure call",
                        ));
                    }
                    if let Some(args) = &call.args {
                        for a in args {
                            if contains_aggregate(a) {
                                return Err(sem(
                                    "InvalidAggregation",
                                    "Aggregations are not allowed in procedure arguments",
                                ));
                            }
                            self.expr(a, &scope, Ctx::plain())?;
                        }
                    }
                    for (field, alias) in &call.yields {
                        let v = alias.as_ref().unwrap_or(field);
                        if scope.contains_key(v) {
                            return Err(sem(
                                "VariableAlreadyBound",
                                format!("Variable `{v}` already declared"),
                            ));
                        }
                        scope.insert(v.clone(), Ty::Any);
                    }
                    if let Some(w) = &call.where_ {
                        self.predicate(w, &scope)?;
                    }
                }
                Clause::CallSubquery(q)
                | Clause::OptionalCallSubquery(q)
                | Clause::ScopedCallSubquery { query: q, .. } => {
                    let inner_scope: Scope = match c {
                        Clause::ScopedCallSubquery {
                            variables: Some(vars),
                            ..
                        } => {
                            let mut s = Scope::new();
                            for v in vars {
                                s.insert(v.clone(), self.var(v, &scope)?);
                            }
                            s
                        }
                        _ => scope.clone(),
                    };
                    let inner_cols = self.query(q, &inner_scope, Kind::CallSubquery)?;
                    for c in inner_cols {
                        if scope.contains_key(&c) {
                            return Err(sem(
                                "VariableAlreadyBound",
                                format!("Variable `{c}` already declared in outer scope"),
                            ));
                        }
                        scope.insert(c, Ty::Any);
                    }
                }
                Clause::Foreach(f) => {
                    updated = true;
                    self.foreach(f, &scope)?;
                }
                Clause::InTransactions { .. } => {
                    return Err(sem(
                        "InvalidClauseComposition",
                        "Nested CALL { ... } IN TRANSACTIONS is not supported",
                    ));
                }
            }
            if let Some(v) = status {
                if scope.contains_key(v) {
                    return Err(sem(
                        "VariableAlreadyBound",
                        format!("Variable `{v}` already declared"),
                    ));
                }
                scope.insert(v.clone(), Ty::Map);
            }
        }
        if kind != Kind::Exists {
            if let Some(last) = sq.clauses.last() {
                let ok_end = matches!(
                    last,
                    Clause::Return(_)
                        | Clause::Call(_)
                        | Clause::CallSubquery(_)
                        | Clause::OptionalCallSubquery(_)
                        | Clause::ScopedCallSubquery { .. }
                        | Clause::InTransactions { .. }
                ) || is_updating(last);
                if !ok_end {
                    return Err(sem(
                        "InvalidClauseComposition",
                        format!(
                            "Query cannot conclude with {} (must be a RETURN clause, an update clause, a unit subquery call, or a procedure call)",
                            clause_name(last)
                        ),
                    ));
                }
            }
        }
        Ok(cols)
    }

    fn foreach(&mut self, f: &Foreach, scope: &Scope) -> Result<()> {
        let t = self.expr(&f.list, scope, Ctx::plain())?;
        if t.is_scalar() && t != Ty::List {
            return Err(type_err(format!(
                "FOREACH expects a list, got {}",
                t.name()
            )));
        }
        let mut inner = scope.clone();
        inner.insert(f.variable.clone(), Ty::Any);
        for c in &f.clauses {
            if !is_updating(c) {
                return Err(sem(
                    "InvalidClauseComposition",
                    format!("{} is not allowed inside FOREACH", clause_name(c)),
                ));
            }
            let sq = SingleQuery {
                use_graph: None,
                clauses: vec![c.clone()],
            };
            // Bindings made inside FOREACH do not leak out; check each clause in turn.
            self.single(&sq, &inner, Kind::CallSubquery)?;
            if let Clause::Create(cr) = c {
                self.pattern(&cr.pattern, &mut inner, PatMode::Create)?;
            } else if let Clause::Merge(m) = c {
                self.pattern(std::slice::from_ref(&m.pattern), &mut inner, PatMode::Merge)?;
            }
        }
        Ok(())
    }

    fn set_item(&mut self, it: &SetItem, scope: &Scope) -> Result<()> {
        let check_value = |this: &mut Self, v: &Expr| -> Result<()> {
            if contains_aggregate(v) {
                return Err(sem(
                    "InvalidAggregation",
                    "Aggregations are not allowed in SET",
                ));
            }
            this.expr(v, scope, Ctx::plain()).map(|_| ())
        };
        match it {
            SetItem::Property { target, value, .. } => {
                self.expr(target, scope, Ctx::plain())?;
                check_value(self, value)
            }
            SetItem::Replace { variable, value } | SetItem::Merge { variable, value } => {
                self.var(variable, scope)?;
                check_value(self, value)
            }
            SetItem::Labels { variable, .. } => self.var(variable, scope).map(|_| ()),
        }
    }

    fn var(&self, v: &str, scope: &Scope) -> Result<Ty> {
        scope
            .get(v)
            .copied()
            .ok_or_else(|| sem("UndefinedVariable", format!("Variable `{v}` not defined")))
    }

    fn predicate(&mut self, e: &Expr, scope: &Scope) -> Result<()> {
        if contains_aggregate(e) {
            return Err(sem(
                "InvalidAggregation",
                "Aggregations are not allowed in WHERE",
            ));
        }
        let t = self.expr(e, scope, Ctx::predicate())?;
        if !matches!(t, Ty::Bool | Ty::Null | Ty::Any) {
            return Err(sem(
                "InvalidArgumentType",
                format!("Type mismatch: expected Boolean but was {}", t.name()),
            ));
        }
        Ok(())
    }

    // ----- projections ----------------------------------------------------------------------

    fn projection(
        &mut self,
        p: &Projection,
        scope: &mut Scope,
        is_return: bool,
    ) -> Result<Vec<String>> {
        let mut names: Vec<String> = Vec::new();
        let mut new_scope: Scope = Scope::new();
        if p.star {
            if is_return && scope.is_empty() && p.items.is_empty() {
                return Err(sem(
                    "NoVariablesInScope",
                    format!(
                        "{} * is not allowed when there are no variables in scope",
                        if is_return { "RETURN" } else { "WITH" }
                    ),
                ));
            }
            let mut vs: Vec<&String> = scope.keys().collect();
            vs.sort();
            names.extend(vs.into_iter().cloned());
            new_scope = scope.clone();
        }
        let aggregating = p.items.iter().any(|it| contains_aggregate(&it.expr));
        let mut seen: HashSet<String> = HashSet::new();
        let mut missing_alias: Option<String> = None;
        for it in &p.items {
            let t = self.expr(&it.expr, scope, Ctx::projection())?;
            if !is_return
                && it.alias.is_none()
                && !matches!(it.expr, Expr::Variable(_))
                && missing_alias.is_none()
            {
                missing_alias = Some(it.text.clone());
            }
            let name = it.name().to_string();
            if !seen.insert(name.clone()) {
                return Err(sem(
                    "ColumnNameConflict",
                    format!(
                        "Multiple result columns with the same name `{name}` are not supported"
                    ),
                ));
            }
            if !names.contains(&name) {
                names.push(name.clone());
            }
            new_scope.insert(name, t);
        }
        let grouping: Vec<&Expr> = p
            .items
            .iter()
            .filter(|it| !contains_aggregate(&it.expr))
            .map(|it| &it.expr)
            .collect();
        if aggregating {
            for it in &p.items {
                if contains_aggregate(&it.expr) {
                    check_ambiguous(&it.expr, &grouping, &HashSet::new())?;
                }
            }
        }
        // ORDER BY sees the projected names; after DISTINCT or aggregation it may use old
        // variables only inside expressions that are projected as they are.
        if !p.order_by.is_empty() {
            let restricted = aggregating || p.distinct;
            let mut order_scope = if restricted {
                Scope::new()
            } else {
                scope.clone()
            };
            for (k, v) in &new_scope {
                order_scope.insert(k.clone(), *v);
            }
            let projected: Vec<&Expr> = p.items.iter().map(|it| &it.expr).collect();
            let aliases: Vec<Expr> = p
                .items
                .iter()
                .filter(|it| !contains_aggregate(&it.expr))
                .map(|it| Expr::Variable(it.name().to_string()))
                .collect();
            for s in &p.order_by {
                let has_agg = contains_aggregate(&s.expr);
                if has_agg && !aggregating {
                    return Err(sem(
                        "InvalidAggregation",
                        "Aggregations in ORDER BY are only allowed when the projection aggregates",
                    ));
                }
                if restricted {
                    self.order_expr(&s.expr, &projected, &order_scope)?;
                } else {
                    self.expr(&s.expr, &order_scope, Ctx::plain())?;
                }
                if has_agg {
                    let mut keys: Vec<&Expr> = grouping.clone();
                    keys.extend(aliases.iter());
                    check_ambiguous(&s.expr, &keys, &HashSet::new())?;
                }
            }
        }
        if let Some(text) = missing_alias {
            return Err(sem(
                "NoExpressionAlias",
                format!("Expression in WITH must be aliased (use AS): {text}"),
            ));
        }
        for (e, what) in [(&p.skip, "SKIP"), (&p.limit, "LIMIT")] {
            if let Some(e) = e {
                self.skip_limit(e, what)?;
            }
        }
        *scope = new_scope;
        Ok(names)
    }

    /// ORDER BY after DISTINCT/aggregation: sub-expressions equal to a projected expression
    /// are fine; anything else may only use the projected names.
    fn order_expr(&mut self, e: &Expr, projected: &[&Expr], scope: &Scope) -> Result<()> {
        if projected.contains(&e) {
            return Ok(());
        }
        match e {
            Expr::Literal(_) | Expr::Parameter(_) => Ok(()),
            Expr::Variable(v) => self.var(v, scope).map(|_| ()),
            Expr::CountStar => Ok(()),
            Expr::FunctionCall { args, .. } => {
                for a in args {
                    self.order_expr(a, projected, scope)?;
                }
                Ok(())
            }
            Expr::List(_)
            | Expr::Map(_)
            | Expr::Property(..)
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::HasLabels(..)
            | Expr::Once(..)
            | Expr::Unary(..)
            | Expr::Index(..)
            | Expr::Binary(..)
            | Expr::Slice(..)
            | Expr::Case { .. } => {
                let mut res = Ok(());
                for_each_child(e, &mut |c| {
                    if res.is_ok() {
                        res = self.order_expr(c, projected, scope);
                    }
                });
                res
            }
            other => self.expr(other, scope, Ctx::projection()).map(|_| ()),
        }
    }

    fn skip_limit(&mut self, e: &Expr, what: &str) -> Result<()> {
        let mut has_var = false;
        walk(e, &mut |x| {
            if matches!(x, Expr::Variable(_) | Expr::PatternPredicate(_)) {
                has_var = true;
            }
        });
        if has_var || contains_aggregate(e) {
            return Err(sem(
                "NonConstantExpression",
                format!("It is not allowed to refer to variables in {what}"),
            ));
        }
        match e {
            Expr::Literal(Value::Int(i)) if *i < 0 => Err(sem(
                "NegativeIntegerArgument",
                format!(
                    "Invalid input. '{i}' is not a valid value. Must be a non-negative integer."
                ),
            )),
            Expr::Literal(Value::Float(f)) => Err(sem(
                "InvalidArgumentType",
                format!(
                    "Invalid input. '{f}' is not a valid value. Must be a non-negative integer."
                ),
            )),
            Expr::Literal(v) if !matches!(v, Value::Int(_) | Value::Null) => Err(sem(
                "InvalidArgumentType",
                format!("{what} expects an integer, got {}", v.type_name()),
            )),
            _ => self.expr(e, &Scope::new(), Ctx::plain()).map(|_| ()),
        }
    }

    // ----- patterns -------------------------------------------------------------------------

    fn pattern(&mut self, pattern: &[PatternPart], scope: &mut Scope, mode: PatMode) -> Result<()> {
        let before: Scope = scope.clone();
        let mut rels_here: HashSet<String> = HashSet::new();
        for part in pattern {
            if let Some(p) = &part.variable {
                if scope.contains_key(p) {
                    return Err(sem(
                        "VariableAlreadyBound",
                        format!("Variable `{p}` already declared"),
                    ));
                }
            }
            if mode == PatMode::Match && may_be_empty(&part.element) {
                return Err(sem(
                    "InvalidQuantifiedPathPattern",
                    "A top-level path pattern in a `MATCH` clause must be written such that it \
                     always evaluates to at least one node pattern: a path pattern made only of \
                     quantified path patterns with a lower bound of 0 would match the empty \
                     path (write a node pattern before or after it, e.g. `(a)((n)-->(m)){0,10}`, \
                     or use a lower bound of at least 1)",
                ));
            }
            if part.shortest.as_ref().is_some_and(|k| k.is_selector()) {
                self.selector(part, pattern.len(), mode)?;
            }
            if let Some(ShortestKind::Single | ShortestKind::All) = part.shortest {
                if part.element.chain.len() != 1 {
                    // shortestPath requires exactly one relationship pattern.
                    if part.element.chain.is_empty() {
                        return Err(sem(
                            "InvalidRelationshipPattern",
                            "shortestPath requires a relationship pattern",
                        ));
                    }
                }
            }
            if matches!(mode, PatMode::Create | PatMode::Merge) {
                let el = &part.element;
                let nodes = std::iter::once(&el.start).chain(el.chain.iter().map(|(_, n)| n));
                if nodes.into_iter().any(|n| n.label_expr.is_some()) {
                    return Err(sem(
                        "InvalidLabelExpression",
                        format!(
                            "Label expressions with |, ! or % are not allowed in {}: a created \
                             node has definite labels (write :A:B or :A&B)",
                            if mode == PatMode::Merge {
                                "MERGE"
                            } else {
                                "CREATE"
                            }
                        ),
                    ));
                }
            }
            let single = part.element.chain.is_empty();
            self.node(&part.element.start, scope, &before, mode, single)?;
            for (rel, node) in &part.element.chain {
                self.rel(rel, scope, &before, mode, &mut rels_here)?;
                self.node(node, scope, &before, mode, false)?;
            }
            if let Some(p) = &part.variable {
                if scope.contains_key(p) {
                    return Err(sem(
                        "VariableAlreadyBound",
                        format!("Variable `{p}` already declared"),
                    ));
                }
                scope.insert(p.clone(), Ty::Path);
            }
        }
        // Variables declared inside a quantified path pattern are lists outside it (group
        // variables); inside, each iteration's are singletons.
        for part in pattern {
            for (r, _) in &part.element.chain {
                if let Some(g) = &r.group {
                    self.group(r, g, scope, &before, mode)?;
                }
            }
        }
        // A parenthesized path pattern's WHERE sees the whole pattern (group variables as lists).
        for part in pattern {
            if let Some(pred) = &part.element.predicate {
                if !matches!(mode, PatMode::Match) {
                    return Err(sem(
                        "InvalidPathPattern",
                        "A WHERE inside a parenthesized path pattern is only allowed in MATCH",
                    ));
                }
                self.predicate(pred, scope)?;
            }
        }
        // `(n WHERE pred)`: sees the node and what was bound before the pattern (MATCH only).
        for part in pattern {
            let el = &part.element;
            let nodes = std::iter::once(&el.start).chain(el.chain.iter().map(|(_, n)| n));
            for n in nodes {
                let Some(pred) = &n.predicate else { continue };
                let Some(v) = &n.variable else {
                    return Err(sem(
                        "InvalidNodePattern",
                        "A WHERE inside a node pattern needs a node variable, e.g. (n WHERE n.x > 1)",
                    ));
                };
                if !matches!(mode, PatMode::Match) {
                    return Err(sem(
                        "InvalidNodePattern",
                        "A WHERE inside a node pattern is only allowed in MATCH",
                    ));
                }
                let mut s2 = before.clone();
                s2.insert(v.clone(), Ty::Node);
                self.predicate(pred, &s2)?;
            }
            for (r, _) in &el.chain {
                if r.type_expr.is_some()
                    && (part.shortest.as_ref().is_some_and(|k| !k.is_selector())
                        || !matches!(mode, PatMode::Match | PatMode::Expr))
                {
                    return Err(sem(
                        "InvalidRelationshipPattern",
                        "A relationship type expression with !, & or % is only allowed in MATCH \
                         patterns that are not shortest paths",
                    ));
                }
                let Some(pred) = &r.predicate else { continue };
                let Some(v) = &r.variable else {
                    return Err(sem(
                        "InvalidRelationshipPattern",
                        "A WHERE inside a relationship pattern needs a variable, e.g. -[r WHERE r.w > 1]->",
                    ));
                };
                if r.group.is_some() {
                    // Checked with the group's singletons by `group`.
                    continue;
                }
                if !matches!(mode, PatMode::Match) || r.length.is_some() {
                    return Err(sem(
                        "InvalidRelationshipPattern",
                        "A WHERE inside a relationship pattern is only allowed on a single relationship in MATCH",
                    ));
                }
                let mut s2 = before.clone();
                s2.insert(v.clone(), Ty::Rel);
                self.predicate(pred, &s2)?;
            }
        }
        // Property maps see every variable of the pattern.
        for part in pattern {
            let el = &part.element;
            let nodes = std::iter::once(&el.start).chain(el.chain.iter().map(|(_, n)| n));
            for n in nodes {
                if let Some(p) = &n.properties {
                    self.pattern_props(p, scope, mode)?;
                }
            }
            for (r, _) in &el.chain {
                if let (Some(p), None) = (&r.properties, &r.group) {
                    self.pattern_props(p, scope, mode)?;
                }
            }
        }
        Ok(())
    }

    /// A GQL path selector (`SHORTEST k`, `ALL SHORTEST`, `ANY k`, `SHORTEST k GROUPS`): only
    /// in MATCH, alone in its graph pattern, over a path pattern with a relationship.
    fn selector(&mut self, part: &PatternPart, parts: usize, mode: PatMode) -> Result<()> {
        if !matches!(mode, PatMode::Match) {
            return Err(Error::syntax(
                "Path selectors such as `SHORTEST 1` or `ANY` can only be used in MATCH",
            )
            .with_detail("InvalidPathPattern"));
        }
        if parts > 1 {
            return Err(Error::syntax(
                "Multiple path patterns cannot be used in the same clause in combination with a \
                 selective path selector (SHORTEST, ALL SHORTEST, ANY); match them in separate \
                 MATCH clauses",
            )
            .with_detail("InvalidPathPattern"));
        }
        if part.element.chain.is_empty() {
            return Err(Error::syntax(
                "A path selector needs a path pattern with a relationship, e.g. \
                 `SHORTEST 1 (a)-[:R]-+(b)`",
            )
            .with_detail("InvalidPathPattern"));
        }
        Ok(())
    }

    /// A quantified path pattern: its variables are new (group variables),
    /// its predicates and property maps see the iteration's variables as singletons and what
    /// was bound before the pattern.
    fn group(
        &mut self,
        r: &RelationshipPattern,
        g: &crate::ast::QuantGroup,
        scope: &mut Scope,
        before: &Scope,
        mode: PatMode,
    ) -> Result<()> {
        if !matches!(mode, PatMode::Match | PatMode::Expr) {
            return Err(sem(
                "InvalidQuantifiedPathPattern",
                "Quantified path patterns are only allowed in MATCH",
            ));
        }
        let mut inner = before.clone();
        let mut seen: HashSet<&String> = HashSet::new();
        let n = g.size();
        let vars = (0..=n)
            .map(|j| (g.node(j).variable.as_ref(), Ty::Node))
            .chain((0..n).map(|j| (g.rel(r, j).variable.as_ref(), Ty::Rel)));
        for (v, ty) in vars {
            let Some(v) = v else { continue };
            if before.contains_key(v) || !seen.insert(v) {
                return Err(sem(
                    "VariableAlreadyBound",
                    format!(
                        "The variable `{v}` is declared twice: a variable of a quantified path \
                         pattern must be new and used once in it"
                    ),
                ));
            }
            if mode == PatMode::Expr {
                return Err(sem(
                    "UndefinedVariable",
                    format!("Variable `{v}` not defined (pattern expressions cannot introduce new variables)"),
                ));
            }
            inner.insert(v.clone(), ty);
        }
        // The first relationship's variable is declared (as a list) by `rel`; the others here.
        let others = g.nodes().map(|n| (&n.variable, Ty::List));
        let more_rels = g.more.iter().map(|(_, rel)| (&rel.variable, Ty::RelList));
        for (v, ty) in others.chain(more_rels) {
            let Some(v) = v else { continue };
            if scope.contains_key(v) {
                return Err(sem(
                    "VariableAlreadyBound",
                    format!(
                        "The variable `{v}` is declared both inside and outside a quantified \
                         path pattern"
                    ),
                ));
            }
            // A group variable is a list outside the group.
            scope.insert(v.clone(), ty);
        }
        for n in g.nodes() {
            if let Some(p) = &n.predicate {
                if n.variable.is_none() {
                    return Err(sem(
                        "InvalidNodePattern",
                        "A WHERE inside a node pattern needs a node variable, e.g. (n WHERE n.x > 1)",
                    ));
                }
                self.predicate(p, &inner)?;
            }
            if let Some(p) = &n.properties {
                self.pattern_props(p, &inner, mode)?;
            }
        }
        for rel in (0..n).map(|j| g.rel(r, j)) {
            if let Some(p) = &rel.predicate {
                if rel.variable.is_none() {
                    return Err(sem(
                        "InvalidRelationshipPattern",
                        "A WHERE inside a relationship pattern needs a variable, e.g. -[r WHERE r.w > 1]->",
                    ));
                }
                self.predicate(p, &inner)?;
            }
            if rel.type_expr.is_some() && !matches!(mode, PatMode::Match | PatMode::Expr) {
                return Err(sem(
                    "InvalidRelationshipPattern",
                    "A relationship type expression with !, & or % is only allowed in MATCH",
                ));
            }
        }
        for rel in (0..n).map(|j| g.rel(r, j)) {
            if let Some(p) = &rel.properties {
                self.pattern_props(p, &inner, mode)?;
            }
        }
        if let Some(p) = &g.predicate {
            self.predicate(p, &inner)?;
        }
        Ok(())
    }

    fn pattern_props(&mut self, p: &Expr, scope: &Scope, mode: PatMode) -> Result<()> {
        if let Expr::Parameter(name) = p {
            if matches!(mode, PatMode::Match | PatMode::Merge | PatMode::Expr) {
                return Err(sem(
                    "InvalidParameterUse",
                    format!("Parameter maps cannot be used in {} patterns (use a literal map instead, e.g. {{id: ${name}.id}})", if mode == PatMode::Merge { "MERGE" } else { "MATCH" }),
                ));
            }
            return Ok(());
        }
        if contains_aggregate(p) {
            return Err(sem(
                "InvalidAggregation",
                "Aggregations are not allowed in patterns",
            ));
        }
        self.expr(p, scope, Ctx::plain()).map(|_| ())
    }

    fn node(
        &mut self,
        np: &NodePattern,
        scope: &mut Scope,
        before: &Scope,
        mode: PatMode,
        single: bool,
    ) -> Result<()> {
        let Some(v) = &np.variable else {
            return Ok(());
        };
        match scope.get(v).copied() {
            Some(Ty::Node) | Some(Ty::Any) | Some(Ty::Null) => {
                if matches!(mode, PatMode::Create | PatMode::Merge)
                    && (single || !np.labels.is_empty() || np.properties.is_some())
                {
                    let _ = before;
                    return Err(sem(
                        "VariableAlreadyBound",
                        format!("Can't create node `{v}` with labels or properties here. The variable is already declared in this context"),
                    ));
                }
                if scope.get(v) == Some(&Ty::Any) {
                    scope.insert(v.clone(), Ty::Node);
                }
            }
            Some(t) => {
                return Err(sem(
                    "VariableTypeConflict",
                    format!(
                        "Type mismatch: `{v}` defined with conflicting type {} (expected Node)",
                        t.name()
                    ),
                ))
            }
            None => {
                if mode == PatMode::Expr {
                    return Err(sem(
                        "UndefinedVariable",
                        format!("Variable `{v}` not defined (pattern expressions cannot introduce new variables)"),
                    ));
                }
                scope.insert(v.clone(), Ty::Node);
            }
        }
        Ok(())
    }

    fn rel(
        &mut self,
        rp: &RelationshipPattern,
        scope: &mut Scope,
        before: &Scope,
        mode: PatMode,
        rels_here: &mut HashSet<String>,
    ) -> Result<()> {
        if matches!(mode, PatMode::Create | PatMode::Merge) {
            if let Some(v) = &rp.variable {
                if scope.contains_key(v) {
                    return Err(sem(
                        "VariableAlreadyBound",
                        format!(
                            "Can't create relationship `{v}`: the variable is already declared"
                        ),
                    ));
                }
            }
            let what = if mode == PatMode::Create {
                "CREATE"
            } else {
                "MERGE"
            };
            if rp.types.len() != 1 {
                return Err(sem(
                    "NoSingleRelationshipType",
                    format!("A single relationship type must be specified for {what}"),
                ));
            }
            if rp.length.is_some() {
                return Err(sem(
                    "CreatingVarLength",
                    format!("Variable length relationships cannot be used in {what}"),
                ));
            }
            if mode == PatMode::Create && rp.direction == Direction::Both {
                return Err(sem(
                    "RequiresDirectedRelationship",
                    "Only directed relationships are supported in CREATE",
                ));
            }
        }
        if let Some((Some(lo), Some(hi))) = rp.length {
            let _ = (lo, hi);
        }
        let Some(v) = &rp.variable else {
            return Ok(());
        };
        let want = if rp.length.is_some() {
            Ty::RelList
        } else {
            Ty::Rel
        };
        match scope.get(v).copied() {
            None => {
                if mode == PatMode::Expr {
                    return Err(sem(
                        "UndefinedVariable",
                        format!("Variable `{v}` not defined (pattern expressions cannot introduce new variables)"),
                    ));
                }
                scope.insert(v.clone(), want);
                rels_here.insert(v.clone());
            }
            Some(t) => {
                if matches!(mode, PatMode::Create | PatMode::Merge) {
                    return Err(sem(
                        "VariableAlreadyBound",
                        format!(
                            "Can't create relationship `{v}`: the variable is already declared"
                        ),
                    ));
                }
                match t {
                    Ty::Rel | Ty::RelList | Ty::Any | Ty::Null | Ty::List => {
                        if rels_here.contains(v) && !before.contains_key(v) {
                            return Err(sem(
                                "RelationshipUniquenessViolation",
                                format!("Cannot use the same relationship variable `{v}` for multiple relationships"),
                            ));
                        }
                        if t == Ty::List && rp.length.is_none() {
                            return Err(sem(
                                "VariableTypeConflict",
                                format!("Type mismatch: `{v}` defined with conflicting type List (expected Relationship)"),
                            ));
                        }
                    }
                    t => {
                        return Err(sem(
                            "VariableTypeConflict",
                            format!("Type mismatch: `{v}` defined with conflicting type {} (expected Relationship)", t.name()),
                        ))
                    }
                }
            }
        }
        Ok(())
    }

    // ----- expressions ----------------------------------------------------------------------

    fn boolish(&self, t: Ty, what: &str) -> Result<()> {
        if matches!(t, Ty::Bool | Ty::Null | Ty::Any) {
            Ok(())
        } else {
            Err(sem(
                "InvalidArgumentType",
                format!(
                    "Type mismatch: {what} expected Boolean but was {}",
                    t.name()
                ),
            ))
        }
    }

    fn expr(&mut self, e: &Expr, scope: &Scope, ctx: Ctx) -> Result<Ty> {
        let inner = Ctx {
            agg: ctx.agg,
            patterns: ctx.patterns,
        };
        Ok(match e {
            Expr::Literal(v) => Ty::of_value(v),
            Expr::Parameter(_) => Ty::Any,
            Expr::Once(b, _) => self.expr(b, scope, inner)?,
            Expr::Variable(v) => self.var(v, scope)?,
            Expr::List(items) => {
                for x in items {
                    self.expr(x, scope, inner)?;
                }
                Ty::List
            }
            Expr::Map(entries) => {
                for (_, x) in entries {
                    self.expr(x, scope, inner)?;
                }
                Ty::Map
            }
            Expr::Property(b, k) => {
                let t = self.expr(b, scope, inner)?;
                if matches!(t, Ty::Path | Ty::RelList) {
                    return Err(sem(
                        "InvalidArgumentType",
                        format!("Type mismatch: expected Map, Node or Relationship but was {} (property `{k}`)", t.name()),
                    ));
                }
                if t.is_scalar() {
                    return Err(type_err(format!(
                        "Type mismatch: expected Map, Node, Relationship, Point, Duration, Date, Time, LocalTime, LocalDateTime or DateTime but was {} (property `{k}`)",
                        t.name()
                    )));
                }
                Ty::Any
            }
            Expr::Index(a, b) => {
                self.expr(a, scope, inner)?;
                self.expr(b, scope, inner)?;
                Ty::Any
            }
            Expr::Slice(a, b, c) => {
                self.expr(a, scope, inner)?;
                if let Some(b) = b {
                    self.expr(b, scope, inner)?;
                }
                if let Some(c) = c {
                    self.expr(c, scope, inner)?;
                }
                Ty::List
            }
            Expr::Unary(op, b) => {
                let t = self.expr(b, scope, inner)?;
                match op {
                    UnaryOp::Not => {
                        self.boolish(t, "NOT")?;
                        Ty::Bool
                    }
                    _ => match t {
                        Ty::Int | Ty::Float => t,
                        _ => Ty::Any,
                    },
                }
            }
            Expr::Binary(op, a, b) => {
                let ta = self.expr(a, scope, inner)?;
                let tb = self.expr(b, scope, inner)?;
                use BinaryOp::*;
                match op {
                    Or | Xor | And => {
                        let w = match op {
                            Or => "OR",
                            Xor => "XOR",
                            _ => "AND",
                        };
                        self.boolish(ta, w)?;
                        self.boolish(tb, w)?;
                        Ty::Bool
                    }
                    In => {
                        if matches!(
                            tb,
                            Ty::Bool | Ty::Int | Ty::Float | Ty::Str | Ty::Map | Ty::Node | Ty::Rel
                        ) {
                            return Err(sem(
                                "InvalidArgumentType",
                                format!("Type mismatch: IN expected a List but was {}", tb.name()),
                            ));
                        }
                        Ty::Bool
                    }
                    Eq | Ne | Lt | Le | Gt | Ge | StartsWith | EndsWith | Contains | RegexMatch => {
                        Ty::Bool
                    }
                    Concat => {
                        for t in [ta, tb] {
                            if matches!(
                                t,
                                Ty::Bool | Ty::Int | Ty::Float | Ty::Map | Ty::Node | Ty::Rel
                            ) {
                                return Err(type_err(format!(
                                    "Type mismatch: || expected a String or a List but was {}",
                                    t.name()
                                )));
                            }
                        }
                        if tb == Ty::Str || ta == Ty::Str {
                            Ty::Str
                        } else {
                            Ty::Any
                        }
                    }
                    Add | Sub | Mul | Div | Mod | Pow => {
                        let non_num = |t: Ty| {
                            matches!(t, Ty::Bool | Ty::Map | Ty::Node | Ty::Rel | Ty::Path)
                                || (*op != Add && matches!(t, Ty::Str | Ty::List))
                        };
                        let bad = if *op == Add {
                            // + concatenates strings and lists; it rejects booleans, maps
                            // and graph entities unless a list is involved.
                            !(ta == Ty::List || tb == Ty::List) && (non_num(ta) || non_num(tb))
                        } else {
                            non_num(ta) || non_num(tb)
                        };
                        if bad {
                            return Err(sem(
                                "InvalidArgumentType",
                                format!(
                                    "Type mismatch: arithmetic on {} and {}",
                                    ta.name(),
                                    tb.name()
                                ),
                            ));
                        }
                        match (ta, tb) {
                            (Ty::Int, Ty::Int) if *op != Pow => Ty::Int,
                            (Ty::Float, Ty::Float | Ty::Int) | (Ty::Int, Ty::Float) => Ty::Float,
                            (Ty::Str, Ty::Str) if *op == Add => Ty::Str,
                            (Ty::List, _) | (_, Ty::List) if *op == Add => Ty::List,
                            _ => Ty::Any,
                        }
                    }
                }
            }
            Expr::IsNull(b) | Expr::IsNotNull(b) => {
                self.expr(b, scope, inner)?;
                Ty::Bool
            }
            Expr::HasLabels(b, _) => {
                let t = self.expr(b, scope, inner)?;
                if t.is_scalar() || t == Ty::Path {
                    return Err(sem(
                        "InvalidArgumentType",
                        format!("Type mismatch: expected Node but was {}", t.name()),
                    ));
                }
                Ty::Bool
            }
            Expr::CountStar => {
                self.aggregate_here(ctx, "count(*)")?;
                Ty::Int
            }
            Expr::FunctionCall {
                name,
                distinct,
                args,
            } => self.function(name, *distinct, args, scope, ctx)?,
            Expr::Case {
                operand,
                whens,
                else_,
            } => {
                if let Some(o) = operand {
                    self.expr(o, scope, inner)?;
                }
                for (w, t) in whens {
                    self.expr(w, scope, inner)?;
                    self.expr(t, scope, inner)?;
                }
                if let Some(e) = else_ {
                    self.expr(e, scope, inner)?;
                }
                Ty::Any
            }
            Expr::ListComprehension {
                variable,
                list,
                predicate,
                projection,
            } => {
                let lt = self.expr(list, scope, inner)?;
                self.listish(lt)?;
                let mut s2 = scope.clone();
                s2.insert(variable.clone(), elem_ty(list));
                let body = Ctx {
                    agg: Agg::Forbidden,
                    patterns: ctx.patterns,
                };
                if let Some(p) = predicate {
                    self.no_agg(p, "list comprehensions")?;
                    let t = self.expr(p, &s2, body)?;
                    self.boolish(t, "WHERE")?;
                }
                if let Some(p) = projection {
                    self.no_agg(p, "list comprehensions")?;
                    self.expr(p, &s2, body)?;
                }
                Ty::List
            }
            Expr::PatternComprehension {
                variable,
                pattern,
                predicate,
                projection,
            } => {
                let mut s2 = scope.clone();
                let part = PatternPart {
                    variable: variable.clone(),
                    shortest: None,
                    element: (**pattern).clone(),
                    span: Span::default(),
                };
                self.pattern(std::slice::from_ref(&part), &mut s2, PatMode::Match)?;
                let body = Ctx {
                    agg: Agg::Forbidden,
                    patterns: true,
                };
                if let Some(p) = predicate {
                    self.no_agg(p, "pattern comprehensions")?;
                    self.expr(p, &s2, body)?;
                }
                self.no_agg(projection, "pattern comprehensions")?;
                self.expr(projection, &s2, body)?;
                Ty::List
            }
            Expr::Quantifier {
                variable,
                list,
                predicate,
                ..
            } => {
                let lt = self.expr(list, scope, inner)?;
                self.listish(lt)?;
                let mut s2 = scope.clone();
                s2.insert(variable.clone(), elem_ty(list));
                if let Some(p) = predicate {
                    self.no_agg(p, "quantifiers")?;
                    let t = self.expr(
                        p,
                        &s2,
                        Ctx {
                            agg: Agg::Forbidden,
                            patterns: true,
                        },
                    )?;
                    self.boolish(t, "WHERE")?;
                }
                Ty::Bool
            }
            Expr::Reduce {
                accumulator,
                init,
                variable,
                list,
                expr,
            } => {
                self.expr(init, scope, inner)?;
                let lt = self.expr(list, scope, inner)?;
                self.listish(lt)?;
                let mut s2 = scope.clone();
                s2.insert(accumulator.clone(), Ty::Any);
                s2.insert(variable.clone(), Ty::Any);
                self.no_agg(expr, "reduce")?;
                self.expr(expr, &s2, Ctx::plain())?;
                Ty::Any
            }
            Expr::PatternPredicate(el) => {
                if !ctx.patterns {
                    return Err(sem(
                        "UnexpectedSyntax",
                        "Pattern expressions are only allowed as predicates (in WHERE or exists())",
                    ));
                }
                let mut s2 = scope.clone();
                let part = PatternPart {
                    variable: None,
                    shortest: None,
                    element: (**el).clone(),
                    span: Span::default(),
                };
                self.pattern(std::slice::from_ref(&part), &mut s2, PatMode::Expr)?;
                Ty::Bool
            }
            Expr::ExistsSubquery(q) => {
                self.query(q, scope, Kind::Exists)?;
                Ty::Bool
            }
            Expr::ValueSubquery(kind, q) => {
                let cols = self.query(q, scope, Kind::Exists)?;
                match kind {
                    SubqueryKind::Count => Ty::Int,
                    SubqueryKind::Collect => {
                        let ends_in_return = std::iter::once(&q.first)
                            .chain(q.unions.iter().map(|(_, s)| s))
                            .all(|sq| matches!(sq.clauses.last(), Some(Clause::Return(_))));
                        if cols.len() != 1 || !ends_in_return {
                            return Err(sem(
                                "InvalidClauseComposition",
                                "A COLLECT subquery must end with a RETURN of exactly one column",
                            ));
                        }
                        Ty::List
                    }
                }
            }
            Expr::LabelCheck(b, _) => {
                let t = self.expr(b, scope, inner)?;
                if t.is_scalar() || t == Ty::Path {
                    return Err(sem(
                        "InvalidArgumentType",
                        format!("Type mismatch: expected Node but was {}", t.name()),
                    ));
                }
                Ty::Bool
            }
            Expr::IsType(b, _, _) => {
                self.expr(b, scope, inner)?;
                Ty::Bool
            }
            Expr::MapProjection(b, items) => {
                let t = self.expr(b, scope, inner)?;
                if matches!(t, Ty::Path | Ty::RelList) {
                    return Err(sem(
                        "InvalidArgumentType",
                        format!(
                            "Type mismatch: expected Map, Node or Relationship but was {}",
                            t.name()
                        ),
                    ));
                }
                if t.is_scalar() {
                    return Err(type_err(format!(
                        "Type mismatch: map projection expects a Node, Relationship or Map, got {}",
                        t.name()
                    )));
                }
                for it in items {
                    match it {
                        MapProjectionItem::Variable(v) => {
                            self.var(v, scope)?;
                        }
                        MapProjectionItem::Literal(_, x) => {
                            self.expr(x, scope, inner)?;
                        }
                        _ => {}
                    }
                }
                Ty::Map
            }
        })
    }

    fn listish(&self, t: Ty) -> Result<()> {
        if matches!(
            t,
            Ty::Bool | Ty::Int | Ty::Float | Ty::Str | Ty::Map | Ty::Node | Ty::Rel
        ) {
            return Err(sem(
                "InvalidArgumentType",
                format!("Type mismatch: expected List but was {}", t.name()),
            ));
        }
        Ok(())
    }

    fn no_agg(&self, e: &Expr, what: &str) -> Result<()> {
        if contains_aggregate(e) {
            return Err(sem(
                "InvalidAggregation",
                format!("Aggregations are not allowed inside {what}"),
            ));
        }
        Ok(())
    }

    fn aggregate_here(&self, ctx: Ctx, what: &str) -> Result<()> {
        match ctx.agg {
            Agg::Allowed => Ok(()),
            Agg::Inside => Err(sem(
                "NestedAggregation",
                format!("Can't use aggregate functions inside of aggregate functions ({what})"),
            )),
            Agg::Forbidden => Err(sem(
                "InvalidAggregation",
                format!("Invalid use of aggregating function {what} in this context"),
            )),
        }
    }

    fn function(
        &mut self,
        name: &str,
        distinct: bool,
        args: &[Expr],
        scope: &Scope,
        ctx: Ctx,
    ) -> Result<Ty> {
        let lname = name.to_ascii_lowercase();
        let Some((lo, hi)) = function_arity(&lname) else {
            return Err(sem("UnknownFunction", format!("Unknown function '{name}'")));
        };
        if args.len() < lo || args.len() > hi {
            return Err(sem(
                "InvalidNumberOfArguments",
                format!(
                    "Function {name} expects {} argument(s), got {}",
                    if lo == hi {
                        lo.to_string()
                    } else if hi == usize::MAX {
                        format!("at least {lo}")
                    } else {
                        format!("{lo} to {hi}")
                    },
                    args.len()
                ),
            ));
        }
        let is_agg = AGGREGATES.contains(&lname.as_str());
        if distinct && !is_agg {
            return Err(sem(
                "InvalidArgumentType",
                format!("DISTINCT is only allowed in aggregate functions, not in {name}"),
            ));
        }
        if lname == "rand" && ctx.agg == Agg::Inside {
            return Err(sem(
                "NonConstantExpression",
                "Can't use non-deterministic (random) functions inside of aggregate functions",
            ));
        }
        let arg_ctx = if is_agg {
            self.aggregate_here(ctx, name)?;
            Ctx {
                agg: Agg::Inside,
                patterns: false,
            }
        } else {
            Ctx {
                agg: ctx.agg,
                patterns: ctx.patterns || lname == "exists",
            }
        };
        let mut tys = Vec::with_capacity(args.len());
        for a in args {
            tys.push(self.expr(a, scope, arg_ctx)?);
        }
        let t0 = tys.first().copied().unwrap_or(Ty::Any);
        let bad = |expected: &str, t: Ty| {
            sem(
                "InvalidArgumentType",
                format!(
                    "Type mismatch: {name}() expected {expected} but was {}",
                    t.name()
                ),
            )
        };
        match lname.as_str() {
            "properties" if t0.is_scalar() || t0 == Ty::Path => {
                return Err(bad("Map, Node or Relationship", t0))
            }
            "labels" if t0.is_scalar() || matches!(t0, Ty::Path | Ty::Rel | Ty::Map) => {
                return Err(bad("Node", t0))
            }
            "type" if t0.is_scalar() || matches!(t0, Ty::Path | Ty::Node | Ty::Map) => {
                return Err(bad("Relationship", t0))
            }
            "nodes" | "relationships"
                if t0.is_scalar() || matches!(t0, Ty::Node | Ty::Rel | Ty::Map) =>
            {
                return Err(bad("Path", t0))
            }
            "size"
                if matches!(
                    t0,
                    Ty::Path | Ty::Node | Ty::Rel | Ty::Int | Ty::Float | Ty::Bool
                ) =>
            {
                return Err(bad("String or List", t0))
            }
            "length"
                if matches!(
                    t0,
                    Ty::Node | Ty::Rel | Ty::Int | Ty::Float | Ty::Bool | Ty::Map
                ) =>
            {
                return Err(bad("Path", t0))
            }
            "startnode" | "endnode"
                if t0.is_scalar() || matches!(t0, Ty::Node | Ty::Path | Ty::Map) =>
            {
                return Err(bad("Relationship", t0))
            }
            _ => {}
        }
        Ok(match lname.as_str() {
            "count" | "size" | "id" | "length" | "timestamp" | "sign" => Ty::Int,
            "tointeger" => Ty::Any,
            "collect" | "labels" | "keys" | "nodes" | "relationships" | "range" | "tail"
            | "split" => Ty::List,
            "tostring" | "toupper" | "tolower" | "type" | "substring" | "replace" | "trim"
            | "ltrim" | "rtrim" | "left" | "right" | "randomuuid" | "elementid" => Ty::Str,
            "properties" => Ty::Map,
            "startnode" | "endnode" => Ty::Node,
            "exists" | "isempty" | "isnan" => Ty::Bool,
            "rand" | "pi" | "e" | "sqrt" | "log" | "log10" | "exp" | "sin" | "cos" | "tan"
            | "acos" | "asin" | "atan" | "atan2" | "cot" | "degrees" | "radians" | "haversin" => {
                Ty::Float
            }
            _ => Ty::Any,
        })
    }
}

/// The element type of a list literal whose elements all have the same static type.
fn elem_ty(list: &Expr) -> Ty {
    let Expr::List(items) = list else {
        return Ty::Any;
    };
    let mut t: Option<Ty> = None;
    for it in items {
        let ti = match it {
            Expr::Literal(v) => Ty::of_value(v),
            Expr::List(_) => Ty::List,
            Expr::Map(_) => Ty::Map,
            _ => return Ty::Any,
        };
        match t {
            None => t = Some(ti),
            Some(prev) if prev == ti => {}
            Some(_) => return Ty::Any,
        }
    }
    match t {
        Some(Ty::Null) | None => Ty::Any,
        Some(t) => t,
    }
}

/// In an aggregating projection item, every variable used outside an aggregate must be a
/// grouping key (the variable itself, or the exact property access, projected as a key).
fn check_ambiguous(e: &Expr, keys: &[&Expr], locals: &HashSet<String>) -> Result<()> {
    if keys.contains(&e) && matches!(e, Expr::Variable(_) | Expr::Property(..)) {
        return Ok(());
    }
    let amb = || {
        sem(
            "AmbiguousAggregationExpression",
            "Aggregation column contains implicit grouping expressions; project them as grouping keys first",
        )
    };
    match e {
        Expr::CountStar => Ok(()),
        Expr::FunctionCall { name, .. } if is_aggregate_function(name) => Ok(()),
        Expr::Variable(v) => {
            if locals.contains(v) {
                Ok(())
            } else {
                Err(amb())
            }
        }
        Expr::Property(b, _) => {
            if let Expr::Variable(v) = b.as_ref() {
                if locals.contains(v)
                    || keys
                        .iter()
                        .any(|k| matches!(k, Expr::Variable(x) if x == v))
                {
                    return Ok(());
                }
                return Err(amb());
            }
            check_ambiguous(b, keys, locals)
        }
        Expr::ListComprehension {
            variable,
            list,
            predicate,
            projection,
        } => {
            check_ambiguous(list, keys, locals)?;
            let mut l2 = locals.clone();
            l2.insert(variable.clone());
            if let Some(p) = predicate {
                check_ambiguous(p, keys, &l2)?;
            }
            if let Some(p) = projection {
                check_ambiguous(p, keys, &l2)?;
            }
            Ok(())
        }
        Expr::Quantifier {
            variable,
            list,
            predicate,
            ..
        } => {
            check_ambiguous(list, keys, locals)?;
            let mut l2 = locals.clone();
            l2.insert(variable.clone());
            if let Some(p) = predicate {
                check_ambiguous(p, keys, &l2)?;
            }
            Ok(())
        }
        Expr::Reduce {
            accumulator,
            init,
            variable,
            list,
            expr,
        } => {
            check_ambiguous(init, keys, locals)?;
            check_ambiguous(list, keys, locals)?;
            let mut l2 = locals.clone();
            l2.insert(variable.clone());
            l2.insert(accumulator.clone());
            check_ambiguous(expr, keys, &l2)
        }
        Expr::PatternComprehension { .. }
        | Expr::PatternPredicate(_)
        | Expr::ExistsSubquery(_)
        | Expr::ValueSubquery(..) => Ok(()),
        other => {
            let mut res = Ok(());
            for_each_child(other, &mut |c| {
                if res.is_ok() {
                    res = check_ambiguous(c, keys, locals);
                }
            });
            res
        }
    }
}

/// Direct children of an expression (for the simple structural cases).
fn for_each_child(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    match e {
        Expr::List(v) => v.iter().for_each(f),
        Expr::Map(m) => m.iter().for_each(|(_, x)| f(x)),
        Expr::Property(b, _)
        | Expr::IsNull(b)
        | Expr::IsNotNull(b)
        | Expr::HasLabels(b, _)
        | Expr::LabelCheck(b, _)
        | Expr::IsType(b, _, _)
        | Expr::Once(b, _)
        | Expr::Unary(_, b) => f(b),
        Expr::Index(a, b) | Expr::Binary(_, a, b) => {
            f(a);
            f(b);
        }
        Expr::Slice(a, b, c) => {
            f(a);
            if let Some(b) = b {
                f(b);
            }
            if let Some(c) = c {
                f(c);
            }
        }
        Expr::FunctionCall { args, .. } => args.iter().for_each(f),
        Expr::Case {
            operand,
            whens,
            else_,
        } => {
            if let Some(o) = operand {
                f(o);
            }
            for (a, b) in whens {
                f(a);
                f(b);
            }
            if let Some(x) = else_ {
                f(x);
            }
        }
        Expr::MapProjection(b, items) => {
            f(b);
            for it in items {
                if let MapProjectionItem::Literal(_, x) = it {
                    f(x);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn function_catalog_matches_the_known_functions() {
        let mut a: Vec<String> = super::function_catalog()
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        let mut b: Vec<String> = super::FUNCTIONS
            .iter()
            .map(|(n, _, _)| n.to_string())
            .collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    use super::check;
    use crate::parser::parse;
    use graphward_core::ErrorCode;

    fn outcome(q: &str) -> Result<(), (ErrorCode, String)> {
        let stmt = parse(q, 200).map_err(|e| (e.code, e.into_data().detail.unwrap_or_default()))?;
        check(&stmt).map_err(|e| (e.code, e.into_data().detail.unwrap_or_default()))
    }

    #[test]
    fn valid_queries_pass() {
        for q in [
            "MATCH (n) RETURN n LIMIT 25",
            "MATCH (n:Person) WHERE n.name = $name RETURN n.name AS name, count(*) AS c ORDER BY c DESC",
            "UNWIND $rows AS row MERGE (n:N {id: row.id}) SET n += row",
            "MATCH (a), (b) WHERE id(a) = 1 CREATE (a)-[:R]->(b)",
            "MATCH (a) CREATE (a)-[:R]->(b:B {x: a.x})",
            "CREATE (n $props) RETURN n",
            "MATCH (a)-[r]->(b) WITH a, count(r) AS c WHERE c > 1 RETURN a, c",
            "MATCH (n) WITH n ORDER BY n.x SKIP $s LIMIT 10 RETURN n",
            "MATCH (n) RETURN DISTINCT n.name ORDER BY n.name",
            "MATCH (me)--(you) RETURN me.age AS age, count(you.age) AS cnt ORDER BY me.age + count(you.age)",
            "MATCH (n) WHERE (n)-->() AND NOT exists((n)<--()) RETURN n",
            "MATCH (n) WHERE EXISTS { MATCH (n)-->(m) WHERE m.x > 1 } RETURN n",
            "MATCH (n) RETURN [(n)-->(m) | m.name] AS names",
            "RETURN [x IN range(1, 10) WHERE x % 2 = 0 | x * x] AS sq",
            "RETURN reduce(acc = 0, x IN [1, 2, 3] | acc + x) AS s",
            "CALL db.labels()",
            "CALL db.labels() YIELD label RETURN label",
            "CALL db.labels() YIELD *",
            "RETURN 1 AS a UNION RETURN 2 AS a",
            "FOREACH (x IN [1, 2] | CREATE (:N {x: x}))",
            "MATCH (n) CALL { WITH n RETURN n.x AS x } RETURN x",
            "MATCH p = (a)-[*1..3]->(b) RETURN nodes(p), length(p)",
            "MATCH (n) DETACH DELETE n",
            "MATCH (n) WITH n, n.x AS x WHERE x > 1 RETURN n",
            "RETURN date.truncate('month', date()) AS d, duration.between(date(), date()) AS e",
            "MATCH (n) SET n:Label, n.x = 1 REMOVE n.y RETURN n",
            "CREATE DATABASE foo",
            "EXPLAIN MATCH (n) RETURN n",
            "RETURN toUpper('a') + 'b' AS s, 'x' + 1 AS t, [1] + [2] AS l",
        ] {
            if let Err(e) = outcome(q) {
                panic!("{q}: unexpected error {e:?}");
            }
        }
    }

    #[test]
    fn errors_have_tck_details() {
        for (q, d) in [
            ("MATCH (a) RETURN b", "UndefinedVariable"),
            ("MATCH (a) WITH a.x AS x RETURN a", "UndefinedVariable"),
            ("MATCH (a)-[a]->() RETURN a", "VariableTypeConflict"),
            (
                "MATCH (n) WITH [n] AS users MATCH (users)-->(m) RETURN m",
                "VariableTypeConflict",
            ),
            ("MATCH (a) CREATE (a:L)", "VariableAlreadyBound"),
            ("MATCH (a) CREATE (a)", "VariableAlreadyBound"),
            ("MATCH (a) MERGE (a)", "VariableAlreadyBound"),
            (
                "MATCH p = (a) MATCH p = (b) RETURN p",
                "VariableAlreadyBound",
            ),
            ("MATCH ()-[r]->() CREATE ()-[r]->()", "VariableAlreadyBound"),
            ("CREATE (a)-[:A|B]->(b)", "NoSingleRelationshipType"),
            ("CREATE (a)-->(b)", "NoSingleRelationshipType"),
            ("CREATE (a)-[:R*2]->(b)", "CreatingVarLength"),
            ("CREATE (a)-[:R]-(b)", "RequiresDirectedRelationship"),
            (
                "MATCH (a)-[:R*-2]->(b) RETURN a",
                "InvalidRelationshipPattern",
            ),
            (
                "MATCH (a)-[r]->()-[r]->(a) RETURN r",
                "RelationshipUniquenessViolation",
            ),
            (
                "MATCH (a) WHERE count(a) > 1 RETURN a",
                "InvalidAggregation",
            ),
            ("RETURN count(count(*))", "NestedAggregation"),
            (
                "MATCH (n) RETURN n.x ORDER BY max(n.y)",
                "InvalidAggregation",
            ),
            (
                "MATCH (a)--(b) RETURN a.x + count(b.x)",
                "AmbiguousAggregationExpression",
            ),
            ("RETURN 1 AS a, 2 AS a", "ColumnNameConflict"),
            (
                "RETURN 1 AS a UNION RETURN 2 AS b",
                "DifferentColumnsInUnion",
            ),
            (
                "RETURN 1 AS a UNION RETURN 2 AS a UNION ALL RETURN 3 AS a",
                "InvalidClauseComposition",
            ),
            ("MATCH (n) RETURN n RETURN n", "InvalidClauseComposition"),
            ("MATCH (n)", "InvalidClauseComposition"),
            ("CREATE (n) MATCH (m) RETURN m", "InvalidClauseComposition"),
            ("MATCH (a) WITH a, count(*) RETURN a", "NoExpressionAlias"),
            ("MATCH () RETURN *", "NoVariablesInScope"),
            ("MATCH (n) DELETE n:Person", "InvalidDelete"),
            ("RETURN foo(1)", "UnknownFunction"),
            ("RETURN toUpper('a', 'b')", "InvalidNumberOfArguments"),
            ("RETURN properties(1)", "InvalidArgumentType"),
            ("RETURN 1 IN 123", "InvalidArgumentType"),
            ("RETURN true AND 1", "InvalidArgumentType"),
            (
                "RETURN any(x IN ['a'] WHERE x % 2 = 0)",
                "InvalidArgumentType",
            ),
            ("MATCH (n) RETURN n SKIP -1", "NegativeIntegerArgument"),
            ("MATCH (n) RETURN n LIMIT n.x", "NonConstantExpression"),
            ("MATCH (n $p) RETURN n", "InvalidParameterUse"),
            ("MERGE (n $p) RETURN n", "InvalidParameterUse"),
            ("MATCH (n) RETURN (n)-->()", "UnexpectedSyntax"),
            ("MATCH (n) WHERE (n)-[r]->() RETURN n", "UndefinedVariable"),
            (
                "MATCH (n) WHERE EXISTS { MATCH (n)-->(m) SET m.x = 1 } RETURN n",
                "InvalidClauseComposition",
            ),
            ("CALL p.x() YIELD * RETURN 1", "UnexpectedSyntax"),
        ] {
            match outcome(q) {
                Ok(()) => panic!("{q}: expected {d}, got Ok"),
                Err((code, detail)) => {
                    assert_eq!(detail, d, "{q}");
                    assert!(
                        matches!(code, ErrorCode::SyntaxError | ErrorCode::SemanticError),
                        "{q}: {code:?}"
                    );
                }
            }
        }
        let q = "MATCH (a)\nRETURN b";
        let stmt = parse(q, 200).map_err(|e| e.to_string());
        let e = stmt.and_then(|s| super::check_with_source(&s, q).map_err(|e| e.to_string()));
        assert!(
            matches!(&e, Err(m) if m.contains("line 2, column 8")),
            "{e:?}"
        );
        // TCK TypeError at compile time.
        assert_eq!(
            outcome("WITH 1 AS x RETURN x.num"),
            Err((ErrorCode::TypeError, "InvalidArgumentType".to_string()))
        );
    }
}
