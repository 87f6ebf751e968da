//! The redb tables of one database and the read operations shared by read and write
//! transactions (generic over redb's `ReadOnlyTable` and `Table`).

use graphward_core::{Result, Value};
use std::ops::Bound;

use redb::{ReadOnlyTable, ReadableTable, ReadableTableMetadata, Table, TableDefinition};

use crate::codec::{self, AdjEdge, NodeData, RelData, SchemaData};
use crate::{Edge, ExpandDir};

/// Counters and format marker.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// `(kind, name) -> id`.
pub(crate) const TOKENS: TableDefinition<(u8, &str), u32> = TableDefinition::new("tokens");
/// `(kind, id) -> name`.
pub(crate) const TOKEN_NAMES: TableDefinition<(u8, u32), &str> =
    TableDefinition::new("token_names");
/// `last node id -> block of node records` (storage format 6): up to [`codec::BLOCK_CAP`]
/// records of consecutive ids per entry, as [`RELS`] (see [`codec::encode_block`]), so a
/// scan reads one B-tree entry per block, not one per node, and a small node does not pay a
/// key and an entry of its own.
pub(crate) const NODES: TableDefinition<u64, &[u8]> = TableDefinition::new("nodes_v6");
/// `node id -> node record`: the newest nodes, past the last block of [`NODES`], until a
/// block of them is complete (as [`REL_TAIL`]; see [`block_put`]).
pub(crate) const NODE_TAIL: TableDefinition<u64, &[u8]> = TableDefinition::new("nodes_tail_v6");
/// `last rel id -> block of rel records` (storage format 5): up to
/// [`codec::BLOCK_CAP`] records of consecutive ids per entry (see
/// [`codec::encode_block`]), so a relationship without properties costs its record's few
/// bytes, not a key and an entry of its own.
pub(crate) const RELS: TableDefinition<u64, &[u8]> = TableDefinition::new("rels_v5");
/// `rel id -> rel record`: the newest relationships, past the last block of [`RELS`], until
/// a block of them is complete (see [`block_put`]). redb packs a leaf only when keys are
/// appended to it; a block growing in place would leave its leaves about two thirds full.
pub(crate) const REL_TAIL: TableDefinition<u64, &[u8]> = TableDefinition::new("rels_tail_v5");
/// `(src, type, rel) of its first edge -> chunk of outgoing edges` (storage format 5): the
/// edges of all nodes ascending by `(src, type, rel)`, cut into chunks of at most
/// [`codec::ADJ_CAP`] (see [`codec::encode_adj`]), so a node of few edges shares a chunk with
/// its neighbours in id order instead of paying a key of its own.
pub(crate) const OUT: TableDefinition<(u64, u32, u64), &[u8]> = TableDefinition::new("adj_out_v5");
/// `(dst, type, rel) of its first edge -> chunk of incoming edges` (as [`OUT`]).
pub(crate) const IN: TableDefinition<(u64, u32, u64), &[u8]> = TableDefinition::new("adj_in_v5");
/// `(src, type, rel) -> dst`: the outgoing edges not yet merged into the chunks of [`OUT`]
/// (see [`delta_merge`]). An edge is in exactly one of the two tables.
pub(crate) const OUT_DELTA: TableDefinition<(u64, u32, u64), u64> =
    TableDefinition::new("adj_out_delta_v5");
/// `(dst, type, rel) -> src`: the incoming edges not yet merged into the chunks of [`IN`].
pub(crate) const IN_DELTA: TableDefinition<(u64, u32, u64), u64> =
    TableDefinition::new("adj_in_delta_v5");
/// `(label, node >> 10) -> the nodes of that chunk carrying the label` (bitmap or list, see
/// [`codec::label_chunk_offsets`]).
pub(crate) const LABEL_IDX: TableDefinition<(u32, u64), &[u8]> =
    TableDefinition::new("label_chunks");

/// The storage format 2 to 5 node table that format 6 replaced (read only by the migration).
pub(crate) mod v5 {
    use redb::TableDefinition;
    /// `node id -> node record`.
    pub(crate) const NODES: TableDefinition<u64, &[u8]> = TableDefinition::new("nodes");
}

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

/// The adjacency tables of storage formats 2 to 4 (a chunk per `(node, type)`, incoming edges
/// through a delta table from format 3), dropped by the migration to format 5 (which rebuilds
/// the adjacency from the relationship records).
pub(crate) mod v4 {
    use redb::TableDefinition;
    /// `rel id -> rel record`.
    pub(crate) const RELS: TableDefinition<u64, &[u8]> = TableDefinition::new("rels");
    pub(crate) const OUT: TableDefinition<(u64, u32, u64), &[u8]> =
        TableDefinition::new("adj_out_v2");
    pub(crate) const IN: TableDefinition<(u64, u32, u64), &[u8]> =
        TableDefinition::new("adj_in_v2");
    pub(crate) const IN_DELTA: TableDefinition<(u64, u32, u64), u64> =
        TableDefinition::new("adj_in_delta");
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
/// migrated on open (see `migrate.rs`); formats 2 to 4 (an adjacency chunk per node and type)
/// are migrated to format 5 by rebuilding the adjacency from the relationship records (and,
/// for 2 and 3, counting each index's entries into [`INDEX_COUNT`]), and format 5 (an entry
/// per node record) to format 6 by moving the node records into blocks ([`NODES`]).
pub(crate) const FORMAT_VERSION: u64 = 6;

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
    copy_table(r, w, NODE_TAIL)?;
    copy_table(r, w, RELS)?;
    copy_table(r, w, REL_TAIL)?;
    copy_table(r, w, OUT)?;
    copy_table(r, w, IN)?;
    copy_table(r, w, OUT_DELTA)?;
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
    pub node_tail: R,
    pub rels: R,
    pub rel_tail: R,
    pub out: A,
    pub inc: A,
    pub out_delta: DL,
    pub inc_delta: DL,
    pub label_idx: LI,
    pub label_count: LC,
    pub prop_idx: PI,
    pub idx_count: LC,
    pub schema: S,
    /// What the last adjacency reads of a read snapshot found (see [`AdjCache`]).
    pub adj_cache: AdjCache,
    /// A write transaction's bounds on the last key of the node and the relationship blocks
    /// (see [`block_put`]); `None` until read.
    pub node_end: Option<u64>,
    pub rel_end: Option<u64>,
}

