//! A small YAML document tree with a byte span on every node, keys included, built from the
//! granit-parser event stream.
//!
//! Why not deserialize with serde: serde stops at the first error, while a linter must report every
//! finding of a file at once, point at both copies of a duplicated key, and keep the exact text of
//! plain scalars (`1.10` must stay `1.10`). The tree keeps the source text and style of every
//! scalar and leaves interpretation to the manifest reader. Resource limits (size, depth, alias
//! expansion) are enforced here so no input can hang or exhaust memory.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, ScanError};

use crate::source::Span;

/// Largest file the parser accepts. The Kubernetes production set is about 4 MiB in total.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Deepest nesting of collections. Manifests need 5 levels.
pub const MAX_DEPTH: usize = 64;
/// Most nodes one document may hold after alias expansion (an alias bomb stops here).
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
pub enum NodeKind {
    /// A scalar with its text (exactly as written for plain scalars) and style.
    Scalar(String, Style),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order (duplicates kept, so rules can report them).
    Map(Vec<(Node, Node)>),
}

/// A node and its byte span.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the node is written.
    pub span: Span,
    /// What it holds.
    pub kind: NodeKind,
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(text, _) => Some(text),
            _ => None,
        }
    }

    /// True for a plain `~`, `null`, `Null`, `NULL` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar(t, Style::Plain) if matches!(t.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// A short name of the node's type, for "expected a list, found a string" messages.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(..) if self.is_null() => "null",
            NodeKind::Scalar(..) => "scalar",
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
        /// Which limit and how to stay under it.
        message: String,
        /// Where the limit was hit.
        at: Span,
    },
    /// More than one YAML document in one file.
    #[error("a manifest file must hold one YAML document; a second one starts here")]
    MultipleDocuments {
        /// Start of the second document.
        at: Span,
    },
}

enum Frame {
    Seq { start: usize, anchor: usize, items: Vec<Node> },
    Map { start: usize, anchor: usize, entries: Vec<(Node, Node)>, key: Option<Node> },
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    root: Option<Node>,
}

/// Parses `text` into its single document's root node (`None` for an empty document).
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(YamlError::Limit {
            message: format!(
                "file is {} bytes, over the limit of {} bytes; split it into several manifests",
                text.len(),
                MAX_FILE_BYTES
            ),
            at: Span::new(0, 0),
        });
    }
    let mut builder = Builder { stack: Vec::new(), anchors: HashMap::new(), nodes: 0, root: None };
    let mut documents = 0;
    for next in Parser::new_from_str(text) {
        let (event, span) = next.map_err(|e| syntax_error(text, &e))?;
        let at = Span::new(byte(text, span.start), byte(text, span.end));
        match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError::MultipleDocuments { at });
                }
            }
            Event::Scalar(value, style, anchor, _) => {
                let style = if style == ScalarStyle::Plain { Style::Plain } else { Style::Quoted };
                builder
                    .complete(Node { span: at, kind: NodeKind::Scalar(value.into_owned(), style) }, anchor)?;
            }
            Event::SequenceStart(_, anchor, _) => {
                builder.open(Frame::Seq { start: at.start as usize, anchor, items: Vec::new() }, at)?
            }
            Event::MappingStart(_, anchor, _) => {
                builder.open(
                    Frame::Map { start: at.start as usize, anchor, entries: Vec::new(), key: None },
                    at,
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close(at)?,
            Event::Alias(id) => builder.alias(id, at)?,
            _ => {}
        }
    }
    Ok(builder.root)
}

impl Builder {
    fn open(&mut self, frame: Frame, at: Span) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError::Limit {
                message: format!("nesting is deeper than {MAX_DEPTH} levels; a manifest needs 5"),
                at,
            });
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, at: Span) -> Result<(), YamlError> {
        let (node, anchor) = match self.stack.pop() {
            Some(Frame::Seq { start, anchor, items }) => {
                (Node { span: Span::new(start, at.end as usize), kind: NodeKind::Seq(items) }, anchor)
            }
            Some(Frame::Map { start, anchor, entries, .. }) => {
                (Node { span: Span::new(start, at.end as usize), kind: NodeKind::Map(entries) }, anchor)
            }
            None => return Ok(()),
        };
        self.complete(node, anchor)
    }

    fn alias(&mut self, id: usize, at: Span) -> Result<(), YamlError> {
        let Some((node, size)) = self.anchors.get(&id) else {
            return Err(YamlError::Syntax { message: "alias refers to an unknown anchor".into(), at });
        };
        let (node, size) = (node.clone(), *size);
        // Aliases are expanded, so their size counts again: this is what stops alias bombs.
        self.charge(size, at)?;
        self.attach(node);
        Ok(())
    }

    fn complete(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        let added = match &node.kind {
            NodeKind::Scalar(..) => 1,
            _ => 1,
        };
        self.charge(added, node.span)?;
        if anchor != 0 {
            let size = node.count();
            self.anchors.insert(anchor, (node.clone(), size));
        }
        self.attach(node);
        Ok(())
    }

    fn charge(&mut self, nodes: usize, at: Span) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_NODES {
            return Err(YamlError::Limit {
                message: format!(
                    "document expands to more than {MAX_NODES} nodes (aliases are expanded); remove the aliases or split the file"
                ),
                at,
            });
        }
        Ok(())
    }

    fn attach(&mut self, node: Node) {
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

fn syntax_error(text: &str, error: &ScanError) -> YamlError {
    let at = byte(text, *error.marker());
    let at = Span::new(at, at);
    if matches!(error.kind(), granit_parser::ErrorKind::RecursionLimitExceeded) {
        return YamlError::Limit {
            message: format!("nesting is deeper than the parser allows; a manifest needs 5 levels"),
            at,
        };
    }
    YamlError::Syntax { message: error.info(), at }
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
    fn alias_bomb_hits_the_node_limit() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = if i == 0 { "a".to_string() } else { format!("b{}", i - 1) };
            text.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(matches!(parse(&text), Err(YamlError::Limit { .. })));
    }

    #[test]
    fn deep_nesting_hits_the_depth_limit() {
        let text = "[".repeat(10_000);
        let result = parse(&text);
        assert!(matches!(result, Err(YamlError::Limit { .. })), "{result:?}");
    }
}
