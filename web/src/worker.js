// Runs the cip wasm engine off the main thread and keeps the open files here, so that a keystroke
// costs the page one message with the edited file's text, never a copy of the whole set.
// Protocol: {id, op, args} in; {id, result, ms} or {id, error} out.
import init, * as cip from "cip-wasm-glue";
import { pack, unpack } from "./codec.js";

const ready = init({ module_or_path: new URL("./cip_wasm_bg.wasm", import.meta.url) });

let files = {};
let inventory = "";

/** What the page may ask; anything else is a programming error in the page. */
const OPS = {
  version: () => cip.version(),
  defaultFileName: () => cip.defaultFileName(),
  /** Replaces the open files ({path: text}). */
  setFiles: (next) => {
    files = next;
  },
  /** One file's new text. */
  edit: (path, text) => {
    files[path] = text;
  },
  /** Edits of one file: [from, to, text] ranges of its current text, in order, not overlapping. */
  splice: (path, edits) => {
    let text = files[path];
    for (let i = edits.length - 1; i >= 0; i--) {
      const [from, to, insert] = edits[i];
      text = text.slice(0, from) + insert + text.slice(to);
    }
    files[path] = text;
  },
  /** The inventory JSON text the plan is made against ("" for none). */
  setInventory: (text) => {
    inventory = text;
  },
  /**
   * Lints the files and, with an inventory, plans against it: {report, plan, planError}. One
   * call, so the page shows both at once.
   */
  check: () => {
    const report = cip.lint(files);
    if (!inventory.trim()) return { report, plan: null, planError: null };
    try {
      return { report, plan: cip.plan(files, inventory, {}), planError: null };
    } catch (err) {
      return { report, plan: null, planError: String(err?.message ?? err) };
    }
  },
  /** The SARIF log of findings (lint and plan diagnostics), as `cip lint --format sarif` writes it. */
  sarif: (diagnostics) => cip.sarif(diagnostics),
  /** The files and `extra` deflated into base64url text (share links, saved state). */
  pack: (extra) => pack({ files, ...extra }),
  unpack: (text) => unpack(text),
};

self.onmessage = async (event) => {
  const { id, op, args } = event.data;
  try {
    await ready;
    if (!Object.hasOwn(OPS, op)) throw new Error(`the engine has no operation ${op}`);
    const start = performance.now();
    const result = await OPS[op](...args);
    self.postMessage({ id, result, ms: performance.now() - start });
  } catch (err) {
    self.postMessage({ id, error: String(err?.message ?? err) });
  }
};
