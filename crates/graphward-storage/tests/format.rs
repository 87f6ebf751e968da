#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Storage formats: a database file written in format 1 (the checked-in fixture
//! `fixtures/format-v1.redb`, written by `populate` below with the code of commit a59a159) is
//! migrated (to the current format 6) when opened and then reads exactly like the same graph
//! written by this build; format 2 to 4 files likewise (including a migration interrupted
//! between two of its transactions); a file of an unknown (newer) format is refused with a
//! typed error, never misread.

use graphward_core::value::Map;
use graphward_core::Value;
use graphward_storage::*;

mod common;
use common::TempDir;

/// The graph of the fixture (the same calls, in the same order, give the same ids).
fn populate(db: &Database) {
    let mut w = db.begin_write().unwrap();
    w.create_schema(SchemaDef {
        name: "p_id".into(),
        kind: SchemaKind::Unique,
        label: "Person".into(),
        properties: vec!["id".into()],
    })
    .unwrap();
    w.create_schema(SchemaDef {
        name: "p_name".into(),
        kind: SchemaKind::Index,
        label: "Person".into(),
        properties: vec!["name".into()],
    })
    .unwrap();
    let mut ids = Vec::new();
    for i in 0..300i64 {
        let mut m = Map::new();
        m.insert("id".into(), Value::Int(i - 100));
        m.insert("name".into(), Value::String(format!("p{}", i % 37)));
        if i % 3 == 0 {
            m.insert("score".into(), Value::Float(i as f64 / 4.0));
        }
        if i % 5 == 0 {
            m.insert(
                "tags".into(),
                Value::List(vec![Value::String("a".into()), Value::Int(i)]),
            );
        }
        let labels: Vec<String> = if i % 2 == 0 {
            vec!["Person".into(), "Even".into()]
        } else {
            vec!["Person".into()]
        };
        ids.push(w.create_node(&labels, m).unwrap());
    }
    let lone = w.create_node(&[], Map::new()).unwrap();
    for i in 0..600usize {
        let a = ids[i % 300];
        let b = ids[(i * 7 + 3) % 300];
        let mut m = Map::new();
        if i % 4 == 0 {
            m.insert("w".into(), Value::Int(i as i64));
        }
        let t = if i % 3 == 0 { "KNOWS" } else { "LIKES" };
        w.create_relationship(a, b, t, m).unwrap();
    }
    w.create_relationship(ids[5], ids[5], "SELF", Map::new())
        .unwrap();
    w.create_relationship(lone, ids[0], "KNOWS", Map::new())
        .unwrap();
    w.commit().unwrap();
    let mut w = db.begin_write().unwrap();
    w.delete_relationship(10).unwrap();
    w.delete_relationship(11).unwrap();
    // Refused (it has relationships): a client error, the transaction stays usable.
    assert!(w.delete_node(ids[299]).is_err());
    w.commit().unwrap();
}

