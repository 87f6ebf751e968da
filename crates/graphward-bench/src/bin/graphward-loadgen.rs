//! `graphward-loadgen`: a native load generator, the way `redis-benchmark` is for Redis.
//!
//! N connections (one thread each, blocking sockets), each sending the same query over and
//! over, pipelined: RUN+PULL in one write (Bolt, on the project's own PackStream and chunk
//! code), or `GRAPH.QUERY` (RESP, for FalkorDB: the same client on both protocols). With
//! `--pipeline k`, k queries are written before their answers are read.
//!
//! Prints queries/s, p50/p99 latency, the server's CPU per query (given `--server-pid`, read
//! from `/proc/<pid>/stat` over the measured window) and the generator's own CPU per query
//! (from `/proc/self/stat`), so a reader can see who the bottleneck was. `--json` prints one
//! JSON object instead.
//!
//! `--serve-stub PORT` turns it into a trivial Bolt server instead (every RUN answers one record
//! `1`, nothing else is done): what a driver reaches against it is the driver's own ceiling.
//!
//! ```text
//! graphward-loadgen --port 7687 --password password --clients 16 --seconds 5 \
//!     --query 'RETURN 1' --server-pid 1234
//! graphward-loadgen --protocol resp --port 6379 --graph g --clients 16 --query 'RETURN 1'
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use graphward_bench::procfs::cpu_seconds;
use graphward_packstream::chunk::{self, Parsed};
use graphward_packstream::msg;
use graphward_packstream::{Encoder, Flavor};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Bolt,
    Resp,
}

#[derive(Clone)]
struct Args {
    protocol: Protocol,
    host: String,
    port: u16,
    user: String,
    password: String,
    graph: String,
    query: String,
    clients: usize,
    pipeline: usize,
    seconds: f64,
    warmup: f64,
    server_pid: Option<u32>,
    json: bool,
    label: String,
    serve_stub: Option<u16>,
}

const USAGE: &str = "usage: graphward-loadgen [--protocol bolt|resp] [--host H] [--port P] \
[--user U] [--password PW] [--graph G] [--query TEXT] [--clients N] [--pipeline K] \
[--seconds S] [--warmup S] [--server-pid PID] [--label L] [--json]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        protocol: Protocol::Bolt,
        host: "127.0.0.1".into(),
        port: 0,
        user: "neo4j".into(),
        password: "password".into(),
        graph: "g".into(),
        query: "RETURN 1".into(),
        clients: 1,
        pipeline: 1,
        seconds: 5.0,
        warmup: 1.0,
        server_pid: None,
        json: false,
        label: String::new(),
        serve_stub: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--json" {
            a.json = true;
            continue;
        }
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.into());
        }
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag}: {e}");
        match flag.as_str() {
            "--protocol" => {
                a.protocol = match v.as_str() {
                    "bolt" => Protocol::Bolt,
                    "resp" => Protocol::Resp,
                    _ => return Err("--protocol is bolt or resp".into()),
                }
            }
            "--host" => a.host = v,
            "--port" => a.port = v.parse().map_err(|e| bad(&e))?,
            "--user" => a.user = v,
            "--password" => a.password = v,
            "--graph" => a.graph = v,
            "--query" => a.query = v,
            "--label" => a.label = v,
            "--clients" => a.clients = v.parse::<usize>().map_err(|e| bad(&e))?.clamp(1, 1024),
            "--pipeline" => a.pipeline = v.parse::<usize>().map_err(|e| bad(&e))?.clamp(1, 1024),
            "--seconds" => a.seconds = v.parse().map_err(|e| bad(&e))?,
            "--warmup" => a.warmup = v.parse().map_err(|e| bad(&e))?,
            "--serve-stub" => a.serve_stub = Some(v.parse().map_err(|e| bad(&e))?),
            "--server-pid" => a.server_pid = Some(v.parse().map_err(|e| bad(&e))?),
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    if a.port == 0 {
        a.port = if a.protocol == Protocol::Bolt {
            7687
        } else {
            6379
        };
    }
    if !(a.seconds > 0.0 && a.seconds < 86_400.0 && a.warmup >= 0.0 && a.warmup < 3600.0) {
        return Err("--seconds must be in (0, 86400) and --warmup in [0, 3600)".into());
    }
    Ok(a)
}

