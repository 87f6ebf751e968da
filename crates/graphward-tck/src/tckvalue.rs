//! The TCK's notation for expected values, and comparison against engine values.

use std::collections::BTreeMap;

use graphward_core::value::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum TV {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<TV>),
    Map(BTreeMap<String, TV>),
    Node {
        labels: Vec<String>,
        props: BTreeMap<String, TV>,
    },
    Rel {
        rel_type: String,
        props: BTreeMap<String, TV>,
    },
    /// Nodes and relationships; `forward[i]` is true when rel i points from node i to i+1.
    Path {
        nodes: Vec<TV>,
        rels: Vec<TV>,
        forward: Vec<bool>,
    },
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

pub fn parse(text: &str) -> Result<TV, String> {
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("trailing input in value `{text}` at {}", p.i));
    }
    Ok(v)
}

impl<'a> P<'a> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected '{}' at {}", c as char, self.i))
        }
    }
    fn starts(&self, w: &str) -> bool {
        self.s[self.i..].starts_with(w.as_bytes())
    }
    fn ident(&mut self) -> Result<String, String> {
        self.ws();
        if self.peek() == Some(b'`') {
            self.i += 1;
            let st = self.i;
            while self.i < self.s.len() && self.s[self.i] != b'`' {
                self.i += 1;
            }
            let r = String::from_utf8_lossy(&self.s[st..self.i]).to_string();
            self.i += 1;
            return Ok(r);
        }
        let st = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
        {
            self.i += 1;
        }
        if st == self.i {
            return Err(format!("expected a name at {}", self.i));
        }
        Ok(String::from_utf8_lossy(&self.s[st..self.i]).to_string())
    }
    fn props(&mut self) -> Result<BTreeMap<String, TV>, String> {
        let mut m = BTreeMap::new();
        self.expect(b'{')?;
        if self.eat(b'}') {
            return Ok(m);
        }
        loop {
            let k = self.ident()?;
            self.expect(b':')?;
            let v = self.value()?;
            m.insert(k, v);
            if self.eat(b'}') {
                return Ok(m);
            }
            self.expect(b',')?;
        }
    }
    fn node(&mut self) -> Result<TV, String> {
        self.expect(b'(')?;
        let mut labels = Vec::new();
        let mut props = BTreeMap::new();
        loop {
            self.ws();
            match self.peek() {
                Some(b':') => {
                    self.i += 1;
                    labels.push(self.ident()?);
                }
                Some(b'{') => props = self.props()?,
                Some(b')') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(format!("bad node at {}", self.i)),
            }
        }
        Ok(TV::Node { labels, props })
    }
    fn rel(&mut self) -> Result<TV, String> {
        self.expect(b'[')?;
        let mut t = String::new();
        let mut props = BTreeMap::new();
        loop {
            self.ws();
            match self.peek() {
                Some(b':') => {
                    self.i += 1;
                    t = self.ident()?;
                }
                Some(b'{') => props = self.props()?,
                Some(b']') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(format!("bad relationship at {}", self.i)),
            }
        }
        Ok(TV::Rel { rel_type: t, props })
    }
    fn value(&mut self) -> Result<TV, String> {
        self.ws();
        let Some(c) = self.peek() else {
            return Err("empty value".into());
        };
        match c {
            b'\'' => {
                self.i += 1;
                let mut out = Vec::new();
                while let Some(ch) = self.peek() {
                    self.i += 1;
                    match ch {
                        b'\\' => {
                            let n = self.peek().ok_or("bad escape")?;
                            self.i += 1;
                            out.push(match n {
                                b'n' => b'\n',
                                b't' => b'\t',
                                b'r' => b'\r',
                                other => other,
                            });
                        }
                        b'\'' => return Ok(TV::String(String::from_utf8_lossy(&out).to_string())),
                        other => out.push(other),
                    }
                }
                Err("unterminated string".into())
            }
            b'[' => {
                // A list, or a relationship `[:T]`.
                let save = self.i;
                self.i += 1;
                self.ws();
                if self.peek() == Some(b':') {
                    self.i = save;
                    return self.rel();
                }
                let mut items = Vec::new();
                if self.eat(b']') {
                    return Ok(TV::List(items));
                }
                loop {
                    items.push(self.value()?);
                    if self.eat(b']') {
                        return Ok(TV::List(items));
                    }
                    self.expect(b',')?;
                }
            }
            b'{' => Ok(TV::Map(self.props()?)),
            b'(' => self.node(),
            b'<' => {
                self.i += 1;
                let mut nodes = vec![self.node()?];
                let mut rels = Vec::new();
                let mut forward = Vec::new();
                loop {
                    self.ws();
                    if self.eat(b'>') {
                        break;
                    }
                    let back = self.eat(b'<');
                    self.expect(b'-')?;
                    let r = self.rel()?;
                    self.expect(b'-')?;
                    let fwd = self.eat(b'>');
                    rels.push(r);
                    forward.push(fwd || !back);
                    nodes.push(self.node()?);
                }
                Ok(TV::Path {
                    nodes,
                    rels,
                    forward,
                })
            }
            _ => {
                if self.starts("null") {
                    self.i += 4;
                    return Ok(TV::Null);
                }
                if self.starts("true") {
                    self.i += 4;
                    return Ok(TV::Bool(true));
                }
                if self.starts("false") {
                    self.i += 5;
                    return Ok(TV::Bool(false));
                }
                if self.starts("NaN") {
                    self.i += 3;
                    return Ok(TV::Float(f64::NAN));
                }
                if self.starts("Inf") || self.starts("Infinity") {
                    self.i += if self.starts("Infinity") { 8 } else { 3 };
                    return Ok(TV::Float(f64::INFINITY));
                }
                if self.starts("-Inf") {
                    self.i += if self.starts("-Infinity") { 9 } else { 4 };
                    return Ok(TV::Float(f64::NEG_INFINITY));
                }
                let st = self.i;
                while let Some(ch) = self.peek() {
                    if ch.is_ascii_digit() || b"+-.eExXabcdefABCDEFo".contains(&ch) {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                let t = String::from_utf8_lossy(&self.s[st..self.i]).to_string();
                if let Ok(i) = t.parse::<i64>() {
                    return Ok(TV::Int(i));
                }
                if let Ok(f) = t.parse::<f64>() {
                    return Ok(TV::Float(f));
                }
                Err(format!("cannot parse value `{t}`"))
            }
        }
    }
}

fn float_eq(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let scale = a.abs().max(b.abs()).max(1e-300);
    ((a - b).abs() / scale) < 1e-12
}

fn props_eq(a: &BTreeMap<String, Value>, b: &BTreeMap<String, TV>, lists_unordered: bool) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|e| matches(v, e, lists_unordered)))
}

