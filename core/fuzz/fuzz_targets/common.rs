//! Checks shared by the lint fuzz targets: every diagnostic's span lies inside its file.

use cip_core::{Input, LintReport};

/// Panics when a finding points outside its file or has an impossible position.
pub fn check_spans(input: &Input, report: &LintReport) {
    for d in &report.diagnostics {
        let locations = std::iter::once(&d.location).chain(d.labels.iter().map(|l| &l.location));
        for at in locations {
            assert!(at.line >= 1 && at.column >= 1, "positions are 1-based: {d:?}");
            assert!(at.span.start <= at.span.end, "span ends before it starts: {d:?}");
            if let Some(file) = input.files.iter().find(|f| f.path == at.file) {
                assert!(at.span.end as usize <= file.text.len(), "span outside its file: {d:?}");
                assert!(file.text.is_char_boundary(at.span.start as usize), "span not on a char boundary: {d:?}");
            }
        }
    }
}
