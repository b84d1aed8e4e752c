//! Decoding JavaScript arguments into core inputs. Anything unusable (wrong type, malformed
//! inventory, unknown option) becomes a [`CipError`] with a Node-style `code` and a message naming
//! the argument and the accepted shapes; manifest content is never judged here. The shapes
//! themselves (files, plan and snapshot options, their JS names) are `cip_core::wire`'s, shared
//! with the wasm package.

use cip_core::Input;
use cip_core::inventory::Inventory;
use cip_core::wire::{FilesArg, PlanArgs, SnapshotArgs};
use napi::bindgen_prelude::{Function, JsObjectValue, JsValue, Object, Unknown};
use napi::{Env, ValueType};
use serde::de::DeserializeOwned;

use crate::error::CipError;

/// Reads `files`: one manifest text, or `{path: text}` / `Map<path, text>` (`FilesArg`). Paths
/// are sorted, so the result never depends on JavaScript key order; thin directories are inferred
/// from the paths.
pub fn files(env: &Env, files: Unknown) -> Result<Input, CipError> {
    match kind(&files)? {
        ValueType::String | ValueType::Object => {}
        other => return Err(files_shape(type_word(other))),
    }
    let files = map_to_object(env, files).map_err(|e| CipError::arg_type(format!("files: {}", e.reason)))?;
    let files: FilesArg = decode(env, files).map_err(|e| files_error(&e.message))?;
    Ok(files.into_input())
}

/// Files that are not a text or `{path: text}`; `message` is serde's, from `FilesArg`, which
/// starts with the offending path when one value is not a text (`["a.yaml"]: expected ...`).
fn files_error(message: &str) -> CipError {
    let sep = if message.starts_with('[') { "" } else { ": " };
    CipError::arg_type(format!("files{sep}{message}"))
}

/// A `Map` as a plain object (`Object.fromEntries`), so both shapes decode alike; anything else
/// is returned as is.
fn map_to_object<'env>(env: &Env, value: Unknown<'env>) -> napi::Result<Unknown<'env>> {
    let global = env.get_global()?;
    let map_class: Function<Unknown, Unknown> = global.get_named_property("Map")?;
    if !value.instanceof(map_class)? {
        return Ok(value);
    }
    let object_class: Function<Unknown, Unknown> = global.get_named_property("Object")?;
    let from_entries: Function<Unknown<'env>, Unknown<'env>> =
        object_class.get_named_property("fromEntries")?;
    from_entries.call(value)
}

fn files_shape(got: &str) -> CipError {
    CipError::arg_type(format!(
        "files: expected a manifest text (string) or an object mapping file paths to texts, e.g. \
         {{\"manifests/a/promoter-manifest.yaml\": \"...\"}}; got {got}"
    ))
}

/// Reads `inventory`: the inventory JSON text, or the same document as an object.
pub fn inventory(env: &Env, value: Unknown) -> Result<Inventory, CipError> {
    match kind(&value)? {
        ValueType::String => {
            Inventory::from_json(&string(&value)?).map_err(|e| CipError::arg_value(format!("inventory: {e}")))
        }
        ValueType::Object => {
            decode(env, value).map_err(|e| CipError::arg_value(format!("inventory: {}", e.message)))
        }
        other => Err(CipError::arg_type(format!(
            "inventory: expected the inventory JSON text or object ({{\"repositories\": {{...}}}}); got {}",
            type_word(other)
        ))),
    }
}

/// Reads the `options` of `plan` (`{strict?, base?, attachments?, attachmentType?}`); `undefined`/`null` mean the defaults.
pub fn plan_options(env: &Env, value: Option<Unknown>) -> Result<PlanArgs, CipError> {
    let Some(object) = options_object(value)? else { return Ok(PlanArgs::default()) };
    // `base` takes the shapes of `files`, a `Map` included, which serde sees as an empty object.
    let object =
        base_map_to_object(env, object).map_err(|e| CipError::arg_value(format!("options: {}", e.reason)))?;
    decode(env, object.to_unknown()).map_err(|e| CipError::arg_value(format!("options: {}", e.message)))
}

