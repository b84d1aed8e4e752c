//! `cip fmt`: the canonical layout of a manifest file, the one the Go promoter's snapshots use.
//! Images sorted by name, digests sorted, tags sorted and double-quoted, one digest per line
//! (`"sha256:...": ["1.0", "latest"]`), sequences written at their key's indentation. Registries
//! and top-level keys keep their order (it is the reader's, and reviewers read it top-down);
//! within an entry the keys come in schema order (`name` first).
//!
//! Comments are kept and move with the entry they belong to: an own-line comment belongs to the
//! entry that follows it (the outermost one starting on the next written line), a comment after
//! content to the innermost entry written on its line, where it stays at the end of that entry's
//! first line. Blank lines are kept only next to comments (they separate comment blocks); anchors
//! and aliases are written out.
//!
//! Pure and meaning-preserving: the formatted file reads as the same manifest (same registries,
//! images, digests and tags, so the same plan), which the tests check on every vector and on the
//! real corpus. A file whose shape the reader rejects (YAML errors, unknown keys, wrong types,
//! duplicate keys) is not formatted: [`format`] returns those findings instead. Running it on its
//! own output changes nothing.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::files::{FileId, Files};
use crate::fix::{line_break, line_start, plain_safe, quote};
use crate::manifest::{Reader, read_plain};
use crate::rules::Code;
use crate::source::{LineIndex, SourceFile, Span};
use crate::yaml::{self, Node, NodeKind};

/// Codes of findings about a file's shape: such a file cannot be laid out without guessing.
const REFUSE: &[Code] = &[
    Code::YamlSyntax,
    Code::YamlTooLarge,
    Code::YamlTooDeep,
    Code::YamlTooManyNodes,
    Code::YamlMultipleDocuments,
    Code::UnknownKey,
    Code::WrongType,
    Code::DuplicateKey,
];

/// The file in the canonical layout, or the findings that prevent formatting it (errors about
/// its YAML or its shape, with their locations). The file kind (plain manifest, thin
/// `promoter-manifest.yaml`, thin `images.yaml`) is read from its content: a list is an images
/// file, a mapping with `imagesPath` and no `images` a thin manifest.
pub fn format(file: &SourceFile) -> Result<String, Vec<Diagnostic>> {
    let files = Files::new(vec![file.clone()]);
    let id = FileId(0);
    let text = file.text.as_str();
    let root = yaml::parse(text).ok().flatten();
    let mut findings = Vec::new();
    let mut reader = Reader { files: &files, out: &mut findings };
    match root.as_ref().map(|r| &r.kind) {
        Some(NodeKind::Seq(_)) => drop(reader.images_file(id)),
        Some(NodeKind::Map(entries)) if is_thin(entries) => drop(reader.thin_manifest(id)),
        _ => drop(read_plain(&files, id, &mut findings)),
    }
    let mut refused: Vec<Diagnostic> = findings.into_iter().filter(|d| REFUSE.contains(&d.code)).collect();
    if !refused.is_empty() {
        crate::diagnostic::sort_diagnostics(&mut refused);
        return Err(refused);
    }
    let Some(root) = root.filter(|r| !r.is_null()) else {
        // Nothing but comments (or nothing at all): only the comments are laid out.
        return Ok(Layout::new(text, None).finish(Vec::new()));
    };
    let layout = Layout::new(text, Some(&root));
    let lines = match &root.kind {
        NodeKind::Seq(items) => layout.items(items, Item::Image, 0),
        NodeKind::Map(entries) => layout.top(entries),
        NodeKind::Scalar(..) => unreachable!("a scalar document is wrong-type"),
    };
    Ok(layout.finish(lines))
}

/// A thin `promoter-manifest.yaml`: `imagesPath` without `images`.
fn is_thin(entries: &[(Node<'_>, Node<'_>)]) -> bool {
    let has = |key: &str| entries.iter().any(|(k, _)| k.as_scalar() == Some(key));
    has("imagesPath") && !has("images")
}

/// What goes before a line: a blank line or a comment.
#[derive(Clone, Debug)]
enum Lead {
    Blank,
    Comment(String),
}

/// One output line: indentation, text, what comes before it and comments after it.
#[derive(Debug)]
struct Line {
    indent: usize,
    text: String,
    leads: Vec<Lead>,
    trailing: Vec<String>,
}

/// An entry that moves as a whole (an image, a registry, a key of a mapping, a digest line) and
/// so owns comments. Identified by the address of its node in the tree being formatted.
#[derive(Clone, Copy, Debug)]
struct Unit {
    id: usize,
    start: u32,
    first_line: u32,
    last_line: u32,
    depth: u32,
}

