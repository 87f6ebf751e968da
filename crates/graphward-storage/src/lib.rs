//! graphward-storage: the durable property graph, on redb.
//!
//! A [`Storage`] is one data directory holding several named databases (graphs). Each
//! [`Database`] hands out snapshot read transactions ([`ReadTxn`], many at once) and write
//! transactions ([`WriteTxn`], one at a time: writers are serialized). Both implement
//! [`GraphRead`]; `WriteTxn` also implements [`GraphWrite`] and sees its own writes.
//! A commit is durable (fsync) before `commit` returns.
//!
//! The Cypher executor works only through the [`GraphRead`] / [`GraphWrite`] traits, so it
//! can be tested against any implementation.
//!
//! # Usage
//!
//! ```
//! use graphward_storage::{GraphRead, GraphWrite, Storage};
//! let storage = Storage::open_in_memory()?; // or Storage::open(dir)
//! storage.create_database("neo4j")?;
//! let db = storage.database("neo4j")?;
//! let mut w = db.begin_write()?;
//! let a = w.create_node(&["Person".to_string()], Default::default())?;
//! w.commit()?; // durable (fsync) when this returns
//! assert!(db.begin_read()?.node(a)?.is_some());
//! # Ok::<(), graphward_core::Error>(())
//! ```
//!
//! # Transactions
//!
//! * [`ReadTxn`] and [`WriteTxn`] are `Send` (not `Sync`): a protocol session may hold one
//!   across network round trips and move it between threads.
//! * Only one [`WriteTxn`] per database exists at a time: [`Database::begin_write`] blocks
//!   until the open one commits, aborts or is dropped. Never open two in the same thread (that
//!   deadlocks); [`Database::try_begin_write`] returns `Ok(None)` instead of waiting.
//! * Dropping a [`WriteTxn`] without `commit` aborts it.
//! * After an `Internal` error in a write method the write txn is poisoned (it may hold a
//!   partial change) and `commit` fails; client errors (constraint violations, invalid
//!   property types, missing entities) are detected before anything is written, so the
//!   transaction stays usable.
//!
//! # On disk
//!
//! `<dir>/databases/<name>.redb`, one redb file per database; `<dir>/databases/catalog` lists
//! them (one name a line). A listed database whose file is missing, empty or damaged is
//! offline with the reason, never re-created empty; an I/O failure degrades a database until a
//! recovery thread has reopened it and a probe write succeeded (see `store.rs`, `Health`). Commits use redb `Durability::Immediate` with quick-repair (two-phase commit and a
//! saved allocator state), so recovery after a crash is immediate. Tables, per database:
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | counter name | u64 (next ids, node/rel counts, storage format) |
//! | `tokens` / `token_names` | (kind, name) / (kind, id) | id / name (labels, types, keys) |
//! | `nodes_v6` | last node id of the block | up to 64 node records of consecutive ids (labels + properties by key id, [`codec`]; integers as varints), at most 2 KiB unless one record is larger |
//! | `nodes_tail_v6` | node id | the record of a node past the last block (until a block of them is complete) |
//! | `rels_v5` | last rel id of the block | up to 64 records of consecutive ids (src, dst, type + properties), at most 2 KiB unless one record is larger |
//! | `rels_tail_v5` | rel id | the record of a relationship past the last block (until a block of them is complete) |
//! | `adj_out_v5` / `adj_in_v5` | (node, type, rel) of the chunk's first edge | up to 64 edges of any nodes ascending by (node, type, rel), in groups per (node, type), delta varints |
//! | `adj_out_delta_v5` / `adj_in_delta_v5` | (node, type, rel) | other node: edges not yet merged into the chunks |
//! | `index_entries` | schema id | number of entries of that index in `prop_idx` |
//! | `label_chunks` / `label_count` | (label, node >> 10) / label | bitmap or offset list / count |
//! | `prop_idx` | schema id ++ value key ++ node (or relationship) | () (property indexes, uniqueness and key constraints) |
//! | `schema` | schema id | name, kind (0 index, 1 unique, 2 exists; 3/4 relationship exists/unique), label or type, keys |
//!
//! Property index keys normalize numbers (`1` and `1.0` index alike) and are prefix-free, so
//! an equality seek is one range scan; integers and the node id take as few bytes as their
//! magnitude needs, in an order-preserving form. `expand` reads the adjacency chunks from the
//! one holding `(node, type, 0)` on, as far as the node's edges go; a read snapshot keeps the
//! chunk and the empty delta stretch it read last per direction, so nodes expanded in id order
//! mostly need no B-tree descent. A label scan decodes 1024 node ids per label chunk, or, for
//! a label at least half the nodes carry, reads the node blocks alone and checks each record's
//! labels in place (one B-tree entry per 64 nodes). Node and relationship ids are never
//! reused.
//!
//! Edges through deltas: a new relationship's edges go to `adj_out_delta_v5` and
//! `adj_in_delta_v5`, one small entry each, instead of their nodes' chunks (a load meets nodes
//! in random order, so writing the chunks rewrote most of their pages in every transaction).
//! When a delta holds more than about √(relationships × 512) entries, each commit moves the
//! next window of it (in node order, at most twice the commit's own new edges + 1024, and
//! 262,144 so that the window it holds is bounded) into
//! the chunks, each chunk read and written once, so a commit writes the delta pages it touches
//! plus one window of chunks. An edge is in exactly one of the two tables; reads (expand,
//! degree, DETACH DELETE, relationship deletes) merge them in (type, rel) order.
//!
//! Why chunks and blocks shared by many nodes and relationships (storage formats 5 and 6): an entry
//! of its own per node's adjacency or per relationship record costs a key and redb's
//! per-entry overhead, more than the few bytes of data for a node of two edges or a
//! relationship without properties (bench/engine: 82 bytes on disk per relationship with a
//! chunk per (node, type), 41 with format 5, Ladybug 40). Format 6 keeps node records in
//! blocks too: 29.7 bytes per node instead of 39.1 (Ladybug 49.1), and a scan steps redb's
//! cursor once per block (a dense scan of 200,000 nodes: 10.7 ms -> about 4 ms embedded).
//!
//! The storage format is `meta["format"]`: 6 is written. A format 5 file is migrated on open
//! by moving its node records into blocks; a format 2 to 4 file by rebuilding the
//! relationship blocks and the adjacency from the old relationship table (then on as format
//! 5), and a format 1 file (one table entry per relationship end and per labelled node,
//! fixed-width integers) by moving its records, both in bounded transactions that each move a
//! batch of records with everything derived from them (`migrate.rs`: a crash loses nothing
//! and the next open resumes; meanwhile the format is a marker older builds refuse); an
//! unknown format is refused with
//! `UnsupportedStorageFormat` (the database stays offline, the file untouched).

