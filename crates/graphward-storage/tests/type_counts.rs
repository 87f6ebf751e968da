#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The relationship counts kept per type (`count_relationships_of_type`) are what counting
//! the relationships gives: inside a write transaction (its own creates and deletes), after
//! commits and aborts, after a reopen, and after a commit by a build that does not keep them
//! (simulated: the file's commit counter moved without them), which the next open recounts.

use std::collections::BTreeMap;

use graphward_core::value::Map;
use graphward_storage::*;

mod common;
use common::TempDir;

const TYPES: [&str; 3] = ["A", "B", "C"];

/// Counting by reading every relationship.
fn counted(r: &impl GraphRead) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for id in r.all_relationships().unwrap() {
        let rec = r.relationship(id).unwrap().unwrap();
        *m.entry(rec.rel_type).or_insert(0) += 1;
    }
    m
}

fn check(r: &impl GraphRead) {
    let want = counted(r);
    for t in TYPES.iter().chain(&["NEVER"]) {
        assert_eq!(
            r.count_relationships_of_type(t).unwrap(),
            want.get(*t).copied().unwrap_or(0),
            "type {t}"
        );
    }
}

/// Moves the file's commit counter as a commit by an older build would (it writes
/// relationships without moving the per-type counts).
fn commit_by_older_build(file: &std::path::Path) {
    use redb::ReadableTable;
    let db = redb::Database::open(file).unwrap();
    let w = db.begin_write().unwrap();
    {
        let mut meta = w
            .open_table(redb::TableDefinition::<&str, u64>::new("meta"))
            .unwrap();
        let seq = meta
            .get("commit_seq")
            .unwrap()
            .map(|g| g.value())
            .unwrap_or(0);
        meta.insert("commit_seq", seq + 1).unwrap();
    }
    w.commit().unwrap();
}

#[test]
fn type_counts_follow_creates_deletes_aborts_and_reopens() {
    let dir = TempDir::new("type-counts");
    let mut x = 99u64;
    let mut rnd = move |n: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % n
    };
    {
        let st = Storage::open(dir.path()).unwrap();
        st.create_database("g").unwrap();
        let db = st.database("g").unwrap();
        let mut nodes = Vec::new();
        let mut w = db.begin_write().unwrap();
        for _ in 0..50 {
            nodes.push(w.create_node(&[], Map::new()).unwrap());
        }
        w.commit().unwrap();
        let mut rels: Vec<RelId> = Vec::new();
        for round in 0..12 {
            let mut w = db.begin_write().unwrap();
            let mut mine = rels.clone();
            for _ in 0..300 {
                let (a, b) = (nodes[rnd(50) as usize], nodes[rnd(50) as usize]);
                let t = TYPES[rnd(3) as usize];
                mine.push(w.create_relationship(a, b, t, Map::new()).unwrap());
            }
            for _ in 0..100 {
                let i = rnd(mine.len() as u64) as usize;
                w.delete_relationship(mine.swap_remove(i)).unwrap();
            }
            check(&w);
            if round % 4 == 3 {
                drop(w);
            } else {
                w.commit().unwrap();
                rels = mine;
            }
            check(&db.begin_read().unwrap());
        }
    }
    let file = dir.path().join("databases").join("g.redb");
    // Reopened: the kept counts are read as they are.
    {
        let st = Storage::open(dir.path()).unwrap();
        check(&st.database("g").unwrap().begin_read().unwrap());
    }
    // A commit the counts did not follow: recounted on open, then kept again.
    commit_by_older_build(&file);
    {
        let st = Storage::open(dir.path()).unwrap();
        let db = st.database("g").unwrap();
        check(&db.begin_read().unwrap());
        let mut w = db.begin_write().unwrap();
        let a = w.create_node(&[], Map::new()).unwrap();
        w.create_relationship(a, a, "A", Map::new()).unwrap();
        check(&w);
        w.commit().unwrap();
        check(&db.begin_read().unwrap());
    }
}