/// Per direction, what the last adjacency read found, for the next one (read snapshots only:
/// their tables never change). A scan expands its nodes in ascending order, so node after
/// node falls in the adjacency chunk read last (about 30 nodes share one) and in the same
/// stretch without delta entries: those reads need no B-tree descent. A lock held only for
/// the lookup (`try_lock`: a snapshot read by two threads at once reads without the cache).
#[derive(Default)]
pub(crate) struct AdjCache {
    enabled: bool,
    dirs: [std::sync::Mutex<DirCache>; 2],
}

impl AdjCache {
    fn enabled() -> AdjCache {
        AdjCache {
            enabled: true,
            ..AdjCache::default()
        }
    }

    fn dir(&self, outgoing: bool) -> Option<std::sync::MutexGuard<'_, DirCache>> {
        if !self.enabled {
            return None;
        }
        self.dirs.get(usize::from(outgoing))?.try_lock().ok()
    }
}

#[derive(Default)]
struct DirCache {
    /// The chunk read last: its key, its bytes, the node that was read in it, and the key of
    /// the chunk after it once looked up (`Some(None)`: it is the last).
    chunk: Option<CachedChunk>,
    /// A stretch of keys `[from, to)` the delta table has no entry in (`to` = `None`: none
    /// after `from` at all).
    delta_gap: Option<(AdjKey, Option<AdjKey>)>,
}

#[derive(Default)]
struct CachedChunk {
    key: AdjKey,
    bytes: Vec<u8>,
    node: u64,
    next: Option<Option<AdjKey>>,
}

/// How far past the node read last a read may be for the cache to look up where the cached
/// chunk ends (further means random access: the lookup would be a descent spent for nothing).
const NEAR: u64 = 64;

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
        node_tail: txn.open_table(NODE_TAIL).map_err(st)?,
        rels: txn.open_table(RELS).map_err(st)?,
        rel_tail: txn.open_table(REL_TAIL).map_err(st)?,
        out: txn.open_table(OUT).map_err(st)?,
        inc: txn.open_table(IN).map_err(st)?,
        out_delta: txn.open_table(OUT_DELTA).map_err(st)?,
        inc_delta: txn.open_table(IN_DELTA).map_err(st)?,
        label_idx: txn.open_table(LABEL_IDX).map_err(st)?,
        label_count: txn.open_table(LABEL_COUNT).map_err(st)?,
        prop_idx: txn.open_table(PROP_IDX).map_err(st)?,
        idx_count: txn.open_table(INDEX_COUNT).map_err(st)?,
        schema: txn.open_table(SCHEMA).map_err(st)?,
        adj_cache: AdjCache::enabled(),
        node_end: None,
        rel_end: None,
    })
}

pub(crate) fn open_write(txn: &redb::WriteTransaction) -> Result<WTabs<'_>> {
    Ok(Tabs {
        meta: txn.open_table(META).map_err(st)?,
        tokens: txn.open_table(TOKENS).map_err(st)?,
        token_names: txn.open_table(TOKEN_NAMES).map_err(st)?,
        nodes: txn.open_table(NODES).map_err(st)?,
        node_tail: txn.open_table(NODE_TAIL).map_err(st)?,
        rels: txn.open_table(RELS).map_err(st)?,
        rel_tail: txn.open_table(REL_TAIL).map_err(st)?,
        out: txn.open_table(OUT).map_err(st)?,
        inc: txn.open_table(IN).map_err(st)?,
        out_delta: txn.open_table(OUT_DELTA).map_err(st)?,
        inc_delta: txn.open_table(IN_DELTA).map_err(st)?,
        label_idx: txn.open_table(LABEL_IDX).map_err(st)?,
        label_count: txn.open_table(LABEL_COUNT).map_err(st)?,
        prop_idx: txn.open_table(PROP_IDX).map_err(st)?,
        idx_count: txn.open_table(INDEX_COUNT).map_err(st)?,
        schema: txn.open_table(SCHEMA).map_err(st)?,
        adj_cache: AdjCache::default(),
        node_end: None,
        rel_end: None,
    })
}

/// A lazy sequence over a table range.
pub(crate) type BoxIter<'a, T> = Box<dyn Iterator<Item = Result<T>> + 'a>;

/// Where node records are stored, as [`Src::node_stored_from`] hands them over: a block of
/// them under its key (its last id), or one record of the tail under its id.
pub(crate) enum Stored<'a> {
    Block(u64, &'a [u8]),
    Record(u64, &'a [u8]),
}

/// Label ids in step with a lookup in the node blocks: while the labelled ids are dense,
/// id after id falls in the block read last (see [`NodeLookup`]).
pub(crate) struct PropScan<'s, S: Src + ?Sized> {
    ids: BoxIter<'s, u64>,
    nodes: NodeLookup,
    src: &'s S,
    key: Option<u32>,
}

/// Whether a scan of the nodes carrying a label reads the node table alone, checking each
/// record's labels, rather than the label index in step with it: when at least half the
/// nodes carry it (so at most one record in two is read for nothing, and the label chunks
/// are not decoded at all).
pub(crate) fn dense_label(labelled: u64, nodes: u64) -> bool {
    labelled > 0 && labelled.saturating_mul(2) >= nodes
}

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
        let tabs = self.src.tabs();
        Some(match self.nodes.get(&tabs.nodes, &tabs.node_tail, id) {
            Ok(Some(rec)) => codec::node_prop(rec, key).map(|p| (id, p)),
            Ok(None) => Ok((id, None)),
            Err(e) => Err(e),
        })
    }
}

/// One block of records copied out of a block table (or one record of its tail): its bytes
/// and, per record, `(id, offset, length)` in them, ascending by id.
#[derive(Default)]
struct CopiedBlock {
    bytes: Vec<u8>,
    recs: Vec<(u64, usize, usize)>,
}

impl CopiedBlock {
    /// Holds the block stored under `key` (checked as it is read).
    fn load_block(&mut self, key: u64, bytes: &[u8]) -> Result<()> {
        self.bytes.clear();
        self.bytes.extend_from_slice(bytes);
        self.recs.clear();
        let base = self.bytes.as_ptr() as usize;
        for r in codec::BlockReader::new(key, &self.bytes) {
            let (id, rec) = r?;
            self.recs
                .push((id, (rec.as_ptr() as usize) - base, rec.len()));
        }
        Ok(())
    }

    /// Holds one record of the tail.
    fn load_one(&mut self, id: u64, rec: &[u8]) {
        self.bytes.clear();
        self.bytes.extend_from_slice(rec);
        self.recs.clear();
        self.recs.push((id, 0, rec.len()));
    }

