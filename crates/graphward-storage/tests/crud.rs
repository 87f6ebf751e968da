#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use graphward_core::value::Map;
use graphward_core::{ErrorCode, Value};
use graphward_storage::*;

mod common;
use common::{mem_db, props, s, TempDir};

#[test]
fn create_read_update_delete() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    let a = w
        .create_node(
            &[s("Person"), s("Person"), s("Admin")],
            props(&[
                ("name", "Ann".into()),
                ("age", Value::Int(30)),
                ("x", Value::Null),
            ]),
        )
        .unwrap();
    let b = w.create_node(&[s("Person")], Map::new()).unwrap();
    let r = w
        .create_relationship(a, b, "KNOWS", props(&[("since", Value::Int(2020))]))
        .unwrap();
    let n = w.node(a).unwrap().unwrap();
    let mut labels = n.labels.clone();
    labels.sort();
    assert_eq!(labels, vec![s("Admin"), s("Person")]);
    assert_eq!(n.properties.len(), 2);
    assert_eq!(n.properties["name"], Value::from("Ann"));
    let rel = w.relationship(r).unwrap().unwrap();
    assert_eq!((rel.src, rel.dst, rel.rel_type.as_str()), (a, b, "KNOWS"));
    assert_eq!(rel.properties["since"], Value::Int(2020));

    assert_eq!(w.count_nodes(None).unwrap(), 2);
    assert_eq!(w.count_nodes(Some("Person")).unwrap(), 2);
    assert_eq!(w.count_nodes(Some("Admin")).unwrap(), 1);
    assert_eq!(w.count_nodes(Some("Nope")).unwrap(), 0);
    assert_eq!(w.nodes_with_label("Person").unwrap(), vec![a, b]);

    // expansion: each edge carries its type's token id, which the graph names
    let out = w.expand(a, ExpandDir::Outgoing, &[]).unwrap();
    let out_type = out[0].type_id;
    assert_eq!(w.type_name(out_type).unwrap().as_deref(), Some("KNOWS"));
    assert_eq!(
        out,
        vec![Edge {
            rel: r,
            other: b,
            outgoing: true,
            type_id: out_type,
        }]
    );
    let inc = w.expand(b, ExpandDir::Incoming, &[s("KNOWS")]).unwrap();
    assert_eq!(
        inc,
        vec![Edge {
            rel: r,
            other: a,
            outgoing: false,
            type_id: out_type,
        }]
    );
    assert!(w
        .expand(b, ExpandDir::Incoming, &[s("OTHER")])
        .unwrap()
        .is_empty());
    assert_eq!(w.expand(b, ExpandDir::Both, &[]).unwrap().len(), 1);
    w.commit().unwrap();

    let mut w = db.begin_write().unwrap();
    w.set_node_property(a, "age", Value::Int(31)).unwrap();
    w.set_node_property(a, "name", Value::Null).unwrap();
    w.set_relationship_property(r, "w", Value::Float(0.5))
        .unwrap();
    assert_eq!(w.add_labels(b, &[s("Admin"), s("Person")]).unwrap(), 1);
    assert_eq!(w.remove_labels(a, &[s("Admin"), s("Ghost")]).unwrap(), 1);
    assert_eq!(w.count_nodes(Some("Admin")).unwrap(), 1);
    let err = w.delete_node(a).unwrap_err();
    assert_eq!(err.code, ErrorCode::ConstraintValidationFailed);
    assert_eq!(err.detail.as_deref(), Some("DeleteConnectedNode"));
    w.commit().unwrap();

    let rt = db.begin_read().unwrap();
    let n = rt.node(a).unwrap().unwrap();
    assert_eq!(n.labels, vec![s("Person")]);
    assert_eq!(n.properties, props(&[("age", Value::Int(31))]));
    assert_eq!(
        rt.relationship(r).unwrap().unwrap().properties,
        props(&[("since", Value::Int(2020)), ("w", Value::Float(0.5))])
    );
    let mut l = rt.labels().unwrap();
    l.sort();
    assert_eq!(l, vec![s("Admin"), s("Person")]);
    assert_eq!(rt.relationship_types().unwrap(), vec![s("KNOWS")]);
    drop(rt);

    let mut w = db.begin_write().unwrap();
    w.delete_relationship(r).unwrap();
    w.delete_node(a).unwrap();
    w.replace_node_properties(b, props(&[("k", Value::Bool(true))]))
        .unwrap();
    assert!(w.node(a).unwrap().is_none());
    assert!(w.relationship(r).unwrap().is_none());
    assert_eq!(w.all_nodes().unwrap(), vec![b]);
    assert!(w.all_relationships().unwrap().is_empty());
    assert_eq!(w.count_nodes(None).unwrap(), 1);
    assert_eq!(w.count_nodes(Some("Person")).unwrap(), 1);
    w.commit().unwrap();
    let rt = db.begin_read().unwrap();
    assert_eq!(rt.count_nodes(None).unwrap(), 1);
    assert_eq!(rt.count_nodes(Some("Person")).unwrap(), 1);
    assert_eq!(rt.count_nodes(Some("Admin")).unwrap(), 1);
    assert!(rt.expand(b, ExpandDir::Both, &[]).unwrap().is_empty());
}

