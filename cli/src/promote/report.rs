//! What a promotion did: one record per plan action (result, cause, timing, blobs and bytes),
//! a summary, the JSON form (`--format json`) and the human summary table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::registry::stats::HostReport;

/// How one action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Everything done.
    Done,
    /// Failed; nothing was tagged for it (some of its blobs may have been stored).
    Failed,
    /// A precondition no longer held when it was re-checked just before writing (see
    /// `refused`): the tags it concerns were left alone, the rest of the action was done.
    Refused,
}

/// A precondition of an action that no longer held at write time (see
/// [`super::precondition`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// `tag-move` (the tag now points elsewhere; never moved) or `lost` (the digest vanished).
    pub code: String,
    /// The tag concerned (`tag-move`); `None` for the whole action (`lost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The digest the tag points at now (`tag-move`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
}

/// Blob and byte counters, shared by the tasks of one action (and summed for the run).
#[derive(Debug, Default)]
pub struct Counters {
    /// Manifests written by digest.
    pub manifests: AtomicU64,
    /// Blobs uploaded from the source.
    pub uploaded: AtomicU64,
    /// Blobs mounted from another repository of the destination.
    pub mounted: AtomicU64,
    /// Blobs already present.
    pub present: AtomicU64,
    /// Blob bytes uploaded.
    pub bytes: AtomicU64,
    /// Preconditions that no longer held (each recorded once, across retries).
    pub refused: Mutex<Vec<Refusal>>,
}

impl Counters {
    /// Adds one to a counter.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Records a refused precondition (once: a retried action meets it again).
    pub fn refuse(&self, refusal: Refusal) {
        let mut refused = self.refused.lock().expect("refusals lock");
        if !refused.contains(&refusal) {
            refused.push(refusal);
        }
    }
}

/// The record of one action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionReport {
    /// `copy` or `tag`.
    pub action: cip_core::plan::ActionKind,
    /// Source `<repo>@<digest>`.
    pub src: String,
    /// Destination repository.
    pub dst: String,
    /// The digest.
    pub digest: String,
    /// Tags set (or that would have been set).
    pub tags: Vec<String>,
    /// Result.
    pub result: Outcome,
    /// Cause of a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall time in milliseconds.
    pub millis: u64,
    /// Manifests written by digest (the image, or an index and its children).
    pub manifests: u64,
    /// Blobs uploaded.
    pub blobs_uploaded: u64,
    /// Blobs mounted.
    pub blobs_mounted: u64,
    /// Blobs already present.
    pub blobs_present: u64,
    /// Bytes uploaded.
    pub bytes: u64,
    /// Preconditions that no longer held at write time (result `refused`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Refusal>,
}

impl ActionReport {
    /// Fills the counters of a finished action.
    pub fn with_counters(mut self, counters: &Counters) -> Self {
        self.manifests = Counters::get(&counters.manifests);
        self.blobs_uploaded = Counters::get(&counters.uploaded);
        self.blobs_mounted = Counters::get(&counters.mounted);
        self.blobs_present = Counters::get(&counters.present);
        self.bytes = Counters::get(&counters.bytes);
        self.refused = counters.refused.lock().expect("refusals lock").clone();
        if self.result == Outcome::Done && !self.refused.is_empty() {
            self.result = Outcome::Refused;
        }
        self
    }
}

/// Totals of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportSummary {
    /// Actions done.
    pub done: usize,
    /// Actions failed.
    pub failed: usize,
    /// Actions with a refused precondition (`tag-move`, `lost`); the rest of each was done.
    #[serde(default)]
    pub refused: usize,
    /// Tags set.
    pub tags: usize,
    /// Manifests written.
    pub manifests: u64,
    /// Blobs uploaded.
    pub blobs_uploaded: u64,
    /// Blobs mounted.
    pub blobs_mounted: u64,
    /// Blobs already present.
    pub blobs_present: u64,
    /// Bytes uploaded.
    pub bytes: u64,
    /// Wall time of the run in milliseconds.
    pub millis: u64,
}

/// Every action's record, in plan order, the totals, and each registry host's requests and
/// rate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// One record per executed action.
    pub actions: Vec<ActionReport>,
    /// Totals.
    pub summary: ReportSummary,
    /// Registry hosts of the run (reading included): requests, the rate in effect at the end
    /// and the lowest (adaptive rates fall on `429`), throttling answers. Layouts are not here.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hosts: BTreeMap<String, HostReport>,
    /// What signing after the promotion did (`--sign`): per digest and destination, signatures
    /// and attestations written, skipped (already there) or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing: Option<crate::sign::SignReport>,
}

