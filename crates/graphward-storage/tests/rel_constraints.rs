#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Relationship property existence and uniqueness constraints: enforced at commit (existence)
//! or at the write (uniqueness), refused over violating data, dropped by name, kept across a
//! restart.
use graphward_core::value::Map;
use graphward_core::{ErrorCode, Value};
use graphward_storage::*;

mod common;
use common::{mem_db, props, s, TempDir};

/// A one-property schema definition.
fn def(name: &str, kind: SchemaKind, ty: &str, p: &str) -> SchemaDef {
    common::def(name, kind, ty, &[p])
}

fn two_nodes(w: &mut WriteTxn) -> (u64, u64) {
    let a = w.create_node(&[s("P")], Map::new()).unwrap();
    let b = w.create_node(&[s("P")], Map::new()).unwrap();
    (a, b)
}

#[test]
fn existence_is_checked_at_commit() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    w.create_schema(def("wrote_year", SchemaKind::RelExistence, "WROTE", "year"))
        .unwrap();
    w.commit().unwrap();

    // Created without the property: refused at commit, nothing kept.
    let mut w = db.begin_write().unwrap();
    let (a, b) = two_nodes(&mut w);
    w.create_relationship(a, b, "WROTE", Map::new()).unwrap();
    let e = w.commit().unwrap_err();
    assert_eq!(e.code, ErrorCode::ConstraintValidationFailed, "{e:?}");
    assert!(e.message.contains("WROTE") && e.message.contains("year"));
    assert_eq!(db.begin_read().unwrap().count_relationships().unwrap(), 0);

    // The property may arrive later in the transaction; another type is not concerned.
    let mut w = db.begin_write().unwrap();
    let (a, b) = two_nodes(&mut w);
    let r = w.create_relationship(a, b, "WROTE", Map::new()).unwrap();
    w.set_relationship_property(r, "year", Value::Int(1813))
        .unwrap();
    w.create_relationship(a, b, "READ", Map::new()).unwrap();
    w.commit().unwrap();

    // Removing it (SET r.year = null, SET r = {}) is refused.
    let mut w = db.begin_write().unwrap();
    w.set_relationship_property(r, "year", Value::Null).unwrap();
    assert_eq!(
        w.commit().unwrap_err().code,
        ErrorCode::ConstraintValidationFailed
    );
    let mut w = db.begin_write().unwrap();
    w.replace_relationship_properties(r, props(&[("month", Value::Int(1))]))
        .unwrap();
    assert_eq!(
        w.commit().unwrap_err().code,
        ErrorCode::ConstraintValidationFailed
    );

    // Deleting a relationship that lost it in the same transaction is fine.
    let mut w = db.begin_write().unwrap();
    w.set_relationship_property(r, "year", Value::Null).unwrap();
    w.delete_relationship(r).unwrap();
    w.commit().unwrap();

    // Dropped: no longer enforced.
    let mut w = db.begin_write().unwrap();
    w.drop_schema("wrote_year").unwrap();
    let (a, b) = two_nodes(&mut w);
    w.create_relationship(a, b, "WROTE", Map::new()).unwrap();
    w.commit().unwrap();
}

#[test]
fn existence_is_refused_over_violating_data() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    let (a, b) = two_nodes(&mut w);
    w.create_relationship(a, b, "WROTE", props(&[("year", Value::Int(1))]))
        .unwrap();
    let bad = w.create_relationship(b, a, "WROTE", Map::new()).unwrap();
    w.commit().unwrap();
    let mut w = db.begin_write().unwrap();
    let e = w
        .create_schema(def("wrote_year", SchemaKind::RelExistence, "WROTE", "year"))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConstraintValidationFailed);
    assert!(
        e.message.contains(&format!("Relationship({bad})")),
        "{}",
        e.message
    );
    // The transaction stays usable and has no such rule.
    assert!(w.schema().unwrap().is_empty());
    w.set_relationship_property(bad, "year", Value::Int(2))
        .unwrap();
    w.create_schema(def("wrote_year", SchemaKind::RelExistence, "WROTE", "year"))
        .unwrap();
    w.commit().unwrap();
}

