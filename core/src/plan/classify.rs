//! Decides each edge against the inventory and assembles the plan: already present, copy, tag, or
//! blocked (`lost`, a trust finding, `tag-move`, `inventory-missing`, or a lint error), in the Go
//! promoter's order of checks: present first, then the source (there, then trusted: see
//! `gate`), then the destination tag. The findings of those
//! checks are [`crate::rules::edges`]'s.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap as HashMap;

use crate::ManifestSet;
use crate::diagnostic::Diagnostic;
use crate::inventory::{CompactInventory, Entry, NONE as UNKNOWN, RepoView};
use crate::rules::Code;
use crate::rules::edges::Findings;

use super::attach::{self, Placed};
use super::edge::{Edge, Edges, NONE, runs};
use super::gate::Gate;
use super::{Action, ActionKind, AttachmentFilter, Blocked, Plan, PlanOptions, PlanSummary, STRICT_REASON};
use crate::rules::attachment::Findings as AttachmentFindings;

/// The fate of one edge.
enum Fate<'a> {
    Present,
    /// Copy from the source, whose entry is given.
    Copy(&'a Entry),
    /// Add a tag to the destination's entry.
    Tag(&'a Entry),
    /// Blocked, with the codes of the findings that block it, sorted.
    Blocked(Vec<Code>),
}

/// The inventory as the edges see it: their digest and tag ids translated to the inventory's
/// (once each, [`UNKNOWN`] where no entry has them), repositories looked up on first use.
struct View<'a> {
    inventory: &'a CompactInventory,
    repos: Vec<Option<Option<RepoView<'a>>>>,
    /// Inventory digest id of each digest id of the edges.
    digests: Vec<u32>,
    /// Inventory tag id of each tag id of the edges.
    tags: Vec<u32>,
    tag_index: HashMap<u32, HashMap<u32, u32>>,
}

impl<'a> View<'a> {
    fn new(edges: &Edges<'_>, inventory: &'a CompactInventory) -> Self {
        View {
            inventory,
            repos: vec![None; edges.repos.len()],
            digests: edges.digests.iter().map(|d| inventory.digest_id(d)).collect(),
            tags: edges.tags.iter().map(|t| inventory.name_id(t)).collect(),
            tag_index: HashMap::default(),
        }
    }

