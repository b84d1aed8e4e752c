//! Turns a YAML tree into the manifest model, reporting schema findings (unknown keys, wrong
//! types, missing fields, duplicate keys) as diagnostics instead of stopping at the first one.

use crate::diagnostic::Diagnostic;
use crate::files::{FileId, Files};
use crate::manifest::{DigestEntry, Image, Manifest, Registry, Spanned};
use crate::source::Span;
use crate::yaml::{self, Node, NodeKind, Style, YamlError};

/// Keys of a plain manifest file.
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

impl Reader<'_> {
    pub(crate) fn error(
        &mut self,
        code: &str,
        file: FileId,
        span: Span,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let d = Diagnostic::error(code, self.files.locate(file, span), message);
        self.out.push(d);
        self.out.last_mut().expect("just pushed")
    }

    pub(crate) fn warning(
        &mut self,
        code: &str,
        file: FileId,
        span: Span,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let d = Diagnostic::warning(code, self.files.locate(file, span), message);
        self.out.push(d);
        self.out.last_mut().expect("just pushed")
    }

    /// Parses a file's YAML; a syntax or limit problem becomes a finding and yields `None`.
    pub(crate) fn tree(&mut self, file: FileId) -> Option<Option<Node>> {
        match yaml::parse(&self.files.get(file).text) {
            Ok(root) => Some(root),
            Err(YamlError::Syntax { message, at }) => {
                self.error("yaml-syntax", file, at, format!("invalid YAML: {message}")).help =
                    Some("fix the YAML syntax at this position".into());
                None
            }
            Err(YamlError::Limit { message, at }) => {
                self.error("yaml-limit", file, at, message);
                None
            }
            Err(e @ YamlError::MultipleDocuments { at }) => {
                self.error("yaml-multiple-documents", file, at, e.to_string()).help =
                    Some("remove the `---` line and merge the documents, or split them into files".into());
                None
            }
        }
    }

    fn plain(&mut self, file: FileId) -> Option<Manifest> {
        let root = self.tree(file)?;
        let fields = self.top_mapping(file, root.as_ref(), PLAIN_KEYS)?;
        let registries = self.registries(file, &fields);
        let images = match field(&fields, "images") {
            Some(node) => self.images(file, node),
            None => Vec::new(),
        };
        let mut manifest = Manifest { file, images_file: None, registries, images };
        self.legacy_src_registry(file, field(&fields, "src-registry"), &mut manifest);
        Some(manifest)
    }

    /// Reads a thin `promoter-manifest.yaml`: registries only.
    pub(crate) fn thin_manifest(&mut self, file: FileId) -> Option<(Manifest, Option<Spanned<String>>)> {
        let root = self.tree(file)?;
        let fields = self.top_mapping(file, root.as_ref(), THIN_KEYS)?;
        let registries = self.registries(file, &fields);
        let images_path = field(&fields, "imagesPath").and_then(|n| self.string(file, n, "imagesPath"));
        Some((Manifest { file, images_file: None, registries, images: Vec::new() }, images_path))
    }

    /// Reads a thin `images.yaml`: a bare list of images.
    pub(crate) fn images_file(&mut self, file: FileId) -> Vec<Image> {
        match self.tree(file) {
            Some(Some(root)) => self.images(file, &root),
            _ => Vec::new(),
        }
    }

    fn top_mapping<'n>(
        &mut self,
        file: FileId,
        root: Option<&'n Node>,
        keys: &[&str],
    ) -> Option<Vec<(&'n str, &'n Node)>> {
        match root {
            None => Some(Vec::new()),
            Some(node) if node.is_null() => Some(Vec::new()),
            Some(node) => self.mapping(file, node, keys, "manifest"),
        }
    }

    fn registries(&mut self, file: FileId, fields: &[(&str, &Node)]) -> Vec<Registry> {
        let Some(node) = field(fields, "registries") else {
            self.error(
                "registries-missing",
                file,
                Span::default(),
                "the manifest has no `registries` list",
            )
            .help =
                Some("add `registries:` with one `src: true` entry (staging) and the destinations".into());
            return Vec::new();
        };
        let Some(items) = self.list(file, node, "registries") else { return Vec::new() };
        if items.is_empty() {
            self.error("registries-empty", file, node.span, "`registries` is empty").help =
                Some("list the source registry (`src: true`) and at least one destination".into());
        }
        items.iter().filter_map(|item| self.registry(file, item)).collect()
    }

    fn registry(&mut self, file: FileId, node: &Node) -> Option<Registry> {
        let fields = self.mapping(file, node, REGISTRY_KEYS, "registry")?;
        let name = self.required_string(file, node, &fields, "name", "registry-name-missing", "registry")?;
        let src = field(&fields, "src").is_some_and(|n| self.boolean(file, n, "src"));
        let service_account =
            field(&fields, "service-account").and_then(|n| self.string(file, n, "service-account"));
        Some(Registry { name, src, service_account })
    }

    fn images(&mut self, file: FileId, node: &Node) -> Vec<Image> {
        if node.is_null() {
            return Vec::new();
        }
        let Some(items) = self.list(file, node, "images") else { return Vec::new() };
        items.iter().filter_map(|item| self.image(file, item)).collect()
    }

    fn image(&mut self, file: FileId, node: &Node) -> Option<Image> {
        let fields = self.mapping(file, node, IMAGE_KEYS, "image")?;
        let name = self.required_string(file, node, &fields, "name", "image-name-missing", "image");
        let dmap = match field(&fields, "dmap") {
            None => {
                self.error("dmap-missing", file, node.span, "image has no `dmap`").help =
                    Some("add `dmap:` mapping each `\"sha256:...\"` digest to its list of tags".into());
                Vec::new()
            }
            Some(d) => self.dmap(file, d),
        };
        Some(Image { name: name?, dmap })
    }

    fn dmap(&mut self, file: FileId, node: &Node) -> Vec<DigestEntry> {
        let NodeKind::Map(entries) = &node.kind else {
            self.wrong_type(file, node, "dmap", "a mapping of digest to tags");
            return Vec::new();
        };
        if entries.is_empty() {
            self.error("dmap-empty", file, node.span, "`dmap` is empty: this image promotes nothing").help =
                Some("add a `\"sha256:...\": [tags]` entry or remove the image".into());
        }
        let mut seen: std::collections::HashMap<&str, Span> =
            std::collections::HashMap::with_capacity(entries.len());
        let mut out = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let Some(digest) = self.key_text(file, key) else { continue };
            if let Some(first) = seen.insert(digest, key.span) {
                let here = self.files.locate(file, first);
                self.error(
                    "duplicate-key",
                    file,
                    key.span,
                    format!("digest {digest} appears twice in this `dmap`"),
                )
                .with_label_mut(here, "first listed here")
                .help =
                    Some("merge the two tag lists under one key; YAML readers keep only one of them".into());
                seen.insert(digest, first);
                continue;
            }
            let tags = self.tags(file, value);
            out.push(DigestEntry { digest: spanned(digest, file, key.span), tags });
        }
        out
    }

    fn tags(&mut self, file: FileId, node: &Node) -> Vec<Spanned<String>> {
        match &node.kind {
            _ if node.is_null() => Vec::new(),
            NodeKind::Seq(items) => items.iter().filter_map(|t| self.tag(file, t)).collect(),
            _ => {
                self.wrong_type(file, node, "tag list", "a list of tags, e.g. [\"v1.0\"] or [] for none");
                Vec::new()
            }
        }
    }

    fn tag(&mut self, file: FileId, node: &Node) -> Option<Spanned<String>> {
        let NodeKind::Scalar(text, style) = &node.kind else {
            self.wrong_type(file, node, "tag", "a string");
            return None;
        };
        if *style == Style::Plain {
            if let Some(reading) = other_reading(text) {
                self.warning("tag-unquoted", file, node.span, format!("tag {text} is an unquoted YAML {reading}; cip keeps the text `{text}`, but other YAML readers may not"))
                    .help = Some(format!("quote it: \"{text}\""));
            }
        }
        Some(spanned(text, file, node.span))
    }

    fn legacy_src_registry(&mut self, file: FileId, node: Option<&Node>, manifest: &mut Manifest) {
        let Some(node) = node else { return };
        let Some(name) = self.string(file, node, "src-registry") else { return };
        let marked: Vec<usize> =
            (0..manifest.registries.len()).filter(|&i| manifest.registries[i].src).collect();
        let Some(i) = manifest.registries.iter().position(|r| r.name.value == name.value) else {
            self.error(
                "src-registry-unknown",
                file,
                name.span,
                format!("`src-registry` names {}, which is not in `registries`", name.value),
            )
            .help = Some("add it to `registries` or fix the name".into());
            return;
        };
        if let Some(&other) = marked.iter().find(|&&m| m != i) {
            let there = self.files.locate(file, manifest.registries[other].name.span);
            self.error(
                "src-registry-conflict",
                file,
                name.span,
                format!("`src-registry` names {}, but another registry is marked `src: true`", name.value),
            )
            .with_label_mut(there, "marked `src: true` here")
            .help =
                Some("keep one source: remove `src-registry` and mark the source with `src: true`".into());
            return;
        }
        manifest.registries[i].src = true;
        self.warning("src-registry-legacy", file, name.span, "`src-registry` is the original schema").help =
            Some(format!(
                "remove `src-registry` and write `src: true` on the registry entry `- name: {}`",
                name.value
            ));
    }

    // --- generic helpers -------------------------------------------------------------------

    /// The entries of a mapping with known keys; reports non-mappings, non-scalar keys,
    /// duplicate and unknown keys. The first of duplicated keys wins.
    fn mapping<'n>(
        &mut self,
        file: FileId,
        node: &'n Node,
        keys: &[&str],
        what: &str,
    ) -> Option<Vec<(&'n str, &'n Node)>> {
        let NodeKind::Map(entries) = &node.kind else {
            self.wrong_type(file, node, what, "a mapping (`key: value` lines)");
            return None;
        };
        let mut out: Vec<(&str, &Node)> = Vec::with_capacity(entries.len());
        let mut spans: Vec<Span> = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let Some(name) = self.key_text(file, key) else { continue };
            if let Some(i) = out.iter().position(|(k, _)| *k == name) {
                let first = self.files.locate(file, spans[i]);
                self.error(
                    "duplicate-key",
                    file,
                    key.span,
                    format!("key `{name}` appears twice in this {what}"),
                )
                .with_label_mut(first, "first written here")
                .help = Some("remove one of them; YAML readers keep only one".into());
            } else if !keys.contains(&name) {
                let d = self.error("unknown-key", file, key.span, format!("unknown key `{name}` in {what}"));
                d.help = Some(match suggest(name, keys) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("known keys: {}", keys.join(", ")),
                });
            } else {
                out.push((name, value));
                spans.push(key.span);
            }
        }
        Some(out)
    }

    fn key_text<'n>(&mut self, file: FileId, key: &'n Node) -> Option<&'n str> {
        let text = key.as_scalar();
        if text.is_none() {
            self.error(
                "wrong-type",
                file,
                key.span,
                format!("a key must be a plain string, found a {}", key.type_name()),
            );
        }
        text
    }

    fn list<'n>(&mut self, file: FileId, node: &'n Node, what: &str) -> Option<&'n [Node]> {
        match &node.kind {
            NodeKind::Seq(items) => Some(items),
            _ => {
                self.wrong_type(file, node, what, "a list (`- ` items)");
                None
            }
        }
    }

    fn string(&mut self, file: FileId, node: &Node, what: &str) -> Option<Spanned<String>> {
        match &node.kind {
            NodeKind::Scalar(text, _) if !node.is_null() => Some(spanned(text, file, node.span)),
            _ => {
                self.wrong_type(file, node, what, "a string");
                None
            }
        }
    }

    fn required_string(
        &mut self,
        file: FileId,
        node: &Node,
        fields: &[(&str, &Node)],
        key: &str,
        code: &str,
        what: &str,
    ) -> Option<Spanned<String>> {
        match field(fields, key) {
            Some(value) if !value.is_null() && value.as_scalar().is_some_and(|s| !s.is_empty()) => {
                self.string(file, value, key)
            }
            Some(value) if value.as_scalar().is_none() => self.string(file, value, key),
            _ => {
                self.error(code, file, node.span, format!("{what} has no `{key}`")).help =
                    Some(format!("add `{key}:` to this {what}"));
                None
            }
        }
    }

    fn boolean(&mut self, file: FileId, node: &Node, what: &str) -> bool {
        // YAML 1.1 booleans, as the Go promoter's YAML reader accepts them.
        match &node.kind {
            NodeKind::Scalar(t, Style::Plain) => match t.as_str() {
                "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
                    return true;
                }
                "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => {
                    return false;
                }
                _ => {}
            },
            _ => {}
        }
        self.wrong_type(file, node, what, "`true` or `false` (unquoted)");
        false
    }

    fn wrong_type(&mut self, file: FileId, node: &Node, what: &str, expected: &str) {
        self.error(
            "wrong-type",
            file,
            node.span,
            format!("`{what}` must be {expected}, found a {}", node.type_name()),
        );
    }
}

