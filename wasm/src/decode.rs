//! Turns JavaScript arguments into core inputs, with messages that name the function, the
//! argument and the accepted shapes when an argument is unusable.

use std::collections::BTreeMap;

use cip_core::inventory::Inventory;
use cip_core::snapshot::SnapshotOptions;
use cip_core::{Input, PlanOptions, SourceFile};
use wasm_bindgen::prelude::*;

/// The path a lone manifest text is linted under (a single string has no name of its own).
pub const SINGLE_FILE_PATH: &str = "manifest.yaml";

/// Reads the `files` argument: one manifest text, or `{path: text}` / `Map<path, text>`.
///
/// Paths are sorted (a `BTreeMap`) so the result does not depend on the caller's insertion order;
/// the CLI reads directories in sorted order too. Thin directories are inferred from the paths.
pub fn files(function: &str, value: &JsValue) -> Result<Input, JsError> {
    if let Some(text) = value.as_string() {
        return Ok(Input { files: vec![SourceFile::new(SINGLE_FILE_PATH, text)], thin_dirs: None });
    }
    if !value.is_object() || value.is_function() {
        return Err(shape_error(function, value));
    }
    let map: BTreeMap<String, String> = serde_wasm_bindgen::from_value(value.clone()).map_err(|e| {
        JsError::new(&format!("{function}(files): every value must be the text of a manifest file: {e}"))
    })?;
    let files = map.into_iter().map(|(path, text)| SourceFile::new(path, text)).collect();
    Ok(Input { files, thin_dirs: None })
}

fn shape_error(function: &str, value: &JsValue) -> JsError {
    let got = value.js_typeof().as_string().unwrap_or_default();
    let got = if value.is_null() { "null".to_owned() } else { got };
    JsError::new(&format!(
        "{function}(files): expected a manifest text (string) or an object mapping file paths to \
         texts, e.g. {{\"manifests/a/promoter-manifest.yaml\": \"...\"}}; got {got}"
    ))
}

/// Reads the `inventory` argument: the inventory JSON text, or the same document as an object.
pub fn inventory(function: &str, value: &JsValue) -> Result<Inventory, JsError> {
    let result = if let Some(text) = value.as_string() {
        Inventory::from_json(&text).map_err(|e| e.to_string())
    } else if value.is_object() {
        serde_wasm_bindgen::from_value(value.clone()).map_err(|e| format!("invalid inventory: {e}"))
    } else {
        Err("expected the inventory JSON text or object ({\"repositories\": {...}})".to_owned())
    };
    result.map_err(|message| JsError::new(&format!("{function}(files, inventory): {message}")))
}

/// Reads the `options` argument of `plan`: the core's plan options plus `base`, the files of
/// the manifests as of the last promotion. `undefined`/`null` mean the defaults.
pub fn plan_options(function: &str, value: &JsValue) -> Result<(PlanOptions, Option<Input>), JsError> {
    let fail = |message: String| JsError::new(&format!("{function}(files, inventory, options): {message}"));
    let mut fields = options_object(value).map_err(fail)?;
    // `base` is files, not a core option: take it out and decode it like the `files` argument.
    let base = match fields.remove("base") {
        None | Some(serde_json::Value::Null) => None,
        Some(base) => Some(files_from_json(base).map_err(|m| fail(format!("base: {m}")))?),
    };
    let options =
        serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| fail(e.to_string()))?;
    Ok((options, base))
}

fn files_from_json(value: serde_json::Value) -> Result<Input, String> {
    let files = match value {
        serde_json::Value::String(text) => vec![SourceFile::new(SINGLE_FILE_PATH, text)],
        other => serde_json::from_value::<BTreeMap<String, String>>(other)
            .map_err(|e| format!("expected a manifest text or {{path: text}}: {e}"))?
            .into_iter()
            .map(|(path, text)| SourceFile::new(path, text))
            .collect(),
    };
    Ok(Input { files, thin_dirs: None })
}

/// The text format of `snapshotText` (`cip snapshot --output`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotOutput {
    /// The Go promoter's YAML (the default).
    #[default]
    Yaml,
    /// The Go promoter's CSV.
    Csv,
    /// Pretty JSON.
    Json,
}

/// Reads the `registry` argument of `snapshot`: a non-empty registry prefix.
pub fn registry(function: &str, value: &JsValue) -> Result<String, JsError> {
    match value.as_string() {
        Some(name) if !name.trim().is_empty() => Ok(name),
        _ => Err(JsError::new(&format!(
            "{function}(inventory, registry): expected the registry to snapshot as a string, e.g. \
             \"gcr.io/k8s-artifacts-prod\""
        ))),
    }
}

/// Reads the `options` of `snapshot`/`snapshotText`: the core's snapshot options plus `output`.
pub fn snapshot_options(
    function: &str,
    value: &JsValue,
) -> Result<(SnapshotOptions, SnapshotOutput), JsError> {
    let fail =
        |message: String| JsError::new(&format!("{function}(inventory, registry, options): {message}"));
    let mut fields = options_object(value).map_err(fail)?;
    // `output` is how the result is printed, not a core option: take it out first.
    let output = match fields.remove("output") {
        None | Some(serde_json::Value::Null) => SnapshotOutput::default(),
        Some(v) => serde_json::from_value(v)
            .map_err(|_| fail("output must be \"yaml\", \"csv\" or \"json\"".to_owned()))?,
    };
    let options =
        serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| fail(e.to_string()))?;
    Ok((options, output))
}

/// An options argument as a JSON object; `undefined`/`null` are the empty object.
fn options_object(value: &JsValue) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    if value.is_undefined() || value.is_null() {
        return Ok(serde_json::Map::new());
    }
    if !value.is_object() {
        return Err("expected an options object".to_owned());
    }
    serde_wasm_bindgen::from_value(value.clone()).map_err(|e| e.to_string())
}
