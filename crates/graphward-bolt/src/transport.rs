//! The byte stream under Bolt: a plain stream, or Bolt-over-WebSocket (RFC 6455) detected on
//! the same port by an HTTP `GET` upgrade request.
//!
//! [`Transport::read_into`] is cancel-safe (it may be raced against query execution in
//! `tokio::select!`): everything received is kept in `self` or the caller's buffer before any
//! await point. Each [`Transport::write`] becomes one WebSocket binary message.

use std::io;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest HTTP upgrade request accepted.
const MAX_HTTP_HEADER: usize = 16 * 1024;
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

pub enum Transport<S> {
    Plain(S),
    Ws(WsStream<S>),
}

pub struct WsStream<S> {
    stream: S,
    raw: BytesMut,
    /// Control frames (pong, close) waiting to be written before the next data frame.
    pending_out: Vec<u8>,
    max_frame: usize,
    closed: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Transport<S> {
    /// Reads more Bolt bytes into `buf`; `Ok(0)` means the peer closed.
    pub async fn read_into(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => {
                buf.reserve(8192);
                s.read_buf(buf).await
            }
            Transport::Ws(ws) => ws.read_into(buf).await,
        }
    }

    /// Writes `data` (one WebSocket message on WebSocket).
    pub async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Transport::Plain(s) => {
                s.write_all(data).await?;
                s.flush().await
            }
            Transport::Ws(ws) => ws.write(data).await,
        }
    }

    pub async fn shutdown(&mut self) {
        match self {
            Transport::Plain(s) => {
                let _ = s.shutdown().await;
            }
            Transport::Ws(ws) => {
                if !ws.closed {
                    let mut close = Vec::new();
                    frame_header(&mut close, 0x8, 2);
                    close.extend_from_slice(&1000u16.to_be_bytes());
                    ws.pending_out.extend_from_slice(&close);
                    ws.closed = true;
                }
                let pending = std::mem::take(&mut ws.pending_out);
                let _ = ws.stream.write_all(&pending).await;
                let _ = ws.stream.shutdown().await;
            }
        }
    }
}

