//! What the benchmark binaries share: a small Bolt client ([`bolt`]) and the process figures
//! read from `/proc` ([`procfs`]).

pub mod bolt;
pub mod procfs;
