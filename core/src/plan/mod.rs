//! Promotion planning: manifests plus an [`Inventory`] of the registries in, a [`Plan`] out.
//!
//! Every (image, digest, destination registry, tag) of the manifests is an *edge* (a digest with
//! no tags gives one tagless edge). Each edge ends up as part of a `copy` action (digest absent
//! in the destination repository), part of a `tag` action (digest present, tag missing), counted
//! as already present, or blocked with its reasons. Errors block only the edges they concern
//! (blast radius); `strict` blocks all work when anything is wrong.
//!
//! The planner is a pure function of its inputs: the same manifests and inventory give the same
//! plan, byte for byte, whatever order the files came in.

mod attach;
mod blast;
mod classify;
pub(crate) mod delta;
pub(crate) mod edge;
mod gate;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ManifestSet;
use crate::diagnostic::Diagnostic;
use crate::inventory::{CompactInventory, Inventory};

pub use attach::MAX_ATTACHMENT_DEPTH;
pub(crate) use attach::{
    Filter as AttachmentWalkFilter, Found, Lookup, Placed, State, is_attachment_tag, is_referrers_index_tag,
    walk,
};
pub(crate) use edge::{NONE, expand};

/// How to plan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanOptions {
    /// Any error blocks every action, not only the edges it concerns.
    #[serde(default)]
    pub strict: bool,
    /// `--attachments`: which attachments travel with the digests placed.
    #[serde(default)]
    pub attachments: AttachmentFilter,
    /// `--attachment-type`: when given, only referrers with one of these `artifactType`s travel
    /// (tag-scheme attachments are not filtered by it).
    #[serde(default, rename = "attachmentType", skip_serializing_if = "Vec::is_empty")]
    pub attachment_types: Vec<String>,
    /// The trust gate's policy (`--require-signature`, `--verify-key`, ...; see
    /// [`crate::trust`]): the source signatures and attestations of every digest with work to
    /// do are verified, and a digest that fails is blocked (`signature-invalid`,
    /// `signature-missing`, `attestation-invalid`, `attestation-missing`). With the default (no
    /// option), a present signature that does not verify is still `signature-invalid`. Front
    /// ends compile it first ([`crate::trust::Policy::new`]) so a bad key is the caller's
    /// error; options that do not compile refuse every digest checked.
    #[serde(default, skip_serializing_if = "is_default_trust")]
    pub trust: crate::trust::TrustOptions,
}

fn is_default_trust(trust: &crate::trust::TrustOptions) -> bool {
    *trust == crate::trust::TrustOptions::default()
}

/// `--attachments all|signatures|none`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttachmentFilter {
    /// Every attachment: signatures, attestations, SBOMs and referrers.
    #[default]
    All,
    /// Signatures only: `.sig` tags and referrers whose `artifactType` is a Sigstore bundle or a
    /// cosign signature ([`SIGNATURE_ARTIFACT_TYPES`]).
    Signatures,
    /// No attachments.
    None,
}

/// Referrer `artifactType`s that `--attachments signatures` keeps: Sigstore bundles (cosign v3's
/// default signatures; any bundle version) and cosign's signature artifact type.
pub const SIGNATURE_ARTIFACT_TYPES: &[&str] =
    &[crate::trust::BUNDLE_TYPE_PREFIX, "application/vnd.dev.cosign.artifact.sig"];

impl std::str::FromStr for AttachmentFilter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(Self::All),
            "signatures" => Ok(Self::Signatures),
            "none" => Ok(Self::None),
            _ => Err(format!("unknown attachments filter `{s}`: expected all, signatures or none")),
        }
    }
}

/// What an action does in its destination repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// Copy the digest (and, for an index, its children) from the source, then set the tags.
    Copy,
    /// The digest is already there: add the tags.
    Tag,
    /// Copy an attachment (a signature, attestation, SBOM or other referrer) of a digest placed
    /// in this repository; after the copies and tags of the repository.
    Attach,
}

/// The kind of an attachment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttachmentKind {
    /// A cosign signature under the tag `sha256-<hex>.sig`.
    Sig,
    /// A cosign attestation under `sha256-<hex>.att`.
    Att,
    /// A cosign SBOM under `sha256-<hex>.sbom`.
    Sbom,
    /// An OCI 1.1 referrer: a manifest whose `subject` is the digest.
    Referrer,
}

