//! The registry engine for Node: `readInventory`, `planOnline` and `promote`, each a Promise.
//!
//! The work runs on the addon's tokio runtime (napi's, shared by every call), never on Node's
//! event loop. The engine futures hold non-`Send` borrows, so each call drives its future with
//! `block_on` on one of the runtime's blocking threads; network IO still runs on the runtime.
//! Progress reaches JavaScript through a threadsafe function (events queued in order), and an
//! `AbortSignal` stops the run by dropping its future: in-flight transfers are abandoned, and since
//! a tag is only ever written after everything it points at, no tag is set for an incomplete image.
//!
//! The promotion itself is the library's (`cip::promote::run`, the call `cip promote` makes):
//! this module decodes options into `PromoteOptions`, forwards the run's observer calls as
//! events, and encodes the outcome. Credentials therefore work as in the CLI (one
//! `cip::connect::RegistryOptions` builds the client): the Docker config (`$DOCKER_CONFIG` or
//! `~/.docker`), Google credentials for Google hosts only, each registry's `service-account`
//! impersonated.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cip::promote::{
    self, ActionReport, Limits, Observer, Outcome, Phase, Progress, PromoteError, PromoteOptions,
    PromoteOutcome,
};
use cip::{ConnectError, Connection, Credential, ErrorKind, RegistryError, RegistryOptions, Secret};
use cip_core::inventory::Inventory;
use cip_core::{ActionKind, Input, ManifestSet, Plan};
use napi::bindgen_prelude::{FnArgs, Function, JsObjectValue, Object, PromiseRaw, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, ValueType};
use napi_derive::napi;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::args;
use crate::error::CipError;
use crate::json::Json;

/// How often a `progress` event is sent while images are promoted.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Options shared by the engine functions (everything except `onProgress` and `signal`). JS names
/// are the CLI's flags in camelCase (`--blob-jobs` is `blobJobs`); the names of earlier releases
/// are deprecated aliases (`concurrency`, `blobConcurrency`, `rate`, `hostRates`,
/// `insecureRegistries`), accepted until the next release.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EngineOptions {
    /// Execute the plan (`promote` only); without it nothing is written.
    #[serde(default)]
    confirm: bool,
    /// Any error blocks every action.
    #[serde(default)]
    strict: bool,
    /// Only these destination registries.
    #[serde(default)]
    dest: Vec<String>,
    /// Images promoted in parallel; `--jobs`.
    #[serde(default, alias = "concurrency")]
    jobs: Option<usize>,
    /// Blob transfers in parallel per destination registry; `--blob-jobs`.
    #[serde(default, alias = "blobConcurrency")]
    blob_jobs: Option<usize>,
    /// With source and destination in one registry, read and hash each blob from the source
    /// before mounting it; `--verify-mounts`.
    #[serde(default)]
    verify_mounts: bool,
    /// Which attachments follow the promoted digests; `--attachments`.
    #[serde(default)]
    attachments: cip_core::plan::AttachmentFilter,
    /// Only referrers of these `artifactType`s travel; `--attachment-type` (a string or an array).
    #[serde(default, deserialize_with = "cip_core::wire::one_or_many")]
    attachment_type: Vec<String>,
    /// The trust gate (`--require-signature`, ...): a digest without a verified signature is
    /// blocked (`signature-missing`).
    #[serde(default)]
    require_signature: bool,
    /// `--verify-key`: the PEM public key's text (not a path, as for `plan`).
    #[serde(default)]
    verify_key: Option<String>,
    /// `--certificate-identity`.
    #[serde(default)]
    certificate_identity: Option<String>,
    /// `--certificate-identity-regexp`.
    #[serde(default)]
    certificate_identity_regexp: Option<String>,
    /// `--certificate-oidc-issuer`.
    #[serde(default)]
    certificate_oidc_issuer: Option<String>,
    /// `--certificate-oidc-issuer-regexp`.
    #[serde(default)]
    certificate_oidc_issuer_regexp: Option<String>,
    /// `--trusted-root`: the `trusted_root.json` document's text.
    #[serde(default)]
    trusted_root: Option<String>,
    /// `--require-attestation` (a string or an array).
    #[serde(default, deserialize_with = "cip_core::wire::one_or_many")]
    require_attestation: Vec<String>,
    /// Hosts (`HOST` or `HOST:PORT`) reached over plain HTTP or unverified TLS; `--insecure-registry`.
    #[serde(default, alias = "insecureRegistries")]
    insecure_registry: Vec<String>,
    /// Docker config directory holding `config.json` (default: as the CLI).
    #[serde(default)]
    docker_config_dir: Option<String>,
    /// Requests per second per host (0 = unlimited); `--registry-rate`.
    #[serde(default, alias = "rate")]
    registry_rate: Option<f64>,
    /// Requests per second for single hosts; `--host-rate HOST=N`.
    #[serde(default, alias = "hostRates")]
    host_rate: BTreeMap<String, f64>,
    /// Requests in flight per host; `--max-concurrency`.
    #[serde(default)]
    max_concurrency: Option<usize>,
    /// Seconds before a request without an answer is retried; `--request-timeout`.
    #[serde(default)]
    request_timeout: Option<u64>,
    /// Chunked blob uploads of this many MiB per request; `--chunk-size`.
    #[serde(default)]
    chunk_size: Option<u64>,
    /// Host -> name of an environment variable holding `USER:PASSWORD`; `--auth-env HOST=VAR`.
    #[serde(default)]
    auth_env: BTreeMap<String, String>,
    /// Host -> `{username, password}`, for scripts that fetch secrets themselves.
    #[serde(default)]
    credentials: BTreeMap<String, BasicCredential>,
    /// A Google service-account key file instead of application default credentials;
    /// `--google-credentials`.
    #[serde(default)]
    google_credentials: Option<String>,
    /// Do not read Docker's config.json; `--no-docker-config`.
    #[serde(default)]
    no_docker_config: bool,
    /// `readInventory`: registries (`host[/prefix]`) to read in full.
    #[serde(default)]
    registries: Vec<String>,
    /// `readInventory`: manifests whose registries to read (what planning them needs).
    #[serde(default)]
    manifests: Option<serde_json::Value>,
}

