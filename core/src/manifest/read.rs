//! Turns a YAML tree into the manifest model, reporting what is wrong with the shape of a file as
//! findings instead of stopping at the first one: `yaml-*` (the tree could not be built, see
//! [`crate::yaml`]), `unknown-key`, `wrong-type`, `duplicate-key`, `digest-duplicate` (a key
//! written twice in a `dmap` mapping; the model keeps the first), the required fields
//! (`registries-missing`, `registries-empty`, `registry-name-missing`, `image-name-missing`,
//! `dmap-missing`, `dmap-empty`), and `tag-unquoted` (it depends on how the YAML scalar is
//! written, which the model does not keep). Every check of the values themselves is a rule in
//! [`crate::rules`], run over the model.
//!
//! What the Go promoter accepts is accepted here too: optional fields may be null, unquoted
//! numbers are read as their exact text, YAML 1.1 booleans are booleans. What it rejects (unknown
//! keys, duplicate keys, wrong types) is an error here, with a location and a help text.

use crate::diagnostic::{Diagnostic, Location};
use crate::files::{FileId, Files};
use crate::fix::{self, Fix};
use crate::manifest::{DigestEntry, Image, Manifest, Registry, Spanned};
use crate::rules::Code;
use crate::source::Span;
use crate::yaml::{self, Node, NodeKind, Style, YamlError};

/// Keys of a plain manifest file (`src-registry` is the original schema's way to name the source).
const PLAIN_KEYS: &[&str] = &["registries", "images", "src-registry"];
/// Keys of a thin `promoter-manifest.yaml` (`imagesPath` is deprecated and ignored).
const THIN_KEYS: &[&str] = &["registries", "imagesPath"];
const REGISTRY_KEYS: &[&str] = &["name", "src", "service-account"];
const IMAGE_KEYS: &[&str] = &["name", "dmap"];

/// Reads files of one run into manifests, collecting findings.
pub(crate) struct Reader<'a> {
    pub(crate) files: &'a Files,
    pub(crate) out: &'a mut Vec<Diagnostic>,
}

/// Reads a plain manifest file (registries and images in one file).
pub fn read_plain(files: &Files, file: FileId, out: &mut Vec<Diagnostic>) -> Option<Manifest> {
    Reader { files, out }.plain(file)
}

/// The known fields of one mapping, first occurrence of each, with their key spans.
struct Fields<'t, 'a> {
    entries: Vec<(&'t str, Span, &'t Node<'a>)>,
}

impl<'t, 'a> Fields<'t, 'a> {
    fn get(&self, key: &str) -> Option<&'t Node<'a>> {
        self.entries.iter().find(|(k, ..)| *k == key).map(|(_, _, v)| *v)
    }

    /// A non-null value of an optional field (Go reads a null as the zero value).
    fn present(&self, key: &str) -> Option<&'t Node<'a>> {
        self.get(key).filter(|n| !n.is_null())
    }

    /// Where to point when a field is missing: the first key of the mapping, else the mapping.
    fn anchor(&self, node: &Node<'_>) -> Span {
        self.entries.first().map_or(node.span, |(_, span, _)| *span)
    }
}

impl Reader<'_> {
    pub(crate) fn push(&mut self, diagnostic: Diagnostic) -> &mut Diagnostic {
        self.out.push(diagnostic);
        self.out.last_mut().expect("just pushed")
    }

    pub(crate) fn locate(&self, file: FileId, span: Span) -> Location {
        self.files.locate(file, span)
    }

    /// Reports a finding with its code's severity; returns it so the caller can add a help text.
    pub(crate) fn report(
        &mut self,
        code: Code,
        file: FileId,
        span: Span,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let d = Diagnostic::new(code, self.locate(file, span), message);
        self.push(d)
    }

