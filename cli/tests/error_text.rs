//! Error texts say each thing once: the binary prints an error's chain through
//! `render::error_chain`, which drops a cause the message already quotes, and a `RegistryError`
//! without a repository (an `oci:` layout's catalog, a read of the layout itself) shows none
//! instead of an empty name.

use std::path::Path;
use std::process::{Command, Output};

use cip::{Layout, Operation, Store};

fn cip(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cip")).args(args).current_dir(dir).output().expect("run cip")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Proves that a missing file is named and its cause appears once (it used to read
/// "(os error 2): No such file or directory (os error 2)").
#[test]
fn a_missing_file_is_named_and_its_cause_said_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("x.yaml"),
        "registries:\n- name: gcr.io/a\n  src: true\n- name: gcr.io/b\nimages: []\n",
    )
    .expect("write");
    for (args, path) in [
        (&["lint", "missing.yaml"][..], "missing.yaml"),
        (&["plan", "--inventory", "missing.json", "x.yaml"][..], "missing.json"),
    ] {
        let out = cip(dir.path(), args);
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {text}");
        assert!(text.contains(path), "{args:?} names the path: {text}");
        assert_eq!(text.matches("No such file or directory").count(), 1, "{args:?}: {text}");
        assert_eq!(text.matches("os error 2").count(), 1, "{args:?}: {text}");
        assert_eq!(text.lines().count(), 1, "one line: {text}");
    }
}

/// Proves that an `oci:` registry error without a repository reads
/// "registry oci:DIR: <operation> failed: <cause>" (it used to read "checking manifest : ...").
#[test]
fn an_oci_error_without_a_repository_shows_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-layout");
    let out = cip(dir.path(), &["snapshot", &format!("oci:{}", missing.display())]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    let expected = format!(
        "registry oci:{}: list repositories failed: {} not found",
        missing.display(),
        missing.join("index.json").display()
    );
    assert!(text.contains(&expected), "{text}");
    assert!(!text.contains(", repository") && !text.contains(" :"), "no empty repository: {text}");
}

/// The same through the library: a corrupt layout read with no repository.
#[tokio::test]
async fn a_layout_error_names_the_layout_and_the_operation() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("index.json"), "{not json").expect("write");
    let name = format!("oci:{}", dir.path().display());
    let layout = Layout::open(&name).expect("layout");
    let error = layout.head_manifest("", "v1").await.expect_err("corrupt index.json");
    assert_eq!(error.repository, None);
    assert_eq!(error.operation, Operation::HeadManifest);
    let text = error.to_string();
    let prefix = format!(
        "registry {name}: check manifest failed: invalid content: {}/index.json: ",
        dir.path().display()
    );
    assert!(text.starts_with(&prefix), "{text}");
}

/// `--format json` never prints nothing: a PATH or inventory that cannot be read comes out as the
/// command's JSON shape (plan, promote, audit) with one `read-error` finding naming it (exit 2), as
/// `cip lint` does.
#[test]
fn json_keeps_its_shape_when_a_path_cannot_be_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        vec!["plan", "--format", "json", "--inventory", "inv.json", "missing.yaml"],
        vec!["plan", "--format", "json", "--inventory", "missing-inventory.json", "m.yaml"],
        vec!["promote", "--format", "json", "missing.yaml"],
        vec!["audit", "--format", "json", "--inventory", "inv.json", "missing.yaml"],
    ] {
        std::fs::write(dir.path().join("m.yaml"), "registries: []\n").expect("write");
        let out = cip(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
        // `cip promote` wraps the plan (`{"plan": ...}`); `cip audit` has no actions.
        let plan = if args[0] == "promote" { &json["plan"] } else { &json };
        if args[0] != "audit" {
            assert_eq!(plan["actions"], serde_json::json!([]));
        }
        let finding = &plan["diagnostics"][0];
        assert_eq!(finding["code"], "read-error", "{plan:#}");
        let missing = args.iter().find(|a| a.starts_with("missing")).expect("a missing path");
        assert_eq!(finding["file"], *missing, "{plan:#}");
    }
}
