//! `graphward-bench`: the embedded graphward side of the engine benchmarks (`engine` for bench/engine.py; `load-and-hop`, a short load + 2-hop run).
//!
//! Loads `--nodes` nodes `(:N {id})` with an index on `:N(id)` and `--rels` relationships
//! `(:N)-[:R]->(:N)` in UNWIND batches passed as parameters, then runs the 2-hop count for
//! `--queries` ids. The data is the same deterministic sequence the Python side feeds Ladybug.
//! Prints one JSON object on stdout. `engine --bolt HOST:PORT` runs the same workload against a
//! running server over Bolt (the `graphward` side of bench/engine.py) instead of the embedded
//! engine.

use std::collections::BTreeMap;
use std::time::Instant;

use graphward_bench::bolt::Bolt;
use graphward_bench::procfs::{cpu_seconds, thread_cpu_seconds, write_bytes};
use graphward_core::engine::{AccessMode, EngineConfig, QueryEngine, TxOptions};
use graphward_core::Value;
use graphward_cypher::Engine;

/// `graphward-bench load-and-hop|engine`: bulk load, then reads (prints JSON).
#[derive(Debug, clap::Parser)]
#[command(name = "graphward-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// A short embedded load and 2-hop run (prints one JSON object)
    LoadAndHop(Args),
    /// The embedded side of `bench/engine.py` (per-batch times, scans, hops)
    Engine(Args),
}

#[derive(Debug, clap::Args)]
struct Args {
    #[arg(skip)]
    engine_mode: bool,
    /// Scan repetitions (median after one warm-up run), `engine` only
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    scan_runs: u64,
    /// `engine` only: run just these queries after the load (comma-separated names from the
    /// JSON: scan, topk, topk_expr, group, hop2, hop3, var13), for a profile of one of them
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    only: Vec<String>,
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
    /// `engine` only: run against the server listening for Bolt at HOST:PORT instead of an
    /// embedded engine (`--data-dir` is then the server's, only read for its size)
    #[arg(long, value_name = "HOST:PORT")]
    bolt: Option<String>,
    /// The user for `--bolt`
    #[arg(long, default_value = "neo4j")]
    user: String,
    /// The password for `--bolt`
    #[arg(long, env = "GRAPHWARD_BENCH_PASSWORD", default_value = "")]
    password: String,
    /// With `--bolt`: the server's process id, for the bytes it writes and its CPU time
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
}

/// Where `engine` runs its statements: the engine embedded in this process, or a server over
/// Bolt.
trait Target {
    fn run(
        &mut self,
        query: &str,
        params: BTreeMap<String, Value>,
        mode: AccessMode,
    ) -> Result<Vec<Vec<Value>>, String>;
    /// Bytes written to storage so far by the process that writes the database.
    fn written(&self) -> u64;
    /// CPU seconds of the server, when it is another process.
    fn server_cpu(&self) -> Option<f64>;
}

struct Embedded<'a>(&'a Engine);

impl Target for Embedded<'_> {
    fn run(
        &mut self,
        query: &str,
        params: BTreeMap<String, Value>,
        mode: AccessMode,
    ) -> Result<Vec<Vec<Value>>, String> {
        run_mode(self.0, query, params, mode)
    }
    fn written(&self) -> u64 {
        write_bytes("self")
    }
    fn server_cpu(&self) -> Option<f64> {
        None
    }
}

struct Remote {
    bolt: Bolt,
    pid: Option<String>,
}

impl Target for Remote {
    fn run(
        &mut self,
        query: &str,
        params: BTreeMap<String, Value>,
        mode: AccessMode,
    ) -> Result<Vec<Vec<Value>>, String> {
        self.bolt.run(query, params, mode == AccessMode::Read)
    }
    fn written(&self) -> u64 {
        self.pid.as_deref().map(write_bytes).unwrap_or(0)
    }
    fn server_cpu(&self) -> Option<f64> {
        self.pid.as_deref().and_then(cpu_seconds)
    }
}

