//! A small YAML document tree with a byte span on every node, keys included, built from the
//! granit-parser event stream.
//!
//! Why not deserialize with serde: serde stops at the first error, while a linter must report every
//! finding of a file at once, point at both copies of a duplicated key, and keep the exact text of
//! plain scalars (`1.10` must stay `1.10`). The tree keeps the source text and style of every
//! scalar and leaves interpretation to the manifest reader. Scalars borrow from the input text
//! whenever the parser can hand them out unescaped, so a 45,000-digest set is not copied twice.
//!
//! Resource limits (size, depth, alias expansion) are enforced here so no input can hang or
//! exhaust memory: every limit is checked before the work it bounds is done.

use std::borrow::Cow;
use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, ScanError, StructureStyle};

use crate::rules::Code;
use crate::source::Span;

/// Largest file the parser accepts. The Kubernetes production set is about 4 MiB in total and
/// its largest file about 1.5 MiB.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Deepest nesting of collections. Manifests need 4 levels; generous headroom for odd styles.
pub const MAX_DEPTH: usize = 64;
/// Most nodes one document may hold after alias expansion (an alias bomb stops here). About 8
/// times the node count of the largest real images file.
pub const MAX_NODES: usize = 2_000_000;

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Unquoted: YAML may resolve it to a number, bool or null.
    Plain,
    /// Quoted or block: always a string.
    Quoted,
}

/// A node's content.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind<'a> {
    /// A scalar with its text (exactly as written for plain scalars) and style.
    Scalar(Cow<'a, str>, Style),
    /// A sequence.
    Seq(Vec<Node<'a>>),
    /// A mapping, in source order (duplicates kept, so rules can report them).
    Map(Vec<(Node<'a>, Node<'a>)>),
}

/// A node and its byte span.
#[derive(Clone, Debug, PartialEq)]
pub struct Node<'a> {
    /// Where the node is written.
    pub span: Span,
    /// What it holds.
    pub kind: NodeKind<'a>,
}

impl Node<'_> {
    /// The scalar text, if this is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(text, _) => Some(text),
            _ => None,
        }
    }

    /// True for a plain `~`, `null`, `Null`, `NULL` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar(t, Style::Plain) if matches!(t.as_ref(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// A short name of the node's type, for "expected a list, found a string" messages.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(..) if self.is_null() => "null",
            NodeKind::Scalar(..) => "string",
            NodeKind::Seq(_) => "list",
            NodeKind::Map(_) => "mapping",
        }
    }

    fn count(&self) -> usize {
        match &self.kind {
            NodeKind::Scalar(..) => 1,
            NodeKind::Seq(items) => 1 + items.iter().map(Node::count).sum::<usize>(),
            NodeKind::Map(entries) => 1 + entries.iter().map(|(k, v)| k.count() + v.count()).sum::<usize>(),
        }
    }
}

/// Which resource limit an input hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// The file is larger than [`MAX_FILE_BYTES`].
    FileSize,
    /// Collections nest deeper than [`MAX_DEPTH`].
    Depth,
    /// Alias expansion makes the document larger than [`MAX_NODES`].
    Nodes,
}

impl Limit {
    /// The finding code of this limit.
    pub fn code(self) -> Code {
        match self {
            Limit::FileSize => Code::YamlTooLarge,
            Limit::Depth => Code::YamlTooDeep,
            Limit::Nodes => Code::YamlTooManyNodes,
        }
    }

    /// What to do about it.
    pub fn help(self) -> &'static str {
        match self {
            Limit::FileSize => "split the images into several thin manifests or files",
            Limit::Depth => "a manifest nests 4 levels (images, entry, dmap, tags); check for stray brackets",
            Limit::Nodes => "remove the YAML anchors and aliases (`&x`, `*x`) and write the entries out",
        }
    }
}

/// Why a text could not be turned into a tree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    /// Not valid YAML.
    #[error("{message}")]
    Syntax {
        /// The parser's explanation.
        message: String,
        /// Where it stopped.
        at: Span,
    },
    /// Over one of the resource limits.
    #[error("{message}")]
    Limit {
        /// Which limit.
        limit: Limit,
        /// The limit and the value that broke it.
        message: String,
        /// Where the limit was hit.
        at: Span,
    },
    /// More than one YAML document with content in one file.
    #[error("a manifest file must hold one YAML document; a second one starts here")]
    MultipleDocuments {
        /// Start of the second document.
        at: Span,
    },
}

/// An open collection. `block` collections end where their last entry ends: the parser's end
/// event sits at the next token, often lines further down.
enum Frame<'a> {
    Seq {
        start: usize,
        block: bool,
        anchor: usize,
        items: Vec<Node<'a>>,
    },
    Map {
        start: usize,
        block: bool,
        anchor: usize,
        entries: Vec<(Node<'a>, Node<'a>)>,
        key: Option<Node<'a>>,
    },
}

