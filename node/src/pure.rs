//! The pure functions: `lint`, `plan`, `snapshot` and their `…Json` (exact CLI text) and `…Async` (libuv
//! thread pool) forms. Same names, arguments and results as the wasm package, so one test suite
//! and one set of scripts serve both.

use cip_core::inventory::Inventory;
use cip_core::snapshot::{Snapshot, SnapshotOptions};
use cip_core::wire::{self, SnapshotFormat};
use cip_core::{Input, LintReport, Plan, PlanOptions};
use napi::Env;
use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi_derive::napi;

use crate::args;
use crate::error::CipError;
use crate::json::Json;
use crate::task::Pure;

/// Lints a manifest set. `files` maps each path to its YAML text (thin manifest pairs are
/// recognised by their `…/manifests/<x>/promoter-manifest.yaml` and `…/images/<x>/images.yaml`
/// paths), or is one YAML text. Bad manifests are findings in the report, never exceptions.
/// Returns the object `cip lint --format json` prints.
#[napi(ts_args_type = "files: Files", ts_return_type = "LintReport")]
pub fn lint(env: Env, files: Unknown) -> napi::Result<Json<LintReport>> {
    let input = args::files(&env, files).map_err(|e| e.into_napi(&env))?;
    Ok(Json(cip_core::lint(input)))
}

/// Like `lint`, but returns the exact text `cip lint --format json` prints.
#[napi(ts_args_type = "files: Files")]
pub fn lint_json(env: Env, files: Unknown) -> napi::Result<String> {
    let input = args::files(&env, files).map_err(|e| e.into_napi(&env))?;
    Ok(wire::pretty_json(&cip_core::lint(input)))
}

/// `lint` off the event loop: resolves to the same report.
#[napi(ts_args_type = "files: Files", ts_return_type = "Promise<LintReport>")]
pub fn lint_async(env: Env, files: Unknown) -> AsyncTask<Pure<LintReport>> {
    Pure::spawn(args::files(&env, files).map(|input| move || cip_core::lint(input)))
}

/// Plans a promotion of `files` against `inventory` (the registries' state: the inventory JSON
/// text or the same document as an object). `options` is `{strict?, base?, attachments?,
/// attachmentType?}` and the trust gate's options (`cip plan`'s flags); `base` holds the
/// manifests as of the last promotion, so only what changed since then is planned. Returns the
/// object `cip plan --format json` prints.
#[napi(
    ts_args_type = "files: Files, inventory: Inventory | string, options?: PlanOptions | null",
    ts_return_type = "Plan"
)]
pub fn plan(
    env: Env,
    files: Unknown,
    inventory: Unknown,
    options: Option<Unknown>,
) -> napi::Result<Json<Plan>> {
    let work = plan_work(&env, files, inventory, options).map_err(|e| e.into_napi(&env))?;
    Ok(Json(work()))
}

/// Like `plan`, but returns the exact text `cip plan --format json` prints.
#[napi(ts_args_type = "files: Files, inventory: Inventory | string, options?: PlanOptions | null")]
pub fn plan_json(
    env: Env,
    files: Unknown,
    inventory: Unknown,
    options: Option<Unknown>,
) -> napi::Result<String> {
    let work = plan_work(&env, files, inventory, options).map_err(|e| e.into_napi(&env))?;
    Ok(work().to_json())
}

/// `plan` off the event loop: resolves to the same plan.
#[napi(
    ts_args_type = "files: Files, inventory: Inventory | string, options?: PlanOptions | null",
    ts_return_type = "Promise<Plan>"
)]
pub fn plan_async(
    env: Env,
    files: Unknown,
    inventory: Unknown,
    options: Option<Unknown>,
) -> AsyncTask<Pure<Plan>> {
    Pure::spawn(plan_work(&env, files, inventory, options))
}

/// Decodes the plan arguments into the one core call to make.
fn plan_work(
    env: &Env,
    files: Unknown,
    inventory: Unknown,
    options: Option<Unknown>,
) -> Result<impl FnOnce() -> Plan + Send + 'static, CipError> {
    let input: Input = args::files(env, files)?;
    let inventory: Inventory = args::inventory(env, inventory)?;
    // Trust options that cannot be used (a key that does not parse) are the caller's error.
    let (options, base): (PlanOptions, Option<Input>) =
        args::plan_options(env, options)?.into_parts().map_err(|e| CipError::arg_value(e.to_string()))?;
    Ok(move || cip_core::plan_input(input, base, &inventory, &options))
}

/// The `images:` list of `registry` (a prefix such as `gcr.io/k8s-artifacts-prod`) as
/// `inventory` holds it. `options` is `{minimal?, snapshotTag?}`. Returns the object
/// `cip snapshot --output json` prints.
#[napi(
    ts_args_type = "inventory: Inventory | string, registry: string, options?: SnapshotOptions | null",
    ts_return_type = "Snapshot"
)]
pub fn snapshot(
    env: Env,
    inventory: Unknown,
    registry: Unknown,
    options: Option<Unknown>,
) -> napi::Result<Json<Snapshot>> {
    let (work, _) = snapshot_work(&env, inventory, registry, options).map_err(|e| e.into_napi(&env))?;
    Ok(Json(work()))
}

/// Like `snapshot`, but returns the exact text `cip snapshot --output <output>` prints:
/// `options.output` is `"yaml"` (the default, the Go promoter's format), `"csv"` or `"json"`.
#[napi(
    ts_args_type = "inventory: Inventory | string, registry: string, options?: SnapshotTextOptions | null"
)]
pub fn snapshot_text(
    env: Env,
    inventory: Unknown,
    registry: Unknown,
    options: Option<Unknown>,
) -> napi::Result<String> {
    let (work, format) = snapshot_work(&env, inventory, registry, options).map_err(|e| e.into_napi(&env))?;
    Ok(format.render(&work()))
}

/// `snapshot` off the event loop: resolves to the same object.
#[napi(
    ts_args_type = "inventory: Inventory | string, registry: string, options?: SnapshotOptions | null",
    ts_return_type = "Promise<Snapshot>"
)]
pub fn snapshot_async(
    env: Env,
    inventory: Unknown,
    registry: Unknown,
    options: Option<Unknown>,
) -> AsyncTask<Pure<Snapshot>> {
    Pure::spawn(snapshot_work(&env, inventory, registry, options).map(|(work, _)| work))
}

fn snapshot_work(
    env: &Env,
    inventory: Unknown,
    registry: Unknown,
    options: Option<Unknown>,
) -> Result<(impl FnOnce() -> Snapshot + Send + 'static, SnapshotFormat), CipError> {
    let inventory: Inventory = args::inventory(env, inventory)?;
    let registry = args::registry(registry)?;
    let (options, format): (SnapshotOptions, SnapshotFormat) =
        args::snapshot_options(env, options)?.into_parts();
    Ok((move || cip_core::snapshot::snapshot(&inventory, &registry, &options), format))
}
