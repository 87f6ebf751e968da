#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use graphward_core::value::{Map, Point};
use graphward_core::{ErrorCode, Value};
use graphward_storage::*;

mod common;
use common::{mem_db, props, s};

fn index(name: &str, label: &str, props: &[&str], unique: bool) -> SchemaDef {
    SchemaDef {
        name: s(name),
        kind: if unique {
            SchemaKind::Unique
        } else {
            SchemaKind::Index
        },
        label: s(label),
        properties: props.iter().map(|p| s(p)).collect(),
    }
}

fn seek(g: &impl GraphRead, label: &str, keys: &[&str], vals: &[Value]) -> Option<Vec<u64>> {
    let keys: Vec<String> = keys.iter().map(|k| s(k)).collect();
    g.index_seek(label, &keys, vals).unwrap()
}

#[test]
fn index_seek_semantics() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    let a = w
        .create_node(&[s("P")], props(&[("v", Value::Int(1))]))
        .unwrap();
    let b = w
        .create_node(&[s("P")], props(&[("v", Value::Float(1.0))]))
        .unwrap();
    let c = w
        .create_node(&[s("P")], props(&[("v", Value::Float(1.5))]))
        .unwrap();
    let d = w
        .create_node(&[s("P")], props(&[("v", "1".into())]))
        .unwrap();
    let e = w
        .create_node(
            &[s("P")],
            props(&[("v", Value::List(vec![Value::Int(1), Value::Float(2.0)]))]),
        )
        .unwrap();
    let _other_label = w
        .create_node(&[s("Q")], props(&[("v", Value::Int(1))]))
        .unwrap();
    // no index yet
    assert_eq!(seek(&w, "P", &["v"], &[Value::Int(1)]), None);
    w.create_schema(index("p_v", "P", &["v"], false)).unwrap();
    assert_eq!(seek(&w, "P", &["v"], &[Value::Int(1)]), Some(vec![a, b]));
    assert_eq!(
        seek(&w, "P", &["v"], &[Value::Float(1.0)]),
        Some(vec![a, b])
    );
    assert_eq!(seek(&w, "P", &["v"], &[Value::Float(1.5)]), Some(vec![c]));
    assert_eq!(seek(&w, "P", &["v"], &["1".into()]), Some(vec![d]));
    assert_eq!(
        seek(
            &w,
            "P",
            &["v"],
            &[Value::List(vec![Value::Float(1.0), Value::Int(2)])]
        ),
        Some(vec![e])
    );
    assert_eq!(seek(&w, "P", &["v"], &[Value::Null]), Some(vec![]));
    assert_eq!(
        seek(&w, "P", &["v"], &[Value::Float(f64::NAN)]),
        Some(vec![])
    );
    assert_eq!(
        seek(&w, "P", &["v"], &[Value::Map(Map::new())]),
        Some(vec![])
    );
    assert_eq!(seek(&w, "Q", &["v"], &[Value::Int(1)]), None);
    assert_eq!(seek(&w, "P", &["w"], &[Value::Int(1)]), None);
    w.commit().unwrap();

    let r = db.begin_read().unwrap();
    assert_eq!(seek(&r, "P", &["v"], &[Value::Int(1)]), Some(vec![a, b]));
    drop(r);

    // maintenance on property change, label removal, delete
    let mut w = db.begin_write().unwrap();
    w.set_node_property(a, "v", Value::Int(2)).unwrap();
    w.remove_labels(b, &[s("P")]).unwrap();
    w.delete_node(c).unwrap();
    w.set_node_property(d, "v", Value::Null).unwrap();
    assert_eq!(seek(&w, "P", &["v"], &[Value::Int(1)]), Some(vec![]));
    assert_eq!(seek(&w, "P", &["v"], &[Value::Int(2)]), Some(vec![a]));
    assert_eq!(seek(&w, "P", &["v"], &[Value::Float(1.5)]), Some(vec![]));
    assert_eq!(seek(&w, "P", &["v"], &["1".into()]), Some(vec![]));
    w.add_labels(b, &[s("P")]).unwrap();
    assert_eq!(seek(&w, "P", &["v"], &[Value::Int(1)]), Some(vec![b]));
    w.replace_node_properties(b, props(&[("v", Value::Int(2))]))
        .unwrap();
    assert_eq!(seek(&w, "P", &["v"], &[Value::Int(2)]), Some(vec![a, b]));
    w.commit().unwrap();

    let mut w = db.begin_write().unwrap();
    w.drop_schema("p_v").unwrap();
    assert_eq!(seek(&w, "P", &["v"], &[Value::Int(2)]), None);
    assert!(w.schema().unwrap().is_empty());
    assert!(w.drop_schema("p_v").is_err());
    w.commit().unwrap();
}

