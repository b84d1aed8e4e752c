//! Property tests of the planner on small random manifest sets and inventories (a few registries,
//! images, digests and tags, so collisions, tag moves, lost digests and overlaps are frequent):
//! - applying a plan to its inventory and planning again leaves nothing to do;
//! - plans are deterministic and their work does not depend on the order of the input files;
//! - every edge is counted exactly once (present + copy + tag + blocked is stable under re-plan).

use std::collections::BTreeMap;

use cip_core::inventory::{ManifestInfo, Repository};
use cip_core::{Input, Inventory, PlanOptions, SourceFile};
use proptest::prelude::*;

const DESTS: [&str; 3] = ["r.io/p1", "r.io/p2", "r.io/p3/sub"];
const IMAGES: [&str; 3] = ["a", "b", "c/d"];
const TAGS: [&str; 4] = ["1", "2", "latest", "x"];
const DIGESTS: usize = 5;

fn digest(i: usize) -> String {
    format!("sha256:{}", format!("{i:x}").repeat(64))
}

/// A generated dmap: (digest index, tag indexes).
type GenDmap = Vec<(usize, Vec<usize>)>;

/// One generated manifest: source index, destination mask, images (name index, dmap).
#[derive(Clone, Debug)]
struct GenManifest {
    source: usize,
    dests: Vec<bool>,
    images: Vec<(usize, GenDmap)>,
}

fn manifest_strategy() -> impl Strategy<Value = GenManifest> {
    let dmap = prop::collection::vec((0..DIGESTS, prop::collection::vec(0..TAGS.len(), 0..3)), 1..4);
    (
        0..2usize,
        prop::collection::vec(any::<bool>(), DESTS.len()),
        prop::collection::vec((0..IMAGES.len(), dmap), 1..3),
    )
        .prop_map(|(source, dests, images)| GenManifest { source, dests, images })
}

fn render(m: &GenManifest) -> String {
    let mut s = format!("registries:\n- name: gcr.io/s{}\n  src: true\n", m.source);
    for (d, on) in DESTS.iter().zip(&m.dests) {
        if *on {
            s.push_str(&format!("- name: {d}\n"));
        }
    }
    s.push_str("images:\n");
    for (name, dmap) in &m.images {
        s.push_str(&format!("- name: {}\n  dmap:\n", IMAGES[*name]));
        let mut seen = Vec::new();
        for (d, tags) in dmap {
            if seen.contains(d) {
                continue; // a digest twice in one dmap is a YAML error, not what we test here
            }
            seen.push(*d);
            let tags: Vec<String> = tags.iter().map(|t| format!("\"{}\"", TAGS[*t])).collect();
            s.push_str(&format!("    \"{}\": [{}]\n", digest(*d), tags.join(", ")));
        }
    }
    s
}

/// A repository: which digests it holds, and which digest (if any) each tag points at.
fn repo_strategy() -> impl Strategy<Value = Repository> {
    (
        prop::collection::vec(any::<bool>(), DIGESTS),
        prop::collection::vec(prop::option::of(0..DIGESTS), TAGS.len()),
        any::<bool>(),
    )
        .prop_map(|(present, tag_targets, index)| {
            let mut repo = Repository::new();
            for (d, on) in present.iter().enumerate() {
                if *on {
                    repo.insert(digest(d), ManifestInfo::default());
                }
            }
            for (t, target) in tag_targets.iter().enumerate() {
                if let Some(d) = target.filter(|d| present[*d]) {
                    repo.get_mut(&digest(d)).expect("present").tags.push(TAGS[t].to_owned());
                }
            }
            // Sometimes digest 0 is an index of digests 1 and 2 (when all three are there).
            if index && present[0] && present[1] && present[2] {
                repo.get_mut(&digest(0)).expect("present").children = vec![digest(1), digest(2)];
            }
            for info in repo.values_mut() {
                info.tags.sort();
            }
            repo
        })
}

