// End-to-end test of the built page (web/dist) in headless Debian Chromium: paste, diagnostics,
// jump to a finding, open a folder, drop a file, load an inventory, see the plan, screenshot.
//   (cd web && npm ci && npm run build && node --test test/)
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "./serve.mjs";
import { launch } from "./browser.mjs";

const webDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = path.resolve(webDir, "..");
const artifacts = path.join(repoRoot, "tests/artifacts");

const STAGING = "gcr.io/example-staging";
const PROD = "gcr.io/example-prod";
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

// Line 8 has a malformed digest and line 10 a tag that is not a valid tag.
const INVALID = `registries:
  - name: ${STAGING}
    src: true
  - name: ${PROD}
images:
  - name: app
    dmap:
      "sha256:abc": ["v1"]
      "${D1}":
        ["bad tag!"]
`;

const VALID = `registries:
  - name: ${STAGING}
    src: true
  - name: ${PROD}
images:
  - name: app
    dmap:
      "${D1}": ["v1"]
      "${D2}": ["v2"]
`;

let server;
let browser;
let page;
const requests = [];
const pageErrors = [];

before(async () => {
  server = await serve(path.join(webDir, "dist"));
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(server.url);
  await page.waitForFunction(() => /linted in/.test(document.getElementById("status").textContent), null, {
    timeout: 20000,
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const diagnostics = () =>
  page.$$eval("#diagnostics button", (buttons) =>
    buttons.map((b) => ({ code: b.dataset.code, line: Number(b.dataset.line), text: b.textContent })),
  );

async function waitForLint() {
  await page.waitForFunction(() => /linted in/.test(document.getElementById("status").textContent));
}

test("the page loads the engine and lints the sample without errors", async () => {
  assert.match(await page.textContent("#version"), /^v\d+\.\d+\.\d+/);
  assert.equal(await page.textContent('#summary dd[data-key="errors"]'), "0");
  // The file the user types into is named as the engine names a lone text (defaultFileName()).
  assert.equal(await page.$eval("#file-select", (s) => s.value), "manifest.yaml");
  assert.equal(await page.evaluate(() => window.cipApp.state.scratch), "manifest.yaml");
});

test("pasting an invalid manifest lists its diagnostics on the right lines", async () => {
  await page.fill("#source", INVALID);
  await page.waitForFunction(() => document.querySelector('#summary dd[data-key="errors"]').textContent !== "0");
  await waitForLint();
  const found = await diagnostics();
  const lines = found.map((d) => d.line);
  assert.ok(lines.includes(8), `expected a finding on line 8, got ${JSON.stringify(found)}`);
  assert.ok(lines.includes(10), `expected a finding on line 10, got ${JSON.stringify(found)}`);
  const digest = found.find((d) => d.line === 8);
  assert.match(digest.code, /digest/);
  assert.match(digest.text, /manifest\.yaml:8:/);
  // Gutter markers on the offending lines.
  const marked = await page.$$eval("#gutter [data-line]", (spans) => spans.map((s) => Number(s.dataset.line)));
  assert.ok(marked.includes(8) && marked.includes(10), `gutter marks: ${marked}`);
});

test("clicking a diagnostic selects its range in the editor and highlights the line", async () => {
  await page.click('#diagnostics button[data-line="10"]');
  const at = await page.evaluate(() => {
    const ta = document.getElementById("source");
    return {
      focused: document.activeElement === ta,
      selected: ta.value.slice(ta.selectionStart, ta.selectionEnd),
      line: ta.value.slice(0, ta.selectionStart).split("\n").length,
      highlight: document.getElementById("highlight").dataset.line,
      highlightVisible: !document.getElementById("highlight").hidden,
    };
  });
  assert.equal(at.focused, true);
  assert.equal(at.line, 10);
  assert.match(at.selected, /bad tag!/);
  assert.equal(at.highlight, "10");
  assert.equal(at.highlightVisible, true);
  assert.equal(await page.getAttribute('#diagnostics button[data-line="10"]', "aria-current"), "true");
});

test("the diagnostics are reachable and usable with the keyboard alone", async () => {
  await page.focus('#diagnostics button[data-line="8"]');
  await page.keyboard.press("Enter");
  const at = await page.evaluate(() => {
    const ta = document.getElementById("source");
    return { focused: document.activeElement === ta, line: ta.value.slice(0, ta.selectionStart).split("\n").length };
  });
  assert.deepEqual(at, { focused: true, line: 8 });
  assert.equal(await page.getAttribute("#highlight", "data-line"), "8");
});

test("every form control has a label", async () => {
  const unlabelled = await page.$$eval("input, select, textarea, button", (controls) =>
    controls
      .filter((c) => !(c.labels?.length || c.getAttribute("aria-label") || (c.tagName === "BUTTON" && c.textContent.trim())))
      .map((c) => c.id || c.outerHTML.slice(0, 60)),
  );
  assert.deepEqual(unlabelled, []);
});

test("opening a thin-manifest folder lints its manifest pairs", async () => {
  await page.setInputFiles("#open-folder", path.join(repoRoot, "examples/thin"));
  await page.waitForFunction(() => document.getElementById("file-select").options.length === 2);
  await waitForLint();
  const options = await page.$$eval("#file-select option", (os) => os.map((o) => o.value));
  assert.deepEqual(options, ["thin/images/foo/images.yaml", "thin/manifests/foo/promoter-manifest.yaml"]);
  assert.equal(await page.textContent('#summary dd[data-key="manifests"]'), "1");
  assert.equal(await page.textContent('#summary dd[data-key="digests"]'), "4");
  assert.equal(await page.textContent('#summary dd[data-key="errors"]'), "0");
});

test("dropping a file replaces the open files", async () => {
  const dataTransfer = await page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], "dropped.yaml", { type: "text/yaml" }));
    return dt;
  }, VALID);
  await page.dispatchEvent("body", "drop", { dataTransfer });
  await page.waitForFunction(() => document.getElementById("file-select").value === "dropped.yaml");
  await waitForLint();
  assert.equal(await page.textContent('#summary dd[data-key="digests"]'), "2");
  assert.equal(await page.inputValue("#source"), VALID);
});

