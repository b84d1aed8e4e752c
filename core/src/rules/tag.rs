//! Tags: `tag-invalid` (not `^\w[\w.-]{0,127}$`), `tag-repeated` (twice in one digest's list) and
//! `tag-conflict` (one tag given to two digests of one image name in one manifest, across
//! repeated entries of that name too). The index built for `tag-conflict` is what
//! [`super::overlap`] compares across manifests.
//!
//! Plain YAML scalars that change meaning, decided by what the Go promoter's YAML reader
//! (gopkg.in/yaml.v2, YAML 1.1) stores in its `[]string` tag list:
//! - `null`, `Null`, `NULL`, `~`: resolved to null, stored as the empty string. The tag is empty,
//!   so it is `tag-invalid` (error), with a help to quote it if the tag `null` was meant.
//! - booleans (`yes`, `no`, `on`, `off`, `y`, `n`, `true`, `false` in their case variants) and
//!   numbers (`010`, `1.10`, `1e3`, `0x1F`, `1_000`): yaml.v2 resolves them, but decoding into a
//!   string keeps the scalar's text, so the Go promoter sets exactly the tag written. They are
//!   valid tags as text; other YAML readers (YAML 1.2 or untyped ones) may change them, so the
//!   reader warns (`tag-unquoted`) and keeps the text.

use rustc_hash::FxHashMap;

use crate::diagnostic::Diagnostic;
use crate::files::Files;
use crate::fix::{self, Edit, Fix};
use crate::manifest::{Manifest, Spanned};
use crate::reference::tag_problem;
use crate::source::Span;

use super::{Code, at};

/// Tag grammar and tags repeated in one digest's list.
pub(super) fn check(files: &Files, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    for entry in manifest.images.iter().flat_map(|image| &image.dmap) {
        check_list(files, &entry.tags, out);
    }
}

fn check_list(files: &Files, tags: &[Spanned<String>], out: &mut Vec<Diagnostic>) {
    for (i, tag) in tags.iter().enumerate() {
        if let Some(null) = null_literal(files, tag) {
            out.push(
                Diagnostic::new(
                    Code::TagInvalid,
                    at(files, tag),
                    format!("tag `{null}` is YAML's null: YAML readers read it as an empty tag"),
                )
                .with_help(if null == "~" {
                    "a tag cannot be empty; use [] to promote a digest without tags".to_owned()
                } else {
                    format!("quote it if the tag `{null}` was meant: \"{null}\"; use [] to promote a digest without tags")
                }),
            );
            if null != "~" {
                // Unsafe: the quoted tag is promoted, where the empty one was blocked.
                let quote = fix::edit(files, tag.file, tag.span, fix::quote(null));
                let d = out.last_mut().expect("just pushed");
                d.fixes.push(Fix::unsafe_(format!("quote it: promote the tag `{null}`"), vec![quote]));
            }
        } else if let Some(problem) = tag_problem(&tag.value) {
            out.push(
                Diagnostic::new(
                    Code::TagInvalid,
                    at(files, tag),
                    format!("invalid tag: `{}`", shorten(&tag.value)),
                )
                .with_help(problem),
            );
        }
        // An empty tag is invalid (reported above); repeating it adds nothing.
        if tag.value.is_empty() {
            continue;
        }
        if let Some(first) = tags[..i].iter().find(|t| t.value == tag.value) {
            out.push(
                Diagnostic::new(
                    Code::TagRepeated,
                    at(files, tag),
                    format!("tag {} is listed twice for this digest", tag.value),
                )
                .with_label(at(files, first), "first listed here")
                .with_help("remove the repeated tag"),
            );
            if let Some(edit) = remove_tag(files, tags, i) {
                out.last_mut()
                    .expect("just pushed")
                    .fixes
                    .push(Fix::safe("remove the repeated tag", vec![edit]));
            }
        }
    }
}

/// An edit removing `tags[i]` from its written list: in a flow list the item and the comma
/// before it (after it, for the first item), in a block list its whole `- tag` line. `None` when
/// the list is written in a way the edit cannot keep (an alias, a comment between items).
fn remove_tag(files: &Files, tags: &[Spanned<String>], i: usize) -> Option<Edit> {
    let tag = tags.get(i)?;
    let text = files.get(tag.file).text.as_str();
    let (start, end) = (tag.span.start as usize, tag.span.end as usize);
    if tags.iter().enumerate().any(|(j, t)| j != i && t.file == tag.file && t.span == tag.span) {
        return None; // one node read twice through an alias
    }
    if !fix::written_as(files, tag) {
        return None; // read through an alias: the text there is another node's
    }
    let only_comma = |from: u32, to: u32| -> bool {
        from < to && text.get(from as usize..to as usize).is_some_and(|gap| gap.trim() == ",")
    };
    if let Some(prev) = i.checked_sub(1).map(|p| &tags[p])
        && prev.file == tag.file
        && only_comma(prev.span.end, tag.span.start)
    {
        return Some(fix::edit(files, tag.file, Span { start: prev.span.end, end: tag.span.end }, ""));
    }
    if let Some(next) = tags.get(i + 1)
        && next.file == tag.file
        && only_comma(tag.span.end, next.span.start)
    {
        return Some(fix::edit(files, tag.file, Span { start: tag.span.start, end: next.span.start }, ""));
    }
    let before = text[..start].trim_end_matches([' ', '\t']);
    let after = text[end..].trim_start_matches([' ', '\t']);
    if tags.len() == 1 && before.ends_with('[') && after.starts_with(']') {
        return Some(fix::edit(files, tag.file, tag.span, ""));
    }
    let line = fix::whole_lines(text, tag.span, "-")?;
    (text[line.start as usize..start].trim() == "-").then(|| fix::edit(files, tag.file, line, ""))
}

