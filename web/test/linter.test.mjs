// End-to-end tests of the built page (web/dist) in headless Debian Chromium, driven like a user:
// the editor (squiggles, labels, hover, jump both ways, line numbers, quick fixes), folders and
// drops, the plan and its findings, saved state, share links, downloads, offline use, dark mode,
// the phone layout, live-region announcements, the codes page and axe-core. Screenshots at
// 1280x800 and 390x844 go to tests/artifacts/.
//   (cd web && npm ci && npm run build && node --test test/)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "./serve.mjs";
import { launch } from "./browser.mjs";

const webDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = path.resolve(webDir, "..");
const artifacts = path.join(repoRoot, "tests/artifacts");
const vectors = path.join(repoRoot, "tests/vectors");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const vectorText = (kind, name, file) => readFileSync(path.join(vectors, kind, name, file), "utf8");
const vectorInput = (kind, name) => {
  const dir = path.join(vectors, kind, name, "input");
  const [file] = readdirSync(dir).filter((f) => statSync(path.join(dir, f)).isFile());
  return readFileSync(path.join(dir, file), "utf8");
};

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
let context;
let page;
const requests = [];
const pageErrors = [];
const cspViolations = [];

async function openPage(ctx) {
  const p = await ctx.newPage();
  await p.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (e) =>
      console.warn(`Content Security Policy: ${e.violatedDirective} ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`),
    ),
  );
  p.on("request", (r) => requests.push(r.url()));
  p.on("pageerror", (e) => pageErrors.push(e.message));
  p.on("console", (m) => {
    // Only the page's own files count: axe-core, injected by the tests, adds a <style> element.
    if (/^Content Security Policy: \S+ http/.test(m.text())) cspViolations.push(m.text());
  });
  await p.goto(server.url);
  await p.waitForFunction(() => Number(document.body.dataset.results) > 0, null, { timeout: 30000 });
  return p;
}

