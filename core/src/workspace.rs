//! An editor's view of one run: the manifests of a workspace kept parsed between edits, so a
//! change to one file re-reads that file only. [`crate::load`] reads every file of a run from
//! scratch; a language server re-linting a Kubernetes-scale tree (45,000 digests) on every
//! keystroke cannot afford that, but it can afford the cross-file rules, which must see every
//! manifest anyway (an edit in one `images.yaml` can make a tag overlap with another file).
//!
//! What is kept: every file's text and line index ([`Files`]), the thin layout (which files pair
//! up, found from paths alone), and per manifest the model and the reader's findings of each of
//! its files, and the findings of the rules that read one manifest alone. What an edit costs:
//! re-indexing and re-reading the edited file, the single-manifest rules over its manifest, then
//! the rules that compare entries across all models ([`crate::rules::check_across`]: tag
//! conflicts and overlaps), which read the models in place. Adding or removing a file
//! changes the layout and rebuilds everything. [`Workspace::lint`] gives exactly what
//! [`crate::load`] gives for the same files (checked by this module's tests).

use crate::diagnostic::{Diagnostic, sort_diagnostics};
use crate::files::{FileId, Files};
use crate::manifest::thin::{Layout, Pair};
use crate::manifest::{self, Manifest, Reader, ThinDir};
use crate::source::SourceFile;
use crate::{Input, ManifestSet};

/// One manifest of the workspace: a plain file, or a thin pair.
#[derive(Clone, Debug)]
struct Slot {
    /// The file holding `registries`.
    file: FileId,
    /// The thin pair's folder name and `images.yaml` (found or not), `None` for a plain file.
    thin: Option<ThinSlot>,
    /// True when the model is in [`Workspace::manifests`] (the registries file could be read).
    present: bool,
    /// The reader's findings for the registries file (and the pair checks).
    findings: Vec<Diagnostic>,
    /// The reader's findings for the `images.yaml` (only reported while `present`, as in `load`).
    images_findings: Vec<Diagnostic>,
    /// The findings of the rules that read this manifest alone ([`crate::rules::check_manifest`]).
    rule_findings: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
struct ThinSlot {
    x: String,
    images: Option<FileId>,
    images_path: String,
}

/// The parsed manifests of a workspace, updated one file at a time.
#[derive(Clone, Debug)]
pub struct Workspace {
    files: Files,
    thin_dirs: Vec<ThinDir>,
    /// Manifests in [`crate::load`]'s order: thin pairs directory by directory, then plain files.
    slots: Vec<Slot>,
    /// The models of the present slots, in slot order.
    manifests: Vec<Manifest>,
    /// For each file, the slots that read it.
    readers: Vec<Vec<usize>>,
    /// The thin structure findings (paths only).
    layout_findings: Vec<Diagnostic>,
}

impl Workspace {
    /// Reads every file of `input` (thin directories inferred from the paths when not given).
    pub fn new(input: Input) -> Self {
        let thin_dirs = match input.thin_dirs {
            Some(dirs) => dirs,
            None => manifest::infer_thin_dirs(input.files.iter().map(|f| f.path.as_str())),
        };
        let mut workspace = Self {
            files: Files::new(input.files),
            thin_dirs,
            slots: Vec::new(),
            manifests: Vec::new(),
            readers: Vec::new(),
            layout_findings: Vec::new(),
        };
        workspace.rebuild();
        workspace
    }

    /// The files and their line indexes.
    pub fn files(&self) -> &Files {
        &self.files
    }

    /// The models of every manifest that could be read.
    pub fn manifests(&self) -> &[Manifest] {
        &self.manifests
    }

    /// The thin directories of the workspace.
    pub fn thin_dirs(&self) -> &[ThinDir] {
        &self.thin_dirs
    }

    /// Sets the text of the file at `path`: re-reads that file only when it is already part of
    /// the workspace, otherwise adds it (its folders join the thin directory it lies under) and
    /// rebuilds. Returns true when the file was already known.
    pub fn set_text(&mut self, path: &str, text: String) -> bool {
        if let Some(id) = self.files.find(path) {
            if self.files.get(id).text != text {
                self.files.set_text(id, text);
                self.reread(id);
            }
            return true;
        }
        for dir in &mut self.thin_dirs {
            if let Some(rel) = dir.relative(path) {
                for (i, _) in rel.match_indices('/') {
                    if !dir.dirs.iter().any(|d| d == &rel[..i]) {
                        dir.dirs.push(rel[..i].to_owned());
                    }
                }
                dir.dirs.sort();
            }
        }
        let mut files: Vec<SourceFile> = self.files.iter().map(|(_, f)| f.clone()).collect();
        files.push(SourceFile::new(path, text));
        self.files = Files::new(files);
        self.rebuild();
        false
    }

    /// Removes the file at `path` (deleted on disk) and rebuilds; false when it was not there.
    pub fn remove(&mut self, path: &str) -> bool {
        if self.files.find(path).is_none() {
            return false;
        }
        let files = self.files.iter().filter(|(_, f)| f.path != path).map(|(_, f)| f.clone()).collect();
        self.files = Files::new(files);
        self.rebuild();
        true
    }

