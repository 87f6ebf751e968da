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

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use graphward_http::backup::{sha256_file, SnapshotWriter, MANIFEST};

use crate::admin_client::AdminClient;
pub use crate::admin_client::ServerArgs;

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
            .map_err(|e| e.into_data().message)?;
        self.auth
            .backup_to(dir)
            .map_err(|e| e.into_data().message)?;
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
// the admin client (crate::admin_client, on ureq)

/// Each read or write of the connection may wait this long.
const TIMEOUT: Duration = Duration::from_secs(300);
/// Largest JSON answer read (the manifest).
const MAX_JSON: u64 = 16 << 20;

struct Client(AdminClient);

impl Client {
    fn new(a: &ServerArgs) -> Result<Client, String> {
        AdminClient::new(a, TIMEOUT).map(Client)
    }

    /// A request answered with JSON.
    fn json(&self, method: &str, target: &str) -> Result<serde_json::Value, String> {
        let (status, json, body) = self.0.send(method, target)?.json(MAX_JSON)?;
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
        let answer = self.0.send("GET", target)?;
        if answer.status != 200 {
            return Err(format!("{target}: HTTP {}", answer.status));
        }
        let length = answer
            .content_length()
            .ok_or_else(|| format!("{target}: no Content-Length"))?;
        let mut body = answer.into_reader();
        let mut f = create_private_file(dest)?;
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        let mut got = 0u64;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
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
    let reports =
        graphward_storage::Storage::check_dir(&a.data_dir).map_err(|e| e.into_data().message)?;
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
