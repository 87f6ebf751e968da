//! Online backup over HTTP(S), for `graphward backup`.
//!
//! * `POST /admin/backup`: the server writes a consistent snapshot of every database and of
//!   the auth state into a private staging directory (`DATA_DIR/backup-staging/<id>`, mode
//!   0700), computes the SHA-256 of every file and answers the manifest (`id`, `files` with
//!   `path`, `bytes`, `sha256`, and what each database held).
//! * `GET /admin/backup/{id}/file?path=P`: one file of the manifest, raw, with its length.
//! * `DELETE /admin/backup/{id}`: removes the staging directory (the client calls it once it
//!   has every file and verified every checksum).
//!
//! Each is authorized from a typed [`MaintenanceCommand`] by the engine's table
//! (`QueryEngine::authorize`: ADMIN on every graph, no graph-scoped token, rights as stored
//! now). At
//! most [`MAX_STAGED`] backups are staged at once; one left behind for more than
//! [`STAGE_TTL`] is removed by the next `POST`, and all of them at server start.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use graphward_core::commands::{Command, MaintenanceCommand};

use crate::error::{codes, ApiError};
use crate::Shared;

/// Most backups staged at once.
pub const MAX_STAGED: usize = 2;
/// A staged backup not collected within this time is removed.
pub const STAGE_TTL: Duration = Duration::from_secs(3600);
/// The manifest file of a backup (also written by the client into its directory).
pub const MANIFEST: &str = "manifest.json";

/// The storage operations behind the admin endpoints; implemented by the binary (databases
/// and auth state). Blocks: called on the blocking pool.
pub trait SnapshotWriter: Send + Sync + 'static {
    /// Writes the snapshot files under `dir`. Returns facts to include in the manifest (e.g.
    /// per-database counts).
    fn write_snapshot(&self, dir: &Path) -> Result<serde_json::Value, String>;
    /// Compacts one database (`POST /admin/compact/{database}`): its size before and after.
    fn compact(&self, database: &str) -> graphward_core::Result<(u64, u64)>;
}

struct Staged {
    dir: PathBuf,
    created: Instant,
    /// Relative path -> size, the files the client may fetch.
    files: HashMap<String, u64>,
}

/// The staging area and the snapshot writer.
pub struct Backups {
    root: PathBuf,
    writer: Arc<dyn SnapshotWriter>,
    staged: Mutex<HashMap<String, Staged>>,
}

fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Lowercase hex SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    Ok(hex(ctx.finish().as_ref()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Every regular file under `dir`, as `/`-separated relative paths, sorted.
pub fn list_files(dir: &Path) -> std::io::Result<Vec<String>> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let ty = entry.file_type()?;
            let path = entry.path();
            if ty.is_dir() {
                walk(base, &path, out)?;
            } else if ty.is_file() {
                if let Ok(rel) = path.strip_prefix(base) {
                    let parts: Vec<String> = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    out.push(parts.join("/"));
                }
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

impl Backups {
    /// Stages under `data_dir/backup-staging` (whatever a previous run left there is removed).
    pub fn new(data_dir: &Path, writer: Arc<dyn SnapshotWriter>) -> Backups {
        let root = data_dir.join("backup-staging");
        if root.exists() {
            if let Err(e) = std::fs::remove_dir_all(&root) {
                tracing::warn!(dir = %root.display(), error = %e, "cannot remove old backup staging");
            }
        }
        Backups {
            root,
            writer,
            staged: Mutex::new(HashMap::new()),
        }
    }

    fn create(&self) -> Result<serde_json::Value, ApiError> {
        let id = {
            let mut staged = self
                .staged
                .lock()
                .map_err(|_| ApiError::internal("backup lock poisoned"))?;
            let expired: Vec<String> = staged
                .iter()
                .filter(|(_, s)| s.created.elapsed() > STAGE_TTL)
                .map(|(k, _)| k.clone())
                .collect();
            for k in expired {
                if let Some(s) = staged.remove(&k) {
                    let _ = std::fs::remove_dir_all(&s.dir);
                }
            }
            if staged.len() >= MAX_STAGED {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    codes::TOO_MANY_TRANSACTIONS,
                    format!(
                        "{MAX_STAGED} backups are already staged on the server: let them finish (or DELETE /admin/backup/ID) first"
                    ),
                ));
            }
            let mut raw = [0u8; 12];
            aws_lc_rs::rand::fill(&mut raw)
                .map_err(|_| ApiError::internal("no randomness for the backup id"))?;
            let id = hex(&raw);
            // Reserve the slot while the snapshot is written.
            staged.insert(
                id.clone(),
                Staged {
                    dir: self.root.join(&id),
                    created: Instant::now(),
                    files: HashMap::new(),
                },
            );
            id
        };
        let dir = self.root.join(&id);
        let result = self.stage(&dir);
        let mut staged = self
            .staged
            .lock()
            .map_err(|_| ApiError::internal("backup lock poisoned"))?;
        match result {
            Ok((manifest, files)) => {
                if let Some(s) = staged.get_mut(&id) {
                    s.files = files;
                }
                let mut manifest = manifest;
                if let Some(o) = manifest.as_object_mut() {
                    o.insert("id".into(), serde_json::Value::String(id));
                }
                Ok(manifest)
            }
            Err(e) => {
                staged.remove(&id);
                let _ = std::fs::remove_dir_all(&dir);
                Err(ApiError::internal(format!("backup failed: {e}")))
            }
        }
    }

    fn stage(&self, dir: &Path) -> Result<(serde_json::Value, HashMap<String, u64>), String> {
        private_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let facts = self.writer.write_snapshot(dir)?;
        let mut files = Vec::new();
        let mut sizes = HashMap::new();
        for rel in list_files(dir).map_err(|e| format!("cannot list the snapshot: {e}"))? {
            let path = dir.join(&rel);
            let bytes = std::fs::metadata(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .len();
            let sha256 = sha256_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            sizes.insert(rel.clone(), bytes);
            files.push(serde_json::json!({"path": rel, "bytes": bytes, "sha256": sha256}));
        }
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let manifest = serde_json::json!({
            "format": "graphward-backup-1",
            "created_unix": created,
            "version": crate::VERSION,
            "files": files,
            "contents": facts,
        });
        Ok((manifest, sizes))
    }

    fn file(&self, id: &str, rel: &str) -> Result<(PathBuf, u64), ApiError> {
        let staged = self
            .staged
            .lock()
            .map_err(|_| ApiError::internal("backup lock poisoned"))?;
        let s = staged.get(id).ok_or_else(|| unknown(id))?;
        // Only paths of the manifest: no traversal is possible.
        let size = *s.files.get(rel).ok_or_else(|| {
            ApiError::not_found(codes::NOT_FOUND, format!("backup {id} has no file {rel:?}"))
        })?;
        Ok((s.dir.join(rel), size))
    }

    fn remove(&self, id: &str) -> Result<(), ApiError> {
        let s = self
            .staged
            .lock()
            .map_err(|_| ApiError::internal("backup lock poisoned"))?
            .remove(id)
            .ok_or_else(|| unknown(id))?;
        std::fs::remove_dir_all(&s.dir)
            .map_err(|e| ApiError::internal(format!("cannot remove the staged backup: {e}")))
    }
}

fn unknown(id: &str) -> ApiError {
    ApiError::not_found(
        codes::NOT_FOUND,
        format!("no staged backup {id:?} (finished, expired or never made)"),
    )
}

/// Authorize `command` through the engine's table (ADMIN on every graph), then hand out the
/// staging area.
async fn admin_only(
    app: &Shared,
    req: Request,
    command: MaintenanceCommand,
) -> Result<Arc<Backups>, ApiError> {
    let (parts, _body) = req.into_parts();
    crate::authorize(
        app,
        &parts.headers,
        crate::peer_of(&parts.extensions),
        Command::Maintenance(command),
    )
    .await?;
    app.state.backups.clone().ok_or_else(|| {
        ApiError::not_found(codes::NOT_FOUND, "backups are not available on this server")
    })
}

/// `POST /admin/backup`.
pub(crate) async fn create(State(app): State<Shared>, req: Request) -> Result<Response, ApiError> {
    let backups = admin_only(&app, req, MaintenanceCommand::Backup).await?;
    let started = Instant::now();
    let manifest = crate::blocking(move || backups.create()).await??;
    tracing::info!(
        id = manifest["id"].as_str().unwrap_or(""),
        seconds = started.elapsed().as_secs_f64(),
        "backup snapshot staged"
    );
    Ok(crate::json_response(StatusCode::OK, &manifest))
}

#[derive(Debug, Deserialize)]
pub(crate) struct FileParams {
    path: String,
}

/// `GET /admin/backup/{id}/file?path=P`.
pub(crate) async fn file(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<String>,
    Query(params): Query<FileParams>,
    req: Request,
) -> Result<Response, ApiError> {
    let backups = admin_only(&app, req, MaintenanceCommand::Backup).await?;
    let (path, size) = backups.file(&id, &params.path)?;
    let f = tokio::fs::File::open(&path)
        .await
        .map_err(|e| ApiError::internal(format!("cannot open the staged file: {e}")))?;
    let stream = futures_util::stream::unfold(f, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 256 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    let mut r = (StatusCode::OK, Body::from_stream(stream)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    Ok(r)
}

/// `POST /admin/compact/{database}`: compacts one database file (free pages go back to the
/// file system). Refused with 409 while transactions are open on it (a conflict with the
/// database's current state: retry when it is quiet), 503 when the database is not online.
pub(crate) async fn compact(
    State(app): State<Shared>,
    UrlPath(database): UrlPath<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let command = MaintenanceCommand::Compact {
        database: database.clone(),
    };
    let backups = admin_only(&app, req, command).await?;
    let writer = backups.writer.clone();
    let name = database.clone();
    let started = Instant::now();
    let engine = app.state.engine.clone();
    let (before, after) = crate::blocking(move || {
        writer.compact(&name).map_err(|e| {
            let online = engine.databases().iter().any(|d| {
                d.name == name && d.status == graphward_core::engine::DatabaseStatus::Online
            });
            if e.code == graphward_core::ErrorCode::DatabaseUnavailable && online {
                ApiError::new(StatusCode::CONFLICT, e.code.as_str(), e.into_data().message)
            } else {
                ApiError::from(e)
            }
        })
    })
    .await??;
    tracing::info!(
        database = %database,
        before,
        after,
        seconds = started.elapsed().as_secs_f64(),
        "database compacted"
    );
    Ok(crate::json_response(
        StatusCode::OK,
        &serde_json::json!({"database": database, "bytes_before": before, "bytes_after": after}),
    ))
}

/// `DELETE /admin/backup/{id}`.
pub(crate) async fn remove(
    State(app): State<Shared>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let backups = admin_only(&app, req, MaintenanceCommand::Backup).await?;
    crate::blocking(move || backups.remove(&id)).await??;
    Ok(crate::json_response(
        StatusCode::OK,
        &serde_json::json!({"removed": true}),
    ))
}
