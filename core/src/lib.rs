//! cip core: the manifest model, every validation rule, and (in later modules) promotion
//! planning. Pure: text and data in, values out. No file system, network or clock, so it builds
//! for `wasm32-unknown-unknown` and every front end (CLI, browser, Node) gets identical results.
//!
//! Bad manifests are not errors here: they yield [`Diagnostic`] values.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod audit;
pub mod diagnostic;
pub mod files;
pub mod fix;
pub mod format;
pub mod inventory;
pub mod manifest;
pub mod plan;
pub mod planfile;
pub mod reference;
pub mod rules;
pub mod snapshot;
pub mod source;
pub mod trust;
pub mod wire;
pub mod workspace;
pub mod yaml;

use serde::{Deserialize, Serialize};

pub use diagnostic::{Diagnostic, Label, Location, Severity};
pub use files::{FileId, Files};
pub use fix::{Applicability, Edit, Fix};
pub use inventory::Inventory;
pub use manifest::{DigestEntry, Image, Manifest, Registry, Spanned, ThinDir};
pub use plan::{Action, ActionKind, Blocked, Plan, PlanOptions, PlanSummary, STRICT_REASON};
pub use rules::Code;
pub use source::{SourceFile, Span};

/// The files of one run. Files under a thin directory's root form thin manifest pairs; every
/// other file is a plain manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// Every manifest file, with the path to show in findings.
    pub files: Vec<SourceFile>,
    /// Thin directories; `None` means "infer them from the file paths".
    #[serde(default)]
    pub thin_dirs: Option<Vec<ThinDir>>,
}

/// Counts shown next to the findings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
    /// Manifests read.
    pub manifests: usize,
    /// Image entries.
    pub images: usize,
    /// Digest entries.
    pub digests: usize,
    /// Tag entries.
    pub tags: usize,
}

/// The result of linting: every finding, sorted by file and position.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintReport {
    /// Findings.
    pub diagnostics: Vec<Diagnostic>,
    /// Counts.
    pub summary: Summary,
}

/// Manifests read from an [`Input`], with all lint findings.
#[derive(Clone, Debug)]
pub struct ManifestSet {
    /// The input files and their line indexes.
    pub files: Files,
    /// Every manifest that could be read (possibly with findings).
    pub manifests: Vec<Manifest>,
    /// Every finding, sorted.
    pub diagnostics: Vec<Diagnostic>,
}

impl ManifestSet {
    /// Counts for the summary line.
    pub fn summary(&self) -> Summary {
        let errors = self.diagnostics.iter().filter(|d| d.is_error()).count();
        let images = self.manifests.iter().flat_map(|m| &m.images);
        let (mut digests, mut tags, mut image_count) = (0, 0, 0);
        for image in images {
            image_count += 1;
            digests += image.dmap.len();
            tags += image.dmap.iter().map(|e| e.tags.len()).sum::<usize>();
        }
        Summary {
            errors,
            warnings: self.diagnostics.len() - errors,
            manifests: self.manifests.len(),
            images: image_count,
            digests,
            tags,
        }
    }

    /// True when any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads and validates every manifest of the input together.
pub fn load(input: Input) -> ManifestSet {
    let thin_dirs = match input.thin_dirs {
        Some(dirs) => dirs,
        None => manifest::infer_thin_dirs(input.files.iter().map(|f| f.path.as_str())),
    };
    let files = Files::new(input.files);
    let mut diagnostics = Vec::new();
    let mut manifests = Vec::new();
    let mut thin_owned = vec![false; files.iter().count()];
    for dir in &thin_dirs {
        let (found, owned) = manifest::thin_layout(&files, dir, &mut diagnostics);
        manifests.extend(found);
        for id in owned {
            thin_owned[id.0 as usize] = true;
        }
    }
    for (id, _) in files.iter() {
        if !thin_owned[id.0 as usize] {
            manifests.extend(manifest::read_plain(&files, id, &mut diagnostics));
        }
    }
    rules::check(&files, &manifests, &mut diagnostics);
    diagnostic::sort_diagnostics(&mut diagnostics);
    ManifestSet { files, manifests, diagnostics }
}

/// Lints the input: all findings of all files, sorted, plus counts.
pub fn lint(input: Input) -> LintReport {
    let set = load(input);
    let summary = set.summary();
    LintReport { diagnostics: set.diagnostics, summary }
}

/// Plans a promotion from manifest files and an inventory of the registries; with `base` (the
/// manifests as of the last promotion) only what changed since then is planned.
pub fn plan_input(input: Input, base: Option<Input>, inventory: &Inventory, options: &PlanOptions) -> Plan {
    let set = load(input);
    let base = base.map(load);
    plan::plan_delta(&set, base.as_ref(), inventory, options)
}
