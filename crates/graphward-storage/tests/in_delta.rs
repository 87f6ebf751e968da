#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Storage formats 3 and 5: edges go to a delta table first and are merged into the adjacency
//! chunks by later commits (from format 5 in both directions, the chunks shared by the nodes
//! of neighbouring ids). Reads must not tell the difference: these tests
//! drive enough relationships through the storage for the delta to pass its target size and be
//! merged (window after window, wrapping around the node ids) while relationships and nodes are
//! deleted and transactions aborted, and compare every read of the adjacency with a model
//! (nodes read in ascending, descending and random order from one snapshot).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use graphward_core::value::Map;
use graphward_storage::*;

mod common;
use common::TempDir;

/// A small deterministic generator (no dependencies).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const TYPES: [&str; 3] = ["A", "B", "C"];

/// rel id -> (src, dst, type index).
type Model = BTreeMap<u64, (u64, u64, usize)>;

fn ty(i: usize) -> String {
    TYPES[i].to_string()
}

/// Checks every node's adjacency, both ways, against the model: the same edges, in relationship
/// id order within one type, the degrees, and `has relationships` (via DETACH-less delete
/// refusing).
fn check(r: &impl GraphRead, nodes: &[u64], model: &Model) {
    let mut out: BTreeMap<u64, Vec<(u64, u64, usize)>> = BTreeMap::new();
    let mut inc: BTreeMap<u64, Vec<(u64, u64, usize)>> = BTreeMap::new();
    for (&rel, &(s, d, t)) in model {
        out.entry(s).or_default().push((rel, d, t));
        inc.entry(d).or_default().push((rel, s, t));
    }
    let empty = Vec::new();
    for &n in nodes {
        for (dir, want) in [
            (ExpandDir::Outgoing, out.get(&n).unwrap_or(&empty)),
            (ExpandDir::Incoming, inc.get(&n).unwrap_or(&empty)),
        ] {
            // One type at a time: exactly the model's edges, ascending.
            for (ti, _) in TYPES.iter().enumerate() {
                let got: Vec<(u64, u64)> = r
                    .expand(n, dir, &[ty(ti)])
                    .unwrap()
                    .iter()
                    .map(|e| (e.rel, e.other))
                    .collect();
                let exp: Vec<(u64, u64)> = want
                    .iter()
                    .filter(|e| e.2 == ti)
                    .map(|e| (e.0, e.1))
                    .collect();
                assert_eq!(got, exp, "node {n} {dir:?} type {ti}");
                assert_eq!(r.degree(n, dir, &[ty(ti)]).unwrap(), exp.len() as u64);
                let it: Vec<(u64, u64)> = r
                    .expand_iter(n, dir, &[ty(ti)])
                    .unwrap()
                    .map(|e| e.map(|e| (e.rel, e.other)).unwrap())
                    .collect();
                assert_eq!(it, exp, "node {n} {dir:?} type {ti} (iterator)");
            }
            // Any type, and two types: the same edges, grouped by type, ascending in each.
            for types in [vec![], vec![ty(2), ty(0)]] {
                let got = r.expand(n, dir, &types).unwrap();
                let mut by_type: Vec<(u64, u64)> = got.iter().map(|e| (e.rel, e.other)).collect();
                by_type.sort();
                let mut exp: Vec<(u64, u64)> = want
                    .iter()
                    .filter(|e| types.is_empty() || types.contains(&ty(e.2)))
                    .map(|e| (e.0, e.1))
                    .collect();
                exp.sort();
                assert_eq!(by_type, exp, "node {n} {dir:?} types {types:?}");
                let type_of = |rel: u64| model[&rel].2;
                for w in got.windows(2) {
                    let (a, b) = (&w[0], &w[1]);
                    if type_of(a.rel) == type_of(b.rel) {
                        assert!(
                            a.rel < b.rel,
                            "node {n} {dir:?}: {} before {}",
                            a.rel,
                            b.rel
                        );
                    }
                }
                assert_eq!(r.degree(n, dir, &types).unwrap(), exp.len() as u64);
            }
        }
        // Both directions: a self-loop once.
        let mut got: Vec<u64> = r
            .expand(n, ExpandDir::Both, &[])
            .unwrap()
            .iter()
            .map(|e| e.rel)
            .collect();
        got.sort();
        let exp: Vec<u64> = model
            .iter()
            .filter(|(_, &(s, d, _))| s == n || d == n)
            .map(|(&r, _)| r)
            .collect();
        assert_eq!(got, exp, "node {n} both");
        assert_eq!(r.degree(n, ExpandDir::Both, &[]).unwrap(), exp.len() as u64);
    }
    assert_eq!(r.count_relationships().unwrap(), model.len() as u64);
    let mut rels = r.all_relationships().unwrap();
    rels.sort();
    assert_eq!(rels, model.keys().copied().collect::<Vec<_>>());
}

