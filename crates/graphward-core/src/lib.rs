//! graphward-core: the types every other crate shares.
//!
//! * [`value`]: the Cypher value model (scalars, lists, maps, graph entities, temporal, spatial).
//! * [`temporal`]: the temporal value types and their calendar arithmetic.
//! * [`error`]: errors with Neo4j-style status codes.
//! * [`memory`]: per-query and server-wide memory accounting.
//! * [`engine`]: the narrow trait through which Bolt and HTTP reach the graph engine.
//! * [`commands`]: the typed server commands (TLS reload, users, ...) and their handler trait.
//!
//! This crate knows nothing of storage, Cypher syntax or the network.

pub mod auth;
pub mod commands;
pub mod engine;
pub mod error;
pub mod memory;
pub mod preauth;
pub mod temporal;
pub mod value;

pub use error::{Error, ErrorCode, Result};
pub use value::{Node, Path, Point, Relationship, Value};
