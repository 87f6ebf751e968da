//! Corrupt bytes and files give errors, never panics.

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
            let def: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("nodes");
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

#[test]
fn garbage_database_file_is_an_error() {
    let dir = TempDir::new("corrupt-file");
    let dbs = dir.path().join("databases");
    std::fs::create_dir_all(&dbs).unwrap();
    std::fs::write(dbs.join("bad.redb"), vec![0x5au8; 10_000]).unwrap();
    let r = Storage::open(dir.path());
    assert!(r.is_err());
    // an unrelated file is ignored
    std::fs::remove_file(dbs.join("bad.redb")).unwrap();
    std::fs::write(dbs.join("notes.txt"), b"hi").unwrap();
    let st = Storage::open(dir.path()).unwrap();
    assert!(st.database_names().is_empty());
}
