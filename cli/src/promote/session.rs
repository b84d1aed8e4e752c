//! One promotion from manifests to report, as every front end runs it: load the manifests, keep
//! the `dest` registries, read what planning needs through the stores, plan (core), and with
//! `confirm` execute. The read is the one every command uses ([`crate::read`]): `cip plan` and
//! `cip promote`'s dry run print identical plans for the same manifests. The CLI and the Node
//! addon call [`run`] and only decode their arguments and encode its [`PromoteOutcome`], so both
//! plan and promote identically.
//!
//! Front ends watch a run through an [`Observer`]: phases, the plan, progress counters at a fixed
//! pace while executing, and one call per finished action (done or failed, with destination and
//! digest).

use std::sync::Arc;
use std::time::{Duration, Instant};

use cip_core::{Input, ManifestSet, Plan, PlanOptions};

use super::execute::{Executor, Limits};
use super::progress::Progress;
use super::report::{ActionReport, Report};
use crate::connect::{ConnectError, Connection, RegistryOptions};
use crate::registry::RegistryError;
use crate::store::Stores;

/// How a promotion runs.
#[derive(Clone, Debug)]
pub struct PromoteOptions {
    /// Execute the plan; without it nothing is written (dry run).
    pub confirm: bool,
    /// Any error blocks every action.
    pub strict: bool,
    /// Only these destination registries (empty: all).
    pub dest: Vec<String>,
    /// Parallelism of the executor.
    pub limits: Limits,
    /// How registries are reached.
    pub registry: RegistryOptions,
    /// Pace of [`Observer::progress`] calls while executing.
    pub progress_every: Duration,
    /// When source and destination are one registry (or one layout), read and hash every blob
    /// from the source before mounting it, instead of trusting the registry's copy (`cip promote
    /// --verify-mounts`). Costs the source egress a mount saves; off by default.
    pub verify_mounts: bool,
    /// A delta base (`cip promote --base`, `--base-rev`): only digests new in a destination
    /// since these manifests, or whose tag list changed there, are planned
    /// ([`cip_core::plan::plan_delta`]). `None`: everything the manifests name.
    pub base: Option<ManifestSet>,
    /// `--attachments`: which attachments follow the promoted digests (default all).
    pub attachments: cip_core::plan::AttachmentFilter,
    /// `--attachment-type`: only referrers with one of these `artifactType`s follow.
    pub attachment_types: Vec<String>,
    /// The trust gate (`--require-signature`, `--verify-key`, ...): source signatures and
    /// attestations verified before promoting (see [`cip_core::plan::PlanOptions::trust`]).
    pub trust: cip_core::trust::TrustOptions,
    /// Sign what was promoted (`--sign`): after the copies, every digest the manifests place in
    /// a destination (and not blocked or failed there) is signed once per identity and the
    /// signature written to each destination ([`crate::sign`]). `None`: nothing is signed.
    pub sign: Option<crate::sign::SignOptions>,
}

impl Default for PromoteOptions {
    fn default() -> Self {
        PromoteOptions {
            confirm: false,
            strict: false,
            dest: Vec::new(),
            limits: Limits::default(),
            registry: RegistryOptions::default(),
            progress_every: Duration::from_millis(100),
            verify_mounts: false,
            base: None,
            attachments: cip_core::plan::AttachmentFilter::All,
            attachment_types: Vec::new(),
            trust: cip_core::trust::TrustOptions::default(),
            sign: None,
        }
    }
}

/// The stages of a run, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Reading the registries.
    Reading,
    /// Planning (core).
    Planning,
    /// Executing the plan (only with `confirm` and something to do).
    Promoting,
    /// Signing what was promoted (only with `confirm` and signing asked for).
    Signing,
    /// Finished.
    Done,
}

impl Phase {
    /// The phase's name in events (`reading`, `planning`, `promoting`, `done`).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Reading => "reading",
            Phase::Planning => "planning",
            Phase::Promoting => "promoting",
            Phase::Signing => "signing",
            Phase::Done => "done",
        }
    }
}

/// Watches a run. Every method is called from the run's own task, in the order things happen.
pub trait Observer: Sync {
    /// A phase starts.
    fn phase(&self, _phase: Phase) {}
    /// The plan is known.
    fn plan(&self, _plan: &Plan) {}
    /// Counters while executing, every [`PromoteOptions::progress_every`]; `last` once at the end.
    fn progress(&self, _progress: &Progress, _elapsed: Duration, _last: bool) {}
    /// One action finished (`index` into the plan's actions).
    fn action(&self, _index: usize, _report: &ActionReport) {}
}

/// An observer that ignores everything.
pub struct Quiet;

impl Observer for Quiet {}

/// What a run produced. Serializes to the machine-readable result every front end gives:
/// `{"plan": ..., "report": ...}` (no `report` for a dry run).
#[derive(Debug, serde::Serialize)]
pub struct PromoteOutcome {
    /// The manifests (restricted to `dest`), with their files for rendering.
    #[serde(skip)]
    pub set: ManifestSet,
    /// The plan.
    pub plan: Plan,
    /// What execution did; `None` for a dry run or an empty plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
    /// Repositories that could not be read (their edges are blocked as `inventory-missing`).
    #[serde(skip)]
    pub read_errors: Vec<RegistryError>,
    /// Notes of the read (unsupported media types, ...).
    #[serde(skip)]
    pub read_notes: Vec<String>,
}

