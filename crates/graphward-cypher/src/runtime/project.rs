//! Read clauses shared by the main runner and subqueries: MATCH, UNWIND, WITH/RETURN
//! projection with aggregation, DISTINCT, ORDER BY, SKIP and LIMIT.

use std::collections::HashMap;
use std::sync::Arc;

use graphward_core::{Error, ErrorCode, Result, Value};

use super::eval::{row_size, Ev, Row, Slots, Vars};
use super::plan::ScanPage;
use super::values::{self, as_f64, key, order};
use crate::ast::{Clause, Expr, Match, Projection, Query, SingleQuery, SortItem, Unwind};
use crate::semantic::is_aggregate_function;

/// Result of a projection: column names (in order) and rows.
pub struct Projected {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

impl<'a> Ev<'a> {
    pub fn match_clause(
        &self,
        m: &Match,
        rows: Vec<Row>,
        scope: &mut Vec<String>,
    ) -> Result<Vec<Row>> {
        // Several independent parts: one after another, each with the WHERE conjuncts bound
        // by then (as the streaming plan matches them), not a product filtered at the end.
        if super::plan::splits(m) {
            let mut rows = rows;
            for part in super::plan::split_parts(m, scope) {
                rows = self.match_clause(&part, rows, scope)?;
            }
            return Ok(rows);
        }
        let new_vars = pattern_vars(&m.pattern);
        let mut out = Vec::new();
        for row in rows {
            let matches = self.match_pattern(&m.pattern, &row)?;
            let mut any = false;
            for r in matches {
                if let Some(w) = &m.where_ {
                    if self.eval(w, &r)? != Value::Bool(true) {
                        continue;
                    }
                }
                any = true;
                self.env.charge_row(&r)?;
                out.push(r);
            }
            if m.optional && !any {
                let mut r = row;
                for v in &new_vars {
                    r.entry(v.clone()).or_insert(Value::Null);
                }
                self.env.charge_row(&r)?;
                out.push(r);
            }
            self.env.check_rows(out.len())?;
        }
        for v in new_vars {
            if !scope.contains(&v) {
                scope.push(v);
            }
        }
        Ok(out)
    }

    pub fn unwind_clause(
        &self,
        u: &Unwind,
        rows: Vec<Row>,
        scope: &mut Vec<String>,
    ) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        for row in rows {
            self.env.check()?;
            match self.eval(&u.expr, &row)? {
                Value::Null => {}
                Value::List(items) => {
                    for it in items {
                        let mut r = row.clone();
                        r.insert(u.variable.clone(), it);
                        self.env.charge_row(&r)?;
                        out.push(r);
                    }
                }
                other => {
                    let mut r = row;
                    r.insert(u.variable.clone(), other);
                    self.env.charge_row(&r)?;
                    out.push(r);
                }
            }
            self.env.check_rows(out.len())?;
        }
        if !scope.contains(&u.variable) {
            scope.push(u.variable.clone());
        }
        Ok(out)
    }

    /// WITH / RETURN.
    pub fn project(
        &self,
        p: &Projection,
        rows: Vec<Row>,
        scope: &[String],
        where_: Option<&Expr>,
    ) -> Result<Projected> {
        let items = projection_items(p, scope);
        let columns: Vec<String> = items.iter().map(|(n, _)| n.clone()).collect();
        let aggregating = items.iter().any(|(_, e)| contains_aggregate(e));

        // (projected row, row to evaluate ORDER BY against)
        let mut out: Vec<(Row, Row)> = Vec::new();
        if aggregating {
            out = self.aggregate(&items, rows)?;
        } else {
            for row in rows {
                self.env.check()?;
                let mut pr = Row::new();
                for (n, e) in &items {
                    pr.insert(n.clone(), self.eval(e, &row)?);
                }
                let mut sort_row = row;
                for (k, v) in &pr {
                    sort_row.insert(k.clone(), v.clone());
                }
                // The projected row, and the copies of its values (and keys) in the row
                // ORDER BY reads (the input row, already charged with its table).
                self.env.charge_row(&pr)?;
                let copies: usize = pr
                    .iter()
                    .map(|(k, v)| {
                        32 + k.len() + values::measure(v).bytes - std::mem::size_of::<Value>()
                    })
                    .sum();
                self.env.mem.building.grow(copies as u64)?;
                out.push((pr, sort_row));
            }
        }
        let rows = self.finish_projection(p, &items, &columns, out, where_)?;
        Ok(Projected { columns, rows })
    }

