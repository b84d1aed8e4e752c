//! `cip_core::format` (the `cip fmt` layout):
//! - the fmt vectors (`tests/vectors/fmt/<case>/input.yaml` -> `expected.yaml`, or
//!   `expected.json` with the findings for a file it refuses);
//! - idempotent (`format(format(x)) == format(x)`) and meaning-preserving on every lint vector
//!   input it accepts, on the corpus fixtures in `tests/vectors/fmt/`, and on the real corpus in
//!   `../shared/corpus/k8s-io/` when it is there (skipped with a printed reason otherwise);
//! - every comment of the input is in the output.
//!
//! "Meaning" is what the promoter reads: every manifest's registries (name, source, account),
//! every (image, digest, tags) entry, the offline snapshot of every destination registry (the
//! promotion edges), and the set of lint finding codes per file (without `tag-unquoted`, which
//! formatting fixes by quoting every tag).
//!
//! `UPDATE_VECTORS=1 cargo test -p cip-core --test format` rewrites the expected files.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use cip_core::snapshot::{SnapshotOptions, snapshot_manifests};
use cip_core::{Code, Input, SourceFile};

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> =
        fs::read_dir(dir).expect("read dir").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    entries
}

/// Every file under `dir` (recursively) whose name passes `keep`, with paths relative to `base`.
fn files_under(dir: &Path, base: &Path, keep: &dyn Fn(&str) -> bool, out: &mut Vec<SourceFile>) {
    for path in sorted_entries(dir) {
        if path.is_dir() {
            files_under(&path, base, keep, out);
        } else if keep(&path.file_name().unwrap().to_string_lossy()) {
            let rel = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
            out.push(SourceFile::new(rel, fs::read_to_string(&path).expect("read file")));
        }
    }
}

/// A lint vector's input as the CLI reads it, thin directories inferred from the paths.
fn vector_input(case: &Path) -> Input {
    let mut files = Vec::new();
    for path in sorted_entries(&case.join("input")) {
        let rel = path.strip_prefix(case).unwrap().to_string_lossy().replace('\\', "/");
        if path.is_dir() {
            files_under(&path, case, &|n| n == "promoter-manifest.yaml" || n == "images.yaml", &mut files);
        } else {
            files.push(SourceFile::new(rel, fs::read_to_string(&path).expect("read file")));
        }
    }
    Input { files, thin_dirs: None }
}

/// What the promoter reads from a set of files, independent of layout and order.
#[derive(Debug, PartialEq, Eq)]
struct Meaning {
    registries: Vec<Vec<(String, bool, Option<String>)>>,
    entries: Vec<(String, String, Vec<String>)>,
    snapshots: BTreeMap<String, String>,
    codes: Vec<(String, Code)>,
}

fn meaning(input: &Input) -> Meaning {
    let set = cip_core::load(input.clone());
    let mut registries: Vec<_> = set
        .manifests
        .iter()
        .map(|m| {
            m.registries
                .iter()
                .map(|r| (r.name.value.clone(), r.src, r.service_account.as_ref().map(|s| s.value.clone())))
                .collect::<Vec<_>>()
        })
        .collect();
    registries.sort();
    let mut entries = Vec::new();
    for image in set.manifests.iter().flat_map(|m| &m.images) {
        for entry in &image.dmap {
            let mut tags: Vec<String> = entry.tags.iter().map(|t| t.value.clone()).collect();
            tags.sort();
            entries.push((image.name.value.clone(), entry.digest.value.clone(), tags));
        }
    }
    entries.sort();
    // One snapshot per destination host holds every edge to that host (image names keep the
    // rest of the registry path), so a few snapshots cover every promotion edge.
    let mut snapshots = BTreeMap::new();
    for registry in set.manifests.iter().flat_map(|m| m.destinations()) {
        let name = registry.name.value.split('/').next().unwrap_or_default().to_owned();
        if let std::collections::btree_map::Entry::Vacant(slot) = snapshots.entry(name) {
            let snapshot = snapshot_manifests(&set, slot.key(), &SnapshotOptions::default());
            slot.insert(snapshot.to_yaml());
        }
    }
    let mut codes: Vec<(String, Code)> = set
        .diagnostics
        .iter()
        .filter(|d| d.code != Code::TagUnquoted)
        .map(|d| (d.location.file.clone(), d.code))
        .collect();
    // Which codes per file, not how many: a tag given to three digests is reported once per
    // later site, and sorting changes which site is first.
    codes.sort_by(|a, b| (&a.0, a.1.as_str()).cmp(&(&b.0, b.1.as_str())));
    codes.dedup();
    Meaning { registries, entries, snapshots, codes }
}

