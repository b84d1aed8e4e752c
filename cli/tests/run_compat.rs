//! `cip run` and the Go promoter's command lines (issue 12): every flag of the Go promoter is
//! mapped, accepted when it means "off" or what cip does anyway, or refused with a reason; the
//! original `cip -verbosity=3 -manifest=...` works unchanged; thin directories read what Go reads
//! and say what a non-file `images.yaml` is; `cip lint --format json` never prints nothing.
//! Promotions run between OCI layouts (no server).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cip_testkit::copy_dir;

const HELLO: &str = cip_testkit::STAGING_HELLO;

/// A temporary directory with a copy of `examples/staging` and `promote.yaml` promoting one of
/// its images into `prod`.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let staging = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/staging");
        copy_dir(&staging, &dir.path().join("staging"));
        std::fs::write(dir.path().join("promote.yaml"), manifest(dir.path(), true)).expect("write");
        Fixture { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn prod(&self) -> String {
        format!("oci:{}/prod", self.path().display())
    }

    /// Runs cip in the fixture directory.
    fn cip(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cip")).args(args).current_dir(self.path()).output().expect("run cip")
    }

    /// A thin directory `thin/` with one pair `a` (the manifest and images halves of
    /// `promote.yaml`).
    fn thin(&self) -> PathBuf {
        let thin = self.path().join("thin");
        std::fs::create_dir_all(thin.join("manifests/a")).expect("mkdir");
        std::fs::create_dir_all(thin.join("images/a")).expect("mkdir");
        std::fs::write(thin.join("manifests/a/promoter-manifest.yaml"), manifest(self.path(), false))
            .expect("write");
        std::fs::write(thin.join("images/a/images.yaml"), images()).expect("write");
        thin
    }
}

fn images() -> String {
    format!("- name: hello\n  dmap:\n    \"{HELLO}\": [\"1.0\"]\n")
}

fn manifest(root: &Path, with_images: bool) -> String {
    let root = root.display();
    let mut yaml = format!("registries:\n- name: oci:{root}/staging\n  src: true\n- name: oci:{root}/prod\n");
    if with_images {
        yaml.push_str("images:\n");
        yaml.push_str(&images());
    }
    yaml
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[track_caller]
fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "stdout:\n{}\nstderr:\n{}", stdout(out), stderr(out));
}

// 1. --minimal with --from-manifests is refused, saying why.
#[test]
fn minimal_snapshot_of_manifests_is_refused() {
    let f = Fixture::new();
    let prod = f.prod();
    for args in [
        vec!["snapshot", "--from-manifests", &prod, "--minimal", "promote.yaml"],
        vec!["run", "--manifest-based-snapshot-of", &prod, "--manifest=promote.yaml", "--minimal-snapshot"],
    ] {
        let out = f.cip(&args);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains("do not say which digests are index children"), "{}", stderr(&out));
        assert!(stdout(&out).is_empty());
    }
    // Without --minimal it works.
    let out = f.cip(&["snapshot", "--from-manifests", &prod, "promote.yaml"]);
    assert_exit(&out, 0);
}

// 2. --output is case-insensitive, as Go lowercases it; -output-format is its old spelling.
#[test]
fn output_values_in_any_case() {
    let f = Fixture::new();
    let based = format!("--manifest-based-snapshot-of={}", f.prod());
    for (output, expect) in [
        ("--output=CSV", format!("hello@{HELLO},hello:1.0")),
        ("--output=Yaml", "dmap:".to_owned()),
        ("-output-format=YAML", "dmap:".to_owned()),
        ("-output-format=csv", format!("hello@{HELLO}")),
    ] {
        let out = f.cip(&["run", &based, "--manifest=promote.yaml", output]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains(&expect), "{output}: {}", stdout(&out));
    }
    let out = f.cip(&["run", &based, "--manifest=promote.yaml", "--output=xml"]);
    assert_exit(&out, 2);
}

// 3. --manifest wins over --thin-manifest-dir, with a warning.
#[test]
fn manifest_wins_over_thin_dir_with_a_warning() {
    let f = Fixture::new();
    // The thin directory does not exist: reading it would fail.
    let out = f.cip(&["run", "--manifest=promote.yaml", "--thin-manifest-dir=missing", "--parse-only"]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("warning: both --manifest and --thin-manifest-dir"), "{err}");
    assert!(err.contains("missing is not read"), "{err}");
    // Only the thin directory: it is read.
    let out = f.cip(&["run", "--thin-manifest-dir=missing", "--parse-only"]);
    assert_exit(&out, 2);
}

