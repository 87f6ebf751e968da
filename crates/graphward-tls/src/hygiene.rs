//! Listener hygiene: sniffing plaintext clients on a TLS port, refusing them clearly, and a
//! TLS accept helper with a timeout, a bound on concurrent handshakes, failure reasons,
//! counters and rate-limited logging.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_rustls::server::TlsStream;

use crate::manager::TlsManager;

/// Default TLS handshake timeout.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time to wait for the first bytes when sniffing.
pub const DEFAULT_SNIFF_TIMEOUT: Duration = Duration::from_secs(10);
/// Bolt magic preamble.
pub const BOLT_MAGIC: [u8; 4] = [0x60, 0x60, 0xB0, 0x17];
/// Body sent to plaintext HTTP clients.
pub const HTTP_REFUSAL_BODY: &str = "this port requires TLS: use https://\n";

const HTTP_METHODS: [&[u8]; 9] = [
    b"GET ",
    b"POST ",
    b"PUT ",
    b"HEAD ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];

/// What the first bytes of a connection look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstBytes {
    /// A TLS handshake record (0x16 0x03 ..).
    TlsClientHello,
    /// The plaintext Bolt magic `60 60 B0 17`.
    BoltPreamble,
    /// A plaintext HTTP request line.
    Http,
    /// Anything else, EOF, or nothing within the timeout.
    Unknown,
}

enum Classified {
    Done(FirstBytes),
    NeedMore,
}

fn classify(buf: &[u8]) -> Classified {
    let Some(&first) = buf.first() else {
        return Classified::NeedMore;
    };
    if first == 0x16 {
        return match buf.get(1) {
            None => Classified::NeedMore,
            Some(0x03) => Classified::Done(FirstBytes::TlsClientHello),
            Some(_) => Classified::Done(FirstBytes::Unknown),
        };
    }
    if buf.len() >= BOLT_MAGIC.len() && buf.starts_with(&BOLT_MAGIC) {
        return Classified::Done(FirstBytes::BoltPreamble);
    }
    if BOLT_MAGIC.starts_with(buf) {
        return Classified::NeedMore;
    }
    let mut prefix_of_method = false;
    for m in HTTP_METHODS {
        if buf.starts_with(m) {
            return Classified::Done(FirstBytes::Http);
        }
        if m.starts_with(buf) {
            prefix_of_method = true;
        }
    }
    if prefix_of_method {
        Classified::NeedMore
    } else {
        Classified::Done(FirstBytes::Unknown)
    }
}

/// Peeks (without consuming) at the first bytes of `stream` and classifies them.
/// Returns [`FirstBytes::Unknown`] on EOF, error or when `timeout` passes first.
pub async fn sniff(stream: &TcpStream, timeout: Duration) -> FirstBytes {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buf = [0u8; 8];
    let mut last_len = usize::MAX;
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.peek(&mut buf)).await {
            Ok(Ok(n)) => n,
            Ok(Err(_)) | Err(_) => return FirstBytes::Unknown,
        };
        if n == 0 {
            return FirstBytes::Unknown;
        }
        match classify(buf.get(..n).unwrap_or(&[])) {
            Classified::Done(kind) => return kind,
            Classified::NeedMore => {
                if n == buf.len() {
                    return FirstBytes::Unknown;
                }
                // peek returns at once while data is buffered: wait for more to arrive.
                let pause = if n == last_len { 20 } else { 5 };
                last_len = n;
                if tokio::time::timeout_at(
                    deadline,
                    tokio::time::sleep(Duration::from_millis(pause)),
                )
                .await
                .is_err()
                {
                    return FirstBytes::Unknown;
                }
            }
        }
    }
}

/// Formats Bolt version proposals (`[0, range, minor, major]` big-endian words) as text,
/// for example `5.8-5.4, 4.4`.
pub fn format_bolt_proposals(proposals: &[u32; 4]) -> String {
    let parts: Vec<String> = proposals
        .iter()
        .filter(|p| **p != 0)
        .map(|p| {
            let [_, range, minor, major] = p.to_be_bytes();
            if range == 0 {
                format!("{major}.{minor}")
            } else {
                format!("{major}.{minor}-{major}.{}", minor.saturating_sub(range))
            }
        })
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// Refuses a plaintext Bolt client on a TLS port: reads the magic and the 16 bytes of version
/// proposals, answers `00 00 00 00` (no common version), closes, and returns the proposals
/// for the caller's WARN line (see [`format_bolt_proposals`]).
pub async fn refuse_plain_bolt(mut stream: TcpStream) -> io::Result<[u32; 4]> {
    let mut buf = [0u8; 20];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut buf))
        .await
        .map_err(|_| {
            io::Error::new(io::ErrorKind::TimedOut, "timed out reading Bolt handshake")
        })??;
    let mut proposals = [0u32; 4];
    for (i, p) in proposals.iter_mut().enumerate() {
        let off = 4 + i * 4;
        if let Some(b) = buf.get(off..off + 4) {
            let mut w = [0u8; 4];
            w.copy_from_slice(b);
            *p = u32::from_be_bytes(w);
        }
    }
    stream.write_all(&[0, 0, 0, 0]).await?;
    stream.flush().await?;
    let _ = stream.shutdown().await;
    Ok(proposals)
}

