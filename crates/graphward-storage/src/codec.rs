//! Binary encodings: property values, node / relationship records, and index keys.
//!
//! Everything here is self-delimiting and every decoder validates its input: corrupt or
//! truncated bytes give an `Internal` error, never a panic.

use graphward_core::temporal::{Date, DateTime, Duration, LocalDateTime, LocalTime, Time, Zone};
use graphward_core::value::Point;
use graphward_core::{Error, ErrorCode, Result, Value};

const T_FALSE: u8 = 0;
const T_TRUE: u8 = 1;
const T_INT: u8 = 2;
const T_FLOAT: u8 = 3;
const T_STRING: u8 = 4;
const T_BYTES: u8 = 5;
const T_LIST: u8 = 6;
const T_DATE: u8 = 7;
const T_TIME: u8 = 8;
const T_LOCAL_TIME: u8 = 9;
const T_DATETIME_OFFSET: u8 = 10;
const T_DATETIME_NAMED: u8 = 11;
const T_LOCAL_DATETIME: u8 = 12;
const T_DURATION: u8 = 13;
const T_POINT_2D: u8 = 14;
const T_POINT_3D: u8 = 15;
/// An integer as a zigzag varint (storage format 2; format 1 wrote `T_INT` + 8 bytes, which is
/// still read).
const T_VINT: u8 = 16;

/// Version byte of the schema records (and, in storage format 1, the first byte of every node
/// and relationship record; format 2 records have no version byte: the format is in `meta`).
const RECORD_V1: u8 = 1;

pub(crate) fn corrupt(what: &str) -> Error {
    Error::internal(format!("storage corruption: {what}"))
}

/// The error for a value that cannot be stored as a property.
pub(crate) fn invalid_property(key: &str, v: &Value, why: &str) -> Error {
    Error::new(
        ErrorCode::TypeError,
        format!(
            "Property values can only be of primitive types or arrays thereof; property `{key}` got {} ({why})",
            v.type_name()
        ),
    )
    .with_detail("InvalidPropertyType")
}

// ---------------------------------------------------------------------------------------------
// primitive writers / reader

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A bounds-checked cursor over bytes.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }
    pub(crate) fn u8(&mut self) -> Result<u8> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| corrupt("truncated value"))?;
        self.pos += 1;
        Ok(b)
    }
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| corrupt("length overflow"))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| corrupt("truncated value"))?;
        self.pos = end;
        Ok(s)
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    /// A LEB128 varint; one byte (below 0x80) is by far the commonest (lengths, token ids).
    #[inline]
    pub(crate) fn varint(&mut self) -> Result<u64> {
        if let Some(&b) = self.buf.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        self.varint_long()
    }
    /// The checked varint, naming the damage when it is truncated or too long.
    #[inline(never)]
    fn varint_long(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = self.u8()?;
            let part = u64::from(b & 0x7f);
            if i == 9 && b > 1 {
                return Err(corrupt("varint overflow"));
            }
            v |= part << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt("varint too long"))
    }
    /// Steps over `k` varints (each ends at a byte below 0x80) without decoding them.
    pub(crate) fn skip_varints(&mut self, mut k: u64) -> Result<()> {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let mut i = 0;
        while k > 0 {
            let b = *rest.get(i).ok_or_else(|| corrupt("truncated value"))?;
            i += 1;
            if b < 0x80 {
                k -= 1;
            }
        }
        self.pos += i;
        Ok(())
    }
    pub(crate) fn varint_u32(&mut self) -> Result<u32> {
        u32::try_from(self.varint()?).map_err(|_| corrupt("token id out of range"))
    }
    /// A length that must fit in the remaining bytes (each element needs at least one byte).
    fn len(&mut self) -> Result<usize> {
        let n = self.varint()?;
        let remaining = (self.buf.len() - self.pos.min(self.buf.len())) as u64;
        if n > remaining {
            return Err(corrupt("length exceeds record"));
        }
        Ok(n as usize)
    }
    fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.arr()?))
    }
    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_le_bytes(self.arr()?))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.arr()?))
    }
    fn string(&mut self) -> Result<String> {
        let n = self.len()?;
        let b = self.take(n)?;
        std::str::from_utf8(b)
            .map(str::to_string)
            .map_err(|_| corrupt("invalid UTF-8 in string"))
    }
}

// ---------------------------------------------------------------------------------------------
// property values

/// Checks that `v` may be stored as a property (`Null` is not: callers remove instead).
pub(crate) fn check_property(key: &str, v: &Value) -> Result<()> {
    match v {
        Value::Null => Err(invalid_property(key, v, "null is not stored")),
        Value::List(items) => {
            for item in items {
                match item {
                    Value::Null => {
                        return Err(invalid_property(
                            key,
                            v,
                            "collections containing null cannot be stored",
                        ))
                    }
                    Value::List(_) => {
                        return Err(invalid_property(key, v, "nested lists cannot be stored"))
                    }
                    other => check_scalar(key, other)?,
                }
            }
            Ok(())
        }
        other => check_scalar(key, other),
    }
}

fn check_scalar(key: &str, v: &Value) -> Result<()> {
    match v {
        Value::Bool(_)
        | Value::Int(_)
        | Value::Float(_)
        | Value::String(_)
        | Value::Bytes(_)
        | Value::Date(_)
        | Value::Time(_)
        | Value::LocalTime(_)
        | Value::DateTime(_)
        | Value::LocalDateTime(_)
        | Value::Duration(_)
        | Value::Point(_) => Ok(()),
        _ => Err(invalid_property(key, v, "not a storable type")),
    }
}

