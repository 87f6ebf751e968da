//! The redb tables of one database and the read operations shared by read and write
//! transactions (generic over redb's `ReadOnlyTable` and `Table`).

use graphward_core::{Result, Value};
use std::ops::Bound;

use redb::{ReadOnlyTable, ReadableTable, Table, TableDefinition};

use crate::codec::{self, NodeData, RelData, SchemaData};
use crate::{Edge, ExpandDir};

/// Counters and format marker.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// `(kind, name) -> id`.
pub(crate) const TOKENS: TableDefinition<(u8, &str), u32> = TableDefinition::new("tokens");
/// `(kind, id) -> name`.
pub(crate) const TOKEN_NAMES: TableDefinition<(u8, u32), &str> =
    TableDefinition::new("token_names");
/// `node id -> node record`.
pub(crate) const NODES: TableDefinition<u64, &[u8]> = TableDefinition::new("nodes");
/// `rel id -> rel record`.
pub(crate) const RELS: TableDefinition<u64, &[u8]> = TableDefinition::new("rels");
/// `(src, type, first rel) -> chunk of (rel, dst)` (see [`codec::encode_adj`]).
pub(crate) const OUT: TableDefinition<(u64, u32, u64), &[u8]> = TableDefinition::new("adj_out_v2");
/// `(dst, type, first rel) -> chunk of (rel, src)`.
pub(crate) const IN: TableDefinition<(u64, u32, u64), &[u8]> = TableDefinition::new("adj_in_v2");
/// Storage format 3: `(dst, type, rel) -> src`, the incoming edges not yet merged into the
/// chunks of [`IN`] (see [`in_delta_merge`]). An edge is in exactly one of the two tables.
pub(crate) const IN_DELTA: TableDefinition<(u64, u32, u64), u64> =
    TableDefinition::new("adj_in_delta");
/// `(label, node >> 10) -> the nodes of that chunk carrying the label` (bitmap or list, see
/// [`codec::label_chunk_offsets`]).
pub(crate) const LABEL_IDX: TableDefinition<(u32, u64), &[u8]> =
    TableDefinition::new("label_chunks");

/// Storage format 1 tables that format 2 replaced (read only by the migration).
pub(crate) mod v1 {
    use redb::TableDefinition;
    pub(crate) const NODES: TableDefinition<u64, &[u8]> = TableDefinition::new("nodes");
    pub(crate) const RELS: TableDefinition<u64, &[u8]> = TableDefinition::new("rels");
    pub(crate) const NODES_OLD: TableDefinition<u64, &[u8]> = TableDefinition::new("nodes_v1");
    pub(crate) const RELS_OLD: TableDefinition<u64, &[u8]> = TableDefinition::new("rels_v1");
    pub(crate) const OUT: TableDefinition<(u64, u32, u64), u64> = TableDefinition::new("adj_out");
    pub(crate) const IN: TableDefinition<(u64, u32, u64), u64> = TableDefinition::new("adj_in");
    pub(crate) const LABEL_IDX: TableDefinition<(u32, u64), ()> = TableDefinition::new("label_idx");
}
/// `label -> number of nodes`.
pub(crate) const LABEL_COUNT: TableDefinition<u32, u64> = TableDefinition::new("label_count");
/// `schema id (4 bytes BE) ++ normalized value key ++ node (8 bytes BE)`. Value keys are
/// self-delimiting (prefix-free), so the exact-match range of one value holds only that value.
pub(crate) const PROP_IDX: TableDefinition<&[u8], ()> = TableDefinition::new("prop_idx");
/// `schema id -> number of its entries in` [`PROP_IDX`] (storage format 4): with the label
/// count it tells whether every node of a label is in the index (see `index_orders`).
pub(crate) const INDEX_COUNT: TableDefinition<u32, u64> = TableDefinition::new("index_entries");

/// Builds a property index key into `out`.
pub(crate) fn idx_key(out: &mut Vec<u8>, schema: u32, key: &[u8], node: u64) {
    out.clear();
    out.extend_from_slice(&schema.to_be_bytes());
    out.extend_from_slice(key);
    codec::put_key_node(out, node);
}

