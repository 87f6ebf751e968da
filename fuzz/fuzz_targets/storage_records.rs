//! The decoders of stored bytes (records, relationship blocks, adjacency and label chunks,
//! schema records, property values) never panic on a damaged file's bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    graphward_storage::codec::decode_stored_bytes(data);
});