    fn repo(&mut self, edges: &Edges<'_>, id: u32) -> Option<RepoView<'a>> {
        let inventory = self.inventory;
        *self.repos[id as usize].get_or_insert_with(|| inventory.repository(&edges.repos[id as usize]))
    }

    /// The digest a tag points at in a repository (the index is built on first use, only for
    /// repositories where a tag is missing from the wanted digest). Should a hand-written
    /// inventory give one tag to several digests, the greatest digest text holds it.
    fn tagged(&mut self, repo_id: u32, repo: RepoView<'a>, tag: u32) -> Option<u32> {
        let inventory = self.inventory;
        let index = self.tag_index.entry(repo_id).or_insert_with(|| {
            let mut index: HashMap<u32, u32> = HashMap::default();
            for entry in repo.entries() {
                for &t in repo.tags(entry) {
                    let holder = index.entry(t).or_insert(entry.digest);
                    if inventory.digest(entry.digest) > inventory.digest(*holder) {
                        *holder = entry.digest;
                    }
                }
            }
            index
        });
        index.get(&tag).copied()
    }
}

/// Work accumulated for one digest in one destination repository.
#[derive(Default)]
struct Run<'a> {
    kind: Option<ActionKind>,
    info: Option<&'a Entry>,
    srcs: BTreeSet<&'a str>,
    tags: BTreeSet<&'a str>,
    /// (source, reasons) -> tags.
    blocked: BTreeMap<(Option<&'a str>, Vec<Code>), BTreeSet<&'a str>>,
}

/// Classifies every edge of `edges` and builds the plan (diagnostics are appended to `out`).
pub(crate) fn classify<'a>(
    set: &ManifestSet,
    edges: &'a Edges<'a>,
    inventory: &'a CompactInventory,
    options: &PlanOptions,
    out: &mut Vec<Diagnostic>,
) -> Plan {
    let mut view = View::new(edges, inventory);
    let mut findings = Findings::default();
    let mut gate = Gate::new(inventory, &options.trust);
    let mut summary = PlanSummary::default();
    let mut per_registry = vec![PlanSummary::default(); edges.registries.len()];
    let mut actions = Vec::new();
    let mut blocked = Vec::new();
    // Digests placed in a destination (present, copied or tagged), as the index of an edge
    // placing them: their attachments follow. Noted only when the inventory has attachments
    // (a million edges would otherwise hold tens of MiB for nothing).
    let follow = inventory.has_attachments() && options.attachments != AttachmentFilter::None;
    let mut placed: Vec<u32> = Vec::new();
    // Digests none of whose edges to a destination can go, with the reasons of the first
    // blocked edge: their attachments are blocked with them.
    let mut held: Vec<(Placed<'a>, Vec<Code>)> = Vec::new();
    for range in runs(&edges.list, |e| (e.dst, e.digest)) {
        let run_start = range.start;
        let run_edges = &edges.list[range];
        let mut run = Run::default();
        let mut placed_run = false;
        let mut run_held = None;
        for dup in runs(run_edges, Edge::key) {
            let group_start = run_start + dup.start;
            let group = &run_edges[dup];
            let fate = decide(group, edges, &mut view, &mut findings, &mut gate);
            if !follow {
                // Nothing to follow.
            } else if let Fate::Blocked(codes) = &fate {
                if let (Some(e), None) = (group.iter().find(|e| e.src != NONE), &run_held) {
                    run_held = Some((Placed::of(e, edges), codes.clone()));
                }
            } else if let (false, Some(i)) =
                (placed_run, group.iter().position(|e| e.reasons == 0 && e.src != NONE))
            {
                placed_run = true;
                placed.push((group_start + i) as u32);
            }
            let registry = &mut per_registry[group[0].registry as usize];
            record(&mut run, fate, &group[0], edges, [&mut summary, registry]);
        }
        // A digest placed by any edge takes its attachments: a blocked tag does not hold them.
        if !placed_run {
            held.extend(run_held);
        }
        let first = &run_edges[0];
        let dst = edges.repos[first.dst as usize].as_str();
        let digest = edges.digests[first.digest as usize];
        emit(run, dst, digest, inventory, &mut actions, &mut blocked);
    }
    findings.report(set, out);
    if follow && gate.refused_any() {
        // A refused digest placed in one destination (already there) while refused for
        // another: its attachments are held everywhere, no untrusted signature travels.
        placed.retain(|&i| {
            let e = &edges.list[i as usize];
            let src = edges.repos[e.src as usize].as_str();
            match gate.refused(src, view.digests[e.digest as usize]) {
                Some(codes) => {
                    held.push((Placed::of(e, edges), codes.to_vec()));
                    false
                }
                None => true,
            }
        });
    }
    gate.report(set, out);
    let mut attachment_findings = AttachmentFindings::default();
    actions.extend(attach::plan(
        inventory,
        placed.iter().map(|&i| Placed::of(&edges.list[i as usize], edges)),
        options,
        &mut attachment_findings,
        &mut summary,
        &mut per_registry,
    ));
    attachment_findings.report(set, out);
    blocked.extend(attach::held(inventory, &held, options));
    let actions = order(actions);
    blocked.sort_by(|a: &Blocked, b: &Blocked| {
        (&a.dst, &a.digest, &a.src, &a.reasons, &a.tags)
            .cmp(&(&b.dst, &b.digest, &b.src, &b.reasons, &b.tags))
    });
    let mut destinations: BTreeMap<String, PlanSummary> = BTreeMap::new();
    for (name, counts) in edges.registries.iter().zip(per_registry) {
        destinations.insert((*name).to_owned(), counts);
    }
    Plan { actions, blocked, diagnostics: Vec::new(), summary, destinations }
}

/// Decides one edge, given every declaration of it (duplicates across manifests): it is blocked
/// by lint errors only if every declaration is blocked.
fn decide<'a>(
    group: &[Edge],
    edges: &'a Edges<'a>,
    view: &mut View<'a>,
    findings: &mut Findings<'a>,
    gate: &mut Gate<'a>,
) -> Fate<'a> {
    if group.iter().all(|e| e.reasons != 0) {
        let mut codes: Vec<Code> =
            group.iter().flat_map(|e| edges.reasons[e.reasons as usize].iter().copied()).collect();
        codes.sort();
        codes.dedup();
        return Fate::Blocked(codes);
    }
    let e = group.iter().find(|e| e.reasons == 0).copied().expect("one unblocked declaration");
    let digest = view.digests[e.digest as usize];
    let tag = (e.tag != NONE).then(|| view.tags[e.tag as usize]);
    let Some(dst_repo) = view.repo(edges, e.dst) else {
        findings.missing(group, edges, e.dst);
        return Fate::Blocked(vec![Code::InventoryMissing]);
    };
    let in_dst = dst_repo.get(digest);
    // A tag no entry has is `UNKNOWN`, which no tag list holds.
    if in_dst.is_some_and(|info| tag.is_none_or(|t| dst_repo.tags(info).contains(&t))) {
        return Fate::Present;
    }
    if e.src == NONE {
        return Fate::Blocked(vec![Code::SourceRegistryMissing]);
    }
    let Some(src_repo) = view.repo(edges, e.src) else {
        findings.missing(group, edges, e.src);
        return Fate::Blocked(vec![Code::InventoryMissing]);
    };
    let Some(src_info) = src_repo.get(digest) else {
        findings.lost(group, edges.repos[e.src as usize].as_str());
        return Fate::Blocked(vec![Code::Lost]);
    };
    // The trust gate: the source's signatures and attestations of a digest about to move.
    if let Some(codes) = gate.check(group, edges.repos[e.src as usize].as_str(), digest) {
        return Fate::Blocked(codes);
    }
    let moved_from = tag.and_then(|t| view.tagged(e.dst, dst_repo, t)).filter(|d| *d != digest);
    if let Some(other) = moved_from {
        findings.moved(group, edges.repos[e.dst as usize].as_str(), view.inventory.digest(other));
        return Fate::Blocked(vec![Code::TagMove]);
    }
    match in_dst {
        Some(info) => Fate::Tag(info),
        None => Fate::Copy(src_info),
    }
}

