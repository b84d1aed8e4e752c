//! Expansion of manifests into promotion edges, one per (image, digest, destination, tag).
//!
//! At Kubernetes scale there are about a million edges, so an edge is five small integers plus the
//! position of the manifest entry it came from: repository paths, digests and tags are interned
//! once per manifest entry, not once per edge, and every later step compares integers.

use rustc_hash::FxHashMap as HashMap;

use crate::ManifestSet;
use crate::diagnostic::Diagnostic;
use crate::manifest::Spanned;
use crate::rules::Code;
use crate::rules::overlap::Overlaps;

use super::blast::Blocks;

/// "No value" for an interned id (a tagless edge, a manifest without a single source).
pub(crate) const NONE: u32 = u32::MAX;

/// The manifest entry an edge came from: indexes into `ManifestSet::manifests`, its images, their
/// `dmap` and the entry's tags (`NONE` for a tagless edge).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Site {
    pub manifest: u32,
    pub image: u32,
    pub entry: u32,
    pub tag: u32,
}

impl Site {
    /// The digest as written in the manifest.
    pub fn digest<'s>(&self, set: &'s ManifestSet) -> &'s Spanned<String> {
        &set.manifests[self.manifest as usize].images[self.image as usize].dmap[self.entry as usize].digest
    }

    /// The tag as written, or `None` for a tagless edge.
    pub fn tag<'s>(&self, set: &'s ManifestSet) -> Option<&'s Spanned<String>> {
        let entry =
            &set.manifests[self.manifest as usize].images[self.image as usize].dmap[self.entry as usize];
        entry.tags.get(self.tag as usize)
    }

    /// The image name as written.
    pub fn image<'s>(&self, set: &'s ManifestSet) -> &'s Spanned<String> {
        &set.manifests[self.manifest as usize].images[self.image as usize].name
    }
}

/// One edge. Ids index the tables of [`Edges`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Edge {
    /// Destination repository id.
    pub dst: u32,
    /// Digest id.
    pub digest: u32,
    /// Tag id, or `NONE`.
    pub tag: u32,
    /// Source repository id, or `NONE` when the manifest has no single source.
    pub src: u32,
    /// Reason-set id; 0 means not blocked.
    pub reasons: u32,
    /// Destination registry id (as named in the manifest), for per-destination counts.
    pub registry: u32,
    /// Where it was declared.
    pub site: Site,
}

impl Edge {
    /// Identity of the edge: duplicates (the same promotion declared twice) share it.
    pub fn key(&self) -> (u32, u32, u32, u32) {
        (self.dst, self.digest, self.tag, self.src)
    }
}

/// All edges of a manifest set and the tables their ids point into. `list` is sorted by
/// destination, digest, tag, source, then site, so one digest in one destination is a run.
pub(crate) struct Edges<'s> {
    pub repos: Vec<String>,
    /// Destination registry names.
    pub registries: Vec<&'s str>,
    pub digests: Vec<&'s str>,
    pub tags: Vec<&'s str>,
    /// Reason sets (codes of blocking findings, sorted); index 0 is the empty set.
    pub reasons: Vec<Vec<Code>>,
    pub list: Vec<Edge>,
    reason_ids: HashMap<Vec<Code>, u32>,
}

/// Interns borrowed strings to dense ids.
struct Interner<'s> {
    ids: HashMap<&'s str, u32>,
}

impl<'s> Interner<'s> {
    fn id(&mut self, table: &mut Vec<&'s str>, s: &'s str) -> u32 {
        *self.ids.entry(s).or_insert_with(|| {
            table.push(s);
            (table.len() - 1) as u32
        })
    }
}

/// Interns repository paths (`registry + "/" + image`, built once per pair). Paths live only in
/// the map while expanding and move to the table at the end: one allocation per repository.
#[derive(Default)]
struct RepoInterner<'s> {
    pairs: HashMap<(&'s str, &'s str), u32>,
    paths: HashMap<String, u32>,
}

impl<'s> RepoInterner<'s> {
    fn id(&mut self, registry: &'s str, image: &'s str) -> u32 {
        if let Some(&id) = self.pairs.get(&(registry, image)) {
            return id;
        }
        // Two (registry, image) pairs can name one repository (`gcr.io/a` + `b/c` and
        // `gcr.io/a/b` + `c`): intern by the full path, so both get one id.
        let next = self.paths.len() as u32;
        let id = *self.paths.entry(format!("{registry}/{image}")).or_insert(next);
        self.pairs.insert((registry, image), id);
        id
    }

    /// The paths, indexed by id.
    fn into_table(self) -> Vec<String> {
        let mut table = vec![String::new(); self.paths.len()];
        for (path, id) in self.paths {
            table[id as usize] = path;
        }
        table
    }
}

impl<'s> Edges<'s> {
    /// Interns a set of reason codes (sorted, deduplicated) to an id.
    pub fn reason_id(&mut self, mut codes: Vec<Code>) -> u32 {
        codes.sort();
        codes.dedup();
        if codes.is_empty() {
            return 0;
        }
        if let Some(&id) = self.reason_ids.get(&codes) {
            return id;
        }
        self.reasons.push(codes.clone());
        let id = (self.reasons.len() - 1) as u32;
        self.reason_ids.insert(codes, id);
        id
    }

    /// Adds one code to an edge's reason set.
    pub fn add_reason(&mut self, current: u32, code: Code) -> u32 {
        let mut codes = self.reasons[current as usize].clone();
        codes.push(code);
        self.reason_id(codes)
    }

