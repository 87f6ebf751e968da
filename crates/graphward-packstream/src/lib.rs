//! graphward-packstream: the Bolt wire format, with no sockets and no server: PackStream v1
//! values (this module), message framing ([`chunk`]), version negotiation ([`handshake`]) and
//! message tags ([`msg`]). Used by the Bolt server (`graphward-bolt`), the shell and the load
//! generator.
//!
//! PackStream v1 is the binary value encoding Bolt messages are made of.
//!
//! The encoder and decoder are symmetric and version-aware through [`Flavor`]: Bolt 4.x
//! connections use 3-field nodes, 5-field relationships and the legacy `F`/`f` DateTime
//! structures (unless the 4.3/4.4 `utc` patch was agreed); Bolt 5.x adds element ids and uses
//! the UTC `I`/`i` forms. Decoding never panics: malformed, truncated, oversized or too deeply
//! nested input returns a [`PackError`].

use std::collections::BTreeMap;
use std::fmt;

use chrono::{NaiveDateTime, Offset, TimeZone};
use graphward_core::temporal::{Date, DateTime, Duration, LocalDateTime, LocalTime, Time, Zone};
use graphward_core::{Node, Path, Point, Relationship, Value};

pub mod chunk;
pub mod handshake;
pub mod msg;

/// Structure tags.
pub mod tag {
    pub const NODE: u8 = 0x4E;
    pub const RELATIONSHIP: u8 = 0x52;
    pub const UNBOUND_RELATIONSHIP: u8 = 0x72;
    pub const PATH: u8 = 0x50;
    pub const DATE: u8 = 0x44;
    pub const TIME: u8 = 0x54;
    pub const LOCAL_TIME: u8 = 0x74;
    pub const DATE_TIME_LEGACY: u8 = 0x46;
    pub const DATE_TIME_ZONE_ID_LEGACY: u8 = 0x66;
    pub const DATE_TIME: u8 = 0x49;
    pub const DATE_TIME_ZONE_ID: u8 = 0x69;
    pub const LOCAL_DATE_TIME: u8 = 0x64;
    pub const DURATION: u8 = 0x45;
    pub const POINT_2D: u8 = 0x58;
    pub const POINT_3D: u8 = 0x59;
}

/// Deepest nesting of lists/maps/structures accepted (and produced).
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// How structures are shaped on one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flavor {
    /// Bolt 5.x: nodes and relationships carry element ids.
    pub element_ids: bool,
    /// DateTime uses the UTC forms `I`/`i` (5.x, or 4.4 with the `utc` patch).
    pub utc: bool,
}

impl Flavor {
    pub const V4: Flavor = Flavor {
        element_ids: false,
        utc: false,
    };
    pub const V5: Flavor = Flavor {
        element_ids: true,
        utc: true,
    };
}

/// A PackStream encoding or decoding error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackError(pub String);

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PackStream: {}", self.0)
    }
}

impl std::error::Error for PackError {}

fn err<T>(msg: impl Into<String>) -> Result<T, PackError> {
    Err(PackError(msg.into()))
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/// Encodes values into a byte buffer.
pub struct Encoder<'a> {
    pub out: &'a mut Vec<u8>,
    pub flavor: Flavor,
    pub max_depth: usize,
}