/// Encodes a property value (checked with [`check_property`] first). `normalize` maps
/// integral floats to ints (used for index keys so that `1 = 1.0`).
pub(crate) fn encode_value(out: &mut Vec<u8>, v: &Value, normalize: bool) {
    match v {
        Value::Bool(false) => out.push(T_FALSE),
        Value::Bool(true) => out.push(T_TRUE),
        Value::Int(i) => {
            out.push(T_VINT);
            put_varint(out, zigzag(*i));
        }
        Value::Float(f) => {
            if normalize {
                if let Some(i) = integral_float(*f) {
                    out.push(T_VINT);
                    put_varint(out, zigzag(i));
                    return;
                }
            }
            out.push(T_FLOAT);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::String(s) => {
            out.push(T_STRING);
            put_varint(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Bytes(b) => {
            out.push(T_BYTES);
            put_varint(out, b.len() as u64);
            out.extend_from_slice(b);
        }
        Value::List(items) => {
            out.push(T_LIST);
            put_varint(out, items.len() as u64);
            for item in items {
                encode_value(out, item, normalize);
            }
        }
        Value::Date(d) => {
            out.push(T_DATE);
            out.extend_from_slice(&d.days.to_le_bytes());
        }
        Value::Time(t) => {
            out.push(T_TIME);
            out.extend_from_slice(&t.nanos.to_le_bytes());
            out.extend_from_slice(&t.offset_seconds.to_le_bytes());
        }
        Value::LocalTime(t) => {
            out.push(T_LOCAL_TIME);
            out.extend_from_slice(&t.nanos.to_le_bytes());
        }
        Value::DateTime(dt) => {
            match &dt.zone {
                Zone::Offset(o) => {
                    out.push(T_DATETIME_OFFSET);
                    out.extend_from_slice(&dt.seconds.to_le_bytes());
                    out.extend_from_slice(&dt.nanos.to_le_bytes());
                    out.extend_from_slice(&o.to_le_bytes());
                }
                Zone::Named(name) => {
                    out.push(T_DATETIME_NAMED);
                    out.extend_from_slice(&dt.seconds.to_le_bytes());
                    out.extend_from_slice(&dt.nanos.to_le_bytes());
                    put_varint(out, name.len() as u64);
                    out.extend_from_slice(name.as_bytes());
                }
            };
        }
        Value::LocalDateTime(dt) => {
            out.push(T_LOCAL_DATETIME);
            out.extend_from_slice(&dt.seconds.to_le_bytes());
            out.extend_from_slice(&dt.nanos.to_le_bytes());
        }
        Value::Duration(d) => {
            out.push(T_DURATION);
            out.extend_from_slice(&d.months.to_le_bytes());
            out.extend_from_slice(&d.days.to_le_bytes());
            out.extend_from_slice(&d.seconds.to_le_bytes());
            out.extend_from_slice(&d.nanos.to_le_bytes());
        }
        Value::Point(p) => {
            match p.z {
                None => out.push(T_POINT_2D),
                Some(_) => out.push(T_POINT_3D),
            }
            out.extend_from_slice(&p.srid.to_le_bytes());
            out.extend_from_slice(&norm_f64(p.x, normalize).to_le_bytes());
            out.extend_from_slice(&norm_f64(p.y, normalize).to_le_bytes());
            if let Some(z) = p.z {
                out.extend_from_slice(&norm_f64(z, normalize).to_le_bytes());
            }
        }
        // Not storable: callers check first. Encode as an impossible tag so a stray call can
        // never match a real value.
        Value::Null | Value::Map(_) | Value::Node(_) | Value::Relationship(_) | Value::Path(_) => {
            out.push(0xff)
        }
    }
}

fn zigzag(i: i64) -> u64 {
    ((i << 1) ^ (i >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// The hot loops' varint: the one at `*pos` of `buf`, `pos` moved past it. Up to three bytes
/// (ids and integers below 2^21) are read in line; `None` when it is truncated or too long,
/// `pos` then unmoved, for a checked [`Reader`] to name the damage.
#[inline(always)]
fn varint_at(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut p = *pos;
    let mut v = 0u64;
    for shift in [0, 7, 14] {
        let b = *buf.get(p)?;
        p += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            *pos = p;
            return Some(v);
        }
    }
    varint_at_long(buf, pos)
}

#[inline(never)]
fn varint_at_long(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut r = Reader { buf, pos: *pos };
    let v = r.varint_long().ok()?;
    *pos = r.pos;
    Some(v)
}

/// [`varint_at`] for a count of elements that each take at least one byte: `None` past the
/// bytes left too.
#[inline(always)]
fn len_at(buf: &[u8], pos: &mut usize) -> Option<usize> {
    let p = *pos;
    let n = varint_at(buf, pos)?;
    if n > buf.len().saturating_sub(*pos) as u64 {
        *pos = p;
        return None;
    }
    Some(n as usize)
}

fn norm_f64(f: f64, normalize: bool) -> f64 {
    if normalize && f == 0.0 {
        0.0
    } else {
        f
    }
}

/// Encodes a value for an index key: equal values (in the Cypher sense, `1 = 1.0`) give equal
/// bytes, the encoding is prefix-free (so concatenations are unambiguous), and integers are
/// big-endian with the sign bit flipped so ascending ids land next to each other in the tree.
pub(crate) fn encode_index_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Int(i) => {
            out.push(T_INT);
            put_ordered_int(out, *i);
        }
        Value::Float(f) => match integral_float(*f) {
            Some(i) => encode_index_value(out, &Value::Int(i)),
            None => {
                out.push(T_FLOAT);
                out.extend_from_slice(&ordered_f64(*f).to_be_bytes());
            }
        },
        Value::String(st) => {
            out.push(T_STRING);
            escape_str(out, st.as_bytes());
            out.extend_from_slice(&[0, 0]);
        }
        Value::List(items) => {
            out.push(T_LIST);
            put_varint(out, items.len() as u64);
            for item in items {
                encode_index_value(out, item);
            }
        }
        other => encode_value(out, other, true),
    }
}

/// Index-key tags (for range seeks).
pub(crate) const IDX_T_INT: u8 = T_INT;
pub(crate) const IDX_T_FLOAT: u8 = T_FLOAT;
pub(crate) const IDX_T_STRING: u8 = T_STRING;
pub(crate) const IDX_T_FALSE: u8 = T_FALSE;
pub(crate) const IDX_T_TRUE: u8 = T_TRUE;

/// f64 bits mapped so that unsigned comparison orders like the floats.
pub(crate) fn ordered_f64(f: f64) -> u64 {
    let bits = f.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The order-preserving, prefix-free integer key body (storage format 2): a header byte
/// (`0x10 + n` for a non-negative integer of `n` significant bytes, `0x0f - n` for a negative
/// one whose complement has `n`), then those `n` bytes big-endian. Small magnitudes take few
/// bytes (`150000` takes 4) and byte order equals numeric order.
pub(crate) fn put_ordered_int(out: &mut Vec<u8>, i: i64) {
    let (header, mag) = if i >= 0 {
        let u = i as u64;
        let n = 8 - (u.leading_zeros() / 8) as usize;
        (0x10 + n as u8, (u, n))
    } else {
        let c = !(i as u64); // -i - 1 >= 0
        let n = 8 - (c.leading_zeros() / 8) as usize;
        (0x0f - n as u8, (i as u64, n))
    };
    out.push(header);
    let (u, n) = mag;
    let be = u.to_be_bytes();
    out.extend_from_slice(be.get(8 - n..).unwrap_or(&[]));
}

/// The node id ending a property index key: `len`, `len` big-endian bytes, `len` again (so it
/// reads back from the end; the leading length keeps ascending ids in ascending key order).
pub(crate) fn put_key_node(out: &mut Vec<u8>, node: u64) {
    let n = 8 - (node.leading_zeros() / 8) as usize;
    out.push(n as u8);
    let be = node.to_be_bytes();
    out.extend_from_slice(be.get(8 - n..).unwrap_or(&[]));
    out.push(n as u8);
}

/// The node id at the end of a property index key (see [`put_key_node`]).
pub(crate) fn key_node(k: &[u8]) -> Result<u64> {
    let bad = || corrupt("bad node id in index key");
    let n = usize::from(*k.last().ok_or_else(bad)?);
    if n > 8 {
        return Err(bad());
    }
    let start = k.len().checked_sub(n + 2).ok_or_else(bad)?;
    if k.get(start).copied() != Some(n as u8) {
        return Err(bad());
    }
    let mut a = [0u8; 8];
    let body = k.get(start + 1..start + 1 + n).ok_or_else(bad)?;
    a.get_mut(8 - n..).ok_or_else(bad)?.copy_from_slice(body);
    Ok(u64::from_be_bytes(a))
}

/// String bytes in an index key: `0x00` becomes `0x00 0xff`, so the `0x00 0x00` terminator
/// keeps keys prefix-free and byte order equals string byte order.
pub(crate) fn escape_str(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xff);
        }
    }
}

/// `Some(i)` when `f` is exactly the integer `i` (so that `1.0` indexes like `1`).
pub(crate) fn integral_float(f: f64) -> Option<i64> {
    // 2^63 as f64; every f64 in [-2^63, 2^63) with no fraction is exactly an i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.is_finite() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

/// Decodes one property value.
#[inline]
pub(crate) fn decode_value(r: &mut Reader<'_>) -> Result<Value> {
    // An integer (the commonest property) decoded in line.
    if r.buf.get(r.pos) == Some(&T_VINT) {
        r.pos += 1;
        return Ok(Value::Int(unzigzag(r.varint()?)));
    }
    decode_value_depth(r, 0)
}

fn decode_value_depth(r: &mut Reader<'_>, depth: u8) -> Result<Value> {
    let tag = r.u8()?;
    Ok(match tag {
        T_FALSE => Value::Bool(false),
        T_TRUE => Value::Bool(true),
        T_INT => Value::Int(r.i64()?),
        T_VINT => Value::Int(unzigzag(r.varint()?)),
        T_FLOAT => Value::Float(r.f64()?),
        T_STRING => Value::String(r.string()?),
        T_BYTES => {
            let n = r.len()?;
            Value::Bytes(r.take(n)?.to_vec())
        }
        T_LIST => {
            if depth > 0 {
                return Err(corrupt("nested list in property"));
            }
            let n = r.len()?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(decode_value_depth(r, depth + 1)?);
            }
            Value::List(items)
        }
        T_DATE => Value::Date(Date { days: r.i64()? }),
        T_TIME => Value::Time(Time {
            nanos: r.i64()?,
            offset_seconds: r.i32()?,
        }),
        T_LOCAL_TIME => Value::LocalTime(LocalTime { nanos: r.i64()? }),
        T_DATETIME_OFFSET => Value::DateTime(DateTime {
            seconds: r.i64()?,
            nanos: r.u32()?,
            zone: Zone::Offset(r.i32()?),
        }),
        T_DATETIME_NAMED => Value::DateTime(DateTime {
            seconds: r.i64()?,
            nanos: r.u32()?,
            zone: Zone::Named(r.string()?),
        }),
        T_LOCAL_DATETIME => Value::LocalDateTime(LocalDateTime {
            seconds: r.i64()?,
            nanos: r.u32()?,
        }),
        T_DURATION => Value::Duration(Duration {
            months: r.i64()?,
            days: r.i64()?,
            seconds: r.i64()?,
            nanos: r.i32()?,
        }),
        T_POINT_2D => Value::Point(Point {
            srid: r.i32()?,
            x: r.f64()?,
            y: r.f64()?,
            z: None,
        }),
        T_POINT_3D => Value::Point(Point {
            srid: r.i32()?,
            x: r.f64()?,
            y: r.f64()?,
            z: Some(r.f64()?),
        }),
        other => return Err(corrupt(&format!("unknown value tag {other}"))),
    })
}

/// Decodes a complete standalone value (the whole slice must be consumed).
pub fn decode_property_value(bytes: &[u8]) -> Result<Value> {
    let mut r = Reader::new(bytes);
    let v = decode_value(&mut r)?;
    if !r.is_empty() {
        return Err(corrupt("trailing bytes after value"));
    }
    Ok(v)
}

/// Encodes a standalone property value (validating it first).
pub fn encode_property_value(key: &str, v: &Value) -> Result<Vec<u8>> {
    check_property(key, v)?;
    let mut out = Vec::new();
    encode_value(&mut out, v, false);
    Ok(out)
}

/// True when `v` could equal some stored property value; false for null, NaN (anywhere) and
/// unstorable kinds, which never match in an index seek.
pub(crate) fn seekable(v: &Value) -> bool {
    match v {
        Value::Float(f) => !f.is_nan(),
        Value::List(items) => items
            .iter()
            .all(|i| !matches!(i, Value::List(_)) && seekable(i)),
        Value::Point(p) => !(p.x.is_nan() || p.y.is_nan() || p.z.is_some_and(f64::is_nan)),
        other => check_scalar("", other).is_ok(),
    }
}

// ---------------------------------------------------------------------------------------------
// records

/// A decoded node record, with token ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct NodeData {
    /// Sorted, distinct label ids.
    pub labels: Vec<u32>,
    /// Sorted by key id, distinct keys.
    pub props: Vec<(u32, Value)>,
}

