//! Load benchmark through the traits (ignored by default):
//! `cargo test --release -p graphward-storage --test bench -- --ignored --nocapture`
//! Sizes via GW_BENCH_NODES / GW_BENCH_RELS / GW_BENCH_BATCH.

use std::time::Instant;

use graphward_core::value::Map;
use graphward_core::Value;
use graphward_storage::*;

mod common;
use common::TempDir;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rel_endpoints(i: u64, n: u64) -> (u64, u64) {
    let x = i
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (i % n, (x >> 33) % n)
}

#[test]
#[ignore]
fn load_and_hop() {
    let nodes = env_or("GW_BENCH_NODES", 1_000_000);
    let rels = env_or("GW_BENCH_RELS", 2_000_000);
    let batch = env_or("GW_BENCH_BATCH", 10_000).max(1);
    let dir = TempDir::new("bench");
    let st = Storage::open(dir.path()).unwrap();
    st.create_database("bench").unwrap();
    let db = st.database("bench").unwrap();
    let label = vec!["N".to_string()];
    let key = vec!["id".to_string()];
    {
        let mut w = db.begin_write().unwrap();
        w.create_schema(SchemaDef {
            name: "n_id".into(),
            kind: SchemaKind::Unique,
            label: "N".into(),
            properties: key.clone(),
        })
        .unwrap();
        w.commit().unwrap();
    }

    let t0 = Instant::now();
    let mut s = 0;
    while s < nodes {
        let mut w = db.begin_write().unwrap();
        for i in s..(s + batch).min(nodes) {
            let mut p = Map::new();
            p.insert("id".into(), Value::Int(i as i64));
            w.create_node(&label, p).unwrap();
        }
        w.commit().unwrap();
        s += batch;
    }
    let nodes_s = t0.elapsed().as_secs_f64();

    let t1 = Instant::now();
    let mut commit_s = 0.0;
    let mut s = 0;
    while s < rels {
        let mut w = db.begin_write().unwrap();
        for i in s..(s + batch).min(rels) {
            let (a, b) = rel_endpoints(i, nodes);
            let a = w
                .index_seek("N", &key, &[Value::Int(a as i64)])
                .unwrap()
                .unwrap();
            let b = w
                .index_seek("N", &key, &[Value::Int(b as i64)])
                .unwrap()
                .unwrap();
            w.create_relationship(a[0], b[0], "R", Map::new()).unwrap();
        }
        let tc = Instant::now();
        w.commit().unwrap();
        commit_s += tc.elapsed().as_secs_f64();
        s += batch;
    }
    let rels_s = t1.elapsed().as_secs_f64();

    let r = db.begin_read().unwrap();
    let types = vec!["R".to_string()];
    let mut lat = Vec::new();
    let mut total = 0u64;
    for q in 0..100u64 {
        let qid = (q * 7919) % nodes.max(1);
        let t = Instant::now();
        let start = r
            .index_seek("N", &key, &[Value::Int(qid as i64)])
            .unwrap()
            .unwrap();
        for a in start {
            for e1 in r.expand(a, ExpandDir::Outgoing, &types).unwrap() {
                total += r
                    .expand(e1.other, ExpandDir::Outgoing, &types)
                    .unwrap()
                    .len() as u64;
            }
        }
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    // The same 2-hop backwards (incoming adjacency: chunks and, in format 3, the delta).
    let mut ilat = Vec::new();
    for q in 0..100u64 {
        let qid = (q * 7919) % nodes.max(1);
        let t = Instant::now();
        let start = r
            .index_seek("N", &key, &[Value::Int(qid as i64)])
            .unwrap()
            .unwrap();
        for a in start {
            for e1 in r.expand(a, ExpandDir::Incoming, &types).unwrap() {
                total += r
                    .expand(e1.other, ExpandDir::Incoming, &types)
                    .unwrap()
                    .len() as u64;
            }
        }
        ilat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ilat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "incoming 2-hop: p50 {:.4}ms p95 {:.4}ms",
        ilat[ilat.len() / 2],
        ilat[ilat.len() * 95 / 100]
    );
    drop(r);
    // The same 2-hop in write transactions (as an auto-commit query in write mode runs).
    let mut wlat = Vec::new();
    for q in 0..100u64 {
        let qid = (q * 7919) % nodes.max(1);
        let t = Instant::now();
        let w = db.begin_write().unwrap();
        let start = w
            .index_seek("N", &key, &[Value::Int(qid as i64)])
            .unwrap()
            .unwrap();
        for a in start {
            for e1 in w.expand(a, ExpandDir::Outgoing, &types).unwrap() {
                w.expand(e1.other, ExpandDir::Outgoing, &types).unwrap();
            }
        }
        w.commit().unwrap();
        wlat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    wlat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "2-hop in write txns: p50 {:.3}ms p95 {:.3}ms",
        wlat[wlat.len() / 2],
        wlat[wlat.len() * 95 / 100]
    );
    let size: u64 = std::fs::read_dir(dir.path().join("databases"))
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    drop(db);
    drop(st);
    let t = Instant::now();
    let st = Storage::open(dir.path()).unwrap();
    let reopen_s = t.elapsed().as_secs_f64();
    drop(st);
    println!("reopen with verification: {reopen_s:.2}s");
    println!(
        "load_and_hop: nodes {nodes} in {nodes_s:.2}s, rels {rels} in {rels_s:.2}s \
         (commits {commit_s:.2}s), 2-hop p50 {:.4}ms p95 {:.4}ms total {total}, file {} MiB",
        lat[lat.len() / 2],
        lat[lat.len() * 95 / 100],
        size >> 20
    );
}

#[test]
#[ignore]
fn many_in_memory_databases() {
    let t = Instant::now();
    for _ in 0..1000 {
        let st = Storage::open_in_memory().unwrap();
        st.create_database("neo4j").unwrap();
        let db = st.database("neo4j").unwrap();
        let mut w = db.begin_write().unwrap();
        let a = w.create_node(&["A".into()], Map::new()).unwrap();
        w.create_relationship(a, a, "R", Map::new()).unwrap();
        w.commit().unwrap();
        assert_eq!(db.begin_read().unwrap().count_nodes(None).unwrap(), 1);
    }
    println!("1000 in-memory storages: {:?}", t.elapsed());
}

#[test]
#[ignore]
fn txn_overhead() {
    let st = Storage::open_in_memory().unwrap();
    st.create_database("g").unwrap();
    let db = st.database("g").unwrap();
    let mut w = db.begin_write().unwrap();
    let a = w.create_node(&["A".into()], Map::new()).unwrap();
    w.commit().unwrap();
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        let r = db.begin_read().unwrap();
        r.node(a).unwrap();
    }
    let read_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let t = Instant::now();
    for _ in 0..n {
        let w = db.begin_write().unwrap();
        w.node(a).unwrap();
        w.commit().unwrap();
    }
    let write_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!("begin_read+node: {read_us:.2}us, clean begin_write+node+commit: {write_us:.2}us");
}

