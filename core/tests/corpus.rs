//! The real Kubernetes production manifests (`../shared/corpus/k8s-io/`, thin layout, next to the
//! repository) must lint with no errors. Skipped, with a note, when the folder is not there.

use std::fs;
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
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipped: {} not found", dir.display());
        }
        return;
    }
    let mut files = Vec::new();
    read_thin_files(&dir, "k8s-io", &mut files);
    let report = cip_core::lint(Input { files, thin_dirs: None });
    let errors: Vec<_> = report.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
    assert!(errors.is_empty(), "the Kubernetes corpus must lint clean, got: {errors:#?}");
    assert!(report.summary.manifests > 0 && report.summary.digests > 0, "{:?}", report.summary);
}