/// Whether a key range is inverted or empty with an excluded end: such a range is empty and
/// must not reach the tree.
fn inverted(lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> bool {
    fn key(b: Bound<&[u8]>) -> Option<&[u8]> {
        match b {
            Bound::Included(k) | Bound::Excluded(k) => Some(k),
            Bound::Unbounded => None,
        }
    }
    match (key(lower), key(upper)) {
        (Some(lo), Some(hi)) => {
            let both = matches!((lower, upper), (Bound::Included(_), Bound::Included(_)));
            lo > hi || (lo == hi && !both)
        }
        _ => false,
    }
}

/// The keys of index `schema` lie in `[lo, hi)` (`hi` is `None` for the last schema id).
pub(crate) fn schema_bounds(schema: u32) -> (Vec<u8>, Option<Vec<u8>>) {
    let hi = schema.checked_add(1).map(|h| h.to_be_bytes().to_vec());
    (schema.to_be_bytes().to_vec(), hi)
}

/// The node id at the end of a property index key.
pub(crate) fn idx_key_node(k: &[u8]) -> Result<u64> {
    codec::key_node(k)
}
/// `schema id -> schema record`.
pub(crate) const SCHEMA: TableDefinition<u32, &[u8]> = TableDefinition::new("schema");

pub(crate) const KIND_LABEL: u8 = 0;
pub(crate) const KIND_TYPE: u8 = 1;
pub(crate) const KIND_KEY: u8 = 2;

/// The storage format this code writes. Format 1 (graphward up to the compact encoding) is
/// migrated on open (see `migrate.rs`); format 2 (no incoming-edge delta table) becomes format
/// 3 by creating the empty [`IN_DELTA`] table; formats 2 and 3 become format 4 by counting
/// each index's entries into [`INDEX_COUNT`].
pub(crate) const FORMAT_VERSION: u64 = 4;

/// The error detail of a storage I/O failure (the file could not be read or written, e.g. the
/// disk is full, or redb refuses work after such a failure until the file is reopened).
pub(crate) const IO_DETAIL: &str = "StorageIoFailure";

pub(crate) fn st(e: impl Into<redb::Error>) -> graphward_core::Error {
    let e: redb::Error = e.into();
    let io = matches!(e, redb::Error::Io(_) | redb::Error::PreviousIo);
    let err = graphward_core::Error::internal(format!("storage error: {e}"));
    if io {
        err.with_detail(IO_DETAIL)
    } else {
        err
    }
}

fn copy_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    r: &redb::ReadTransaction,
    w: &redb::WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<()> {
    let src = r.open_table(def).map_err(st)?;
    let mut dst = w.open_table(def).map_err(st)?;
    for e in src.iter().map_err(st)? {
        let (k, v) = e.map_err(st)?;
        dst.insert(k.value(), v.value()).map_err(st)?;
    }
    Ok(())
}

/// Copies every table of a database from a snapshot into an (empty) write transaction.
pub(crate) fn copy_all(r: &redb::ReadTransaction, w: &redb::WriteTransaction) -> Result<()> {
    copy_table(r, w, META)?;
    copy_table(r, w, TOKENS)?;
    copy_table(r, w, TOKEN_NAMES)?;
    copy_table(r, w, NODES)?;
    copy_table(r, w, RELS)?;
    copy_table(r, w, OUT)?;
    copy_table(r, w, IN)?;
    copy_table(r, w, IN_DELTA)?;
    copy_table(r, w, LABEL_IDX)?;
    copy_table(r, w, LABEL_COUNT)?;
    copy_table(r, w, PROP_IDX)?;
    copy_table(r, w, INDEX_COUNT)?;
    copy_table(r, w, SCHEMA)?;
    Ok(())
}

/// Counts the entries of every index into [`INDEX_COUNT`] (a file of format 1 to 3 has
/// none): one pass over the index table, a counter per index.
pub(crate) fn recount_indexes(w: &redb::WriteTransaction) -> Result<()> {
    let mut counts: std::collections::BTreeMap<u32, u64> = std::collections::BTreeMap::new();
    for e in w.open_table(PROP_IDX).map_err(st)?.iter().map_err(st)? {
        let (k, _) = e.map_err(st)?;
        let sid = k
            .value()
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .ok_or_else(|| graphward_core::Error::internal("storage corrupt: short index key"))?;
        *counts.entry(sid).or_insert(0) += 1;
    }
    let mut t = w.open_table(INDEX_COUNT).map_err(st)?;
    for (sid, c) in counts {
        t.insert(sid, c).map_err(st)?;
    }
    Ok(())
}

/// True for an error that [`st`] classified as a storage I/O failure.
pub(crate) fn is_io_failure(e: &graphward_core::Error) -> bool {
    e.detail.as_deref() == Some(IO_DETAIL)
}

/// One handle per table.
pub(crate) struct Tabs<M, TK, TN, R, A, LI, LC, PI, S, DL> {
    pub meta: M,
    pub tokens: TK,
    pub token_names: TN,
    pub nodes: R,
    pub rels: R,
    pub out: A,
    pub inc: A,
    pub inc_delta: DL,
    pub label_idx: LI,
    pub label_count: LC,
    pub prop_idx: PI,
    pub idx_count: LC,
    pub schema: S,
}

pub(crate) type RTabs = Tabs<
    ReadOnlyTable<&'static str, u64>,
    ReadOnlyTable<(u8, &'static str), u32>,
    ReadOnlyTable<(u8, u32), &'static str>,
    ReadOnlyTable<u64, &'static [u8]>,
    ReadOnlyTable<(u64, u32, u64), &'static [u8]>,
    ReadOnlyTable<(u32, u64), &'static [u8]>,
    ReadOnlyTable<u32, u64>,
    ReadOnlyTable<&'static [u8], ()>,
    ReadOnlyTable<u32, &'static [u8]>,
    ReadOnlyTable<(u64, u32, u64), u64>,
>;

pub(crate) type WTabs<'t> = Tabs<
    Table<'t, &'static str, u64>,
    Table<'t, (u8, &'static str), u32>,
    Table<'t, (u8, u32), &'static str>,
    Table<'t, u64, &'static [u8]>,
    Table<'t, (u64, u32, u64), &'static [u8]>,
    Table<'t, (u32, u64), &'static [u8]>,
    Table<'t, u32, u64>,
    Table<'t, &'static [u8], ()>,
    Table<'t, u32, &'static [u8]>,
    Table<'t, (u64, u32, u64), u64>,
>;

pub(crate) fn open_read(txn: &redb::ReadTransaction) -> Result<RTabs> {
    Ok(Tabs {
        meta: txn.open_table(META).map_err(st)?,
        tokens: txn.open_table(TOKENS).map_err(st)?,
        token_names: txn.open_table(TOKEN_NAMES).map_err(st)?,
        nodes: txn.open_table(NODES).map_err(st)?,
        rels: txn.open_table(RELS).map_err(st)?,
        out: txn.open_table(OUT).map_err(st)?,
        inc: txn.open_table(IN).map_err(st)?,
        inc_delta: txn.open_table(IN_DELTA).map_err(st)?,
        label_idx: txn.open_table(LABEL_IDX).map_err(st)?,
        label_count: txn.open_table(LABEL_COUNT).map_err(st)?,
        prop_idx: txn.open_table(PROP_IDX).map_err(st)?,
        idx_count: txn.open_table(INDEX_COUNT).map_err(st)?,
        schema: txn.open_table(SCHEMA).map_err(st)?,
    })
}

pub(crate) fn open_write(txn: &redb::WriteTransaction) -> Result<WTabs<'_>> {
    Ok(Tabs {
        meta: txn.open_table(META).map_err(st)?,
        tokens: txn.open_table(TOKENS).map_err(st)?,
        token_names: txn.open_table(TOKEN_NAMES).map_err(st)?,
        nodes: txn.open_table(NODES).map_err(st)?,
        rels: txn.open_table(RELS).map_err(st)?,
        out: txn.open_table(OUT).map_err(st)?,
        inc: txn.open_table(IN).map_err(st)?,
        inc_delta: txn.open_table(IN_DELTA).map_err(st)?,
        label_idx: txn.open_table(LABEL_IDX).map_err(st)?,
        label_count: txn.open_table(LABEL_COUNT).map_err(st)?,
        prop_idx: txn.open_table(PROP_IDX).map_err(st)?,
        idx_count: txn.open_table(INDEX_COUNT).map_err(st)?,
        schema: txn.open_table(SCHEMA).map_err(st)?,
    })
}

