//! `graphward-bench load-and-hop`: the graphward side of `bench/load_and_hop`.
//!
//! Loads `--nodes` nodes `(:N {id})` with an index on `:N(id)` and `--rels` relationships
//! `(:N)-[:R]->(:N)` in UNWIND batches passed as parameters, then runs the 2-hop count for
//! `--queries` ids. The data is the same deterministic sequence the Python side feeds Ladybug.
//! Prints one JSON object on stdout.

use std::collections::BTreeMap;
use std::time::Instant;

use graphward_core::engine::{AccessMode, EngineConfig, QueryEngine, TxOptions};
use graphward_core::Value;
use graphward_cypher::Engine;

/// `graphward-bench load-and-hop`: bulk load, then 2-hop counts (prints one JSON object).
#[derive(Debug, clap::Parser)]
#[command(name = "graphward-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The graphward side of `bench/load_and_hop`
    LoadAndHop(Args),
}

#[derive(Debug, clap::Args)]
struct Args {
    /// The data directory (emptied first)
    #[arg(long, value_name = "DIR", default_value_os_t = std::env::temp_dir().join("graphward-bench"))]
    data_dir: std::path::PathBuf,
    /// Nodes to load
    #[arg(long, default_value_t = 1_000_000)]
    nodes: u64,
    /// Relationships to load
    #[arg(long, default_value_t = 2_000_000)]
    rels: u64,
    /// Rows per UNWIND batch
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    batch: u64,
    /// 2-hop queries to run
    #[arg(long, default_value_t = 100)]
    queries: u64,
}

/// The options; a usage error or `--help` ends the process here (clap's exit codes).
fn parse_args() -> Result<Args, String> {
    use clap::Parser as _;
    let Command::LoadAndHop(a) = Cli::parse().command;
    Ok(a)
}

/// The relationship sequence shared with the Python side: rel i goes from i % n to a
/// pseudo-random node (64-bit LCG, the same constants in bench/load_and_hop.py).
pub fn rel_endpoints(i: u64, n: u64) -> (u64, u64) {
    let x = i
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (i % n, (x >> 33) % n)
}

fn run(
    engine: &Engine,
    query: &str,
    params: BTreeMap<String, Value>,
) -> Result<Vec<Vec<Value>>, String> {
    let mut tx = engine
        .begin(TxOptions {
            mode: AccessMode::Write,
            implicit: true,
            ..TxOptions::default()
        })
        .map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    {
        let mut stream = tx.run(query, params).map_err(|e| e.to_string())?;
        while let Some(r) = stream.next_row() {
            rows.push(r.map_err(|e| e.to_string())?);
        }
    }
    tx.commit().map_err(|e| e.to_string())?;
    Ok(rows)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("graphward-bench: {e}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<(), String> {
    let args = parse_args()?;
    let _ = std::fs::remove_dir_all(&args.data_dir);
    std::fs::create_dir_all(&args.data_dir).map_err(|e| e.to_string())?;
    let mut config = EngineConfig::default();
    config.limits.query_timeout = None;
    let engine = Engine::open(&args.data_dir, config).map_err(|e| e.to_string())?;
    run(
        &engine,
        "CREATE INDEX n_id FOR (n:N) ON (n.id)",
        BTreeMap::new(),
    )?;

    let t0 = Instant::now();
    let mut start = 0;
    while start < args.nodes {
        let end = (start + args.batch).min(args.nodes);
        let batch: Vec<Value> = (start..end).map(|i| Value::Int(i as i64)).collect();
        let params = BTreeMap::from([("batch".to_string(), Value::List(batch))]);
        run(&engine, "UNWIND $batch AS r CREATE (:N {id: r})", params)?;
        start = end;
    }
    let nodes_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let mut start = 0;
    while start < args.rels {
        let end = (start + args.batch).min(args.rels);
        let batch: Vec<Value> = (start..end)
            .map(|i| {
                let (s, d) = rel_endpoints(i, args.nodes);
                Value::Map(BTreeMap::from([
                    ("s".to_string(), Value::Int(s as i64)),
                    ("d".to_string(), Value::Int(d as i64)),
                ]))
            })
            .collect();
        let params = BTreeMap::from([("batch".to_string(), Value::List(batch))]);
        run(
            &engine,
            "UNWIND $batch AS r MATCH (a:N {id: r.s}), (b:N {id: r.d}) CREATE (a)-[:R]->(b)",
            params,
        )?;
        start = end;
    }
    let rels_s = t1.elapsed().as_secs_f64();

    let mut lat = Vec::new();
    let mut total = 0i64;
    for q in 0..args.queries {
        let id = (q * 7919) % args.nodes.max(1);
        let params = BTreeMap::from([("id".to_string(), Value::Int(id as i64))]);
        let t = Instant::now();
        let rows = run(
            &engine,
            "MATCH (a:N {id:$id})-[:R]->()-[:R]->(c) RETURN count(c)",
            params,
        )?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        if let Some(Value::Int(c)) = rows.first().and_then(|r| r.first()) {
            total += c;
        }
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{{\"engine\":\"graphward\",\"nodes_s\":{nodes_s:.3},\"rels_s\":{rels_s:.3},\"load_s\":{:.3},\"hop2_p50_ms\":{:.3},\"hop2_p95_ms\":{:.3},\"hop2_total\":{total}}}",
        nodes_s + rels_s,
        percentile(&lat, 0.5),
        percentile(&lat, 0.95)
    );
    Ok(())
}