#[test]
fn self_loop_appears_once_for_both() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    let a = w.create_node(&[], Map::new()).unwrap();
    let r = w.create_relationship(a, a, "SELF", Map::new()).unwrap();
    let both = w.expand(a, ExpandDir::Both, &[]).unwrap();
    let out_type = both[0].type_id;
    assert_eq!(w.type_name(out_type).unwrap().as_deref(), Some("SELF"));
    assert_eq!(
        both,
        vec![Edge {
            rel: r,
            other: a,
            outgoing: true,
            type_id: out_type,
        }]
    );
    assert_eq!(w.expand(a, ExpandDir::Incoming, &[]).unwrap().len(), 1);
    w.commit().unwrap();
}

#[test]
fn invalid_property_types_rejected() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    let err = w
        .create_node(&[], props(&[("m", Value::Map(Map::new()))]))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::TypeError);
    assert_eq!(err.detail.as_deref(), Some("InvalidPropertyType"));
    let a = w.create_node(&[], Map::new()).unwrap();
    let err = w
        .set_node_property(a, "l", Value::List(vec![Value::Int(1), Value::Null]))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::TypeError);
    // still usable after a client error
    w.set_node_property(
        a,
        "l",
        Value::List(vec![Value::Int(1), Value::from("x"), Value::Float(2.5)]),
    )
    .unwrap();
    let err = w.create_relationship(a, 999, "R", Map::new()).unwrap_err();
    assert_eq!(err.code, ErrorCode::EntityNotFound);
    w.commit().unwrap();
}

#[test]
fn snapshot_isolation_and_abort() {
    let db = mem_db();
    let before = db.begin_read().unwrap();
    let mut w = db.begin_write().unwrap();
    let a = w.create_node(&[s("L")], Map::new()).unwrap();
    w.commit().unwrap();
    assert!(before.node(a).unwrap().is_none());
    assert_eq!(before.count_nodes(None).unwrap(), 0);
    assert!(before.nodes_with_label("L").unwrap().is_empty());
    let after = db.begin_read().unwrap();
    assert!(after.node(a).unwrap().is_some());

    let mut w = db.begin_write().unwrap();
    let b = w.create_node(&[s("NewLabel")], Map::new()).unwrap();
    w.set_node_property(a, "p", Value::Int(1)).unwrap();
    w.abort().unwrap();
    let mut w = db.begin_write().unwrap();
    assert!(w.node(b).unwrap().is_none());
    assert!(w.node(a).unwrap().unwrap().properties.is_empty());
    assert!(!w.labels().unwrap().contains(&s("NewLabel")));
    // dropping without commit aborts too
    w.create_node(&[], Map::new()).unwrap();
    drop(w);
    let r = db.begin_read().unwrap();
    assert_eq!(r.count_nodes(None).unwrap(), 1);
}