/// Which kind of list item.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Item {
    Image,
    Registry,
}

struct Layout<'t> {
    text: &'t str,
    index: LineIndex,
    leads: HashMap<usize, Vec<Lead>>,
    trailing: HashMap<usize, Vec<String>>,
    /// The file's header: the comments above the first entry, up to the last blank line before
    /// it. They stay at the top (the first entry keeps only the comments right above it).
    head: Vec<Lead>,
    /// Comments after the last entry.
    end: Vec<Lead>,
}

fn id(node: &Node<'_>) -> usize {
    std::ptr::from_ref(node) as usize
}

impl<'t> Layout<'t> {
    fn new(text: &'t str, root: Option<&Node<'_>>) -> Self {
        let index = LineIndex::new(text);
        let mut layout = Self {
            text,
            index,
            leads: HashMap::new(),
            trailing: HashMap::new(),
            head: Vec::new(),
            end: Vec::new(),
        };
        let mut units = Vec::new();
        if let Some(root) = root {
            layout.collect_units(root, 0, &mut units);
        }
        layout.attach_comments(&units);
        layout
    }

    fn line(&self, offset: u32) -> u32 {
        self.index.position(self.text, offset).line
    }

    fn unit(&self, node: &Node<'_>, span: Span, depth: u32) -> Unit {
        let end = span.end.max(span.start + 1) - 1;
        Unit {
            id: id(node),
            start: span.start,
            first_line: self.line(span.start),
            last_line: self.line(end),
            depth,
        }
    }

    /// Every entry that owns comments, with its line range. A map entry is identified by its key
    /// node and spans key and value; a list item by its node.
    fn collect_units(&self, node: &Node<'_>, depth: u32, out: &mut Vec<Unit>) {
        match &node.kind {
            NodeKind::Seq(items) => {
                // Tags are not units: their comments belong to the digest line.
                for item in items {
                    if matches!(item.kind, NodeKind::Map(_)) {
                        out.push(self.unit(item, item.span, depth));
                    }
                    self.collect_units(item, depth + 1, out);
                }
            }
            NodeKind::Map(entries) => {
                for (key, value) in entries {
                    let span = Span { start: key.span.start, end: value.span.end.max(key.span.end) };
                    out.push(self.unit(key, span, depth));
                    self.collect_units(value, depth + 1, out);
                }
            }
            NodeKind::Scalar(..) => {}
        }
    }

    /// Whether 1-based line `line` holds only whitespace.
    fn blank(&self, line: u32) -> bool {
        line >= 1 && self.index.line_text(self.text, line).trim().is_empty()
    }

    fn attach_comments(&mut self, units: &[Unit]) {
        for span in yaml::comments(self.text) {
            let (start, end) = (span.start as usize, span.end as usize);
            let comment = self.text[start..end].trim_end().to_owned();
            let line = self.line(span.start);
            let own_line = self.text[line_start(self.text, start)..start].trim().is_empty();
            if !own_line {
                let owner = units
                    .iter()
                    .filter(|u| u.first_line <= line && line <= u.last_line && u.start <= span.start)
                    .max_by_key(|u| (u.depth, u.start));
                if let Some(owner) = owner {
                    self.trailing.entry(owner.id).or_default().push(comment);
                    continue;
                }
            }
            let blank_before = line > 1 && self.blank(line - 1);
            let mut leads = Vec::new();
            if blank_before {
                leads.push(Lead::Blank);
            }
            leads.push(Lead::Comment(comment));
            let first = units.iter().map(|u| u.first_line).min().unwrap_or(u32::MAX);
            if line < first && (line + 1..first).any(|l| self.blank(l)) {
                self.head.extend(leads);
                continue;
            }
            let next = units.iter().filter(|u| u.start > span.end).map(|u| u.first_line).min();
            let owner = next.and_then(|first| {
                units
                    .iter()
                    .filter(|u| u.first_line == first && u.start > span.end)
                    .min_by_key(|u| (u.depth, u.start))
            });
            match owner {
                Some(owner) => self.leads.entry(owner.id).or_default().extend(leads),
                None => self.end.extend(leads),
            }
        }
        // A blank line between a unit's comments and the unit is kept too.
        for unit in units {
            if unit.first_line > 1
                && self.blank(unit.first_line - 1)
                && let Some(leads) = self.leads.get_mut(&unit.id)
            {
                leads.push(Lead::Blank);
            }
        }
    }

    /// A line for the entry `owner` (its comments attach to it).
    fn owned(&self, owner: &Node<'_>, indent: usize, text: String) -> Line {
        Line {
            indent,
            text,
            leads: self.leads.get(&id(owner)).cloned().unwrap_or_default(),
            trailing: self.trailing.get(&id(owner)).cloned().unwrap_or_default(),
        }
    }

