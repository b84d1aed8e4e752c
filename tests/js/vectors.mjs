// Reads the language-neutral test vectors (tests/vectors/<kind>/<case>/) into plain JS values,
// following the convention of the Rust runners (core/tests/plan_vectors.rs):
//   input/        manifests; a file directly in it is a plain manifest, a directory is a thin
//                 manifest directory (only promoter-manifest.yaml / images.yaml are read);
//                 paths are relative to the case directory ("input/a.yaml")
//   base/         the same, for delta planning (optional)
//   inventory.json, options.json (optional), expected.json, expected.txt (snapshots)
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./frontends.mjs";

export const vectorsRoot = path.join(repoRoot, "tests/vectors");

const THIN_FILES = new Set(["promoter-manifest.yaml", "images.yaml"]);

/** Every case of a kind, sorted by name. */
export function cases(kind) {
  const dir = path.join(vectorsRoot, kind);
  if (!existsSync(dir)) return [];
  return sortedNames(dir)
    .filter((name) => statSync(path.join(dir, name)).isDirectory())
    .map((name) => readCase(path.join(dir, name), name));
}

function readCase(dir, name) {
  const optional = (f) => (existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), "utf8") : undefined);
  const options = optional("options.json");
  return {
    name,
    dir,
    input: readInput(dir, "input") ?? {},
    base: readInput(dir, "base"),
    inventory: optional("inventory.json"),
    options: options ? JSON.parse(options) : {},
    expectedJson: optional("expected.json"),
    expectedText: optional("expected.txt"),
  };
}

/** The trust gate's options of a case, as `options.json` names them (the CLI's words in camelCase). */
const TRUST_OPTIONS = [
  "requireSignature",
  "certificateIdentity",
  "certificateIdentityRegexp",
  "certificateOidcIssuer",
  "certificateOidcIssuerRegexp",
  "requireAttestation",
];
/** Trust options naming a file of the case directory (the CLI's FILE); JS passes the text. */
const TRUST_FILES = ["verifyKey", "trustedRoot"];

/**
 * The `options` argument of `plan` for a plan-mode case: `strict`, `base`, the attachment
 * options and the trust gate's options under the CLI's words in camelCase, with the text of
 * `verifyKey` and `trustedRoot` (files of the case directory) in place of their names.
 */
export function planOptions(c) {
  const o = c.options;
  const options = {
    strict: Boolean(o.strict),
    ...(c.base ? { base: c.base } : {}),
    ...(o.attachments ? { attachments: o.attachments } : {}),
    ...(o.attachmentType ? { attachmentType: o.attachmentType } : {}),
  };
  for (const key of TRUST_OPTIONS) if (o[key] !== undefined) options[key] = o[key];
  for (const key of TRUST_FILES) if (o[key] !== undefined) options[key] = readFileSync(path.join(c.dir, o[key]), "utf8");
  return options;
}

/** `{path: text}` of `<case>/<sub>/`, read the way the CLI reads its PATH arguments. */
function readInput(caseDir, sub) {
  const dir = path.join(caseDir, sub);
  if (!existsSync(dir)) return undefined;
  const files = {};
  const walk = (rel) => {
    for (const name of sortedNames(path.join(caseDir, rel))) {
      const child = `${rel}/${name}`;
      const abs = path.join(caseDir, child);
      if (statSync(abs).isDirectory()) walk(child);
      else if (THIN_FILES.has(name)) files[child] = readFileSync(abs, "utf8");
    }
  };
  for (const name of sortedNames(dir)) {
    const rel = `${sub}/${name}`;
    const abs = path.join(caseDir, rel);
    if (statSync(abs).isDirectory()) walk(rel);
    else files[rel] = readFileSync(abs, "utf8");
  }
  return files;
}

// Byte order, as Rust sorts strings.
function sortedNames(dir) {
  return readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