fn inventory_strategy() -> impl Strategy<Value = Inventory> {
    let count = 2 * IMAGES.len() + DESTS.len() * IMAGES.len();
    prop::collection::vec(prop::option::weighted(0.9, repo_strategy()), count).prop_map(|repos| {
        let mut names = Vec::new();
        for s in 0..2 {
            names.extend(IMAGES.iter().map(|i| format!("gcr.io/s{s}/{i}")));
        }
        for d in DESTS {
            names.extend(IMAGES.iter().map(|i| format!("{d}/{i}")));
        }
        let repositories: BTreeMap<String, Repository> =
            names.into_iter().zip(repos).filter_map(|(n, r)| r.map(|r| (n, r))).collect();
        Inventory { repositories }
    })
}

fn input(manifests: &[GenManifest]) -> Input {
    let files =
        manifests.iter().enumerate().map(|(i, m)| SourceFile::new(format!("m{i}.yaml"), render(m))).collect();
    Input { files, thin_dirs: Some(Vec::new()) }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn applied_plan_leaves_nothing_to_do(
        manifests in prop::collection::vec(manifest_strategy(), 1..4),
        inventory in inventory_strategy(),
        strict in any::<bool>(),
    ) {
        let options = PlanOptions { strict, ..PlanOptions::default() };
        let plan = cip_core::plan_input(input(&manifests), None, &inventory, &options);
        let after = plan.apply(&inventory);
        let again = cip_core::plan_input(input(&manifests), None, &after, &options);
        prop_assert!(again.actions.is_empty(), "re-plan found work: {:?}", again.actions);
        let total = |p: &cip_core::Plan| p.summary.copy + p.summary.tag + p.summary.present + p.summary.blocked;
        prop_assert_eq!(total(&plan), total(&again));
        if !strict {
            prop_assert!(again.summary.present >= plan.summary.present + plan.summary.copy + plan.summary.tag);
        }
    }

    #[test]
    fn plans_are_deterministic_and_order_independent(
        manifests in prop::collection::vec(manifest_strategy(), 1..4),
        inventory in inventory_strategy(),
        rotate in 0..4usize,
    ) {
        let options = PlanOptions::default();
        let first = cip_core::plan_input(input(&manifests), None, &inventory, &options).to_json();
        let second = cip_core::plan_input(input(&manifests), None, &inventory, &options).to_json();
        prop_assert_eq!(&first, &second);
        let mut files = input(&manifests).files;
        let n = files.len();
        files.rotate_left(rotate % n);
        files.reverse();
        let shuffled = Input { files, thin_dirs: Some(Vec::new()) };
        let third = cip_core::plan_input(shuffled, None, &inventory, &options);
        let original = cip_core::plan_input(input(&manifests), None, &inventory, &options);
        prop_assert_eq!(&original.actions, &third.actions);
        prop_assert_eq!(&original.blocked, &third.blocked);
        prop_assert_eq!(original.summary, third.summary);
        // The planner's own findings are order independent too. (The linter's cross-manifest
        // `destination-overlap` finding points at whichever manifest came second, by design.)
        let own = |p: &cip_core::Plan| -> Vec<cip_core::Diagnostic> {
            p.diagnostics.iter().filter(|d| ["lost", "tag-move", "inventory-missing"].contains(&d.code.as_str())).cloned().collect()
        };
        prop_assert_eq!(own(&original), own(&third));
    }

    #[test]
    fn delta_against_itself_plans_nothing(
        manifests in prop::collection::vec(manifest_strategy(), 1..4),
        inventory in inventory_strategy(),
    ) {
        let plan = cip_core::plan_input(input(&manifests), Some(input(&manifests)), &inventory, &PlanOptions::default());
        prop_assert!(plan.actions.is_empty());
        prop_assert_eq!(plan.summary.copy + plan.summary.tag + plan.summary.present + plan.summary.blocked, 0);
    }
}
