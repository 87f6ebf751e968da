//! The Engine (being written).
pub struct Engine;
