//! The set of input files of one run, with their line indexes, so every rule can turn a
//! (file, span) pair into a resolved [`Location`].

use crate::diagnostic::Location;
use crate::source::{LineIndex, SourceFile, Span};

/// Index of a file in [`Files`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// Input files and their line indexes.
#[derive(Clone, Debug, Default)]
pub struct Files {
    files: Vec<SourceFile>,
    indexes: Vec<LineIndex>,
}

impl Files {
    /// Takes ownership of the files and indexes their lines.
    pub fn new(files: Vec<SourceFile>) -> Self {
        let indexes = files.iter().map(|f| LineIndex::new(&f.text)).collect();
        Self { files, indexes }
    }

    /// Replaces the text of one file and re-indexes its lines (an edit in an editor; see
    /// [`crate::workspace`]).
    pub fn set_text(&mut self, id: FileId, text: String) {
        let i = id.0 as usize;
        self.indexes[i] = LineIndex::new(&text);
        self.files[i].text = text;
    }

    /// All files, in input order.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i as u32), f))
    }

    /// One file.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// The file with this exact path, if any.
    pub fn find(&self, path: &str) -> Option<FileId> {
        self.files.iter().position(|f| f.path == path).map(|i| FileId(i as u32))
    }

    /// Resolves a span of a file to a location.
    pub fn locate(&self, id: FileId, span: Span) -> Location {
        let i = id.0 as usize;
        Location::resolve(&self.files[i], &self.indexes[i], span)
    }

    /// The text of one line of a file (for renderers).
    pub fn line_text(&self, id: FileId, line: u32) -> &str {
        let i = id.0 as usize;
        self.indexes[i].line_text(&self.files[i].text, line)
    }
}
