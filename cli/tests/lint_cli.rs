//! Runs the lint vectors (`tests/vectors/lint/<case>/`) through the `cip` binary: run in the case
//! directory with one PATH per entry of `input/`, `cip lint --format json` must print
//! `expected.json` byte for byte and exit 0 (no errors) or 1 (error findings). Then the other
//! formats (human, SARIF 2.1.0, GitHub annotations) on every case, and the exit-2 paths.

mod lint_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use lint_support::{cip, sorted_names, vectors_dir};
use serde_json::Value;

struct Case {
    name: String,
    dir: PathBuf,
    /// The PATH arguments: every entry of `input/`, relative to the case directory.
    paths: Vec<String>,
    expected: String,
    report: Value,
}

impl Case {
    fn errors(&self) -> u64 {
        self.report["summary"]["errors"].as_u64().expect("summary.errors")
    }

    fn diagnostics(&self) -> &[Value] {
        self.report["diagnostics"].as_array().expect("diagnostics")
    }

    fn lint(&self, format: &str, paths: &[String]) -> Output {
        let mut args = vec!["lint", "--format", format];
        args.extend(paths.iter().map(String::as_str));
        cip(&self.dir, &args)
    }
}

fn cases() -> Vec<Case> {
    let cases: Vec<Case> = sorted_names(&vectors_dir())
        .into_iter()
        .map(|name| (vectors_dir().join(&name), name))
        .filter(|(dir, _)| dir.join("input").is_dir())
        .map(|(dir, name)| {
            let paths = sorted_names(&dir.join("input")).into_iter().map(|e| format!("input/{e}")).collect();
            let expected = fs::read_to_string(dir.join("expected.json")).expect("expected.json");
            let report = serde_json::from_str(&expected).expect("expected.json is JSON");
            Case { name, dir, paths, expected, report }
        })
        .collect();
    assert!(cases.len() >= 45, "expected at least 45 lint vectors, found {}", cases.len());
    cases
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

#[test]
fn json_output_and_exit_code_match_every_vector() {
    let mut failures = Vec::new();
    for case in cases() {
        let expected_code = if case.errors() > 0 { 1 } else { 0 };
        let mut runs = vec![case.paths.clone()];
        // A trailing slash on a thin directory argument must not change anything.
        if case.paths.iter().any(|p| case.dir.join(p).is_dir()) {
            runs.push(
                case.paths
                    .iter()
                    .map(|p| if case.dir.join(p).is_dir() { format!("{p}/") } else { p.clone() })
                    .collect(),
            );
        }
        for paths in runs {
            let out = case.lint("json", &paths);
            if text(&out.stdout) != case.expected {
                failures.push(format!(
                    "{} ({paths:?}): stdout differs from expected.json:\n{}",
                    case.name,
                    text(&out.stdout)
                ));
            }
            if out.status.code() != Some(expected_code) {
                failures.push(format!(
                    "{}: exit {:?}, expected {expected_code}",
                    case.name,
                    out.status.code()
                ));
            }
            if !out.stderr.is_empty() {
                failures.push(format!("{}: unexpected stderr: {}", case.name, text(&out.stderr)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sarif_output_is_a_valid_2_1_0_log_for_every_vector() {
    for case in cases() {
        let out = case.lint("sarif", &case.paths);
        assert_eq!(out.status.code(), Some(if case.errors() > 0 { 1 } else { 0 }), "{}", case.name);
        let log: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: SARIF is not JSON: {e}", case.name));
        check_sarif(&case, &log);
    }
}

fn check_sarif(case: &Case, log: &Value) {
    let name = &case.name;
    assert_eq!(log["version"], "2.1.0", "{name}");
    assert!(log["$schema"].as_str().is_some_and(|s| s.contains("sarif")), "{name}: $schema");
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "{name}");
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "cip", "{name}");
    let rule_ids: Vec<&str> = driver["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().expect("rule id"))
        .collect();
    let results = runs[0]["results"].as_array().expect("results");
    assert_eq!(results.len(), case.diagnostics().len(), "{name}: one result per finding");
    for (result, finding) in results.iter().zip(case.diagnostics()) {
        let rule = result["ruleId"].as_str().expect("ruleId");
        assert_eq!(rule, finding["code"], "{name}");
        assert!(rule_ids.contains(&rule), "{name}: {rule} is not among the driver's rules");
        assert_eq!(result["level"], finding["severity"], "{name}");
        let message = result["message"]["text"].as_str().expect("message.text");
        assert!(message.starts_with(finding["message"].as_str().unwrap()), "{name}: {message}");
        let locations = result["locations"].as_array().expect("locations");
        assert_eq!(locations.len(), 1, "{name}");
        let physical = &locations[0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], finding["file"], "{name}");
        let region = &physical["region"];
        assert_eq!(region["startLine"], finding["line"], "{name}");
        assert_eq!(region["startColumn"], finding["column"], "{name}");
        let (start, end) = (region["startColumn"].as_u64().unwrap(), region["endColumn"].as_u64().unwrap());
        let (first, last) = (region["startLine"].as_u64().unwrap(), region["endLine"].as_u64().unwrap());
        assert!(
            first >= 1 && last >= first && (last > first || end > start),
            "{name}: empty region {region}"
        );
        let labels = finding["labels"].as_array().map_or(0, Vec::len);
        assert_eq!(result["relatedLocations"].as_array().map_or(0, Vec::len), labels, "{name}");
    }
}

#[test]
fn github_output_is_one_workflow_command_per_finding() {
    for case in cases() {
        let out = case.lint("github", &case.paths);
        assert_eq!(out.status.code(), Some(if case.errors() > 0 { 1 } else { 0 }), "{}", case.name);
        let stdout = text(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), case.diagnostics().len(), "{}: {stdout}", case.name);
        for (line, finding) in lines.iter().zip(case.diagnostics()) {
            let expected_start = format!(
                "::{} file={},line={},col={},endLine={},endColumn={},title={}::",
                finding["severity"].as_str().unwrap(),
                finding["file"].as_str().unwrap().replace(':', "%3A").replace(',', "%2C"),
                finding["line"],
                finding["column"],
                finding["endLine"],
                finding["endColumn"],
                finding["code"].as_str().unwrap(),
            );
            assert!(
                line.starts_with(&expected_start),
                "{}: {line}\nexpected to start with {expected_start}",
                case.name
            );
        }
    }
}

#[test]
fn human_output_shows_the_source_line_with_a_caret() {
    let case = cases().into_iter().find(|c| c.name == "tag-conflict").expect("tag-conflict vector");
    let out = case.lint("human", &case.paths);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains('\x1b'), "no colour when stdout is not a terminal");
    let expected_lines = [
        "error[tag-conflict]: tag latest of image foo is given to two digests",
        "  --> input/manifest.yaml:12:89",
        "    |                                                                                         ^^^^^^^^",
        "  --> input/manifest.yaml:11:89",
        "   = help: a tag points at one digest and never moves",
        "1 error, 0 warnings in 1 manifest (2 images, 3 digests, 5 tags)",
    ];
    for expected in expected_lines {
        assert!(
            stdout.lines().any(|l| l.starts_with(expected)),
            "missing line starting {expected:?} in:\n{stdout}"
        );
    }
    let source = fs::read_to_string(case.dir.join("input/manifest.yaml")).expect("read input");
    let line_12 = source.lines().nth(11).expect("line 12");
    assert!(stdout.contains(&format!(" 12 | {line_12}\n")), "the source line is shown:\n{stdout}");
    assert!(stdout.contains("--------"), "the label is underlined:\n{stdout}");
}

#[test]
fn human_output_of_a_clean_set_is_the_summary_line() {
    let case = cases().into_iter().find(|c| c.name == "valid-plain").expect("valid-plain vector");
    let out = case.lint("human", &case.paths);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "0 errors, 0 warnings in 1 manifest (2 images, 3 digests, 4 tags)\n");
}

#[test]
fn a_missing_path_is_an_io_error_with_exit_2() {
    let dir = vectors_dir();
    let out = cip(&dir, &["lint", "no-such-manifest.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("no-such-manifest.yaml"), "the message names the path: {stderr}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = vectors_dir();
    for args in [&["lint"][..], &["lint", "--format", "xml", "x.yaml"], &["lint", "--no-such-flag", "x.yaml"]]
    {
        let out = cip(&dir, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}: a usage message");
    }
}

#[test]
fn a_100_mb_manifest_gets_one_clear_finding() {
    let dir = tempfile::tempdir().expect("temp dir");
    let entry = format!("    \"sha256:{}\": [\"v1.0.0\"]\n", "cd".repeat(32));
    let mut text_100mb = String::from(
        "registries:\n- name: gcr.io/a\n  src: true\n- name: gcr.io/b\nimages:\n- name: foo\n  dmap:\n",
    );
    while text_100mb.len() < 100 * 1024 * 1024 {
        text_100mb.push_str(&entry);
    }
    fs::write(dir.path().join("big.yaml"), text_100mb).expect("write big.yaml");
    let out = cip(dir.path(), &["lint", "--format", "json", "big.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let codes: Vec<&str> =
        report["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["yaml-too-large"]);
    assert_eq!(report["diagnostics"][0]["file"], "big.yaml");
}

#[test]
fn the_kubernetes_corpus_lints_without_errors() {
    // `../shared/corpus/k8s-io` next to the repository: real production thin manifests.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if !repo.join("../shared/corpus/k8s-io").is_dir() {
        assert!(
            std::env::var_os("CIP_SKIP_CORPUS").is_some_and(|v| v == "1"),
            "the Kubernetes corpus is missing: {} not found (it sits next to the repository, \
             as in CI); set CIP_SKIP_CORPUS=1 to skip this test",
            repo.join("../shared/corpus/k8s-io").display()
        );
        // Straight to stderr, past the test harness's capture, so the skip is seen.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"skipped (CIP_SKIP_CORPUS=1): ../shared/corpus/k8s-io not found\n",
        );
        return;
    }
    let out = cip(&repo, &["lint", "--format", "json", "../shared/corpus/k8s-io"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["summary"]["errors"], 0);
    assert!(report["summary"]["manifests"].as_u64() > Some(0));
}
