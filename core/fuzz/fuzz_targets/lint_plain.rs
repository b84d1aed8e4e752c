//! Fuzzes the plain-manifest path: YAML tree, manifest reader and every rule.
#![no_main]

use cip_core::{Input, SourceFile};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let input = Input { files: vec![SourceFile::new("manifest.yaml", text)], thin_dirs: Some(Vec::new()) };
    let report = cip_core::lint(input.clone());
    common::check_spans(&input, &report);
});