    fn rec(&self, i: usize) -> Option<(u64, &[u8])> {
        let &(id, off, len) = self.recs.get(i)?;
        Some((id, self.bytes.get(off..off + len)?))
    }

    fn find(&self, id: u64) -> Option<&[u8]> {
        let i = self.recs.binary_search_by_key(&id, |r| r.0).ok()?;
        self.rec(i).map(|r| r.1)
    }

    fn first_id(&self) -> Option<u64> {
        self.recs.first().map(|r| r.0)
    }

    fn last_id(&self) -> Option<u64> {
        self.recs.last().map(|r| r.0)
    }
}

/// The records `(id, bytes)` of a block table and then its tail from an id on, ascending,
/// one block copied out at a time (so no borrow of a table entry outlives a step).
pub(crate) struct BlockCursor<'s> {
    blocks: Option<redb::Range<'s, u64, &'static [u8]>>,
    tail: redb::Range<'s, u64, &'static [u8]>,
    start: u64,
    block: CopiedBlock,
    at: usize,
    failed: bool,
}

impl<'s> BlockCursor<'s> {
    pub(crate) fn new<R: ReadableTable<u64, &'static [u8]>>(
        blocks: &'s R,
        tail: &'s R,
        start: u64,
    ) -> Result<BlockCursor<'s>> {
        Ok(BlockCursor {
            blocks: Some(blocks.range(start..).map_err(st)?),
            tail: tail.range(start..).map_err(st)?,
            start,
            block: CopiedBlock::default(),
            at: 0,
            failed: false,
        })
    }

    /// The next record; after an error, none.
    pub(crate) fn next_record(&mut self) -> Option<Result<(u64, &[u8])>> {
        if self.failed {
            return None;
        }
        loop {
            if self.at < self.block.recs.len() {
                let i = self.at;
                self.at += 1;
                return self.block.rec(i).map(Ok);
            }
            let step = self.load_next();
            match step {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }

    /// Copies out the next block (or tail record); `false` at the end.
    fn load_next(&mut self) -> Result<bool> {
        self.at = 0;
        if let Some(blocks) = self.blocks.as_mut() {
            match blocks.next() {
                Some(e) => {
                    let (k, v) = e.map_err(st)?;
                    self.block.load_block(k.value(), v.value())?;
                    // The first block may begin before the start.
                    let start = self.start;
                    self.at = self.block.recs.partition_point(|r| r.0 < start);
                    return Ok(true);
                }
                None => self.blocks = None,
            }
        }
        match self.tail.next() {
            Some(e) => {
                let (k, v) = e.map_err(st)?;
                self.block.load_one(k.value(), v.value());
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// Looks up records by id in a block table and its tail, keeping the block read last: ids
/// looked up in ascending order mostly fall in it (one descent per block, not per id).
#[derive(Default)]
pub(crate) struct NodeLookup {
    block: CopiedBlock,
    /// The ids the copied block stands for: `[first, last]` (`None`: nothing copied).
    span: Option<(u64, u64)>,
}

impl NodeLookup {
    pub(crate) fn get<R: ReadableTable<u64, &'static [u8]>>(
        &mut self,
        blocks: &R,
        tail: &R,
        id: u64,
    ) -> Result<Option<&[u8]>> {
        if !self.span.is_some_and(|(a, b)| a <= id && id <= b) {
            self.span = None;
            match blocks.range(id..).map_err(st)?.next() {
                Some(e) => {
                    let (k, v) = e.map_err(st)?;
                    self.block.load_block(k.value(), v.value())?;
                }
                None => match tail.get(id).map_err(st)? {
                    Some(g) => self.block.load_one(id, g.value()),
                    None => return Ok(None),
                },
            }
            self.span = self.block.first_id().zip(self.block.last_id());
        }
        Ok(self.block.find(id))
    }
}

/// Runs `f` on the record `id` of a block table and its tail (`None` when there is none).
fn with_record<T, R: ReadableTable<u64, &'static [u8]>>(
    blocks: &R,
    tail: &R,
    id: u64,
    f: impl FnOnce(&[u8]) -> Result<T>,
) -> Result<Option<T>> {
    let Some(e) = blocks.range(id..).map_err(st)?.next() else {
        return match tail.get(id).map_err(st)? {
            Some(g) => f(g.value()).map(Some),
            None => Ok(None),
        };
    };
    let (k, v) = e.map_err(st)?;
    match codec::block_get(k.value(), v.value(), id)? {
        Some(rec) => f(rec).map(Some),
        None => Ok(None),
    }
}

/// The ids of a block table and its tail from `start` on, ascending, lazily (one block
/// decoded at a time).
fn record_ids_from<'a, R: ReadableTable<u64, &'static [u8]>>(
    blocks: &'a R,
    tail: &'a R,
    start: u64,
) -> Result<BoxIter<'a, u64>> {
    let blocks = blocks
        .range(start..)
        .map_err(st)?
        .flat_map(move |e| -> Vec<Result<u64>> {
            let (k, v) = match e {
                Ok(kv) => kv,
                Err(e) => return vec![Err(st(e))],
            };
            codec::BlockReader::new(k.value(), v.value())
                .map(|r| r.map(|(id, _)| id))
                .filter(|r| r.as_ref().map_or(true, |id| *id >= start))
                .collect()
        });
    let tail = tail
        .range(start..)
        .map_err(st)?
        .map(|e| e.map(|(k, _)| k.value()).map_err(st));
    Ok(Box::new(blocks.chain(tail)))
}

/// The first and the last id of a block table and its tail (`None`: both are empty). Every
/// id in the tail is past every block's.
fn record_id_span<R: ReadableTable<u64, &'static [u8]>>(
    blocks: &R,
    tail: &R,
) -> Result<Option<(u64, u64)>> {
    let first = match blocks.first().map_err(st)? {
        Some((k, v)) => match codec::BlockReader::new(k.value(), v.value()).next() {
            Some(r) => Some(r?.0),
            None => None,
        },
        None => tail.first().map_err(st)?.map(|(k, _)| k.value()),
    };
    let last = match tail.last().map_err(st)? {
        Some((k, _)) => Some(k.value()),
        None => blocks.last().map_err(st)?.map(|(k, _)| k.value()),
    };
    Ok(first.zip(last))
}

/// Appends the items of `it` to `out` until it holds `limit`, pulling no item past the last
/// it keeps (the first error ends it). `limit` is at least 1.
fn push_at_most<T>(
    out: &mut Vec<T>,
    it: impl Iterator<Item = Result<T>>,
    limit: usize,
) -> Result<()> {
    for item in it {
        out.push(item?);
        if out.len() >= limit {
            break;
        }
    }
    Ok(())
}

/// The node blocks read in order, each record's labels checked in place (see
/// [`Src::prop_scan_from`]).
struct NodeTableScan<'s> {
    recs: BlockCursor<'s>,
    label: Option<u32>,
    key: Option<u32>,
}

