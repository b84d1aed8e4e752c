//! Runs the planning vectors in `tests/vectors/plan/<case>/` through the core: manifests under
//! `input/` (and `base/` for delta cases), `inventory.json`, `options.json`, compared byte for
//! byte with `expected.json` (and `expected.txt` for snapshots). `UPDATE_VECTORS=1` rewrites the
//! expected files instead (review the diff before committing).

use std::fs;
use std::path::{Path, PathBuf};

use cip_core::audit::{audit, audit_attachments};
use cip_core::plan::AttachmentFilter;
use cip_core::snapshot::{SnapshotOptions, snapshot, snapshot_manifests};
use cip_core::trust::TrustOptions;
use cip_core::{Input, Inventory, PlanOptions, SourceFile, ThinDir};
use serde::Deserialize;

/// `options.json` of a case.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CaseOptions {
    /// `plan` (default), `snapshot`, `snapshot-manifests`, `audit` or `audit-attachments`.
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    strict: bool,
    /// Snapshot registry (or destination prefix for `snapshot-manifests`).
    #[serde(default)]
    registry: Option<String>,
    /// Snapshot text format: `yaml` (default) or `csv`.
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    minimal: bool,
    #[serde(default)]
    snapshot_tag: Option<String>,
    /// `--attachments all|signatures|none` (plan mode).
    #[serde(default)]
    attachments: AttachmentFilter,
    /// `--attachment-type`, repeated (plan mode).
    #[serde(default)]
    attachment_type: Vec<String>,
    /// The trust gate's options (plan mode), the CLI's words in camelCase; `verifyKey` and
    /// `trustedRoot` name files of the case directory (the CLI's FILE arguments).
    #[serde(default)]
    require_signature: bool,
    #[serde(default)]
    verify_key: Option<String>,
    #[serde(default)]
    certificate_identity: Option<String>,
    #[serde(default)]
    certificate_identity_regexp: Option<String>,
    #[serde(default)]
    certificate_oidc_issuer: Option<String>,
    #[serde(default)]
    certificate_oidc_issuer_regexp: Option<String>,
    #[serde(default)]
    trusted_root: Option<String>,
    #[serde(default)]
    require_attestation: Vec<String>,
}

impl CaseOptions {
    /// The trust options, with the files of `case` read.
    fn trust(&self, case: &Path) -> TrustOptions {
        let read = |name: &Option<String>| {
            name.as_ref().map(|n| fs::read_to_string(case.join(n)).expect("trust option file"))
        };
        let trust = TrustOptions {
            require_signature: self.require_signature,
            verify_key: read(&self.verify_key),
            certificate_identity: self.certificate_identity.clone(),
            certificate_identity_regexp: self.certificate_identity_regexp.clone(),
            certificate_oidc_issuer: self.certificate_oidc_issuer.clone(),
            certificate_oidc_issuer_regexp: self.certificate_oidc_issuer_regexp.clone(),
            trusted_root: read(&self.trusted_root),
            require_attestation: self.require_attestation.clone(),
        };
        if trust != TrustOptions::default() {
            // Front ends compile the policy first: a vector's options must compile.
            cip_core::trust::Policy::new(&trust).expect("the case's trust options");
        }
        trust
    }
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/plan")
}

/// Reads `<case>/<sub>/` the way the CLI reads its PATH arguments: each file is a plain manifest,
/// each directory a thin manifest directory. Paths are relative to the case directory.
fn read_input(case: &Path, sub: &str) -> Option<Input> {
    let dir = case.join(sub);
    if !dir.is_dir() {
        return None;
    }
    let mut files = Vec::new();
    let mut thin_dirs = Vec::new();
    for name in sorted_entries(&dir) {
        let rel = format!("{sub}/{name}");
        let path = case.join(&rel);
        if path.is_dir() {
            let mut thin = ThinDir { root: rel.clone(), dirs: Vec::new() };
            walk(case, &rel, &mut thin, &mut files);
            thin.dirs.sort();
            thin_dirs.push(thin);
        } else {
            files.push(SourceFile::new(rel, fs::read_to_string(&path).expect("read manifest")));
        }
    }
    Some(Input { files, thin_dirs: Some(thin_dirs) })
}

