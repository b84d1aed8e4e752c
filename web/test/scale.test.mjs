// The page with a Kubernetes-scale manifest, in headless Chromium: the synthetic set of
// tests/gen (45,000 digest entries) folded into one 4.3 MB manifest, opened like a user opens a
// file, then edited key by key. Measures keystroke -> updated findings (from the keydown event to
// the summary showing the new count) and the main thread's long tasks (PerformanceObserver
// `longtask` entries) while typing, prints them and writes tests/artifacts/web-scale.json. The
// targets (<= 400 ms, no task over 100 ms) are reported, not asserted: timings on this shared
// machine are not test results. What is asserted is that every keystroke's findings are right.
//   CIP_GEN_DIR=DIR reuses a generated set instead of running the generator (cargo).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "./serve.mjs";
import { launch } from "./browser.mjs";

const webDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = path.resolve(webDir, "..");
const artifacts = path.join(repoRoot, "tests/artifacts");
const KEYSTROKES = 10;

let server;
let browser;
let page;
let work;

/** The generated set (manifests/<x>/promoter-manifest.yaml + images/<x>/images.yaml). */
function generatedSet() {
  if (process.env.CIP_GEN_DIR) return process.env.CIP_GEN_DIR;
  work = mkdtempSync(path.join(os.tmpdir(), "cip-web-scale-"));
  const dir = path.join(work, "k8s-scale");
  execFileSync("cargo", ["run", "-q", "-p", "cip-core", "--release", "--example", "gen-manifests", "--", dir], {
    cwd: repoRoot,
    stdio: ["ignore", "inherit", "inherit"],
  });
  return dir;
}

/**
 * One plain manifest holding every image of the set: the registries of the largest project and
 * all images, each named `<project>/<image>` so that no name repeats.
 */
function oneManifest(dir) {
  const projects = readdirSync(path.join(dir, "images")).sort();
  const images = projects.map((p) => [p, readFileSync(path.join(dir, "images", p, "images.yaml"), "utf8")]);
  const [largest] = [...images].sort((a, b) => b[1].length - a[1].length)[0];
  const head = readFileSync(path.join(dir, "manifests", largest, "promoter-manifest.yaml"), "utf8");
  const body = images.map(([p, text]) => text.replace(/^- name: (.*)$/gm, `- name: ${p}/$1`)).join("");
  return `${head.trimEnd()}\nimages:\n${body}`;
}