/// The options; a usage error or `--help` ends the process here (clap's exit codes).
fn parse_args() -> Result<Args, String> {
    use clap::Parser as _;
    Ok(match Cli::parse().command {
        Command::LoadAndHop(a) => a,
        Command::Engine(mut a) => {
            a.engine_mode = true;
            a
        }
    })
}

/// The relationship sequence shared with the Python side: rel i goes from i % n to a
/// pseudo-random node (64-bit LCG, the same constants in bench/engine.py).
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
    run_mode(engine, query, params, AccessMode::Write)
}

fn run_mode(
    engine: &Engine,
    query: &str,
    params: BTreeMap<String, Value>,
    mode: AccessMode,
) -> Result<Vec<Vec<Value>>, String> {
    let mut tx = engine
        .begin(TxOptions {
            mode,
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
    if let (true, Some(address)) = (args.engine_mode, &args.bolt) {
        let mut remote = Remote {
            bolt: Bolt::connect(address, &args.user, &args.password)?,
            pid: args.server_pid.map(|p| p.to_string()),
        };
        remote.run(
            "CREATE INDEX n_id FOR (n:N) ON (n.id)",
            BTreeMap::new(),
            AccessMode::Write,
        )?;
        return engine_bench(&mut remote, &args);
    }
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

    if args.engine_mode {
        return engine_bench(&mut Embedded(&engine), &args);
    }

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

fn json_list(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.5}")).collect();
    format!("[{}]", parts.join(","))
}

/// Allocated bytes of a file (st_blocks * 512).
fn allocated(path: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .map(|m| m.blocks() * 512)
        .unwrap_or(0)
}

fn render(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Value::Float(f) => f.to_string(),
        Value::Null => "null".to_string(),
        other => format!("\"{other:?}\""),
    }
}

/// bench/engine.py's workload on a target: one JSON object with raw batch times (the Python
/// side summarizes them), scans (median of `scan_runs` after one warm-up run) and hop p50s,
/// every read in a read transaction.
fn engine_bench(engine: &mut dyn Target, args: &Args) -> Result<(), String> {
    let file = args.data_dir.join("databases").join("neo4j.redb");
    let w0 = engine.written();
    let cpu0 = engine.server_cpu();
    let mut node_times = Vec::new();
    let mut start = 0;
    while start < args.nodes {
        let end = (start + args.batch).min(args.nodes);
        let batch: Vec<Value> = (start..end).map(|i| Value::Int(i as i64)).collect();
        let params = BTreeMap::from([("batch".to_string(), Value::List(batch))]);
        let t = Instant::now();
        engine.run(
            "UNWIND $batch AS r CREATE (:N {id: r})",
            params,
            AccessMode::Write,
        )?;
        node_times.push(t.elapsed().as_secs_f64());
        start = end;
    }
    let disk_nodes = allocated(&file);
    let mut rel_times = Vec::new();
    // Bytes written to disk by each relationship batch (its commit), in MB.
    let mut rel_written = Vec::new();
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
        let t = Instant::now();
        let wb = engine.written();
        engine.run(
            "UNWIND $batch AS r MATCH (a:N {id: r.s}), (b:N {id: r.d}) CREATE (a)-[:R]->(b)",
            params,
            AccessMode::Write,
        )?;
        rel_times.push(t.elapsed().as_secs_f64());
        rel_written.push(engine.written().saturating_sub(wb) as f64 / 1e6);
        start = end;
    }
    let written = engine.written().saturating_sub(w0);
    let disk = allocated(&file);
    let server_cpu = |now: Option<f64>| match (cpu0, now) {
        (Some(a), Some(b)) => format!("{:.2}", b - a),
        _ => "null".to_string(),
    };
    let mut parts = vec![
        format!("\"server_cpu_s_load\":{}", server_cpu(engine.server_cpu())),
        format!("\"load_nodes\":{}", json_list(&node_times)),
        format!("\"load_rels\":{}", json_list(&rel_times)),
        format!("\"rel_batch_written_mb\":{}", json_list(&rel_written)),
        format!("\"disk_nodes\":{disk_nodes}"),
        format!("\"disk\":{{\"allocated\":{disk}}}"),
        format!("\"written_bytes_load\":{written}"),
    ];
    for (name, q) in [
        ("scan", "MATCH (n:N) RETURN count(n), sum(n.id)"),
        (
            "topk",
            "MATCH (n:N) RETURN n.id ORDER BY n.id DESC LIMIT 10",
        ),
        // The same top 10 by an expression no index orders: a scan and a heap.
        (
            "topk_expr",
            "MATCH (n:N) RETURN n.id ORDER BY -n.id LIMIT 10",
        ),
        // Grouped aggregation: a grouping key computed per row, ten groups.
        (
            "group",
            "MATCH (n:N) RETURN n.id % 10 AS k, count(*) AS c ORDER BY k",
        ),
    ] {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == name) {
            continue;
        }
        let mut runs = Vec::new();
        let mut rows = Vec::new();
        for _ in 0..=args.scan_runs {
            let t = Instant::now();
            rows = engine.run(q, BTreeMap::new(), AccessMode::Read)?;
            runs.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let cold = runs.first().copied().unwrap_or(0.0);
        let mut warm: Vec<f64> = runs.iter().skip(1).copied().collect();
        warm.sort_by(|a, b| a.total_cmp(b));
        let rendered: Vec<String> = rows
            .iter()
            .map(|r| {
                let cells: Vec<String> = r.iter().map(render).collect();
                format!("[{}]", cells.join(","))
            })
            .collect();
        parts.push(format!(
            "\"{name}\":{{\"ms\":{:.2},\"cold_ms\":{cold:.2},\"rows\":[{}]}}",
            percentile(&warm, 0.5),
            rendered.join(",")
        ));
    }
    for (name, q) in [
        (
            "hop2",
            "MATCH (a:N {id: $id})-[:R]->()-[:R]->(c) RETURN count(c)",
        ),
        (
            "hop3",
            "MATCH (a:N {id: $id})-[:R]->()-[:R]->()-[:R]->(c) RETURN count(c)",
        ),
        (
            "var13",
            "MATCH (a:N {id: $id})-[:R*1..3]->(c) RETURN count(c)",
        ),
    ] {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == name) {
            continue;
        }
        let mut lat = Vec::new();
        let mut total = 0i64;
        let client0 = thread_cpu_seconds().unwrap_or(0.0);
        for k in 0..args.queries {
            let id = (k * 7919) % args.nodes.max(1);
            let params = BTreeMap::from([("id".to_string(), Value::Int(id as i64))]);
            let t = Instant::now();
            let rows = engine.run(q, params, AccessMode::Read)?;
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            if let Some(Value::Int(c)) = rows.first().and_then(|r| r.first()) {
                total += c;
            }
        }
        // This thread's CPU per query: the client's with --bolt, the engine's embedded.
        let client_ms =
            (thread_cpu_seconds().unwrap_or(0.0) - client0) * 1000.0 / args.queries.max(1) as f64;
        lat.sort_by(|a, b| a.total_cmp(b));
        parts.push(format!(
            "\"{name}\":{{\"p50_ms\":{:.4},\"p95_ms\":{:.4},\"total\":{total},\"client_cpu_ms\":{client_ms:.3}}}",
            percentile(&lat, 0.5),
            percentile(&lat, 0.95)
        ));
    }
    parts.push(format!(
        "\"server_cpu_s_total\":{}",
        server_cpu(engine.server_cpu())
    ));
    println!("{{{}}}", parts.join(","));
    Ok(())
}