fn walk(case: &Path, rel: &str, thin: &mut ThinDir, files: &mut Vec<SourceFile>) {
    for name in sorted_entries(&case.join(rel)) {
        let child = format!("{rel}/{name}");
        let path = case.join(&child);
        if path.is_dir() {
            thin.dirs.push(child.strip_prefix(&format!("{}/", thin.root)).expect("under root").to_owned());
            walk(case, &child, thin, files);
        } else if name == "promoter-manifest.yaml" || name == "images.yaml" {
            files.push(SourceFile::new(child, fs::read_to_string(&path).expect("read manifest")));
        }
    }
}

fn sorted_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs one case; returns `(file name, produced text)` pairs to compare.
fn run_case(case: &Path) -> Vec<(&'static str, String)> {
    let options: CaseOptions = match fs::read_to_string(case.join("options.json")) {
        Ok(text) => serde_json::from_str(&text).expect("options.json"),
        Err(_) => CaseOptions::default(),
    };
    let inventory = match fs::read_to_string(case.join("inventory.json")) {
        Ok(text) => Inventory::from_json(&text).expect("inventory.json"),
        Err(_) => Inventory::default(),
    };
    let input = read_input(case, "input").unwrap_or_default();
    let snapshot_options =
        SnapshotOptions { minimal: options.minimal, snapshot_tag: options.snapshot_tag.clone() };
    let text = |s: &cip_core::snapshot::Snapshot| match options.output.as_deref() {
        Some("csv") => s.to_csv(),
        _ => s.to_yaml(),
    };
    match options.mode.as_deref().unwrap_or("plan") {
        "plan" => {
            let base = read_input(case, "base");
            let plan_options = PlanOptions {
                strict: options.strict,
                attachments: options.attachments,
                attachment_types: options.attachment_type.clone(),
                trust: options.trust(case),
            };
            let plan = cip_core::plan_input(input.clone(), base.clone(), &inventory, &plan_options);
            // The plan is complete: once it ran, planning again finds nothing to do (attachments
            // included: a merged tag holds every source layer).
            let after = plan.apply(&inventory);
            let again = cip_core::plan_input(input, base, &after, &plan_options);
            assert!(
                again.actions.is_empty(),
                "{}: re-planning after the plan ran: {:?}",
                case.display(),
                again.actions
            );
            vec![("expected.json", plan.to_json())]
        }
        "snapshot" => {
            let s = snapshot(&inventory, options.registry.as_deref().expect("registry"), &snapshot_options);
            vec![("expected.json", s.to_json()), ("expected.txt", text(&s))]
        }
        "snapshot-manifests" => {
            let set = cip_core::load(input);
            let registry = options.registry.as_deref().expect("registry");
            let s = snapshot_manifests(&set, registry, &snapshot_options);
            vec![("expected.json", s.to_json()), ("expected.txt", text(&s))]
        }
        "audit" => vec![("expected.json", audit(&cip_core::load(input), &inventory).to_json())],
        "audit-attachments" => {
            vec![("expected.json", audit_attachments(&cip_core::load(input), &inventory).to_json())]
        }
        other => panic!("unknown mode {other}"),
    }
}

#[test]
fn plan_vectors() {
    let update = std::env::var_os("UPDATE_VECTORS").is_some();
    let mut failures = Vec::new();
    let mut count = 0;
    for name in sorted_entries(&vectors_dir()) {
        let case = vectors_dir().join(&name);
        if !case.is_dir() {
            continue;
        }
        count += 1;
        for (file, produced) in run_case(&case) {
            let path = case.join(file);
            if update {
                fs::write(&path, &produced).expect("write expected");
                continue;
            }
            let expected = fs::read_to_string(&path).unwrap_or_default();
            if expected != produced {
                failures.push(format!("{name}/{file}:\n--- expected\n{expected}\n--- got\n{produced}"));
            }
        }
    }
    assert!(count >= 25, "expected at least 25 plan vectors, found {count}");
    assert!(failures.is_empty(), "{} vector(s) differ:\n{}", failures.len(), failures.join("\n"));
}