/// The adjacency agrees with the relationship records, both ways (no model needed).
fn consistent(r: &impl GraphRead) {
    let mut n_out = 0u64;
    let mut n_in = 0u64;
    for rel in r.all_relationships().unwrap() {
        let rec = r.relationship(rel).unwrap().unwrap();
        assert!(r.node_exists(rec.src).unwrap() && r.node_exists(rec.dst).unwrap());
        let t = [rec.rel_type.clone()];
        assert!(r
            .expand(rec.src, ExpandDir::Outgoing, &t)
            .unwrap()
            .iter()
            .any(|e| e.rel == rel && e.other == rec.dst));
        assert!(r
            .expand(rec.dst, ExpandDir::Incoming, &t)
            .unwrap()
            .iter()
            .any(|e| e.rel == rel && e.other == rec.src));
    }
    for n in r.all_nodes().unwrap() {
        n_out += r.degree(n, ExpandDir::Outgoing, &[]).unwrap();
        n_in += r.degree(n, ExpandDir::Incoming, &[]).unwrap();
    }
    let rels = r.count_relationships().unwrap();
    assert_eq!(n_out, rels);
    assert_eq!(n_in, rels);
}

/// Thousands of relationships in many commits (the delta passes its target of 4096 and commits
/// merge it window by window), with deletes, self-loops, three types, DETACH DELETE and aborted
/// transactions; after every commit or abort every read agrees with the model, also after
/// reopening the file.
#[test]
fn delta_and_chunks_read_as_one() {
    let dir = TempDir::new("in-delta");
    let st = Storage::open(dir.path()).unwrap();
    st.create_database("g").unwrap();
    let db = st.database("g").unwrap();
    let mut rng = Lcg(7);
    let mut nodes: Vec<u64> = Vec::new();
    let mut model = Model::new();
    {
        let mut w = db.begin_write().unwrap();
        for _ in 0..120 {
            nodes.push(w.create_node(&["N".into()], Map::new()).unwrap());
        }
        w.commit().unwrap();
    }
    for round in 0..40u64 {
        let abort = round % 7 == 3;
        let mut w = db.begin_write().unwrap();
        let mut m = model.clone();
        let mut ns = nodes.clone();
        // Mostly new relationships (hub nodes get many), some deletes.
        for _ in 0..400 {
            let s = ns[rng.below(ns.len() as u64) as usize];
            let d = if rng.below(20) == 0 {
                s
            } else if rng.below(4) == 0 {
                ns[(rng.below(5)) as usize % ns.len()]
            } else {
                ns[rng.below(ns.len() as u64) as usize]
            };
            let t = rng.below(3) as usize;
            let id = w.create_relationship(s, d, &ty(t), Map::new()).unwrap();
            m.insert(id, (s, d, t));
        }
        for _ in 0..60 {
            if m.is_empty() {
                break;
            }
            let k = *m.keys().nth(rng.below(m.len() as u64) as usize).unwrap();
            w.delete_relationship(k).unwrap();
            m.remove(&k);
        }
        if round % 5 == 4 {
            // DETACH DELETE of one node: its relationships, then the node.
            let victim = ns.remove(rng.below(ns.len() as u64) as usize);
            let edges = w.expand(victim, ExpandDir::Both, &[]).unwrap();
            for e in &edges {
                w.delete_relationship(e.rel).unwrap();
                m.remove(&e.rel);
            }
            assert!(m.values().all(|&(s, d, _)| s != victim && d != victim));
            w.delete_node(victim).unwrap();
            let fresh = w.create_node(&["N".into()], Map::new()).unwrap();
            ns.push(fresh);
        }
        // Reads inside the writing transaction see its own changes.
        if round % 10 == 0 {
            check(&w, &ns, &m);
        }
        if abort {
            drop(w);
        } else {
            w.commit().unwrap();
            model = m;
            nodes = ns;
        }
        if round % 4 == 0 || abort {
            let r = db.begin_read().unwrap();
            check(&r, &nodes, &model);
        }
    }
    // A node with relationships is refused a plain delete, whichever table holds them.
    {
        let mut w = db.begin_write().unwrap();
        for &n in &nodes {
            let has = model.values().any(|&(s, d, _)| s == n || d == n);
            assert_eq!(w.delete_node(n).is_err(), has, "node {n}");
        }
        drop(w);
    }
    assert!(model.len() > 4096 * 2, "{}", model.len());
    let r = db.begin_read().unwrap();
    check(&r, &nodes, &model);
    consistent(&r);
    // The same snapshot read again in descending and in random node order (a read snapshot
    // keeps the adjacency chunk and the delta stretch it read last for the next read).
    let mut order = nodes.clone();
    order.reverse();
    check(&r, &order, &model);
    for i in (1..order.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    check(&r, &order, &model);
    drop(r);
    drop(db);
    drop(st);
    let st = Storage::open(dir.path()).unwrap();
    let db = st.database("g").unwrap();
    let r = db.begin_read().unwrap();
    check(&r, &nodes, &model);
    // A backup and a compaction copy the delta table too.
    let backup = TempDir::new("in-delta-backup");
    drop(r);
    let reports = st.backup_to(backup.path()).unwrap();
    assert!(reports.iter().all(|r| r.result.is_ok()));
    st.compact("g").unwrap();
    let r = st.database("g").unwrap().begin_read().unwrap();
    check(&r, &nodes, &model);
    drop(r);
    drop(db);
    drop(st);
    let restored = Storage::open(backup.path()).unwrap();
    check(
        &restored.database("g").unwrap().begin_read().unwrap(),
        &nodes,
        &model,
    );
    drop(restored);
    // In each direction both tables hold edges: the commits merged part of the delta into the
    // chunks, and the delta stayed near its target size.
    use redb::{ReadableDatabase, ReadableTableMetadata};
    let file = backup.path().join("databases").join("g.redb");
    let rdb = redb::Database::open(&file).unwrap();
    let rt = rdb.begin_read().unwrap();
    let len = |name: &str| {
        rt.open_table(redb::TableDefinition::<(u64, u32, u64), &[u8]>::new(name))
            .map(|t| t.len().unwrap())
            .unwrap_or(0)
    };
    for dir in ["out", "in"] {
        let delta = rt
            .open_table(redb::TableDefinition::<(u64, u32, u64), u64>::new(
                &format!("adj_{dir}_delta_v5"),
            ))
            .unwrap()
            .len()
            .unwrap();
        let chunks = len(&format!("adj_{dir}_v5"));
        assert!(chunks > 20, "{dir}: {chunks}");
        assert!(
            delta > 0 && delta <= 4096 + 2 * 400 + 1024,
            "{dir}: {delta}"
        );
    }
}

const CHILD_ENV: &str = "GRAPHWARD_IN_DELTA_CHILD_DIR";
const NODES: u64 = 500;
const PER_COMMIT: u64 = 1500;

fn child_loop(dir: &Path) {
    let st = Storage::open(dir).expect("open storage");
    if st.database("g").is_err() {
        st.create_database("g").expect("create db");
    }
    let db = st.database("g").expect("db");
    let mut ids = db.begin_read().expect("read").all_nodes().expect("nodes");
    if ids.is_empty() {
        let mut w = db.begin_write().expect("begin");
        for _ in 0..NODES {
            ids.push(w.create_node(&["N".into()], Map::new()).expect("node"));
        }
        w.commit().expect("commit");
    }
    let mut rng = Lcg(std::process::id() as u64);
    for n in 0u64.. {
        let mut w = db.begin_write().expect("begin");
        for _ in 0..PER_COMMIT {
            let s = ids[rng.below(ids.len() as u64) as usize];
            let d = ids[rng.below(ids.len() as u64) as usize];
            w.create_relationship(s, d, TYPES[rng.below(3) as usize], Map::new())
                .expect("rel");
        }
        let rels = w.all_relationships().expect("rels");
        for k in 0..20 {
            if let Some(&r) = rels.get((rng.below(rels.len() as u64) + k) as usize % rels.len()) {
                w.delete_relationship(r).expect("delete");
            }
        }
        w.commit().expect("commit");
        println!("committed {n}");
    }
}

#[test]
fn in_delta_child() {
    // Only does something when re-executed by `killed_mid_load_stays_consistent`.
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child_loop(Path::new(&dir));
    }
}