/// A lazy sequence over a table range.
pub(crate) type BoxIter<'a, T> = Box<dyn Iterator<Item = Result<T>> + 'a>;

/// Label ids in step with a cursor over the node table: while the labelled ids are dense the
/// cursor only moves forward (a few entries in the same leaf); a gap re-seeks it.
pub(crate) struct PropScan<'s, S: Src + ?Sized> {
    ids: BoxIter<'s, u64>,
    nodes: Option<redb::Range<'s, u64, &'static [u8]>>,
    src: &'s S,
    key: Option<u32>,
}

/// How many node-table entries the cursor may step over before it re-seeks instead.
const MAX_STEP: usize = 8;

impl<S: Src + ?Sized> Iterator for PropScan<'_, S> {
    type Item = Result<(u64, Option<Value>)>;
    fn next(&mut self) -> Option<Self::Item> {
        let id = match self.ids.next()? {
            Ok(id) => id,
            Err(e) => return Some(Err(e)),
        };
        let Some(key) = self.key else {
            return Some(Ok((id, None)));
        };
        if let Some(cur) = self.nodes.as_mut() {
            for _ in 0..MAX_STEP {
                match cur.next() {
                    Some(Ok((k, v))) => {
                        let k = k.value();
                        if k == id {
                            return Some(codec::node_prop(v.value(), key).map(|p| (id, p)));
                        }
                        if k > id {
                            break;
                        }
                    }
                    Some(Err(e)) => return Some(Err(st(e))),
                    None => break,
                }
            }
        }
        // Re-seek at `id`.
        let mut cur = match self.src.tabs().nodes.range(id..).map_err(st) {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        let out = match cur.next() {
            Some(Ok((k, v))) if k.value() == id => {
                codec::node_prop(v.value(), key).map(|p| (id, p))
            }
            Some(Err(e)) => Err(st(e)),
            _ => Ok((id, None)),
        };
        self.nodes = Some(cur);
        Some(out)
    }
}

/// Two ascending sequences of `(type, rel, other)` merged by `(type, rel)` (an error is passed
/// on as soon as it is seen).
struct MergeEdges<A: Iterator, B: Iterator> {
    a: std::iter::Peekable<A>,
    b: std::iter::Peekable<B>,
}

