//! Snapshots: the `images:` list of a registry, in the exact text the Go promoter writes (YAML or
//! CSV), from an inventory (what the registry holds) or from manifests (what promotion would
//! place there). Both are sorted by image name, digest and tag, so a snapshot diffs cleanly.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::ManifestSet;
use crate::inventory::{Inventory, untagged_children};

/// What to keep in a snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnapshotOptions {
    /// Drop untagged digests that an index of the same repository lists (they travel with it).
    #[serde(default)]
    pub minimal: bool,
    /// Keep only digests carrying this tag (with all their tags).
    #[serde(default)]
    pub snapshot_tag: Option<String>,
}

/// One image of a snapshot: its name relative to the registry and digest -> sorted tags.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotImage {
    /// Image name relative to the snapshotted registry.
    pub name: String,
    /// Digest -> tags, both sorted.
    pub dmap: BTreeMap<String, Vec<String>>,
}

/// A snapshot: images sorted by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Images with at least one digest.
    pub images: Vec<SnapshotImage>,
}

impl Snapshot {
    /// The Go promoter's YAML: `- name: foo`, `  dmap:`, `    "sha256:...": ["1.0", "latest"]`.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        for image in &self.images {
            let _ = writeln!(out, "- name: {}", image.name);
            out.push_str("  dmap:\n");
            for (digest, tags) in &image.dmap {
                let tags: Vec<String> = tags.iter().map(|t| quote(t)).collect();
                let _ = writeln!(out, "    {}: [{}]", quote(digest), tags.join(", "));
            }
        }
        out
    }

    /// The Go promoter's CSV: one `name@digest,name:tag` line per tag, `name@digest,-` when untagged.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        for image in &self.images {
            let name = &image.name;
            for (digest, tags) in &image.dmap {
                if tags.is_empty() {
                    let _ = writeln!(out, "{name}@{digest},-");
                }
                for tag in tags {
                    let _ = writeln!(out, "{name}@{digest},{name}:{tag}");
                }
            }
        }
        out
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        crate::wire::pretty_json(self)
    }

    fn from_map(map: BTreeMap<String, BTreeMap<String, Vec<String>>>, options: &SnapshotOptions) -> Self {
        let images = map
            .into_iter()
            .map(|(name, mut dmap)| {
                if let Some(t) = &options.snapshot_tag {
                    dmap.retain(|_, tags| tags.contains(t));
                }
                for tags in dmap.values_mut() {
                    tags.sort();
                    tags.dedup();
                }
                SnapshotImage { name, dmap }
            })
            .filter(|image| !image.dmap.is_empty())
            .collect();
        Self { images }
    }
}

/// A double-quoted string as Go's `%q` writes it (the texts here are ASCII names, so escaping
/// `"` and `\` is all it takes).
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The snapshot of `registry` (a prefix such as `gcr.io/k8s-artifacts-prod`, matched exactly
/// followed by `/`) as the inventory holds it.
pub fn snapshot(inventory: &Inventory, registry: &str, options: &SnapshotOptions) -> Snapshot {
    let mut map: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for (name, repo) in inventory.under(registry) {
        let children = if options.minimal { untagged_children(repo) } else { Default::default() };
        let dmap = map.entry(name.to_owned()).or_default();
        for (digest, info) in repo {
            if !children.contains(digest.as_str()) {
                dmap.insert(digest.clone(), info.tags.clone());
            }
        }
    }
    Snapshot::from_map(map, options)
}

/// What the manifests would place under `registry` (offline): every edge not blocked by a lint
/// error whose destination repository lies under it, the image name re-prefixed with the rest of
/// the destination path. `minimal` has no effect here: manifests do not say which digests are
/// children of an index.
pub fn snapshot_manifests(set: &ManifestSet, registry: &str, options: &SnapshotOptions) -> Snapshot {
    let mut edges = crate::plan::expand(set, &set.diagnostics);
    edges.mark_overlaps(set);
    let prefix = registry.trim_end_matches('/');
    let mut map: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for e in edges.list.iter().filter(|e| e.reasons == 0) {
        let repo = edges.repos[e.dst as usize].as_str();
        let Some(name) = repo.strip_prefix(prefix).and_then(|r| r.strip_prefix('/')) else { continue };
        let tags = map.entry(name.to_owned()).or_default().entry(edges.digests[e.digest as usize].to_owned());
        let tags = tags.or_default();
        tags.extend(edges.tag_text(e).map(str::to_owned));
    }
    Snapshot::from_map(map, options)
}
