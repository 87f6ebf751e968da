//! Storage format migrations, run when a database file is opened.
//!
//! Format 1 (graphward before the compact encoding) stored one `adj_out` / `adj_in` entry per
//! relationship end, one `label_idx` entry per (label, node), fixed 8-byte integers in
//! records and index keys, and a version byte in every node and relationship record. Format 2
//! packs adjacency into chunks per (node, type), labels into bitmap chunks, and writes integers
//! as varints (see `codec.rs` and `tables.rs`). The migration rewrites the file in the one write
//! transaction that opens it: a crash before its commit leaves the format 1 file untouched, and
//! after it the file is wholly format 2.

use graphward_core::Result;
use redb::{ReadableTable, WriteTransaction};

use crate::codec;
use crate::tables::{self, st, v1};

/// Rewrites a format 1 database into format 2 inside `w` (the caller then records the format
/// and commits).
pub(crate) fn v1_to_v2(w: &WriteTransaction) -> Result<()> {
    let mut schemas = Vec::new();
    {
        let t = w.open_table(tables::SCHEMA).map_err(st)?;
        for e in t.iter().map_err(st)? {
            let (k, v) = e.map_err(st)?;
            schemas.push(codec::decode_schema(k.value(), v.value())?);
        }
    }
    // The tables whose layout changed are rebuilt from the node and relationship records.
    w.delete_table(v1::LABEL_IDX).map_err(st)?;
    w.delete_table(v1::OUT).map_err(st)?;
    w.delete_table(v1::IN).map_err(st)?;
    w.delete_table(tables::PROP_IDX).map_err(st)?;
    w.rename_table(v1::NODES, v1::NODES_OLD).map_err(st)?;
    w.rename_table(v1::RELS, v1::RELS_OLD).map_err(st)?;
    let mut buf = Vec::new();
    let mut kbuf = Vec::new();
    {
        let old = w.open_table(v1::NODES_OLD).map_err(st)?;
        let mut nodes = w.open_table(tables::NODES).map_err(st)?;
        let mut labels = w.open_table(tables::LABEL_IDX).map_err(st)?;
        let mut idx = w.open_table(tables::PROP_IDX).map_err(st)?;
        for e in old.iter().map_err(st)? {
            let (k, v) = e.map_err(st)?;
            let id = k.value();
            let d = codec::decode_node_v1(v.value())?;
            codec::encode_node(&mut buf, &d);
            nodes.insert(id, buf.as_slice()).map_err(st)?;
            for l in &d.labels {
                tables::label_add(&mut labels, *l, id)?;
            }
            for (sid, _, key) in crate::store::index_entries(&schemas, &d) {
                tables::idx_key(&mut kbuf, sid, &key, id);
                idx.insert(kbuf.as_slice(), ()).map_err(st)?;
            }
        }
    }
    {
        let old = w.open_table(v1::RELS_OLD).map_err(st)?;
        let mut rels = w.open_table(tables::RELS).map_err(st)?;
        let mut out = w.open_table(tables::OUT).map_err(st)?;
        let mut inc = w.open_table(tables::IN).map_err(st)?;
        for e in old.iter().map_err(st)? {
            let (k, v) = e.map_err(st)?;
            let id = k.value();
            let d = codec::decode_rel_v1(v.value())?;
            codec::encode_rel(&mut buf, &d);
            rels.insert(id, buf.as_slice()).map_err(st)?;
            tables::adj_insert(&mut out, &mut buf, d.src, d.rel_type, id, d.dst)?;
            tables::adj_insert(&mut inc, &mut buf, d.dst, d.rel_type, id, d.src)?;
        }
    }
    w.delete_table(v1::NODES_OLD).map_err(st)?;
    w.delete_table(v1::RELS_OLD).map_err(st)?;
    Ok(())
}
