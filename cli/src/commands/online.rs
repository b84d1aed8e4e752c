//! What the commands that read registries share (`plan`, `snapshot` and `audit` without
//! `--inventory`): registry options, logging levels (`-v`), a progress line on a terminal, and
//! turning read failures into either one clear error line (a registry that cannot be read at all:
//! exit 2) or warnings next to the plan (one repository failed: the planner reports it).

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use cip::connect::RegistryOptions;
use cip::registry::auth::Credential;
use cip::registry::stats::Stats;
use cip::registry::{ReadOutcome, RegistryClient, needs, snapshot};
use cip_core::{Inventory, ManifestSet, PlanOptions};

/// Registry options of the commands that read registries.
#[derive(Debug, Clone, clap::Args)]
pub struct OnlineArgs {
    /// Registry (HOST or HOST:PORT) allowed plain HTTP and unverified TLS (repeatable). Loopback
    /// addresses always are.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,
    /// Credentials for a registry host from an environment variable holding USER:PASSWORD
    /// (repeatable). Otherwise Docker's config.json (and its credential helpers) is used, and
    /// Google credentials for Google registry hosts.
    #[arg(long = "auth-env", value_name = "HOST=VAR")]
    pub auth_env: Vec<String>,
    /// Requests per second per registry host (0 = unlimited); never more in any one-second window.
    #[arg(long = "registry-rate", visible_alias = "rate", default_value_t = 50.0, value_name = "N")]
    pub registry_rate: f64,
    /// Requests per second for one host, overriding --registry-rate (repeatable).
    #[arg(long = "host-rate", value_name = "HOST=N")]
    pub host_rate: Vec<String>,
    /// Requests in flight per registry host.
    #[arg(long = "max-concurrency", default_value_t = 16, value_name = "N")]
    pub max_concurrency: usize,
    /// Seconds before a registry request without an answer is retried.
    #[arg(long = "request-timeout", default_value_t = 30, value_name = "SECONDS")]
    pub request_timeout: u64,
    /// A Google service-account key file, instead of application default credentials.
    #[arg(long = "google-credentials", value_name = "FILE")]
    pub google_credentials: Option<String>,
    /// Do not read Docker's config.json.
    #[arg(long = "no-docker-config")]
    pub no_docker_config: bool,
    /// Upload blobs in chunks of this many MiB (one request each) instead of one streamed
    /// request, for registries or proxies that limit request sizes.
    #[arg(long = "chunk-size", value_name = "MIB")]
    pub chunk_size: Option<u64>,
    /// More detail on stderr: -v progress lines, -vv every request, -vvv everything (secrets are
    /// never shown at any level).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl OnlineArgs {
    /// The registry options these flags describe (environment variables of `--auth-env` read
    /// here).
    pub fn registry_options(&self) -> anyhow::Result<RegistryOptions> {
        let mut options = RegistryOptions {
            rate: Some(self.registry_rate),
            max_concurrency: Some(self.max_concurrency),
            request_timeout: Some(Duration::from_secs(self.request_timeout)),
            google_key_file: self.google_credentials.as_ref().map(Into::into),
            insecure: self.insecure_registry.iter().cloned().collect(),
            no_docker_config: self.no_docker_config,
            upload_chunk_bytes: self.chunk_size.map(|mib| mib.saturating_mul(1024 * 1024)),
            ..RegistryOptions::default()
        };
        for entry in &self.host_rate {
            let (host, rate) = entry.split_once('=').context("--host-rate takes HOST=N")?;
            let rate: f64 =
                rate.parse().with_context(|| format!("--host-rate {entry}: N must be a number"))?;
            options.host_rates.insert(host.to_string(), rate);
        }
        for entry in &self.auth_env {
            let (host, var) = entry.split_once('=').context("--auth-env takes HOST=VAR")?;
            let value =
                std::env::var(var).with_context(|| format!("--auth-env {entry}: ${var} is not set"))?;
            let credential = Credential::from_user_colon_password(&value)
                .with_context(|| format!("--auth-env {entry}: ${var} must hold USER:PASSWORD"))?;
            options.credentials.insert(host.to_string(), credential);
        }
        Ok(options)
    }

