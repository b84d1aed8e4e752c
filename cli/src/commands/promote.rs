//! `cip promote`: read the registries the manifests name, plan, print the plan, and with
//! `--confirm` execute it (dry run otherwise).

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use cip::promote::{self, Limits, Observer, PromoteOptions, Quiet, Report};

use super::ExitStatus;
use crate::display;

/// Output formats of `cip promote`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PromoteFormat {
    /// The plan, failures and a summary table.
    Human,
    /// `{"plan": ..., "report": ...}`: every action with its result and timing.
    Json,
}

/// Arguments of `cip promote`.
#[derive(Debug, clap::Args)]
pub(crate) struct PromoteArgs {
    #[command(flatten)]
    pub attachments: crate::planning::AttachmentArgs,
    /// Verify before promoting: --require-signature, --verify-key, the keyless identity flags.
    #[command(flatten)]
    pub trust: super::trust_args::TrustArgs,
    /// Sign after promoting: --sign with --sign-key or keyless.
    #[command(flatten)]
    pub signing: super::sign_args::SignArgs,
    /// Execute the plan. Without it nothing is written (dry run).
    #[arg(long)]
    pub confirm: bool,
    /// Only these destination registries (repeatable): split a promotion to many mirrors across
    /// parallel jobs, one per mirror.
    #[arg(long = "dest", value_name = "REGISTRY")]
    pub dest: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: PromoteFormat,
    /// Any error blocks every action, not only the edges it concerns.
    #[arg(long)]
    pub strict: bool,
    /// Images promoted in parallel.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub jobs: usize,
    /// Blob transfers in parallel per destination registry.
    #[arg(long, default_value_t = 12, value_name = "N")]
    pub blob_jobs: usize,
    /// When source and destination are one registry, read and hash every blob from the source
    /// before mounting it (a mount moves no bytes and is otherwise not read).
    #[arg(long)]
    pub verify_mounts: bool,
    /// The delta base: --base PATH or --base-rev REV.
    #[command(flatten)]
    pub base: crate::planning::BaseArgs,
    /// How registries are reached: credentials, insecure hosts, rates, timeouts, verbosity.
    #[command(flatten)]
    pub online: super::online::OnlineArgs,
    /// Manifest files and thin manifest directories, promoted together.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
}

/// The library options these arguments describe.
fn options(args: &PromoteArgs) -> anyhow::Result<PromoteOptions> {
    let trust = args.trust.options()?;
    Ok(PromoteOptions {
        confirm: args.confirm,
        strict: args.strict,
        dest: args.dest.clone(),
        limits: Limits { jobs: args.jobs, blob_jobs: args.blob_jobs, ..Limits::default() },
        registry: args.online.registry_options()?,
        progress_every: Duration::from_millis(200),
        verify_mounts: args.verify_mounts,
        base: args.base.load(&args.paths)?,
        attachments: args.attachments.attachments,
        attachment_types: args.attachments.attachment_type.clone(),
        trust: trust.clone(),
        sign: args.signing.options(trust.trusted_root)?,
    })
}

/// Runs `cip promote`.
pub(crate) fn run(args: PromoteArgs) -> anyhow::Result<ExitStatus> {
    args.online.init_tracing();
    let options = options(&args)?;
    let input = match crate::input::read_paths(&args.paths) {
        Ok(input) => input,
        Err(error) if args.format == PromoteFormat::Json => {
            // Tools reading JSON get `{"plan": ...}` with the error in it, never nothing; exit 2.
            let mut plan = cip_core::Plan::default();
            plan.diagnostics.push(crate::render::read_error(&error.to_string(), error.path()));
            let text = cip_core::wire::pretty_json(&serde_json::json!({ "plan": plan }));
            std::io::stdout().lock().write_all(text.as_bytes()).context("writing output")?;
            return Err(error).context("reading manifests");
        }
        Err(error) => return Err(error).context("reading manifests"),
    };
    let human = args.format == PromoteFormat::Human;
    let observer: &dyn Observer = if human && display::wanted() { &display::PromoteDisplay } else { &Quiet };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let outcome = runtime.block_on(promote::run(input, &options, observer))?;
    {
        let mut err = std::io::stderr().lock();
        for note in &outcome.read_notes {
            let _ = writeln!(err, "cip: note: {note}");
        }
        for error in &outcome.read_errors {
            let _ = writeln!(err, "cip: warning: {error}");
        }
    }
    let (plan, report) = (&outcome.plan, outcome.report.as_ref());
    let mut out = String::new();
    match args.format {
        PromoteFormat::Human => {
            out.push_str(&crate::render::tables::plan_human(
                plan,
                &outcome.set.files,
                super::plan::color(true),
            ));
            match report {
                Some(report) => out.push_str(&report.to_human()),
                None if !args.confirm => {
                    out.push_str("dry run: nothing written (add --confirm to promote)\n")
                }
                None => out.push_str("nothing to do\n"),
            }
        }
        PromoteFormat::Json => out = outcome.to_json(),
    }
    std::io::stdout().lock().write_all(out.as_bytes()).context("writing output")?;
    let failed = report.is_some_and(Report::has_failures);
    Ok(if failed || plan.has_problems() { ExitStatus::Findings } else { ExitStatus::Clean })
}
