//! `cip fmt` on the fmt vectors (`tests/vectors/fmt/<case>/`), each on a temporary copy:
//! `--check` lists a file that would change and exits 1 (writing nothing); `cip fmt` writes
//! `expected.yaml` exactly and exits 0; then `--check` passes (exit 0, nothing listed). A file
//! it refuses (`expected.json`) is left untouched, its findings go to stderr, exit 1. `--diff`
//! output applied by `git apply` (real git) gives the formatted file. Thin directories as PATH.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/fmt")
}

fn cip(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cip")).args(args).current_dir(dir).output().expect("run cip")
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> =
        fs::read_dir(vectors_dir()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    cases.sort();
    cases
}

#[test]
fn check_then_format_then_check_again() {
    let mut formatted = 0;
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let input = fs::read(case.join("input.yaml")).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("input.yaml");
        fs::write(&file, &input).unwrap();
        let check = cip(tmp.path(), &["fmt", "--check", "input.yaml"]);
        if let Ok(findings) = fs::read_to_string(case.join("expected.json")) {
            let run = cip(tmp.path(), &["fmt", "input.yaml"]);
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert_eq!(run.status.code(), Some(1), "{name}: a refused file exits 1");
            assert_eq!(fs::read(&file).unwrap(), input, "{name}: a refused file is not written");
            let first: serde_json::Value = serde_json::from_str(&findings).unwrap();
            let code = first[0]["code"].as_str().unwrap();
            assert!(
                stderr.contains(&format!("[{code}]")) && stderr.contains("input.yaml:"),
                "{name}: {stderr}"
            );
            assert_eq!(check.status.code(), Some(1), "{name}: --check fails on a refused file");
            continue;
        }
        let want = fs::read(case.join("expected.yaml")).unwrap();
        let changes = want != input;
        assert_eq!(check.status.code(), Some(i32::from(changes)), "{name}: --check exit code");
        let listed = String::from_utf8_lossy(&check.stdout).into_owned();
        assert_eq!(listed, if changes { "input.yaml\n" } else { "" }, "{name}: --check lists the file");
        assert_eq!(fs::read(&file).unwrap(), input, "{name}: --check writes nothing");

        let run = cip(tmp.path(), &["fmt", "input.yaml"]);
        assert_eq!(run.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&run.stderr));
        assert_eq!(fs::read(&file).unwrap(), want, "{name}: cip fmt writes expected.yaml");
        let again = cip(tmp.path(), &["fmt", "--check", "input.yaml"]);
        assert_eq!(
            (again.status.code(), again.stdout.len()),
            (Some(0), 0),
            "{name}: formatted file passes --check"
        );
        formatted += usize::from(changes);
    }
    assert!(formatted >= 6, "only {formatted} vectors changed by cip fmt");
}

#[test]
fn diff_applied_by_git_gives_the_formatted_file() {
    let case = vectors_dir().join("comments-move-with-entries");
    let tmp = tempfile::tempdir().unwrap();
    fs::copy(case.join("input.yaml"), tmp.path().join("input.yaml")).unwrap();
    let diff = cip(tmp.path(), &["fmt", "--diff", "input.yaml"]);
    assert_eq!(diff.status.code(), Some(1));
    fs::write(tmp.path().join("fmt.patch"), &diff.stdout).unwrap();
    let applied =
        Command::new("git").args(["apply", "-p1", "fmt.patch"]).current_dir(tmp.path()).output().unwrap();
    assert!(applied.status.success(), "{}", String::from_utf8_lossy(&applied.stderr));
    assert_eq!(
        fs::read(tmp.path().join("input.yaml")).unwrap(),
        fs::read(case.join("expected.yaml")).unwrap()
    );
}

#[test]
fn a_thin_directory_formats_its_manifest_and_images_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("k8s.io");
    fs::create_dir_all(root.join("manifests/a")).unwrap();
    fs::create_dir_all(root.join("images/a")).unwrap();
    fs::copy(
        vectors_dir().join("corpus-etcd-manifest/input.yaml"),
        root.join("manifests/a/promoter-manifest.yaml"),
    )
    .unwrap();
    fs::copy(vectors_dir().join("corpus-agent-sandbox-images/input.yaml"), root.join("images/a/images.yaml"))
        .unwrap();
    let check = cip(tmp.path(), &["fmt", "--check", "k8s.io"]);
    assert_eq!(check.status.code(), Some(1));
    // The etcd manifest is already in the layout; the images file is not (digests unsorted).
    assert_eq!(String::from_utf8_lossy(&check.stdout), "k8s.io/images/a/images.yaml\n");
    assert_eq!(cip(tmp.path(), &["fmt", "k8s.io"]).status.code(), Some(0));
    assert_eq!(
        fs::read(root.join("images/a/images.yaml")).unwrap(),
        fs::read(vectors_dir().join("corpus-agent-sandbox-images/expected.yaml")).unwrap()
    );
    assert_eq!(cip(tmp.path(), &["fmt", "--check", "k8s.io"]).status.code(), Some(0));
    // The formatted pair still lints as before: no errors.
    assert_eq!(cip(tmp.path(), &["lint", "k8s.io"]).status.code(), Some(0));
}