struct Builder<'a> {
    stack: Vec<Frame<'a>>,
    anchors: HashMap<usize, (Node<'a>, usize)>,
    nodes: usize,
    root: Option<Node<'a>>,
    /// Start of a second document, while it has shown no content yet (a trailing `---` is fine).
    second_document: Option<Span>,
}

/// Parses `text` into its single document's root node (`None` for an empty document).
pub fn parse(text: &str) -> Result<Option<Node<'_>>, YamlError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(YamlError::Limit {
            limit: Limit::FileSize,
            message: format!("the file is {} bytes, over the limit of {MAX_FILE_BYTES} bytes", text.len()),
            at: Span::new(0, 0),
        });
    }
    let mut builder =
        Builder { stack: Vec::new(), anchors: HashMap::new(), nodes: 0, root: None, second_document: None };
    let mut documents = 0;
    for next in Parser::new_from_str_with_options(text, parser_options()) {
        let (event, span) = next.map_err(|e| syntax_error(text, &e))?;
        let at = Span::new(byte(text, span.start), byte(text, span.end));
        match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    builder.second_document = Some(at);
                }
            }
            Event::Scalar(value, style, anchor, _) => {
                let empty = style == ScalarStyle::Plain && matches!(value.as_ref(), "" | "~");
                if builder.second_document.is_some() && builder.stack.is_empty() && empty {
                    continue; // an empty trailing document (the parser reports it as `~`)
                }
                let style = if style == ScalarStyle::Plain { Style::Plain } else { Style::Quoted };
                builder.complete(Node { span: at, kind: NodeKind::Scalar(value, style) }, anchor)?;
            }
            Event::SequenceStart(style, anchor, _) => {
                let block = style == StructureStyle::Block;
                builder
                    .open(Frame::Seq { start: at.start as usize, block, anchor, items: Vec::new() }, at)?;
            }
            Event::MappingStart(style, anchor, _) => {
                let block = style == StructureStyle::Block;
                let frame =
                    Frame::Map { start: at.start as usize, block, anchor, entries: Vec::new(), key: None };
                builder.open(frame, at)?;
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close(at)?,
            Event::Alias(id) => builder.alias(id, at)?,
            _ => {}
        }
    }
    Ok(builder.root)
}

/// The byte spans of every comment of `text` (from `#` to the end of its line, line break
/// excluded), in order; empty when the text is not valid YAML. Only `cip fmt` needs comments,
/// so [`parse`] leaves them out and this second pass reads them.
pub fn comments(text: &str) -> Vec<Span> {
    let mut options = parser_options();
    options.set_emit_comments(true);
    let mut out = Vec::new();
    for next in Parser::new_from_str_with_options(text, options) {
        let Ok((event, span)) = next else { return Vec::new() };
        if let Event::Comment(..) = event {
            out.push(Span::new(byte(text, span.start), byte(text, span.end)));
        }
    }
    out
}

fn parser_options() -> granit_parser::Options {
    // The parser's own nesting limits sit just above ours, so ours reports first with a clear
    // message and the parser never builds deep state. Comments are not needed.
    let mut options = granit_parser::options! {
        flow_nesting_limit: MAX_DEPTH + 1,
        block_nesting_limit: MAX_DEPTH + 1,
    };
    options.set_emit_comments(false);
    options
}

impl<'a> Builder<'a> {
    fn open(&mut self, frame: Frame<'a>, at: Span) -> Result<(), YamlError> {
        self.check_single_document()?;
        if self.stack.len() >= MAX_DEPTH {
            return Err(depth_error(at));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, at: Span) -> Result<(), YamlError> {
        let end = |block: bool, last: Option<&Node<'_>>| match last {
            Some(last) if block => last.span.end as usize,
            _ => at.end as usize,
        };
        let (node, anchor) = match self.stack.pop() {
            Some(Frame::Seq { start, block, anchor, items }) => {
                let span = Span::new(start, end(block, items.last()));
                (Node { span, kind: NodeKind::Seq(items) }, anchor)
            }
            Some(Frame::Map { start, block, anchor, entries, .. }) => {
                let span = Span::new(start, end(block, entries.last().map(|(_, v)| v)));
                (Node { span, kind: NodeKind::Map(merge_keys(entries)?) }, anchor)
            }
            None => return Ok(()),
        };
        self.complete(node, anchor)
    }

