//! Bolt message framing: a message is a sequence of chunks (`u16` big-endian length + data),
//! ended by an empty chunk `00 00`. An empty chunk between messages is a NOOP keep-alive.

/// Largest chunk payload.
pub const MAX_CHUNK: usize = 0xFFFF;

/// A framing error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkError {
    /// The message (sum of its chunks) exceeds the configured limit.
    TooLarge { limit: usize },
}

impl std::fmt::Display for ChunkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChunkError::TooLarge { limit } => {
                write!(f, "message exceeds the maximum size of {limit} bytes")
            }
        }
    }
}

impl std::error::Error for ChunkError {}

/// Appends `msg` to `out` as chunks followed by the `00 00` end marker.
pub fn write_message(out: &mut Vec<u8>, msg: &[u8]) {
    for chunk in msg.chunks(MAX_CHUNK) {
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&[0, 0]);
}

/// Outcome of [`parse_message`].
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// More bytes are needed.
    Incomplete,
    /// `consumed` bytes were NOOP chunks only.
    Noop { consumed: usize },
    /// A whole message, and how many bytes of the input it (and leading NOOPs) used.
    Message { consumed: usize, payload: Vec<u8> },
}

/// Parses one message from the start of `buf` without consuming anything on `Incomplete`.
pub fn parse_message(buf: &[u8], max_size: usize) -> Result<Parsed, ChunkError> {
    let mut pos = 0usize;
    let mut noops = 0usize;
    let mut total = 0usize;
    // First pass: find the end and check sizes without copying.
    loop {
        let Some(hdr) = buf.get(pos..pos + 2) else {
            return Ok(if noops > 0 {
                Parsed::Noop { consumed: noops }
            } else {
                Parsed::Incomplete
            });
        };
        let len = u16::from_be_bytes([hdr[0], hdr[1]]) as usize;
        if len == 0 {
            if total == 0 {
                pos += 2;
                noops = pos;
                continue;
            }
            pos += 2;
            break;
        }
        total += len;
        if total > max_size {
            return Err(ChunkError::TooLarge { limit: max_size });
        }
        if buf.len() < pos + 2 + len {
            return Ok(if noops > 0 {
                Parsed::Noop { consumed: noops }
            } else {
                Parsed::Incomplete
            });
        }
        pos += 2 + len;
    }
    let end = pos;
    let mut payload = Vec::with_capacity(total);
    let mut p = noops;
    while p + 2 <= end {
        let len = match buf.get(p..p + 2) {
            Some(h) => u16::from_be_bytes([h[0], h[1]]) as usize,
            None => break,
        };
        if len == 0 {
            break;
        }
        if let Some(data) = buf.get(p + 2..p + 2 + len) {
            payload.extend_from_slice(data);
        }
        p += 2 + len;
    }
    Ok(Parsed::Message {
        consumed: end,
        payload,
    })
}
