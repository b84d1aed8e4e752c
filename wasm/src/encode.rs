//! Turns core results into JavaScript values or JSON text, in the one shape every front end uses.

use serde::Serialize;
use wasm_bindgen::prelude::*;

/// A plain JS object with the same keys, in the same order, as the CLI's JSON (maps become
/// objects, not `Map`s, so `JSON.stringify` reproduces the CLI output).
pub fn value<T: Serialize>(result: &T) -> Result<JsValue, JsError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    result.serialize(&serializer).map_err(|e| JsError::new(&format!("cannot encode the result: {e}")))
}