    /// Every finding of the workspace, sorted: the same as [`crate::load`] on the same files.
    pub fn lint(&self) -> Vec<Diagnostic> {
        let mut out = self.layout_findings.clone();
        for slot in &self.slots {
            out.extend(slot.findings.iter().cloned());
            if slot.present {
                out.extend(slot.images_findings.iter().cloned());
                out.extend(slot.rule_findings.iter().cloned());
            }
        }
        crate::rules::check_across(&self.files, &self.manifests, &mut out);
        sort_diagnostics(&mut out);
        out
    }

    /// The workspace as a [`ManifestSet`] (a copy of the models and the findings).
    pub fn to_set(&self) -> ManifestSet {
        ManifestSet { files: self.files.clone(), manifests: self.manifests.clone(), diagnostics: self.lint() }
    }

    /// Finds the layout from the paths and reads every file.
    fn rebuild(&mut self) {
        let files = &self.files;
        let count = files.iter().count();
        let mut slots = Vec::new();
        let mut layout_findings = Vec::new();
        let mut thin_owned = vec![false; count];
        for dir in &self.thin_dirs {
            let layout = Layout::scan(files, dir);
            crate::rules::thin_layout::check(files, dir, &layout, &mut layout_findings);
            for pair in &layout.pairs {
                let thin = ThinSlot {
                    x: pair.x.to_owned(),
                    images: pair.images,
                    images_path: pair.images_path.clone(),
                };
                slots.push(Slot::new(pair.manifest, Some(thin)));
            }
            for (id, _) in &layout.owned {
                thin_owned[id.0 as usize] = true;
            }
        }
        for (id, _) in files.iter() {
            if !thin_owned[id.0 as usize] {
                slots.push(Slot::new(id, None));
            }
        }
        let mut readers = vec![Vec::new(); count];
        for (i, slot) in slots.iter().enumerate() {
            readers[slot.file.0 as usize].push(i);
            if let Some(images) = slot.thin.as_ref().and_then(|t| t.images) {
                readers[images.0 as usize].push(i);
            }
        }
        self.slots = slots;
        self.readers = readers;
        self.layout_findings = layout_findings;
        self.manifests.clear();
        for i in 0..self.slots.len() {
            let manifest = self.read_slot(i, None);
            self.put(i, manifest);
        }
    }

    /// Re-reads what `file` holds for every manifest that reads it.
    fn reread(&mut self, file: FileId) {
        for i in self.readers[file.0 as usize].clone() {
            if self.slots[i].file == file {
                // The registries changed: re-read them, keep the images model when there is one.
                let at = self.index(i);
                let images = self.slots[i].present.then(|| std::mem::take(&mut self.manifests[at].images));
                let manifest = self.read_slot(i, images);
                self.put(i, manifest);
            } else if self.slots[i].present {
                let (images, findings) = self.read_images(file);
                self.slots[i].images_findings = findings;
                let at = self.index(i);
                self.manifests[at].images = images;
                self.check_slot(i, at);
            }
        }
    }

    /// Reads slot `i`'s manifest (and its images, unless `images` are given), storing the
    /// reader's findings in the slot.
    fn read_slot(&mut self, i: usize, images: Option<Vec<manifest::Image>>) -> Option<Manifest> {
        let files = &self.files;
        let file = self.slots[i].file;
        let mut findings = Vec::new();
        let Some(thin) = self.slots[i].thin.clone() else {
            let manifest = manifest::read_plain(files, file, &mut findings);
            self.slots[i].findings = findings;
            return manifest;
        };
        let pair =
            Pair { manifest: file, x: &thin.x, images: thin.images, images_path: thin.images_path.clone() };
        let read = Reader { files, out: &mut findings }.thin_manifest(file);
        let images_file = thin.images;
        let mut manifest = read.map(|(mut manifest, images_path_key)| {
            crate::rules::thin_layout::check_pair(files, &pair, images_path_key.as_ref(), &mut findings);
            manifest.images_file = images_file;
            manifest
        });
        let mut images_findings = Vec::new();
        if let (Some(manifest), Some(file)) = (manifest.as_mut(), images_file) {
            manifest.images = match images {
                Some(images) => {
                    images_findings = std::mem::take(&mut self.slots[i].images_findings);
                    images
                }
                None => {
                    let (images, found) = self.read_images(file);
                    images_findings = found;
                    images
                }
            };
        }
        self.slots[i].findings = findings;
        self.slots[i].images_findings = images_findings;
        manifest
    }

    fn read_images(&self, file: FileId) -> (Vec<manifest::Image>, Vec<Diagnostic>) {
        let mut findings = Vec::new();
        let images = Reader { files: &self.files, out: &mut findings }.images_file(file);
        (images, findings)
    }

    /// Where slot `i`'s model is (or goes) in `manifests`.
    fn index(&self, i: usize) -> usize {
        self.slots[..i].iter().filter(|s| s.present).count()
    }