    /// The part of WITH / RETURN after the items are computed: DISTINCT, ORDER BY, SKIP,
    /// LIMIT and WITH's WHERE over `(projected row, row ORDER BY reads)` pairs.
    pub(crate) fn finish_projection(
        &self,
        p: &Projection,
        items: &[(String, Expr)],
        columns: &[String],
        mut out: Vec<(Row, Row)>,
        where_: Option<&Expr>,
    ) -> Result<Vec<Row>> {
        if p.distinct {
            let mut seen = std::collections::HashSet::new();
            out.retain(|(pr, _)| {
                let k: String = columns
                    .iter()
                    .map(|c| key(pr.get(c).unwrap_or(&Value::Null)))
                    .collect::<Vec<_>>()
                    .join("\u{1}");
                seen.insert(k)
            });
        }

        if !p.order_by.is_empty() {
            let sort_items: Vec<SortItem> = p
                .order_by
                .iter()
                .map(|s| SortItem {
                    expr: substitute_items(&s.expr, items),
                    ascending: s.ascending,
                })
                .collect();
            let mut keyed: Vec<(Vec<Value>, (Row, Row))> = Vec::with_capacity(out.len());
            for (pr, sr) in out {
                let mut ks = Vec::with_capacity(sort_items.len());
                for s in &sort_items {
                    ks.push(self.eval(&s.expr, &sr)?);
                }
                keyed.push((ks, (pr, sr)));
            }
            keyed.sort_by(|a, b| {
                for (i, s) in sort_items.iter().enumerate() {
                    let o = order(&a.0[i], &b.0[i]);
                    let o = if s.ascending { o } else { o.reverse() };
                    if o != std::cmp::Ordering::Equal {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            });
            out = keyed.into_iter().map(|(_, r)| r).collect();
        }

        let empty = Row::new();
        if let Some(s) = &p.skip {
            let n = self.count_arg(s, &empty, "SKIP")?;
            out = out.into_iter().skip(n).collect();
        }
        if let Some(l) = &p.limit {
            let n = self.count_arg(l, &empty, "LIMIT")?;
            out.truncate(n);
        }
        // WHERE after WITH sees the projected variables and also those bound before the WITH
        // (openCypher: WithWhere7), so it is evaluated against the extended row.
        if let Some(w) = where_ {
            let mut kept = Vec::with_capacity(out.len());
            for (pr, sr) in out {
                self.env.check()?;
                if self.eval(w, &sr)? == Value::Bool(true) {
                    kept.push((pr, sr));
                }
            }
            out = kept;
        }
        let rows: Vec<Row> = out.into_iter().map(|(pr, _)| pr).collect();
        self.env.check_table(&rows)?;
        Ok(rows)
    }

    pub(crate) fn count_arg(&self, e: &Expr, row: &Row, what: &str) -> Result<usize> {
        match self.eval(e, row)? {
            Value::Int(i) if i >= 0 => Ok(i as usize),
            // openCypher classifies these as syntax errors raised at runtime.
            Value::Int(_) => Err(
                Error::syntax(format!("{what} must be a non-negative integer"))
                    .with_detail("NegativeIntegerArgument"),
            ),
            other => Err(Error::syntax(format!(
                "{what} must be a non-negative integer, got {}",
                other.type_name()
            ))
            .with_detail("InvalidArgumentType")),
        }
    }

    fn aggregate(&self, items: &[(String, Expr)], rows: Vec<Row>) -> Result<Vec<(Row, Row)>> {
        let mut agg = Aggregator::new(self, items);
        for row in rows {
            self.env.check()?;
            agg.feed(self, &row as &dyn Vars)?;
        }
        agg.finish(self)
    }

    /// Run a read-only query (EXISTS subqueries) starting from `row`.
    /// A read-only subquery (EXISTS, COUNT, COLLECT) with all its UNION branches: the
    /// columns and the rows.
    pub fn run_subquery(&self, q: &Query, row: &Row) -> Result<(Vec<String>, Vec<Row>)> {
        let mut cols = Vec::new();
        let mut out = Vec::new();
        let mut distinct = false;
        let branches =
            std::iter::once((&true, &q.first)).chain(q.unions.iter().map(|(a, s)| (a, s)));
        for (i, (all, sq)) in branches.enumerate() {
            let (c, rows) = self.run_read_single(sq, row, false)?;
            if i == 0 {
                cols = c;
            }
            if !*all {
                distinct = true;
            }
            out.extend(rows);
        }
        if distinct {
            let mut seen = std::collections::HashSet::new();
            out.retain(|r| {
                let k: Vec<String> = cols
                    .iter()
                    .map(|c| super::values::key(r.get(c).unwrap_or(&Value::Null)))
                    .collect();
                seen.insert(k.join("\u{1}"))
            });
        }
        Ok((cols, out))
    }

    pub fn run_read_query(&self, q: &Query, row: &Row) -> Result<Vec<Row>> {
        if !q.unions.is_empty() {
            return Ok(self.run_subquery(q, row)?.1);
        }
        Ok(self.run_read_single(&q.first, row, true)?.1)
    }

    /// One branch; `stop_early`: stop at the first clause that leaves no rows (EXISTS only
    /// needs to know whether there is one).
    fn run_read_single(
        &self,
        sq: &SingleQuery,
        row: &Row,
        stop_early: bool,
    ) -> Result<(Vec<String>, Vec<Row>)> {
        let mut cols = Vec::new();
        let mut rows = vec![row.clone()];
        let mut scope: Vec<String> = row.keys().cloned().collect();
        for c in &sq.clauses {
            rows =
                match c {
                    Clause::Match(m) => self.match_clause(m, rows, &mut scope)?,
                    Clause::Unwind(u) => self.unwind_clause(u, rows, &mut scope)?,
                    Clause::With(w) => {
                        let p = self.project(&w.projection, rows, &scope, w.where_.as_ref())?;
                        scope = p.columns;
                        p.rows
                    }
                    Clause::Return(r) => {
                        let p = self.project(&r.projection, rows, &scope, None)?;
                        cols = p.columns;
                        p.rows
                    }
                    _ => return Err(Error::new(
                        ErrorCode::SyntaxError,
                        "only reading clauses are allowed in an EXISTS, COUNT or COLLECT subquery",
                    )
                    .with_detail("InvalidClauseComposition")),
                };
            // A subquery's rows count against the same row and memory limits as a query's.
            self.env.check_table(&rows)?;
            if rows.is_empty() && stop_early {
                break;
            }
        }
        Ok((cols, rows))
    }
}

/// Grouping and aggregation, fed one row at a time (the clause runner feeds a table, the
/// streaming executor its input as it is pulled, so no input row is buffered). The groups and
/// what their accumulators keep (collect, DISTINCT, percentiles) are charged to the query.
pub(crate) struct Aggregator {
    /// The items with aggregate calls replaced by placeholders, and whether each aggregates.
    rewritten: Vec<(String, Expr, bool)>,
    /// The aggregate calls and their argument expressions.
    aggs: Vec<Expr>,
    args: Vec<Vec<Expr>>,
    groups: Vec<Group>,
    index: HashMap<String, usize>,
    state: graphward_core::memory::Reservation,
    no_keys: bool,
    /// The scope frames are fed through (see [`Aggregator::bound_to`]), and per aggregate
    /// its argument resolved to a slot of it.
    bound: Option<Bound>,
    /// Scratch buffers for a row's grouping key and its values.
    key_buf: String,
    val_buf: Vec<Value>,
}

/// The scope an aggregator is bound to, and per aggregate its argument's slot there.
#[derive(Clone)]
struct Bound {
    scope: Arc<Slots>,
    args: Vec<Option<SlotArg>>,
}

/// An aggregate's single argument read straight from a frame slot: the variable itself, or
/// one property of it.
#[derive(Clone, Copy)]
enum SlotArg {
    Var(usize),
    Prop(usize),
}

/// Aggregate `i`'s argument slot, with the frame to read it from, when `row` is a frame read
/// through the scope the aggregator is bound to.
fn slot_of<'r>(
    bound: &Option<Bound>,
    i: usize,
    row: &'r dyn Vars,
) -> Option<(&'r [Value], SlotArg)> {
    let Bound { scope, args } = bound.as_ref()?;
    let (frame, through) = row.frame()?;
    if !std::ptr::eq(scope.as_ref(), through) {
        return None;
    }
    Some((frame, args.get(i).copied().flatten()?))
}

/// How an aggregate takes a row of a scan's page: counted, or fed the property read with it.
#[derive(Clone, Copy)]
pub(crate) enum PageArg {
    Count,
    Prop,
}

/// The aggregates of the one group (no grouping keys) over a part of the input, fed on any
/// thread (see [`Aggregator::partial`]): nothing they keep grows with the input, so nothing
/// is charged.
#[derive(Clone)]
pub(crate) struct Partial {
    accs: Vec<Acc>,
}

impl Partial {
    /// A page of a scan given as its totals ([`graphward_storage::PropertyStats`], none of
    /// its values other than integers or missing): what feeding its rows one by one gives,
    /// each aggregate taking them as `args` says. `false` (nothing taken) for an aggregate
    /// that needs the rows.
    pub(crate) fn absorb_stats(
        &mut self,
        args: &[PageArg],
        st: &graphward_storage::PropertyStats,
    ) -> Result<bool> {
        if st.other || !self.takes_stats(args) {
            return Ok(false);
        }
        for (acc, arg) in self.accs.iter_mut().zip(args) {
            match arg {
                PageArg::Count => acc.count += st.rows as i64,
                PageArg::Prop => acc.add_stats(st)?,
            }
        }
        Ok(true)
    }

