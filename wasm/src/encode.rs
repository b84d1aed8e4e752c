//! Turns core results into JavaScript values or JSON text, in the one shape every front end uses.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::error::CipError;

/// A plain JS object with the same keys, in the same order, as the CLI's JSON (maps become
/// objects, not `Map`s, so `JSON.stringify` reproduces the CLI output).
pub fn value<T: Serialize>(result: &T) -> Result<JsValue, CipError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    result
        .serialize(&serializer)
        .map_err(|e| CipError::internal(format!("cannot encode the result: {}", message(&e))))
}

/// A serde-wasm-bindgen error's message. Its `Display` is the JS `Error`'s string, which starts
/// with the class name (`Error: `, `TypeError: `); the caller's error adds its own.
pub fn message(error: &serde_wasm_bindgen::Error) -> String {
    let text = error.to_string();
    match text.split_once(": ") {
        Some((class, rest)) if class.ends_with("Error") && !class.contains(' ') => rest.to_owned(),
        _ => text,
    }
}
