//! graphward-tck: runs the openCypher TCK feature files against an in-memory graphward
//! engine and reports pass/fail/skip counts per feature directory.
//!
//! Usage: graphward-tck [DIR] [--filter TEXT] [--verbose] [--floor FILE] [--threads N]
//! [--suite NAME] (`graphward-tck --help`).

mod feature;
mod tckvalue;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use graphward_core::engine::{AccessMode, EngineConfig, QueryEngine, TxOptions};
use graphward_core::{Error, ErrorCode, Value};
use graphward_cypher::Engine;
use graphward_storage::GraphRead;

use feature::Scenario;

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Pass,
    Fail(String),
    /// The scenario panicked (a failure, counted apart).
    Panic(String),
    Skip(String),
}

/// Runs openCypher TCK feature files (or a conformance suite in the same format) against an
/// in-memory graphward engine and reports pass/fail/skip counts per feature directory.
#[derive(Debug, clap::Parser)]
#[command(name = "graphward-tck", version)]
struct Opts {
    /// A feature file, or a directory searched for `*.feature` files
    #[arg(default_value = "../shared/tck/features")]
    dir: PathBuf,
    /// Run only scenarios whose name or feature contains this text
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Print every failure and skip
    #[arg(long, short)]
    verbose: bool,
    /// Fail when fewer scenarios pass than this file lists (one scenario per line)
    #[arg(long, value_name = "FILE")]
    floor: Option<PathBuf>,
    /// Worker threads [default: the number of cores]
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// The name on the summary line (`tck: N passed, ...`)
    #[arg(long, value_name = "NAME", default_value = "tck")]
    suite: String,
}

/// The options; a usage error or `--help` ends the process here (clap's exit codes).
fn parse_opts() -> Opts {
    use clap::Parser as _;
    let mut o = Opts::parse();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    o.threads = Some(o.threads.unwrap_or(cores));
    o
}

fn collect_features(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if dir.is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            collect_features(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "feature") {
            out.push(p);
        }
    }
    Ok(())
}

/// The TCK directory a feature file belongs to, e.g. `clauses/match`.
fn group_of(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if let Some(i) = parts.iter().position(|p| p == "features") {
        let rest: Vec<&str> = parts[i + 1..parts.len().saturating_sub(1)]
            .iter()
            .map(|s| s.as_str())
            .take(2)
            .collect();
        if !rest.is_empty() {
            return rest.join("/");
        }
    }
    parts
        .get(parts.len().saturating_sub(2))
        .cloned()
        .unwrap_or_default()
}

fn tck_root(dir: &Path) -> PathBuf {
    let mut p = dir.to_path_buf();
    loop {
        if p.join("graphs").is_dir() {
            return p;
        }
        if !p.pop() {
            return dir.to_path_buf();
        }
    }
}

