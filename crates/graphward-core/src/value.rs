//! The Cypher value model.

use std::collections::BTreeMap;

use crate::temporal::{Date, DateTime, Duration, LocalDateTime, LocalTime, Time};

/// A property map / Cypher map. Keys are kept sorted (Cypher maps are unordered).
pub type Map = BTreeMap<String, Value>;

/// A node as returned to clients. `id` is the internal numeric id; `element_id` is the
/// string form sent to Bolt 5.x clients (`"<db>:<id>"` style is up to the engine, but it
/// must be stable for the life of the node).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: i64,
    pub element_id: String,
    pub labels: Vec<String>,
    pub properties: Map,
}

/// A relationship as returned to clients; `start`/`end` follow its stored direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    pub id: i64,
    pub element_id: String,
    pub start: i64,
    pub end: i64,
    pub start_element_id: String,
    pub end_element_id: String,
    pub rel_type: String,
    pub properties: Map,
}

/// A path: `nodes.len() == relationships.len() + 1`. Relationship `i` connects `nodes[i]`
/// and `nodes[i+1]`, in either stored direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub nodes: Vec<Node>,
    pub relationships: Vec<Relationship>,
}

/// A spatial point. `srid` 7203 = cartesian 2D, 9157 = cartesian 3D, 4326 = WGS-84 2D,
/// 4979 = WGS-84 3D.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub srid: i32,
    pub x: f64,
    pub y: f64,
    pub z: Option<f64>,
}

/// Every value a Cypher expression can produce, a property can hold, or a client can send.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Map(Map),
    Node(Box<Node>),
    Relationship(Box<Relationship>),
    Path(Path),
    Date(Date),
    Time(Time),
    LocalTime(LocalTime),
    DateTime(DateTime),
    LocalDateTime(LocalDateTime),
    Duration(Duration),
    Point(Point),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The Cypher type name, as used in error messages (`INTEGER`, `STRING`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Bool(_) => "BOOLEAN",
            Value::Int(_) => "INTEGER",
            Value::Float(_) => "FLOAT",
            Value::String(_) => "STRING",
            Value::Bytes(_) => "BYTES",
            Value::List(_) => "LIST",
            Value::Map(_) => "MAP",
            Value::Node(_) => "NODE",
            Value::Relationship(_) => "RELATIONSHIP",
            Value::Path(_) => "PATH",
            Value::Date(_) => "DATE",
            Value::Time(_) => "ZONED TIME",
            Value::LocalTime(_) => "LOCAL TIME",
            Value::DateTime(_) => "ZONED DATETIME",
            Value::LocalDateTime(_) => "LOCAL DATETIME",
            Value::Duration(_) => "DURATION",
            Value::Point(_) => "POINT",
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::List(v)
    }
}