/// A user name and password given directly (never echoed anywhere).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BasicCredential {
    username: String,
    password: String,
}

impl std::fmt::Debug for BasicCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BasicCredential({}, ***)", self.username)
    }
}

/// One structured progress event, in the order things happen (`seq` counts from 0).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    /// A phase started: `reading` (registries), `planning`, `promoting`, `done`.
    #[serde(rename_all = "camelCase")]
    Phase { seq: u64, phase: &'static str },
    /// The plan is known.
    #[serde(rename_all = "camelCase")]
    Plan { seq: u64, actions: usize, blocked: usize, copy: usize, tag: usize, present: usize },
    /// Counters while promoting (and once more at the end).
    #[serde(rename_all = "camelCase")]
    Progress { seq: u64, images_done: u64, images_total: u64, bytes: u64, failures: u64, elapsed_ms: u64 },
    /// One action finished (done or failed), in completion order; `index` is its place in
    /// `plan.actions`.
    #[serde(rename_all = "camelCase")]
    Action {
        seq: u64,
        index: usize,
        action: ActionKind,
        dst: String,
        digest: String,
        tags: Vec<String>,
        result: Outcome,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        millis: u64,
    },
}

/// The `onProgress` callback as a threadsafe function taking one event (errors it throws are
/// Node's uncaught exceptions, not the engine's: `CalleeHandled = false`).
type EventSink = ThreadsafeFunction<Json<Event>, Unknown<'static>, Json<Event>, napi::Status, false>;

/// Sends events to the `onProgress` callback, numbered in order.
#[derive(Default)]
struct Events {
    callback: Option<Arc<EventSink>>,
    /// The next `seq`; locked while an event is queued, so numbers and queue order agree.
    seq: Mutex<u64>,
}