impl AttachmentKind {
    /// The tag-scheme kinds with their tag suffixes.
    pub const TAG_SCHEME: [(AttachmentKind, &'static str); 3] =
        [(AttachmentKind::Sig, "sig"), (AttachmentKind::Att, "att"), (AttachmentKind::Sbom, "sbom")];

    /// The wire name: `sig`, `att`, `sbom` or `referrer`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AttachmentKind::Sig => "sig",
            AttachmentKind::Att => "att",
            AttachmentKind::Sbom => "sbom",
            AttachmentKind::Referrer => "referrer",
        }
    }

    /// The tag cosign gives this kind of attachment of `subject` (`sha256-<hex>.sig`); `None`
    /// for a referrer (or a subject that is not a `sha256:` digest).
    pub fn tag(self, subject: &str) -> Option<String> {
        let hex = subject.strip_prefix("sha256:")?;
        let suffix = Self::TAG_SCHEME.iter().find(|(k, _)| *k == self)?.1;
        Some(format!("sha256-{hex}.{suffix}"))
    }
}

/// What an `attach` action carries besides the digest: what it is attached to and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// Signature, attestation, SBOM or referrer.
    pub kind: AttachmentKind,
    /// The digest it is attached to (an image, an index child, or another attachment).
    pub subject: String,
    /// Its `artifactType`, when the inventory records one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The destination holds a different manifest under the tag, lacking some source layer:
    /// write the union of both layer lists (source order first), never dropping a layer.
    pub merge: bool,
}

/// One unit of work: one digest in one destination repository, with all its tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// Copy or tag.
    pub action: ActionKind,
    /// Source reference, `<repo>@<digest>`.
    pub src: String,
    /// Destination repository.
    pub dst: String,
    /// The digest.
    pub digest: String,
    /// Tags to set, sorted (empty for a tagless copy).
    pub tags: Vec<String>,
    /// Media type of the manifest, when the inventory knows it.
    pub media_type: Option<String>,
    /// For an `attach` action: the attachment (absent for copy and tag actions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

/// Edges that will not be acted on, grouped by destination, digest and reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blocked {
    /// Source reference `<repo>@<digest>`; `null` when the manifest has no single source.
    pub src: Option<String>,
    /// Destination repository.
    pub dst: String,
    /// The digest.
    pub digest: String,
    /// The blocked tags, sorted (empty for a tagless edge).
    pub tags: Vec<String>,
    /// Why: the codes ([`Code::as_str`](crate::Code::as_str)) of the findings that block these
    /// edges (`lost`, `tag-move`, `digest-invalid`, ...), sorted; or [`STRICT_REASON`] alone when
    /// only `--strict` blocks them. Strings, as `strict` is an option, not a finding code.
    pub reasons: Vec<String>,
}

/// The reason of edges blocked only because `--strict` found a problem elsewhere.
pub const STRICT_REASON: &str = "strict";

/// Edge counts: every edge is exactly one of these.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanSummary {
    /// Edges served by copy actions.
    pub copy: usize,
    /// Edges served by tag actions.
    pub tag: usize,
    /// Edges already in place.
    pub present: usize,
    /// Edges blocked.
    pub blocked: usize,
    /// Attach actions (not edges: attachments are not declared in manifests). Omitted when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attach: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The plan: ordered actions, blocked edges, findings and counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Work in execution order: per destination repository, copies (children before their
    /// index) then tag additions.
    pub actions: Vec<Action>,
    /// Blocked edges, sorted by destination, digest, source.
    pub blocked: Vec<Blocked>,
    /// Lint findings of the manifests plus planning findings (`lost`, `tag-move`, ...), sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Counts.
    pub summary: PlanSummary,
    /// Counts per destination registry as named in the manifests (for the human table; not part
    /// of the JSON).
    #[serde(skip)]
    pub destinations: BTreeMap<String, PlanSummary>,
}

impl Plan {
    /// Deterministic pretty JSON with a trailing newline (the shape every front end prints).
    pub fn to_json(&self) -> String {
        crate::wire::pretty_json(self)
    }

