// The browser linter page: holds the open files, lints them in the worker as the user types,
// shows the findings (list, squiggles, quick fixes), the summary and the plan for a loaded
// inventory, and keeps the work (localStorage, share links, downloads). All checking happens in
// the wasm engine; this file only moves data between it, the editor and the DOM.
import { Engine, Debouncer } from "./engine.js";
import { Editor } from "./editor.js";
import { fromDataTransfer, fromFileList } from "./files.js";
import { renderPlan } from "./plan-view.js";
import { describeFinding, findingsOf, isPlanOnly, renderFindings } from "./findings.js";

const $ = (id) => document.getElementById(id);

/** Where the work is kept between visits (packed by the worker, see codec.js). */
const STORAGE_KEY = "cip-linter-state";
/** Quiet time after a keystroke before the lint starts. */
const LINT_DELAY_MS = 100;
/** Quiet time after a change before the work is saved to localStorage. */
const SAVE_DELAY_MS = 2000;

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
  /** The name of the file the user types into: the engine's name for a lone manifest text. */
  scratch: undefined,
  /** {path: text} as last sent to the worker (the open file's newest text is in the editor). */
  files: {},
  current: undefined,
  /** The open file changed since its text was last sent to the worker. */
  unsent: false,
  /** The open file's document as last sent to the worker, with the edits made since. */
  sent: null,
  /** The open files are the user's work (opened, dropped or edited), not the untouched sample. */
  dirty: false,
  inventory: "",
  report: null,
  plan: null,
  /** Lint and plan findings, deduplicated: what the list, the counts and the downloads show. */
  findings: [],
  generation: 0,
  /** Results shown so far (the tests wait for it to grow). */
  results: 0,
};

const engine = new Engine();
const editor = new Editor({
  parent: $("editor"),
  label: "Manifest text",
  onEdit: () => {
    state.unsent = true;
    state.dirty = true;
    linter.request();
    saver.request();
  },
  describe: (d) => describeFinding(d),
});
const linter = new Debouncer(runLint, LINT_DELAY_MS);
const saver = new Debouncer(save, SAVE_DELAY_MS);

// Exposed for the browser tests and the benchmark; not an API.
window.cipApp = { engine, state, editor };

start();

async function start() {
  wireEvents();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("./sw.js").catch((err) => console.warn(`offline cache unavailable: ${err.message}`));
  }
  try {
    const [version, scratch] = await Promise.all([engine.call("version"), engine.call("defaultFileName")]);
    $("version").textContent = `v${version.result}`;
    state.scratch = scratch.result;
  } catch (err) {
    setStatus(`The linter could not start: ${err.message}`, true);
    return;
  }
  if (state.current !== undefined) return; // the user opened or dropped files meanwhile
  const restored = (await restoreShared()) ?? (await restoreSaved());
  if (restored) {
    $("inventory").value = restored.inventory ?? "";
    await setInventory();
    await loadFiles(restored.files, { current: restored.current, dirty: true, confirmed: true });
  } else {
    await loadFiles({ [state.scratch]: SAMPLE }, { dirty: false, confirmed: true });
  }
}

/** A share link's state (`#c1....` in the URL), once; the fragment is removed after reading. */
async function restoreShared() {
  const fragment = location.hash.slice(1);
  if (!fragment) return null;
  history.replaceState(null, "", location.pathname + location.search);
  try {
    return validState((await engine.call("unpack", fragment)).result);
  } catch (err) {
    setStatus(`The shared link could not be opened: ${err.message}`, true);
    return null;
  }
}

async function restoreSaved() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (!saved) return null;
  try {
    return validState((await engine.call("unpack", saved)).result);
  } catch {
    localStorage.removeItem(STORAGE_KEY);
    return null;
  }
}

function validState(value) {
  const files = value?.files;
  const ok = files && typeof files === "object" && Object.values(files).every((t) => typeof t === "string");
  if (!ok || Object.keys(files).length === 0) throw new Error("it holds no manifest files");
  return value;
}

/**
 * Sends the open file's edits since the last flush to the worker, as replacements of ranges of
 * the text it holds, so a keystroke in a 4 MB file costs a few bytes, not a copy of the file.
 * A CRLF file (whose editor offsets count a line break as one character) is sent whole.
 */