test("loading an inventory shows the plan per destination", async () => {
  // D1 is in staging and already in prod without its tag (tag); D2 is only in staging (copy).
  const inventory = {
    repositories: {
      [`${STAGING}/app`]: { [D1]: { tags: ["v1"] }, [D2]: { tags: ["v2"] } },
      [`${PROD}/app`]: { [D1]: { tags: [] } },
    },
  };
  await page.setInputFiles("#open-inventory", {
    name: "inventory.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify(inventory, null, 2)),
  });
  await page.waitForSelector("#plan-output table");
  const rows = await page.$$eval("#plan-output table", (tables) =>
    tables.map((t) => ({
      dst: t.dataset.dst,
      rows: [...t.tBodies[0].rows].map((r) => [r.dataset.action, r.cells[2].textContent]),
    })),
  );
  assert.deepEqual(rows, [{ dst: `${PROD}/app`, rows: [["copy", "v2"], ["tag", "v1"]] }]);
  assert.match(await page.textContent("#plan-output .plan-summary"), /1 to copy, 1 to tag, 0 present, 0 blocked/);
});

test("a malformed inventory is reported, not thrown", async () => {
  await page.fill("#inventory", "{\"repositories\": ");
  await page.waitForFunction(() => document.getElementById("plan-status").classList.contains("error"));
  assert.match(await page.textContent("#plan-status"), /invalid inventory JSON at line 1/);
});

test("the page made no request off 127.0.0.1 and threw no errors; screenshot saved", async () => {
  // Restore the invalid manifest so the screenshot shows findings, a highlight and markers.
  await page.selectOption("#file-select", "dropped.yaml");
  await page.fill("#source", INVALID);
  await page.waitForFunction(() => document.querySelector('#summary dd[data-key="errors"]').textContent !== "0");
  await waitForLint();
  await page.click('#diagnostics button[data-line="8"]');
  await page.fill("#inventory", JSON.stringify({ repositories: { [`${STAGING}/app`]: { [D1]: { tags: ["v1"] } } } }));
  await page.waitForSelector("#plan-output table");
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, "web-linter.png"), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(artifacts, "web-linter-narrow.png"), fullPage: true });
  const offHost = requests.filter((u) => !u.startsWith(server.url) && !u.startsWith("data:"));
  assert.deepEqual(offHost, []);
  assert.deepEqual(pageErrors, []);
});
