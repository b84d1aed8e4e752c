// A plain textarea with a line-number gutter, severity markers on offending lines and a line
// highlight. Lines never wrap, so line N sits at a fixed offset and markers line up.

export class Editor {
  constructor({ textarea, gutter, highlight }) {
    this.textarea = textarea;
    this.gutter = gutter;
    this.highlight = highlight;
    this.lineCount = 0;
    this.marks = new Map();
    this.highlightLine = 0;
    textarea.addEventListener("scroll", () => this.#syncScroll());
    textarea.addEventListener("input", () => this.#renderGutterIfLinesChanged());
  }

  get text() {
    return this.textarea.value;
  }

  set text(value) {
    this.textarea.value = value;
    this.textarea.scrollTop = 0;
    this.textarea.scrollLeft = 0;
    this.highlightAt(0);
    this.#renderGutter();
  }

  /** Sets the gutter markers: Map<line, "error"|"warning"> (errors win on shared lines). */
  setMarks(marks) {
    this.marks = marks;
    this.#renderGutter();
  }

  /**
   * Selects the range of a diagnostic (1-based lines, 1-based UTF-16 columns, exclusive end),
   * scrolls it into view and highlights its line.
   */
  reveal({ line, columnUtf16, endLine, endColumnUtf16 }) {
    const start = this.#offset(line, columnUtf16);
    const end = Math.max(start, this.#offset(endLine, endColumnUtf16));
    const lineHeight = this.#lineHeight();
    const visible = this.textarea.clientHeight;
    this.textarea.focus({ preventScroll: true });
    this.textarea.setSelectionRange(start, end);
    this.textarea.scrollTop = Math.max(0, (line - 1) * lineHeight - visible / 3);
    this.highlightAt(line);
  }

  /** Highlights line `line` (0 clears). */
  highlightAt(line) {
    this.highlightLine = line;
    this.highlight.hidden = line === 0;
    this.highlight.dataset.line = String(line);
    this.#syncScroll();
  }

  // UTF-16 offset of a 1-based line and column, clamped to the text.
  #offset(line, column) {
    const text = this.textarea.value;
    let at = 0;
    for (let l = 1; l < line; l++) {
      const next = text.indexOf("\n", at);
      if (next < 0) return text.length;
      at = next + 1;
    }
    const lineEnd = text.indexOf("\n", at);
    const limit = lineEnd < 0 ? text.length : lineEnd;
    return Math.min(at + Math.max(0, column - 1), limit);
  }

  #lineHeight() {
    return parseFloat(getComputedStyle(this.textarea).lineHeight) || 20;
  }

  #syncScroll() {
    this.gutter.scrollTop = this.textarea.scrollTop;
    if (this.highlightLine > 0) {
      const padding = parseFloat(getComputedStyle(this.textarea).paddingTop) || 0;
      const top = padding + (this.highlightLine - 1) * this.#lineHeight() - this.textarea.scrollTop;
      this.highlight.style.top = `${top}px`;
    }
  }

  #renderGutterIfLinesChanged() {
    if (countLines(this.textarea.value) !== this.lineCount) this.#renderGutter();
  }

  // One text node per run of unmarked lines and one span per marked line keeps this cheap even
  // for files with tens of thousands of lines.
  #renderGutter() {
    this.lineCount = countLines(this.textarea.value);
    const frag = document.createDocumentFragment();
    let run = [];
    const flush = () => {
      if (run.length) frag.append(document.createTextNode(run.join("")));
      run = [];
    };
    for (let line = 1; line <= this.lineCount; line++) {
      const mark = this.marks.get(line);
      if (mark) {
        flush();
        const span = document.createElement("span");
        span.className = `mark-${mark}`;
        span.dataset.line = String(line);
        span.textContent = `${line}`;
        frag.append(span, "\n");
      } else {
        run.push(`${line}\n`);
      }
    }
    // Room to scroll the gutter as far as the textarea's horizontal scrollbar allows.
    run.push("\n\n");
    flush();
    this.gutter.replaceChildren(frag);
    this.#syncScroll();
  }
}

function countLines(text) {
  let n = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}
