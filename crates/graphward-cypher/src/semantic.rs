//! Semantic checks (being written).
use crate::ast::Statement;
use graphward_core::Result;

/// Check variable binding, scoping, aggregation placement and static types.
pub fn check(stmt: &Statement) -> Result<()> {
    let _ = stmt;
    Ok(())
}
