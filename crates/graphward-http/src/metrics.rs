//! Counters behind `GET /metrics` (Prometheus text format 0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    auth_refusals: Mutex<BTreeMap<String, u64>>,
    open_connections: AtomicI64,
    connections_total: AtomicU64,
    plaintext_tls_refused: AtomicU64,
    pub tx_begun: AtomicU64,
    pub tx_committed: AtomicU64,
    pub tx_rolled_back: AtomicU64,
    pub tx_expired: AtomicU64,
    pub streams_aborted: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Escapes a label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub fn record_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        *lock(&self.requests)
            .entry((route.to_string(), method.to_string(), status))
            .or_default() += 1;
        let secs = elapsed.as_secs_f64();
        let mut lat = lock(&self.latency);
        let h = lat.entry(route.to_string()).or_default();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                if let Some(c) = h.counts.get_mut(i) {
                    *c += 1;
                }
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    pub fn record_auth_refusal(&self, reason: &str) {
        *lock(&self.auth_refusals)
            .entry(reason.to_string())
            .or_default() += 1;
    }

    pub fn connection_opened(&self) {
        self.open_connections.fetch_add(1, Ordering::Relaxed);
        self.connections_total.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_closed(&self) {
        self.open_connections.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn plaintext_tls_refused(&self) {
        self.plaintext_tls_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text. `tls` are the TLS listeners' statuses; `storage_bytes` the size of
    /// the data directory; `open_transactions` the explicit transactions open right now.
    pub fn render(
        &self,
        tls: &[graphward_tls::TlsStatus],
        storage_bytes: Option<u64>,
        open_transactions: usize,
        uptime: Duration,
    ) -> String {
        let mut o = String::new();
        let head = |o: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        head(&mut o, "graphward_info", "gauge", "Server version.");
        let _ = writeln!(
            o,
            "graphward_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        head(
            &mut o,
            "graphward_uptime_seconds",
            "gauge",
            "Seconds since the server started.",
        );
        let _ = writeln!(o, "graphward_uptime_seconds {}", uptime.as_secs());

        head(
            &mut o,
            "graphward_http_requests_total",
            "counter",
            "HTTP requests by route, method and status.",
        );
        for ((route, method, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                o,
                "graphward_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                label(route),
                label(method)
            );
        }
        head(
            &mut o,
            "graphward_http_request_duration_seconds",
            "histogram",
            "Time to the response head, by route.",
        );
        for (route, h) in lock(&self.latency).iter() {
            let r = label(route);
            for (le, c) in BUCKETS.iter().zip(h.counts.iter()) {
                let _ = writeln!(
                    o,
                    "graphward_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{le}\"}} {c}"
                );
            }
            let _ = writeln!(
                o,
                "graphward_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                o,
                "graphward_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                o,
                "graphward_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                h.count
            );
        }
        head(
            &mut o,
            "graphward_http_open_connections",
            "gauge",
            "HTTP connections open now.",
        );
        let _ = writeln!(
            o,
            "graphward_http_open_connections {}",
            self.open_connections.load(Ordering::Relaxed).max(0)
        );
        head(
            &mut o,
            "graphward_http_connections_total",
            "counter",
            "HTTP connections accepted.",
        );
        let _ = writeln!(
            o,
            "graphward_http_connections_total {}",
            self.connections_total.load(Ordering::Relaxed)
        );
        head(
            &mut o,
            "graphward_http_tls_on_plaintext_port_total",
            "counter",
            "TLS ClientHellos refused on the plaintext HTTP port.",
        );
        let _ = writeln!(
            o,
            "graphward_http_tls_on_plaintext_port_total {}",
            self.plaintext_tls_refused.load(Ordering::Relaxed)
        );

        head(
            &mut o,
            "graphward_tls_handshakes_total",
            "counter",
            "TLS handshakes by listener and outcome (ok or the failure reason).",
        );
        for s in tls {
            for (reason, n) in &s.handshakes {
                let _ = writeln!(
                    o,
                    "graphward_tls_handshakes_total{{listener=\"{}\",result=\"{}\"}} {n}",
                    label(&s.listener),
                    label(reason)
                );
            }
        }
        head(
            &mut o,
            "graphward_tls_handshake_failures_total",
            "counter",
            "Failed TLS handshakes by listener and reason.",
        );
        for s in tls {
            for (reason, n) in s.handshakes.iter().filter(|(r, _)| r.as_str() != "ok") {
                let _ = writeln!(
                    o,
                    "graphward_tls_handshake_failures_total{{listener=\"{}\",reason=\"{}\"}} {n}",
                    label(&s.listener),
                    label(reason)
                );
            }
        }
        let per_listener =
            |o: &mut String,
             name: &str,
             kind: &str,
             help: &str,
             value: fn(&graphward_tls::TlsStatus) -> String| {
                head(o, name, kind, help);
                for s in tls {
                    let _ = writeln!(
                        o,
                        "{name}{{listener=\"{}\"}} {}",
                        label(&s.listener),
                        value(s)
                    );
                }
            };
        per_listener(
            &mut o,
            "graphward_tls_certificate_not_after_seconds",
            "gauge",
            "Expiry of the served certificate (Unix seconds).",
            |s| s.certificate.not_after_unix.to_string(),
        );
        per_listener(
            &mut o,
            "graphward_tls_reloads_started_total",
            "counter",
            "TLS reloads started, by listener (every trigger: command, HTTP, SIGHUP, watcher).",
            |s| s.reloads_started.to_string(),
        );
        head(
            &mut o,
            "graphward_tls_reloads_total",
            "counter",
            "TLS reloads by listener and result.",
        );
        for s in tls {
            let l = label(&s.listener);
            let _ = writeln!(
                o,
                "graphward_tls_reloads_total{{listener=\"{l}\",result=\"ok\"}} {}",
                s.reloads_succeeded
            );
            let _ = writeln!(
                o,
                "graphward_tls_reloads_total{{listener=\"{l}\",result=\"failed\"}} {}",
                s.reloads_failed
            );
        }

        head(
            &mut o,
            "graphward_auth_refusals_total",
            "counter",
            "Refused HTTP authentications by reason.",
        );
        for (reason, n) in lock(&self.auth_refusals).iter() {
            let _ = writeln!(
                o,
                "graphward_auth_refusals_total{{reason=\"{}\"}} {n}",
                label(reason)
            );
        }

        head(
            &mut o,
            "graphward_http_transactions_open",
            "gauge",
            "Explicit HTTP transactions open now.",
        );
        let _ = writeln!(o, "graphward_http_transactions_open {open_transactions}");
        head(
            &mut o,
            "graphward_http_transactions_total",
            "counter",
            "HTTP transactions by outcome (auto-commit ones included).",
        );
        for (outcome, c) in [
            ("begun", &self.tx_begun),
            ("committed", &self.tx_committed),
            ("rolled_back", &self.tx_rolled_back),
            ("expired", &self.tx_expired),
        ] {
            let _ = writeln!(
                o,
                "graphward_http_transactions_total{{outcome=\"{outcome}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        head(
            &mut o,
            "graphward_http_streams_aborted_total",
            "counter",
            "Result streams cut short after the response head was sent.",
        );
        let _ = writeln!(
            o,
            "graphward_http_streams_aborted_total {}",
            self.streams_aborted.load(Ordering::Relaxed)
        );
        if let Some(bytes) = storage_bytes {
            head(
                &mut o,
                "graphward_storage_bytes",
                "gauge",
                "Size of the files in the data directory.",
            );
            let _ = writeln!(o, "graphward_storage_bytes {bytes}");
        }
        o
    }
}

/// Total size of the regular files under `dir` (symlinks are not followed; depth bounded).
/// Per-database state gauges and I/O failure counters (appended to [`Metrics::render`]).
/// The engine's transaction figures in Prometheus text form.
pub fn render_transactions(m: &graphward_core::engine::TransactionMetrics) -> String {
    format!(
        "# HELP graphward_transactions_open Transactions open now (Bolt and HTTP, explicit and auto-commit).\n\
         # TYPE graphward_transactions_open gauge\n\
         graphward_transactions_open {}\n\
         # HELP graphward_transaction_oldest_age_seconds Age of the oldest open transaction.\n\
         # TYPE graphward_transaction_oldest_age_seconds gauge\n\
         graphward_transaction_oldest_age_seconds {:.3}\n\
         # HELP graphward_write_lock_waits_total Write-lock acquisitions that had to wait.\n\
         # TYPE graphward_write_lock_waits_total counter\n\
         graphward_write_lock_waits_total {}\n\
         # HELP graphward_write_lock_wait_seconds_total Time spent waiting for write locks.\n\
         # TYPE graphward_write_lock_wait_seconds_total counter\n\
         graphward_write_lock_wait_seconds_total {:.6}\n",
        m.open,
        m.oldest_age.as_secs_f64(),
        m.lock_waits,
        m.lock_wait_total.as_secs_f64()
    )
}

pub fn render_databases(dbs: &[graphward_core::engine::DatabaseInfo]) -> String {
    use graphward_core::engine::DatabaseStatus;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# HELP graphward_database_status 1 for the state each database is in (online, degraded: storage failed, offline: failed its startup check).\n# TYPE graphward_database_status gauge"
    );
    for d in dbs {
        for s in [
            DatabaseStatus::Online,
            DatabaseStatus::Degraded,
            DatabaseStatus::Offline,
        ] {
            let _ = writeln!(
                o,
                "graphward_database_status{{database=\"{}\",status=\"{}\"}} {}",
                label(&d.name),
                s.as_str(),
                u8::from(d.status == s)
            );
        }
    }
    let _ = writeln!(
        o,
        "# HELP graphward_storage_io_failures_total Storage I/O failures (e.g. disk full) by database.\n# TYPE graphward_storage_io_failures_total counter"
    );
    for d in dbs {
        let _ = writeln!(
            o,
            "graphward_storage_io_failures_total{{database=\"{}\"}} {}",
            label(&d.name),
            d.io_failures
        );
    }
    o
}

pub fn dir_size(dir: &Path) -> u64 {
    fn walk(dir: &Path, depth: usize) -> u64 {
        if depth > 8 {
            return 0;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        let mut total = 0u64;
        for e in entries.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                total = total.saturating_add(walk(&e.path(), depth + 1));
            } else if meta.is_file() {
                total = total.saturating_add(meta.len());
            }
        }
        total
    }
    walk(dir, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        m.record_request("/ping", "GET", 204, Duration::from_millis(2));
        m.record_auth_refusal("bad \"credentials\"");
        let text = m.render(&[], Some(10), 2, Duration::from_secs(5));
        assert!(text.contains(
            "graphward_http_requests_total{route=\"/ping\",method=\"GET\",status=\"204\"} 1"
        ));
        assert!(text.contains(
            "graphward_http_request_duration_seconds_bucket{route=\"/ping\",le=\"0.0025\"} 1"
        ));
        assert!(text.contains(
            "graphward_http_request_duration_seconds_bucket{route=\"/ping\",le=\"0.001\"} 0"
        ));
        assert!(
            text.contains("graphward_auth_refusals_total{reason=\"bad \\\"credentials\\\"\"} 1")
        );
        assert!(text.contains("graphward_http_transactions_open 2"));
        assert!(text.contains("graphward_storage_bytes 10"));
    }
}
