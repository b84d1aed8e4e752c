// YAML highlighting for large documents (over LARGE_DOCUMENT characters): only the visible
// lines are coloured, line by line, with the same token classes as the full parser's
// (`tok-*`, @lezer/highlight's classHighlighter), so both look alike.
//
// Why not the full parser there: after every edit CodeMirror's YAML parser (lezer) re-parses from
// the edit to 100,000 characters past the viewport on the main thread. In the 4 MB,
// 45,000-digest manifest that is 15-20 ms per keystroke on an idle machine and 60-85 ms tasks
// under load, which alone breaks the page's budget (no main-thread task over 100 ms, findings
// within 400 ms). Highlighting the visible lines costs the same for any file size; what is lost
// is only what needs the whole tree (folding, bracket matching across lines), which the linter
// does not use. Editors do the same for big files (VS Code limits tokenization by size).
import { RangeSetBuilder } from "@codemirror/state";
import { Decoration, ViewPlugin } from "@codemirror/view";

/** Documents larger than this many characters get the line highlighter. */
export const LARGE_DOCUMENT = 1_000_000;

const mark = (cls) => Decoration.mark({ class: cls });
const KEY = mark("tok-propertyName tok-definition");
const STRING = mark("tok-string");
const NUMBER = mark("tok-number");
const ATOM = mark("tok-bool");
const COMMENT = mark("tok-comment");
const PUNCT = mark("tok-punctuation");

/** [from, to, decoration] tokens of one YAML line (offsets in the line). */
export function lineTokens(text) {
  const out = [];
  let i = 0;
  const n = text.length;
  while (i < n && text[i] === " ") i++;
  // A key: `key:` or `"key":` at the start of the line (after `- `).
  const key = /^(?:-\s+)?("(?:[^"\\]|\\.)*"|'[^']*'|[^\s"'#\-[{][^:#]*?)\s*:(?=\s|$)/.exec(text.slice(i));
  if (key) {
    const start = i + key[0].indexOf(key[1]);
    if (text[i] === "-") out.push([i, i + 1, PUNCT]);
    out.push([start, start + key[1].length, /^["']/.test(key[1]) ? STRING : KEY]);
    i += key[0].length;
  }
  while (i < n) {
    const c = text[i];
    if (c === " ") i++;
    else if (c === "#") {
      out.push([i, n, COMMENT]);
      break;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== c) j += c === '"' && text[j] === "\\" ? 2 : 1;
      j = Math.min(n, j + 1);
      out.push([i, j, STRING]);
      i = j;
    } else if ("-[]{},:".includes(c)) {
      out.push([i, i + 1, PUNCT]);
      i++;
    } else {
      let j = i;
      while (j < n && !" ,[]{}#".includes(text[j])) j++;
      const word = text.slice(i, j);
      if (/^[-+]?(\d[\d_]*)(\.\d+)*([eE][-+]?\d+)?$/.test(word)) out.push([i, j, NUMBER]);
      else if (/^(true|false|null|True|False|Null|TRUE|FALSE|NULL|~)$/.test(word)) out.push([i, j, ATOM]);
      i = Math.max(j, i + 1);
    }
  }
  return out;
}

function decorate(view) {
  const builder = new RangeSetBuilder();
  for (const { from, to } of view.visibleRanges) {
    for (let pos = from; pos <= to; ) {
      const line = view.state.doc.lineAt(pos);
      for (const [a, b, deco] of lineTokens(line.text)) if (b > a) builder.add(line.from + a, line.from + b, deco);
      pos = line.to + 1;
    }
  }
  return builder.finish();
}

/** The extension: decorations for the visible lines, recomputed when they or the text change. */
export const largeYaml = ViewPlugin.fromClass(
  class {
    constructor(view) {
      this.decorations = decorate(view);
    }
    update(update) {
      if (update.docChanged || update.viewportChanged) this.decorations = decorate(update.view);
    }
  },
  { decorations: (v) => v.decorations },
);
