//! `GET /metrics`: the server's figures in the Prometheus text format 0.0.4, kept and encoded
//! by the `prometheus-client` crate.
//!
//! The counters and histograms the HTTP layer updates live in [`Metrics`] for the life of the
//! server; the figures read at scrape time (TLS listeners, databases, transactions, storage
//! size, uptime) are registered afresh in each scrape's registry ([`Metrics::render`]).

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of `/metrics`.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Label names and values, in the order they are printed.
type Labels = Vec<(&'static str, String)>;

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// What the HTTP layer counts (cheap to clone: every metric is shared).
#[derive(Clone)]
pub struct Metrics {
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram, fn() -> Histogram>,
    auth_refusals: Family<Labels, Counter>,
    open_connections: Gauge,
    connections_total: Counter,
    plaintext_tls_refused: Counter,
    pub tx_begun: Counter,
    pub tx_committed: Counter,
    pub tx_rolled_back: Counter,
    pub tx_expired: Counter,
    pub streams_aborted: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            auth_refusals: Family::default(),
            open_connections: Gauge::default(),
            connections_total: Counter::default(),
            plaintext_tls_refused: Counter::default(),
            tx_begun: Counter::default(),
            tx_committed: Counter::default(),
            tx_rolled_back: Counter::default(),
            tx_expired: Counter::default(),
            streams_aborted: Counter::default(),
        }
    }
}

/// The figures read at scrape time.
pub struct Scrape<'a> {
    /// The TLS listeners' statuses.
    pub tls: &'a [graphward_tls::TlsStatus],
    /// The size of the data directory.
    pub storage_bytes: Option<u64>,
    /// Explicit HTTP transactions open now.
    pub open_http_transactions: usize,
    pub uptime: Duration,
    pub databases: &'a [graphward_core::engine::DatabaseInfo],
    pub transactions: graphward_core::engine::TransactionMetrics,
}

fn gauge_i64(v: i64) -> Gauge {
    let g = Gauge::default();
    g.set(v);
    g
}

fn gauge_f64(v: f64) -> Gauge<f64, AtomicU64> {
    let g = Gauge::<f64, AtomicU64>::default();
    g.set(v);
    g
}