impl<'a> Encoder<'a> {
    pub fn new(out: &'a mut Vec<u8>, flavor: Flavor) -> Self {
        Encoder {
            out,
            flavor,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    pub fn null(&mut self) {
        self.out.push(0xC0);
    }

    pub fn bool(&mut self, b: bool) {
        self.out.push(if b { 0xC3 } else { 0xC2 });
    }

    pub fn int(&mut self, i: i64) {
        if (-16..=127).contains(&i) {
            self.out.push(i as i8 as u8);
        } else if (i8::MIN as i64..=i8::MAX as i64).contains(&i) {
            self.out.push(0xC8);
            self.out.push(i as i8 as u8);
        } else if (i16::MIN as i64..=i16::MAX as i64).contains(&i) {
            self.out.push(0xC9);
            self.out.extend_from_slice(&(i as i16).to_be_bytes());
        } else if (i32::MIN as i64..=i32::MAX as i64).contains(&i) {
            self.out.push(0xCA);
            self.out.extend_from_slice(&(i as i32).to_be_bytes());
        } else {
            self.out.push(0xCB);
            self.out.extend_from_slice(&i.to_be_bytes());
        }
    }

    pub fn float(&mut self, f: f64) {
        self.out.push(0xC1);
        self.out.extend_from_slice(&f.to_bits().to_be_bytes());
    }

    fn sized_header(
        &mut self,
        len: usize,
        tiny: Option<u8>,
        m8: u8,
        m16: u8,
        m32: u8,
    ) -> Result<(), PackError> {
        match tiny {
            Some(t) if len < 16 => self.out.push(t | len as u8),
            _ => {
                if len <= u8::MAX as usize {
                    self.out.push(m8);
                    self.out.push(len as u8);
                } else if len <= u16::MAX as usize {
                    self.out.push(m16);
                    self.out.extend_from_slice(&(len as u16).to_be_bytes());
                } else if len <= i32::MAX as usize {
                    self.out.push(m32);
                    self.out.extend_from_slice(&(len as u32).to_be_bytes());
                } else {
                    return err("value too large to encode");
                }
            }
        }
        Ok(())
    }

    pub fn string(&mut self, s: &str) -> Result<(), PackError> {
        self.sized_header(s.len(), Some(0x80), 0xD0, 0xD1, 0xD2)?;
        self.out.extend_from_slice(s.as_bytes());
        Ok(())
    }

    pub fn bytes(&mut self, b: &[u8]) -> Result<(), PackError> {
        self.sized_header(b.len(), None, 0xCC, 0xCD, 0xCE)?;
        self.out.extend_from_slice(b);
        Ok(())
    }

    pub fn list_header(&mut self, len: usize) -> Result<(), PackError> {
        self.sized_header(len, Some(0x90), 0xD4, 0xD5, 0xD6)
    }

    pub fn map_header(&mut self, len: usize) -> Result<(), PackError> {
        self.sized_header(len, Some(0xA0), 0xD8, 0xD9, 0xDA)
    }

    pub fn struct_header(&mut self, fields: usize, tag: u8) -> Result<(), PackError> {
        if fields > 15 {
            return err("structure with more than 15 fields");
        }
        self.out.push(0xB0 | fields as u8);
        self.out.push(tag);
        Ok(())
    }

    pub fn value(&mut self, v: &Value) -> Result<(), PackError> {
        self.value_at(v, 0)
    }

    fn map_at(&mut self, m: &BTreeMap<String, Value>, depth: usize) -> Result<(), PackError> {
        self.map_header(m.len())?;
        for (k, v) in m {
            self.string(k)?;
            self.value_at(v, depth + 1)?;
        }
        Ok(())
    }

    pub fn map(&mut self, m: &BTreeMap<String, Value>) -> Result<(), PackError> {
        self.map_at(m, 0)
    }

    fn string_list(&mut self, items: &[String]) -> Result<(), PackError> {
        self.list_header(items.len())?;
        for s in items {
            self.string(s)?;
        }
        Ok(())
    }

    fn node(&mut self, n: &Node, depth: usize) -> Result<(), PackError> {
        self.struct_header(if self.flavor.element_ids { 4 } else { 3 }, tag::NODE)?;
        self.int(n.id);
        self.string_list(&n.labels)?;
        self.map_at(&n.properties, depth)?;
        if self.flavor.element_ids {
            self.string(&n.element_id)?;
        }
        Ok(())
    }

    fn relationship(&mut self, r: &Relationship, depth: usize) -> Result<(), PackError> {
        let v5 = self.flavor.element_ids;
        self.struct_header(if v5 { 8 } else { 5 }, tag::RELATIONSHIP)?;
        self.int(r.id);
        self.int(r.start);
        self.int(r.end);
        self.string(&r.rel_type)?;
        self.map_at(&r.properties, depth)?;
        if v5 {
            self.string(&r.element_id)?;
            self.string(&r.start_element_id)?;
            self.string(&r.end_element_id)?;
        }
        Ok(())
    }

    fn path(&mut self, p: &Path, depth: usize) -> Result<(), PackError> {
        if p.nodes.len() != p.relationships.len() + 1 {
            return err("malformed path: node and relationship counts do not match");
        }
        let mut nodes: Vec<&Node> = Vec::new();
        for n in &p.nodes {
            // Paths are short; a linear scan keeps the first-seen order stable.
            if !nodes.iter().any(|m| m.id == n.id) {
                nodes.push(n);
            }
        }
        let mut rels: Vec<&Relationship> = Vec::new();
        let mut indices: Vec<i64> = Vec::with_capacity(p.relationships.len() * 2);
        for (i, r) in p.relationships.iter().enumerate() {
            let (Some(from), Some(to)) = (p.nodes.get(i), p.nodes.get(i + 1)) else {
                return err("malformed path");
            };
            let ri = match rels.iter().position(|x| x.id == r.id) {
                Some(ri) => ri,
                None => {
                    rels.push(r);
                    rels.len() - 1
                }
            } as i64
                + 1;
            let forward = r.start == from.id && r.end == to.id;
            indices.push(if forward { ri } else { -ri });
            let ti = nodes.iter().position(|m| m.id == to.id).unwrap_or(0);
            indices.push(ti as i64);
        }
        self.struct_header(3, tag::PATH)?;
        self.list_header(nodes.len())?;
        for n in &nodes {
            self.node(n, depth + 1)?;
        }
        self.list_header(rels.len())?;
        let v5 = self.flavor.element_ids;
        for r in &rels {
            self.struct_header(if v5 { 4 } else { 3 }, tag::UNBOUND_RELATIONSHIP)?;
            self.int(r.id);
            self.string(&r.rel_type)?;
            self.map_at(&r.properties, depth + 1)?;
            if v5 {
                self.string(&r.element_id)?;
            }
        }
        self.list_header(indices.len())?;
        for i in indices {
            self.int(i);
        }
        Ok(())
    }

    fn date_time(&mut self, dt: &DateTime) -> Result<(), PackError> {
        let utc = self.flavor.utc;
        match &dt.zone {
            Zone::Offset(off) => {
                self.struct_header(
                    3,
                    if utc {
                        tag::DATE_TIME
                    } else {
                        tag::DATE_TIME_LEGACY
                    },
                )?;
                let secs = if utc {
                    dt.seconds
                } else {
                    dt.seconds.saturating_add(*off as i64)
                };
                self.int(secs);
                self.int(dt.nanos as i64);
                self.int(*off as i64);
            }
            Zone::Named(name) => {
                self.struct_header(
                    3,
                    if utc {
                        tag::DATE_TIME_ZONE_ID
                    } else {
                        tag::DATE_TIME_ZONE_ID_LEGACY
                    },
                )?;
                let secs = if utc {
                    dt.seconds
                } else {
                    dt.seconds
                        .saturating_add(zone_offset_at_utc(name, dt.seconds)? as i64)
                };
                self.int(secs);
                self.int(dt.nanos as i64);
                self.string(name)?;
            }
        }
        Ok(())
    }

    fn value_at(&mut self, v: &Value, depth: usize) -> Result<(), PackError> {
        if depth > self.max_depth {
            return err("value nested too deeply");
        }
        match v {
            Value::Null => self.null(),
            Value::Bool(b) => self.bool(*b),
            Value::Int(i) => self.int(*i),
            Value::Float(f) => self.float(*f),
            Value::String(s) => self.string(s)?,
            Value::Bytes(b) => self.bytes(b)?,
            Value::List(items) => {
                self.list_header(items.len())?;
                for item in items {
                    self.value_at(item, depth + 1)?;
                }
            }
            Value::Map(m) => self.map_at(m, depth)?,
            Value::Node(n) => self.node(n, depth)?,
            Value::Relationship(r) => self.relationship(r, depth)?,
            Value::Path(p) => self.path(p, depth)?,
            Value::Date(d) => {
                self.struct_header(1, tag::DATE)?;
                self.int(d.days);
            }
            Value::Time(t) => {
                self.struct_header(2, tag::TIME)?;
                self.int(t.nanos);
                self.int(t.offset_seconds as i64);
            }
            Value::LocalTime(t) => {
                self.struct_header(1, tag::LOCAL_TIME)?;
                self.int(t.nanos);
            }
            Value::DateTime(dt) => self.date_time(dt)?,
            Value::LocalDateTime(t) => {
                self.struct_header(2, tag::LOCAL_DATE_TIME)?;
                self.int(t.seconds);
                self.int(t.nanos as i64);
            }
            Value::Duration(d) => {
                self.struct_header(4, tag::DURATION)?;
                self.int(d.months);
                self.int(d.days);
                self.int(d.seconds);
                self.int(d.nanos as i64);
            }
            Value::Point(p) => match p.z {
                Some(z) => {
                    self.struct_header(4, tag::POINT_3D)?;
                    self.int(p.srid as i64);
                    self.float(p.x);
                    self.float(p.y);
                    self.float(z);
                }
                None => {
                    self.struct_header(3, tag::POINT_2D)?;
                    self.int(p.srid as i64);
                    self.float(p.x);
                    self.float(p.y);
                }
            },
        }
        Ok(())
    }
}

/// Encodes one value with the given flavor.
pub fn encode(v: &Value, flavor: Flavor) -> Result<Vec<u8>, PackError> {
    let mut out = Vec::new();
    Encoder::new(&mut out, flavor).value(v)?;
    Ok(out)
}

fn parse_zone(name: &str) -> Result<chrono_tz::Tz, PackError> {
    name.parse::<chrono_tz::Tz>()
        .map_err(|_| PackError(format!("unknown time zone {name:?}")))
}

fn naive_from_secs(secs: i64) -> Result<NaiveDateTime, PackError> {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.naive_utc())
        .ok_or_else(|| PackError("date-time out of range".into()))
}

/// The UTC offset (seconds) in force in zone `name` at the UTC instant `utc_secs`.
fn zone_offset_at_utc(name: &str, utc_secs: i64) -> Result<i32, PackError> {
    let tz = parse_zone(name)?;
    let naive = naive_from_secs(utc_secs)?;
    Ok(tz.offset_from_utc_datetime(&naive).fix().local_minus_utc())
}

/// UTC seconds for the wall-clock `local_secs` in zone `name` (earliest on overlap; in a gap,
/// the offset in force just before it).
fn local_to_utc(name: &str, local_secs: i64) -> Result<i64, PackError> {
    let tz = parse_zone(name)?;
    let naive = naive_from_secs(local_secs)?;
    let off = match tz.offset_from_local_datetime(&naive).earliest() {
        Some(o) => o.fix().local_minus_utc(),
        None => tz.offset_from_utc_datetime(&naive).fix().local_minus_utc(),
    };
    Ok(local_secs.saturating_sub(off as i64))
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// Decodes values from a byte slice.
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    pub flavor: Flavor,
    pub max_depth: usize,
}

/// A relationship without endpoints (only inside paths).
struct Unbound {
    id: i64,
    element_id: String,
    rel_type: String,
    properties: BTreeMap<String, Value>,
}

enum Decoded {
    Value(Value),
    Unbound(Unbound),
}

impl<'a> Decoder<'a> {
    pub fn new(buf: &'a [u8], flavor: Flavor) -> Self {
        Decoder {
            buf,
            pos: 0,
            flavor,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PackError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| PackError("length overflow".into()))?;
        match self.buf.get(self.pos..end) {
            Some(s) => {
                self.pos = end;
                Ok(s)
            }
            None => err("unexpected end of data"),
        }
    }