/// Refuses a plaintext HTTP client on a TLS port with `400 Bad Request` and a one-line body,
/// then closes. Returns the request line (for the WARN log).
pub async fn refuse_plain_http(mut stream: TcpStream) -> io::Result<String> {
    // Drain the request head (bounded) so closing does not turn into a reset that hides
    // the response from the client.
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while head.len() < 8192 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => head.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
        }
    }
    let request_line: String = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        HTTP_REFUSAL_BODY.len(),
        HTTP_REFUSAL_BODY
    );
    stream.write_all(response.as_bytes()).await?;
    stream.flush().await?;
    let _ = stream.shutdown().await;
    Ok(request_line)
}

/// Why a TLS handshake did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandshakeReason {
    /// EOF or reset during the handshake (port scanners, load-balancer health checks).
    Eof,
    /// The handshake took longer than the timeout.
    Timeout,
    /// Too many handshakes in flight for the whole timeout.
    Busy,
    /// A plaintext Bolt client.
    PlaintextBolt,
    /// A plaintext HTTP client.
    PlaintextHttp,
    /// Not TLS at all (rustls: "received corrupt message").
    CorruptMessage,
    /// No common protocol version or cipher suite.
    Incompatible,
    /// Client certificate missing or refused.
    ClientCertificate,
    /// The client sent a fatal alert (often: it does not trust our certificate).
    AlertReceived,
    /// Any other protocol violation.
    Protocol,
    /// Any other error.
    Other,
}

impl HandshakeReason {
    /// All reasons, in counter order.
    pub const ALL: [HandshakeReason; 11] = [
        HandshakeReason::Eof,
        HandshakeReason::Timeout,
        HandshakeReason::Busy,
        HandshakeReason::PlaintextBolt,
        HandshakeReason::PlaintextHttp,
        HandshakeReason::CorruptMessage,
        HandshakeReason::Incompatible,
        HandshakeReason::ClientCertificate,
        HandshakeReason::AlertReceived,
        HandshakeReason::Protocol,
        HandshakeReason::Other,
    ];

    /// Label for logs and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            HandshakeReason::Eof => "eof",
            HandshakeReason::Timeout => "timeout",
            HandshakeReason::Busy => "busy",
            HandshakeReason::PlaintextBolt => "plaintext_bolt",
            HandshakeReason::PlaintextHttp => "plaintext_http",
            HandshakeReason::CorruptMessage => "corrupt_message",
            HandshakeReason::Incompatible => "incompatible",
            HandshakeReason::ClientCertificate => "client_certificate",
            HandshakeReason::AlertReceived => "alert_received",
            HandshakeReason::Protocol => "protocol",
            HandshakeReason::Other => "other",
        }
    }

    fn index(&self) -> usize {
        HandshakeReason::ALL
            .iter()
            .position(|r| r == self)
            .unwrap_or(HandshakeReason::ALL.len() - 1)
    }

    /// Whether this is routine noise (logged at debug rather than warn).
    pub fn is_noise(&self) -> bool {
        matches!(self, HandshakeReason::Eof)
    }

    /// Classifies a handshake I/O error (as returned by `tokio_rustls`).
    pub fn from_io_error(e: &io::Error) -> HandshakeReason {
        if let Some(re) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            return HandshakeReason::from_rustls(re);
        }
        match e.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => HandshakeReason::Eof,
            io::ErrorKind::TimedOut => HandshakeReason::Timeout,
            io::ErrorKind::InvalidData => HandshakeReason::Protocol,
            _ => HandshakeReason::Other,
        }
    }

    /// Classifies a rustls error.
    pub fn from_rustls(e: &rustls::Error) -> HandshakeReason {
        match e {
            rustls::Error::InvalidMessage(_) => HandshakeReason::CorruptMessage,
            rustls::Error::PeerIncompatible(_) => HandshakeReason::Incompatible,
            rustls::Error::NoCertificatesPresented | rustls::Error::InvalidCertificate(_) => {
                HandshakeReason::ClientCertificate
            }
            rustls::Error::AlertReceived(_) => HandshakeReason::AlertReceived,
            rustls::Error::PeerMisbehaved(_)
            | rustls::Error::InappropriateHandshakeMessage { .. }
            | rustls::Error::InappropriateMessage { .. } => HandshakeReason::Protocol,
            _ => HandshakeReason::Other,
        }
    }
}

