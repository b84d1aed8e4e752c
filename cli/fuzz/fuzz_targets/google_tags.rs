//! Fuzzes the reader of Google's `tags/list` extension body: any bytes give a listing or an
//! error, never a panic.
#![no_main]

use cip::fuzzing::TagsList;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = TagsList::parse(data);
});