    /// The top-level mapping of a plain or thin manifest, keys in written order.
    fn top(&self, entries: &[(Node<'_>, Node<'_>)]) -> Vec<Line> {
        let mut lines = Vec::new();
        for (key, value) in entries {
            let name = key.as_scalar().unwrap_or_default();
            let item = match name {
                "registries" => Some(Item::Registry),
                "images" => Some(Item::Image),
                _ => None,
            };
            match (item, &value.kind) {
                (Some(item), NodeKind::Seq(items)) if !items.is_empty() => {
                    lines.push(self.owned(key, 0, format!("{name}:")));
                    lines.extend(self.items(items, item, 0));
                }
                (Some(_), _) => lines.push(self.owned(key, 0, format!("{name}: []"))),
                (None, _) => lines.push(self.owned(key, 0, format!("{name}: {}", self.value(value, false)))),
            }
        }
        lines
    }

    /// A block list of images (sorted by name, stably) or registries (in written order).
    fn items(&self, items: &[Node<'_>], item: Item, indent: usize) -> Vec<Line> {
        let mut order: Vec<&Node<'_>> = items.iter().collect();
        if item == Item::Image {
            order.sort_by_key(|image| {
                field(image, "name").and_then(Node::as_scalar).unwrap_or_default().to_owned()
            });
        }
        let mut lines = Vec::new();
        for node in order {
            let NodeKind::Map(entries) = &node.kind else { continue };
            let keys: &[&str] = match item {
                Item::Image => &["name", "dmap"],
                Item::Registry => &["name", "src", "service-account"],
            };
            let mut body = Vec::new();
            for key_name in keys {
                let Some((key, value)) = entries.iter().find(|(k, _)| k.as_scalar() == Some(key_name)) else {
                    continue;
                };
                if *key_name == "dmap" {
                    body.extend(self.dmap(key, value));
                } else {
                    body.push(self.owned(
                        key,
                        0,
                        format!("{key_name}: {}", self.value(value, *key_name == "src")),
                    ));
                }
            }
            let Some(first) = body.first_mut() else {
                lines.push(self.owned(node, indent, "- {}".to_owned()));
                continue;
            };
            let mut leads = self.leads.get(&id(node)).cloned().unwrap_or_default();
            leads.append(&mut first.leads);
            first.leads = leads;
            let mut trailing = self.trailing.get(&id(node)).cloned().unwrap_or_default();
            trailing.append(&mut first.trailing);
            first.trailing = trailing;
            first.text = format!("- {}", first.text);
            for (i, line) in body.iter_mut().enumerate() {
                line.indent += if i == 0 { indent } else { indent + 2 };
            }
            lines.extend(body);
        }
        lines
    }

    /// `dmap:` and one `"digest": [tags]` line per digest, sorted by digest (stably).
    fn dmap(&self, key: &Node<'_>, value: &Node<'_>) -> Vec<Line> {
        let NodeKind::Map(entries) = &value.kind else {
            return vec![self.owned(key, 0, format!("dmap: {}", self.value(value, false)))];
        };
        if entries.is_empty() {
            return vec![self.owned(key, 0, "dmap: {}".to_owned())];
        }
        let mut lines = vec![self.owned(key, 0, "dmap:".to_owned())];
        let mut order: Vec<&(Node<'_>, Node<'_>)> = entries.iter().collect();
        order.sort_by_key(|(digest, _)| digest.as_scalar().unwrap_or_default().to_owned());
        for (digest, tags) in order {
            let digest_text = quote(digest.as_scalar().unwrap_or_default());
            lines.push(self.owned(digest, 2, format!("{digest_text}: [{}]", self.tags(tags).join(", "))));
        }
        lines
    }

    /// A digest's tags, sorted (stably) and quoted; a plain null stays as written (the Go reader
    /// reads it as an empty tag, which is invalid, and it must stay so).
    fn tags(&self, tags: &Node<'_>) -> Vec<String> {
        let NodeKind::Seq(items) = &tags.kind else { return Vec::new() };
        let mut tags: Vec<(&str, String)> = items
            .iter()
            .map(|t| {
                if t.is_null() {
                    ("", self.text[t.span.start as usize..t.span.end as usize].to_owned())
                } else {
                    let value = t.as_scalar().unwrap_or_default();
                    (value, quote(value))
                }
            })
            .collect();
        tags.sort_by(|a, b| a.0.cmp(b.0));
        tags.into_iter().map(|(_, written)| written).collect()
    }

    /// A scalar value: plain when it reads back as the same string, else double-quoted; `src`
    /// booleans as `true`/`false`, a null as `null`.
    fn value(&self, node: &Node<'_>, boolean: bool) -> String {
        if node.is_null() {
            return "null".to_owned();
        }
        let Some(value) = node.as_scalar() else { return "null".to_owned() };
        if boolean && matches!(&node.kind, NodeKind::Scalar(_, yaml::Style::Plain)) {
            match crate::manifest::yaml_bool(value) {
                Some(true) => return "true".to_owned(),
                Some(false) => return "false".to_owned(),
                None => {}
            }
        }
        if plain_safe(value) { value.to_owned() } else { quote(value) }
    }

    /// The lines as text, in the file's line break, with a byte order mark if it had one.
    fn finish(&self, lines: Vec<Line>) -> String {
        let br = line_break(self.text);
        let mut out = String::with_capacity(self.text.len() + 64);
        if self.text.starts_with('\u{feff}') {
            out.push('\u{feff}');
        }
        let body_start = out.len();
        let push_leads = |out: &mut String, leads: &[Lead], indent: usize| {
            for lead in leads {
                match lead {
                    Lead::Blank if out.len() > body_start && !out.ends_with(&format!("{br}{br}")) => {
                        out.push_str(br)
                    }
                    Lead::Blank => {}
                    Lead::Comment(c) => {
                        out.push_str(&" ".repeat(indent));
                        out.push_str(c);
                        out.push_str(br);
                    }
                }
            }
        };
        push_leads(&mut out, &self.head, 0);
        if !self.head.is_empty() && !lines.is_empty() {
            push_leads(&mut out, &[Lead::Blank], 0);
        }
        for line in &lines {
            push_leads(&mut out, &line.leads, line.indent);
            out.push_str(&" ".repeat(line.indent));
            out.push_str(&line.text);
            for comment in &line.trailing {
                out.push(' ');
                out.push_str(comment);
            }
            out.push_str(br);
        }
        push_leads(&mut out, &self.end, 0);
        out
    }
}

/// The value of `key` in a mapping node.
fn field<'n, 'a>(node: &'n Node<'a>, key: &str) -> Option<&'n Node<'a>> {
    let NodeKind::Map(entries) = &node.kind else { return None };
    entries.iter().find(|(k, _)| k.as_scalar() == Some(key)).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        format(&SourceFile::new("m.yaml", text)).unwrap_or_else(|d| panic!("refused: {d:?}"))
    }

