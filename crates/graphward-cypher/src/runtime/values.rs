//! Cypher value semantics: equality (three-valued), comparison, the global sort order,
//! equivalence keys for DISTINCT and grouping, and arithmetic.

use std::cmp::Ordering;

use graphward_core::{Error, ErrorCode, Result, Value};
use graphward_temporal as temporal;

/// Three-valued equality: `None` means null (unknown).
pub fn equals(a: &Value, b: &Value) -> Option<bool> {
    use Value::*;
    match (a, b) {
        (Null, _) | (_, Null) => None,
        (Bool(x), Bool(y)) => Some(x == y),
        (Int(x), Int(y)) => Some(x == y),
        (Int(x), Float(y)) | (Float(y), Int(x)) => Some((*x as f64) == *y && !y.is_nan()),
        (Float(x), Float(y)) => Some(x == y),
        (String(x), String(y)) => Some(x == y),
        (Bytes(x), Bytes(y)) => Some(x == y),
        (List(x), List(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut unknown = false;
            for (p, q) in x.iter().zip(y) {
                match equals(p, q) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if unknown {
                None
            } else {
                Some(true)
            }
        }
        (Map(x), Map(y)) => {
            if x.len() != y.len() || x.keys().ne(y.keys()) {
                return Some(false);
            }
            let mut unknown = false;
            for (k, p) in x {
                match y.get(k).map(|q| equals(p, q)) {
                    Some(Some(false)) | None => return Some(false),
                    Some(None) => unknown = true,
                    Some(Some(true)) => {}
                }
            }
            if unknown {
                None
            } else {
                Some(true)
            }
        }
        (Node(x), Node(y)) => Some(x.id == y.id),
        (Relationship(x), Relationship(y)) => Some(x.id == y.id),
        (Path(x), Path(y)) => Some(
            x.nodes.len() == y.nodes.len()
                && x.nodes.iter().zip(&y.nodes).all(|(p, q)| p.id == q.id)
                && x.relationships.len() == y.relationships.len()
                && x.relationships
                    .iter()
                    .zip(&y.relationships)
                    .all(|(p, q)| p.id == q.id),
        ),
        (Point(x), Point(y)) => Some(x == y),
        _ => {
            if let Some(r) = temporal::equals(a, b) {
                return Some(r);
            }
            Some(false)
        }
    }
}

/// Comparison for `<`, `<=`, `>`, `>=`: `None` when the values are not comparable (null result).
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    use Value::*;
    match (a, b) {
        (Null, _) | (_, Null) => None,
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Int(x), Float(y)) => (*x as f64).partial_cmp(y),
        (Float(x), Int(y)) => x.partial_cmp(&(*y as f64)),
        (Float(x), Float(y)) => x.partial_cmp(y),
        (String(x), String(y)) => Some(x.cmp(y)),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (List(x), List(y)) => {
            for (p, q) in x.iter().zip(y) {
                match compare(p, q)? {
                    Ordering::Equal => {}
                    o => return Some(o),
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => temporal::compare(a, b),
    }
}

fn type_rank(v: &Value) -> u8 {
    use Value::*;
    match v {
        Map(_) => 0,
        Node(_) => 1,
        Relationship(_) => 2,
        List(_) => 3,
        Path(_) => 4,
        DateTime(_) => 5,
        LocalDateTime(_) => 6,
        Date(_) => 7,
        Time(_) => 8,
        LocalTime(_) => 9,
        Duration(_) => 10,
        String(_) => 11,
        Bool(_) => 12,
        Int(_) | Float(_) => 13,
        Point(_) => 14,
        Bytes(_) => 15,
        Null => 16,
    }
}

/// The total order used by ORDER BY (ascending): maps, nodes, relationships, lists, paths,
/// temporals, strings, booleans, numbers (NaN after all numbers), null last.
#[inline]
pub fn order(a: &Value, b: &Value) -> Ordering {
    // Two integers, the commonest sort key, without ranking their types first.
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        _ => order_any(a, b),
    }
}

fn order_any(a: &Value, b: &Value) -> Ordering {
    use Value::*;
    let (ra, rb) = (type_rank(a), type_rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Int(x), Int(y)) => x.cmp(y),
        (Int(_) | Float(_), Int(_) | Float(_)) => {
            let fx = as_f64(a).unwrap_or(f64::NAN);
            let fy = as_f64(b).unwrap_or(f64::NAN);
            match (fx.is_nan(), fy.is_nan()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                _ => fx
                    .partial_cmp(&fy)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| {
                        // 1 and 1.0 compare equal; keep a stable order.
                        matches!(a, Float(_)).cmp(&matches!(b, Float(_)))
                    }),
            }
        }
        (String(x), String(y)) => x.cmp(y),
        (Bool(x), Bool(y)) => x.cmp(y),
        (List(x), List(y)) => {
            for (p, q) in x.iter().zip(y) {
                match order(p, q) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            x.len().cmp(&y.len())
        }
        (Map(x), Map(y)) => {
            let kx: Vec<_> = x.keys().collect();
            let ky: Vec<_> = y.keys().collect();
            match kx.cmp(&ky) {
                Ordering::Equal => {}
                o => return o,
            }
            for (p, q) in x.values().zip(y.values()) {
                match order(p, q) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            Ordering::Equal
        }
        (Node(x), Node(y)) => x.id.cmp(&y.id),
        (Relationship(x), Relationship(y)) => x.id.cmp(&y.id),
        (Path(x), Path(y)) => {
            let ix: Vec<i64> = x.nodes.iter().map(|n| n.id).collect();
            let iy: Vec<i64> = y.nodes.iter().map(|n| n.id).collect();
            ix.cmp(&iy)
        }
        (Bytes(x), Bytes(y)) => x.cmp(y),
        (Point(x), Point(y)) => {
            x.x.partial_cmp(&y.x)
                .unwrap_or(Ordering::Equal)
                .then(x.y.partial_cmp(&y.y).unwrap_or(Ordering::Equal))
        }
        _ => temporal::order(a, b).unwrap_or(Ordering::Equal),
    }
}

pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// A key such that two values have the same key iff they are equivalent (DISTINCT, grouping:
/// null equals null, 1 equals 1.0, NaN equals NaN).
pub fn key(v: &Value) -> String {
    let mut s = String::new();
    write_key(v, &mut s);
    s
}

/// Appends [`key`] of `v` to `s` (a caller building a key of several values reuses one
/// buffer).
pub fn write_key(v: &Value, s: &mut String) {
    use std::fmt::Write;
    match v {
        Value::Null => s.push('N'),
        Value::Bool(b) => s.push(if *b { 'T' } else { 'F' }),
        // An integer that a float holds exactly prints as that float does (so 1 and 1.0
        // have one key), without formatting a float.
        Value::Int(i) if i.unsigned_abs() <= 1 << 53 => {
            let mut b = itoa::Buffer::new();
            let t = b.format(*i);
            s.push('n');
            s.push_str(t);
            s.push('|');
            s.push_str(t);
            s.push(';');
        }
        Value::Int(i) => {
            let _ = write!(s, "n{}|", *i as f64);
            let _ = write!(s, "{i};");
        }
        Value::Float(f) => {
            if f.is_nan() {
                s.push_str("nNaN;");
            } else if f.fract() == 0.0 && f.abs() < 9.0e15 {
                let _ = write!(s, "n{}|{};", f, *f as i64);
            } else {
                let _ = write!(s, "n{f};");
            }
        }
        Value::String(x) => {
            let _ = write!(s, "s{}:{x}", x.len());
        }
        Value::Bytes(b) => {
            let _ = write!(s, "b{b:?}");
        }
        Value::List(l) => {
            s.push('[');
            for x in l {
                write_key(x, s);
                s.push(',');
            }
            s.push(']');
        }
        Value::Map(m) => {
            s.push('{');
            for (k, x) in m {
                let _ = write!(s, "{}:{k}=", k.len());
                write_key(x, s);
                s.push(',');
            }
            s.push('}');
        }
        Value::Node(n) => {
            let _ = write!(s, "V{};", n.id);
        }
        Value::Relationship(r) => {
            let _ = write!(s, "E{};", r.id);
        }
        Value::Path(p) => {
            s.push('P');
            for n in &p.nodes {
                let _ = write!(s, "{},", n.id);
            }
            s.push('/');
            for r in &p.relationships {
                let _ = write!(s, "{},", r.id);
            }
        }
        other => {
            let _ = write!(s, "t{}:", other.type_name());
            match temporal::to_string(other) {
                Some(t) => s.push_str(&t),
                None => {
                    let _ = write!(s, "{other:?}");
                }
            }
        }
    }
}

fn overflow() -> Error {
    Error::new(ErrorCode::ArithmeticError, "integer overflow").with_detail("IntegerOverflow")
}

fn type_mismatch(op: &str, a: &Value, b: &Value) -> Error {
    Error::type_error(format!(
        "cannot apply {op} to {} and {}",
        a.type_name(),
        b.type_name()
    ))
    .with_detail("InvalidArgumentType")
}

pub fn add(a: &Value, b: &Value) -> Result<Value> {
    use Value::*;
    Ok(match (a, b) {
        (Null, _) | (_, Null) => Null,
        (Int(x), Int(y)) => Int(x.checked_add(*y).ok_or_else(overflow)?),
        (Int(_) | Float(_), Int(_) | Float(_)) => {
            Float(as_f64(a).unwrap_or(0.0) + as_f64(b).unwrap_or(0.0))
        }
        (String(x), String(y)) => String(format!("{x}{y}")),
        (String(x), Int(_) | Float(_)) => String(format!("{x}{}", number_string(b))),
        (Int(_) | Float(_), String(y)) => String(format!("{}{y}", number_string(a))),
        (List(x), List(y)) => List(x.iter().chain(y).cloned().collect()),
        (List(x), y) => {
            let mut v = x.clone();
            v.push(y.clone());
            List(v)
        }
        (x, List(y)) => {
            let mut v = vec![x.clone()];
            v.extend(y.iter().cloned());
            List(v)
        }
        _ => match temporal::add(a, b) {
            Some(r) => r?,
            None => return Err(type_mismatch("+", a, b)),
        },
    })
}

pub fn number_string(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => float_string(*f),
        _ => String::new(),
    }
}

/// Cypher's string form of a float (`1.0`, `NaN`, `Infinity`, `1.0E-5`).
pub fn float_string(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else if f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        let s = format!("{f}");
        if s.contains('e') {
            s.replace('e', "E")
        } else {
            s
        }
    }
}