impl Events {
    fn send(&self, make: impl FnOnce(u64) -> Event) {
        let Some(callback) = &self.callback else { return };
        let mut seq = self.seq.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        callback.call(Json(make(*seq)), ThreadsafeFunctionCallMode::NonBlocking);
        *seq += 1;
    }
}

impl Observer for Events {
    fn phase(&self, phase: Phase) {
        self.send(|seq| Event::Phase { seq, phase: phase.as_str() });
    }

    fn plan(&self, plan: &Plan) {
        let s = plan.summary;
        self.send(|seq| Event::Plan {
            seq,
            actions: plan.actions.len(),
            blocked: s.blocked,
            copy: s.copy,
            tag: s.tag,
            present: s.present,
        });
    }

    fn progress(&self, progress: &Progress, elapsed: Duration, _last: bool) {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        self.send(|seq| Event::Progress {
            seq,
            images_done: load(&progress.images_done),
            images_total: load(&progress.images_total),
            bytes: load(&progress.bytes),
            failures: load(&progress.failures),
            elapsed_ms: elapsed.as_millis() as u64,
        });
    }

    fn action(&self, index: usize, report: &ActionReport) {
        self.send(|seq| Event::Action {
            seq,
            index,
            action: report.action,
            dst: report.dst.clone(),
            digest: report.digest.clone(),
            tags: report.tags.clone(),
            result: report.result,
            error: report.error.clone(),
            millis: report.millis,
        });
    }
}

/// Reads registry state into an inventory. `options.registries` lists registries
/// (`host[/prefix]`) to read in full, as `cip snapshot` does; `options.manifests` (files) reads
/// what planning those manifests needs, as `cip promote` does. Resolves to the inventory JSON
/// object; rejects with a `CipError` naming the registry and repository that failed.
#[napi(ts_args_type = "options: ReadInventoryOptions", ts_return_type = "Promise<Inventory>")]
pub fn read_inventory<'env>(
    env: &'env Env,
    options: Unknown<'env>,
) -> napi::Result<PromiseRaw<'env, Json<Inventory>>> {
    let decoded = decode_options(env, Some(options)).and_then(|(o, _, _)| {
        let set = match &o.manifests {
            Some(files) => Some(cip_core::load(args::files_from_value(files.clone())?)),
            None => None,
        };
        if set.is_none() && o.registries.is_empty() {
            return Err(CipError::arg_value("readInventory: give `registries` or `manifests`"));
        }
        Ok((o, set))
    });
    spawn(env, decoded, |(options, set)| async move { read_all(&options, set.as_ref()).await })
}

/// Reads the registries the manifests name and plans the promotion, without writing anything.
/// Resolves to the object `cip plan --format json` prints.
#[napi(ts_args_type = "files: Files, options?: EngineOptions | null", ts_return_type = "Promise<Plan>")]
pub fn plan_online<'env>(
    env: &'env Env,
    files: Unknown<'env>,
    options: Option<Unknown<'env>>,
) -> napi::Result<PromiseRaw<'env, Json<Plan>>> {
    let decoded = args::files(env, files).and_then(|input| Ok((input, decode_options(env, options)?)));
    spawn(env, decoded, |(input, (options, events, _))| async move {
        Ok(run(input, &options, &events, false).await?.plan)
    })
}

/// Promotes: reads the registries, plans, and with `confirm: true` executes the plan. Resolves
/// to the object `cip promote --format json` prints (`{plan, report?}`); failed actions are in
/// the report, not rejections. `onProgress(event)` receives `phase`, `plan`, `progress` and
/// `action` events in order; `signal` (an `AbortSignal`) stops the run and rejects with an `AbortError`.
#[napi(
    ts_args_type = "files: Files, options?: PromoteOptions | null",
    ts_return_type = "Promise<PromoteResult>"
)]
pub fn promote<'env>(
    env: &'env Env,
    files: Unknown<'env>,
    options: Option<Unknown<'env>>,
) -> napi::Result<PromiseRaw<'env, Json<PromoteOutcome>>> {
    let decoded = args::files(env, files).and_then(|input| Ok((input, decode_options(env, options)?)));
    spawn(env, decoded, |(input, (options, events, abort))| async move {
        let work = run(input, &options, &events, true);
        match abort {
            None => work.await,
            Some(mut abort) => tokio::select! {
                result = work => result,
                _ = abort.wait_for(|aborted| *aborted) => Err(aborted()),
            },
        }
    })
}