fn bolt_message(out: &mut Vec<u8>, build: impl FnOnce(&mut Encoder<'_>)) {
    let mut payload = Vec::new();
    build(&mut Encoder::new(&mut payload, Flavor::V5));
    chunk::write_message(out, &payload);
}

/// One Bolt connection: handshake (5.0), HELLO with basic auth.
fn bolt_connect(a: &Args) -> Result<(TcpStream, Vec<u8>), String> {
    let mut s = TcpStream::connect((a.host.as_str(), a.port)).map_err(|e| e.to_string())?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut hs = vec![0x60, 0x60, 0xB0, 0x17];
    hs.extend_from_slice(&[0, 0, 0, 5, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
    s.write_all(&hs).map_err(|e| e.to_string())?;
    let mut v = [0u8; 4];
    s.read_exact(&mut v).map_err(|e| e.to_string())?;
    if v == [0, 0, 0, 0] {
        return Err("the server speaks neither Bolt 5.0 nor 4.4".into());
    }
    let mut out = Vec::new();
    let str_err = |e: graphward_packstream::PackError| e.0;
    let mut err = None;
    bolt_message(&mut out, |e| {
        let r = (|| {
            e.struct_header(1, msg::HELLO)?;
            e.map_header(4)?;
            e.string("user_agent")?;
            e.string("graphward-loadgen/1")?;
            e.string("scheme")?;
            e.string("basic")?;
            e.string("principal")?;
            e.string(&a.user)?;
            e.string("credentials")?;
            e.string(&a.password)
        })();
        err = r.err();
    });
    if let Some(e) = err {
        return Err(str_err(e));
    }
    s.write_all(&out).map_err(|e| e.to_string())?;
    let mut inbuf = Vec::new();
    let m = bolt_read(&mut s, &mut inbuf)?;
    if m.get(1) != Some(&msg::SUCCESS) {
        return Err("HELLO was refused (check --user/--password)".into());
    }
    Ok((s, inbuf))
}

/// Reads one Bolt message (its payload) from `s`, buffering in `inbuf`.
fn bolt_read(s: &mut TcpStream, inbuf: &mut Vec<u8>) -> Result<Vec<u8>, String> {
    loop {
        match chunk::parse_message(inbuf, usize::MAX).map_err(|e| e.to_string())? {
            Parsed::Message { consumed, payload } => {
                inbuf.drain(..consumed);
                return Ok(payload);
            }
            Parsed::Noop { consumed } => {
                inbuf.drain(..consumed);
            }
            Parsed::Incomplete => {}
        }
        read_more(s, inbuf)?;
    }
}

fn read_more(s: &mut TcpStream, inbuf: &mut Vec<u8>) -> Result<(), String> {
    let mut buf = [0u8; 64 * 1024];
    let n = s.read(&mut buf).map_err(|e| e.to_string())?;
    if n == 0 {
        return Err("the server closed the connection".into());
    }
    inbuf.extend_from_slice(buf.get(..n).unwrap_or(&[]));
    Ok(())
}

/// RUN + PULL {n: -1} for `query`, in wire form.
fn bolt_request(query: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut err = None;
    bolt_message(&mut out, |e| {
        err = (|| {
            e.struct_header(3, msg::RUN)?;
            e.string(query)?;
            e.map_header(0)?;
            e.map_header(0)
        })()
        .err();
    });
    bolt_message(&mut out, |e| {
        let r = (|| {
            e.struct_header(1, msg::PULL)?;
            e.map_header(1)?;
            e.string("n")
        })();
        e.int(-1);
        if err.is_none() {
            err = r.err();
        }
    });
    match err {
        Some(e) => Err(e.0),
        None => Ok(out),
    }
}

/// Reads the answer to one RUN+PULL: SUCCESS, RECORD*, SUCCESS. Returns the records seen.
fn bolt_answer(s: &mut TcpStream, inbuf: &mut Vec<u8>) -> Result<u64, String> {
    let run = bolt_read(s, inbuf)?;
    if run.get(1) != Some(&msg::SUCCESS) {
        return Err(format!("RUN answered with tag {:?}", run.get(1)));
    }
    let mut records = 0;
    loop {
        let m = bolt_read(s, inbuf)?;
        match m.get(1) {
            Some(&msg::RECORD) => records += 1,
            Some(&msg::SUCCESS) => return Ok(records),
            other => return Err(format!("PULL answered with tag {other:?}")),
        }
    }
}

/// `GRAPH.QUERY graph query` as a RESP array.
fn resp_request(graph: &str, query: &str) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"*3\r\n");
    for part in ["GRAPH.QUERY", graph, query] {
        out.extend_from_slice(format!("${}\r\n", part.len()).as_bytes());
        out.extend_from_slice(part.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The end of one whole RESP value starting at `pos`, `Ok(None)` if incomplete; an error
/// reply (`-...`) is an error.
fn resp_value_end(buf: &[u8], mut pos: usize) -> Result<Option<usize>, String> {
    let mut pending: i64 = 1;
    while pending > 0 {
        let Some(nl) = buf
            .get(pos..)
            .and_then(|b| b.windows(2).position(|w| w == b"\r\n"))
        else {
            return Ok(None);
        };
        let line = buf.get(pos..pos + nl).unwrap_or(&[]);
        let kind = line.first().copied().unwrap_or(0);
        let num = || -> Result<i64, String> {
            std::str::from_utf8(line.get(1..).unwrap_or(&[]))
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| "malformed RESP length".to_string())
        };
        pos += nl + 2;
        match kind {
            b'+' | b':' | b',' | b'#' | b'_' => pending -= 1,
            b'-' => {
                return Err(format!(
                    "server error: {}",
                    String::from_utf8_lossy(line.get(1..).unwrap_or(&[]))
                ))
            }
            b'$' => {
                let n = num()?;
                if n >= 0 {
                    let end = pos + n as usize + 2;
                    if buf.len() < end {
                        return Ok(None);
                    }
                    pos = end;
                }
                pending -= 1;
            }
            b'*' | b'%' => {
                let n = num()?.max(0);
                pending += if kind == b'%' { 2 * n } else { n } - 1;
            }
            _ => return Err(format!("unexpected RESP type {kind:#x}")),
        }
    }
    Ok(Some(pos))
}

fn resp_answer(s: &mut TcpStream, inbuf: &mut Vec<u8>) -> Result<u64, String> {
    loop {
        if let Some(end) = resp_value_end(inbuf, 0)? {
            inbuf.drain(..end);
            return Ok(1);
        }
        read_more(s, inbuf)?;
    }
}

struct Shared {
    measuring: AtomicBool,
    stop: AtomicBool,
    done: AtomicU64,
}

struct ClientResult {
    latencies_us: Vec<u32>,
    records: u64,
}

fn client(a: &Args, shared: &Shared) -> Result<ClientResult, String> {
    let (mut s, mut inbuf, request) = match a.protocol {
        Protocol::Bolt => {
            let (s, inbuf) = bolt_connect(a)?;
            (s, inbuf, bolt_request(&a.query)?)
        }
        Protocol::Resp => {
            let s = TcpStream::connect((a.host.as_str(), a.port)).map_err(|e| e.to_string())?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            (s, Vec::new(), resp_request(&a.graph, &a.query))
        }
    };
    let batch: Vec<u8> = request.repeat(a.pipeline);
    let mut latencies_us = Vec::with_capacity(1 << 16);
    let mut records = 0;
    while !shared.stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        s.write_all(&batch).map_err(|e| e.to_string())?;
        let mut got = 0;
        for _ in 0..a.pipeline {
            got += match a.protocol {
                Protocol::Bolt => bolt_answer(&mut s, &mut inbuf)?,
                Protocol::Resp => resp_answer(&mut s, &mut inbuf)?,
            };
        }
        if shared.measuring.load(Ordering::Relaxed) && !shared.stop.load(Ordering::Relaxed) {
            let us = u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX);
            latencies_us.push(us);
            records += got;
            shared.done.fetch_add(a.pipeline as u64, Ordering::Relaxed);
        }
    }
    Ok(ClientResult {
        latencies_us,
        records,
    })
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted.get(idx.min(sorted.len() - 1)).copied().unwrap_or(0)) / 1000.0
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("graphward-loadgen: {e}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<(), String> {
    let a = parse_args()?;
    if let Some(port) = a.serve_stub {
        return serve_stub(port);
    }
    let shared = Arc::new(Shared {
        measuring: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        done: AtomicU64::new(0),
    });
    let mut handles = Vec::new();
    for _ in 0..a.clients {
        let (a, shared) = (a.clone(), shared.clone());
        handles.push(std::thread::spawn(move || {
            let r = client(&a, &shared);
            if r.is_err() {
                // One failed client ends the run for all.
                shared.stop.store(true, Ordering::Relaxed);
            }
            r
        }));
    }
    std::thread::sleep(Duration::from_secs_f64(a.warmup));
    let pid = a.server_pid.map(|p| p.to_string());
    let server0 = pid.as_deref().and_then(cpu_seconds);
    let client0 = cpu_seconds("self");
    let t0 = Instant::now();
    shared.measuring.store(true, Ordering::Relaxed);
    let end = t0 + Duration::from_secs_f64(a.seconds);
    while Instant::now() < end && !shared.stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(20).min(end - Instant::now().min(end)));
    }
    shared.stop.store(true, Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    let server1 = pid.as_deref().and_then(cpu_seconds);
    let client1 = cpu_seconds("self");
    let mut lat = Vec::new();
    let mut records = 0;
    for h in handles {
        let r = h
            .join()
            .map_err(|_| "a client thread panicked".to_string())??;
        lat.extend(r.latencies_us);
        records += r.records;
    }
    lat.sort_unstable();
    let queries = shared.done.load(Ordering::Relaxed);
    if queries == 0 {
        return Err("no query completed in the measured window".into());
    }
    let qps = queries as f64 / elapsed;
    let per_query_us = |c0: Option<f64>, c1: Option<f64>| match (c0, c1) {
        (Some(x), Some(y)) => Some((y - x) * 1e6 / queries as f64),
        _ => None,
    };
    let server_us = per_query_us(server0, server1);
    let client_us = per_query_us(client0, client1);
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    let proto = match a.protocol {
        Protocol::Bolt => "bolt",
        Protocol::Resp => "resp",
    };
    let opt = |v: Option<f64>| v.map_or("null".to_string(), |x| format!("{x:.1}"));
    if a.json {
        println!(
            "{{\"label\":{:?},\"protocol\":\"{proto}\",\"query\":{:?},\"clients\":{},\"pipeline\":{},\"seconds\":{elapsed:.3},\"queries\":{queries},\"records\":{records},\"qps\":{qps:.1},\"p50_ms\":{p50:.3},\"p99_ms\":{p99:.3},\"server_cpu_us_per_query\":{},\"client_cpu_us_per_query\":{}}}",
            a.label, a.query, a.clients, a.pipeline, opt(server_us), opt(client_us)
        );
    } else {
        println!(
            "====== {proto} {:?} ======\n  {queries} queries in {elapsed:.2} s, {} clients, pipeline {}\n  {qps:.0} queries/s\n  latency of a round trip: p50 {p50:.3} ms, p99 {p99:.3} ms\n  server CPU per query: {} us\n  generator CPU per query: {} us",
            a.query,
            a.clients,
            a.pipeline,
            opt(server_us),
            opt(client_us)
        );
    }
    Ok(())
}

