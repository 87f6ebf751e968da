//! Storage format migrations, run when a database file is opened.
//!
//! Format 1 (graphward before the compact encoding) stored one `adj_out` / `adj_in` entry per
//! relationship end, one `label_idx` entry per (label, node), fixed 8-byte integers in
//! records and index keys, and a version byte in every node and relationship record. Format 2
//! packs adjacency into chunks per (node, type), labels into bitmap chunks, and writes integers
//! as varints (see `codec.rs` and `tables.rs`).
//!
//! The migration runs in bounded transactions, so its memory does not grow with the file:
//!
//! 1. [`v1_start`], one transaction: the tables derived from the records (`adj_out`, `adj_in`,
//!    `label_idx`, `prop_idx`) are dropped, the record tables renamed to `nodes_v1` /
//!    `rels_v1`, and `meta["format"]` set to [`FORMAT_MIGRATING_FROM_1`] (a value every
//!    older build refuses as unknown, so none reads the half-migrated file).
//! 2. [`v1_step`], repeated: up to `batch` records are moved from the old tables to the new
//!    ones, each with everything derived from it (label chunks, property index entries,
//!    adjacency chunks), removed from the old table in the same transaction.
//! 3. The step that finds both old tables empty drops them, counts each index's entries and
//!    sets the current format.
//!
//! Every commit leaves each record in exactly one of the old and new tables, with the derived
//! tables complete for the moved ones: a crash at any point loses nothing, and the next open
//! resumes from the marker.

use graphward_core::Result;
use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};

use crate::codec;
use crate::tables::{self, st, v1};

/// `meta["format"]` while a format 1 file is being migrated to format 2.
pub(crate) const FORMAT_MIGRATING_FROM_1: u64 = 0x1_0001;

/// Records moved per migration transaction.
pub(crate) const BATCH: usize = 20_000;

/// Starts migrating a format 1 database inside `w` (see the module docs).
pub(crate) fn v1_start(w: &WriteTransaction) -> Result<()> {
    // The tables whose layout changed are rebuilt from the node and relationship records.
    w.delete_table(v1::LABEL_IDX).map_err(st)?;
    w.delete_table(v1::OUT).map_err(st)?;
    w.delete_table(v1::IN).map_err(st)?;
    w.delete_table(tables::PROP_IDX).map_err(st)?;
    w.rename_table(v1::NODES, v1::NODES_OLD).map_err(st)?;
    w.rename_table(v1::RELS, v1::RELS_OLD).map_err(st)?;
    w.open_table(tables::META)
        .map_err(st)?
        .insert("format", FORMAT_MIGRATING_FROM_1)
        .map_err(st)?;
    Ok(())
}