before(async () => {
  const text = oneManifest(generatedSet());
  server = await serve(path.join(webDir, "dist"));
  browser = await launch();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => Number(document.body.dataset.results) > 0, null, { timeout: 30000 });
  const n = await page.evaluate(() => Number(document.body.dataset.results));
  await page.setInputFiles("#open-files", { name: "k8s.yaml", mimeType: "text/yaml", buffer: Buffer.from(text) });
  await page.waitForFunction((n) => Number(document.body.dataset.results) > n, n, { timeout: 60000 });
  page.bytes = Buffer.byteLength(text);
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("typing in a 4.3 MB, 45,000-digest manifest: findings follow every keystroke", async () => {
  const summary = await page.$$eval("#summary dd", (dds) => Object.fromEntries(dds.map((d) => [d.dataset.key, Number(d.textContent)])));
  assert.equal(summary.digests, 45000);
  assert.equal(summary.errors, 0);
  // Highlighted (by the visible-lines highlighter large files get, see src/large-yaml.js).
  assert.ok((await page.locator(".cm-content .tok-propertyName").count()) > 0);
  // Put the cursor inside a tag in the middle of the file, as a user clicking there would.
  await page.evaluate(() => {
    const view = window.cipApp.editor.view;
    const doc = view.state.doc;
    let line = doc.line(Math.floor(doc.lines / 2));
    while (!/\["[^"]+"/.test(line.text)) line = doc.line(line.number + 1);
    const at = line.from + line.text.indexOf('["') + 3;
    view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
    view.focus();
    // Keydown -> the errors count changing: the time a user waits for the findings.
    window.__keyAt = 0;
    window.__latencies = [];
    window.addEventListener("keydown", (e) => (window.__keyAt = e.timeStamp), true);
    const errors = document.querySelector('#summary dd[data-key="errors"]');
    new MutationObserver(() => {
      if (window.__keyAt) window.__latencies.push(performance.now() - window.__keyAt);
      window.__keyAt = 0;
    }).observe(errors, { childList: true, characterData: true, subtree: true });
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push(e.duration);
    }).observe({ type: "longtask" });
  });
  await page.locator(".cm-content .tok-string").first().waitFor();
  // Each keystroke flips the findings: "!" makes the tag invalid, Backspace makes it valid again.
  for (let i = 0; i < KEYSTROKES; i++) {
    const invalid = i % 2 === 0;
    await page.keyboard.press(invalid ? "Shift+Digit1" : "Backspace");
    await page.waitForFunction(
      (want) => document.querySelector('#summary dd[data-key="errors"]').textContent === want && window.__keyAt === 0,
      invalid ? "1" : "0",
      { timeout: 30000 },
    );
    if (invalid) assert.ok((await page.$$eval('#diagnostics .jump[data-code="tag-invalid"]', (b) => b.length)) === 1);
  }
  // A burst: a comment typed at normal speed; the findings catch up once.
  await page.keyboard.press("End");
  const before = await page.evaluate(() => Number(document.body.dataset.results));
  const burstStart = Date.now();
  await page.keyboard.type(" # typed key by key", { delay: 60 });
  const typedAt = Date.now();
  await page.waitForFunction(
    () => window.cipApp.state.unsent === false && document.getElementById("busy").hidden,
    null,
    { timeout: 30000 },
  );
  await page.waitForFunction((n) => Number(document.body.dataset.results) > n, before);
  const settled = Date.now();
  const m = await page.evaluate(() => ({ latencies: window.__latencies, longTasks: window.__longTasks }));
  // One figure per single keystroke (the burst may add one more).
  assert.ok(m.latencies.length >= KEYSTROKES, JSON.stringify(m.latencies));
  m.latencies = m.latencies.slice(0, KEYSTROKES);
  const sorted = [...m.latencies].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const worst = sorted.at(-1);
  const longest = Math.max(0, ...m.longTasks);
  const figures = {
    dataSet: `tests/gen synthetic set folded into one manifest: ${(page.bytes / 1e6).toFixed(2)} MB, 45,000 digests`,
    machine: `${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} (shared with other builds)`,
    keystrokeToFindingsMs: { median: Math.round(median), worst: Math.round(worst), all: m.latencies.map(Math.round) },
    longTasksMs: { count: m.longTasks.length, longest: Math.round(longest) },
    burst: { chars: 19, typingMs: typedAt - burstStart, lastKeyToFindingsMs: settled - typedAt },
    targets: { keystrokeToFindingsMs: 400, longestTaskMs: 100 },
  };
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(path.join(artifacts, "web-scale.json"), `${JSON.stringify(figures, null, 2)}\n`);
  await page.screenshot({ path: path.join(artifacts, "web-linter-k8s-scale.png") });
  console.log(
    `\nweb scale (${figures.dataSet}; ${figures.machine}):\n` +
      `| measure | figure | target |\n|---|---:|---:|\n` +
      `| keystroke -> updated findings, median of ${KEYSTROKES} | ${figures.keystrokeToFindingsMs.median} ms | <= 400 ms |\n` +
      `| keystroke -> updated findings, worst | ${figures.keystrokeToFindingsMs.worst} ms | <= 400 ms |\n` +
      `| longest main-thread task while typing | ${figures.longTasksMs.longest} ms (${m.longTasks.length} over 50 ms) | <= 100 ms |\n` +
      `| last key of a ${figures.burst.chars}-key burst -> findings | ${figures.burst.lastKeyToFindingsMs} ms | |\n`,
  );
});