    /// Parses a file's YAML; a syntax or limit problem becomes a finding and yields `None`.
    fn tree<'t>(&mut self, file: FileId, text: &'t str) -> Option<Option<Node<'t>>> {
        match yaml::parse(text) {
            Ok(root) => Some(root),
            Err(YamlError::Syntax { message, at }) => {
                let help = if message.contains("tab") {
                    "indent with spaces: YAML does not allow tabs in indentation"
                } else if message.contains("anchor") {
                    "define the anchor (`&name`) before using the alias (`*name`), or write the value out"
                } else {
                    "fix the YAML at or just before this position; quote values that contain `: ` or ` #`"
                };
                self.report(Code::YamlSyntax, file, at, format!("invalid YAML: {message}")).help =
                    Some(help.into());
                None
            }
            Err(YamlError::Limit { limit, message, at }) => {
                self.report(limit.code(), file, at, message).help = Some(limit.help().into());
                None
            }
            Err(e @ YamlError::MultipleDocuments { at }) => {
                self.report(Code::YamlMultipleDocuments, file, at, e.to_string()).help = Some(
                    "remove the `---` line and merge the documents, or put each manifest in its own file"
                        .into(),
                );
                None
            }
        }
    }

    fn plain(&mut self, file: FileId) -> Option<Manifest> {
        let files = self.files;
        let root = self.tree(file, &files.get(file).text)?;
        let fields = self.top_mapping(file, root.as_ref(), PLAIN_KEYS, "manifest")?;
        let (registries, registries_span) = self.registries(file, &fields);
        let images = match fields.get("images") {
            Some(node) => self.images(file, node),
            None => Vec::new(),
        };
        let mut manifest =
            Manifest { file, images_file: None, registries_span, registries, src_registry: None, images };
        self.legacy_src_registry(file, &fields, &mut manifest);
        Some(manifest)
    }

    /// Reads a thin `promoter-manifest.yaml`: registries only, and the ignored `imagesPath`.
    pub(crate) fn thin_manifest(&mut self, file: FileId) -> Option<(Manifest, Option<Spanned<String>>)> {
        let files = self.files;
        let root = self.tree(file, &files.get(file).text)?;
        let fields = self.top_mapping(file, root.as_ref(), THIN_KEYS, "thin manifest")?;
        let (registries, registries_span) = self.registries(file, &fields);
        let images_path = fields.present("imagesPath").and_then(|n| self.string(file, n, "imagesPath"));
        let manifest = Manifest {
            file,
            images_file: None,
            registries_span,
            registries,
            src_registry: None,
            images: Vec::new(),
        };
        Some((manifest, images_path))
    }

    /// Reads a thin `images.yaml`: a bare list of images.
    pub(crate) fn images_file(&mut self, file: FileId) -> Vec<Image> {
        let files = self.files;
        match self.tree(file, &files.get(file).text) {
            Some(Some(root)) if matches!(root.kind, NodeKind::Map(_)) => {
                let d = self.report(
                    Code::WrongType,
                    file,
                    root.span,
                    "images.yaml must be a list of images, found a mapping",
                );
                d.help =
                    Some("write the images as a bare list (`- name: ...`), without an `images:` key".into());
                Vec::new()
            }
            Some(Some(root)) => self.images(file, &root),
            _ => Vec::new(),
        }
    }

    fn top_mapping<'t, 'a>(
        &mut self,
        file: FileId,
        root: Option<&'t Node<'a>>,
        keys: &[&str],
        what: &str,
    ) -> Option<Fields<'t, 'a>> {
        match root {
            Some(node) if !node.is_null() => self.mapping(file, node, keys, what),
            _ => Some(Fields { entries: Vec::new() }),
        }
    }

    /// The registries and the span of the `registries` key (where file-level findings point).
    fn registries(&mut self, file: FileId, fields: &Fields<'_, '_>) -> (Vec<Registry>, Span) {
        let Some(node) = fields.get("registries") else {
            self.report(
                Code::RegistriesMissing,
                file,
                Span::default(),
                "the manifest has no `registries` list",
            )
            .help = Some("add `registries:` with the source entry (`src: true`) and the destinations".into());
            return (Vec::new(), Span::default());
        };
        let key = fields.entries.iter().find(|(k, ..)| *k == "registries").map_or(node.span, |e| e.1);
        let items: &[Node<'_>] = match &node.kind {
            _ if node.is_null() => &[],
            NodeKind::Seq(items) => items,
            NodeKind::Map(_) => {
                self.wrong_type(file, node, "registries", "a list (`- name: ...` items)").help = Some(
                    "the 2018 form `registries: {src: ..., dest: ...}` is gone: list each registry as `- name: ...` and mark the source with `src: true`".into(),
                );
                return (Vec::new(), key);
            }
            NodeKind::Scalar(..) => {
                self.wrong_type(file, node, "registries", "a list (`- name: ...` items)");
                return (Vec::new(), key);
            }
        };
        if items.is_empty() {
            self.report(Code::RegistriesEmpty, file, key, "`registries` is empty").help =
                Some("list the source registry (`src: true`) and at least one destination".into());
        }
        (items.iter().filter_map(|item| self.registry(file, item)).collect(), key)
    }

    fn registry(&mut self, file: FileId, node: &Node<'_>) -> Option<Registry> {
        let fields = self.mapping(file, node, REGISTRY_KEYS, "registry")?;
        let name = self.required_string(file, node, &fields, "name", Code::RegistryNameMissing, "registry");
        let src = fields.present("src").is_some_and(|n| self.boolean(file, n, "src"));
        let service_account =
            fields.present("service-account").and_then(|n| self.string(file, n, "service-account"));
        Some(Registry { name: name?, src, service_account })
    }

    fn images(&mut self, file: FileId, node: &Node<'_>) -> Vec<Image> {
        match &node.kind {
            _ if node.is_null() => Vec::new(),
            NodeKind::Seq(items) => items.iter().filter_map(|item| self.image(file, item)).collect(),
            _ => {
                self.wrong_type(file, node, "images", "a list (`- name: ...` items)");
                Vec::new()
            }
        }
    }

    fn image(&mut self, file: FileId, node: &Node<'_>) -> Option<Image> {
        let fields = self.mapping(file, node, IMAGE_KEYS, "image")?;
        let name = self.required_string(file, node, &fields, "name", Code::ImageNameMissing, "image");
        let dmap = match fields.present("dmap") {
            None => {
                let at = fields.anchor(node);
                let message = match &name {
                    Some(name) => format!("image {} has no `dmap`", name.value),
                    None => "image has no `dmap`".to_owned(),
                };
                self.report(Code::DmapMissing, file, at, message).help =
                    Some("add `dmap:` mapping each `\"sha256:...\"` digest to its list of tags".into());
                Vec::new()
            }
            Some(d) => self.dmap(file, d),
        };
        Some(Image { name: name?, dmap })
    }

    fn dmap(&mut self, file: FileId, node: &Node<'_>) -> Vec<DigestEntry> {
        let NodeKind::Map(entries) = &node.kind else {
            self.wrong_type(file, node, "dmap", "a mapping of digest to tags").help =
                Some("write `dmap:` then one `\"sha256:...\": [\"tag\"]` line per digest".into());
            return Vec::new();
        };
        if entries.is_empty() {
            self.report(Code::DmapEmpty, file, node.span, "`dmap` is empty: this image promotes nothing")
                .help = Some("add a `\"sha256:...\": [tags]` entry or remove the image".into());
        }
        // Digest -> index of its first entry.
        let mut seen: rustc_hash::FxHashMap<&str, usize> = Default::default();
        seen.reserve(entries.len());
        let mut out = Vec::with_capacity(entries.len());
        for (i, (key, value)) in entries.iter().enumerate() {
            let Some(digest) = self.key_text(file, key) else { continue };
            if let Some(&first) = seen.get(digest) {
                let merge = merge_duplicate(self.files, file, entries, first, i);
                let here = self.locate(file, entries[first].0.span);
                let d = self.report(
                    Code::DigestDuplicate,
                    file,
                    key.span,
                    format!("digest {digest} is listed twice in this `dmap`"),
                );
                d.labels
                    .push(crate::diagnostic::Label { location: here, message: "first listed here".into() });
                d.help = Some(
                    "merge the two tag lists under one key; other YAML readers silently keep only one of them"
                        .into(),
                );
                d.fixes.extend(merge);
                continue;
            }
            seen.insert(digest, i);
            let tags = self.tags(file, value);
            out.push(DigestEntry { digest: spanned(digest, file, key.span), tags });
        }
        out
    }

    fn tags(&mut self, file: FileId, node: &Node<'_>) -> Vec<Spanned<String>> {
        match &node.kind {
            _ if node.is_null() => Vec::new(),
            NodeKind::Seq(items) => items.iter().filter_map(|t| self.tag(file, t)).collect(),
            NodeKind::Scalar(text, _) => {
                let text = text.clone();
                self.wrong_type(file, node, "tags", "a list of tags").help =
                    Some(format!("write the tag as a list: [\"{text}\"] (or [] to promote by digest only)"));
                Vec::new()
            }
            NodeKind::Map(_) => {
                self.wrong_type(file, node, "tags", "a list of tags").help =
                    Some("write the tags as a list, e.g. [\"v1.0\", \"latest\"], or [] for none".into());
                Vec::new()
            }
        }
    }

    fn tag(&mut self, file: FileId, node: &Node<'_>) -> Option<Spanned<String>> {
        let files = self.files;
        let NodeKind::Scalar(text, style) = &node.kind else {
            self.wrong_type(file, node, "tag", "a string").help =
                Some("write each tag as a quoted string, e.g. [\"v1.2.0\", \"latest\"]".into());
            return None;
        };
        if node.is_null() {
            // The Go promoter's YAML reader (yaml.v2) reads a plain `null` or `~` into a string
            // as "": the tag is empty, which the tag rules report (with a help to quote it).
            return Some(spanned("", file, node.span));
        }
        if *style == Style::Plain
            && let Some(reading) = other_reading(text)
        {
            let d = self.report(
                Code::TagUnquoted,
                file,
                node.span,
                format!("tag {text} is written as an unquoted YAML {reading}; cip keeps the exact text `{text}`, but other YAML readers may change it"),
            );
            d.help = Some(format!("quote it: \"{text}\""));
            let quote = fix::edit(files, file, node.span, fix::quote(text));
            d.fixes.push(Fix::safe("quote the tag", vec![quote]));
        }
        Some(spanned(text, file, node.span))
    }

    /// The original schema: a top-level `src-registry: NAME` names the source among `registries`.
    /// Which registry that makes the source is a rule ([`crate::rules::source_registry`]); it runs here, so
    /// a manifest leaves the reader with its source decided.
    fn legacy_src_registry(&mut self, file: FileId, fields: &Fields<'_, '_>, manifest: &mut Manifest) {
        let Some(node) = fields.get("src-registry").filter(|n| !n.is_null()) else { return };
        let Some(name) = self.string(file, node, "src-registry") else { return };
        manifest.src_registry = Some(name.clone());
        let before = self.out.len();
        crate::rules::source_registry::resolve_src_registry(self.files, manifest, self.out);
        let legacy = self.out[before..].iter().position(|d| d.code == Code::SrcRegistryLegacy);
        if let Some(at) = legacy
            && let Some(fix) = src_true_fix(self.files, file, fields, &name.value)
        {
            self.out[before + at].fixes.push(fix);
        }
    }

    // --- generic helpers -------------------------------------------------------------------

    /// The entries of a mapping with known keys; reports non-mappings, non-scalar keys,
    /// duplicate and unknown keys. The first of duplicated keys wins.
    fn mapping<'t, 'a>(
        &mut self,
        file: FileId,
        node: &'t Node<'a>,
        keys: &[&str],
        what: &str,
    ) -> Option<Fields<'t, 'a>> {
        let NodeKind::Map(entries) = &node.kind else {
            let help = match what {
                "registry" => "a registry entry is `- name: HOST/PATH`, with `src: true` on the source",
                "image" => "an image entry is `- name: NAME` followed by `dmap:` and its digests",
                _ => "write `key: value` lines",
            };
            self.wrong_type(file, node, what, "a mapping (`key: value` lines)").help = Some(help.into());
            return None;
        };
        let mut fields = Fields { entries: Vec::with_capacity(entries.len()) };
        for (key, value) in entries {
            let Some(name) = self.key_text(file, key) else { continue };
            if let Some((_, first, _)) = fields.entries.iter().find(|(k, ..)| *k == name) {
                let first = self.locate(file, *first);
                let d = self.report(
                    Code::DuplicateKey,
                    file,
                    key.span,
                    format!("key `{name}` is written twice in this {what}"),
                );
                d.labels
                    .push(crate::diagnostic::Label { location: first, message: "first written here".into() });
                d.help = Some("remove one of them; other YAML readers silently keep only one".into());
            } else if !keys.contains(&name) {
                let help = unknown_key_help(name, keys, what);
                // Renaming is safe only when it does not write the key a second time.
                let rename = suggest(name, keys)
                    .filter(|s| help.contains(&format!("`{s}`")))
                    .filter(|s| !entries.iter().any(|(k, _)| k.as_scalar() == Some(s)))
                    .map(|s| {
                        Fix::safe(format!("rename to `{s}`"), vec![fix::edit(self.files, file, key.span, s)])
                    });
                let d = self.report(
                    Code::UnknownKey,
                    file,
                    key.span,
                    format!("unknown key `{name}` in this {what}"),
                );
                d.help = Some(help);
                d.fixes.extend(rename);
            } else {
                fields.entries.push((name, key.span, value));
            }
        }
        Some(fields)
    }

    fn key_text<'t>(&mut self, file: FileId, key: &'t Node<'_>) -> Option<&'t str> {
        let text = key.as_scalar();
        if text.is_none() {
            self.report(
                Code::WrongType,
                file,
                key.span,
                format!("a key must be a plain string, found a {}", key.type_name()),
            )
            .help = Some("write keys as plain words followed by `:`, e.g. `name:`".into());
        }
        text
    }

    fn string(&mut self, file: FileId, node: &Node<'_>, what: &str) -> Option<Spanned<String>> {
        match &node.kind {
            NodeKind::Scalar(text, _) if !node.is_null() => Some(spanned(text, file, node.span)),
            _ => {
                self.wrong_type(file, node, what, "a string").help =
                    Some(format!("write a single value after `{what}:`"));
                None
            }
        }
    }

    fn required_string(
        &mut self,
        file: FileId,
        node: &Node<'_>,
        fields: &Fields<'_, '_>,
        key: &str,
        code: Code,
        what: &str,
    ) -> Option<Spanned<String>> {
        match fields.get(key) {
            Some(value) if value.as_scalar().is_none() => self.string(file, value, key),
            Some(value) if !value.is_null() && value.as_scalar().is_some_and(|s| !s.is_empty()) => {
                self.string(file, value, key)
            }
            _ => {
                let at = fields.anchor(node);
                self.report(code, file, at, format!("{what} has no `{key}`")).help =
                    Some(format!("add `{key}:` to this {what}"));
                None
            }
        }
    }

    fn boolean(&mut self, file: FileId, node: &Node<'_>, what: &str) -> bool {
        let reading = node.as_scalar().and_then(yaml_bool);
        if let (Some(value), NodeKind::Scalar(_, Style::Plain)) = (reading, &node.kind) {
            return value;
        }
        let d = self.wrong_type(file, node, what, "`true` or `false`");
        d.help = Some(match reading {
            Some(value) => format!("write `{what}: {value}` without quotes"),
            None => format!("write `{what}: true` or leave `{what}` out"),
        });
        // A quoted "true" is an error, but its intent is clear: later rules read it as meant, so
        // they do not pile up findings (such as "no source registry") caused by this one.
        reading.unwrap_or(false)
    }

    fn wrong_type(&mut self, file: FileId, node: &Node<'_>, what: &str, expected: &str) -> &mut Diagnostic {
        self.report(
            Code::WrongType,
            file,
            node.span,
            format!("`{what}` must be {expected}, found a {}", node.type_name()),
        )
    }
}