/// Everything the read API shows of a database, in a comparable form.
fn dump(db: &Database) -> Vec<String> {
    let r = db.begin_read().unwrap();
    let mut out = Vec::new();
    out.push(format!(
        "counts {} {} {:?} {:?} {:?}",
        r.count_nodes(None).unwrap(),
        r.count_relationships().unwrap(),
        r.labels().unwrap(),
        r.relationship_types().unwrap(),
        r.property_keys().unwrap()
    ));
    out.push(format!("schema {:?}", r.schema().unwrap()));
    for l in ["Person", "Even"] {
        out.push(format!(
            "label {l} {} {:?}",
            r.count_nodes(Some(l)).unwrap(),
            r.nodes_with_label(l).unwrap()
        ));
        let lazy: Vec<u64> = r.node_ids(Some(l)).unwrap().map(|x| x.unwrap()).collect();
        assert_eq!(lazy, r.nodes_with_label(l).unwrap());
        out.push(format!(
            "page {l} {:?}",
            r.nodes_page(Some(l), Some(100), 7).unwrap()
        ));
    }
    for n in r.all_nodes().unwrap() {
        let mut node = r.node(n).unwrap().unwrap();
        node.labels.sort();
        let mut props: Vec<_> = node
            .properties
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        props.sort();
        out.push(format!("node {n} {:?} {props:?}", node.labels));
        for dir in [ExpandDir::Outgoing, ExpandDir::Incoming, ExpandDir::Both] {
            let e = r.expand(n, dir, &[]).unwrap();
            let lazy: Vec<Edge> = r
                .expand_iter(n, dir, &[])
                .unwrap()
                .map(|x| x.unwrap())
                .collect();
            assert_eq!(e, lazy);
            out.push(format!(
                "expand {n} {dir:?} {e:?} {}",
                r.degree(n, dir, &[]).unwrap()
            ));
            let k = r.expand(n, dir, &["KNOWS".into()]).unwrap();
            out.push(format!(
                "expand {n} {dir:?} KNOWS {k:?} {}",
                r.degree(n, dir, &["KNOWS".into()]).unwrap()
            ));
        }
    }
    for rel in r.all_relationships().unwrap() {
        let x = r.relationship(rel).unwrap().unwrap();
        out.push(format!(
            "rel {x:?} {:?}",
            r.relationship_property(rel, "w").unwrap()
        ));
    }
    for i in [-100i64, -1, 0, 7, 199, 200] {
        out.push(format!(
            "seek id {i} {:?}",
            r.index_seek("Person", &["id".into()], &[Value::Int(i)])
                .unwrap()
        ));
    }
    out.push(format!(
        "seek id 3.0 {:?}",
        r.index_seek("Person", &["id".into()], &[Value::Float(3.0)])
            .unwrap()
    ));
    out.push(format!(
        "seek name {:?}",
        r.index_seek("Person", &["name".into()], &[Value::String("p3".into())])
            .unwrap()
    ));
    use std::ops::Bound::*;
    out.push(format!(
        "range {:?}",
        r.index_range(
            "Person",
            "id",
            Included(&Value::Int(-5)),
            Excluded(&Value::Float(5.5))
        )
        .unwrap()
    ));
    out.push(format!(
        "prefix {:?}",
        r.index_prefix("Person", "name", "p1").unwrap()
    ));
    let scan: Vec<_> = r
        .node_property_scan(Some("Even"), "id")
        .unwrap()
        .map(|x| x.unwrap())
        .collect();
    out.push(format!("scan {scan:?}"));
    // The index entry counts (format 4): whether an index lists every node of its label,
    // and its order read a page at a time from both ends, whole and in a range.
    type Range<'v> = (std::ops::Bound<&'v Value>, std::ops::Bound<&'v Value>);
    let read_all = |p: &str, range: Range<'_>, descending: bool, page: usize| {
        let mut all = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let (ids, resume) = r
                .index_order_page("Person", p, range, descending, after.as_deref(), page)
                .unwrap()
                .unwrap();
            all.extend(ids);
            match resume {
                Some(k) => after = Some(k),
                None => return all,
            }
        }
    };
    for p in ["id", "name"] {
        out.push(format!(
            "orders {p} {}",
            r.index_orders("Person", p).unwrap()
        ));
        for descending in [false, true] {
            let all = read_all(p, (Unbounded, Unbounded), descending, 50);
            out.push(format!("order {p} {descending} {all:?}"));
        }
    }
    let (five, mid, p1, p2) = (
        Value::Int(-5),
        Value::Float(5.5),
        Value::String("p1".into()),
        Value::String("p2".into()),
    );
    for (p, range) in [
        ("id", (Included(&five), Excluded(&mid))),
        ("name", (Excluded(&p1), Included(&p2))),
        ("id", (Included(&p1), Unbounded)),
    ] {
        for descending in [false, true] {
            let all = read_all(p, range, descending, 4);
            out.push(format!("order range {p} {range:?} {descending} {all:?}"));
        }
    }
    out
}

fn fixture_dir() -> TempDir {
    fixture_dir_of("format-v1.redb")
}

/// A data directory holding a copy of `tests/fixtures/<name>` as the database `old`.
fn fixture_dir_of(name: &str) -> TempDir {
    let dir = TempDir::new("format-fixture");
    let dbs = dir.path().join("databases");
    std::fs::create_dir_all(&dbs).unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
        dbs.join("old.redb"),
    )
    .unwrap();
    dir
}