impl<A, B> Iterator for MergeEdges<A, B>
where
    A: Iterator<Item = Result<(u32, u64, u64)>>,
    B: Iterator<Item = Result<(u32, u64, u64)>>,
{
    type Item = Result<(u32, u64, u64)>;
    fn next(&mut self) -> Option<Self::Item> {
        let take_a = match (self.a.peek(), self.b.peek()) {
            (Some(Err(_)), _) => true,
            (_, Some(Err(_))) => false,
            (Some(Ok(x)), Some(Ok(y))) => (x.0, x.1) <= (y.0, y.1),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if take_a {
            self.a.next()
        } else {
            self.b.next()
        }
    }
}

/// Read operations over any table flavour.
pub(crate) trait Src {
    type M: ReadableTable<&'static str, u64>;
    type TK: ReadableTable<(u8, &'static str), u32>;
    type TN: ReadableTable<(u8, u32), &'static str>;
    type R: ReadableTable<u64, &'static [u8]>;
    type A: ReadableTable<(u64, u32, u64), &'static [u8]>;
    type LI: ReadableTable<(u32, u64), &'static [u8]>;
    type LC: ReadableTable<u32, u64>;
    type PI: ReadableTable<&'static [u8], ()>;
    type S: ReadableTable<u32, &'static [u8]>;
    type DL: ReadableTable<(u64, u32, u64), u64>;
    #[allow(clippy::type_complexity)]
    fn tabs(
        &self,
    ) -> &Tabs<
        Self::M,
        Self::TK,
        Self::TN,
        Self::R,
        Self::A,
        Self::LI,
        Self::LC,
        Self::PI,
        Self::S,
        Self::DL,
    >;

    fn meta_get(&self, key: &str) -> Result<u64> {
        Ok(self
            .tabs()
            .meta
            .get(key)
            .map_err(st)?
            .map(|g| g.value())
            .unwrap_or(0))
    }

    fn node_data(&self, id: u64) -> Result<Option<NodeData>> {
        match self.tabs().nodes.get(id).map_err(st)? {
            Some(g) => Ok(Some(codec::decode_node(g.value())?)),
            None => Ok(None),
        }
    }

    fn node_exists(&self, id: u64) -> Result<bool> {
        Ok(self.tabs().nodes.get(id).map_err(st)?.is_some())
    }

    fn rel_data(&self, id: u64) -> Result<Option<RelData>> {
        match self.tabs().rels.get(id).map_err(st)? {
            Some(g) => Ok(Some(codec::decode_rel(g.value())?)),
            None => Ok(None),
        }
    }

    fn node_labels_ids(&self, id: u64) -> Result<Option<Vec<u32>>> {
        match self.tabs().nodes.get(id).map_err(st)? {
            Some(g) => Ok(Some(codec::node_labels(g.value())?)),
            None => Ok(None),
        }
    }

    fn node_prop(&self, id: u64, key: u32) -> Result<Option<Value>> {
        match self.tabs().nodes.get(id).map_err(st)? {
            Some(g) => codec::node_prop(g.value(), key),
            None => Ok(None),
        }
    }

    fn rel_prop(&self, id: u64, key: u32) -> Result<Option<Value>> {
        match self.tabs().rels.get(id).map_err(st)? {
            Some(g) => codec::rel_prop(g.value(), key),
            None => Ok(None),
        }
    }

    /// Counts edges without materializing them.
    fn degree_dir(
        &self,
        node: u64,
        outgoing: bool,
        types: Option<&[u32]>,
        skip_self_loops: bool,
    ) -> Result<u64> {
        let table = if outgoing {
            &self.tabs().out
        } else {
            &self.tabs().inc
        };
        let mut n = 0u64;
        let mut scan = |lo: (u64, u32, u64), hi: (u64, u32, u64)| -> Result<()> {
            for e in table.range(lo..=hi).map_err(st)? {
                let (k, v) = e.map_err(st)?;
                if skip_self_loops {
                    for (_, other) in codec::decode_adj(k.value().2, v.value())? {
                        if other != node {
                            n += 1;
                        }
                    }
                } else {
                    n += codec::adj_len(v.value())?;
                }
            }
            if !outgoing {
                for e in self.tabs().inc_delta.range(lo..=hi).map_err(st)? {
                    let (_, v) = e.map_err(st)?;
                    if !(skip_self_loops && v.value() == node) {
                        n += 1;
                    }
                }
            }
            Ok(())
        };
        match types {
            None => scan((node, 0, 0), (node, u32::MAX, u64::MAX))?,
            Some(ts) => {
                for &t in ts {
                    scan((node, t, 0), (node, t, u64::MAX))?;
                }
            }
        }
        Ok(n)
    }

    fn all_node_ids(&self) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        for e in self.tabs().nodes.range::<u64>(..).map_err(st)? {
            let (k, _) = e.map_err(st)?;
            out.push(k.value());
        }
        Ok(out)
    }

    fn all_rel_ids(&self) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        for e in self.tabs().rels.range::<u64>(..).map_err(st)? {
            let (k, _) = e.map_err(st)?;
            out.push(k.value());
        }
        Ok(out)
    }

    /// Ids of one id-keyed table (`nodes` or `rels`) after `after`, at most `limit`.
    fn ids_page(&self, rels: bool, after: Option<u64>, limit: usize) -> Result<Vec<u64>> {
        let t = if rels {
            &self.tabs().rels
        } else {
            &self.tabs().nodes
        };
        let start = match after {
            Some(a) => match a.checked_add(1) {
                Some(s) => s,
                None => return Ok(Vec::new()),
            },
            None => 0,
        };
        let mut out = Vec::with_capacity(limit.min(4096));
        if limit == 0 {
            return Ok(out);
        }
        for e in t.range(start..).map_err(st)? {
            let (k, _) = e.map_err(st)?;
            out.push(k.value());
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    fn label_nodes_page(&self, label: u32, after: Option<u64>, limit: usize) -> Result<Vec<u64>> {
        let start = match after {
            Some(a) => match a.checked_add(1) {
                Some(s) => s,
                None => return Ok(Vec::new()),
            },
            None => 0,
        };
        let mut out = Vec::with_capacity(limit.min(4096));
        if limit == 0 {
            return Ok(out);
        }
        for id in self.label_ids_from(label, start)? {
            out.push(id?);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    fn label_node_ids(&self, label: u32) -> Result<Vec<u64>> {
        self.label_ids_from(label, 0)?.collect()
    }

    fn label_count_stored(&self, label: u32) -> Result<u64> {
        Ok(self
            .tabs()
            .label_count
            .get(label)
            .map_err(st)?
            .map(|g| g.value())
            .unwrap_or(0))
    }

    fn index_count_stored(&self, schema: u32) -> Result<u64> {
        Ok(self
            .tabs()
            .idx_count
            .get(schema)
            .map_err(st)?
            .map(|g| g.value())
            .unwrap_or(0))
    }

    /// The type tags of the first and the last entry of index `schema` (its keys are ordered
    /// by tag first, so every entry's tag lies between them); `None` when it has none.
    fn index_edge_tags(&self, schema: u32) -> Result<Option<(u8, u8)>> {
        let (lo, hi) = schema_bounds(schema);
        let mut r = self
            .tabs()
            .prop_idx
            .range::<&[u8]>((
                Bound::Included(lo.as_slice()),
                hi.as_ref()
                    .map_or(Bound::Unbounded, |h| Bound::Excluded(h.as_slice())),
            ))
            .map_err(st)?;
        let first = match r.next() {
            None => return Ok(None),
            Some(e) => e.map_err(st)?.0.value().get(4).copied(),
        };
        let last = match r.next_back() {
            None => first,
            Some(e) => e.map_err(st)?.0.value().get(4).copied(),
        };
        Ok(first.zip(last))
    }

    /// Up to `limit` node ids of the index keys in `[lower, upper]` in key order (from the
    /// end when `descending`), after the key `after` (the last key of the page before); with
    /// the last key read, from which the next page resumes (`None` when the range is read).
    fn index_page(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        descending: bool,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<(Vec<u64>, Option<Vec<u8>>)> {
        let (mut lower, mut upper) = (lower, upper);
        if let Some(a) = after {
            if descending {
                upper = Bound::Excluded(a);
            } else {
                lower = Bound::Excluded(a);
            }
        }
        if inverted(lower, upper) {
            return Ok((Vec::new(), None));
        }
        let mut r = self
            .tabs()
            .prop_idx
            .range::<&[u8]>((lower, upper))
            .map_err(st)?;
        let mut ids = Vec::with_capacity(limit.min(1024));
        let mut last = None;
        while ids.len() < limit {
            let e = if descending { r.next_back() } else { r.next() };
            let Some(e) = e else { break };
            let (k, _) = e.map_err(st)?;
            let k = k.value();
            ids.push(idx_key_node(k)?);
            if ids.len() == limit {
                last = Some(k.to_vec());
            }
        }
        Ok((ids, last))
    }

    /// Ids of the `nodes` or `rels` table, ascending, lazily.
    fn id_iter(&self, rels: bool) -> Result<BoxIter<'_, u64>> {
        let t = if rels {
            &self.tabs().rels
        } else {
            &self.tabs().nodes
        };
        let r = t.range::<u64>(..).map_err(st)?;
        Ok(Box::new(r.map(|e| e.map(|(k, _)| k.value()).map_err(st))))
    }

    /// Node ids carrying `label`, ascending, lazily.
    fn label_id_iter(&self, label: u32) -> Result<BoxIter<'_, u64>> {
        self.label_ids_from(label, 0)
    }

    /// Node ids carrying `label` from `start` on, ascending, lazily (one label chunk decoded
    /// at a time).
    fn label_ids_from(&self, label: u32, start: u64) -> Result<BoxIter<'_, u64>> {
        let (chunk0, _) = codec::label_chunk_of(start);
        let r = self
            .tabs()
            .label_idx
            .range((label, chunk0)..=(label, u64::MAX))
            .map_err(st)?;
        Ok(Box::new(r.flat_map(move |e| -> Vec<Result<u64>> {
            let decoded = e.map_err(st).and_then(|(k, v)| {
                let base = k.value().1 << codec::LABEL_CHUNK_BITS;
                Ok(codec::label_chunk_offsets(v.value())?
                    .into_iter()
                    .map(move |o| base | u64::from(o))
                    .filter(|id| *id >= start)
                    .map(Ok)
                    .collect::<Vec<_>>())
            });
            match decoded {
                Ok(v) => v,
                Err(e) => vec![Err(e)],
            }
        })))
    }

    /// The edges of `node` in one stored direction, lazily (see [`Src::expand_dir`]); one
    /// adjacency chunk is decoded at a time. Incoming edges merge the chunks with the delta
    /// table ([`IN_DELTA`]), in (type, rel) order like the chunks alone.
    fn edge_iter(
        &self,
        node: u64,
        outgoing: bool,
        types: Option<&[u32]>,
        skip_self_loops: bool,
    ) -> Result<BoxIter<'_, Edge>> {
        let table = if outgoing {
            &self.tabs().out
        } else {
            &self.tabs().inc
        };
        let mut spans = Vec::new();
        match types {
            None => spans.push(((node, 0u32, 0u64), (node, u32::MAX, u64::MAX))),
            Some(ts) => {
                for &t in ts {
                    spans.push(((node, t, 0u64), (node, t, u64::MAX)));
                }
            }
        }
        let mut parts: Vec<BoxIter<'_, (u32, u64, u64)>> = Vec::with_capacity(spans.len());
        for (lo, hi) in spans {
            let chunks = table.range(lo..=hi).map_err(st)?.flat_map(
                move |e| -> Vec<Result<(u32, u64, u64)>> {
                    let decoded = e.map_err(st).and_then(|(k, v)| {
                        let k = k.value();
                        codec::decode_adj(k.2, v.value()).map(|edges| (k.1, edges))
                    });
                    match decoded {
                        Ok((ty, edges)) => edges
                            .into_iter()
                            .map(|(rel, other)| Ok((ty, rel, other)))
                            .collect(),
                        Err(e) => vec![Err(e)],
                    }
                },
            );
            if outgoing {
                parts.push(Box::new(chunks));
                continue;
            }
            let mut delta = self
                .tabs()
                .inc_delta
                .range(lo..=hi)
                .map_err(st)?
                .map(|e| {
                    e.map_err(st).map(|(k, v)| {
                        let k = k.value();
                        (k.1, k.2, v.value())
                    })
                })
                .peekable();
            if delta.peek().is_none() {
                parts.push(Box::new(chunks));
            } else {
                parts.push(Box::new(MergeEdges {
                    a: chunks.peekable(),
                    b: delta,
                }));
            }
        }
        Ok(Box::new(parts.into_iter().flatten().filter_map(
            move |e| match e {
                Ok((_, _, other)) if skip_self_loops && other == node => None,
                Ok((_, rel, other)) => Some(Ok(Edge {
                    rel,
                    other,
                    outgoing,
                })),
                Err(e) => Some(Err(e)),
            },
        )))
    }

    /// `(node, property)` for every node (`label` = `None`) or every node carrying `label`,
    /// ascending: one pass over the node table (in step with the label range).
    fn prop_scan<'s>(
        &'s self,
        label: Option<u32>,
        key: Option<u32>,
    ) -> Result<BoxIter<'s, (u64, Option<Value>)>> {
        match label {
            None => {
                let r = self.tabs().nodes.range::<u64>(..).map_err(st)?;
                Ok(Box::new(r.map(move |e| {
                    let (k, v) = e.map_err(st)?;
                    let p = match key {
                        Some(key) => codec::node_prop(v.value(), key)?,
                        None => None,
                    };
                    Ok((k.value(), p))
                })))
            }
            Some(l) => Ok(Box::new(PropScan {
                ids: self.label_id_iter(l)?,
                nodes: None,
                src: self,
                key,
            })),
        }
    }
    /// [`Src::prop_scan`] from node id `start` on (a page of it: the caller stops pulling).
    fn prop_scan_from<'s>(
        &'s self,
        label: Option<u32>,
        key: Option<u32>,
        start: u64,
    ) -> Result<BoxIter<'s, (u64, Option<Value>)>> {
        match label {
            None => {
                let r = self.tabs().nodes.range::<u64>(start..).map_err(st)?;
                Ok(Box::new(r.map(move |e| {
                    let (k, v) = e.map_err(st)?;
                    let p = match key {
                        Some(key) => codec::node_prop(v.value(), key)?,
                        None => None,
                    };
                    Ok((k.value(), p))
                })))
            }
            Some(l) => Ok(Box::new(PropScan {
                ids: self.label_ids_from(l, start)?,
                nodes: None,
                src: self,
                key,
            })),
        }
    }
    /// Appends the edges of `node` in one stored direction, for the given type ids (`None` = any).
    fn expand_dir(
        &self,
        node: u64,
        outgoing: bool,
        types: Option<&[u32]>,
        skip_self_loops: bool,
        out: &mut Vec<Edge>,
    ) -> Result<()> {
        for e in self.edge_iter(node, outgoing, types, skip_self_loops)? {
            out.push(e?);
        }
        Ok(())
    }

    fn expand_ids(&self, node: u64, dir: ExpandDir, types: Option<&[u32]>) -> Result<Vec<Edge>> {
        let mut out = Vec::new();
        match dir {
            ExpandDir::Outgoing => self.expand_dir(node, true, types, false, &mut out)?,
            ExpandDir::Incoming => self.expand_dir(node, false, types, false, &mut out)?,
            ExpandDir::Both => {
                self.expand_dir(node, true, types, false, &mut out)?;
                self.expand_dir(node, false, types, true, &mut out)?;
            }
        }
        Ok(out)
    }

    fn has_relationships(&self, node: u64) -> Result<bool> {
        let t = self.tabs();
        let lo = (node, 0u32, 0u64);
        let hi = (node, u32::MAX, u64::MAX);
        if t.out.range(lo..=hi).map_err(st)?.next().is_some() {
            return Ok(true);
        }
        if t.inc.range(lo..=hi).map_err(st)?.next().is_some() {
            return Ok(true);
        }
        Ok(t.inc_delta.range(lo..=hi).map_err(st)?.next().is_some())
    }

    /// Nodes under one index key.
    fn index_nodes(&self, schema: u32, key: &[u8], out: &mut Vec<u64>) -> Result<()> {
        let mut lo = Vec::with_capacity(key.len() + 12);
        let mut hi = Vec::with_capacity(key.len() + 12);
        idx_key(&mut lo, schema, key, 0);
        idx_key(&mut hi, schema, key, u64::MAX);
        for e in self
            .tabs()
            .prop_idx
            .range(lo.as_slice()..=hi.as_slice())
            .map_err(st)?
        {
            let (k, _) = e.map_err(st)?;
            out.push(idx_key_node(k.value())?);
        }
        Ok(())
    }

    /// Node ids of the index entries between two raw key bounds.
    fn index_scan(
        &self,
        lower: std::ops::Bound<&[u8]>,
        upper: std::ops::Bound<&[u8]>,
        out: &mut Vec<u64>,
    ) -> Result<()> {
        if inverted(lower, upper) {
            return Ok(());
        }
        for e in self
            .tabs()
            .prop_idx
            .range::<&[u8]>((lower, upper))
            .map_err(st)?
        {
            let (k, _) = e.map_err(st)?;
            out.push(idx_key_node(k.value())?);
        }
        Ok(())
    }

    /// Node ids of the index entries whose key starts with `prefix`.
    fn index_prefix_scan(&self, prefix: &[u8], out: &mut Vec<u64>) -> Result<()> {
        for e in self.tabs().prop_idx.range::<&[u8]>(prefix..).map_err(st)? {
            let (k, _) = e.map_err(st)?;
            let k = k.value();
            if !k.starts_with(prefix) {
                break;
            }
            out.push(idx_key_node(k)?);
        }
        Ok(())
    }

    /// Some node other than `except` under one index key.
    fn index_other(&self, schema: u32, key: &[u8], except: u64) -> Result<Option<u64>> {
        let mut lo = Vec::with_capacity(key.len() + 12);
        let mut hi = Vec::with_capacity(key.len() + 12);
        idx_key(&mut lo, schema, key, 0);
        idx_key(&mut hi, schema, key, u64::MAX);
        for e in self
            .tabs()
            .prop_idx
            .range(lo.as_slice()..=hi.as_slice())
            .map_err(st)?
        {
            let (k, _) = e.map_err(st)?;
            let n = idx_key_node(k.value())?;
            if n != except {
                return Ok(Some(n));
            }
        }
        Ok(None)
    }

    fn token_id_stored(&self, kind: u8, name: &str) -> Result<Option<u32>> {
        Ok(self
            .tabs()
            .tokens
            .get((kind, name))
            .map_err(st)?
            .map(|g| g.value()))
    }

    fn token_name_stored(&self, kind: u8, id: u32) -> Result<Option<String>> {
        Ok(self
            .tabs()
            .token_names
            .get((kind, id))
            .map_err(st)?
            .map(|g| g.value().to_string()))
    }

    fn token_names_of_kind(&self, kind: u8) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for e in self
            .tabs()
            .token_names
            .range((kind, 0u32)..=(kind, u32::MAX))
            .map_err(st)?
        {
            let (_, v) = e.map_err(st)?;
            out.push(v.value().to_string());
        }
        Ok(out)
    }

    fn load_schemas(&self) -> Result<Vec<SchemaData>> {
        let mut out = Vec::new();
        for e in self.tabs().schema.range::<u32>(..).map_err(st)? {
            let (k, v) = e.map_err(st)?;
            out.push(codec::decode_schema(k.value(), v.value())?);
        }
        Ok(out)
    }
}