/// A child process loads relationships (the delta passes its target and commits merge it)
/// and is SIGKILLed mid-load, three times on the same directory; after each, the reopened
/// graph's adjacency agrees with its relationship records both ways, and it holds at least
/// the acknowledged commits.
#[test]
fn killed_mid_load_stays_consistent() {
    let dir = TempDir::new("in-delta-kill");
    let mut acked_total = 0u64;
    for (round, delay_us) in [0u64, 900, 3100].into_iter().enumerate() {
        let exe = std::env::current_exe().expect("current exe");
        let mut child = Command::new(exe)
            .args([
                "in_delta_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("child stdout");
        let started = Instant::now();
        let mut acked = 0u64;
        for line in BufReader::new(stdout).lines() {
            if line.expect("line").starts_with("committed ") {
                acked += 1;
                if acked >= 4 {
                    break;
                }
            }
            if started.elapsed() > Duration::from_secs(120) {
                break;
            }
        }
        std::thread::sleep(Duration::from_micros(delay_us));
        child.kill().expect("kill child");
        let _ = child.wait();
        assert!(
            acked >= 4,
            "round {round}: child acknowledged {acked} commits"
        );
        acked_total += acked;
        let st = Storage::open(dir.path()).expect("reopen");
        let db = st.database("g").expect("db");
        let r = db.begin_read().expect("read");
        assert!(
            r.count_relationships().unwrap() >= acked_total * (PER_COMMIT - 20),
            "round {round}"
        );
        consistent(&r);
    }
}
