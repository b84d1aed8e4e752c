//! The one finding type every front end renders: a stable kebab-case code, a severity, a message,
//! a primary location, secondary labels, an optional help text and machine-applicable fixes.

use serde::{Deserialize, Serialize};

use crate::fix::Fix;
use crate::rules::Code;
use crate::source::{LineIndex, SourceFile, Span};

/// How bad a finding is. Errors block (exit 1); warnings are advice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Must be fixed; a promotion would be wrong or refused.
    Error,
    /// Probably unintended, but promotion is still well defined.
    Warning,
}

/// A location in a file, resolved to 1-based line and column (characters and UTF-16 units).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// File path as given by the caller.
    pub file: String,
    /// 1-based start line.
    pub line: u32,
    /// 1-based start column (characters).
    pub column: u32,
    /// 1-based end line.
    pub end_line: u32,
    /// 1-based end column (characters, exclusive).
    pub end_column: u32,
    /// 1-based start column in UTF-16 units (for browser editors).
    pub column_utf16: u32,
    /// 1-based end column in UTF-16 units.
    pub end_column_utf16: u32,
    /// Byte range in the file.
    pub span: Span,
}

impl Location {
    /// Resolves `span` in `file` using its line index.
    pub fn resolve(file: &SourceFile, index: &LineIndex, span: Span) -> Self {
        let start = index.position(&file.text, span.start);
        let end = index.position(&file.text, span.end);
        Self {
            file: file.path.clone(),
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            column_utf16: start.column_utf16,
            end_column_utf16: end.column_utf16,
            span,
        }
    }

    /// A whole-path location (a directory, a missing file): line 1, column 1, empty span.
    pub fn whole(path: &str) -> Self {
        Self {
            file: path.to_owned(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            column_utf16: 1,
            end_column_utf16: 1,
            span: Span::default(),
        }
    }
}

/// A secondary location with a short note ("first declared here").
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    /// Where.
    #[serde(flatten)]
    pub location: Location,
    /// What is there.
    pub message: String,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What kind of finding it is; written as its stable kebab-case name, e.g. `digest-invalid`.
    pub code: Code,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// Primary location.
    #[serde(flatten)]
    pub location: Location,
    /// What to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Related locations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    /// Machine-applicable repairs, best first (see [`crate::fix`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<Fix>,
}

impl Diagnostic {
    /// A finding at `location`, with the severity of its code ([`Code::severity`]), so a code's
    /// findings always have the severity the README gives it.
    pub fn new(code: Code, location: Location, message: impl Into<String>) -> Self {
        Self {
            severity: code.severity(),
            code,
            message: message.into(),
            location,
            help: None,
            labels: Vec::new(),
            fixes: Vec::new(),
        }
    }

    /// Adds a help text.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary label.
    #[must_use]
    pub fn with_label(mut self, location: Location, message: impl Into<String>) -> Self {
        self.labels.push(Label { location, message: message.into() });
        self
    }

    /// Adds a fix.
    #[must_use]
    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fixes.push(fix);
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by file, position, then code and message, and drops exact duplicates, so that
/// every front end prints the same order whatever order the rules ran in.
pub fn sort_diagnostics(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        (&a.location.file, a.location.span.start, a.location.span.end, &a.code, &a.message).cmp(&(
            &b.location.file,
            b.location.span.start,
            b.location.span.end,
            &b.code,
            &b.message,
        ))
    });
    diagnostics.dedup();
}