// 4. Off-values of refused flags, --dry-run, --strict.
#[test]
fn off_values_are_accepted() {
    let f = Fixture::new();
    for off in [
        "--vuln-severity-threshold=-1",
        "-vuln-severity-threshold=-3",
        "--use-service-account=false",
        "--sign=false",
        "-sign=0",
        "--json-log-summary=false",
        "--audit=false",
        "--key-files=",
        "--snapshot-service-account=",
        "--certificate-identity-regexp=",
        "--dry-run",
        "--dry-run=true",
        "-dry-run=T",
        "--strict",
        "--max-image-size=2048",
        // Mapped: Go's worker count becomes `--jobs` (a promotion's; lint has none).
        "--threads=10",
    ] {
        let out = f.cip(&["run", "--manifest=promote.yaml", "--parse-only", off]);
        assert_exit(&out, 0);
    }
    // Space-separated off value.
    let out = f.cip(&["run", "--manifest=promote.yaml", "--parse-only", "--vuln-severity-threshold", "-1"]);
    assert_exit(&out, 0);
    for (on, why) in [
        ("--vuln-severity-threshold=0", "vulnerabilities"),
        ("--use-service-account", "service-account"),
        ("--use-service-account=true", "service-account"),
        ("--sign", "sign"),
        ("--key-files=a.json", "credentials"),
        ("-manifest-dir=.", "removed from the Go promoter"),
    ] {
        let out = f.cip(&["run", "--manifest=promote.yaml", "--parse-only", on]);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(why), "{on}: {}", stderr(&out));
    }
    // --dry-run=false asks for a real promotion: only with --confirm.
    let out = f.cip(&["run", "--manifest=promote.yaml", "--dry-run=false"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("--confirm"), "{}", stderr(&out));
    let out = f.cip(&["run", "--manifest=promote.yaml", "--dry-run=true", "--confirm"]);
    assert_exit(&out, 2);
    // --strict maps onto cip promote --strict (a dry run between layouts).
    let out = f.cip(&["run", "--manifest=promote.yaml", "--strict"]);
    assert_exit(&out, 0);
    assert!(!f.path().join("prod").exists(), "dry run wrote nothing");
}

#[test]
fn help_lists_every_go_flag() {
    let f = Fixture::new();
    let out = f.cip(&["run", "--help"]);
    assert_exit(&out, 0);
    let help = stdout(&out);
    for flag in [
        "--confirm",
        "--manifest ",
        "--thin-manifest-dir",
        "--use-prow-manifest-diff",
        "--manifest-diff-since",
        "--parse-only",
        "--snapshot ",
        "--snapshot-tag",
        "--minimal-snapshot",
        "--output",
        "-output-format",
        "--manifest-based-snapshot-of",
        "--max-image-size",
        "--signer-account",
        "--certificate-identity",
        "--certificate-oidc-issuer",
        "--certificate-identity-regexp",
        "--certificate-oidc-issuer-regexp",
        "--sign",
        "--max-signature-ops",
        "--max-signature-copies",
        "--vuln-severity-threshold",
        "--threads",
        "--json-log-summary",
        "--use-service-account",
        "--key-files",
        "--snapshot-service-account",
        "--dry-run",
        "--audit",
        "--log-level",
        "--strict",
        "-verbosity",
        "-v N",
        "-manifest-dir",
    ] {
        assert!(help.contains(flag), "{flag} missing from cip run --help:\n{help}");
    }
}

// 4. The original promoter's documented command line, unchanged.
#[test]
fn original_command_line_works() {
    let f = Fixture::new();
    for args in [
        &["-verbosity=3", "-manifest=promote.yaml"][..],
        &["-manifest=promote.yaml", "-verbosity=3"],
        &["-v=2", "-manifest", "promote.yaml"],
        &["--manifest=promote.yaml", "-v", "1"],
        &["run", "-verbosity=0", "-manifest=promote.yaml"],
    ] {
        let out = f.cip(args);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("hello"), "{args:?}: {}", stdout(&out));
    }
    assert!(!f.path().join("prod").exists(), "dry runs wrote nothing");
    let out = f.cip(&["-verbosity=high", "-manifest=promote.yaml"]);
    assert_exit(&out, 2);
    // cip's own flags still work.
    assert_exit(&f.cip(&["--version"]), 0);
    assert_exit(&f.cip(&["--bogus"]), 2);
}

