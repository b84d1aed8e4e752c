//! Turns JavaScript arguments into core inputs, with messages that name the function, the
//! argument and the accepted shapes when an argument is unusable. The shapes themselves (files,
//! plan and snapshot options, their JS names) are `cip_core::wire`'s, shared with the Node addon.

use cip_core::Input;
use cip_core::inventory::Inventory;
use cip_core::wire::{FilesArg, PlanArgs, SnapshotArgs};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

use crate::encode::message;
use crate::error::CipError;

/// Reads the `files` argument: one manifest text, or `{path: text}` / `Map<path, text>`.
///
/// Paths are sorted so the result does not depend on the caller's insertion order; the CLI reads
/// directories in sorted order too. Thin directories are inferred from the paths.
pub fn files(function: &str, value: &JsValue) -> Result<Input, CipError> {
    if value.as_string().is_none() && (!value.is_object() || value.is_function()) {
        return Err(shape_error(function, value));
    }
    let files: FilesArg = serde_wasm_bindgen::from_value(value.clone()).map_err(|e| {
        // The message starts with the offending path (`["a.yaml"]: expected ...`).
        let e = message(&e);
        let sep = if e.starts_with('[') { "" } else { ": " };
        CipError::arg_type(format!("{function}(files){sep}{e}"))
    })?;
    Ok(files.into_input())
}

fn shape_error(function: &str, value: &JsValue) -> CipError {
    CipError::arg_type(format!(
        "{function}(files): expected a manifest text (string) or an object mapping file paths to \
         texts, e.g. {{\"manifests/a/promoter-manifest.yaml\": \"...\"}}; got {}",
        type_word(value)
    ))
}

/// How an unusable argument is named in a message: `typeof`, except that `null` is `null`.
fn type_word(value: &JsValue) -> String {
    if value.is_null() { "null".to_owned() } else { value.js_typeof().as_string().unwrap_or_default() }
}

/// Reads the `inventory` argument: the inventory JSON text, or the same document as an object.
///
/// An object is read as a JSON value first and then as an inventory, so a wrong shape anywhere in
/// it (a number where a repository's digests belong) is a serde message naming the expected
/// type, not an exception from probing a non-object for keys.
pub fn inventory(function: &str, value: &JsValue) -> Result<Inventory, CipError> {
    let context = format!("{function}(files, inventory)");
    if let Some(text) = value.as_string() {
        Inventory::from_json(&text).map_err(|e| CipError::arg_value(format!("{context}: {e}")))
    } else if value.is_object() && !value.is_function() {
        let json: serde_json::Value = serde_wasm_bindgen::from_value(value.clone())
            .map_err(|e| CipError::arg_value(format!("{context}: invalid inventory: {}", message(&e))))?;
        serde_json::from_value(json)
            .map_err(|e| CipError::arg_value(format!("{context}: invalid inventory: {e}")))
    } else {
        Err(CipError::arg_type(format!(
            "{context}: expected the inventory JSON text or object ({{\"repositories\": {{...}}}}); got {}",
            type_word(value)
        )))
    }
}

/// Reads the `options` argument of `plan` (`{strict?, base?, attachments?, attachmentType?}`); `undefined`/`null` mean the
/// defaults.
pub fn plan_options(function: &str, value: &JsValue) -> Result<PlanArgs, CipError> {
    options(&format!("{function}(files, inventory, options)"), value)
}

/// Reads the `registry` argument of `snapshot`: a non-empty registry prefix.
pub fn registry(function: &str, value: &JsValue) -> Result<String, CipError> {
    let context = format!("{function}(inventory, registry)");
    match value.as_string() {
        Some(name) if !name.trim().is_empty() => Ok(name),
        Some(_) => Err(CipError::arg_value(format!(
            "{context}: expected a registry name such as \"gcr.io/k8s-artifacts-prod\"; got an empty string"
        ))),
        None => Err(CipError::arg_type(format!(
            "{context}: expected the registry to snapshot as a string, e.g. \"gcr.io/k8s-artifacts-prod\"; got {}",
            type_word(value)
        ))),
    }
}

/// Reads the `options` of `snapshot`/`snapshotText` (`{minimal?, snapshotTag?, output?}`).
pub fn snapshot_options(function: &str, value: &JsValue) -> Result<SnapshotArgs, CipError> {
    options(&format!("{function}(inventory, registry, options)"), value)
}

/// An options object decoded into its `wire` struct; `undefined`/`null` are the defaults. A
/// non-object is a type error, an unknown or ill-typed option a value error (as in cip-node).
fn options<T: DeserializeOwned + Default>(context: &str, value: &JsValue) -> Result<T, CipError> {
    if value.is_undefined() || value.is_null() {
        return Ok(T::default());
    }
    if !value.is_object() || value.is_function() {
        return Err(CipError::arg_type(format!(
            "{context}: expected an options object; got {}",
            type_word(value)
        )));
    }
    // Through a JSON value: serde_wasm_bindgen reads only a struct's known fields, so a misspelt
    // option would pass unnoticed; a JSON object hands every key to `deny_unknown_fields`.
    let fields: serde_json::Value = serde_wasm_bindgen::from_value(value.clone())
        .map_err(|e| CipError::arg_value(format!("{context}: {}", message(&e))))?;
    serde_json::from_value(fields).map_err(|e| CipError::arg_value(format!("{context}: {e}")))
}
