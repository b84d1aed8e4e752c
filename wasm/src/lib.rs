//! wasm-bindgen shell over cip-core for JavaScript: decode the arguments, make one core call,
//! encode the result. No rule logic lives here; every finding comes from the core, so the browser,
//! Node and the CLI print the same JSON for the same files.
//!
//! Bad manifests are data (diagnostics in the returned report). Only arguments that cannot be
//! used at all (a number where files were expected, a malformed inventory) throw, with a message
//! that says which argument and what shape is accepted.

mod decode;
mod encode;
mod error;

use cip_core::snapshot::Snapshot;
use cip_core::wire::{self, SnapshotFormat};
use error::CipError;
use wasm_bindgen::prelude::*;

/// Installs the panic hook (once; later calls are a cheap check), so a core bug shows a Rust
/// message in the console instead of an opaque `unreachable` trap. Called by every export rather
/// than from a `start` function, which wasm-bindgen would also export to JS.
fn panic_hook() {
    console_error_panic_hook::set_once();
}

/// The cip version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// The path a lone manifest text is linted under (`lint("...")` reports findings in this file),
/// for pages that show or store such a text under a name.
#[wasm_bindgen(js_name = defaultFileName)]
pub fn default_file_name() -> String {
    wire::DEFAULT_FILE_NAME.to_owned()
}

/// Lints manifests: `files` is `{path: text}` (or a `Map`) or one manifest text. Returns
/// `{diagnostics, summary}`, the object `cip lint --format json` prints.
#[wasm_bindgen]
pub fn lint(files: JsValue) -> Result<JsValue, CipError> {
    panic_hook();
    let input = decode::files("lint", &files)?;
    encode::value(&cip_core::lint(input))
}

/// Like [`lint`], but returns the exact text `cip lint --format json` prints (pretty JSON, two
/// space indent, trailing newline), for byte-for-byte comparisons and for writing to files.
#[wasm_bindgen(js_name = lintJson)]
pub fn lint_json(files: JsValue) -> Result<String, CipError> {
    panic_hook();
    let input = decode::files("lintJson", &files)?;
    Ok(wire::pretty_json(&cip_core::lint(input)))
}

/// Plans a promotion of `files` against `inventory` (the JSON `cip snapshot` writes, as text or
/// as an object). `options` is `{strict?: boolean, base?: files, attachments?: "all" | "signatures"
/// | "none", attachmentType?: string | string[]}` plus the trust gate's `{requireSignature?,
/// verifyKey?, certificateIdentity[Regexp]?, certificateOidcIssuer[Regexp]?, trustedRoot?,
/// requireAttestation?}` (`cip plan`'s flags; key and trusted root as text); `base` holds the
/// manifests as of the last promotion, so only what changed since then is planned. Returns the
/// object `cip plan --format json` prints.
#[wasm_bindgen]
pub fn plan(files: JsValue, inventory: JsValue, options: JsValue) -> Result<JsValue, CipError> {
    encode::value(&plan_for("plan", &files, &inventory, &options)?)
}

/// Like [`plan`], but returns the exact text `cip plan --format json` prints.
#[wasm_bindgen(js_name = planJson)]
pub fn plan_json(files: JsValue, inventory: JsValue, options: JsValue) -> Result<String, CipError> {
    Ok(plan_for("planJson", &files, &inventory, &options)?.to_json())
}

fn plan_for(
    function: &str,
    files: &JsValue,
    inventory: &JsValue,
    options: &JsValue,
) -> Result<cip_core::Plan, CipError> {
    panic_hook();
    let input = decode::files(function, files)?;
    let inventory = decode::inventory(function, inventory)?;
    // Trust options that cannot be used (a key that does not parse) are the caller's error.
    let (options, base) = decode::plan_options(function, options)?
        .into_parts()
        .map_err(|e| CipError::arg_value(format!("{function}(files, inventory, options): {e}")))?;
    Ok(cip_core::plan_input(input, base, &inventory, &options))
}

/// The `images:` list of `registry` (a prefix such as `gcr.io/k8s-artifacts-prod`) as `inventory`
/// (text or object) holds it. `options` is `{minimal?, snapshotTag?}`. Returns the object
/// `cip snapshot --output json` prints.
#[wasm_bindgen]
pub fn snapshot(inventory: JsValue, registry: JsValue, options: JsValue) -> Result<JsValue, CipError> {
    panic_hook();
    let (snapshot, _) = snapshot_for("snapshot", &inventory, &registry, &options)?;
    encode::value(&snapshot)
}

/// Like [`snapshot`], but returns the exact text `cip snapshot --output <output>` prints:
/// `options.output` is `"yaml"` (the default, the Go promoter's format), `"csv"` or `"json"`.
#[wasm_bindgen(js_name = snapshotText)]
pub fn snapshot_text(inventory: JsValue, registry: JsValue, options: JsValue) -> Result<String, CipError> {
    panic_hook();
    let (snapshot, format) = snapshot_for("snapshotText", &inventory, &registry, &options)?;
    Ok(format.render(&snapshot))
}

fn snapshot_for(
    function: &str,
    inventory: &JsValue,
    registry: &JsValue,
    options: &JsValue,
) -> Result<(Snapshot, SnapshotFormat), CipError> {
    let inventory = decode::inventory(function, inventory)?;
    let registry = decode::registry(function, registry)?;
    let (options, format) = decode::snapshot_options(function, options)?.into_parts();
    Ok((cip_core::snapshot::snapshot(&inventory, &registry, &options), format))
}

/// The SARIF 2.1.0 log of `diagnostics` (as `lint`/`plan` return them): the exact text
/// `cip lint --format sarif` prints for the same findings.
#[wasm_bindgen]
pub fn sarif(diagnostics: JsValue) -> Result<String, CipError> {
    panic_hook();
    let diagnostics: Vec<cip_core::Diagnostic> =
        serde_wasm_bindgen::from_value(diagnostics).map_err(|e| {
            CipError::arg_value(format!(
                "sarif(diagnostics): expected the diagnostics lint() returns: {}",
                encode::message(&e)
            ))
        })?;
    Ok(wire::sarif(&diagnostics))
}
