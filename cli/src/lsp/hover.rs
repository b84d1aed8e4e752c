//! Hover: on a digest (or one of its tags), what it promotes (its tags, the destination
//! repositories) and where else the workspace promotes the same digest; on a finding, the README's
//! documentation of its code.

use std::fmt::Write;

use cip_core::{DigestEntry, Image, Manifest};
use lsp_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind};

use super::Server;
use super::position::line_starts;

/// The hover text at a position, if there is anything to say.
pub(crate) fn hover(server: &Server, params: &HoverParams) -> Option<Hover> {
    let at = &params.text_document_position_params;
    let (id, text) = server.document(&at.text_document.uri)?;
    let offset = server.encoding.offset(text, &line_starts(text), at.position) as u32;
    let files = server.project.workspace.files();
    let path = &files.get(id).path;
    let mut out = String::new();
    for diagnostic in server.diagnostics.iter().filter(|d| {
        &d.location.file == path && d.location.span.start <= offset && offset <= d.location.span.end
    }) {
        let code = diagnostic.code;
        let _ = write!(out, "**cip `{code}`**");
        if let Some((severity, meaning)) = super::docs::of(code) {
            let _ = write!(out, " ({severity}): {meaning}");
        }
        out.push_str("\n\n");
    }
    if let Some((manifest, image, entry)) = digest_at(server.project.workspace.manifests(), id, offset) {
        describe(server, manifest, image, entry, &mut out);
    }
    (!out.is_empty()).then(|| Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: out.trim_end().to_owned(),
        }),
        range: None,
    })
}

/// The dmap entry whose digest or tags cover `offset` in file `id`.
fn digest_at(
    manifests: &[Manifest],
    id: cip_core::FileId,
    offset: u32,
) -> Option<(&Manifest, &Image, &DigestEntry)> {
    let covers = |span: cip_core::Span| span.start <= offset && offset <= span.end;
    manifests.iter().filter(|m| m.images_file.unwrap_or(m.file) == id).find_map(|manifest| {
        manifest.images.iter().find_map(|image| {
            image
                .dmap
                .iter()
                .find(|e| covers(e.digest.span) || e.tags.iter().any(|t| covers(t.span)))
                .map(|entry| (manifest, image, entry))
        })
    })
}

fn describe(server: &Server, manifest: &Manifest, image: &Image, entry: &DigestEntry, out: &mut String) {
    let files = server.project.workspace.files();
    let digest = &entry.digest.value;
    let name = &image.name.value;
    let tags: Vec<String> = entry.tags.iter().map(|t| format!("`{}`", t.value)).collect();
    let _ = writeln!(out, "**{name}@{digest}**\n");
    if tags.is_empty() {
        let _ = writeln!(out, "tags: none (promoted by digest only)\n");
    } else {
        let _ = writeln!(out, "tags: {}\n", tags.join(", "));
    }
    if let Some(source) = manifest.source() {
        let _ = writeln!(out, "from `{}/{name}`\n", source.name.value);
    }
    let destinations: Vec<String> =
        manifest.destinations().map(|r| format!("- `{}/{name}`", r.name.value)).collect();
    if !destinations.is_empty() {
        let _ = writeln!(out, "to {} destinations:\n{}\n", destinations.len(), destinations.join("\n"));
    }
    let mut elsewhere = Vec::new();
    for other in server.project.workspace.manifests() {
        for other_image in &other.images {
            for other_entry in other_image.dmap.iter().filter(|e| &e.digest.value == digest) {
                if std::ptr::eq(other_entry, entry) {
                    continue;
                }
                let at = files.locate(other_entry.digest.file, other_entry.digest.span);
                let tags: Vec<&str> = other_entry.tags.iter().map(|t| t.value.as_str()).collect();
                elsewhere.push(format!(
                    "- `{}` in {}:{} (tags: {})",
                    other_image.name.value,
                    at.file,
                    at.line,
                    if tags.is_empty() { "none".to_owned() } else { tags.join(", ") }
                ));
            }
        }
    }
    if elsewhere.is_empty() {
        out.push_str("promoted nowhere else in this workspace\n");
    } else {
        let _ = writeln!(out, "also promoted as:\n{}", elsewhere.join("\n"));
    }
}