use graphward_core::value::{Map, Value};
use graphward_core::Result;

pub mod codec;

/// What a page of a label scan's property values adds up to as integers (see
/// [`GraphRead::node_property_stats`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PropertyStats {
    /// The items read (nodes of the label, none past `until`) and the last one's id.
    pub rows: usize,
    pub last: Option<NodeId>,
    /// The items whose value is an integer: how many, their sum (`None` once it overflowed),
    /// their sum as floats, the least and the greatest.
    pub ints: u64,
    pub int_sum: Option<i64>,
    pub float_sum: f64,
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// Whether an item's value was neither an integer nor missing.
    pub other: bool,
}

impl PropertyStats {
    /// Counts one item in, with its value (`None`: it has no such property).
    pub fn add_value(&mut self, id: NodeId, v: Option<&Value>) {
        self.add(
            id,
            match v {
                None | Some(Value::Null) => codec::IntProp::Null,
                Some(Value::Int(i)) => codec::IntProp::Int(*i),
                Some(_) => codec::IntProp::Other,
            },
        );
    }

    /// Counts one item in.
    pub fn add(&mut self, id: NodeId, v: codec::IntProp) {
        let mut totals = codec::IntTotals::from_stats(self);
        totals.add(id, v);
        totals.into_stats(self);
    }
}
mod migrate;
mod store;
mod tables;