#[test]
fn composite_index() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    w.create_schema(index("ab", "N", &["a", "b"], false))
        .unwrap();
    let x = w
        .create_node(&[s("N")], props(&[("a", "ab".into()), ("b", "c".into())]))
        .unwrap();
    let _y = w
        .create_node(&[s("N")], props(&[("a", "a".into()), ("b", "bc".into())]))
        .unwrap();
    let _z = w
        .create_node(&[s("N")], props(&[("a", "ab".into())]))
        .unwrap();
    assert_eq!(
        seek(&w, "N", &["a", "b"], &["ab".into(), "c".into()]),
        Some(vec![x])
    );
    assert_eq!(seek(&w, "N", &["b", "a"], &["c".into(), "ab".into()]), None);
    let schema = w.schema().unwrap();
    assert_eq!(schema, vec![index("ab", "N", &["a", "b"], false)]);
    w.commit().unwrap();
}

#[test]
fn uniqueness_constraints() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    w.create_schema(index("u", "U", &["k"], true)).unwrap();
    let a = w
        .create_node(&[s("U")], props(&[("k", Value::Int(1))]))
        .unwrap();
    let err = w
        .create_node(&[s("U"), s("X")], props(&[("k", Value::Float(1.0))]))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ConstraintValidationFailed);
    assert!(err.message.contains("`U`"), "{}", err.message);
    assert!(err.message.contains("`k`"), "{}", err.message);
    // the failed create left nothing behind
    assert_eq!(w.count_nodes(None).unwrap(), 1);
    assert!(w.nodes_with_label("X").unwrap().is_empty());

    let b = w
        .create_node(&[s("U")], props(&[("k", Value::Int(2))]))
        .unwrap();
    assert_eq!(
        w.set_node_property(b, "k", Value::Int(1)).unwrap_err().code,
        ErrorCode::ConstraintValidationFailed
    );
    assert_eq!(w.node(b).unwrap().unwrap().properties["k"], Value::Int(2));
    // setting the same value on the same node is fine
    w.set_node_property(a, "k", Value::Int(1)).unwrap();
    let c = w.create_node(&[], props(&[("k", Value::Int(2))])).unwrap();
    assert_eq!(
        w.add_labels(c, &[s("U")]).unwrap_err().code,
        ErrorCode::ConstraintValidationFailed
    );
    assert!(w.node(c).unwrap().unwrap().labels.is_empty());
    // freeing a value makes it available
    w.delete_node(b).unwrap();
    assert_eq!(w.add_labels(c, &[s("U")]).unwrap(), 1);
    w.commit().unwrap();

    // creating a constraint over duplicate data fails without effects
    let mut w = db.begin_write().unwrap();
    w.create_node(&[s("D")], props(&[("k", "x".into())]))
        .unwrap();
    w.create_node(&[s("D")], props(&[("k", "x".into())]))
        .unwrap();
    let err = w.create_schema(index("d", "D", &["k"], true)).unwrap_err();
    assert_eq!(err.code, ErrorCode::ConstraintValidationFailed);
    assert_eq!(w.schema().unwrap().len(), 1);
    // duplicate rule / name
    assert!(w.create_schema(index("u", "Other", &["k"], false)).is_err());
    // an index may cover a uniqueness constraint's properties (as in Memgraph; gqlalchemy's
    // `Field(index=True, unique=True)` creates both), a second rule of the same kind may not
    w.create_schema(index("u2", "U", &["k"], false)).unwrap();
    assert!(w.create_schema(index("u3", "U", &["k"], true)).is_err());
    assert!(w.create_schema(index("u4", "U", &["k"], false)).is_err());
    w.commit().unwrap();
}

