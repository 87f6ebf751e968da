//! A minimal HTTP responder until the REST API lands: `GET /` (and `HEAD /`) answers
//! `{"graphward": "<version>"}`, anything else 404. One request per connection, a bounded
//! request head, a deadline per connection, and a cap on concurrent connections.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Largest request head (request line and headers) read.
const MAX_HEAD: usize = 8 * 1024;
/// A connection must deliver its request and take its answer within this time.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(10);
/// Most connections served at once; further ones are closed right away.
const MAX_CONNECTIONS: usize = 256;

/// Accept connections until the task is aborted.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Per-connection failures (ECONNABORTED) and resource exhaustion (EMFILE) are
                // not fatal to the listener: back off briefly and go on.
                tracing::warn!(error = %e, "http: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "http: too many connections, closing");
            continue;
        };
        tracing::debug!(%peer, "http: connection");
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(CONNECTION_DEADLINE, handle(stream)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "http: connection error"),
                Err(_) => tracing::debug!(%peer, "http: connection timed out"),
            }
        });
    }
}

async fn handle(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let head_len = loop {
        if let Some(pos) = find_head_end(&buf) {
            break Some(pos);
        }
        if buf.len() >= MAX_HEAD {
            break None;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            if buf.is_empty() {
                return Ok(());
            }
            break Some(buf.len());
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    };
    let response = match head_len {
        None => respond(431, "Request Header Fields Too Large", false),
        Some(len) => answer(buf.get(..len).unwrap_or_default()),
    };
    stream.write_all(&response).await?;
    stream.shutdown().await
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

/// The full response to a request head.
fn answer(head: &[u8]) -> Vec<u8> {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return respond(400, "Bad Request", false);
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() {
        return respond(400, "Bad Request", false);
    }
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let head_only = method == "HEAD";
    match (method, path) {
        ("GET" | "HEAD", "/") => {
            let body = format!("{{\"graphward\": \"{}\"}}", env!("CARGO_PKG_VERSION"));
            with_body(200, "OK", &body, head_only)
        }
        _ => respond(404, "Not Found", head_only),
    }
}

fn respond(status: u16, reason: &str, head_only: bool) -> Vec<u8> {
    let body = format!("{{\"error\": \"{}\"}}", reason.to_ascii_lowercase());
    with_body(status, reason, &body, head_only)
}

fn with_body(status: u16, reason: &str, body: &str, head_only: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\n\
         Content-Type: application/json\r\n\
         Content-Length: {}\r\n\
         Cache-Control: no-store\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    if !head_only {
        out.push_str(body);
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: Vec<u8>) -> String {
        String::from_utf8(b).unwrap_or_default()
    }

    #[test]
    fn root_answers_version() {
        let r = text(answer(b"GET / HTTP/1.1\r\nHost: x"));
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.ends_with(&format!(
            "\r\n\r\n{{\"graphward\": \"{}\"}}",
            env!("CARGO_PKG_VERSION")
        )));
        let r = text(answer(b"GET /?x=1 HTTP/1.0"));
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        let r = text(answer(b"HEAD / HTTP/1.1"));
        assert!(
            r.starts_with("HTTP/1.1 200 OK\r\n") && r.ends_with("\r\n\r\n"),
            "{r}"
        );
    }

    #[test]
    fn others_are_404_or_400() {
        for req in [
            &b"GET /db HTTP/1.1"[..],
            b"POST / HTTP/1.1",
            b"DELETE /x HTTP/1.1",
        ] {
            assert!(text(answer(req)).starts_with("HTTP/1.1 404 "));
        }
        for req in [
            &b""[..],
            b"GET",
            b"GET /",
            b"GET / HTTP/1.1 extra",
            b"GET / SMTP",
            b"\xff\xfe / HTTP/1.1 x",
        ] {
            assert!(text(answer(req)).starts_with("HTTP/1.1 400 "), "{req:?}");
        }
    }
}
