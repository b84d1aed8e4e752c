//! Machine-applicable fixes attached to findings: byte-span replacements with a title and an
//! applicability. `safe` fixes never change what is promoted (quoting, renaming a misspelt key,
//! merging entries that mean the same); `unsafe` ones may, so front ends offer them but
//! `cip lint --fix` applies them only with `--unsafe-fixes`.
//!
//! Every front end gets the same fixes through the diagnostic JSON; [`apply`] is the one way to
//! apply them to a text (the CLI, the language server and the browser all call it).

use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, Location};
use crate::source::{LineIndex, SourceFile, Span};

/// Whether a fix may be applied without review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Keeps what is promoted exactly as it was; applied by `cip lint --fix`.
    Safe,
    /// May change what is promoted; applied only with `--unsafe-fixes`.
    Unsafe,
}

/// One replacement of a byte range of a file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Edit {
    /// The range replaced (an empty range inserts).
    #[serde(flatten)]
    pub location: Location,
    /// The new text.
    pub replacement: String,
}

impl Edit {
    /// Replaces `span` of `file` by `replacement`.
    pub fn new(file: &SourceFile, index: &LineIndex, span: Span, replacement: impl Into<String>) -> Self {
        Self { location: Location::resolve(file, index, span), replacement: replacement.into() }
    }
}

/// A titled set of non-overlapping edits that together repair one finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fix {
    /// What the fix does, imperative and lowercase ("quote the tag").
    pub title: String,
    /// Safe or unsafe.
    pub applicability: Applicability,
    /// The edits, sorted by position, never overlapping.
    pub edits: Vec<Edit>,
}

impl Fix {
    /// A fix made of `edits` (sorted here, so every front end sees them in file order).
    pub fn new(title: impl Into<String>, applicability: Applicability, mut edits: Vec<Edit>) -> Self {
        edits.sort();
        Self { title: title.into(), applicability, edits }
    }

    /// A safe fix.
    pub fn safe(title: impl Into<String>, edits: Vec<Edit>) -> Self {
        Self::new(title, Applicability::Safe, edits)
    }

    /// An unsafe fix.
    pub fn unsafe_(title: impl Into<String>, edits: Vec<Edit>) -> Self {
        Self::new(title, Applicability::Unsafe, edits)
    }

    /// True when `self` may be applied under `allow` (safe fixes under either).
    pub fn allowed(&self, allow: Applicability) -> bool {
        self.applicability <= allow
    }
}

/// Applies `edits` to `text` by byte span. Edits are applied in span order; an edit that overlaps
/// one already taken, or whose span is not on character boundaries of `text`, is skipped (a fix
/// is computed for one version of a file; a stale or conflicting edit must not corrupt it).
pub fn apply(text: &str, edits: &[&Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.to_vec();
    sorted.sort_by_key(|e| (e.location.span.start, e.location.span.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0usize;
    for edit in sorted {
        let (start, end) = (edit.location.span.start as usize, edit.location.span.end as usize);
        let in_text = end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end);
        if start < at || !in_text || start > end {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(&edit.replacement);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The edits to `file` of the first fix of each finding allowed under `allow`, taking a whole fix
/// or nothing: a fix whose edits overlap an edit already chosen waits for the next pass (after
/// re-linting, its finding is recomputed against the new text).
pub fn select<'d>(diagnostics: &'d [Diagnostic], file: &str, allow: Applicability) -> Vec<&'d Edit> {
    let mut taken: Vec<&Edit> = Vec::new();
    for fix in diagnostics.iter().flat_map(|d| d.fixes.iter().filter(|f| f.allowed(allow)).take(1)) {
        if fix.edits.iter().any(|e| e.location.file != file) {
            continue;
        }
        let overlaps =
            fix.edits.iter().any(|e| taken.iter().any(|t| spans_overlap(e.location.span, t.location.span)));
        if !overlaps {
            taken.extend(fix.edits.iter());
        }
    }
    taken
}

/// True when two ranges share a byte, or are the same insertion point (two inserts at one point
/// have no defined order).
fn spans_overlap(a: Span, b: Span) -> bool {
    (a.start < b.end && b.start < a.end) || a.start == b.start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(text: &str, start: usize, end: usize, replacement: &str) -> Edit {
        let file = SourceFile::new("m.yaml", text);
        Edit::new(&file, &LineIndex::new(text), Span::new(start, end), replacement)
    }

    #[test]
    fn applies_edits_in_span_order_whatever_order_they_come_in() {
        let text = "a: 1\nb: 2\n";
        let one = edit(text, 3, 4, "\"1\"");
        let two = edit(text, 8, 9, "\"2\"");
        assert_eq!(apply(text, &[&two, &one]), "a: \"1\"\nb: \"2\"\n");
    }

    #[test]
    fn skips_an_overlapping_or_out_of_range_edit() {
        let text = "abcdef";
        let first = edit(text, 1, 3, "X");
        let overlapping = edit(text, 2, 4, "Y");
        let mut beyond = edit(text, 0, 0, "Z");
        beyond.location.span = Span::new(10, 12);
        assert_eq!(apply(text, &[&first, &overlapping, &beyond]), "aXdef");
    }

    #[test]
    fn an_empty_span_inserts() {
        let text = "ab";
        assert_eq!(apply(text, &[&edit(text, 1, 1, "-")]), "a-b");
    }

    #[test]
    fn edit_serializes_flat_with_a_replacement() {
        let json = serde_json::to_value(edit("a: 1\n", 3, 4, "\"1\"")).unwrap();
        assert_eq!(json["line"], 1);
        assert_eq!(json["column"], 4);
        assert_eq!(json["endColumn"], 5);
        assert_eq!(json["span"]["start"], 3);
        assert_eq!(json["replacement"], "\"1\"");
        let fix = Fix::safe("quote the tag", vec![edit("a: 1\n", 3, 4, "\"1\"")]);
        let json = serde_json::to_value(fix).unwrap();
        assert_eq!(json["applicability"], "safe");
        assert_eq!(json["title"], "quote the tag");
    }

    #[test]
    fn unsafe_is_allowed_only_under_unsafe() {
        let fix = Fix::unsafe_("drop", Vec::new());
        assert!(!fix.allowed(Applicability::Safe));
        assert!(fix.allowed(Applicability::Unsafe));
        assert!(Fix::safe("q", Vec::new()).allowed(Applicability::Safe));
    }
}
