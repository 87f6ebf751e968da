//! Negotiation over arbitrary proposals never picks an unsupported version (never 5.5).
#![no_main]

use graphward_bolt::handshake::{is_supported, manifest_choice, negotiate, Negotiation};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 20 {
        return;
    }
    let mut p = [0u8; 16];
    p.copy_from_slice(&data[..16]);
    if let Negotiation::Version(v) = negotiate(&p) {
        assert!(is_supported(v));
        assert!(!(v.major == 5 && v.minor == 5));
    }
    let mut c = [0u8; 4];
    c.copy_from_slice(&data[16..20]);
    if let Some(v) = manifest_choice(c) {
        assert!(is_supported(v));
    }
});
