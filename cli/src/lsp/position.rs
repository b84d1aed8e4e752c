//! Positions between the editor and the core: the negotiated encoding of LSP `character` offsets
//! (UTF-16 code units by default, UTF-8 bytes when the client offers it), byte offsets into a
//! document, and core [`Location`]s (whose UTF-16 columns the diagnostics already carry) to LSP
//! ranges. Lines end at `\n`, `\r\n` or a lone `\r`, as the core's line index counts them.

use cip_core::{Files, Location};
use lsp_types::{Position, Range};

/// How `Position.character` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// UTF-16 code units (the LSP default).
    Utf16,
    /// UTF-8 bytes.
    Utf8,
}

/// Byte offsets of the line starts of a text.
pub(crate) fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            starts.push(i + 1);
        }
    }
    starts
}

impl Encoding {
    /// The byte offset of `position` in `text` (clamped to the line and the text).
    pub(crate) fn offset(self, text: &str, starts: &[usize], position: Position) -> usize {
        let Some(&start) = starts.get(position.line as usize) else { return text.len() };
        let end = starts.get(position.line as usize + 1).copied().unwrap_or(text.len());
        let line = text[start..end].trim_end_matches(['\n', '\r']);
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if units >= position.character {
                return start + i;
            }
            units += match self {
                Encoding::Utf16 => c.len_utf16() as u32,
                Encoding::Utf8 => c.len_utf8() as u32,
            };
        }
        start + line.len()
    }

    /// The LSP position of byte `offset` in `text`.
    pub(crate) fn position(self, text: &str, starts: &[usize], offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = starts.partition_point(|&s| s <= offset) - 1;
        let prefix = &text[starts[line]..offset];
        let character = match self {
            Encoding::Utf16 => prefix.encode_utf16().count(),
            Encoding::Utf8 => prefix.len(),
        };
        Position::new(line as u32, character as u32)
    }

    /// The range of a core location. UTF-16 uses the location's own UTF-16 columns; UTF-8
    /// counts the bytes of the line before each character column.
    pub(crate) fn range(self, files: &Files, location: &Location) -> Range {
        let id = files.find(&location.file);
        let column = |line: u32, chars: u32, utf16: u32| match (self, id) {
            (Encoding::Utf16, _) | (Encoding::Utf8, None) => utf16.saturating_sub(1),
            (Encoding::Utf8, Some(id)) => {
                let text = files.line_text(id, line);
                let bytes: usize =
                    text.chars().take(chars.saturating_sub(1) as usize).map(char::len_utf8).sum();
                bytes as u32
            }
        };
        Range::new(
            Position::new(
                location.line.saturating_sub(1),
                column(location.line, location.column, location.column_utf16),
            ),
            Position::new(
                location.end_line.saturating_sub(1),
                column(location.end_line, location.end_column, location.end_column_utf16),
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_positions_round_trip_in_both_encodings() {
        let text = "a: 1\r\nb: \"é𝄞x\"\rc\n";
        let starts = line_starts(text);
        assert_eq!(starts, vec![0, 6, 19, 21]);
        let x = text.find('x').unwrap();
        let utf16 = Encoding::Utf16.position(text, &starts, x);
        assert_eq!(utf16, Position::new(1, 7));
        assert_eq!(Encoding::Utf16.offset(text, &starts, utf16), x);
        let utf8 = Encoding::Utf8.position(text, &starts, x);
        assert_eq!(utf8, Position::new(1, 10));
        assert_eq!(Encoding::Utf8.offset(text, &starts, utf8), x);
        // Past the end of a line: the line's end, before its break.
        assert_eq!(Encoding::Utf16.offset(text, &starts, Position::new(0, 99)), 4);
        assert_eq!(Encoding::Utf16.offset(text, &starts, Position::new(9, 0)), text.len());
    }
}