#[test]
fn txns_are_send() {
    fn is_send<T: Send>(_: &T) {}
    let db = mem_db();
    let r = db.begin_read().unwrap();
    is_send(&r);
    let w = db.begin_write().unwrap();
    is_send(&w);
    let h = std::thread::spawn(move || {
        let mut w = w;
        let id = w.create_node(&[s("T")], Map::new()).unwrap();
        w.commit().unwrap();
        id
    });
    let id = h.join().unwrap();
    assert!(db.begin_read().unwrap().node(id).unwrap().is_some());
    assert!(r.node(id).unwrap().is_none());
}

#[test]
fn database_catalog() {
    let st = Storage::open_in_memory().unwrap();
    st.create_database("Graph1").unwrap();
    assert_eq!(
        st.create_database("graph1").unwrap_err().code,
        ErrorCode::DatabaseExists
    );
    assert!(st.create_database("1bad").is_err());
    assert!(st.create_database("bad/name").is_err());
    assert!(st.create_database("").is_err());
    assert_eq!(st.database_names(), vec![s("graph1")]);
    assert!(st.database("GRAPH1").is_ok());
    assert_eq!(
        st.database("nope").unwrap_err().code,
        ErrorCode::DatabaseNotFound
    );
    st.drop_database("graph1").unwrap();
    assert_eq!(
        st.drop_database("graph1").unwrap_err().code,
        ErrorCode::DatabaseNotFound
    );
    assert!(st.database_names().is_empty());
}

#[test]
fn reopen_keeps_data() {
    let dir = TempDir::new("reopen");
    let (a, r);
    {
        let st = Storage::open(dir.path()).unwrap();
        st.create_database("g").unwrap();
        st.create_database("other").unwrap();
        let db = st.database("g").unwrap();
        let mut w = db.begin_write().unwrap();
        a = w
            .create_node(&[s("P")], props(&[("name", "x".into())]))
            .unwrap();
        r = w.create_relationship(a, a, "R", Map::new()).unwrap();
        w.create_schema(SchemaDef {
            name: s("p_name"),
            kind: SchemaKind::Unique,
            label: s("P"),
            properties: vec![s("name")],
        })
        .unwrap();
        w.commit().unwrap();
        st.drop_database("other").unwrap();
    }
    let st = Storage::open(dir.path()).unwrap();
    assert_eq!(st.database_names(), vec![s("g")]);
    let db = st.database("g").unwrap();
    let rt = db.begin_read().unwrap();
    assert_eq!(rt.node(a).unwrap().unwrap().labels, vec![s("P")]);
    assert_eq!(rt.relationship(r).unwrap().unwrap().rel_type, "R");
    assert_eq!(rt.schema().unwrap().len(), 1);
    assert_eq!(
        rt.index_seek("P", &[s("name")], &["x".into()]).unwrap(),
        Some(vec![a])
    );
    drop(rt);
    // ids keep counting up after reopen
    let mut w = db.begin_write().unwrap();
    let b = w.create_node(&[], Map::new()).unwrap();
    assert!(b > a);
    let err = w
        .create_node(&[s("P")], props(&[("name", "x".into())]))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ConstraintValidationFailed);
    w.commit().unwrap();
}

