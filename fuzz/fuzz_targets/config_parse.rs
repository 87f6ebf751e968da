//! The server configuration on an arbitrary TOML file: every setting parsed and validated the
//! way `graphward serve --config` does it (no disk, no environment). An error is fine; a panic
//! is not, and an error message never repeats a secret setting's value.
#![no_main]

use std::path::PathBuf;

use graphward::cli::ServeArgs;
use graphward::config::resolve;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let no_env = |_: &str| None;
    if let Err(e) = resolve(
        &ServeArgs::default(),
        &no_env,
        Some((PathBuf::from("/fuzz/graphward.toml"), text)),
    ) {
        let _ = e.to_string();
    }
});