/// A decoded relationship record, with token ids.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RelData {
    pub src: u64,
    pub dst: u64,
    pub rel_type: u32,
    pub props: Vec<(u32, Value)>,
}

fn encode_props(out: &mut Vec<u8>, props: &[(u32, Value)]) {
    put_varint(out, props.len() as u64);
    for (k, v) in props {
        put_varint(out, u64::from(*k));
        encode_value(out, v, false);
    }
}

fn decode_props(r: &mut Reader<'_>) -> Result<Vec<(u32, Value)>> {
    let n = r.len()?;
    let mut props = Vec::with_capacity(n);
    for _ in 0..n {
        let k = r.varint_u32()?;
        let v = decode_value(r)?;
        props.push((k, v));
    }
    Ok(props)
}

pub(crate) fn encode_node(out: &mut Vec<u8>, n: &NodeData) {
    out.clear();
    put_varint(out, n.labels.len() as u64);
    for l in &n.labels {
        put_varint(out, u64::from(*l));
    }
    encode_props(out, &n.props);
}

/// A node record of storage format 1 (a version byte, then the format 2 body).
pub(crate) fn decode_node_v1(bytes: &[u8]) -> Result<NodeData> {
    match bytes.split_first() {
        Some((&RECORD_V1, rest)) => decode_node(rest),
        _ => Err(corrupt("unknown node record version")),
    }
}

/// A relationship record of storage format 1.
pub(crate) fn decode_rel_v1(bytes: &[u8]) -> Result<RelData> {
    match bytes.split_first() {
        Some((&RECORD_V1, rest)) => decode_rel(rest),
        _ => Err(corrupt("unknown relationship record version")),
    }
}

pub(crate) fn decode_node(bytes: &[u8]) -> Result<NodeData> {
    let mut r = Reader::new(bytes);
    let n = r.len()?;
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        labels.push(r.varint_u32()?);
    }
    let props = decode_props(&mut r)?;
    if !r.is_empty() {
        return Err(corrupt("trailing bytes in node record"));
    }
    Ok(NodeData { labels, props })
}

pub(crate) fn encode_rel(out: &mut Vec<u8>, rel: &RelData) {
    out.clear();
    put_varint(out, rel.src);
    put_varint(out, rel.dst);
    put_varint(out, u64::from(rel.rel_type));
    encode_props(out, &rel.props);
}

pub(crate) fn decode_rel(bytes: &[u8]) -> Result<RelData> {
    let mut r = Reader::new(bytes);
    let src = r.varint()?;
    let dst = r.varint()?;
    let rel_type = r.varint_u32()?;
    let props = decode_props(&mut r)?;
    if !r.is_empty() {
        return Err(corrupt("trailing bytes in relationship record"));
    }
    Ok(RelData {
        src,
        dst,
        rel_type,
        props,
    })
}

// ---------------------------------------------------------------------------------------------
// blocks of records: relationships (storage format 5) and nodes (format 6)

/// Most records (nodes or relationships) one block holds.
pub(crate) const BLOCK_CAP: usize = 64;
/// The bytes past which a block takes no more records (a single larger record is a block of
/// its own), so that changing one node or relationship rewrites a bounded value.
pub(crate) const BLOCK_BYTES: usize = 2048;

/// Encodes a block of node or relationship records `(id, record)`, ascending by id; the block's key is
/// the last id (so a block that grows at the end of the table moves to a new, largest key,
/// which redb appends to a new leaf, leaving the full ones packed). Per record: the id (the
/// first in full, the others as a delta from the one before), the record's length and its
/// bytes ([`encode_node`] or [`encode_rel`]).
pub(crate) fn encode_block(out: &mut Vec<u8>, entries: &[(u64, &[u8])]) {
    out.clear();
    let mut prev = None;
    for &(id, rec) in entries {
        block_push(out, prev, id, rec);
        prev = Some(id);
    }
}

/// Appends one record to an encoded block whose last id is `last` (`None`: an empty one).
pub(crate) fn block_push(out: &mut Vec<u8>, last: Option<u64>, id: u64, rec: &[u8]) {
    put_varint(out, last.map_or(id, |l| id.wrapping_sub(l)));
    put_varint(out, rec.len() as u64);
    out.extend_from_slice(rec);
}

/// The records `(id, record bytes)` of a block stored under `key` (its last id),
/// lazily, checked as they come (ascending ids up to the key, the last one the key, lengths
/// within the block, not empty).
pub(crate) struct BlockReader<'a> {
    r: Reader<'a>,
    prev: Option<u64>,
    key: u64,
    failed: bool,
}

impl<'a> BlockReader<'a> {
    pub(crate) fn new(key: u64, bytes: &'a [u8]) -> Self {
        BlockReader {
            r: Reader::new(bytes),
            prev: None,
            key,
            failed: false,
        }
    }

    #[inline(always)]
    fn step(&mut self) -> Result<Option<(u64, &'a [u8])>> {
        match self.step_fast() {
            Some(e) => Ok(e),
            None => self.step_checked(),
        }
    }

    /// [`Self::step`] in registers: `None` (nothing moved) for anything
    /// [`Self::step_checked`] would refuse, which then names it.
    #[inline(always)]
    fn step_fast(&mut self) -> Option<Option<(u64, &'a [u8])>> {
        let buf = self.r.buf;
        let mut p = self.r.pos;
        if p >= buf.len() {
            return (self.prev == Some(self.key)).then_some(None);
        }
        let d = varint_at(buf, &mut p)?;
        let id = match self.prev {
            None => d,
            Some(prev) => prev.checked_add(d).filter(|id| *id > prev)?,
        };
        if id > self.key {
            return None;
        }
        let n = len_at(buf, &mut p)?;
        let rec = buf.get(p..p + n)?;
        self.r.pos = p + n;
        self.prev = Some(id);
        Some(Some((id, rec)))
    }

    #[cold]
    fn step_checked(&mut self) -> Result<Option<(u64, &'a [u8])>> {
        if self.r.is_empty() {
            return match self.prev {
                None => Err(corrupt("empty record block")),
                Some(p) if p != self.key => {
                    Err(corrupt("record block key differs from its last id"))
                }
                Some(_) => Ok(None),
            };
        }
        let d = self.r.varint()?;
        let id = match self.prev {
            None => d,
            Some(p) => p
                .checked_add(d)
                .filter(|id| *id > p)
                .ok_or_else(|| corrupt("record ids not ascending in a block"))?,
        };
        if id > self.key {
            return Err(corrupt("record id past its block's key"));
        }
        let n = self.r.len()?;
        let rec = self.r.take(n)?;
        self.prev = Some(id);
        Ok(Some((id, rec)))
    }
}

