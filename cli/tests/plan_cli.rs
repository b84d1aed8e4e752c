//! Runs the planning vectors (`tests/vectors/plan/<case>/`) through the `cip` binary: `cip plan`,
//! `cip snapshot` and `cip audit` with JSON output must print `expected.json` byte for byte (and
//! the YAML/CSV snapshot text `expected.txt`), with the exit code the outcome implies. Also checks
//! the usage and input errors (exit 2).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/plan")
}

fn cip(dir: &Path, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cip")).args(args).current_dir(dir).output().expect("run cip")
}

fn entries(dir: &Path, sub: &str) -> Vec<String> {
    let Ok(read) = fs::read_dir(dir.join(sub)) else { return Vec::new() };
    let mut names: Vec<String> =
        read.map(|e| format!("{sub}/{}", e.expect("entry").file_name().to_string_lossy())).collect();
    names.sort();
    names
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The command lines of a case: (arguments, expected file) pairs.
fn commands(case: &Path) -> Vec<(Vec<String>, &'static str)> {
    let options: Value = fs::read_to_string(case.join("options.json"))
        .map(|t| serde_json::from_str(&t).expect("options.json"))
        .unwrap_or(Value::Null);
    let text = |key: &str| options.get(key).and_then(Value::as_str).map(str::to_owned);
    let flag = |key: &str| options.get(key).and_then(Value::as_bool).unwrap_or(false);
    let inputs = entries(case, "input");
    let mut snapshot_flags = Vec::new();
    if flag("minimal") {
        snapshot_flags.push("--minimal".to_owned());
    }
    if let Some(t) = text("snapshotTag") {
        snapshot_flags.extend(["--snapshot-tag".to_owned(), t]);
    }
    let output = text("output").unwrap_or_else(|| "yaml".into());
    match text("mode").as_deref().unwrap_or("plan") {
        "plan" => {
            let mut args = strings(&["plan", "--format", "json", "--inventory", "inventory.json"]);
            if flag("strict") {
                args.push("--strict".into());
            }
            if let Some(which) = text("attachments") {
                args.extend(["--attachments".to_owned(), which]);
            }
            for t in options.get("attachmentType").and_then(Value::as_array).into_iter().flatten() {
                args.extend(["--attachment-type".to_owned(), t.as_str().expect("a type").to_owned()]);
            }
            // The trust gate's flags; `verifyKey` and `trustedRoot` name files of the case.
            if flag("requireSignature") {
                args.push("--require-signature".into());
            }
            for (key, flag) in [
                ("verifyKey", "--verify-key"),
                ("certificateIdentity", "--certificate-identity"),
                ("certificateIdentityRegexp", "--certificate-identity-regexp"),
                ("certificateOidcIssuer", "--certificate-oidc-issuer"),
                ("certificateOidcIssuerRegexp", "--certificate-oidc-issuer-regexp"),
                ("trustedRoot", "--trusted-root"),
            ] {
                if let Some(value) = text(key) {
                    args.extend([flag.to_owned(), value]);
                }
            }
            for t in options.get("requireAttestation").and_then(Value::as_array).into_iter().flatten() {
                args.extend(["--require-attestation".to_owned(), t.as_str().expect("a type").to_owned()]);
            }
            for base in entries(case, "base") {
                args.extend(["--base".to_owned(), base]);
            }
            args.extend(inputs);
            vec![(args, "expected.json")]
        }
        "snapshot" => {
            let registry = text("registry").expect("registry");
            let run = |format: &str| {
                let mut args = strings(&["snapshot", "--inventory", "inventory.json", "--output", format]);
                args.extend(snapshot_flags.clone());
                args.push(registry.clone());
                args
            };
            vec![(run("json"), "expected.json"), (run(&output), "expected.txt")]
        }
        "snapshot-manifests" => {
            let registry = text("registry").expect("registry");
            let run = |format: &str| {
                let mut args = strings(&["snapshot", "--from-manifests", &registry, "--output", format]);
                args.extend(snapshot_flags.clone());
                args.extend(inputs.clone());
                args
            };
            vec![(run("json"), "expected.json"), (run(&output), "expected.txt")]
        }
        "audit" => {
            let mut args = strings(&["audit", "--format", "json", "--inventory", "inventory.json"]);
            args.extend(inputs);
            vec![(args, "expected.json")]
        }
        "audit-attachments" => {
            let mut args =
                strings(&["audit", "--format", "json", "--attachments", "--inventory", "inventory.json"]);
            args.extend(inputs);
            vec![(args, "expected.json")]
        }
        other => panic!("unknown mode {other}"),
    }
}

/// Exit code the JSON outcome implies: 1 when anything is blocked, drifted or an error finding.
fn expected_code(json: &Value) -> i32 {
    let errors = json["diagnostics"].as_array().is_some_and(|d| d.iter().any(|d| d["severity"] == "error"));
    let blocked = json["summary"]["blocked"].as_u64().unwrap_or(0) > 0;
    let drift = json["drift"].as_array().is_some_and(|d| !d.is_empty());
    i32::from(errors || blocked || drift)
}

#[test]
fn plan_vectors_through_the_cli() {
    let mut failures = Vec::new();
    let mut names: Vec<_> =
        fs::read_dir(vectors_dir()).expect("vectors").map(|e| e.expect("entry").path()).collect();
    names.sort();
    for case in names.into_iter().filter(|p| p.is_dir()) {
        let name = case.file_name().expect("name").to_string_lossy().into_owned();
        for (args, file) in commands(&case) {
            let expected = fs::read_to_string(case.join(file)).expect("expected file");
            let out = cip(&case, &args);
            let stdout = String::from_utf8_lossy(&out.stdout);
            if stdout != expected {
                failures.push(format!(
                    "{name}: cip {}\n--- expected\n{expected}\n--- got\n{stdout}",
                    args.join(" ")
                ));
                continue;
            }
            if file == "expected.json" {
                let code = match serde_json::from_str::<Value>(&expected) {
                    Ok(json) if json.get("images").is_none() => expected_code(&json),
                    _ => out.status.code().unwrap_or(-1).min(1),
                };
                if out.status.code() != Some(code) {
                    failures.push(format!(
                        "{name}: cip {}: exit {:?}, expected {code}",
                        args.join(" "),
                        out.status
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} run(s) differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn bad_inventory_is_a_usage_error_with_a_position() {
    let dir = vectors_dir().join("copy-new-digest");
    let tmp = std::env::temp_dir().join(format!("cip-plan-cli-{}.json", std::process::id()));
    // A valid digest, so that the unknown `tagz` key is the first problem (invalid digests are
    // reported too, see the core's inventory tests).
    let digest = format!("sha256:{}", "a".repeat(64));
    fs::write(&tmp, format!("{{\"repositories\": {{\n  \"a/b\": {{\"{digest}\": {{\"tagz\": []}}}}\n}}}}\n"))
        .expect("write");
    let args = strings(&["plan", "--inventory", tmp.to_str().expect("utf-8"), "input/promoter.yaml"]);
    let out = cip(&dir, &args);
    let _ = fs::remove_file(&tmp);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(":2:") && stderr.contains("tagz"), "{stderr}");
}

#[test]
fn missing_manifest_and_snapshot_usage_are_errors() {
    let dir = vectors_dir().join("copy-new-digest");
    let out = cip(&dir, &strings(&["plan", "--inventory", "inventory.json", "input/nope.yaml"]));
    assert_eq!(out.status.code(), Some(2));
    let out = cip(&dir, &strings(&["snapshot", "--inventory", "inventory.json", "a", "b"]));
    assert_eq!(out.status.code(), Some(2));
    let out = cip(&dir, &strings(&["snapshot", "registry.k8s.io"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn human_plan_has_a_table_per_destination() {
    let dir = vectors_dir().join("multi-destination");
    let out = cip(&dir, &strings(&["plan", "--inventory", "inventory.json", "input/promoter.yaml"]));
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("destination"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("registry.k8s.io/prod ")), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("total")), "{stdout}");
}

/// `cip plan` streams the inventory file into its compact form; a bad document is still reported
/// at the position the in-memory reader of `cip audit` gives, to the column (serde_json's
/// streaming reader alone would say column 36 here: it counts the `:` it peeked at).
#[test]
fn plan_reports_a_bad_inventory_at_the_same_position_as_audit() {
    let dir = vectors_dir().join("copy-new-digest");
    let tmp = std::env::temp_dir().join(format!("cip-plan-cli-dup-{}.json", std::process::id()));
    fs::write(&tmp, "{\"repositories\": {}, \"repositories\": {}}\n").expect("write");
    let inventory = tmp.to_str().expect("utf-8");
    let plan = cip(&dir, &strings(&["plan", "--inventory", inventory, "input/promoter.yaml"]));
    let audit = cip(&dir, &strings(&["audit", "--inventory", inventory, "input/promoter.yaml"]));
    let _ = fs::remove_file(&tmp);
    assert_eq!(plan.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&plan.stderr);
    let position = format!("{inventory}:1:35: invalid inventory: duplicate field `repositories`");
    assert!(stderr.contains(&position), "{stderr}");
    assert!(String::from_utf8_lossy(&audit.stderr).contains(&position));
}
