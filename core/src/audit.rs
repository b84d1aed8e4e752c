//! Audit: compare what production holds (an inventory of the destination registries) with what
//! the manifests declare, and list the drift: digests no manifest declares, and tags on declared
//! digests that no manifest gives them. Untagged children of an index are not drift: they arrive
//! with their index; nor are attachments (signatures, attestations, SBOMs, referrers): they
//! arrive with their subject. [`audit_attachments`] (`cip audit --attachments`) also compares
//! each declared digest's attachments in every destination with the source's.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::ManifestSet;
use crate::diagnostic::Diagnostic;
use crate::inventory::{CompactInventory, Inventory, untagged_children};
use crate::plan::{
    AttachmentFilter, AttachmentKind, AttachmentWalkFilter, Found, Lookup, NONE, Placed, State, expand,
    is_attachment_tag, is_referrers_index_tag, walk,
};
use crate::rules::attachment::Findings;

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
    /// With `--attachments`: the attachments of every digest in every destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<AttachmentAudit>,
}

/// What an attachment audit entry says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttachmentStatus {
    /// A source attachment the destination lacks (for a tag-scheme attachment: no manifest
    /// under the tag, or one lacking some source layer). An `attachment-missing` finding too.
    Missing,
    /// In the destination, not in the source (kept: cip never deletes; information only).
    Extra,
}

/// One attachment that is not where it should be, or is where the source has none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentEntry {
    /// Missing or extra.
    pub status: AttachmentStatus,
    /// Destination repository.
    pub repository: String,
    /// The digest it is attached to.
    pub subject: String,
    /// The attachment's digest (in the source when missing, in the destination when extra).
    pub digest: String,
    /// Signature, attestation, SBOM or referrer.
    pub kind: AttachmentKind,
    /// Its tag-scheme tag (empty for a referrer).
    pub tags: Vec<String>,
    /// Its `artifactType`, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

/// Counts of an attachment audit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentSummary {
    /// Subjects audited per destination repository: the declared digests there, the children
    /// of the indexes among them, and their attachments.
    pub subjects: usize,
    /// Source attachments present in their destination.
    pub complete: usize,
    /// Source attachments missing from their destination.
    pub missing: usize,
    /// Destination attachments the source does not have.
    pub extra: usize,
}

/// The attachment part of an audit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentAudit {
    /// Missing and extra attachments, sorted by repository, subject, status and digest.
    pub entries: Vec<AttachmentEntry>,
    /// Counts.
    pub summary: AttachmentSummary,
}

impl AuditReport {
    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        crate::wire::pretty_json(self)
    }
}

