//! `graphward check`, `graphward backup` and `graphward restore`: the storage tooling.
//!
//! * `check --data-dir D` (server stopped): the startup checks, offline: one line per
//!   database the catalog lists; exit status 1 when one fails.
//! * `backup --to DIR` (server running): asks the server (`POST /admin/backup`, admin
//!   credentials, HTTP or HTTPS) for a consistent snapshot of every database and of the auth
//!   state, downloads every file, verifies each SHA-256 against the manifest, writes
//!   `DIR/manifest.json`, verifies the whole directory again, and only then reports done.
//! * `restore --from DIR --data-dir D` (server stopped): verifies the backup, then copies it
//!   into D (files 0600, directories 0700) and runs the startup checks on the result.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use graphward_http::backup::{sha256_file, SnapshotWriter, MANIFEST};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The data directory to check (the server must be stopped)
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Directory to write the backup to (created mode 0700; must be empty or missing)
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct CompactArgs {
    /// The database to compact
    #[arg(long, value_name = "NAME")]
    pub database: String,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// How to reach a running server's HTTP listener as an administrator.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address of the server's HTTP listener
    #[arg(long, value_name = "HOST", default_value = "127.0.0.1")]
    pub address: String,
    /// Port of the server's HTTP listener
    #[arg(long, value_name = "PORT", default_value_t = 7474)]
    pub port: u16,
    /// Use HTTPS, verifying the server against the system's roots (or --ca-file)
    #[arg(long)]
    pub use_ssl: bool,
    /// Verify the server's certificate against the CA certificate(s) in this PEM file
    /// (implies --use-ssl)
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// User name (needs ADMIN on every graph) [env: GRAPHWARD_USER] [default: neo4j]; the
    /// password comes from GRAPHWARD_PASSWORD or a prompt
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup directory (written by `graphward backup`)
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// The data directory to restore into (the server must be stopped)
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Restore over existing data: the current `databases/` and `system/` are moved aside
    /// into DATA_DIR/pre-restore-<time>/ first (never deleted)
    #[arg(long)]
    pub force: bool,
}

// ---------------------------------------------------------------------------------------------
// check