fn aborted() -> CipError {
    CipError::new("ABORT_ERR", "the promotion was aborted (AbortSignal); run it again to finish")
        .named("AbortError")
}

/// Runs `work` on a blocking thread of the addon's runtime and settles a Promise with its result
/// (converted on the JavaScript thread); a decoding error rejects the Promise straight away.
fn spawn<'env, A, T, F, Fut>(
    env: &'env Env,
    decoded: Result<A, CipError>,
    work: F,
) -> napi::Result<PromiseRaw<'env, Json<T>>>
where
    A: Send + 'static,
    T: Serialize + Send + 'static,
    F: FnOnce(A) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, CipError>>,
{
    let future = async move {
        let args = match decoded {
            Ok(args) => args,
            Err(error) => return Ok(Err(error)),
        };
        let handle = tokio::runtime::Handle::current();
        let joined = tokio::task::spawn_blocking(move || handle.block_on(work(args))).await;
        Ok(joined
            .unwrap_or_else(|e| Err(CipError::new("CIP_INTERNAL", format!("the engine task failed: {e}")))))
    };
    env.spawn_future_with_callback(future, |env, result: Result<T, CipError>| {
        result.map(Json).map_err(|e| e.into_napi(env))
    })
}

/// Reads registries in full and/or what the manifests need, with the engine's one reader (as
/// `cip snapshot` and `cip plan` read). Any repository that cannot be read rejects: a script
/// asking for an inventory gets all of it or an error naming what failed.
async fn read_all(options: &EngineOptions, set: Option<&ManifestSet>) -> Result<Inventory, CipError> {
    let registry = options.registry()?;
    let mut inventory = Inventory::default();
    if !options.registries.is_empty() {
        let connection =
            Connection::open(options.registries.clone(), set, &registry).map_err(connect_error)?;
        let outcome = connection.read_registries(&options.registries).await;
        if let Some(error) = outcome.registry_wide_error().or(outcome.errors.first()) {
            return Err(registry_error(error));
        }
        inventory.repositories.extend(outcome.inventory.repositories);
    }
    if let Some(set) = set {
        let connection = Connection::for_set(set, &registry).map_err(connect_error)?;
        let outcome = connection.read_for_plan(set).await;
        if let Some(error) = outcome.registry_wide_error().or(outcome.errors.first()) {
            return Err(registry_error(error));
        }
        inventory.repositories.extend(outcome.inventory.repositories);
    }
    Ok(inventory)
}

/// Reads, plans and (with `execute` and `confirm`) promotes: one library call, events on the way.
async fn run(
    input: Input,
    options: &EngineOptions,
    events: &Events,
    execute: bool,
) -> Result<PromoteOutcome, CipError> {
    let options = options.promote(execute)?;
    match promote::run(input, &options, events).await {
        Ok(outcome) => Ok(outcome),
        Err(PromoteError::UnknownDest(unknown)) => {
            Err(CipError::arg_value(format!("dest: no manifest names the registry {unknown}")))
        }
        Err(PromoteError::Connect(e)) => Err(connect_error(e)),
        Err(PromoteError::Read(e)) => Err(registry_error(&e)),
    }
}