fn counter(v: u64) -> Counter {
    let c = Counter::default();
    c.inc_by(v);
    c
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Metrics {
    pub fn record_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&vec![
                ("route", route.to_string()),
                ("method", method.to_string()),
                ("status", status.to_string()),
            ])
            .inc();
        self.latency
            .get_or_create(&vec![("route", route.to_string())])
            .observe(elapsed.as_secs_f64());
    }

    pub fn record_auth_refusal(&self, reason: &str) {
        self.auth_refusals
            .get_or_create(&vec![("reason", reason.to_string())])
            .inc();
    }

    pub fn connection_opened(&self) {
        self.open_connections.inc();
        self.connections_total.inc();
    }

    pub fn connection_closed(&self) {
        self.open_connections.dec();
    }

    pub fn plaintext_tls_refused(&self) {
        self.plaintext_tls_refused.inc();
    }

    /// The Prometheus text of everything: what was counted, and `scrape`.
    pub fn render(&self, scrape: &Scrape<'_>) -> String {
        let mut r = Registry::with_prefix("graphward");
        let info: Family<Labels, Gauge> = Family::default();
        info.get_or_create(&vec![("version", env!("CARGO_PKG_VERSION").to_string())])
            .set(1);
        r.register("info", "Server version", info);
        r.register(
            "uptime_seconds",
            "Seconds since the server started",
            gauge_i64(clamp(scrape.uptime.as_secs())),
        );
        r.register(
            "http_requests",
            "HTTP requests by route, method and status",
            self.requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time to the response head, by route",
            self.latency.clone(),
        );
        let open: Gauge = Gauge::default();
        open.set(self.open_connections.get().max(0));
        r.register("http_open_connections", "HTTP connections open now", open);
        r.register(
            "http_connections",
            "HTTP connections accepted",
            self.connections_total.clone(),
        );
        r.register(
            "http_tls_on_plaintext_port",
            "TLS ClientHellos refused on the plaintext HTTP port",
            self.plaintext_tls_refused.clone(),
        );
        self.register_tls(&mut r, scrape.tls);
        r.register(
            "auth_refusals",
            "Refused HTTP authentications by reason",
            self.auth_refusals.clone(),
        );
        r.register(
            "http_transactions_open",
            "Explicit HTTP transactions open now",
            gauge_i64(clamp(scrape.open_http_transactions as u64)),
        );
        let outcomes: Family<Labels, Counter> = Family::default();
        for (outcome, c) in [
            ("begun", &self.tx_begun),
            ("committed", &self.tx_committed),
            ("rolled_back", &self.tx_rolled_back),
            ("expired", &self.tx_expired),
        ] {
            outcomes
                .get_or_create(&vec![("outcome", outcome.to_string())])
                .inc_by(c.get());
        }
        r.register(
            "http_transactions",
            "HTTP transactions by outcome (auto-commit ones included)",
            outcomes,
        );
        r.register(
            "http_streams_aborted",
            "Result streams cut short after the response head was sent",
            self.streams_aborted.clone(),
        );
        if let Some(bytes) = scrape.storage_bytes {
            r.register(
                "storage_bytes",
                "Size of the files in the data directory",
                gauge_i64(clamp(bytes)),
            );
        }
        register_databases(&mut r, scrape.databases);
        register_transactions(&mut r, &scrape.transactions);
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_text::encode(&mut text, &r);
        text
    }

    fn register_tls(&self, r: &mut Registry, tls: &[graphward_tls::TlsStatus]) {
        let listener = |s: &graphward_tls::TlsStatus| ("listener", s.listener.clone());
        let handshakes: Family<Labels, Counter> = Family::default();
        let failures: Family<Labels, Counter> = Family::default();
        let not_after: Family<Labels, Gauge> = Family::default();
        let started: Family<Labels, Counter> = Family::default();
        let reloads: Family<Labels, Counter> = Family::default();
        for s in tls {
            for (reason, n) in &s.handshakes {
                handshakes
                    .get_or_create(&vec![listener(s), ("result", reason.clone())])
                    .inc_by(*n);
                if reason != "ok" {
                    failures
                        .get_or_create(&vec![listener(s), ("reason", reason.clone())])
                        .inc_by(*n);
                }
            }
            not_after
                .get_or_create(&vec![listener(s)])
                .set(s.certificate.not_after_unix);
            started
                .get_or_create(&vec![listener(s)])
                .inc_by(s.reloads_started);
            for (result, n) in [("ok", s.reloads_succeeded), ("failed", s.reloads_failed)] {
                reloads
                    .get_or_create(&vec![listener(s), ("result", result.to_string())])
                    .inc_by(n);
            }
        }
        r.register(
            "tls_handshakes",
            "TLS handshakes by listener and outcome (ok or the failure reason)",
            handshakes,
        );
        r.register(
            "tls_handshake_failures",
            "Failed TLS handshakes by listener and reason",
            failures,
        );
        r.register(
            "tls_certificate_not_after_seconds",
            "Expiry of the served certificate (Unix seconds)",
            not_after,
        );
        r.register(
            "tls_reloads_started",
            "TLS reloads started, by listener (every trigger: command, HTTP, SIGHUP, watcher)",
            started,
        );
        r.register("tls_reloads", "TLS reloads by listener and result", reloads);
    }
}

/// The engine's transaction figures.
fn register_transactions(r: &mut Registry, m: &graphward_core::engine::TransactionMetrics) {
    r.register(
        "transactions_open",
        "Transactions open now (Bolt and HTTP, explicit and auto-commit)",
        gauge_i64(clamp(m.open)),
    );
    r.register(
        "transaction_oldest_age_seconds",
        "Age of the oldest open transaction",
        gauge_f64(m.oldest_age.as_secs_f64()),
    );
    r.register(
        "write_lock_waits",
        "Write-lock acquisitions that had to wait",
        counter(m.lock_waits),
    );
    // A float counter: seconds with a fraction.
    let waited = Counter::<f64, AtomicU64>::default();
    waited.inc_by(m.lock_wait_total.as_secs_f64());
    r.register(
        "write_lock_wait_seconds",
        "Time spent waiting for write locks",
        waited,
    );
}