/// The safe fix of a `digest-duplicate`: the tags of entry `second` that entry `first` lacks are
/// added to `first`'s list and `second` is removed, when that gives no tag to two digests of
/// this `dmap` and both entries are written in a way the edit can keep (a flow or block list,
/// each entry on its own lines).
fn merge_duplicate(
    files: &Files,
    file: FileId,
    entries: &[(Node<'_>, Node<'_>)],
    first: usize,
    second: usize,
) -> Option<Fix> {
    let text = files.get(file).text.as_str();
    let tags_of = |node: &Node<'_>| -> Option<Vec<String>> {
        match &node.kind {
            _ if node.is_null() => Some(Vec::new()),
            NodeKind::Seq(items) => items.iter().map(|t| t.as_scalar().map(str::to_owned)).collect(),
            _ => None,
        }
    };
    let (first_key, first_tags) = (&entries[first].0, &entries[first].1);
    let (second_key, second_tags) = (&entries[second].0, &entries[second].1);
    let have = tags_of(first_tags)?;
    let mut add: Vec<String> = Vec::new();
    for tag in tags_of(second_tags)? {
        if !tag.is_empty() && !have.contains(&tag) && !add.contains(&tag) {
            add.push(tag);
        }
    }
    // A tag already given to another digest of this dmap would make the merge a tag-conflict.
    let digest = first_key.as_scalar();
    let taken_elsewhere = entries
        .iter()
        .filter(|(k, _)| k.as_scalar() != digest)
        .any(|(_, v)| tags_of(v).is_some_and(|tags| tags.iter().any(|t| add.contains(t))));
    if taken_elsewhere {
        return None;
    }
    let remove =
        fix::whole_lines(text, Span { start: second_key.span.start, end: second_tags.span.end }, "")?;
    let mut edits = vec![fix::edit(files, file, remove, "")];
    if !add.is_empty() {
        edits.push(append_tags(files, file, first_tags, &add)?);
    }
    let title = "merge the tag lists under the first entry";
    Some(Fix::safe(title, edits))
}

