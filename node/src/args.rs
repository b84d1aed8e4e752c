//! Decoding JavaScript arguments into core inputs. Anything unusable (wrong type, malformed
//! inventory, unknown option) becomes a [`CipError`] with a Node-style `code` and a message naming
//! the argument and the accepted shapes; manifest content is never judged here.

use std::collections::BTreeMap;

use cip_core::inventory::Inventory;
use cip_core::snapshot::SnapshotOptions;
use cip_core::{Input, PlanOptions, SourceFile};
use napi::bindgen_prelude::{Function, JsObjectValue, JsValue, Unknown};
use napi::{Env, ValueType};
use serde::de::DeserializeOwned;

use crate::error::CipError;

/// The path a lone manifest text is linted under (a single string has no name of its own); the
/// wasm package uses the same.
pub const SINGLE_FILE_PATH: &str = "manifest.yaml";

/// Reads `files`: one manifest text, or `{path: text}` / `Map<path, text>`. Paths are sorted (a
/// `BTreeMap`) so the result never depends on JavaScript key order; thin directories are inferred
/// from the paths.
pub fn files(env: &Env, files: Unknown) -> Result<Input, CipError> {
    let files = match kind(&files)? {
        ValueType::String => vec![SourceFile::new(SINGLE_FILE_PATH, string(&files)?)],
        ValueType::Object => {
            let files =
                map_to_object(env, files).map_err(|e| CipError::arg_type(format!("files: {}", e.reason)))?;
            let map: BTreeMap<String, serde_json::Value> = decode(env, files)
                .map_err(|e| CipError::arg_type(format!("files: expected {{path: text}}: {}", e.message)))?;
            map.into_iter().map(|(path, text)| file(path, text)).collect::<Result<_, _>>()?
        }
        other => return Err(files_shape(type_word(other))),
    };
    Ok(Input { files, thin_dirs: None })
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

fn file(path: String, text: serde_json::Value) -> Result<SourceFile, CipError> {
    match text {
        serde_json::Value::String(text) => Ok(SourceFile::new(path, text)),
        other => Err(CipError::arg_type(format!(
            "files[{path:?}]: expected the text of a manifest file (a string); got {}",
            json_word(&other)
        ))),
    }
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

/// Reads the `options` of `plan`: the core's plan options plus `base`, the files of the
/// manifests as of the last promotion. `undefined`/`null` mean the defaults.
pub fn plan_options(env: &Env, value: Option<Unknown>) -> Result<(PlanOptions, Option<Input>), CipError> {
    let Some(mut fields) = options_object(env, value)? else { return Ok((PlanOptions::default(), None)) };
    // `base` is files, not a core option: take it out and decode it like `files`.
    let base = match fields.remove("base") {
        None | Some(serde_json::Value::Null) => None,
        Some(base) => Some(files_from_value(base)?),
    };
    let options = serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| CipError::arg_value(format!("options: {e}")))?;
    Ok((options, base))
}

/// Reads an options object as JSON fields; `None` for `undefined`/`null`.
pub fn options_object(
    env: &Env,
    value: Option<Unknown>,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, CipError> {
    let Some(value) = value else { return Ok(None) };
    match kind(&value)? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        ValueType::Object => {
            decode(env, value).map(Some).map_err(|e| CipError::arg_value(format!("options: {}", e.message)))
        }
        other => Err(CipError::arg_type(format!("options: expected an object; got {}", type_word(other)))),
    }
}

/// Text formats of `snapshotText` (those of `cip snapshot --output`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotOutput {
    /// The Go promoter's YAML.
    #[default]
    Yaml,
    /// `name@digest,name:tag` lines.
    Csv,
    /// `{"images": [...]}`.
    Json,
}

/// Reads the `options` of `snapshot`: the core's snapshot options plus `output` (text forms only).
pub fn snapshot_options(
    env: &Env,
    value: Option<Unknown>,
) -> Result<(SnapshotOptions, SnapshotOutput), CipError> {
    let Some(mut fields) = options_object(env, value)? else { return Ok(Default::default()) };
    let output = match fields.remove("output") {
        None | Some(serde_json::Value::Null) => SnapshotOutput::default(),
        Some(output) => serde_json::from_value(output)
            .map_err(|_| CipError::arg_value("options.output: expected \"yaml\", \"csv\" or \"json\""))?,
    };
    let options = serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| CipError::arg_value(format!("options: {e}")))?;
    Ok((options, output))
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

/// Reads files given as JSON (`base` of `plan`, `manifests` of `readInventory`).
pub fn files_from_value(value: serde_json::Value) -> Result<Input, CipError> {
    let files = match value {
        serde_json::Value::String(text) => vec![SourceFile::new(SINGLE_FILE_PATH, text)],
        serde_json::Value::Object(map) => {
            map.into_iter().map(|(path, text)| file(path, text)).collect::<Result<Vec<_>, _>>()?
        }
        other => return Err(files_shape(json_word(&other))),
    };
    let mut files = files;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Input { files, thin_dirs: None })
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

fn json_word(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
