//! Planner and executor (being written).