/// Audits every repository of `inventory` lying under a destination registry of `set`.
pub fn audit(set: &ManifestSet, inventory: &Inventory) -> AuditReport {
    let edges = expand(set, &[]);
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
            if children.contains(digest.as_str()) || is_attachment(info) {
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

/// Attachments (referrers, cosign tag-scheme attachments, the referrers tag schema index) are
/// never declared by manifests: they travel with their subjects, so they are not drift
/// (`--attachments` audits them).
fn is_attachment(info: &crate::inventory::ManifestInfo) -> bool {
    info.subject.is_some()
        || (!info.tags.is_empty()
            && info.tags.iter().all(|t| is_attachment_tag(t) || is_referrers_index_tag(t)))
}

/// [`audit`] plus the attachment audit (`cip audit --attachments`): for every digest the
/// manifests declare in every destination repository that holds it (and every child of such an
/// index), the source's attachments (to [`crate::plan::MAX_ATTACHMENT_DEPTH`] levels, as the
/// planner follows them) are compared with the destination's, read from the inventory, never
/// assumed: present (complete), missing (an entry and an `attachment-missing` finding at the
/// manifest entry), or only in the destination (extra, information).
pub fn audit_attachments(set: &ManifestSet, inventory: &Inventory) -> AuditReport {
    let mut report = audit(set, inventory);
    let compact = CompactInventory::from(inventory);
    let edges = expand(set, &[]);
    let mut lookup = Lookup::new(&compact);
    // Every declared digest in every destination repository that holds it, once.
    let mut placed: Vec<Placed<'_>> = Vec::new();
    let mut declared: HashSet<(u32, u32)> = HashSet::new();
    for e in edges.list.iter().filter(|e| e.src != NONE) {
        let (dst, digest) = (edges.repos[e.dst as usize].as_str(), edges.digests[e.digest as usize]);
        let there = lookup.repo(dst).is_some_and(|r| r.get(compact.digest_id(digest)).is_some());
        if there && declared.insert((e.dst, e.digest)) {
            placed.push(Placed {
                src: edges.repos[e.src as usize].as_str(),
                dst,
                digest,
                site: e.site,
                registry: 0,
            });
        }
    }
    let filter = AttachmentWalkFilter::new(AttachmentFilter::All, &[]);
    let mut findings = Findings::default();
    let mut audit = AttachmentAudit::default();
    let mut entries: Vec<AttachmentEntry> = Vec::new();
    let mut subjects: HashSet<(&str, u32)> = HashSet::new();
    let entry =
        |status, dst: &str, subject: u32, found: &Found<'_>, artifact_type: Option<u32>| AttachmentEntry {
            status,
            repository: dst.to_owned(),
            subject: compact.digest(subject).to_owned(),
            digest: compact.digest(found.entry.digest).to_owned(),
            kind: found.kind,
            tags: found.tag.iter().map(|(t, _)| t.clone()).collect(),
            artifact_type: artifact_type.map(|t| compact.name(t).to_owned()),
        };
    let mut visits: Vec<(State, AttachmentEntry, crate::plan::edge::Site)> = Vec::new();
    walk(
        &mut lookup,
        placed,
        &filter,
        &mut findings,
        |lookup, p, subject| {
            let Some(dst) = lookup.repo(p.dst) else { return };
            if dst.get(subject).is_none() || !subjects.insert((p.dst, subject)) {
                return;
            }
            let ours = lookup.attachments(p.src, subject, &filter);
            for theirs in lookup.attachments(p.dst, subject, &filter) {
                let counterpart = ours.iter().any(|o| match (&o.tag, &theirs.tag) {
                    (Some(_), Some(_)) => o.kind == theirs.kind,
                    (None, None) => o.entry.digest == theirs.entry.digest,
                    _ => false,
                });
                if !counterpart {
                    entries.push(entry(
                        AttachmentStatus::Extra,
                        p.dst,
                        subject,
                        &theirs,
                        dst.artifact_type(theirs.entry),
                    ));
                }
            }
        },
        |lookup, v| {
            let state = lookup.state(v.src, v.placed.dst, v.found);
            let artifact_type = v.src.artifact_type(v.found.entry);
            visits.push((
                state,
                entry(AttachmentStatus::Missing, v.placed.dst, v.subject, v.found, artifact_type),
                v.placed.site,
            ));
        },
    );
    audit.summary.subjects = subjects.len();
    for (state, missing, site) in visits {
        if state == State::Present {
            audit.summary.complete += 1;
            continue;
        }
        let what = match missing.tags.first() {
            Some(tag) => format!("{} {tag}", missing.kind.as_str()),
            None => format!("{} {}", missing.kind.as_str(), missing.digest),
        };
        let what = if state == State::Merge { format!("{what} (some of its layers)") } else { what };
        findings.missing(site, &missing.repository, what);
        entries.push(missing);
    }
    entries.sort_by(|a, b| {
        (&a.repository, &a.subject, a.status, &a.digest).cmp(&(
            &b.repository,
            &b.subject,
            b.status,
            &b.digest,
        ))
    });
    audit.summary.missing = entries.iter().filter(|e| e.status == AttachmentStatus::Missing).count();
    audit.summary.extra = entries.len() - audit.summary.missing;
    audit.entries = entries;
    findings.report(set, &mut report.diagnostics);
    crate::diagnostic::sort_diagnostics(&mut report.diagnostics);
    report.attachments = Some(audit);
    report
}
