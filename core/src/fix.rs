//! Machine-applicable fixes attached to findings: byte-span replacements with a title and an
//! applicability. `safe` fixes never change what is promoted (quoting, renaming a misspelt key,
//! merging entries that mean the same); `unsafe` ones may, so front ends offer them but
//! `cip lint --fix` applies them only with `--unsafe-fixes`.
//!
//! Every front end gets the same fixes through the diagnostic JSON; [`apply`] is the one way to
//! apply them to a text (the CLI, the language server and the browser all call it).

use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, Location};
use crate::files::{FileId, Files};
use crate::source::{LineIndex, SourceFile, Span};
use crate::{Input, LintReport};

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

    /// The fix as a SARIF 2.1.0 `fix` object: one `artifactChange` per file, each edit a
    /// `replacement` of its exact region (an empty region inserts), the applicability in the
    /// property bag (SARIF has no field for it).
    pub fn to_sarif(&self) -> serde_json::Value {
        use serde_json::json;
        let mut changes: Vec<(&str, Vec<serde_json::Value>)> = Vec::new();
        for edit in &self.edits {
            let at = &edit.location;
            let replacement = json!({
                "deletedRegion": {
                    "startLine": at.line,
                    "startColumn": at.column,
                    "endLine": at.end_line,
                    "endColumn": at.end_column,
                },
                "insertedContent": { "text": edit.replacement },
            });
            match changes.iter_mut().find(|(file, _)| *file == at.file) {
                Some((_, list)) => list.push(replacement),
                None => changes.push((&at.file, vec![replacement])),
            }
        }
        let changes: Vec<_> = changes
            .into_iter()
            .map(|(file, replacements)| json!({ "artifactLocation": { "uri": file }, "replacements": replacements }))
            .collect();
        json!({
            "description": { "text": self.title },
            "artifactChanges": changes,
            "properties": { "applicability": self.applicability },
        })
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

/// The fixes to apply to `file` in one pass: the first fix of each finding allowed under
/// `allow`, whole or not at all. A fix whose edits overlap an edit already chosen (or that edits
/// another file too) waits for the next pass, when its finding is recomputed against the new text.
pub fn select<'d>(diagnostics: &'d [Diagnostic], file: &str, allow: Applicability) -> Vec<&'d Fix> {
    let mut chosen: Vec<&Fix> = Vec::new();
    // Start -> end of every chosen edit: an overlap check looks at the two neighbours only, so a
    // file with thousands of fixes is not quadratic.
    let mut taken: std::collections::BTreeMap<u32, u32> = std::collections::BTreeMap::new();
    for fix in diagnostics.iter().filter_map(|d| d.fixes.iter().find(|f| f.allowed(allow))) {
        if fix.edits.is_empty() || fix.edits.iter().any(|e| e.location.file != file) {
            continue;
        }
        let clash = |span: Span| {
            let before = taken.range(..=span.start).next_back();
            let after = taken.range(span.start..).next();
            before.is_some_and(|(&s, &e)| spans_overlap(span, Span { start: s, end: e }))
                || after.is_some_and(|(&s, &e)| spans_overlap(span, Span { start: s, end: e }))
        };
        if fix.edits.iter().any(|e| clash(e.location.span)) {
            continue;
        }
        for edit in &fix.edits {
            taken.insert(edit.location.span.start, edit.location.span.end);
        }
        chosen.push(fix);
    }
    chosen
}

/// Most fix passes [`fix`] makes: each pass re-lints, so fixes that touch one span one after
/// the other all land; a pass that changes nothing ends the loop earlier.
pub const MAX_PASSES: usize = 10;

/// What [`fix`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixOutcome {
    /// Every input file, with its fixed text (unchanged files as they were).
    pub files: Vec<SourceFile>,
    /// Paths of the files whose text changed, in input order.
    pub changed: Vec<String>,
    /// Fixes applied, over all passes.
    pub applied: usize,
    /// Passes that applied at least one fix.
    pub passes: usize,
    /// The lint of the fixed files: what is left.
    pub report: LintReport,
}

