//! Renders core findings for people and machines: rustc-style text with the source line and a

//! caret, JSON (the core's own shape), SARIF 2.1.0 for code-scanning uploads, and GitHub workflow
//! annotations. No rule logic here: only presentation of the core's values.

pub(crate) mod tables;

use std::fmt::Write as _;

use cip_core::{Applicability, Diagnostic, Files, LintReport, Location, Severity};

/// Output formats of `cip lint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// rustc-style text with source lines.
    Human,
    /// `{"diagnostics": [...], "summary": {...}}`.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
}

/// Renders a lint report in the given format.
pub(crate) fn lint_report(report: &LintReport, files: &Files, format: Format, color: bool) -> String {
    match format {
        Format::Human => human(report, files, color),
        Format::Json => json(report),
        Format::Sarif => cip_core::wire::sarif(&report.diagnostics),
        Format::Github => github(&report.diagnostics),
    }
}

/// The JSON every front end prints for a lint: pretty, with a trailing newline.
pub(crate) fn json(report: &LintReport) -> String {
    cip_core::wire::pretty_json(report)
}

/// A PATH that could not be read, as a finding (`read-error`, located at the path as a whole),
/// so that JSON output keeps its shape: tools never get empty output.
pub(crate) fn read_error(message: &str, path: &str) -> cip_core::Diagnostic {
    cip_core::Diagnostic::new(cip_core::Code::ReadError, cip_core::Location::whole(path), message)
}

/// The lint JSON for a run that could not read its input: the error as its one finding.
pub(crate) fn read_error_json(message: &str, path: &str) -> String {
    let summary = cip_core::Summary { errors: 1, ..cip_core::Summary::default() };
    json(&LintReport { diagnostics: vec![read_error(message, path)], summary })
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }
}

/// rustc-style text.
pub(crate) fn human(report: &LintReport, files: &Files, color: bool) -> String {
    let paint = Paint(color);
    let mut out = String::new();
    for d in &report.diagnostics {
        diagnostic_text(&mut out, d, files, &paint);
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} error{}, {} warning{} in {} manifest{} ({} images, {} digests, {} tags)",
        s.errors,
        plural(s.errors),
        s.warnings,
        plural(s.warnings),
        s.manifests,
        plural(s.manifests),
        s.images,
        s.digests,
        s.tags
    );
    let fixable = |allow: Applicability| {
        report.diagnostics.iter().filter(|d| d.fixes.iter().any(|f| f.applicability == allow)).count()
    };
    match (fixable(Applicability::Safe), fixable(Applicability::Unsafe)) {
        (0, 0) => {}
        (safe, 0) => {
            let _ = writeln!(out, "{safe} fixable with `cip lint --fix`");
        }
        (safe, unsafe_) => {
            let _ = writeln!(
                out,
                "{safe} fixable with `cip lint --fix`, {unsafe_} with `--fix --unsafe-fixes` (they change what is promoted)"
            );
        }
    }
    out
}

/// Findings alone in rustc-style text, for commands with their own summary (plan, audit).
pub(crate) fn diagnostics_human(diagnostics: &[Diagnostic], files: &Files, color: bool) -> String {
    let paint = Paint(color);
    let mut out = String::new();
    for d in diagnostics {
        diagnostic_text(&mut out, d, files, &paint);
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn diagnostic_text(out: &mut String, d: &Diagnostic, files: &Files, paint: &Paint) {
    let (word, color) = match d.severity {
        Severity::Error => ("error", "1;31"),
        Severity::Warning => ("warning", "1;33"),
    };
    let _ = writeln!(
        out,
        "{}: {}",
        paint.wrap(color, &format!("{word}[{}]", d.code)),
        paint.wrap("1", &d.message)
    );
    snippet(out, &d.location, files, '^', None, paint, color);
    for label in &d.labels {
        snippet(out, &label.location, files, '-', Some(&label.message), paint, "1;34");
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "   = {}: {help}", paint.wrap("1", "help"));
    }
    for fix in &d.fixes {
        let kind = match fix.applicability {
            Applicability::Safe => "fix available (safe, `cip lint --fix`)",
            Applicability::Unsafe => "fix available (unsafe, `cip lint --fix --unsafe-fixes`)",
        };
        let _ = writeln!(out, "   = {}: {}", paint.wrap("1;32", kind), fix.title);
    }
    out.push('\n');
}

fn snippet(
    out: &mut String,
    at: &Location,
    files: &Files,
    mark: char,
    note: Option<&str>,
    paint: &Paint,
    color: &str,
) {
    let _ = writeln!(out, "  {} {}:{}:{}", paint.wrap("1;34", "-->"), at.file, at.line, at.column);
    let Some(id) = files.find(&at.file) else {
        if let Some(note) = note {
            let _ = writeln!(out, "   = {note}");
        }
        return;
    };
    let text = files.line_text(id, at.line);
    let gutter = at.line.to_string();
    let pad = " ".repeat(gutter.len());
    let width = if at.end_line == at.line { at.end_column.saturating_sub(at.column).max(1) } else { 1 };
    let marks = mark.to_string().repeat(width as usize);
    let lead: String =
        text.chars().take(at.column as usize - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    let _ = writeln!(out, " {pad} {}", paint.wrap("1;34", "|"));
    let _ = writeln!(out, " {} {} {text}", paint.wrap("1;34", &gutter), paint.wrap("1;34", "|"));
    let tail = note.map(|n| format!(" {n}")).unwrap_or_default();
    let _ = writeln!(
        out,
        " {pad} {} {lead}{}",
        paint.wrap("1;34", "|"),
        paint.wrap(color, &format!("{marks}{tail}"))
    );
}

/// GitHub Actions `::error`/`::warning` workflow commands, one per finding.
pub(crate) fn github(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let at = &d.location;
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let _ = writeln!(
            out,
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(&at.file),
            at.line,
            at.column,
            at.end_line,
            at.end_column,
            escape_property(d.code.as_str()),
            escape_data(&message)
        );
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// An error and its causes on one line, each cause once: `anyhow`'s `{:#}` repeats a cause whose
/// text the outer message already contains (an IO error quoted in "cannot read X: ...").
pub(crate) fn error_chain(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// A unified diff of one file (`--- a/PATH`, `+++ b/PATH`, three lines of context, as `git
/// apply` and `patch -p1` read it), empty when nothing changed.
pub(crate) fn unified_diff(path: &str, before: &str, after: &str) -> String {
    if before == after {
        return String::new();
    }
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}
