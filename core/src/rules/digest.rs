//! Digests: `digest-invalid` (not `sha256:` followed by 64 lowercase hex digits), with a help text
//! that says what exactly is wrong. (`digest-duplicate`, a digest written twice in one `dmap`, is
//! a YAML mapping problem and comes from the manifest reader: the model keeps one entry.)

use crate::diagnostic::Diagnostic;
use crate::files::Files;
use crate::fix::{self, Applicability};
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
    let prefixed = format!("sha256:{lower}");
    // Unsafe fixes: the digest was blocked, the repaired one is promoted.
    let (help, fix) = if lower != digest.value && is_valid_digest(&lower) {
        let fix = fix::replace_value(
            files,
            digest,
            &lower,
            "write the digest in lowercase".into(),
            Applicability::Unsafe,
        );
        ("write the hex digits in lowercase".to_owned(), fix)
    } else if !digest.value.starts_with("sha256:") {
        let fix = is_valid_digest(&prefixed)
            .then(|| {
                fix::replace_value(
                    files,
                    digest,
                    &prefixed,
                    "add the `sha256:` prefix".into(),
                    Applicability::Unsafe,
                )
            })
            .flatten();
        ("digests are written `sha256:` followed by 64 lowercase hex digits".to_owned(), fix)
    } else {
        let hex = digest.value.len().saturating_sub(7);
        (
            format!(
                "a sha256 digest has 64 lowercase hex digits; this one has {hex} characters after `sha256:`"
            ),
            None,
        )
    };
    let mut d =
        Diagnostic::new(Code::DigestInvalid, at(files, digest), format!("invalid digest: {}", digest.value))
            .with_help(help);
    d.fixes.extend(fix);
    out.push(d);
}