/// Counts one edge into every summary of `counts` and adds it to the run.
fn record<'a>(
    run: &mut Run<'a>,
    fate: Fate<'a>,
    e: &Edge,
    edges: &'a Edges<'a>,
    counts: [&mut PlanSummary; 2],
) {
    let bump = |field: fn(&mut PlanSummary) -> &mut usize, counts: [&mut PlanSummary; 2]| {
        for c in counts {
            *field(c) += 1;
        }
    };
    let tag = edges.tag_text(e);
    let src = (e.src != NONE).then(|| edges.repos[e.src as usize].as_str());
    let (kind, info) = match fate {
        Fate::Present => {
            bump(|c| &mut c.present, counts);
            return;
        }
        Fate::Blocked(codes) => {
            bump(|c| &mut c.blocked, counts);
            let tags = run.blocked.entry((src, codes)).or_default();
            tags.extend(tag);
            return;
        }
        Fate::Copy(info) => {
            bump(|c| &mut c.copy, counts);
            (ActionKind::Copy, info)
        }
        Fate::Tag(info) => {
            bump(|c| &mut c.tag, counts);
            (ActionKind::Tag, info)
        }
    };
    run.kind = Some(kind);
    run.info.get_or_insert(info);
    run.srcs.extend(src);
    run.tags.extend(tag);
}

/// Turns the work on one digest in one destination into at most one action (with its nesting
/// height, for [`order`]) plus blocked groups.
fn emit(
    run: Run<'_>,
    dst: &str,
    digest: &str,
    inventory: &CompactInventory,
    actions: &mut Vec<(usize, Action)>,
    blocked: &mut Vec<Blocked>,
) {
    let reference = |src: &str| format!("{src}@{digest}");
    if let (Some(kind), Some(src)) = (run.kind, run.srcs.first()) {
        let media_type = run.info.filter(|i| i.media_type != UNKNOWN).map(|i| inventory.name(i.media_type));
        let height =
            inventory.repository(src).map_or(0, |repo| nesting(repo, inventory.digest_id(digest), 0));
        let action = Action {
            action: kind,
            src: reference(src),
            dst: dst.to_owned(),
            digest: digest.to_owned(),
            tags: run.tags.iter().map(|t| (*t).to_owned()).collect(),
            media_type: media_type.map(str::to_owned),
            attachment: None,
        };
        actions.push((height, action));
    }
    for ((src, reasons), tags) in run.blocked {
        blocked.push(Blocked {
            src: src.map(reference),
            dst: dst.to_owned(),
            digest: digest.to_owned(),
            tags: tags.into_iter().map(str::to_owned).collect(),
            reasons: reasons.iter().map(|c| c.as_str().to_owned()).collect(),
        });
    }
}

