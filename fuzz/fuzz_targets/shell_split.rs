//! The console client's statement splitter on arbitrary text, whole and line by line: no
//! panic (slicing at a non-boundary included), and both ways give the same items.
#![no_main]

use graphward_shell::split::{split_all, Splitter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let whole = split_all(text);
    let mut s = Splitter::new();
    let mut items = Vec::new();
    for line in text.lines() {
        items.extend(s.push_line(line));
        let _ = s.is_pending();
    }
    items.extend(s.finish());
    assert_eq!(whole, items);
});
