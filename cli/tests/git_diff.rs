//! Git-diff promotion (issue 12): `cip plan|promote --base-rev REV` reads the delta base from the
//! git history of the repository holding the manifests, and `cip run --use-prow-manifest-diff` /
//! `--manifest-diff-since` map onto it. A real repository made by the test (plain manifest and
//! thin directory), promoting from the shipped staging layout into `oci:` layouts: no network.

use std::path::Path;
use std::process::{Command, Output};

use cip_testkit::copy_dir;
use serde_json::Value;

const HELLO: &str = cip_testkit::STAGING_HELLO;
const PLAIN: &str = cip_testkit::STAGING_PLAIN;

fn cip_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cip"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("DOCKER_CONFIG")
        .env_remove("JOB_TYPE")
        .env_remove("PULL_BASE_SHA")
        .env("HOME", "/nonexistent-cip-test-home");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("cip runs")
}

fn cip(dir: &Path, args: &[&str]) -> Output {
    cip_env(dir, args, &[])
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=cip test", "-c", "user.email=cip@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", "/nonexistent-cip-test-home")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(output)))
}

/// The actions of a plan as `(dst, digest, tags)`.
fn actions(plan: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut out: Vec<_> = plan["actions"]
        .as_array()
        .unwrap_or_else(|| panic!("no actions: {plan:#}"))
        .iter()
        .map(|a| {
            let tags = a["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
            (a["dst"].as_str().unwrap().to_owned(), a["digest"].as_str().unwrap().to_owned(), tags)
        })
        .collect();
    out.sort();
    out
}

fn codes(plan: &Value) -> Vec<String> {
    plan["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap().to_owned()).collect()
}

fn plain_manifest(dest: &str, images: &str) -> String {
    format!("registries:\n- name: oci:staging\n  src: true\n- name: oci:{dest}\nimages:\n{images}")
}

const HELLO_V1: &str = "- name: hello\n  dmap:\n    \"sha256:3a869696c650e2e7921884dd6203f6a3f668a1a7bc5a4bca37bf67eb7d80b27a\": [\"v1\"]\n";
const HELLO_V1_LATEST: &str = "- name: hello\n  dmap:\n    \"sha256:3a869696c650e2e7921884dd6203f6a3f668a1a7bc5a4bca37bf67eb7d80b27a\": [\"v1\", \"latest\"]\n";
const PLAIN_10: &str = "- name: plain\n  dmap:\n    \"sha256:92803563d151254bd5409d3aaa94ddc1607e496e8df47e5c09e1852fd252fa5f\": [\"1.0\"]\n";

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A repository with `plain.yaml` (dest `oci:prod`) and thin dir `thin/` (dest `oci:thinprod`),
/// and the staging layout beside them (not committed). History, oldest first:
/// 1. hello:v1 in both; 2. plain:1.0 added to both; 3. hello retagged v1+latest in both;
/// 4. plain removed from both.
fn repo() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    copy_dir(&examples.join("staging"), &root.join("staging"));
    write(root, ".gitignore", "staging/\nprod/\nthinprod/\n");
    git(root, &["init", "-q", "-b", "main"]);
    let thin_manifest = "registries:\n- name: oci:staging\n  src: true\n- name: oci:thinprod\n";
    write(root, "thin/manifests/a/promoter-manifest.yaml", thin_manifest);
    let mut commits = Vec::new();
    let steps: [(&str, String); 4] = [
        ("hello v1", HELLO_V1.to_owned()),
        ("add plain", format!("{HELLO_V1}{PLAIN_10}")),
        ("retag hello", format!("{HELLO_V1_LATEST}{PLAIN_10}")),
        ("remove plain", HELLO_V1_LATEST.to_owned()),
    ];
    for (message, images) in steps {
        write(root, "plain.yaml", &plain_manifest("prod", &images));
        write(root, "thin/images/a/images.yaml", &images);
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", message]);
        commits.push(git(root, &["rev-parse", "HEAD"]));
    }
    (dir, commits)
}

/// Checks out `rev` (detached) so the working tree is the manifests as of that commit.
fn at(dir: &Path, rev: &str) {
    git(dir, &["checkout", "-q", "--detach", rev]);
}

fn plan(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["plan", "--format", "json"];
    args.extend_from_slice(extra);
    args.extend(["plain.yaml", "thin"]);
    let out = cip(dir, &args);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    json(&out)
}

fn both(digest: &str, tags: &[&str]) -> Vec<(String, String, Vec<String>)> {
    let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
    vec![
        ("oci:prod/hello".replace("hello", name(digest)), digest.to_owned(), tags.clone()),
        ("oci:thinprod/hello".replace("hello", name(digest)), digest.to_owned(), tags),
    ]
}

fn name(digest: &str) -> &'static str {
    if digest == HELLO { "hello" } else { "plain" }
}

