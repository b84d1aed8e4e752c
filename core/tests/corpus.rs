//! The real Kubernetes production manifests (`../shared/corpus/k8s-io/`, thin layout, next to the
//! repository) must lint with no errors. A missing folder fails the test, unless `CIP_SKIP_CORPUS=1`
//! asks to skip it (then it says so on stderr).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use cip_core::{Input, Severity, SourceFile};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/k8s-io")
}

/// Every `promoter-manifest.yaml` and `images.yaml` under `dir`, with paths relative to its parent.
fn read_thin_files(dir: &Path, rel: &str, out: &mut Vec<SourceFile>) {
    let mut entries: Vec<_> =
        fs::read_dir(dir).expect("read corpus dir").map(|e| e.expect("entry")).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().into_string().expect("UTF-8 name");
        let child = format!("{rel}/{name}");
        if entry.path().is_dir() {
            read_thin_files(&entry.path(), &child, out);
        } else if name == "promoter-manifest.yaml" || name == "images.yaml" {
            out.push(SourceFile::new(child, fs::read_to_string(entry.path()).expect("read corpus file")));
        }
    }
}

#[test]
fn kubernetes_corpus_lints_without_errors() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        assert!(
            std::env::var_os("CIP_SKIP_CORPUS").is_some_and(|v| v == "1"),
            "the Kubernetes corpus is missing: {} not found (it sits next to the repository, \
             as in CI); set CIP_SKIP_CORPUS=1 to skip this test",
            dir.display()
        );
        // Straight to stderr, past the test harness's capture, so the skip is seen.
        let _ = writeln!(std::io::stderr(), "skipped (CIP_SKIP_CORPUS=1): {} not found", dir.display());
        return;
    }
    let mut files = Vec::new();
    read_thin_files(&dir, "k8s-io", &mut files);
    let report = cip_core::lint(Input { files, thin_dirs: None });
    let errors: Vec<_> = report.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
    assert!(errors.is_empty(), "the Kubernetes corpus must lint clean, got: {errors:#?}");
    assert!(report.summary.manifests > 0 && report.summary.digests > 0, "{:?}", report.summary);
}
