//! Attachments travel with their subjects: for every digest a plan places in a destination
//! repository (and every child an index lists), its cosign tag-scheme attachments
//! (`sha256-<hex>.sig`, `.att`, `.sbom` in the source repository) and its OCI 1.1 referrers
//! (manifests whose `subject` is the digest), then theirs, to [`MAX_ATTACHMENT_DEPTH`] levels.
//!
//! The walk compares each source attachment with the destination: there already (nothing to
//! do), missing (`attach`), or, for a tag-scheme attachment, the destination's tag holding
//! another manifest that lacks some source layer (`attach` with `merge`: the engine writes the
//! union of both layer lists, so a destination signature is never dropped). A destination tag
//! holding every source layer is left alone. The plan and the attachment audit
//! ([`crate::audit`]) share this walk, so they cannot disagree.

use std::collections::BTreeSet;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::inventory::{CompactInventory, Entry, NONE, RepoView};
use crate::rules::attachment::Findings;

use super::edge::Site;
use super::{Action, ActionKind, Attachment, AttachmentFilter, AttachmentKind, Blocked, PlanOptions};
use super::{PlanSummary, SIGNATURE_ARTIFACT_TYPES};
use crate::rules::Code;

/// How many levels of attachments are followed: attachments of a digest (1), theirs (a
/// signature on an SBOM, 2), and theirs (3). Deeper ones get `attachment-too-deep`.
pub const MAX_ATTACHMENT_DEPTH: usize = 3;

/// A digest the manifests place in a destination repository, with the manifest entry that
/// places it (findings point there).
#[derive(Clone, Copy)]
pub(crate) struct Placed<'a> {
    pub src: &'a str,
    pub dst: &'a str,
    pub digest: &'a str,
    pub site: Site,
    /// Destination registry id (per-destination counts).
    pub registry: u32,
}

impl<'a> Placed<'a> {
    /// The digest of edge `e` in its destination, placed by `e`'s manifest entry.
    pub(crate) fn of(e: &super::edge::Edge, edges: &'a super::edge::Edges<'a>) -> Self {
        Placed {
            src: edges.repos[e.src as usize].as_str(),
            dst: edges.repos[e.dst as usize].as_str(),
            digest: edges.digests[e.digest as usize],
            site: e.site,
            registry: e.registry,
        }
    }
}

/// Which attachments travel (`--attachments`, `--attachment-type`).
pub(crate) struct Filter<'o> {
    what: AttachmentFilter,
    types: &'o [String],
}

impl<'o> Filter<'o> {
    pub(crate) fn new(what: AttachmentFilter, types: &'o [String]) -> Self {
        Filter { what, types }
    }

    pub(crate) fn of(options: &'o PlanOptions) -> Self {
        Self::new(options.attachments, &options.attachment_types)
    }

    fn none(&self) -> bool {
        self.what == AttachmentFilter::None
    }

    fn tag_scheme(&self, kind: AttachmentKind) -> bool {
        match self.what {
            AttachmentFilter::All => true,
            AttachmentFilter::Signatures => kind == AttachmentKind::Sig,
            AttachmentFilter::None => false,
        }
    }

    fn referrer(&self, artifact_type: Option<&str>) -> bool {
        let signature =
            || artifact_type.is_some_and(|t| SIGNATURE_ARTIFACT_TYPES.iter().any(|s| t.starts_with(s)));
        let typed =
            || self.types.is_empty() || artifact_type.is_some_and(|t| self.types.iter().any(|x| x == t));
        match self.what {
            AttachmentFilter::All => typed(),
            AttachmentFilter::Signatures => signature() && typed(),
            AttachmentFilter::None => false,
        }
    }
}

/// One attachment of a subject in one repository.
#[derive(Clone)]
pub(crate) struct Found<'a> {
    pub entry: &'a Entry,
    pub kind: AttachmentKind,
    /// The tag-scheme tag (`sha256-<hex>.sig`) and its name id; `None` for a referrer.
    pub tag: Option<(String, u32)>,
}

/// Where a source attachment stands in the destination.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// The same manifest, or (tag scheme) one holding every source layer under the tag.
    Present,
    /// Absent.
    Missing,
    /// The tag holds another manifest lacking some source layer.
    Merge,
}

