//! Fuzzes digest, tag, image-name and registry-name parsing: no panics, and the grammar
//! agrees with itself (a valid image name is a valid registry path).
#![no_main]

use cip_core::reference::{is_valid_digest, is_valid_image_name, is_valid_tag, registry_name_problem};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = is_valid_digest(text);
    let _ = is_valid_tag(text);
    if is_valid_image_name(text) {
        assert_eq!(registry_name_problem(&format!("example.com/{text}")), None);
    }
    let _ = registry_name_problem(text);
});