    #[test]
    fn sorts_images_digests_and_tags_and_quotes_tags() {
        let text = "\
registries:
- name: gcr.io/s
  src: true
- name: us.gcr.io/p
images:
- name: b
  dmap:
    sha256:bb: [latest, 1.10]
    \"sha256:aa\":
    - v2
    - v1
- dmap: {\"sha256:cc\": []}
  name: a
";
        let want = "\
registries:
- name: gcr.io/s
  src: true
- name: us.gcr.io/p
images:
- name: a
  dmap:
    \"sha256:cc\": []
- name: b
  dmap:
    \"sha256:aa\": [\"v1\", \"v2\"]
    \"sha256:bb\": [\"1.10\", \"latest\"]
";
        assert_eq!(fmt(text), want);
        assert_eq!(fmt(want), want);
    }

    #[test]
    fn comments_move_with_their_entry() {
        let text = "\
# header

# about b
- name: b # trailing on b
  dmap:
    # about the digest
    \"sha256:bb\": [\"1\"] # why
- name: a
  dmap:
    \"sha256:aa\": [\"1\"]
# the end
";
        let want = "\
# header

- name: a
  dmap:
    \"sha256:aa\": [\"1\"]

# about b
- name: b # trailing on b
  dmap:
    # about the digest
    \"sha256:bb\": [\"1\"] # why
# the end
";
        assert_eq!(fmt(text), want);
        assert_eq!(fmt(want), want);
    }

    #[test]
    fn refuses_a_file_with_a_syntax_error_or_an_unknown_key() {
        let bad = format(&SourceFile::new("m.yaml", "images: [\n")).unwrap_err();
        assert_eq!(bad[0].code, Code::YamlSyntax);
        let unknown = format(&SourceFile::new("m.yaml", "registries: []\nimagess: []\n")).unwrap_err();
        assert_eq!(unknown[0].code, Code::UnknownKey);
    }

    #[test]
    fn keeps_crlf_a_bom_and_quotes_names_that_need_it() {
        let text = "\u{feff}- name: \"yes\"\r\n  dmap: {}\r\n";
        assert_eq!(fmt(text), "\u{feff}- name: \"yes\"\r\n  dmap: {}\r\n");
        assert_eq!(fmt(""), "");
        assert_eq!(fmt("# only\n"), "# only\n");
    }
}