    /// Every repository an edge names.
    pub fn used_repositories(&self) -> impl Iterator<Item = &str> {
        let mut used = vec![false; self.repos.len()];
        for e in &self.list {
            used[e.dst as usize] = true;
            if e.src != NONE {
                used[e.src as usize] = true;
            }
        }
        self.repos.iter().zip(used).filter(|(_, u)| *u).map(|(r, _)| r.as_str())
    }

    /// The tag text of an edge, if any.
    pub fn tag_text(&self, e: &Edge) -> Option<&'s str> {
        (e.tag != NONE).then(|| self.tags[e.tag as usize])
    }

    /// Blocks every edge whose destination tag is given two different digests, within or across
    /// manifests. Which tags those are, and the findings that say so, are
    /// [`crate::rules::overlap`]'s: the linter already reported them.
    pub fn mark_overlaps(&mut self, set: &ManifestSet) {
        let overlaps = Overlaps::find(&set.files, &set.manifests);
        if overlaps.is_empty() {
            return;
        }
        let conflicting: Vec<_> = self.repos.iter().map(|repo| overlaps.tags_at(repo)).collect();
        for i in 0..self.list.len() {
            let e = self.list[i];
            let Some(tag) = self.tag_text(&e) else { continue };
            if conflicting[e.dst as usize].is_some_and(|tags| tags.contains(tag)) {
                self.list[i].reasons = self.add_reason(e.reasons, Code::DestinationOverlap);
            }
        }
    }
}

/// Consecutive runs of `list` with equal `key`.
pub(crate) fn runs<'l, T, K: PartialEq>(
    list: &'l [T],
    key: impl Fn(&T) -> K + 'l,
) -> impl Iterator<Item = std::ops::Range<usize>> + 'l {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= list.len() {
            return None;
        }
        let k = key(&list[start]);
        let end = start + list[start..].iter().take_while(|x| key(x) == k).count();
        let range = start..end;
        start = end;
        Some(range)
    })
}

/// Expands every manifest of `set` into edges. Error findings among `diagnostics` block the
/// edges of the manifest element they point at (see [`Blocks`]).
pub(crate) fn expand<'s>(set: &'s ManifestSet, diagnostics: &[Diagnostic]) -> Edges<'s> {
    let blocks = Blocks::from_diagnostics(set, diagnostics);
    let mut edges = Edges {
        repos: Vec::new(),
        registries: Vec::new(),
        digests: Vec::new(),
        tags: Vec::new(),
        reasons: vec![Vec::new()],
        list: Vec::new(),
        reason_ids: HashMap::default(),
    };
    // Reserve the exact edge count: growing a vector of a million edges by doubling copies it
    // repeatedly and fragments the heap.
    let count: usize = set
        .manifests
        .iter()
        .map(|m| {
            let dests = m.destinations().count();
            let per_image =
                |i: &crate::manifest::Image| i.dmap.iter().map(|e| e.tags.len().max(1)).sum::<usize>();
            dests * m.images.iter().map(per_image).sum::<usize>()
        })
        .sum();
    edges.list.reserve_exact(count);
    let mut repos = RepoInterner::default();
    let mut digests = Interner { ids: HashMap::default() };
    let mut tags = Interner { ids: HashMap::default() };
    let mut registries = Interner { ids: HashMap::default() };
    for (m, manifest) in set.manifests.iter().enumerate() {
        let source = manifest.source();
        let mut manifest_reasons = blocks.manifest(m);
        if source.is_none() {
            let many = manifest.registries.iter().filter(|r| r.src).count() > 1;
            manifest_reasons.push(if many {
                Code::SourceRegistryMultiple
            } else {
                Code::SourceRegistryMissing
            });
        }
        let dests: Vec<(usize, &str, u32)> = manifest
            .registries
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.src)
            .map(|(r, reg)| {
                (r, reg.name.value.as_str(), registries.id(&mut edges.registries, &reg.name.value))
            })
            .collect();
        for (i, image) in manifest.images.iter().enumerate() {
            let name = image.name.value.as_str();
            let src = source.map_or(NONE, |s| repos.id(&s.name.value, name));
            let dst_ids: Vec<u32> = dests.iter().map(|(_, d, _)| repos.id(d, name)).collect();
            for (e, entry) in image.dmap.iter().enumerate() {
                let digest = digests.id(&mut edges.digests, &entry.digest.value);
                let tag_ids: Vec<u32> =
                    entry.tags.iter().map(|t| tags.id(&mut edges.tags, &t.value)).collect();
                for (&(r, _, registry), &dst) in dests.iter().zip(&dst_ids) {
                    let site = Site { manifest: m as u32, image: i as u32, entry: e as u32, tag: NONE };
                    let push = |edges: &mut Edges<'s>, tag: u32, t: u32| {
                        let reasons = if blocks.is_empty() && manifest_reasons.is_empty() {
                            0
                        } else {
                            let codes = blocks.edge(&manifest_reasons, m, r, i, e, t);
                            edges.reason_id(codes)
                        };
                        edges.list.push(Edge {
                            dst,
                            digest,
                            tag,
                            src,
                            reasons,
                            registry,
                            site: Site { tag: t, ..site },
                        });
                    };
                    if tag_ids.is_empty() {
                        push(&mut edges, NONE, NONE);
                    }
                    for (t, &tag) in tag_ids.iter().enumerate() {
                        push(&mut edges, tag, t as u32);
                    }
                }
            }
        }
    }
    edges.repos = repos.into_table();
    // One 128-bit key sorts much faster than a tuple; the order of duplicate declarations of
    // one edge does not matter (every one of them is looked at).
    edges.list.sort_unstable_by_key(|e| {
        let (dst, digest, tag, src) = e.key();
        (u128::from(dst) << 96) | (u128::from(digest) << 64) | (u128::from(tag) << 32) | u128::from(src)
    });
    edges
}
