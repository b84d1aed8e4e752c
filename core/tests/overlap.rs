//! `destination-overlap` has one implementation (`rules/overlap.rs`): the linter reports it and
//! the planner blocks exactly the destination tags it finds, with no findings of its own. These
//! cases pin that the two agree where they once did not: a host written in another case, and a
//! tag site that only the planner used to name.

use cip_core::inventory::{ManifestInfo, Repository};
use cip_core::{Code, Diagnostic, Input, Inventory, PlanOptions, SourceFile};

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

fn manifest(source: &str, destination: &str, entries: &[(&str, &str)]) -> String {
    let mut text = format!("registries:\n- name: {source}\n  src: true\n- name: {destination}\nimages:\n");
    for (digest, tag) in entries {
        text.push_str(&format!("- name: foo\n  dmap:\n    \"{digest}\": [\"{tag}\"]\n"));
    }
    text
}

fn input(files: &[(&str, String)]) -> Input {
    let files = files.iter().map(|(path, text)| SourceFile::new(*path, text.as_str())).collect();
    Input { files, thin_dirs: Some(Vec::new()) }
}

/// Sources hold both digests; destinations are known and empty.
fn inventory(repos: &[&str]) -> Inventory {
    let mut inventory = Inventory::default();
    for repo in repos {
        let mut manifests = Repository::new();
        if repo.contains("staging") {
            for digest in [D1, D2] {
                manifests.insert(digest.to_owned(), ManifestInfo::default());
            }
        }
        inventory.repositories.insert((*repo).to_owned(), manifests);
    }
    inventory
}

fn overlaps(diagnostics: &[Diagnostic]) -> Vec<&Diagnostic> {
    diagnostics.iter().filter(|d| d.code == Code::DestinationOverlap).collect()
}

/// The linter's overlap findings are the planner's, and every edge (declarations of one edge in
/// several places count once) is blocked for it.
fn assert_agree(input: Input, inventory: &Inventory, edges: usize) -> Vec<Diagnostic> {
    let lint = cip_core::lint(input.clone());
    let plan = cip_core::plan_input(input, None, inventory, &PlanOptions::default());
    assert_eq!(overlaps(&lint.diagnostics), overlaps(&plan.diagnostics));
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
    assert_eq!(plan.summary.blocked, edges);
    for blocked in &plan.blocked {
        assert_eq!(blocked.reasons, ["destination-overlap"], "{blocked:?}");
    }
    lint.diagnostics
}

#[test]
fn a_host_in_another_case_is_the_same_destination() {
    let files = [
        ("a.yaml", manifest("gcr.io/staging-a", "GCR.io/prod", &[(D1, "1.0")])),
        ("b.yaml", manifest("gcr.io/staging-b", "gcr.io/prod", &[(D2, "1.0")])),
    ];
    let inventory =
        inventory(&["gcr.io/staging-a/foo", "gcr.io/staging-b/foo", "GCR.io/prod/foo", "gcr.io/prod/foo"]);
    let found = assert_agree(input(&files), &inventory, 2);
    let found = overlaps(&found);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].location.file, "b.yaml");
    assert!(
        found[0].message.starts_with("gcr.io/prod/foo:1.0 would get two different digests"),
        "{}",
        found[0].message
    );
}

#[test]
fn every_site_of_an_overlap_is_named() {
    // b.yaml gives tag 1.0 two digests (a `tag-conflict`); a.yaml agrees with b.yaml's first one,
    // so the owners' first sites do not differ, but a.yaml's edge is blocked too and is named.
    let files = [
        ("a.yaml", manifest("gcr.io/staging", "gcr.io/prod", &[(D1, "1.0")])),
        ("b.yaml", manifest("gcr.io/staging", "gcr.io/prod", &[(D1, "1.0"), (D2, "1.0")])),
    ];
    let inventory = inventory(&["gcr.io/staging/foo", "gcr.io/prod/foo"]);
    let found = assert_agree(input(&files), &inventory, 2);
    let codes: Vec<(&str, u32, Code)> =
        found.iter().map(|d| (d.location.file.as_str(), d.location.line, d.code)).collect();
    assert!(codes.contains(&("b.yaml", 11, Code::TagConflict)), "{codes:?}");
    let named = overlaps(&found);
    assert_eq!(named.len(), 1, "{named:?}");
    assert_eq!((named[0].location.file.as_str(), named[0].location.line), ("a.yaml", 8));
    assert_eq!(
        named[0].message,
        format!("gcr.io/prod/foo:1.0 would get two different digests: {D1} here and {D2} elsewhere")
    );
    assert_eq!((named[0].labels[0].location.file.as_str(), named[0].labels[0].location.line), ("b.yaml", 11));
}

#[test]
fn findings_do_not_depend_on_the_order_of_files() {
    let files = [
        ("a.yaml", manifest("gcr.io/staging", "gcr.io/prod", &[(D1, "1.0")])),
        ("b.yaml", manifest("gcr.io/staging", "gcr.io/prod", &[(D1, "1.0"), (D2, "1.0")])),
        ("c.yaml", manifest("gcr.io/staging", "GCR.io/prod", &[(D2, "1.0"), (D1, "1.0")])),
    ];
    let forward = cip_core::lint(input(&files));
    let mut reversed = files.to_vec();
    reversed.reverse();
    assert_eq!(forward, cip_core::lint(input(&reversed)));
}