fn main() {
    let opts = parse_opts();
    let mut files = Vec::new();
    if let Err(e) = collect_features(&opts.dir, &mut files) {
        eprintln!("graphward-tck: cannot read {}: {e}", opts.dir.display());
        std::process::exit(2);
    }
    let root = tck_root(&opts.dir);
    let mut work: Vec<(String, Scenario)> = Vec::new();
    for f in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("graphward-tck: cannot read {}: {e}", f.display());
                std::process::exit(2);
            }
        };
        let name = f
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        match feature::parse(&name, &text) {
            Ok(sc) => {
                for s in sc {
                    if let Some(flt) = &opts.filter {
                        if !s.name.contains(flt.as_str()) && !s.feature.contains(flt.as_str()) {
                            continue;
                        }
                    }
                    work.push((group_of(f), s));
                }
            }
            Err(e) => {
                eprintln!("graphward-tck: {}: {e}", f.display());
                std::process::exit(2);
            }
        }
    }
    // Keep panics quiet (they are reported as failures).
    std::panic::set_hook(Box::new(|_| {}));
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let results: Arc<Mutex<Vec<(usize, Outcome)>>> = Arc::new(Mutex::new(Vec::new()));
    let running: Running = Arc::new(Mutex::new(vec![None; opts.threads.unwrap_or(2).max(1)]));
    let started = Instant::now();
    // Watchdog: one scenario may not hang the run.
    {
        let running = running.clone();
        let work = work.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_secs(1));
            if let Ok(r) = running.lock() {
                for (idx, t) in r.iter().flatten() {
                    if t.elapsed() > Duration::from_secs(60) {
                        let s = &work[*idx].1;
                        eprintln!(
                            "graphward-tck: scenario hung for 60 s: {} / {} (line {})",
                            s.feature, s.name, s.line
                        );
                        std::process::exit(3);
                    }
                }
            }
        });
    }
    let mut handles = Vec::new();
    for w in 0..opts.threads.unwrap_or(2).max(1) {
        let work = work.clone();
        let next = next.clone();
        let results = results.clone();
        let running = running.clone();
        let root = root.clone();
        handles.push(
            std::thread::Builder::new()
                .stack_size(64 << 20)
                .spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= work.len() {
                        break;
                    }
                    if let Ok(mut r) = running.lock() {
                        r[w] = Some((i, Instant::now()));
                    }
                    let sc = &work[i].1;
                    let outcome =
                        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            run_scenario(sc, &root)
                        })) {
                            Ok(o) => o,
                            Err(p) => {
                                let msg = p
                                    .downcast_ref::<String>()
                                    .cloned()
                                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                                    .unwrap_or_default();
                                Outcome::Panic(msg)
                            }
                        };
                    if let Ok(mut r) = running.lock() {
                        r[w] = None;
                    }
                    if let Ok(mut r) = results.lock() {
                        r.push((i, outcome));
                    }
                }),
        );
    }
    for h in handles.into_iter().flatten() {
        let _ = h.join();
    }
    let mut results = results.lock().map(|r| r.clone()).unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    let mut per: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let (mut p, mut f, mut s) = (0, 0, 0);
    let mut panics = 0;
    for (i, o) in &results {
        let (group, sc) = &work[*i];
        let e = per.entry(group.clone()).or_default();
        match o {
            Outcome::Pass => {
                e.0 += 1;
                p += 1
            }
            Outcome::Fail(why) | Outcome::Panic(why) => {
                e.1 += 1;
                f += 1;
                let panicked = matches!(o, Outcome::Panic(_));
                if panicked {
                    panics += 1;
                }
                if opts.verbose {
                    println!(
                        "FAIL {} / {} (line {}): {}{}",
                        sc.feature,
                        sc.name,
                        sc.line,
                        if panicked { "PANIC: " } else { "" },
                        why.replace('\n', " ")
                    );
                }
            }
            Outcome::Skip(why) => {
                e.2 += 1;
                s += 1;
                if opts.verbose {
                    println!("SKIP {} / {}: {}", sc.feature, sc.name, why);
                }
            }
        }
    }
    for (g, (gp, gf, gs)) in &per {
        println!("{g}: {gp} passed, {gf} failed, {gs} skipped");
    }
    println!(
        "time: {:.1}s, panics: {panics}",
        started.elapsed().as_secs_f64()
    );
    println!("{}: {p} passed, {f} failed, {s} skipped", opts.suite);
    if let Some(floor) = &opts.floor {
        match check_floor(floor, p, &per) {
            Ok(()) => {}
            Err(msg) => {
                eprintln!("graphward-tck: {msg}");
                std::process::exit(1);
            }
        }
    }
    if panics > 0 {
        eprintln!("graphward-tck: {panics} scenario(s) panicked");
        std::process::exit(1);
    }
}