pub use store::{
    is_locked, normalize_database_name, CheckReport, Database, DatabaseState, ReadTxn, Storage,
    StorageOptions, WriteTxn,
};

pub type NodeId = u64;
pub type RelId = u64;

/// A stored node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRecord {
    pub id: NodeId,
    pub labels: Vec<String>,
    pub properties: Map,
}

/// A stored relationship, in its stored direction `src -> dst`.
#[derive(Debug, Clone, PartialEq)]
pub struct RelRecord {
    pub id: RelId,
    pub src: NodeId,
    pub dst: NodeId,
    pub rel_type: String,
    pub properties: Map,
}

/// Which relationships of a node to expand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpandDir {
    Outgoing,
    Incoming,
    Both,
}

/// One step of an expansion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub rel: RelId,
    /// The node at the other end.
    pub other: NodeId,
    /// True when the relationship is stored as `node -> other`.
    pub outgoing: bool,
    /// The relationship's type, as the storage's token id ([`GraphRead::type_name`] names it;
    /// `u32::MAX` where a graph does not say).
    pub type_id: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaKind {
    /// A property index (range / b-tree).
    Index,
    /// A uniqueness constraint (backed by an index).
    Unique,
    /// A property existence constraint (`IS NOT NULL`): every node with the label has the
    /// (single) property, checked at commit. No index.
    Existence,
    /// A relationship property existence constraint: every relationship of the type (the
    /// `label` of the [`SchemaDef`]) has the (single) property, checked at commit. No index.
    RelExistence,
    /// A relationship property uniqueness constraint on the type (the `label` of the
    /// [`SchemaDef`]), backed by an index of its own.
    RelUnique,
    /// A relationship property index on the type (the `label` of the [`SchemaDef`]).
    RelIndex,
    /// A node key constraint: unique, and every node with the label has every key property
    /// (checked at commit). Backed by an index.
    Key,
    /// A relationship key constraint (as [`SchemaKind::Key`], on a relationship type).
    RelKey,
}

impl SchemaKind {
    /// A rule on relationships (its `label` is a relationship type).
    pub fn on_relationships(&self) -> bool {
        matches!(
            self,
            SchemaKind::RelExistence
                | SchemaKind::RelUnique
                | SchemaKind::RelIndex
                | SchemaKind::RelKey
        )
    }

    /// A constraint (as opposed to a plain index).
    pub fn is_constraint(&self) -> bool {
        !matches!(self, SchemaKind::Index | SchemaKind::RelIndex)
    }

    /// Kept in an index (a plain index, or the index backing a uniqueness or key constraint).
    pub fn has_index(&self) -> bool {
        !matches!(self, SchemaKind::Existence | SchemaKind::RelExistence)
    }

    /// The kind of `(rel, exists, unique)`: an existence rule, unique values, on
    /// relationships.
    pub(crate) fn of_flags(rel: bool, exists: bool, unique: bool) -> SchemaKind {
        match (rel, exists, unique) {
            (false, false, false) => SchemaKind::Index,
            (false, false, true) => SchemaKind::Unique,
            (false, true, false) => SchemaKind::Existence,
            (false, true, true) => SchemaKind::Key,
            (true, false, false) => SchemaKind::RelIndex,
            (true, false, true) => SchemaKind::RelUnique,
            (true, true, false) => SchemaKind::RelExistence,
            (true, true, true) => SchemaKind::RelKey,
        }
    }

    /// `(exists, unique)`: whether every key property must exist, whether values are unique.
    pub(crate) fn flags(&self) -> (bool, bool) {
        match self {
            SchemaKind::Index | SchemaKind::RelIndex => (false, false),
            SchemaKind::Unique | SchemaKind::RelUnique => (false, true),
            SchemaKind::Existence | SchemaKind::RelExistence => (true, false),
            SchemaKind::Key | SchemaKind::RelKey => (true, true),
        }
    }
}