fn write_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("write_bytes:").map(|v| v.trim().to_string()))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Bytes per table, per node and per relationship, and the time and bytes written per batch
/// (the data of bench/engine, loaded through the traits):
/// `cargo test --release -p graphward-storage --test bench layout -- --ignored --nocapture`
#[test]
#[ignore]
fn layout() {
    let nodes = env_or("GW_BENCH_NODES", 200_000);
    let rels = env_or("GW_BENCH_RELS", 2 * nodes);
    let batch = env_or("GW_BENCH_BATCH", 10_000).max(1);
    let dir = TempDir::new("layout");
    let file = dir.path().join("databases").join("bench.redb");
    let st = Storage::open(dir.path()).unwrap();
    st.create_database("bench").unwrap();
    let db = st.database("bench").unwrap();
    let label = vec!["N".to_string()];
    let key = vec!["id".to_string()];
    let mut w = db.begin_write().unwrap();
    w.create_schema(SchemaDef {
        name: "n_id".into(),
        kind: SchemaKind::Index,
        label: "N".into(),
        properties: key.clone(),
    })
    .unwrap();
    w.commit().unwrap();
    let alloc = |p: &std::path::Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).map(|m| m.blocks() * 512).unwrap_or(0)
    };
    let mut times = Vec::new();
    let mut s = 0;
    let t0 = Instant::now();
    while s < nodes {
        let t = Instant::now();
        let mut w = db.begin_write().unwrap();
        for i in s..(s + batch).min(nodes) {
            let mut p = Map::new();
            p.insert("id".into(), Value::Int(i as i64));
            w.create_node(&label, p).unwrap();
        }
        w.commit().unwrap();
        times.push(t.elapsed().as_secs_f64());
        s += batch;
    }
    let nodes_s = t0.elapsed().as_secs_f64();
    let disk_nodes = alloc(&file);
    let mut rtimes = Vec::new();
    let mut mb = Vec::new();
    let t1 = Instant::now();
    let mut s = 0;
    while s < rels {
        let t = Instant::now();
        let w0 = write_bytes();
        let mut w = db.begin_write().unwrap();
        for i in s..(s + batch).min(rels) {
            let (a, b) = rel_endpoints(i, nodes);
            let a = w
                .index_seek("N", &key, &[Value::Int(a as i64)])
                .unwrap()
                .unwrap();
            let b = w
                .index_seek("N", &key, &[Value::Int(b as i64)])
                .unwrap()
                .unwrap();
            w.create_relationship(a[0], b[0], "R", Map::new()).unwrap();
        }
        w.commit().unwrap();
        rtimes.push(t.elapsed().as_secs_f64());
        mb.push((write_bytes() - w0) as f64 / 1e6);
        s += batch;
    }
    let rels_s = t1.elapsed().as_secs_f64();
    let disk_all = alloc(&file);
    let n = |v: &[f64], last: bool| {
        let k = v.len().min(10);
        if last {
            mean(&v[v.len() - k..])
        } else {
            mean(&v[..k])
        }
    };
    println!(
        "layout: nodes {nodes} in {nodes_s:.2}s (batch first10 {:.4}s last10 {:.4}s); rels {rels} in {rels_s:.2}s (batch first10 {:.4}s last10 {:.4}s; MB written first10 {:.2} last10 {:.2})",
        n(&times, false),
        n(&times, true),
        n(&rtimes, false),
        n(&rtimes, true),
        n(&mb, false),
        n(&mb, true)
    );
    println!(
        "layout: disk bytes/node {:.1}, bytes/rel {:.1}, file {} MB",
        disk_nodes as f64 / nodes as f64,
        (disk_all - disk_nodes) as f64 / rels.max(1) as f64,
        disk_all / 1_000_000
    );
    drop(db);
    drop(st);
    use redb::{ReadableDatabase, ReadableTableMetadata, TableHandle};
    let rdb = redb::Database::open(&file).unwrap();
    let r = rdb.begin_read().unwrap();
    for h in r.list_tables().unwrap() {
        let t = r.open_untyped_table(h.clone()).unwrap();
        let s = t.stats().unwrap();
        println!(
            "table {:<14} entries {:>8} stored {:>10} meta {:>8} frag {:>9} leaves {:>6} => {:.1} B/entry",
            h.name(),
            t.len().unwrap(),
            s.stored_bytes(),
            s.metadata_bytes(),
            s.fragmented_bytes(),
            s.leaf_pages(),
            (s.stored_bytes() + s.metadata_bytes() + s.fragmented_bytes()) as f64
                / t.len().unwrap().max(1) as f64
        );
    }
}
