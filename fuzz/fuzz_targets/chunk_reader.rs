//! The chunk reader never panics, never reports a message larger than the limit, and never
//! consumes more than it was given.
#![no_main]

use graphward_bolt::chunk::{parse_message, Parsed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limit = 4096;
    let mut rest = data;
    loop {
        match parse_message(rest, limit) {
            Ok(Parsed::Message { consumed, payload }) => {
                assert!(payload.len() <= limit);
                assert!(consumed <= rest.len() && consumed >= 2);
                rest = &rest[consumed..];
            }
            Ok(Parsed::Noop { consumed }) => {
                assert!(consumed <= rest.len() && consumed >= 2);
                rest = &rest[consumed..];
            }
            Ok(Parsed::Incomplete) | Err(_) => break,
        }
    }
});