#[test]
fn base_rev_plans_only_added_and_retagged_entries_and_warns_on_removals() {
    let (dir, commits) = repo();
    let root = dir.path();

    // Without a base everything in the manifests is planned (the layouts are empty).
    at(root, &commits[1]);
    let full = plan(root, &[]);
    assert_eq!(actions(&full).len(), 4, "{full:#}");

    // Added entry: only plain, in the plain manifest and the thin directory.
    let added = plan(root, &["--base-rev", "HEAD^"]);
    assert_eq!(actions(&added), both(PLAIN, &["1.0"]), "{added:#}");

    // Retagged entry: only hello (its tag list changed).
    at(root, &commits[2]);
    let retagged = plan(root, &["--base-rev", "HEAD^"]);
    let mut expected = both(HELLO, &["latest", "v1"]);
    expected.sort();
    assert_eq!(actions(&retagged), expected, "{retagged:#}");

    // Removed entry: nothing planned, a warning per destination; nothing else changed.
    at(root, &commits[3]);
    let removed = plan(root, &["--base-rev", "HEAD^"]);
    assert_eq!(actions(&removed), vec![], "{removed:#}");
    let removed_codes = codes(&removed);
    assert_eq!(removed_codes.iter().filter(|c| *c == "entry-removed").count(), 2, "{removed:#}");

    // A tag removed: base is the retag commit seen from the working tree of commit 1.
    at(root, &commits[1]);
    let untagged = plan(root, &["--base-rev", &commits[2]]);
    assert!(codes(&untagged).iter().any(|c| c == "tag-removed"), "{untagged:#}");

    // --base-rev is --base with the files of that revision.
    at(root, &commits[3]);
    let old = tempfile::tempdir().unwrap();
    std::fs::write(old.path().join("plain.yaml"), git(root, &["show", "HEAD^:plain.yaml"]) + "\n").unwrap();
    let by_file = cip(
        root,
        &[
            "plan",
            "--format",
            "json",
            "--base",
            &old.path().join("plain.yaml").display().to_string(),
            "plain.yaml",
        ],
    );
    let by_rev = cip(root, &["plan", "--format", "json", "--base-rev", "HEAD^", "plain.yaml"]);
    assert_eq!(actions(&json(&by_file)), actions(&json(&by_rev)));
    assert_eq!(codes(&json(&by_file)), codes(&json(&by_rev)));
}

#[test]
fn promote_base_rev_copies_only_the_delta() {
    let (dir, commits) = repo();
    let root = dir.path();
    at(root, &commits[1]);
    let out =
        cip(root, &["promote", "--confirm", "--format", "json", "--base-rev", "HEAD^", "plain.yaml", "thin"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(actions(&json(&out)["plan"]), both(PLAIN, &["1.0"]));
    // Only plain was promoted: without a base, hello is still to do and plain is present.
    let rest = plan(root, &[]);
    let mut expected = both(HELLO, &["v1"]);
    expected.sort();
    assert_eq!(actions(&rest), expected, "{rest:#}");
}

#[test]
fn paths_new_since_the_revision_have_an_empty_base() {
    let (dir, _) = repo();
    let root = dir.path();
    write(root, "new.yaml", &plain_manifest("newprod", PLAIN_10));
    write(
        root,
        "newthin/manifests/b/promoter-manifest.yaml",
        "registries:\n- name: oci:staging\n  src: true\n- name: oci:newthin\n",
    );
    write(root, "newthin/images/b/images.yaml", PLAIN_10);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "new manifests"]);
    let out =
        cip(root, &["plan", "--format", "json", "--base-rev", "HEAD^", "new.yaml", "newthin", "plain.yaml"]);
    let plan = json(&out);
    let got = actions(&plan);
    assert_eq!(
        got,
        vec![
            ("oci:newprod/plain".to_owned(), PLAIN.to_owned(), vec!["1.0".to_owned()]),
            ("oci:newthin/plain".to_owned(), PLAIN.to_owned(), vec!["1.0".to_owned()]),
        ],
        "{plan:#}"
    );
}

