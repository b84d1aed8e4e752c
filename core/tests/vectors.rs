//! Runs the lint vectors in `tests/vectors/lint/<case>/` through `cip_core::lint` and compares the
//! JSON byte for byte with `expected.json` (what `cip lint --format json` prints). See
//! `tests/vectors/README.md` for how a case's `input/` becomes the core's `Input`.
//!
//! Every case runs three ways, which must agree: thin directories listed as the CLI lists them,
//! thin directories inferred from the file paths alone (as the wasm and Node front ends pass
//! them), and thin roots written with a trailing `/`.
//!
//! Fixes: `fixed/` holds every input file that `cip lint --fix` changes (safe fixes), at its path
//! under `input/`; `fixed-unsafe/` the same with `--unsafe-fixes`, when that differs. A case
//! without fixes has neither. Fixing is checked idempotent: fixing the fixed files changes nothing.
//!
//! `UPDATE_VECTORS=1 cargo test -p cip-core --test vectors` rewrites the expected files instead
//! (review the diff before committing).

use std::fs;
use std::path::{Path, PathBuf};

use cip_core::fix::{self, Applicability};
use cip_core::{Input, LintReport, SourceFile, ThinDir};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/lint")
}

/// The exact text `cip lint --format json` prints.
fn report_json(report: &LintReport) -> String {
    let mut json = serde_json::to_string_pretty(report).expect("report serializes");
    json.push('\n');
    json
}

/// Reads `<case>/input/` as the CLI reads its PATH arguments (one per entry of `input/`): a file
/// is a plain manifest; a directory is a thin manifest directory, of which only
/// `promoter-manifest.yaml` and `images.yaml` files are read. Paths are relative to the case.
fn read_input(case: &Path, root_suffix: &str) -> Input {
    let mut files = Vec::new();
    let mut thin_dirs = Vec::new();
    for name in sorted_entries(&case.join("input")) {
        let rel = format!("input/{name}");
        let path = case.join(&rel);
        if path.is_dir() {
            let mut thin = ThinDir { root: format!("{rel}{root_suffix}"), dirs: Vec::new() };
            walk(case, &rel, &rel, &mut thin, &mut files);
            thin.dirs.sort();
            thin_dirs.push(thin);
        } else {
            files.push(SourceFile::new(rel, read_text(&path)));
        }
    }
    Input { files, thin_dirs: Some(thin_dirs) }
}

fn walk(case: &Path, root: &str, rel: &str, thin: &mut ThinDir, files: &mut Vec<SourceFile>) {
    for name in sorted_entries(&case.join(rel)) {
        let child = format!("{rel}/{name}");
        let path = case.join(&child);
        if path.is_dir() {
            thin.dirs.push(child[root.len() + 1..].to_owned());
            walk(case, root, &child, thin, files);
        } else if name == "promoter-manifest.yaml" || name == "images.yaml" {
            files.push(SourceFile::new(child, read_text(&path)));
        }
    }
}

fn read_text(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Entry names in byte order (as Rust sorts strings), so every runner sees the same order.
fn sorted_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").file_name().into_string().expect("UTF-8 file name"))
        .collect();
    names.sort();
    names
}

fn cases() -> Vec<PathBuf> {
    sorted_entries(&vectors_dir())
        .into_iter()
        .map(|name| vectors_dir().join(name))
        .filter(|path| path.join("input").is_dir())
        .collect()
}

