//! Fuzzes the `Retry-After` parser (seconds and HTTP-date forms): no panic or overflow.
#![no_main]

use std::time::{Duration, SystemTime};

use cip::fuzzing::parse_retry_after;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else { return };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let _ = parse_retry_after(value, now);
});