    fn alias(&mut self, id: usize, at: Span) -> Result<(), YamlError> {
        self.check_single_document()?;
        let Some(&(_, size)) = self.anchors.get(&id) else {
            return Err(YamlError::Syntax { message: "alias refers to an unknown anchor".into(), at });
        };
        // Aliases are expanded, so their size counts again: this is what stops alias bombs. The
        // charge happens before the copy, so an over-limit copy is never made.
        self.charge(size, at)?;
        let node = self.anchors[&id].0.clone();
        self.attach(node);
        Ok(())
    }

    fn complete(&mut self, node: Node<'a>, anchor: usize) -> Result<(), YamlError> {
        self.check_single_document()?;
        self.charge(1, node.span)?;
        if anchor != 0 {
            let size = node.count();
            self.anchors.insert(anchor, (node.clone(), size));
        }
        self.attach(node);
        Ok(())
    }

    fn check_single_document(&self) -> Result<(), YamlError> {
        match self.second_document {
            Some(at) => Err(YamlError::MultipleDocuments { at }),
            None => Ok(()),
        }
    }

    fn charge(&mut self, nodes: usize, at: Span) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_NODES {
            return Err(YamlError::Limit {
                limit: Limit::Nodes,
                message: format!(
                    "the document expands to more than {MAX_NODES} nodes once its aliases are expanded"
                ),
                at,
            });
        }
        Ok(())
    }

    fn attach(&mut self, node: Node<'a>) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

fn is_merge_key(key: &Node<'_>) -> bool {
    matches!(&key.kind, NodeKind::Scalar(text, Style::Plain) if text == "<<")
}

/// Resolves YAML merge keys (`<<: *anchor`, `<<: [*a, *b]`), which the Go promoter's YAML reader
/// (yaml.v2) supports: the merged mappings' entries take the place of the `<<` entry. A key
/// written in the mapping itself wins over a merged one, and among several merged mappings the
/// first one that has a key wins (the YAML merge key specification; yaml.v2 agrees, except that
/// it lets a merge overwrite an explicit key written before the `<<`). Merged nodes were counted
/// when their alias was expanded, and are moved, not copied, so the node limit still holds.
fn merge_keys<'a>(entries: Vec<(Node<'a>, Node<'a>)>) -> Result<Vec<(Node<'a>, Node<'a>)>, YamlError> {
    if !entries.iter().any(|(key, _)| is_merge_key(key)) {
        return Ok(entries);
    }
    let mut seen: std::collections::HashSet<String> = entries
        .iter()
        .filter(|(key, _)| !is_merge_key(key))
        .filter_map(|(key, _)| key.as_scalar().map(str::to_owned))
        .collect();
    let not_a_mapping = |at: Span| YamlError::Syntax {
        message: "the value of a merge key `<<` must be a mapping or a list of mappings".into(),
        at,
    };
    let mut out = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        if !is_merge_key(&key) {
            out.push((key, value));
            continue;
        }
        let maps = match value.kind {
            NodeKind::Map(merged) => vec![merged],
            NodeKind::Seq(items) => items
                .into_iter()
                .map(|item| match item.kind {
                    NodeKind::Map(merged) => Ok(merged),
                    _ => Err(not_a_mapping(item.span)),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(not_a_mapping(value.span)),
        };
        for (merged_key, merged_value) in maps.into_iter().flatten() {
            let fresh = merged_key.as_scalar().is_none_or(|text| seen.insert(text.to_owned()));
            if fresh {
                out.push((merged_key, merged_value));
            }
        }
    }
    Ok(out)
}

fn depth_error(at: Span) -> YamlError {
    YamlError::Limit {
        limit: Limit::Depth,
        message: format!("collections nest deeper than {MAX_DEPTH} levels"),
        at,
    }
}

fn syntax_error(text: &str, error: &ScanError) -> YamlError {
    let at = byte(text, *error.marker());
    let at = Span::new(at, at);
    if matches!(error.kind(), granit_parser::ErrorKind::RecursionLimitExceeded) {
        return depth_error(at);
    }
    let message = error.info();
    // The parser marks a tab found while scanning a plain scalar at the scalar's start (the line
    // before, for a tab used as indentation): point at the tab itself.
    let at = match (message.contains("tab"), text.get(at.start as usize..)) {
        (true, Some(rest)) if !rest.starts_with('\t') => match rest.find('\t') {
            Some(tab) => Span::new(at.start as usize + tab, at.start as usize + tab),
            None => at,
        },
        _ => at,
    };
    YamlError::Syntax { message, at }
}

/// Byte offset of a marker; granit gives it for `&str` input, the char index is the fallback.
fn byte(text: &str, marker: granit_parser::Marker) -> usize {
    marker
        .byte_offset()
        .unwrap_or_else(|| text.char_indices().nth(marker.index()).map_or(text.len(), |(b, _)| b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_plain_scalar_text_and_spans() {
        let text = "a: [1.10, \"x\"]\n";
        let root = parse(text).unwrap().unwrap();
        let NodeKind::Map(entries) = &root.kind else { panic!() };
        let NodeKind::Seq(items) = &entries[0].1.kind else { panic!() };
        assert_eq!(items[0].kind, NodeKind::Scalar("1.10".into(), Style::Plain));
        assert_eq!(&text[items[0].span.start as usize..items[0].span.end as usize], "1.10");
        assert_eq!(items[1].kind, NodeKind::Scalar("x".into(), Style::Quoted));
    }

    #[test]
    fn a_tab_used_as_indentation_is_reported_at_the_tab() {
        for ending in ["\n", "\r\n", "\r"] {
            let text = ["images:", "- name: foo", "\tdmap: {}", ""].join(ending);
            let Err(YamlError::Syntax { at, .. }) = parse(&text) else { panic!("{ending:?}") };
            let index = crate::source::LineIndex::new(&text);
            let p = index.position(&text, at.start);
            assert_eq!((p.line, p.column), (3, 1), "{ending:?}");
        }
    }

    fn keys_and_values(node: &Node<'_>) -> Vec<(String, String)> {
        let NodeKind::Map(entries) = &node.kind else { panic!("{node:?}") };
        entries
            .iter()
            .map(|(k, v)| (k.as_scalar().unwrap().to_owned(), v.as_scalar().unwrap_or("?").to_owned()))
            .collect()
    }

    #[test]
    fn merge_keys_merge_with_explicit_keys_first() {
        let text =
            "a: &a {x: 1, y: 2}\nb: &b {y: 3, z: 4}\nc: {<<: *a, x: 5}\nd: {<<: [*a, *b]}\ne: {'<<': *a}\n";
        let root = parse(text).unwrap().unwrap();
        let NodeKind::Map(entries) = &root.kind else { panic!() };
        let pairs =
            |l: &[(&str, &str)]| l.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        assert_eq!(keys_and_values(&entries[2].1), pairs(&[("y", "2"), ("x", "5")]));
        assert_eq!(keys_and_values(&entries[3].1), pairs(&[("x", "1"), ("y", "2"), ("z", "4")]));
        // A quoted `<<` is an ordinary key.
        let NodeKind::Map(quoted) = &entries[4].1.kind else { panic!() };
        assert_eq!(quoted.len(), 1);
        assert_eq!(quoted[0].0.as_scalar(), Some("<<"));
        assert!(matches!(quoted[0].1.kind, NodeKind::Map(_)));
    }

    #[test]
    fn a_merge_key_needs_mappings_and_stays_under_the_node_limit() {
        assert!(matches!(parse("a: {<<: 1}\n"), Err(YamlError::Syntax { .. })));
        assert!(matches!(parse("a: &a [1]\nb: {<<: *a}\n"), Err(YamlError::Syntax { .. })));
        let mut text =
            String::from("a: &a {k0: x, k1: x, k2: x, k3: x, k4: x, k5: x, k6: x, k7: x, k8: x, k9: x}\n");
        for i in 0..9 {
            let prev = if i == 0 { "a".to_string() } else { format!("b{}", i - 1) };
            let items: Vec<String> = (0..10).map(|j| format!("m{j}: {{<<: *{prev}}}")).collect();
            text.push_str(&format!("b{i}: &b{i} {{{}}}\n", items.join(", ")));
        }
        let result = parse(&text);
        assert!(matches!(result, Err(YamlError::Limit { limit: Limit::Nodes, .. })), "{result:?}");
    }

    #[test]
    fn keeps_duplicate_keys() {
        let root = parse("a: 1\na: 2\n").unwrap().unwrap();
        let NodeKind::Map(entries) = &root.kind else { panic!() };
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn alias_bomb_hits_the_node_limit() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = if i == 0 { "a".to_string() } else { format!("b{}", i - 1) };
            text.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let result = parse(&text);
        assert!(matches!(result, Err(YamlError::Limit { limit: Limit::Nodes, .. })), "{result:?}");
    }

    #[test]
    fn deep_nesting_hits_the_depth_limit() {
        for text in ["[".repeat(10_000), "- ".repeat(10_000), "{a: ".repeat(10_000)] {
            let result = parse(&text);
            assert!(matches!(result, Err(YamlError::Limit { limit: Limit::Depth, .. })), "{result:?}");
        }
    }

    #[test]
    fn a_second_document_is_refused_but_a_trailing_marker_is_not() {
        assert!(matches!(parse("a: 1\n---\nb: 2\n"), Err(YamlError::MultipleDocuments { .. })));
        assert!(parse("---\na: 1\n---\n").unwrap().is_some());
        assert!(parse("a: 1\n...\n").unwrap().is_some());
    }
}
