//! Fuzzes the thin layout: the input is split into a promoter-manifest.yaml and an images.yaml
//! (at the first NUL byte), plus a third plain manifest, all validated together.
#![no_main]

use cip_core::{Input, SourceFile};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(3, '\0');
    let manifest = parts.next().unwrap_or_default();
    let images = parts.next().unwrap_or_default();
    let plain = parts.next().unwrap_or_default();
    let input = Input {
        files: vec![
            SourceFile::new("set/manifests/a/promoter-manifest.yaml", manifest),
            SourceFile::new("set/images/a/images.yaml", images),
            SourceFile::new("plain.yaml", plain),
        ],
        thin_dirs: None,
    };
    let report = cip_core::lint(input.clone());
    common::check_spans(&input, &report);
});
