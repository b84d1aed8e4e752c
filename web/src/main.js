// The browser linter page: holds the open files, lints them in the worker as the user types,
// renders the summary, the diagnostics (click to jump) and the plan for a loaded inventory.
// All checking happens in the wasm engine; this file only moves data between it and the DOM.
import { Engine, Debouncer } from "./engine.js";
import { Editor } from "./editor.js";
import { fromDataTransfer, fromFileList } from "./files.js";
import { renderPlan } from "./plan-view.js";

const $ = (id) => document.getElementById(id);

/** Diagnostics rendered at once; more would only slow the page without helping anyone. */
const MAX_LISTED = 500;

const SAMPLE = `# A promoter manifest: images are pinned by digest and promoted to every non-src registry.
registries:
  - name: gcr.io/example-staging
    src: true
  - name: us-docker.pkg.dev/example-prod/images
images:
  - name: app
    dmap:
      "sha256:0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000": ["v1.0.0"]
`;

const state = {
  /** The name of the file the user types into: the engine's name for a lone manifest text
   * (`defaultFileName()`), asked once the engine has started. */
  scratch: undefined,
  files: {},
  current: undefined,
  report: null,
  generation: 0,
};

const engine = new Engine();
const editor = new Editor({ textarea: $("source"), gutter: $("gutter"), highlight: $("highlight") });
const linter = new Debouncer(runLint, 200);
const planner = new Debouncer(runPlan, 300);

// Exposed for the browser tests and the benchmark; not an API.
window.cipApp = { engine, state, editor };

start();

async function start() {
  wireEvents();
  try {
    const [version, scratch] = await Promise.all([engine.call("version"), engine.call("defaultFileName")]);
    $("version").textContent = `v${version.result}`;
    state.scratch = scratch.result;
  } catch (err) {
    setStatus(`The linter could not start: ${err.message}`, true);
    return;
  }
  // Unless the user opened or dropped files while the engine started.
  if (state.current === undefined) {
    state.files = { [state.scratch]: editor.text || SAMPLE };
    showFiles(state.files, state.scratch);
  }
  linter.request(true);
}

function wireEvents() {
  $("source").addEventListener("input", () => {
    if (state.current === undefined) return; // typed before the engine started: start() keeps it
    state.files[state.current] = editor.text;
    linter.request();
  });
  $("file-select").addEventListener("change", (e) => openFile(e.target.value));
  $("open-files").addEventListener("change", async (e) => {
    await loadFiles(await fromFileList(e.target.files));
    e.target.value = "";
  });
  $("open-folder").addEventListener("change", async (e) => {
    await loadFiles(await fromFileList(e.target.files));
    e.target.value = "";
  });
  $("new-file").addEventListener("click", () => {
    if (state.scratch === undefined) return; // the engine has not started
    loadFiles({ [state.scratch]: "" });
    $("source").focus();
  });
  $("inventory").addEventListener("input", () => planner.request());
  $("open-inventory").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (file) {
      $("inventory").value = await file.text();
      planner.request(true);
    }
    e.target.value = "";
  });
  $("clear-inventory").addEventListener("click", () => {
    $("inventory").value = "";
    planner.request(true);
  });
  wireDrop();
}

function wireDrop() {
  const overlay = $("drop-overlay");
  let depth = 0;
  window.addEventListener("dragenter", (e) => {
    e.preventDefault();
    depth++;
    overlay.hidden = false;
  });
  window.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) overlay.hidden = true;
  });
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", async (e) => {
    e.preventDefault();
    depth = 0;
    overlay.hidden = true;
    const files = await fromDataTransfer(e.dataTransfer);
    if (Object.keys(files).length) await loadFiles(files);
    else setStatus("Nothing to lint in the drop: expected .yaml manifests or a thin-manifest folder.", true);
  });
}

