//! Source files handed to the core, byte spans into them, and the line index that turns byte
//! offsets into 1-based line/column positions (in characters and in UTF-16 code units, the unit
//! browser editors count in).

use serde::{Deserialize, Serialize};

/// One input file: a path (as the caller names it, used in diagnostics) and its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// Path as shown to users, with `/` separators.
    pub path: String,
    /// Full UTF-8 text of the file.
    pub text: String,
}

impl SourceFile {
    /// Builds a source file from a path and its text.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        Self { path: path.into(), text: text.into() }
    }
}

/// Half-open byte range into a file's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets (saturating at `u32::MAX`; inputs are capped far below that).
    pub fn new(start: usize, end: usize) -> Self {
        let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Self { start: clamp(start), end: clamp(end.max(start)) }
    }
}

/// A resolved position: 1-based line, 1-based column in characters and in UTF-16 units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column counted in Unicode scalar values.
    pub column: u32,
    /// 1-based column counted in UTF-16 code units.
    pub column_utf16: u32,
}

/// Start offsets of every line of a text, for offset -> position lookups.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    /// Indexes the line starts of `text`. Lines end at `\n`, `\r\n` or a lone `\r` (as YAML
    /// reads them); a leading byte order mark is not part of line 1's columns.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0u32];
        let bytes = text.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let ends_line = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            if ends_line {
                starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
        Self { starts }
    }

    /// Where the columns of line `line` (0-based) start: after a byte order mark on line 1.
    fn column_start(&self, text: &str, line: usize) -> usize {
        let start = self.starts[line] as usize;
        if line == 0 && text.starts_with('\u{feff}') { start + '\u{feff}'.len_utf8() } else { start }
    }

    /// Position of byte `offset` in `text` (clamped to the text, snapped to a char boundary).
    pub fn position(&self, text: &str, offset: u32) -> Position {
        let mut offset = (offset as usize).min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s as usize <= offset) - 1;
        let prefix = text.get(self.column_start(text, line)..offset).unwrap_or("");
        let (chars, utf16) = if prefix.is_ascii() {
            (prefix.len(), prefix.len())
        } else {
            (prefix.chars().count(), prefix.encode_utf16().count())
        };
        let as_u32 = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Position { line: as_u32(line + 1), column: as_u32(chars + 1), column_utf16: as_u32(utf16 + 1) }
    }

    /// The text of 1-based line `line`, without its line break.
    pub fn line_text<'t>(&self, text: &'t str, line: u32) -> &'t str {
        let i = (line.max(1) - 1) as usize;
        if i >= self.starts.len() {
            return "";
        }
        let start = self.column_start(text, i);
        let end = self.starts.get(i + 1).map_or(text.len(), |&e| e as usize);
        text[start..end.max(start)].trim_end_matches(['\n', '\r'])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_chars_and_utf16_units() {
        let text = "a: 1\nb: \"é𝄞x\"\n";
        let index = LineIndex::new(text);
        assert_eq!(index.position(text, 0), Position { line: 1, column: 1, column_utf16: 1 });
        let x = text.find('x').unwrap() as u32;
        let p = index.position(text, x);
        assert_eq!((p.line, p.column, p.column_utf16), (2, 7, 8));
        assert_eq!(index.line_text(text, 2), "b: \"é𝄞x\"");
    }

    /// (line, column) of the first `x` of each line, and each line's text, in `text`.
    fn lines_of(text: &str) -> Vec<(u32, u32, String)> {
        let index = LineIndex::new(text);
        text.match_indices('x')
            .map(|(at, _)| {
                let p = index.position(text, at as u32);
                (p.line, p.column, index.line_text(text, p.line).to_owned())
            })
            .collect()
    }

    #[test]
    fn positions_for_every_line_ending_with_and_without_a_bom() {
        let want = vec![(1, 4, "a: x".to_owned()), (2, 1, "x: 1".to_owned()), (3, 3, "  x".to_owned())];
        for ending in ["\n", "\r\n", "\r"] {
            let text = format!("a: x{ending}x: 1{ending}  x{ending}");
            let got = lines_of(&text);
            assert_eq!(got, want, "{ending:?}");
            let with_bom = format!("\u{feff}{text}");
            let got = lines_of(&with_bom);
            // The BOM is not shown by editors: line 1's columns and text start after it.
            assert_eq!(got, want, "BOM + {ending:?}");
        }
    }

    #[test]
    fn a_bom_is_not_counted_in_utf16_columns_either() {
        let text = "\u{feff}é: x\n";
        let index = LineIndex::new(text);
        let p = index.position(text, text.find('x').unwrap() as u32);
        assert_eq!((p.line, p.column, p.column_utf16), (1, 4, 4));
        assert_eq!(index.position(text, 0).column, 1);
    }
}
