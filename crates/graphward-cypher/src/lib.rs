//! graphward-cypher: the Cypher language and the engine.
//!
//! * [`ast`]: the syntax tree (shared contract).
//! * [`parser`]: text -> [`ast::Statement`], with positioned syntax errors and a nesting limit.
//! * [`semantic`]: variable binding, scoping and type checks before planning.
//! * [`exec`]: planner and executor over `graphward_storage::{GraphRead, GraphWrite}`.
//! * [`engine`]: [`engine::Engine`], the `graphward_core::engine::QueryEngine` implementation
//!   that protocol crates use: databases, transactions, limits, procedures.

pub mod ast;
pub mod engine;
pub mod exec;
pub mod parser;
pub mod runtime;
pub mod semantic;

pub use runtime::Engine;