pub fn arith(op: char, a: &Value, b: &Value) -> Result<Value> {
    use Value::*;
    if op == '+' {
        return add(a, b);
    }
    if a.is_null() || b.is_null() {
        return Ok(Null);
    }
    match (a, b) {
        (Int(x), Int(y)) => {
            let (x, y) = (*x, *y);
            let r = match op {
                '-' => x.checked_sub(y),
                '*' => x.checked_mul(y),
                '/' => {
                    if y == 0 {
                        return Err(Error::new(ErrorCode::ArithmeticError, "/ by zero")
                            .with_detail("DivisionByZero"));
                    }
                    x.checked_div(y)
                }
                '%' => {
                    if y == 0 {
                        return Err(Error::new(ErrorCode::ArithmeticError, "/ by zero")
                            .with_detail("DivisionByZero"));
                    }
                    x.checked_rem(y)
                }
                '^' => return Ok(Float((x as f64).powf(y as f64))),
                _ => None,
            };
            Ok(Int(r.ok_or_else(overflow)?))
        }
        (Int(_) | Float(_), Int(_) | Float(_)) => {
            let (x, y) = (as_f64(a).unwrap_or(0.0), as_f64(b).unwrap_or(0.0));
            Ok(Float(match op {
                '-' => x - y,
                '*' => x * y,
                '/' => x / y,
                '%' => x % y,
                '^' => x.powf(y),
                _ => f64::NAN,
            }))
        }
        _ => {
            let r = match op {
                '-' => temporal::sub(a, b),
                '*' => temporal::mul(a, b),
                '/' => temporal::div(a, b),
                _ => None,
            };
            match r {
                Some(r) => r,
                None => Err(type_mismatch(&op.to_string(), a, b)),
            }
        }
    }
}

