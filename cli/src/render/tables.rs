//! Human text for plans, snapshots' findings and audits: the findings (rustc style), then a table
//! per destination and totals. JSON output is the core's own serialization, printed as is.

use std::fmt::Write as _;

use cip_core::audit::{AttachmentStatus, AuditReport, DriftKind};
use cip_core::{ActionKind, Files, Plan, PlanSummary};

use super::diagnostics_human;

/// The plan for people: findings, the actions, blocked edges, a table per destination registry
/// and totals.
pub(crate) fn plan_human(plan: &Plan, files: &Files, color: bool) -> String {
    let mut out = diagnostics_human(&plan.diagnostics, files, color);
    for a in &plan.actions {
        let tags = tag_list(&a.tags);
        let _ = match a.action {
            ActionKind::Copy => writeln!(out, "copy {} -> {}{tags}", a.src, a.dst),
            ActionKind::Tag => writeln!(out, "tag  {}@{}{tags}", a.dst, a.digest),
            ActionKind::Attach => {
                let (kind, merge) = a.attachment.as_ref().map_or(("", false), |x| (x.kind.as_str(), x.merge));
                let merge = if merge { " (union with the destination's layers)" } else { "" };
                writeln!(out, "attach {kind} {} -> {}{tags}{merge}", a.src, a.dst)
            }
        };
    }
    for b in &plan.blocked {
        let _ =
            writeln!(out, "blocked {}@{}{} ({})", b.dst, b.digest, tag_list(&b.tags), b.reasons.join(", "));
    }
    if !plan.actions.is_empty() || !plan.blocked.is_empty() {
        out.push('\n');
    }
    table(&mut out, plan);
    out
}

fn tag_list(tags: &[String]) -> String {
    if tags.is_empty() { String::new() } else { format!(" [{}]", tags.join(", ")) }
}

fn table(out: &mut String, plan: &Plan) {
    let width = plan.destinations.keys().map(String::len).max().unwrap_or(0).max("destination".len());
    let row = |out: &mut String, name: &str, c: &PlanSummary| {
        let _ =
            writeln!(out, "{name:<width$}  {:>8}  {:>8}  {:>8}  {:>8}", c.copy, c.tag, c.present, c.blocked);
    };
    let _ = writeln!(
        out,
        "{:<width$}  {:>8}  {:>8}  {:>8}  {:>8}",
        "destination", "copy", "tag", "present", "blocked"
    );
    for (name, counts) in &plan.destinations {
        row(out, name, counts);
    }
    row(out, "total", &plan.summary);
    let count = |kind| plan.actions.iter().filter(|a| a.action == kind).count();
    let (copies, tags, attaches) =
        (count(ActionKind::Copy), count(ActionKind::Tag), count(ActionKind::Attach));
    let errors = plan.diagnostics.iter().filter(|d| d.is_error()).count();
    let attaches = match attaches {
        0 => String::new(),
        n => format!(", {n} attachment{}", plural(n)),
    };
    let _ = writeln!(
        out,
        "{} action{} ({copies} cop{}, {tags} tag addition{}{attaches}), {} edge{} blocked, {errors} error{}",
        plan.actions.len(),
        plural(plan.actions.len()),
        if copies == 1 { "y" } else { "ies" },
        plural(tags),
        plan.summary.blocked,
        plural(plan.summary.blocked),
        plural(errors),
    );
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The audit for people: findings, then one line per drift entry and a count line.
pub(crate) fn audit_human(report: &AuditReport, files: &Files, color: bool) -> String {
    let mut out = diagnostics_human(&report.diagnostics, files, color);
    for d in &report.drift {
        let what = match d.kind {
            DriftKind::Digest => "undeclared digest",
            DriftKind::Tags => "undeclared tags",
        };
        let _ = writeln!(out, "{what}: {}@{}{}", d.repository, d.digest, tag_list(&d.tags));
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} drift entr{} in {} repositor{} ({} digests audited)",
        s.drift,
        if s.drift == 1 { "y" } else { "ies" },
        s.repositories,
        if s.repositories == 1 { "y" } else { "ies" },
        s.digests
    );
    if let Some(attachments) = &report.attachments {
        for e in &attachments.entries {
            let what = match e.status {
                AttachmentStatus::Missing => "missing attachment",
                AttachmentStatus::Extra => "extra attachment (kept)",
            };
            let _ = writeln!(
                out,
                "{what}: {} {}{} of {} in {}",
                e.kind.as_str(),
                e.digest,
                tag_list(&e.tags),
                e.subject,
                e.repository
            );
        }
        let a = &attachments.summary;
        let _ = writeln!(
            out,
            "attachments: {} complete, {} missing, {} extra ({} subjects audited)",
            a.complete, a.missing, a.extra, a.subjects
        );
    }
    out
}