function flush() {
  if (!state.unsent || state.current === undefined) return false;
  state.unsent = false;
  const sent = state.sent;
  state.sent = editor.snapshot();
  if (sent && !sent.stale && editor.view.state.lineBreak === "\n") {
    const edits = [];
    sent.changes.iterChanges((from, to, _fromB, _toB, inserted) => edits.push([from, to, inserted.toString()]));
    sent.release();
    engine.call("splice", state.current, edits);
  } else {
    sent?.release();
    engine.call("edit", state.current, editor.text);
  }
  return true;
}

async function save() {
  if (state.current === undefined) return;
  flush();
  try {
    const { result } = await engine.call("pack", { current: state.current, inventory: state.inventory });
    localStorage.setItem(STORAGE_KEY, result);
    $("saved-note").textContent = "Saved in this browser.";
  } catch (err) {
    $("saved-note").textContent = `Not saved in this browser (${err.name === "QuotaExceededError" ? "too large" : err.message}).`;
  }
}

function wireEvents() {
  $("file-select").addEventListener("change", (e) => openFile(e.target.value));
  for (const id of ["open-files", "open-folder"]) {
    $(id).addEventListener("change", async (e) => {
      await loadFiles(await fromFileList(e.target.files));
      e.target.value = "";
    });
  }
  $("new-file").addEventListener("click", async () => {
    if (state.scratch === undefined) return; // the engine has not started
    if (await loadFiles({ [state.scratch]: "" })) editor.view.focus();
  });
  $("inventory").addEventListener("input", () => inventoryChanged());
  $("open-inventory").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (file) {
      $("inventory").value = await file.text();
      inventoryChanged(true);
    }
    e.target.value = "";
  });
  $("clear-inventory").addEventListener("click", () => {
    $("inventory").value = "";
    inventoryChanged(true);
  });
  $("share").addEventListener("click", share);
  $("download-json").addEventListener("click", () => download("cip-findings.json", "application/json", findingsJson()));
  $("download-sarif").addEventListener("click", async () => {
    const { result } = await engine.call("sarif", state.findings);
    download("cip-findings.sarif", "application/sarif+json", result);
  });
  wireDrop();
}

const planner = new Debouncer(async () => {
  await setInventory();
  linter.request(true);
  saver.request();
}, 300);

function inventoryChanged(immediately = false) {
  planner.request(immediately);
}