#[test]
fn all_property_kinds_roundtrip() {
    use graphward_core::temporal::*;
    let db = mem_db();
    let vals = vec![
        Value::Bool(true),
        Value::Int(i64::MIN),
        Value::Float(-0.0),
        Value::String("héllo".into()),
        Value::Bytes(vec![0, 1, 255]),
        Value::List(vec![]),
        Value::List(vec![Value::Int(1), Value::String("a".into())]),
        Value::Date(Date { days: -5 }),
        Value::Time(Time {
            nanos: 5,
            offset_seconds: -3600,
        }),
        Value::LocalTime(LocalTime { nanos: 7 }),
        Value::DateTime(DateTime {
            seconds: 1,
            nanos: 2,
            zone: Zone::Named("Europe/Stockholm".into()),
        }),
        Value::DateTime(DateTime {
            seconds: 1,
            nanos: 2,
            zone: Zone::Offset(7200),
        }),
        Value::LocalDateTime(LocalDateTime {
            seconds: -1,
            nanos: 3,
        }),
        Value::Duration(Duration {
            months: 1,
            days: 2,
            seconds: 3,
            nanos: 4,
        }),
        Value::Point(Point {
            srid: 7203,
            x: 1.0,
            y: 2.0,
            z: None,
        }),
        Value::Point(Point {
            srid: 4979,
            x: 1.0,
            y: 2.0,
            z: Some(3.0),
        }),
    ];
    let mut w = db.begin_write().unwrap();
    let mut m = Map::new();
    for (i, v) in vals.iter().enumerate() {
        m.insert(format!("p{i}"), v.clone());
    }
    let n = w.create_node(&[], m.clone()).unwrap();
    let a = w.create_node(&[], Map::new()).unwrap();
    let r = w.create_relationship(n, a, "T", m.clone()).unwrap();
    w.commit().unwrap();
    let rt = db.begin_read().unwrap();
    assert_eq!(rt.node(n).unwrap().unwrap().properties, m);
    assert_eq!(rt.relationship(r).unwrap().unwrap().properties, m);
    for v in &vals {
        let bytes = codec::encode_property_value("k", v).unwrap();
        assert_eq!(&codec::decode_property_value(&bytes).unwrap(), v);
    }
}

#[test]
fn seek_then_delete_then_relate_fails() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    w.create_schema(index("i", "N", &["id"], false)).unwrap();
    let a = w
        .create_node(&[s("N")], props(&[("id", Value::Int(1))]))
        .unwrap();
    let b = w
        .create_node(&[s("N")], props(&[("id", Value::Int(2))]))
        .unwrap();
    assert_eq!(seek(&w, "N", &["id"], &[Value::Int(1)]), Some(vec![a]));
    w.delete_node(a).unwrap();
    let err = w.create_relationship(a, b, "R", Map::new()).unwrap_err();
    assert_eq!(err.code, ErrorCode::EntityNotFound);
    let err = w
        .create_relationship(b, 12345, "R", Map::new())
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::EntityNotFound);
    w.create_relationship(b, b, "R", Map::new()).unwrap();
    w.commit().unwrap();
}

fn cmp_num(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    let f = |v: &Value| match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(x) => Some(*x),
        _ => None,
    };
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        _ => f(a)?.partial_cmp(&f(b)?),
    }
}

fn in_range(v: &Value, lo: std::ops::Bound<&Value>, hi: std::ops::Bound<&Value>) -> bool {
    use std::cmp::Ordering::*;
    use std::ops::Bound::*;
    let lo_ok = match lo {
        Unbounded => true,
        Included(b) => matches!(cmp_num(v, b), Some(Greater | Equal)),
        Excluded(b) => matches!(cmp_num(v, b), Some(Greater)),
    };
    let hi_ok = match hi {
        Unbounded => true,
        Included(b) => matches!(cmp_num(v, b), Some(Less | Equal)),
        Excluded(b) => matches!(cmp_num(v, b), Some(Less)),
    };
    lo_ok && hi_ok
}