/// An edit adding `tags` at the end of a written tag list (flow `[...]` or block `- ...`).
fn append_tags(files: &Files, file: FileId, list: &Node<'_>, tags: &[String]) -> Option<crate::fix::Edit> {
    let text = files.get(file).text.as_str();
    let NodeKind::Seq(items) = &list.kind else { return None };
    let quoted: Vec<String> = tags.iter().map(|t| fix::quote(t)).collect();
    let (start, end) = (list.span.start as usize, list.span.end as usize);
    if text.get(start..start + 1) == Some("[") && text.get(end - 1..end) == Some("]") {
        return Some(match items.last() {
            Some(last) => fix::edit(
                files,
                file,
                Span { start: last.span.end, end: last.span.end },
                format!(", {}", quoted.join(", ")),
            ),
            None => {
                let at = Span::new(end - 1, end - 1);
                fix::edit(files, file, at, quoted.join(", "))
            }
        });
    }
    let last = items.last()?;
    let line = fix::whole_lines(text, last.span, "-")?;
    let dash = fix::line_start(text, last.span.start as usize)
        + text[fix::line_start(text, last.span.start as usize)..].find('-')?;
    let indent = fix::indent_of(text, dash);
    let br = fix::line_break(text);
    let lines: Vec<String> = quoted.iter().map(|q| format!("{indent}- {q}")).collect();
    let insert = if text[..line.end as usize].ends_with(['\n', '\r']) {
        lines.iter().map(|l| format!("{l}{br}")).collect()
    } else {
        lines.iter().map(|l| format!("{br}{l}")).collect::<String>()
    };
    Some(fix::edit(files, file, Span { start: line.end, end: line.end }, insert))
}