/// The floor file: a total (a line with one integer) and optional `PREFIX N` lines.
fn check_floor(
    path: &Path,
    total: usize,
    per: &BTreeMap<String, (usize, usize, usize)>,
) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read floor {}: {e}", path.display()))?;
    let mut problems = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            [n] => {
                let n: usize = n.parse().map_err(|_| format!("bad floor line `{line}`"))?;
                if total < n {
                    problems.push(format!("total passes {total} < floor {n}"));
                }
            }
            [prefix, n] => {
                let n: usize = n.parse().map_err(|_| format!("bad floor line `{line}`"))?;
                let got: usize = per
                    .iter()
                    .filter(|(g, _)| g.starts_with(prefix))
                    .map(|(_, c)| c.0)
                    .sum();
                if got < n {
                    problems.push(format!("{prefix}: passes {got} < floor {n}"));
                }
            }
            _ => return Err(format!("bad floor line `{line}`")),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("below the TCK floor: {}", problems.join("; ")))
    }
}

type QueryResult = Result<(Vec<String>, Vec<Vec<Value>>), Error>;
/// Which scenario each worker runs, and since when.
type Running = Arc<Mutex<Vec<Option<(usize, Instant)>>>>;

struct Ctx {
    engine: Engine,
    params: BTreeMap<String, Value>,
    result: Option<QueryResult>,
    before: Option<Snapshot>,
    /// The text of the last executed query (for the compile-time check by EXPLAIN).
    query: Option<String>,
}

#[derive(Default, Clone)]
struct Snapshot {
    nodes: HashSet<u64>,
    rels: HashSet<u64>,
    labels: HashSet<String>,
    props: HashSet<String>,
}

fn snapshot(engine: &Engine) -> Result<Snapshot, Error> {
    let db = engine.storage().database(&engine.default_database())?;
    let g = db.begin_read()?;
    let mut s = Snapshot::default();
    for id in g.all_nodes()? {
        s.nodes.insert(id);
        if let Some(n) = g.node(id)? {
            s.labels.extend(n.labels);
            for (k, v) in n.properties {
                s.props.insert(format!("n{id}/{k}={v:?}"));
            }
        }
    }
    for id in g.all_relationships()? {
        s.rels.insert(id);
        if let Some(r) = g.relationship(id)? {
            for (k, v) in r.properties {
                s.props.insert(format!("r{id}/{k}={v:?}"));
            }
        }
    }
    Ok(s)
}

fn exec(
    engine: &Engine,
    q: &str,
    params: &BTreeMap<String, Value>,
) -> Result<(Vec<String>, Vec<Vec<Value>>), Error> {
    let mut tx = engine.begin(TxOptions {
        mode: AccessMode::Write,
        implicit: true,
        ..TxOptions::default()
    })?;
    let mut s = tx.run(q, params.clone())?;
    let cols = s.columns().to_vec();
    let mut rows = Vec::new();
    while let Some(r) = s.next_row() {
        rows.push(r?);
    }
    drop(s);
    tx.commit()?;
    Ok((cols, rows))
}

fn tck_type(code: ErrorCode) -> &'static str {
    match code {
        // Neo4j reports the TCK's compile-time SyntaxErrors (undefined variables, bad
        // aggregations...) with Neo.ClientError.Statement.SyntaxError, so the code must match.
        ErrorCode::SyntaxError => "SyntaxError",
        ErrorCode::SemanticError => "SemanticError",
        ErrorCode::TypeError => "TypeError",
        ErrorCode::ArgumentError => "ArgumentError",
        ErrorCode::ArithmeticError => "ArithmeticError",
        ErrorCode::EntityNotFound => "EntityNotFound",
        ErrorCode::ConstraintValidationFailed => "ConstraintVerificationFailed",
        ErrorCode::ProcedureNotFound => "ProcedureError",
        ErrorCode::ParameterMissing => "ParameterMissing",
        _ => "Other",
    }
}