/// Writes the fixture graph with the code of this build into `$GW_FIXTURE_OUT/databases/`
/// (how `fixtures/format-v2.redb` was made, with the code of commit a1fd0fa, and
/// `fixtures/format-v3.redb` and `fixtures/format-v4.redb` with the code of the commits that
/// added them; format 4 with that of 0cbbaa1, format 5 with that of b7fd35a):
/// `GW_FIXTURE_OUT=/tmp/fx cargo test -p graphward-storage --test format write_fixture -- --ignored`
#[test]
#[ignore]
fn write_fixture() {
    let out = std::env::var("GW_FIXTURE_OUT").expect("GW_FIXTURE_OUT");
    let st = Storage::open(std::path::Path::new(&out)).unwrap();
    st.create_database("old").unwrap();
    populate(&st.database("old").unwrap());
}

fn stored_format(file: &std::path::Path) -> (u64, Vec<String>) {
    use redb::{ReadableDatabase, TableHandle};
    let db = redb::Database::open(file).unwrap();
    let r = db.begin_read().unwrap();
    let meta = r
        .open_table(redb::TableDefinition::<&str, u64>::new("meta"))
        .unwrap();
    let fmt = meta.get("format").unwrap().unwrap().value();
    let mut names: Vec<String> = r
        .list_tables()
        .unwrap()
        .map(|h| h.name().to_string())
        .collect();
    names.sort();
    (fmt, names)
}

#[test]
fn format_1_file_is_migrated_on_open_and_reads_like_format_2() {
    let dir = fixture_dir();
    let file = dir.path().join("databases").join("old.redb");
    assert_eq!(stored_format(&file).0, 1);
    let fresh_dir = TempDir::new("format-v2");
    let fresh = Storage::open(fresh_dir.path()).unwrap();
    fresh.create_database("new").unwrap();
    let new_db = fresh.database("new").unwrap();
    populate(&new_db);
    let expected = dump(&new_db);

    let st = Storage::open(dir.path()).unwrap();
    assert!(st.broken_databases().is_empty());
    let old = st.database("old").unwrap();
    assert_eq!(dump(&old), expected);
    // It takes writes in format 6 and still agrees.
    for db in [&old, &new_db] {
        let mut w = db.begin_write().unwrap();
        let a = w.create_node(&["Person".into()], Map::new()).unwrap();
        w.create_relationship(a, 3, "KNOWS", Map::new()).unwrap();
        w.delete_relationship(20).unwrap();
        w.add_labels(7, &["Even".into()]).unwrap();
        w.remove_labels(8, &["Even".into()]).unwrap();
        w.commit().unwrap();
    }
    assert_eq!(dump(&old), dump(&new_db));
    let after = dump(&old);
    drop(old);
    drop(st);
    let (fmt, tables) = stored_format(&file);
    assert_eq!(fmt, 6);
    for t in FORMAT_6_TABLES {
        assert!(tables.contains(&t.to_string()), "{tables:?}");
    }
    assert!(tables.contains(&"index_entries".to_string()), "{tables:?}");
    for gone in [
        "adj_out",
        "adj_in",
        "label_idx",
        "nodes_v1",
        "rels_v1",
        "nodes",
    ] {
        assert!(
            !tables.contains(&gone.to_string()),
            "{gone} left in {tables:?}"
        );
    }
    // Reopened: format 6 as is, same contents; a backup of it opens too.
    let st = Storage::open(dir.path()).unwrap();
    let db = st.database("old").unwrap();
    assert_eq!(dump(&db), after);
    let backup = TempDir::new("format-backup");
    let reports = st.backup_to(backup.path()).unwrap();
    assert!(reports.iter().all(|r| r.result.is_ok()));
    drop(db);
    drop(st);
    let restored = Storage::open(backup.path()).unwrap();
    assert_eq!(dump(&restored.database("old").unwrap()), after);
}

/// The node, relationship and adjacency tables of format 6 (those of format 5 but the node
/// table, whose records format 6 keeps in blocks).
const FORMAT_6_TABLES: [&str; 7] = [
    "nodes_v6",
    "nodes_tail_v6",
    "rels_v5",
    "adj_out_v5",
    "adj_in_v5",
    "adj_out_delta_v5",
    "adj_in_delta_v5",
];
/// The relationship and adjacency tables of formats 2 to 4, which the migration to format 5
/// drops.
const FORMAT_4_ADJACENCY: [&str; 4] = ["rels", "adj_out_v2", "adj_in_v2", "adj_in_delta"];