/** Replaces the open files with a new set and lints it at once. */
async function loadFiles(files) {
  if (Object.keys(files).length === 0) {
    setStatus("No manifest files found (a folder contributes promoter-manifest.yaml and images.yaml files).", true);
    return;
  }
  state.files = files;
  showFiles(files, Object.keys(files)[0]);
  linter.request(true);
}

function showFiles(files, current) {
  const select = $("file-select");
  const paths = Object.keys(files);
  select.replaceChildren(...paths.map((p) => new Option(p, p)));
  $("file-count").textContent = paths.length === 1 ? "1 file" : `${paths.length} files`;
  openFile(current);
}

function openFile(path) {
  state.current = path;
  $("file-select").value = path;
  editor.text = state.files[path] ?? "";
  markGutter();
}

async function runLint() {
  const generation = ++state.generation;
  setStatus("Linting…");
  try {
    const { result, ms } = await engine.call("lint", state.files);
    if (generation !== state.generation) return;
    state.report = result;
    renderReport(result, ms);
    if ($("inventory").value.trim()) planner.request(true);
  } catch (err) {
    setStatus(err.message, true);
  }
}

function renderReport(report, ms) {
  const s = report.summary;
  for (const dd of document.querySelectorAll("#summary dd")) dd.textContent = String(s[dd.dataset.key]);
  const count = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  setStatus(
    `${count(s.errors, "error")}, ${count(s.warnings, "warning")} in ${count(s.manifests, "manifest")} ` +
      `(linted in ${ms.toFixed(1)} ms)`,
    false,
  );
  renderDiagnostics(report.diagnostics);
  markGutter();
}

function renderDiagnostics(diagnostics) {
  const list = $("diagnostics");
  const items = diagnostics.slice(0, MAX_LISTED).map((d, index) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = d.severity;
    button.dataset.index = String(index);
    button.dataset.line = String(d.line);
    button.dataset.code = d.code;
    button.append(
      el("span", `badge ${d.severity}`, d.severity),
      " ",
      el("span", "diag-code", d.code),
      el("span", "diag-where", `${d.file}:${d.line}:${d.column}`),
      el("span", "diag-message", d.message),
    );
    if (d.help) button.append(el("span", "diag-help", d.help));
    button.addEventListener("click", () => jumpTo(d, button));
    li.append(button);
    return li;
  });
  if (diagnostics.length === 0) items.push(el("li", "muted", "No findings."));
  list.replaceChildren(...items);
  const more = $("diagnostics-more");
  more.hidden = diagnostics.length <= MAX_LISTED;
  more.textContent = `Showing the first ${MAX_LISTED} of ${diagnostics.length} findings.`;
}

function jumpTo(diagnostic, button) {
  for (const b of document.querySelectorAll("#diagnostics button[aria-current]")) b.removeAttribute("aria-current");
  button.setAttribute("aria-current", "true");
  // A finding may point at a folder or a missing file (thin layout findings): nothing to show.
  if (!(diagnostic.file in state.files)) return;
  if (diagnostic.file !== state.current) openFile(diagnostic.file);
  editor.reveal(diagnostic);
}

/** Gutter markers for the open file: errors win over warnings on a shared line. */
function markGutter() {
  const marks = new Map();
  for (const d of state.report?.diagnostics ?? []) {
    if (d.file !== state.current) continue;
    if (marks.get(d.line) !== "error") marks.set(d.line, d.severity);
  }
  editor.setMarks(marks);
}

async function runPlan() {
  const text = $("inventory").value.trim();
  const status = $("plan-status");
  status.classList.remove("error");
  if (!text) {
    status.textContent = "";
    $("plan-output").replaceChildren();
    return;
  }
  try {
    const { result } = await engine.call("plan", state.files, text, {});
    status.textContent = `${result.actions.length} actions, ${result.blocked.length} blocked groups`;
    renderPlan($("plan-output"), result);
  } catch (err) {
    status.textContent = err.message;
    status.classList.add("error");
    $("plan-output").replaceChildren();
  }
}

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}