before(async () => {
  server = await serve(path.join(webDir, "dist"));
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  page = await openPage(context);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const results = (p = page) => p.evaluate(() => Number(document.body.dataset.results));

/** Runs `action` and waits for the next lint result the page shows. */
async function nextResult(action, p = page) {
  const n = await results(p);
  await action();
  await p.waitForFunction((n) => Number(document.body.dataset.results) > n, n, { timeout: 30000 });
}

/** Replaces the open file's text as a paste would (one user input event in the editor). */
async function paste(text, p = page) {
  await nextResult(async () => {
    await p.locator(".cm-content").focus();
    await p.keyboard.press("Control+a");
    await p.evaluate((t) => {
      const data = new DataTransfer();
      data.setData("text/plain", t);
      const target = window.cipApp.editor.view.contentDOM;
      target.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    }, text);
  }, p);
}

const findings = (p = page) =>
  p.$$eval("#diagnostics .jump", (buttons) =>
    buttons.map((b) => ({ code: b.dataset.code, line: Number(b.dataset.line), file: b.dataset.file, text: b.textContent })),
  );
const editorText = (p = page) => p.evaluate(() => window.cipApp.editor.view.state.doc.toString());
const selection = (p = page) =>
  p.evaluate(() => {
    const { state } = window.cipApp.editor.view;
    const r = state.selection.main;
    return { text: state.sliceDoc(r.from, r.to), line: state.doc.lineAt(r.from).number };
  });

async function axe(p, label) {
  // Evaluated through the debugging protocol: the page's CSP (rightly) refuses inline scripts.
  await p.evaluate(axeSource);
  const result = await p.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const summary = result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  assert.deepEqual(summary, [], `axe-core violations (${label})`);
}

async function shot(p, name) {
  mkdirSync(artifacts, { recursive: true });
  await p.screenshot({ path: path.join(artifacts, name) });
}

describe("editor", () => {
  test("the page loads the engine and lints the sample without errors", async () => {
    assert.match(await page.textContent("#version"), /^v\d+\.\d+\.\d+/);
    assert.equal(await page.textContent('#summary dd[data-key="errors"]'), "0");
    assert.equal(await page.$eval("#file-select", (s) => s.value), "manifest.yaml");
    assert.equal(await page.evaluate(() => window.cipApp.state.scratch), "manifest.yaml");
    // YAML highlighting: keys and strings get the highlighter's classes.
    assert.ok((await page.locator(".cm-content .tok-string").count()) > 0);
    assert.ok((await page.locator(".cm-content .tok-propertyName, .cm-content .tok-definition").count()) > 0);
  });

  test("a pasted manifest gets findings on the right lines and squiggles at the exact spans", async () => {
    await paste(INVALID);
    const found = await findings();
    const digest = found.find((d) => d.line === 8);
    assert.ok(digest && /digest/.test(digest.code), JSON.stringify(found));
    assert.ok(found.some((d) => d.line === 10), JSON.stringify(found));
    assert.match(digest.text, /manifest\.yaml:8:7/);
    const squiggles = await page.locator(".cm-lintRange-error").allTextContents();
    assert.ok(squiggles.includes('"sha256:abc"'), `squiggles: ${JSON.stringify(squiggles)}`);
    assert.ok(squiggles.includes('"bad tag!"'), `squiggles: ${JSON.stringify(squiggles)}`);
    // Gutter markers on the offending lines.
    assert.equal(await page.locator(".cm-gutter-lint .cm-lint-marker-error").count(), 2);
  });

  test("hovering a squiggle shows the finding with its help and a link to its code", async () => {
    await page.locator(".cm-lintRange-error", { hasText: "sha256:abc" }).hover();
    const card = page.locator(".cm-tooltip-lint .cm-cip-card");
    await card.waitFor();
    assert.match(await card.textContent(), /^digest-invalid invalid digest: sha256:abc/);
    assert.match(await card.locator(".diag-help").textContent(), /64 lowercase hex digits/);
    assert.equal(await card.locator("a").getAttribute("href"), "codes.html#digest-invalid");
    await page.mouse.move(5, 5);
  });

  test("clicking a finding selects its span; Enter on a finding does the same", async () => {
    await page.click('#diagnostics .jump[data-line="10"]');
    assert.deepEqual(await selection(), { text: '"bad tag!"', line: 10 });
    assert.equal(await page.evaluate(() => window.cipApp.editor.view.hasFocus), true);
    assert.equal(await page.getAttribute('#diagnostics .jump[data-line="10"]', "aria-current"), "true");
    await page.focus('#diagnostics .jump[data-line="8"]');
    await page.keyboard.press("Enter");
    assert.deepEqual(await selection(), { text: '"sha256:abc"', line: 8 });
  });

  test("secondary locations are marked and jump-able ('first listed here')", async () => {
    await paste(vectorInput("lint", "digest-duplicate"));
    const label = page.locator(".cm-cip-label").first();
    assert.equal(await label.getAttribute("data-label"), "first listed here");
    assert.match(await label.getAttribute("title"), /first listed here \(digest-duplicate: /);
    const item = page.locator("#diagnostics .finding", { has: page.locator('.jump[data-code="digest-duplicate"]') }).first();
    await item.locator(".label-jump").click();
    const at = await selection();
    assert.match(at.text, /^"sha256:e27aab/);
    assert.equal(at.line, 11);
  });

  test("a finding at column 89 scrolls into view sideways, and back", async () => {
    await paste(vectorInput("lint", "tag-conflict"));
    await page.evaluate(() => {
      const s = window.cipApp.editor.view.scrollDOM;
      s.scrollLeft = 0;
      s.scrollTop = 0;
    });
    await page.click('#diagnostics .jump[data-code="tag-conflict"]');
    const visible = () =>
      page.evaluate(() => {
        const view = window.cipApp.editor.view;
        view.requestMeasure();
        const r = view.state.selection.main;
        const at = view.coordsAtPos(r.from);
        const box = view.scrollDOM.getBoundingClientRect();
        return { text: view.state.sliceDoc(r.from, r.to), left: view.scrollDOM.scrollLeft, inside: at && at.left >= box.left && at.right <= box.right };
      });
    await page.waitForFunction(() => window.cipApp.editor.view.scrollDOM.scrollLeft > 0);
    const far = await visible();
    assert.equal(far.text, '"latest"');
    assert.equal(far.inside, true);
    // Back to a finding at the start of a line: the editor scrolls back left.
    await paste(`${vectorInput("lint", "tag-conflict")}- name: x\n`);
    await page.click('#diagnostics .jump[data-code="dmap-missing"]');
    await page.waitForFunction(() => window.cipApp.editor.view.scrollDOM.scrollLeft === 0);
    assert.equal((await visible()).inside, true);
  });

  test("line numbers are not rebuilt when findings change", async () => {
    const mutations = await page.evaluate(() => {
      const gutter = window.cipApp.editor.view.dom.querySelector(".cm-lineNumbers");
      window.__gutterMutations = 0;
      window.__gutterObserver = new MutationObserver((list) => (window.__gutterMutations += list.length));
      window.__gutterObserver.observe(gutter, { childList: true, subtree: true, characterData: true });
      return window.__gutterMutations;
    });
    assert.equal(mutations, 0);
    // A new lint result with other findings, with no change of the text: the inventory changes.
    await nextResult(() => page.fill("#inventory", JSON.stringify({ repositories: {} })));
    await nextResult(() => page.fill("#inventory", ""));
    assert.equal(await page.evaluate(() => window.__gutterMutations), 0);
    await page.evaluate(() => window.__gutterObserver.disconnect());
  });

  test("a safe quick fix is applied by its button and the finding goes away", async () => {
    await paste(vectorInput("lint", "tag-unquoted-numbers"));
    const before = (await findings()).filter((d) => d.code === "tag-unquoted").length;
    assert.ok(before > 0);
    const button = page.locator("#diagnostics .fix.safe").first();
    assert.match(await button.textContent(), /^Fix: /);
    await nextResult(() => button.click());
    const after = (await findings()).filter((d) => d.code === "tag-unquoted").length;
    assert.equal(after, before - 1);
    // One undo restores the text the fix changed.
    await nextResult(() => page.keyboard.press("Control+z"));
    assert.equal((await findings()).filter((d) => d.code === "tag-unquoted").length, before);
  });

  test("an unsafe quick fix is marked and asks before it applies", async () => {
    await paste(vectorInput("lint", "tag-conflict"));
    const button = page.locator("#diagnostics .fix.unsafe").first();
    assert.match(await button.textContent(), /^Unsafe fix: remove tag latest/);
    const text = await editorText();
    page.once("dialog", (d) => d.dismiss());
    await button.click();
    assert.equal(await editorText(), text);
    page.once("dialog", (d) => d.accept());
    await nextResult(() => button.click());
    assert.equal((await findings()).some((d) => d.code === "tag-conflict"), false);
  });
});

describe("files, plan and findings", () => {
  test("opening a thin-manifest folder asks before discarding the edited file, then lints the pair", async () => {
    page.once("dialog", (d) => d.dismiss());
    await page.setInputFiles("#open-folder", path.join(repoRoot, "examples/thin"));
    assert.equal(await page.$eval("#file-select", (s) => s.options.length), 1);
    let asked = "";
    page.once("dialog", (d) => {
      asked = d.message();
      d.accept();
    });
    await nextResult(() => page.setInputFiles("#open-folder", path.join(repoRoot, "examples/thin")));
    assert.match(asked, /^Discard the open file \(manifest\.yaml\)/);
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
    page.once("dialog", (d) => d.accept());
    await nextResult(() => page.dispatchEvent("body", "drop", { dataTransfer }));
    assert.equal(await page.$eval("#file-select", (s) => s.value), "dropped.yaml");
    assert.equal(await page.textContent('#summary dd[data-key="digests"]'), "2");
    assert.equal(await editorText(), VALID);
  });

  test("an inventory shows the plan per destination", async () => {
    const inventory = {
      repositories: {
        [`${STAGING}/app`]: { [D1]: { tags: ["v1"] }, [D2]: { tags: ["v2"] } },
        [`${PROD}/app`]: { [D1]: { tags: [] } },
      },
    };
    await nextResult(() =>
      page.setInputFiles("#open-inventory", {
        name: "inventory.json",
        mimeType: "application/json",
        buffer: Buffer.from(JSON.stringify(inventory, null, 2)),
      }),
    );
    const rows = await page.$$eval("#plan-output table", (tables) =>
      tables.map((t) => ({ dst: t.dataset.dst, rows: [...t.tBodies[0].rows].map((r) => [r.dataset.action, r.cells[2].textContent]) })),
    );
    assert.deepEqual(rows, [{ dst: `${PROD}/app`, rows: [["copy", "v2"], ["tag", "v1"]] }]);
    assert.match(await page.textContent("#plan-output .plan-summary"), /1 to copy, 1 to tag, 0 present, 0 blocked/);
    // Full digests: in the hover title, and the copy button puts the whole digest on the clipboard.
    const digest = page.locator("#plan-output .digest-text").first();
    assert.match(await digest.getAttribute("title"), /^sha256:[0-9a-f]{64}$/);
    await page.locator("#plan-output button.copy").first().click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), await digest.getAttribute("title"));
  });

  for (const [name, code] of [["lost", "lost"], ["tag-move", "tag-move"], ["inventory-missing", "inventory-missing"]]) {
    test(`plan finding ${code}: listed with message, help and line, and counted`, async () => {
      page.once("dialog", (d) => d.accept());
      await nextResult(async () => {
        await page.setInputFiles("#open-files", { name: "promoter.yaml", mimeType: "text/yaml", buffer: Buffer.from(vectorInput("plan", name)) });
      });
      await nextResult(() => page.fill("#inventory", vectorText("plan", name, "inventory.json")));
      const expected = JSON.parse(vectorText("plan", name, "expected.json")).diagnostics.filter((d) => d.code === code);
      assert.ok(expected.length > 0);
      const listed = (await findings()).filter((d) => d.code === code);
      assert.equal(listed.length, expected.length, JSON.stringify(listed));
      for (const [i, d] of expected.entries()) {
        assert.equal(listed[i].line, d.line);
        assert.ok(listed[i].text.includes(d.message), listed[i].text);
        if (d.help) assert.ok(listed[i].text.includes(d.help), listed[i].text);
        assert.ok(listed[i].text.includes("plan"), "marked as a plan finding");
      }
      const errors = Number(await page.textContent('#summary dd[data-key="errors"]'));
      assert.ok(errors >= expected.length, `errors ${errors}`);
      assert.doesNotMatch(await page.textContent("#diagnostics"), /No findings/);
      assert.match(await page.textContent("#status"), new RegExp(`^${errors} errors?`));
    });
  }

  test("plan tables never break a word inside", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    page.once("dialog", (d) => d.accept());
    await nextResult(() =>
      page.setInputFiles("#open-files", { name: "promoter.yaml", mimeType: "text/yaml", buffer: Buffer.from(vectorInput("plan", "lost")) }),
    );
    await nextResult(() => page.fill("#inventory", vectorText("plan", "lost", "inventory.json")));
    const broken = await page.$$eval("#plan-output td, #plan-output caption", (cells) => {
      const out = [];
      for (const cell of cells) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          for (const m of node.data.matchAll(/[A-Za-z0-9_.-]+/g)) {
            const range = document.createRange();
            range.setStart(node, m.index);
            range.setEnd(node, m.index + m[0].length);
            const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
            if (tops.size > 1) out.push(m[0]);
          }
        }
      }
      return out;
    });
    await shot(page, "web-linter-plan-phone.png");
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.deepEqual(broken, []);
  });

  test("a malformed inventory is reported, not thrown", async () => {
    await nextResult(() => page.fill("#inventory", '{"repositories": '));
    assert.match(await page.textContent("#plan-status"), /invalid inventory JSON at line 1/);
    assert.equal(await page.$eval("#plan-status", (s) => s.classList.contains("error")), true);
    await nextResult(() => page.fill("#inventory", ""));
  });

  test("findings download as JSON (the lint report) and as SARIF (the CLI's)", async () => {
    await paste(INVALID);
    const [json] = await Promise.all([page.waitForEvent("download"), page.click("#download-json")]);
    const report = JSON.parse(readFileSync(await json.path(), "utf8"));
    assert.equal(json.suggestedFilename(), "cip-findings.json");
    assert.deepEqual(report.diagnostics.map((d) => [d.code, d.line]), (await findings()).map((d) => [d.code, d.line]));
    assert.equal(report.summary.errors, Number(await page.textContent('#summary dd[data-key="errors"]')));
    const [sarif] = await Promise.all([page.waitForEvent("download"), page.click("#download-sarif")]);
    const log = JSON.parse(readFileSync(await sarif.path(), "utf8"));
    assert.equal(log.version, "2.1.0");
    assert.deepEqual(
      log.runs[0].results.map((r) => [r.ruleId, r.locations[0].physicalLocation.region.startLine]),
      report.diagnostics.map((d) => [d.code, d.line]),
    );
  });
});

