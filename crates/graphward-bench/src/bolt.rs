//! A small blocking Bolt 5.0 client on the project's own PackStream and chunk code
//! (`graphward-packstream`): HELLO with basic auth, RUN with parameters and PULL all in one
//! write (as the drivers pipeline them), the records decoded into [`Value`]s. Its CPU per query
//! is a few microseconds, so a benchmark over it measures the server.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;

use graphward_core::Value;
use graphward_packstream::chunk::{self, Parsed};
use graphward_packstream::{msg, Decoder, Encoder, Flavor, PackError};

/// One Bolt connection.
pub struct Bolt {
    stream: TcpStream,
    inbuf: Vec<u8>,
}

fn io(e: std::io::Error) -> String {
    e.to_string()
}

fn pack(e: PackError) -> String {
    e.to_string()
}

/// A message (structure `tag` with `fields`), chunked, appended to `out`.
fn message(out: &mut Vec<u8>, tag: u8, fields: &[Value]) -> Result<(), String> {
    let mut payload = Vec::new();
    let mut e = Encoder::new(&mut payload, Flavor::V5);
    e.struct_header(fields.len(), tag).map_err(pack)?;
    for f in fields {
        e.value(f).map_err(pack)?;
    }
    chunk::write_message(out, &payload);
    Ok(())
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

impl Bolt {
    /// Connect to `address` (`host:port`): handshake (5.0), HELLO with basic auth.
    pub fn connect(address: &str, user: &str, password: &str) -> Result<Bolt, String> {
        let mut stream = TcpStream::connect(address).map_err(io)?;
        stream.set_nodelay(true).map_err(io)?;
        let mut hs = vec![0x60, 0x60, 0xB0, 0x17];
        hs.extend_from_slice(&[0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        stream.write_all(&hs).map_err(io)?;
        let mut version = [0u8; 4];
        stream.read_exact(&mut version).map_err(io)?;
        if version != [0, 0, 0, 5] {
            return Err(format!("the server did not accept Bolt 5.0 ({version:?})"));
        }
        let mut bolt = Bolt {
            stream,
            inbuf: Vec::new(),
        };
        let mut out = Vec::new();
        let hello = map(&[
            ("user_agent", Value::from("graphward-bench/1")),
            ("scheme", Value::from("basic")),
            ("principal", Value::from(user)),
            ("credentials", Value::from(password)),
        ]);
        message(&mut out, msg::HELLO, &[hello])?;
        bolt.stream.write_all(&out).map_err(io)?;
        let (tag, fields) = bolt.read()?;
        if tag != msg::SUCCESS {
            return Err(format!("HELLO was refused: {}", failure_text(&fields)));
        }
        Ok(bolt)
    }

    /// Reads one message: its tag and fields.
    fn read(&mut self) -> Result<(u8, Vec<Value>), String> {
        loop {
            match chunk::parse_message(&self.inbuf, usize::MAX).map_err(|e| e.to_string())? {
                Parsed::Message { consumed, payload } => {
                    self.inbuf.drain(..consumed);
                    let mut d = Decoder::new(&payload, Flavor::V5);
                    let (n, tag) = d.struct_header().map_err(pack)?;
                    let fields = (0..n)
                        .map(|_| d.value())
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(pack)?;
                    return Ok((tag, fields));
                }
                Parsed::Noop { consumed } => {
                    self.inbuf.drain(..consumed);
                }
                Parsed::Incomplete => {
                    let mut buf = [0u8; 64 * 1024];
                    let n = self.stream.read(&mut buf).map_err(io)?;
                    if n == 0 {
                        return Err("the server closed the connection".into());
                    }
                    self.inbuf.extend_from_slice(buf.get(..n).unwrap_or(&[]));
                }
            }
        }
    }

    /// Run `query` in an auto-commit transaction (`read`: access mode `r`) and return its rows.
    pub fn run(
        &mut self,
        query: &str,
        params: BTreeMap<String, Value>,
        read: bool,
    ) -> Result<Vec<Vec<Value>>, String> {
        let extra = if read {
            map(&[("mode", Value::from("r"))])
        } else {
            map(&[])
        };
        let mut out = Vec::new();
        message(
            &mut out,
            msg::RUN,
            &[Value::from(query), Value::Map(params), extra],
        )?;
        message(&mut out, msg::PULL, &[map(&[("n", Value::Int(-1))])])?;
        self.stream.write_all(&out).map_err(io)?;
        let (tag, fields) = self.read()?;
        if tag != msg::SUCCESS {
            return Err(self.recover(tag, &fields)?);
        }
        let mut rows = Vec::new();
        loop {
            let (tag, fields) = self.read()?;
            match (tag, fields.into_iter().next()) {
                (msg::RECORD, Some(Value::List(row))) => rows.push(row),
                (msg::SUCCESS, _) => return Ok(rows),
                (tag, field) => {
                    let fields: Vec<Value> = field.into_iter().collect();
                    return Err(self.recover(tag, &fields)?);
                }
            }
        }
    }

    /// After a FAILURE: skip what the server ignores, RESET, and give the failure's text.
    fn recover(&mut self, tag: u8, fields: &[Value]) -> Result<String, String> {
        if tag != msg::FAILURE {
            return Err(format!("unexpected Bolt message {tag:#04x}"));
        }
        let text = failure_text(fields);
        let mut out = Vec::new();
        message(&mut out, msg::RESET, &[])?;
        self.stream.write_all(&out).map_err(io)?;
        loop {
            let (tag, _) = self.read()?;
            if tag == msg::SUCCESS {
                return Ok(text);
            }
        }
    }
}

/// `code: message` of a FAILURE's metadata.
fn failure_text(fields: &[Value]) -> String {
    let Some(Value::Map(m)) = fields.first() else {
        return "no metadata".into();
    };
    let get = |k: &str| match m.get(k) {
        Some(Value::String(s)) => s.as_str(),
        _ => "",
    };
    format!("{}: {}", get("code"), get("message"))
}