/// Truthiness for WHERE: only `true` passes.
pub fn truthy(v: &Value) -> Result<Option<bool>> {
    match v {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Null => Ok(None),
        other => Err(
            Error::type_error(format!("expected a boolean, got {}", other.type_name()))
                .with_detail("InvalidArgumentType"),
        ),
    }
}

/// Deepest nesting of lists and maps a query may build. Values are compared, hashed, dropped
/// and serialized by recursive code, so their depth is bounded where they are built (the
/// parser bounds literals; this bounds what `reduce`, `collect` and comprehensions nest).
pub const MAX_VALUE_DEPTH: usize = 512;

/// Approximate heap size of a value and how deeply it nests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    pub bytes: usize,
    /// Nesting depth: 0 for a scalar, 1 for a list or map of scalars, ...
    pub depth: usize,
}

const VALUE_BYTES: usize = std::mem::size_of::<Value>();
/// Per-entry overhead of a map (B-tree node share) besides the key and the value.
const MAP_ENTRY_BYTES: usize = 32;

fn own_bytes(v: &Value) -> usize {
    VALUE_BYTES
        + match v {
            Value::String(s) => s.len(),
            Value::Bytes(b) => b.len(),
            // The entity's own allocation (the value holds it boxed), then its strings.
            Value::Node(n) => {
                std::mem::size_of::<graphward_core::value::Node>()
                    + n.element_id.len()
                    + n.labels.iter().map(|l| 24 + l.len()).sum::<usize>()
            }
            Value::Relationship(r) => {
                std::mem::size_of::<graphward_core::value::Relationship>()
                    + r.element_id.len()
                    + r.start_element_id.len()
                    + r.end_element_id.len()
                    + r.rel_type.len()
            }
            Value::Path(p) => {
                p.nodes
                    .iter()
                    .map(|n| 96 + n.element_id.len() + n.labels.len() * 24)
                    .sum::<usize>()
                    + p.relationships
                        .iter()
                        .map(|r| 160 + r.element_id.len() + r.rel_type.len())
                        .sum::<usize>()
            }
            _ => 0,
        }
}