    fn u8(&mut self) -> Result<u8, PackError> {
        let s = self.take(1)?;
        s.first()
            .copied()
            .ok_or_else(|| PackError("unexpected end of data".into()))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PackError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn len8(&mut self) -> Result<usize, PackError> {
        Ok(self.u8()? as usize)
    }
    fn len16(&mut self) -> Result<usize, PackError> {
        Ok(u16::from_be_bytes(self.array()?) as usize)
    }
    fn len32(&mut self) -> Result<usize, PackError> {
        let n = u32::from_be_bytes(self.array()?);
        if n > i32::MAX as u32 {
            return err("size exceeds 2^31-1");
        }
        Ok(n as usize)
    }

    fn utf8(&mut self, len: usize) -> Result<String, PackError> {
        let b = self.take(len)?;
        std::str::from_utf8(b)
            .map(str::to_string)
            .map_err(|_| PackError("string is not valid UTF-8".into()))
    }

    /// Reads a structure header: returns (field count, tag).
    pub fn struct_header(&mut self) -> Result<(usize, u8), PackError> {
        let m = self.u8()?;
        if !(0xB0..=0xBF).contains(&m) {
            return err(format!("expected a structure, found marker {m:#04x}"));
        }
        let tag = self.u8()?;
        Ok(((m & 0x0F) as usize, tag))
    }

    /// Decodes one value.
    pub fn value(&mut self) -> Result<Value, PackError> {
        match self.any(0)? {
            Decoded::Value(v) => Ok(v),
            Decoded::Unbound(_) => err("unbound relationship outside a path"),
        }
    }

    fn value_at(&mut self, depth: usize) -> Result<Value, PackError> {
        match self.any(depth)? {
            Decoded::Value(v) => Ok(v),
            Decoded::Unbound(_) => err("unbound relationship outside a path"),
        }
    }

    fn list_items(&mut self, len: usize, depth: usize) -> Result<Vec<Value>, PackError> {
        // Every element takes at least one byte: cap the allocation by what is left.
        let mut items = Vec::with_capacity(len.min(self.remaining()));
        for _ in 0..len {
            items.push(self.value_at(depth + 1)?);
        }
        Ok(items)
    }

    fn map_items(&mut self, len: usize, depth: usize) -> Result<Value, PackError> {
        let mut m = BTreeMap::new();
        for _ in 0..len {
            let k = match self.value_at(depth + 1)? {
                Value::String(s) => s,
                other => {
                    return err(format!(
                        "map key must be a string, found {}",
                        other.type_name()
                    ))
                }
            };
            let v = self.value_at(depth + 1)?;
            m.insert(k, v);
        }
        Ok(Value::Map(m))
    }

    fn any(&mut self, depth: usize) -> Result<Decoded, PackError> {
        if depth > self.max_depth {
            return err("value nested too deeply");
        }
        let m = self.u8()?;
        let v = match m {
            0x00..=0x7F => Value::Int(m as i64),
            0xF0..=0xFF => Value::Int(m as i8 as i64),
            0xC0 => Value::Null,
            0xC1 => Value::Float(f64::from_bits(u64::from_be_bytes(self.array()?))),
            0xC2 => Value::Bool(false),
            0xC3 => Value::Bool(true),
            0xC8 => Value::Int(i8::from_be_bytes(self.array()?) as i64),
            0xC9 => Value::Int(i16::from_be_bytes(self.array()?) as i64),
            0xCA => Value::Int(i32::from_be_bytes(self.array()?) as i64),
            0xCB => Value::Int(i64::from_be_bytes(self.array()?)),
            0xCC..=0xCE => {
                let len = match m {
                    0xCC => self.len8()?,
                    0xCD => self.len16()?,
                    _ => self.len32()?,
                };
                Value::Bytes(self.take(len)?.to_vec())
            }
            0x80..=0x8F => Value::String(self.utf8((m & 0x0F) as usize)?),
            0xD0 => {
                let l = self.len8()?;
                Value::String(self.utf8(l)?)
            }
            0xD1 => {
                let l = self.len16()?;
                Value::String(self.utf8(l)?)
            }
            0xD2 => {
                let l = self.len32()?;
                Value::String(self.utf8(l)?)
            }
            0x90..=0x9F => Value::List(self.list_items((m & 0x0F) as usize, depth)?),
            0xD4 => {
                let l = self.len8()?;
                Value::List(self.list_items(l, depth)?)
            }
            0xD5 => {
                let l = self.len16()?;
                Value::List(self.list_items(l, depth)?)
            }
            0xD6 => {
                let l = self.len32()?;
                Value::List(self.list_items(l, depth)?)
            }
            0xA0..=0xAF => self.map_items((m & 0x0F) as usize, depth)?,
            0xD8 => {
                let l = self.len8()?;
                self.map_items(l, depth)?
            }
            0xD9 => {
                let l = self.len16()?;
                self.map_items(l, depth)?
            }
            0xDA => {
                let l = self.len32()?;
                self.map_items(l, depth)?
            }
            0xB0..=0xBF => {
                let tag = self.u8()?;
                return self.structure((m & 0x0F) as usize, tag, depth);
            }
            other => return err(format!("reserved marker {other:#04x}")),
        };
        Ok(Decoded::Value(v))
    }

    fn fields(&mut self, n: usize, depth: usize) -> Result<Vec<Decoded>, PackError> {
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.any(depth + 1)?);
        }
        Ok(v)
    }

