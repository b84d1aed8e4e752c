//! Code actions and formatting. Quick fixes are the findings' own fixes ([`cip_core::fix`]): one
//! action per fix of each finding under the cursor, the safe ones marked preferred; and a
//! `source.fixAll.cip` action applying every safe fix of the document that does not overlap
//! another, as `cip lint --fix` would in one pass. Formatting is `cip fmt`'s layout
//! ([`cip_core::format`]), as one edit replacing the document.

use std::collections::HashMap;
use std::sync::LazyLock;

use cip_core::fix::{Applicability, Fix};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, DocumentFormattingParams, Position,
    Range, TextEdit, Uri, WorkspaceEdit,
};

use super::Server;
use super::position::line_starts;

/// The kind of the "apply every safe fix" action.
pub(crate) static FIX_ALL: LazyLock<CodeActionKind> =
    LazyLock::new(|| CodeActionKind::new("source.fixAll.cip"));

/// The quick fixes for the findings overlapping the requested range, and the fix-all action.
pub(crate) fn code_actions(server: &Server, params: &CodeActionParams) -> Option<Vec<CodeActionOrCommand>> {
    let uri = &params.text_document.uri;
    let (id, text) = server.document(uri)?;
    let starts = line_starts(text);
    let start = server.encoding.offset(text, &starts, params.range.start) as u32;
    let end = server.encoding.offset(text, &starts, params.range.end) as u32;
    let path = &server.project.workspace.files().get(id).path;
    let only = params.context.only.as_ref();
    let wants = |kind: &CodeActionKind| {
        only.is_none_or(|kinds| kinds.iter().any(|k| kind.as_str().starts_with(k.as_str())))
    };
    let mut actions = Vec::new();
    if wants(&CodeActionKind::QUICKFIX) {
        for diagnostic in server.diagnostics.iter().filter(|d| {
            &d.location.file == path && d.location.span.start <= end && start <= d.location.span.end
        }) {
            for fix in &diagnostic.fixes {
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: fix.title.clone(),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![server.to_lsp(diagnostic)]),
                    edit: Some(edit(server, std::iter::once(fix))),
                    is_preferred: Some(fix.applicability == Applicability::Safe),
                    ..CodeAction::default()
                }));
            }
        }
    }
    let safe = cip_core::fix::select(&server.diagnostics, path, Applicability::Safe);
    if wants(&FIX_ALL) && !safe.is_empty() {
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("Apply every safe cip fix in this file ({})", safe.len()),
            kind: Some(FIX_ALL.clone()),
            edit: Some(edit(server, safe.into_iter())),
            ..CodeAction::default()
        }));
    }
    Some(actions)
}

/// The edits of `fixes` as a workspace edit (edits are grouped by the file they change).
// lsp-types keys `WorkspaceEdit::changes` by `Uri`, whose interior cell only caches parsing; its
// hash and equality are over the URI text, which never changes.
#[allow(clippy::mutable_key_type)]
fn edit<'f>(server: &Server, fixes: impl Iterator<Item = &'f Fix>) -> WorkspaceEdit {
    let files = server.project.workspace.files();
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for edit in fixes.flat_map(|f| &f.edits) {
        let Ok(uri) = server.project.uri_of(&edit.location.file).parse::<Uri>() else { continue };
        let range = server.encoding.range(files, &edit.location);
        changes.entry(uri).or_default().push(TextEdit { range, new_text: edit.replacement.clone() });
    }
    WorkspaceEdit { changes: Some(changes), ..WorkspaceEdit::default() }
}

/// `cip fmt`'s layout of the document as one whole-document edit (none when it is already in
/// it); an error naming the first finding that prevents formatting.
pub(crate) fn format(server: &Server, params: &DocumentFormattingParams) -> Result<Vec<TextEdit>, String> {
    let Some((id, text)) = server.document(&params.text_document.uri) else { return Ok(Vec::new()) };
    let file = server.project.workspace.files().get(id);
    match cip_core::format::format(file) {
        Ok(formatted) if formatted == text => Ok(Vec::new()),
        Ok(formatted) => {
            let starts = line_starts(text);
            let end = server.encoding.position(text, &starts, text.len());
            Ok(vec![TextEdit { range: Range::new(Position::new(0, 0), end), new_text: formatted }])
        }
        Err(findings) => {
            let first = findings.first().map_or_else(String::new, |d| {
                format!(": {}:{}:{}: {}", d.location.file, d.location.line, d.location.column, d.message)
            });
            Err(format!("cip cannot format this file until its shape is fixed{first}"))
        }
    }
}
