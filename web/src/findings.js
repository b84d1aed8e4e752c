// The findings list: lint findings plus, with an inventory, the plan's own findings (`lost`,
// `tag-move`, `inventory-missing`, ...), each with its location, message, help, secondary
// locations, quick-fix buttons and a link to its code's section of the generated codes page.

/** Findings rendered at once; more would only slow the page without helping anyone. */
export const MAX_LISTED = 500;

const fromPlan = new WeakSet();

/** True for a finding only the plan made (the plan repeats the lint findings too). */
export function isPlanOnly(d) {
  return fromPlan.has(d);
}

/** The lint findings followed by the plan's findings the lint report does not already have. */
export function findingsOf(report, plan) {
  if (!plan) return report.diagnostics;
  const key = (d) => `${d.code}\u0000${d.file}\u0000${d.span.start}\u0000${d.span.end}\u0000${d.message}`;
  const seen = new Set(report.diagnostics.map(key));
  const extra = plan.diagnostics.filter((d) => !seen.has(key(d)));
  for (const d of extra) fromPlan.add(d);
  return [...report.diagnostics, ...extra];
}

/** The documentation of a code: its section of codes.html. */
export function docsUrl(code) {
  return `codes.html#${encodeURIComponent(code)}`;
}

/**
 * Replaces the list's items. `jump(location)` selects a location in the editor; `fix(d, fix)`
 * applies one of a finding's fixes.
 */
export function renderFindings(list, more, findings, { jump, fix }) {
  const items = findings.slice(0, MAX_LISTED).map((d, index) => {
    const li = document.createElement("li");
    li.className = `finding ${d.severity}`;
    const button = document.createElement("button");
    button.type = "button";
    button.className = `jump ${d.severity}`;
    button.dataset.index = String(index);
    button.dataset.line = String(d.line);
    button.dataset.code = d.code;
    button.dataset.file = d.file;
    button.append(el("span", `badge ${d.severity}`, d.severity), " ", el("span", "diag-code", d.code));
    if (isPlanOnly(d)) button.append(" ", el("span", "badge plan", "plan"));
    button.append(
      el("span", "diag-where", `${d.file}:${d.line}:${d.column}`),
      el("span", "diag-message", d.message),
    );
    if (d.help) button.append(el("span", "diag-help", d.help));
    button.addEventListener("click", () => {
      for (const b of list.querySelectorAll("button[aria-current]")) b.removeAttribute("aria-current");
      button.setAttribute("aria-current", "true");
      jump(d);
    });
    li.append(button);
    if (d.labels?.length) {
      const labels = el("ul", "labels", "");
      for (const l of d.labels) {
        const b = el("button", "label-jump", `${l.file === d.file ? "" : `${l.file}:`}${l.line}:${l.column} ${l.message}`);
        b.type = "button";
        b.dataset.line = String(l.line);
        b.addEventListener("click", () => jump(l));
        const item = document.createElement("li");
        item.append(b);
        labels.append(item);
      }
      li.append(labels);
    }
    const actions = el("div", "finding-actions", "");
    for (const f of d.fixes ?? []) {
      const b = el("button", `fix ${f.applicability}`, f.applicability === "safe" ? `Fix: ${f.title}` : `Unsafe fix: ${f.title}`);
      b.type = "button";
      b.dataset.applicability = f.applicability;
      if (f.applicability !== "safe") b.title = "Unsafe: may change what is promoted; asks before applying";
      b.addEventListener("click", () => fix(d, f));
      actions.append(b);
    }
    const docs = el("a", "docs", `About ${d.code}`);
    docs.href = docsUrl(d.code);
    actions.append(docs);
    li.append(actions);
    return li;
  });
  if (findings.length === 0) items.push(el("li", "muted", "No findings."));
  list.replaceChildren(...items);
  more.hidden = findings.length <= MAX_LISTED;
  more.textContent = `Showing the first ${MAX_LISTED} of ${findings.length} findings.`;
}

/** The hover card of a squiggle: code (linked to its docs), message, help, secondary locations. */
export function describeFinding(d) {
  const card = el("div", "cm-cip-card", "");
  const code = el("a", "diag-code", d.code);
  code.href = docsUrl(d.code);
  card.append(code, " ", el("span", "diag-message", d.message));
  if (d.help) card.append(el("span", "diag-help", d.help));
  for (const l of d.labels ?? []) card.append(el("span", "diag-label", `${l.line}:${l.column}: ${l.message}`));
  return card;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}
