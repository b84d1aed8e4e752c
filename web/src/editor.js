// The manifest editor: CodeMirror 6 (virtualised, so a 4 MB file costs what its visible lines
// cost) with YAML highlighting, line numbers, squiggles at the findings' exact spans (UTF-16
// columns, which are CodeMirror's offsets), secondary locations marked, a hover card per finding,
// and quick fixes applied as one undoable change.
//
// Findings arrive from the worker for the text as it was when the lint started; meanwhile the
// user may have typed on. Each lint therefore starts from a `Snapshot` (the immutable document
// plus every change made since), and positions are computed in the snapshot's document and
// mapped through those changes, so squiggles and fixes land where the text now is.
import { ChangeSet, Compartment, EditorSelection, EditorState, StateEffect, StateField } from "@codemirror/state";
import {
  Decoration,
  EditorView,
  crosshairCursor,
  drawSelection,
  dropCursor,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { lintGutter, lintKeymap, setDiagnostics } from "@codemirror/lint";
import { yaml } from "@codemirror/lang-yaml";
import { classHighlighter } from "@lezer/highlight";
import { LARGE_DOCUMENT, largeYaml } from "./large-yaml.js";

/** The YAML parser for ordinary files, the visible-lines highlighter for large ones. */
const highlighting = (length) => (length > LARGE_DOCUMENT ? largeYaml : yaml());

/** Squiggles drawn per file at most; the findings list says how many there are in all. */
export const MAX_MARKED = 5000;

/** Secondary locations of the findings ("first listed here"), mapped through edits. */
const setLabels = StateEffect.define();
const labelField = StateField.define({
  create: () => Decoration.none,
  update(labels, tr) {
    labels = labels.map(tr.changes);
    for (const e of tr.effects) if (e.is(setLabels)) labels = e.value;
    return labels;
  },
  provide: (f) => EditorView.decorations.from(f),
});

export class Editor {
  /**
   * @param parent the element the editor goes in
   * @param onEdit called after every change of the document by the user or a fix
   * @param describe (diagnostic) => Node rendered in the hover card of a squiggle
   */
  constructor({ parent, onEdit, describe, label }) {
    this.onEdit = onEdit;
    this.describe = describe;
    this.snapshots = new Set();
    this.basis = null;
    this.language = new Compartment();
    const trackChanges = EditorView.updateListener.of((update) => {
      if (!update.docChanged) return;
      // A paste can make a small file large (or a deletion a large one small).
      const large = update.state.doc.length > LARGE_DOCUMENT;
      if (large !== update.startState.doc.length > LARGE_DOCUMENT) {
        queueMicrotask(() => this.view.dispatch({ effects: this.language.reconfigure(highlighting(this.view.state.doc.length)) }));
      }
      for (const s of this.snapshots) s.changes = s.changes.compose(update.changes);
      this.onEdit();
    });
    this.extensions = [
      lineNumbers(),
      highlightActiveLineGutter(),
      highlightSpecialChars(),
      history(),
      drawSelection(),
      dropCursor(),
      EditorState.allowMultipleSelections.of(true),
      indentOnInput(),
      syntaxHighlighting(classHighlighter),
      bracketMatching(),
      rectangularSelection(),
      crosshairCursor(),
      highlightActiveLine(),
      highlightSelectionMatches(),
      keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, ...lintKeymap, indentWithTab]),
      lintGutter(),
      labelField,
      trackChanges,
      EditorState.tabSize.of(2),
      // An explicit tabindex: axe-core counts the editable content as the scroller's focusable content.
      EditorView.contentAttributes.of({ "aria-label": label, tabindex: "0" }),
    ];
    // CodeMirror adds its base styles as a <style> element to a document, which the page's CSP
    // (styles from this origin only) refuses; in a shadow root it uses constructed style sheets.
    const root = parent.attachShadow({ mode: "open" });
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = new URL("./editor.css", import.meta.url).href;
    const host = document.createElement("div");
    host.className = "host";
    root.append(link, host);
    this.view = new EditorView({ parent: host, root, state: this.#state("") });
  }

  #state(text) {
    // Keep a file's CRLF line breaks: the engine lints the text as it is on disk.
    const crlf = text.includes("\r\n") && !/(^|[^\r])\n/.test(text);
    return EditorState.create({
      doc: text,
      extensions: [
        this.extensions,
        this.language.of(highlighting(text.length)),
        crlf ? EditorState.lineSeparator.of("\r\n") : [],
      ],
    });
  }

  /** The whole text (joins the document: call it when needed, not on every keystroke). */
  get text() {
    return this.view.state.doc.toString();
  }

  /** Replaces the document (a new file): no undo history, no findings, scrolled to the top. */
  setText(text) {
    this.view.setState(this.#state(text));
    for (const s of this.snapshots) s.stale = true;
    this.snapshots.clear();
    this.basis = this.snapshot();
  }

  /**
   * The document now, kept up to date with later edits until `release()`: positions computed
   * in `doc` map to the current text through `changes`.
   */
  snapshot() {
    const doc = this.view.state.doc;
    const snap = { doc, changes: ChangeSet.empty(doc.length), stale: false, release: () => this.snapshots.delete(snap) };
    this.snapshots.add(snap);
    return snap;
  }

  /**
   * Shows the findings of the open file, computed for `snap`'s text: squiggles with hover cards
   * and quick-fix actions, gutter markers, and their labels marked. `actionsOf(d)` gives the
   * hover card's actions of a finding.
   */
  setFindings(diagnostics, snap, actionsOf) {
    if (snap.stale) return;
    if (this.basis && this.basis !== snap) this.basis.release();
    this.basis = snap;
    const marks = [];
    const labels = [];
    for (const d of diagnostics.slice(0, MAX_MARKED)) {
      const { from, to } = this.rangeOf(snap, d);
      marks.push({
        from,
        to,
        severity: d.severity,
        source: d.code,
        message: d.message,
        markClass: `cm-cip-${d.code}`,
        renderMessage: () => this.describe(d),
        actions: actionsOf(d),
      });
      for (const l of d.labels ?? []) {
        if (l.file !== d.file) continue;
        const r = this.rangeOf(snap, l);
        if (r.to <= r.from) continue;
        labels.push(
          Decoration.mark({
            class: "cm-cip-label",
            attributes: { title: `${l.message} (${d.code}: ${d.message})`, "data-label": l.message },
          }).range(r.from, r.to),
        );
      }
    }
    const state = this.view.state;
    const spec = setDiagnostics(state, marks);
    this.view.dispatch({
      ...spec,
      effects: [...[spec.effects ?? []].flat(), setLabels.of(Decoration.set(labels, true))],
    });
  }

  /** The current range of a location (1-based line and UTF-16 columns, exclusive end) of `snap`. */
  rangeOf(snap, at) {
    const from = offset(snap.doc, at.line, at.columnUtf16);
    const to = Math.max(from, offset(snap.doc, at.endLine ?? at.line, at.endColumnUtf16 ?? at.columnUtf16));
    const start = snap.changes.mapPos(from, 1);
    return { from: start, to: Math.max(start, snap.changes.mapPos(to, -1)) };
  }

  /**
   * Selects a location of the last findings and scrolls it into view both ways (a tag at column
   * 120 scrolls the editor sideways), then focuses the editor.
   */
  reveal(at) {
    const snap = this.basis ?? this.snapshot();
    const { from, to } = this.rangeOf(snap, at);
    this.view.dispatch({
      selection: EditorSelection.single(from, to),
      effects: EditorView.scrollIntoView(EditorSelection.range(from, to), { y: "center", x: "center" }),
    });
    this.view.focus();
  }

  /** Applies the edits of one fix (locations of the last findings) as one undoable change. */
  applyEdits(edits) {
    const snap = this.basis ?? this.snapshot();
    const changes = edits.map((e) => ({ ...this.rangeOf(snap, e), insert: e.replacement }));
    this.view.dispatch({ changes, userEvent: "input.fix", scrollIntoView: true });
    this.view.focus();
  }
}

/** The offset of a 1-based line and UTF-16 column in `doc`, clamped to the line. */
function offset(doc, line, column) {
  if (line > doc.lines) return doc.length;
  const l = doc.line(Math.max(1, line));
  return Math.min(l.from + Math.max(0, column - 1), l.to);
}