fn run_scenario(sc: &Scenario, root: &Path) -> Outcome {
    let mut config = EngineConfig::default();
    config.limits.query_timeout = Some(Duration::from_secs(20));
    let engine = match Engine::open_in_memory(config) {
        Ok(e) => e,
        Err(e) => return Outcome::Fail(format!("engine: {e}")),
    };
    let mut cx = Ctx {
        engine,
        params: BTreeMap::new(),
        result: None,
        before: None,
        query: None,
    };
    for st in &sc.steps {
        let t = st.text.as_str();
        let r: Result<(), Outcome> = (|| {
            if t == "an empty graph" || t == "any graph" {
                return Ok(());
            }
            if let Some(name) = t
                .strip_prefix("the ")
                .and_then(|x| x.strip_suffix(" graph"))
            {
                let p = root
                    .join("graphs")
                    .join(name)
                    .join(format!("{name}.cypher"));
                let q = std::fs::read_to_string(&p)
                    .map_err(|e| Outcome::Skip(format!("graph {name}: {e}")))?;
                exec(&cx.engine, &q, &BTreeMap::new())
                    .map_err(|e| Outcome::Fail(format!("graph setup: {e}")))?;
                return Ok(());
            }
            if t == "having executed:" {
                let q = st.doc.clone().unwrap_or_default();
                exec(&cx.engine, &q, &BTreeMap::new())
                    .map_err(|e| Outcome::Fail(format!("setup failed: {e}")))?;
                return Ok(());
            }
            if t == "parameters are:" {
                for row in &st.table {
                    if row.len() != 2 {
                        return Err(Outcome::Skip("bad parameter table".into()));
                    }
                    let v = tckvalue::parse(&row[1])
                        .map_err(|e| Outcome::Skip(format!("parameter: {e}")))?;
                    cx.params
                        .insert(row[0].clone(), to_value(&v).map_err(Outcome::Skip)?);
                }
                return Ok(());
            }
            if let Some(sig) = t.strip_prefix("there exists a procedure ") {
                let (name, inputs, outputs) =
                    parse_signature(sig.trim_end_matches(':')).map_err(Outcome::Skip)?;
                let mut rows = Vec::new();
                for r in st.table.iter().skip(1) {
                    let mut vals = Vec::new();
                    for c in r {
                        let v = tckvalue::parse(c)
                            .map_err(|e| Outcome::Skip(format!("procedure table: {e}")))?;
                        vals.push(to_value(&v).map_err(Outcome::Skip)?);
                    }
                    rows.push(vals);
                }
                cx.engine.register_procedure(&name, inputs, outputs, rows);
                return Ok(());
            }
            if t == "executing query:" || t == "executing control query:" {
                let q = st.doc.clone().unwrap_or_default();
                cx.before = snapshot(&cx.engine).ok();
                cx.result = Some(exec(&cx.engine, &q, &cx.params));
                cx.query = Some(q);
                return Ok(());
            }
            if t.starts_with("the result should be") {
                let ordered = t.contains("in order");
                let unordered_lists = t.contains("ignoring element order for lists");
                let res = match &cx.result {
                    Some(Ok(r)) => r,
                    Some(Err(e)) => return Err(Outcome::Fail(format!("query failed: {e}"))),
                    None => return Err(Outcome::Fail("no query executed".into())),
                };
                if t == "the result should be empty" {
                    if res.1.is_empty() {
                        return Ok(());
                    }
                    return Err(Outcome::Fail(format!(
                        "expected no rows, got {}",
                        res.1.len()
                    )));
                }
                return compare_result(res, &st.table, ordered, unordered_lists);
            }
            // graphward's own suite (tests/cypher): the Neo4j status code of the error.
            if let Some(code) = t.strip_prefix("the error code should be ") {
                return match &cx.result {
                    Some(Err(e)) if e.code.as_str() == code.trim() => Ok(()),
                    Some(Err(e)) => Err(Outcome::Fail(format!("expected {code}, got {e}"))),
                    Some(Ok(_)) => Err(Outcome::Fail(format!("expected {code}, query succeeded"))),
                    None => Err(Outcome::Fail("no query executed".into())),
                };
            }
            if t == "no side effects" {
                return check_side_effects(&cx, &[]);
            }
            if t == "the side effects should be:" {
                return check_side_effects(&cx, &st.table);
            }
            if let Some(rest) = t.strip_prefix("a ").or_else(|| t.strip_prefix("an ")) {
                if let Some((ty, after)) = rest.split_once(" should be raised at ") {
                    let detail = after.split_once(": ").map(|(_, d)| d.trim().to_string());
                    return match &cx.result {
                        Some(Err(e)) => {
                            let got = tck_type(e.code);
                            let type_ok = got == ty
                                || (ty == "SemanticError" && e.code == ErrorCode::SemanticError);
                            if !type_ok {
                                return Err(Outcome::Fail(format!(
                                    "expected {ty}, got {got}: {e}"
                                )));
                            }
                            if let (Some(want), Some(have)) = (&detail, &e.detail) {
                                // `*` in the TCK means "any detail".
                                if want != "*" && want != have {
                                    return Err(Outcome::Fail(format!(
                                        "expected detail {want}, got {have}: {e}"
                                    )));
                                }
                            }
                            if after.starts_with("compile time") {
                                check_compile_time(&cx, ty)?;
                            }
                            Ok(())
                        }
                        Some(Ok(_)) => Err(Outcome::Fail(format!(
                            "expected {ty} ({}), query succeeded",
                            detail.unwrap_or_default()
                        ))),
                        None => Err(Outcome::Fail("no query executed".into())),
                    };
                }
            }
            Err(Outcome::Skip(format!("unknown step: {t}")))
        })();
        if let Err(o) = r {
            return o;
        }
    }
    Outcome::Pass
}