/// A trivial Bolt server on 127.0.0.1:`port`: every RUN yields one record `1`. One thread per
/// connection; all answers to what one read brought are written at once.
fn serve_stub(port: u16) -> Result<(), String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    println!("stub listening on 127.0.0.1:{port}");
    for conn in listener.incoming() {
        let Ok(s) = conn else { continue };
        std::thread::spawn(move || {
            let _ = stub_connection(s);
        });
    }
    Ok(())
}

fn stub_connection(mut s: TcpStream) -> Result<(), String> {
    use graphward_packstream::handshake::{self, Negotiation};
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut hs = [0u8; 20];
    s.read_exact(&mut hs).map_err(|e| e.to_string())?;
    let mut proposals = [0u8; 16];
    proposals.copy_from_slice(hs.get(4..).unwrap_or(&[0; 16]));
    match handshake::negotiate(&proposals) {
        Negotiation::Version(v) => s.write_all(&v.to_bytes()).map_err(|e| e.to_string())?,
        Negotiation::Manifest => {
            s.write_all(&handshake::manifest_reply())
                .map_err(|e| e.to_string())?;
            let mut choice = [0u8; 5];
            s.read_exact(&mut choice).map_err(|e| e.to_string())?;
        }
        Negotiation::NoMatch => return Err("no common version".into()),
    }
    let mut inbuf = Vec::new();
    let mut out = Vec::new();
    let success = |out: &mut Vec<u8>, fields: &[(&str, &str)]| {
        bolt_message(out, |e| {
            let _ = e.struct_header(1, msg::SUCCESS);
            let _ = e.map_header(fields.len());
            for (k, v) in fields {
                let _ = e.string(k);
                let _ = e.string(v);
            }
        });
    };
    loop {
        read_more(&mut s, &mut inbuf)?;
        loop {
            let (consumed, payload) =
                match chunk::parse_message(&inbuf, usize::MAX).map_err(|e| e.to_string())? {
                    Parsed::Incomplete => break,
                    Parsed::Noop { consumed } => (consumed, Vec::new()),
                    Parsed::Message { consumed, payload } => (consumed, payload),
                };
            inbuf.drain(..consumed);
            match payload.get(1).copied() {
                None => {}
                Some(msg::GOODBYE) => return Ok(()),
                Some(msg::HELLO) => success(
                    &mut out,
                    &[("server", "Neo4j/5.26.0"), ("connection_id", "stub")],
                ),
                Some(msg::RUN) => bolt_message(&mut out, |e| {
                    let _ = e.struct_header(1, msg::SUCCESS);
                    let _ = e.map_header(1);
                    let _ = e.string("fields");
                    let _ = e.list_header(1);
                    let _ = e.string("1");
                }),
                Some(msg::PULL) => {
                    bolt_message(&mut out, |e| {
                        let _ = e.struct_header(1, msg::RECORD);
                        let _ = e.list_header(1);
                        e.int(1);
                    });
                    success(&mut out, &[("type", "r"), ("db", "neo4j")]);
                }
                Some(_) => success(&mut out, &[]),
            }
        }
        if !out.is_empty() {
            s.write_all(&out).map_err(|e| e.to_string())?;
            out.clear();
        }
    }
}
