//! The registry engine for Node: `readInventory`, `planOnline` and `promote`, each a Promise.
//!
//! The work runs on the addon's tokio runtime (napi's, shared by every call), never on Node's
//! event loop. The engine futures hold non-`Send` borrows, so each call drives its future with
//! `block_on` on one of the runtime's blocking threads; network IO still runs on the runtime.
//! Progress reaches JavaScript through a threadsafe function (events queued in order), and an
//! `AbortSignal` stops the run by dropping its future: in-flight transfers are abandoned, and since
//! a tag is only ever written after everything it points at, no tag is set for an incomplete image.
//!
//! Credentials work as in the CLI: the Docker config (`$DOCKER_CONFIG` or `~/.docker`), Google
//! credentials for Google hosts only, and each registry's `service-account` impersonated.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cip::promote::progress::Progress;
use cip::promote::{self, Executor, Limits, Report, Stores};
use cip::registry::auth::Credential;
use cip::registry::{ClientConfig, RegistryClient, Secret};
use cip::store::StoreError;
use cip_core::inventory::Inventory;
use cip_core::{ManifestSet, Plan, PlanOptions};
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

/// Options shared by the engine functions (everything except `onProgress` and `signal`).
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
    /// Images promoted in parallel.
    #[serde(default)]
    concurrency: Option<usize>,
    /// Blob transfers in parallel per destination registry.
    #[serde(default)]
    blob_concurrency: Option<usize>,
    /// Hosts (`HOST` or `HOST:PORT`) reached over plain HTTP or unverified TLS.
    #[serde(default)]
    insecure_registries: Vec<String>,
    /// Docker config directory holding `config.json` (default: as the CLI).
    #[serde(default)]
    docker_config_dir: Option<String>,
    /// Requests per second per host (0 = unlimited); `--registry-rate`.
    #[serde(default)]
    rate: Option<f64>,
    /// Requests per second for single hosts; `--host-rate HOST=N`.
    #[serde(default)]
    host_rates: BTreeMap<String, f64>,
    /// Requests in flight per host; `--max-concurrency`.
    #[serde(default)]
    max_concurrency: Option<usize>,
    /// Seconds before a request without an answer is retried; `--request-timeout`.
    #[serde(default)]
    request_timeout: Option<u64>,
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
}

/// What `promote` resolves to: the JSON `cip promote --format json` prints.
#[derive(Debug, Serialize)]
pub struct PromoteOutput {
    plan: Plan,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<Report>,
}

/// The `onProgress` callback as a threadsafe function taking one event (errors it throws are
/// Node's uncaught exceptions, not the engine's: `CalleeHandled = false`).
type EventSink = ThreadsafeFunction<Json<Event>, Unknown<'static>, Json<Event>, napi::Status, false>;

/// Sends events to the `onProgress` callback, numbered in order.
#[derive(Clone, Default)]
struct Events {
    callback: Option<Arc<EventSink>>,
    seq: Arc<AtomicU64>,
}

impl Events {
    fn send(&self, make: impl FnOnce(u64) -> Event) {
        let Some(callback) = &self.callback else { return };
        let event = make(self.seq.fetch_add(1, Ordering::SeqCst));
        callback.call(Json(event), ThreadsafeFunctionCallMode::NonBlocking);
    }

