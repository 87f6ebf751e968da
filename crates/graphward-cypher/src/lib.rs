//! graphward-cypher: the Cypher language and the engine.
//!
//! * [`ast`]: the syntax tree (shared contract).
//! * [`parser`]: text -> [`ast::Statement`], with positioned syntax errors and a nesting limit.
//! * [`semantic`]: variable binding, scoping and type checks before execution.
//! * [`runtime`]: [`Engine`] (the `graphward_core::engine::QueryEngine` implementation:
//!   databases, transactions, limits, procedures) and the executor: pattern matching with
//!   index seeks, projection and aggregation, updates, over
//!   `graphward_storage::{GraphRead, GraphWrite}`.

pub mod ast;
pub mod parser;
pub mod runtime;
pub mod semantic;

pub use runtime::Engine;