async function setInventory() {
  state.inventory = $("inventory").value;
  await engine.call("setInventory", state.inventory);
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

/**
 * Replaces the open files with a new set and lints it at once. Asks first when that would
 * discard the user's work; resolves to false when they keep it.
 */
async function loadFiles(files, { current, dirty = true, confirmed = false } = {}) {
  const paths = Object.keys(files);
  if (paths.length === 0) {
    setStatus("No manifest files found (a folder contributes promoter-manifest.yaml and images.yaml files).", true);
    return false;
  }
  if (!confirmed && state.dirty) {
    const open = Object.keys(state.files).length;
    const what = open === 1 ? `the open file (${state.current})` : `the ${open} open files`;
    if (!confirm(`Discard ${what} and your changes? Download them or copy a share link first to keep them.`)) return false;
  }
  state.generation++;
  state.files = files;
  state.unsent = false;
  state.current = undefined;
  state.dirty = dirty;
  await engine.call("setFiles", files);
  showFiles(paths, paths.includes(current) ? current : paths[0]);
  linter.request(true);
  if (dirty) saver.request();
  else localStorage.removeItem(STORAGE_KEY);
  return true;
}

function showFiles(paths, current) {
  const select = $("file-select");
  select.replaceChildren(...paths.map((p) => new Option(p, p)));
  $("file-count").textContent = paths.length === 1 ? "1 file" : `${paths.length} files`;
  openFile(current);
}

function openFile(path) {
  if (flush()) linter.request(true);
  if (state.current !== undefined && state.current in state.files) state.files[state.current] = editor.text;
  state.current = path;
  $("file-select").value = path;
  editor.setText(state.files[path] ?? "");
  state.sent = editor.snapshot();
  // The last findings hold for this file's text as it was sent; show them at once.
  if (state.report) editor.setFindings(findingsIn(path), editor.basis, actionsOf);
}

async function runLint() {
  const generation = state.generation;
  const snap = editor.snapshot();
  flush();
  $("busy").hidden = false;
  try {
    const { result, ms } = await engine.call("check");
    if (generation !== state.generation) {
      snap.release();
      return;
    }
    showResult(result, ms, snap);
  } catch (err) {
    snap.release();
    setStatus(err.message, true);
  } finally {
    $("busy").hidden = true;
  }
}

function showResult({ report, plan, planError }, ms, snap) {
  state.report = report;
  state.plan = plan;
  state.findings = findingsOf(report, plan);
  const errors = state.findings.filter((d) => d.severity === "error").length;
  const warnings = state.findings.length - errors;
  const s = report.summary;
  const counts = { ...s, errors, warnings };
  for (const dd of document.querySelectorAll("#summary dd")) dd.textContent = String(counts[dd.dataset.key]);
  const count = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  // One announcement per result (the live region); the timing is shown beside it, unannounced.
  const planned = plan ? ` (with the plan: ${plan.summary.copy} to copy, ${plan.summary.tag} to tag, ${plan.summary.blocked} blocked)` : "";
  setStatus(`${count(errors, "error")}, ${count(warnings, "warning")} in ${count(s.manifests, "manifest")}${planned}`);
  $("timing").textContent = `linted in ${ms.toFixed(0)} ms`;
  renderFindings($("diagnostics"), $("diagnostics-more"), state.findings, {
    jump: jumpTo,
    fix: applyFix,
  });
  editor.setFindings(findingsIn(state.current), snap, actionsOf);
  showPlan(plan, planError);
  state.results++;
  document.body.dataset.results = String(state.results);
}

function showPlan(plan, planError) {
  const status = $("plan-status");
  status.classList.toggle("error", Boolean(planError));
  if (planError) {
    status.textContent = planError;
    $("plan-output").replaceChildren();
  } else if (plan) {
    const n = plan.diagnostics.filter(isPlanOnly).length;
    status.textContent = `${plan.actions.length} actions, ${plan.blocked.length} blocked groups, ${n} plan findings (listed under Findings)`;
    renderPlan($("plan-output"), plan);
  } else {
    status.textContent = "";
    $("plan-output").replaceChildren();
  }
}

function findingsIn(path) {
  return state.findings.filter((d) => d.file === path);
}

function actionsOf(d) {
  return (d.fixes ?? []).map((fix) => ({
    name: fix.applicability === "safe" ? fix.title : `${fix.title} (unsafe)`,
    apply: () => applyFix(d, fix),
  }));
}

/** Selects a finding's (or one of its labels') range; on a phone, scrolls the editor into view. */
function jumpTo(at) {
  // A finding may point at a folder or a missing file (thin layout findings): nothing to show.
  if (!(at.file in state.files)) return false;
  if (at.file !== state.current) {
    openFile(at.file);
    $("file-select").value = at.file;
  }
  editor.reveal(at);
  const box = $("editor").getBoundingClientRect();
  if (box.top < 0 || box.bottom > innerHeight) $("editor").scrollIntoView({ block: "start", behavior: "instant" });
  return true;
}

function applyFix(d, fix) {
  if (fix.applicability !== "safe" && !confirm(`"${fix.title}" is an unsafe fix: it may change what is promoted. Apply it?`)) return;
  if (d.file !== state.current) openFile(d.file);
  editor.applyEdits(fix.edits.filter((e) => e.file === d.file));
}

async function share() {
  flush();
  const { result } = await engine.call("pack", { current: state.current, inventory: state.inventory });
  const link = `${location.origin}${location.pathname}#${result}`;
  const out = $("share-link");
  out.value = link;
  out.hidden = false;
  $("share-label").hidden = false;
  let copied = false;
  try {
    await navigator.clipboard.writeText(link);
    copied = true;
  } catch {
    out.select();
  }
  const kb = (link.length / 1024).toFixed(0);
  $("share-note").textContent =
    `${copied ? "Link copied" : "Link ready to copy"} (${kb} KiB). The files are in the link itself, after the #: ` +
    `browsers never send that part to a server.` +
    (link.length > 2_000_000 ? " It is longer than browsers accept; share the files instead." : "");
}

/** The findings as `cip lint --format json` prints them, with the plan's findings added. */
function findingsJson() {
  const errors = state.findings.filter((d) => d.severity === "error").length;
  const report = {
    diagnostics: state.findings,
    summary: { ...state.report.summary, errors, warnings: state.findings.length - errors },
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}
