// Reads the language-neutral test vectors (tests/vectors/<kind>/<case>/) into plain JS values:
// the input files as {path: text} and the expected bytes. See tests/vectors/README.md for the
// convention; this reader follows it and is shared by every JS front end.
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./frontends.mjs";

export const vectorsRoot = path.join(repoRoot, "tests/vectors");

/** Files of a case directory that are not input. */
const NOT_INPUT = new Set(["expected.json", "README.md", "inventory.json", "options.json"]);

/** Every case of a kind, sorted by name: {name, dir, files, expected, inventory?, options?}. */
export function cases(kind) {
  const dir = path.join(vectorsRoot, kind);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => statSync(path.join(dir, name)).isDirectory())
    .sort()
    .map((name) => readCase(path.join(dir, name), name));
}

function readCase(dir, name) {
  const files = {};
  for (const rel of walk(dir, "")) {
    if (!NOT_INPUT.has(rel)) files[rel] = readFileSync(path.join(dir, rel), "utf8");
  }
  const optional = (f) => (existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), "utf8") : undefined);
  return {
    name,
    dir,
    files,
    expected: readFileSync(path.join(dir, "expected.json"), "utf8"),
    inventory: optional("inventory.json"),
    options: optional("options.json"),
  };
}

function walk(dir, rel) {
  const out = [];
  for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  )) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...walk(dir, child));
    else if (entry.isFile()) out.push(child);
  }
  return out;
}
