// Renders a plan (the JSON `cip plan` prints) as one table per destination repository:
// copy and tag actions in execution order, then blocked edges with their reasons.

/** Replaces the contents of `container` with the plan's tables and counts. */
export function renderPlan(container, plan) {
  const byDestination = new Map();
  const rowsOf = (dst) => {
    if (!byDestination.has(dst)) byDestination.set(dst, []);
    return byDestination.get(dst);
  };
  for (const a of plan.actions) rowsOf(a.dst).push({ kind: a.action, digest: a.digest, tags: a.tags, detail: a.src });
  for (const b of plan.blocked) {
    rowsOf(b.dst).push({ kind: "blocked", digest: b.digest, tags: b.tags, detail: b.reasons.join(", ") });
  }
  const s = plan.summary;
  const counts = document.createElement("p");
  counts.className = "plan-summary";
  counts.textContent = `Edges: ${s.copy} to copy, ${s.tag} to tag, ${s.present} present, ${s.blocked} blocked.`;
  const tables = [...byDestination.keys()].sort().map((dst) => table(dst, byDestination.get(dst)));
  if (tables.length === 0) {
    const done = document.createElement("p");
    done.textContent = "Nothing to do: every image is already in place.";
    tables.push(done);
  }
  container.replaceChildren(counts, ...tables);
}

function table(dst, rows) {
  const t = document.createElement("table");
  t.dataset.dst = dst;
  t.createCaption().textContent = dst;
  const head = t.createTHead().insertRow();
  for (const h of ["Action", "Digest", "Tags", "Source / reasons"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  const body = t.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    tr.dataset.action = r.kind;
    cell(tr, r.kind, `action ${r.kind}`);
    cell(tr, shortDigest(r.digest), "mono").title = r.digest;
    cell(tr, r.tags.length ? r.tags.join(", ") : "(by digest)", "");
    cell(tr, r.detail ?? "", "mono");
  }
  return t;
}

function cell(tr, text, className) {
  const td = tr.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

// sha256:0123456789ab… keeps tables readable; the full digest is in the cell's title.
function shortDigest(digest) {
  const [algo, hex] = digest.split(":");
  return hex && hex.length > 12 ? `${algo}:${hex.slice(0, 12)}…` : digest;
}