/// Files of formats 2 to 4 (an adjacency chunk per node and type) become format 6 when
/// opened (the adjacency rebuilt from the relationship records; for 2 and 3, each index's
/// entries counted; then the node records moved into blocks) and read and take writes like a
/// fresh file: the format 2 fixture (every edge in the chunks), the format 3 and 4 fixtures
/// (written by `write_fixture`, their incoming edges all in the delta table, the graph being
/// smaller than its target size). So does the format 5 fixture (an entry per node record,
/// written by `write_fixture` with the code of b7fd35a), whose node records alone move.
#[test]
fn format_2_to_5_files_read_like_a_fresh_one() {
    for (name, fmt) in [
        ("format-v2.redb", 2),
        ("format-v3.redb", 3),
        ("format-v4.redb", 4),
        ("format-v5.redb", 5),
    ] {
        format_file_reads_like_a_fresh_one(name, fmt);
    }
}

fn format_file_reads_like_a_fresh_one(name: &str, fmt: u64) {
    let dir = fixture_dir_of(name);
    let file = dir.path().join("databases").join("old.redb");
    let (found, tables) = stored_format(&file);
    assert_eq!(found, fmt);
    assert_eq!(
        tables.contains(&"adj_in_delta".to_string()),
        (3..=4).contains(&fmt)
    );
    assert_eq!(tables.contains(&"index_entries".to_string()), fmt >= 4);
    assert!(tables.contains(&"nodes".to_string()));
    let fresh_dir = TempDir::new("format-v2-fresh");
    let fresh = Storage::open(fresh_dir.path()).unwrap();
    fresh.create_database("new").unwrap();
    let new_db = fresh.database("new").unwrap();
    populate(&new_db);
    let size_before = std::fs::metadata(&file).unwrap().len();
    let st = Storage::open(dir.path()).unwrap();
    assert!(st.broken_databases().is_empty());
    // The migration's freed pages went back to the file system (compacted on open).
    let size_after = std::fs::metadata(&file).unwrap().len();
    assert!(
        size_after < size_before,
        "{name}: {size_before} -> {size_after}"
    );
    let old = st.database("old").unwrap();
    assert_eq!(dump(&old), dump(&new_db));
    for db in [&old, &new_db] {
        let mut w = db.begin_write().unwrap();
        let a = w.create_node(&["Person".into()], Map::new()).unwrap();
        w.create_relationship(a, 3, "KNOWS", Map::new()).unwrap();
        w.delete_relationship(20).unwrap();
        w.add_labels(7, &["Even".into()]).unwrap();
        w.remove_labels(8, &["Even".into()]).unwrap();
        w.commit().unwrap();
    }
    assert_eq!(dump(&old), dump(&new_db));
    drop(old);
    drop(st);
    let (found, tables) = stored_format(&file);
    assert_eq!(found, 6);
    for t in FORMAT_6_TABLES {
        assert!(tables.contains(&t.to_string()), "{tables:?}");
    }
    for t in FORMAT_4_ADJACENCY.iter().chain(&["nodes"]) {
        assert!(!tables.contains(&t.to_string()), "{t} left in {tables:?}");
    }
    assert!(tables.contains(&"index_entries".to_string()), "{tables:?}");
}

#[test]
fn unknown_format_is_refused_with_a_typed_error() {
    let dir = fixture_dir();
    let file = dir.path().join("databases").join("old.redb");
    {
        let db = redb::Database::open(&file).unwrap();
        let w = db.begin_write().unwrap();
        {
            let mut meta = w
                .open_table(redb::TableDefinition::<&str, u64>::new("meta"))
                .unwrap();
            meta.insert("format", 99).unwrap();
        }
        w.commit().unwrap();
    }
    let st = Storage::open(dir.path()).unwrap();
    let broken = st.broken_databases();
    assert_eq!(broken.len(), 1, "{broken:?}");
    let (name, err) = &broken[0];
    assert_eq!(name, "old");
    assert_eq!(err.detail.as_deref(), Some("UnsupportedStorageFormat"));
    assert!(err.message.contains("format 99"), "{}", err.message);
    assert!(st.database("old").is_err());
    drop(st);
    // Nothing was written to it.
    assert_eq!(stored_format(&file).0, 99);
}