/// Moves up to `batch` records (nodes first, then relationships) into the format 2 tables
/// inside `w`; `Ok(true)` when none was left, the old tables are gone and the format is 2.
pub(crate) fn v1_step(w: &WriteTransaction, batch: usize) -> Result<bool> {
    let mut schemas = Vec::new();
    {
        let t = w.open_table(tables::SCHEMA).map_err(st)?;
        for e in t.iter().map_err(st)? {
            let (k, v) = e.map_err(st)?;
            schemas.push(codec::decode_schema(k.value(), v.value())?);
        }
    }
    let mut left = batch.max(1);
    let mut buf = Vec::new();
    let mut kbuf = Vec::new();
    let mut bbuf = Vec::new();
    let (mut node_end, mut rel_end) = (None, None);
    {
        let mut old = w.open_table(v1::NODES_OLD).map_err(st)?;
        let mut nodes = w.open_table(tables::NODES).map_err(st)?;
        let mut node_tail = w.open_table(tables::NODE_TAIL).map_err(st)?;
        let mut labels = w.open_table(tables::LABEL_IDX).map_err(st)?;
        let mut idx = w.open_table(tables::PROP_IDX).map_err(st)?;
        while left > 0 {
            let Some((id, d)) = pop(&mut old, codec::decode_node_v1)? else {
                break;
            };
            left -= 1;
            codec::encode_node(&mut buf, &d);
            tables::block_put(
                &mut nodes,
                &mut node_tail,
                &mut bbuf,
                &mut node_end,
                id,
                &buf,
            )?;
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
        let mut old = w.open_table(v1::RELS_OLD).map_err(st)?;
        let mut rels = w.open_table(tables::RELS).map_err(st)?;
        let mut tail = w.open_table(tables::REL_TAIL).map_err(st)?;
        let mut out = w.open_table(tables::OUT).map_err(st)?;
        let mut inc = w.open_table(tables::IN).map_err(st)?;
        let (mut outs, mut ins) = (Vec::new(), Vec::new());
        while left > 0 {
            let Some((id, d)) = pop(&mut old, codec::decode_rel_v1)? else {
                break;
            };
            left -= 1;
            codec::encode_rel(&mut buf, &d);
            tables::block_put(&mut rels, &mut tail, &mut kbuf, &mut rel_end, id, &buf)?;
            outs.push((d.src, d.rel_type, id, d.dst));
            ins.push((d.dst, d.rel_type, id, d.src));
        }
        outs.sort_unstable();
        ins.sort_unstable();
        tables::chunks_insert(&mut out, &mut buf, &outs)?;
        tables::chunks_insert(&mut inc, &mut buf, &ins)?;
    }
    let done = w
        .open_table(v1::NODES_OLD)
        .map_err(st)?
        .is_empty()
        .map_err(st)?
        && w.open_table(v1::RELS_OLD)
            .map_err(st)?
            .is_empty()
            .map_err(st)?;
    if done {
        w.delete_table(v1::NODES_OLD).map_err(st)?;
        w.delete_table(v1::RELS_OLD).map_err(st)?;
        tables::recount_indexes(w)?;
        w.open_table(tables::META)
            .map_err(st)?
            .insert("format", tables::FORMAT_VERSION)
            .map_err(st)?;
    }
    Ok(done)
}

/// Removes the first record of an old table and decodes it.
fn pop<T>(
    t: &mut redb::Table<'_, u64, &'static [u8]>,
    decode: fn(&[u8]) -> Result<T>,
) -> Result<Option<(u64, T)>> {
    match t.pop_first().map_err(st)? {
        Some((k, v)) => Ok(Some((k.value(), decode(v.value())?))),
        None => Ok(None),
    }
}

/// Migrates a format 1 file (`fmt` 1) or resumes an interrupted migration
/// ([`FORMAT_MIGRATING_FROM_1`]), one bounded transaction at a time, stopping after
/// `max_steps` batches when given (tests: a crash between two commits).
pub(crate) fn v1_to_v2(
    db: &redb::Database,
    name: &str,
    fmt: u64,
    batch: usize,
    max_steps: Option<usize>,
) -> Result<()> {
    let start = |w: &WriteTransaction| {
        tracing::warn!(database = %name, "migrating the database file from storage format 1 to 2 (in transactions of {batch} records; resumed if interrupted)");
        v1_start(w)
    };
    start_or_resume(db, name, "1 to 2", fmt != 1, start, max_steps, |w| {
        v1_step(w, batch)
    })
}

/// Runs migration steps, each in its own committed transaction, until one reports the end
/// (or `max_steps` ran: tests stopping a migration as a crash would).
fn run_steps(
    db: &redb::Database,
    name: &str,
    what: &str,
    max_steps: Option<usize>,
    step: impl Fn(&WriteTransaction) -> Result<bool>,
) -> Result<()> {
    let mut steps = 0usize;
    loop {
        if max_steps.is_some_and(|m| steps >= m) {
            return Ok(());
        }
        let w = db.begin_write().map_err(st)?;
        let done = step(&w)?;
        w.commit().map_err(st)?;
        steps += 1;
        if done {
            tracing::warn!(database = %name, transactions = steps, "storage format migration ({what}) finished");
            return Ok(());
        }
    }
}

/// `meta["format"]` while a format 2 to 4 file is being migrated to format 5.
pub(crate) const FORMAT_MIGRATING_TO_5: u64 = 0x1_0005;
/// `meta` key during that migration: the relationship id the next step starts at.
const REBUILD_CURSOR: &str = "migrate_adjacency_from";

/// Starts migrating a format 2 to 4 file to format 5 inside `w`: the old adjacency tables
/// are dropped (format 5 rebuilds them from the relationship records, which the steps move
/// into blocks), indexes counted (a format 2 or 3 file has no counts) and the marker set.
pub(crate) fn v4_start(w: &WriteTransaction, fmt: u64) -> Result<()> {
    if fmt == 2 || fmt == 3 {
        tables::recount_indexes(w)?;
    }
    w.delete_table(tables::v4::OUT).map_err(st)?;
    w.delete_table(tables::v4::IN).map_err(st)?;
    w.delete_table(tables::v4::IN_DELTA).map_err(st)?;
    let mut meta = w.open_table(tables::META).map_err(st)?;
    meta.remove(tables::IN_DELTA_CURSOR).map_err(st)?;
    meta.insert(REBUILD_CURSOR, 0).map_err(st)?;
    meta.insert("format", FORMAT_MIGRATING_TO_5).map_err(st)?;
    Ok(())
}

/// Moves up to `batch` relationship records (in id order from the cursor) from the format 4
/// table into the format 5 blocks, with their edges into the format 5 adjacency, inside `w`;
/// `Ok(true)` when none was left, the old table is gone and the format is 5.
pub(crate) fn v4_step(w: &WriteTransaction, batch: usize) -> Result<bool> {
    let from = cursor(w, REBUILD_CURSOR)?;
    let (mut outs, mut ins) = (Vec::new(), Vec::new());
    let mut last = None;
    let (mut buf, mut bbuf) = (Vec::new(), Vec::new());
    let mut rel_end = None;
    {
        let old = w.open_table(tables::v4::RELS).map_err(st)?;
        let mut rels = w.open_table(tables::RELS).map_err(st)?;
        let mut tail = w.open_table(tables::REL_TAIL).map_err(st)?;
        for e in old.range(from..).map_err(st)?.take(batch.max(1)) {
            let (k, v) = e.map_err(st)?;
            let (id, d) = (k.value(), codec::decode_rel(v.value())?);
            tables::block_put(&mut rels, &mut tail, &mut bbuf, &mut rel_end, id, v.value())?;
            outs.push((d.src, d.rel_type, id, d.dst));
            ins.push((d.dst, d.rel_type, id, d.src));
            last = Some(id);
        }
    }
    outs.sort_unstable();
    ins.sort_unstable();
    tables::chunks_insert(&mut w.open_table(tables::OUT).map_err(st)?, &mut buf, &outs)?;
    tables::chunks_insert(&mut w.open_table(tables::IN).map_err(st)?, &mut buf, &ins)?;
    // The node records are still one entry each: format 5, migrated on to 6 next.
    step_end(w, REBUILD_CURSOR, last, tables::v4::RELS, 5)
}

/// Where the step of a migration that reads an old table in id order starts: the id its
/// cursor in `meta` holds.
fn cursor(w: &WriteTransaction, key: &str) -> Result<u64> {
    let meta = w.open_table(tables::META).map_err(st)?;
    let from = meta.get(key).map_err(st)?.map_or(0, |g| g.value());
    Ok(from)
}

/// Ends the step of a migration that read an old table in id order up to `last`: the
/// cursor moves past it (`Ok(false)`: more to come), or, when the step read nothing, the old
/// table is dropped, the cursor removed and the file marked with format `to` (`Ok(true)`).
fn step_end(
    w: &WriteTransaction,
    key: &str,
    last: Option<u64>,
    old: redb::TableDefinition<u64, &[u8]>,
    to: u64,
) -> Result<bool> {
    let mut meta = w.open_table(tables::META).map_err(st)?;
    match last.and_then(|l| l.checked_add(1)) {
        Some(next) => {
            meta.insert(key, next).map_err(st)?;
            Ok(false)
        }
        None => {
            w.delete_table(old).map_err(st)?;
            meta.remove(key).map_err(st)?;
            meta.insert("format", to).map_err(st)?;
            Ok(true)
        }
    }
}

/// Starts a migration with `start` in one transaction, or, when the file carries the
/// migration's marker (`resuming`), resumes it; then runs its steps (see [`run_steps`]).
fn start_or_resume(
    db: &redb::Database,
    name: &str,
    what: &str,
    resuming: bool,
    start: impl FnOnce(&WriteTransaction) -> Result<()>,
    max_steps: Option<usize>,
    step: impl Fn(&WriteTransaction) -> Result<bool>,
) -> Result<()> {
    if resuming {
        tracing::warn!(database = %name, "resuming the interrupted storage format migration ({what}) of the database file");
    } else {
        let w = db.begin_write().map_err(st)?;
        start(&w)?;
        w.commit().map_err(st)?;
    }
    run_steps(db, name, what, max_steps, step)
}

/// Migrates a format 2 to 4 file (`fmt`) or resumes an interrupted migration
/// ([`FORMAT_MIGRATING_TO_5`]) to format 5, one bounded transaction at a time, stopping after
/// `max_steps` batches when given (tests: a crash between two commits).
pub(crate) fn v4_to_v5(
    db: &redb::Database,
    name: &str,
    fmt: u64,
    batch: usize,
    max_steps: Option<usize>,
) -> Result<()> {
    let resuming = fmt == FORMAT_MIGRATING_TO_5;
    let start = |w: &WriteTransaction| {
        tracing::warn!(database = %name, "migrating the database file from storage format {fmt} to 5 (the adjacency is rebuilt from the relationship records in transactions of {batch}; resumed if interrupted)");
        v4_start(w, fmt)
    };
    start_or_resume(db, name, "to 5", resuming, start, max_steps, |w| {
        v4_step(w, batch)
    })
}

/// `meta["format"]` while a format 5 file is being migrated to format 6.
pub(crate) const FORMAT_MIGRATING_TO_6: u64 = 0x1_0006;
/// `meta` key during that migration: the node id the next step starts at.
const NODE_CURSOR: &str = "migrate_nodes_from";

/// Moves up to `batch` node records (in id order from the cursor) from the format 5 node
/// table (an entry per node) into the format 6 blocks inside `w`; `Ok(true)` when none was
/// left, the old table is gone and the format is 6. Nothing else depends on where a node
/// record is stored: labels, indexes and adjacency stay as they are.
pub(crate) fn v5_step(w: &WriteTransaction, batch: usize) -> Result<bool> {
    let from = cursor(w, NODE_CURSOR)?;
    let mut last = None;
    let mut bbuf = Vec::new();
    let mut node_end = None;
    {
        let old = w.open_table(tables::v5::NODES).map_err(st)?;
        let mut nodes = w.open_table(tables::NODES).map_err(st)?;
        let mut tail = w.open_table(tables::NODE_TAIL).map_err(st)?;
        for e in old.range(from..).map_err(st)?.take(batch.max(1)) {
            let (k, v) = e.map_err(st)?;
            let id = k.value();
            // Checked as it moves: a record that does not decode stops the migration.
            codec::decode_node(v.value())?;
            tables::block_put(
                &mut nodes,
                &mut tail,
                &mut bbuf,
                &mut node_end,
                id,
                v.value(),
            )?;
            last = Some(id);
        }
    }
    step_end(
        w,
        NODE_CURSOR,
        last,
        tables::v5::NODES,
        tables::FORMAT_VERSION,
    )
}

/// Migrates a format 5 file or resumes an interrupted migration ([`FORMAT_MIGRATING_TO_6`])
/// to format 6, one bounded transaction at a time, stopping after `max_steps` batches when
/// given (tests: a crash between two commits). The old table is read from a cursor kept in
/// `meta` and dropped by the last step, so every commit has each node in exactly one place
/// a reader of that format looks (the old table until the marker says 6).
pub(crate) fn v5_to_v6(
    db: &redb::Database,
    name: &str,
    fmt: u64,
    batch: usize,
    max_steps: Option<usize>,
) -> Result<()> {
    let resuming = fmt == FORMAT_MIGRATING_TO_6;
    let start = |w: &WriteTransaction| {
        tracing::warn!(database = %name, "migrating the database file from storage format 5 to 6 (node records into blocks, in transactions of {batch}; resumed if interrupted)");
        let mut meta = w.open_table(tables::META).map_err(st)?;
        meta.insert(NODE_CURSOR, 0).map_err(st)?;
        meta.insert("format", FORMAT_MIGRATING_TO_6).map_err(st)?;
        Ok(())
    };
    start_or_resume(db, name, "5 to 6", resuming, start, max_steps, |w| {
        v5_step(w, batch)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use redb::ReadableDatabase;
    use std::path::{Path, PathBuf};

    /// A copy of the format 1 fixture in a directory of its own (`<dir>/databases/old.redb`).
    fn fixture_copy(tag: &str) -> (PathBuf, PathBuf) {
        fixture_copy_of("format-v1.redb", tag)
    }

    fn fixture_copy_of(name: &str, tag: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "graphward-migrate-{tag}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        let dbs = dir.join("databases");
        std::fs::create_dir_all(&dbs).unwrap();
        let file = dbs.join("old.redb");
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name),
            &file,
        )
        .unwrap();
        (dir, file)
    }

    fn entries<K: redb::Key + 'static, V: redb::Value + 'static>(
        r: &redb::ReadTransaction,
        def: redb::TableDefinition<K, V>,
        out: &mut Vec<String>,
    ) where
        for<'a> K::SelfType<'a>: std::fmt::Debug,
        for<'a> V::SelfType<'a>: std::fmt::Debug,
    {
        let Ok(t) = r.open_table(def) else {
            out.push(format!("{def} missing"));
            return;
        };
        for e in t.iter().unwrap() {
            let (k, v) = e.unwrap();
            out.push(format!("{def} {:?} {:?}", k.value(), v.value()));
        }
    }

    /// Every entry of every table of a format 2 file.
    fn contents(file: &Path) -> Vec<String> {
        let db = redb::Database::open(file).unwrap();
        let r = db.begin_read().unwrap();
        let mut out = Vec::new();
        entries(&r, tables::META, &mut out);
        entries(&r, tables::TOKENS, &mut out);
        entries(&r, tables::TOKEN_NAMES, &mut out);
        entries(&r, tables::NODES, &mut out);
        entries(&r, tables::NODE_TAIL, &mut out);
        entries(&r, tables::RELS, &mut out);
        entries(&r, tables::REL_TAIL, &mut out);
        entries(&r, tables::OUT, &mut out);
        entries(&r, tables::IN, &mut out);
        entries(&r, tables::OUT_DELTA, &mut out);
        entries(&r, tables::IN_DELTA, &mut out);
        entries(&r, tables::LABEL_IDX, &mut out);
        entries(&r, tables::LABEL_COUNT, &mut out);
        entries(&r, tables::PROP_IDX, &mut out);
        entries(&r, tables::SCHEMA, &mut out);
        let mut names: Vec<String> = r
            .list_tables()
            .unwrap()
            .map(|h| redb::TableHandle::name(&h).to_string())
            .collect();
        names.sort();
        out.push(format!("tables {names:?}"));
        out
    }

    fn format_of(file: &Path) -> u64 {
        let db = redb::Database::open(file).unwrap();
        let r = db.begin_read().unwrap();
        let meta = r.open_table(tables::META).unwrap();
        let v = meta.get("format").unwrap().unwrap().value();
        v
    }

    fn old_len(file: &Path) -> u64 {
        let db = redb::Database::open(file).unwrap();
        let r = db.begin_read().unwrap();
        r.open_table(v1::NODES_OLD).unwrap().len().unwrap()
            + r.open_table(v1::RELS_OLD).unwrap().len().unwrap()
    }

    /// A migration stopped between two of its transactions (as by a crash) keeps every
    /// record (moved or still in the old tables), is refused by older builds (the format is
    /// the marker), and is resumed by the next open, ending with the same tables as a
    /// migration that ran through (itself checked against a fresh format 2 file by
    /// tests/format.rs).
    #[test]
    fn interrupted_migration_resumes_to_the_same_result() {
        let (whole_dir, whole) = fixture_copy("whole");
        crate::Storage::open(&whole_dir).unwrap();
        let expected = contents(&whole);
        assert_eq!(format_of(&whole), tables::FORMAT_VERSION);

        let (dir, file) = fixture_copy("crash");
        let total = {
            let db = redb::Database::open(&file).unwrap();
            let r = db.begin_read().unwrap();
            let n = r.open_table(v1::NODES).unwrap().len().unwrap()
                + r.open_table(v1::RELS).unwrap().len().unwrap();
            drop(r);
            // 25 records a transaction, stopped after 10 transactions: nodes still in the
            // old table.
            v1_to_v2(&db, "old", 1, 25, Some(10)).unwrap();
            n
        };
        assert!(total > 250, "{total}");
        assert_eq!(format_of(&file), FORMAT_MIGRATING_FROM_1);
        assert_eq!(old_len(&file), total - 250);
        {
            // Stopped again, 4 transactions into the resumed run: every node moved, some
            // relationships not yet.
            let db = redb::Database::open(&file).unwrap();
            assert_eq!(
                db.begin_read()
                    .unwrap()
                    .open_table(v1::NODES_OLD)
                    .unwrap()
                    .len()
                    .unwrap(),
                51
            );
            v1_to_v2(&db, "old", FORMAT_MIGRATING_FROM_1, 25, Some(4)).unwrap();
            let r = db.begin_read().unwrap();
            assert!(r.open_table(v1::NODES_OLD).unwrap().is_empty().unwrap());
        }
        assert_eq!(format_of(&file), FORMAT_MIGRATING_FROM_1);
        assert_eq!(old_len(&file), total - 350);
        // Opened for use: resumed with the normal batch size, to the end.
        let st = crate::Storage::open(&dir).unwrap();
        assert!(st.broken_databases().is_empty());
        drop(st);
        assert_eq!(contents(&file), expected);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&whole_dir);
    }

    /// The migration of a format 4 file to format 5 stopped between two of its transactions
    /// (as by a crash) is refused by older builds (the format is the marker), keeps every
    /// relationship (moved into the blocks or still in the old table), and is resumed by the
    /// next open, ending with the same tables as a migration that ran through.
    #[test]
    fn interrupted_format_4_migration_resumes_to_the_same_result() {
        let (whole_dir, whole) = fixture_copy_of("format-v4.redb", "v4-whole");
        crate::Storage::open(&whole_dir).unwrap();
        let expected = contents(&whole);
        assert_eq!(format_of(&whole), tables::FORMAT_VERSION);

        let (dir, file) = fixture_copy_of("format-v4.redb", "v4-crash");
        {
            let db = redb::Database::open(&file).unwrap();
            let total = db
                .begin_read()
                .unwrap()
                .open_table(tables::v4::RELS)
                .unwrap()
                .len()
                .unwrap();
            assert!(total > 20, "{total}");
            v4_to_v5(&db, "old", 4, 5, Some(2)).unwrap();
            let r = db.begin_read().unwrap();
            let blocks = r.open_table(tables::RELS).unwrap();
            let moved: u64 = blocks
                .iter()
                .unwrap()
                .map(|e| {
                    let (k, v) = e.unwrap();
                    codec::BlockReader::new(k.value(), v.value()).count() as u64
                })
                .sum::<u64>()
                + r.open_table(tables::REL_TAIL).unwrap().len().unwrap();
            assert_eq!(moved, 10);
            // The old table still holds them all until the last step drops it.
            assert_eq!(
                r.open_table(tables::v4::RELS).unwrap().len().unwrap(),
                total
            );
        }
        assert_eq!(format_of(&file), FORMAT_MIGRATING_TO_5);
        let st = crate::Storage::open(&dir).unwrap();
        assert!(st.broken_databases().is_empty());
        drop(st);
        assert_eq!(format_of(&file), tables::FORMAT_VERSION);
        assert_eq!(contents(&file), expected);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&whole_dir);
    }

    /// Node records, per block or tail entry: `(id, record)`.
    fn node_records(db: &redb::Database) -> Vec<(u64, Vec<u8>)> {
        let r = db.begin_read().unwrap();
        let mut out = Vec::new();
        for e in r.open_table(tables::NODES).unwrap().iter().unwrap() {
            let (k, v) = e.unwrap();
            for rec in codec::BlockReader::new(k.value(), v.value()) {
                let (id, rec) = rec.unwrap();
                out.push((id, rec.to_vec()));
            }
        }
        for e in r.open_table(tables::NODE_TAIL).unwrap().iter().unwrap() {
            let (k, v) = e.unwrap();
            out.push((k.value(), v.value().to_vec()));
        }
        out
    }

    /// The migration of a format 5 file to format 6 stopped between two of its transactions
    /// (as by a crash) is refused by older builds (the format is the marker), keeps every
    /// node record in the old table (the blocks hold the ones moved so far), and is resumed
    /// by the next open, ending with the same tables as a migration that ran through: the
    /// same node records, byte for byte, as the old table held.
    #[test]
    fn interrupted_format_5_migration_resumes_to_the_same_result() {
        let (whole_dir, whole) = fixture_copy_of("format-v5.redb", "v5-whole");
        let old_records: Vec<(u64, Vec<u8>)> = {
            let db = redb::Database::open(&whole).unwrap();
            let r = db.begin_read().unwrap();
            let t = r.open_table(tables::v5::NODES).unwrap();
            t.iter()
                .unwrap()
                .map(|e| {
                    let (k, v) = e.unwrap();
                    (k.value(), v.value().to_vec())
                })
                .collect()
        };
        assert!(old_records.len() > 30, "{}", old_records.len());
        crate::Storage::open(&whole_dir).unwrap();
        let expected = contents(&whole);
        assert_eq!(format_of(&whole), tables::FORMAT_VERSION);
        assert_eq!(
            node_records(&redb::Database::open(&whole).unwrap()),
            old_records
        );

        let (dir, file) = fixture_copy_of("format-v5.redb", "v5-crash");
        {
            let db = redb::Database::open(&file).unwrap();
            v5_to_v6(&db, "old", 5, 7, Some(3)).unwrap();
            assert_eq!(node_records(&db).len(), 21);
            let r = db.begin_read().unwrap();
            assert_eq!(
                r.open_table(tables::v5::NODES).unwrap().len().unwrap(),
                old_records.len() as u64
            );
        }
        assert_eq!(format_of(&file), FORMAT_MIGRATING_TO_6);
        let st = crate::Storage::open(&dir).unwrap();
        assert!(st.broken_databases().is_empty());
        drop(st);
        assert_eq!(format_of(&file), tables::FORMAT_VERSION);
        assert_eq!(contents(&file), expected);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&whole_dir);
    }
}
