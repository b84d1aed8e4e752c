//! Turns JavaScript arguments into core inputs, with messages that name the function, the
//! argument and the accepted shapes when an argument is unusable. The shapes themselves (files,
//! plan and snapshot options, their JS names) are `cip_core::wire`'s, shared with the Node addon.

use cip_core::Input;
use cip_core::inventory::Inventory;
use cip_core::wire::{FilesArg, PlanArgs, SnapshotArgs};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

/// Reads the `files` argument: one manifest text, or `{path: text}` / `Map<path, text>`.
///
/// Paths are sorted so the result does not depend on the caller's insertion order; the CLI reads
/// directories in sorted order too. Thin directories are inferred from the paths.
pub fn files(function: &str, value: &JsValue) -> Result<Input, JsError> {
    if value.as_string().is_none() && (!value.is_object() || value.is_function()) {
        return Err(shape_error(function, value));
    }
    let files: FilesArg = serde_wasm_bindgen::from_value(value.clone()).map_err(|e| {
        // The message starts with the offending path (`["a.yaml"]: expected ...`).
        let e = message(e);
        let sep = if e.starts_with('[') { "" } else { ": " };
        JsError::new(&format!("{function}(files){sep}{e}"))
    })?;
    Ok(files.into_input())
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
        serde_wasm_bindgen::from_value(value.clone())
            .map_err(|e| format!("invalid inventory: {}", message(e)))
    } else {
        Err("expected the inventory JSON text or object ({\"repositories\": {...}})".to_owned())
    };
    result.map_err(|message| JsError::new(&format!("{function}(files, inventory): {message}")))
}

/// Reads the `options` argument of `plan` (`{strict?, base?}`); `undefined`/`null` mean the
/// defaults.
pub fn plan_options(function: &str, value: &JsValue) -> Result<PlanArgs, JsError> {
    options(value).map_err(|m| JsError::new(&format!("{function}(files, inventory, options): {m}")))
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

/// Reads the `options` of `snapshot`/`snapshotText` (`{minimal?, snapshotTag?, output?}`).
pub fn snapshot_options(function: &str, value: &JsValue) -> Result<SnapshotArgs, JsError> {
    options(value).map_err(|m| JsError::new(&format!("{function}(inventory, registry, options): {m}")))
}

/// An options object decoded into its `wire` struct; `undefined`/`null` are the defaults.
fn options<T: DeserializeOwned + Default>(value: &JsValue) -> Result<T, String> {
    if value.is_undefined() || value.is_null() {
        return Ok(T::default());
    }
    if !value.is_object() || value.is_function() {
        return Err("expected an options object".to_owned());
    }
    // Through a JSON value: serde_wasm_bindgen reads only a struct's known fields, so a misspelt
    // option would pass unnoticed; a JSON object hands every key to `deny_unknown_fields`.
    let fields: serde_json::Value = serde_wasm_bindgen::from_value(value.clone()).map_err(message)?;
    serde_json::from_value(fields).map_err(|e| e.to_string())
}

/// A decoding error's message (its `Display` is the JS `Error`'s string, `Error: <message>`).
fn message(error: serde_wasm_bindgen::Error) -> String {
    let text = error.to_string();
    text.strip_prefix("Error: ").map(str::to_owned).unwrap_or(text)
}
