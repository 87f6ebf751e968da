//! A small blocking HTTPS GET for key material (a PEM key, an HMAC secret, a JWKS).
//!
//! HTTPS only; the server is verified against the system roots, or against the CA file named
//! by `SSL_CA_CERT` (or given explicitly). Bounded in time and size; redirects are not
//! followed (a key URL that moves is a configuration change, not something to chase).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// Largest response body accepted.
pub const MAX_BODY: usize = 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

/// The CA bundle environment variable.
pub const CA_ENV: &str = "SSL_CA_CERT";

/// Fetch `url` (https only); `ca_file` overrides the system roots.
pub fn get(url: &str, ca_file: Option<&Path>) -> Result<Vec<u8>, String> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| format!("only https:// URLs are fetched, not {url:?}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.contains('@') {
        return Err("credentials in key URLs are not supported".to_string());
    }
    let (host, port) = split_host_port(authority)?;
    let roots = root_store(ca_file)?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS setup: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| format!("invalid host name {host:?}"))?;
    let conn = rustls::ClientConnection::new(Arc::new(config), name)
        .map_err(|e| format!("TLS setup: {e}"))?;
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {host}"))?;
    let sock = TcpStream::connect_timeout(&addr, TIMEOUT)
        .map_err(|e| format!("cannot connect to {authority}: {e}"))?;
    sock.set_read_timeout(Some(TIMEOUT)).ok();
    sock.set_write_timeout(Some(TIMEOUT)).ok();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: graphward\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    let (status, body) =
        exchange(&mut tls, request.as_bytes()).map_err(|e| format!("{url}: {e}"))?;
    if status != 200 {
        return Err(format!("{url}: HTTP status {status}"));
    }
    Ok(body)
}

/// Send one HTTP/1.1 request (with `Connection: close`) on `stream` and read the whole
/// answer: its status and body (identity or chunked, at most [`MAX_BODY`] bytes). Also used by
/// the `graphward config apply` client.
pub fn exchange<S: Read + Write>(stream: &mut S, request: &[u8]) -> Result<(u16, Vec<u8>), String> {
    stream.write_all(request).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if raw.len() > MAX_BODY + 64 * 1024 {
                    return Err(format!("response larger than {MAX_BODY} bytes"));
                }
            }
            // Servers that close without close_notify: take what arrived.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.to_string()),
        }
    }
    parse_response(&raw)
}

fn split_host_port(authority: &str) -> Result<(&str, u16), String> {
    if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']').ok_or("bad IPv6 address in URL")?;
        let host = &rest[..end];
        let port = match rest[end + 1..].strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| "bad port in URL")?,
            None => 443,
        };
        return Ok((host, port));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => Ok((h, p.parse().map_err(|_| "bad port in URL")?)),
        None => Ok((authority, 443)),
    }
}

fn root_store(ca_file: Option<&Path>) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    let env_ca = std::env::var_os(CA_ENV).filter(|v| !v.is_empty());
    let ca = ca_file
        .map(Path::to_path_buf)
        .or_else(|| env_ca.map(std::path::PathBuf::from));
    match ca {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(&path)
                .map_err(|e| format!("CA file {}: {e}", path.display()))?;
            for c in certs {
                let c = c.map_err(|e| format!("CA file {}: {e}", path.display()))?;
                roots
                    .add(c)
                    .map_err(|e| format!("CA file {}: {e}", path.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("CA file {} holds no certificate", path.display()));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for c in found.certs {
                let _ = roots.add(c);
            }
            if roots.is_empty() {
                return Err(
                    "no system CA certificates found; set SSL_CA_CERT to a CA file".to_string(),
                );
            }
        }
    }
    Ok(roots)
}

/// Status line, headers, body (identity or chunked).
fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("malformed HTTP response")?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| "malformed HTTP headers")?;
    let body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    let code: u16 = status
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .filter(|_| status.starts_with("HTTP/1."))
        .ok_or_else(|| format!("malformed HTTP status line {status:?}"))?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    if body.len() > MAX_BODY {
        return Err(format!("response larger than {MAX_BODY} bytes"));
    }
    Ok((code, body))
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("malformed chunked body")?;
        let size_text = std::str::from_utf8(&b[..eol]).map_err(|_| "malformed chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "malformed chunk size")?;
        b = &b[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if b.len() < size || out.len() + size > MAX_BODY {
            return Err("truncated or oversized chunked body".to_string());
        }
        out.extend_from_slice(&b[..size]);
        b = b.get(size + 2..).ok_or("truncated chunked body")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_parse() {
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi").unwrap(),
            (200, b"hi".to_vec())
        );
        assert_eq!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n3\r\n!!!\r\n0\r\n\r\n"
            )
            .unwrap(),
            (200, b"hi!!!".to_vec())
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 404 Not Found\r\n\r\n").unwrap(),
            (404, Vec::new())
        );
        assert!(parse_response(b"XTTP/1.1 200 OK\r\n\r\n").is_err());
        assert!(parse_response(b"garbage").is_err());
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
        assert!(get("http://example.com/key", None).is_err());
        assert_eq!(split_host_port("h:8443").unwrap(), ("h", 8443));
        assert_eq!(split_host_port("[::1]").unwrap(), ("::1", 443));
    }
}