impl PromoteOutcome {
    /// The machine-readable result: `{"plan": ..., "report": ...}` (no `report` for a dry run),
    /// pretty JSON with a final newline, as `cip promote --format json` prints it and the Node
    /// addon returns it.
    pub fn to_json(&self) -> String {
        cip_core::wire::pretty_json(self)
    }
}

/// Why a run could not plan at all (failed actions are in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum PromoteError {
    /// A `dest` registry that no manifest names.
    #[error("--dest {0}: no manifest names this registry")]
    UnknownDest(String),
    /// The registry client could not be configured.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// A registry could not be read at all (unreachable, credentials refused).
    #[error("cannot read the registries: {0}")]
    Read(RegistryError),
}

/// Drops the destination registries not named by `dest`, so that only the chosen mirrors are
/// read and planned (the other mirrors are another job's business, not blocked edges).
fn restrict(set: &mut ManifestSet, dest: &[String]) {
    if dest.is_empty() {
        return;
    }
    for manifest in &mut set.manifests {
        manifest.registries.retain(|r| r.src || dest.contains(&r.name.value));
    }
}

/// Runs a promotion (see the module documentation).
pub async fn run(
    input: Input,
    options: &PromoteOptions,
    observer: &dyn Observer,
) -> Result<PromoteOutcome, PromoteError> {
    let set = cip_core::load(input);
    let known = |d: &String| set.manifests.iter().flat_map(|m| &m.registries).any(|r| &r.name.value == d);
    if let Some(unknown) = options.dest.iter().find(|d| !known(d)) {
        return Err(PromoteError::UnknownDest(unknown.clone()));
    }
    let connection = Connection::for_set(&set, &options.registry)?;
    run_on(&connection, set, options, observer).await
}

/// Runs a promotion of a loaded manifest set over an open connection (its stores and reader):
/// what [`run`] does after connecting, for callers that build the connection themselves.
pub async fn run_on(
    connection: &Connection,
    set: ManifestSet,
    options: &PromoteOptions,
    observer: &dyn Observer,
) -> Result<PromoteOutcome, PromoteError> {
    let mut set = set;
    restrict(&mut set, &options.dest);
    observer.phase(Phase::Reading);
    let plan_options = PlanOptions {
        strict: options.strict,
        attachments: options.attachments,
        attachment_types: options.attachment_types.clone(),
        trust: options.trust.clone(),
    };
    let read = connection.read_for_plan_with(&set, &crate::read::Discovery::of(&plan_options)).await;
    if let Some(error) = read.registry_wide_error() {
        return Err(PromoteError::Read(error.clone()));
    }
    observer.phase(Phase::Planning);
    let plan = cip_core::plan::plan_delta(&set, options.base.as_ref(), &read.inventory, &plan_options);
    observer.plan(&plan);
    let mut report = if options.confirm && !plan.actions.is_empty() {
        observer.phase(Phase::Promoting);
        Some(execute(&plan, connection.stores(), options, observer).await)
    } else {
        None
    };
    // Signing comes after every copy and tag: it never delays or blocks them, and a failure is
    // reported without undoing anything. Targets come from the manifests, so a re-run completes
    // what an earlier run's signing left out even when nothing is left to copy.
    if let (true, Some(sign)) = (options.confirm, &options.sign) {
        observer.phase(Phase::Signing);
        let targets =
            crate::sign::targets::targets(&set, &plan, report.as_ref(), sign.signing_identity.as_deref());
        let started = Instant::now();
        let signing = crate::sign::run(connection.client(), connection.stores(), targets, sign).await;
        let report = report.get_or_insert_with(|| Report::new(Vec::new(), 0));
        report.summary.millis += started.elapsed().as_millis() as u64;
        report.signing = Some(signing);
    }
    if let Some(report) = report.as_mut() {
        report.hosts = connection.hosts();
    }
    observer.phase(Phase::Done);
    Ok(PromoteOutcome { set, plan, report, read_errors: read.errors, read_notes: read.notes })
}

/// Executes a plan made earlier (a plan file, or one shard of it) without reading the
/// registries or planning again: what `cip apply` runs. The executor re-checks each action's
/// preconditions just before writing its tags ([`super::precondition`]), as in [`run`].
pub async fn execute_plan(
    connection: &Connection,
    plan: &Plan,
    options: &PromoteOptions,
    observer: &dyn Observer,
) -> Report {
    observer.plan(plan);
    observer.phase(Phase::Promoting);
    let mut report = execute(plan, connection.stores(), options, observer).await;
    report.hosts = connection.hosts();
    observer.phase(Phase::Done);
    report
}

/// Runs the plan's actions, telling the observer about progress and each finished action.
async fn execute(plan: &Plan, stores: &Stores, options: &PromoteOptions, observer: &dyn Observer) -> Report {
    let started = Instant::now();
    let progress = Arc::new(Progress::default());
    let on_action = |index: usize, report: &ActionReport| observer.action(index, report);
    let executor = Executor::new(stores, options.limits.clone(), progress.clone())
        .verify_mounts(options.verify_mounts)
        .on_action(&on_action);
    let work = executor.run(&plan.actions);
    tokio::pin!(work);
    let mut tick = tokio::time::interval(options.progress_every.max(Duration::from_millis(10)));
    let records = loop {
        tokio::select! {
            records = &mut work => break records,
            _ = tick.tick() => observer.progress(&progress, started.elapsed(), false),
        }
    };
    observer.progress(&progress, started.elapsed(), true);
    Report::new(records, started.elapsed().as_millis() as u64)
}