/// A compile-time error must be raised without running the query: `EXPLAIN` of the same
/// query (which plans but touches no data) must fail with the same error type.
fn check_compile_time(cx: &Ctx, ty: &str) -> Result<(), Outcome> {
    let Some(q) = &cx.query else {
        return Err(Outcome::Fail("no query executed".into()));
    };
    match exec(&cx.engine, &format!("EXPLAIN {q}"), &cx.params) {
        Ok(_) => Err(Outcome::Fail(format!(
            "expected {ty} at compile time, but EXPLAIN succeeded (raised only at run time)"
        ))),
        Err(e) => {
            let got = tck_type(e.code);
            if got == ty || (ty == "SemanticError" && e.code == ErrorCode::SemanticError) {
                Ok(())
            } else {
                Err(Outcome::Fail(format!(
                    "expected {ty} at compile time, EXPLAIN raised {got}: {e}"
                )))
            }
        }
    }
}

fn check_side_effects(cx: &Ctx, table: &[Vec<String>]) -> Result<(), Outcome> {
    let (Some(before), Ok(after)) = (&cx.before, snapshot(&cx.engine)) else {
        return Err(Outcome::Fail("no snapshot for side effects".into()));
    };
    let diff = |a: &HashSet<String>, b: &HashSet<String>| a.difference(b).count() as i64;
    let diffu = |a: &HashSet<u64>, b: &HashSet<u64>| a.difference(b).count() as i64;
    let actual: BTreeMap<&str, i64> = BTreeMap::from([
        ("+nodes", diffu(&after.nodes, &before.nodes)),
        ("-nodes", diffu(&before.nodes, &after.nodes)),
        ("+relationships", diffu(&after.rels, &before.rels)),
        ("-relationships", diffu(&before.rels, &after.rels)),
        ("+labels", diff(&after.labels, &before.labels)),
        ("-labels", diff(&before.labels, &after.labels)),
        ("+properties", diff(&after.props, &before.props)),
        ("-properties", diff(&before.props, &after.props)),
    ]);
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for row in table {
        if row.len() == 2 {
            expected.insert(row[0].clone(), row[1].parse().unwrap_or(-1));
        }
    }
    for (k, v) in &actual {
        let want = expected.get(*k).copied().unwrap_or(0);
        if *v != want {
            return Err(Outcome::Fail(format!(
                "side effect {k}: expected {want}, got {v}"
            )));
        }
    }
    Ok(())
}

