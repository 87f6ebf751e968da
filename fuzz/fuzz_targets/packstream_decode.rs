//! Decoding arbitrary bytes as PackStream never panics, and whatever decodes re-encodes to
//! something that decodes to the same value.
#![no_main]

use graphward_bolt::packstream::{decode, encode, Flavor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let flavor = Flavor {
        element_ids: selector & 1 != 0,
        utc: selector & 2 != 0,
    };
    if let Ok(v) = decode(bytes, flavor) {
        if let Ok(again) = encode(&v, flavor) {
            let back = decode(&again, flavor);
            // NaN floats compare unequal; compare the encodings instead.
            if let Ok(back) = back {
                assert_eq!(encode(&back, flavor).ok(), Some(again));
            }
        }
    }
});
