//! What the commands that read registries share (`plan`, `snapshot` and `audit` without
//! `--inventory`): registry options, logging levels (`-v`), a progress line on a terminal, and
//! turning read failures into either one clear error line (a registry that cannot be read at all:
//! exit 2) or warnings next to the plan (one repository failed: the planner reports it).

use std::io::{IsTerminal, Write};

use anyhow::{Context, bail};
use cip::{Connection, ReadOutcome, RegistryOptions};
use cip_core::{Inventory, ManifestSet};

use crate::display;

/// Registry options of the commands that read registries.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct OnlineArgs {
    /// Registry (HOST or HOST:PORT) allowed plain HTTP and unverified TLS (repeatable). Loopback
    /// addresses always are.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,
    /// Credentials for a registry host from an environment variable holding USER:PASSWORD
    /// (repeatable). Otherwise Docker's config.json (and its credential helpers) is used, and
    /// Google credentials for Google registry hosts.
    #[arg(long = "auth-env", value_name = "HOST=VAR")]
    pub auth_env: Vec<String>,
    /// A fixed rate for every registry host, requests per second (0 = unlimited); never more in
    /// any one-second window. Default: loopback and --insecure-registry hosts unlimited, Google
    /// hosts 50, other hosts adaptive from 100 (halved on 429, recovering while requests succeed).
    #[arg(long = "registry-rate", visible_alias = "rate", value_name = "N")]
    pub registry_rate: Option<f64>,
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
    /// The registry options these flags describe.
    pub(crate) fn registry_options(&self) -> anyhow::Result<RegistryOptions> {
        let mut options = RegistryOptions {
            registry_rate: self.registry_rate,
            max_concurrency: Some(self.max_concurrency),
            request_timeout: Some(self.request_timeout),
            google_credentials: self.google_credentials.as_ref().map(Into::into),
            insecure_registry: self.insecure_registry.iter().cloned().collect(),
            no_docker_config: self.no_docker_config,
            chunk_size: self.chunk_size,
            ..RegistryOptions::default()
        };
        for entry in &self.host_rate {
            let (host, rate) = entry.split_once('=').context("--host-rate takes HOST=N")?;
            let rate: f64 =
                rate.parse().with_context(|| format!("--host-rate {entry}: N must be a number"))?;
            options.host_rate.insert(host.to_string(), rate);
        }
        for entry in &self.auth_env {
            let (host, var) = entry.split_once('=').context("--auth-env takes HOST=VAR")?;
            options.auth_env.insert(host.to_string(), var.to_string());
        }
        Ok(options)
    }

    /// Starts logging at the chosen level (stderr).
    pub(crate) fn init_tracing(&self) {
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

    /// Connects to `registries` (`set` supplies service accounts), with logging started.
    pub(crate) fn connect(
        &self,
        registries: Vec<String>,
        set: Option<&ManifestSet>,
    ) -> anyhow::Result<Connection> {
        self.init_tracing();
        Ok(Connection::open(registries, set, &self.registry_options()?)?)
    }
}

/// Which registries to read and what to ask them.
pub(crate) enum Read<'a> {
    /// What planning a manifest set needs, looking for the attachments the plan will use.
    Plan(&'a ManifestSet, &'a cip::read::Discovery),
    /// Every repository under each destination registry of a manifest set.
    Audit(&'a ManifestSet),
    /// Every repository under one `REGISTRY[/PREFIX]`.
    Prefix(&'a str),
}

/// Reads the registries (see [`Read`]) with a progress line on a terminal. Registry-wide failures
/// end the command (exit 2, one line each); a failed repository is a warning, and the planner
/// then reports its edges as missing from the inventory.
pub(crate) fn read(args: &OnlineArgs, what: Read<'_>) -> anyhow::Result<Inventory> {
    let connection = match what {
        Read::Plan(set, _) | Read::Audit(set) => {
            let names =
                set.manifests.iter().flat_map(|m| &m.registries).map(|r| r.name.value.clone()).collect();
            args.connect(names, Some(set))?
        }
        Read::Prefix(target) => args.connect(vec![target.trim_end_matches('/').to_string()], None)?,
    };
    let counters = connection.counters().clone();
    let line = move || {
        let s = counters.snapshot();
        format!(
            "reading registries: {}/{} repositories, {} requests, {} retries",
            s.repositories_done, s.repositories_total, s.requests, s.retries
        )
    };
    let reading = async {
        match what {
            Read::Plan(set, discovery) => connection.read_for_plan_with(set, discovery).await,
            Read::Audit(set) => connection.read_for_audit(set).await,
            Read::Prefix(target) => connection.read_registries(&[target.to_string()]).await,
        }
    };
    let outcome = display::with_progress(reading, line).context("starting the async runtime")?;
    finish(outcome, &connection)
}

/// Prints notes and per-repository warnings; fails on registry-wide errors.
fn finish(outcome: ReadOutcome, connection: &Connection) -> anyhow::Result<Inventory> {
    let mut err = std::io::stderr().lock();
    for note in &outcome.notes {
        let _ = writeln!(err, "cip: note: {note}");
    }
    let (fatal, partial): (Vec<_>, Vec<_>) = outcome.errors.iter().partition(|e| e.is_registry_wide());
    for error in &partial {
        let _ = writeln!(err, "cip: warning: {error}");
    }
    let s = connection.counters().snapshot();
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
