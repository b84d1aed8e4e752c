//! [`CipError`]: the failure of a call, thrown to JavaScript as an `Error` whose `code` is the one
//! cip-node gives the same failure (`ERR_INVALID_ARG_TYPE` for an argument of the wrong type,
//! `ERR_INVALID_ARG_VALUE` for a right type with an unusable value), so a script branches on
//! `code` the same way with either package. Findings about manifests are never errors.

use wasm_bindgen::prelude::*;

/// Code of an argument that has the wrong type (Node's own convention, as in cip-node).
const INVALID_ARG_TYPE: &str = "ERR_INVALID_ARG_TYPE";
/// Code of an argument whose type is right but whose value is unusable.
const INVALID_ARG_VALUE: &str = "ERR_INVALID_ARG_VALUE";
/// Code of a failure that is cip's fault, not the caller's (as cip-node's `CIP_INTERNAL`).
const INTERNAL: &str = "CIP_INTERNAL";

#[wasm_bindgen]
extern "C" {
    /// The global `Error` class: the one constructor and one property this needs do not warrant
    /// a dependency on js-sys.
    #[wasm_bindgen(js_name = Error)]
    type JsErrorObject;

    #[wasm_bindgen(constructor, js_class = "Error")]
    fn new(message: &str) -> JsErrorObject;

    #[wasm_bindgen(method, setter = code)]
    fn set_code(this: &JsErrorObject, code: &str);
}

/// A failed call: a stable `code` and a message for people (no `Error:` prefix: JavaScript adds
/// the class name when it prints the error).
#[derive(Debug)]
pub struct CipError {
    code: &'static str,
    message: String,
}

impl CipError {
    /// An argument with the wrong type.
    pub fn arg_type(message: impl Into<String>) -> Self {
        Self { code: INVALID_ARG_TYPE, message: message.into() }
    }

    /// An argument with an unusable value.
    pub fn arg_value(message: impl Into<String>) -> Self {
        Self { code: INVALID_ARG_VALUE, message: message.into() }
    }

    /// A result that cannot be handed to JavaScript.
    pub fn internal(message: impl Into<String>) -> Self {
        Self { code: INTERNAL, message: message.into() }
    }
}

impl From<CipError> for JsValue {
    fn from(error: CipError) -> JsValue {
        let object = JsErrorObject::new(&error.message);
        object.set_code(error.code);
        object.into()
    }
}