#[test]
fn uniqueness_on_relationships() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    w.create_schema(def(
        "seq_order",
        SchemaKind::RelUnique,
        "SEQUEL_OF",
        "order",
    ))
    .unwrap();
    let (a, b) = two_nodes(&mut w);
    let r1 = w
        .create_relationship(a, b, "SEQUEL_OF", props(&[("order", Value::Int(1))]))
        .unwrap();
    // 1.0 equals 1: refused at once, the transaction stays usable.
    let e = w
        .create_relationship(b, a, "SEQUEL_OF", props(&[("order", Value::Float(1.0))]))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConstraintValidationFailed);
    assert!(
        e.message.contains(&format!("Relationship({r1})")),
        "{}",
        e.message
    );
    // Another type, or no property at all, is not concerned.
    w.create_relationship(b, a, "PREQUEL_OF", props(&[("order", Value::Int(1))]))
        .unwrap();
    let r2 = w
        .create_relationship(b, a, "SEQUEL_OF", Map::new())
        .unwrap();
    let e = w
        .set_relationship_property(r2, "order", Value::Int(1))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConstraintValidationFailed);
    let e = w
        .replace_relationship_properties(r2, props(&[("order", Value::Int(1))]))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConstraintValidationFailed);
    w.set_relationship_property(r2, "order", Value::Int(2))
        .unwrap();
    // Setting the same value again on the same relationship is no conflict.
    w.set_relationship_property(r1, "order", Value::Int(1))
        .unwrap();
    w.commit().unwrap();

    // A value freed by a change or a delete can be taken again.
    let mut w = db.begin_write().unwrap();
    w.set_relationship_property(r1, "order", Value::Int(10))
        .unwrap();
    let r3 = w
        .create_relationship(a, b, "SEQUEL_OF", props(&[("order", Value::Int(1))]))
        .unwrap();
    w.delete_relationship(r2).unwrap();
    w.create_relationship(a, b, "SEQUEL_OF", props(&[("order", Value::Int(2))]))
        .unwrap();
    w.commit().unwrap();

    // Dropping it removes its entries: duplicates are then allowed.
    let mut w = db.begin_write().unwrap();
    w.drop_schema("seq_order").unwrap();
    w.create_relationship(a, b, "SEQUEL_OF", props(&[("order", Value::Int(1))]))
        .unwrap();
    w.commit().unwrap();
    assert!(r3 > r1);

    // Re-creating it over the duplicates is refused.
    let mut w = db.begin_write().unwrap();
    let e = w
        .create_schema(def(
            "seq_order",
            SchemaKind::RelUnique,
            "SEQUEL_OF",
            "order",
        ))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConstraintValidationFailed);
    assert!(e
        .message
        .starts_with("Unable to create constraint `seq_order`"));
    assert!(w.schema().unwrap().is_empty());
}

#[test]
fn node_and_relationship_rules_do_not_mix() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    // A label and a type with the same name, the same property.
    w.create_schema(def("n", SchemaKind::Unique, "X", "k"))
        .unwrap();
    w.create_schema(def("r", SchemaKind::RelUnique, "X", "k"))
        .unwrap();
    w.create_schema(def("re", SchemaKind::RelExistence, "X", "k"))
        .unwrap();
    let a = w
        .create_node(&[s("X")], props(&[("k", Value::Int(1))]))
        .unwrap();
    // Same value on a relationship of type X: another rule, no conflict with the node.
    w.create_relationship(a, a, "X", props(&[("k", Value::Int(1))]))
        .unwrap();
    // A node with label X needs no `k` (only relationships of type X do).
    w.create_node(&[s("X")], Map::new()).unwrap();
    // The node index still seeks nodes only.
    assert_eq!(
        w.index_seek("X", &[s("k")], &[Value::Int(1)]).unwrap(),
        Some(vec![a])
    );
    w.commit().unwrap();
    let kinds: Vec<SchemaKind> = db
        .begin_read()
        .unwrap()
        .schema()
        .unwrap()
        .into_iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            SchemaKind::Unique,
            SchemaKind::RelUnique,
            SchemaKind::RelExistence
        ]
    );
}

#[test]
fn an_existence_constraint_is_not_an_index() {
    // A seek on (label, property) must not use an existence constraint (it has no entries).
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    w.create_schema(def("p_name", SchemaKind::Existence, "P", "name"))
        .unwrap();
    let a = w
        .create_node(&[s("P")], props(&[("name", "x".into())]))
        .unwrap();
    assert_eq!(
        w.index_seek("P", &[s("name")], &["x".into()]).unwrap(),
        None
    );
    assert_eq!(w.index_prefix("P", "name", "x").unwrap(), None);
    w.create_schema(SchemaDef {
        name: s("p_name_idx"),
        kind: SchemaKind::Index,
        label: s("P"),
        properties: vec![s("name")],
    })
    .unwrap();
    assert_eq!(
        w.index_seek("P", &[s("name")], &["x".into()]).unwrap(),
        Some(vec![a])
    );
    w.commit().unwrap();
}

#[test]
fn relationship_constraints_survive_a_restart() {
    let dir = TempDir::new("relcons");
    let (a, b);
    {
        let st = Storage::open(dir.path()).unwrap();
        st.create_database("g").unwrap();
        let db = st.database("g").unwrap();
        let mut w = db.begin_write().unwrap();
        (a, b) = two_nodes(&mut w);
        w.create_relationship(a, b, "R", props(&[("k", Value::Int(1))]))
            .unwrap();
        w.create_schema(def("r_k", SchemaKind::RelUnique, "R", "k"))
            .unwrap();
        w.create_schema(def("r_k_exists", SchemaKind::RelExistence, "R", "k"))
            .unwrap();
        w.commit().unwrap();
    }
    let st = Storage::open(dir.path()).unwrap();
    let db = st.database("g").unwrap();
    let schema = db.begin_read().unwrap().schema().unwrap();
    assert_eq!(
        schema,
        vec![
            def("r_k", SchemaKind::RelUnique, "R", "k"),
            def("r_k_exists", SchemaKind::RelExistence, "R", "k"),
        ]
    );
    let mut w = db.begin_write().unwrap();
    // The entries written before the restart are still there.
    let e = w
        .create_relationship(b, a, "R", props(&[("k", Value::Int(1))]))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConstraintValidationFailed);
    w.create_relationship(b, a, "R", Map::new()).unwrap();
    assert_eq!(
        w.commit().unwrap_err().code,
        ErrorCode::ConstraintValidationFailed
    );
}
