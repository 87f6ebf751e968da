//! The one statement parser never panics on any statement, and every statement it accepts has
//! a requirement in the authorization table (`graphward_auth::policy::needs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(query) = std::str::from_utf8(data) {
        if let Ok(statement) = graphward_cypher::parser::parse(query, 64) {
            let _ = graphward_auth::policy::needs(&statement, Some("fuzz"));
        }
    }
});
