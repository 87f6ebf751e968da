//! The server's token signing key file parser never panics, whatever the file holds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = graphward_auth::tokens::check_key_file(text);
    }
});