/// Handshake counters of a listener: successes and failures by reason.
#[derive(Debug, Default)]
pub struct HandshakeStats {
    ok: AtomicU64,
    failed: [AtomicU64; 11],
}

impl HandshakeStats {
    /// Counts a completed handshake.
    pub fn record_ok(&self) {
        self.ok.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a failure.
    pub fn record(&self, reason: HandshakeReason) {
        if let Some(c) = self.failed.get(reason.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Completed handshakes.
    pub fn ok(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }

    /// Failures for one reason.
    pub fn failures(&self, reason: HandshakeReason) -> u64 {
        self.failed
            .get(reason.index())
            .map(|c| c.load(Ordering::Relaxed))
            .unwrap_or(0)
    }

    /// `"ok"` and every failure reason, with their counts.
    pub fn snapshot(&self) -> std::collections::BTreeMap<String, u64> {
        let mut v = std::collections::BTreeMap::new();
        v.insert("ok".to_string(), self.ok());
        for r in HandshakeReason::ALL {
            v.insert(r.as_str().to_string(), self.failures(r));
        }
        v
    }
}

/// Allows at most `max_per_sec` log lines per second; the rest are counted.
#[derive(Debug)]
pub struct RateLimitedLog {
    max_per_sec: u32,
    state: Mutex<LimState>,
    suppressed_total: AtomicU64,
}

#[derive(Debug)]
struct LimState {
    window_start: Instant,
    count: u32,
    suppressed_since_last: u64,
}

impl RateLimitedLog {
    /// A limiter allowing `max_per_sec` lines per second.
    pub fn new(max_per_sec: u32) -> Self {
        RateLimitedLog {
            max_per_sec,
            state: Mutex::new(LimState {
                window_start: Instant::now(),
                count: 0,
                suppressed_since_last: 0,
            }),
            suppressed_total: AtomicU64::new(0),
        }
    }

    /// `Some(n)` if a line may be logged now, `n` being the number of lines suppressed since
    /// the last allowed one (mention it in the line); `None` if this line must be dropped.
    pub fn allow(&self) -> Option<u64> {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if now.duration_since(st.window_start) >= Duration::from_secs(1) {
            st.window_start = now;
            st.count = 0;
        }
        if st.count < self.max_per_sec {
            st.count += 1;
            let s = st.suppressed_since_last;
            st.suppressed_since_last = 0;
            Some(s)
        } else {
            st.suppressed_since_last += 1;
            self.suppressed_total.fetch_add(1, Ordering::Relaxed);
            None
        }
    }

    /// Lines suppressed since creation.
    pub fn suppressed_total(&self) -> u64 {
        self.suppressed_total.load(Ordering::Relaxed)
    }
}

/// A failed TLS accept.
#[derive(Debug)]
pub struct HandshakeFailure {
    /// Classified reason (counted in the manager's [`HandshakeStats`]).
    pub reason: HandshakeReason,
    /// Peer address, when known.
    pub peer: Option<SocketAddr>,
    /// Underlying error text.
    pub detail: String,
}

impl std::fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.peer {
            Some(p) => write!(
                f,
                "TLS handshake with {p} failed ({}): {}",
                self.reason.as_str(),
                self.detail
            ),
            None => write!(
                f,
                "TLS handshake failed ({}): {}",
                self.reason.as_str(),
                self.detail
            ),
        }
    }
}

impl std::error::Error for HandshakeFailure {}

/// Logs a handshake failure through the manager's rate limiter (EOF at debug, others at warn).
pub fn log_failure(manager: &TlsManager, failure: &HandshakeFailure) {
    if failure.reason.is_noise() {
        tracing::debug!(
            listener = manager.listener(),
            reason = failure.reason.as_str(),
            "{failure}"
        );
        return;
    }
    if let Some(suppressed) = manager.log_limiter().allow() {
        if suppressed > 0 {
            tracing::warn!(
                listener = manager.listener(),
                reason = failure.reason.as_str(),
                suppressed,
                "{failure} ({suppressed} similar lines suppressed)"
            );
        } else {
            tracing::warn!(
                listener = manager.listener(),
                reason = failure.reason.as_str(),
                "{failure}"
            );
        }
    }
}

/// Records and logs a refused plaintext client (after [`refuse_plain_bolt`] /
/// [`refuse_plain_http`]) when not using [`accept_on_tls_port`].
pub fn record_plaintext(
    manager: &TlsManager,
    reason: HandshakeReason,
    peer: Option<SocketAddr>,
    detail: String,
) {
    manager.handshake_stats().record(reason);
    log_failure(
        manager,
        &HandshakeFailure {
            reason,
            peer,
            detail,
        },
    );
}

/// Performs the TLS handshake with the manager's *current* configuration, bounded by
/// `timeout` (waiting for a `semaphore` permit included). The permit is held only during the
/// handshake. Failures are classified, counted in the manager and logged (rate-limited).
pub async fn accept_tls(
    manager: &TlsManager,
    stream: TcpStream,
    timeout: Duration,
    semaphore: &Semaphore,
) -> Result<TlsStream<TcpStream>, HandshakeFailure> {
    let peer = stream.peer_addr().ok();
    let deadline = tokio::time::Instant::now() + timeout;
    let fail = |reason: HandshakeReason, detail: String| {
        let f = HandshakeFailure {
            reason,
            peer,
            detail,
        };
        manager.handshake_stats().record(reason);
        log_failure(manager, &f);
        f
    };
    let _permit = match tokio::time::timeout_at(deadline, semaphore.acquire()).await {
        Ok(Ok(p)) => p,
        Ok(Err(_)) => {
            return Err(fail(
                HandshakeReason::Busy,
                "handshake semaphore closed".into(),
            ))
        }
        Err(_) => {
            return Err(fail(
                HandshakeReason::Busy,
                "too many concurrent handshakes".into(),
            ))
        }
    };
    let acceptor = manager.acceptor();
    match tokio::time::timeout_at(deadline, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => {
            manager.handshake_stats().record_ok();
            Ok(tls)
        }
        Ok(Err(e)) => Err(fail(HandshakeReason::from_io_error(&e), e.to_string())),
        Err(_) => Err(fail(
            HandshakeReason::Timeout,
            format!("no complete handshake within {}s", timeout.as_secs_f32()),
        )),
    }
}

/// Everything a TLS listener does with a fresh TCP connection: [`sniff`] the first bytes;
/// refuse a plaintext Bolt client ([`refuse_plain_bolt`]) or HTTP client
/// ([`refuse_plain_http`]) with one clear (rate-limited) WARN and a count; otherwise
/// [`accept_tls`].
pub async fn accept_on_tls_port(
    manager: &TlsManager,
    stream: TcpStream,
    timeout: Duration,
    semaphore: &Semaphore,
) -> Result<TlsStream<TcpStream>, HandshakeFailure> {
    let peer = stream.peer_addr().ok();
    let started = Instant::now();
    match sniff(&stream, timeout).await {
        FirstBytes::BoltPreamble => {
            let detail = match refuse_plain_bolt(stream).await {
                Ok(p) => format!(
                    "plaintext Bolt client (proposed versions {}) on a TLS port, refused: enable encryption in the client: Neo4j drivers bolt+s:// or neo4j+s:// (bolt+ssc:// or neo4j+ssc:// for a self-signed certificate), pymgclient sslmode=REQUIRE, graphward shell --use-ssl",
                    format_bolt_proposals(&p)
                ),
                Err(e) => format!("plaintext Bolt client on a TLS port ({e})"),
            };
            let f = HandshakeFailure {
                reason: HandshakeReason::PlaintextBolt,
                peer,
                detail,
            };
            manager.handshake_stats().record(f.reason);
            log_failure(manager, &f);
            Err(f)
        }
        FirstBytes::Http => {
            let detail = match refuse_plain_http(stream).await {
                Ok(line) => format!(
                    "plaintext HTTP request '{line}' on a TLS port: answered 400, use https://"
                ),
                Err(e) => format!("plaintext HTTP request on a TLS port ({e})"),
            };
            let f = HandshakeFailure {
                reason: HandshakeReason::PlaintextHttp,
                peer,
                detail,
            };
            manager.handshake_stats().record(f.reason);
            log_failure(manager, &f);
            Err(f)
        }
        FirstBytes::TlsClientHello | FirstBytes::Unknown => {
            let remaining = timeout
                .saturating_sub(started.elapsed())
                .max(Duration::from_millis(10));
            accept_tls(manager, stream, remaining, semaphore).await
        }
    }
}

/// What a listener does with each connection on its TLS port: [`accept_on_tls_port`] with
/// [`DEFAULT_HANDSHAKE_TIMEOUT`], then the names of the client certificate rustls verified
/// ([`crate::client_identity`]; `None` when the client sent none), for the authenticator.
pub async fn accept_client(
    manager: &TlsManager,
    stream: TcpStream,
    semaphore: &Semaphore,
) -> Result<(TlsStream<TcpStream>, Option<Vec<String>>), HandshakeFailure> {
    let stream = accept_on_tls_port(manager, stream, DEFAULT_HANDSHAKE_TIMEOUT, semaphore).await?;
    let identity = crate::client_identity(stream.get_ref().1);
    Ok((stream, identity))
}