/// Formats every file of `input` it accepts; checks idempotence and that comments survive.
/// Returns the formatted input and how many files were formatted.
fn format_all(input: &Input, failures: &mut Vec<String>) -> (Input, usize) {
    let mut formatted = input.clone();
    let mut count = 0;
    for file in &mut formatted.files {
        let Ok(once) = cip_core::format::format(file) else { continue };
        count += 1;
        match cip_core::format::format(&SourceFile::new(file.path.clone(), once.clone())) {
            Ok(twice) if twice == once => {}
            Ok(twice) => {
                failures.push(format!("{}: formatting twice differs:\n{once}\n---\n{twice}", file.path))
            }
            Err(d) => failures.push(format!("{}: formatted output refused: {d:?}", file.path)),
        }
        for span in cip_core::yaml::comments(&file.text) {
            let comment = file.text[span.start as usize..span.end as usize].trim_end();
            if !once.contains(comment) {
                failures.push(format!("{}: comment lost: {comment}", file.path));
            }
        }
        file.text = once;
    }
    (formatted, count)
}

fn check_meaning(name: &str, input: &Input, failures: &mut Vec<String>) -> usize {
    let (formatted, count) = format_all(input, failures);
    let (before, after) = (meaning(input), meaning(&formatted));
    if before != after {
        failures
            .push(format!("{name}: formatting changed the meaning:\nbefore {before:#?}\nafter {after:#?}"));
    }
    count
}

#[test]
fn fmt_vectors() {
    let update = std::env::var_os("UPDATE_VECTORS").is_some();
    let mut failures = Vec::new();
    let cases = sorted_entries(&vectors().join("fmt"));
    assert!(cases.len() >= 5, "expected at least 5 fmt vectors");
    for case in cases.iter().filter(|c| c.is_dir()) {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(case.join("input.yaml")).expect("input.yaml");
        let path = format!("{name}/input.yaml");
        let (file, want) = match cip_core::format::format(&SourceFile::new(path, text)) {
            Ok(out) => ("expected.yaml", out),
            Err(findings) => ("expected.json", cip_core::wire::pretty_json(&findings)),
        };
        if update {
            let _ = fs::remove_file(case.join("expected.yaml"));
            let _ = fs::remove_file(case.join("expected.json"));
            fs::write(case.join(file), &want).expect("write expected");
            continue;
        }
        match fs::read_to_string(case.join(file)) {
            Ok(have) if have == want => {}
            Ok(_) => failures.push(format!("{name}: {file} differs; got:\n{want}")),
            Err(e) => failures.push(format!("{name}: {file}: {e} (run with UPDATE_VECTORS=1)")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn idempotent_and_meaning_preserving_on_every_lint_vector() {
    let mut failures = Vec::new();
    let mut formatted = 0;
    for case in sorted_entries(&vectors().join("lint")).iter().filter(|c| c.join("input").is_dir()) {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let n = check_meaning(&name, &vector_input(case), &mut failures);
        if name.starts_with("valid-") && n == 0 && !name.contains("empty") {
            failures.push(format!("{name}: a valid vector was not formatted"));
        }
        formatted += n;
    }
    assert!(formatted >= 50, "only {formatted} vector files formatted");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn idempotent_and_meaning_preserving_on_the_corpus_fixtures() {
    let mut failures = Vec::new();
    let mut files = Vec::new();
    let dir = vectors().join("fmt");
    files_under(&dir, &dir, &|n| n == "input.yaml", &mut files);
    // Each fixture alone: a plain manifest or an images list read as such.
    for file in files {
        let input = Input { files: vec![file.clone()], thin_dirs: Some(Vec::new()) };
        check_meaning(&file.path, &input, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn idempotent_and_meaning_preserving_on_the_kubernetes_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/k8s-io");
    if !dir.is_dir() {
        // Straight to stderr, past the harness's capture, so the skip is seen; the fixtures in
        // tests/vectors/fmt/ hold representative corpus files and always run.
        let _ = writeln!(std::io::stderr(), "skipped: the corpus {} is not there", dir.display());
        return;
    }
    let mut files = Vec::new();
    let base = dir.parent().unwrap();
    files_under(&dir, base, &|n| n == "promoter-manifest.yaml" || n == "images.yaml", &mut files);
    let input = Input { files, thin_dirs: None };
    let mut failures = Vec::new();
    let formatted = check_meaning("k8s-io", &input, &mut failures);
    assert_eq!(formatted, input.files.len(), "every corpus file is formatted");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
