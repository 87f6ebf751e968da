//! The JWT pre-verification parser (size cap, three parts, base64url, JSON, `crit`, `alg`) never
//! panics, and a refusal never carries the whole token.
#![no_main]

use graphward_auth::jwt::parse_unverified;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(refusal) = parse_unverified(token, 16 * 1024) {
        let message = refusal.message(token);
        if token.len() > 12 {
            assert!(!message.contains(token));
        }
    }
});