fn compare_result(
    res: &(Vec<String>, Vec<Vec<Value>>),
    table: &[Vec<String>],
    ordered: bool,
    unordered_lists: bool,
) -> Result<(), Outcome> {
    let Some(header) = table.first() else {
        return Err(Outcome::Skip("result table without header".into()));
    };
    if &res.0 != header {
        return Err(Outcome::Fail(format!(
            "columns {:?}, expected {:?}",
            res.0, header
        )));
    }
    let mut expected = Vec::new();
    for r in table.iter().skip(1) {
        let mut row = Vec::new();
        for c in r {
            row.push(
                tckvalue::parse(c).map_err(|e| Outcome::Skip(format!("expected value: {e}")))?,
            );
        }
        expected.push(row);
    }
    if expected.len() != res.1.len() {
        return Err(Outcome::Fail(format!(
            "expected {} rows, got {}: {}",
            expected.len(),
            res.1.len(),
            res.1
                .iter()
                .take(5)
                .map(|r| r.iter().map(tckvalue::show).collect::<Vec<_>>().join(" | "))
                .collect::<Vec<_>>()
                .join(" ; ")
        )));
    }
    let row_matches = |got: &Vec<Value>, want: &Vec<tckvalue::TV>| {
        got.len() == want.len()
            && got
                .iter()
                .zip(want)
                .all(|(g, w)| tckvalue::matches(g, w, unordered_lists))
    };
    if ordered {
        for (i, (g, w)) in res.1.iter().zip(&expected).enumerate() {
            if !row_matches(g, w) {
                return Err(Outcome::Fail(format!(
                    "row {i}: got {}",
                    g.iter().map(tckvalue::show).collect::<Vec<_>>().join(" | ")
                )));
            }
        }
    } else {
        let mut used = vec![false; expected.len()];
        for g in &res.1 {
            let pos = (0..expected.len()).find(|&j| !used[j] && row_matches(g, &expected[j]));
            match pos {
                Some(j) => used[j] = true,
                None => {
                    return Err(Outcome::Fail(format!(
                        "unexpected row: {}",
                        g.iter().map(tckvalue::show).collect::<Vec<_>>().join(" | ")
                    )))
                }
            }
        }
    }
    Ok(())
}

fn to_value(v: &tckvalue::TV) -> Result<Value, String> {
    use tckvalue::TV;
    Ok(match v {
        TV::Null => Value::Null,
        TV::Bool(b) => Value::Bool(*b),
        TV::Int(i) => Value::Int(*i),
        TV::Float(f) => Value::Float(*f),
        TV::String(s) => Value::String(s.clone()),
        TV::List(l) => Value::List(l.iter().map(to_value).collect::<Result<_, _>>()?),
        TV::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), to_value(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        _ => return Err("graph values cannot be parameters".into()),
    })
}

type Sig = (String, Vec<(String, String)>, Vec<(String, String)>);

/// `test.my.proc(name :: STRING?, id :: INTEGER?) :: (city :: STRING?)`
fn parse_signature(sig: &str) -> Result<Sig, String> {
    let (name, rest) = sig.split_once('(').ok_or("bad signature")?;
    let (ins, rest) = rest.split_once(')').ok_or("bad signature")?;
    let outs = rest
        .trim()
        .trim_start_matches("::")
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')');
    let fields = |s: &str| -> Vec<(String, String)> {
        s.split(',')
            .filter(|x| !x.trim().is_empty())
            .map(|f| {
                let (n, t) = f.split_once("::").unwrap_or((f, "ANY?"));
                (n.trim().to_string(), t.trim().to_string())
            })
            .collect()
    };
    Ok((name.trim().to_string(), fields(ins), fields(outs)))
}
