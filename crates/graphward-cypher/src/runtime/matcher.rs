//! Pattern matching: anchors (bound variable, index seek, label scan, all nodes), expansion
//! left and right from the anchor, variable-length expansion, relationship isomorphism.

use std::collections::HashSet;

use graphward_core::value::{Node, Path, Relationship};
use graphward_core::{Error, Result, Value};
use graphward_storage::{Edge, ExpandDir, NodeId, RelId};

use super::eval::{node_ref, rel_ref, row_size, Ev, Row};
use super::values::equals;
use crate::ast::{
    Clause, Direction, Expr, NodePattern, PatternPart, QuantGroup, RelationshipPattern,
    ShortestKind, SingleQuery,
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
}

/// Where a pattern part starts: the node pattern, and the label whose scan gives the
/// candidates (`None` for a bound node, an index seek or a scan of all nodes).
#[derive(Clone, Debug)]
pub(crate) struct Anchor {
    pub index: usize,
    pub label: Option<String>,
    /// The candidates come from a scan (of `label`, or of every node).
    pub scan: bool,
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

impl<'a> Ev<'a> {
    /// `MATCH (v:L) RETURN count(v), count(*)` answered from the label count the storage
    /// keeps, without a scan. Decided on the typed query: exactly a MATCH of one node pattern
    /// with one label (no properties, predicate, WHERE, OPTIONAL or path variable) followed by
    /// a RETURN whose items are all non-DISTINCT `count(v)` / `count(*)` (no DISTINCT, `*`,
    /// ORDER BY, SKIP or LIMIT), on the single empty row a query starts from. `None` for any
    /// other shape (the caller runs the query normally). Returns the columns and the one row.
    pub fn whole_label_count(
        &self,
        sq: &SingleQuery,
        rows: &[Row],
    ) -> Result<Option<(Vec<String>, Vec<Row>)>> {
        let ([Clause::Match(m), Clause::Return(r)], [input]) = (sq.clauses.as_slice(), rows) else {
            return Ok(None);
        };
        if !input.is_empty() || m.optional || m.where_.is_some() {
            return Ok(None);
        }
        let [part] = m.pattern.as_slice() else {
            return Ok(None);
        };
        let np = &part.element.start;
        let ([label], true) = (
            np.labels.as_slice(),
            part.variable.is_none()
                && part.shortest.is_none()
                && part.element.chain.is_empty()
                && np.label_expr.is_none()
                && np.properties.is_none()
                && np.predicate.is_none(),
        ) else {
            return Ok(None);
        };
        let p = &r.projection;
        if p.distinct
            || p.star
            || p.items.is_empty()
            || !p.order_by.is_empty()
            || p.skip.is_some()
            || p.limit.is_some()
        {
            return Ok(None);
        }
        let counts_the_node = |e: &Expr| match e {
            Expr::CountStar => true,
            Expr::FunctionCall {
                name,
                distinct: false,
                args,
            } => {
                name.eq_ignore_ascii_case("count")
                    && matches!(args.as_slice(), [Expr::Variable(v)] if np.variable.as_ref() == Some(v))
            }
            _ => false,
        };
        if !p.items.iter().all(|i| counts_the_node(&i.expr)) {
            return Ok(None);
        }
        let n = self.g.label_count(label)?;
        let n = Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
        let columns: Vec<String> = p.items.iter().map(|i| i.name().to_string()).collect();
        let row: Row = columns.iter().map(|c| (c.clone(), n.clone())).collect();
        Ok(Some((columns, vec![row])))
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
        if let Some(kind) = part.shortest {
            if kind.is_selector() {
                return self.match_selected(part, kind, row, used, out);
            }
            return self.match_shortest(part, kind, row, used, out);
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
            };
            if !self.bind_node(&nps, anchor.index, id, &mut st)? {
                continue;
            }
            self.extend(part, &nps, &rps, &steps, 0, &mut st, out)?;
        }
        Ok(())
    }