    fn path(&mut self, n: usize, depth: usize) -> Result<Decoded, PackError> {
        if n != 3 {
            return err(format!("structure 'P' needs 3 fields, got {n}"));
        }
        let nodes = match self.value_at(depth + 1)? {
            Value::List(l) => l
                .into_iter()
                .map(|v| match v {
                    Value::Node(n) => Ok(*n),
                    _ => err("path: expected a list of nodes"),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return err("path: expected a list of nodes"),
        };
        let m = self.u8()?;
        let len = match m {
            0x90..=0x9F => (m & 0x0F) as usize,
            0xD4 => self.len8()?,
            0xD5 => self.len16()?,
            0xD6 => self.len32()?,
            _ => return err("path: expected a list of relationships"),
        };
        let mut rels = Vec::with_capacity(len.min(self.remaining()));
        for _ in 0..len {
            match self.any(depth + 2)? {
                Decoded::Unbound(u) => rels.push(u),
                Decoded::Value(_) => return err("path: expected unbound relationships"),
            }
        }
        let indices = match self.value_at(depth + 1)? {
            Value::List(l) => l
                .into_iter()
                .map(|v| match v {
                    Value::Int(i) => Ok(i),
                    _ => err("path: expected integer indices"),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return err("path: expected a list of indices"),
        };
        Ok(Decoded::Value(Value::Path(build_path(
            nodes, rels, &indices,
        )?)))
    }

    fn structure(&mut self, n: usize, tag: u8, depth: usize) -> Result<Decoded, PackError> {
        if tag == tag::PATH {
            return self.path(n, depth);
        }
        let fields = self.fields(n, depth)?;
        let v5 = self.flavor.element_ids;
        let utc = self.flavor.utc;
        let mut f = Fields {
            it: fields.into_iter(),
            tag,
        };
        let expect = |want: usize| -> Result<(), PackError> {
            if n != want {
                return err(format!(
                    "structure {:?} needs {want} fields, got {n}",
                    tag as char
                ));
            }
            Ok(())
        };
        let v = match tag {
            tag::NODE => {
                expect(if v5 { 4 } else { 3 })?;
                let id = f.int()?;
                let labels = f.strings()?;
                let properties = f.map()?;
                let element_id = if v5 { f.string()? } else { id.to_string() };
                Value::Node(Box::new(Node {
                    id,
                    element_id,
                    labels,
                    properties,
                }))
            }
            tag::RELATIONSHIP => {
                expect(if v5 { 8 } else { 5 })?;
                let id = f.int()?;
                let start = f.int()?;
                let end = f.int()?;
                let rel_type = f.string()?;
                let properties = f.map()?;
                let (element_id, start_element_id, end_element_id) = if v5 {
                    (f.string()?, f.string()?, f.string()?)
                } else {
                    (id.to_string(), start.to_string(), end.to_string())
                };
                Value::Relationship(Box::new(Relationship {
                    id,
                    element_id,
                    start,
                    end,
                    start_element_id,
                    end_element_id,
                    rel_type,
                    properties,
                }))
            }
            tag::UNBOUND_RELATIONSHIP => {
                expect(if v5 { 4 } else { 3 })?;
                let id = f.int()?;
                let rel_type = f.string()?;
                let properties = f.map()?;
                let element_id = if v5 { f.string()? } else { id.to_string() };
                return Ok(Decoded::Unbound(Unbound {
                    id,
                    element_id,
                    rel_type,
                    properties,
                }));
            }
            tag::DATE => {
                expect(1)?;
                Value::Date(Date { days: f.int()? })
            }
            tag::TIME => {
                expect(2)?;
                let nanos = f.int()?;
                let offset_seconds = f.i32()?;
                Value::Time(Time {
                    nanos,
                    offset_seconds,
                })
            }
            tag::LOCAL_TIME => {
                expect(1)?;
                Value::LocalTime(LocalTime { nanos: f.int()? })
            }
            tag::DATE_TIME | tag::DATE_TIME_LEGACY if (tag == tag::DATE_TIME) == utc => {
                expect(3)?;
                let secs = f.int()?;
                let nanos = f.nanos()?;
                let off = f.i32()?;
                let seconds = if utc {
                    secs
                } else {
                    secs.saturating_sub(off as i64)
                };
                Value::DateTime(DateTime {
                    seconds,
                    nanos,
                    zone: Zone::Offset(off),
                })
            }
            tag::DATE_TIME_ZONE_ID | tag::DATE_TIME_ZONE_ID_LEGACY
                if (tag == tag::DATE_TIME_ZONE_ID) == utc =>
            {
                expect(3)?;
                let secs = f.int()?;
                let nanos = f.nanos()?;
                let name = f.string()?;
                let seconds = if utc {
                    parse_zone(&name)?;
                    secs
                } else {
                    local_to_utc(&name, secs)?
                };
                Value::DateTime(DateTime {
                    seconds,
                    nanos,
                    zone: Zone::Named(name),
                })
            }
            tag::LOCAL_DATE_TIME => {
                expect(2)?;
                let seconds = f.int()?;
                let nanos = f.nanos()?;
                Value::LocalDateTime(LocalDateTime { seconds, nanos })
            }
            tag::DURATION => {
                expect(4)?;
                let months = f.int()?;
                let days = f.int()?;
                let seconds = f.int()?;
                let nanos = f.i32()?;
                Value::Duration(Duration {
                    months,
                    days,
                    seconds,
                    nanos,
                })
            }
            tag::POINT_2D => {
                expect(3)?;
                let srid = f.i32()?;
                let x = f.float()?;
                let y = f.float()?;
                Value::Point(Point {
                    srid,
                    x,
                    y,
                    z: None,
                })
            }
            tag::POINT_3D => {
                expect(4)?;
                let srid = f.i32()?;
                let x = f.float()?;
                let y = f.float()?;
                let z = f.float()?;
                Value::Point(Point {
                    srid,
                    x,
                    y,
                    z: Some(z),
                })
            }
            other => {
                return err(format!(
                    "unsupported structure tag {other:#04x} for this protocol version"
                ))
            }
        };
        Ok(Decoded::Value(v))
    }
}

struct Fields {
    it: std::vec::IntoIter<Decoded>,
    tag: u8,
}

impl Fields {
    fn next(&mut self) -> Result<Value, PackError> {
        match self.it.next() {
            Some(Decoded::Value(v)) => Ok(v),
            Some(Decoded::Unbound(_)) => err("unexpected unbound relationship"),
            None => err(format!("structure {:#04x}: missing field", self.tag)),
        }
    }
    fn int(&mut self) -> Result<i64, PackError> {
        match self.next()? {
            Value::Int(i) => Ok(i),
            v => err(format!("expected an integer field, got {}", v.type_name())),
        }
    }
    fn i32(&mut self) -> Result<i32, PackError> {
        i32::try_from(self.int()?).map_err(|_| PackError("integer field out of range".into()))
    }
    fn nanos(&mut self) -> Result<u32, PackError> {
        let n = self.int()?;
        if !(0..1_000_000_000).contains(&n) {
            return err("nanoseconds out of range");
        }
        Ok(n as u32)
    }
    fn float(&mut self) -> Result<f64, PackError> {
        match self.next()? {
            Value::Float(f) => Ok(f),
            v => err(format!("expected a float field, got {}", v.type_name())),
        }
    }
    fn string(&mut self) -> Result<String, PackError> {
        match self.next()? {
            Value::String(s) => Ok(s),
            v => err(format!("expected a string field, got {}", v.type_name())),
        }
    }
    fn map(&mut self) -> Result<BTreeMap<String, Value>, PackError> {
        match self.next()? {
            Value::Map(m) => Ok(m),
            v => err(format!("expected a map field, got {}", v.type_name())),
        }
    }
    fn list(&mut self) -> Result<Vec<Value>, PackError> {
        match self.next()? {
            Value::List(l) => Ok(l),
            v => err(format!("expected a list field, got {}", v.type_name())),
        }
    }
    fn strings(&mut self) -> Result<Vec<String>, PackError> {
        self.list()?
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => err("expected a list of strings"),
            })
            .collect()
    }
}

fn build_path(nodes: Vec<Node>, rels: Vec<Unbound>, indices: &[i64]) -> Result<Path, PackError> {
    if !indices.len().is_multiple_of(2) {
        return err("path indices must come in pairs");
    }
    let Some(first) = nodes.first() else {
        return err("path without nodes");
    };
    let mut out_nodes = vec![first.clone()];
    let mut out_rels = Vec::with_capacity(indices.len() / 2);
    let mut prev = first.clone();
    for pair in indices.chunks_exact(2) {
        let &[ri, ni] = pair else {
            return err("path indices must come in pairs");
        };
        let next = usize::try_from(ni)
            .ok()
            .and_then(|i| nodes.get(i))
            .ok_or_else(|| PackError("path node index out of range".into()))?
            .clone();
        let r = usize::try_from(ri.unsigned_abs())
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| rels.get(i))
            .filter(|_| ri != 0)
            .ok_or_else(|| PackError("path relationship index out of range".into()))?;
        let (s, e) = if ri > 0 {
            (&prev, &next)
        } else {
            (&next, &prev)
        };
        out_rels.push(Relationship {
            id: r.id,
            element_id: r.element_id.clone(),
            start: s.id,
            end: e.id,
            start_element_id: s.element_id.clone(),
            end_element_id: e.element_id.clone(),
            rel_type: r.rel_type.clone(),
            properties: r.properties.clone(),
        });
        out_nodes.push(next.clone());
        prev = next;
    }
    Ok(Path {
        nodes: out_nodes,
        relationships: out_rels,
    })
}

/// Decodes exactly one value from `buf` (trailing bytes are an error).
pub fn decode(buf: &[u8], flavor: Flavor) -> Result<Value, PackError> {
    let mut d = Decoder::new(buf, flavor);
    let v = d.value()?;
    if !d.is_empty() {
        return err("trailing bytes after value");
    }
    Ok(v)
}