#[test]
fn confirm_says_images_are_promoted_unsigned() {
    let f = Fixture::new();
    let out = f.cip(&["-manifest=promote.yaml", "-confirm"]);
    assert_exit(&out, 0);
    assert_eq!(stderr(&out).matches("promoted unsigned").count(), 1, "{}", stderr(&out));
    assert!(f.path().join("prod/index.json").exists(), "promoted");
    let out = f.cip(&["-manifest=promote.yaml"]);
    assert_exit(&out, 0);
    assert!(!stderr(&out).contains("unsigned"), "{}", stderr(&out));
}

// 5. A symlinked manifests/<x> is not read (Go's filepath.Walk does not follow it), and the
// warning says it is skipped.
#[cfg(unix)]
#[test]
fn symlinked_manifest_folder_is_not_read() {
    let f = Fixture::new();
    let thin = f.thin();
    let out = f.cip(&["lint", "--format", "json", "thin"]);
    assert_exit(&out, 0);
    std::fs::rename(thin.join("manifests/a"), f.path().join("elsewhere")).expect("move");
    std::os::unix::fs::symlink(f.path().join("elsewhere"), thin.join("manifests/a")).expect("symlink");
    let out = f.cip(&["lint", "--format", "json", "thin"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["summary"]["manifests"], 0, "{report:#}");
    let codes: Vec<&str> =
        report["diagnostics"].as_array().expect("list").iter().filter_map(|d| d["code"].as_str()).collect();
    assert!(codes.contains(&"thin-manifest-missing"), "{codes:?}");
    // Symlinked images folders are read by path, as in Go.
    std::fs::remove_file(thin.join("manifests/a")).expect("unlink");
    std::fs::rename(f.path().join("elsewhere"), thin.join("manifests/a")).expect("move back");
    std::fs::rename(thin.join("images/a"), f.path().join("images-a")).expect("move");
    std::os::unix::fs::symlink(f.path().join("images-a"), thin.join("images/a")).expect("symlink");
    let out = f.cip(&["lint", "--format", "json", "thin"]);
    assert_exit(&out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["summary"]["images"], 1, "{report:#}");
}

// 6. A non-file images.yaml says what it is.
#[cfg(unix)]
#[test]
fn images_file_that_is_not_a_file_says_what_it_is() {
    let f = Fixture::new();
    let thin = f.thin();
    let file = thin.join("images/a/images.yaml");
    std::fs::remove_file(&file).expect("rm");
    std::fs::create_dir(&file).expect("mkdir");
    let out = f.cip(&["lint", "thin"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("images.yaml is a directory, not a file"), "{}", stderr(&out));
    std::fs::remove_dir(&file).expect("rmdir");
    std::os::unix::fs::symlink(f.path().join("staging"), &file).expect("symlink");
    let out = f.cip(&["lint", "thin"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("images.yaml is a symlink to a directory"), "{}", stderr(&out));
    std::fs::remove_file(&file).expect("rm");
    std::os::unix::fs::symlink("images.yaml", &file).expect("symlink");
    let out = f.cip(&["lint", "thin"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("images.yaml is a symlink loop"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("does not exist"), "{}", stderr(&out));
    // JSON output carries the error too.
    let out = f.cip(&["lint", "--format", "json", "thin"]);
    assert_exit(&out, 2);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(report["diagnostics"][0]["message"].as_str().is_some_and(|m| m.contains("symlink loop")));
    // A broken link is missing, as in Go.
    std::fs::remove_file(&file).expect("rm");
    std::os::unix::fs::symlink("gone.yaml", &file).expect("symlink");
    let out = f.cip(&["lint", "thin"]);
    assert_exit(&out, 1);
    assert!(stdout(&out).contains("does not exist"), "{}", stdout(&out));
}

// 6. cip lint --format json prints the report's shape on IO errors.
#[test]
fn lint_json_reports_read_errors() {
    let f = Fixture::new();
    let out = f.cip(&["lint", "--format", "json", "missing.yaml"]);
    assert_exit(&out, 2);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    let d = &report["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "read-error");
    assert_eq!(d["file"], "missing.yaml");
    assert!(d["message"].as_str().is_some_and(|m| m.contains("missing.yaml")), "{d}");
    assert_eq!(report["summary"]["errors"], 1);
    assert!(stderr(&out).contains("cannot read missing.yaml"), "{}", stderr(&out));
}
