//! The user/role/privilege command parser never panics on any statement.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(query) = std::str::from_utf8(data) {
        let _ = graphward_auth::commands::check_syntax(query);
    }
});
