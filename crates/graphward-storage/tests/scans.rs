#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The lazy scans (`node_ids`, `relationship_ids`, `expand_iter`, `node_property_scan`) give
//! exactly what the collecting methods give, in read and write transactions (own writes
//! included), and the stored counts answer `label_count` / `node_count`.

use graphward_core::value::Map;
use graphward_core::Value;
use graphward_storage::*;

fn props(id: i64) -> Map {
    let mut m = Map::new();
    m.insert("id".to_string(), Value::Int(id));
    if id % 3 == 0 {
        m.insert("name".to_string(), Value::String(format!("n{id}")));
    }
    m
}

fn labels(i: i64) -> Vec<String> {
    let mut l = Vec::new();
    if i % 2 == 0 {
        l.push("Even".to_string());
    }
    // Sparse: forces the property scan to re-seek across gaps.
    if i % 37 == 0 {
        l.push("Sparse".to_string());
    }
    // Carried by most nodes (with other labels on some): read from the node table alone,
    // like `Even` (half of them), the records' labels checked in place.
    if i % 4 != 0 {
        l.push("Most".to_string());
    }
    l
}

/// Builds a graph; returns the node ids.
fn build(w: &mut WriteTxn, n: i64) -> Vec<NodeId> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(w.create_node(&labels(i), props(i)).unwrap());
    }
    for i in 0..n {
        let a = ids[i as usize];
        let b = ids[((i * 7 + 3) % n) as usize];
        w.create_relationship(a, b, if i % 2 == 0 { "A" } else { "B" }, Map::new())
            .unwrap();
        if i % 10 == 0 {
            // Self-loops.
            w.create_relationship(a, a, "A", Map::new()).unwrap();
        }
    }
    ids
}

fn check_same(g: &dyn GraphRead, ids: &[NodeId]) {
    let all: Vec<NodeId> = g.node_ids(None).unwrap().map(Result::unwrap).collect();
    assert_eq!(all, g.all_nodes().unwrap());
    for l in ["Even", "Sparse", "Most", "Missing"] {
        let lazy: Vec<NodeId> = g.node_ids(Some(l)).unwrap().map(Result::unwrap).collect();
        assert_eq!(lazy, g.nodes_with_label(l).unwrap(), "label {l}");
        assert_eq!(g.label_count(l).unwrap(), lazy.len() as u64);
    }
    assert_eq!(g.node_count().unwrap(), all.len() as u64);
    let rels: Vec<RelId> = g.relationship_ids().unwrap().map(Result::unwrap).collect();
    assert_eq!(rels, g.all_relationships().unwrap());
    for &id in ids.iter().step_by(7) {
        if !g.node_exists(id).unwrap() {
            continue;
        }
        for dir in [ExpandDir::Outgoing, ExpandDir::Incoming, ExpandDir::Both] {
            for types in [
                vec![],
                vec!["A".to_string()],
                vec!["B".to_string(), "A".to_string()],
                vec!["Z".to_string()],
            ] {
                let lazy: Vec<Edge> = g
                    .expand_iter(id, dir, &types)
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                assert_eq!(
                    lazy,
                    g.expand(id, dir, &types).unwrap(),
                    "{id} {dir:?} {types:?}"
                );
            }
        }
    }
    for label in [
        None,
        Some("Even"),
        Some("Sparse"),
        Some("Most"),
        Some("Missing"),
    ] {
        for key in ["id", "name", "nokey"] {
            let scan: Vec<(NodeId, Option<Value>)> = g
                .node_property_scan(label, key)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let ids = match label {
                None => g.all_nodes().unwrap(),
                Some(l) => g.nodes_with_label(l).unwrap(),
            };
            let expected: Vec<(NodeId, Option<Value>)> = ids
                .into_iter()
                .map(|id| (id, g.node_property(id, key).unwrap()))
                .collect();
            assert_eq!(scan, expected, "{label:?} {key}");
            // Page by page, each resuming after the last id of the one before.
            for size in [1, 7, 64] {
                let mut paged = Vec::new();
                let mut after = None;
                loop {
                    let page = g.node_property_page(label, key, after, size).unwrap();
                    assert!(page.len() <= size);
                    after = page.last().map(|(id, _)| *id);
                    let last = page.len() < size;
                    paged.extend(page);
                    if last {
                        break;
                    }
                }
                assert_eq!(paged, expected, "{label:?} {key} pages of {size}");
            }
        }
    }
}

