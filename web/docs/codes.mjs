// Generates the browser linter's codes page (dist/codes.html) at build time: one section per
// finding code, with its severity, what it means, an example and the fix. Nothing in it is
// written by hand, so it cannot drift from the engine:
//   - the codes, their severities and one-line docs come from the core's code list
//     (core/src/rules/code.rs, the `codes!` table the `Code` enum is generated from);
//   - the longer description is the README's code table row (a core test keeps that table and
//     the enum equal both ways);
//   - the example is a test vector (tests/vectors) holding a finding of that code: its input
//     around the finding, and the finding, help and fixes exactly as the engine reports them
//     (the vector runners check those bytes against the core, the CLI and both JS packages);
//     "after the fix" applies the fix's edits to the input.
// The build fails when the code list cannot be read, so a changed format is noticed.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

/** Lines of context shown around an example's finding. */
const CONTEXT = 2;

export function codesPage(repoRoot) {
  const codes = readCodes(path.join(repoRoot, "core/src/rules/code.rs"));
  const described = readReadmeTable(path.join(repoRoot, "README.md"));
  const vectors = readVectors(path.join(repoRoot, "tests/vectors"));
  const sections = codes.map((c) => section(c, described.get(c.name), example(c.name, vectors)));
  const nav = codes.map((c) => `<li><a href="#${c.name}"><code>${c.name}</code></a></li>`).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <meta http-equiv="Content-Security-Policy" content="default-src 'self'; style-src 'self'; img-src 'self' data:">
  <title>cip finding codes</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="style.css">
</head>
<body>
  <header class="bar"><h1>cip finding codes</h1><div class="actions"><a class="button" href="./">Back to the linter</a></div></header>
  <main class="codes">
    <p>Every code <code>cip lint</code>, <code>cip plan</code> and this page report, generated from the core's
      code list (${codes.length} codes). Examples are the project's test vectors, with the findings as the engine reports them.</p>
    <nav aria-label="Codes"><ul>
${nav}
    </ul></nav>
${sections.join("\n")}
  </main>
</body>
</html>
`;
}

/** [{name, severity, doc}] in the order of the core's `codes!` table. */
function readCodes(file) {
  const text = readFileSync(file, "utf8");
  const start = text.indexOf("codes! {");
  if (start < 0) throw new Error(`${file}: no \`codes! {\` table; update web/docs/codes.mjs to the new format`);
  const body = text.slice(start, text.indexOf("\n}", start));
  const codes = [];
  let doc = [];
  for (const line of body.split("\n").map((l) => l.trim())) {
    const comment = /^\/\/\/ ?(.*)$/.exec(line);
    const entry = /^([A-Z]\w*) = "([a-z0-9-]+)", (Error|Warning);$/.exec(line);
    if (comment) doc.push(comment[1]);
    else if (entry) {
      codes.push({ name: entry[2], severity: entry[3].toLowerCase(), doc: doc.join(" ") });
      doc = [];
    }
  }
  if (codes.length < 10) throw new Error(`${file}: read only ${codes.length} codes; update web/docs/codes.mjs to the new format`);
  return codes;
}

/**
 * code -> {severity, description} from the README's code tables (those whose header names the
 * columns `code`, `severity` and `meaning`; the first row naming a code wins).
 */
function readReadmeTable(file) {
  const out = new Map();
  const cells = (line) => line.slice(1, -1).split(" | ").map((c) => c.trim());
  let columns = null;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.startsWith("|-")) continue;
    if (!line.startsWith("| ") || !line.endsWith(" |")) {
      columns = null;
      continue;
    }
    const row = cells(line);
    if (row.includes("code") && row.includes("severity") && row.includes("meaning")) {
      columns = { code: row.indexOf("code"), severity: row.indexOf("severity"), meaning: row.indexOf("meaning"), width: row.length };
      continue;
    }
    if (!columns || row.length !== columns.width) continue;
    for (const [, code] of row[columns.code].matchAll(/`([a-z0-9-]+)`/g)) {
      if (!out.has(code)) out.set(code, { severity: row[columns.severity], description: row[columns.meaning] });
    }
  }
  return out;
}

/** Every vector case: {kind, name, dir, diagnostics, inputBytes}. */
function readVectors(root) {
  const out = [];
  for (const kind of ["lint", "plan"]) {
    const dir = path.join(root, kind);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const expected = path.join(dir, name, "expected.json");
      if (!existsSync(expected)) continue;
      const diagnostics = JSON.parse(readFileSync(expected, "utf8")).diagnostics ?? [];
      const input = path.join(dir, name, "input");
      out.push({ kind, name, dir: path.join(dir, name), diagnostics, inputBytes: existsSync(input) ? size(input) : 0 });
    }
  }
  return out;
}

/** The best vector for a code: named after it if one is, else the one with the smallest input. */
function example(code, vectors) {
  const rank = (v) => (v.name === code ? 0 : v.name.startsWith(code) ? 1 : 2);
  const found = vectors
    .filter((v) => v.diagnostics.some((d) => d.code === code))
    .sort((a, b) => rank(a) - rank(b) || a.inputBytes - b.inputBytes || (a.name < b.name ? -1 : 1));
  if (found.length === 0) return null;
  const v = found[0];
  // Prefer a finding of this code that has a fix, to show it.
  const mine = v.diagnostics.filter((d) => d.code === code);
  return { vector: v, finding: mine.find((d) => d.fixes?.length) ?? mine[0] };
}

