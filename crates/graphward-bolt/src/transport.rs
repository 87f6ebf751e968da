//! The byte stream under Bolt: a plain stream, or Bolt-over-WebSocket (RFC 6455) detected on
//! the same port by an HTTP `GET` upgrade request.
//!
//! The HTTP upgrade request is checked here (size bound, `Upgrade`, key, version, origin
//! allow-list, with the matching HTTP refusals); everything after the `101` response (frames,
//! masking, fragmentation, ping/pong, close) is `tokio-tungstenite`'s, with its frame and
//! message sizes bounded by the Bolt configuration.
//!
//! [`Transport::read_into`] is cancel-safe (it may be raced against query execution in
//! `tokio::select!`): the WebSocket stream keeps partial frames in itself, and a received
//! message is copied into the caller's buffer before returning. Each [`Transport::write`]
//! becomes one WebSocket binary message.

use std::io;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

/// Largest HTTP upgrade request accepted.
const MAX_HTTP_HEADER: usize = 16 * 1024;
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

pub enum Transport<S> {
    Plain(S),
    Ws(WsStream<S>),
}

/// A server-side WebSocket carrying the Bolt byte stream in its data messages.
pub struct WsStream<S> {
    /// Boxed: its buffers would make every [`Transport`] as large as the WebSocket state.
    ws: Box<WebSocketStream<S>>,
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
                    ws.closed = true;
                    let frame = CloseFrame {
                        code: CloseCode::Normal,
                        reason: "".into(),
                    };
                    let _ = WebSocketStream::close(&mut ws.ws, Some(frame)).await;
                } else {
                    // Flushes a queued close reply, if any.
                    let _ = ws.ws.flush().await;
                }
                let _ = ws.ws.get_mut().shutdown().await;
            }
        }
    }
}

fn ws_error(e: WsError) -> io::Error {
    match e {
        WsError::Io(e) => e,
        e => io::Error::other(format!("WebSocket: {e}")),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsStream<S> {
    async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.ws
            .send(Message::Binary(Bytes::copy_from_slice(data)))
            .await
            .map_err(ws_error)
    }

    async fn read_into(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        loop {
            if self.closed {
                return Ok(0);
            }
            let data = match self.ws.next().await {
                None | Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => {
                    self.closed = true;
                    return Ok(0);
                }
                Some(Err(e)) => return Err(ws_error(e)),
                Some(Ok(Message::Binary(b))) => b,
                Some(Ok(Message::Text(t))) => Bytes::from(t),
                // The close reply is queued by tungstenite and flushed by `shutdown`.
                Some(Ok(Message::Close(_))) => {
                    self.closed = true;
                    return Ok(0);
                }
                // Pongs to pings are queued and sent by tungstenite.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            };
            if !data.is_empty() {
                buf.extend_from_slice(&data);
                return Ok(data.len());
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
    let config = WebSocketConfig::default()
        .max_frame_size(Some(max_frame))
        .max_message_size(Some(max_frame));
    let ws = WebSocketStream::from_partially_read(stream, buf.to_vec(), Role::Server, Some(config))
        .await;
    Ok(Upgrade::Accepted(WsStream {
        ws: Box::new(ws),
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
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const UPGRADE: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    /// A server-side transport after a completed upgrade, and the client end of the pipe
    /// (with the `101` response already read).
    async fn upgraded(
        max_frame: usize,
    ) -> (Transport<tokio::io::DuplexStream>, tokio::io::DuplexStream) {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        client.write_all(&UPGRADE[4..]).await.unwrap();
        let Upgrade::Accepted(ws) = accept_websocket(server, &UPGRADE[..4], &[], max_frame)
            .await
            .unwrap()
        else {
            panic!("upgrade refused");
        };
        let mut resp = Vec::new();
        while !resp.ends_with(b"\r\n\r\n") {
            let mut b = [0u8; 1];
            client.read_exact(&mut b).await.unwrap();
            resp.push(b[0]);
        }
        assert!(resp.starts_with(b"HTTP/1.1 101"));
        (Transport::Ws(ws), client)
    }

    fn frame(opcode: u8, masked: bool, payload: &[u8]) -> Vec<u8> {
        let mask = [9u8, 8, 7, 6];
        let mut f = vec![0x80 | opcode];
        let m = if masked { 0x80 } else { 0 };
        if payload.len() < 126 {
            f.push(m | payload.len() as u8);
        } else {
            f.push(m | 127);
            f.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        }
        if masked {
            f.extend_from_slice(&mask);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        } else {
            f.extend_from_slice(payload);
        }
        f
    }

    #[tokio::test]
    async fn ping_is_answered_and_close_ends_the_stream() {
        let (mut t, mut client) = upgraded(1 << 20).await;
        client.write_all(&frame(0x9, true, b"hi")).await.unwrap();
        client.write_all(&frame(0x2, true, b"bolt")).await.unwrap();
        let mut buf = BytesMut::new();
        assert_eq!(t.read_into(&mut buf).await.unwrap(), 4);
        assert_eq!(&buf[..], b"bolt");
        t.write(b"ok").await.unwrap();
        let mut got = [0u8; 8];
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(got, [0x8A, 2, b'h', b'i', 0x82, 2, b'o', b'k']);
        client
            .write_all(&frame(0x8, true, &1000u16.to_be_bytes()))
            .await
            .unwrap();
        assert_eq!(t.read_into(&mut buf).await.unwrap(), 0);
        t.shutdown().await;
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, [0x88, 2, 0x03, 0xE8]);
    }

    #[tokio::test]
    async fn hostile_frames_are_errors() {
        let (mut t, mut client) = upgraded(1 << 10).await;
        client.write_all(&frame(0x2, false, b"x")).await.unwrap();
        assert!(t.read_into(&mut BytesMut::new()).await.is_err());
        let (mut t, mut client) = upgraded(1 << 10).await;
        client
            .write_all(&frame(0x2, true, &[0u8; 2048]))
            .await
            .unwrap();
        assert!(t.read_into(&mut BytesMut::new()).await.is_err());
        let (mut t, mut client) = upgraded(1 << 10).await;
        // Declared length 2^63: refused from the header, nothing allocated.
        client
            .write_all(&[0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4])
            .await
            .unwrap();
        assert!(t.read_into(&mut BytesMut::new()).await.is_err());
        let (mut t, mut client) = upgraded(1 << 10).await;
        client.write_all(&[0x72, 0x80, 1, 2, 3, 4]).await.unwrap();
        assert!(t.read_into(&mut BytesMut::new()).await.is_err());
    }

    #[test]
    fn accept_key_matches_rfc_example() {
        assert_eq!(
            websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