#[test]
fn cheap_accessors() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    let a = w
        .create_node(
            &[s("A"), s("B")],
            props(&[
                ("s", "str".into()),
                ("l", Value::List(vec![Value::Int(1), "x".into()])),
                ("i", Value::Int(7)),
            ]),
        )
        .unwrap();
    let b = w.create_node(&[], Map::new()).unwrap();
    let r1 = w
        .create_relationship(a, b, "T", props(&[("w", Value::Int(3))]))
        .unwrap();
    w.create_relationship(a, a, "U", Map::new()).unwrap();
    w.create_relationship(b, a, "T", Map::new()).unwrap();
    {
        let g: &dyn GraphRead = &w;
        assert!(g.node_exists(a).unwrap());
        assert!(!g.node_exists(999).unwrap());
        assert_eq!(g.node_property(a, "i").unwrap(), Some(Value::Int(7)));
        assert_eq!(g.node_property(a, "s").unwrap(), Some("str".into()));
        assert_eq!(g.node_property(a, "nope").unwrap(), None);
        assert_eq!(g.node_property(999, "i").unwrap(), None);
        let mut l = g.node_labels(a).unwrap().unwrap();
        l.sort();
        assert_eq!(l, vec![s("A"), s("B")]);
        assert_eq!(g.node_labels(999).unwrap(), None);
        assert_eq!(
            g.relationship_property(r1, "w").unwrap(),
            Some(Value::Int(3))
        );
        assert_eq!(g.degree(a, ExpandDir::Both, &[]).unwrap(), 3);
        assert_eq!(g.degree(a, ExpandDir::Outgoing, &[s("T")]).unwrap(), 1);
        assert_eq!(g.degree(a, ExpandDir::Incoming, &[]).unwrap(), 2);
        assert_eq!(g.degree(a, ExpandDir::Both, &[s("X")]).unwrap(), 0);
        assert_eq!(g.count_relationships().unwrap(), 3);
    }
    w.commit().unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(r.count_relationships().unwrap(), 3);
    assert_eq!(
        r.node_property(a, "l").unwrap(),
        Some(Value::List(vec![Value::Int(1), "x".into()]))
    );
    assert!(db.try_begin_write().unwrap().is_some());
    let w = db.begin_write().unwrap();
    assert!(db.try_begin_write().unwrap().is_none());
    drop(w);
}

#[test]
fn txns_outlive_storage_handle() {
    let dir = TempDir::new("outlive");
    let st = Storage::open(dir.path()).unwrap();
    st.create_database("g").unwrap();
    let db = st.database("g").unwrap();
    let mut w = db.begin_write().unwrap();
    let a = w.create_node(&[], Map::new()).unwrap();
    w.commit().unwrap();
    let r = db.begin_read().unwrap();
    let w = db.begin_write().unwrap();
    drop(db);
    drop(st);
    assert!(r.node(a).unwrap().is_some());
    w.commit().unwrap();
    drop(r);
    // and the files can be reopened afterwards
    let st = Storage::open(dir.path()).unwrap();
    assert!(st
        .database("g")
        .unwrap()
        .begin_read()
        .unwrap()
        .node(a)
        .unwrap()
        .is_some());
}

#[test]
fn clean_write_txn_commit_is_noop() {
    let db = mem_db();
    let w = db.begin_write().unwrap();
    w.commit().unwrap();
    let mut w = db.begin_write().unwrap();
    let a = w.create_node(&[s("A")], Map::new()).unwrap();
    w.commit().unwrap();
    let w = db.begin_write().unwrap();
    assert!(w.node(a).unwrap().is_some());
    assert_eq!(w.count_nodes(Some("A")).unwrap(), 1);
    w.commit().unwrap();
    // a failed write still counts as a write (commit goes through, nothing changed)
    let mut w = db.begin_write().unwrap();
    assert!(w.set_node_property(999, "x", Value::Int(1)).is_err());
    w.commit().unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(r.count_nodes(None).unwrap(), 1);
    assert_eq!(r.labels().unwrap(), vec![s("A")]);
}

#[test]
fn paged_scans() {
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    let mut ids = Vec::new();
    for i in 0..25 {
        let labels = if i % 2 == 0 { vec![s("E")] } else { vec![] };
        ids.push(w.create_node(&labels, Map::new()).unwrap());
    }
    for i in 0..10 {
        w.create_relationship(ids[i], ids[i + 1], "R", Map::new())
            .unwrap();
    }
    w.delete_node(ids[24]).unwrap();
    let g: &dyn GraphRead = &w;
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = g.nodes_page(None, after, 7).unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 7);
        after = page.last().copied();
        seen.extend(page);
    }
    assert_eq!(seen, g.all_nodes().unwrap());
    let evens = g.nodes_page(Some("E"), Some(ids[3]), 3).unwrap();
    assert_eq!(evens, vec![ids[4], ids[6], ids[8]]);
    assert!(g.nodes_page(Some("Nope"), None, 3).unwrap().is_empty());
    assert!(g.nodes_page(None, Some(u64::MAX), 3).unwrap().is_empty());
    assert!(g.nodes_page(None, None, 0).unwrap().is_empty());
    let rels = g.relationships_page(None, 4).unwrap();
    assert_eq!(rels.len(), 4);
    let rest = g.relationships_page(rels.last().copied(), 100).unwrap();
    assert_eq!(rest.len(), 6);
}