/// Orders actions (given with their nesting heights, or an attachment's depth): per destination
/// repository, copies before tag additions, and among copies an index after the children it
/// lists (by nesting height), then by digest; attachments last (after their subjects), each
/// level of attachments of attachments after the one it is attached to.
fn order(mut keyed: Vec<(usize, Action)>) -> Vec<Action> {
    keyed.sort_by(|(ha, a), (hb, b)| {
        (&a.dst, a.action, ha, &a.digest).cmp(&(&b.dst, b.action, hb, &b.digest))
    });
    keyed.into_iter().map(|(_, a)| a).collect()
}

/// How many index levels sit below a manifest: 0 for an image, 1 for an index of images. Capped,
/// so a cycle in a hand-written inventory cannot loop.
fn nesting(repo: RepoView<'_>, digest: u32, depth: usize) -> usize {
    let Some(info) = repo.get(digest) else { return 0 };
    let children = repo.children(info);
    if children.is_empty() || depth > 8 {
        return 0;
    }
    1 + children.iter().map(|&c| nesting(repo, c, depth + 1)).max().unwrap_or(0)
}

/// `--strict`: any error blocks every action.
pub(crate) fn block_all(plan: &mut Plan) {
    for action in plan.actions.drain(..) {
        plan.blocked.push(Blocked {
            src: Some(action.src),
            dst: action.dst,
            digest: action.digest,
            tags: action.tags,
            reasons: vec![STRICT_REASON.to_owned()],
        });
    }
    for counts in std::iter::once(&mut plan.summary).chain(plan.destinations.values_mut()) {
        // Edges are counted; attach actions are not edges, so they leave the count.
        counts.blocked += counts.copy + counts.tag;
        counts.copy = 0;
        counts.tag = 0;
        counts.attach = 0;
    }
    plan.blocked.sort_by(|a, b| {
        (&a.dst, &a.digest, &a.src, &a.reasons, &a.tags)
            .cmp(&(&b.dst, &b.digest, &b.src, &b.reasons, &b.tags))
    });
}

#[cfg(test)]
mod tests {
    use crate::{Input, Inventory, PlanOptions, SourceFile};

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const C: &str = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

    /// A hand-written inventory can give one tag to two digests of a repository; the tag-move
    /// finding names the greatest of them, whatever order the inventory lists them in (as when
    /// the planner read the typed inventory's sorted maps).
    #[test]
    fn a_tag_on_two_digests_is_held_by_the_greatest() {
        let manifest = format!(
            "registries:\n- name: src.io/s\n  src: true\n- name: dst.io/p\nimages:\n- name: x\n  dmap:\n    \"{B}\": [\"1.0\"]\n"
        );
        let set = crate::load(Input { files: vec![SourceFile::new("m.yaml", manifest)], thin_dirs: None });
        for order in [[C, A], [A, C]] {
            let inventory = format!(
                r#"{{"repositories": {{"src.io/s/x": {{"{B}": {{}}}}, "dst.io/p/x": {{"{}": {{"tags": ["1.0"]}}, "{}": {{"tags": ["1.0"]}}}}}}}}"#,
                order[0], order[1]
            );
            let typed = Inventory::from_json(&inventory).expect("inventory");
            let compact = crate::inventory::CompactInventory::from_json(&inventory).expect("inventory");
            let plan = super::super::plan(&set, &compact, &PlanOptions::default());
            assert_eq!(plan, super::super::plan(&set, &typed, &PlanOptions::default()));
            let finding = plan.diagnostics.iter().find(|d| d.code == crate::Code::TagMove).expect("tag-move");
            assert!(finding.message.contains(&format!("points to {C}")), "{}", finding.message);
        }
    }
}