function section(code, described, ex) {
  const parts = [
    `<section id="${code.name}" aria-labelledby="h-${code.name}">`,
    `<h2 id="h-${code.name}"><code>${code.name}</code> <span class="badge ${code.severity}">${code.severity}</span></h2>`,
    `<p>${inline(code.doc)}</p>`,
  ];
  if (described) parts.push(`<p>${inline(described.description)} <span class="muted">(${escape(described.severity)})</span></p>`);
  if (!ex) {
    parts.push(
      `<p class="muted">No test vector can hold an example of this code (it needs a file over the size limit or a path ` +
        `that cannot be read); see the README.</p>`,
    );
  } else {
    const { vector: v, finding: d } = ex;
    parts.push(`<h3>Example <span class="muted">(tests/vectors/${v.kind}/${v.name})</span></h3>`);
    const file = path.join(v.dir, d.file);
    const text = existsSync(file) && statSync(file).isFile() ? readFileSync(file) : null;
    if (text && d.span.end > d.span.start) parts.push(excerpt(text, d));
    else parts.push(`<pre tabindex="0">${escape(listing(path.join(v.dir, "input")).join("\n"))}</pre>`);
    parts.push(
      `<pre tabindex="0">${escape(`${d.file}:${d.line}:${d.column}: ${d.severity}[${d.code}]: ${d.message}`)}` +
        (d.labels ?? []).map((l) => escape(`\n  ${l.file}:${l.line}:${l.column}: ${l.message}`)).join("") +
        (d.help ? escape(`\n  help: ${d.help}`) : "") +
        `</pre>`,
    );
    parts.push("<h3>The fix</h3>");
    if (d.fixes?.length && text) {
      for (const f of d.fixes) {
        parts.push(`<p>${f.applicability === "safe" ? "Quick fix" : "Unsafe quick fix (review it)"}: ${escape(f.title)}</p>`);
        parts.push(afterFix(text, d, f));
      }
    } else {
      parts.push(`<p>${d.help ? escape(d.help) : "Correct the value the message names."}</p>`);
    }
  }
  parts.push("</section>");
  return parts.join("\n");
}

/** The lines around a finding, with the finding's span marked. */
function excerpt(bytes, d) {
  const before = bytes.subarray(0, d.span.start).toString("utf8");
  const marked = bytes.subarray(d.span.start, d.span.end).toString("utf8");
  const after = bytes.subarray(d.span.end).toString("utf8");
  return numbered(before, `<mark class="hl">${escape(marked)}</mark>`, after, d.line, d.endLine);
}

/** The same lines after applying a fix's edits (byte spans, applied from the end). */
function afterFix(bytes, d, fix) {
  const edits = fix.edits.filter((e) => e.file === d.file).sort((a, b) => b.span.start - a.span.start);
  let text = bytes;
  for (const e of edits) {
    text = Buffer.concat([text.subarray(0, e.span.start), Buffer.from(e.replacement), text.subarray(e.span.end)]);
  }
  const first = Math.min(...edits.map((e) => e.line));
  const start = edits.at(-1).span.start;
  const end = start + Buffer.byteLength(edits.at(-1).replacement);
  const before = text.subarray(0, start).toString("utf8");
  const changed = text.subarray(start, end).toString("utf8");
  const after = text.subarray(end).toString("utf8");
  return numbered(before, `<mark class="fixed">${escape(changed)}</mark>`, after, first, first);
}

// `before` + `middle` (already HTML) + `after`, cut to the lines around [line, endLine]. Digests
// outside the marked text show their first 12 hex digits, so the mark stays in view.
function numbered(before, middle, after, line, endLine) {
  const short = (text) => escape(text).replace(/sha256:([0-9a-f]{12})[0-9a-f]{52}/g, "sha256:$1…");
  const lines = (short(before) + middle + short(after)).split(/\r\n|\n|\r/);
  const from = Math.max(1, line - CONTEXT);
  const to = Math.min(lines.length, endLine + CONTEXT);
  const width = String(to).length;
  const out = [];
  for (let n = from; n <= to; n++) out.push(`${String(n).padStart(width)}  ${lines[n - 1]}`);
  return `<pre tabindex="0">${out.join("\n")}</pre>`;
}

function listing(dir, prefix = "input/") {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => (statSync(path.join(dir, f)).isDirectory() ? listing(path.join(dir, f), `${prefix}${f}/`) : [`${prefix}${f}`]));
}

function size(dir) {
  return readdirSync(dir).reduce((n, f) => {
    const p = path.join(dir, f);
    return n + (statSync(p).isDirectory() ? size(p) : statSync(p).size);
  }, 0);
}

/** Markdown and rustdoc inline code (`x`, [`x`]) as HTML. */
function inline(text) {
  return escape(text)
    .replace(/\[`([^`]+)`\]/g, "<code>$1</code>")
    .replace(/`([^`]+)`/g, "<code>$1</code>");
}

function escape(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
