//! The Cypher parser and semantic checker on arbitrary text: an error is fine, a panic or a
//! stack overflow is not (nesting is bounded by the depth limit).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(stmt) = graphward_cypher::parser::parse(text, 64) {
        let _ = graphward_cypher::semantic::check_with_source(&stmt, text);
    }
});
