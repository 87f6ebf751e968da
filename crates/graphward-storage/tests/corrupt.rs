//! Corrupt bytes and files give errors, never panics.

use graphward_core::engine::DatabaseStatus;
use graphward_core::value::Map;
use graphward_core::{ErrorCode, Value};
use graphward_storage::*;

mod common;
use common::TempDir;

fn sample_values() -> Vec<Value> {
    vec![
        Value::Int(42),
        Value::Float(1.5),
        Value::String("hello world".into()),
        Value::Bytes(vec![1, 2, 3]),
        Value::List(vec![Value::Int(1), "two".into(), Value::Float(3.0)]),
        Value::Bool(false),
    ]
}

#[test]
fn truncated_values_are_errors() {
    for v in sample_values() {
        let bytes = codec::encode_property_value("k", &v).unwrap();
        for cut in 0..bytes.len() {
            let r = codec::decode_property_value(&bytes[..cut]);
            assert!(r.is_err(), "truncated {v:?} at {cut} decoded to {r:?}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(codec::decode_property_value(&longer).is_err());
    }
}

#[test]
fn garbage_values_never_panic() {
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..20_000 {
        let len = (next() % 40) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let _ = codec::decode_property_value(&bytes);
    }
    // specific nasties
    for bad in [
        vec![
            6u8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ],
        vec![
            4u8, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
        ],
        vec![4u8, 2, 0xff, 0xfe],
        vec![6u8, 1, 6, 0],
        vec![200u8],
    ] {
        assert!(codec::decode_property_value(&bad).is_err(), "{bad:?}");
    }
}

#[test]
fn corrupt_record_in_file_is_an_error() {
    let dir = TempDir::new("corrupt-record");
    let id;
    {
        let st = Storage::open(dir.path()).unwrap();
        st.create_database("g").unwrap();
        let db = st.database("g").unwrap();
        let mut w = db.begin_write().unwrap();
        let mut p = Map::new();
        p.insert("k".into(), Value::Int(1));
        id = w.create_node(&["L".into()], p).unwrap();
        w.commit().unwrap();
    }
    // Overwrite the node record with garbage behind the storage's back.
    {
        let path = dir.path().join("databases").join("g.redb");
        let db = redb::Database::open(&path).unwrap();
        let w = db.begin_write().unwrap();
        {
            // The one node is in the tail of the node blocks.
            let def: redb::TableDefinition<u64, &[u8]> =
                redb::TableDefinition::new("nodes_tail_v6");
            let mut t = w.open_table(def).unwrap();
            t.insert(id, &[1u8, 5, 0xff][..]).unwrap();
        }
        w.commit().unwrap();
    }
    let st = Storage::open(dir.path()).unwrap();
    let db = st.database("g").unwrap();
    let r = db.begin_read().unwrap();
    let err = r.node(id).unwrap_err();
    assert_eq!(err.code, ErrorCode::Internal);
    drop(r);
    let mut w = db.begin_write().unwrap();
    assert!(w.set_node_property(id, "k", Value::Int(2)).is_err());
}

/// Garbage in a relationship block, an adjacency chunk or a delta's neighbour: every read that
/// meets it is an error (`Internal`), never a panic or a wrong answer, and writes that would
/// rewrite the damaged value refuse.
#[test]
fn corrupt_relationship_block_and_adjacency_chunk_are_errors() {
    let dir = TempDir::new("corrupt-blocks");
    let (a, b, rels);
    {
        let st = Storage::open(dir.path()).unwrap();
        st.create_database("g").unwrap();
        let db = st.database("g").unwrap();
        let mut w = db.begin_write().unwrap();
        a = w.create_node(&["L".into()], Map::new()).unwrap();
        b = w.create_node(&["L".into()], Map::new()).unwrap();
        // Enough to fill relationship blocks (the tail hands them over at 256) and to pass
        // the delta's target so that commits merge edges into chunks.
        let mut ids = Vec::new();
        for _ in 0..5000 {
            ids.push(w.create_relationship(a, b, "T", Map::new()).unwrap());
        }
        w.commit().unwrap();
        let mut w = db.begin_write().unwrap();
        for _ in 0..2000 {
            ids.push(w.create_relationship(b, a, "T", Map::new()).unwrap());
        }
        w.commit().unwrap();
        rels = ids;
    }
    let path = dir.path().join("databases").join("g.redb");
    let (block_key, chunk_key) = {
        use redb::{ReadableDatabase, ReadableTable};
        let db = redb::Database::open(&path).unwrap();
        let r = db.begin_read().unwrap();
        let blocks: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("rels_v5");
        let chunks: redb::TableDefinition<(u64, u32, u64), &[u8]> =
            redb::TableDefinition::new("adj_out_v5");
        let bk = r
            .open_table(blocks)
            .unwrap()
            .first()
            .unwrap()
            .unwrap()
            .0
            .value();
        let ck = r
            .open_table(chunks)
            .unwrap()
            .first()
            .unwrap()
            .unwrap()
            .0
            .value();
        (bk, ck)
    };
    {
        let db = redb::Database::open(&path).unwrap();
        let w = db.begin_write().unwrap();
        {
            let blocks: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("rels_v5");
            w.open_table(blocks)
                .unwrap()
                .insert(block_key, &[0u8, 200, 1][..])
                .unwrap();
            let chunks: redb::TableDefinition<(u64, u32, u64), &[u8]> =
                redb::TableDefinition::new("adj_out_v5");
            w.open_table(chunks)
                .unwrap()
                .insert(chunk_key, &[0x80u8; 3][..])
                .unwrap();
        }
        w.commit().unwrap();
    }
    let st = Storage::open(dir.path()).unwrap();
    let db = st.database("g").unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(
        r.relationship(rels[0]).unwrap_err().code,
        ErrorCode::Internal
    );
    assert!(r.all_relationships().is_err());
    // A relationship of an undamaged block still reads.
    assert!(r.relationship(*rels.last().unwrap()).unwrap().is_some());
    assert_eq!(
        r.expand(a, ExpandDir::Outgoing, &[]).unwrap_err().code,
        ErrorCode::Internal
    );
    drop(r);
    let mut w = db.begin_write().unwrap();
    assert!(w.delete_relationship(rels[0]).is_err());
}

/// Garbage in a block of node records (storage format 6): every read that meets it (the
/// node, a scan through it by id or by property, a page of a scan) is an error
/// (`Internal`), never a panic or a wrong answer; nodes of other blocks still read; writes
/// that would rewrite the damaged block refuse.
#[test]
fn corrupt_node_block_is_an_error() {
    let dir = TempDir::new("corrupt-node-block");
    let ids: Vec<u64>;
    {
        let st = Storage::open(dir.path()).unwrap();
        st.create_database("g").unwrap();
        let db = st.database("g").unwrap();
        let mut w = db.begin_write().unwrap();
        // Enough to fill blocks (the tail hands them over at 256).
        ids = (0..1000)
            .map(|i| {
                let mut p = Map::new();
                p.insert("k".into(), Value::Int(i));
                w.create_node(&["L".into()], p).unwrap()
            })
            .collect();
        w.commit().unwrap();
    }
    let path = dir.path().join("databases").join("g.redb");
    let blocks: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("nodes_v6");
    {
        use redb::ReadableTable;
        let db = redb::Database::open(&path).unwrap();
        let w = db.begin_write().unwrap();
        {
            let mut t = w.open_table(blocks).unwrap();
            let key = t.first().unwrap().unwrap().0.value();
            assert!(key > ids[0] && key < ids[999], "{key}");
            // A record length past the block's end.
            t.insert(key, &[0u8, 200, 1][..]).unwrap();
        }
        w.commit().unwrap();
    }
    let st = Storage::open(dir.path()).unwrap();
    let db = st.database("g").unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(r.node(ids[0]).unwrap_err().code, ErrorCode::Internal);
    assert_eq!(
        r.node_property(ids[1], "k").unwrap_err().code,
        ErrorCode::Internal
    );
    assert!(r.all_nodes().is_err());
    assert!(r.node_property_page(Some("L"), "k", None, 10).is_err());
    assert!(r.node_property_page(None, "k", None, 2000).is_err());
    assert!(r
        .node_property_stats(Some("L"), "k", None, u64::MAX, 2000)
        .is_err());
    let scan: std::result::Result<Vec<_>, _> =
        r.node_property_scan(Some("L"), "k").unwrap().collect();
    assert_eq!(scan.unwrap_err().code, ErrorCode::Internal);
    // A node of an undamaged block still reads, and a page that starts past the damage.
    assert_eq!(
        r.node_property(ids[999], "k").unwrap(),
        Some(Value::Int(999))
    );
    let page = r
        .node_property_page(Some("L"), "k", Some(ids[997]), 10)
        .unwrap();
    assert_eq!(
        page,
        vec![
            (ids[998], Some(Value::Int(998))),
            (ids[999], Some(Value::Int(999)))
        ]
    );
    drop(r);
    let mut w = db.begin_write().unwrap();
    assert!(w.set_node_property(ids[0], "k", Value::Int(2)).is_err());
    drop(w);
    let mut w = db.begin_write().unwrap();
    assert!(w.delete_node(ids[0]).is_err());
}

#[test]
fn garbage_database_file_is_reported_not_fatal() {
    let dir = TempDir::new("corrupt-file");
    {
        let st = Storage::open(dir.path()).unwrap();
        st.create_database("good").unwrap();
        st.create_database("bad").unwrap();
    }
    let dbs = dir.path().join("databases");
    std::fs::write(dbs.join("bad.redb"), vec![0x5au8; 10_000]).unwrap();
    std::fs::write(dbs.join("notes.txt"), b"hi").unwrap();
    // Not in the catalog: ignored.
    std::fs::write(dbs.join("stray.redb"), vec![0x5au8; 100]).unwrap();
    let st = Storage::open(dir.path()).unwrap();
    assert_eq!(
        st.database_names(),
        vec!["bad".to_string(), "good".to_string()]
    );
    let err = st.database("bad").unwrap_err();
    assert_eq!(err.code, ErrorCode::DatabaseUnavailable);
    assert!(err.message.contains("offline"), "{}", err.message);
    let states = st.states();
    assert_eq!(states[0].status, DatabaseStatus::Offline);
    assert_eq!(states[1].status, DatabaseStatus::Online);
    let broken = st.broken_databases();
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].0, "bad");
    assert!(st.database("good").unwrap().begin_read().is_ok());
    assert_eq!(
        st.create_database("bad").unwrap_err().code,
        ErrorCode::DatabaseExists
    );
    st.drop_database("bad").unwrap();
    assert!(!dbs.join("bad.redb").exists());
    st.create_database("bad").unwrap();
    assert!(st.database("bad").is_ok());
}