/// Per-repository lookups, built on first use: attachment tags and referrers by subject. Only
/// attachment tags are indexed, so an inventory without attachments costs one scan of its
/// entries' tags.
#[derive(Default)]
struct Index<'a> {
    by_tag: HashMap<u32, &'a Entry>,
    by_subject: HashMap<u32, Vec<&'a Entry>>,
}

/// The attachment lookups over one inventory.
pub(crate) struct Lookup<'a> {
    pub inventory: &'a CompactInventory,
    repos: HashMap<&'a str, Option<(RepoView<'a>, Index<'a>)>>,
}

/// True for the referrers tag schema's index tag (`sha256-<64 hex>`), which the engine keeps.
pub(crate) fn is_referrers_index_tag(tag: &str) -> bool {
    tag.strip_prefix("sha256-")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// True for a cosign tag-scheme tag (`sha256-<64 hex>.sig|.att|.sbom`).
pub(crate) fn is_attachment_tag(tag: &str) -> bool {
    tag.strip_prefix("sha256-").and_then(|rest| rest.split_once('.')).is_some_and(|(hex, suffix)| {
        hex.len() == 64 && AttachmentKind::TAG_SCHEME.iter().any(|(_, s)| *s == suffix)
    })
}

impl<'a> Lookup<'a> {
    pub(crate) fn new(inventory: &'a CompactInventory) -> Self {
        Lookup { inventory, repos: HashMap::default() }
    }

    fn indexed(&mut self, path: &'a str) -> Option<&(RepoView<'a>, Index<'a>)> {
        let inventory = self.inventory;
        self.repos
            .entry(path)
            .or_insert_with(|| {
                let repo = inventory.repository(path)?;
                let mut index = Index::default();
                for entry in repo.entries() {
                    for &t in repo.tags(entry) {
                        if is_attachment_tag(inventory.name(t)) {
                            let holder = index.by_tag.entry(t).or_insert(entry);
                            // A hand-written inventory may give one tag twice: the greatest
                            // digest holds it, as for image tags.
                            if inventory.digest(entry.digest) > inventory.digest(holder.digest) {
                                *holder = entry;
                            }
                        }
                    }
                    if let Some(subject) = repo.subject(entry) {
                        index.by_subject.entry(subject).or_default().push(entry);
                    }
                }
                for referrers in index.by_subject.values_mut() {
                    referrers.sort_by(|a, b| inventory.digest(a.digest).cmp(inventory.digest(b.digest)));
                }
                Some((repo, index))
            })
            .as_ref()
    }

    /// True when the repository at `path` holds any attachment (a tag-scheme tag or a
    /// manifest with a subject): most do not, and their digests are not walked at all.
    fn has_attachments(&mut self, path: &'a str) -> bool {
        self.indexed(path).is_some_and(|(_, index)| !index.by_tag.is_empty() || !index.by_subject.is_empty())
    }

    /// The repository at `path`, if the inventory has it.
    pub(crate) fn repo(&mut self, path: &'a str) -> Option<RepoView<'a>> {
        self.indexed(path).map(|(r, _)| *r)
    }

    /// The attachments of `subject` (a digest id) in `path` that `filter` keeps: tag-scheme
    /// ones first (sig, att, sbom), then referrers by digest.
    pub(crate) fn attachments(&mut self, path: &'a str, subject: u32, filter: &Filter<'_>) -> Vec<Found<'a>> {
        let inventory = self.inventory;
        let Some((repo, index)) = self.indexed(path) else { return Vec::new() };
        let mut found: Vec<Found<'a>> = Vec::new();
        for (kind, _) in AttachmentKind::TAG_SCHEME {
            if !filter.tag_scheme(kind) {
                continue;
            }
            let Some(tag) = kind.tag(inventory.digest(subject)) else { continue };
            let id = inventory.name_id(&tag);
            if let Some(&entry) = index.by_tag.get(&id) {
                found.push(Found { entry, kind, tag: Some((tag, id)) });
            }
        }
        for &entry in index.by_subject.get(&subject).into_iter().flatten() {
            let artifact_type = repo.artifact_type(entry).map(|t| inventory.name(t));
            if found.iter().any(|f| f.entry.digest == entry.digest) || !filter.referrer(artifact_type) {
                continue;
            }
            found.push(Found { entry, kind: AttachmentKind::Referrer, tag: None });
        }
        found
    }

    /// Where the source attachment `found` (in `src`) stands in `dst`.
    pub(crate) fn state(&mut self, src: RepoView<'a>, dst: &'a str, found: &Found<'a>) -> State {
        let Some((dst_repo, index)) = self.indexed(dst) else { return State::Missing };
        match &found.tag {
            None => match dst_repo.get(found.entry.digest) {
                Some(_) => State::Present,
                None => State::Missing,
            },
            Some((_, id)) => match index.by_tag.get(id) {
                None => State::Missing,
                Some(holder) if holder.digest == found.entry.digest => State::Present,
                Some(holder) => {
                    let theirs = dst_repo.layers(holder);
                    let ours = src.layers(found.entry);
                    if !ours.is_empty() && ours.iter().all(|l| theirs.contains(l)) {
                        State::Present
                    } else {
                        State::Merge
                    }
                }
            },
        }
    }
}

/// The digests a placed digest brings along as subjects: itself and, for an index, the
/// manifests it lists (nested indexes too; capped against cycles), each once.
pub(crate) fn subjects(repo: RepoView<'_>, digest: u32) -> Vec<u32> {
    let mut out = vec![digest];
    let mut seen: BTreeSet<u32> = BTreeSet::from([digest]);
    let mut i = 0;
    while i < out.len() && out.len() < 10_000 {
        if let Some(entry) = repo.get(out[i]) {
            for &child in repo.children(entry) {
                if seen.insert(child) {
                    out.push(child);
                }
            }
        }
        i += 1;
    }
    out
}

/// One node of the walk: a source attachment of `subject`, `depth` levels below the placed
/// digest.
pub(crate) struct Visit<'a, 'f> {
    pub placed: &'f Placed<'a>,
    pub subject: u32,
    pub found: &'f Found<'a>,
    pub depth: usize,
    pub src: RepoView<'a>,
}

/// Walks the source attachments of every placed digest breadth first (each attachment once per
/// destination repository), calling `visit` for each; `at_subject` is called for every subject
/// reached (the placed digests, their children and every attachment).
pub(crate) fn walk<'a>(
    lookup: &mut Lookup<'a>,
    placed: impl IntoIterator<Item = Placed<'a>>,
    filter: &Filter<'_>,
    findings: &mut Findings,
    mut at_subject: impl FnMut(&mut Lookup<'a>, &Placed<'a>, u32),
    mut visit: impl FnMut(&mut Lookup<'a>, &Visit<'a, '_>),
) {
    if filter.none() {
        return;
    }
    let inventory = lookup.inventory;
    let mut seen: HashSet<(&'a str, u32)> = HashSet::default();
    for p in placed {
        let p = &p;
        // (The destination counts too: the audit reports attachments only it has.)
        if !lookup.has_attachments(p.src) && !lookup.has_attachments(p.dst) {
            continue;
        }
        let Some(src) = lookup.repo(p.src) else { continue };
        let digest = inventory.digest_id(p.digest);
        if src.get(digest).is_none() {
            continue;
        }
        let mut queue: Vec<(u32, usize)> = subjects(src, digest).into_iter().map(|s| (s, 1)).collect();
        let mut i = 0;
        while i < queue.len() {
            let (subject, depth) = queue[i];
            i += 1;
            at_subject(lookup, p, subject);
            let found = lookup.attachments(p.src, subject, filter);
            if found.is_empty() {
                continue;
            }
            if depth > MAX_ATTACHMENT_DEPTH {
                findings.too_deep(p.site, p.src, inventory.digest(subject));
                continue;
            }
            for f in &found {
                if !seen.insert((p.dst, f.entry.digest)) {
                    continue;
                }
                visit(lookup, &Visit { placed: p, subject, found: f, depth, src });
                queue.push((f.entry.digest, depth + 1));
            }
        }
    }
}

/// Plans the attach actions of the placed digests (with their depth, for ordering), counting
/// them into `summary` and `per_registry`.
pub(crate) fn plan<'a>(
    inventory: &'a CompactInventory,
    placed: impl IntoIterator<Item = Placed<'a>>,
    options: &PlanOptions,
    findings: &mut Findings,
    summary: &mut PlanSummary,
    per_registry: &mut [PlanSummary],
) -> Vec<(usize, Action)> {
    let mut lookup = Lookup::new(inventory);
    let mut actions = Vec::new();
    let filter = Filter::of(options);
    walk(
        &mut lookup,
        placed,
        &filter,
        findings,
        |_, _, _| {},
        |lookup, v| {
            let state = lookup.state(v.src, v.placed.dst, v.found);
            if state == State::Present {
                return;
            }
            let digest = inventory.digest(v.found.entry.digest);
            let media_type = v.found.entry.media_type;
            actions.push((
                v.depth,
                Action {
                    action: ActionKind::Attach,
                    src: format!("{}@{digest}", v.placed.src),
                    dst: v.placed.dst.to_owned(),
                    digest: digest.to_owned(),
                    tags: v.found.tag.iter().map(|(t, _)| t.clone()).collect(),
                    media_type: (media_type != NONE).then(|| inventory.name(media_type).to_owned()),
                    attachment: Some(Attachment {
                        kind: v.found.kind,
                        subject: inventory.digest(v.subject).to_owned(),
                        artifact_type: v
                            .src
                            .artifact_type(v.found.entry)
                            .map(|t| inventory.name(t).to_owned()),
                        merge: state == State::Merge,
                    }),
                },
            ));
            summary.attach += 1;
            per_registry[v.placed.registry as usize].attach += 1;
        },
    );
    actions
}

/// The attachments of digests whose edges to a destination are all blocked, as blocked entries
/// with the subject's reasons (the subject's edges are counted; these are not edges): the ones
/// that would travel (`options`' filters) and are not in the destination yet.
pub(crate) fn held<'a>(
    inventory: &'a CompactInventory,
    held: &[(Placed<'a>, Vec<Code>)],
    options: &PlanOptions,
) -> Vec<Blocked> {
    let mut lookup = Lookup::new(inventory);
    let mut out = Vec::new();
    let filter = Filter::of(options);
    for (p, reasons) in held {
        let mut findings = Findings::default();
        walk(
            &mut lookup,
            [*p],
            &filter,
            &mut findings,
            |_, _, _| {},
            |lookup, v| {
                if lookup.state(v.src, v.placed.dst, v.found) == State::Present {
                    return;
                }
                let digest = inventory.digest(v.found.entry.digest);
                out.push(Blocked {
                    src: Some(format!("{}@{digest}", p.src)),
                    dst: p.dst.to_owned(),
                    digest: digest.to_owned(),
                    tags: v.found.tag.iter().map(|(t, _)| t.clone()).collect(),
                    reasons: reasons.iter().map(|c| c.as_str().to_owned()).collect(),
                });
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_tags_are_the_cosign_scheme() {
        let hex = "a".repeat(64);
        for ok in ["sig", "att", "sbom"] {
            assert!(is_attachment_tag(&format!("sha256-{hex}.{ok}")), "{ok}");
        }
        assert!(!is_attachment_tag(&format!("sha256-{hex}")), "the referrers tag schema index");
        assert!(!is_attachment_tag(&format!("sha256-{hex}.att.x")));
        assert!(!is_attachment_tag("sha256-abc.sig"));
        assert!(!is_attachment_tag("v1.0"));
        assert!(is_referrers_index_tag(&format!("sha256-{hex}")));
        assert!(
            !is_referrers_index_tag(&format!("sha256-{hex}.sig")) && !is_referrers_index_tag("sha256-abc")
        );
    }

    #[test]
    fn signatures_keep_sig_and_signature_referrers_only() {
        let types = ["application/spdx+json".to_owned()];
        let sig = Filter::new(AttachmentFilter::Signatures, &[]);
        assert!(sig.tag_scheme(AttachmentKind::Sig) && !sig.tag_scheme(AttachmentKind::Sbom));
        assert!(sig.referrer(Some("application/vnd.dev.sigstore.bundle.v0.3+json")));
        assert!(!sig.referrer(Some("application/spdx+json")) && !sig.referrer(None));
        let typed = Filter::new(AttachmentFilter::All, &types);
        assert!(typed.referrer(Some("application/spdx+json")));
        assert!(!typed.referrer(Some("application/vnd.dev.sigstore.bundle.v0.3+json")));
        assert!(typed.tag_scheme(AttachmentKind::Att), "--attachment-type filters referrers only");
        let none = Filter::new(AttachmentFilter::None, &[]);
        assert!(none.none() && !none.tag_scheme(AttachmentKind::Sig) && !none.referrer(None));
    }
}