/// `graphward check`.
pub fn check(a: &CheckArgs) -> ExitCode {
    let reports = match graphward_storage::Storage::check_dir(&a.data_dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("graphward check: {}", e.message);
            return ExitCode::from(2);
        }
    };
    let mut failed = 0;
    for r in &reports {
        match &r.result {
            Ok((nodes, rels)) => {
                println!("{}: ok ({nodes} nodes, {rels} relationships)", r.name)
            }
            Err(e) => {
                failed += 1;
                let what = if graphward_storage::is_locked(e) {
                    "in use (is the server running? stop it first)"
                } else {
                    "offline"
                };
                println!("{}: {what}: {}", r.name, e.message);
            }
        }
    }
    if reports.is_empty() {
        println!("no databases in {}", a.data_dir.display());
    }
    if failed > 0 {
        eprintln!(
            "graphward check: {failed} of {} databases failed",
            reports.len()
        );
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

// ---------------------------------------------------------------------------------------------
// the server's side of a backup

/// What the server writes into a backup: every database (consistent snapshot each) and the
/// auth state.
pub struct ServerSnapshot {
    pub engine: graphward_cypher::Engine,
    pub auth: Arc<graphward_auth::AuthService>,
}

impl SnapshotWriter for ServerSnapshot {
    fn write_snapshot(&self, dir: &Path) -> Result<serde_json::Value, String> {
        let dbs = self
            .engine
            .storage()
            .backup_to(dir)
            .map_err(|e| e.message)?;
        self.auth.backup_to(dir).map_err(|e| e.message)?;
        let mut saved = Vec::new();
        let mut skipped = Vec::new();
        for c in dbs {
            let name = c.name;
            match c.result {
                Ok((nodes, rels)) => saved
                    .push(serde_json::json!({"name": name, "nodes": nodes, "relationships": rels})),
                Err(e) => skipped.push(serde_json::json!({"name": name, "reason": e.message})),
            }
        }
        Ok(serde_json::json!({"databases": saved, "skipped": skipped}))
    }

    fn compact(&self, database: &str) -> graphward_core::Result<(u64, u64)> {
        self.engine.compact_database(database)
    }
}

// ---------------------------------------------------------------------------------------------
// a minimal HTTP/1.1 client (one request per connection)

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// A response whose head was read: status, Content-Length, the part of the body already read,
/// and the connection positioned after it.
struct Answer {
    status: u16,
    length: Option<u64>,
    first: Vec<u8>,
    conn: Box<dyn Stream>,
}

const TIMEOUT: Duration = Duration::from_secs(300);
/// Largest JSON answer read (the manifest).
const MAX_JSON: usize = 16 << 20;

struct Client {
    host: String,
    port: u16,
    authority: String,
    tls: Option<Arc<graphward_tls::rustls::ClientConfig>>,
    basic: String,
}

impl Client {
    fn new(a: &ServerArgs) -> Result<Client, String> {
        use base64::Engine as _;
        let user = a
            .username
            .clone()
            .or_else(|| {
                std::env::var("GRAPHWARD_USER")
                    .ok()
                    .filter(|u| !u.is_empty())
            })
            .unwrap_or_else(|| "neo4j".to_string());
        let password = match std::env::var("GRAPHWARD_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty())
        {
            Some(p) => p,
            None if std::io::stdin().is_terminal() => {
                rpassword::prompt_password(format!("Password for {user}: "))
                    .map_err(|e| format!("cannot read the password: {e}"))?
            }
            None => {
                return Err(format!(
                    "no password for {user}: set GRAPHWARD_PASSWORD or run interactively to be prompted"
                ))
            }
        };
        let host = a
            .address
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let authority = if host.contains(':') {
            format!("[{host}]:{}", a.port)
        } else {
            format!("{host}:{}", a.port)
        };
        let tls = if a.use_ssl || a.ca_file.is_some() {
            use graphward_shell::connect::{client_config, TlsMode};
            let mode = match &a.ca_file {
                Some(f) => TlsMode::CaFile(f.clone()),
                None => TlsMode::SystemRoots,
            };
            Some(Arc::new(client_config(&mode).map_err(|e| e.to_string())?))
        } else {
            None
        };
        Ok(Client {
            host,
            port: a.port,
            authority,
            tls,
            basic: base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")),
        })
    }

    fn connect(&self) -> Result<Box<dyn Stream>, String> {
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&(self.host.as_str(), self.port))
            .map_err(|e| format!("cannot resolve {}: {e}", self.host))?
            .next()
            .ok_or_else(|| format!("cannot resolve {}", self.host))?;
        let sock =
            std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(|e| {
                format!(
                    "cannot connect to {}: {e} (is the server running? check --address/--port)",
                    self.authority
                )
            })?;
        sock.set_read_timeout(Some(TIMEOUT)).ok();
        sock.set_write_timeout(Some(TIMEOUT)).ok();
        match &self.tls {
            None => Ok(Box::new(sock)),
            Some(config) => {
                let name =
                    graphward_tls::rustls::pki_types::ServerName::try_from(self.host.clone())
                        .map_err(|_| {
                            format!(
                                "{} is neither a DNS name nor an IP address usable with TLS",
                                self.host
                            )
                        })?;
                let conn = graphward_tls::rustls::ClientConnection::new(config.clone(), name)
                    .map_err(|e| format!("TLS setup: {e}"))?;
                Ok(Box::new(graphward_tls::rustls::StreamOwned::new(
                    conn, sock,
                )))
            }
        }
    }

    /// Sends a request; returns the status, the Content-Length and the connection positioned
    /// at the body (with what of it was already read).
    fn send(&self, method: &str, target: &str) -> Result<Answer, String> {
        let mut s = self.connect()?;
        let req = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nUser-Agent: graphward-backup\r\nAuthorization: Basic {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.authority, self.basic
        );
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let fail = |e: String| {
            let hint = if self.tls.is_some() {
                "is the port serving HTTPS? try without --use-ssl"
            } else {
                "an HTTPS server? try --use-ssl"
            };
            format!("{scheme}://{}{target}: {e} ({hint})", self.authority)
        };
        s.write_all(req.as_bytes())
            .map_err(|e| fail(e.to_string()))?;
        let mut head = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        let end = loop {
            if let Some(p) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                break p;
            }
            if head.len() > 64 * 1024 {
                return Err(fail("response head too large".into()));
            }
            let n = s.read(&mut buf).map_err(|e| fail(e.to_string()))?;
            if n == 0 {
                return Err(fail("connection closed before the response".into()));
            }
            head.extend_from_slice(&buf[..n]);
        };
        let rest = head.split_off(end + 4);
        let text = String::from_utf8_lossy(&head[..end]).to_string();
        let mut lines = text.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| fail("malformed status line".into()))?;
        let mut length = None;
        for l in lines {
            if let Some((k, v)) = l.split_once(':') {
                let k = k.trim();
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().ok();
                } else if k.eq_ignore_ascii_case("transfer-encoding")
                    && !v.trim().eq_ignore_ascii_case("identity")
                {
                    return Err(fail(format!("unsupported transfer encoding {}", v.trim())));
                }
            }
        }
        Ok(Answer {
            status,
            length,
            first: rest,
            conn: s,
        })
    }

    /// A request answered with JSON.
    fn json(&self, method: &str, target: &str) -> Result<serde_json::Value, String> {
        let Answer {
            status,
            length,
            first: mut body,
            conn: mut s,
        } = self.send(method, target)?;
        if length.is_some_and(|l| l > MAX_JSON as u64) {
            return Err(format!("answer larger than {MAX_JSON} bytes"));
        }
        let mut buf = [0u8; 16 * 1024];
        while length.is_none_or(|l| (body.len() as u64) < l) {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => body.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e.to_string()),
            }
            if body.len() > MAX_JSON {
                return Err(format!("answer larger than {MAX_JSON} bytes"));
            }
        }
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        if status != 200 {
            let message = json["errors"][0]["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_string());
            return Err(format!("the server refused (HTTP {status}): {message}"));
        }
        Ok(json)
    }

    /// Downloads a file to `dest`, returning its size and SHA-256.
    fn download(&self, target: &str, dest: &Path) -> Result<(u64, String), String> {
        let Answer {
            status,
            length,
            first,
            conn: mut s,
        } = self.send("GET", target)?;
        if status != 200 {
            return Err(format!("{target}: HTTP {status}"));
        }
        let length = length.ok_or_else(|| format!("{target}: no Content-Length"))?;
        let mut f = create_private_file(dest)?;
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        let mut got = first.len() as u64;
        f.write_all(&first)
            .map_err(|e| format!("{}: {e}", dest.display()))?;
        ctx.update(&first);
        let mut buf = vec![0u8; 256 * 1024];
        while got < length {
            let n = match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(format!("{target}: {e}")),
            };
            f.write_all(&buf[..n])
                .map_err(|e| format!("{}: {e}", dest.display()))?;
            ctx.update(&buf[..n]);
            got += n as u64;
        }
        if got != length {
            return Err(format!(
                "{target}: got {got} of {length} bytes (connection cut)"
            ));
        }
        f.sync_all()
            .map_err(|e| format!("{}: {e}", dest.display()))?;
        Ok((got, hex(ctx.finish().as_ref())))
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn create_private_dir(dir: &Path) -> Result<(), String> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