    /// Whether every aggregate can take a page's totals ([`Partial::absorb_stats`]): a
    /// count of rows, or a count, sum, average, min or max (not DISTINCT) of the property.
    pub(crate) fn takes_stats(&self, args: &[PageArg]) -> bool {
        self.accs.iter().zip(args).all(|(acc, arg)| {
            matches!(arg, PageArg::Count)
                || (!acc.distinct
                    && matches!(
                        acc.func,
                        Func::Count | Func::Sum | Func::Avg | Func::Min | Func::Max
                    ))
        })
    }

    /// Rows of a scan's page (in any order), each aggregate taking them as `args` says
    /// ([`Aggregator::page_args`]).
    pub(crate) fn feed_rows(
        &mut self,
        args: &[PageArg],
        rows: Vec<(graphward_storage::NodeId, Option<Value>)>,
    ) -> Result<()> {
        feed_page_rows(&mut self.accs, args, rows.into_iter(), |acc, x| {
            acc.feed(x, None)
        })
    }
}

/// The rows of a scan's page into `accs` as `args` says: counted, or their value handed to
/// `feed` (moved into the last aggregate that takes it, a copy to the others; a missing
/// property as null).
fn feed_page_rows(
    accs: &mut [Acc],
    args: &[PageArg],
    rows: impl Iterator<Item = (graphward_storage::NodeId, Option<Value>)>,
    mut feed: impl FnMut(&mut Acc, Value) -> Result<()>,
) -> Result<()> {
    let last = args.iter().rposition(|a| matches!(a, PageArg::Prop));
    for (_, mut v) in rows {
        for (i, (acc, arg)) in accs.iter_mut().zip(args).enumerate() {
            match arg {
                PageArg::Count => acc.count += 1,
                PageArg::Prop => {
                    let x = if Some(i) == last { v.take() } else { v.clone() };
                    feed(acc, x.unwrap_or(Value::Null))?;
                }
            }
        }
    }
    Ok(())
}

/// Feeds one row's arguments to `acc`, charging what it keeps of them (DISTINCT, collect, the
/// percentiles) to `state`.
fn feed_acc(
    state: &mut graphward_core::memory::Reservation,
    acc: &mut Acc,
    first: Value,
    second: Option<Value>,
) -> Result<()> {
    if acc.distinct || acc.retains() {
        let m = values::measure(&first);
        values::check_depth(m.depth + 1)?;
        let copies = usize::from(acc.distinct) + usize::from(acc.retains());
        state.grow((m.bytes * copies) as u64)?;
    }
    acc.feed(first, second)
}

struct Group {
    first: Row,
    keys: Row,
    accs: Vec<Acc>,
}

impl Aggregator {
    pub(crate) fn new(ev: &Ev, items: &[(String, Expr)]) -> Aggregator {
        // Rewrite aggregate calls into placeholder variables.
        let mut aggs: Vec<Expr> = Vec::new();
        let rewritten: Vec<(String, Expr, bool)> = items
            .iter()
            .map(|(n, e)| {
                let is_agg = contains_aggregate(e);
                (n.clone(), extract_aggs(e, &mut aggs), is_agg)
            })
            .collect();
        let args = aggs.iter().map(|a| agg_parts(a).0).collect();
        let no_keys = rewritten.iter().all(|(_, _, a)| *a);
        Aggregator {
            rewritten,
            aggs,
            args,
            groups: Vec::new(),
            index: HashMap::new(),
            state: ev.env.mem.reservation(),
            no_keys,
            bound: None,
            key_buf: String::new(),
            val_buf: Vec::new(),
        }
    }