impl Iterator for NodeTableScan<'_> {
    type Item = Result<(u64, Option<Value>)>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (id, rec) = match self.recs.next_record()? {
                Ok(e) => e,
                Err(e) => return Some(Err(e)),
            };
            match codec::node_prop_if_labelled(rec, self.label, self.key) {
                Ok(Some(p)) => return Some(Ok((id, p))),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
        }
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

/// The edges `(type, rel, other)` of `node` with a type in `ty_lo..=ty_hi` in one adjacency
/// chunk (decoding stops past them).
fn span_edges(bytes: &[u8], node: u64, ty_lo: u32, ty_hi: u32) -> Vec<Result<(u32, u64, u64)>> {
    let mut out = Vec::new();
    let mut rd = codec::AdjReader::new(bytes);
    if let Err(e) = rd.skip_before(node, ty_lo) {
        return vec![Err(e)];
    }
    for x in rd {
        match x {
            Ok((n, t, rel, other)) => {
                if (n, t) > (node, ty_hi) {
                    break;
                }
                if n == node && t >= ty_lo {
                    out.push(Ok((t, rel, other)));
                }
            }
            Err(e) => {
                out.push(Err(e));
                break;
            }
        }
    }
    out
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
        self.with_node(id, codec::decode_node)
    }

    fn node_exists(&self, id: u64) -> Result<bool> {
        Ok(self.with_node(id, |_| Ok(()))?.is_some())
    }

    /// Runs `f` on the record of node `id` (`None` when there is none).
    fn with_node<T>(&self, id: u64, f: impl FnOnce(&[u8]) -> Result<T>) -> Result<Option<T>> {
        with_record(&self.tabs().nodes, &self.tabs().node_tail, id, f)
    }

    /// Runs `f` on the record of relationship `id` (`None` when there is none).
    fn with_rel<T>(&self, id: u64, f: impl FnOnce(&[u8]) -> Result<T>) -> Result<Option<T>> {
        with_record(&self.tabs().rels, &self.tabs().rel_tail, id, f)
    }

    fn rel_data(&self, id: u64) -> Result<Option<RelData>> {
        self.with_rel(id, codec::decode_rel)
    }

    /// Relationship ids from `start` on, ascending, lazily (one block decoded at a time).
    fn rel_ids_from(&self, start: u64) -> Result<BoxIter<'_, u64>> {
        record_ids_from(&self.tabs().rels, &self.tabs().rel_tail, start)
    }

    /// Node ids from `start` on, ascending, lazily (one block decoded at a time).
    fn node_ids_from(&self, start: u64) -> Result<BoxIter<'_, u64>> {
        record_ids_from(&self.tabs().nodes, &self.tabs().node_tail, start)
    }

    fn node_labels_ids(&self, id: u64) -> Result<Option<Vec<u32>>> {
        self.with_node(id, codec::node_labels)
    }

    fn node_prop(&self, id: u64, key: u32) -> Result<Option<Value>> {
        Ok(self.with_node(id, |r| codec::node_prop(r, key))?.flatten())
    }

    fn rel_prop(&self, id: u64, key: u32) -> Result<Option<Value>> {
        Ok(self.with_rel(id, |r| codec::rel_prop(r, key))?.flatten())
    }

    /// Counts edges without materializing them.
    fn degree_dir(
        &self,
        node: u64,
        outgoing: bool,
        types: Option<&[u32]>,
        skip_self_loops: bool,
    ) -> Result<u64> {
        let mut n = 0u64;
        for e in self.edge_iter(node, outgoing, types, skip_self_loops)? {
            e?;
            n += 1;
        }
        Ok(n)
    }

    /// The chunked edges `(type, rel, other)` of `node` with a type in `ty_lo..=ty_hi` in one
    /// stored direction, ascending, lazily (one chunk decoded at a time): from the chunk that
    /// holds `(node, ty_lo, 0)` to the last one whose key is at most `(node, ty_hi, MAX)`.
    fn chunk_span(
        &self,
        outgoing: bool,
        node: u64,
        ty_lo: u32,
        ty_hi: u32,
    ) -> Result<BoxIter<'_, (u32, u64, u64)>> {
        let table = if outgoing {
            &self.tabs().out
        } else {
            &self.tabs().inc
        };
        let lo = (node, ty_lo, 0u64);
        let hi = (node, ty_hi, u64::MAX);
        let mut cache = self.tabs().adj_cache.dir(outgoing);
        // The chunk read last holds the span when it starts at most at `lo` and the next
        // one after `hi` (looked up once, for a read near the last).
        if let Some(c) = cache.as_mut().and_then(|d| d.chunk.as_mut()) {
            if c.key <= lo && (c.next.is_some() || node.abs_diff(c.node) <= NEAR) {
                let next = match c.next {
                    Some(n) => n,
                    None => *c.next.insert(chunk_after(table, c.key)?),
                };
                if next.is_none_or(|n| n > hi) {
                    c.node = node;
                    return Ok(Box::new(
                        span_edges(&c.bytes, node, ty_lo, ty_hi).into_iter(),
                    ));
                }
            }
        }
        // The common case, one descent: the last chunk starting at most at `hi` starts at
        // most at `lo` too, so it is the only one that can hold the span.
        match table.range(..=hi).map_err(st)?.next_back() {
            None => return Ok(Box::new(std::iter::empty())),
            Some(e) => {
                let (k, v) = e.map_err(st)?;
                if k.value() <= lo {
                    let out = span_edges(v.value(), node, ty_lo, ty_hi);
                    if let Some(d) = cache.as_mut() {
                        // The chunk's buffer is reused from one chunk to the next.
                        let c = d.chunk.get_or_insert_with(CachedChunk::default);
                        c.key = k.value();
                        c.bytes.clear();
                        c.bytes.extend_from_slice(v.value());
                        c.node = node;
                        c.next = None;
                    }
                    return Ok(Box::new(out.into_iter()));
                }
            }
        }
        // The span starts a chunk or runs over several: from the chunk holding `lo` on,
        // one chunk decoded at a time.
        let start = match table.range(..=lo).map_err(st)?.next_back() {
            Some(e) => e.map_err(st)?.0.value(),
            None => lo,
        };
        let chunks = table.range(start..=hi).map_err(st)?;
        Ok(Box::new(chunks.flat_map(
            move |e| -> Vec<Result<(u32, u64, u64)>> {
                match e {
                    Ok((_, v)) => span_edges(v.value(), node, ty_lo, ty_hi),
                    Err(e) => vec![Err(st(e))],
                }
            },
        )))
    }

    fn all_node_ids(&self) -> Result<Vec<u64>> {
        self.node_ids_from(0)?.collect()
    }

    fn all_rel_ids(&self) -> Result<Vec<u64>> {
        self.rel_ids_from(0)?.collect()
    }

    /// Ids of one id-keyed table (`nodes` or `rels`) after `after`, at most `limit`.
    fn ids_page(&self, rels: bool, after: Option<u64>, limit: usize) -> Result<Vec<u64>> {
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
        let ids = if rels {
            self.rel_ids_from(start)?
        } else {
            self.node_ids_from(start)?
        };
        push_at_most(&mut out, ids, limit)?;
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
        if rels {
            return self.rel_ids_from(0);
        }
        self.node_ids_from(0)
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

    /// Whether the delta table of a direction has no entry in `[lo, hi]`, when a read
    /// snapshot's cache can tell (`false`: read the table). A lookup that finds the span
    /// empty remembers the stretch up to the next entry for the reads after it.
    fn delta_gap_holds(
        &self,
        outgoing: bool,
        lo: AdjKey,
        hi: AdjKey,
        delta_table: &Self::DL,
    ) -> Result<bool> {
        let Some(mut d) = self.tabs().adj_cache.dir(outgoing) else {
            return Ok(false);
        };
        if let Some((from, to)) = d.delta_gap {
            if from <= lo && to.is_none_or(|t| t > hi) {
                return Ok(true);
            }
        }
        let next = first_key(delta_table, Bound::Included(lo))?;
        let empty = next.is_none_or(|n| n > hi);
        if empty {
            d.delta_gap = Some((lo, next));
        }
        Ok(empty)
    }

    /// The edges of `node` in one stored direction, lazily (see [`Src::expand_dir`]); one
    /// adjacency chunk is decoded at a time, merged with the direction's delta table
    /// ([`OUT_DELTA`], [`IN_DELTA`]) in (type, rel) order like the chunks alone.
    fn edge_iter(
        &self,
        node: u64,
        outgoing: bool,
        types: Option<&[u32]>,
        skip_self_loops: bool,
    ) -> Result<BoxIter<'_, Edge>> {
        let delta_table = if outgoing {
            &self.tabs().out_delta
        } else {
            &self.tabs().inc_delta
        };
        let mut spans = Vec::new();
        match types {
            None => spans.push((0u32, u32::MAX)),
            Some(ts) => {
                for &t in ts {
                    spans.push((t, t));
                }
            }
        }
        let mut parts: Vec<BoxIter<'_, (u32, u64, u64)>> = Vec::with_capacity(spans.len());
        for (t_lo, t_hi) in spans {
            let chunks = self.chunk_span(outgoing, node, t_lo, t_hi)?;
            let (lo, hi) = ((node, t_lo, 0u64), (node, t_hi, u64::MAX));
            if self.delta_gap_holds(outgoing, lo, hi, delta_table)? {
                parts.push(chunks);
                continue;
            }
            let mut delta = delta_table
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
                parts.push(chunks);
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
                Ok((type_id, rel, other)) => Some(Ok(Edge {
                    rel,
                    other,
                    outgoing,
                    type_id,
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
        self.prop_scan_from(label, key, 0)
    }
    /// [`Src::prop_scan`] from node id `start` on (a page of it: the caller stops pulling).
    /// A label most nodes carry ([`dense_label`]) is read from the node table alone, its
    /// records' labels checked in place (one cursor, no label chunk decoded); a sparser one
    /// goes through the label index with the node table's cursor in step ([`PropScan`]).
    fn prop_scan_from<'s>(
        &'s self,
        label: Option<u32>,
        key: Option<u32>,
        start: u64,
    ) -> Result<BoxIter<'s, (u64, Option<Value>)>> {
        let l = match label {
            Some(l) if !self.scans_node_table(label)? => l,
            _ => {
                return Ok(Box::new(NodeTableScan {
                    recs: BlockCursor::new(&self.tabs().nodes, &self.tabs().node_tail, start)?,
                    label,
                    key,
                }));
            }
        };
        Ok(Box::new(PropScan {
            ids: self.label_ids_from(l, start)?,
            nodes: NodeLookup::default(),
            src: self,
            key,
        }))
    }
    /// The first and the last id a scan of `label`'s nodes (every node for `None`) may
    /// return: the node table's first and last keys when the scan reads the node table, else
    /// the first id of the label's first chunk and the last of its last (see
    /// [`GraphRead::node_id_span`](crate::GraphRead::node_id_span)).
    fn id_span(&self, label: Option<u32>) -> Result<Option<(u64, u64)>> {
        let l = match label {
            Some(l) if !self.scans_node_table(label)? => l,
            _ => return record_id_span(&self.tabs().nodes, &self.tabs().node_tail),
        };
        let mut chunks = self
            .tabs()
            .label_idx
            .range((l, 0)..=(l, u64::MAX))
            .map_err(st)?;
        let first = match chunks.next() {
            Some(e) => e.map_err(st)?.0.value().1,
            None => return Ok(None),
        };
        let last = match chunks.next_back() {
            Some(e) => e.map_err(st)?.0.value().1,
            None => first,
        };
        let bits = codec::LABEL_CHUNK_BITS;
        let low = (1u64 << bits) - 1;
        Ok(Some((first << bits, (last << bits) | low)))
    }
    /// Whether a scan of `label`'s nodes (every node for `None`) reads the node table alone
    /// ([`dense_label`]).
    fn scans_node_table(&self, label: Option<u32>) -> Result<bool> {
        match label {
            Some(l) => Ok(dense_label(
                self.label_count_stored(l)?,
                self.meta_get("node_count")?,
            )),
            None => Ok(true),
        }
    }
    /// At most `limit` of [`Src::prop_scan_from`]'s items, collected (the dense case read
    /// in a loop of its own: no iterator object between the cursor and the page).
    fn prop_page(
        &self,
        label: Option<u32>,
        key: Option<u32>,
        start: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Option<Value>)>> {
        let mut out = Vec::with_capacity(limit.min(4096));
        if limit == 0 {
            return Ok(out);
        }
        if self.scans_node_table(label)? {
            self.node_records_from(start, |id, rec| {
                if let Some(p) = codec::node_prop_if_labelled(rec, label, key)? {
                    out.push((id, p));
                }
                Ok(out.len() < limit)
            })?;
        } else {
            push_at_most(&mut out, self.prop_scan_from(label, key, start)?, limit)?;
        }
        Ok(out)
    }
    /// [`crate::GraphRead::node_property_stats`] of the property `key`: the dense case read
    /// in place as [`Src::prop_page`] reads it, the integers added up without a value made.
    fn prop_stats(
        &self,
        label: Option<u32>,
        key: Option<u32>,
        start: u64,
        until: u64,
        limit: usize,
    ) -> Result<crate::PropertyStats> {
        let mut stats = crate::PropertyStats::default();
        if limit == 0 {
            return Ok(stats);
        }
        if self.scans_node_table(label)? {
            // A block at a time (the totals in registers meanwhile), then the tail.
            let page = codec::IntPage {
                start,
                until,
                label,
                key,
                limit,
            };
            self.node_stored_from(start, |s| match s {
                Stored::Block(k, bytes) => page.add_block(k, bytes, &mut stats),
                Stored::Record(id, rec) => page.add_record(id, rec, &mut stats),
            })?;
            return Ok(stats);
        }
        for item in self.prop_scan_from(label, key, start)? {
            let (id, v) = item?;
            if id > until {
                break;
            }
            stats.add_value(id, v.as_ref());
            if stats.rows >= limit {
                break;
            }
        }
        Ok(stats)
    }

    /// Hands `f` each node record from id `start` on, ascending, until it returns `false`:
    /// the blocks read in place (no copy of a block, no iterator object between the cursor
    /// and `f`), then the tail.
    #[inline]
    fn node_records_from(
        &self,
        start: u64,
        mut f: impl FnMut(u64, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        self.node_stored_from(start, |s| match s {
            Stored::Block(k, bytes) => {
                for r in codec::BlockReader::new(k, bytes) {
                    let (id, rec) = r?;
                    if id >= start && !f(id, rec)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Stored::Record(id, rec) => f(id, rec),
        })
    }

    /// Hands `f` what holds the node records from id `start` on, ascending, until it
    /// returns `false`: the blocks that may hold them (read in place; a block may begin
    /// before `start`), then the records of the tail.
    #[inline]
    fn node_stored_from(
        &self,
        start: u64,
        mut f: impl FnMut(Stored<'_>) -> Result<bool>,
    ) -> Result<()> {
        for e in self.tabs().nodes.range::<u64>(start..).map_err(st)? {
            let (k, v) = e.map_err(st)?;
            if !f(Stored::Block(k.value(), v.value()))? {
                return Ok(());
            }
        }
        for e in self.tabs().node_tail.range::<u64>(start..).map_err(st)? {
            let (k, v) = e.map_err(st)?;
            if !f(Stored::Record(k.value(), v.value()))? {
                break;
            }
        }
        Ok(())
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
        for outgoing in [true, false] {
            if self
                .edge_iter(node, outgoing, None, false)?
                .next()
                .is_some()
            {
                return Ok(true);
            }
        }
        Ok(false)
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
    /// Calls `f` with the node id of each index entry whose key is in the range, in key
    /// order, until it returns `false`.
    fn index_visit(
        &self,
        lower: std::ops::Bound<&[u8]>,
        upper: std::ops::Bound<&[u8]>,
        f: &mut dyn FnMut(u64) -> bool,
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
            if !f(idx_key_node(k.value())?) {
                break;
            }
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
// writes to the adjacency (storage format 5)

/// An adjacency table of a write transaction.
pub(crate) type AdjTable<'t> = Table<'t, (u64, u32, u64), &'static [u8]>;
/// The label table of a write transaction.
pub(crate) type LabelTable<'t> = Table<'t, (u32, u64), &'static [u8]>;
/// An adjacency delta table of a write transaction.
pub(crate) type DeltaTable<'t> = Table<'t, (u64, u32, u64), u64>;

/// The key of an edge in the adjacency (and of the chunk it starts).
type AdjKey = (u64, u32, u64);

fn adj_key(e: &AdjEdge) -> AdjKey {
    (e.0, e.1, e.2)
}

/// A chunk: its key and its edges.
type Chunk = (AdjKey, Vec<AdjEdge>);

/// The chunk that holds (or would hold) the edge of key `k`: the last one whose key is at
/// most `k`, else the first one. `None` when the table is empty.
fn chunk_at(t: &AdjTable<'_>, k: AdjKey) -> Result<Option<Chunk>> {
    let found = match t.range(..=k).map_err(st)?.next_back() {
        Some(e) => Some(e.map_err(st)?),
        None => match t.range(k..).map_err(st)?.next() {
            Some(e) => Some(e.map_err(st)?),
            None => None,
        },
    };
    let Some((key, v)) = found else {
        return Ok(None);
    };
    let key = key.value();
    let edges = codec::decode_adj(v.value())?;
    if edges.first().map(adj_key) != Some(key) {
        return Err(codec::corrupt(
            "adjacency chunk key differs from its first edge",
        ));
    }
    Ok(Some((key, edges)))
}

/// The key of the chunk after the one stored under `key` (the end of its span).
fn chunk_after(
    t: &impl ReadableTable<AdjKey, &'static [u8]>,
    key: AdjKey,
) -> Result<Option<AdjKey>> {
    first_key(t, Bound::Excluded(key))
}

/// The first key of an adjacency table (chunks or delta) from `from` on.
fn first_key<V: redb::Value + 'static>(
    t: &impl ReadableTable<AdjKey, V>,
    from: Bound<AdjKey>,
) -> Result<Option<AdjKey>> {
    match t.range((from, Bound::Unbounded)).map_err(st)?.next() {
        Some(e) => Ok(Some(e.map_err(st)?.0.value())),
        None => Ok(None),
    }
}

/// Writes `edges` (ascending) in place of the chunk stored under `old` (if any): under the
/// key of its first edge, cut into chunks three quarters full when it outgrew
/// [`codec::ADJ_CAP`]; an empty list removes the chunk.
fn chunk_write(
    t: &mut AdjTable<'_>,
    buf: &mut Vec<u8>,
    old: Option<AdjKey>,
    edges: &[AdjEdge],
) -> Result<()> {
    if let Some(k) = old {
        if edges.first().map(adj_key) != Some(k) {
            t.remove(k).map_err(st)?;
        }
    }
    if edges.is_empty() {
        return Ok(());
    }
    let pieces = if edges.len() <= codec::ADJ_CAP {
        1
    } else {
        edges.len().div_ceil(codec::ADJ_CAP * 3 / 4)
    };
    for piece in edges.chunks(edges.len().div_ceil(pieces)) {
        if let Some(first) = piece.first() {
            codec::encode_adj(buf, piece);
            t.insert(adj_key(first), buf.as_slice()).map_err(st)?;
        }
    }
    Ok(())
}

/// Inserts `edges` (ascending by key) into the chunks of an adjacency table: each chunk they
/// fall in is read and written once for all of them (an edge already there takes the new
/// other end).
pub(crate) fn chunks_insert(
    t: &mut AdjTable<'_>,
    buf: &mut Vec<u8>,
    edges: &[AdjEdge],
) -> Result<()> {
    let mut i = 0;
    while let Some(e) = edges.get(i) {
        let (old, chunk, next) = match chunk_at(t, adj_key(e))? {
            Some((k, c)) => (Some(k), c, chunk_after(t, k)?),
            None => (None, Vec::new(), None),
        };
        let rest = edges.get(i..).unwrap_or(&[]);
        let n = rest
            .iter()
            .take_while(|x| next.is_none_or(|nk| adj_key(x) < nk))
            .count()
            .max(1);
        let new = rest.get(..n).unwrap_or(&[]);
        let mut merged = Vec::with_capacity(chunk.len() + new.len());
        let (mut a, mut b) = (chunk.iter().peekable(), new.iter().peekable());
        loop {
            let take = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => adj_key(x).cmp(&adj_key(y)),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => break,
            };
            match take {
                std::cmp::Ordering::Less => merged.extend(a.next().copied()),
                std::cmp::Ordering::Greater => merged.extend(b.next().copied()),
                std::cmp::Ordering::Equal => {
                    a.next();
                    merged.extend(b.next().copied());
                }
            }
        }
        chunk_write(t, buf, old, &merged)?;
        i += n;
    }
    Ok(())
}

/// Removes the edge of key `k` from the chunks of an adjacency table; whether it was there.
fn chunks_remove(t: &mut AdjTable<'_>, buf: &mut Vec<u8>, k: AdjKey) -> Result<bool> {
    let Some((old, mut edges)) = chunk_at(t, k)? else {
        return Ok(false);
    };
    match edges.binary_search_by_key(&k, adj_key) {
        Ok(i) => {
            edges.remove(i);
            chunk_write(t, buf, Some(old), &edges)?;
            Ok(true)
        }
        Err(_) => Ok(false),
    }
}

/// Adds the edge `rel` of `(node, ty)` to `other` in one direction: into its delta table, one
/// small entry (the chunks are keyed by node, which a load meets in random order; writing them
/// there would rewrite most of their pages in every transaction).
pub(crate) fn edge_insert(
    delta: &mut DeltaTable<'_>,
    node: u64,
    ty: u32,
    rel: u64,
    other: u64,
) -> Result<()> {
    delta.insert((node, ty, rel), other).map_err(st)?;
    Ok(())
}

/// Removes the edge `rel` of `(node, ty)` in one direction from the delta table or the
/// chunks (no-op when absent).
pub(crate) fn edge_remove(
    chunks: &mut AdjTable<'_>,
    delta: &mut DeltaTable<'_>,
    buf: &mut Vec<u8>,
    node: u64,
    ty: u32,
    rel: u64,
) -> Result<()> {
    if delta.remove((node, ty, rel)).map_err(st)?.is_some() {
        return Ok(());
    }
    chunks_remove(chunks, buf, (node, ty, rel))?;
    Ok(())
}

/// `meta` keys: the node the next merge of each delta table starts at.
pub(crate) const OUT_DELTA_CURSOR: &str = "out_delta_cursor";
pub(crate) const IN_DELTA_CURSOR: &str = "in_delta_cursor";

/// The most entries one commit moves from a delta table into the chunks (the window is held
/// in memory while it is merged: 32 bytes an entry, 8 MiB at most).
pub(crate) const MERGE_MAX: u64 = 1 << 18;

/// The number of entries a delta table may hold before commits merge it into the chunks,
/// for a graph of `rels` relationships: about √(rels × 512), at least 4096. A commit of `b`
/// new relationships then writes about `delta bytes + chunk bytes × b / size` (the delta's
/// pages it touches, and the window of chunks the merge rewrites). Measured with
/// `tests/bench.rs layout` (200,000 nodes, 400,000 relationships in batches of 10,000) on
/// format 5, whose merge writes each chunk once however many edges it takes: factors 256,
/// 512, 1024, 2048 wrote 2.47, 2.38, 2.34, 2.44 MB per late batch in the same time, and the
/// deltas' pages left 38.4, 38.8, 39.4, 40.9 bytes on disk per relationship.
pub(crate) fn delta_target(rels: u64) -> u64 {
    rels.saturating_mul(512).isqrt().max(4096)
}

/// Moves up to `max` entries of a delta table into the chunks, in key order from the node
/// `cursor` on (wrapping around once), so successive commits sweep the node id space and
/// each rewrites one window of the chunk table. Returns the node the next merge starts at.
pub(crate) fn delta_merge(
    chunks: &mut AdjTable<'_>,
    delta: &mut DeltaTable<'_>,
    buf: &mut Vec<u8>,
    cursor: u64,
    max: u64,
) -> Result<u64> {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let mut moved: Vec<AdjEdge> = Vec::new();
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
            moved.push((k.0, k.1, k.2, v.value()));
            if moved.len() - before >= left {
                break;
            }
        }
        // The next merge starts at the node of the last entry moved when the window was
        // full (its remaining entries, if any, come first), else from the beginning.
        next = if moved.len() >= max {
            moved.last().map_or(0, |m| m.0)
        } else {
            0
        };
        if cursor == 0 {
            break;
        }
    }
    for e in &moved {
        delta.remove(adj_key(e)).map_err(st)?;
    }
    moved.sort_unstable();
    chunks_insert(chunks, buf, &moved)?;
    Ok(next)
}

// ---------------------------------------------------------------------------------------------
// writes to the blocks of records (relationships: storage format 5; nodes: format 6)

/// A block table (nodes or relationships) of a write transaction.
pub(crate) type BlockTable<'t> = Table<'t, u64, &'static [u8]>;

/// The block holding (or that would hold) record `id`: the first one whose key (last
/// id) is at least `id`, with a copy of its bytes.
fn block_at(t: &BlockTable<'_>, id: u64) -> Result<Option<(u64, Vec<u8>)>> {
    match t.range(id..).map_err(st)?.next() {
        Some(e) => {
            let (k, v) = e.map_err(st)?;
            Ok(Some((k.value(), v.value().to_vec())))
        }
        None => Ok(None),
    }
}

/// Whether a block of `n` records and `bytes` bytes takes one more record of `len` bytes.
fn block_room(n: usize, bytes: usize, len: usize) -> bool {
    n < codec::BLOCK_CAP && bytes + len + 20 <= codec::BLOCK_BYTES
}

/// Where records of these lengths, in order, are cut into blocks within the caps (greedily):
/// the end of each block. Every block but the last ended because the next record did not fit.
fn block_ends(lens: impl ExactSizeIterator<Item = usize>) -> Vec<usize> {
    let mut ends = Vec::new();
    let (mut n, mut bytes) = (0usize, 0usize);
    for (i, len) in lens.enumerate() {
        if n > 0 && !block_room(n, bytes, len) {
            ends.push(i);
            n = 0;
            bytes = 0;
        }
        n += 1;
        bytes += len + 20;
    }
    if n > 0 {
        ends.push(ends.last().copied().unwrap_or(0) + n);
    }
    ends
}

/// Writes `entries` (ascending) as the blocks ending at `ends`, each under its last id.
fn blocks_put(
    t: &mut BlockTable<'_>,
    buf: &mut Vec<u8>,
    entries: &[(u64, &[u8])],
    ends: &[usize],
) -> Result<()> {
    let mut start = 0;
    for &end in ends {
        let piece = entries.get(start..end).unwrap_or(&[]);
        if let Some(last) = piece.last() {
            codec::encode_block(buf, piece);
            t.insert(last.0, buf.as_slice()).map_err(st)?;
        }
        start = end;
    }
    Ok(())
}

/// Writes the records `entries` (ascending) in place of the block stored under `old`: cut
/// into blocks within the caps, each under its last id; none removes the block.
fn blocks_write(
    t: &mut BlockTable<'_>,
    buf: &mut Vec<u8>,
    old: u64,
    entries: &[(u64, &[u8])],
) -> Result<()> {
    if entries.last().map(|e| e.0) != Some(old) {
        t.remove(old).map_err(st)?;
    }
    let ends = block_ends(entries.iter().map(|e| e.1.len()));
    blocks_put(t, buf, entries, &ends)
}

/// Writes the record `rec` of `id` (a node or a relationship), new or replacing its old
/// one. One past the last block goes to the tail table, which hands its complete blocks to
/// the block table once it holds a few (so blocks are appended whole, each written once).
/// `end` is a bound on the last block's key, kept by the caller for its transaction (`None`
/// until read once; only [`tail_flush`] adds a larger key, and it raises the bound; a
/// transaction never goes back to an earlier state, which could bring back a larger key):
/// an id past it (every new one) goes to the tail without a descent into the blocks.
pub(crate) fn block_put(
    t: &mut BlockTable<'_>,
    tail: &mut BlockTable<'_>,
    buf: &mut Vec<u8>,
    end: &mut Option<u64>,
    id: u64,
    rec: &[u8],
) -> Result<()> {
    let bound = match *end {
        Some(b) => b,
        None => {
            let b = t.last().map_err(st)?.map_or(0, |(k, _)| k.value());
            *end = Some(b);
            b
        }
    };
    let found = if id > bound { None } else { block_at(t, id)? };
    let Some((key, bytes)) = found else {
        tail.insert(id, rec).map_err(st)?;
        if tail.len().map_err(st)? >= 4 * codec::BLOCK_CAP as u64 {
            tail_flush(t, tail, buf, end)?;
        }
        return Ok(());
    };
    let mut entries = codec::BlockReader::new(key, &bytes).collect::<Result<Vec<_>>>()?;
    match entries.binary_search_by_key(&id, |e| e.0) {
        Ok(i) => {
            if let Some(e) = entries.get_mut(i) {
                e.1 = rec;
            }
        }
        Err(i) => entries.insert(i, (id, rec)),
    }
    blocks_write(t, buf, key, &entries)
}

/// Moves the complete blocks at the front of the tail table into the block table (the
/// records after the last complete block stay in the tail).
fn tail_flush(
    t: &mut BlockTable<'_>,
    tail: &mut BlockTable<'_>,
    buf: &mut Vec<u8>,
    end: &mut Option<u64>,
) -> Result<()> {
    let mut recs: Vec<(u64, Vec<u8>)> = Vec::new();
    for e in tail.iter().map_err(st)? {
        let (k, v) = e.map_err(st)?;
        recs.push((k.value(), v.value().to_vec()));
    }
    let mut ends = block_ends(recs.iter().map(|r| r.1.len()));
    // The last block is not complete: it stays in the tail.
    ends.pop();
    let moved = ends.last().copied().unwrap_or(0);
    let entries: Vec<(u64, &[u8])> = recs
        .get(..moved)
        .unwrap_or(&[])
        .iter()
        .map(|(i, r)| (*i, r.as_slice()))
        .collect();
    blocks_put(t, buf, &entries, &ends)?;
    // The moved records are the tail's first ones: removed in one pass over them. The last
    // block's key is now the last of them (every tail id is past every block's).
    if let Some((last, _)) = entries.last() {
        tail.retain_in(..=*last, |_, _| false).map_err(st)?;
        *end = Some(end.map_or(*last, |e| e.max(*last)));
    }
    Ok(())
}

/// Removes the record of `id` (a node or a relationship); whether there was one.
pub(crate) fn block_remove(
    t: &mut BlockTable<'_>,
    tail: &mut BlockTable<'_>,
    buf: &mut Vec<u8>,
    id: u64,
) -> Result<bool> {
    let Some((key, bytes)) = block_at(t, id)? else {
        return Ok(tail.remove(id).map_err(st)?.is_some());
    };
    let mut entries = codec::BlockReader::new(key, &bytes).collect::<Result<Vec<_>>>()?;
    match entries.binary_search_by_key(&id, |e| e.0) {
        Ok(i) => {
            entries.remove(i);
            blocks_write(t, buf, key, &entries)?;
            Ok(true)
        }
        Err(_) => Ok(false),
    }
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