/// The size and depth of a value, without recursion (a stack of iterators, one per level),
/// stopping early once the depth passes [`MAX_VALUE_DEPTH`].
#[inline]
pub fn measure(v: &Value) -> Measure {
    match v {
        // Nothing to walk (the common case: a scan's property values).
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => Measure {
            bytes: VALUE_BYTES,
            depth: 0,
        },
        _ => measure_nested(v),
    }
}

/// [`measure`] of a value that may hold others.
fn measure_nested(v: &Value) -> Measure {
    enum Level<'a> {
        List(std::slice::Iter<'a, Value>),
        Map(std::collections::btree_map::Iter<'a, String, Value>),
    }
    fn open(v: &Value) -> Option<Level<'_>> {
        match v {
            Value::List(l) => Some(Level::List(l.iter())),
            Value::Map(m) => Some(Level::Map(m.iter())),
            Value::Node(n) if !n.properties.is_empty() => Some(Level::Map(n.properties.iter())),
            Value::Relationship(r) if !r.properties.is_empty() => {
                Some(Level::Map(r.properties.iter()))
            }
            _ => None,
        }
    }
    let mut bytes = own_bytes(v);
    let mut depth = 0;
    let mut stack: Vec<Level<'_>> = Vec::new();
    if let Some(l) = open(v) {
        stack.push(l);
    }
    loop {
        depth = depth.max(stack.len());
        if depth > MAX_VALUE_DEPTH {
            break;
        }
        let Some(top) = stack.last_mut() else {
            break;
        };
        let next = match top {
            Level::List(it) => it.next(),
            Level::Map(it) => it.next().map(|(k, x)| {
                bytes = bytes.saturating_add(MAP_ENTRY_BYTES + k.len());
                x
            }),
        };
        match next {
            None => {
                stack.pop();
            }
            Some(x) => {
                bytes = bytes.saturating_add(own_bytes(x));
                if let Some(l) = open(x) {
                    stack.push(l);
                }
            }
        }
    }
    Measure { bytes, depth }
}