    /// The registry client these options describe; `set` supplies each registry's
    /// `service-account`.
    pub fn client(&self, set: Option<&ManifestSet>) -> anyhow::Result<RegistryClient> {
        Ok(self.registry_options()?.client(set)?)
    }

    /// Starts logging at the chosen level (stderr).
    pub fn init_tracing(&self) {
        let filter = match self.verbose {
            0 => "cip=warn",
            1 => "cip=info",
            2 => "cip=debug",
            _ => "trace",
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init();
    }
}

/// Reads what planning `set` needs from the registries.
pub fn read_for_plan(
    args: &OnlineArgs,
    set: &ManifestSet,
    options: &PlanOptions,
) -> anyhow::Result<Inventory> {
    args.init_tracing();
    let client = args.client(Some(set))?;
    let outcome = run_with_progress(&client, needs::read_for_plan(&client, set, options))?;
    finish(outcome, &client)
}

/// Reads every repository under `target` (`REGISTRY[/PREFIX]`).
pub fn read_snapshot(args: &OnlineArgs, target: &str) -> anyhow::Result<Inventory> {
    args.init_tracing();
    let client = args.client(None)?;
    let outcome = run_with_progress(&client, snapshot::read_prefix(&client, target))?;
    finish(outcome, &client)
}

/// Reads every repository under each destination registry of `set` (what an audit compares).
pub fn read_for_audit(args: &OnlineArgs, set: &ManifestSet) -> anyhow::Result<Inventory> {
    args.init_tracing();
    let client = args.client(Some(set))?;
    let registries: std::collections::BTreeSet<&str> = set
        .manifests
        .iter()
        .flat_map(|m| m.destinations())
        .map(|r| r.name.value.as_str())
        .filter(|name| needs::is_remote(name))
        .collect();
    let read = async {
        let mut outcome = ReadOutcome::default();
        for registry in registries {
            outcome.merge(snapshot::read_prefix(&client, registry).await);
        }
        outcome
    };
    let outcome = run_with_progress(&client, read)?;
    finish(outcome, &client)
}

/// Runs a read on a fresh runtime, with a progress line on stderr when it is a terminal.
fn run_with_progress(
    client: &RegistryClient,
    read: impl std::future::Future<Output = ReadOutcome>,
) -> anyhow::Result<ReadOutcome> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let show = std::io::stderr().is_terminal();
    let stats = client.stats().clone();
    Ok(runtime.block_on(async move {
        let ticker = show.then(|| tokio::spawn(progress(stats.clone())));
        let outcome = read.await;
        if let Some(ticker) = ticker {
            ticker.abort();
            let _ = ticker.await;
            clear_line();
        }
        outcome
    }))
}

async fn progress(stats: Arc<Stats>) {
    loop {
        let s = stats.snapshot();
        {
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[2Kreading registries: {}/{} repositories, {} requests, {} retries",
                s.repositories_done, s.repositories_total, s.requests, s.retries
            );
            let _ = err.flush();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn clear_line() {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K");
    let _ = err.flush();
}

/// Registry-wide failures end the command (exit 2, one line each); a failed repository is a
/// warning, and the planner then reports it as missing from the inventory.
fn finish(outcome: ReadOutcome, client: &RegistryClient) -> anyhow::Result<Inventory> {
    let mut err = std::io::stderr().lock();
    for note in &outcome.notes {
        let _ = writeln!(err, "cip: note: {note}");
    }
    let (fatal, partial): (Vec<_>, Vec<_>) = outcome.errors.iter().partition(|e| e.is_registry_wide());
    for error in &partial {
        let _ = writeln!(err, "cip: warning: {error}");
    }
    let s = client.stats().snapshot();
    tracing::info!(
        repositories = s.repositories_done,
        requests = s.requests,
        retries = s.retries,
        "registries read"
    );
    if !fatal.is_empty() {
        let lines: Vec<String> = fatal.iter().map(|e| e.to_string()).collect();
        bail!("cannot read the registries: {}", lines.join("; "));
    }
    Ok(outcome.inventory)
}
