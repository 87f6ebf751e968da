#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Storage format 5 keeps relationship records in blocks of consecutive ids (the newest in a
//! tail table until a block of them is complete). Reads must not tell: relationships are
//! created, changed (properties small and larger than a block's byte cap), and deleted in
//! many commits, some aborted, and every read of a relationship, the id scans and the pages
//! are compared with a model, in the write transaction and after each commit, and after a
//! reopen, a backup and a compaction.

use std::collections::BTreeMap;

use graphward_core::value::Map;
use graphward_core::Value;
use graphward_storage::*;

mod common;
use common::TempDir;

struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// rel id -> (src, dst, type, properties).
type Model = BTreeMap<u64, (u64, u64, String, Map)>;

fn props(rng: &mut Lcg) -> Map {
    let mut m = Map::new();
    match rng.below(4) {
        0 => {}
        1 => {
            m.insert("w".into(), Value::Int(rng.below(1000) as i64));
        }
        2 => {
            m.insert(
                "s".into(),
                Value::String("x".repeat(rng.below(300) as usize)),
            );
        }
        _ => {
            // Larger than a block's byte cap: a block of its own.
            m.insert("big".into(), Value::String("y".repeat(2500)));
        }
    }
    m
}

fn check(r: &impl GraphRead, model: &Model) {
    let ids: Vec<u64> = model.keys().copied().collect();
    assert_eq!(r.all_relationships().unwrap(), ids);
    let lazy: Vec<u64> = r.relationship_ids().unwrap().map(|e| e.unwrap()).collect();
    assert_eq!(lazy, ids);
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = r.relationships_page(after, 37).unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().copied();
        paged.extend(page);
    }
    assert_eq!(paged, ids);
    assert_eq!(r.count_relationships().unwrap(), model.len() as u64);
    for (id, (src, dst, ty, p)) in model {
        let rec = r.relationship(*id).unwrap().unwrap();
        assert_eq!(
            (rec.src, rec.dst, &rec.rel_type),
            (*src, *dst, ty),
            "rel {id}"
        );
        assert_eq!(&rec.properties, p, "rel {id}");
        for (k, v) in p.iter() {
            assert_eq!(r.relationship_property(*id, k).unwrap().as_ref(), Some(v));
        }
    }
    // Ids between, before and past the stored ones read as absent.
    let max = ids.last().copied().unwrap_or(0);
    for id in 0..max + 3 {
        if !model.contains_key(&id) {
            assert!(r.relationship(id).unwrap().is_none(), "rel {id}");
        }
    }
}

#[test]
fn blocks_and_tail_read_like_a_model() {
    let dir = TempDir::new("rel-blocks");
    let st = Storage::open(dir.path()).unwrap();
    st.create_database("g").unwrap();
    let db = st.database("g").unwrap();
    let mut rng = Lcg(7);
    let mut w = db.begin_write().unwrap();
    let nodes: Vec<u64> = (0..50)
        .map(|_| w.create_node(&["N".into()], Map::new()).unwrap())
        .collect();
    w.commit().unwrap();
    let mut model = Model::new();
    for round in 0..60 {
        let mut w = db.begin_write().unwrap();
        let mut next = model.clone();
        let n = 1 + rng.below(if round % 7 == 0 { 400 } else { 60 });
        for _ in 0..n {
            match rng.below(10) {
                0..=5 => {
                    let (a, b) = (nodes[rng.below(50) as usize], nodes[rng.below(50) as usize]);
                    let ty = ["A", "B"][rng.below(2) as usize].to_string();
                    let p = props(&mut rng);
                    let id = w.create_relationship(a, b, &ty, p.clone()).unwrap();
                    next.insert(id, (a, b, ty, p));
                }
                6 | 7 if !next.is_empty() => {
                    let k = *next
                        .keys()
                        .nth(rng.below(next.len() as u64) as usize)
                        .unwrap();
                    let p = props(&mut rng);
                    w.replace_relationship_properties(k, p.clone()).unwrap();
                    next.get_mut(&k).unwrap().3 = p;
                }
                8 if !next.is_empty() => {
                    let k = *next
                        .keys()
                        .nth(rng.below(next.len() as u64) as usize)
                        .unwrap();
                    w.delete_relationship(k).unwrap();
                    next.remove(&k);
                }
                _ => {}
            }
        }
        check(&w, &next);
        if round % 5 == 4 {
            drop(w); // aborted
        } else {
            w.commit().unwrap();
            model = next;
        }
        check(&db.begin_read().unwrap(), &model);
    }
    assert!(model.len() > 500, "{}", model.len());
    // A reopen, a compaction and a backup keep every record.
    st.compact("g").unwrap();
    check(&db.begin_read().unwrap(), &model);
    let backup = TempDir::new("rel-blocks-backup");
    assert!(st
        .backup_to(backup.path())
        .unwrap()
        .iter()
        .all(|r| r.result.is_ok()));
    drop(db);
    drop(st);
    let st = Storage::open(dir.path()).unwrap();
    check(&st.database("g").unwrap().begin_read().unwrap(), &model);
    let restored = Storage::open(backup.path()).unwrap();
    check(
        &restored.database("g").unwrap().begin_read().unwrap(),
        &model,
    );
}