#[test]
fn second_open_of_same_directory_fails() {
    let dir = TempDir::new("locked");
    let st = Storage::open(dir.path()).unwrap();
    st.create_database("g").unwrap();
    let second = Storage::open(dir.path());
    assert!(
        second.is_err(),
        "second open must fail while the first holds the files"
    );
    drop(st);
    assert!(Storage::open(dir.path()).is_ok());
}

/// Flips bytes all over a real database file, then opens and reads it: every outcome must
/// be an error or data, never a panic.
#[test]
fn scribbled_file_never_panics() {
    let dir = TempDir::new("scribble");
    let path = dir.path().join("databases").join("g.redb");
    {
        let st = Storage::open(dir.path()).unwrap();
        st.create_database("g").unwrap();
        let db = st.database("g").unwrap();
        let mut w = db.begin_write().unwrap();
        let mut prev = None;
        for i in 0..2000 {
            let mut p = Map::new();
            p.insert("i".into(), Value::Int(i));
            p.insert("s".into(), Value::String(format!("value {i}")));
            let id = w.create_node(&["L".into()], p).unwrap();
            if let Some(prev) = prev {
                w.create_relationship(prev, id, "R", Map::new()).unwrap();
            }
            prev = Some(id);
        }
        w.commit().unwrap();
    }
    let original = std::fs::read(&path).unwrap();
    let mut x: u64 = 0x2545F4914F6CDD1D;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut outcomes = [0usize; 3];
    for round in 0..24 {
        // Half the rounds skip the open-time verification, so damage is met while reading.
        let options = StorageOptions {
            verify_on_open: round % 2 == 0,
            ..StorageOptions::default()
        };
        let mut bytes = original.clone();
        let flips = 1 + (round % 5) * 8;
        for _ in 0..flips {
            let pos = (next() as usize) % bytes.len();
            bytes[pos] ^= (next() as u8) | 1;
        }
        std::fs::write(&path, &bytes).unwrap();
        let result = std::panic::catch_unwind(|| -> Result<(), graphward_core::Error> {
            let st = Storage::open_with(dir.path(), options.clone())?;
            let db = st.database("g")?;
            let r = db.begin_read()?;
            for id in r.all_nodes()? {
                r.node(id)?;
                r.expand(id, ExpandDir::Both, &[])?;
            }
            for id in r.all_relationships()? {
                r.relationship(id)?;
            }
            Ok(())
        });
        match result {
            Ok(Ok(())) => outcomes[0] += 1,
            Ok(Err(_)) => outcomes[1] += 1,
            Err(_) => outcomes[2] += 1,
        }
    }
    println!("ok / error / panic: {outcomes:?}");
    assert_eq!(outcomes[2], 0, "panics: {outcomes:?}");
}