#[test]
fn lint_vectors() {
    let update = std::env::var_os("UPDATE_VECTORS").is_some();
    let cases = cases();
    assert!(cases.len() >= 45, "expected at least 45 lint vectors, found {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let listed = read_input(case, "");
        let json = report_json(&cip_core::lint(listed.clone()));

        let inferred = Input { files: listed.files.clone(), thin_dirs: None };
        if report_json(&cip_core::lint(inferred)) != json {
            failures.push(format!("{name}: inferring the thin directories gives a different report"));
        }
        let slashed = read_input(case, "/");
        if slashed.thin_dirs.as_ref().is_some_and(|d| !d.is_empty())
            && report_json(&cip_core::lint(slashed)) != json
        {
            failures.push(format!("{name}: a trailing `/` on the thin directory changes the report"));
        }

        let expected_path = case.join("expected.json");
        if update {
            fs::write(&expected_path, &json).expect("write expected.json");
            continue;
        }
        match fs::read_to_string(&expected_path) {
            Ok(expected) if expected == json => {}
            Ok(_) => failures.push(format!("{name}: report differs from expected.json:\n{json}")),
            Err(e) => {
                failures.push(format!("{name}: cannot read expected.json ({e}); run with UPDATE_VECTORS=1"))
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} lint vectors failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The files `fix` changed, by path under `input/`, with their fixed text.
fn fixed_files(input: &Input, allow: Applicability) -> (Vec<(String, String)>, Input) {
    let outcome = fix::fix(input.clone(), allow);
    let changed = outcome
        .files
        .iter()
        .filter(|f| outcome.changed.contains(&f.path))
        .map(|f| (f.path.strip_prefix("input/").expect("paths start with input/").to_owned(), f.text.clone()))
        .collect();
    let again = Input { files: outcome.files, thin_dirs: input.thin_dirs.clone() };
    (changed, again)
}

/// Every file under `dir`, by relative path with `/`, with its text.
fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return out;
    }
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, rel)) = stack.pop() {
        for name in sorted_entries(&path) {
            let child = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            let full = path.join(&name);
            if full.is_dir() {
                stack.push((full, child));
            } else {
                out.push((child, read_text(&full)));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn fixed_vectors() {
    let update = std::env::var_os("UPDATE_VECTORS").is_some();
    let mut failures = Vec::new();
    let mut fixable = 0;
    for case in &cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let input = read_input(case, "");
        let (safe, fixed_input) = fixed_files(&input, Applicability::Safe);
        let (unsafe_, _) = fixed_files(&input, Applicability::Unsafe);
        let (again, _) = fixed_files(&fixed_input, Applicability::Safe);
        if !again.is_empty() {
            failures.push(format!(
                "{name}: a second --fix still changes {:?}",
                again.iter().map(|f| &f.0).collect::<Vec<_>>()
            ));
        }
        fixable += usize::from(!safe.is_empty() || !unsafe_.is_empty());
        let unsafe_differs = unsafe_ != safe;
        for (dir, want) in
            [("fixed", safe), ("fixed-unsafe", if unsafe_differs { unsafe_ } else { Vec::new() })]
        {
            let dir = case.join(dir);
            if update {
                let _ = fs::remove_dir_all(&dir);
                for (rel, text) in &want {
                    let path = dir.join(rel);
                    fs::create_dir_all(path.parent().unwrap()).expect("create fixed dir");
                    fs::write(path, text).expect("write fixed file");
                }
                continue;
            }
            let have = files_under(&dir);
            if have != want {
                failures.push(format!(
                    "{name}: {} differs from the fixed output:\n{}",
                    dir.display(),
                    want.iter().map(|(p, t)| format!("--- {p}\n{t}")).collect::<String>()
                ));
            }
        }
    }
    assert!(fixable >= 8, "expected at least 8 fixable lint vectors, found {fixable}");
    assert!(failures.is_empty(), "{} fixed vectors failed:\n{}", failures.len(), failures.join("\n"));
}

/// The README's Diagnostics table has a `fix` column ("safe: ...", "unsafe: ..." or empty): the
/// codes it marks are exactly the codes whose findings carry a fix of that applicability in the
/// lint vectors.
#[test]
fn readme_fix_column_matches_the_vectors() {
    use std::collections::BTreeSet;
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
    let mut documented: BTreeSet<(String, String)> = BTreeSet::new();
    let mut in_table = false;
    for line in readme.lines() {
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        if !line.trim_start().starts_with('|') {
            in_table = false;
        } else if cells.len() >= 3 && cells[..3] == ["code", "severity", "fix"] {
            in_table = true;
        } else if in_table && !cells[0].starts_with("---") {
            let kind = cells[2].split(':').next().unwrap_or_default();
            if !kind.is_empty() {
                for code in cells[0].split('`').skip(1).step_by(2) {
                    documented.insert((code.to_owned(), kind.to_owned()));
                }
            }
        }
    }
    assert!(!documented.is_empty(), "README.md has no Diagnostics table with a `fix` column");
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for case in &cases() {
        for d in cip_core::lint(read_input(case, "")).diagnostics {
            for fix in &d.fixes {
                let kind = serde_json::to_value(fix.applicability).unwrap().as_str().unwrap().to_owned();
                seen.insert((d.code.as_str().to_owned(), kind));
            }
        }
    }
    assert_eq!(documented, seen, "README.md's fix column (left) and the fixes in the vectors (right)");
}
