//! Optional file watching: reload when the certificate, key, CA or password file changes.
//!
//! Implemented by polling content hashes rather than inotify: it needs no extra dependency,
//! works the same on every platform and filesystem (NFS, overlay, ConfigMap/Secret volumes)
//! and handles the Kubernetes `..data` symlink swap naturally, since every poll re-resolves
//! the configured paths. The files are a few KiB, so hashing them every couple of seconds
//! costs nothing measurable.

use std::sync::Arc;
use std::time::Duration;

use crate::error::TlsError;
use crate::load::watched_paths;
use crate::manager::TlsManager;

/// How long a reload that fails because cert and key do not match yet (written one after the
/// other) is retried.
pub const MISMATCH_RETRY_FOR: Duration = Duration::from_secs(5);

fn snapshot(manager: &TlsManager) -> Vec<Option<Vec<u8>>> {
    watched_paths(manager.settings())
        .iter()
        .map(|p| {
            std::fs::read(p).ok().map(|b| {
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &b)
                    .as_ref()
                    .to_vec()
            })
        })
        .collect()
}

fn transient(e: &TlsError) -> bool {
    matches!(
        e,
        TlsError::KeyMismatch { .. }
            | TlsError::Read { .. }
            | TlsError::Pem { .. }
            | TlsError::NoCertificate { .. }
            | TlsError::NoKey { .. }
    )
}

/// Spawns a task that polls the files every `debounce` and reloads `manager` once they have
/// changed and then stayed unchanged for one more period. A reload failing with a transient
/// error (key/cert mismatch, half-written file) is retried for [`MISMATCH_RETRY_FOR`]; a
/// failure after that keeps the old configuration (as [`TlsManager::reload`] always does)
/// and waits for the next change. Abort the returned handle to stop watching.
pub fn watch(manager: Arc<TlsManager>, debounce: Duration) -> tokio::task::JoinHandle<()> {
    let period = debounce.max(Duration::from_millis(50));
    tokio::spawn(async move {
        let mut last = snapshot(&manager);
        loop {
            tokio::time::sleep(period).await;
            let now = snapshot(&manager);
            if now == last {
                continue;
            }
            // Debounce: wait until the files stop changing.
            let mut settled = now;
            loop {
                tokio::time::sleep(period).await;
                let again = snapshot(&manager);
                if again == settled {
                    break;
                }
                settled = again;
            }
            tracing::info!(
                listener = manager.listener(),
                "TLS files changed; reloading"
            );
            let started = tokio::time::Instant::now();
            loop {
                // What this attempt reads: a change after this point triggers a new round.
                last = snapshot(&manager);
                match manager.reload_async().await {
                    Ok(_) => break,
                    Err(e) if transient(&e) && started.elapsed() < MISMATCH_RETRY_FOR => {
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                    Err(_) => break,
                }
            }
        }
    })
}
