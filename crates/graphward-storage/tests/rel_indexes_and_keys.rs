#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Relationship property indexes (schema kind 5) and key constraints (kinds 6 and 7): built from
//! existing data, kept up to date on create / set / remove / delete, refused over violating
//! data, kept across a restart.
use graphward_core::value::Map;
use graphward_core::{ErrorCode, Value};
use graphward_storage::*;

mod common;
use common::{def, mem_db, props, s, TempDir};

fn seek(g: &dyn GraphRead, v: i64) -> Option<Vec<u64>> {
    g.rel_index_seek("KNOWS", &[s("since")], &[Value::Int(v)])
        .unwrap()
}

#[test]
fn a_relationship_index_is_built_and_maintained() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    let a = w.create_node(&[s("P")], Map::new()).unwrap();
    let b = w.create_node(&[s("P")], Map::new()).unwrap();
    let r1 = w
        .create_relationship(a, b, "KNOWS", props(&[("since", Value::Int(2020))]))
        .unwrap();
    let other = w
        .create_relationship(a, b, "LIKES", props(&[("since", Value::Int(2020))]))
        .unwrap();
    assert_eq!(seek(&w, 2020), None, "no index yet: the caller scans");
    w.create_schema(def(
        "knows_since",
        SchemaKind::RelIndex,
        "KNOWS",
        &["since"],
    ))
    .unwrap();
    // Built from existing data; another type is not in it.
    assert_eq!(seek(&w, 2020), Some(vec![r1]));
    // Not unique: a second relationship with the same value is fine.
    let r2 = w
        .create_relationship(b, a, "KNOWS", props(&[("since", Value::Int(2020))]))
        .unwrap();
    assert_eq!(seek(&w, 2020), Some(vec![r1, r2]));
    w.set_relationship_property(r2, "since", Value::Int(2021))
        .unwrap();
    assert_eq!(seek(&w, 2020), Some(vec![r1]));
    assert_eq!(seek(&w, 2021), Some(vec![r2]));
    w.set_relationship_property(r1, "since", Value::Null)
        .unwrap();
    assert_eq!(seek(&w, 2020), Some(vec![]));
    w.delete_relationship(r2).unwrap();
    assert_eq!(seek(&w, 2021), Some(vec![]));
    w.delete_relationship(other).unwrap();
    w.commit().unwrap();
    let kinds: Vec<SchemaKind> = db
        .begin_read()
        .unwrap()
        .schema()
        .unwrap()
        .into_iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(kinds, vec![SchemaKind::RelIndex]);
}

#[test]
fn node_key_constraints() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    w.create_node(&[s("Actor")], props(&[("first", Value::String(s("K")))]))
        .unwrap();
    // Refused over a node missing a key property, nothing kept.
    let e = w
        .create_schema(def(
            "actor_key",
            SchemaKind::Key,
            "Actor",
            &["first", "last"],
        ))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConstraintValidationFailed);
    assert!(w.schema().unwrap().is_empty());
    w.abort().unwrap();

    let mut w = db.begin_write().unwrap();
    let full = props(&[
        ("first", Value::String(s("K"))),
        ("last", Value::String(s("R"))),
    ]);
    w.create_node(&[s("Actor")], full.clone()).unwrap();
    w.create_node(&[s("Actor")], full.clone()).unwrap();
    // Refused over duplicate keys.
    let e = w
        .create_schema(def(
            "actor_key",
            SchemaKind::Key,
            "Actor",
            &["first", "last"],
        ))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConstraintValidationFailed);
    w.abort().unwrap();

    let mut w = db.begin_write().unwrap();
    w.create_schema(def(
        "actor_key",
        SchemaKind::Key,
        "Actor",
        &["first", "last"],
    ))
    .unwrap();
    let a = w.create_node(&[s("Actor")], full.clone()).unwrap();
    // A duplicate key is refused at the write.
    let e = w.create_node(&[s("Actor")], full.clone()).unwrap_err();
    assert_eq!(e.code, ErrorCode::ConstraintValidationFailed);
    // The index backs seeks.
    assert_eq!(
        w.index_seek(
            "Actor",
            &[s("first"), s("last")],
            &[Value::String(s("K")), Value::String(s("R"))]
        )
        .unwrap(),
        Some(vec![a])
    );
    w.commit().unwrap();
    // A missing key property is refused at commit.
    let mut w = db.begin_write().unwrap();
    w.set_node_property(a, "last", Value::Null).unwrap();
    assert_eq!(
        w.commit().unwrap_err().code,
        ErrorCode::ConstraintValidationFailed
    );
}

#[test]
fn relationship_key_constraints() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    w.create_schema(def("owns_id", SchemaKind::RelKey, "OWNS", &["id"]))
        .unwrap();
    let a = w.create_node(&[s("P")], Map::new()).unwrap();
    let r = w
        .create_relationship(a, a, "OWNS", props(&[("id", Value::Int(1))]))
        .unwrap();
    let e = w
        .create_relationship(a, a, "OWNS", props(&[("id", Value::Int(1))]))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConstraintValidationFailed);
    assert_eq!(
        w.rel_index_seek("OWNS", &[s("id")], &[Value::Int(1)])
            .unwrap(),
        Some(vec![r])
    );
    w.commit().unwrap();
    let mut w = db.begin_write().unwrap();
    w.create_relationship(a, a, "OWNS", Map::new()).unwrap();
    assert_eq!(
        w.commit().unwrap_err().code,
        ErrorCode::ConstraintValidationFailed
    );
}

#[test]
fn relationship_indexes_and_keys_survive_a_restart() {
    let dir = TempDir::new("relidxkeys");
    let (a, r);
    {
        let st = Storage::open(dir.path()).unwrap();
        st.create_database("g").unwrap();
        let db = st.database("g").unwrap();
        let mut w = db.begin_write().unwrap();
        a = w
            .create_node(&[s("Actor")], props(&[("id", Value::Int(7))]))
            .unwrap();
        r = w
            .create_relationship(a, a, "KNOWS", props(&[("since", Value::Int(2020))]))
            .unwrap();
        w.create_schema(def(
            "knows_since",
            SchemaKind::RelIndex,
            "KNOWS",
            &["since"],
        ))
        .unwrap();
        w.create_schema(def("actor_id", SchemaKind::Key, "Actor", &["id"]))
            .unwrap();
        w.create_schema(def("knows_key", SchemaKind::RelKey, "KNOWS", &["since"]))
            .unwrap();
        w.commit().unwrap();
    }
    let st = Storage::open(dir.path()).unwrap();
    let db = st.database("g").unwrap();
    let schema = db.begin_read().unwrap().schema().unwrap();
    assert_eq!(
        schema,
        vec![
            def("knows_since", SchemaKind::RelIndex, "KNOWS", &["since"]),
            def("actor_id", SchemaKind::Key, "Actor", &["id"]),
            def("knows_key", SchemaKind::RelKey, "KNOWS", &["since"]),
        ]
    );
    let g = db.begin_read().unwrap();
    assert_eq!(seek(&g, 2020), Some(vec![r]));
    drop(g);
    let mut w = db.begin_write().unwrap();
    // The entries written before the restart are still there.
    let e = w
        .create_node(&[s("Actor")], props(&[("id", Value::Int(7))]))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConstraintValidationFailed);
    let e = w
        .create_relationship(a, a, "KNOWS", props(&[("since", Value::Int(2020))]))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConstraintValidationFailed);
    w.create_node(&[s("Actor")], Map::new()).unwrap();
    assert_eq!(
        w.commit().unwrap_err().code,
        ErrorCode::ConstraintValidationFailed
    );
}
