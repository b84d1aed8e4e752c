//! Fuzzes the `WWW-Authenticate` parser: no panic on any header value, and a Bearer
//! challenge always carries the realm it was given.
#![no_main]

use cip::fuzzing::{Challenge, parse_challenge as parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else { return };
    if let Some(Challenge::Bearer { realm, .. }) = parse(header) {
        assert!(header.contains(realm.as_str()) || realm.is_empty() || header.contains('\\'));
    }
});