/// Lints `input`, applies the allowed fixes, and repeats until no allowed fix is left or
/// [`MAX_PASSES`] passes are made; then lints the result once more for what is left. Pure: the
/// caller writes the changed files.
pub fn fix(input: Input, allow: Applicability) -> FixOutcome {
    let original: Vec<String> = input.files.iter().map(|f| f.text.clone()).collect();
    let mut input = input;
    let (mut applied, mut passes) = (0, 0);
    let mut report = crate::lint(input.clone());
    while passes < MAX_PASSES {
        let mut changed_any = false;
        for file in &mut input.files {
            let fixes = select(&report.diagnostics, &file.path, allow);
            if fixes.is_empty() {
                continue;
            }
            let edits: Vec<&Edit> = fixes.iter().flat_map(|f| &f.edits).collect();
            let text = apply(&file.text, &edits);
            if text != file.text {
                file.text = text;
                applied += fixes.len();
                changed_any = true;
            }
        }
        if !changed_any {
            break;
        }
        passes += 1;
        report = crate::lint(input.clone());
    }
    let changed = input
        .files
        .iter()
        .zip(&original)
        .filter(|(f, text)| f.text != **text)
        .map(|(f, _)| f.path.clone())
        .collect();
    FixOutcome { files: input.files, changed, applied, passes, report }
}

// --- building fixes (for the rules) --------------------------------------------------------

/// An edit of a file of the run.
pub(crate) fn edit(files: &Files, file: FileId, span: Span, replacement: impl Into<String>) -> Edit {
    Edit { location: files.locate(file, span), replacement: replacement.into() }
}

/// A fix replacing the value `value` by `new` (double-quoted), when the text at its span is that
/// value as written (plain or quoted), not another node's read through an alias.
pub(crate) fn replace_value(
    files: &Files,
    value: &crate::manifest::Spanned<String>,
    new: &str,
    title: String,
    applicability: Applicability,
) -> Option<Fix> {
    if !written_as(files, value) {
        return None;
    }
    let text = &files.get(value.file).text;
    let quoted = text[value.span.start as usize..].starts_with(['"', '\'']);
    let written = if !quoted && plain_safe(new) { new.to_owned() } else { quote(new) };
    Some(Fix::new(title, applicability, vec![edit(files, value.file, value.span, written)]))
}

/// True when `value` can be written as a plain scalar and read back as the same string by any
/// YAML reader: registry and image names, e-mail addresses and paths.
pub(crate) fn plain_safe(value: &str) -> bool {
    let first_ok =
        value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/'));
    first_ok
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | ':' | '@' | '+' | '-'))
        && !value.ends_with(':')
        && crate::manifest::other_reading(value).is_none()
}

/// True when the text at `value`'s span is its value, plain or in quotes without escapes.
pub(crate) fn written_as(files: &Files, value: &crate::manifest::Spanned<String>) -> bool {
    let text = &files.get(value.file).text;
    let Some(written) = text.get(value.span.start as usize..value.span.end as usize) else { return false };
    let unquoted = written.strip_prefix(['"', '\'']).and_then(|w| w.strip_suffix(['"', '\'']));
    written == value.value || unquoted == Some(value.value.as_str())
}

/// `s` as a YAML double-quoted scalar: `"`, `\` and control characters escaped, the rest as is.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Start of the line holding byte `at`.
pub(crate) fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1)
}

/// End of the line holding byte `at`, after its line break (`\n`, `\r\n` or `\r`).
pub(crate) fn line_end(text: &str, at: usize) -> usize {
    match text[at..].find(['\n', '\r']) {
        None => text.len(),
        Some(i) if text[at + i..].starts_with("\r\n") => at + i + 2,
        Some(i) => at + i + 1,
    }
}

/// The whole lines holding `span`, line break included, when nothing else is written on them:
/// before `span` only indentation (and `lead`, e.g. a block list's `-`), after it only spaces or
/// a comment. Deleting that range removes one entry and leaves the rest of the file as it was.
pub(crate) fn whole_lines(text: &str, span: Span, lead: &str) -> Option<Span> {
    let (start, end) = (span.start as usize, span.end as usize);
    if end > text.len() || start > end {
        return None;
    }
    let from = line_start(text, start);
    let before = text[from..start].trim();
    if !(before.is_empty() || before == lead) {
        return None;
    }
    let to = line_end(text, end);
    let after = text[end..to].trim();
    (after.is_empty() || after.starts_with('#')).then(|| Span::new(from, to))
}