#[test]
fn base_rev_errors_name_the_revision_or_path() {
    let (dir, _) = repo();
    let root = dir.path();
    let out = cip(root, &["plan", "--format", "json", "--base-rev", "no-such-rev", "plain.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("revision `no-such-rev` does not exist"), "{}", text(&out));

    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "m.yaml", &plain_manifest("prod", PLAIN_10));
    let out = cip(outside.path(), &["plan", "--inventory", "/dev/null", "--base-rev", "HEAD^", "m.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("m.yaml is not inside a git repository"), "{}", text(&out));

    let out = cip(root, &["plan", "--base", "plain.yaml", "--base-rev", "HEAD", "plain.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn run_use_prow_manifest_diff_uses_head_parent_or_pull_base_sha() {
    let (dir, commits) = repo();
    let root = dir.path();
    at(root, &commits[2]);
    let run = |env: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec!["run", "--manifest=plain.yaml"];
        args.extend_from_slice(extra);
        cip_env(root, &args, env)
    };
    let native = |rev: &str| cip(root, &["promote", "--base-rev", rev, "plain.yaml"]);

    let post = run(&[("JOB_TYPE", "postsubmit")], &["--use-prow-manifest-diff"]);
    assert_eq!(post.status.code(), Some(0), "{}", text(&post));
    assert_eq!(stdout(&post), stdout(&native("HEAD^")));
    assert_ne!(stdout(&post), stdout(&native(&commits[0])), "the base matters");

    for job in ["presubmit", "batch"] {
        let pre = run(&[("JOB_TYPE", job), ("PULL_BASE_SHA", &commits[0])], &["--use-prow-manifest-diff"]);
        assert_eq!(pre.status.code(), Some(0), "{}", text(&pre));
        assert_eq!(stdout(&pre), stdout(&native(&commits[0])), "{job}");
    }

    let off = run(&[], &["--use-prow-manifest-diff=false"]);
    assert_eq!(off.status.code(), Some(0), "{}", text(&off));
    assert_eq!(stdout(&off), stdout(&cip(root, &["promote", "plain.yaml"])));

    let both = run(&[("JOB_TYPE", "postsubmit")], &["--use-prow-manifest-diff", "--manifest-diff-since=1d"]);
    assert_eq!(both.status.code(), Some(2), "{}", text(&both));
    assert!(text(&both).contains("give one"), "{}", text(&both));
    let lint = run(&[("JOB_TYPE", "postsubmit")], &["--use-prow-manifest-diff", "--parse-only"]);
    assert!(text(&lint).contains("apply to promotions only"), "{}", text(&lint));

    let missing = run(&[], &["--use-prow-manifest-diff"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("needs JOB_TYPE"), "{}", text(&missing));
    let missing = run(&[("JOB_TYPE", "presubmit")], &["--use-prow-manifest-diff"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("needs PULL_BASE_SHA"), "{}", text(&missing));
}

#[test]
fn run_manifest_diff_since_picks_the_parent_of_the_oldest_recent_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    copy_dir(&examples.join("staging"), &root.join("staging"));
    write(root, ".gitignore", "staging/\n");
    git(root, &["init", "-q", "-b", "main"]);
    let commit = |images: &str, days_ago: u64| {
        write(root, "plain.yaml", &plain_manifest("prod", images));
        git(root, &["add", "-A"]);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let date = format!("@{} +0000", now - days_ago * 86_400);
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "c"])
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .current_dir(root)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        git(root, &["rev-parse", "HEAD"])
    };
    let old = commit(HELLO_V1, 30);
    let _recent = commit(&format!("{HELLO_V1}{PLAIN_10}"), 5);
    commit(&format!("{HELLO_V1_LATEST}{PLAIN_10}"), 1);
    let since = |d: &str| cip(root, &["run", "--manifest=plain.yaml", &format!("--manifest-diff-since={d}")]);
    let native = |extra: &[&str]| {
        let mut args = vec!["promote"];
        args.extend_from_slice(extra);
        args.push("plain.yaml");
        stdout(&cip(root, &args))
    };

    // 14 days: commits at 5 and 1 days are newer; the base is the parent of the 5-day one.
    for d in ["14 days", "14d", "336h"] {
        let out = since(d);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(stdout(&out), native(&["--base-rev", &old]), "{d}");
    }
    // 3 days: only the 1-day commit; the base is its parent (hello retag only).
    assert_eq!(stdout(&since("3d")), native(&["--base-rev", "HEAD^"]));
    assert_ne!(native(&["--base-rev", "HEAD^"]), native(&["--base-rev", &old]), "the bases differ");
    // 60 days: every commit is newer, the oldest has no parent: no base, everything.
    assert_eq!(stdout(&since("60 days")), native(&[]));
    // Bad durations are errors.
    let bad = since("soon");
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).contains("expected a duration"), "{}", text(&bad));
}