    fn progress(&self, progress: &Progress, started: Instant) {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        self.send(|seq| Event::Progress {
            seq,
            images_done: load(&progress.images_done),
            images_total: load(&progress.images_total),
            bytes: load(&progress.bytes),
            failures: load(&progress.failures),
            elapsed_ms: started.elapsed().as_millis() as u64,
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
    let decoded =
        args::files(env, files).and_then(|input| Ok((cip_core::load(input), decode_options(env, options)?)));
    spawn(env, decoded, |(set, (options, events, _))| async move {
        Ok(run(set, &options, &events, false).await?.plan)
    })
}

/// Promotes: reads the registries, plans, and with `confirm: true` executes the plan. Resolves
/// to the object `cip promote --format json` prints (`{plan, report?}`); failed actions are in
/// the report, not rejections. `onProgress(event)` receives `phase`, `plan` and `progress`
/// events in order; `signal` (an `AbortSignal`) stops the run and rejects with an `AbortError`.
#[napi(
    ts_args_type = "files: Files, options?: PromoteOptions | null",
    ts_return_type = "Promise<PromoteResult>"
)]
pub fn promote<'env>(
    env: &'env Env,
    files: Unknown<'env>,
    options: Option<Unknown<'env>>,
) -> napi::Result<PromiseRaw<'env, Json<PromoteOutput>>> {
    let decoded =
        args::files(env, files).and_then(|input| Ok((cip_core::load(input), decode_options(env, options)?)));
    spawn(env, decoded, |(set, (options, events, abort))| async move {
        let work = run(set, &options, &events, true);
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

/// Reads registries in full and/or what the manifests need.
async fn read_all(options: &EngineOptions, set: Option<&ManifestSet>) -> Result<Inventory, CipError> {
    let client = client(options, set)?;
    let mut inventory = Inventory::default();
    for registry in &options.registries {
        let outcome = cip::registry::snapshot::read_prefix(&client, registry).await;
        if let Some(error) = outcome.errors.into_iter().next() {
            return Err(registry_error(&error));
        }
        inventory.repositories.extend(outcome.inventory.repositories);
    }
    if let Some(set) = set {
        let stores = Stores::new(registry_names(set), promote::opener(client.clone()));
        let read = promote::inventory::read(set, &stores, &|_| true).await.map_err(|e| store_error(&e))?;
        inventory.repositories.extend(read.repositories);
    }
    Ok(inventory)
}

/// Reads, plans and (with `execute` and `confirm`) promotes, sending events on the way.
async fn run(
    set: ManifestSet,
    options: &EngineOptions,
    events: &Events,
    execute: bool,
) -> Result<PromoteOutput, CipError> {
    let names = registry_names(&set);
    if let Some(unknown) = options.dest.iter().find(|d| !names.contains(d)) {
        return Err(CipError::arg_value(format!("dest: no manifest names the registry {unknown}")));
    }
    let stores = Stores::new(names, promote::opener(client(options, Some(&set))?));
    let keep = |registry: &str| options.dest.is_empty() || options.dest.iter().any(|d| d == registry);
    events.send(|seq| Event::Phase { seq, phase: "reading" });
    let inventory = promote::inventory::read(&set, &stores, &keep).await.map_err(|e| store_error(&e))?;
    events.send(|seq| Event::Phase { seq, phase: "planning" });
    let mut plan = cip_core::plan::plan(&set, &inventory, &PlanOptions { strict: options.strict });
    restrict(&mut plan, &stores, &options.dest);
    let s = plan.summary;
    events.send(|seq| Event::Plan {
        seq,
        actions: plan.actions.len(),
        blocked: s.blocked,
        copy: s.copy,
        tag: s.tag,
        present: s.present,
    });
    let report = if execute && options.confirm && !plan.actions.is_empty() {
        events.send(|seq| Event::Phase { seq, phase: "promoting" });
        Some(execute_plan(&plan, &stores, options, events).await)
    } else {
        None
    };
    events.send(|seq| Event::Phase { seq, phase: "done" });
    Ok(PromoteOutput { plan, report })
}

/// Runs the plan's actions with a progress ticker.
async fn execute_plan(plan: &Plan, stores: &Stores, options: &EngineOptions, events: &Events) -> Report {
    let defaults = Limits::default();
    let limits = Limits {
        images: options.concurrency.unwrap_or(defaults.images).max(1),
        blobs_per_registry: options.blob_concurrency.unwrap_or(defaults.blobs_per_registry).max(1),
        ..defaults
    };
    let started = Instant::now();
    let progress = Arc::new(Progress::default());
    let executor = Executor::new(stores, limits, progress.clone());
    let work = executor.run(&plan.actions);
    tokio::pin!(work);
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    let records = loop {
        tokio::select! {
            records = &mut work => break records,
            _ = tick.tick() => events.progress(&progress, started),
        }
    };
    events.progress(&progress, started);
    Report::new(records, started.elapsed().as_millis() as u64)
}

/// Registry names of every manifest of the set.
fn registry_names(set: &ManifestSet) -> Vec<String> {
    set.manifests.iter().flat_map(|m| &m.registries).map(|r| r.name.value.clone()).collect()
}

/// Keeps the plan's actions and blocked edges of the `dest` registries (as `cip promote --dest`).
fn restrict(plan: &mut Plan, stores: &Stores, dest: &[String]) {
    if dest.is_empty() {
        return;
    }
    let keep = |repo: &str| stores.registry_of(repo).is_some_and(|r| dest.iter().any(|d| d == r));
    plan.actions.retain(|a| keep(&a.dst));
    plan.blocked.retain(|b| keep(&b.dst));
}

/// The run's registry client, configured as the CLI configures it (`OnlineArgs` there).
fn client(options: &EngineOptions, set: Option<&ManifestSet>) -> Result<RegistryClient, CipError> {
    let mut config = ClientConfig::default();
    if let Some(rate) = options.rate {
        config.default_rate = rate;
    }
    config.rates.extend(options.host_rates.iter().map(|(h, r)| (h.clone(), *r)));
    if let Some(n) = options.max_concurrency {
        config.max_concurrency_per_host = n.max(1);
    }
    if let Some(seconds) = options.request_timeout {
        config.timeout = Duration::from_secs(seconds.max(1));
    }
    config.google_key_file = options.google_credentials.as_ref().map(Into::into);
    config.insecure = options.insecure_registries.iter().cloned().collect::<BTreeSet<_>>();
    if let Some(dir) = &options.docker_config_dir {
        config.docker_config_dir = Some(dir.into());
    }
    if options.no_docker_config {
        config.docker_config_dir = None;
    }
    for (host, var) in &options.auth_env {
        let value = std::env::var(var)
            .map_err(|_| CipError::arg_value(format!("authEnv[{host:?}]: ${var} is not set")))?;
        let credential = Credential::from_user_colon_password(&value).ok_or_else(|| {
            CipError::arg_value(format!("authEnv[{host:?}]: ${var} must hold USER:PASSWORD"))
        })?;
        config.credentials.insert(host.clone(), credential);
    }
    for (host, c) in &options.credentials {
        let credential =
            Credential::Basic { username: c.username.clone(), password: Secret::new(c.password.clone()) };
        config.credentials.insert(host.clone(), credential);
    }
    for registry in set.iter().flat_map(|s| &s.manifests).flat_map(|m| &m.registries) {
        if let Some(account) = &registry.service_account {
            config.service_accounts.insert(registry.name.value.clone(), account.value.clone());
        }
    }
    RegistryClient::new(config)
        .map_err(|e| CipError::new("CIP_CONFIG", format!("configuring the registry client: {e}")))
}

/// A store failure as a JS error with the registry and repository.
fn store_error(error: &StoreError) -> CipError {
    use cip::store::ErrorKind as K;
    let code = match &error.kind {
        K::NotFound(_) => "CIP_NOT_FOUND",
        K::DigestMismatch { .. } | K::SizeMismatch { .. } => "CIP_INTEGRITY",
        K::Status { .. } => "CIP_REGISTRY_STATUS",
        K::Auth(_) => "CIP_AUTH",
        K::Transport(_) => "CIP_TRANSPORT",
        K::Io(_) => "CIP_IO",
        K::Invalid(_) => "CIP_INVALID",
        K::Aborted(_) => "CIP_ABORTED",
    };
    let mut e = CipError::new(code, format!("reading the registries: {error}"));
    e.registry = Some(error.registry.clone());
    e.repository = (!error.repository.is_empty()).then(|| error.repository.clone());
    e
}

/// A registry-client failure as a JS error with the registry and repository.
fn registry_error(error: &cip::registry::RegistryError) -> CipError {
    let mut e = CipError::new("CIP_REGISTRY", format!("reading the registries: {error}"));
    e.registry = Some(error.registry.clone());
    e.repository = error.repository.clone();
    e
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
        Some(f) => Events { callback: Some(Arc::new(threadsafe(&f)?)), seq: Arc::default() },
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
