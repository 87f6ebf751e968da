//! Values to JSON in the two formats of Neo4j's Query API v2 (plain JSON and typed JSON with
//! `{"$type": .., "_value": ..}`), and JSON parameters back to values.

use base64::Engine as _;
use graphward_core::engine::Params;
use graphward_core::temporal::Zone;
use graphward_core::value::{Map, Node, Path, Point, Relationship};
use graphward_core::{Error, Value};
use graphward_temporal::{self as temporal, Clock};
use serde_json::{json, Map as JMap, Value as J};

/// Which JSON format the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Plain,
    Typed,
}

/// The media type of typed JSON (any `application/vnd.neo4j.query*` selects it).
pub const TYPED_MEDIA_TYPE: &str = "application/vnd.neo4j.query";

impl Format {
    /// From an `Accept` (or `Content-Type`) header value.
    pub fn from_media(value: Option<&str>) -> Format {
        match value {
            Some(v) if v.to_ascii_lowercase().contains(TYPED_MEDIA_TYPE) => Format::Typed,
            _ => Format::Plain,
        }
    }

    pub fn encode(self, v: &Value) -> J {
        match self {
            Format::Plain => plain(v),
            Format::Typed => typed(v),
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn float_plain(f: f64) -> J {
    match serde_json::Number::from_f64(f) {
        Some(n) => J::Number(n),
        None => J::String(float_text(f)),
    }
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        format!("{f:?}")
    }
}

/// WKT with SRID, as Neo4j prints points: `SRID=4326;POINT (12.5 56.1)`.
pub fn point_text(p: &Point) -> String {
    match p.z {
        Some(z) => format!(
            "SRID={};POINT Z ({} {} {})",
            p.srid,
            float_text(p.x),
            float_text(p.y),
            float_text(z)
        ),
        None => format!(
            "SRID={};POINT ({} {})",
            p.srid,
            float_text(p.x),
            float_text(p.y)
        ),
    }
}

fn plain_map(m: &Map) -> J {
    J::Object(m.iter().map(|(k, v)| (k.clone(), plain(v))).collect())
}

fn plain_node(n: &Node) -> J {
    json!({"elementId": n.element_id, "labels": n.labels, "properties": plain_map(&n.properties)})
}

fn plain_rel(r: &Relationship) -> J {
    json!({
        "elementId": r.element_id,
        "startNodeElementId": r.start_element_id,
        "endNodeElementId": r.end_element_id,
        "type": r.rel_type,
        "properties": plain_map(&r.properties),
    })
}

fn path_items<T>(p: &Path, node: impl Fn(&Node) -> T, rel: impl Fn(&Relationship) -> T) -> Vec<T> {
    let mut out = Vec::with_capacity(p.nodes.len() + p.relationships.len());
    for (i, n) in p.nodes.iter().enumerate() {
        out.push(node(n));
        if let Some(r) = p.relationships.get(i) {
            out.push(rel(r));
        }
    }
    out
}

/// Plain JSON: native JSON where possible, strings for temporal and spatial values.
pub fn plain(v: &Value) -> J {
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => float_plain(*f),
        Value::String(s) => J::String(s.clone()),
        Value::Bytes(b) => J::String(b64(b)),
        Value::List(l) => J::Array(l.iter().map(plain).collect()),
        Value::Map(m) => plain_map(m),
        Value::Node(n) => plain_node(n),
        Value::Relationship(r) => plain_rel(r),
        Value::Path(p) => J::Array(path_items(p, plain_node, plain_rel)),
        Value::Date(d) => J::String(d.to_string()),
        Value::Time(t) => J::String(t.to_string()),
        Value::LocalTime(t) => J::String(t.to_string()),
        Value::DateTime(t) => J::String(t.to_string()),
        Value::LocalDateTime(t) => J::String(t.to_string()),
        Value::Duration(d) => J::String(d.to_string()),
        Value::Point(p) => J::String(point_text(p)),
    }
}

fn t(ty: &str, value: J) -> J {
    json!({"$type": ty, "_value": value})
}

fn typed_map(m: &Map) -> J {
    J::Object(m.iter().map(|(k, v)| (k.clone(), typed(v))).collect())
}

fn typed_node(n: &Node) -> J {
    t(
        "Node",
        json!({"_element_id": n.element_id, "_labels": n.labels, "_properties": typed_map(&n.properties)}),
    )
}

fn typed_rel(r: &Relationship) -> J {
    t(
        "Relationship",
        json!({
            "_element_id": r.element_id,
            "_start_node_element_id": r.start_element_id,
            "_end_node_element_id": r.end_element_id,
            "_type": r.rel_type,
            "_properties": typed_map(&r.properties),
        }),
    )
}

/// Typed JSON (`Accept: application/vnd.neo4j.query`).
pub fn typed(v: &Value) -> J {
    match v {
        Value::Null => t("Null", J::Null),
        Value::Bool(b) => t("Boolean", J::Bool(*b)),
        Value::Int(i) => t("Integer", J::String(i.to_string())),
        Value::Float(f) => t("Float", J::String(float_text(*f))),
        Value::String(s) => t("String", J::String(s.clone())),
        Value::Bytes(b) => t("Base64", J::String(b64(b))),
        Value::List(l) => t("List", J::Array(l.iter().map(typed).collect())),
        Value::Map(m) => t("Map", typed_map(m)),
        Value::Node(n) => typed_node(n),
        Value::Relationship(r) => typed_rel(r),
        Value::Path(p) => t("Path", J::Array(path_items(p, typed_node, typed_rel))),
        Value::Date(d) => t("Date", J::String(d.to_string())),
        Value::Time(x) => t("Time", J::String(x.to_string())),
        Value::LocalTime(x) => t("LocalTime", J::String(x.to_string())),
        Value::DateTime(x) => {
            let ty = match x.zone {
                Zone::Offset(_) => "OffsetDateTime",
                Zone::Named(_) => "ZonedDateTime",
            };
            t(ty, J::String(x.to_string()))
        }
        Value::LocalDateTime(x) => t("LocalDateTime", J::String(x.to_string())),
        Value::Duration(d) => t("Duration", J::String(d.to_string())),
        Value::Point(p) => t("Point", J::String(point_text(p))),
    }
}

/// Most nesting accepted in parameter JSON (serde_json already stops at 128).
const MAX_DEPTH: usize = 64;

/// A JSON parameter to a value. In typed mode, `{"$type": .., "_value": ..}` objects are
/// decoded; plain JSON is accepted in both modes.
pub fn param(j: &J, format: Format) -> Result<Value, Error> {
    param_at(j, format, 0)
}

fn param_at(j: &J, format: Format, depth: usize) -> Result<Value, Error> {
    if depth > MAX_DEPTH {
        return Err(Error::argument("parameters are nested too deeply"));
    }
    Ok(match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => number(n)?,
        J::String(s) => Value::String(s.clone()),
        J::Array(a) => Value::List(
            a.iter()
                .map(|x| param_at(x, format, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        J::Object(o) => {
            if format == Format::Typed {
                if let (Some(J::String(ty)), Some(v), 2) =
                    (o.get("$type"), o.get("_value"), o.len())
                {
                    return typed_param(ty, v, depth);
                }
            }
            Value::Map(object(o, format, depth)?)
        }
    })
}

fn object(o: &JMap<String, J>, format: Format, depth: usize) -> Result<Map, Error> {
    o.iter()
        .map(|(k, v)| Ok((k.clone(), param_at(v, format, depth + 1)?)))
        .collect()
}

fn number(n: &serde_json::Number) -> Result<Value, Error> {
    if let Some(i) = n.as_i64() {
        return Ok(Value::Int(i));
    }
    if n.is_u64() {
        return Err(Error::argument(format!(
            "integer parameter {n} is out of range (64-bit signed)"
        )));
    }
    n.as_f64()
        .map(Value::Float)
        .ok_or_else(|| Error::argument(format!("invalid number {n}")))
}

fn typed_param(ty: &str, v: &J, depth: usize) -> Result<Value, Error> {
    let text = || {
        v.as_str().ok_or_else(|| {
            Error::argument(format!("typed value of $type {ty} needs a string _value"))
        })
    };
    let temporal_fn = |name: &str| -> Result<Value, Error> {
        let s = text()?;
        match temporal::call(name, &[Value::String(s.to_string())], &Clock::system()) {
            Some(r) => r,
            None => Err(Error::argument(format!("unsupported $type {ty}"))),
        }
    };
    Ok(match ty {
        "Null" => Value::Null,
        "Boolean" => Value::Bool(
            v.as_bool()
                .ok_or_else(|| Error::argument("Boolean _value must be true or false"))?,
        ),
        "Integer" => {
            let i = match v {
                J::String(s) => s.trim().parse::<i64>().ok(),
                J::Number(n) => n.as_i64(),
                _ => None,
            };
            Value::Int(i.ok_or_else(|| Error::argument("Integer _value is not a 64-bit integer"))?)
        }
        "Float" => {
            let f = match v {
                J::String(s) => match s.trim() {
                    "NaN" => Some(f64::NAN),
                    "Infinity" => Some(f64::INFINITY),
                    "-Infinity" => Some(f64::NEG_INFINITY),
                    s => s.parse::<f64>().ok(),
                },
                J::Number(n) => n.as_f64(),
                _ => None,
            };
            Value::Float(f.ok_or_else(|| Error::argument("Float _value is not a number"))?)
        }
        "String" => Value::String(text()?.to_string()),
        "Base64" => Value::Bytes(
            base64::engine::general_purpose::STANDARD
                .decode(text()?)
                .map_err(|_| Error::argument("Base64 _value is not valid base64"))?,
        ),
        "List" => match v {
            J::Array(a) => Value::List(
                a.iter()
                    .map(|x| param_at(x, Format::Typed, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(Error::argument("List _value must be an array")),
        },
        "Map" => match v {
            J::Object(o) => Value::Map(object(o, Format::Typed, depth)?),
            _ => return Err(Error::argument("Map _value must be an object")),
        },
        "Date" => temporal_fn("date")?,
        "Time" => temporal_fn("time")?,
        "LocalTime" => temporal_fn("localtime")?,
        "OffsetDateTime" | "ZonedDateTime" => temporal_fn("datetime")?,
        "LocalDateTime" => temporal_fn("localdatetime")?,
        "Duration" => temporal_fn("duration")?,
        other => {
            return Err(Error::argument(format!(
                "unsupported parameter $type {:?}",
                other.chars().take(40).collect::<String>()
            )))
        }
    })
}

/// A JSON object of parameters.
pub fn params(j: Option<&J>, format: Format) -> Result<Params, Error> {
    match j {
        None | Some(J::Null) => Ok(Params::new()),
        Some(J::Object(o)) => o
            .iter()
            .map(|(k, v)| Ok((k.clone(), param(v, format)?)))
            .collect(),
        Some(_) => Err(Error::argument("`parameters` must be a JSON object")),
    }
}

/// A query-string value typed by simple rules: integer, float, boolean, else string.
pub fn query_string_value(s: &str) -> Value {
    if let Ok(i) = s.parse::<i64>() {
        return Value::Int(i);
    }
    if let Ok(f) = s.parse::<f64>() {
        if f.is_finite() && s.chars().any(|c| c.is_ascii_digit()) {
            return Value::Float(f);
        }
    }
    match s.to_ascii_lowercase().as_str() {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> Node {
        let mut props = Map::new();
        props.insert("name".into(), Value::from("Phil"));
        Node {
            id: 1,
            element_id: "4:x:1".into(),
            labels: vec!["Person".into()],
            properties: props,
        }
    }

    #[test]
    fn plain_and_typed_nodes() {
        let v = Value::Node(Box::new(node()));
        assert_eq!(
            plain(&v),
            json!({"elementId":"4:x:1","labels":["Person"],"properties":{"name":"Phil"}})
        );
        assert_eq!(
            typed(&v),
            json!({"$type":"Node","_value":{"_element_id":"4:x:1","_labels":["Person"],
                "_properties":{"name":{"$type":"String","_value":"Phil"}}}})
        );
        assert_eq!(
            typed(&Value::Int(5)),
            json!({"$type":"Integer","_value":"5"})
        );
        assert_eq!(plain(&Value::Float(f64::NAN)), json!("NaN"));
    }

    #[test]
    fn params_round_trip() {
        let p = json!({"a": 1, "b": 1.5, "c": [true, null], "d": {"$type":"Integer","_value":"7"}});
        let plain_params = params(Some(&p), Format::Plain).unwrap_or_default();
        assert_eq!(plain_params.get("a"), Some(&Value::Int(1)));
        assert!(matches!(plain_params.get("d"), Some(Value::Map(_))));
        let typed_params = params(Some(&p), Format::Typed).unwrap_or_default();
        assert_eq!(typed_params.get("d"), Some(&Value::Int(7)));
        assert!(params(Some(&json!([1])), Format::Plain).is_err());
        assert!(param(&json!(u64::MAX), Format::Plain).is_err());
        let bad = json!({"$type":"Integer","_value":"x"});
        assert!(param(&bad, Format::Typed).is_err());
        let d = json!({"$type":"Date","_value":"2024-01-02"});
        assert!(matches!(param(&d, Format::Typed), Ok(Value::Date(_))));
        let bad = json!({"$type":"Date","_value":"2024-99-02"});
        assert!(param(&bad, Format::Typed).is_err());
    }

    #[test]
    fn query_string_typing() {
        assert_eq!(query_string_value("42"), Value::Int(42));
        assert_eq!(query_string_value("4.5"), Value::Float(4.5));
        assert_eq!(query_string_value("TRUE"), Value::Bool(true));
        assert_eq!(query_string_value("nan"), Value::from("nan"));
        assert_eq!(query_string_value("inf"), Value::from("inf"));
        assert_eq!(query_string_value("abc"), Value::from("abc"));
    }
}