/// Does engine value `v` match expected `e`?
pub fn matches(v: &Value, e: &TV, lists_unordered: bool) -> bool {
    match (v, e) {
        (Value::Null, TV::Null) => true,
        (Value::Bool(a), TV::Bool(b)) => a == b,
        (Value::Int(a), TV::Int(b)) => a == b,
        (Value::Float(a), TV::Float(b)) => float_eq(*a, *b),
        (Value::String(a), TV::String(b)) => a == b,
        (Value::List(a), TV::List(b)) => {
            if a.len() != b.len() {
                return false;
            }
            if lists_unordered {
                let mut used = vec![false; b.len()];
                a.iter().all(|x| {
                    for (j, y) in b.iter().enumerate() {
                        if !used[j] && matches(x, y, true) {
                            used[j] = true;
                            return true;
                        }
                    }
                    false
                })
            } else {
                a.iter().zip(b).all(|(x, y)| matches(x, y, false))
            }
        }
        (Value::Map(a), TV::Map(b)) => props_eq(a, b, lists_unordered),
        (Value::Node(n), TV::Node { labels, props }) => {
            let mut l1 = n.labels.clone();
            let mut l2 = labels.clone();
            l1.sort();
            l2.sort();
            l1 == l2 && props_eq(&n.properties, props, lists_unordered)
        }
        (Value::Relationship(r), TV::Rel { rel_type, props }) => {
            &r.rel_type == rel_type && props_eq(&r.properties, props, lists_unordered)
        }
        (
            Value::Path(p),
            TV::Path {
                nodes,
                rels,
                forward,
            },
        ) => {
            if p.nodes.len() != nodes.len() || p.relationships.len() != rels.len() {
                return false;
            }
            for (i, (n, en)) in p.nodes.iter().zip(nodes).enumerate() {
                if !matches(&Value::Node(Box::new(n.clone())), en, lists_unordered) {
                    return false;
                }
                if i < p.relationships.len() {
                    let r = &p.relationships[i];
                    if !matches(
                        &Value::Relationship(Box::new(r.clone())),
                        &rels[i],
                        lists_unordered,
                    ) {
                        return false;
                    }
                    let fwd = r.start == n.id;
                    if fwd != forward[i] {
                        return false;
                    }
                }
            }
            true
        }
        (other, TV::String(s)) => {
            graphward_temporal::to_string(other).as_deref() == Some(s.as_str())
        }
        _ => false,
    }
}

pub fn show(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::String(s) => format!("'{s}'"),
        Value::List(l) => format!("[{}]", l.iter().map(show).collect::<Vec<_>>().join(", ")),
        Value::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k}: {}", show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Node(n) => format!(
            "({}{})",
            n.labels.iter().map(|l| format!(":{l}")).collect::<String>(),
            if n.properties.is_empty() {
                String::new()
            } else {
                format!(" {}", show(&Value::Map(n.properties.clone())))
            }
        ),
        Value::Relationship(r) => format!(
            "[:{} {}]",
            r.rel_type,
            show(&Value::Map(r.properties.clone()))
        ),
        Value::Path(p) => format!("<path {} nodes>", p.nodes.len()),
        other => graphward_temporal::to_string(other).unwrap_or_else(|| format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_literals() {
        assert_eq!(parse("null").unwrap(), TV::Null);
        assert_eq!(parse("-12").unwrap(), TV::Int(-12));
        assert_eq!(parse("1.5e3").unwrap(), TV::Float(1500.0));
        assert_eq!(parse("'it\\'s'").unwrap(), TV::String("it's".into()));
        assert!(matches!(parse("[1, [2], {a: 'x'}]").unwrap(), TV::List(_)));
        assert!(matches!(
            parse("(:A:B {name: 'x'})").unwrap(),
            TV::Node { .. }
        ));
        assert!(matches!(parse("[:T {k: 1}]").unwrap(), TV::Rel { .. }));
        assert!(matches!(
            parse("<(:A)-[:T]->(:B)<-[:U]-()>").unwrap(),
            TV::Path { .. }
        ));
    }

    #[test]
    fn malformed_literals_are_errors() {
        for bad in ["", "'open", "[1, 2", "{a 1}", "(:A", "<(:A)-[:T]", "@"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