impl<'a> Iterator for BlockReader<'a> {
    type Item = Result<(u64, &'a [u8])>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let step = self.step();
        fused(&mut self.failed, step)
    }
}

/// An iterator's item from one step of a checked reader: after an error, none.
fn fused<T>(failed: &mut bool, step: Result<Option<T>>) -> Option<Result<T>> {
    match step {
        Ok(e) => e.map(Ok),
        Err(e) => {
            *failed = true;
            Some(Err(e))
        }
    }
}

/// Which records a page of integer totals ([`crate::PropertyStats`]) takes: ids from
/// `start` to `until`, of `label`, at most `limit`, adding up property `key`.
pub(crate) struct IntPage {
    pub(crate) start: u64,
    pub(crate) until: u64,
    pub(crate) label: Option<u32>,
    pub(crate) key: Option<u32>,
    pub(crate) limit: usize,
}

impl IntPage {
    /// Adds the records of the block stored under `block_key` to `stats`; `false` once the
    /// page is complete.
    pub(crate) fn add_block(
        &self,
        block_key: u64,
        bytes: &[u8],
        stats: &mut crate::PropertyStats,
    ) -> Result<bool> {
        // The totals stay in registers for the block's records.
        let mut acc = IntTotals::from_stats(stats);
        let mut blocks = BlockReader::new(block_key, bytes);
        let go = loop {
            let (id, rec) = match blocks.step() {
                Ok(Some(e)) => e,
                Ok(None) => break Ok(true),
                Err(e) => break Err(e),
            };
            match self.add_to(&mut acc, id, rec) {
                Ok(true) => {}
                done => break done,
            }
        };
        acc.into_stats(stats);
        go
    }

    /// [`Self::add_block`] for one record outside a block.
    pub(crate) fn add_record(
        &self,
        id: u64,
        rec: &[u8],
        stats: &mut crate::PropertyStats,
    ) -> Result<bool> {
        let mut acc = IntTotals::from_stats(stats);
        let go = self.add_to(&mut acc, id, rec);
        acc.into_stats(stats);
        go
    }

    #[inline(always)]
    fn add_to(&self, acc: &mut IntTotals, id: u64, rec: &[u8]) -> Result<bool> {
        if id < self.start {
            return Ok(true);
        }
        if id > self.until {
            return Ok(false);
        }
        match node_int_prop_if_labelled(rec, self.label, self.key)? {
            IntProp::Unlabelled => return Ok(true),
            v => acc.add(id, v),
        }
        Ok(acc.rows < self.limit)
    }
}

/// A [`crate::PropertyStats`] while items are added to it, in plain fields (no `Option` to
/// test per record): an overflowed sum is flagged, the least and greatest start at the far
/// ends.
pub(crate) struct IntTotals {
    rows: usize,
    last: u64,
    ints: u64,
    sum: i64,
    overflow: bool,
    float_sum: f64,
    min: i64,
    max: i64,
    other: bool,
}

impl IntTotals {
    pub(crate) fn from_stats(stats: &crate::PropertyStats) -> Self {
        IntTotals {
            rows: stats.rows,
            last: stats.last.unwrap_or(0),
            ints: stats.ints,
            sum: stats.int_sum.unwrap_or(0),
            overflow: stats.ints > 0 && stats.int_sum.is_none(),
            float_sum: stats.float_sum,
            min: stats.min.unwrap_or(i64::MAX),
            max: stats.max.unwrap_or(i64::MIN),
            other: stats.other,
        }
    }

    /// Counts one item in (of the label: `v` is not [`IntProp::Unlabelled`]).
    #[inline(always)]
    pub(crate) fn add(&mut self, id: u64, v: IntProp) {
        match v {
            IntProp::Int(i) => {
                let (sum, o) = self.sum.overflowing_add(i);
                self.sum = sum;
                self.overflow |= o;
                self.ints += 1;
                self.float_sum += i as f64;
                self.min = self.min.min(i);
                self.max = self.max.max(i);
            }
            IntProp::Other => self.other = true,
            IntProp::Null | IntProp::Unlabelled => {}
        }
        self.rows += 1;
        self.last = id;
    }

    /// Writes these totals back to the `stats` they came from.
    pub(crate) fn into_stats(self, stats: &mut crate::PropertyStats) {
        if self.rows > stats.rows {
            stats.last = Some(self.last);
        }
        stats.rows = self.rows;
        stats.other = self.other;
        if self.ints == stats.ints {
            return;
        }
        stats.ints = self.ints;
        stats.int_sum = (!self.overflow).then_some(self.sum);
        stats.float_sum = self.float_sum;
        stats.min = Some(self.min);
        stats.max = Some(self.max);
    }
}

/// The record `id` in the block stored under `key`, if it holds it.
pub(crate) fn block_get(key: u64, bytes: &[u8], id: u64) -> Result<Option<&[u8]>> {
    for e in BlockReader::new(key, bytes) {
        let (i, rec) = e?;
        if i == id {
            return Ok(Some(rec));
        }
        if i > id {
            break;
        }
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------------------
// schema records

/// A stored schema rule, with token ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaData {
    pub id: u32,
    pub name: String,
    pub unique: bool,
    /// Every key property must exist: an existence constraint (no index entries, `unique`
    /// false) or a key constraint (with `unique`).
    pub exists: bool,
    /// A rule on relationships: `label` is then a relationship type token.
    pub rel: bool,
    /// A label token, or a relationship type token when `rel`.
    pub label: u32,
    pub keys: Vec<u32>,
}

impl SchemaData {
    /// Kept in an index: a property index, or a uniqueness or key constraint (an existence
    /// constraint has no entries).
    pub fn indexed(&self) -> bool {
        self.unique || !self.exists
    }

    /// A node property index, node uniqueness or node key constraint: has entries for nodes.
    pub fn node_indexed(&self) -> bool {
        !self.rel && self.indexed()
    }

    /// The relationship counterpart of [`SchemaData::node_indexed`].
    pub fn rel_indexed(&self) -> bool {
        self.rel && self.indexed()
    }
}

/// The kind byte of a schema record: 0 node index, 1 node uniqueness, 2 node existence (all
/// three since format 1), 3 relationship existence, 4 relationship uniqueness, 5 relationship
/// index, 6 node key, 7 relationship key. Older files hold only the kinds of their time, so
/// they open unchanged; a binary older than a kind refuses a file holding it ("bad schema
/// kind") rather than ignore an index or a constraint.
fn schema_kind(s: &SchemaData) -> u8 {
    match (s.rel, s.exists, s.unique) {
        (false, false, unique) => u8::from(unique),
        (false, true, false) => 2,
        (true, true, false) => 3,
        (true, false, true) => 4,
        (true, false, false) => 5,
        (false, true, true) => 6,
        (true, true, true) => 7,
    }
}

pub(crate) fn encode_schema(s: &SchemaData) -> Vec<u8> {
    let mut out = vec![RECORD_V1, schema_kind(s)];
    put_varint(&mut out, s.name.len() as u64);
    out.extend_from_slice(s.name.as_bytes());
    put_varint(&mut out, u64::from(s.label));
    put_varint(&mut out, s.keys.len() as u64);
    for k in &s.keys {
        put_varint(&mut out, u64::from(*k));
    }
    out
}

pub(crate) fn decode_schema(id: u32, bytes: &[u8]) -> Result<SchemaData> {
    let mut r = Reader::new(bytes);
    if r.u8()? != RECORD_V1 {
        return Err(corrupt("unknown schema record version"));
    }
    let (unique, exists, rel) = match r.u8()? {
        0 => (false, false, false),
        1 => (true, false, false),
        2 => (false, true, false),
        3 => (false, true, true),
        4 => (true, false, true),
        5 => (false, false, true),
        6 => (true, true, false),
        7 => (true, true, true),
        _ => return Err(corrupt("bad schema kind")),
    };
    let name = r.string()?;
    let label = r.varint_u32()?;
    let n = r.len()?;
    let mut keys = Vec::with_capacity(n);
    for _ in 0..n {
        keys.push(r.varint_u32()?);
    }
    if !r.is_empty() {
        return Err(corrupt("trailing bytes in schema record"));
    }
    Ok(SchemaData {
        id,
        name,
        unique,
        exists,
        rel,
        label,
        keys,
    })
}

// ---------------------------------------------------------------------------------------------
// partial record access

fn skip_value(r: &mut Reader<'_>, depth: u8) -> Result<()> {
    let tag = r.u8()?;
    let fixed = match tag {
        T_FALSE | T_TRUE => 0,
        T_VINT => {
            r.varint()?;
            0
        }
        T_INT | T_FLOAT | T_DATE | T_LOCAL_TIME => 8,
        T_TIME | T_LOCAL_DATETIME => 12,
        T_DATETIME_OFFSET => 16,
        T_DURATION => 28,
        T_POINT_2D => 20,
        T_POINT_3D => 28,
        T_STRING | T_BYTES => r.len()?,
        T_DATETIME_NAMED => {
            r.take(12)?;
            r.len()?
        }
        T_LIST => {
            if depth > 0 {
                return Err(corrupt("nested list in property"));
            }
            let n = r.len()?;
            for _ in 0..n {
                skip_value(r, depth + 1)?;
            }
            0
        }
        other => return Err(corrupt(&format!("unknown value tag {other}"))),
    };
    r.take(fixed)?;
    Ok(())
}

#[inline]
fn find_in_props(r: &mut Reader<'_>, key: u32) -> Result<Option<Value>> {
    if find_prop(r, key)? {
        return decode_value(r).map(Some);
    }
    Ok(None)
}

/// Moves `r` (at a record's properties) to the value of property `key`; `false` when the
/// record has none.
#[inline]
fn find_prop(r: &mut Reader<'_>, key: u32) -> Result<bool> {
    let n = r.len()?;
    for _ in 0..n {
        let k = r.varint_u32()?;
        if k == key {
            return Ok(true);
        }
        skip_value(r, 0)?;
    }
    Ok(false)
}

/// A node record's property as an aggregate over integers sees it, without making a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntProp {
    /// The record does not carry the label asked for.
    Unlabelled,
    /// It has no such property.
    Null,
    Int(i64),
    /// A value of another type.
    Other,
}

