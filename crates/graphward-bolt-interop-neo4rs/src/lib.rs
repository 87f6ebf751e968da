//! Interop tests of graphward's Bolt server with the `neo4rs` client (Bolt 4.1, 3-field nodes,
//! legacy DateTime). The tests live in `tests/` and need `--features neo4rs`.
