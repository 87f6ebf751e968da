#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The crash-durability test: a child process commits batches in a loop and acknowledges each
//! one on stdout after `commit` returns; the parent SIGKILLs it mid-load, reopens the storage
//! and checks that every acknowledged batch is complete and no partial batch exists.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use graphward_core::value::Map;
use graphward_core::Value;
use graphward_storage::*;

mod common;
use common::TempDir;

const CHILD_ENV: &str = "GRAPHWARD_DURABILITY_CHILD_DIR";
const BATCH: i64 = 100;

fn child_loop(dir: &Path) {
    let st = Storage::open(dir).expect("open storage");
    if st.database("g").is_err() {
        st.create_database("g").expect("create db");
    }
    let db = st.database("g").expect("db");
    {
        let mut w = db.begin_write().expect("begin");
        if w.schema().expect("schema").is_empty() {
            w.create_schema(SchemaDef {
                name: "batch_idx".into(),
                kind: SchemaKind::Index,
                label: "B".into(),
                properties: vec!["batch".into()],
            })
            .expect("schema");
        }
        w.commit().expect("commit");
    }
    // Continue numbering after the batches of earlier rounds (all complete by then).
    let start = db
        .begin_read()
        .expect("read")
        .count_nodes(Some("B"))
        .expect("count") as i64
        / BATCH;
    let mut prev: Option<u64> = None;
    for n in start.. {
        let mut w = db.begin_write().expect("begin");
        let mut first = None;
        for i in 0..BATCH {
            let mut p = Map::new();
            p.insert("batch".into(), Value::Int(n));
            p.insert("i".into(), Value::Int(i));
            p.insert("pad".into(), Value::String("x".repeat(200)));
            let id = w.create_node(&["B".into()], p).expect("create");
            if let Some(prev) = prev {
                if i % 10 == 0 {
                    w.create_relationship(prev, id, "NEXT", Map::new())
                        .expect("rel");
                }
            }
            first.get_or_insert(id);
            prev = Some(id);
        }
        w.commit().expect("commit");
        println!("committed {n}");
    }
}

#[test]
fn durability_child() {
    // Only does something when re-executed by `acknowledged_commits_survive_sigkill`.
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child_loop(Path::new(&dir));
    }
}

#[test]
fn acknowledged_commits_survive_sigkill() {
    let dir = TempDir::new("durability");
    // Several rounds on the same directory: crash, recover, write more, crash again. The kill
    // lands at a different moment after the last acknowledgement each round.
    let mut all_acked: Vec<i64> = Vec::new();
    for (round, delay_us) in [0u64, 700, 2300].into_iter().enumerate() {
        let acked = crash_round(dir.path(), delay_us);
        all_acked.extend(&acked);
        verify(dir.path(), &all_acked, round);
    }
}

/// Runs the child until it has acknowledged some commits, then SIGKILLs it.
fn crash_round(dir: &Path, delay_us: u64) -> Vec<i64> {
    let exe = std::env::current_exe().expect("current exe");
    let mut child = Command::new(exe)
        .args([
            "durability_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let mut acked: Vec<i64> = Vec::new();
    let started = Instant::now();
    let target = 30;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read line");
        if let Some(n) = line.strip_prefix("committed ") {
            acked.push(n.trim().parse().expect("batch number"));
            if acked.len() >= target {
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    std::thread::sleep(Duration::from_micros(delay_us));
    // SIGKILL, mid-transaction or mid-commit most likely.
    child.kill().expect("kill child");
    let status = child.wait().expect("wait child");
    assert!(!status.success(), "child should have been killed");
    assert!(
        acked.len() >= target,
        "child acknowledged only {} commits",
        acked.len()
    );
    acked
}

fn verify(dir: &Path, acked: &[i64], round: usize) {
    let st = Storage::open(dir).expect("reopen after crash");
    let db = st.database("g").expect("db");
    let r = db.begin_read().expect("read");
    let mut per_batch: BTreeMap<i64, i64> = BTreeMap::new();
    let ids = r.all_nodes().expect("all nodes");
    for id in &ids {
        let n = r.node(*id).expect("node").expect("exists");
        match n.properties.get("batch") {
            Some(Value::Int(b)) => *per_batch.entry(*b).or_default() += 1,
            other => panic!("node {id} has batch {other:?}"),
        }
    }
    for n in acked {
        assert_eq!(
            per_batch.get(n).copied(),
            Some(BATCH),
            "round {round}: acknowledged batch {n} incomplete"
        );
    }
    for (b, count) in &per_batch {
        assert_eq!(*count, BATCH, "round {round}: partial batch {b}");
        let seek = r
            .index_seek("B", &["batch".into()], &[Value::Int(*b)])
            .expect("seek")
            .expect("index exists");
        assert_eq!(seek.len() as i64, BATCH, "index entries of batch {b}");
    }
    assert_eq!(r.count_nodes(None).expect("count"), ids.len() as u64);
    assert_eq!(r.count_nodes(Some("B")).expect("count"), ids.len() as u64);
    // Relationships point at existing nodes and both adjacency directions agree.
    for rel in r.all_relationships().expect("rels") {
        let rec = r.relationship(rel).expect("rel").expect("exists");
        assert!(r.node_exists(rec.src).expect("src"));
        assert!(r.node_exists(rec.dst).expect("dst"));
        let inc = r
            .expand(rec.dst, ExpandDir::Incoming, &["NEXT".into()])
            .expect("expand");
        assert!(inc.iter().any(|e| e.rel == rel && e.other == rec.src));
    }
    // The storage is writable after recovery (and the write is rolled back again).
    drop(r);
    let mut w = db.begin_write().expect("write after recovery");
    w.create_node(&[], Map::new()).expect("create");
    w.abort().expect("abort");
}