/// The indentation (spaces) that puts text in the column of byte `at`.
pub(crate) fn indent_of(text: &str, at: usize) -> String {
    " ".repeat(text[line_start(text, at)..at].chars().count())
}

/// The line break the file uses (its first one), `\n` when it has none.
pub(crate) fn line_break(text: &str) -> &'static str {
    match text.find(['\n', '\r']) {
        Some(i) if text[i..].starts_with("\r\n") => "\r\n",
        Some(i) if text[i..].starts_with('\r') => "\r",
        _ => "\n",
    }
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
    fn quote_escapes_what_yaml_double_quotes_need() {
        assert_eq!(quote("1.10"), "\"1.10\"");
        assert_eq!(quote("a\"b\\c\td"), "\"a\\\"b\\\\c\\td\"");
        assert_eq!(quote("\u{7}"), "\"\\u0007\"");
    }

    #[test]
    fn whole_lines_only_when_nothing_else_is_on_them() {
        let text = "a:\r\n  - x # c\r\n  - y\nb: [x, y]";
        let x = text.find('x').unwrap();
        let line = whole_lines(text, Span::new(x, x + 1), "-").unwrap();
        assert_eq!(&text[line.start as usize..line.end as usize], "  - x # c\r\n");
        let y = text.find('y').unwrap();
        assert_eq!(
            &text[whole_lines(text, Span::new(y, y + 1), "-")
                .map(|s| s.start as usize..s.end as usize)
                .unwrap()],
            "  - y\n"
        );
        let flow = text.rfind('x').unwrap();
        assert_eq!(whole_lines(text, Span::new(flow, flow + 1), "-"), None);
        assert_eq!(line_break(text), "\r\n");
        assert_eq!(indent_of(text, text.find("- y").unwrap()), "  ");
    }

    const DIGEST: &str = "sha256:7d02bd1b9f231bbcb842ce34c67dcd6e16f6171b34417621f980e6dd79adc8ed";

    #[test]
    fn fix_loops_until_overlapping_fixes_have_all_landed() {
        // Three entries of one digest: both merges insert into the first list at one point, so
        // the second waits for the next pass.
        let text = format!(
            "registries:\n- name: gcr.io/s\n  src: true\n- name: gcr.io/p\nimages:\n- name: a\n  dmap:\n    \"{DIGEST}\": [\"v1\"]\n    \"{DIGEST}\": [\"v2\"]\n    \"{DIGEST}\": [\"v3\", 1.10]\n"
        );
        let input = Input { files: vec![SourceFile::new("m.yaml", text)], thin_dirs: None };
        let outcome = fix(input, Applicability::Safe);
        assert_eq!(outcome.passes, 2, "the second merge waits for the second pass");
        // The merged tags are written quoted (`1.10` too: a duplicate's tags are not read, so
        // it has no tag-unquoted finding of its own).
        assert_eq!(outcome.applied, 2, "{}", outcome.files[0].text);
        assert_eq!(outcome.changed, vec!["m.yaml".to_owned()]);
        let fixed = &outcome.files[0].text;
        assert!(
            fixed.ends_with(&format!("  dmap:\n    \"{DIGEST}\": [\"v1\", \"v2\", \"v3\", \"1.10\"]\n")),
            "{fixed}"
        );
        assert!(outcome.report.diagnostics.is_empty(), "{:?}", outcome.report.diagnostics);
        let again = fix(Input { files: outcome.files, thin_dirs: None }, Applicability::Safe);
        assert_eq!((again.applied, again.passes, again.changed.len()), (0, 0, 0));
    }

    #[test]
    fn unsafe_is_allowed_only_under_unsafe() {
        let fix = Fix::unsafe_("drop", Vec::new());
        assert!(!fix.allowed(Applicability::Safe));
        assert!(fix.allowed(Applicability::Unsafe));
        assert!(Fix::safe("q", Vec::new()).allowed(Applicability::Safe));
    }
}