impl Diagnostic {
    fn with_label_mut(&mut self, location: crate::diagnostic::Location, message: &str) -> &mut Self {
        self.labels.push(crate::diagnostic::Label { location, message: message.to_owned() });
        self
    }
}

fn field<'n>(fields: &[(&str, &'n Node)], key: &str) -> Option<&'n Node> {
    fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

fn spanned(text: &str, file: FileId, span: Span) -> Spanned<String> {
    Spanned { value: text.to_owned(), file, span }
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
fn other_reading(text: &str) -> Option<&'static str> {
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
    let numeric = !digits.is_empty()
        && digits.bytes().next().is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'e' | b'E' | b'-' | b'+' | b'x' | b'o' | b'b' | b'a'..=b'f' | b'A'..=b'F'));
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
        assert_eq!(other_reading("010"), Some("integer"));
        assert_eq!(other_reading("1_000"), Some("integer"));
        assert_eq!(other_reading("yes"), Some("boolean"));
        assert_eq!(other_reading("10"), None);
        assert_eq!(other_reading("1.5"), None);
        assert_eq!(other_reading("v1.0"), None);
        assert_eq!(other_reading("3.5.0-beta.3-1"), None);
        assert_eq!(other_reading("1.18.2"), None);
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("imagess", PLAIN_KEYS), Some("images"));
        assert_eq!(suggest("serviceaccount", REGISTRY_KEYS), Some("service-account"));
        assert_eq!(suggest("zzz", IMAGE_KEYS), None);
    }
}