impl EngineOptions {
    /// The library's promotion options; `execute` false makes a plan only.
    fn promote(&self, execute: bool) -> Result<PromoteOptions, CipError> {
        let defaults = Limits::default();
        Ok(PromoteOptions {
            confirm: execute && self.confirm,
            strict: self.strict,
            dest: self.dest.clone(),
            limits: Limits {
                jobs: self.jobs.unwrap_or(defaults.jobs).max(1),
                blob_jobs: self.blob_jobs.unwrap_or(defaults.blob_jobs).max(1),
                ..defaults
            },
            registry: self.registry()?,
            progress_every: PROGRESS_EVERY,
            verify_mounts: self.verify_mounts,
            attachments: self.attachments,
            attachment_types: self.attachment_type.clone(),
            base: None,
            // Signing is the CLI's (`cip promote --sign`); the addon does not sign.
            sign: None,
            trust: self.trust()?,
        })
    }

    /// The trust gate's options, checked by compiling the policy (a bad key is the caller's
    /// error, `ERR_INVALID_ARG_VALUE`, as for `plan`).
    fn trust(&self) -> Result<cip_core::trust::TrustOptions, CipError> {
        let trust = cip_core::trust::TrustOptions {
            require_signature: self.require_signature,
            verify_key: self.verify_key.clone(),
            certificate_identity: self.certificate_identity.clone(),
            certificate_identity_regexp: self.certificate_identity_regexp.clone(),
            certificate_oidc_issuer: self.certificate_oidc_issuer.clone(),
            certificate_oidc_issuer_regexp: self.certificate_oidc_issuer_regexp.clone(),
            trusted_root: self.trusted_root.clone(),
            require_attestation: self.require_attestation.clone(),
        };
        cip_core::wire::checked_trust(trust).map_err(|e| CipError::arg_value(e.to_string()))
    }

    /// The registry options, in the CLI's words (the library reads `authEnv` variables).
    fn registry(&self) -> Result<RegistryOptions, CipError> {
        let credentials = self.credentials.iter().map(|(host, c)| {
            let credential =
                Credential::Basic { username: c.username.clone(), password: Secret::new(c.password.clone()) };
            (host.clone(), credential)
        });
        Ok(RegistryOptions {
            registry_rate: self.registry_rate,
            host_rate: self.host_rate.clone(),
            max_concurrency: self.max_concurrency,
            request_timeout: self.request_timeout,
            google_credentials: self.google_credentials.as_ref().map(Into::into),
            insecure_registry: self.insecure_registry.iter().cloned().collect(),
            docker_config: self.docker_config_dir.as_ref().map(Into::into),
            no_docker_config: self.no_docker_config,
            auth_env: self.auth_env.clone(),
            credentials: credentials.collect(),
            chunk_size: self.chunk_size,
        })
    }
}

/// A registry or store failure as a JS error: the one mapping from the engine's error kinds to
/// Node error codes, with the registry and repository.
fn registry_error(error: &RegistryError) -> CipError {
    let code = match &error.kind {
        ErrorKind::NotFound(_) => "CIP_NOT_FOUND",
        ErrorKind::Integrity { .. } => "CIP_INTEGRITY",
        ErrorKind::Status { .. } | ErrorKind::RetriesExhausted { .. } => "CIP_REGISTRY_STATUS",
        ErrorKind::AuthRefused { .. } | ErrorKind::Denied | ErrorKind::Credentials(_) => "CIP_AUTH",
        ErrorKind::Connect(_) | ErrorKind::Timeout(_) | ErrorKind::Interrupted(_) | ErrorKind::Aborted(_) => {
            "CIP_TRANSPORT"
        }
        ErrorKind::Io(_) => "CIP_IO",
        ErrorKind::Invalid(_) | ErrorKind::UnsupportedMediaType(_) => "CIP_INVALID",
        ErrorKind::Insecure { .. } => "CIP_CONFIG",
        _ => "CIP_REGISTRY",
    };
    let mut e = CipError::new(code, format!("reading the registries: {error}"));
    e.registry = Some(error.registry.clone());
    e.repository = error.repository.clone();
    e
}

/// A connection that could not be configured: a bad option value or a client setup failure.
fn connect_error(error: ConnectError) -> CipError {
    match error {
        ConnectError::Option(message) => CipError::arg_value(message),
        other => CipError::new("CIP_CONFIG", other.to_string()),
    }
}

