//! Blast radius: which edges a lint error blocks. An error points at a span; the smallest
//! manifest element written at that span (a tag, a digest entry, an image name, a registry name)
//! is blocked with everything below it. An error that points at no element (a YAML syntax error,
//! an unknown key, a missing source registry) blocks every manifest drawing on its file. Errors
//! about conflicting tags are left to the edge-level overlap check, which blocks exactly the
//! destination tags involved.

use std::collections::HashMap;

use crate::ManifestSet;
use crate::diagnostic::{Diagnostic, Location};
use crate::files::FileId;
use crate::rules::Code;
use crate::source::Span;

/// Error codes that block nothing here: overlaps are blocked per destination tag by the edge
/// check ([`super::edge::Edges::mark_overlaps`]).
const NOT_BLOCKING: &[Code] = &[Code::TagConflict, Code::DestinationOverlap];

/// A manifest element that can be blocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Element {
    Manifest(u32),
    Registry(u32, u32),
    Image(u32, u32),
    Entry(u32, u32, u32),
    Tag(u32, u32, u32, u32),
}

/// Blocked elements and the codes of the errors that block them.
#[derive(Default)]
pub(crate) struct Blocks {
    /// Element -> indexes into `codes`.
    blocked: HashMap<Element, Vec<usize>>,
    codes: Vec<Code>,
}

impl Blocks {
    /// True when nothing is blocked.
    pub fn is_empty(&self) -> bool {
        self.blocked.is_empty()
    }

    /// Maps every error finding to the element it blocks.
    pub fn from_diagnostics(set: &ManifestSet, diagnostics: &[Diagnostic]) -> Self {
        let mut blocks = Blocks::default();
        let errors: Vec<&Diagnostic> =
            diagnostics.iter().filter(|d| d.is_error() && !NOT_BLOCKING.contains(&d.code)).collect();
        if errors.is_empty() {
            return blocks;
        }
        let index = SpanIndex::new(set);
        for d in errors {
            let code = blocks.codes.len();
            blocks.codes.push(d.code);
            for element in index.targets(&d.location, d.labels.iter().map(|l| &l.location)) {
                blocks.blocked.entry(element).or_default().push(code);
            }
        }
        blocks
    }

    fn at(&self, element: Element, out: &mut Vec<Code>) {
        if let Some(codes) = self.blocked.get(&element) {
            out.extend(codes.iter().map(|&c| self.codes[c]));
        }
    }

    /// Codes blocking a whole manifest.
    pub fn manifest(&self, m: usize) -> Vec<Code> {
        let mut out = Vec::new();
        self.at(Element::Manifest(m as u32), &mut out);
        out
    }

    /// Codes blocking one edge: `manifest_codes` (from [`Blocks::manifest`]) plus those of
    /// destination registry `r`, image `i`, entry `e` and tag `t` (or `NONE`) of manifest `m`.
    pub fn edge(&self, manifest_codes: &[Code], m: usize, r: usize, i: usize, e: usize, t: u32) -> Vec<Code> {
        let (m, r, i, e) = (m as u32, r as u32, i as u32, e as u32);
        let mut out = manifest_codes.to_vec();
        if self.is_empty() {
            return out;
        }
        self.at(Element::Registry(m, r), &mut out);
        self.at(Element::Image(m, i), &mut out);
        self.at(Element::Entry(m, i, e), &mut out);
        if t != super::NONE {
            self.at(Element::Tag(m, i, e, t), &mut out);
        }
        out
    }
}

/// Spans of every manifest element, to find what a finding points at.
struct SpanIndex {
    spans: HashMap<(FileId, Span), Element>,
    /// Manifests that read each file (a thin pair reads two).
    by_file: HashMap<FileId, Vec<u32>>,
    paths: HashMap<String, FileId>,
}

impl SpanIndex {
    fn new(set: &ManifestSet) -> Self {
        let mut spans = HashMap::new();
        let mut by_file: HashMap<FileId, Vec<u32>> = HashMap::new();
        for (m, manifest) in set.manifests.iter().enumerate() {
            let m = m as u32;
            by_file.entry(manifest.file).or_default().push(m);
            if let Some(f) = manifest.images_file {
                by_file.entry(f).or_default().push(m);
            }
            for (r, reg) in manifest.registries.iter().enumerate() {
                let element = if reg.src { Element::Manifest(m) } else { Element::Registry(m, r as u32) };
                spans.insert((reg.name.file, reg.name.span), element);
            }
            for (i, image) in manifest.images.iter().enumerate() {
                let i = i as u32;
                spans.insert((image.name.file, image.name.span), Element::Image(m, i));
                for (e, entry) in image.dmap.iter().enumerate() {
                    let e = e as u32;
                    spans.insert((entry.digest.file, entry.digest.span), Element::Entry(m, i, e));
                    for (t, tag) in entry.tags.iter().enumerate() {
                        spans.insert((tag.file, tag.span), Element::Tag(m, i, e, t as u32));
                    }
                }
            }
        }
        let paths = set.files.iter().map(|(id, f)| (f.path.clone(), id)).collect();
        Self { spans, by_file, paths }
    }

    /// The elements a finding blocks: the element at its location, else the element at one of
    /// its labels, else every manifest reading its file.
    fn targets<'l>(&self, primary: &Location, labels: impl Iterator<Item = &'l Location>) -> Vec<Element> {
        let lookup = |at: &Location| {
            let file = *self.paths.get(&at.file)?;
            self.spans.get(&(file, at.span)).copied()
        };
        if let Some(element) = lookup(primary) {
            return vec![element];
        }
        let labelled: Vec<Element> = labels.filter_map(lookup).collect();
        if !labelled.is_empty() {
            return labelled;
        }
        let Some(file) = self.paths.get(&primary.file) else { return Vec::new() };
        self.by_file.get(file).map_or_else(Vec::new, |ms| ms.iter().map(|&m| Element::Manifest(m)).collect())
    }
}
