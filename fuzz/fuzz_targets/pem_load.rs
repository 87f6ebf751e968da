//! PEM certificate and private-key parsing (PKCS#8, PKCS#1, SEC1, encrypted PKCS#8) on arbitrary
//! bytes: a clear error is fine, a panic is not.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.pem");
    let _ = graphward_tls::load::parse_certificates("fuzz certificate", path, data);
    let _ = graphward_tls::load::is_encrypted_key(data);
    let _ = graphward_tls::load::parse_private_key(path, data, None);
    let _ = graphward_tls::load::parse_private_key(path, data, Some(b"password"));
});