#[test]
fn index_range_and_prefix_match_brute_force() {
    use std::ops::Bound::{self, *};
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    w.create_schema(index("v", "V", &["v"], false)).unwrap();
    let mut stored: Vec<(u64, Value)> = Vec::new();
    let samples: Vec<Value> = vec![
        Value::Int(-5),
        Value::Int(-1),
        Value::Int(0),
        Value::Int(1),
        Value::Int(2),
        Value::Int(3),
        Value::Int(i64::MAX),
        Value::Int(i64::MIN),
        Value::Float(-2.5),
        Value::Float(0.5),
        Value::Float(1.0),
        Value::Float(2.75),
        Value::Float(f64::INFINITY),
        Value::Float(f64::NEG_INFINITY),
        Value::Float(f64::NAN),
        Value::Float(-0.0),
        "".into(),
        "a".into(),
        "a\0".into(),
        "a\0b".into(),
        "ab".into(),
        "abc".into(),
        "b".into(),
        "é".into(),
        Value::Bool(true),
        Value::List(vec![Value::Int(1)]),
    ];
    for v in &samples {
        for _ in 0..2 {
            let id = w
                .create_node(&[s("V")], props(&[("v", v.clone())]))
                .unwrap();
            stored.push((id, v.clone()));
        }
    }
    let bounds: Vec<Value> = vec![
        Value::Int(-1),
        Value::Int(1),
        Value::Int(3),
        Value::Float(0.5),
        Value::Float(1.0),
        Value::Float(2.5),
        Value::Float(-3.0),
        Value::Float(f64::INFINITY),
        Value::Float(f64::NEG_INFINITY),
        Value::Int(i64::MAX),
        "".into(),
        "a".into(),
        "a\0".into(),
        "ab".into(),
        "b".into(),
    ];
    let mut kinds: Vec<Bound<&Value>> = vec![Unbounded];
    for b in &bounds {
        kinds.push(Included(b));
        kinds.push(Excluded(b));
    }
    for lo in &kinds {
        for hi in &kinds {
            let got = w.index_range("V", "v", *lo, *hi).unwrap();
            let both_unbounded = matches!((lo, hi), (Unbounded, Unbounded));
            if both_unbounded {
                assert_eq!(got, None);
                assert_eq!(w.index_range_count("V", "v", *lo, *hi, 5).unwrap(), None);
                continue;
            }
            let fam = |b: &Bound<&Value>| match b {
                Included(Value::String(_)) | Excluded(Value::String(_)) => Some(1),
                Included(_) | Excluded(_) => Some(0),
                Unbounded => None,
            };
            let mixed = matches!((fam(lo), fam(hi)), (Some(a), Some(b)) if a != b);
            let mut expected: Vec<u64> = stored
                .iter()
                .filter(|(_, v)| {
                    !mixed
                        && in_range(v, *lo, *hi)
                        && !matches!(v, Value::Bool(_) | Value::List(_))
                        && matches!(
                            (fam(lo).or(fam(hi)), v),
                            (Some(1), Value::String(_))
                                | (Some(0), Value::Int(_) | Value::Float(_))
                        )
                })
                .map(|(id, _)| *id)
                .collect();
            expected.sort();
            // Counted, up to a cap, as many as the range reads.
            let n = expected.len() as u64;
            for cap in [0, 1, 2, n.saturating_sub(1), n, n + 1, u64::MAX] {
                assert_eq!(
                    w.index_range_count("V", "v", *lo, *hi, cap).unwrap(),
                    Some(n.min(cap)),
                    "count {lo:?} .. {hi:?} up to {cap}"
                );
            }
            assert_eq!(got, Some(expected), "range {lo:?} .. {hi:?}");
        }
    }
    for p in ["", "a", "a\0", "ab", "b", "z", "é"] {
        let got = w.index_prefix("V", "v", p).unwrap();
        let expected: Vec<u64> = stored
            .iter()
            .filter(|(_, v)| matches!(v, Value::String(x) if x.starts_with(p)))
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(got, Some(expected), "prefix {p:?}");
    }
    assert_eq!(w.index_prefix("V", "nope", "a").unwrap(), None);
    assert_eq!(
        w.index_range("V", "v", Included(&Value::Bool(true)), Unbounded)
            .unwrap(),
        None
    );
    let one = Value::Int(1);
    let three = Value::Int(3);
    // 1, 1.0, 2, 2.75 (two nodes each)
    assert_eq!(
        w.index_range("V", "v", Included(&one), Excluded(&three))
            .unwrap()
            .map(|v| v.len()),
        Some(8)
    );
    // equality seeks still work with the string encoding
    assert_eq!(seek(&w, "V", &["v"], &["a\0".into()]).unwrap().len(), 2);
    w.commit().unwrap();
}
