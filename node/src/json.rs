//! [`Json`]: any serde value handed to JavaScript as plain objects and arrays.
//!
//! napi's serde serializer builds the JavaScript value field by field in serialization order, so
//! objects keep the key order of the Rust structs; that is what keeps `JSON.stringify` output
//! byte-identical to `serde_json::to_string_pretty` in the CLI. (Going through
//! `serde_json::Value` first would sort the keys.)

use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::{Env, JsValue, ValueType, sys};
use serde::Serialize;

/// A serde value returned to JavaScript.
pub struct Json<T>(pub T);

impl<T: Serialize> ToNapiValue for Json<T> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let env = Env::from_raw(env);
        Ok(env.to_js_value(&val.0)?.raw())
    }
}

impl<T> TypeName for Json<T> {
    fn type_name() -> &'static str {
        "Object"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}
