//! Thin-layout rules that depend on folders holding no manifest file, which the file-only vectors
//! cannot express (git keeps no empty folders): the CLI lists such folders in `ThinDir::dirs`.

use cip_core::{Input, SourceFile, ThinDir};

const MANIFEST: &str = "registries:\n- name: gcr.io/staging\n  src: true\n- name: gcr.io/prod\n";

fn lint(files: &[(&str, &str)], root: &str, dirs: &[&str]) -> Vec<(String, String)> {
    let files = files.iter().map(|(p, t)| SourceFile::new(*p, *t)).collect();
    let thin = ThinDir { root: root.into(), dirs: dirs.iter().map(|d| d.to_string()).collect() };
    let report = cip_core::lint(Input { files, thin_dirs: Some(vec![thin]) });
    report.diagnostics.into_iter().map(|d| (d.code.to_string(), d.location.file)).collect()
}

#[test]
fn an_empty_manifests_folder_means_no_manifests() {
    let found = lint(&[("set/images/a/images.yaml", "[]\n")], "set/", &["images", "images/a", "manifests"]);
    assert!(found.contains(&("thin-no-manifests".into(), "set".into())), "{found:?}");
    assert!(!found.iter().any(|(code, _)| code == "thin-manifests-dir-missing"), "{found:?}");
}

#[test]
fn a_manifests_folder_without_its_manifest_is_a_warning() {
    let files = [("d/manifests/a/promoter-manifest.yaml", MANIFEST), ("d/images/a/images.yaml", "[]\n")];
    let dirs = ["images", "images/a", "images/b", "manifests", "manifests/a", "manifests/b"];
    let found = lint(&files, "d", &dirs);
    assert_eq!(found, [("thin-manifest-missing".to_owned(), "d/manifests/b".to_owned())]);
}

#[test]
fn the_current_directory_as_root() {
    let files = [("manifests/a/promoter-manifest.yaml", MANIFEST), ("images/a/images.yaml", "[]\n")];
    assert_eq!(lint(&files, ".", &["images", "images/a", "manifests", "manifests/a"]), []);
    assert_eq!(lint(&files, "./", &["images", "images/a", "manifests", "manifests/a"]), []);
    let found = lint(&files[..1], ".", &["manifests", "manifests/a"]);
    assert!(found.contains(&("thin-images-dir-missing".into(), "images".into())), "{found:?}");
}