    /// True when any edge is blocked or any finding is an error.
    pub fn has_problems(&self) -> bool {
        self.summary.blocked > 0 || self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The inventory after this plan ran successfully: copies add the digest (and an index's
    /// children, untagged when new) with its tags, tag actions add tags. Used to check that a
    /// plan is complete (re-planning the result finds nothing to do) and by dry runs.
    pub fn apply(&self, inventory: &Inventory) -> Inventory {
        let mut out = inventory.clone();
        for action in &self.actions {
            let src_repo = action.src.rsplit_once('@').map_or("", |(r, _)| r);
            let source = inventory.repository(src_repo).cloned().unwrap_or_default();
            let repo = out.repositories.entry(action.dst.clone()).or_default();
            if action.attachment.as_ref().is_some_and(|a| a.merge) {
                // The engine writes the union of both layer lists under the tag: as a new
                // manifest in truth, here as the tag's holder gaining the source's layers.
                merge_layers(&source, repo, action);
                continue;
            }
            if matches!(action.action, ActionKind::Copy | ActionKind::Attach) {
                copy_manifest(&source, repo, &action.digest, 0);
            }
            let info = repo.entry(action.digest.clone()).or_default();
            info.tags.extend(action.tags.iter().cloned());
            info.tags.sort();
            info.tags.dedup();
        }
        out
    }
}

/// A merging attach: the destination manifest under the action's tag gains the source
/// attachment's layers it lacks (source order, after its own).
fn merge_layers(
    source: &crate::inventory::Repository,
    dst: &mut crate::inventory::Repository,
    action: &Action,
) {
    let ours = source.get(&action.digest).map(|i| i.layers.clone()).unwrap_or_default();
    let holder = dst.values_mut().find(|info| action.tags.iter().any(|t| info.tags.contains(t)));
    if let Some(info) = holder {
        for layer in ours {
            if !info.layers.contains(&layer) {
                info.layers.push(layer);
            }
        }
    }
}

/// Copies one manifest and, recursively, the children it lists (depth-capped against cycles in
/// hand-written inventories).
fn copy_manifest(
    source: &crate::inventory::Repository,
    dst: &mut crate::inventory::Repository,
    digest: &str,
    depth: usize,
) {
    let info = source.get(digest).cloned().unwrap_or_default();
    if depth < 8 {
        for child in &info.children {
            copy_manifest(source, dst, child, depth + 1);
        }
    }
    dst.entry(digest.to_owned()).or_insert(crate::inventory::ManifestInfo { tags: Vec::new(), ..info });
}

/// What a plan is made against: an [`Inventory`] (made compact for the plan) or a
/// [`CompactInventory`] read straight from JSON, as `cip plan --inventory` does at scale.
pub trait PlanInventory {
    /// The inventory in the form the planner reads.
    fn compact(&self) -> Cow<'_, CompactInventory>;
}

impl PlanInventory for Inventory {
    fn compact(&self) -> Cow<'_, CompactInventory> {
        Cow::Owned(CompactInventory::from(self))
    }
}

impl PlanInventory for CompactInventory {
    fn compact(&self) -> Cow<'_, CompactInventory> {
        Cow::Borrowed(self)
    }
}

/// Plans a promotion of every edge of `set`.
pub fn plan<I: PlanInventory + ?Sized>(set: &ManifestSet, inventory: &I, options: &PlanOptions) -> Plan {
    plan_delta(set, None, inventory, options)
}

/// Plans a promotion; with a `base` (the manifests as of the last promotion), only edges of
/// digests added or whose tag lists changed since the base are planned, and entries removed
/// since the base are reported as warnings (nothing is ever deleted).
pub fn plan_delta<I: PlanInventory + ?Sized>(
    set: &ManifestSet,
    base: Option<&ManifestSet>,
    inventory: &I,
    options: &PlanOptions,
) -> Plan {
    let mut diagnostics = set.diagnostics.clone();
    let mut edges = expand(set, &set.diagnostics);
    edges.mark_overlaps(set);
    if let Some(base) = base {
        let base_edges = expand(base, &[]);
        delta::apply(&mut edges, base, &base_edges, &mut diagnostics);
    }
    let inventory = inventory.compact();
    let mut plan = classify::classify(set, &edges, &inventory, options, &mut diagnostics);
    crate::diagnostic::sort_diagnostics(&mut diagnostics);
    plan.diagnostics = diagnostics;
    if options.strict && plan.has_problems() {
        classify::block_all(&mut plan);
    }
    plan
}

/// Every repository the plan of `set` needs in its inventory (sources and destinations, full
/// paths, sorted): what an online run reads from the registries.
pub fn required_repositories(set: &ManifestSet) -> Vec<String> {
    let edges = expand(set, &[]);
    let mut repos: Vec<String> = edges.used_repositories().map(str::to_owned).collect();
    repos.sort();
    repos.dedup();
    repos
}