describe("keeping and sharing work", () => {
  test("the work is kept in localStorage and back after a reload", async () => {
    const marked = `${INVALID}# kept across reloads\n`;
    await paste(marked);
    // The save is debounced (2 s): wait for the one after this edit.
    await page.$eval("#saved-note", (n) => (n.textContent = ""));
    await page.waitForFunction(() => /Saved/.test(document.getElementById("saved-note").textContent));
    await page.reload();
    await page.waitForFunction(() => Number(document.body.dataset.results) > 0);
    assert.equal(await editorText(), marked);
    assert.ok((await findings()).some((d) => d.line === 8));
  });

  test("a share link carries the files in the fragment and opens them in a fresh browser", async () => {
    await page.click("#share");
    await page.waitForFunction(() => document.getElementById("share-link").value.includes("#c1."));
    const link = await page.inputValue("#share-link");
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
    assert.ok(!link.includes("registries"), "the manifest is compressed, not in clear text");
    const fresh = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const other = await fresh.newPage();
    other.on("pageerror", (e) => pageErrors.push(e.message));
    await other.goto(link);
    await other.waitForFunction(() => Number(document.body.dataset.results) > 0, null, { timeout: 30000 });
    assert.equal(await editorText(other), await editorText());
    assert.equal(new URL(other.url()).hash, "", "the fragment is dropped once read");
    await fresh.close();
    // The fragment never reached the server.
    assert.ok(requests.every((u) => !u.includes("c1.")));
  });

  test("the page opens offline after the first visit (service worker)", async () => {
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await context.setOffline(true);
    try {
      await page.reload();
      await page.waitForFunction(() => Number(document.body.dataset.results) > 0, null, { timeout: 30000 });
      assert.match(await page.textContent("#version"), /^v\d/);
      await paste(VALID.replace("v2", "v 2"));
      assert.ok((await findings()).some((d) => d.code === "tag-invalid"));
    } finally {
      await context.setOffline(false);
    }
  });
});