/// [`node_prop_if_labelled`] for a caller that only adds up integers: the integer in place,
/// anything else only named ([`IntProp`]).
#[inline(always)]
pub(crate) fn node_int_prop_if_labelled(
    bytes: &[u8],
    label: Option<u32>,
    key: Option<u32>,
) -> Result<IntProp> {
    match int_prop_fast(bytes, label, key) {
        Some(v) => Ok(v),
        None => int_prop_checked(bytes, label, key),
    }
}

/// Where a node record's property is, as [`find_fast`] finds it.
enum Found {
    /// The record does not carry the label.
    Unlabelled,
    /// It has no such property (or none was asked for).
    Missing,
    /// The property's value starts at this byte.
    At(usize),
}

/// A node record's property located in registers: `None` for a record whose labels or
/// property list are damaged (the checked reader then names the damage).
#[inline(always)]
fn find_fast(bytes: &[u8], label: Option<u32>, key: Option<u32>) -> Option<Found> {
    let mut p = 0;
    let n = len_at(bytes, &mut p)?;
    let mut has = label.is_none();
    for _ in 0..n {
        let l = u32::try_from(varint_at(bytes, &mut p)?).ok()?;
        has |= Some(l) == label;
    }
    if !has {
        return Some(Found::Unlabelled);
    }
    let Some(key) = key else {
        return Some(Found::Missing);
    };
    let n = len_at(bytes, &mut p)?;
    for _ in 0..n {
        let k = u32::try_from(varint_at(bytes, &mut p)?).ok()?;
        if k == key {
            return Some(Found::At(p));
        }
        let mut r = Reader { buf: bytes, pos: p };
        skip_value(&mut r, 0).ok()?;
        p = r.pos;
    }
    Some(Found::Missing)
}

/// The integer whose value starts at byte `p`, read in registers; `None` for another type
/// of value or a damaged one.
#[inline(always)]
fn int_at(bytes: &[u8], mut p: usize) -> Option<i64> {
    match *bytes.get(p)? {
        T_VINT => {
            p += 1;
            Some(unzigzag(varint_at(bytes, &mut p)?))
        }
        T_INT => {
            let b: [u8; 8] = bytes.get(p + 1..p + 9)?.try_into().ok()?;
            Some(i64::from_le_bytes(b))
        }
        _ => None,
    }
}

/// [`node_int_prop_if_labelled`] in registers: `None` for anything but a well-formed record
/// whose value is missing or an integer ([`int_prop_checked`] then reads it again).
#[inline(always)]
fn int_prop_fast(bytes: &[u8], label: Option<u32>, key: Option<u32>) -> Option<IntProp> {
    Some(match find_fast(bytes, label, key)? {
        Found::Unlabelled => IntProp::Unlabelled,
        Found::Missing => IntProp::Null,
        Found::At(p) => IntProp::Int(int_at(bytes, p)?),
    })
}

#[cold]
fn int_prop_checked(bytes: &[u8], label: Option<u32>, key: Option<u32>) -> Result<IntProp> {
    let mut r = Reader::new(bytes);
    if !labels_hold(&mut r, label)? {
        return Ok(IntProp::Unlabelled);
    }
    let Some(key) = key else {
        return Ok(IntProp::Null);
    };
    if !find_prop(&mut r, key)? {
        return Ok(IntProp::Null);
    }
    Ok(match r.buf.get(r.pos) {
        Some(&T_VINT) => {
            r.pos += 1;
            IntProp::Int(unzigzag(r.varint()?))
        }
        Some(&T_INT) => {
            r.pos += 1;
            IntProp::Int(r.i64()?)
        }
        // Checked as a whole (a damaged value is an error here too).
        _ => {
            skip_value(&mut r, 0)?;
            IntProp::Other
        }
    })
}

/// Reads a node record's labels (`r` at its start, left at its properties): whether it
/// carries `label` (any record for `None`).
#[inline]
fn labels_hold(r: &mut Reader<'_>, label: Option<u32>) -> Result<bool> {
    let n = r.len()?;
    let mut has = label.is_none();
    for _ in 0..n {
        let l = r.varint_u32()?;
        has |= Some(l) == label;
    }
    Ok(has)
}

/// The label ids of a node record, without decoding its properties.
pub(crate) fn node_labels(bytes: &[u8]) -> Result<Vec<u32>> {
    let mut r = Reader::new(bytes);
    let n = r.len()?;
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        labels.push(r.varint_u32()?);
    }
    Ok(labels)
}

/// One property of a node record.
pub(crate) fn node_prop(bytes: &[u8], key: u32) -> Result<Option<Value>> {
    node_prop_if_labelled(bytes, None, Some(key)).map(Option::flatten)
}

/// A node record's property `key` (`Some(None)` when it has no such property, or when no
/// key is asked), if the record carries `label` (any record when `label` is `None`);
/// `None` when it does not carry the label. Reads the labels in place and decodes only the
/// property's value.
#[inline]
pub(crate) fn node_prop_if_labelled(
    bytes: &[u8],
    label: Option<u32>,
    key: Option<u32>,
) -> Result<Option<Option<Value>>> {
    // The labels and the property list read in registers, an integer too; another value
    // decoded where it starts; a damaged record by the checked reader.
    match find_fast(bytes, label, key) {
        Some(Found::Unlabelled) => Ok(None),
        Some(Found::Missing) => Ok(Some(None)),
        Some(Found::At(p)) => match int_at(bytes, p) {
            Some(i) => Ok(Some(Some(Value::Int(i)))),
            None => decode_value(&mut Reader { buf: bytes, pos: p }).map(|v| Some(Some(v))),
        },
        None => prop_if_labelled_checked(bytes, label, key),
    }
}

#[cold]
fn prop_if_labelled_checked(
    bytes: &[u8],
    label: Option<u32>,
    key: Option<u32>,
) -> Result<Option<Option<Value>>> {
    let mut r = Reader::new(bytes);
    if !labels_hold(&mut r, label)? {
        return Ok(None);
    }
    match key {
        Some(k) => find_in_props(&mut r, k).map(Some),
        None => Ok(Some(None)),
    }
}

/// One property of a relationship record.
pub(crate) fn rel_prop(bytes: &[u8], key: u32) -> Result<Option<Value>> {
    let mut r = Reader::new(bytes);
    r.varint()?;
    r.varint()?;
    r.varint()?;
    find_in_props(&mut r, key)
}

// ---------------------------------------------------------------------------------------------
// adjacency chunks (storage format 5)

/// One stored edge end: `(node, type, rel, other)`, ordered as the tuple.
pub(crate) type AdjEdge = (u64, u32, u64, u64);