#[test]
fn lazy_scans_agree_with_collecting_reads() {
    let st = Storage::open_in_memory().unwrap();
    st.create_database("g").unwrap();
    let db = st.database("g").unwrap();
    let mut w = db.begin_write().unwrap();
    let ids = build(&mut w, 500);
    // Own writes, before commit.
    check_same(&w, &ids);
    w.commit().unwrap();
    check_same(&db.begin_read().unwrap(), &ids);

    // Deletions and label changes leave gaps the scans must skip.
    let mut w = db.begin_write().unwrap();
    for &id in ids.iter().step_by(5) {
        for e in w.expand(id, ExpandDir::Both, &[]).unwrap() {
            let _ = w.delete_relationship(e.rel);
        }
        w.delete_node(id).unwrap();
    }
    w.remove_labels(ids[2], &["Even".to_string()]).unwrap();
    w.add_labels(ids[3], &["Sparse".to_string()]).unwrap();
    w.set_node_property(ids[4], "id", Value::Null).unwrap();
    check_same(&w, &ids);
    w.commit().unwrap();
    check_same(&db.begin_read().unwrap(), &ids);
}

#[test]
fn scans_stop_when_the_caller_stops() {
    let st = Storage::open_in_memory().unwrap();
    st.create_database("g").unwrap();
    let db = st.database("g").unwrap();
    let mut w = db.begin_write().unwrap();
    build(&mut w, 2000);
    w.commit().unwrap();
    let r = db.begin_read().unwrap();
    let first: Vec<NodeId> = r
        .node_ids(Some("Even"))
        .unwrap()
        .take(3)
        .map(Result::unwrap)
        .collect();
    assert_eq!(first, r.nodes_with_label("Even").unwrap()[..3].to_vec());
    assert_eq!(r.label_count("Even").unwrap(), 1000);
    assert_eq!(r.node_count().unwrap(), 2000);
}

/// `node_property_stats` (a page's totals as integers, read in place from the node blocks)
/// gives what adding up `node_property_page`'s items gives, for dense and sparse labels,
/// every node, integer, string and missing properties, pages that start anywhere, stop at
/// `until` or at `limit`, in read and write transactions, with gaps left by deletes.
#[test]
fn property_stats_add_up_the_page() {
    fn reference(
        g: &dyn GraphRead,
        label: Option<&str>,
        key: &str,
        after: Option<NodeId>,
        until: NodeId,
        limit: usize,
    ) -> PropertyStats {
        let mut st = PropertyStats::default();
        for (id, v) in g.node_property_page(label, key, after, limit).unwrap() {
            if id > until {
                break;
            }
            st.add_value(id, v.as_ref());
        }
        st
    }
    fn check(g: &dyn GraphRead, ids: &[NodeId]) {
        let (first, last) = (ids[0], *ids.last().unwrap());
        for label in [
            None,
            Some("Even"),
            Some("Sparse"),
            Some("Most"),
            Some("Nothing"),
        ] {
            for key in ["id", "name", "nokey"] {
                for after in [
                    None,
                    Some(first),
                    Some(first + 7),
                    Some(last - 3),
                    Some(last),
                ] {
                    for until in [first + 40, last - 1, last, u64::MAX] {
                        for limit in [0, 1, 5, 64, 1000] {
                            let got = g
                                .node_property_stats(label, key, after, until, limit)
                                .unwrap();
                            let want = reference(g, label, key, after, until, limit);
                            assert_eq!(
                                got, want,
                                "{label:?} {key} after {after:?} until {until} limit {limit}"
                            );
                        }
                    }
                }
            }
        }
    }
    let st = Storage::open_in_memory().unwrap();
    st.create_database("g").unwrap();
    let db = st.database("g").unwrap();
    let mut w = db.begin_write().unwrap();
    let ids = build(&mut w, 700);
    check(&w, &ids);
    w.commit().unwrap();
    check(&db.begin_read().unwrap(), &ids);
    let mut w = db.begin_write().unwrap();
    for &id in ids.iter().step_by(9) {
        for e in w.expand(id, ExpandDir::Both, &[]).unwrap() {
            let _ = w.delete_relationship(e.rel);
        }
        w.delete_node(id).unwrap();
    }
    w.set_node_property(ids[4], "id", Value::Float(1.5))
        .unwrap();
    w.set_node_property(ids[6], "id", Value::Int(i64::MAX))
        .unwrap();
    w.set_node_property(ids[8], "id", Value::Int(i64::MAX))
        .unwrap();
    check(&w, &ids);
    w.commit().unwrap();
    check(&db.begin_read().unwrap(), &ids);
}
