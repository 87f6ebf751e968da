//! graphward-auth: users, roles, per-graph privileges, password (argon2id) and JWT
//! authentication.
//!
//! * [`store`]: users, roles and privileges in `DATA_DIR/system/auth.redb`.
//! * [`password`]: argon2id hashing, the hash gate, failure rate limiting.
//! * [`service`]: [`AuthService`], the core `Authenticator` every protocol uses.
//! * [`jwt`]: bearer token verification and its refusal categories.
//! * [`commands`]: `CREATE USER`, `GRANT ...` and friends as server commands.
//! * [`tokens`]: server-issued tokens, user secrets, the block list, revoke-all.
//! * [`guard`]: a `QueryEngine` wrapper that enforces per-graph privileges.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod backup;
pub mod commands;
pub mod fetch;
pub mod guard;
pub mod jwt;
pub mod password;
pub mod service;
pub mod store;
pub mod tokens;

pub use service::{AuthOptions, AuthService, FirstStart};
