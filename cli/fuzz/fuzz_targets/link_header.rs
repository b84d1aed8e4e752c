//! Fuzzes the `Link` pagination parser: no panic, and a next link is text of the header.
#![no_main]

use cip::fuzzing::next_link;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else { return };
    if let Some(next) = next_link(header) {
        assert!(header.contains(next.as_str()));
    }
});
