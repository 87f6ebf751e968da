//! graphward-auth: users, roles, per-graph privileges, password (argon2id) and JWT
//! authentication.
//!
//! * [`store`]: users, roles and privileges in `DATA_DIR/system/auth.redb`.
//! * [`password`]: argon2id hashing, the hash gate, failure rate limiting.
//! * [`service`]: [`AuthService`], the core `Authenticator` every protocol uses.
//! * [`jwt`]: bearer token verification and its refusal categories.
//! * [`commands`]: `CREATE USER`, `GRANT ...` and friends as server commands.
//! * [`tokens`]: server-issued tokens, user secrets, the block list, revoke-all.
//! * [`policy`]: the authorization table: statement kind -> privilege needed.
//! * [`front_door`]: [`front_door::FrontDoor`], the one path of every statement: parse once,
//!   authorize the typed statement, route it to the engine or a command handler.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod backup;
pub mod commands;
pub mod fetch;
pub mod front_door;
pub mod jwt;
pub mod password;
pub mod policy;
pub mod service;
pub mod store;
pub mod tokens;

pub use service::{AuthOptions, AuthService, FirstStart};