/// The unquoted null (`null`, `Null`, `NULL`, `~`) an empty tag was written as, if it was.
fn null_literal<'f>(files: &'f Files, tag: &Spanned<String>) -> Option<&'f str> {
    if !tag.value.is_empty() {
        return None;
    }
    let text = files.get(tag.file).text.get(tag.span.start as usize..tag.span.end as usize)?;
    matches!(text, "null" | "Null" | "NULL" | "~").then_some(text)
}

/// A value for a message: long ones are cut (the location shows the whole text).
fn shorten(value: &str) -> String {
    const MAX: usize = 48;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}

/// Where a tag was declared for a digest.
#[derive(Clone, Copy)]
pub(super) struct TagSite<'m> {
    pub(super) digest: &'m Spanned<String>,
    pub(super) tag: &'m Spanned<String>,
    /// Set on the first site of a tag when a later site of the same image name gives the tag
    /// another digest (a `tag-conflict`): every destination of the image has an overlap there.
    pub(super) mixed: bool,
}

/// Image name -> tag -> first site, for one manifest.
pub(super) type TagIndex<'m> = FxHashMap<&'m str, FxHashMap<&'m str, TagSite<'m>>>;

/// Indexes a manifest's tags and reports a tag given to two digests of one image name.
pub(super) fn index_tags<'m>(
    files: &Files,
    manifest: &'m Manifest,
    out: &mut Vec<Diagnostic>,
) -> TagIndex<'m> {
    let mut index: TagIndex<'m> = FxHashMap::default();
    for image in &manifest.images {
        let tags = index.entry(image.name.value.as_str()).or_default();
        for entry in &image.dmap {
            // An empty tag is invalid and blocked; it conflicts with nothing.
            for tag in entry.tags.iter().filter(|t| !t.value.is_empty()) {
                let site = TagSite { digest: &entry.digest, tag, mixed: false };
                match tags.get_mut(tag.value.as_str()) {
                    None => {
                        tags.insert(tag.value.as_str(), site);
                    }
                    Some(first) if first.digest.value != entry.digest.value => {
                        first.mixed = true;
                        let mut d = tag_conflict(files, &image.name.value, first, &site);
                        let i = entry.tags.iter().position(|t| std::ptr::eq(t, tag)).unwrap_or_default();
                        if let Some(edit) = remove_tag(files, &entry.tags, i) {
                            let title = format!("remove tag {} from {}", tag.value, entry.digest.value);
                            // Unsafe: the tag is then promoted with the other digest only.
                            d.fixes.push(Fix::unsafe_(title, vec![edit]));
                        }
                        out.push(d);
                    }
                    Some(_) => {}
                }
            }
        }
    }
    index
}

fn tag_conflict(files: &Files, image: &str, first: &TagSite<'_>, second: &TagSite<'_>) -> Diagnostic {
    Diagnostic::new(
        Code::TagConflict,
        at(files, second.tag),
        format!(
            "tag {} of image {image} is given to two digests: {} and {}",
            second.tag.value, first.digest.value, second.digest.value
        ),
    )
    .with_label(at(files, first.tag), format!("also given to {} here", first.digest.value))
    .with_help("a tag points at one digest and never moves: give the new digest a new tag")
}

#[cfg(test)]
mod tests {
    use crate::fix::{Applicability, fix};
    use crate::{Input, SourceFile};

    const A: &str = "sha256:7d02bd1b9f231bbcb842ce34c67dcd6e16f6171b34417621f980e6dd79adc8ed";
    const B: &str = "sha256:5b75fe8167eeda206cc9df9f0afafaa8f09c5cba702e7bdf8cc6d562f59239c7";

    /// The image's dmap after the unsafe fixes, for `second` as B's written tag list.
    fn after_unsafe_fixes(second: &str) -> String {
        let text = format!(
            "registries:\n- name: gcr.io/s\n  src: true\n- name: gcr.io/p\nimages:\n- name: a\n  dmap:\n    \"{A}\": [\"latest\"]\n    \"{B}\":{second}"
        );
        let input = Input { files: vec![SourceFile::new("m.yaml", text)], thin_dirs: None };
        let outcome = fix(input, Applicability::Unsafe);
        assert_eq!(outcome.report.summary.errors, 0, "{:?}", outcome.report.diagnostics);
        outcome.files[0].text.split_once(&format!("\"{B}\":")).unwrap().1.to_owned()
    }

    #[test]
    fn a_conflicting_tag_is_removed_wherever_it_is_in_the_list() {
        assert_eq!(after_unsafe_fixes(" [\"latest\"]\n"), " []\n");
        assert_eq!(after_unsafe_fixes(" [\"latest\", \"v2\"]\n"), " [\"v2\"]\n");
        assert_eq!(after_unsafe_fixes(" [v1, latest, v2]\n"), " [v1, v2]\n");
        assert_eq!(after_unsafe_fixes("\n    - v2\n    - latest # gone\n"), "\n    - v2\n");
        // The only tag of a block list: the line goes, the digest is promoted without tags.
        assert_eq!(after_unsafe_fixes("\n    - latest\n"), "\n");
    }
}