/// Most edges one adjacency chunk holds (a longer run is split over several keys, so an
/// insert rewrites a bounded value).
pub(crate) const ADJ_CAP: usize = 64;

/// Encodes one adjacency chunk: edges of any nodes, ascending by `(node, type, rel)`, in
/// groups of one `(node, type)`. Per group: the node (the first group's in full, the others
/// as a delta from the group before), the type, the number of edges, then per edge the rel
/// id (the group's first in full, the others as a delta from the one before) and the other
/// node, all varints. The chunk's key is its first edge's `(node, type, rel)`.
pub(crate) fn encode_adj(out: &mut Vec<u8>, edges: &[AdjEdge]) {
    out.clear();
    let mut i = 0;
    let mut prev_node = None;
    while let Some(&(node, ty, _, _)) = edges.get(i) {
        let n = edges
            .get(i..)
            .unwrap_or(&[])
            .iter()
            .take_while(|e| e.0 == node && e.1 == ty)
            .count();
        put_varint(out, prev_node.map_or(node, |p| node.wrapping_sub(p)));
        put_varint(out, u64::from(ty));
        put_varint(out, n as u64);
        let mut prev_rel = None;
        for &(_, _, rel, other) in edges.get(i..i + n).unwrap_or(&[]) {
            put_varint(out, prev_rel.map_or(rel, |p| rel.wrapping_sub(p)));
            put_varint(out, other);
            prev_rel = Some(rel);
        }
        prev_node = Some(node);
        i += n;
    }
}

/// The edges of an adjacency chunk, lazily, checked as they come: ascending, no empty group,
/// nothing left over.
pub(crate) struct AdjReader<'a> {
    r: Reader<'a>,
    node: u64,
    ty: u32,
    rel: u64,
    /// Edges left in the current group.
    left: u64,
    /// Whether a group was read yet.
    started: bool,
    failed: bool,
}

impl<'a> AdjReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        AdjReader {
            r: Reader::new(bytes),
            node: 0,
            ty: 0,
            rel: 0,
            left: 0,
            started: false,
            failed: false,
        }
    }

    /// Steps over the whole groups that sort before `(node, ty)` without decoding their
    /// edges (their varints are counted, not read; the group headers are checked as
    /// [`Self::next`] checks them).
    pub(crate) fn skip_before(&mut self, node: u64, ty: u32) -> Result<()> {
        while self.left == 0 && !self.r.is_empty() {
            let at = self.r.pos;
            let (gnode, t, n) = self.group_header()?;
            if (gnode, t) >= (node, ty) {
                self.r.pos = at;
                return Ok(());
            }
            self.r.skip_varints(n.saturating_mul(2))?;
            self.started = true;
            self.node = gnode;
            self.ty = t;
        }
        Ok(())
    }

    /// Reads the header of the next group, checked: its node (a delta from the group
    /// before's), type and number of edges (at least one), after the group before.
    fn group_header(&mut self) -> Result<(u64, u32, u64)> {
        let d = self.r.varint()?;
        let ty = self.r.varint_u32()?;
        let n = self.r.varint()?;
        if n == 0 {
            return Err(corrupt("empty group in adjacency chunk"));
        }
        if !self.started {
            return Ok((d, ty, n));
        }
        let node = self
            .node
            .checked_add(d)
            .ok_or_else(|| corrupt("adjacency node ids overflow"))?;
        if (node, ty) <= (self.node, self.ty) {
            return Err(corrupt("adjacency groups not ascending"));
        }
        Ok((node, ty, n))
    }

    fn step(&mut self) -> Result<Option<AdjEdge>> {
        let first_of_group = self.left == 0;
        if first_of_group {
            if self.r.is_empty() {
                if !self.started {
                    return Err(corrupt("empty adjacency chunk"));
                }
                return Ok(None);
            }
            let (node, ty, n) = self.group_header()?;
            self.started = true;
            self.node = node;
            self.ty = ty;
            self.left = n;
        }
        let v = self.r.varint()?;
        let rel = if first_of_group {
            v
        } else {
            self.rel
                .checked_add(v)
                .filter(|r| *r > self.rel)
                .ok_or_else(|| corrupt("adjacency rel ids not ascending"))?
        };
        let other = self.r.varint()?;
        self.rel = rel;
        self.left -= 1;
        Ok(Some((self.node, self.ty, rel, other)))
    }
}

impl Iterator for AdjReader<'_> {
    type Item = Result<AdjEdge>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let step = self.step();
        fused(&mut self.failed, step)
    }
}

/// Decodes a whole adjacency chunk.
pub(crate) fn decode_adj(bytes: &[u8]) -> Result<Vec<AdjEdge>> {
    AdjReader::new(bytes).collect()
}

// ---------------------------------------------------------------------------------------------
// label chunks (storage format 2)

/// Node ids per label chunk: the key is `(label, node >> LABEL_CHUNK_BITS)`.
pub(crate) const LABEL_CHUNK_BITS: u32 = 10;
const LABEL_CHUNK: usize = 1 << LABEL_CHUNK_BITS;
/// A chunk value of exactly this many bytes is a bitmap; a shorter one is a sorted list of
/// 2-byte offsets (at most `LABEL_LIST_MAX` of them).
const LABEL_BITMAP_BYTES: usize = LABEL_CHUNK / 8;
const LABEL_LIST_MAX: usize = LABEL_BITMAP_BYTES / 2 - 1;

/// The node offsets (`node & (LABEL_CHUNK - 1)`) of a label chunk, ascending.
pub(crate) fn label_chunk_offsets(bytes: &[u8]) -> Result<Vec<u16>> {
    if bytes.len() == LABEL_BITMAP_BYTES {
        let mut out = Vec::new();
        for (i, b) in bytes.iter().enumerate() {
            let mut b = *b;
            while b != 0 {
                let bit = b.trailing_zeros() as usize;
                out.push((i * 8 + bit) as u16);
                b &= b - 1;
            }
        }
        Ok(out)
    } else if bytes.len().is_multiple_of(2) && bytes.len() / 2 <= LABEL_LIST_MAX {
        let mut out = Vec::with_capacity(bytes.len() / 2);
        for c in bytes.chunks_exact(2) {
            let o = u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ]);
            if usize::from(o) >= LABEL_CHUNK || out.last().is_some_and(|l| *l >= o) {
                return Err(corrupt("bad label chunk"));
            }
            out.push(o);
        }
        Ok(out)
    } else {
        Err(corrupt("bad label chunk length"))
    }
}

/// Encodes the offsets of a label chunk (ascending, distinct); empty bytes for none.
pub(crate) fn encode_label_chunk(offsets: &[u16]) -> Vec<u8> {
    if offsets.len() > LABEL_LIST_MAX {
        let mut out = vec![0u8; LABEL_BITMAP_BYTES];
        for &o in offsets {
            if let Some(b) = out.get_mut(usize::from(o) / 8) {
                *b |= 1 << (o % 8);
            }
        }
        out
    } else {
        let mut out = Vec::with_capacity(offsets.len() * 2);
        for o in offsets {
            out.extend_from_slice(&o.to_le_bytes());
        }
        out
    }
}

/// A label chunk with `off` set (`present`) or cleared, changed in place: `Ok(None)` when it
/// already was so; `Ok(Some(empty))` when the chunk is now empty. Gives the same bytes as
/// decoding, changing and [`encode_label_chunk`] would, without building the offset list (a
/// node create or label change touches one bit of a 128-byte bitmap).
pub(crate) fn label_chunk_set(bytes: &[u8], off: u16, present: bool) -> Result<Option<Vec<u8>>> {
    if usize::from(off) >= LABEL_CHUNK {
        return Err(corrupt("label offset out of range"));
    }
    if bytes.len() == LABEL_BITMAP_BYTES {
        let (i, bit) = (usize::from(off) / 8, 1u8 << (off % 8));
        let set = bytes.get(i).is_some_and(|b| b & bit != 0);
        if set == present {
            return Ok(None);
        }
        let mut out = bytes.to_vec();
        if let Some(b) = out.get_mut(i) {
            *b ^= bit;
        }
        let count: u32 = out.iter().map(|b| b.count_ones()).sum();
        if count as usize <= LABEL_LIST_MAX {
            // Back to the list form, as `encode_label_chunk` would write it.
            return Ok(Some(encode_label_chunk(&label_chunk_offsets(&out)?)));
        }
        return Ok(Some(out));
    }
    let offs = label_chunk_offsets(bytes)?;
    match (offs.binary_search(&off), present) {
        (Ok(_), true) | (Err(_), false) => Ok(None),
        (Err(i), true) => {
            if offs.len() < LABEL_LIST_MAX {
                let mut out = Vec::with_capacity(bytes.len() + 2);
                out.extend_from_slice(bytes.get(..i * 2).unwrap_or(bytes));
                out.extend_from_slice(&off.to_le_bytes());
                out.extend_from_slice(bytes.get(i * 2..).unwrap_or(&[]));
                Ok(Some(out))
            } else {
                let mut offs = offs;
                offs.insert(i, off);
                Ok(Some(encode_label_chunk(&offs)))
            }
        }
        (Ok(i), false) => {
            let mut out = Vec::with_capacity(bytes.len());
            out.extend_from_slice(bytes.get(..i * 2).unwrap_or(bytes));
            out.extend_from_slice(bytes.get(i * 2 + 2..).unwrap_or(&[]));
            Ok(Some(out))
        }
    }
}