fn create_private_file(path: &Path) -> Result<std::fs::File, String> {
    if let Some(parent) = path.parent() {
        create_private_dir(parent)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))
}

/// A manifest path as a relative path under a directory: plain components only, under
/// `databases/` or `system/` (nothing else of a data directory is restored).
fn safe_join(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    if !(rel.starts_with("databases/") || rel.starts_with("system/")) {
        return Err(format!(
            "unexpected path {rel:?} in the manifest (only databases/ and system/)"
        ));
    }
    let mut out = dir.to_path_buf();
    for part in rel.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains('\\') {
            return Err(format!("unsafe path {rel:?} in the manifest"));
        }
        out.push(part);
    }
    Ok(out)
}

/// Checks every file of a backup directory against its manifest; returns the manifest.
pub fn verify_backup(dir: &Path) -> Result<serde_json::Value, String> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a backup manifest: {e}", path.display()))?;
    if manifest["format"].as_str() != Some("graphward-backup-1") {
        return Err(format!(
            "{} is not a graphward backup manifest",
            path.display()
        ));
    }
    let files = manifest["files"]
        .as_array()
        .ok_or_else(|| format!("{}: no file list", path.display()))?;
    for f in files {
        let rel = f["path"].as_str().ok_or("a manifest entry has no path")?;
        let want = f["sha256"]
            .as_str()
            .ok_or("a manifest entry has no sha256")?;
        let p = safe_join(dir, rel)?;
        let got = sha256_file(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        if got != want {
            return Err(format!(
                "{} is damaged: its SHA-256 is {got}, the manifest says {want}",
                p.display()
            ));
        }
    }
    Ok(manifest)
}