    /// Stores slot `i`'s model (or its absence).
    fn put(&mut self, i: usize, manifest: Option<Manifest>) {
        let at = self.index(i);
        let present = manifest.is_some();
        match (self.slots[i].present, manifest) {
            (true, Some(m)) => self.manifests[at] = m,
            (true, None) => {
                self.manifests.remove(at);
            }
            (false, Some(m)) => self.manifests.insert(at, m),
            (false, None) => {}
        }
        self.slots[i].present = present;
        if present {
            self.check_slot(i, at);
        } else {
            self.slots[i].rule_findings.clear();
        }
    }

    /// Runs the single-manifest rules over slot `i`'s model (at `at` in `manifests`).
    fn check_slot(&mut self, i: usize, at: usize) {
        let mut findings = Vec::new();
        crate::rules::check_manifest(&self.files, &self.manifests[at], &mut findings);
        self.slots[i].rule_findings = findings;
    }
}

impl Slot {
    fn new(file: FileId, thin: Option<ThinSlot>) -> Self {
        Self {
            file,
            thin,
            present: false,
            findings: Vec::new(),
            images_findings: Vec::new(),
            rule_findings: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST_A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const DIGEST_B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn registries(dest: &str) -> String {
        format!("registries:\n- name: gcr.io/staging\n  src: true\n- name: {dest}\n")
    }

    fn images(digest: &str, tag: &str) -> String {
        format!("- name: foo\n  dmap:\n    \"{digest}\": [\"{tag}\"]\n")
    }

    fn files() -> Vec<SourceFile> {
        vec![
            SourceFile::new("t/manifests/a/promoter-manifest.yaml", registries("r.example/prod")),
            SourceFile::new("t/images/a/images.yaml", images(DIGEST_A, "1.0")),
            SourceFile::new("t/manifests/b/promoter-manifest.yaml", registries("r.example/prod")),
            SourceFile::new("t/images/b/images.yaml", images(DIGEST_A, "1.0")),
            SourceFile::new(
                "plain.yaml",
                format!("{}images:\n{}", registries("r.example/other"), images(DIGEST_B, "2.0")),
            ),
        ]
    }

    /// `load` on the same files: what the workspace must give after every edit.
    fn fresh(workspace: &Workspace) -> Vec<Diagnostic> {
        let files = workspace.files().iter().map(|(_, f)| f.clone()).collect();
        crate::load(Input { files, thin_dirs: Some(workspace.thin_dirs().to_vec()) }).diagnostics
    }

    #[test]
    fn edits_give_what_a_fresh_load_gives() {
        let mut workspace = Workspace::new(Input { files: files(), thin_dirs: None });
        assert_eq!(workspace.lint(), fresh(&workspace));
        assert!(workspace.lint().is_empty(), "{:#?}", workspace.lint());
        let edits = [
            // A cross-file overlap appears in one images.yaml and goes away again.
            ("t/images/b/images.yaml", images(DIGEST_B, "1.0")),
            ("t/images/b/images.yaml", images(DIGEST_A, "1.0")),
            // YAML broken and mended in a thin manifest, in an images file and in a plain file.
            ("t/manifests/a/promoter-manifest.yaml", "registries: [\n".to_owned()),
            ("t/images/a/images.yaml", "- name: [\n".to_owned()),
            ("t/manifests/a/promoter-manifest.yaml", registries("r.example/prod")),
            ("t/images/a/images.yaml", images(DIGEST_B, "1.0")),
            ("plain.yaml", "registries: {\n".to_owned()),
            ("plain.yaml", format!("{}images:\n{}", registries("r.example/prod"), images(DIGEST_B, "1.0"))),
            // A typo the reader reports, then a new file joining the thin directory.
            ("t/manifests/b/promoter-manifest.yaml", registries("r.example/prod").replace("src:", "srcc:")),
            ("t/images/c/images.yaml", images(DIGEST_A, "3.0")),
        ];
        for (path, text) in edits {
            workspace.set_text(path, text.clone());
            assert_eq!(workspace.lint(), fresh(&workspace), "after setting {path} to {text:?}");
        }
        let codes: Vec<&str> = workspace.lint().iter().map(|d| d.code.as_str()).collect();
        assert!(codes.contains(&"destination-overlap"), "{codes:?}");
        assert!(codes.contains(&"thin-images-orphan"), "{codes:?}");
        assert!(workspace.remove("t/images/c/images.yaml"));
        assert_eq!(workspace.lint(), fresh(&workspace));
        assert!(!workspace.remove("t/images/c/images.yaml"));
    }

    #[test]
    fn unchanged_text_keeps_the_models() {
        let mut workspace = Workspace::new(Input { files: files(), thin_dirs: None });
        let before = workspace.manifests().to_vec();
        assert!(workspace.set_text("plain.yaml", workspace.files().get(FileId(4)).text.clone()));
        assert_eq!(workspace.manifests(), &before[..]);
        assert_eq!(workspace.manifests().len(), 3);
    }
}
