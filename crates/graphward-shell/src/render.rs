//! Showing values and results: Cypher-style text (tables), CSV and JSON lines.

use std::fmt::Write as _;

use graphward_core::{Node, Path, Relationship, Value};

use crate::client::QueryResult;

/// Output format of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned table with borders.
    Table,
    /// RFC 4180 CSV with a header line.
    Csv,
    /// One JSON object per row (JSON lines), keys in column order.
    Json,
}

// ---------------------------------------------------------------------------------------------
// Cypher-style text
// ---------------------------------------------------------------------------------------------

/// The value written the way Cypher would write it: `"text"`, `[1, 2]`, `{k: v}`,
/// `(:Label {k: v})`, `[:TYPE {k: v}]`, paths as `(a)-[:R]->(b)`, temporal values in ISO form.
pub fn cypher(v: &Value) -> String {
    let mut s = String::new();
    write_cypher(&mut s, v);
    s
}

fn is_identifier(k: &str) -> bool {
    let mut chars = k.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || c == '_')
}

fn write_key(s: &mut String, k: &str) {
    if is_identifier(k) {
        s.push_str(k);
    } else {
        s.push('`');
        s.push_str(&k.replace('`', "``"));
        s.push('`');
    }
}

fn write_string(s: &mut String, text: &str) {
    s.push('"');
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(s, "\\u{:04X}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

fn write_float(s: &mut String, f: f64) {
    if f.is_nan() {
        s.push_str("NaN");
    } else if f.is_infinite() {
        s.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else if f == f.trunc() && f.abs() < 1e16 {
        let _ = write!(s, "{f:.1}");
    } else {
        let _ = write!(s, "{f}");
    }
}

/// `k: v, k2: v2` (the inside of a map).
fn write_entries(s: &mut String, m: &graphward_core::value::Map) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        write_key(s, k);
        s.push_str(": ");
        write_cypher(s, v);
    }
}

fn write_props(s: &mut String, props: &graphward_core::value::Map) {
    if !props.is_empty() {
        s.push_str(" {");
        write_entries(s, props);
        s.push('}');
    }
}

fn write_node(s: &mut String, n: &Node) {
    s.push('(');
    for l in &n.labels {
        s.push(':');
        write_key(s, l);
    }
    write_props(s, &n.properties);
    s.push(')');
}

fn write_rel(s: &mut String, r: &Relationship) {
    s.push_str("[:");
    write_key(s, &r.rel_type);
    write_props(s, &r.properties);
    s.push(']');
}

fn write_path(s: &mut String, p: &Path) {
    let Some(first) = p.nodes.first() else {
        return;
    };
    write_node(s, first);
    for (i, r) in p.relationships.iter().enumerate() {
        let (Some(from), Some(to)) = (p.nodes.get(i), p.nodes.get(i + 1)) else {
            break;
        };
        let forward = r.start == from.id && r.end == to.id;
        s.push_str(if forward { "-" } else { "<-" });
        write_rel(s, r);
        s.push_str(if forward { "->" } else { "-" });
        write_node(s, to);
    }
}

fn write_cypher(s: &mut String, v: &Value) {
    match v {
        Value::Null => s.push_str("null"),
        Value::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(s, "{i}");
        }
        Value::Float(f) => write_float(s, *f),
        Value::String(t) => write_string(s, t),
        Value::Bytes(b) => {
            s.push_str("0x");
            for byte in b {
                let _ = write!(s, "{byte:02x}");
            }
        }
        Value::List(items) => {
            s.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                write_cypher(s, item);
            }
            s.push(']');
        }
        Value::Map(m) => {
            s.push('{');
            write_entries(s, m);
            s.push('}');
        }
        Value::Node(n) => write_node(s, n),
        Value::Relationship(r) => write_rel(s, r),
        Value::Path(p) => write_path(s, p),
        Value::Date(d) => {
            let _ = write!(s, "{d}");
        }
        Value::Time(t) => {
            let _ = write!(s, "{t}");
        }
        Value::LocalTime(t) => {
            let _ = write!(s, "{t}");
        }
        Value::DateTime(t) => {
            let _ = write!(s, "{t}");
        }
        Value::LocalDateTime(t) => {
            let _ = write!(s, "{t}");
        }
        Value::Duration(d) => {
            let _ = write!(s, "{d}");
        }
        Value::Point(p) => {
            let _ = write!(s, "point({{srid: {}, x: ", p.srid);
            write_float(s, p.x);
            s.push_str(", y: ");
            write_float(s, p.y);
            if let Some(z) = p.z {
                s.push_str(", z: ");
                write_float(s, z);
            }
            s.push_str("})");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

fn json_map(m: &graphward_core::value::Map) -> serde_json::Value {
    serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), json(v))).collect())
}