/// Refuse a value nested deeper than [`MAX_VALUE_DEPTH`].
pub fn check_depth(depth: usize) -> Result<()> {
    if depth > MAX_VALUE_DEPTH {
        return Err(Error::new(
            ErrorCode::ResourceLimit,
            format!(
                "the query built a value nested more than {MAX_VALUE_DEPTH} lists or maps deep"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod measure_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// An integer's key is the float's text and the integer's (integers a float holds
    /// exactly are formatted without going through a float, to the same text), so an integer
    /// and the float of the same value have one grouping key; other values keep their own.
    #[test]
    fn integers_and_equal_floats_share_a_key() {
        let two53 = 1i64 << 53;
        for i in [
            0,
            1,
            -1,
            7,
            -42,
            1_000_000,
            8_999_999_999_999_999,
            two53 - 1,
            two53,
        ] {
            for i in [i, -i] {
                assert_eq!(key(&Value::Int(i)), format!("n{}|{i};", i as f64), "{i}");
            }
        }
        for i in [two53 + 1, i64::MAX, i64::MIN] {
            assert_eq!(key(&Value::Int(i)), format!("n{}|{i};", i as f64), "{i}");
        }
        for i in [0, 1, -1, 7, -42, 1_000_000, 8_999_999_999_999_999] {
            assert_eq!(key(&Value::Int(i)), key(&Value::Float(i as f64)), "{i}");
        }
        assert_ne!(key(&Value::Int(1)), key(&Value::Int(2)));
        assert_ne!(key(&Value::Int(1)), key(&Value::Float(1.5)));
        assert_ne!(key(&Value::Int(1)), key(&Value::String("1".into())));
    }

    /// The binary operators on two integers give what `arith` and `compare` give, overflow
    /// included (an error either way).
    #[test]
    fn integer_operators_agree_with_arith_and_compare() {
        use crate::ast::BinaryOp::*;
        let vals = [0i64, 1, -1, 3, -7, 1 << 40, i64::MAX, i64::MIN];
        for &x in &vals {
            for &y in &vals {
                let (a, b) = (Value::Int(x), Value::Int(y));
                for (op, c) in [(Add, '+'), (Sub, '-'), (Mul, '*')] {
                    let fast = super::super::eval::binary_values(op, &a, &b);
                    let general = arith(c, &a, &b);
                    assert_eq!(fast.is_ok(), general.is_ok(), "{x} {c} {y}");
                    if let (Ok(f), Ok(g)) = (fast, general) {
                        assert_eq!(f, g, "{x} {c} {y}");
                    }
                }
                let cmp = compare(&a, &b).unwrap();
                for (op, want) in [
                    (Lt, cmp.is_lt()),
                    (Le, cmp.is_le()),
                    (Gt, cmp.is_gt()),
                    (Ge, cmp.is_ge()),
                    (Eq, cmp.is_eq()),
                    (Ne, cmp.is_ne()),
                ] {
                    let got = super::super::eval::binary_values(op, &a, &b).unwrap();
                    assert_eq!(got, Value::Bool(want), "{x} {op:?} {y}");
                }
            }
        }
    }

    #[test]
    fn sizes_grow_with_content_and_depth_is_counted_without_recursion() {
        let small = measure(&Value::String("ab".into()));
        let big = measure(&Value::String("a".repeat(1000)));
        assert_eq!(small.depth, 0);
        assert_eq!(big.bytes - small.bytes, 998);
        let list = Value::List((0..100).map(Value::Int).collect());
        let m = measure(&list);
        assert_eq!(m.depth, 1);
        assert_eq!(m.bytes, 101 * VALUE_BYTES);
        // 100k levels deep: measured with a heap stack, and stopped early.
        let mut deep = Value::Null;
        for _ in 0..100_000 {
            deep = Value::List(vec![deep]);
        }
        let m = measure(&deep);
        assert!(m.depth > MAX_VALUE_DEPTH);
        assert!(check_depth(m.depth).is_err());
        // Dropping it recursively would overflow the test thread's stack: take it apart.
        let mut cur = deep;
        while let Value::List(mut l) = cur {
            cur = l.pop().unwrap_or(Value::Null);
        }
    }

    #[test]
    fn a_node_or_relationship_counts_its_boxed_entity() {
        let node = super::super::eval::node_ref(7);
        assert!(
            measure(&node).bytes
                >= VALUE_BYTES + std::mem::size_of::<graphward_core::value::Node>()
        );
        let rel = super::super::eval::rel_ref(&graphward_storage::RelRecord {
            id: 1,
            src: 2,
            dst: 3,
            rel_type: "R".to_string(),
            properties: Default::default(),
        });
        assert!(
            measure(&rel).bytes
                >= VALUE_BYTES + std::mem::size_of::<graphward_core::value::Relationship>()
        );
    }
}