/// Decodes the engine options: `onProgress` becomes a threadsafe function, `signal` an abort
/// flag, the rest plain options.
fn decode_options(
    env: &Env,
    value: Option<Unknown>,
) -> Result<(EngineOptions, Events, Option<watch::Receiver<bool>>), CipError> {
    let Some(value) = value else { return Ok(Default::default()) };
    match value.get_type().map_err(|e| CipError::arg_type(e.reason.clone()))? {
        ValueType::Undefined | ValueType::Null => return Ok(Default::default()),
        ValueType::Object => {}
        _ => return Err(CipError::arg_type("options: expected an object")),
    }
    // SAFETY: checked to be an object just above.
    let object: Object = unsafe { value.cast() }.map_err(|e| CipError::arg_type(e.reason))?;
    let (plain, on_progress, signal) =
        split_options(env, &object).map_err(|e| CipError::arg_value(e.reason))?;
    let options: EngineOptions =
        env.from_js_value(plain).map_err(|e| CipError::arg_value(format!("options: {}", e.reason)))?;
    let events = match on_progress {
        None => Events::default(),
        Some(f) => Events { callback: Some(Arc::new(threadsafe(&f)?)), seq: Mutex::default() },
    };
    let abort = match signal {
        None => None,
        Some(signal) => Some(abort_flag(env, &signal)?),
    };
    Ok((options, events, abort))
}

type Callback<'env> = Function<'env, Json<Event>, Unknown<'static>>;

/// Copies the plain options into a new object and takes out `onProgress` and `signal`.
fn split_options<'env>(
    env: &'env Env,
    object: &Object<'env>,
) -> napi::Result<(Object<'env>, Option<Callback<'env>>, Option<Object<'env>>)> {
    let mut plain = Object::new(env)?;
    let names = object.get_property_names()?;
    let mut on_progress = None;
    let mut signal = None;
    for i in 0..names.get_array_length()? {
        let name: String = names.get_element(i)?;
        let value: Unknown = object.get_named_property(&name)?;
        match name.as_str() {
            "onProgress" | "signal"
                if matches!(value.get_type()?, ValueType::Undefined | ValueType::Null) => {}
            // SAFETY (both casts): the type is checked by napi's conversion, which fails cleanly.
            "onProgress" => on_progress = Some(unsafe { value.cast::<Callback>() }?),
            "signal" => signal = Some(unsafe { value.cast::<Object>() }?),
            _ => plain.set_named_property(&name, value)?,
        }
    }
    Ok((plain, on_progress, signal))
}

fn threadsafe(f: &Callback) -> Result<EventSink, CipError> {
    f.build_threadsafe_function()
        .callee_handled::<false>()
        .build()
        .map_err(|e| CipError::arg_value(format!("options.onProgress: {}", e.reason)))
}

/// `signal.addEventListener(type, listener)`.
type AddEventListener<'env> = Function<'env, FnArgs<(&'static str, Function<'env, (), ()>)>, Unknown<'env>>;

/// Watches an `AbortSignal`: the receiver turns `true` when it aborts (or already has).
fn abort_flag(env: &Env, signal: &Object) -> Result<watch::Receiver<bool>, CipError> {
    let bad =
        |e: napi::Error| CipError::arg_type(format!("options.signal: expected an AbortSignal: {}", e.reason));
    let aborted: bool = signal.get_named_property("aborted").map_err(bad)?;
    let (sender, receiver) = watch::channel(aborted);
    if !aborted {
        let add: AddEventListener = signal.get_named_property("addEventListener").map_err(bad)?;
        let listener = env
            .create_function_from_closure("onCipAbort", move |_| {
                let _ = sender.send(true);
                Ok(())
            })
            .map_err(bad)?;
        add.apply(signal, FnArgs::from(("abort", listener))).map_err(bad)?;
    }
    Ok(receiver)
}