/// A database the catalog lists whose file was deleted or truncated to zero is offline with
/// the reason, never an empty online database; the others open; `check_dir` reports the same.
#[test]
fn missing_or_empty_file_is_offline_not_empty() {
    let dir = TempDir::new("missing-empty");
    {
        let st = Storage::open(dir.path()).unwrap();
        for n in ["gone", "empty", "fine"] {
            st.create_database(n).unwrap();
            let db = st.database(n).unwrap();
            let mut w = db.begin_write().unwrap();
            w.create_node(&["N".to_string()], Default::default())
                .unwrap();
            w.commit().unwrap();
        }
    }
    let dbs = dir.path().join("databases");
    std::fs::remove_file(dbs.join("gone.redb")).unwrap();
    std::fs::File::create(dbs.join("empty.redb")).unwrap();
    let checks = Storage::check_dir(dir.path()).unwrap();
    let by_name = |n: &str| checks.iter().find(|c| c.name == n).unwrap().result.clone();
    assert!(by_name("gone").unwrap_err().message.contains("missing"));
    assert!(by_name("empty").unwrap_err().message.contains("empty"));
    assert_eq!(by_name("fine").unwrap(), (1, 0));

    let st = Storage::open(dir.path()).unwrap();
    assert_eq!(st.database_names(), vec!["empty", "fine", "gone"]);
    for n in ["gone", "empty"] {
        let err = st.database(n).unwrap_err();
        assert_eq!(err.code, ErrorCode::DatabaseUnavailable, "{n}");
    }
    // The empty file was not turned into an empty database, the missing one not re-created.
    assert_eq!(std::fs::metadata(dbs.join("empty.redb")).unwrap().len(), 0);
    assert!(!dbs.join("gone.redb").exists());
    assert_eq!(
        st.database("fine")
            .unwrap()
            .begin_read()
            .unwrap()
            .count_nodes(None)
            .unwrap(),
        1
    );
    // An offline database can be dropped and created afresh.
    st.drop_database("gone").unwrap();
    st.create_database("gone").unwrap();
    assert!(st.database("gone").is_ok());
}