// ---------------------------------------------------------------------------------------------
// backup

/// `graphward backup`.
pub fn backup(a: &BackupArgs) -> ExitCode {
    match run_backup(a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("graphward backup: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_backup(a: &BackupArgs) -> Result<(), String> {
    if a.to.exists() {
        let mut entries =
            std::fs::read_dir(&a.to).map_err(|e| format!("cannot read {}: {e}", a.to.display()))?;
        if entries.next().is_some() {
            return Err(format!(
                "{} is not empty: give a new directory for each backup",
                a.to.display()
            ));
        }
    }
    create_private_dir(&a.to)?;
    let client = Client::new(&a.server)?;
    let manifest = client.json("POST", "/admin/backup")?;
    let id = manifest["id"]
        .as_str()
        .ok_or("the server's answer has no backup id")?
        .to_string();
    let result = fetch_all(&client, &id, &manifest, &a.to);
    // The staging on the server goes either way.
    let cleanup = client.json("DELETE", &format!("/admin/backup/{id}"));
    result?;
    if let Err(e) = cleanup {
        eprintln!("graphward backup: warning: the server kept its staged copy: {e}");
    }
    let verified = verify_backup(&a.to)?;
    for d in verified["contents"]["databases"]
        .as_array()
        .into_iter()
        .flatten()
    {
        println!(
            "{}: {} nodes, {} relationships",
            d["name"].as_str().unwrap_or("?"),
            d["nodes"],
            d["relationships"]
        );
    }
    for d in verified["contents"]["skipped"]
        .as_array()
        .into_iter()
        .flatten()
    {
        println!(
            "{}: SKIPPED (offline: {})",
            d["name"].as_str().unwrap_or("?"),
            d["reason"].as_str().unwrap_or("")
        );
    }
    let files = verified["files"].as_array().map_or(0, Vec::len);
    println!(
        "backup complete and verified: {files} files in {}",
        a.to.display()
    );
    Ok(())
}

fn fetch_all(
    client: &Client,
    id: &str,
    manifest: &serde_json::Value,
    dir: &Path,
) -> Result<(), String> {
    let files = manifest["files"]
        .as_array()
        .ok_or("the server's manifest has no file list")?;
    for f in files {
        let rel = f["path"].as_str().ok_or("a manifest entry has no path")?;
        let want = f["sha256"]
            .as_str()
            .ok_or("a manifest entry has no sha256")?;
        let dest = safe_join(dir, rel)?;
        let part = dest.with_extension("part");
        let target = format!("/admin/backup/{id}/file?path={}", url_encode(rel));
        let (bytes, sha) = client.download(&target, &part)?;
        if sha != want || Some(bytes) != f["bytes"].as_u64() {
            let _ = std::fs::remove_file(&part);
            return Err(format!(
                "{rel}: the download does not match the manifest (SHA-256 {sha}, expected {want})"
            ));
        }
        std::fs::rename(&part, &dest)
            .map_err(|e| format!("cannot rename {}: {e}", part.display()))?;
    }
    let mut f = create_private_file(&dir.join(MANIFEST))?;
    let text = serde_json::to_string_pretty(manifest).map_err(|e| e.to_string())?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write the manifest: {e}"))?;
    Ok(())
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// compact

/// `graphward compact`: `POST /admin/compact/{database}` on a running server.
pub fn compact(a: &CompactArgs) -> ExitCode {
    let run = || -> Result<serde_json::Value, String> {
        let client = Client::new(&a.server)?;
        client.json(
            "POST",
            &format!("/admin/compact/{}", url_encode(&a.database)),
        )
    };
    match run() {
        Ok(r) => {
            println!(
                "{}: compacted, {} -> {} bytes",
                a.database, r["bytes_before"], r["bytes_after"]
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("graphward compact: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// restore

/// `graphward restore`.
pub fn restore(a: &RestoreArgs) -> ExitCode {
    match run_restore(a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("graphward restore: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_restore(a: &RestoreArgs) -> Result<(), String> {
    let manifest = verify_backup(&a.from)?;
    println!("backup verified: every checksum matches");
    let targets = [a.data_dir.join("databases"), a.data_dir.join("system")];
    let existing: Vec<&PathBuf> = targets
        .iter()
        .filter(|p| {
            std::fs::read_dir(p)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false)
        })
        .collect();
    if !existing.is_empty() {
        if !a.force {
            return Err(format!(
                "{} already holds data: restore into an empty data directory, or add --force to move the current data aside first",
                a.data_dir.display()
            ));
        }
        // Refuse while a server has the files open.
        if let Ok(reports) = graphward_storage::Storage::check_dir(&a.data_dir) {
            if reports
                .iter()
                .any(|r| r.result.as_ref().is_err_and(graphward_storage::is_locked))
            {
                return Err(format!(
                    "a server is using {}: stop it first",
                    a.data_dir.display()
                ));
            }
        }
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let aside = a.data_dir.join(format!("pre-restore-{stamp}"));
        create_private_dir(&aside)?;
        for p in existing {
            if let Some(name) = p.file_name() {
                std::fs::rename(p, aside.join(name))
                    .map_err(|e| format!("cannot move {} aside: {e}", p.display()))?;
            }
        }
        println!("the previous data was moved to {}", aside.display());
    }
    let files = manifest["files"].as_array().ok_or("no file list")?;
    // The catalog last: until it is in place the restored databases are not listed.
    let mut ordered: Vec<&str> = files.iter().filter_map(|f| f["path"].as_str()).collect();
    ordered.sort_by_key(|p| p.ends_with("databases/catalog"));
    for rel in ordered {
        let src = safe_join(&a.from, rel)?;
        let dest = safe_join(&a.data_dir, rel)?;
        let part = dest.with_extension("restore-part");
        let mut input = std::fs::File::open(&src).map_err(|e| format!("{}: {e}", src.display()))?;
        let mut out = create_private_file(&part)?;
        std::io::copy(&mut input, &mut out)
            .and_then(|_| out.sync_all())
            .map_err(|e| format!("cannot copy {}: {e}", src.display()))?;
        std::fs::rename(&part, &dest)
            .map_err(|e| format!("cannot rename {}: {e}", part.display()))?;
    }
    for d in ["databases", "system"] {
        if let Ok(f) = std::fs::File::open(a.data_dir.join(d)) {
            let _ = f.sync_all();
        }
    }
    let reports = graphward_storage::Storage::check_dir(&a.data_dir).map_err(|e| e.message)?;
    let mut failed = 0;
    for r in &reports {
        match &r.result {
            Ok((n, rels)) => println!("{}: ok ({n} nodes, {rels} relationships)", r.name),
            Err(e) => {
                failed += 1;
                println!("{}: offline: {}", r.name, e.message);
            }
        }
    }
    if failed > 0 {
        return Err(format!("{failed} restored databases failed their check"));
    }
    println!("restore complete into {}", a.data_dir.display());
    Ok(())
}