/// The safe fix of `src-registry-legacy`: remove the `src-registry` line and mark the named
/// registry entry `src: true` (an existing `src:` value is replaced; otherwise a line is added
/// under `name`, or `, src: true` in a flow mapping).
fn src_true_fix(files: &Files, file: FileId, fields: &Fields<'_, '_>, name: &str) -> Option<Fix> {
    let text = files.get(file).text.as_str();
    let (_, key_span, value) = fields.entries.iter().find(|(k, ..)| *k == "src-registry")?;
    let remove = fix::whole_lines(text, Span { start: key_span.start, end: value.span.end }, "")?;
    let NodeKind::Seq(items) = &fields.get("registries")?.kind else { return None };
    let entry = items.iter().find_map(|item| match &item.kind {
        NodeKind::Map(entries)
            if entries.iter().any(|(k, v)| k.as_scalar() == Some("name") && v.as_scalar() == Some(name)) =>
        {
            Some((item, entries))
        }
        _ => None,
    })?;
    let (item, entries) = entry;
    let mark = match entries.iter().find(|(k, _)| k.as_scalar() == Some("src")) {
        Some((_, v)) if v.as_scalar() == Some("true") => None,
        Some((_, v)) => Some(fix::edit(files, file, v.span, "true")),
        None => {
            let (name_key, name_value) = entries.iter().find(|(k, _)| k.as_scalar() == Some("name"))?;
            let flow = text.get(item.span.start as usize..item.span.start as usize + 1) == Some("{");
            let after = Span { start: name_value.span.end, end: name_value.span.end };
            if flow {
                Some(fix::edit(files, file, after, ", src: true"))
            } else {
                let line = fix::whole_lines(
                    text,
                    Span { start: name_key.span.start, end: name_value.span.end },
                    "-",
                )?;
                let indent = fix::indent_of(text, name_key.span.start as usize);
                let br = fix::line_break(text);
                let at = Span { start: line.end, end: line.end };
                let ends = text[..line.end as usize].ends_with(['\n', '\r']);
                let insert =
                    if ends { format!("{indent}src: true{br}") } else { format!("{br}{indent}src: true") };
                Some(fix::edit(files, file, at, insert))
            }
        }
    };
    // The removed line must not hold the edit's insertion point (a one-line file).
    let mut edits = vec![fix::edit(files, file, remove, "")];
    edits.extend(mark);
    let overlap = edits.len() == 2
        && edits[1].location.span.start >= remove.start
        && edits[1].location.span.start < remove.end;
    if overlap {
        return None;
    }
    Some(Fix::safe(format!("mark {name} `src: true` and remove `src-registry`"), edits))
}

