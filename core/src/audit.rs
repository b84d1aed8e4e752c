//! Audit: compare what production holds (an inventory of the destination registries) with what
//! the manifests declare, and list the drift: digests no manifest declares, and tags on declared
//! digests that no manifest gives them. Untagged children of an index are not drift: they arrive
//! with their index.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::ManifestSet;
use crate::diagnostic::Diagnostic;
use crate::inventory::{Inventory, untagged_children};

/// What kind of drift an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftKind {
    /// No manifest declares this digest in this repository; `tags` are all its tags.
    Digest,
    /// The digest is declared, but not with `tags`.
    Tags,
}

/// One drift entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// Undeclared digest, or declared digest with undeclared tags.
    pub kind: DriftKind,
    /// Full repository path.
    pub repository: String,
    /// The digest.
    pub digest: String,
    /// The undeclared tags, sorted.
    pub tags: Vec<String>,
}

/// Counts of an audit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditSummary {
    /// Repositories audited (those under a destination registry of the manifests).
    pub repositories: usize,
    /// Digests audited.
    pub digests: usize,
    /// Drift entries.
    pub drift: usize,
}

/// The audit report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Drift, sorted by repository and digest.
    pub drift: Vec<Drift>,
    /// Lint findings of the manifests.
    pub diagnostics: Vec<Diagnostic>,
    /// Counts.
    pub summary: AuditSummary,
}

impl AuditReport {
    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        crate::wire::pretty_json(self)
    }
}

/// Audits every repository of `inventory` lying under a destination registry of `set`.
pub fn audit(set: &ManifestSet, inventory: &Inventory) -> AuditReport {
    let edges = crate::plan::expand(set, &[]);
    // repository -> digest -> declared tags
    let mut declared: HashMap<&str, HashMap<&str, HashSet<&str>>> = HashMap::new();
    for e in &edges.list {
        let tags = declared
            .entry(edges.repos[e.dst as usize].as_str())
            .or_default()
            .entry(edges.digests[e.digest as usize])
            .or_default();
        tags.extend(edges.tag_text(e));
    }
    let registries: BTreeSet<&str> =
        set.manifests.iter().flat_map(|m| m.destinations()).map(|r| r.name.value.as_str()).collect();
    let repos: std::collections::BTreeMap<&str, &crate::inventory::Repository> = registries
        .iter()
        .flat_map(|reg| {
            inventory.repositories.iter().filter(move |(k, _)| {
                k.strip_prefix(*reg).is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
            })
        })
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    let mut report = AuditReport { diagnostics: set.diagnostics.clone(), ..Default::default() };
    for (path, repo) in repos {
        report.summary.repositories += 1;
        let children = untagged_children(repo);
        let wanted = declared.get(path);
        for (digest, info) in repo {
            report.summary.digests += 1;
            if children.contains(digest.as_str()) {
                continue;
            }
            let (kind, tags): (DriftKind, Vec<String>) = match wanted.and_then(|w| w.get(digest.as_str())) {
                None => (DriftKind::Digest, info.tags.clone()),
                Some(tags) => (
                    DriftKind::Tags,
                    info.tags.iter().filter(|t| !tags.contains(t.as_str())).cloned().collect(),
                ),
            };
            if kind == DriftKind::Tags && tags.is_empty() {
                continue;
            }
            report.drift.push(Drift { kind, repository: path.to_owned(), digest: digest.clone(), tags });
        }
    }
    report.summary.drift = report.drift.len();
    report
}
