//! Document symbols: a manifest's registries (source and destinations) and its images (with how
//! many digests each promotes), for the editor's outline and "go to symbol".

use cip_core::{FileId, Manifest};
use lsp_types::{DocumentSymbol, DocumentSymbolParams, DocumentSymbolResponse, SymbolKind};

use super::Server;

/// The outline of one document.
pub(crate) fn symbols(server: &Server, params: &DocumentSymbolParams) -> Option<DocumentSymbolResponse> {
    let (id, _) = server.document(&params.text_document.uri)?;
    let mut out = Vec::new();
    for manifest in server.project.workspace.manifests() {
        if manifest.file == id {
            out.push(registries(server, manifest));
        }
        if manifest.images_file.unwrap_or(manifest.file) == id {
            out.extend(images(server, manifest, id));
        }
    }
    Some(DocumentSymbolResponse::Nested(out))
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be written, as `None`
fn symbol(
    name: String,
    detail: String,
    kind: SymbolKind,
    range: lsp_types::Range,
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    DocumentSymbol {
        name,
        detail: Some(detail),
        kind,
        tags: None,
        deprecated: None,
        range,
        selection_range: range,
        children: (!children.is_empty()).then_some(children),
    }
}

fn registries(server: &Server, manifest: &Manifest) -> DocumentSymbol {
    let files = server.project.workspace.files();
    let range = |file, span| server.encoding.range(files, &files.locate(file, span));
    let children: Vec<DocumentSymbol> = manifest
        .registries
        .iter()
        .map(|r| {
            let role = if r.src { "source" } else { "destination" };
            symbol(
                r.name.value.clone(),
                role.into(),
                SymbolKind::PACKAGE,
                range(r.name.file, r.name.span),
                Vec::new(),
            )
        })
        .collect();
    let detail = format!("{} registries", manifest.registries.len());
    // The list's range spans its entries, so the editor's outline nests them under it.
    let mut whole = range(manifest.file, manifest.registries_span);
    if let Some(last) = children.last() {
        whole.end = last.range.end;
    }
    symbol("registries".into(), detail, SymbolKind::NAMESPACE, whole, children)
}

fn images(server: &Server, manifest: &Manifest, id: FileId) -> Vec<DocumentSymbol> {
    let files = server.project.workspace.files();
    manifest
        .images
        .iter()
        .filter(|image| image.name.file == id)
        .map(|image| {
            let range = server.encoding.range(files, &files.locate(image.name.file, image.name.span));
            let digests = image.dmap.len();
            let detail = format!("{digests} digest{}", if digests == 1 { "" } else { "s" });
            symbol(image.name.value.clone(), detail, SymbolKind::OBJECT, range, Vec::new())
        })
        .collect()
}