/// The value as JSON. Nodes, relationships and paths become objects; temporal values ISO
/// strings; non-finite floats the strings `NaN`, `Infinity`, `-Infinity`; bytes a hex string.
pub fn json(v: &Value) -> serde_json::Value {
    use serde_json::json as j;
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => j!(b),
        Value::Int(i) => j!(i),
        Value::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => serde_json::Value::Number(n),
            None => serde_json::Value::String(cypher(v)),
        },
        Value::String(s) => j!(s),
        Value::Bytes(_) => serde_json::Value::String(cypher(v)),
        Value::List(items) => serde_json::Value::Array(items.iter().map(json).collect()),
        Value::Map(m) => json_map(m),
        Value::Node(n) => j!({
            "elementId": n.element_id,
            "labels": n.labels,
            "properties": json_map(&n.properties),
        }),
        Value::Relationship(r) => j!({
            "elementId": r.element_id,
            "type": r.rel_type,
            "startElementId": r.start_element_id,
            "endElementId": r.end_element_id,
            "properties": json_map(&r.properties),
        }),
        Value::Path(p) => j!({
            "nodes": p.nodes.iter().map(|n| json(&Value::Node(Box::new(n.clone())))).collect::<Vec<_>>(),
            "relationships": p
                .relationships
                .iter()
                .map(|r| json(&Value::Relationship(Box::new(r.clone()))))
                .collect::<Vec<_>>(),
        }),
        Value::Point(p) => {
            let mut o = serde_json::Map::new();
            o.insert("srid".into(), j!(p.srid));
            o.insert("x".into(), json(&Value::Float(p.x)));
            o.insert("y".into(), json(&Value::Float(p.y)));
            if let Some(z) = p.z {
                o.insert("z".into(), json(&Value::Float(z)));
            }
            serde_json::Value::Object(o)
        }
        Value::Date(_)
        | Value::Time(_)
        | Value::LocalTime(_)
        | Value::DateTime(_)
        | Value::LocalDateTime(_)
        | Value::Duration(_) => serde_json::Value::String(cypher(v)),
    }
}

/// One row as a JSON object with the keys in column order.
pub fn json_row(keys: &[String], row: &[Value]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in keys.iter().zip(row).enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&serde_json::Value::String(k.clone()).to_string());
        s.push(':');
        s.push_str(&json(v).to_string());
    }
    s.push('}');
    s
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

/// A CSV field: strings as they are, null empty, everything else Cypher-style; quoted when
/// it holds a comma, a quote, a line break or surrounding spaces.
pub fn csv_field(v: &Value) -> String {
    let text = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => cypher(other),
    };
    csv_quote(&text)
}

fn csv_quote(text: &str) -> String {
    let needs =
        text.contains([',', '"', '\n', '\r']) || text.starts_with(' ') || text.ends_with(' ');
    if needs {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Whole results
// ---------------------------------------------------------------------------------------------

/// Display width of a cell (characters; good enough for a terminal table).
fn width(s: &str) -> usize {
    s.chars().count()
}

/// Cell text for tables: Cypher-style, with line breaks shown as `\n` (already escaped in
/// strings) so rows stay on one line.
fn cell(v: &Value) -> String {
    cypher(v)
}

/// An aligned table:
/// ```text
/// +---+-------+
/// | n | name  |
/// +---+-------+
/// | 1 | "Ann" |
/// +---+-------+
/// ```
pub fn table(keys: &[String], rows: &[Vec<Value>]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(cell).collect()).collect();
    let mut widths: Vec<usize> = keys.iter().map(|k| width(k)).collect();
    for row in &cells {
        for (i, c) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(width(c));
            }
        }
    }
    let mut out = String::new();
    let rule = |out: &mut String| {
        out.push('+');
        for w in &widths {
            out.push_str(&"-".repeat(w + 2));
            out.push('+');
        }
        out.push('\n');
    };
    let line = |out: &mut String, items: &[String]| {
        out.push('|');
        for (i, w) in widths.iter().enumerate() {
            let text = items.get(i).map(String::as_str).unwrap_or("");
            out.push(' ');
            out.push_str(text);
            out.push_str(&" ".repeat(w - width(text) + 1));
            out.push('|');
        }
        out.push('\n');
    };
    rule(&mut out);
    line(&mut out, keys);
    rule(&mut out);
    for row in &cells {
        line(&mut out, row);
    }
    if !cells.is_empty() {
        rule(&mut out);
    }
    out
}