fn frame_header(out: &mut Vec<u8>, opcode: u8, len: usize) {
    out.push(0x80 | opcode);
    if len < 126 {
        out.push(len as u8);
    } else if len <= u16::MAX as usize {
        out.push(126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsStream<S> {
    async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let mut out = std::mem::take(&mut self.pending_out);
        frame_header(&mut out, 0x2, data.len());
        out.extend_from_slice(data);
        self.stream.write_all(&out).await?;
        self.stream.flush().await
    }

    async fn read_into(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        loop {
            if self.closed {
                return Ok(0);
            }
            let n = self.parse_frames(buf)?;
            if n > 0 {
                return Ok(n);
            }
            if self.closed {
                return Ok(0);
            }
            self.raw.reserve(8192);
            if self.stream.read_buf(&mut self.raw).await? == 0 {
                return Ok(0);
            }
        }
    }

    /// Consumes complete frames from `raw`, appending data payloads to `buf`.
    fn parse_frames(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        let mut produced = 0;
        loop {
            let raw = &self.raw[..];
            let (Some(&b0), Some(&b1)) = (raw.first(), raw.get(1)) else {
                return Ok(produced);
            };
            let opcode = b0 & 0x0F;
            if b0 & 0x70 != 0 {
                return Err(io::Error::other("WebSocket frame with reserved bits set"));
            }
            if b1 & 0x80 == 0 {
                return Err(io::Error::other("unmasked WebSocket frame from client"));
            }
            let (len, mut pos) = match b1 & 0x7F {
                126 => match raw.get(2..4) {
                    Some(b) => (u16::from_be_bytes([b[0], b[1]]) as u64, 4),
                    None => return Ok(produced),
                },
                127 => match raw.get(2..10) {
                    Some(b) => {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(b);
                        (u64::from_be_bytes(a), 10)
                    }
                    None => return Ok(produced),
                },
                l => (l as u64, 2),
            };
            if len > self.max_frame as u64 {
                return Err(io::Error::other("WebSocket frame too large"));
            }
            let len = len as usize;
            let Some(mask) = raw.get(pos..pos + 4) else {
                return Ok(produced);
            };
            let mask = [mask[0], mask[1], mask[2], mask[3]];
            pos += 4;
            let Some(payload) = raw.get(pos..pos + len) else {
                return Ok(produced);
            };
            let data: Vec<u8> = payload
                .iter()
                .zip(mask.iter().cycle())
                .map(|(b, m)| b ^ m)
                .collect();
            self.raw.advance(pos + len);
            match opcode {
                0x0..=0x2 => {
                    produced += data.len();
                    buf.extend_from_slice(&data);
                }
                0x8 => {
                    let mut close = Vec::new();
                    frame_header(&mut close, 0x8, 2);
                    close.extend_from_slice(&1000u16.to_be_bytes());
                    self.pending_out.extend_from_slice(&close);
                    self.closed = true;
                    return Ok(produced);
                }
                0x9 => {
                    if data.len() > 125 {
                        return Err(io::Error::other("WebSocket ping too large"));
                    }
                    frame_header(&mut self.pending_out, 0xA, data.len());
                    self.pending_out.extend_from_slice(&data);
                }
                0xA => {}
                _ => return Err(io::Error::other("unknown WebSocket opcode")),
            }
        }
    }
}

/// Outcome of [`accept_websocket`].
pub enum Upgrade<S> {
    Accepted(WsStream<S>),
    /// Refused; the HTTP response was sent. The string is for the log.
    Refused(String),
}

/// Completes the HTTP upgrade whose first 4 bytes (`GET `) were already read.
pub async fn accept_websocket<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    prefix: &[u8],
    allowed_origins: &[String],
    max_frame: usize,
) -> io::Result<Upgrade<S>> {
    let mut buf = BytesMut::from(prefix);
    let header_end = loop {
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > MAX_HTTP_HEADER {
            respond(&mut stream, "431 Request Header Fields Too Large", "").await;
            return Ok(Upgrade::Refused("HTTP request header too large".into()));
        }
        buf.reserve(4096);
        if stream.read_buf(&mut buf).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed during the HTTP upgrade",
            ));
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let mut upgrade = None;
    let mut key = None;
    let mut origin = None;
    let mut version = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim().to_string();
            match name.trim().to_ascii_lowercase().as_str() {
                "upgrade" => upgrade = Some(value),
                "sec-websocket-key" => key = Some(value),
                "origin" => origin = Some(value),
                "sec-websocket-version" => version = Some(value),
                _ => {}
            }
        }
    }
    let is_ws = upgrade
        .as_deref()
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let (true, Some(key)) = (is_ws, key) else {
        respond(
            &mut stream,
            "400 Bad Request",
            "not a WebSocket handshake request: missing upgrade\n",
        )
        .await;
        return Ok(Upgrade::Refused(format!(
            "HTTP request without WebSocket upgrade: {request_line}"
        )));
    };
    if version.as_deref().is_some_and(|v| v != "13") {
        respond(&mut stream, "426 Upgrade Required", "").await;
        return Ok(Upgrade::Refused("unsupported WebSocket version".into()));
    }
    if !allowed_origins.is_empty() {
        if let Some(o) = &origin {
            if !allowed_origins.iter().any(|a| a == o) {
                respond(&mut stream, "403 Forbidden", "origin not allowed\n").await;
                return Ok(Upgrade::Refused(format!(
                    "WebSocket origin {o:?} not in the allow-list"
                )));
            }
        }
    }
    let accept = websocket_accept(&key);
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    stream.write_all(resp.as_bytes()).await?;
    stream.flush().await?;
    buf.advance(header_end);
    Ok(Upgrade::Accepted(WsStream {
        stream,
        raw: buf,
        pending_out: Vec::new(),
        max_frame,
        closed: false,
    }))
}

async fn respond<S: AsyncWrite + Unpin>(stream: &mut S, status: &str, body: &str) {
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(resp.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The `Sec-WebSocket-Accept` value for a client's key (RFC 6455 §4.2.2): base64 of the
/// SHA-1 of the key and the protocol's GUID. SHA-1 here is the protocol's choice, not a
/// security property; aws-lc-rs computes it and the `base64` crate encodes it.
pub fn websocket_accept(key: &str) -> String {
    use base64::Engine as _;
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        format!("{key}{WS_GUID}").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_matches_rfc_example() {
        assert_eq!(
            websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