/// A YAML 1.1 boolean, as the Go promoter's YAML reader accepts them.
pub(crate) fn yaml_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => Some(true),
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => Some(false),
        _ => None,
    }
}

fn spanned(text: &str, file: FileId, span: Span) -> Spanned<String> {
    Spanned { value: text.to_owned(), file, span }
}

/// Help for an unknown key: a likely typo, a key that belongs elsewhere, or the known keys.
fn unknown_key_help(name: &str, keys: &[&str], what: &str) -> String {
    match (what, name) {
        ("thin manifest", "images") => {
            return "a thin manifest holds registries only: the images go in `images/<x>/images.yaml`".into();
        }
        ("thin manifest", "src-registry") => {
            return "mark the source registry entry with `src: true`".into();
        }
        _ => {}
    }
    match suggest(name, keys) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("known keys here: {}", keys.join(", ")),
    }
}

/// The closest known key, when it is close enough to be a likely typo.
fn suggest<'k>(name: &str, keys: &[&'k str]) -> Option<&'k str> {
    let lower = name.to_ascii_lowercase();
    keys.iter()
        .map(|k| (strsim::damerau_levenshtein(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(2))
        .min()
        .map(|(_, k)| k)
}

/// What a plain scalar tag would be read as by a YAML 1.1 reader, when that reading would not
/// print back as the same text (`1.10` is the number 1.1; `010` is 8; `yes` is a boolean).
pub(crate) fn other_reading(text: &str) -> Option<&'static str> {
    if matches!(
        text,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    ) {
        return Some("boolean");
    }
    if matches!(text, "~" | "null" | "Null" | "NULL") {
        return Some("null");
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let numeric = digits.bytes().next().is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && digits
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'x' | b'o'));
    if !numeric {
        return None;
    }
    if let Ok(n) = text.parse::<i64>() {
        return (n.to_string() != text).then_some("integer");
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        || text.starts_with("0x")
        || text.starts_with("0o")
    {
        return Some("integer");
    }
    text.parse::<f64>().ok().filter(|f| f.to_string() != text).map(|_| "number")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_of_plain_tags() {
        assert_eq!(other_reading("1.10"), Some("number"));
        assert_eq!(other_reading("1.0"), Some("number"));
        assert_eq!(other_reading("1e3"), Some("number"));
        assert_eq!(other_reading("010"), Some("integer"));
        assert_eq!(other_reading("1_000"), Some("integer"));
        assert_eq!(other_reading("0x1F"), Some("integer"));
        assert_eq!(other_reading("yes"), Some("boolean"));
        assert_eq!(other_reading("10"), None);
        assert_eq!(other_reading("1.5"), None);
        assert_eq!(other_reading("v1.0"), None);
        assert_eq!(other_reading("3.5.0-beta.3-1"), None);
        assert_eq!(other_reading("1.18.2"), None);
        assert_eq!(other_reading("20240101-abcdef0"), None);
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("imagess", PLAIN_KEYS), Some("images"));
        assert_eq!(suggest("serviceaccount", REGISTRY_KEYS), Some("service-account"));
        assert_eq!(suggest("service_account", REGISTRY_KEYS), Some("service-account"));
        assert_eq!(suggest("zzz", IMAGE_KEYS), None);
        assert!(unknown_key_help("src-registry", THIN_KEYS, "thin manifest").contains("src: true"));
        assert!(unknown_key_help("images", THIN_KEYS, "thin manifest").contains("images.yaml"));
    }
}
