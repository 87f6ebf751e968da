//! Cypher parser (being written).
use crate::ast::Statement;
use graphward_core::{Error, Result};

/// Parse one statement. `max_depth` bounds expression/pattern nesting.
pub fn parse(query: &str, max_depth: usize) -> Result<Statement> {
    let _ = (query, max_depth);
    Err(Error::syntax("parser not implemented yet"))
}
