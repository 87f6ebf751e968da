//! The `graphward` server binary's modules, as a library so that fuzz targets and tests can
//! reach them (the configuration parser above all); `src/main.rs` only dispatches.
//!
//! * [`cli`]: the command line (clap);
//! * [`config`]: settings from flags, environment, the TOML file and defaults;
//! * [`config_cmd`]: `graphward config get|set|apply|entry`;
//! * [`reload`]: re-applying the configuration at runtime (`config apply`, `RELOAD CONFIG`);
//! * [`serve`]: `graphward serve`, wiring engine, auth, TLS and the listeners;
//! * [`tls`]: the listeners' TLS managers and the TLS server commands;
//! * [`certs`]: `graphward certs generate|check`;
//! * [`storage_cmd`]: `graphward check|backup|restore`.

pub mod admin_client;
pub mod certs;
pub mod cli;
pub mod config;
pub mod config_cmd;
pub mod reload;
pub mod serve;
pub mod storage_cmd;
pub mod tls;