/// A node with many relationships (adjacency split over several chunks, labels over several
/// label chunks): expand, degree and label scans agree with a plain model through creates and
/// deletes (including the first and last edge of chunks), and the node can be deleted once its
/// relationships are gone.
#[test]
fn many_relationships_and_labels_agree_with_a_model() {
    use std::collections::BTreeMap;
    let db = mem_db();
    let mut w = db.begin_write().unwrap();
    let hub = w.create_node(&[s("Hub")], Map::new()).unwrap();
    let mut others = Vec::new();
    for i in 0..3000u64 {
        let labels = if i % 3 == 0 { vec![s("T")] } else { vec![] };
        others.push(w.create_node(&labels, Map::new()).unwrap());
    }
    // model: rel -> (other, outgoing, type)
    let mut model: BTreeMap<u64, (u64, bool, String)> = BTreeMap::new();
    for (i, o) in others.iter().enumerate().take(700) {
        let t = if i % 4 == 0 { "A" } else { "B" };
        let (src, dst, out) = if i % 5 == 0 {
            (*o, hub, false)
        } else {
            (hub, *o, true)
        };
        let r = w.create_relationship(src, dst, t, Map::new()).unwrap();
        model.insert(r, (*o, out, t.to_string()));
    }
    let selfloop = w.create_relationship(hub, hub, "A", Map::new()).unwrap();
    w.commit().unwrap();
    let check = |db: &Database, model: &BTreeMap<u64, (u64, bool, String)>, self_loop: bool| {
        let r = db.begin_read().unwrap();
        for (dir, types) in [
            (ExpandDir::Outgoing, vec![]),
            (ExpandDir::Incoming, vec![s("A")]),
            (ExpandDir::Both, vec![s("B")]),
            (ExpandDir::Both, vec![]),
        ] {
            let mut got: Vec<(u64, u64, bool)> = r
                .expand(hub, dir, &types)
                .unwrap()
                .into_iter()
                .map(|e| (e.rel, e.other, e.outgoing))
                .collect();
            got.sort();
            let mut want: Vec<(u64, u64, bool)> = model
                .iter()
                .filter(|(_, (_, out, t))| {
                    (types.is_empty() || types.contains(t))
                        && match dir {
                            ExpandDir::Outgoing => *out,
                            ExpandDir::Incoming => !*out,
                            ExpandDir::Both => true,
                        }
                })
                .map(|(rel, (o, out, _))| (*rel, *o, *out))
                .collect();
            if self_loop && (types.is_empty() || types.contains(&s("A"))) {
                want.push((selfloop, hub, dir != ExpandDir::Incoming));
            }
            want.sort();
            assert_eq!(got, want, "{dir:?} {types:?}");
            assert_eq!(r.degree(hub, dir, &types).unwrap(), want.len() as u64);
        }
    };
    check(&db, &model, true);
    // Delete every third relationship, then all of one type, checking as we go.
    let mut w = db.begin_write().unwrap();
    let ids: Vec<u64> = model.keys().copied().collect();
    for (k, rel) in ids.iter().enumerate() {
        if k % 3 == 0 || k == 128 || k == 129 || k == 255 {
            w.delete_relationship(*rel).unwrap();
            model.remove(rel);
        }
    }
    w.commit().unwrap();
    check(&db, &model, true);
    let mut w = db.begin_write().unwrap();
    for (rel, (_, _, t)) in model.clone() {
        if t == "B" {
            w.delete_relationship(rel).unwrap();
            model.remove(&rel);
        }
    }
    w.commit().unwrap();
    check(&db, &model, true);
    // Labels over several chunks: remove some, count and scan agree.
    let mut w = db.begin_write().unwrap();
    let mut t_nodes: Vec<u64> = others.iter().step_by(3).copied().collect();
    for n in t_nodes.clone().iter().step_by(2) {
        w.remove_labels(*n, &[s("T")]).unwrap();
        t_nodes.retain(|x| x != n);
    }
    w.add_labels(others[1], &[s("T")]).unwrap();
    t_nodes.push(others[1]);
    t_nodes.sort();
    w.commit().unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(r.nodes_with_label("T").unwrap(), t_nodes);
    assert_eq!(r.count_nodes(Some("T")).unwrap(), t_nodes.len() as u64);
    assert_eq!(
        r.nodes_page(Some("T"), Some(t_nodes[10]), 5).unwrap(),
        t_nodes[11..16].to_vec()
    );
    drop(r);
    // The hub goes once its relationships are gone.
    let mut w = db.begin_write().unwrap();
    assert!(w.delete_node(hub).is_err());
    for rel in model.keys() {
        w.delete_relationship(*rel).unwrap();
    }
    assert!(w.delete_node(hub).is_err());
    w.delete_relationship(selfloop).unwrap();
    w.delete_node(hub).unwrap();
    w.commit().unwrap();
    check(&db, &BTreeMap::new(), false);
}