    /// Pick where to start: a bound node, an index seek, the smallest label (by the stored
    /// label counts), or everything. Label and full scans are pulled lazily from the storage.
    fn choose_anchor(
        &self,
        nps: &[&NodePattern],
        row: &Row,
    ) -> Result<(Anchor, graphward_storage::Iter<'a, NodeId>)> {
        let ids = |v: Vec<NodeId>| -> graphward_storage::Iter<'a, NodeId> {
            Box::new(v.into_iter().map(Ok))
        };
        let at = |index: usize| Anchor {
            index,
            label: None,
            scan: false,
        };
        for (i, np) in nps.iter().enumerate() {
            if let Some(v) = &np.variable {
                if let Some(val) = row.get(v) {
                    return Ok((
                        at(i),
                        match val {
                            Value::Node(n) => ids(vec![n.id as u64]),
                            Value::Null => ids(vec![]),
                            other => {
                                return Err(Error::type_error(format!(
                                    "variable `{v}` is a {}, expected a node",
                                    other.type_name()
                                ))
                                .with_detail("VariableTypeConflict"))
                            }
                        },
                    ));
                }
            }
        }
        for (i, np) in nps.iter().enumerate() {
            if let Some(found) = self.index_candidates(np, row)? {
                return Ok((at(i), ids(found)));
            }
        }
        let mut best: Option<(usize, u64, &str)> = None;
        for (i, np) in nps.iter().enumerate() {
            for l in &np.labels {
                let c = self.g.label_count(l)?;
                if best.is_none_or(|(_, bc, _)| c < bc) {
                    best = Some((i, c, l.as_str()));
                }
            }
        }
        if let Some((i, _, l)) = best {
            let anchor = Anchor {
                index: i,
                label: Some(l.to_string()),
                scan: true,
            };
            return Ok((anchor, self.g.node_ids(Some(l))?));
        }
        let anchor = Anchor {
            index: 0,
            label: None,
            scan: true,
        };
        Ok((anchor, self.g.node_ids(None)?))
    }

    /// The anchor of one pattern part: [`Ev::choose_anchor`]'s, unless that is a scan and a
    /// relationship index covers a relationship's property map: then the nodes at one end of
    /// the relationships it finds (the expansion checks the relationship again).
    fn anchor_for_part(
        &self,
        part: &PatternPart,
        row: &Row,
    ) -> Result<(Anchor, graphward_storage::Iter<'a, NodeId>)> {
        let nps = Self::node_patterns(part);
        let (anchor, candidates) = self.choose_anchor(&nps, row)?;
        if !anchor.scan || part.element.chain.is_empty() {
            return Ok((anchor, candidates));
        }
        let rps: Vec<&RelationshipPattern> = part.element.chain.iter().map(|(r, _)| r).collect();
        match self.rel_index_candidates(&nps, &rps, row)? {
            Some((index, found)) => Ok((
                Anchor {
                    index,
                    label: None,
                    scan: false,
                },
                Box::new(found.into_iter().map(Ok)),
            )),
            None => Ok((anchor, candidates)),
        }
    }

    /// Through a relationship index: the nodes at the left end of the relationships of one
    /// fixed-length relationship pattern `(a)-[:T {p: v}]-(b)` whose property map the index
    /// covers, and that node pattern's index.
    fn rel_index_candidates(
        &self,
        nps: &[&NodePattern],
        rps: &[&RelationshipPattern],
        row: &Row,
    ) -> Result<Option<(usize, Vec<NodeId>)>> {
        for (j, rp) in rps.iter().enumerate() {
            let (Some(Expr::Map(items)), [rel_type]) = (&rp.properties, rp.types.as_slice()) else {
                continue;
            };
            if rp.length.is_some() || j >= nps.len() {
                continue;
            }
            for (k, e) in items {
                // Only expressions that do not depend on the relationship itself.
                let Ok(v) = self.eval(e, row) else { continue };
                let Some(rels) = self.g.rel_index_seek(
                    rel_type,
                    std::slice::from_ref(k),
                    std::slice::from_ref(&v),
                )?
                else {
                    continue;
                };
                let mut ends = Vec::with_capacity(rels.len());
                for r in rels {
                    let Some(rec) = self.g.relationship(r)? else {
                        continue;
                    };
                    match rp.direction {
                        Direction::Outgoing => ends.push(rec.src),
                        Direction::Incoming => ends.push(rec.dst),
                        Direction::Both => ends.extend([rec.src, rec.dst]),
                    }
                }
                ends.sort_unstable();
                ends.dedup();
                return Ok(Some((j, ends)));
            }
        }
        Ok(None)
    }

    fn index_candidates(&self, np: &NodePattern, row: &Row) -> Result<Option<Vec<NodeId>>> {
        let Some(Expr::Map(items)) = &np.properties else {
            return Ok(None);
        };
        if np.labels.is_empty() || items.is_empty() {
            return Ok(None);
        }
        for (k, e) in items {
            // Only expressions that do not depend on the node itself.
            let Ok(v) = self.eval(e, row) else { continue };
            for l in &np.labels {
                if let Some(ids) =
                    self.g
                        .index_seek(l, std::slice::from_ref(k), std::slice::from_ref(&v))?
                {
                    return Ok(Some(ids));
                }
            }
        }
        Ok(None)
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
            if !self.g.node_exists(id)? {
                return Ok(false);
            }
            if !self.props_match_by(pe, &st.row, |k| {
                Ok(self.g.node_property(id, k)?.unwrap_or(Value::Null))
            })? {
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
                r.insert(v.clone(), Value::Relationship(rel.clone()));
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
    /// the relationship's type and properties, and, for a quantified path pattern, the
    /// group's node patterns and predicates with the iteration's variables as singletons.
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
        let mut r = row.clone();
        if let Some(v) = &g.left.variable {
            r.insert(v.clone(), node_ref(left));
        }
        if let Some(v) = &g.right.variable {
            r.insert(v.clone(), node_ref(right));
        }
        if !self.node_ok(&g.left, left, &mut r)? || !self.node_ok(&g.right, right, &mut r)? {
            return Ok(false);
        }
        if !self.rel_ok(rp, rel, &r)? {
            return Ok(false);
        }
        if let Some(p) = &g.predicate {
            if let Some(v) = &rp.variable {
                r.insert(v.clone(), Value::Relationship(rel.clone()));
            }
            if self.eval(p, &r)? != Value::Bool(true) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn dir(rp: &RelationshipPattern, reversed: bool) -> ExpandDir {
        match (rp.direction, reversed) {
            (Direction::Both, _) => ExpandDir::Both,
            (Direction::Outgoing, false) | (Direction::Incoming, true) => ExpandDir::Outgoing,
            _ => ExpandDir::Incoming,
        }
    }

    /// The type of relationship `rel` found by expanding over `rp`: known without a read
    /// when the pattern names exactly one type (the expansion returned only that type).
    fn rel_type_name(&self, rp: &RelationshipPattern, rel: RelId) -> Result<String> {
        if let [t] = rp.types.as_slice() {
            return Ok(t.clone());
        }
        Ok(self
            .g
            .relationship(rel)?
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
            return self.var_expand(
                part, nps, rps, steps, k, st, out, from, dir, min, max, &mut hops,
            );
        }
        for e in self.g.expand_iter(from, dir, &rp.types)? {
            let e = e?;
            if st.used.contains(&e.rel) {
                continue;
            }
            let rel = rel_from_edge(from, &e, self.rel_type_name(rp, e.rel)?);
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
                st.row.insert(v.clone(), Value::Relationship(rel));
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
        dir: ExpandDir,
        min: u64,
        max: u64,
        hops: &mut Vec<Hop>,
    ) -> Result<()> {
        let rp = rps[steps[k].rel];
        let res = self.env.mem.reservation();
        // One level per node on the current path: the node's edges and the next to try.
        let mut levels: Vec<(Vec<Edge>, usize)> = Vec::new();
        let mut at = from;
        loop {
            // Visit `at`, reached by `hops`.
            self.env.check()?;
            self.var_finish(part, nps, rps, steps, k, st, out, at, min, hops)?;
            let edges = if (hops.len() as u64) < max {
                self.g.expand(at, dir, &rp.types)?
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
                    let rel = rel_from_edge(here, &e, self.rel_type_name(rp, e.rel)?);
                    let (left, right) = if steps[k].reversed {
                        (e.other, here)
                    } else {
                        (here, e.other)
                    };
                    if !self.hop_ok(rp, &rel, left, right, &st.row)? {
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
        if (hops.len() as u64) < min {
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
            let rel_list = Value::List(
                in_order
                    .iter()
                    .map(|h| Value::Relationship(h.rel.clone()))
                    .collect(),
            );
            let ok = match rp.variable.as_ref().and_then(|v| saved_row.get(v)) {
                Some(b) => equals(b, &rel_list) == Some(true),
                None => true,
            };
            if ok {
                if let Some(g) = &rp.group {
                    let first = if step.reversed {
                        Some(at)
                    } else {
                        st.nodes[step.from]
                    };
                    if let Some(first) = first {
                        bind_group_nodes(g, first, &in_order, &mut st.row);
                    }
                }
                st.rels[step.rel] = Some(RelBinding::Var(in_order));
                if let Some(v) = &rp.variable {
                    st.row.insert(v.clone(), rel_list);
                }
                self.extend(part, nps, rps, steps, k + 1, st, out)?;
                st.rels[step.rel] = None;
            }
        }
        st.nodes[step.to] = prev_node;
        st.row = saved_row;
        Ok(())
    }

    fn match_shortest(
        &self,
        part: &PatternPart,
        kind: ShortestKind,
        row: Row,
        used: HashSet<RelId>,
        out: &mut Vec<(Row, HashSet<RelId>)>,
    ) -> Result<()> {
        // shortestPath((a)-[*]-(b)) with both ends bound or matched first.
        let nps = Self::node_patterns(part);
        if part.element.chain.len() != 1 {
            return Err(Error::syntax(
                "shortestPath needs a single relationship pattern",
            ));
        }
        let rp = &part.element.chain[0].0;
        let mut ends: Vec<Vec<NodeId>> = Vec::new();
        for np in &nps {
            let single = PatternPart {
                variable: None,
                shortest: None,
                element: crate::ast::PatternElement {
                    start: (*np).clone(),
                    chain: vec![],
                    predicate: None,
                    path_var: None,
                },
                span: Default::default(),
            };
            let rows = self.match_pattern(std::slice::from_ref(&single), &row)?;
            let mut ids = Vec::new();
            for r in rows {
                if let Some(Value::Node(n)) = np.variable.as_ref().and_then(|v| r.get(v)) {
                    ids.push(n.id as u64);
                } else if np.variable.is_none() {
                    // Anonymous end: every node matching the pattern.
                }
            }
            if np.variable.is_none() {
                let (_, c) = self.choose_anchor(&[np], &row)?;
                ids = c.collect::<Result<Vec<NodeId>>>()?;
            }
            ends.push(ids);
        }
        let (min, max) = rp.length.unwrap_or((Some(1), Some(1)));
        let min = min.unwrap_or(1);
        let max = max.unwrap_or(u64::MAX);
        let dir = Self::dir(rp, false);
        for &s in &ends[0] {
            for &t in &ends[1] {
                let paths = self.bfs(
                    s,
                    t,
                    dir,
                    rp,
                    &row,
                    min,
                    max,
                    kind == ShortestKind::All,
                    &used,
                )?;
                for hops in paths {
                    let mut r = row.clone();
                    if let Some(v) = &nps[0].variable {
                        r.insert(v.clone(), node_ref(s));
                    }
                    if let Some(v) = &nps[1].variable {
                        r.insert(v.clone(), node_ref(t));
                    }
                    if let Some(v) = &rp.variable {
                        r.insert(
                            v.clone(),
                            Value::List(
                                hops.iter()
                                    .map(|h| Value::Relationship(h.rel.clone()))
                                    .collect(),
                            ),
                        );
                    }
                    if let Some(g) = &rp.group {
                        bind_group_nodes(g, s, &hops, &mut r);
                    }
                    if let Some(pv) = &part.variable {
                        let nodes = vec![Some(s), Some(t)];
                        let rels = vec![Some(RelBinding::Var(hops.clone()))];
                        r.insert(pv.clone(), Value::Path(build_path(&nodes, &rels)));
                    }
                    self.env.mem.charge(row_size(&r))?;
                    out.push((r, used.clone()));
                }
            }
        }
        Ok(())
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
        let (_, candidates) = self.choose_anchor(&[np], row)?;
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

    /// A GQL path selector (`SHORTEST k`, `SHORTEST k GROUPS`, `ALL SHORTEST`, `ANY k`) over
    /// `(a) <one relationship pattern> (b)`: per start node, a breadth-first search by path
    /// length over trails (no relationship twice), selecting per end node k paths or the
    /// paths of k lengths. Paths are kept as a tree of hops (each hop points to the one before
    /// it), every hop and frontier entry is charged to the query's memory account and the
    /// deadline is checked per expanded path, so a search the graph makes explode ends with
    /// the memory or time limit error. When the selection only needs shortest paths (one
    /// path or one length group, no pre-filter on the whole path, paths of at least one hop)
    /// a node is expanded only at the depth it was first reached: prefixes of shortest paths
    /// are shortest paths.
    fn match_selected(
        &self,
        part: &PatternPart,
        kind: ShortestKind,
        row: Row,
        used: HashSet<RelId>,
        out: &mut Vec<(Row, HashSet<RelId>)>,
    ) -> Result<()> {
        let [(rp, end_np)] = part.element.chain.as_slice() else {
            return Err(Error::new(
                graphward_core::ErrorCode::NotSupported,
                "Not supported: a path selector over more than one relationship pattern",
            )
            .with_detail("FeatureNotSupported"));
        };
        let start_np = &part.element.start;
        let (min, max) = match rp.length {
            Some((lo, hi)) => (lo.unwrap_or(1), hi.unwrap_or(u64::MAX)),
            None => (1, 1),
        };
        let (k, groups) = match kind {
            ShortestKind::Paths(k) => (k, false),
            ShortestKind::Groups(k) => (k, true),
            _ => (1, false),
        };
        let dir = Self::dir(rp, false);
        let state = self.env.mem.reservation();
        let starts = match self.selector_ends(start_np, &row)? {
            Some(ids) => ids,
            None => {
                let (_, c) = self.choose_anchor(&[start_np], &row)?;
                c.collect::<Result<Vec<NodeId>>>()?
            }
        };
        state.grow((starts.len() * std::mem::size_of::<NodeId>()) as u64)?;
        let same_end = start_np.variable.is_some() && start_np.variable == end_np.variable;
        let targets: Option<HashSet<NodeId>> = if same_end {
            None
        } else {
            self.selector_ends(end_np, &row)?
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
            if same_end && !self.node_ok(end_np, s, &mut r0)? {
                continue;
            }
            let is_target = |t: NodeId| -> bool {
                if same_end {
                    t == s
                } else {
                    targets.as_ref().is_none_or(|ts| ts.contains(&t))
                }
            };
            let prune = k == 1 && min <= 1 && !whole_path_filter && !is_target(s);
            let search = SelectorSearch {
                part,
                rp,
                end_np,
                start: s,
                min,
                max,
                k,
                groups,
                prune,
                dir,
                used: &used,
            };
            let target_count = if same_end {
                Some(1)
            } else {
                targets.as_ref().map(|t| t.len())
            };
            self.selector_search(&search, &r0, &is_target, target_count, out)?;
        }
        Ok(())
    }

    /// One start node's search of [`Ev::match_selected`].
    fn selector_search(
        &self,
        q: &SelectorSearch<'_>,
        row: &Row,
        is_target: &dyn Fn(NodeId) -> bool,
        target_count: Option<usize>,
        out: &mut Vec<(Row, HashSet<RelId>)>,
    ) -> Result<()> {
        let res = self.env.mem.reservation();
        // The tree of hops: (hop, index of the hop before it or NONE).
        let mut tree: Vec<(Hop, usize)> = Vec::new();
        const NONE: usize = usize::MAX;
        let entry_bytes =
            |h: &Hop| (std::mem::size_of::<(Hop, usize)>() + h.rel.rel_type.len() + 32) as u64;
        // Per end node: paths selected, and length groups completed.
        let mut found: std::collections::HashMap<NodeId, (u64, u64)> = Default::default();
        let mut done = 0usize;
        let mut first_depth: std::collections::HashMap<NodeId, u64> = Default::default();
        first_depth.insert(q.start, 0);
        let mut frontier: Vec<usize> = vec![NONE];
        let mut depth = 0u64;
        let node_of = |tree: &Vec<(Hop, usize)>, i: usize| {
            if i == NONE {
                q.start
            } else {
                tree[i].0.node
            }
        };
        loop {
            // Select the paths of this length that end at an end node.
            if depth >= q.min {
                let mut reached_now: Vec<NodeId> = Vec::new();
                for &i in &frontier {
                    self.env.check()?;
                    let t = node_of(&tree, i);
                    if !is_target(t) {
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
                    let hops = path_of(&tree, i, NONE);
                    let mut r = row.clone();
                    if !self.node_ok(q.end_np, t, &mut r)? {
                        continue;
                    }
                    if let Some(v) = &q.end_np.variable {
                        r.insert(v.clone(), node_ref(t));
                    }
                    if let Some(g) = &q.rp.group {
                        bind_group_nodes(g, q.start, &hops, &mut r);
                    }
                    if let Some(v) = &q.rp.variable {
                        let rels: Vec<Value> = hops
                            .iter()
                            .map(|h| Value::Relationship(h.rel.clone()))
                            .collect();
                        let val = match q.rp.length {
                            Some(_) => Value::List(rels),
                            None => rels.into_iter().next().unwrap_or(Value::Null),
                        };
                        r.insert(v.clone(), val);
                    }
                    if q.part.variable.is_some() || q.part.element.predicate.is_some() {
                        let path = build_path(&[Some(q.start)], &[Some(RelBinding::Var(hops))]);
                        if let Some(pv) = &q.part.variable {
                            r.insert(pv.clone(), Value::Path(path));
                        }
                    }
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
                    out.push((r, q.used.clone()));
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
            }
            if target_count.is_some_and(|n| done >= n) || depth >= q.max || frontier.is_empty() {
                return Ok(());
            }
            // Extend every path of this length by one relationship.
            depth += 1;
            let mut next: Vec<usize> = Vec::new();
            for &i in &frontier {
                self.env.check()?;
                let at = node_of(&tree, i);
                if q.prune && first_depth.get(&at).is_some_and(|d| *d + 1 < depth) {
                    continue;
                }
                for e in self.g.expand(at, q.dir, &q.rp.types)? {
                    if q.used.contains(&e.rel) || on_path(&tree, i, NONE, e.rel) {
                        continue;
                    }
                    if q.prune {
                        match first_depth.get(&e.other) {
                            Some(d) if *d < depth => continue,
                            Some(_) if q.k == 1 && !q.groups => continue,
                            _ => {}
                        }
                    }
                    let rel = rel_from_edge(at, &e, self.rel_type_name(q.rp, e.rel)?);
                    if !self.hop_ok(q.rp, &rel, at, e.other, row)? {
                        continue;
                    }
                    let hop = Hop { rel, node: e.other };
                    res.grow(entry_bytes(&hop) + std::mem::size_of::<usize>() as u64)?;
                    if q.prune && !first_depth.contains_key(&e.other) {
                        res.grow(32)?;
                        first_depth.insert(e.other, depth);
                    }
                    tree.push((hop, i));
                    next.push(tree.len() - 1);
                }
            }
            frontier = next;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn bfs(
        &self,
        s: NodeId,
        t: NodeId,
        dir: ExpandDir,
        rp: &RelationshipPattern,
        row: &Row,
        min: u64,
        max: u64,
        all: bool,
        used: &HashSet<RelId>,
    ) -> Result<Vec<Vec<Hop>>> {
        // The frontier's paths and those found are charged to the query's memory account.
        let res = self.env.mem.reservation();
        let hop_bytes = (std::mem::size_of::<Hop>() + 32) as u64;
        let mut frontier: Vec<(NodeId, Vec<Hop>)> = vec![(s, vec![])];
        let mut found = Vec::new();
        let mut depth = 0u64;
        let mut visited: HashSet<NodeId> = HashSet::from([s]);
        if s == t && min == 0 {
            return Ok(vec![vec![]]);
        }
        while !frontier.is_empty() && depth < max {
            self.env.check()?;
            depth += 1;
            let mut next = Vec::new();
            let mut reached = HashSet::new();
            for (n, path) in &frontier {
                self.env.check()?;
                for e in self.g.expand(*n, dir, &rp.types)? {
                    if used.contains(&e.rel) || path.iter().any(|h| h.rel.id as u64 == e.rel) {
                        continue;
                    }
                    let rel = rel_from_edge(*n, &e, self.rel_type_name(rp, e.rel)?);
                    // The relationship's property map (and type expression) hold on every hop.
                    if !self.hop_ok(rp, &rel, *n, e.other, row)? {
                        continue;
                    }
                    let mut p = path.clone();
                    p.push(Hop { rel, node: e.other });
                    res.grow(p.len() as u64 * hop_bytes)?;
                    if e.other == t && depth >= min {
                        res.grow(p.len() as u64 * hop_bytes)?;
                        found.push(p.clone());
                        if !all {
                            return Ok(found);
                        }
                    }
                    if !visited.contains(&e.other) {
                        reached.insert(e.other);
                        next.push((e.other, p));
                    }
                }
            }
            if !found.is_empty() {
                return Ok(found);
            }
            visited.extend(reached);
            self.env.check_rows(next.len())?;
            frontier = next;
            let live: u64 = frontier.iter().map(|(_, p)| p.len() as u64).sum();
            res.resize(live * hop_bytes)?;
        }
        Ok(found)
    }
}

/// What one start node's search of a path selector looks for.
struct SelectorSearch<'p> {
    part: &'p PatternPart,
    rp: &'p RelationshipPattern,
    end_np: &'p NodePattern,
    start: NodeId,
    min: u64,
    max: u64,
    k: u64,
    groups: bool,
    /// Expand a node only at the depth it was first reached (see `match_selected`).
    prune: bool,
    dir: ExpandDir,
    used: &'p HashSet<RelId>,
}

/// The hops of the path ending with tree entry `i`, in order.
fn path_of(tree: &[(Hop, usize)], mut i: usize, none: usize) -> Vec<Hop> {
    let mut hops = Vec::new();
    while i != none {
        hops.push(tree[i].0.clone());
        i = tree[i].1;
    }
    hops.reverse();
    hops
}

/// Is relationship `rel` on the path ending with tree entry `i`?
fn on_path(tree: &[(Hop, usize)], mut i: usize, none: usize, rel: RelId) -> bool {
    while i != none {
        if tree[i].0.rel.id as u64 == rel {
            return true;
        }
        i = tree[i].1;
    }
    false
}

/// Bind a quantified path pattern's node group variables: `left` holds each iteration's
/// left node (the first is `first`), `right` each iteration's right node; `hops` are in
/// pattern order.
fn bind_group_nodes(g: &QuantGroup, first: NodeId, hops: &[Hop], row: &mut Row) {
    if let Some(v) = &g.left.variable {
        let lefts = std::iter::once(first)
            .chain(hops.iter().map(|h| h.node))
            .take(hops.len())
            .map(node_ref)
            .collect();
        row.insert(v.clone(), Value::List(lefts));
    }
    if let Some(v) = &g.right.variable {
        let rights = hops.iter().map(|h| node_ref(h.node)).collect();
        row.insert(v.clone(), Value::List(rights));
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
    pub(crate) fn part_anchor(
        &self,
        part: &PatternPart,
        row: &Row,
    ) -> Result<(Anchor, Vec<NodeId>)> {
        // The plan's operators hold no borrow of storage between pulls, so the candidates
        // are collected (ids only).
        let (anchor, ids) = self.anchor_for_part(part, row)?;
        let ids = ids.collect::<Result<Vec<NodeId>>>()?;
        Ok((anchor, ids))
    }

    /// [`Ev::part_anchor`] for a part of one node whose property `key` the query reads: a
    /// scan anchor reads that property along with each id (one walk over the label range and
    /// the node table instead of a record lookup per node). The values come back beside the
    /// ids when the anchor is a scan.
    #[allow(clippy::type_complexity)]
    pub(crate) fn part_anchor_with(
        &self,
        part: &PatternPart,
        row: &Row,
        key: &str,
    ) -> Result<(Anchor, Vec<NodeId>, Option<Vec<Option<Value>>>)> {
        let (anchor, ids) = self.anchor_for_part(part, row)?;
        if !anchor.scan || !part.element.chain.is_empty() {
            let ids = ids.collect::<Result<Vec<NodeId>>>()?;
            return Ok((anchor, ids, None));
        }
        drop(ids);
        let mut out_ids = Vec::new();
        let mut vals = Vec::new();
        for item in self.g.node_property_scan(anchor.label.as_deref(), key)? {
            let (id, v) = item?;
            out_ids.push(id);
            vals.push(v);
        }
        Ok((anchor, out_ids, Some(vals)))
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