impl Report {
    /// Builds the report of finished actions.
    pub fn new(actions: Vec<ActionReport>, millis: u64) -> Self {
        let mut s = ReportSummary { millis, ..ReportSummary::default() };
        for a in &actions {
            match a.result {
                Outcome::Done => {
                    s.done += 1;
                    s.tags += a.tags.len();
                }
                Outcome::Failed => s.failed += 1,
                Outcome::Refused => s.refused += 1,
            }
            s.manifests += a.manifests;
            s.blobs_uploaded += a.blobs_uploaded;
            s.blobs_mounted += a.blobs_mounted;
            s.blobs_present += a.blobs_present;
            s.bytes += a.bytes;
        }
        Report { actions, summary: s, hosts: BTreeMap::new(), signing: None }
    }

    /// True when any action failed or was refused, or any signature could not be written.
    pub fn has_failures(&self) -> bool {
        self.summary.failed > 0
            || self.summary.refused > 0
            || self.signing.as_ref().is_some_and(crate::sign::SignReport::has_failures)
    }

    /// Failures (one line each, with cause) and the summary table.
    pub fn to_human(&self) -> String {
        let mut out = String::new();
        for a in self.actions.iter().filter(|a| a.result == Outcome::Failed) {
            let cause = a.error.as_deref().unwrap_or("unknown cause");
            let _ = writeln!(out, "failed: {} {}@{}: {cause}", action_name(a), a.dst, a.digest);
        }
        for a in &self.actions {
            for r in &a.refused {
                let _ = writeln!(out, "refused: {}", a.refusal_line(r));
            }
        }
        let s = &self.summary;
        let rows = [
            ("actions done", s.done.to_string()),
            ("actions failed", s.failed.to_string()),
            ("actions refused", s.refused.to_string()),
            ("tags set", s.tags.to_string()),
            ("manifests written", s.manifests.to_string()),
            ("blobs uploaded", s.blobs_uploaded.to_string()),
            ("blobs mounted", s.blobs_mounted.to_string()),
            ("blobs already present", s.blobs_present.to_string()),
            ("bytes uploaded", human_bytes(s.bytes)),
            ("wall time", format!("{:.2}s", s.millis as f64 / 1000.0)),
        ];
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in rows {
            let _ = writeln!(out, "  {k:<width$}  {v:>10}");
        }
        if let Some(signing) = &self.signing {
            out.push_str(&signing.to_human());
        }
        // A host's rate is worth a line where it is limited at all or slowed us down.
        for (host, h) in &self.hosts {
            let l = &h.limiter;
            if l.rate.is_none() && l.throttled == 0 {
                continue;
            }
            let rate = |r: Option<f64>| r.map_or_else(|| "unlimited".to_owned(), |r| format!("{r}/s"));
            let _ = write!(out, "  rate {host}: {} {}", l.mode, rate(l.rate));
            if l.cuts > 0 {
                let _ = write!(out, " (lowest {})", rate(l.lowest));
            }
            let _ = writeln!(out, ", {} requests, {} throttled (429)", h.requests, l.throttled);
        }
        out
    }
}

impl ActionReport {
    /// One refused precondition of this action for people: what, where, and why nothing was
    /// written.
    pub fn refusal_line(&self, r: &Refusal) -> String {
        let a = self;
        match (&r.tag, &r.found) {
            (Some(tag), Some(found)) => format!(
                "{} {}:{tag} points at {found}, not {}: the tag was left alone (tags never move)",
                r.code, a.dst, a.digest
            ),
            _ => {
                format!("{} {}@{} is no longer in {}: nothing tagged", r.code, a.dst, a.digest, lost_where(a))
            }
        }
    }
}

fn lost_where(a: &ActionReport) -> &str {
    match a.action {
        cip_core::plan::ActionKind::Copy | cip_core::plan::ActionKind::Attach => {
            a.src.rsplit_once('@').map_or(a.src.as_str(), |(repo, _)| repo)
        }
        cip_core::plan::ActionKind::Tag => &a.dst,
    }
}

fn action_name(a: &ActionReport) -> &'static str {
    match a.action {
        cip_core::plan::ActionKind::Copy => "copy",
        cip_core::plan::ActionKind::Tag => "tag",
        cip_core::plan::ActionKind::Attach => "attach",
    }
}

/// `1.5 MiB`-style sizes.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}