impl<M, TK, TN, R, A, LI, LC, PI, S, DL> Src for Tabs<M, TK, TN, R, A, LI, LC, PI, S, DL>
where
    M: ReadableTable<&'static str, u64>,
    TK: ReadableTable<(u8, &'static str), u32>,
    TN: ReadableTable<(u8, u32), &'static str>,
    R: ReadableTable<u64, &'static [u8]>,
    A: ReadableTable<(u64, u32, u64), &'static [u8]>,
    LI: ReadableTable<(u32, u64), &'static [u8]>,
    LC: ReadableTable<u32, u64>,
    PI: ReadableTable<&'static [u8], ()>,
    S: ReadableTable<u32, &'static [u8]>,
    DL: ReadableTable<(u64, u32, u64), u64>,
{
    type M = M;
    type TK = TK;
    type TN = TN;
    type R = R;
    type A = A;
    type LI = LI;
    type LC = LC;
    type PI = PI;
    type S = S;
    type DL = DL;
    fn tabs(&self) -> &Self {
        self
    }
}

// ---------------------------------------------------------------------------------------------
// writes to the chunked tables (storage format 2)

/// An adjacency table of a write transaction.
pub(crate) type AdjTable<'t> = Table<'t, (u64, u32, u64), &'static [u8]>;
/// The label table of a write transaction.
pub(crate) type LabelTable<'t> = Table<'t, (u32, u64), &'static [u8]>;

/// An adjacency chunk: the rel id of its key and its edges `(rel, other)`.
type AdjChunk = (u64, Vec<(u64, u64)>);

/// The chunk of `(node, ty)` that holds (or would hold) `rel`: the last one whose first rel
/// is at most `rel`, else the first one. `None` when the node has no such chunk.
fn adj_chunk_of(t: &AdjTable<'_>, node: u64, ty: u32, rel: u64) -> Result<Option<AdjChunk>> {
    let found = match t
        .range((node, ty, 0u64)..=(node, ty, rel))
        .map_err(st)?
        .next_back()
    {
        Some(e) => Some(e.map_err(st)?),
        None => match t
            .range((node, ty, rel)..=(node, ty, u64::MAX))
            .map_err(st)?
            .next()
        {
            Some(e) => Some(e.map_err(st)?),
            None => None,
        },
    };
    match found {
        Some((k, v)) => {
            let first = k.value().2;
            Ok(Some((first, codec::decode_adj(first, v.value())?)))
        }
        None => Ok(None),
    }
}

/// Writes the chunk `edges` of `(node, ty)` that was stored under `old_first` (if any).
fn adj_put(
    t: &mut AdjTable<'_>,
    buf: &mut Vec<u8>,
    node: u64,
    ty: u32,
    old_first: Option<u64>,
    edges: &[(u64, u64)],
) -> Result<()> {
    let new_first = edges.first().map(|e| e.0);
    if let Some(f) = old_first {
        if new_first != Some(f) {
            t.remove((node, ty, f)).map_err(st)?;
        }
    }
    if let Some(f) = new_first {
        codec::encode_adj(buf, edges);
        t.insert((node, ty, f), buf.as_slice()).map_err(st)?;
    }
    Ok(())
}

/// Adds the edge `rel -> other` to the adjacency of `(node, ty)`. New relationships have the
/// largest id so far: they append to the last chunk (a full one starts a new chunk); an
/// insert in the middle of a full chunk splits it in two.
pub(crate) fn adj_insert(
    t: &mut AdjTable<'_>,
    buf: &mut Vec<u8>,
    node: u64,
    ty: u32,
    rel: u64,
    other: u64,
) -> Result<()> {
    // The common case, a new relationship (the largest id so far): one lookup of the last
    // chunk, and the edge appended to its bytes (or a new chunk when it is full or there is
    // none). `append` is the key to write `buf` under.
    let append = match t
        .range((node, ty, 0u64)..=(node, ty, u64::MAX))
        .map_err(st)?
        .next_back()
    {
        None => {
            codec::encode_adj(buf, &[(rel, other)]);
            Some(rel)
        }
        Some(e) => {
            let (k, v) = e.map_err(st)?;
            let (first, v) = (k.value().2, v.value());
            let (n, last, header) = codec::adj_tail(first, v)?;
            if first > rel || rel <= last {
                None
            } else if n >= codec::ADJ_CAP {
                codec::encode_adj(buf, &[(rel, other)]);
                Some(rel)
            } else {
                buf.clear();
                codec::put_varint(buf, n as u64 + 1);
                buf.extend_from_slice(v.get(header..).unwrap_or(&[]));
                codec::put_varint(buf, rel - last);
                codec::put_varint(buf, other);
                Some(first)
            }
        }
    };
    if let Some(key) = append {
        t.insert((node, ty, key), buf.as_slice()).map_err(st)?;
        return Ok(());
    }
    let Some((first, mut edges)) = adj_chunk_of(t, node, ty, rel)? else {
        return adj_put(t, buf, node, ty, None, &[(rel, other)]);
    };
    match edges.binary_search_by_key(&rel, |e| e.0) {
        Ok(i) => {
            if let Some(e) = edges.get_mut(i) {
                e.1 = other;
            }
            adj_put(t, buf, node, ty, Some(first), &edges)
        }
        Err(i) if i == edges.len() && edges.len() >= codec::ADJ_CAP => {
            adj_put(t, buf, node, ty, None, &[(rel, other)])
        }
        Err(i) => {
            edges.insert(i, (rel, other));
            if edges.len() > codec::ADJ_CAP {
                let right = edges.split_off(edges.len() / 2);
                adj_put(t, buf, node, ty, Some(first), &edges)?;
                adj_put(t, buf, node, ty, None, &right)
            } else {
                adj_put(t, buf, node, ty, Some(first), &edges)
            }
        }
    }
}

/// Removes the edge `rel` from the adjacency of `(node, ty)` (no-op when absent).
pub(crate) fn adj_remove(
    t: &mut AdjTable<'_>,
    buf: &mut Vec<u8>,
    node: u64,
    ty: u32,
    rel: u64,
) -> Result<()> {
    let Some((first, mut edges)) = adj_chunk_of(t, node, ty, rel)? else {
        return Ok(());
    };
    if let Ok(i) = edges.binary_search_by_key(&rel, |e| e.0) {
        edges.remove(i);
        adj_put(t, buf, node, ty, Some(first), &edges)?;
    }
    Ok(())
}

/// The incoming-edge delta table of a write transaction.
pub(crate) type DeltaTable<'t> = Table<'t, (u64, u32, u64), u64>;

/// Adds the incoming edge `rel` from `other` to `node`: into the delta table, one small
/// entry (the chunks of [`IN`] are keyed by the target node, which a load meets in random
/// order; writing them there would rewrite most of their pages in every transaction).
pub(crate) fn in_insert(
    delta: &mut DeltaTable<'_>,
    node: u64,
    ty: u32,
    rel: u64,
    other: u64,
) -> Result<()> {
    delta.insert((node, ty, rel), other).map_err(st)?;
    Ok(())
}

/// Removes the incoming edge `rel` of `(node, ty)` from the delta table or the chunks
/// (no-op when absent).
pub(crate) fn in_remove(
    inc: &mut AdjTable<'_>,
    delta: &mut DeltaTable<'_>,
    buf: &mut Vec<u8>,
    node: u64,
    ty: u32,
    rel: u64,
) -> Result<()> {
    if delta.remove((node, ty, rel)).map_err(st)?.is_some() {
        return Ok(());
    }
    adj_remove(inc, buf, node, ty, rel)
}

/// `meta` key: the target node the next merge of the delta table starts at.
pub(crate) const IN_DELTA_CURSOR: &str = "in_delta_cursor";

/// The number of entries the delta table may hold before commits merge it into the chunks,
/// for a graph of `rels` relationships: about √(rels × 2048), at least 4096. A commit of `b`
/// new relationships then writes about `delta bytes + chunk bytes × b / size` (the delta's
/// pages it touches, and the window of chunks the merge rewrites), which this size keeps
/// near its minimum (measured with `tests/bench.rs layout`: factors 256 to 32768 tried,
/// 2048 wrote least for batches of 10,000).
pub(crate) fn in_delta_target(rels: u64) -> u64 {
    rels.saturating_mul(2048).isqrt().max(4096)
}

/// Moves up to `max` entries of the delta table into the chunks, in key order from the target
/// node `cursor` on (wrapping around once), so successive commits sweep the node id space and
/// each rewrites one window of the chunk table. Returns the node the next merge starts at.
pub(crate) fn in_delta_merge(
    inc: &mut AdjTable<'_>,
    delta: &mut DeltaTable<'_>,
    buf: &mut Vec<u8>,
    cursor: u64,
    max: u64,
) -> Result<u64> {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let mut moved: Vec<((u64, u32, u64), u64)> = Vec::new();
    let mut next = cursor;
    for start in [cursor, 0] {
        let left = max.saturating_sub(moved.len());
        if left == 0 {
            break;
        }
        let before = moved.len();
        for e in delta.range((start, 0u32, 0u64)..).map_err(st)? {
            let (k, v) = e.map_err(st)?;
            let k = k.value();
            if start == 0 && k.0 >= cursor && cursor != 0 {
                break;
            }
            moved.push((k, v.value()));
            if moved.len() - before >= left {
                break;
            }
        }
        // The next merge starts at the node of the last entry moved when the window was
        // full (its remaining entries, if any, come first), else from the beginning.
        next = if moved.len() >= max {
            moved.last().map_or(0, |m| m.0 .0)
        } else {
            0
        };
        if cursor == 0 {
            break;
        }
    }
    for &((node, ty, rel), other) in &moved {
        delta.remove((node, ty, rel)).map_err(st)?;
        adj_insert(inc, buf, node, ty, rel, other)?;
    }
    Ok(next)
}

/// Adds `node` to the nodes carrying `label`.
pub(crate) fn label_add(t: &mut LabelTable<'_>, label: u32, node: u64) -> Result<()> {
    label_set(t, label, node, true)
}

/// Removes `node` from the nodes carrying `label`.
pub(crate) fn label_remove(t: &mut LabelTable<'_>, label: u32, node: u64) -> Result<()> {
    label_set(t, label, node, false)
}

fn label_set(t: &mut LabelTable<'_>, label: u32, node: u64, present: bool) -> Result<()> {
    let (chunk, off) = codec::label_chunk_of(node);
    let changed = match t.get((label, chunk)).map_err(st)? {
        Some(g) => codec::label_chunk_set(g.value(), off, present)?,
        None if present => Some(codec::encode_label_chunk(&[off])),
        None => None,
    };
    match changed {
        Some(v) if v.is_empty() => {
            t.remove((label, chunk)).map_err(st)?;
        }
        Some(v) => {
            t.insert((label, chunk), v.as_slice()).map_err(st)?;
        }
        None => {}
    }
    Ok(())
}