describe("accessibility, themes and layouts", () => {
  test("one announcement per lint result, never 'Linting'", async () => {
    const texts = await page.evaluate(() => {
      window.__announced = [];
      window.__liveObserver = new MutationObserver(() => window.__announced.push(document.getElementById("status").textContent));
      window.__liveObserver.observe(document.getElementById("status"), { childList: true, characterData: true, subtree: true });
      return window.__announced;
    });
    assert.deepEqual(texts, []);
    const start = await results();
    await page.locator(".cm-content").focus();
    await page.keyboard.press("Control+End");
    await page.keyboard.type("# a comment typed key by key", { delay: 15 });
    await page.waitForFunction((n) => Number(document.body.dataset.results) > n, start);
    await page.waitForTimeout(400);
    const announced = await page.evaluate(() => window.__announced);
    const shown = (await results()) - start;
    assert.ok(announced.length <= shown, `${announced.length} announcements for ${shown} results`);
    assert.ok(announced.every((t) => !/Linting/i.test(t)), JSON.stringify(announced));
    assert.equal(await page.getAttribute("#busy", "aria-hidden"), "true");
  });

  test("every form control has a label and axe-core finds no violations (light, desktop)", async () => {
    await paste(INVALID);
    const unlabelled = await page.$$eval("input, select, textarea, button", (controls) =>
      controls
        .filter((c) => !(c.labels?.length || c.getAttribute("aria-label") || (c.tagName === "BUTTON" && c.textContent.trim())))
        .map((c) => c.id || c.outerHTML.slice(0, 60)),
    );
    assert.deepEqual(unlabelled, []);
    await page.click('#diagnostics .jump[data-line="8"]');
    await axe(page, "light, 1280x800");
    await shot(page, "web-linter.png");
  });

  test("dark mode follows the system preference; axe-core finds no violations", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    try {
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, "rgb(22, 24, 28)");
      const editorBg = await page.evaluate(() => getComputedStyle(window.cipApp.editor.view.dom).backgroundColor);
      assert.equal(editorBg, "rgb(22, 24, 28)");
      await axe(page, "dark, 1280x800");
      await shot(page, "web-linter-dark.png");
    } finally {
      await page.emulateMedia({ colorScheme: "light" });
    }
  });

  test("phone layout (390x844): tapping a finding scrolls the editor to it", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
    const p = await openPage(phone);
    await paste(INVALID, p);
    const item = p.locator('#diagnostics .jump[data-line="10"]');
    await item.scrollIntoViewIfNeeded();
    assert.ok((await p.evaluate(() => document.getElementById("editor").getBoundingClientRect().bottom)) < 0, "the editor is off-screen before the tap");
    await item.tap();
    assert.deepEqual(await selection(p), { text: '"bad tag!"', line: 10 });
    const seen = await p.evaluate(() => {
      const view = window.cipApp.editor.view;
      const at = view.coordsAtPos(view.state.selection.main.from);
      return at && at.top >= 0 && at.bottom <= innerHeight;
    });
    assert.equal(seen, true, "the selected finding is on screen");
    const width = await p.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no sideways page scroll (${width}px)`);
    await axe(p, "light, 390x844");
    await shot(p, "web-linter-phone.png");
    await p.locator("#diagnostics").scrollIntoViewIfNeeded();
    await shot(p, "web-linter-phone-findings.png");
    await phone.close();
  });
});

describe("codes page", () => {
  test("every code of the core has a section with an example, and every finding links to one", async () => {
    const source = readFileSync(path.join(repoRoot, "core/src/rules/code.rs"), "utf8");
    const codes = [...source.matchAll(/^\s*[A-Z]\w* = "([a-z0-9-]+)", (?:Error|Warning);$/gm)].map((m) => m[1]);
    assert.ok(codes.length > 40);
    const docs = await context.newPage();
    await docs.goto(new URL("codes.html", server.url).href);
    const sections = await docs.$$eval("main section", (s) => s.map((x) => x.id));
    assert.deepEqual(sections, codes);
    const withExample = await docs.$$eval("main section", (s) => s.filter((x) => x.querySelector("pre")).map((x) => x.id));
    assert.deepEqual(codes.filter((c) => !withExample.includes(c)), ["yaml-too-large", "read-error"]);
    // The README's description of the code, and the fix of tag-unquoted: the quoted tag after it.
    assert.match(await docs.textContent("#tag-unquoted"), /cip keeps the text/);
    assert.match(await docs.textContent("#tag-unquoted"), /Quick fix: quote the tag/);
    assert.match(await docs.textContent("#tag-unquoted mark.fixed"), /^"/);
    await axe(docs, "codes page");
    await docs.close();
    await paste(INVALID);
    const links = await page.$$eval("#diagnostics a.docs", (as) => as.map((a) => a.getAttribute("href")));
    assert.ok(links.length > 0);
    for (const href of links) assert.ok(codes.includes(decodeURIComponent(href.replace("codes.html#", ""))), href);
  });
});

test("no request left 127.0.0.1, no errors, no CSP violations", () => {
  const offHost = requests.filter((u) => !u.startsWith(server.url) && !u.startsWith("data:") && !u.startsWith("blob:"));
  assert.deepEqual(offHost, []);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(cspViolations, []);
});