/// A property index or constraint on `(:label {properties})`, or, for the relationship
/// kinds, on `()-[:label {properties}]-()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaDef {
    pub name: String,
    pub kind: SchemaKind,
    /// A label, or a relationship type for [`SchemaKind::on_relationships`] kinds.
    pub label: String,
    pub properties: Vec<String>,
}

/// A lazy sequence read from a storage range: items are produced as the caller pulls them
/// (the redb transactions walk the B-tree range; nothing is collected up front). An error
/// ends the sequence.
pub type Iter<'a, T> = Box<dyn Iterator<Item = Result<T>> + 'a>;

/// How many ids the paging fallbacks of the iterator methods fetch at a time.
const PAGE: usize = 1024;

/// A page of an index read in key order: the node ids, and the key the next page resumes
/// after (`None` once the index is read to its end).
pub type IndexPage = (Vec<NodeId>, Option<Vec<u8>>);

/// Reads, from a snapshot (read txn) or from a write txn including its own writes.
pub trait GraphRead {
    fn node(&self, id: NodeId) -> Result<Option<NodeRecord>>;
    fn relationship(&self, id: RelId) -> Result<Option<RelRecord>>;
    /// Every node id, ascending.
    fn all_nodes(&self) -> Result<Vec<NodeId>>;
    /// Every node id carrying `label`, ascending.
    fn nodes_with_label(&self, label: &str) -> Result<Vec<NodeId>>;
    /// Every relationship id, ascending.
    fn all_relationships(&self) -> Result<Vec<RelId>>;
    /// Relationships of `node` in direction `dir` whose type is one of `types` (empty = any).
    /// A self-loop appears once for `Both`.
    fn expand(&self, node: NodeId, dir: ExpandDir, types: &[String]) -> Result<Vec<Edge>>;
    /// Nodes with `label` whose properties equal `values` (one per property, in order), through
    /// an index or constraint on exactly `(label, properties)`. `Ok(None)` if there is no such
    /// index, so the caller must scan instead.
    fn index_seek(
        &self,
        label: &str,
        properties: &[String],
        values: &[Value],
    ) -> Result<Option<Vec<NodeId>>>;
    /// Nodes with `label` whose `property` lies between the bounds (Cypher comparison
    /// semantics), through a single-property index or constraint on exactly
    /// `(label, property)`; ascending node ids. The bounds must be numbers (ints and floats
    /// mix) or strings; bounds of different kinds match nothing. `Ok(None)` when there is no
    /// such index, both sides are unbounded, or a bound is of another type: the caller scans.
    fn index_range(
        &self,
        label: &str,
        property: &str,
        lower: std::ops::Bound<&Value>,
        upper: std::ops::Bound<&Value>,
    ) -> Result<Option<Vec<NodeId>>> {
        let _ = (label, property, lower, upper);
        Ok(None)
    }
    /// How many entries of the index [`GraphRead::index_range`] reads for the same
    /// arguments, counted up to `cap` (the answer is at most `cap`; no more entries are
    /// read): the size of a range seek, for choosing between it and a scan. `Ok(None)` when
    /// `index_range` would answer `None`.
    fn index_range_count(
        &self,
        label: &str,
        property: &str,
        lower: std::ops::Bound<&Value>,
        upper: std::ops::Bound<&Value>,
        cap: u64,
    ) -> Result<Option<u64>> {
        let _ = (label, property, lower, upper, cap);
        Ok(None)
    }
    /// Nodes with `label` whose string `property` starts with `prefix`, through a
    /// single-property index on exactly `(label, property)`; ascending node ids. `Ok(None)`
    /// when there is no such index.
    fn index_prefix(
        &self,
        label: &str,
        property: &str,
        prefix: &str,
    ) -> Result<Option<Vec<NodeId>>> {
        let _ = (label, property, prefix);
        Ok(None)
    }
    /// Whether the single-property index on exactly `(label, property)` lists the nodes of
    /// `label` in the order `ORDER BY property` puts them: it has an entry for every node of
    /// the label (none lacks the property, so no null sorts among them) and its values are
    /// all integers (integral floats included), all strings or all booleans, whose key order
    /// is Cypher's order. `false` when there is no such index.
    fn index_orders(&self, label: &str, property: &str) -> Result<bool> {
        let _ = (label, property);
        Ok(false)
    }
    /// Up to `limit` nodes of the index on exactly `(label, property)` in its key order (from
    /// the end when `descending`; equal values in ascending node id order, or descending)
    /// whose values lie in `range` (both unbounded: every entry), after `after`, the resume
    /// key of the page before (`None` for the first page). With the ids, the key the next page
    /// resumes after (`None` when the range has no more). Number bounds read the integer keys
    /// only, string bounds the string keys (bounds of the two never match). `Ok(None)` when
    /// there is no such index or a bound is of another type. See
    /// [`GraphRead::index_orders`] for when this order is `ORDER BY`'s (then every value is an
    /// integer, a string or a boolean).
    fn index_order_page(
        &self,
        label: &str,
        property: &str,
        range: (std::ops::Bound<&Value>, std::ops::Bound<&Value>),
        descending: bool,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Option<IndexPage>> {
        let _ = (label, property, range, descending, after, limit);
        Ok(None)
    }
    /// Relationships of `rel_type` whose properties equal `values` (one per property, in
    /// order), through a relationship index or constraint on exactly `(rel_type,
    /// properties)`; ascending ids. `Ok(None)` if there is no such index: the caller scans.
    fn rel_index_seek(
        &self,
        rel_type: &str,
        properties: &[String],
        values: &[Value],
    ) -> Result<Option<Vec<RelId>>> {
        let _ = (rel_type, properties, values);
        Ok(None)
    }
    /// Indexes and constraints of this database.
    fn schema(&self) -> Result<Vec<SchemaDef>>;
    /// Counts for the planner: nodes with a label (or all nodes when `None`).
    fn count_nodes(&self, label: Option<&str>) -> Result<u64>;
    /// Every label / relationship type / property key ever used (for `db.labels()` etc).
    fn labels(&self) -> Result<Vec<String>>;
    fn relationship_types(&self) -> Result<Vec<String>>;
    fn property_keys(&self) -> Result<Vec<String>>;

    // Cheaper accessors (default implementations go through the methods above; the redb
    // transactions override them to avoid decoding whole records).

    /// True if the node exists.
    fn node_exists(&self, id: NodeId) -> Result<bool> {
        Ok(self.node(id)?.is_some())
    }
    /// One property of a node (`None` if the node or the property is missing).
    fn node_property(&self, id: NodeId, key: &str) -> Result<Option<Value>> {
        Ok(self.node(id)?.and_then(|mut n| n.properties.remove(key)))
    }
    /// Relationships of type `rel_type` (0 for a type never used); the storage keeps the
    /// counts, this default counts them.
    fn count_relationships_of_type(&self, rel_type: &str) -> Result<u64> {
        let mut n = 0u64;
        for id in self.all_relationships()? {
            if self
                .relationship(id)?
                .is_some_and(|r| r.rel_type == rel_type)
            {
                n += 1;
            }
        }
        Ok(n)
    }
    /// The name of the relationship type an [`Edge`] carries the token id of (`None` when the
    /// graph cannot name it: the caller reads the relationship instead).
    fn type_name(&self, type_id: u32) -> Result<Option<String>> {
        let _ = type_id;
        Ok(None)
    }
    /// The labels of a node (`None` if the node is missing).
    fn node_labels(&self, id: NodeId) -> Result<Option<Vec<String>>> {
        Ok(self.node(id)?.map(|n| n.labels))
    }
    /// One property of a relationship (`None` if the relationship or property is missing).
    fn relationship_property(&self, id: RelId, key: &str) -> Result<Option<Value>> {
        Ok(self
            .relationship(id)?
            .and_then(|mut r| r.properties.remove(key)))
    }
    /// Number of relationships `expand` would return.
    fn degree(&self, node: NodeId, dir: ExpandDir, types: &[String]) -> Result<u64> {
        Ok(self.expand(node, dir, types)?.len() as u64)
    }
    /// Number of relationships in the graph.
    fn count_relationships(&self) -> Result<u64> {
        Ok(self.all_relationships()?.len() as u64)
    }
    /// Up to `limit` node ids greater than `after` (all when `None`), ascending, optionally
    /// only those carrying `label`: a scan in pages, for streaming and `LIMIT`.
    fn nodes_page(
        &self,
        label: Option<&str>,
        after: Option<NodeId>,
        limit: usize,
    ) -> Result<Vec<NodeId>> {
        let all = match label {
            Some(l) => self.nodes_with_label(l)?,
            None => self.all_nodes()?,
        };
        Ok(all
            .into_iter()
            .filter(|id| after.is_none_or(|a| *id > a))
            .take(limit)
            .collect())
    }
    /// Up to `limit` relationship ids greater than `after`, ascending.
    fn relationships_page(&self, after: Option<RelId>, limit: usize) -> Result<Vec<RelId>> {
        Ok(self
            .all_relationships()?
            .into_iter()
            .filter(|id| after.is_none_or(|a| *id > a))
            .take(limit)
            .collect())
    }

    // Lazy scans (the redb transactions walk B-tree ranges; the defaults page through the
    // methods above). A plan pulls from these and stops when it has what it needs.

    /// Node ids carrying `label` (every node when `None`), ascending, lazily.
    fn node_ids<'a>(&'a self, label: Option<&str>) -> Result<Iter<'a, NodeId>> {
        let label = label.map(str::to_string);
        Ok(paged(move |after| {
            self.nodes_page(label.as_deref(), after, PAGE)
        }))
    }
    /// Relationship ids, ascending, lazily.
    fn relationship_ids<'a>(&'a self) -> Result<Iter<'a, RelId>> {
        Ok(paged(move |after| self.relationships_page(after, PAGE)))
    }
    /// The edges `expand` returns, lazily (same order).
    fn expand_iter<'a>(
        &'a self,
        node: NodeId,
        dir: ExpandDir,
        types: &[String],
    ) -> Result<Iter<'a, Edge>> {
        Ok(Box::new(self.expand(node, dir, types)?.into_iter().map(Ok)))
    }
    /// `(node, value of property key)` for every node carrying `label` (every node when
    /// `None`), ascending: a scan that reads one property per node without building the
    /// node (the redb transactions walk the label range and the node table side by side).
    fn node_property_scan<'a>(
        &'a self,
        label: Option<&str>,
        key: &str,
    ) -> Result<Iter<'a, (NodeId, Option<Value>)>> {
        let key = key.to_string();
        Ok(Box::new(self.node_ids(label)?.map(move |id| {
            let id = id?;
            Ok((id, self.node_property(id, &key)?))
        })))
    }
    /// Up to `limit` items of [`GraphRead::node_property_scan`] whose node id is greater than
    /// `after` (all when `None`): the scan a page at a time, for a caller that holds no
    /// borrow of the transaction between pages (the streaming executor reads its scans so,
    /// and checks its time limit between pages).
    fn node_property_page(
        &self,
        label: Option<&str>,
        key: &str,
        after: Option<NodeId>,
        limit: usize,
    ) -> Result<Vec<(NodeId, Option<Value>)>> {
        let mut out = Vec::with_capacity(limit.min(PAGE));
        for id in self.nodes_page(label, after, limit)? {
            out.push((id, self.node_property(id, key)?));
        }
        Ok(out)
    }
    /// What the items of [`GraphRead::node_property_page`] (from after `after`, at most
    /// `limit`, none past `until`) add up to as integers: for aggregates (`count`, `sum`,
    /// `avg`, `min`, `max`) that need no row of a page, only its totals (no value is made).
    /// A value that is neither an integer nor missing sets [`PropertyStats::other`]: the
    /// caller reads that page item by item then.
    fn node_property_stats(
        &self,
        label: Option<&str>,
        key: &str,
        after: Option<NodeId>,
        until: NodeId,
        limit: usize,
    ) -> Result<PropertyStats> {
        let mut st = PropertyStats::default();
        for (id, v) in self.node_property_page(label, key, after, limit)? {
            if id > until {
                break;
            }
            st.add_value(id, v.as_ref());
        }
        Ok(st)
    }
    /// The smallest and the largest id a scan of `label`'s nodes (every node for `None`)
    /// may return, read without a scan: bounds of the ids, not ids it is sure to return
    /// (for splitting a scan into ranges of ids read in parallel). `Ok(None)` when the scan
    /// returns nothing or the storage cannot tell.
    fn node_id_span(&self, label: Option<&str>) -> Result<Option<(NodeId, NodeId)>> {
        let _ = label;
        Ok(None)
    }
    /// This view as one several threads may read at once, when it is a read snapshot (its
    /// tables never change): what a scan read in parallel reads. `None` (the default) for
    /// a view that is not (a write transaction, a view that counts its reads).
    fn shared(&self) -> Option<&(dyn GraphRead + Sync)> {
        None
    }
    /// Number of nodes carrying `label`, from the stored count (no scan).
    fn label_count(&self, label: &str) -> Result<u64> {
        self.count_nodes(Some(label))
    }
    /// Number of nodes, from the stored count (no scan).
    fn node_count(&self) -> Result<u64> {
        self.count_nodes(None)
    }
}

