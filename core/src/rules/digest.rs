//! Digests: `digest-invalid` (not `sha256:` followed by 64 lowercase hex digits), with a help text
//! that says what exactly is wrong. (`digest-duplicate`, a digest written twice in one `dmap`, is
//! a YAML mapping problem and comes from the manifest reader: the model keeps one entry.)

use crate::diagnostic::Diagnostic;
use crate::files::Files;
use crate::manifest::{Manifest, Spanned};
use crate::reference::is_valid_digest;

use super::{Code, at};

/// Every digest of every image.
pub(super) fn check(files: &Files, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    for entry in manifest.images.iter().flat_map(|image| &image.dmap) {
        check_digest(files, &entry.digest, out);
    }
}

fn check_digest(files: &Files, digest: &Spanned<String>, out: &mut Vec<Diagnostic>) {
    if is_valid_digest(&digest.value) {
        return;
    }
    let lower = digest.value.to_ascii_lowercase();
    let help = if lower != digest.value && is_valid_digest(&lower) {
        "write the hex digits in lowercase".to_owned()
    } else if !digest.value.starts_with("sha256:") {
        "digests are written `sha256:` followed by 64 lowercase hex digits".to_owned()
    } else {
        let hex = digest.value.len().saturating_sub(7);
        format!("a sha256 digest has 64 lowercase hex digits; this one has {hex} characters after `sha256:`")
    };
    out.push(
        Diagnostic::new(Code::DigestInvalid, at(files, digest), format!("invalid digest: {}", digest.value))
            .with_help(help),
    );
}