    /// Resolves the arguments of the aggregates that read a variable, or a property of one,
    /// to slots of `scope` once: rows fed through that scope read them without a lookup by
    /// name (any other argument, or a row not read through `scope`, is evaluated as usual).
    pub(crate) fn bound_to(mut self, scope: &Arc<Slots>) -> Aggregator {
        let slot = |v: &str| scope.iter().find(|(n, _)| n == v).map(|(_, s)| *s);
        let args = self
            .args
            .iter()
            .map(|a| match a.as_slice() {
                [Expr::Variable(v)] => slot(v).map(SlotArg::Var),
                [Expr::Property(b, _)] => match &**b {
                    Expr::Variable(v) => slot(v).map(SlotArg::Prop),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        self.bound = Some(Bound {
            scope: scope.clone(),
            args,
        });
        self
    }

    /// A plain scan's page of rows (see [`super::plan::Node::scan_page`]), each row's value
    /// taken straight into the aggregates as `args` says ([`Aggregator::page_args`]); the
    /// frame is left holding the last row, as if the rows had been pulled.
    pub(crate) fn feed_page(
        &mut self,
        ev: &Ev,
        args: &[PageArg],
        mut page: ScanPage,
        frame: &mut [Value],
    ) -> Result<()> {
        let rows = std::mem::take(&mut page.rows);
        if let Some((id, v)) = rows.first() {
            page.write_row(ev, frame, *id, v.clone());
        }
        let Some(g) = self.groups.first_mut() else {
            return Err(Error::internal("aggregation group missing"));
        };
        let state = &mut self.state;
        // (The page is in reverse: the next row last.)
        feed_page_rows(&mut g.accs, args, rows.into_iter().rev(), |acc, x| {
            feed_acc(state, acc, x, None)
        })
    }

    /// Fresh accumulators for a part of the input of the one group, to be merged into it
    /// ([`Aggregator::merge`]): when the group exists and each of its aggregates' partial
    /// results merges into what feeding it the whole input gives (`count`, `sum`, `avg`,
    /// `min` and `max`, none DISTINCT). `None` otherwise.
    pub(crate) fn partial(&self) -> Option<Partial> {
        if !self.no_keys {
            return None;
        }
        let g = self.groups.first()?;
        let mergeable = |a: &Acc| {
            !a.distinct
                && matches!(
                    a.func,
                    Func::CountStar | Func::Count | Func::Sum | Func::Avg | Func::Min | Func::Max
                )
        };
        g.accs.iter().all(mergeable).then(|| Partial {
            accs: g.accs.iter().map(Acc::blank).collect(),
        })
    }

    /// Whether parts of the input may be aggregated apart ([`Aggregator::fork`]) and merged
    /// ([`Aggregator::absorb`]) into what aggregating the whole gives: unless an aggregate
    /// is `sum(DISTINCT ...)` or `avg(DISTINCT ...)` (they keep the distinct values' keys,
    /// not the values, so a later part's values seen before could not be taken out).
    pub(crate) fn forks(&self) -> bool {
        !self.aggs.iter().any(|a| match a {
            Expr::FunctionCall {
                distinct: true,
                name,
                ..
            } => matches!(Func::of(name), Func::Sum | Func::Avg),
            _ => false,
        })
    }

    /// An aggregator like this one that has seen nothing, for a part of the input (fed on
    /// any thread), what it keeps charged to `mem`'s query.
    pub(crate) fn fork(&self, mem: &super::eval::MemAccount) -> Aggregator {
        Aggregator {
            rewritten: self.rewritten.clone(),
            aggs: self.aggs.clone(),
            args: self.args.clone(),
            groups: Vec::new(),
            index: HashMap::new(),
            state: mem.reservation(),
            no_keys: self.no_keys,
            bound: self.bound.clone(),
            key_buf: String::new(),
            val_buf: Vec::new(),
        }
    }

    /// The groups of parts of the input that come after what this aggregator has seen, in
    /// the input's order, merged in as feeding those rows in turn would have: a group this
    /// one has merges its aggregates, a new one joins at the end (first seen, first out),
    /// and what the parts kept is charged to this aggregator. See [`Aggregator::forks`].
    pub(crate) fn absorb(&mut self, parts: Vec<Aggregator>) -> Result<()> {
        for part in parts {
            let mut keys: Vec<Option<String>> = vec![None; part.groups.len()];
            for (k, i) in part.index {
                if let Some(slot) = keys.get_mut(i) {
                    *slot = Some(k);
                }
            }
            self.state.grow(part.state.size())?;
            for (g, k) in part.groups.into_iter().zip(keys) {
                let k = k.unwrap_or_default();
                match self.index.get(&k) {
                    Some(&i) => {
                        let Some(mine) = self.groups.get_mut(i) else {
                            return Err(Error::internal("aggregation group missing"));
                        };
                        for (a, b) in mine.accs.iter_mut().zip(g.accs) {
                            a.merge(b)?;
                        }
                    }
                    None => {
                        self.groups.push(g);
                        self.index.insert(k, self.groups.len() - 1);
                    }
                }
            }
        }
        Ok(())
    }

    /// The partial results of parts of the input, in the input's order, merged into the one
    /// group (see [`Aggregator::partial`]).
    pub(crate) fn merge(&mut self, parts: impl IntoIterator<Item = Partial>) -> Result<()> {
        let Some(g) = self.groups.first_mut() else {
            return Err(Error::internal("aggregation group missing"));
        };
        for part in parts {
            for (acc, p) in g.accs.iter_mut().zip(part.accs) {
                acc.merge(p)?;
            }
        }
        Ok(())
    }

    /// How each aggregate takes the rows of a scan of node slot `slot` that reads property
    /// `key` with the node, if every one can take them straight from the scan's page:
    /// without grouping keys, once the one group exists, aggregates of `count(*)`, of the
    /// node (`count(n)`) and of that property (`sum(n.p)`, `max(n.p)`).
    pub(crate) fn page_args(&self, slot: Option<usize>, key: Option<&str>) -> Option<Vec<PageArg>> {
        if !self.no_keys {
            return None;
        }
        let bound = self.bound.as_ref()?;
        let g = self.groups.first()?;
        g.accs
            .iter()
            .zip(&self.args)
            .zip(&bound.args)
            .map(
                |((acc, args), arg_slot)| match (acc.func, args.as_slice(), arg_slot) {
                    (Func::CountStar, _, _) => Some(PageArg::Count),
                    (Func::Count, [Expr::Variable(_)], Some(SlotArg::Var(s)))
                        if !acc.distinct && slot == Some(*s) =>
                    {
                        Some(PageArg::Count)
                    }
                    (_, [Expr::Property(_, k)], Some(SlotArg::Prop(s)))
                        if slot == Some(*s) && key == Some(k.as_str()) =>
                    {
                        Some(PageArg::Prop)
                    }
                    _ => None,
                },
            )
            .collect()
    }

    pub(crate) fn feed(&mut self, ev: &Ev, row: &dyn Vars) -> Result<()> {
        let gi = if self.no_keys && !self.groups.is_empty() {
            0
        } else {
            // The grouping key in a buffer kept between rows; the keys' row is built only
            // for a new group.
            let mut kstr = std::mem::take(&mut self.key_buf);
            kstr.clear();
            let mut vals = std::mem::take(&mut self.val_buf);
            vals.clear();
            for (_, e, is_agg) in &self.rewritten {
                if !is_agg {
                    let v = ev.eval_in(e, row)?;
                    values::write_key(&v, &mut kstr);
                    kstr.push('\u{1}');
                    vals.push(v);
                }
            }
            let found = self.index.get(kstr.as_str()).copied();
            let gi = match found {
                Some(i) => i,
                None => {
                    let mut keys = Row::with_capacity(vals.len());
                    let names = self.rewritten.iter().filter(|(_, _, a)| !a);
                    for ((n, _, _), v) in names.zip(vals.drain(..)) {
                        keys.insert(n.clone(), v);
                    }
                    let first = row.to_row().into_owned();
                    self.state.grow(
                        (row_size(&first) + row_size(&keys) + 2 * kstr.len() + 64 * self.aggs.len())
                            as u64,
                    )?;
                    self.groups.push(Group {
                        first,
                        keys,
                        accs: self.aggs.iter().map(Acc::new).collect(),
                    });
                    self.index.insert(kstr.clone(), self.groups.len() - 1);
                    self.groups.len() - 1
                }
            };
            self.key_buf = kstr;
            vals.clear();
            self.val_buf = vals;
            gi
        };
        let Some(g) = self.groups.get_mut(gi) else {
            return Err(Error::internal("aggregation group missing"));
        };
        for (i, (acc, args)) in g.accs.iter_mut().zip(&self.args).enumerate() {
            if acc.func == Func::CountStar {
                acc.count += 1;
                continue;
            }
            // `count(v)` of a variable: whether it is null, read in place (no copy of it).
            if let (Func::Count, false, [Expr::Variable(v)]) =
                (acc.func, acc.distinct, args.as_slice())
            {
                let x = match slot_of(&self.bound, i, row) {
                    Some((frame, SlotArg::Var(s))) => frame.get(s),
                    _ => row.var(v),
                };
                if let Some(x) = x {
                    acc.count += i64::from(!x.is_null());
                    continue;
                }
            }
            let mut it = args.iter();
            let first = match (slot_of(&self.bound, i, row), args.first()) {
                (Some((frame, SlotArg::Var(s))), _) => {
                    it.next();
                    frame.get(s).cloned().unwrap_or(Value::Null)
                }
                (Some((frame, SlotArg::Prop(s))), Some(Expr::Property(_, key))) => {
                    it.next();
                    match frame.get(s) {
                        // In an evaluation scope of its own, as `eval_in` evaluates it.
                        Some(b) => {
                            let mem = &ev.env.mem;
                            mem.enter();
                            let v = ev.property(b, key);
                            mem.leave();
                            v?
                        }
                        None => Value::Null,
                    }
                }
                _ => match it.next() {
                    Some(x) => ev.eval_in(x, row)?,
                    None => Value::Null,
                },
            };
            let second = match it.next() {
                Some(x) => Some(ev.eval_in(x, row)?),
                None => None,
            };
            feed_acc(&mut self.state, acc, first, second)?;
        }
        Ok(())
    }

    /// The projected rows, each with the row ORDER BY and WHERE read (the group's first row,
    /// its keys and the projected columns).
    pub(crate) fn finish(mut self, ev: &Ev) -> Result<Vec<(Row, Row)>> {
        if self.groups.is_empty() && self.no_keys {
            self.groups.push(Group {
                first: Row::new(),
                keys: Row::new(),
                accs: self.aggs.iter().map(Acc::new).collect(),
            });
        }
        let mut out = Vec::with_capacity(self.groups.len());
        for g in self.groups {
            // Aggregating items are evaluated against the group's first row plus the
            // aggregate results; grouping keys are taken as computed (an alias may shadow the
            // variable its expression reads: `RETURN n.num AS n, count(n)`).
            let mut ctx = g.first;
            for (ai, acc) in g.accs.into_iter().enumerate() {
                ctx.insert(agg_var(ai), acc.finish()?);
            }
            let mut pr = Row::new();
            for (n, e, is_agg) in &self.rewritten {
                let v = match g.keys.get(n) {
                    Some(v) if !is_agg => v.clone(),
                    _ => ev.eval(e, &ctx)?,
                };
                pr.insert(n.clone(), v);
            }
            for (k, v) in g.keys {
                ctx.insert(k, v);
            }
            let mut sort_row = ctx;
            for (k, v) in &pr {
                sort_row.insert(k.clone(), v.clone());
            }
            ev.env.charge_row(&pr)?;
            out.push((pr, sort_row));
        }
        Ok(out)
    }
}

/// The items of a WITH / RETURN, with `*` expanded to the variables in scope (sorted by name).
pub(crate) fn projection_items(p: &Projection, scope: &[String]) -> Vec<(String, Expr)> {
    let mut items: Vec<(String, Expr)> = Vec::new();
    if p.star {
        let mut vars: Vec<&String> = scope.iter().filter(|v| !v.starts_with("  ")).collect();
        vars.sort();
        for v in vars {
            items.push((v.clone(), Expr::Variable(v.clone())));
        }
    }
    for it in &p.items {
        items.push((it.name().to_string(), it.expr.clone()));
    }
    items
}

fn agg_var(i: usize) -> String {
    format!("  agg{i}")
}

pub fn contains_aggregate(e: &Expr) -> bool {
    let mut found = false;
    walk(e, &mut |x| {
        if is_agg_expr(x) {
            found = true;
        }
    });
    found
}

fn is_agg_expr(e: &Expr) -> bool {
    match e {
        Expr::CountStar => true,
        Expr::FunctionCall { name, .. } => is_aggregate_function(name),
        _ => false,
    }
}

fn agg_parts(e: &Expr) -> (Vec<Expr>, bool) {
    match e {
        Expr::FunctionCall { args, distinct, .. } => (args.clone(), *distinct),
        _ => (vec![], false),
    }
}

/// Replace every aggregate call in `e` by a placeholder variable, recording the call.
fn extract_aggs(e: &Expr, aggs: &mut Vec<Expr>) -> Expr {
    if is_agg_expr(e) {
        aggs.push(e.clone());
        return Expr::Variable(agg_var(aggs.len() - 1));
    }
    map_children(e, &mut |c| extract_aggs(c, aggs))
}

/// ORDER BY expressions that repeat a projection item refer to its column.
pub(crate) fn substitute_items(e: &Expr, items: &[(String, Expr)]) -> Expr {
    for (n, ie) in items {
        if ie == e && !matches!(e, Expr::Variable(_)) {
            return Expr::Variable(n.clone());
        }
    }
    map_children(e, &mut |c| substitute_items(c, items))
}

/// Rebuild an expression with `f` applied to each direct child.
pub(crate) fn map_children(e: &Expr, f: &mut dyn FnMut(&Expr) -> Expr) -> Expr {
    let b = |x: &Expr, f: &mut dyn FnMut(&Expr) -> Expr| Box::new(f(x));
    match e {
        Expr::List(items) => Expr::List(items.iter().map(&mut *f).collect()),
        Expr::Map(items) => Expr::Map(items.iter().map(|(k, x)| (k.clone(), f(x))).collect()),
        Expr::Property(x, k) => Expr::Property(b(x, f), k.clone()),
        Expr::Index(x, i) => Expr::Index(b(x, f), b(i, f)),
        Expr::Slice(x, a, c) => Expr::Slice(
            b(x, f),
            a.as_ref().map(|y| b(y, f)),
            c.as_ref().map(|y| b(y, f)),
        ),
        Expr::Unary(op, x) => Expr::Unary(*op, b(x, f)),
        Expr::Once(x, id) => Expr::Once(b(x, f), *id),
        Expr::Binary(op, l, r) => Expr::Binary(*op, b(l, f), b(r, f)),
        Expr::IsNull(x) => Expr::IsNull(b(x, f)),
        Expr::IsNotNull(x) => Expr::IsNotNull(b(x, f)),
        Expr::HasLabels(x, l) => Expr::HasLabels(b(x, f), l.clone()),
        Expr::LabelCheck(x, l) => Expr::LabelCheck(b(x, f), l.clone()),
        Expr::IsType(x, t, n) => Expr::IsType(b(x, f), t.clone(), *n),
        Expr::FunctionCall {
            name,
            distinct,
            args,
        } => Expr::FunctionCall {
            name: name.clone(),
            distinct: *distinct,
            args: args.iter().map(&mut *f).collect(),
        },
        Expr::Case {
            operand,
            whens,
            else_,
        } => Expr::Case {
            operand: operand.as_ref().map(|x| b(x, f)),
            whens: whens.iter().map(|(w, t)| (f(w), f(t))).collect(),
            else_: else_.as_ref().map(|x| b(x, f)),
        },
        Expr::MapProjection(x, items) => Expr::MapProjection(b(x, f), items.clone()),
        // Only the list a comprehension iterates can hold an aggregate of the outer rows
        // (`[x IN collect(n) | ...]`); the inner parts are evaluated per element.
        Expr::ListComprehension {
            variable,
            list,
            predicate,
            projection,
        } => Expr::ListComprehension {
            variable: variable.clone(),
            list: b(list, f),
            predicate: predicate.clone(),
            projection: projection.clone(),
        },
        Expr::Quantifier {
            kind,
            variable,
            list,
            predicate,
        } => Expr::Quantifier {
            kind: *kind,
            variable: variable.clone(),
            list: b(list, f),
            predicate: predicate.clone(),
        },
        Expr::Reduce {
            accumulator,
            init,
            variable,
            list,
            expr,
        } => Expr::Reduce {
            accumulator: accumulator.clone(),
            init: b(init, f),
            variable: variable.clone(),
            list: b(list, f),
            expr: expr.clone(),
        },
        other => other.clone(),
    }
}

pub(crate) fn walk(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match e {
        Expr::List(items) => items.iter().for_each(|x| walk(x, f)),
        Expr::Map(items) => items.iter().for_each(|(_, x)| walk(x, f)),
        Expr::Property(x, _)
        | Expr::Unary(_, x)
        | Expr::IsNull(x)
        | Expr::IsNotNull(x)
        | Expr::Once(x, _) => walk(x, f),
        Expr::HasLabels(x, _)
        | Expr::MapProjection(x, _)
        | Expr::LabelCheck(x, _)
        | Expr::IsType(x, _, _) => walk(x, f),
        Expr::ListComprehension { list, .. } | Expr::Quantifier { list, .. } => walk(list, f),
        Expr::Reduce { init, list, .. } => {
            walk(init, f);
            walk(list, f)
        }
        Expr::Index(x, i) => {
            walk(x, f);
            walk(i, f)
        }
        Expr::Slice(x, a, c) => {
            walk(x, f);
            if let Some(a) = a {
                walk(a, f)
            }
            if let Some(c) = c {
                walk(c, f)
            }
        }
        Expr::Binary(_, l, r) => {
            walk(l, f);
            walk(r, f)
        }
        Expr::FunctionCall { args, .. } if !is_agg_expr(e) => args.iter().for_each(|x| walk(x, f)),
        Expr::Case {
            operand,
            whens,
            else_,
        } => {
            if let Some(o) = operand {
                walk(o, f)
            }
            for (w, t) in whens {
                walk(w, f);
                walk(t, f)
            }
            if let Some(x) = else_ {
                walk(x, f)
            }
        }
        _ => {}
    }
}

/// Variables a pattern introduces.
pub fn pattern_vars(parts: &[crate::ast::PatternPart]) -> Vec<String> {
    let mut v = Vec::new();
    let mut add = |s: &Option<String>| {
        if let Some(s) = s {
            if !v.contains(s) {
                v.push(s.clone());
            }
        }
    };
    for p in parts {
        add(&p.variable);
        add(&p.element.path_var);
        add(&p.element.start.variable);
        for (r, n) in &p.element.chain {
            add(&r.variable);
            if let Some(g) = &r.group {
                // A quantified group's inner nodes and further relationships are group
                // variables (lists) outside it.
                for n in g.nodes() {
                    add(&n.variable);
                }
                for (_, rel) in &g.more {
                    add(&rel.variable);
                }
            }
            add(&n.variable);
        }
    }
    v
}

/// An aggregate function, decided once when the accumulator is made.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Func {
    CountStar,
    Count,
    Sum,
    Avg,
    Min,
    Max,
    Collect,
    PercentileDisc,
    PercentileCont,
    Stdev,
    StdevP,
    Unknown,
}

impl Func {
    fn of(name: &str) -> Func {
        match name.to_ascii_lowercase().as_str() {
            "count" => Func::Count,
            "sum" => Func::Sum,
            "avg" => Func::Avg,
            "min" => Func::Min,
            "max" => Func::Max,
            "collect" => Func::Collect,
            "percentiledisc" => Func::PercentileDisc,
            "percentilecont" => Func::PercentileCont,
            "stdev" => Func::Stdev,
            "stdevp" => Func::StdevP,
            _ => Func::Unknown,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Func::CountStar | Func::Count => "count",
            Func::Sum => "sum",
            Func::Avg => "avg",
            Func::Min => "min",
            Func::Max => "max",
            Func::Collect => "collect",
            Func::PercentileDisc => "percentileDisc",
            Func::PercentileCont => "percentileCont",
            Func::Stdev => "stDev",
            Func::StdevP => "stDevP",
            Func::Unknown => "an aggregate",
        }
    }
}

/// An aggregate accumulator.
#[derive(Clone)]
struct Acc {
    func: Func,
    distinct: bool,
    seen: std::collections::HashSet<String>,
    count: i64,
    sum_i: Option<i64>,
    sum_f: f64,
    float: bool,
    overflow: bool,
    best: Option<Value>,
    items: Vec<Value>,
    param: Option<f64>,
}

impl Acc {
    /// Whether the accumulator keeps every value it is fed.
    fn retains(&self) -> bool {
        matches!(
            self.func,
            Func::Collect
                | Func::PercentileDisc
                | Func::PercentileCont
                | Func::Stdev
                | Func::StdevP
        )
    }

    fn new(e: &Expr) -> Acc {
        let (func, distinct) = match e {
            Expr::CountStar => (Func::CountStar, false),
            Expr::FunctionCall { name, distinct, .. } => (Func::of(name), *distinct),
            _ => (Func::Unknown, false),
        };
        Acc::empty(func, distinct, None)
    }

    /// An accumulator of the same aggregate that has seen nothing.
    fn blank(&self) -> Acc {
        Acc::empty(self.func, self.distinct, self.param)
    }

    fn empty(func: Func, distinct: bool, param: Option<f64>) -> Acc {
        Acc {
            func,
            distinct,
            seen: Default::default(),
            count: 0,
            sum_i: Some(0),
            sum_f: 0.0,
            float: false,
            overflow: false,
            best: None,
            items: Vec::new(),
            param,
        }
    }

    /// What this accumulator and `later` (fed the input after this one's) hold together:
    /// what one accumulator fed both inputs in turn holds (a float sum may round
    /// differently; an integer sum is exact, or a float once a partial or the total
    /// overflows; collected values keep their order). DISTINCT: a later value counts, or
    /// is kept, only when this one has not seen it (not for `sum` and `avg`, see
    /// [`Aggregator::forks`]).
    fn merge(&mut self, later: Acc) -> Result<()> {
        if self.distinct {
            return self.merge_distinct(later);
        }
        match self.func {
            Func::CountStar | Func::Count => self.count += later.count,
            Func::Sum | Func::Avg => {
                self.count += later.count;
                self.sum_f += later.sum_f;
                self.float |= later.float;
                self.sum_i = match (self.sum_i, later.sum_i) {
                    (Some(a), Some(b)) => a.checked_add(b),
                    _ => None,
                };
                self.overflow |= later.overflow || self.sum_i.is_none();
                self.best = match (self.best.take(), later.best) {
                    (Some(a), Some(b)) => Some(values::add(&a, &b)?),
                    (a, b) => a.or(b),
                };
            }
            Func::Min | Func::Max => {
                if let Some(v) = later.best {
                    self.offer_best(v);
                }
            }
            Func::Collect
            | Func::PercentileDisc
            | Func::PercentileCont
            | Func::Stdev
            | Func::StdevP => {
                self.items.extend(later.items);
                if later.param.is_some() {
                    self.param = later.param;
                }
            }
            Func::Unknown => {}
        }
        Ok(())
    }

    /// [`Acc::merge`] of a DISTINCT aggregate.
    fn merge_distinct(&mut self, later: Acc) -> Result<()> {
        match self.func {
            Func::Count => {
                for k in later.seen {
                    if self.seen.insert(k) {
                        self.count += 1;
                    }
                }
            }
            Func::Collect
            | Func::PercentileDisc
            | Func::PercentileCont
            | Func::Stdev
            | Func::StdevP => {
                for v in later.items {
                    if self.seen.insert(key(&v)) {
                        self.items.push(v);
                    }
                }
                if later.param.is_some() {
                    self.param = later.param;
                }
            }
            Func::Min | Func::Max => {
                self.seen.extend(later.seen);
                if let Some(v) = later.best {
                    self.offer_best(v);
                }
            }
            Func::Unknown => {}
            Func::CountStar | Func::Sum | Func::Avg => {
                return Err(Error::internal("merged a DISTINCT sum or average"));
            }
        }
        Ok(())
    }

    /// `v` as min()'s or max()'s value when it beats the one kept (the first of equals stays).
    fn offer_best(&mut self, v: Value) {
        let replace = match &self.best {
            None => true,
            Some(b) => {
                let o = order(&v, b);
                if self.func == Func::Min {
                    o.is_lt()
                } else {
                    o.is_gt()
                }
            }
        };
        if replace {
            self.best = Some(v);
        }
    }

    /// One row's arguments: the value aggregated and, for the percentiles, the percentile.
    #[inline(always)]
    fn feed(&mut self, v: Value, second: Option<Value>) -> Result<()> {
        // An integer counted or summed (the commonest by far) without the general checks
        // (matched by value: nothing left to drop).
        match v {
            Value::Int(_) if !self.distinct && matches!(self.func, Func::Count) => {
                self.count += 1;
                Ok(())
            }
            Value::Int(i) if !self.distinct && matches!(self.func, Func::Sum | Func::Avg) => {
                self.add_int(i);
                Ok(())
            }
            v => self.feed_any(v, second),
        }
    }

    /// The integers a page's totals count (what [`Acc::feed`] of each gives a count, a
    /// sum, an average, a min or a max; nulls are skipped): the accumulator that feeding
    /// them alone would give, merged as a later part ([`Acc::merge`]).
    fn add_stats(&mut self, st: &graphward_storage::PropertyStats) -> Result<()> {
        if st.ints == 0 {
            return Ok(());
        }
        let mut page = self.blank();
        page.count = st.ints as i64;
        page.sum_i = st.int_sum;
        page.sum_f = st.float_sum;
        page.overflow = st.int_sum.is_none();
        page.best = match self.func {
            Func::Min => st.min.map(Value::Int),
            Func::Max => st.max.map(Value::Int),
            _ => None,
        };
        self.merge(page)
    }

    fn add_int(&mut self, i: i64) {
        self.sum_f += i as f64;
        self.sum_i = self.sum_i.and_then(|s| s.checked_add(i));
        if self.sum_i.is_none() {
            self.overflow = true;
        }
        self.count += 1;
    }

    #[inline(never)]
    fn feed_any(&mut self, v: Value, second: Option<Value>) -> Result<()> {
        if self.func == Func::CountStar {
            self.count += 1;
            return Ok(());
        }
        if matches!(self.func, Func::PercentileDisc | Func::PercentileCont) {
            if let Some(p) = second.as_ref().and_then(as_f64) {
                if !(0.0..=1.0).contains(&p) {
                    return Err(Error::argument(format!(
                        "percentile must be between 0.0 and 1.0, got {p}"
                    ))
                    .with_detail("NumberOutOfRange"));
                }
                self.param = Some(p);
            }
        }
        if v.is_null() {
            return Ok(());
        }
        if self.distinct && !self.seen.insert(key(&v)) {
            return Ok(());
        }
        match self.func {
            Func::Count => self.count += 1,
            Func::Sum | Func::Avg => {
                match &v {
                    Value::Int(i) => {
                        self.add_int(*i);
                        return Ok(());
                    }
                    Value::Float(f) => {
                        self.float = true;
                        self.sum_f += f;
                    }
                    Value::Duration(_) => {
                        let cur = self
                            .best
                            .take()
                            .unwrap_or(Value::Duration(Default::default()));
                        self.best = Some(values::add(&cur, &v)?);
                    }
                    other => {
                        return Err(Error::type_error(format!(
                            "{}() expects numbers, got {}",
                            self.func.name(),
                            other.type_name()
                        ))
                        .with_detail("InvalidArgumentType"))
                    }
                }
                self.count += 1;
            }
            Func::Min | Func::Max => self.offer_best(v),
            Func::Collect => self.items.push(v),
            Func::PercentileDisc | Func::PercentileCont | Func::Stdev | Func::StdevP => {
                match as_f64(&v) {
                    Some(_) => self.items.push(v),
                    None => {
                        return Err(Error::type_error(format!(
                            "{}() expects numbers, got {}",
                            self.func.name(),
                            v.type_name()
                        ))
                        .with_detail("InvalidArgumentType"))
                    }
                }
            }
            Func::CountStar | Func::Unknown => {}
        }
        Ok(())
    }

    fn finish(self) -> Result<Value> {
        Ok(match self.func {
            Func::CountStar | Func::Count => Value::Int(self.count),
            Func::Sum => {
                if let Some(d) = self.best {
                    d
                } else if self.float || self.overflow {
                    Value::Float(self.sum_f)
                } else {
                    Value::Int(self.sum_i.unwrap_or(0))
                }
            }
            Func::Avg => {
                if self.count == 0 {
                    Value::Null
                } else if let Some(d) = self.best {
                    values::arith('/', &d, &Value::Int(self.count))?
                } else {
                    Value::Float(self.sum_f / self.count as f64)
                }
            }
            Func::Min | Func::Max => self.best.unwrap_or(Value::Null),
            Func::Collect => Value::List(self.items),
            Func::PercentileDisc | Func::PercentileCont => {
                if self.items.is_empty() {
                    return Ok(Value::Null);
                }
                let p = self.param.unwrap_or(0.5);
                let mut xs: Vec<Value> = self.items;
                xs.sort_by(order);
                let n = xs.len();
                if self.func == Func::PercentileDisc {
                    let idx = if p == 0.0 {
                        0
                    } else {
                        ((p * n as f64).ceil() as usize).saturating_sub(1)
                    };
                    xs[idx.min(n - 1)].clone()
                } else {
                    let pos = p * (n - 1) as f64;
                    let lo = pos.floor() as usize;
                    let hi = pos.ceil() as usize;
                    let a = as_f64(&xs[lo]).unwrap_or(0.0);
                    let b = as_f64(&xs[hi.min(n - 1)]).unwrap_or(0.0);
                    Value::Float(a + (b - a) * (pos - lo as f64))
                }
            }
            Func::Stdev | Func::StdevP => {
                let xs: Vec<f64> = self.items.iter().filter_map(as_f64).collect();
                let n = xs.len();
                let denom = if self.func == Func::Stdev {
                    n.saturating_sub(1)
                } else {
                    n
                };
                if denom == 0 {
                    Value::Float(0.0)
                } else {
                    let mean = xs.iter().sum::<f64>() / n as f64;
                    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / denom as f64;
                    Value::Float(var.sqrt())
                }
            }
            Func::Unknown => Value::Null,
        })
    }
}