/// Ids pulled page by page from `page(after)` (an empty page ends the sequence).
fn paged<'a>(mut page: impl FnMut(Option<u64>) -> Result<Vec<u64>> + 'a) -> Iter<'a, u64> {
    let mut buf = std::collections::VecDeque::new();
    let mut after: Option<u64> = None;
    let mut done = false;
    Box::new(std::iter::from_fn(move || {
        if buf.is_empty() && !done {
            match page(after) {
                Ok(ids) => {
                    if ids.is_empty() {
                        done = true;
                    }
                    after = ids.last().copied().or(after);
                    buf.extend(ids);
                }
                Err(e) => {
                    done = true;
                    return Some(Err(e));
                }
            }
        }
        buf.pop_front().map(Ok)
    }))
}

/// Writes. Every method validates its input and fails without partial effects.
pub trait GraphWrite: GraphRead {
    fn create_node(&mut self, labels: &[String], properties: Map) -> Result<NodeId>;
    fn create_relationship(
        &mut self,
        src: NodeId,
        dst: NodeId,
        rel_type: &str,
        properties: Map,
    ) -> Result<RelId>;
    /// Set (or, for `Value::Null`, remove) one property.
    fn set_node_property(&mut self, id: NodeId, key: &str, value: Value) -> Result<()>;
    fn set_relationship_property(&mut self, id: RelId, key: &str, value: Value) -> Result<()>;
    /// Replace all properties.
    fn replace_node_properties(&mut self, id: NodeId, properties: Map) -> Result<()>;
    fn replace_relationship_properties(&mut self, id: RelId, properties: Map) -> Result<()>;
    /// Returns how many labels were actually added / removed.
    fn add_labels(&mut self, id: NodeId, labels: &[String]) -> Result<usize>;
    fn remove_labels(&mut self, id: NodeId, labels: &[String]) -> Result<usize>;
    /// Delete a node; fails (`ConstraintValidationFailed`) if it still has relationships.
    fn delete_node(&mut self, id: NodeId) -> Result<()>;
    fn delete_relationship(&mut self, id: RelId) -> Result<()>;
    /// Create an index or constraint, building it from existing data (a uniqueness violation
    /// in existing data fails the call).
    fn create_schema(&mut self, def: SchemaDef) -> Result<()>;
    fn drop_schema(&mut self, name: &str) -> Result<()>;
}