/// Per-database state gauges and I/O failure counters.
fn register_databases(r: &mut Registry, dbs: &[graphward_core::engine::DatabaseInfo]) {
    use graphward_core::engine::DatabaseStatus;
    let status: Family<Labels, Gauge> = Family::default();
    let failures: Family<Labels, Counter> = Family::default();
    for d in dbs {
        for s in [
            DatabaseStatus::Online,
            DatabaseStatus::Degraded,
            DatabaseStatus::Offline,
        ] {
            status
                .get_or_create(&vec![
                    ("database", d.name.clone()),
                    ("status", s.as_str().to_string()),
                ])
                .set(i64::from(d.status == s));
        }
        failures
            .get_or_create(&vec![("database", d.name.clone())])
            .inc_by(d.io_failures);
    }
    r.register(
        "database_status",
        "1 for the state each database is in (online, degraded: storage failed, offline: failed its startup check)",
        status,
    );
    r.register(
        "storage_io_failures",
        "Storage I/O failures (e.g. disk full) by database",
        failures,
    );
}

/// Total size of the regular files under `dir` (symlinks are not followed; depth bounded).
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

    fn scrape<'a>(
        dbs: &'a [graphward_core::engine::DatabaseInfo],
        tls: &'a [graphward_tls::TlsStatus],
    ) -> Scrape<'a> {
        Scrape {
            tls,
            storage_bytes: Some(10),
            open_http_transactions: 2,
            uptime: Duration::from_secs(5),
            databases: dbs,
            transactions: graphward_core::engine::TransactionMetrics {
                open: 3,
                lock_waits: 4,
                ..Default::default()
            },
        }
    }

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        m.record_request("/ping", "GET", 204, Duration::from_millis(2));
        m.record_auth_refusal("bad \"credentials\"");
        m.tx_expired.inc();
        m.connection_opened();
        let text = m.render(&scrape(&[], &[]));
        for line in [
            "graphward_http_requests_total{route=\"/ping\",method=\"GET\",status=\"204\"} 1",
            "graphward_http_request_duration_seconds_bucket{route=\"/ping\",le=\"0.0025\"} 1",
            "graphward_http_request_duration_seconds_bucket{route=\"/ping\",le=\"0.001\"} 0",
            "graphward_http_request_duration_seconds_bucket{route=\"/ping\",le=\"+Inf\"} 1",
            "graphward_http_request_duration_seconds_count{route=\"/ping\"} 1",
            "graphward_auth_refusals_total{reason=\"bad \\\"credentials\\\"\"} 1",
            "graphward_http_transactions_open 2",
            "graphward_http_transactions_total{outcome=\"expired\"} 1",
            "graphward_http_transactions_total{outcome=\"committed\"} 0",
            "graphward_http_open_connections 1",
            "graphward_http_connections_total 1",
            "graphward_storage_bytes 10",
            "graphward_uptime_seconds 5",
            "graphward_transactions_open 3",
            "graphward_write_lock_waits_total 4",
            "# TYPE graphward_http_requests_total counter",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
        }
        assert!(text.contains("graphward_info{version="), "{text}");
    }

    #[test]
    fn renders_database_states() {
        let dbs = [graphward_core::engine::DatabaseInfo {
            name: "gone".into(),
            status: graphward_core::engine::DatabaseStatus::Offline,
            ..Default::default()
        }];
        let text = Metrics::default().render(&scrape(&dbs, &[]));
        for line in [
            "graphward_database_status{database=\"gone\",status=\"offline\"} 1",
            "graphward_database_status{database=\"gone\",status=\"online\"} 0",
            "graphward_storage_io_failures_total{database=\"gone\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
        }
    }
}