/// The whole result in `format` (nothing for a statement that returns no columns).
pub fn result(format: Format, r: &QueryResult) -> String {
    if r.keys.is_empty() {
        return String::new();
    }
    match format {
        Format::Table => table(&r.keys, &r.rows),
        Format::Csv => {
            let mut out = r
                .keys
                .iter()
                .map(|k| csv_quote(k))
                .collect::<Vec<_>>()
                .join(",");
            out.push('\n');
            for row in &r.rows {
                out.push_str(&row.iter().map(csv_field).collect::<Vec<_>>().join(","));
                out.push('\n');
            }
            out
        }
        Format::Json => {
            let mut out = String::new();
            for row in &r.rows {
                out.push_str(&json_row(&r.keys, row));
                out.push('\n');
            }
            out
        }
    }
}

/// `3 rows`, plus the update counters (`nodes-created: 2`), plus the time.
pub fn summary_line(r: &QueryResult, elapsed: std::time::Duration) -> String {
    let n = r.rows.len();
    let mut s = if r.keys.is_empty() && n == 0 {
        String::from("0 rows")
    } else if n == 1 {
        String::from("1 row")
    } else {
        format!("{n} rows")
    };
    let stats = r.stats();
    if !stats.is_empty() {
        let parts: Vec<String> = stats.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = write!(s, "; {}", parts.join(", "));
    }
    let ms = elapsed.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        let _ = write!(s, " ({ms:.0} ms)");
    } else {
        let _ = write!(s, " ({:.3} s)", ms / 1000.0);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use graphward_core::value::Map;

    fn props(pairs: &[(&str, Value)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn node(id: i64, label: &str, name: &str) -> Node {
        Node {
            id,
            element_id: format!("n{id}"),
            labels: vec![label.into()],
            properties: props(&[("name", Value::from(name))]),
        }
    }

    fn rel(id: i64, start: i64, end: i64) -> Relationship {
        Relationship {
            id,
            element_id: format!("r{id}"),
            start,
            end,
            start_element_id: format!("n{start}"),
            end_element_id: format!("n{end}"),
            rel_type: "KNOWS".into(),
            properties: Map::new(),
        }
    }

    #[test]
    fn scalars_are_cypher_literals() {
        assert_eq!(cypher(&Value::Null), "null");
        assert_eq!(cypher(&Value::Float(1.0)), "1.0");
        assert_eq!(cypher(&Value::Float(0.5)), "0.5");
        assert_eq!(cypher(&Value::Float(f64::NAN)), "NaN");
        assert_eq!(cypher(&Value::from("a\"b\n")), "\"a\\\"b\\n\"");
        assert_eq!(
            cypher(&Value::List(vec![Value::Int(1), Value::from("x")])),
            "[1, \"x\"]"
        );
        assert_eq!(
            cypher(&Value::Map(props(&[
                ("a b", Value::Int(1)),
                ("c", Value::Bool(true))
            ]))),
            "{`a b`: 1, c: true}"
        );
    }

    #[test]
    fn graph_values() {
        let a = node(1, "Person", "Ann");
        let b = node(2, "Person", "Bob");
        assert_eq!(
            cypher(&Value::Node(Box::new(a.clone()))),
            "(:Person {name: \"Ann\"})"
        );
        assert_eq!(
            cypher(&Value::Relationship(Box::new(rel(5, 1, 2)))),
            "[:KNOWS]"
        );
        let p = Path {
            nodes: vec![a.clone(), b.clone(), a.clone()],
            relationships: vec![rel(5, 1, 2), rel(6, 1, 2)],
        };
        assert_eq!(
            cypher(&Value::Path(p)),
            "(:Person {name: \"Ann\"})-[:KNOWS]->(:Person {name: \"Bob\"})<-[:KNOWS]-(:Person {name: \"Ann\"})"
        );
    }

    #[test]
    fn formats() {
        let r = QueryResult {
            keys: vec!["n".into(), "s".into()],
            rows: vec![
                vec![Value::Int(1), Value::from("a,b")],
                vec![Value::Int(22), Value::Null],
            ],
            summary: Map::new(),
        };
        assert_eq!(
            result(Format::Table, &r),
            "+----+-------+\n| n  | s     |\n+----+-------+\n| 1  | \"a,b\" |\n| 22 | null  |\n+----+-------+\n"
        );
        assert_eq!(result(Format::Csv, &r), "n,s\n1,\"a,b\"\n22,\n");
        assert_eq!(
            result(Format::Json, &r),
            "{\"n\":1,\"s\":\"a,b\"}\n{\"n\":22,\"s\":null}\n"
        );
    }
}