/// A backup taken while a writer commits is a consistent snapshot that opens as a data
/// directory; compaction keeps the data.
#[test]
fn backup_under_writes_and_compact() {
    let dir = TempDir::new("backup-src");
    let out = TempDir::new("backup-dst");
    let st = std::sync::Arc::new(Storage::open(dir.path()).unwrap());
    st.create_database("g").unwrap();
    let writer = {
        let st = st.clone();
        std::thread::spawn(move || {
            let db = st.database("g").unwrap();
            for i in 0..200 {
                let mut w = db.begin_write().unwrap();
                let a = w.create_node(&["N".to_string()], Map::new()).unwrap();
                let b = w.create_node(&["N".to_string()], Map::new()).unwrap();
                w.set_node_property(a, "i", Value::Int(i)).unwrap();
                w.create_relationship(a, b, "R", Map::new()).unwrap();
                w.commit().unwrap();
            }
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(20));
    let report = st.backup_to(out.path()).unwrap();
    writer.join().unwrap();
    let (nodes, rels) = report
        .iter()
        .find(|c| c.name == "g")
        .unwrap()
        .result
        .clone()
        .unwrap();
    // Consistent: every committed transaction is all in or all out.
    assert_eq!(nodes, rels * 2);
    let restored = Storage::open(out.path()).unwrap();
    let r = restored.database("g").unwrap().begin_read().unwrap();
    assert_eq!(r.count_nodes(None).unwrap(), nodes);
    assert_eq!(r.count_relationships().unwrap(), rels);
    assert_eq!(r.all_nodes().unwrap().len() as u64, nodes);
    drop(r);
    drop(restored);
    let checks = Storage::check_dir(out.path()).unwrap();
    assert!(checks.iter().all(|c| c.result.is_ok()), "{checks:?}");

    // Delete most of the data, then compact: the file shrinks and the rest is intact.
    let db = st.database("g").unwrap();
    let mut w = db.begin_write().unwrap();
    for id in w.all_relationships().unwrap() {
        w.delete_relationship(id).unwrap();
    }
    for id in w.all_nodes().unwrap().into_iter().skip(10) {
        w.delete_node(id).unwrap();
    }
    w.commit().unwrap();
    let (before, after) = st.compact("g").unwrap();
    assert!(after <= before, "{before} -> {after}");
    assert_eq!(db.begin_read().unwrap().count_nodes(None).unwrap(), 10);
}