/// The chunk key part and offset of a node id.
pub(crate) fn label_chunk_of(node: u64) -> (u64, u16) {
    (
        node >> LABEL_CHUNK_BITS,
        (node & (LABEL_CHUNK as u64 - 1)) as u16,
    )
}

/// Runs every decoder of stored bytes over `bytes` (node and relationship records of both
/// formats, relationship blocks, adjacency chunks, label chunks, schema records, property
/// values, and the single-property reads, integer ones too): each must refuse malformed bytes with an error,
/// never panic or allocate past what the bytes describe. Returns how many accepted them (the
/// fuzz target `storage_records` drives it; a damaged file reaches these decoders).
pub fn decode_stored_bytes(bytes: &[u8]) -> usize {
    let key = bytes.first().map_or(0, |b| u64::from(*b));
    let results = [
        decode_node(bytes).is_ok(),
        decode_rel(bytes).is_ok(),
        decode_node_v1(bytes).is_ok(),
        decode_rel_v1(bytes).is_ok(),
        decode_adj(bytes).is_ok(),
        BlockReader::new(key, bytes).all(|e| e.is_ok()),
        {
            let mut rd = AdjReader::new(bytes);
            rd.skip_before(key, 1).is_ok() && rd.all(|e| e.is_ok())
        },
        block_get(key, bytes, key / 2).is_ok(),
        label_chunk_offsets(bytes).is_ok(),
        label_chunk_set(bytes, (key % 1024) as u16, key.is_multiple_of(2)).is_ok(),
        decode_schema(key as u32, bytes).is_ok(),
        decode_property_value(bytes).is_ok(),
        node_labels(bytes).is_ok(),
        node_prop(bytes, key as u32).is_ok(),
        node_prop_if_labelled(bytes, Some((key % 4) as u32), Some(key as u32)).is_ok(),
        node_int_prop_if_labelled(bytes, Some((key % 4) as u32), Some(key as u32)).is_ok(),
        rel_prop(bytes, key as u32).is_ok(),
        IntPage {
            start: key / 3,
            until: key.saturating_mul(2),
            label: Some((key % 4) as u32),
            key: Some((key % 3) as u32),
            limit: (key % 50) as usize + 1,
        }
        .add_block(key, bytes, &mut crate::PropertyStats::default())
        .is_ok(),
    ];
    results.iter().filter(|ok| **ok).count()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_malformed_ones_are_errors() {
        let mut vals: Vec<u64> = vec![0, 1, 0x7f, 0x80, 0x3fff, 0x4000, u64::from(u32::MAX)];
        vals.extend([u64::MAX - 1, u64::MAX]);
        vals.extend((0..64).map(|b| 1u64 << b));
        for v in vals {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            out.push(0x55);
            let mut r = Reader::new(&out);
            assert_eq!(r.varint().unwrap(), v);
            // The next byte is read where the varint ends.
            assert_eq!(r.u8().unwrap(), 0x55);
            // Every truncation of it is an error, never a value.
            for cut in 0..out.len() - 1 {
                assert!(
                    Reader::new(&out[..cut]).varint().is_err(),
                    "{v} cut at {cut}"
                );
            }
        }
        // Past 64 bits, and longer than ten bytes.
        assert!(
            Reader::new(&[0xff; 9].iter().copied().chain([0x02]).collect::<Vec<_>>())
                .varint()
                .is_err()
        );
        assert!(Reader::new(&[0x80; 11]).varint().is_err());
        assert!(Reader::new(&[]).varint().is_err());
    }

    /// A node record's property read with its labels checked in place is what decoding the
    /// whole record gives; a truncated record is an error, never a wrong answer.
    #[test]
    fn node_prop_if_labelled_matches_the_decoded_record() {
        let n = NodeData {
            labels: vec![1, 5, 300],
            props: vec![(2, Value::Int(7)), (9, Value::String("x".into()))],
        };
        let mut bytes = Vec::new();
        encode_node(&mut bytes, &n);
        for label in [None, Some(1), Some(5), Some(300), Some(4)] {
            for key in [None, Some(2), Some(9), Some(3)] {
                let got = node_prop_if_labelled(&bytes, label, key).unwrap();
                let has = label.is_none_or(|l| n.labels.contains(&l));
                let want = has.then(|| {
                    key.and_then(|k| n.props.iter().find(|(pk, _)| *pk == k))
                        .map(|(_, v)| v.clone())
                });
                assert_eq!(got, want, "{label:?} {key:?}");
            }
        }
        for cut in 0..bytes.len() {
            let r = node_prop_if_labelled(&bytes[..cut], Some(300), Some(9));
            assert!(r.is_err(), "cut at {cut}: {r:?}");
        }
        // The integer reading of the same: in place, or only named when not an integer.
        for label in [None, Some(1), Some(4)] {
            for key in [None, Some(2), Some(9), Some(3)] {
                let got = node_int_prop_if_labelled(&bytes, label, key).unwrap();
                let want = match node_prop_if_labelled(&bytes, label, key).unwrap() {
                    None => IntProp::Unlabelled,
                    Some(None) => IntProp::Null,
                    Some(Some(Value::Int(i))) => IntProp::Int(i),
                    Some(Some(_)) => IntProp::Other,
                };
                assert_eq!(got, want, "{label:?} {key:?}");
            }
        }
        for cut in 0..bytes.len() {
            let r = node_int_prop_if_labelled(&bytes[..cut], Some(300), Some(9));
            assert!(r.is_err(), "cut at {cut}: {r:?}");
        }
        let mut big = Vec::new();
        encode_node(
            &mut big,
            &NodeData {
                labels: vec![1],
                props: vec![(2, Value::Int(i64::MIN))],
            },
        );
        assert_eq!(
            node_int_prop_if_labelled(&big, Some(1), Some(2)).unwrap(),
            IntProp::Int(i64::MIN)
        );
    }

    /// `label_chunk_set` gives the bytes that decoding, changing and re-encoding give, through
    /// both forms (list and bitmap) and back.
    #[test]
    fn label_chunk_set_matches_re_encoding() {
        let mut bytes = Vec::new();
        let mut model: Vec<u16> = Vec::new();
        let mut x = 12345u64;
        for step in 0..20_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Grow past the list limit first, then shrink, then mix.
            let present = match step {
                0..=4_999 => (x >> 60) != 0,
                5_000..=9_999 => (x >> 60) == 0,
                _ => (x >> 63) == 1,
            };
            let off = ((x >> 33) % (LABEL_CHUNK as u64)) as u16;
            let mut expect = model.clone();
            match (expect.binary_search(&off), present) {
                (Err(i), true) => expect.insert(i, off),
                (Ok(i), false) => {
                    expect.remove(i);
                }
                _ => {}
            }
            let got = label_chunk_set(&bytes, off, present).unwrap();
            if expect == model {
                assert!(got.is_none());
            } else {
                let got = got.unwrap();
                assert_eq!(got, encode_label_chunk(&expect), "step {step}");
                bytes = got;
                model = expect;
            }
            assert_eq!(label_chunk_offsets(&bytes).unwrap(), model);
        }
        assert!(label_chunk_set(&bytes, LABEL_CHUNK as u16, true).is_err());
    }

    /// The decoders behind `decode_stored_bytes` on seeded random bytes and on truncations of
    /// valid records (the fuzz target runs it without a seed).
    #[test]
    fn stored_bytes_decoders_never_panic() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..300usize {
            for _ in 0..20 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    })
                    .collect();
                decode_stored_bytes(&bytes);
            }
        }
        let mut buf = Vec::new();
        encode_adj(&mut buf, &[(1, 2, 3, 4), (1, 2, 9, 5), (7, 0, 1, 1)]);
        for cut in 0..=buf.len() {
            decode_stored_bytes(&buf[..cut]);
        }
    }

    #[test]
    fn relationship_blocks_round_trip_and_refuse_malformed_bytes() {
        let recs: Vec<(u64, Vec<u8>)> = [7u64, 8, 9, 200, 100_000]
            .iter()
            .map(|&id| (id, vec![id as u8; (id % 5) as usize]))
            .collect();
        let entries: Vec<(u64, &[u8])> = recs.iter().map(|(i, r)| (*i, r.as_slice())).collect();
        let mut buf = Vec::new();
        encode_block(&mut buf, &entries);
        let back: Vec<(u64, &[u8])> = BlockReader::new(100_000, &buf)
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(back, entries);
        assert_eq!(block_get(100_000, &buf, 200).unwrap(), Some(&recs[3].1[..]));
        assert_eq!(block_get(100_000, &buf, 201).unwrap(), None);
        // Every truncation fails (its last id is not the key), never panics.
        for cut in 0..buf.len() {
            let r: Result<Vec<_>> = BlockReader::new(100_000, &buf[..cut]).collect();
            assert!(r.is_err(), "{cut}");
        }
        fn all(key: u64, b: &[u8]) -> Result<Vec<(u64, &[u8])>> {
            BlockReader::new(key, b).collect()
        }
        // A key that is not the last id, an id past the key, an id going back, empty.
        assert!(all(8, &[7, 0]).is_err());
        assert!(all(7, &[7, 0, 1, 0]).is_err());
        assert!(all(7, &[7, 0, 0, 0]).is_err());
        assert!(all(7, &[]).is_err());
        assert!(all(7, &[7, 9, 1]).is_err());
        assert_eq!(all(7, &[7, 0]).unwrap(), vec![(7, &[][..])]);
    }

    /// The in-register readers (a block's records, a record's integer) agree with the checked
    /// ones on valid bytes and on damaged ones: whatever the fast one answers, the checked one
    /// answers too, and where it gives up, the checked one names the damage.
    #[test]
    fn fast_readers_agree_with_the_checked_ones() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let values = [
            Value::Int(5),
            Value::Int(-300_000),
            Value::Int(i64::MAX),
            Value::Int(i64::MIN),
            Value::Float(1.5),
            Value::String("s".into()),
            Value::Null,
        ];
        for round in 0..400 {
            let count = 1 + rnd() % 40;
            let mut recs = Vec::new();
            let mut id = rnd() % 1000;
            for _ in 0..count {
                id += 1 + rnd() % 300;
                let mut props = Vec::new();
                for k in 0..rnd() % 3 {
                    let v = values[(rnd() % values.len() as u64) as usize].clone();
                    if v != Value::Null {
                        props.push(((k + rnd() % 2) as u32, v));
                    }
                }
                props.sort_by_key(|(k, _)| *k);
                props.dedup_by_key(|(k, _)| *k);
                let node = NodeData {
                    labels: if rnd() % 4 == 0 { vec![2] } else { vec![1, 2] },
                    props,
                };
                let mut b = Vec::new();
                encode_node(&mut b, &node);
                recs.push((id, b));
            }
            let entries: Vec<(u64, &[u8])> = recs.iter().map(|(i, r)| (*i, &r[..])).collect();
            let mut block = Vec::new();
            encode_block(&mut block, &entries);
            let key = id;
            // Sometimes damaged: a byte changed or the block cut short.
            if round % 2 == 1 {
                let i = (rnd() % block.len() as u64) as usize;
                if rnd() % 2 == 0 {
                    block[i] = rnd() as u8;
                } else {
                    block.truncate(i);
                }
            }
            let fast: Result<Vec<(u64, &[u8])>> = BlockReader::new(key, &block).collect();
            let mut checked = BlockReader::new(key, &block);
            let mut slow = Vec::new();
            let slow = loop {
                match checked.step_checked() {
                    Ok(Some(e)) => slow.push(e),
                    Ok(None) => break Ok(slow),
                    Err(e) => break Err(e),
                }
            };
            match (&fast, &slow) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(_), Err(_)) => {}
                _ => panic!("round {round}: {fast:?} against {slow:?}"),
            }
            // Each record's integer, and the block's totals against adding record by record.
            let Ok(records) = fast else { continue };
            for (_, rec) in &records {
                for label in [None, Some(1), Some(2)] {
                    for key in [None, Some(0), Some(1)] {
                        let got = node_int_prop_if_labelled(rec, label, key);
                        let want = int_prop_checked(rec, label, key);
                        match (&got, &want) {
                            (Ok(a), Ok(b)) => assert_eq!(a, b),
                            (Err(_), Err(_)) => {}
                            _ => panic!("round {round}: {got:?} against {want:?}"),
                        }
                        let got = node_prop_if_labelled(rec, label, key);
                        let want = prop_if_labelled_checked(rec, label, key);
                        match (&got, &want) {
                            (Ok(a), Ok(b)) => assert_eq!(a, b),
                            (Err(_), Err(_)) => {}
                            _ => panic!("round {round}: {got:?} against {want:?}"),
                        }
                    }
                }
            }
            for (start, until, limit) in [(0, u64::MAX, usize::MAX), (id / 2, id - 1, 5)] {
                let page = IntPage {
                    start,
                    until,
                    label: Some(1),
                    key: Some(0),
                    limit,
                };
                let mut before = crate::PropertyStats::default();
                before.add(0, IntProp::Int(i64::MAX - 1));
                let mut want = before.clone();
                let mut want_go = true;
                for (id, rec) in &records {
                    if *id < start {
                        continue;
                    }
                    if *id > until || want.rows >= limit {
                        want_go = false;
                        break;
                    }
                    match int_prop_checked(rec, Some(1), Some(0)) {
                        Ok(IntProp::Unlabelled) => {}
                        Ok(v) => want.add(*id, v),
                        Err(_) => {
                            want_go = false;
                            break;
                        }
                    }
                }
                let mut got = before.clone();
                let go = page.add_block(key, &block, &mut got);
                if let Ok(go) = go {
                    assert_eq!(got, want, "round {round}");
                    assert_eq!(go || got.rows >= limit, want_go || want.rows >= limit);
                }
            }
        }
    }

    #[test]
    fn adjacency_chunks_round_trip_and_refuse_malformed_bytes() {
        let mut edges: Vec<AdjEdge> = Vec::new();
        for node in [0u64, 3, 3, 70, 1 << 40] {
            for ty in [0u32, 5] {
                for i in 0..3u64 {
                    edges.push((node, ty, 1000 + i * i * 977 + node, i * 7));
                }
            }
        }
        edges.sort_unstable();
        edges.dedup();
        let mut buf = Vec::new();
        encode_adj(&mut buf, &edges);
        assert_eq!(decode_adj(&buf).unwrap(), edges);
        // Every truncation fails (or is the valid shorter chunk of whole groups), never panics.
        for cut in 0..buf.len() {
            if let Ok(got) = decode_adj(&buf[..cut]) {
                assert!(got.len() < edges.len());
            }
        }
        assert!(decode_adj(&[]).is_err());
        // Skipping to a node gives the same edges from there as decoding everything.
        for target in [
            (0u64, 0u32),
            (3, 0),
            (3, 5),
            (4, 0),
            (70, 5),
            (1 << 40, 9),
            (u64::MAX, 0),
        ] {
            let mut rd = AdjReader::new(&buf);
            rd.skip_before(target.0, target.1).unwrap();
            let got: Vec<AdjEdge> = rd.map(|e| e.unwrap()).collect();
            let want: Vec<AdjEdge> = edges
                .iter()
                .copied()
                .filter(|e| (e.0, e.1) >= target)
                .collect();
            assert_eq!(got, want, "{target:?}");
        }
        for cut in 0..buf.len() {
            let mut rd = AdjReader::new(&buf[..cut]);
            if rd.skip_before(1 << 40, 0).is_ok() {
                let _ = rd.collect::<Result<Vec<_>>>();
            }
        }
        // An empty group, a group out of order, a rel id going back.
        assert!(decode_adj(&[1, 0, 0]).is_err());
        assert!(decode_adj(&[5, 1, 1, 9, 2, 0, 0, 1, 9, 2]).is_err());
        assert!(decode_adj(&[5, 1, 2, 9, 2, 0, 2]).is_err());
        assert!(decode_adj(&[0xff; 12]).is_err());
    }
}