/// Reads the `options` of `snapshot` (`{minimal?, snapshotTag?, output?}`; `output` matters to
/// `snapshotText` only); `undefined`/`null` mean the defaults.
pub fn snapshot_options(env: &Env, value: Option<Unknown>) -> Result<SnapshotArgs, CipError> {
    let Some(object) = options_object(value)? else { return Ok(SnapshotArgs::default()) };
    decode(env, object.to_unknown()).map_err(|e| CipError::arg_value(format!("options: {}", e.message)))
}

/// An options argument as an object; `None` for a missing argument, `undefined` or `null`.
fn options_object(value: Option<Unknown>) -> Result<Option<Object>, CipError> {
    let Some(value) = value else { return Ok(None) };
    match kind(&value)? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        // SAFETY: checked to be an object just above.
        ValueType::Object => {
            unsafe { value.cast::<Object>() }.map(Some).map_err(|e| CipError::arg_type(e.reason))
        }
        other => Err(CipError::arg_type(format!("options: expected an object; got {}", type_word(other)))),
    }
}

/// `options` with `base` as a plain object when it is a `Map` (a copy; the caller's object is
/// left alone); otherwise `options` itself.
fn base_map_to_object<'env>(env: &'env Env, options: Object<'env>) -> napi::Result<Object<'env>> {
    let base: Unknown = options.get_named_property("base")?;
    if base.get_type()? != ValueType::Object {
        return Ok(options);
    }
    let mut copy = Object::new(env)?;
    let names = options.get_property_names()?;
    for i in 0..names.get_array_length()? {
        let name: String = names.get_element(i)?;
        let value: Unknown = options.get_named_property(&name)?;
        copy.set_named_property(&name, value)?;
    }
    copy.set_named_property("base", map_to_object(env, base)?)?;
    Ok(copy)
}

/// Reads a registry name argument (a non-empty string).
pub fn registry(value: Unknown) -> Result<String, CipError> {
    match kind(&value)? {
        ValueType::String => {
            let name = string(&value)?;
            if name.trim().is_empty() {
                return Err(CipError::arg_value("registry: expected a registry name such as gcr.io/prod"));
            }
            Ok(name)
        }
        other => Err(CipError::arg_type(format!(
            "registry: expected a registry name (string) such as gcr.io/prod; got {}",
            type_word(other)
        ))),
    }
}

/// Reads files given as JSON (`manifests` of `readInventory`).
pub fn files_from_value(value: serde_json::Value) -> Result<Input, CipError> {
    let files: FilesArg = serde_json::from_value(value).map_err(|e| files_error(&e.to_string()))?;
    Ok(files.into_input())
}

fn kind(value: &Unknown) -> Result<ValueType, CipError> {
    value.get_type().map_err(|e| CipError::arg_type(e.reason.clone()))
}

fn string(value: &Unknown) -> Result<String, CipError> {
    // SAFETY: callers checked that the value is a string; napi's `String` conversion checks the
    // type again and fails cleanly otherwise.
    unsafe { value.cast::<String>() }.map_err(|e| CipError::arg_type(e.reason))
}

/// A JSON-shaped JavaScript value decoded with serde.
fn decode<T: DeserializeOwned>(env: &Env, value: Unknown) -> Result<T, CipError> {
    env.from_js_value(value).map_err(|e| CipError::arg_value(e.reason))
}

fn type_word(t: ValueType) -> &'static str {
    match t {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "a boolean",
        ValueType::Number => "a number",
        ValueType::String => "a string",
        ValueType::Symbol => "a symbol",
        ValueType::Object => "an object",
        ValueType::Function => "a function",
        _ => "an unsupported value",
    }
}