/// Read transactions that begin while nothing commits share one snapshot; a read that
/// begins after a commit returned sees it, while the reads begun before keep theirs; the
/// shared snapshot does not hold up a compaction.
#[test]
fn a_read_begun_after_a_commit_sees_it_and_older_reads_keep_theirs() {
    let dir = TempDir::new("snapshots");
    let st = Storage::open(dir.path()).unwrap();
    st.create_database("g").unwrap();
    let db = st.database("g").unwrap();
    let r0 = db.begin_read().unwrap();
    let r1 = db.try_begin_read().unwrap().unwrap();
    assert_eq!(r1.commit_seq().unwrap(), r0.commit_seq().unwrap());
    let mut w = db.begin_write().unwrap();
    w.create_node(&[s("A")], Map::new()).unwrap();
    w.commit().unwrap();
    let r2 = db.begin_read().unwrap();
    let r3 = db.try_begin_read().unwrap().unwrap();
    for r in [&r0, &r1] {
        assert_eq!(r.count_nodes(None).unwrap(), 0);
    }
    for r in [&r2, &r3] {
        assert_eq!(r.count_nodes(None).unwrap(), 1);
        assert_eq!(r.nodes_with_label("A").unwrap().len(), 1);
        assert!(r.commit_seq().unwrap() > r0.commit_seq().unwrap());
    }
    // A write transaction that commits nothing changes nothing.
    db.begin_write().unwrap().commit().unwrap();
    assert_eq!(db.begin_read().unwrap().count_nodes(None).unwrap(), 1);
    drop((r0, r1, r2, r3));
    let (_, _) = st.compact("g").unwrap();
    assert_eq!(db.begin_read().unwrap().count_nodes(None).unwrap(), 1);

    // Under concurrent commits: a read begun after a commit returned includes it.
    let db = std::sync::Arc::new(db);
    let (tx, rx) = std::sync::mpsc::channel::<u64>();
    let writer = {
        let db = db.clone();
        std::thread::spawn(move || {
            for _ in 0..200 {
                let mut w = db.begin_write().unwrap();
                w.create_node(&[s("B")], Map::new()).unwrap();
                let seq = w.commit_seq();
                w.commit().unwrap();
                tx.send(seq + 1).unwrap();
            }
        })
    };
    let mut last = 0;
    for seq in rx {
        let r = db.begin_read().unwrap();
        let now = r.commit_seq().unwrap();
        assert!(now >= seq && now >= last, "{now} < {seq} or {last}");
        last = now;
        assert!(r.count_nodes(Some("B")).unwrap() >= 1);
    }
    writer.join().unwrap();
    assert_eq!(
        db.begin_read().unwrap().count_nodes(Some("B")).unwrap(),
        200
    );
}
